// The page --metrics-path serves: every engine thread's counters in the Prometheus text
// exposition format (version 0.0.4), each series summed over threads and once per thread,
// rendered when a request for it is answered. A thread keeps a few pages and sends straight
// from their bytes, as it does every other answer; nothing is allocated after allocate().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "uring_okay/counters.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {

// Every engine thread's counters (main's array), read with relaxed loads while they change.
struct CountersTable {
    const Counters* threads = nullptr;
    std::uint32_t count = 0;
};

// The exposition text, into `out`; returns its bytes, or 0 when `room` was too small (it never
// is for metrics_bytes_max(table.count)).
[[nodiscard]] std::size_t render_metrics(CountersTable table, char* out, std::size_t room) noexcept;
[[nodiscard]] std::size_t metrics_bytes_max(std::uint32_t thread_count) noexcept;

class MetricsPages {
public:
    static constexpr std::uint8_t pages_max = 8;  // metrics sends one thread has in flight at once

    MetricsPages() = default;
    MetricsPages(const MetricsPages&) = delete;
    MetricsPages& operator=(const MetricsPages&) = delete;
    ~MetricsPages();

    // `spec`: its Server and Date choices head the page too. `own`: this thread's counters.
    [[nodiscard]] bool allocate(CountersTable table, const ResponseSpec& spec,
                                Counters& own) noexcept;

    // One answer of `kind` (GET or HEAD, keep-alive or close), rendered now, or a page already
    // in flight with the same head. count 0: every page is being sent with another head.
    [[nodiscard]] Responses::Batch take(Kind kind) noexcept;
    void release(std::uint8_t generation) noexcept;

private:
    struct Page {
        char* bytes = nullptr;      // head_room_ for the head, then the body
        std::uint32_t head_at = 0;  // the head ends where the body starts, at head_room_
        std::uint32_t body_bytes = 0;
        std::uint32_t in_flight = 0;
        bool closes = false;  // its head says Connection: close
    };
    [[nodiscard]] Responses::Batch batch(std::uint8_t index, Kind kind) noexcept;
    void render(Page& page, bool closes) noexcept;

    Page pages_[pages_max];
    char* arena_ = nullptr;
    CountersTable table_;
    std::string_view server_;
    bool date_ = true;
    std::uint32_t head_room_ = 0;
    std::uint32_t body_room_ = 0;
    Counters* own_ = nullptr;
};

}  // namespace uring_okay
