// The two clocks the engines read: coarse monotonic milliseconds for deadlines (a vDSO read,
// no syscall) and realtime seconds for the Date field.
#include <ctime>

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

}  // namespace uring_okay
