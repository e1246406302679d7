// Per-thread counters: one writer each (its engine thread), read by main for the exit summary
// and by tests. Relaxed atomics compile to plain loads and stores: no locked instruction on
// the hot path, yet a reader on another thread is not a data race.
#pragma once

#include <atomic>
#include <cstdint>

#include "uring_okay/framer.hpp"

namespace uring_okay {

class Counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    [[nodiscard]] std::uint64_t get() const noexcept {
        return value_.load(std::memory_order_relaxed);
    }

private:
    std::atomic<std::uint64_t> value_{0};
};

inline constexpr std::size_t verdict_count = 7;
inline constexpr std::size_t status_class_count = 6;  // 1xx to 5xx, then 6xx to 9xx

struct alignas(64) Counters {
    Counter requests;                  // framed requests, good or bad
    Counter answered[kind_count];      // answers that left, by kind
    Counter answered_class[status_class_count];  // by status class: [0] 1xx ... [5] 6xx-9xx
    Counter framer_verdicts[verdict_count];  // by Verdict (fine unused)
    Counter bytes_in;
    Counter bytes_out;

    Counter accepted;
    Counter accept_errors;             // EMFILE/ENFILE and the like: backed off
    Counter closed;                    // every close, whatever the reason; open = accepted - closed
    // closed_by_peer to accepts_refused_full: in the order the metrics page reads them as a run.
    Counter closed_by_peer;            // EOF or reset
    Counter closed_errors;             // recv or send failed
    Counter closed_header_timeout;
    Counter closed_idle_timeout;
    Counter closed_linger_timeout;
    Counter closed_drain;
    Counter accepts_refused_full;      // the slot table was full: accepted and closed at once
    Counter reads_paused;              // owed reached owed_max: reading paused until it drains

    Counter multishot_rearms;          // a multishot accept or recv ended and was armed again
    Counter recv_no_buffers;           // -ENOBUFS: the buffer ring ran dry
    Counter short_sends;
    Counter cq_overflows;
    Counter metrics_busy;        // every metrics page was being sent: closed unanswered
    Counter access_log_dropped;  // lines that found the access log's buffer full

    // The thread's CPU clock (pthread_getcpuclockid), for readers on other threads while it
    // runs; once it stopped, its CPU time in cpu_ns.
    std::atomic<int> cpu_clock{-1};
    Counter cpu_ns;
};

// Each engine thread: its clock when it starts serving, its CPU time when it stops.
void note_thread_start(Counters& counters) noexcept;
void note_thread_stop(Counters& counters) noexcept;
// Any thread's CPU time so far, read from another thread, in nanoseconds.
[[nodiscard]] std::uint64_t thread_cpu_ns(const Counters& counters) noexcept;

}  // namespace uring_okay
