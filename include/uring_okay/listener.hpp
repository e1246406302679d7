// The SO_REUSEPORT listening socket each thread gets, readable reasons when it fails, and an
// address's text for the start-up line and the healthcheck.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>

#include "uring_okay/config.hpp"
#include "uring_okay/text.hpp"  // errno_name

namespace uring_okay {

inline constexpr int listen_backlog = 4096;

// A bound, listening socket for `address` on `port`; -errno on failure, with `why` set to
// "bind 0.0.0.0:80: EACCES (ports below 1024 need root or CAP_NET_BIND_SERVICE)".
[[nodiscard]] int open_listener(const ListenAddress& address, std::uint16_t port, char* why,
                                std::size_t why_size) noexcept;
// `address` with `port` as bind and connect take it (sockaddr_in or sockaddr_in6, by its
// family, zeroed first); returns its length.
socklen_t to_sockaddr(const ListenAddress& address, std::uint16_t port,
                      sockaddr_storage& storage) noexcept;
// The address a socket is bound to (getsockname), or its peer's (getpeername), with the port;
// family 0 when the call fails.
[[nodiscard]] ListenAddress socket_address(int fd, bool peer) noexcept;
// The port a listener was given (for port 0).
[[nodiscard]] std::uint16_t bound_port(int fd) noexcept;
// A connection waiting in the listen queue, taken without blocking, or -1 when none is: a drain
// serves what is queued rather than reset it by closing the listener. `flags` as accept4's.
[[nodiscard]] int accept_queued(int listen_fd, int flags) noexcept;
// Whether the client sent bytes we have not read: a drain closes only connections with none
// (a request already in the socket gets its answer).
[[nodiscard]] bool has_unread_bytes(int fd) noexcept;

// The address's text, as inet_ntop writes it ("127.0.0.1", "::1", "::ffff:10.0.0.1"), without
// inet_ntop, whose snprintf would pull musl's printf into the static binary.
inline constexpr std::size_t address_text_bytes = 46;  // INET6_ADDRSTRLEN
void format_address(const ListenAddress& address, char (&out)[address_text_bytes]) noexcept;
// "127.0.0.1:8080" or "[::1]:8080": the address and its port, as a Host field writes them.
Text& add_endpoint(Text& text, const ListenAddress& address) noexcept;

}  // namespace uring_okay
