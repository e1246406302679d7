// Every limit in one place: its name, unit, default and ceiling, and how limits relate.
// config checks user values with the predicates here; nothing else knows the numbers.
#pragma once

#include <cstdint>

namespace uring_okay {

struct Limits {
    // The framer (RFC 9112 asks for at least 8000 octets of request line).
    std::uint32_t request_line_bytes_max = 8'192;   // past it, 414
    std::uint32_t header_bytes_max = 16'384;        // request line and fields; past it, 431
    std::uint32_t header_count_max = 100;           // field lines; past it, 431
    std::uint64_t body_bytes_max = 64ull << 20;     // skipped per request; past it, 413

    // The engine, per thread.
    std::uint32_t connections_max = 10'000;  // past it, accept and close at once
    std::uint32_t buffer_count = 1'024;      // provided buffers in the ring; a power of two
    std::uint32_t buffer_bytes = 2'048;      // bytes per provided buffer
    std::uint32_t batch_count = 64;          // responses one send may carry
    std::uint32_t owed_max = 65'536;         // answers a connection may owe; past it, stop reading
    std::uint32_t header_timeout_ms = 10'000;  // a request's header section must arrive within
    std::uint32_t idle_timeout_ms = 60'000;    // a keep-alive connection may sit silent for
    std::uint32_t drain_timeout_ms = 5'000;    // after SIGTERM, owed answers must leave within
    std::uint32_t linger_ms = 1'000;           // after the last answer, wait for the client's FIN

    // Operations.
    std::uint32_t ready_check_ms = 1'000;  // while not ready, --ready-when is checked this often
    std::uint32_t access_log_bytes = 256 * 1'024;  // per thread: lines wait here for the writer
    std::uint32_t knob_delay_ms_max = 10'000;      // --query-knobs: delay= past it is cut to it
    std::uint32_t knob_size_max = 1u << 20;        // --query-knobs: size= past it is cut to it
};

inline constexpr std::uint32_t buffer_count_ceiling = 32'768;  // largest provided-buffer ring
inline constexpr std::uint32_t buffer_bytes_ceiling = 1u << 20;
inline constexpr std::uint32_t buffer_bytes_floor = 256;
inline constexpr std::uint32_t batch_count_ceiling = 1'024;
inline constexpr std::uint32_t connections_ceiling = 1u << 20;  // slot index fits 20 bits
inline constexpr std::uint32_t header_bytes_ceiling = 1u << 20;
inline constexpr std::uint32_t header_count_ceiling = 10'000;
inline constexpr std::uint32_t owed_ceiling = 1u << 30;
inline constexpr std::uint32_t access_log_bytes_floor = 4'096;  // a few lines at least
inline constexpr std::uint32_t access_log_bytes_ceiling = 1u << 30;
// A drain closes an idle connection only this long after it began (a timer of its own): one
// accepted just before may have its first request on the way, a keep-alive one its next, which
// is answered with `Connection: close` rather than crossed by the close.
inline constexpr std::uint32_t drain_grace_ms = 200;

// A power of two: n & (n - 1) clears the lowest bit. Not std::has_single_bit, which without
// popcnt calls libgcc's __popcountdi2 (94 B of the static binary).
[[nodiscard]] constexpr bool buffer_count_valid(std::uint32_t n) {
    return n >= 1 && n <= buffer_count_ceiling && (n & (n - 1)) == 0;
}
[[nodiscard]] constexpr bool buffer_bytes_valid(std::uint32_t n) {
    return n >= buffer_bytes_floor && n <= buffer_bytes_ceiling;
}
[[nodiscard]] constexpr bool limits_related_validly(const Limits& l) {
    return l.request_line_bytes_max >= 16 && l.request_line_bytes_max <= l.header_bytes_max &&
           l.header_bytes_max <= header_bytes_ceiling && l.header_count_max >= 1 &&
           l.header_count_max <= header_count_ceiling && l.connections_max >= 1 &&
           l.connections_max <= connections_ceiling && buffer_count_valid(l.buffer_count) &&
           buffer_bytes_valid(l.buffer_bytes) && l.batch_count >= 1 &&
           l.batch_count <= batch_count_ceiling && l.owed_max >= l.batch_count &&
           l.owed_max <= owed_ceiling;
}

static_assert(limits_related_validly(Limits{}));

}  // namespace uring_okay
