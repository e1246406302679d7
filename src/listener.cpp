// Listening sockets: SO_REUSEPORT so every thread has its own accept queue on one port,
// start-up errors that say what failed, the errno name and the likely cause, and the text of
// an address.
#include "uring_okay/listener.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace uring_okay {

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
    Text{why, size}
        .add(call)
        .push(' ')
        .add(address.text)
        .add(": ")
        .add(errno_name(error))
        .add(likely_cause(error));
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
    if (address.family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);  // [::] is IPv6 only
    sockaddr_storage storage;
    const socklen_t length = to_sockaddr(address, port, storage);
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
    // This thread's own queue: no race. Raw: musl's accept4 wrapper is 0.2 KiB of the binary.
    return int(syscall(SYS_accept4, listen_fd, nullptr, nullptr, flags));
}

bool has_unread_bytes(int fd) noexcept {
    char byte = 0;
    return recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

socklen_t to_sockaddr(const ListenAddress& address, std::uint16_t port,
                      sockaddr_storage& storage) noexcept {
    storage = {};
    if (address.family == AF_INET6) {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(storage);
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        std::memcpy(&v6.sin6_addr, address.address, 16);
        return sizeof v6;
    }
    auto& v4 = reinterpret_cast<sockaddr_in&>(storage);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&v4.sin_addr, address.address, 4);
    return sizeof v4;
}

ListenAddress socket_address(int fd, bool peer) noexcept {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    auto* raw = reinterpret_cast<sockaddr*>(&storage);
    ListenAddress address;
    if ((peer ? getpeername(fd, raw, &length) : getsockname(fd, raw, &length)) != 0) {
        return address;
    }
    address.family = storage.ss_family;
    if (storage.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(storage);
        std::memcpy(address.address, &v6.sin6_addr, 16);
        address.port = ntohs(v6.sin6_port);
    } else {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(storage);
        std::memcpy(address.address, &v4.sin_addr, 4);
        address.port = ntohs(v4.sin_port);
    }
    return address;
}

std::uint16_t bound_port(int fd) noexcept {
    return socket_address(fd, false).port;
}

namespace {

// inet_ntop's text without inet_ntop, which formats with snprintf. RFC 5952: lowercase hex, no
// leading zeros, the longest run of two or more zero groups (the first of equals) as "::", and
// an IPv4-mapped address (::ffff:a.b.c.d) in dotted form.
void add_address(Text& text, const ListenAddress& address) noexcept {
    const std::uint8_t* bytes = address.address;
    constexpr std::uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    const bool v6 = address.family == AF_INET6;
    if (!v6 || std::memcmp(bytes, mapped, sizeof mapped) == 0) {  // a.b.c.d or ::ffff:a.b.c.d
        const std::uint8_t* v4 = v6 ? bytes + sizeof mapped : bytes;
        text.add(v6 ? "::ffff:" : "");
        for (int i = 0; i < 4; ++i) text.add(i ? "." : "").add(std::uint64_t{v4[i]});
        return;
    }
    std::uint16_t groups[8];
    int run_start = -1;
    int run_length = 1;  // a single zero group stays "0"
    for (int i = 0, zeros = 0; i < 8; ++i) {
        groups[i] = std::uint16_t(bytes[2 * i] << 8 | bytes[2 * i + 1]);
        zeros = groups[i] == 0 ? zeros + 1 : 0;
        if (zeros > run_length) {  // longer only: the first of equal runs stays
            run_start = i + 1 - zeros;
            run_length = zeros;
        }
    }
    for (int i = 0; i < 8; ++i) {
        if (i == run_start) {
            text.add("::");
            i += run_length - 1;
            continue;
        }
        if (i > 0 && i != run_start + run_length) text.push(':');
        text.add_hex(groups[i]);
    }
}

}  // namespace

void format_address(const ListenAddress& address, char (&out)[address_text_bytes]) noexcept {
    Text text{out};
    add_address(text, address);
}

Text& add_endpoint(Text& text, const ListenAddress& address) noexcept {
    const bool v6 = address.family == AF_INET6;
    add_address(text.add(v6 ? "[" : ""), address);
    return text.add(v6 ? "]:" : ":").add(std::uint64_t{address.port});
}

}  // namespace uring_okay
