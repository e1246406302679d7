// One load thread: its own io_uring, its share of the connections, its histogram and counters.
// main plans the run and reads the results after join; while the run lasts the only shared
// words are the control flags and the progress counters, each with one writer.
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <string_view>

#include "histogram.hpp"
#include "options.hpp"
#include "report.hpp"

namespace uring_okay::load {

// What every worker reads and nobody writes once the threads start.
struct Plan {
    const Options* options = nullptr;
    sockaddr_storage address{};
    socklen_t address_bytes = 0;
    std::string_view batch;  // the request, pipeline times over: one write
    std::uint32_t request_bytes = 0;
    bool head = false;
    bool retry = false;  // --no-retry not given and the method is idempotent
    std::uint32_t connections_total = 0;
    double slot_ns = 0;  // open loop: between two due writes of all connections (pipeline/rate)
};

// The run's clock, set by main once every worker is ready, and the stop flag.
struct Control {
    std::atomic<std::uint32_t> ready{0};  // workers set up (or failed to)
    std::atomic<bool> go{false};
    std::atomic<bool> stop{false};           // a signal, or no answer at all: end now
    std::atomic<std::uint32_t> finished{0};  // workers whose run ended
    std::uint64_t start_ns = 0;              // CLOCK_MONOTONIC: connections open, warm-up begins
    std::uint64_t measure_ns = 0;            // warm-up over: what is sent from now on counts
    std::uint64_t end_ns = 0;                // duration over (UINT64_MAX with --requests)
};

// What one worker saw; main merges them after join.
struct Results {
    Histogram latency;  // ns, from when each request was due to its answer's last byte
    Counts counts;
    std::uint64_t finish_ns = 0;  // when the last counted answer came (--requests)
    int setup_error = 0;          // -errno when the thread could not start
    char first_error[256]{};      // the first error's reason, for the exit message
    // Stored by the worker at each sweep, read by main for the progress line and to give up
    // on a target that never answers. answers includes the warm-up's.
    std::atomic<std::uint64_t> progress_answers{0};
    std::atomic<std::uint64_t> progress_responses{0};
    std::atomic<std::uint64_t> progress_errors{0};
};

struct WorkerSetup {
    const Plan* plan = nullptr;
    Control* control = nullptr;
    Results* results = nullptr;
    std::uint32_t first_connection = 0;  // its connections' numbers in all, for the schedule
    std::uint32_t connection_count = 0;
    int cpu = -1;                // pinned there, or not pinned
    std::uint64_t requests = 0;  // its share of --requests; 0: run until end_ns
};

// Sets up, reports ready, waits for go, runs, returns. Failures land in results->setup_error.
void run_worker(const WorkerSetup& setup) noexcept;

[[nodiscard]] std::uint64_t monotonic_ns() noexcept;
// "ECONNREFUSED" for ECONNREFUSED.
[[nodiscard]] const char* error_name(int error) noexcept;

}  // namespace uring_okay::load
