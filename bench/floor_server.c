// floor_server: the floor a plain program reaches. One thread, level-triggered epoll, a small
// read buffer per connection, one write per read for every response it completed. GET-only
// load: a request ends at its blank line, bodies are ignored. Not part of uring-okay.
//
//     gcc -O2 -o floor_server bench/floor_server.c && ./floor_server 8080
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { read_bytes_max = 4096, events_max = 256 };

struct connection {
    int fd;
    int closing;      // answered a Connection: close; close once out is sent
    size_t in_bytes;  // unparsed request bytes in in[]
    char in[read_bytes_max];
    char* out;  // responses not yet written: out[out_index, out_bytes)
    size_t out_index, out_bytes, out_capacity;
    struct connection* next_free;
};

// Closed connections wait here for the next accept: malloc and free per connection would
// move the heap's top (brk) back and forth and fault its pages in again on every churn.
static struct connection* free_list;

// The Date line, formatted once per second, like the peers that send one.
static char date_line[64] = "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n";
static time_t date_second;

static void date_refresh(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (now.tv_sec == date_second) return;
    date_second = now.tv_sec;
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    strftime(date_line, sizeof date_line, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

static void out_append(struct connection* c, const char* bytes, size_t count) {
    if (c->out_bytes + count > c->out_capacity) {
        size_t capacity = c->out_capacity ? c->out_capacity * 2 : 2048;
        while (capacity < c->out_bytes + count) capacity *= 2;
        c->out = realloc(c->out, capacity);
        if (!c->out) abort();
        c->out_capacity = capacity;
    }
    memcpy(c->out + c->out_bytes, bytes, count);
    c->out_bytes += count;
}

static void respond(struct connection* c, int close_after) {
    static const char status[] = "HTTP/1.1 200 OK\r\n";
    static const char keep[] = "Content-Length: 2\r\nContent-Type: text/plain\r\n\r\nOK";
    static const char close[] =
        "Content-Length: 2\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nOK";
    out_append(c, status, sizeof status - 1);
    out_append(c, date_line, strlen(date_line));
    if (close_after) out_append(c, close, sizeof close - 1);
    else out_append(c, keep, sizeof keep - 1);
}

// Case-insensitive "connection: close" anywhere in the head: enough for a floor.
static int asks_close(const char* head, size_t bytes) {
    static const char needle[] = "connection: close";
    const size_t needle_bytes = sizeof needle - 1;
    for (size_t i = 0; i + needle_bytes <= bytes; ++i)
        if (strncasecmp(head + i, needle, needle_bytes) == 0) return 1;
    return 0;
}

static void connection_close(int epoll_fd, struct connection* c) {
    (void)epoll_fd;  // close() takes the fd out of the epoll set: no EPOLL_CTL_DEL
    close(c->fd);
    c->next_free = free_list;
    free_list = c;
}

static struct connection* connection_open(int fd) {
    struct connection* c = free_list;
    if (c) free_list = c->next_free;
    else if (!(c = calloc(1, sizeof *c))) abort();
    c->fd = fd;
    c->closing = 0;
    c->in_bytes = c->out_index = c->out_bytes = 0;  // out keeps its capacity
    return c;
}

// Writes what is owed. Returns 0 when all is out, 1 when the socket is full, -1 on error.
static int flush(struct connection* c) {
    while (c->out_index < c->out_bytes) {
        ssize_t n = write(c->fd, c->out + c->out_index, c->out_bytes - c->out_index);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return 1;
        if (n <= 0) return -1;
        c->out_index += (size_t)n;
    }
    c->out_index = c->out_bytes = 0;
    return 0;
}

// Frames every complete request in in[], keeps the partial tail for the next read.
static void frame(struct connection* c) {
    size_t start = 0;
    while (!c->closing) {
        const char* end = memmem(c->in + start, c->in_bytes - start, "\r\n\r\n", 4);
        if (!end) break;
        const size_t head_bytes = (size_t)(end - (c->in + start)) + 4;
        c->closing = asks_close(c->in + start, head_bytes);
        respond(c, c->closing);
        start += head_bytes;
    }
    memmove(c->in, c->in + start, c->in_bytes - start);
    c->in_bytes -= start;
}

static void on_readable(int epoll_fd, struct connection* c) {
    ssize_t n = read(c->fd, c->in + c->in_bytes, sizeof c->in - c->in_bytes);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {  // EOF or error
        connection_close(epoll_fd, c);
        return;
    }
    c->in_bytes += (size_t)n;
    frame(c);
    int state = c->in_bytes == sizeof c->in ? -1 : flush(c);  // a head too large: close
    if (state < 0 || (state == 0 && c->closing)) {
        connection_close(epoll_fd, c);
    } else if (state == 1) {  // socket full: stop reading until the answers are out
        struct epoll_event event = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
    }
}

static void on_writable(int epoll_fd, struct connection* c) {
    int state = flush(c);
    if (state == 1) return;
    if (state < 0 || c->closing) {
        connection_close(epoll_fd, c);
        return;
    }
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &event);
}

static void on_accept(int epoll_fd, int listen_fd) {
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;  // EAGAIN, or EMFILE and friends: try again on the next event
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct connection* c = connection_open(fd);
        struct epoll_event event = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event) < 0) connection_close(epoll_fd, c);
    }
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr*)&address, sizeof address) < 0 ||
        listen(fd, 4096) < 0) {
        fprintf(stderr, "floor_server: 127.0.0.1:%d: %s\n", port, strerror(errno));
        exit(1);
    }
    return fd;
}

int main(int argc, char** argv) {
    const int port = argc == 2 ? atoi(argv[1]) : 0;
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: floor_server PORT  (listens on 127.0.0.1:PORT)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    const int listen_fd = listen_on(port);
    const int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};  // NULL: the listener
    epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listen_fd, &event);
    struct epoll_event events[events_max];
    for (;;) {
        const int ready = epoll_wait(epoll_fd, events, events_max, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) return 1;
        date_refresh();
        for (int i = 0; i < ready; ++i) {
            struct connection* c = events[i].data.ptr;
            if (!c) on_accept(epoll_fd, listen_fd);
            else if (events[i].events & EPOLLOUT) on_writable(epoll_fd, c);
            else on_readable(epoll_fd, c);
        }
    }
}
