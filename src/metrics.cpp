// The Prometheus page: one table of families (name, help, type, label, how to read a thread's
// value), rendered into fixed pages; the page's head is written just before its body so one send
// carries both. Reads other threads' counters with relaxed loads: a scrape sees each counter at
// some recent moment, never a torn value.
#include "uring_okay/metrics.hpp"

#include <cstdlib>
#include <cstring>
#include <span>

#include "uring_okay/engine.hpp"
#include "uring_okay/text.hpp"

namespace uring_okay {
namespace {

constexpr std::string_view prefix = "uring_okay_";
constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::size_t family_text_max = 256;  // the # HELP and # TYPE lines of one family
constexpr std::size_t series_line_max = 160;  // name{label="value",thread="N"} value\n

using Read = std::uint64_t (*)(const Counters&, std::size_t label_index);

struct Family {
    std::string_view name;
    std::string_view help;
    std::string_view type;                     // counter or gauge
    std::string_view label;                    // empty: one series
    std::span<const std::string_view> values;  // the label's values
    Read read;
    bool seconds = false;  // read gives nanoseconds, shown as seconds
};

constexpr std::string_view status_classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
// Verdict order, fine left out.
constexpr std::string_view framer_errors[] = {"bad_request",           "content_too_large",
                                              "uri_too_long",          "header_too_large",
                                              "version_not_supported", "owed_full"};
constexpr std::string_view close_reasons[] = {
    "peer", "error", "header_timeout", "idle_timeout", "linger_timeout", "drain", "table_full"};
constexpr std::string_view timeouts[] = {"header", "idle", "linger"};

[[nodiscard]] std::uint64_t closed_by(const Counters& c, std::size_t reason) noexcept {
    const Counter* by_reason[] = {&c.closed_by_peer,        &c.closed_errors,
                                  &c.closed_header_timeout, &c.closed_idle_timeout,
                                  &c.closed_linger_timeout, &c.closed_drain,
                                  &c.accepts_refused_full};
    return by_reason[reason]->get();
}

[[nodiscard]] std::uint64_t open_now(const Counters& c, std::size_t) noexcept {
    const std::uint64_t closed = c.closed.get();  // read first: open never shows negative
    const std::uint64_t accepted = c.accepted.get();
    return accepted > closed ? accepted - closed : 0;
}

template <Counter Counters::*field>
std::uint64_t one(const Counters& c, std::size_t) noexcept {
    return (c.*field).get();
}

constexpr Family families[] = {
    {"requests_total",
     "Requests framed, good or bad.",
     "counter",
     {},
     {},
     one<&Counters::requests>},
    {"responses_total", "Answers sent, by status class.", "counter", "class", status_classes,
     [](const Counters& c, std::size_t i) { return c.answered_class[i].get(); }},
    {"framer_errors_total",
     "Requests refused for their framing (400, 413, 414, 431, 505) or for "
     "pipelining past what a connection may owe.",
     "counter", "error", framer_errors,
     [](const Counters& c, std::size_t i) { return c.framer_verdicts[i + 1].get(); }},
    {"received_bytes_total",
     "Bytes read from clients.",
     "counter",
     {},
     {},
     one<&Counters::bytes_in>},
    {"sent_bytes_total", "Bytes sent to clients.", "counter", {}, {}, one<&Counters::bytes_out>},
    {"connections_accepted_total",
     "Connections accepted.",
     "counter",
     {},
     {},
     one<&Counters::accepted>},
    {"connections_open", "Connections open now.", "gauge", {}, {}, open_now},
    {"connections_closed_total",
     "Connections closed, by why (table_full: accepted past "
     "--connections-max and closed at once).",
     "counter", "reason", close_reasons, closed_by},
    {"timeouts_total", "Connections closed by a deadline.", "counter", "timeout", timeouts,
     [](const Counters& c, std::size_t i) { return closed_by(c, i + 2); }},
    {"accept_backoffs_total",
     "Accepts that failed for want of file descriptors or memory "
     "(EMFILE, ENFILE, ENOBUFS, ENOMEM) and waited for the next tick.",
     "counter",
     {},
     {},
     one<&Counters::accept_errors>},
    {"multishot_rearms_total",
     "Multishot accepts and receives that ended and were armed again.",
     "counter",
     {},
     {},
     one<&Counters::multishot_rearms>},
    {"receive_buffer_shortages_total",
     "Receives that found the provided-buffer ring empty "
     "(ENOBUFS).",
     "counter",
     {},
     {},
     one<&Counters::recv_no_buffers>},
    {"short_sends_total",
     "Sends the kernel took only part of.",
     "counter",
     {},
     {},
     one<&Counters::short_sends>},
    {"reads_paused_total",
     "Connections whose reading paused at --owed-max answers owed.",
     "counter",
     {},
     {},
     one<&Counters::reads_paused>},
    {"completion_overflows_total",
     "Times the completion queue overflowed.",
     "counter",
     {},
     {},
     one<&Counters::cq_overflows>},
    {"metrics_busy_total",
     "Metrics requests closed unanswered: every page was being sent.",
     "counter",
     {},
     {},
     one<&Counters::metrics_busy>},
    {"access_log_dropped_total",
     "Access log lines dropped: the buffer was full.",
     "counter",
     {},
     {},
     one<&Counters::access_log_dropped>},
    {"thread_cpu_seconds_total",
     "CPU time of the engine threads.",
     "counter",
     {},
     {},
     [](const Counters& c, std::size_t) { return thread_cpu_ns(c); },
     true},
};

// One series line: name{label="value",thread="N"} number. thread < 0: the sum, no thread label.
void add_series(Text& out, const Family& family, std::size_t value, long thread,
                std::uint64_t number) noexcept {
    out.add(prefix).add(family.name);
    const bool labelled = !family.label.empty();
    if (labelled || thread >= 0) out.add("{");
    if (labelled) out.add(family.label).add("=\"").add(family.values[value]).add("\"");
    if (thread >= 0)
        out.add(labelled ? ",thread=\"" : "thread=\"").add(std::uint64_t(thread)).add("\"");
    if (labelled || thread >= 0) out.add("}");
    out.add(" ");
    if (family.seconds)
        out.add_fixed(number / 1000, 6);  // nanoseconds as seconds, to the microsecond
    else
        out.add(number);
    out.add("\n");
}

void add_family(Text& out, const Family& family, CountersTable table) noexcept {
    out.add("# HELP ").add(prefix).add(family.name).add(" ").add(family.help).add("\n");
    out.add("# TYPE ").add(prefix).add(family.name).add(" ").add(family.type).add("\n");
    const std::size_t values = family.label.empty() ? 1 : family.values.size();
    for (std::size_t value = 0; value < values; ++value) {
        std::uint64_t each[64];  // read once: the sum is the sum of the lines shown
        std::uint64_t sum = 0;
        for (std::uint32_t t = 0; t < table.count; ++t) {
            const std::uint64_t number = family.read(table.threads[t], value);
            if (t < std::size(each)) each[t] = number;
            sum += number;
        }
        add_series(out, family, value, -1, sum);
        for (std::uint32_t t = 0; t < table.count; ++t) {
            const std::uint64_t number =
                t < std::size(each) ? each[t] : family.read(table.threads[t], value);
            add_series(out, family, value, long(t), number);
        }
    }
}

[[nodiscard]] std::size_t series_count() noexcept {
    std::size_t count = 0;
    for (const Family& family : families) count += family.label.empty() ? 1 : family.values.size();
    return count;
}

}  // namespace

std::size_t metrics_bytes_max(std::uint32_t thread_count) noexcept {
    return std::size(families) * family_text_max +
           series_count() * (std::size_t(thread_count) + 1) * series_line_max;
}

std::size_t render_metrics(CountersTable table, char* out, std::size_t room) noexcept {
    Text text{out, room};
    for (const Family& family : families) add_family(text, family, table);
    return text.cut() ? 0 : text.bytes();
}

MetricsPages::~MetricsPages() {
    std::free(arena_);
}

bool MetricsPages::allocate(CountersTable table, const ResponseSpec& spec, Counters& own) noexcept {
    table_ = table;
    server_ = spec.server;
    date_ = spec.date;
    own_ = &own;
    head_room_ = std::uint32_t(256 + server_.size());
    body_room_ = std::uint32_t(metrics_bytes_max(table.count));
    const std::size_t page_bytes = std::size_t(head_room_) + body_room_;
    arena_ = static_cast<char*>(std::malloc(page_bytes * pages_max));  // touched when rendered
    if (arena_ == nullptr) return false;
    for (std::uint8_t i = 0; i < pages_max; ++i) pages_[i].bytes = arena_ + i * page_bytes;
    return true;
}

// The head, right-aligned against the body so both leave in one send.
void MetricsPages::render(Page& page, bool closes) noexcept {
    char* const body = page.bytes + head_room_;
    page.body_bytes = std::uint32_t(render_metrics(table_, body, body_room_));
    page.closes = closes;
    char head[512];
    Text out{head, sizeof head < head_room_ ? sizeof head : head_room_};
    out.add("HTTP/1.1 200 OK\r\nContent-Type: ").add(content_type).add("\r\nContent-Length: ");
    out.add(std::uint64_t(page.body_bytes)).add("\r\n");
    if (date_) {
        char date[imf_fixdate_bytes];
        format_imf_fixdate(realtime_seconds(), date);
        out.add("Date: ").add(std::string_view{date, sizeof date}).add("\r\n");
    }
    if (!server_.empty()) out.add("Server: ").add(server_).add("\r\n");
    out.add(closes ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n");
    page.head_at = head_room_ - std::uint32_t(out.bytes());
    std::memcpy(page.bytes + page.head_at, head, out.bytes());
}

Responses::Batch MetricsPages::batch(std::uint8_t index, Kind kind) noexcept {
    Page& page = pages_[index];
    ++page.in_flight;
    const std::uint32_t bytes = head_room_ - page.head_at + (is_head(kind) ? 0 : page.body_bytes);
    return {page.bytes + page.head_at, bytes, 1, index};
}

Responses::Batch MetricsPages::take(Kind kind) noexcept {
    const bool closes = closes_after(kind);
    for (std::uint8_t i = 0; i < pages_max; ++i) {
        if (pages_[i].in_flight == 0) {
            render(pages_[i], closes);
            return batch(i, kind);
        }
    }
    // Every page is being sent: one with the same head serves again (rendered moments ago).
    for (std::uint8_t i = 0; i < pages_max; ++i) {
        if (pages_[i].closes == closes) return batch(i, kind);
    }
    own_->metrics_busy.add();
    return {};
}

void MetricsPages::release(std::uint8_t generation) noexcept {
    if (generation < pages_max && pages_[generation].in_flight > 0) --pages_[generation].in_flight;
}

}  // namespace uring_okay
