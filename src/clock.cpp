// The clocks the engines read: coarse monotonic milliseconds for deadlines (a vDSO read, no
// syscall), realtime seconds for the Date field, and each thread's CPU time for the counters.
#include <pthread.h>

#include <ctime>

#include "uring_okay/counters.hpp"
#include "uring_okay/engine.hpp"

namespace uring_okay {

std::uint64_t monotonic_ms() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return std::uint64_t(now.tv_sec) * 1000 + std::uint64_t(now.tv_nsec) / 1'000'000;
}

std::int64_t realtime_seconds() noexcept {
    timespec now{};
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    return now.tv_sec;
}

namespace {
[[nodiscard]] std::uint64_t read_ns(clockid_t clock) noexcept {
    timespec cpu{};
    if (clock_gettime(clock, &cpu) != 0) return 0;
    return std::uint64_t(cpu.tv_sec) * 1'000'000'000 + std::uint64_t(cpu.tv_nsec);
}
}  // namespace

void note_thread_start(Counters& counters) noexcept {
    clockid_t clock{};
    if (pthread_getcpuclockid(pthread_self(), &clock) == 0) counters.cpu_clock.store(clock);
}

void note_thread_stop(Counters& counters) noexcept {
    counters.cpu_ns.add(read_ns(CLOCK_THREAD_CPUTIME_ID));
    counters.cpu_clock.store(-1);
}

std::uint64_t thread_cpu_ns(const Counters& counters) noexcept {
    const int clock = counters.cpu_clock.load();
    const std::uint64_t running = clock == -1 ? 0 : read_ns(clockid_t(clock));
    return running != 0 ? running : counters.cpu_ns.get();
}

}  // namespace uring_okay
