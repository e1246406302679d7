// Flags and environment into a Config: defaults, validation with limits.hpp's predicates,
// --help and --version. A usage error names the flag and the reason (main exits 2).
// Knows no sockets and no rings: addresses are parsed here, bound elsewhere.
#pragma once

#include <cstdint>
#include <string_view>

#include "uring_okay/limits.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {

inline constexpr std::size_t listen_max = 8;     // --listen may be given this many times
inline constexpr std::size_t headers_max = 32;   // --header may be given this many times
inline constexpr std::size_t cpus_max = 1024;    // CPU numbers --cpus may name (0..1023)
inline constexpr std::uint32_t threads_ceiling = 1024;
inline constexpr std::uint64_t body_bytes_ceiling = 64ull << 20;  // --body-file, --body-size
inline constexpr std::size_t ready_conditions_max = 8;  // --ready-when may be given this many times

enum class EngineChoice : std::uint8_t { automatic, uring, epoll };

// Features the io_uring engine can be told not to use, so that each fallback runs on any kernel.
namespace feature {
inline constexpr std::uint32_t defer_taskrun = 1u << 0;    // DEFER_TASKRUN + SINGLE_ISSUER
inline constexpr std::uint32_t coop_taskrun = 1u << 1;     // COOP_TASKRUN
inline constexpr std::uint32_t multishot_accept = 1u << 2;
inline constexpr std::uint32_t multishot_recv = 1u << 3;   // and the provided-buffer ring
inline constexpr std::uint32_t registered_ring = 1u << 4;  // io_uring_register_ring_fd
}  // namespace feature

struct ListenAddress {
    int family = 0;                   // AF_INET or AF_INET6
    std::uint8_t address[16]{};       // network order: 4 bytes for AF_INET, 16 for AF_INET6
    std::uint16_t port = 0;           // host order; 0 picks a free port shared by all threads
    char text[64]{};                  // as given, for messages
};

// One --ready-when condition: a file that must exist, or an address that must accept.
struct ReadyCondition {
    bool tcp = false;
    std::string_view path;  // file:PATH
    ListenAddress address;  // tcp:HOST:PORT
};

// What a --route answers: its status, and its body (the reason phrase when none was given).
struct RouteAnswer {
    std::uint16_t status = 0;  // always given: zero lets Config clear route_answers whole
    std::string_view body;
};

struct Config {
    Limits limits;

    // The answer (response.hpp). Views point into argv, the environment, or buffers config
    // allocated once (--body-file, --body-size); they live as long as the process.
    std::uint16_t status = 200;
    std::string_view body = "OK";
    std::string_view content_type = "text/plain";
    std::string_view server;
    std::string_view headers[headers_max];
    std::uint8_t header_count = 0;
    bool date = true;
    bool minimal = false;

    // --route PATH=STATUS[:BODY] and --health-path, sorted by path; route_answers[i] answers
    // routes.paths[i] (route i + 1 in the framer's numbering).
    Routes routes;
    RouteAnswer route_answers[Routes::max];
    std::uint32_t delay_ms = 0;        // --delay: every answer leaves this long after its request
    std::uint32_t drain_delay_ms = 0;  // --drain-delay: SIGTERM first answers 503 for this long
    // --ready-when: until each holds, --ready-path (routes.ready) answers 503.
    ReadyCondition ready_when[ready_conditions_max];
    std::uint8_t ready_count = 0;
    bool access_log = false;  // --access-log: a line per answer on stderr

    ListenAddress listen[listen_max];
    std::uint8_t listen_count = 0;   // 0 after parsing never happens: the default is 0.0.0.0:8080
    std::uint32_t threads = 0;       // 0: one per CPU in the affinity mask (or in --cpus)
    std::uint16_t cpus[cpus_max]{};  // --cpus, in order; thread i runs on cpus[i % cpu_count]
    std::uint16_t cpu_count = 0;     // 0: the process's affinity mask
    EngineChoice engine = EngineChoice::automatic;
    std::uint32_t disabled_features = 0;  // feature::* bits, from --disable
    bool quiet = false;
    std::string_view user;  // --user NAME or UID[:GID]: who the engines run as
    bool sandbox = true;    // --sandbox: seccomp allow-list once every thread started (sandbox.hpp)

    // The answer of `route`: 0 is the default, i + 1 is routes.paths[i].
    [[nodiscard]] ResponseSpec response_spec(std::uint8_t route = 0) const noexcept {
        ResponseSpec spec;
        spec.status = route == 0 ? status : route_answers[route - 1].status;
        spec.body = route == 0 ? body : route_answers[route - 1].body;
        spec.content_type = content_type;
        spec.server = server;
        spec.headers = {headers, header_count};
        spec.date = date;
        spec.minimal = minimal;
        return spec;
    }
};

enum class ParseOutcome : std::uint8_t { run, help, version, usage_error };

struct ParseResult {
    ParseOutcome outcome = ParseOutcome::run;
    char message[512]{};  // usage_error: "--flag VALUE: reason", without the program name
};

// argv[0] is skipped. `environment` is a null-terminated "NAME=value" array (environ) or null.
// Flags beat URING_OKAY_<NAME> variables, which beat PORT (the port of the default address).
[[nodiscard]] ParseResult parse_config(int argc, const char* const* argv,
                                       const char* const* environment, Config& config) noexcept;

// --help, grouped, with each default, written to fd.
void write_help(int fd) noexcept;

}  // namespace uring_okay
