// The self-probe: `uring-okay healthcheck` (alias `--check`) asks the server at its own first
// listen address the way kubelet's httpGet probe does: a new connection, `GET /` (or the
// --health-path) with `Host` and
// `Connection: close`, one deadline for all of it (--check-timeout, default 1 s), healthy on a
// status from 200 to 399. It reads the same flags and environment as the server, prints one line
// and exits 0 (healthy) or 1. It is the HEALTHCHECK of a FROM scratch image, which has no shell
// or curl. Never sets up io_uring and knows nothing of the engines: a socket, poll, no allocation.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "uring_okay/config.hpp"
#include "uring_okay/listener.hpp"  // format_address, add_endpoint

namespace uring_okay {

inline constexpr std::uint32_t check_timeout_ms_default = 1'000;  // kubelet's timeoutSeconds: 1
inline constexpr std::uint32_t check_timeout_ms_max = 3'600'000;
inline constexpr int healthy_exit = 0;
inline constexpr int unhealthy_exit = 1;  // also for a bad flag: Docker reserves exit code 2

// Where a status line stands after the bytes received so far (RFC 9112 §4:
// HTTP-version SP 3DIGIT SP [reason-phrase] CRLF; the SP before an empty reason may be missing).
enum class StatusLineState : std::uint8_t { incomplete, malformed, complete };
struct StatusLine {
    StatusLineState state = StatusLineState::incomplete;
    std::uint16_t status = 0;  // 100..999 when complete
};
// Complete as soon as "HTTP/d.d ddd" and the byte after it (SP, CR or LF) have arrived.
[[nodiscard]] StatusLine parse_status_line(std::string_view bytes) noexcept;

// "250ms", "2s": 1 ms to an hour. A bare number is refused, as its unit would be a guess.
[[nodiscard]] std::optional<std::uint32_t> parse_check_timeout_ms(std::string_view text) noexcept;

// The address a probe of `listen` connects to: a wildcard becomes loopback
// (0.0.0.0 -> 127.0.0.1, [::] -> [::1]); any other address is probed as it is.
[[nodiscard]] ListenAddress probe_address(const ListenAddress& listen) noexcept;

enum class ProbeOutcome : std::uint8_t {
    answered,   // a status line came; healthy when 200..399
    refused,    // ECONNREFUSED: nothing listens there
    timed_out,  // the deadline passed before a status line
    closed,     // the peer closed or reset the connection before a status line
    not_http,   // the first bytes were no HTTP/1.x status line
    failed,     // another error (socket, connect, send): see error
};
struct ProbeResult {
    ProbeOutcome outcome = ProbeOutcome::failed;
    std::uint16_t status = 0;  // answered: the status code
    int error = 0;             // failed: the errno
};
[[nodiscard]] constexpr bool healthy(const ProbeResult& result) noexcept {
    return result.outcome == ProbeOutcome::answered && result.status >= 200 && result.status <= 399;
}

// One probe of `target` (an address, not a wildcard), all of it within timeout_ms.
[[nodiscard]] ProbeResult probe_http(const ListenAddress& target, std::string_view path,
                                     std::uint32_t timeout_ms) noexcept;

// "healthcheck: 127.0.0.1:8080 answered 200" (no newline) into out; returns its length. A path
// other than "/" follows the address: "healthcheck: [::1]:8080/healthz refused".
std::size_t describe_probe(const ListenAddress& target, std::string_view path,
                           const ProbeResult& result, std::uint32_t timeout_ms, char* out,
                           std::size_t size) noexcept;

// One --ready-when condition, now: file:PATH exists, or tcp:ADDR:PORT accepts a connection
// within timeout_ms (closed at once, nothing sent).
[[nodiscard]] bool ready_condition_holds(const ReadyCondition& condition,
                                         std::uint32_t timeout_ms) noexcept;

// The path a probe asks for: --health-path when given (so a draining server, which answers it
// 503, is seen failing), else "/".
[[nodiscard]] std::string_view probe_path(const Config& config) noexcept;

// The whole subcommand: argv[0] is "healthcheck" or "--check", the rest are the server's flags
// plus --check-timeout (environment: URING_OKAY_CHECK_TIMEOUT). Prints one line on stdout (or
// the usage error on stderr) and returns the exit code. May reorder argv.
[[nodiscard]] int run_healthcheck(int argc, char** argv, const char* const* environment) noexcept;

}  // namespace uring_okay
