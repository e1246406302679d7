// What main asks of an engine thread, whichever engine it is: serve the listeners it was given
// until the wake eventfd says drain, then finish what is owed and return.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>

#include "uring_okay/access_log.hpp"
#include "uring_okay/config.hpp"
#include "uring_okay/counters.hpp"
#include "uring_okay/metrics.hpp"

namespace uring_okay {

struct EngineSetup {
    const Config* config = nullptr;
    int listen_fds[listen_max]{};
    std::uint8_t listen_count = 0;
    int wake_fd = -1;  // eventfd, written once by main on SIGTERM/SIGINT: drain
    int ready_fd = -1;  // main's pipe: one byte once this thread's start-up is over (report_ready)
    std::uint32_t thread_index = 0;
    Counters* counters = nullptr;     // this thread's
    CountersTable all_counters;       // every thread's, for the metrics page
    AccessLog* access_log = nullptr;  // --access-log: this thread's ring, else null
};

// What io_uring offers here, found once by main before the threads start.
struct UringProbe {
    bool usable = false;
    std::uint32_t features_off = 0;  // feature::* bits not to use (disabled or missing)
    char why[192]{};                 // when not usable: the call, errno name and likely cause
};
[[nodiscard]] UringProbe probe_uring(std::uint32_t disabled_features) noexcept;
// "defer-taskrun, multishot accept, ..." for the start-up line.
void describe_uring_features(std::uint32_t features_off, char* out, std::size_t size) noexcept;

// What a thread writes on ready_fd: the engine it serves with, or that it could not start.
enum class Ready : char { uring = 'u', epoll = 'e', failed = 'x' };
// Once per thread, after its start-up and before its first wait: main installs the sandbox
// (sandbox.hpp) once every thread has said so, so nothing of start-up needs to be allowed.
inline void report_ready(const EngineSetup& setup, Ready ready) noexcept {
    if (setup.ready_fd >= 0) (void)!write(setup.ready_fd, &ready, 1);
}

// Both return 0 after a drain, or -errno when the thread could not start serving.
[[nodiscard]] int run_uring_engine(const EngineSetup& setup, std::uint32_t features_off) noexcept;
[[nodiscard]] int run_epoll_engine(const EngineSetup& setup) noexcept;

// CLOCK_MONOTONIC_COARSE in milliseconds: deadlines. Realtime seconds: the Date field.
[[nodiscard]] std::uint64_t monotonic_ms() noexcept;
[[nodiscard]] std::int64_t realtime_seconds() noexcept;

}  // namespace uring_okay
