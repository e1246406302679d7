// What a run found, in words (wrk's layout, so its readers find their way) and in JSON. Pure:
// numbers in, text out; main gathers the numbers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "histogram.hpp"
#include "options.hpp"

namespace uring_okay::load {

// HTTP status classes: [1] 1xx ... [5] 5xx, [0] anything else.
inline constexpr std::size_t status_classes = 6;

struct Counts {
    std::uint64_t responses = 0;  // answers counted: sent after the warm-up, in the window
    std::uint64_t by_class[status_classes]{};
    std::uint64_t bytes_read = 0;
    std::uint64_t connects = 0;  // connections established
    std::uint64_t connect_errors = 0;
    std::uint64_t resets = 0;  // reset, or closed with answers owed
    std::uint64_t timeouts = 0;
    std::uint64_t framing_errors = 0;
    std::uint64_t other_errors = 0;
    std::uint64_t requests_lost = 0;  // written, never answered (the errors above)
    // Written on a used keep-alive connection the server closed before any byte of their
    // answer, and written again on a new one (RFC 9112 §9.3.1): not lost, not errors.
    std::uint64_t retried = 0;

    [[nodiscard]] std::uint64_t errors() const noexcept {
        return connect_errors + resets + timeouts + framing_errors + other_errors;
    }
    void add(const Counts& other) noexcept;
};

struct Summary {
    const Options* options = nullptr;
    std::string version;
    std::uint32_t threads = 0;
    std::vector<std::uint16_t> cpus;  // those the threads were pinned to
    double seconds = 0;               // the measured window
    Histogram latency;                // ns
    Counts counts;
    double user_seconds = 0;  // the client's CPU time in the window (getrusage)
    double system_seconds = 0;
    bool stopped_early = false;  // a signal

    [[nodiscard]] double requests_per_second() const noexcept {
        return seconds > 0 ? double(counts.responses) / seconds : 0;
    }
    [[nodiscard]] double requests_per_cpu_second() const noexcept {
        const double cpu = user_seconds + system_seconds;
        return cpu > 0 ? double(counts.responses) / cpu : 0;
    }
};

// "1.23ms", "845.00us", "2.00s".
[[nodiscard]] std::string format_ns(double ns);
[[nodiscard]] std::string human_report(const Summary& summary);
[[nodiscard]] std::string json_report(const Summary& summary);

}  // namespace uring_okay::load
