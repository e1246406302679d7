// Listening sockets: SO_REUSEPORT so every thread has its own accept queue on one port, and
// start-up errors that say what failed, the errno name and the likely cause.
#include "uring_okay/listener.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace uring_okay {

const char* errno_name(int error) noexcept {
    switch (error) {
        case EACCES: return "EACCES";
        case EADDRINUSE: return "EADDRINUSE";
        case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
        case EAFNOSUPPORT: return "EAFNOSUPPORT";
        case EINVAL: return "EINVAL";
        case EMFILE: return "EMFILE";
        case ENFILE: return "ENFILE";
        case ENOMEM: return "ENOMEM";
        case ENOSYS: return "ENOSYS";
        case EPERM: return "EPERM";
        case EOPNOTSUPP: return "EOPNOTSUPP";
        case ENOBUFS: return "ENOBUFS";
        case EBUSY: return "EBUSY";
        case EFAULT: return "EFAULT";
        default: return "errno";
    }
}

namespace {

const char* likely_cause(int error) {
    switch (error) {
        case EACCES: return " (ports below 1024 need root or CAP_NET_BIND_SERVICE)";
        case EADDRINUSE: return " (another program listens there without SO_REUSEPORT)";
        case EADDRNOTAVAIL: return " (no interface has that address)";
        case EAFNOSUPPORT: return " (IPv6 is disabled here)";
        case EMFILE: return " (RLIMIT_NOFILE reached)";
        default: return "";
    }
}

int fail(int error, const char* call, const ListenAddress& address, char* why, std::size_t size) {
    std::snprintf(why, size, "%s %s: %s%s", call, address.text, errno_name(error),
                  likely_cause(error));
    return -error;
}

}  // namespace

int open_listener(const ListenAddress& address, std::uint16_t port, char* why,
                  std::size_t why_size) noexcept {
    const int fd = socket(address.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail(errno, "socket", address, why, why_size);
    const int on = 1;
    // TCP_NODELAY on the listener is inherited by every accepted socket: no syscall per client.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
        const int error = errno;
        close(fd);
        return fail(error, "setsockopt SO_REUSEPORT", address, why, why_size);
    }
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (address.family == AF_INET6) {
        auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(port);
        std::memcpy(&in6->sin6_addr, address.address, 16);
        length = sizeof *in6;
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);  // [::] is IPv6 only
    } else {
        auto* in4 = reinterpret_cast<sockaddr_in*>(&storage);
        in4->sin_family = AF_INET;
        in4->sin_port = htons(port);
        std::memcpy(&in4->sin_addr, address.address, 4);
        length = sizeof *in4;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&storage), length) != 0 ||
        listen(fd, listen_backlog) != 0) {
        const int error = errno;
        close(fd);
        return fail(error, "bind", address, why, why_size);
    }
    return fd;
}

int accept_queued(int listen_fd, int flags) noexcept {
    pollfd ready{listen_fd, POLLIN, 0};
    if (poll(&ready, 1, 0) != 1 || !(ready.revents & POLLIN)) return -1;
    return accept4(listen_fd, nullptr, nullptr, flags);  // this thread's own queue: no race
}

bool has_unread_bytes(int fd) noexcept {
    char byte = 0;
    return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

std::uint16_t bound_port(int fd) noexcept {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length) != 0) return 0;
    if (storage.ss_family == AF_INET6) {
        return ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
    }
    return ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port);
}

}  // namespace uring_okay
