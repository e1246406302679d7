// The Prometheus page: one table of families (name, help, type, label, how to read a thread's
// value), rendered into fixed pages; the page's head is written just before its body so one send
// carries both. Reads other threads' counters with relaxed loads: a scrape sees each counter at
// some recent moment, never a torn value.
#include "uring_okay/metrics.hpp"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <span>

#include "uring_okay/engine.hpp"
#include "uring_okay/text.hpp"

namespace uring_okay {

using namespace std::string_view_literals;  // "text"sv: no strlen call where it is added

namespace {

constexpr std::size_t family_text_max = 256;  // the # HELP and # TYPE lines of one family
constexpr std::size_t series_line_max = 160;  // name{label="value",thread="N"} value\n

// How a family reads one thread's value: a counter (the label's values read the ones after it),
// accepted minus closed, or the thread's CPU time (nanoseconds, shown as seconds).
enum class Read : std::uint8_t { counter, open_now, cpu_seconds };

struct Family {
    // "name Help text.", as the # HELP line shows it after the prefix; for a labelled family, a
    // second line "label value value...": one series per value.
    const char* text;
    std::uint16_t at;  // the counter's offsetof in Counters
    Read read = Read::counter;
    bool gauge = false;  // its # TYPE: gauge, else counter
};

// connections_closed_total reads its reasons as a run: each counter right after the one before.
constexpr std::size_t close_reasons_at[] = {
    offsetof(Counters, closed_by_peer),        offsetof(Counters, closed_errors),
    offsetof(Counters, closed_header_timeout), offsetof(Counters, closed_idle_timeout),
    offsetof(Counters, closed_linger_timeout), offsetof(Counters, closed_drain),
    offsetof(Counters, accepts_refused_full)};
constexpr bool is_run(std::span<const std::size_t> offsets) {
    for (std::size_t i = 1; i < offsets.size(); ++i)
        if (offsets[i] != offsets[i - 1] + sizeof(Counter)) return false;
    return true;
}
static_assert(is_run(close_reasons_at));

#define UO_AT(field) std::uint16_t(offsetof(Counters, field))

// Verdict order (fine left out) for framer errors; Counters' order for close reasons.
constexpr Family families[] = {
    {"requests_total Requests framed, good or bad.", UO_AT(requests)},
    {"responses_total Answers sent, by status class.\n"
     "class 1xx 2xx 3xx 4xx 5xx other",
     UO_AT(answered_class)},
    {"framer_errors_total Requests refused for their framing (400, 413, 414, 431, 505) or for "
     "pipelining past what a connection may owe.\n"
     "error bad_request content_too_large uri_too_long header_too_large version_not_supported "
     "owed_full",
     UO_AT(framer_verdicts[1])},
    {"received_bytes_total Bytes read from clients.", UO_AT(bytes_in)},
    {"sent_bytes_total Bytes sent to clients.", UO_AT(bytes_out)},
    {"connections_accepted_total Connections accepted.", UO_AT(accepted)},
    {"connections_open Connections open now.", 0, Read::open_now, true},
    {"connections_closed_total Connections closed, by why (table_full: accepted past "
     "--connections-max and closed at once).\n"
     "reason peer error header_timeout idle_timeout linger_timeout drain table_full",
     UO_AT(closed_by_peer)},
    {"timeouts_total Connections closed by a deadline.\n"
     "timeout header idle linger",
     UO_AT(closed_header_timeout)},
    {"accept_backoffs_total Accepts that failed for the listener, not for one client (EMFILE, "
     "ENFILE, ENOBUFS, ENOMEM; EINVAL once another holder shut the socket down), and waited "
     "for the next tick.",
     UO_AT(accept_errors)},
    {"multishot_rearms_total Multishot accepts and receives that ended and were armed again.",
     UO_AT(multishot_rearms)},
    {"receive_buffer_shortages_total Receives that found the provided-buffer ring empty "
     "(ENOBUFS).",
     UO_AT(recv_no_buffers)},
    {"short_sends_total Sends the kernel took only part of.", UO_AT(short_sends)},
    {"reads_paused_total Connections whose reading paused at --owed-max answers owed.",
     UO_AT(reads_paused)},
    {"completion_overflows_total Times the completion queue overflowed.", UO_AT(cq_overflows)},
    {"metrics_busy_total Metrics requests closed unanswered: every page was being sent.",
     UO_AT(metrics_busy)},
    {"access_log_dropped_total Access log lines dropped: the buffer was full.",
     UO_AT(access_log_dropped)},
    {"thread_cpu_seconds_total CPU time of the engine threads.", 0, Read::cpu_seconds},
};

#undef UO_AT

[[nodiscard]] std::uint64_t read(const Family& family, const Counters& c,
                                 std::size_t value) noexcept {
    if (family.read == Read::cpu_seconds) return thread_cpu_ns(c);
    if (family.read == Read::open_now) {
        const std::uint64_t closed = c.closed.get();  // read first: open never shows negative
        const std::uint64_t accepted = c.accepted.get();
        return accepted > closed ? accepted - closed : 0;
    }
    const auto* first =
        reinterpret_cast<const Counter*>(reinterpret_cast<const char*>(&c) + family.at);
    return first[value].get();
}

// The first word of `words`, and `words` past it and its space.
[[nodiscard]] std::string_view next_word(std::string_view& words) noexcept {
    const std::size_t end = words.find(' ');
    const std::string_view word = words.substr(0, end);
    words.remove_prefix(end < words.size() ? end + 1 : words.size());
    return word;
}

// A series' value and the line's end.
void add_value(Text& out, std::uint64_t number, bool seconds) noexcept {
    if (seconds)
        out.add_fixed(number / 1000, 6);  // nanoseconds as seconds, to the microsecond
    else
        out.add(number);
    out.add("\n"sv);
}

// One series per word of the label after the first, or one for a family without a label.
[[nodiscard]] constexpr std::size_t series_of(const Family& family) noexcept {
    const std::string_view text = family.text;
    const std::size_t label_at = text.find('\n');
    if (label_at == std::string_view::npos) return 1;
    std::size_t spaces = 0;
    for (const char c : text.substr(label_at)) spaces += c == ' ';
    return spaces;
}

constexpr std::size_t series_count = [] {
    std::size_t count = 0;
    for (const Family& family : families) count += series_of(family);
    return count;
}();

// Each series summed over threads, then once per thread with its thread="N" label.
void add_family(Text& out, const Family& family, CountersTable table) noexcept {
    const std::string_view text = family.text;
    const std::size_t help_end = text.find('\n');
    const std::string_view name = text.substr(0, text.find(' '));
    constexpr auto prefix = "uring_okay_"sv;  // of every series' name
    constexpr auto help_start = "# HELP uring_okay_"sv;
    constexpr auto type_start = "# TYPE uring_okay_"sv;
    static_assert(help_start.ends_with(prefix) && type_start.ends_with(prefix));
    out.add(help_start).add(text.substr(0, help_end)).add("\n"sv);
    out.add(type_start).add(name).add(family.gauge ? " gauge\n"sv : " counter\n"sv);
    const bool labelled = help_end != std::string_view::npos;
    std::string_view values = labelled ? text.substr(help_end + 1) : ""sv;
    const std::string_view label = next_word(values);
    const bool seconds = family.read == Read::cpu_seconds;
    std::size_t value = 0;
    do {  // a series per value, or the one of a family without a label
        char key_bytes[family_text_max];  // the series' name, and its label="value" if any
        Text key{key_bytes};
        key.add(prefix).add(name);
        if (labelled) key.add("{"sv).add(label).add("=\""sv).add(next_word(values)).add("\""sv);
        std::uint64_t each[64];  // read once: the sum is the sum of the lines shown
        std::uint64_t sum = 0;
        for (std::uint32_t t = 0; t < table.count; ++t) {
            const std::uint64_t number = read(family, table.threads[t], value);
            if (t < std::size(each)) each[t] = number;
            sum += number;
        }
        out.add(key.view()).add(labelled ? "} "sv : " "sv);
        add_value(out, sum, seconds);
        for (std::uint32_t t = 0; t < table.count; ++t) {
            out.add(key.view()).add(labelled ? ",thread=\""sv : "{thread=\""sv);
            out.add(std::uint64_t(t)).add("\"} "sv);
            add_value(out, t < std::size(each) ? each[t] : read(family, table.threads[t], value),
                      seconds);
        }
        ++value;
    } while (!values.empty());
}

}  // namespace

std::size_t metrics_bytes_max(std::uint32_t thread_count) noexcept {
    return std::size(families) * family_text_max +
           series_count * (std::size_t(thread_count) + 1) * series_line_max;
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
    constexpr auto head_start =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
        "Content-Length: "sv;
    out.add(head_start).add(std::uint64_t(page.body_bytes)).add("\r\n"sv);
    if (date_) {
        char date[imf_fixdate_bytes];
        format_imf_fixdate(realtime_seconds(), date);
        out.add("Date: "sv).add(std::string_view{date, sizeof date}).add("\r\n"sv);
    }
    if (!server_.empty()) out.add("Server: "sv).add(server_).add("\r\n"sv);
    out.add(closes ? "Connection: close\r\n\r\n"sv : "Connection: keep-alive\r\n\r\n"sv);
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
