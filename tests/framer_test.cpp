// The framer's tests: bytes in, kinds of requests or a verdict out, whatever the split; and the
// Owed queue. Written from the framing specification, not from src/framer.cpp: they are the
// independent check. Every feed of the table cases sits just before a PROT_NONE page.
#include "uring_okay/framer.hpp"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Counting operator new: the framer must not allocate (STYLE §5). Only calls made while
// `counting_news` is set are counted; malloc itself cannot be counted portably.
namespace {
bool counting_news = false;
std::size_t news_counted = 0;

void* allocate_or_null(std::size_t bytes) noexcept {
    if (counting_news) ++news_counted;
    return std::malloc(bytes == 0 ? 1 : bytes);
}
void* allocate_aligned_or_null(std::size_t bytes, std::align_val_t alignment) noexcept {
    if (counting_news) ++news_counted;
    void* pointer = nullptr;
    const auto align = std::max(static_cast<std::size_t>(alignment), sizeof(void*));
    if (posix_memalign(&pointer, align, bytes == 0 ? 1 : bytes) != 0) return nullptr;
    return pointer;
}
void* allocate(std::size_t bytes) {
    void* pointer = allocate_or_null(bytes);
    if (pointer == nullptr) throw std::bad_alloc();
    return pointer;
}
void* allocate_aligned(std::size_t bytes, std::align_val_t alignment) {
    void* pointer = allocate_aligned_or_null(bytes, alignment);
    if (pointer == nullptr) throw std::bad_alloc();
    return pointer;
}
}  // namespace

void* operator new(std::size_t bytes) {
    return allocate(bytes);
}
void* operator new[](std::size_t bytes) {
    return allocate(bytes);
}
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept {
    return allocate_or_null(bytes);
}
void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept {
    return allocate_or_null(bytes);
}
void* operator new(std::size_t bytes, std::align_val_t alignment) {
    return allocate_aligned(bytes, alignment);
}
void* operator new[](std::size_t bytes, std::align_val_t alignment) {
    return allocate_aligned(bytes, alignment);
}
void* operator new(std::size_t bytes, std::align_val_t alignment, const std::nothrow_t&) noexcept {
    return allocate_aligned_or_null(bytes, alignment);
}
void* operator new[](std::size_t bytes, std::align_val_t alignment,
                     const std::nothrow_t&) noexcept {
    return allocate_aligned_or_null(bytes, alignment);
}
void operator delete(void* pointer) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer) noexcept {
    std::free(pointer);
}
void operator delete(void* pointer, std::size_t) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer, std::size_t) noexcept {
    std::free(pointer);
}
void operator delete(void* pointer, const std::nothrow_t&) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer, const std::nothrow_t&) noexcept {
    std::free(pointer);
}
void operator delete(void* pointer, std::align_val_t) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer, std::align_val_t) noexcept {
    std::free(pointer);
}
void operator delete(void* pointer, std::size_t, std::align_val_t) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer, std::size_t, std::align_val_t) noexcept {
    std::free(pointer);
}
void operator delete(void* pointer, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(pointer);
}
void operator delete[](void* pointer, std::align_val_t, const std::nothrow_t&) noexcept {
    std::free(pointer);
}

namespace uring_okay {

// Readable failures: gtest finds these by ADL.
std::ostream& operator<<(std::ostream& out, Kind kind) {
    static constexpr const char* names[] = {
        "get",       "head",      "get_close", "head_close", "get_keep_alive", "head_keep_alive",
        "error_400", "error_413", "error_414", "error_431",  "error_505",      "unavailable_503"};
    const auto index = static_cast<std::size_t>(kind);
    if (index < kind_count) return out << names[index];
    return out << "Kind(" << index << ")";
}

std::ostream& operator<<(std::ostream& out, Verdict verdict) {
    static constexpr const char* names[] = {
        "fine",         "bad_request",      "content_too_large",
        "uri_too_long", "header_too_large", "version_not_supported",
        "owed_full"};
    const auto index = static_cast<std::size_t>(verdict);
    if (index < std::size(names)) return out << names[index];
    return out << "Verdict(" << index << ")";
}

}  // namespace uring_okay

namespace {

using namespace uring_okay;
using namespace std::literals;

using Run = std::pair<Kind, std::uint32_t>;
using Runs = std::vector<Run>;

constexpr Kind get = Kind::get;
constexpr Kind head = Kind::head;
constexpr Kind get_close = Kind::get_close;
constexpr Kind head_close = Kind::head_close;
constexpr Kind get_keep_alive = Kind::get_keep_alive;
constexpr Kind head_keep_alive = Kind::head_keep_alive;

const Limits standard_limits{};
// Small limits so each limit is reached with short inputs; the margins stay clear (STYLE §7).
const Limits small_limits = [] {
    Limits limits;
    limits.request_line_bytes_max = 100;
    limits.header_bytes_max = 300;
    limits.header_count_max = 5;
    limits.body_bytes_max = 100;
    return limits;
}();

// The specification's verdict ↔ kind pairs.
Kind error_kind(Verdict verdict) {
    switch (verdict) {
        case Verdict::bad_request:
            return Kind::error_400;
        case Verdict::content_too_large:
            return Kind::error_413;
        case Verdict::uri_too_long:
            return Kind::error_414;
        case Verdict::header_too_large:
            return Kind::error_431;
        case Verdict::version_not_supported:
            return Kind::error_505;
        default:
            break;
    }
    ADD_FAILURE() << "no error kind for " << verdict;
    return Kind::unavailable_503;
}

std::string cat(std::initializer_list<std::string_view> parts) {
    std::string joined;
    for (std::string_view part : parts) joined.append(part);
    return joined;
}

std::string repeat(std::string_view part, std::size_t times) {
    std::string joined;
    for (std::size_t i = 0; i < times; ++i) joined.append(part);
    return joined;
}

// A request line, its field lines (each ending in CRLF), the blank line, then the body.
std::string request(std::string_view request_line, std::string_view fields,
                    std::string_view body = {}) {
    return cat({request_line, "\r\n", fields, "\r\n", body});
}
// An HTTP/1.1 GET with its Host, then `fields`.
std::string get11(std::string_view fields, std::string_view body = {}) {
    return request("GET / HTTP/1.1", cat({"Host: a\r\n", fields}), body);
}
// An HTTP/1.1 POST with its Host, then `fields` (Transfer-Encoding and such).
std::string post11(std::string_view fields, std::string_view body) {
    return request("POST / HTTP/1.1", cat({"Host: a\r\n", fields}), body);
}
std::string chunked(std::string_view body) {
    return post11("Transfer-Encoding: chunked\r\n", body);
}
constexpr std::string_view head11 = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
static_assert(head11.size() == 28);

// A request line of exactly `bytes` bytes, CRLF not counted.
std::string request_line_of(std::size_t bytes) {
    return cat({"GET /", std::string(bytes - 14, 'a'), " HTTP/1.1"});
}

Runs runs_of(const std::vector<Kind>& kinds) {
    Runs runs;
    for (Kind kind : kinds) {
        if (!runs.empty() && runs.back().first == kind) {
            ++runs.back().second;
        } else {
            runs.emplace_back(kind, 1);
        }
    }
    return runs;
}

// Reads the owed queue in order by popping it, after checking total() and count() agree.
Runs drain(Owed& owed) {
    const std::uint64_t total = owed.total();
    std::vector<std::uint64_t> counts;
    for (std::size_t kind = 0; kind < kind_count; ++kind) {
        counts.push_back(owed.count(static_cast<Kind>(kind)));
    }
    Runs runs;
    std::uint64_t popped = 0;
    std::vector<std::uint64_t> popped_counts(kind_count, 0);
    while (!owed.empty() && runs.size() <= Owed::runs_max) {
        const Kind kind = owed.front_kind();
        const std::uint32_t count = owed.front_count();
        EXPECT_GT(count, 0u) << "a run of none at the front";
        if (count == 0) break;
        if (!runs.empty() && runs.back().first == kind) {
            runs.back().second += count;  // must not happen: adjacent runs of one kind
            ADD_FAILURE() << "two adjacent runs of " << kind;
        } else {
            runs.emplace_back(kind, count);
        }
        popped += count;
        popped_counts[static_cast<std::size_t>(kind)] += count;
        owed.pop(count);
    }
    EXPECT_TRUE(owed.empty());
    EXPECT_EQ(owed.total(), 0u);
    EXPECT_EQ(total, popped);
    EXPECT_EQ(counts, popped_counts);
    return runs;
}

// Memory that ends in a PROT_NONE page: bytes placed here end exactly at the guard, so reading
// one byte past them faults.
class Guarded {
  public:
    explicit Guarded(std::size_t bytes_max) {
        page_bytes_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
        usable_bytes_ = (bytes_max + page_bytes_ - 1) / page_bytes_ * page_bytes_;
        void* mapped = mmap(nullptr, usable_bytes_ + page_bytes_, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapped == MAP_FAILED) std::abort();
        base_ = static_cast<char*>(mapped);
        if (mprotect(base_ + usable_bytes_, page_bytes_, PROT_NONE) != 0) std::abort();
    }
    ~Guarded() { munmap(base_, usable_bytes_ + page_bytes_); }
    Guarded(const Guarded&) = delete;
    Guarded& operator=(const Guarded&) = delete;

    std::string_view place(std::string_view bytes) {
        if (bytes.size() > usable_bytes_) std::abort();  // a test's own mistake
        char* start = base_ + usable_bytes_ - bytes.size();
        if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
        return {start, bytes.size()};
    }

  private:
    char* base_ = nullptr;
    std::size_t page_bytes_ = 0;
    std::size_t usable_bytes_ = 0;
};

Guarded& guarded() {
    static Guarded memory(1 << 16);
    return memory;
}

// What a stream framed to, fed in pieces.
struct Outcome {
    Verdict verdict = Verdict::fine;  // the first verdict that was not fine
    int verdicts_not_fine = 0;        // at most one: after it every feed must be fine
    Runs runs;
    bool ended = false;
    bool between_requests = false;
};

// Feeds `bytes` cut at `cuts` (ascending positions), each piece placed before the guard page.
Outcome frame(const Limits& limits, std::string_view bytes, const std::vector<std::size_t>& cuts) {
    Framer framer{limits};
    Owed owed;
    Outcome outcome;
    std::size_t start = 0;
    for (std::size_t index = 0; index <= cuts.size(); ++index) {
        const std::size_t end = index < cuts.size() ? cuts[index] : bytes.size();
        const Verdict verdict =
            framer.feed(guarded().place(bytes.substr(start, end - start)), owed);
        if (verdict != Verdict::fine) {
            if (outcome.verdicts_not_fine++ == 0) outcome.verdict = verdict;
        }
        start = end;
    }
    outcome.runs = drain(owed);
    outcome.ended = framer.ended();
    outcome.between_requests = framer.between_requests();
    return outcome;
}

Outcome frame_whole(const Limits& limits, std::string_view bytes) {
    return frame(limits, bytes, {});
}

std::vector<std::size_t> every_byte(std::size_t bytes) {
    std::vector<std::size_t> cuts;
    for (std::size_t cut = 1; cut < bytes; ++cut) cuts.push_back(cut);
    return cuts;
}

// ---------------------------------------------------------------------------------------------
// One rule per case: bytes, the verdict, every kind appended in order.

struct Case {
    std::string name;
    std::string bytes;
    Verdict verdict = Verdict::fine;
    std::vector<Kind> kinds;
    const Limits* limits = &standard_limits;
};

void PrintTo(const Case& test_case, std::ostream* out) {
    *out << test_case.name << ": \"";
    for (unsigned char c : test_case.bytes.substr(0, 200)) {
        if (c == '\r') {
            *out << "\\r";
        } else if (c == '\n') {
            *out << "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            *out << "\\x" << hex[c >> 4] << hex[c & 15];
        } else {
            *out << c;
        }
    }
    *out << (test_case.bytes.size() > 200 ? "\"..." : "\"");
}

Case ok(std::string name, std::string bytes, std::vector<Kind> kinds) {
    return Case{std::move(name), std::move(bytes), Verdict::fine, std::move(kinds)};
}
Case fail(std::string name, std::string bytes, Verdict verdict, std::vector<Kind> kinds = {}) {
    kinds.push_back(error_kind(verdict));
    return Case{std::move(name), std::move(bytes), verdict, std::move(kinds)};
}
Case bad(std::string name, std::string bytes, std::vector<Kind> kinds = {}) {
    return fail(std::move(name), std::move(bytes), Verdict::bad_request, std::move(kinds));
}
Case small(Case test_case) {
    test_case.limits = &small_limits;
    return test_case;
}

std::vector<Case> request_line_cases() {
    const std::string_view host = "Host: a\r\n";
    return {
        ok("get", get11(""), {get}),
        ok("head", request("HEAD / HTTP/1.1", host), {head}),
        ok("post_is_get", request("POST /x HTTP/1.1", host), {get}),
        ok("every_tchar_in_method", request("!#$%&'*+-.^_`|~09azAZ / HTTP/1.1", host), {get}),
        ok("methods_are_case_sensitive", request("head / HTTP/1.1", host), {get}),
        ok("hea_is_not_head", request("HEA / HTTP/1.1", host), {get}),
        ok("heads_is_not_head", request("HEADS / HTTP/1.1", host), {get}),
        bad("method_with_paren", request("GE(T / HTTP/1.1", host)),
        bad("method_with_quote", request("GE\"T / HTTP/1.1", host)),
        bad("method_with_obs_text", request("G\xc3\x89"
                                            "T / HTTP/1.1",
                                            host)),
        bad("empty_method", request(" / HTTP/1.1", host)),
        bad("two_spaces_after_method", request("GET  / HTTP/1.1", host)),
        bad("two_spaces_before_version", request("GET /  HTTP/1.1", host)),
        bad("tab_after_method", request("GET\t/ HTTP/1.1", host)),
        bad("tab_before_version", request("GET /\tHTTP/1.1", host)),
        bad("missing_target", request("GET HTTP/1.1", host)),
        bad("missing_target_two_spaces", request("GET  HTTP/1.1", host)),
        bad("space_after_version", request("GET / HTTP/1.1 ", host)),
        bad("missing_version", request("GET /", host)),
        bad("missing_version_after_space", request("GET / ", host)),
        bad("only_method", request("GET", host)),
        bad("nul_first", request("\0GET / HTTP/1.1"sv, host)),
        bad("nul_in_method", request("G\0ET / HTTP/1.1"sv, host)),
        bad("nul_in_target", request("GET /\0 HTTP/1.1"sv, host)),
        bad("nul_in_version", request("GET / HTTP/1.\0"sv, host)),
        bad("nul_before_crlf", request("GET / HTTP/1.1\0"sv, host)),
        bad("nul_instead_of_field", request("GET / HTTP/1.1", "\0Host: a\r\n"sv)),
        bad("nul_in_field_name", get11("X\0: a\r\n"sv)),
        bad("nul_in_field_value", get11("X: a\0b\r\n"sv)),
        bad("nul_after_a_request", cat({get11(""), "\0"sv, head11}), {get}),
    };
}

std::vector<Case> version_cases() {
    const std::string_view host = "Host: a\r\n";
    const auto version_505 = Verdict::version_not_supported;
    return {
        ok("http_1_1_keeps_going", cat({get11(""), head11}), {get, head}),
        ok("http_1_0_closes", cat({request("GET / HTTP/1.0", ""), head11}), {get_close}),
        ok("http_1_0_with_host", request("GET / HTTP/1.0", host), {get_close}),
        ok("http_1_0_head_closes", request("HEAD / HTTP/1.0", ""), {head_close}),
        ok("http_1_2_is_1_1", cat({request("GET / HTTP/1.2", host), head11}), {get, head}),
        ok("http_1_9_is_1_1", request("HEAD / HTTP/1.9", host), {head}),
        ok("http_1_5_close", request("GET / HTTP/1.5", "Host: a\r\nConnection: close\r\n"),
           {get_close}),
        bad("http_1_2_needs_host", request("GET / HTTP/1.2", "")),
        fail("http_0_9", request("GET / HTTP/0.9", host), version_505),
        fail("http_2_0", request("GET / HTTP/2.0", host), version_505),
        fail("http_3_1", request("GET / HTTP/3.1", host), version_505),
        fail("http_9_1", request("HEAD / HTTP/9.1", host), version_505),
        bad("version_without_minor", request("GET / HTTP/1", host)),
        bad("version_without_minor_digit", request("GET / HTTP/1.", host)),
        bad("version_with_trailing_x", request("GET / HTTP/1.1x", host)),
        bad("version_with_two_minor_digits", request("GET / HTTP/1.10", host)),
        bad("version_lowercase", request("GET / http/1.1", host)),
        bad("version_with_two_major_digits", request("GET / HTTP/11.1", host)),
        bad("version_letter_major", request("GET / HTTP/a.1", host)),
        bad("version_letter_minor", request("GET / HTTP/1.a", host)),
        bad("version_wrong_name", request("GET / HTTX/1.1", host)),
        bad("version_space_not_slash", request("GET / HTTP 1.1", host)),
        bad("version_comma_not_dot", request("GET / HTTP/1,1", host)),
    };
}

std::vector<Case> target_cases() {
    const std::string_view host = "Host: a\r\n";
    return {
        ok("origin_form_with_query",
           request("GET /a/b?c=d&e=%20f#g!$'()*+,;=:@~-._ HTTP/1.1", host), {get}),
        bad("target_with_del", request("GET /a\x7f HTTP/1.1", host)),
        bad("target_with_obs_text", request("GET /a\x80 HTTP/1.1", host)),
        bad("target_with_control", request("GET /a\x01 HTTP/1.1", host)),
        ok("asterisk_for_options", request("OPTIONS * HTTP/1.1", host), {get}),
        ok("origin_form_for_options", request("OPTIONS / HTTP/1.1", host), {get}),
        bad("asterisk_for_get", request("GET * HTTP/1.1", host)),
        bad("asterisk_for_head", request("HEAD * HTTP/1.1", host)),
        bad("asterisk_with_more", request("OPTIONS *x HTTP/1.1", host)),
        ok("connect_authority_form_closes",
           cat({request("CONNECT a.example:443 HTTP/1.1", "Host: a.example:443\r\n"), head11}),
           {get_close}),
        ok("connect_http_1_0", request("CONNECT a.example:443 HTTP/1.0", ""), {get_close}),
        bad("connect_origin_form", request("CONNECT / HTTP/1.1", host)),
        bad("connect_origin_form_with_port", request("CONNECT /a:443 HTTP/1.1", host)),
        bad("connect_asterisk", request("CONNECT * HTTP/1.1", host)),
        bad("connect_without_port", request("CONNECT a.example HTTP/1.1", host)),
        ok("connect_ipv6_authority", request("CONNECT [::1]:443 HTTP/1.1", host), {get_close}),
        ok("absolute_form", request("GET http://a.example/x?y HTTP/1.1", host), {get}),
        ok("absolute_form_scheme_chars", request("GET a+b-c.d9:x HTTP/1.1", host), {get}),
        ok("absolute_form_head", request("HEAD https://a/ HTTP/1.1", host), {head}),
        ok("absolute_form_options", request("OPTIONS http://a HTTP/1.1", host), {get}),
        bad("no_form", request("GET foo HTTP/1.1", host)),
        bad("scheme_starting_with_digit", request("GET 1.2.3.4:80 HTTP/1.1", host)),
        bad("empty_scheme", request("GET :x HTTP/1.1", host)),
        bad("scheme_with_underscore", request("GET ht_tp://a HTTP/1.1", host)),
        bad("scheme_starting_with_dash", request("GET -a://b HTTP/1.1", host)),
    };
}

std::vector<Case> line_cases() {
    return {
        ok("leading_empty_line", cat({"\r\n", get11("")}), {get}),
        ok("leading_empty_lines", cat({"\r\n\r\n\r\n", get11("")}), {get}),
        ok("empty_lines_between", cat({get11(""), "\r\n\r\n", head11}), {get, head}),
        bad("leading_bare_lf", cat({"\n", get11("")})),
        bad("leading_bare_cr", cat({"\r", get11("")})),
        bad("bare_lf_between", cat({get11(""), "\n", head11}), {get}),
        bad("request_line_bare_lf", "GET / HTTP/1.1\nHost: a\r\n\r\n"),
        bad("field_line_bare_lf", "GET / HTTP/1.1\r\nHost: a\n\r\n"),
        bad("blank_line_bare_lf", "GET / HTTP/1.1\r\nHost: a\r\n\n"),
        bad("lf_inside_value", get11("X: a\nb\r\n")),
        bad("request_line_bare_cr", "GET / HTTP/1.1\rHost: a\r\n\r\n"),
        bad("request_line_cr_cr_lf", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"),
        bad("cr_inside_method", "GE\rT / HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("cr_inside_target", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"),
        bad("cr_inside_value", get11("X: a\rb\r\n")),
        bad("blank_line_bare_cr", "GET / HTTP/1.1\r\nHost: a\r\n\rX\r\n\r\n"),
    };
}

std::vector<Case> field_cases() {
    return {
        ok("value_ows_trimmed", get11("Connection: \t close \t\r\n"), {get_close}),
        ok("value_without_ows", get11("Connection:close\r\n"), {get_close}),
        ok("empty_values", cat({get11("X:\r\nY: \r\n"), head11}), {get, head}),
        ok("value_tab_and_obs_text", cat({get11("X: a\tb caf\xc3\xa9 \x80\xff\r\n"), head11}),
           {get, head}),
        ok("value_every_vchar",
           cat({get11("X: !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~\r\n"), head11}), {get, head}),
        bad("empty_name", get11(": x\r\n")),
        bad("space_before_colon_host", "GET / HTTP/1.1\r\nHost : a\r\n\r\n"),
        bad("space_before_colon", get11("X : a\r\n")),
        bad("tab_before_colon", get11("X\t: a\r\n")),
        bad("obs_fold_space", get11("X: a\r\n b\r\n")),
        bad("obs_fold_tab", get11("X: a\r\n\tb\r\n")),
        bad("fold_right_after_request_line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        bad("tab_right_after_request_line", "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n"),
        bad("name_with_paren", get11("X(: a\r\n")),
        bad("name_with_space", get11("X Y: a\r\n")),
        bad("name_with_obs_text", get11("\xc3\xa9: a\r\n")),
        bad("line_without_colon", get11("X-No-Colon\r\n")),
        bad("value_with_soh", get11("X: a\x01"
                                    "b\r\n")),
        bad("value_with_backspace", get11("X: \x08\r\n")),
        bad("value_with_vt", get11("X: a\x0b"
                                   "b\r\n")),
        bad("value_with_form_feed", get11("X: a\x0c"
                                          "b\r\n")),
        bad("value_with_escape", get11("X: \x1b[0m\r\n")),
        bad("value_with_unit_separator", get11("X: a\x1f\r\n")),
        bad("value_with_del", get11("X: a\x7f\r\n")),
        ok("host_name_any_case", cat({"GET / HTTP/1.1\r\nhOsT: a\r\n\r\n", head11}), {get, head}),
        ok("connection_any_case", get11("CONNECTION: ClOsE\r\n"), {get_close}),
        bad("hostx_is_not_host", "GET / HTTP/1.1\r\nHostx: a\r\n\r\n"),
        bad("hos_is_not_host", "GET / HTTP/1.1\r\nHos: a\r\n\r\n"),
        ok("x_connection_is_not_connection", cat({get11("X-Connection: close\r\n"), head11}),
           {get, head}),
        ok("connections_is_not_connection", cat({get11("Connections: close\r\n"), head11}),
           {get, head}),
        ok("content_lengths_is_not_content_length", cat({get11("Content-Lengths: x\r\n"), head11}),
           {get, head}),
        ok("content_lengt_is_not_content_length", cat({get11("Content-Lengt: 5\r\n"), head11}),
           {get, head}),
        ok("transfer_encodings_is_not_transfer_encoding",
           cat({get11("Transfer-Encodings: gzip\r\n"), head11}), {get, head}),
        ok("expects_is_not_expect",
           cat({get11("Expects: 100-continue\r\nContent-Length: 1\r\n", "x"), head11}),
           {get, head}),
    };
}

std::vector<Case> connection_cases() {
    const auto http10 = [](std::string_view method, std::string_view fields) {
        return cat({request(cat({method, " / HTTP/1.0"}), fields), head11});
    };
    return {
        ok("closed_is_not_close", cat({get11("Connection: closed\r\n"), head11}), {get, head}),
        ok("clos_is_not_close", cat({get11("Connection: clos\r\n"), head11}), {get, head}),
        ok("xclose_is_not_close", cat({get11("Connection: xclose\r\n"), head11}), {get, head}),
        ok("close_last_in_list", get11("Connection: keep-alive, close\r\n"), {get_close}),
        ok("close_first_in_list", cat({get11("Connection: close, foo\r\n"), head11}), {get_close}),
        ok("list_with_ows", get11("Connection: foo ,\tclose\r\n"), {get_close}),
        ok("list_without_ows", get11("Connection: foo,close\r\n"), {get_close}),
        ok("upgrade_and_close", get11("Connection: Upgrade, CLOSE\r\n"), {get_close}),
        ok("close_in_second_line", get11("Connection: foo\r\nConnection: close\r\n"), {get_close}),
        ok("list_without_close", cat({get11("Connection: foo, bar\r\n"), head11}), {get, head}),
        ok("head_close", request("HEAD / HTTP/1.1", "Host: a\r\nConnection: close\r\n"),
           {head_close}),
        ok("http_1_0_keep_alive", http10("GET", "Connection: keep-alive\r\n"),
           {get_keep_alive, head}),
        ok("http_1_0_keep_alive_any_case", http10("GET", "Connection: Keep-Alive\r\n"),
           {get_keep_alive, head}),
        ok("http_1_0_head_keep_alive", http10("HEAD", "Connection: keep-alive\r\n"),
           {head_keep_alive, head}),
        ok("http_1_0_keep_alive_in_list", http10("GET", "Connection: foo, keep-alive\r\n"),
           {get_keep_alive, head}),
        ok("http_1_0_keep_alive_second_line",
           http10("GET", "Connection: foo\r\nConnection: keep-alive\r\n"), {get_keep_alive, head}),
        ok("http_1_0_keep_alive_and_close", http10("GET", "Connection: keep-alive, close\r\n"),
           {get_close}),
        ok("http_1_0_close_then_keep_alive_lines",
           http10("GET", "Connection: close\r\nConnection: keep-alive\r\n"), {get_close}),
        ok("http_1_0_keep_alivex", http10("GET", "Connection: keep-alivex\r\n"), {get_close}),
        ok("http_1_0_head_closes", http10("HEAD", ""), {head_close}),
    };
}

std::vector<Case> host_cases() {
    const auto host = [](std::string_view fields) {
        return cat({request("GET / HTTP/1.1", fields), head11});
    };
    return {
        bad("host_missing", request("GET / HTTP/1.1", "")),
        bad("host_missing_among_fields", request("GET / HTTP/1.1", "X: a\r\n")),
        bad("host_twice_same", host("Host: a\r\nHost: a\r\n")),
        bad("host_twice_different", host("Host: a\r\nHost: b\r\n")),
        bad("host_twice_http_1_0", request("GET / HTTP/1.0", "Host: a\r\nHost: a\r\n")),
        ok("host_empty", host("Host:\r\n"), {get, head}),
        ok("host_only_whitespace", host("Host: \t \r\n"), {get, head}),
        ok("host_ipv6_and_port", host("Host: [::1]:8080\r\n"), {get, head}),
        ok("host_every_allowed_byte", host("Host: aZ09-._~!$&'()*+,;=:[]%41\r\n"), {get, head}),
        ok("host_trailing_ows", host("Host: a \t\r\n"), {get, head}),
        bad("host_with_space_inside", host("Host: a b\r\n")),
        bad("host_with_tab_inside", host("Host: a\tb\r\n")),
        bad("host_with_angle", host("Host: <a>\r\n")),
        bad("host_with_quote", host("Host: \"a\"\r\n")),
        bad("host_with_brace", host("Host: {a}\r\n")),
        bad("host_with_slash", host("Host: a/b\r\n")),
        bad("host_with_at", host("Host: u@a\r\n")),
        bad("host_with_obs_text", host("Host: \xc3\xa9\r\n")),
        bad("host_invalid_http_1_0", request("GET / HTTP/1.0", "Host: a b\r\n")),
    };
}

std::vector<Case> content_length_cases() {
    const auto length = [](std::string_view value, std::string_view body = "hello") {
        return cat({get11(cat({"Content-Length:", value, "\r\n"}), body), head11});
    };
    const auto lines = [](std::string_view fields) {
        return cat({get11(fields, "hello"), head11});
    };
    return {
        ok("body_skipped", length(" 5"), {get, head}),
        ok("zero", length(" 0", ""), {get, head}),
        ok("ows_trimmed", length(" \t 5 \t"), {get, head}),
        ok("leading_zeros", length(" 005"), {get, head}),
        ok("name_any_case", lines("content-LENGTH: 5\r\n"), {get, head}),
        ok("body_of_any_bytes", length(" 8", "\0\r\n\n\r\x01\xff "sv), {get, head}),
        ok("body_that_looks_like_a_request", length(" 28", head11), {get, head}),
        ok("list_of_same", length(" 5, 5"), {get, head}),
        ok("list_of_same_without_ows", length(" 5,5"), {get, head}),
        ok("two_lines_same", lines("Content-Length: 5\r\nContent-Length: 5\r\n"), {get, head}),
        ok("line_and_list_same", lines("Content-Length: 5\r\nContent-Length: 5, 5\r\n"),
           {get, head}),
        ok("head_with_body",
           cat({request("HEAD / HTTP/1.1", "Host: a\r\nContent-Length: 5\r\n", "hello"), head11}),
           {head, head}),
        ok("http_1_0_keep_alive_with_body",
           cat({request("GET / HTTP/1.0", "Connection: keep-alive\r\nContent-Length: 5\r\n",
                        "hello"),
                head11}),
           {get_keep_alive, head}),
        bad("plus", length(" +5")),
        bad("minus", length(" -1")),
        bad("suffix", length(" 5x")),
        bad("hex", length(" 0x5")),
        bad("empty", length("")),
        bad("only_whitespace", length("  ")),
        bad("two_numbers", length("  5 6")),
        bad("decimal_point", length(" 5.0")),
        bad("list_differs", length(" 5, 6")),
        bad("lines_differ", lines("Content-Length: 5\r\nContent-Length: 6\r\n")),
        bad("overflows_uint64", length(" 18446744073709551616")),
        bad("overflows_uint64_far", length(" 99999999999999999999999")),
        fail("uint64_max_is_too_large", length(" 18446744073709551615"),
             Verdict::content_too_large),
        small(ok("at_body_limit", length(" 100", std::string(100, 'x')), {get, head})),
        small(fail("past_body_limit", length(" 101", std::string(101, 'x')),
                   Verdict::content_too_large)),
    };
}

std::vector<Case> transfer_encoding_cases() {
    const auto coded = [](std::string_view fields) {
        return cat({post11(fields, "5\r\nhello\r\n0\r\n\r\n"), head11});
    };
    return {
        ok("chunked", coded("Transfer-Encoding: chunked\r\n"), {get, head}),
        ok("chunked_any_case", coded("transfer-encoding: CHUNKED\r\n"), {get, head}),
        ok("gzip_then_chunked", coded("Transfer-Encoding: gzip, chunked\r\n"), {get, head}),
        ok("gzip_then_chunked_ows", coded("Transfer-Encoding: gzip ,\tchunked \r\n"), {get, head}),
        ok("gzip_then_chunked_lines",
           coded("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), {get, head}),
        ok("head_chunked",
           cat({request("HEAD / HTTP/1.1", "Host: a\r\nTransfer-Encoding: chunked\r\n",
                        "0\r\n\r\n"),
                head11}),
           {head, head}),
        bad("chunked_then_gzip", coded("Transfer-Encoding: chunked, gzip\r\n")),
        bad("chunked_then_gzip_lines",
            coded("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n")),
        bad("gzip_only", coded("Transfer-Encoding: gzip\r\n")),
        bad("identity", coded("Transfer-Encoding: identity\r\n")),
        bad("chunked_twice", coded("Transfer-Encoding: chunked, chunked\r\n")),
        bad("chunked_twice_lines",
            coded("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n")),
        bad("chunkedx", coded("Transfer-Encoding: chunkedx\r\n")),
        bad("xchunked", coded("Transfer-Encoding: xchunked\r\n")),
        bad("with_content_length", coded("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")),
        bad("after_content_length", coded("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n")),
        bad("with_content_length_zero",
            coded("Transfer-Encoding: chunked\r\nContent-Length: 0\r\n")),
        bad("in_http_1_0",
            request("POST / HTTP/1.0", "Transfer-Encoding: chunked\r\n", "0\r\n\r\n")),
        bad("in_http_1_0_keep_alive",
            request("POST / HTTP/1.0", "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n",
                    "0\r\n\r\n")),
    };
}

std::vector<Case> chunked_cases() {
    const auto body = [](std::string_view chunks) { return cat({chunked(chunks), head11}); };
    return {
        ok("hex_upper_and_lower", body("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n"),
           {get, head}),
        ok("hex_two_digits_mixed",
           body(
               "1a\r\nabcdefghijklmnopqrstuvwxyz\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n"),
           {get, head}),
        ok("sixteen_digits", body("0000000000000005\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("last_chunk_zeros", body("5\r\nhello\r\n000\r\n\r\n"), {get, head}),
        ok("only_last_chunk", body("0\r\n\r\n"), {get, head}),
        ok("extension_value", body("5;name=value\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("extension_quoted", body("5;name=\"quo;ted\"\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("extension_quoted_pair", body("5;name=\"a\\\"b\"\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("extension_space_name", body("5; name\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("extensions_several", body("5;a=b;c=\"d\";e\r\nhello\r\n0\r\n\r\n"), {get, head}),
        ok("last_chunk_extension", body("5\r\nhello\r\n0;last=1\r\n\r\n"), {get, head}),
        ok("trailers", body("5\r\nhello\r\n0\r\nT: 1\r\nU: two\r\n\r\n"), {get, head}),
        ok("trailers_obs_text_and_empty", body("0\r\nT: caf\xc3\xa9\r\nU:\r\n\r\n"), {get, head}),
        ok("data_that_looks_like_a_request", body(cat({"1c\r\n", head11, "\r\n0\r\n\r\n"})),
           {get, head}),
        ok("data_of_any_bytes", body("8\r\n\0\r\n\n\r\x01\xff \r\n0\r\n\r\n"sv), {get, head}),
        bad("size_missing", body("\r\nhello\r\n0\r\n\r\n")),
        bad("size_only_extension", body(";a\r\nhello\r\n0\r\n\r\n")),
        bad("size_not_hex", body("g\r\nhello\r\n0\r\n\r\n")),
        bad("size_minus", body("-5\r\nhello\r\n0\r\n\r\n")),
        bad("size_plus", body("+5\r\nhello\r\n0\r\n\r\n")),
        bad("size_hex_prefix", body("0x5\r\nhello\r\n0\r\n\r\n")),
        bad("size_leading_space", body(" 5\r\nhello\r\n0\r\n\r\n")),
        bad("size_with_nul", body("5\0\r\nhello\r\n0\r\n\r\n"sv)),
        bad("size_seventeen_digits", body("10000000000000000\r\nhello\r\n0\r\n\r\n")),
        bad("size_overflows", body("FFFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n")),
        bad("data_too_long", body("5\r\nhelloX\r\n0\r\n\r\n")),
        bad("data_too_short", body("5\r\nhell\r\n0\r\n\r\n")),
        bad("size_bare_lf", body("5\nhello\r\n0\r\n\r\n")),
        bad("data_bare_lf", body("5\r\nhello\n0\r\n\r\n")),
        bad("size_bare_cr", body("5\rhello\r\n0\r\n\r\n")),
        bad("data_bare_cr", body("5\r\nhello\rX0\r\n\r\n")),
        bad("extension_bare_lf", body("5;a=b\nhello\r\n0\r\n\r\n")),
        bad("last_chunk_bare_lf", body("0\n\r\n")),
        bad("last_chunk_then_bare_lf", body("0\r\n\n")),
        bad("trailer_bare_lf", body("0\r\nT: 1\n\r\n")),
        bad("trailer_section_bare_lf", body("0\r\nT: 1\r\n\n")),
        bad("trailer_empty_name", body("0\r\n: 1\r\n\r\n")),
        bad("trailer_fold", body("0\r\n T: 1\r\n\r\n")),
        bad("trailer_space_before_colon", body("0\r\nT : 1\r\n\r\n")),
        bad("trailer_control", body("0\r\nT: a\x01\r\n\r\n")),
        bad("trailer_without_colon", body("0\r\nT\r\n\r\n")),
        small(ok("data_at_body_limit",
                 body(cat({"40\r\n", std::string(64, 'x'), "\r\n24\r\n", std::string(36, 'y'),
                           "\r\n0\r\n\r\n"})),
                 {get, head})),
        // Each chunk within the limit, their total past it: "total of chunk data" → 413.
        small(fail("data_past_body_limit",
                   body(cat({"40\r\n", std::string(64, 'x'), "\r\n25\r\n", std::string(37, 'y'),
                             "\r\n0\r\n\r\n"})),
                   Verdict::content_too_large)),
        small(
            ok("trailers_at_count_limit", body("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), {get, head})),
        small(fail("trailers_past_count_limit", body(cat({"0\r\n", repeat("A: 1\r\n", 8), "\r\n"})),
                   Verdict::header_too_large)),
        small(ok("trailer_within_byte_limit",
                 body(cat({"0\r\nT: ", std::string(30, 't'), "\r\n\r\n"})), {get, head})),
        small(fail("trailer_past_byte_limit",
                   body(cat({"0\r\nT: ", std::string(400, 't'), "\r\n\r\n"})),
                   Verdict::header_too_large)),
    };
}

std::vector<Case> expect_cases() {
    return {
        ok("with_content_length",
           cat({get11("Expect: 100-continue\r\nContent-Length: 5\r\n", "hello"), head11}),
           {get_close}),
        ok("after_content_length",
           cat({get11("Content-Length: 5\r\nExpect: 100-continue\r\n", "hello"), head11}),
           {get_close}),
        ok("any_case",
           cat({get11("EXPECT: 100-CONTINUE\r\nContent-Length: 5\r\n", "hello"), head11}),
           {get_close}),
        ok("ows", cat({get11("Expect: \t100-Continue \r\nContent-Length: 5\r\n", "hello"), head11}),
           {get_close}),
        ok("body_never_read",
           cat({get11("Expect: 100-continue\r\nContent-Length: 5\r\n", "\x01\n\r\0x"sv),
                "garbage\n", head11}),
           {get_close}),
        ok("chunked_body_never_read",
           cat({post11("Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n",
                       "zz\r\nnot chunked\n"),
                head11}),
           {get_close}),
        ok("head",
           cat({request("HEAD / HTTP/1.1",
                        "Host: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n", "hello"),
                head11}),
           {head_close}),
        ok("http_1_0_keep_alive",
           cat({request("GET / HTTP/1.0",
                        "Connection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 5\r\n",
                        "hello"),
                head11}),
           {get_close}),
        ok("ignored_without_body", cat({get11("Expect: 100-continue\r\n"), head11}), {get, head}),
        ok("ignored_with_zero_length",
           cat({get11("Expect: 100-continue\r\nContent-Length: 0\r\n"), head11}), {get, head}),
        ok("other_value_ignored",
           cat({get11("Expect: foo\r\nContent-Length: 5\r\n", "hello"), head11}), {get, head}),
        ok("100_continuex_ignored",
           cat({get11("Expect: 100-continuex\r\nContent-Length: 5\r\n", "hello"), head11}),
           {get, head}),
    };
}

std::vector<Case> limit_cases() {
    const auto uri_414 = Verdict::uri_too_long;
    const auto header_431 = Verdict::header_too_large;
    return {
        small(ok("request_line_within_limit",
                 cat({request(request_line_of(90), "Host: a\r\n"), head11}), {get, head})),
        small(
            fail("request_line_past_limit", request(request_line_of(110), "Host: a\r\n"), uri_414)),
        small(fail("request_line_past_limit_unterminated", cat({"GET /", std::string(1000, 'a')}),
                   uri_414)),
        fail("request_line_past_default_limit", request(request_line_of(8'300), "Host: a\r\n"),
             uri_414),
        // 92 + 9 + 175 + 2 = 278 bytes, of 300.
        small(ok("header_section_within_limit",
                 cat({request(request_line_of(90),
                              cat({"Host: a\r\nX: ", std::string(170, 'x'), "\r\n"})),
                      head11}),
                 {get, head})),
        // 92 + 9 + 220 + 2 = 323 bytes: past 300 only if the request line counts.
        small(fail(
            "header_section_past_limit",
            request(request_line_of(90), cat({"Host: a\r\nX: ", std::string(215, 'x'), "\r\n"})),
            header_431)),
        small(fail("header_section_past_limit_unterminated",
                   cat({"GET / HTTP/1.1\r\nHost: a\r\nX: ", std::string(1000, 'x')}), header_431)),
        fail("header_section_past_default_limit",
             get11(cat({"X: ", std::string(17'000, 'x'), "\r\n"})), header_431),
        small(ok("field_lines_at_limit", cat({get11("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n"), head11}),
                 {get, head})),
        small(fail("field_lines_past_limit", get11("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"),
                   header_431)),
        fail("field_lines_past_default_limit", get11(repeat("A: 1\r\n", 110)), header_431),
        ok("field_lines_at_default_limit", cat({get11(repeat("A: 1\r\n", 99)), head11}),
           {get, head}),
    };
}

class FramerCase : public testing::TestWithParam<Case> {};

// Whole, one byte at a time, and cut at every point (at 128 points for long inputs): the same.
TEST_P(FramerCase, FramesTheSameWhereverCut) {
    const Case& test_case = GetParam();
    const Limits& limits = *test_case.limits;
    const Runs expected = runs_of(test_case.kinds);

    const Outcome whole = frame_whole(limits, test_case.bytes);
    EXPECT_EQ(whole.verdict, test_case.verdict);
    EXPECT_EQ(whole.runs, expected);
    EXPECT_LE(whole.verdicts_not_fine, 1);
    const bool closes = test_case.verdict != Verdict::fine ||
                        (!test_case.kinds.empty() && closes_after(test_case.kinds.back()));
    EXPECT_EQ(whole.ended, closes);
    if (!closes) {
        EXPECT_TRUE(whole.between_requests);
    }

    const Outcome bytewise = frame(limits, test_case.bytes, every_byte(test_case.bytes.size()));
    EXPECT_EQ(bytewise.verdict, test_case.verdict) << "fed one byte at a time";
    EXPECT_EQ(bytewise.runs, expected) << "fed one byte at a time";
    EXPECT_LE(bytewise.verdicts_not_fine, 1) << "fed one byte at a time";

    const std::size_t step = test_case.bytes.size() <= 1'000 ? 1 : test_case.bytes.size() / 128;
    for (std::size_t cut = 0; cut <= test_case.bytes.size(); cut += step) {
        const Outcome two = frame(limits, test_case.bytes, {cut});
        ASSERT_EQ(two.verdict, test_case.verdict) << "cut at " << cut;
        ASSERT_EQ(two.runs, expected) << "cut at " << cut;
        ASSERT_LE(two.verdicts_not_fine, 1) << "cut at " << cut;
    }
}

// After an error, or a request whose answer closes, nothing more is framed.
TEST_P(FramerCase, IgnoresEverythingAfterTheEnd) {
    const Case& test_case = GetParam();
    const bool closes = test_case.verdict != Verdict::fine ||
                        (!test_case.kinds.empty() && closes_after(test_case.kinds.back()));
    if (!closes) return;
    Framer framer{*test_case.limits};
    Owed owed;
    EXPECT_EQ(framer.feed(test_case.bytes, owed), test_case.verdict);
    EXPECT_TRUE(framer.ended());
    const std::uint64_t total = owed.total();
    EXPECT_EQ(framer.feed(get11(""), owed), Verdict::fine);
    EXPECT_EQ(framer.feed("\0\n\r garbage\r\n\r\n"sv, owed), Verdict::fine);
    EXPECT_EQ(framer.feed(cat({"GET / HTTP/1.1\r\n", std::string(20'000, 'x')}), owed),
              Verdict::fine);
    EXPECT_EQ(owed.total(), total);
    EXPECT_TRUE(framer.ended());
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
    return info.param.name;
}

INSTANTIATE_TEST_SUITE_P(RequestLine, FramerCase, testing::ValuesIn(request_line_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Version, FramerCase, testing::ValuesIn(version_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Target, FramerCase, testing::ValuesIn(target_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Lines, FramerCase, testing::ValuesIn(line_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Field, FramerCase, testing::ValuesIn(field_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Connection, FramerCase, testing::ValuesIn(connection_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Host, FramerCase, testing::ValuesIn(host_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(ContentLength, FramerCase, testing::ValuesIn(content_length_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(TransferEncoding, FramerCase, testing::ValuesIn(transfer_encoding_cases()),
                         case_name);
INSTANTIATE_TEST_SUITE_P(Chunked, FramerCase, testing::ValuesIn(chunked_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Expect, FramerCase, testing::ValuesIn(expect_cases()), case_name);
INSTANTIATE_TEST_SUITE_P(Limit, FramerCase, testing::ValuesIn(limit_cases()), case_name);

// ---------------------------------------------------------------------------------------------
// Rules that need a look at the state in the middle of a stream.

TEST(Framer, AnswersTooLargeContentLengthAtTheEndOfTheHeaderSection) {
    Framer framer{small_limits};
    Owed owed;
    EXPECT_EQ(framer.feed(get11("Content-Length: 101\r\n"), owed), Verdict::content_too_large);
    EXPECT_EQ(drain(owed), (Runs{{Kind::error_413, 1}}));
    EXPECT_TRUE(framer.ended());
}

TEST(Framer, AnswersExpectAtTheEndOfTheHeaderSection) {
    for (const std::string_view framing :
         {"Content-Length: 5\r\n"sv, "Transfer-Encoding: chunked\r\n"sv}) {
        Framer framer{standard_limits};
        Owed owed;
        EXPECT_EQ(framer.feed(post11(cat({"Expect: 100-continue\r\n", framing}), ""), owed),
                  Verdict::fine)
            << framing;
        EXPECT_EQ(drain(owed), (Runs{{get_close, 1}})) << framing;
        EXPECT_TRUE(framer.ended()) << framing;
    }
}

TEST(Framer, AnswersLongRequestLineBeforeItEnds) {
    Framer framer{standard_limits};
    Owed owed;
    const std::string line = cat({"GET /", std::string(20'000, 'a')});
    EXPECT_EQ(framer.feed(line, owed), Verdict::uri_too_long);
    EXPECT_EQ(drain(owed), (Runs{{Kind::error_414, 1}}));
}

TEST(Framer, AnswersLongHeaderSectionBeforeItEnds) {
    Framer framer{standard_limits};
    Owed owed;
    std::string section = "GET / HTTP/1.1\r\nHost: a\r\n";
    while (section.size() < 40'000) section += "X-Filler: 0123456789abcdef\r\n";
    EXPECT_EQ(framer.feed(section, owed), Verdict::header_too_large);
    EXPECT_EQ(drain(owed), (Runs{{Kind::error_431, 1}}));
}

TEST(Framer, SkipsALargeBodyFedInPieces) {
    Limits limits;
    limits.body_bytes_max = 4u << 20;
    Framer framer{limits};
    Owed owed;
    ASSERT_EQ(framer.feed(get11("Content-Length: 4194304\r\n"), owed), Verdict::fine);
    const std::string piece(4'096, 'G');
    for (int i = 0; i < 1'023; ++i) {
        ASSERT_EQ(framer.feed(piece, owed), Verdict::fine);
        ASSERT_TRUE(owed.empty()) << "piece " << i;
        ASSERT_FALSE(framer.between_requests()) << "piece " << i;
    }
    ASSERT_EQ(framer.feed(piece, owed), Verdict::fine);  // the body's last byte
    EXPECT_TRUE(framer.between_requests());
    EXPECT_EQ(framer.feed(head11, owed), Verdict::fine);
    EXPECT_EQ(drain(owed), (Runs{{get, 1}, {head, 1}}));
}

TEST(Framer, StartsBetweenRequestsAndNotEnded) {
    Framer framer{standard_limits};
    EXPECT_TRUE(framer.between_requests());
    EXPECT_FALSE(framer.ended());
    Owed owed;
    EXPECT_EQ(framer.feed("", owed), Verdict::fine);
    EXPECT_TRUE(framer.between_requests());
    EXPECT_TRUE(owed.empty());
}

TEST(Framer, IsBetweenRequestsOnlyWithoutAPartialRequest) {
    const std::string stream = cat({get11(""), get11("Content-Length: 5\r\n", "hello"),
                                    chunked("5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n"), head11});
    // The ends of the four requests.
    const std::size_t first = get11("").size();
    const std::size_t second = first + get11("Content-Length: 5\r\n", "hello").size();
    const std::size_t third = second + chunked("5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n").size();
    Framer framer{standard_limits};
    Owed owed;
    for (std::size_t index = 0; index < stream.size(); ++index) {
        ASSERT_EQ(framer.feed(stream.substr(index, 1), owed), Verdict::fine);
        const std::size_t fed = index + 1;
        const bool between = fed == first || fed == second || fed == third || fed == stream.size();
        EXPECT_EQ(framer.between_requests(), between) << "after " << fed << " bytes";
        EXPECT_FALSE(framer.ended()) << "after " << fed << " bytes";
    }
    EXPECT_EQ(drain(owed), (Runs{{get, 3}, {head, 1}}));
}

TEST(Framer, EndsAfterAClosingRequest) {
    Framer framer{standard_limits};
    Owed owed;
    EXPECT_EQ(framer.feed(get11(""), owed), Verdict::fine);
    EXPECT_FALSE(framer.ended());
    EXPECT_EQ(framer.feed(get11("Connection: close\r\n"), owed), Verdict::fine);
    EXPECT_TRUE(framer.ended());
    EXPECT_EQ(framer.feed(get11(""), owed), Verdict::fine);
    EXPECT_EQ(drain(owed), (Runs{{get, 1}, {get_close, 1}}));
}

TEST(Framer, ResetStartsOverAfterAnError) {
    Framer framer{standard_limits};
    Owed owed;
    EXPECT_EQ(framer.feed("GET / HTTP/1.1\r\n\r\n", owed), Verdict::bad_request);
    EXPECT_TRUE(framer.ended());
    EXPECT_EQ(drain(owed), (Runs{{Kind::error_400, 1}}));  // a new connection: a new queue
    framer.reset();
    EXPECT_FALSE(framer.ended());
    EXPECT_TRUE(framer.between_requests());
    EXPECT_EQ(framer.feed(head11, owed), Verdict::fine);
    EXPECT_EQ(drain(owed), (Runs{{head, 1}}));
}

// "Total of chunk data past body_bytes_max → 413"; one chunk-size alone past it may be called an
// overflow (400) or too large (413): either ends the stream.
TEST(Framer, RefusesOneChunkLargerThanTheBodyLimit) {
    for (const std::string_view size : {"65"sv, "FFFFFFFFFFFFFFFF"sv}) {
        const std::string stream =
            cat({chunked(cat({size, "\r\n", std::string(200, 'x'), "\r\n0\r\n\r\n"})), head11});
        const Outcome outcome = frame_whole(small_limits, stream);
        EXPECT_TRUE(outcome.verdict == Verdict::content_too_large ||
                    outcome.verdict == Verdict::bad_request)
            << size << ": " << outcome.verdict;
        ASSERT_EQ(outcome.runs.size(), 1u) << size;
        EXPECT_EQ(outcome.runs[0].first, error_kind(outcome.verdict)) << size;
        EXPECT_TRUE(outcome.ended) << size;
    }
}

// ---------------------------------------------------------------------------------------------
// Pipelining: one ~260-byte stream of every framing, cut every way.

const std::string& pipeline() {
    static const std::string stream = cat({
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3;x=\"y\"\r\nGET\r\n2;z\r\n\r\n\r\n0\r\nT: 1\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "GET /f",  // after the close: ignored
    });
    return stream;
}
const Runs pipeline_runs = {{get, 2}, {head, 1}, {get_keep_alive, 1}, {get_close, 1}};

TEST(FramerPipeline, Whole) {
    const Outcome outcome = frame_whole(standard_limits, pipeline());
    EXPECT_EQ(outcome.verdict, Verdict::fine);
    EXPECT_EQ(outcome.runs, pipeline_runs);
    EXPECT_TRUE(outcome.ended);
}

TEST(FramerPipeline, CutAtEveryPoint) {
    for (std::size_t cut = 0; cut <= pipeline().size(); ++cut) {
        const Outcome outcome = frame(standard_limits, pipeline(), {cut});
        ASSERT_EQ(outcome.verdicts_not_fine, 0) << "cut at " << cut;
        ASSERT_EQ(outcome.runs, pipeline_runs) << "cut at " << cut;
    }
}

// Lean on purpose (no allocation, no gtest macro per pair): ~40,000 three-piece feeds.
bool frames_to_pipeline_runs(std::string_view bytes, std::size_t first, std::size_t second) {
    Framer framer{standard_limits};
    Owed owed;
    if (framer.feed(bytes.substr(0, first), owed) != Verdict::fine) return false;
    if (framer.feed(bytes.substr(first, second - first), owed) != Verdict::fine) return false;
    if (framer.feed(bytes.substr(second), owed) != Verdict::fine) return false;
    if (owed.total() != 5) return false;
    for (const Run& run : pipeline_runs) {
        if (owed.empty() || owed.front_kind() != run.first || owed.front_count() != run.second) {
            return false;
        }
        owed.pop(run.second);
    }
    return owed.empty() && framer.ended();
}

TEST(FramerPipeline, CutAtEveryPairOfPoints) {
    const std::string_view stream = pipeline();
    for (std::size_t first = 0; first <= stream.size(); ++first) {
        for (std::size_t second = first; second <= stream.size(); ++second) {
            if (frames_to_pipeline_runs(stream, first, second)) continue;
            const Outcome outcome = frame(standard_limits, stream, {first, second});
            EXPECT_EQ(outcome.verdict, Verdict::fine);
            EXPECT_EQ(outcome.runs, pipeline_runs);
            FAIL() << "cut at " << first << " and " << second;
        }
    }
}

TEST(FramerPipeline, OneByteAtATime) {
    const Outcome outcome = frame(standard_limits, pipeline(), every_byte(pipeline().size()));
    EXPECT_EQ(outcome.verdicts_not_fine, 0);
    EXPECT_EQ(outcome.runs, pipeline_runs);
}

TEST(FramerPipeline, RandomPiecesFromAFixedSeed) {
    std::mt19937 random(20'240'917);
    std::uniform_int_distribution<std::size_t> piece_bytes(0, 40);
    for (int round = 0; round < 500; ++round) {
        std::vector<std::size_t> cuts;
        for (std::size_t at = piece_bytes(random); at < pipeline().size();
             at += piece_bytes(random)) {
            cuts.push_back(at);
        }
        const Outcome outcome = frame(standard_limits, pipeline(), cuts);
        ASSERT_EQ(outcome.verdicts_not_fine, 0) << "round " << round;
        ASSERT_EQ(outcome.runs, pipeline_runs) << "round " << round;
    }
}

TEST(FramerPipeline, EndingInAnErrorCutAtEveryPoint) {
    const std::string stream = cat({get11(""), chunked("5\r\nhello\r\n0\r\n\r\n"), head11, "\r\n",
                                    "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", head11});
    const Runs expected = {{get, 2}, {head, 1}, {Kind::error_400, 1}};
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        const Outcome outcome = frame(standard_limits, stream, {cut});
        ASSERT_EQ(outcome.verdict, Verdict::bad_request) << "cut at " << cut;
        ASSERT_EQ(outcome.verdicts_not_fine, 1) << "cut at " << cut;
        ASSERT_EQ(outcome.runs, expected) << "cut at " << cut;
    }
}

TEST(FramerPipeline, TenThousandGetsInOneFeed) {
    const std::string stream = repeat(get11(""), 10'000);
    Framer framer{standard_limits};
    Owed owed;
    EXPECT_EQ(framer.feed(stream, owed), Verdict::fine);
    EXPECT_EQ(owed.count(get), 10'000u);
    EXPECT_EQ(owed.total(), 10'000u);
    EXPECT_EQ(owed.front_kind(), get);
    EXPECT_EQ(owed.front_count(), 10'000u);
    EXPECT_TRUE(framer.between_requests());
    EXPECT_EQ(drain(owed), (Runs{{get, 10'000}}));
}

// ---------------------------------------------------------------------------------------------
// Over-reads: every input ends exactly at a PROT_NONE page, whole and cut at every length.

TEST(FramerGuardPage, NeverReadsPastTheBytes) {
    const auto page_bytes = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    void* mapped =
        mmap(nullptr, 2 * page_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(mapped, MAP_FAILED);
    char* const guard = static_cast<char*>(mapped) + page_bytes;
    ASSERT_EQ(mprotect(guard, page_bytes, PROT_NONE), 0);
    const auto place = [guard](std::string_view bytes) {
        std::memcpy(guard - bytes.size(), bytes.data(), bytes.size());
        return std::string_view(guard - bytes.size(), bytes.size());
    };

    const std::vector<std::string> inputs = {
        pipeline(),
        get11(""),
        cat({"\r\n\r\n", head11}),
        chunked("5;a=\"b\"\r\nhello\r\n0\r\nT: 1\r\n\r\n"),
        get11("Content-Length: 5\r\n", "hello"),
        request("GET / HTTP/1.0", "Connection: keep-alive\r\n"),
        request("GET / HTTP/1.1", ""),                      // no Host
        request("GET / HTTP/2.0", "Host: a\r\n"),           // 505
        request("GET / HTTP/1.", "Host: a\r\n"),            // malformed version
        "GET / HTTP/1.1\r\nHost: a\r",                      // ends after a CR
        "GET / HTTP/1.1\rX",                                // bare CR
        get11("Content-Length: 5, 6\r\n"),                  // differing lengths
        chunked("FFFFFFFFFFFFFFFFF\r\n"),                   // overflowing chunk size
        chunked("5\r\nhelloXY"),                            // no CRLF after the data
        cat({"GET /", std::string(90, 'a')}),               // a partial request line
        cat({"GET /", std::string(200, 'a')}),              // 414 (small limits)
        get11("A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"),  // 431 (small limits)
    };
    for (const std::string& input : inputs) {
        ASSERT_LE(input.size(), page_bytes);
        Framer whole_framer{small_limits};
        Owed whole_owed;
        const Verdict whole = whole_framer.feed(place(input), whole_owed);
        const Runs expected = drain(whole_owed);
        for (std::size_t cut = 0; cut <= input.size(); ++cut) {
            Framer framer{small_limits};
            Owed owed;
            const Verdict first = framer.feed(place(std::string_view(input).substr(0, cut)), owed);
            const Verdict second = framer.feed(place(std::string_view(input).substr(cut)), owed);
            ASSERT_EQ(first == Verdict::fine ? second : first, whole) << "cut at " << cut;
            ASSERT_EQ(drain(owed), expected) << "cut at " << cut;
        }
    }
    munmap(mapped, 2 * page_bytes);
}

// ---------------------------------------------------------------------------------------------
// No allocation while framing (STYLE §5).

TEST(FramerAllocation, CountingSeesOperatorNew) {
    counting_news = true;
    news_counted = 0;
    void* pointer = ::operator new(16);
    counting_news = false;
    ::operator delete(pointer);
    EXPECT_EQ(news_counted, 1u);
}

TEST(FramerAllocation, FramesThousandsOfRequestsWithoutAllocating) {
    const std::string keep_alive_part = cat({
        "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "3;x=\"y\"\r\nGET\r\n0\r\nT: 1\r\n\r\n",
        "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    });
    const std::string stream = repeat(keep_alive_part, 2'000);
    const std::vector<std::string> errors = {
        request("GET / HTTP/1.1", ""),
        request("GET / HTTP/2.0", "Host: a\r\n"),
        get11("Content-Length: 5, 6\r\n"),
        chunked("5\r\nhelloXY"),
        cat({"GET /", std::string(9'000, 'a')}),
        get11(repeat("A: 1\r\n", 200)),
        get11("Content-Length: 999999999999\r\n"),
    };
    std::uint64_t answered = 0;
    int verdicts_not_fine = 0;
    int errors_answered = 0;

    news_counted = 0;
    counting_news = true;
    {
        Framer framer{standard_limits};
        Owed owed;
        for (std::size_t at = 0; at < stream.size(); at += 7) {
            if (framer.feed(std::string_view(stream).substr(at, 7), owed) != Verdict::fine) {
                ++verdicts_not_fine;
            }
            answered += owed.total();
            while (!owed.empty()) owed.pop(owed.front_count());
        }
        for (const std::string& error : errors) {
            for (std::size_t piece = 1; piece <= 5; piece += 4) {
                Framer failing{standard_limits};
                for (std::size_t at = 0; at < error.size(); at += piece) {
                    (void)failing.feed(std::string_view(error).substr(at, piece), owed);
                }
                if (!owed.empty() && is_error(owed.front_kind())) ++errors_answered;
                owed.clear();
            }
        }
    }
    counting_news = false;

    EXPECT_EQ(news_counted, 0u);
    EXPECT_EQ(verdicts_not_fine, 0);
    EXPECT_EQ(answered, 4u * 2'000u);
    EXPECT_EQ(errors_answered, static_cast<int>(2 * errors.size()));
}

// ---------------------------------------------------------------------------------------------
// Owed: the run-length queue of what a connection owes.

TEST(Owed, StartsEmpty) {
    Owed owed;
    EXPECT_TRUE(owed.empty());
    EXPECT_EQ(owed.total(), 0u);
    for (std::size_t kind = 0; kind < kind_count; ++kind) {
        EXPECT_EQ(owed.count(static_cast<Kind>(kind)), 0u);
    }
}

TEST(Owed, MergesTheSameKindIntoOneRun) {
    Owed owed;
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(owed.push(get));
    EXPECT_FALSE(owed.empty());
    EXPECT_EQ(owed.front_kind(), get);
    EXPECT_EQ(owed.front_count(), 5u);
    EXPECT_EQ(owed.total(), 5u);
    EXPECT_EQ(owed.count(get), 5u);
    EXPECT_EQ(owed.count(head), 0u);
    ASSERT_TRUE(owed.push(head));
    ASSERT_TRUE(owed.push(head));
    ASSERT_TRUE(owed.push(get));
    EXPECT_EQ(owed.front_count(), 5u);
    EXPECT_EQ(owed.count(get), 6u);
    EXPECT_EQ(owed.count(head), 2u);
    EXPECT_EQ(owed.total(), 8u);
    EXPECT_EQ(drain(owed), (Runs{{get, 5}, {head, 2}, {get, 1}}));
}

// get and get_keep_alive are of different families: each change of kind takes a run.
TEST(Owed, HoldsRunsMaxRunsAndRefusesOneMore) {
    Owed owed;
    for (std::uint32_t run = 0; run < Owed::runs_max; ++run) {
        ASSERT_TRUE(owed.push(run % 2 == 0 ? get : get_keep_alive)) << "run " << run;
    }
    EXPECT_FALSE(owed.push(get));  // the last run is get_keep_alive: one run too many
    EXPECT_EQ(owed.total(), Owed::runs_max);
    EXPECT_EQ(owed.count(get), Owed::runs_max / 2);
    EXPECT_TRUE(owed.push(get_keep_alive));  // merges into the last run
    EXPECT_EQ(owed.total(), Owed::runs_max + 1);
    Runs expected;
    for (std::uint32_t run = 0; run < Owed::runs_max; ++run) {
        expected.emplace_back(run % 2 == 0 ? get : get_keep_alive, 1);
    }
    expected.back().second = 2;
    EXPECT_TRUE(owed.push(Kind::error_400));  // the closing answer needs no run
    EXPECT_FALSE(owed.push(get_keep_alive));   // and nothing is owed after it
    expected.emplace_back(Kind::error_400, 1);
    EXPECT_EQ(drain(owed), expected);
}

// GET and HEAD of one family share a run, 32 answers to a run, in their order.
TEST(Owed, MixesGetAndHeadOfOneFamilyInARun) {
    Owed owed;
    std::vector<Kind> pushed;
    for (std::uint32_t i = 0; i < Owed::runs_max * Owed::mixed_max; ++i) {
        const Kind kind = i % 3 == 2 ? head : get;
        ASSERT_TRUE(owed.push(kind)) << "answer " << i;
        pushed.push_back(kind);
    }
    EXPECT_FALSE(owed.push(get_keep_alive));  // every run is full
    ASSERT_TRUE(owed.push(head_close));       // but the closing answer fits
    pushed.push_back(head_close);
    const std::size_t mixed = Owed::runs_max * Owed::mixed_max;
    EXPECT_EQ(owed.count(head), mixed / 3);
    EXPECT_EQ(owed.count(get), mixed - mixed / 3);
    std::vector<Kind> popped;
    while (!owed.empty()) {
        const std::uint32_t count = owed.front_count();
        ASSERT_GT(count, 0u);
        for (std::uint32_t i = 0; i < count; ++i) popped.push_back(owed.front_kind());
        owed.pop(count);
    }
    EXPECT_EQ(popped, pushed);
    EXPECT_EQ(owed.total(), 0u);
}

TEST(Owed, MixesOnlyWithinAFamily) {
    Owed owed;
    ASSERT_TRUE(owed.push(get));
    ASSERT_TRUE(owed.push(head_keep_alive));  // another family: another run
    ASSERT_TRUE(owed.push(get_keep_alive));
    ASSERT_TRUE(owed.push(head_close));
    EXPECT_EQ(drain(owed), (Runs{{get, 1}, {head_keep_alive, 1}, {get_keep_alive, 1},
                                 {head_close, 1}}));
}

TEST(Owed, PopsPartOfARunThenTheNext) {
    Owed owed;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(owed.push(get));
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(owed.push(head_keep_alive));
    owed.pop(2);
    EXPECT_EQ(owed.front_kind(), get);
    EXPECT_EQ(owed.front_count(), 1u);
    EXPECT_EQ(owed.total(), 3u);
    EXPECT_EQ(owed.count(get), 1u);
    owed.pop(1);
    EXPECT_EQ(owed.front_kind(), head_keep_alive);
    EXPECT_EQ(owed.front_count(), 2u);
    EXPECT_EQ(owed.total(), 2u);
    EXPECT_EQ(owed.count(get), 0u);
    owed.pop(1);
    EXPECT_EQ(owed.front_count(), 1u);
    owed.pop(1);
    EXPECT_TRUE(owed.empty());
    EXPECT_EQ(owed.total(), 0u);
}

TEST(Owed, StartsAFreshRunAfterEmptying) {
    Owed owed;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(owed.push(get));
    owed.pop(3);
    ASSERT_TRUE(owed.empty());
    ASSERT_TRUE(owed.push(get));
    EXPECT_EQ(owed.front_count(), 1u);
    EXPECT_EQ(owed.total(), 1u);
    EXPECT_EQ(owed.count(get), 1u);
}

TEST(Owed, MergesOnlyWithTheLastRunAfterPopping) {
    Owed owed;
    ASSERT_TRUE(owed.push(get));
    ASSERT_TRUE(owed.push(head));
    owed.pop(1);
    ASSERT_TRUE(owed.push(head));
    ASSERT_TRUE(owed.push(get));
    EXPECT_EQ(drain(owed), (Runs{{head, 2}, {get, 1}}));
}

TEST(Owed, ReusesRunsAsTheyArePopped) {
    Owed owed;
    std::vector<Kind> pushed;
    // Cycle through the kinds that take runs so a run's kind is stored, not guessed; no GET is
    // followed by the HEAD of its family, which would share its run.
    constexpr Kind order[] = {get, get_keep_alive, head, head_keep_alive};
    const auto nth = [&](std::uint32_t n) { return order[n % 4]; };
    for (std::uint32_t run = 0; run < Owed::runs_max; ++run) {
        const auto kind = nth(run);
        ASSERT_TRUE(owed.push(kind));
        pushed.push_back(kind);
    }
    std::size_t front = 0;
    for (std::uint32_t step = 0; step < 200; ++step) {
        const auto kind = nth(Owed::runs_max + step);
        ASSERT_FALSE(owed.push(kind)) << "step " << step;
        ASSERT_EQ(owed.front_kind(), pushed[front]) << "step " << step;
        ASSERT_EQ(owed.front_count(), 1u) << "step " << step;
        owed.pop(1);
        ++front;
        ASSERT_TRUE(owed.push(kind)) << "step " << step;
        pushed.push_back(kind);
        ASSERT_EQ(owed.total(), Owed::runs_max) << "step " << step;
    }
    for (std::uint32_t run = 0; run < Owed::runs_max; ++run, ++front) {
        ASSERT_EQ(owed.front_kind(), pushed[front]);
        owed.pop(1);
    }
    EXPECT_TRUE(owed.empty());
}

// A drain's last answer: the newest owed takes its closing form, in place, and ends the queue.
TEST(Owed, CloseNewestGivesTheNewestAnswerItsClosingForm) {
    Owed uniform;
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(uniform.push(get));
    EXPECT_TRUE(uniform.close_newest());
    EXPECT_EQ(uniform.total(), 3u);
    EXPECT_FALSE(uniform.push(get));      // nothing is owed after the closing answer
    EXPECT_FALSE(uniform.close_newest());  // nor closed twice
    EXPECT_EQ(drain(uniform), (Runs{{get, 2}, {get_close, 1}}));

    Owed mixed;  // the newest of a mixed run: its own kind's form, HEAD or GET
    for (const Kind kind : {get, head, get, head}) ASSERT_TRUE(mixed.push(kind));
    EXPECT_TRUE(mixed.close_newest());
    EXPECT_EQ(drain(mixed), (Runs{{get, 1}, {head, 1}, {get, 1}, {head_close, 1}}));
    for (const Kind kind : {head, get, head, get}) ASSERT_TRUE(mixed.push(kind));
    EXPECT_TRUE(mixed.close_newest());
    EXPECT_EQ(drain(mixed), (Runs{{head, 1}, {get, 1}, {head, 1}, {get_close, 1}}));

    Owed one;  // HTTP/1.0 keep-alive, alone, on a route of its own
    ASSERT_TRUE(one.push(head_keep_alive, 3));
    EXPECT_TRUE(one.close_newest());
    EXPECT_EQ(one.front_kind(), head_close);
    EXPECT_EQ(one.front_route(), 3);
    EXPECT_EQ(drain(one), (Runs{{head_close, 1}}));

    Owed none;
    EXPECT_FALSE(none.close_newest());
    ASSERT_TRUE(none.push(get_close));  // closes already
    EXPECT_FALSE(none.close_newest());
    EXPECT_EQ(drain(none), (Runs{{get_close, 1}}));
}

// What a batch in flight took from the run stays owed: only an answer pushed after it closes.
TEST(Owed, CloseNewestLeavesTheFrontOfARunInFlight) {
    Owed owed;
    ASSERT_TRUE(owed.push(get));
    ASSERT_TRUE(owed.push(get));
    const std::uint32_t in_flight = owed.front_count();  // a batch of 2 taken
    ASSERT_TRUE(owed.push(get));                          // framed while it was sent
    EXPECT_TRUE(owed.close_newest());
    EXPECT_EQ(owed.front_count(), in_flight);
    owed.pop(in_flight);
    EXPECT_EQ(drain(owed), (Runs{{get_close, 1}}));
}

TEST(Owed, ClearEmpties) {
    Owed owed;
    ASSERT_TRUE(owed.push(get));
    ASSERT_TRUE(owed.push(head));
    owed.clear();
    EXPECT_TRUE(owed.empty());
    EXPECT_EQ(owed.total(), 0u);
    EXPECT_EQ(owed.count(get), 0u);
}

// The framer stops when the queue cannot take another kind: owed_full, no answer. HTTP/1.1
// GETs alternating with HTTP/1.0 keep-alive GETs change family at every request.
std::string alternating_families(std::size_t requests) {
    std::string stream;
    for (std::size_t index = 0; index < requests; ++index) {
        stream += index % 2 == 0 ? get11("") : "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    }
    return stream;
}

TEST(FramerOwed, RunsMaxAlternatingRequestsFit) {
    Framer framer{standard_limits};
    Owed owed;
    EXPECT_EQ(framer.feed(alternating_families(Owed::runs_max), owed), Verdict::fine);
    EXPECT_EQ(owed.total(), Owed::runs_max);
    EXPECT_EQ(framer.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", owed),
              Verdict::fine);  // merges with the last run
    EXPECT_EQ(owed.total(), Owed::runs_max + 1);
}

TEST(FramerOwed, AThousandAlternatingGetsAndHeadsFit) {
    Framer framer{standard_limits};
    Owed owed;
    std::string stream;
    for (int i = 0; i < 1024; ++i) stream += i % 2 == 0 ? get11("") : std::string(head11);
    EXPECT_EQ(framer.feed(stream, owed), Verdict::fine);
    EXPECT_EQ(owed.count(get), 512u);
    EXPECT_EQ(owed.count(head), 512u);
}

TEST(FramerOwed, OneAlternatingRequestTooManyInOneFeedIsOwedFull) {
    Framer framer{standard_limits};
    Owed owed;
    EXPECT_EQ(framer.feed(alternating_families(Owed::runs_max + 4), owed), Verdict::owed_full);
    EXPECT_EQ(owed.total(), Owed::runs_max);
    EXPECT_EQ(owed.count(get), Owed::runs_max / 2);
    EXPECT_EQ(owed.count(get_keep_alive), Owed::runs_max / 2);
    EXPECT_TRUE(framer.ended());
    EXPECT_EQ(framer.feed(get11(""), owed), Verdict::fine);
    EXPECT_EQ(owed.total(), Owed::runs_max);
}

TEST(FramerOwed, OneAlternatingRequestTooManyFedAloneIsOwedFull) {
    Framer framer{standard_limits};
    Owed owed;
    const std::string one = alternating_families(2);
    const std::string first = one.substr(0, one.find("GET", 1));
    const std::string second = one.substr(first.size());
    for (std::size_t index = 0; index < Owed::runs_max; ++index) {
        ASSERT_EQ(framer.feed(index % 2 == 0 ? first : second, owed), Verdict::fine)
            << "request " << index;
    }
    EXPECT_EQ(framer.feed(first, owed), Verdict::owed_full);
    EXPECT_EQ(owed.total(), Owed::runs_max);
}

}  // namespace

// ---- Routes: the path picks the answer, matched as it streams past ----------------------------

namespace {

Routes sorted_routes(std::initializer_list<std::string_view> paths, std::string_view health = {}) {
    Routes routes;
    for (const std::string_view path : paths) routes.paths[routes.count++] = path;
    std::sort(routes.paths, routes.paths + routes.count);
    for (std::uint8_t i = 0; i < routes.count; ++i) {
        if (routes.paths[i] == health) routes.health = std::uint8_t(i + 1);
    }
    return routes;
}

// The route of each request, in order, whatever the cut.
std::vector<std::uint8_t> routes_of(const Routes& routes, std::string_view stream,
                                    std::size_t cut) {
    Framer framer{standard_limits, &routes};
    Owed owed;
    EXPECT_EQ(framer.feed(stream.substr(0, cut), owed), Verdict::fine);
    EXPECT_EQ(framer.feed(stream.substr(cut), owed), Verdict::fine);
    std::vector<std::uint8_t> found;
    while (!owed.empty()) {
        for (std::uint32_t i = 0; i < owed.front_count(); ++i) found.push_back(owed.front_route());
        owed.pop(owed.front_count());
    }
    return found;
}

std::string get_path(std::string_view target) {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n\r\n";
}

}  // namespace

TEST(FramerRoutes, MatchesWholePathsOnlyWhereverCut) {
    const Routes routes = sorted_routes({"/a", "/ab", "/abc", "/b", "/health"});
    // Sorted: /a=1, /ab=2, /abc=3, /b=4, /health=5.
    const std::string stream = get_path("/ab") + get_path("/a") + get_path("/abcd") +
                               get_path("/abc?x=1") + get_path("/") + get_path("/health") +
                               get_path("/b/") + get_path("http://a/ab") + get_path("/ABC");
    const std::vector<std::uint8_t> expected = {2, 1, 0, 3, 0, 5, 0, 0, 0};
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
        ASSERT_EQ(routes_of(routes, stream, cut), expected) << "cut " << cut;
    }
}

TEST(FramerRoutes, WithoutRoutesEverythingIsTheDefault) {
    Framer framer{standard_limits};
    Owed owed;
    ASSERT_EQ(framer.feed(get_path("/a") + get_path("/b"), owed), Verdict::fine);
    EXPECT_EQ(owed.front_route(), 0u);
    EXPECT_EQ(owed.front_count(), 2u);
}

TEST(FramerRoutes, KeepsRoutesApartInTheQueue) {
    const Routes routes = sorted_routes({"/x"});
    Framer framer{standard_limits, &routes};
    Owed owed;
    ASSERT_EQ(framer.feed(get_path("/") + get_path("/x") + get_path("/x") + get_path("/"), owed),
              Verdict::fine);
    std::vector<std::pair<std::uint8_t, std::uint32_t>> runs;  // (route, count)
    while (!owed.empty()) {
        EXPECT_EQ(owed.front_kind(), get);
        runs.emplace_back(owed.front_route(), owed.front_count());
        owed.pop(owed.front_count());
    }
    EXPECT_EQ(runs, (std::vector<std::pair<std::uint8_t, std::uint32_t>>{{0, 1}, {1, 2}, {0, 1}}));
}

TEST(FramerRoutes, DrainAnswersTheHealthRoute503AndLameDuckAnswersAll) {
    const Routes routes = sorted_routes({"/healthz", "/other"}, "/healthz");
    {
        Framer framer{standard_limits, &routes};
        Owed owed;
        framer.answer_unavailable(false);  // a drain: only the health route says 503
        ASSERT_EQ(framer.feed(get_path("/other") + get_path("/healthz") + get_path("/"), owed),
                  Verdict::fine);
        EXPECT_EQ(drain(owed), (Runs{{get, 1}, {Kind::unavailable_503, 1}}));
        EXPECT_TRUE(framer.ended());  // 503 closes: nothing after it is framed
    }
    {
        Framer framer{standard_limits, &routes};
        Owed owed;
        framer.answer_unavailable(true);  // lame duck: every request says 503
        ASSERT_EQ(framer.feed(get_path("/other") + get_path("/"), owed), Verdict::fine);
        EXPECT_EQ(drain(owed), (Runs{{Kind::unavailable_503, 1}}));
    }
}

// ---- Query knobs: ?status=&delay=&size= change a default answer, read as the target streams --

namespace {

struct Asked {
    std::uint8_t route;
    std::uint32_t status;
    std::uint32_t delay_ms;
    std::uint32_t size;  // UINT32_MAX: not asked
    bool operator==(const Asked&) const = default;
};
constexpr std::uint32_t unset = Knob::delay_unset;
constexpr std::uint32_t no_size = UINT32_MAX;

// What each request of `stream` asked, in order, fed in two pieces cut at `cut`.
std::vector<Asked> knobs_of(const Routes& routes, const Limits& limits, std::string_view stream,
                            std::size_t cut) {
    Framer framer{limits, &routes};
    Owed owed;
    EXPECT_EQ(framer.feed(stream.substr(0, cut), owed), Verdict::fine);
    EXPECT_EQ(framer.feed(stream.substr(cut), owed), Verdict::fine);
    std::vector<Asked> found;
    while (!owed.empty()) {
        const Knob knob = owed.front_knob();
        const bool knobbed = owed.front_route() == Routes::knob_route;
        found.push_back({owed.front_route(), knobbed ? knob.status : 0u,
                         knobbed ? knob.delay_ms : unset,
                         knobbed && knob.sized ? knob.size : no_size});
        owed.pop(1);
    }
    return found;
}

}  // namespace

TEST(FramerKnobs, ReadsStatusDelayAndSizeWhereverCut) {
    Routes routes = sorted_routes({"/health"});
    routes.query_knobs = true;
    Limits limits = standard_limits;
    limits.knob_delay_ms_max = 5'000;
    limits.knob_size_max = 1'000;
    const std::pair<std::string, Asked> cases[] = {
        {"/?status=503&delay=10ms&size=1024", {Routes::knob_route, 503, 10, 1'000}},  // size cut
        {"/", {0, 0, unset, no_size}},
        {"/x?delay=2s", {Routes::knob_route, 0, 2'000, no_size}},    // a path without a route
        {"/?delay=7", {Routes::knob_route, 0, 7, no_size}},          // a bare number: milliseconds
        {"/?delay=1500us", {Routes::knob_route, 0, 2, no_size}},     // microseconds round up
        {"/?delay=1h&size=12", {Routes::knob_route, 0, unset, 12}},  // no such unit: passed over
        {"/?status=99&size=1k&delay=", {0, 0, unset, no_size}},      // nothing parses: the default
        {"/?xstatus=500&statusx=500&status=201&status=202",
         {Routes::knob_route, 202, unset, no_size}},
        {"/health?status=500", {1, 0, unset, no_size}},  // a route keeps its own answer
        {"/?a=1&&status=404&b", {Routes::knob_route, 404, unset, no_size}},
        {"/?delay=99s", {Routes::knob_route, 0, 5'000, no_size}},  // cut to knob_delay_ms_max
    };
    for (const auto& [target, asked] : cases) {
        const std::string request = get_path(target);
        for (std::size_t cut = 0; cut <= request.size(); ++cut) {
            ASSERT_EQ(knobs_of(routes, limits, request, cut), std::vector<Asked>{asked})
                << target << " cut " << cut;
        }
    }
    // Pipelined: each request's knobs are its own.
    const std::string two = get_path("/?status=201") + get_path("/?size=3");
    for (std::size_t cut = 0; cut <= two.size(); ++cut) {
        ASSERT_EQ(knobs_of(routes, limits, two, cut),
                  (std::vector<Asked>{{Routes::knob_route, 201, unset, no_size},
                                      {Routes::knob_route, 0, unset, 3}}))
            << "cut " << cut;
    }
}

TEST(FramerKnobs, AreHeardOnlyWhenAskedFor) {
    const Routes routes = sorted_routes({"/health"});
    EXPECT_EQ(knobs_of(routes, standard_limits, get_path("/?status=503"), 0),
              (std::vector<Asked>{{0, 0, unset, no_size}}));
}

// Four answers with knobs may be owed at once; a fifth pipelined behind them is owed_full (the
// connection answers the four and closes).
TEST(FramerKnobs, OwesAtMostKnobsMaxAtOnce) {
    Routes routes;
    routes.query_knobs = true;
    Framer framer{standard_limits, &routes};
    Owed owed;
    std::string stream;
    for (int i = 0; i <= Owed::knobs_max; ++i)
        stream += get_path("/?status=" + std::to_string(201 + i));
    EXPECT_EQ(framer.feed(stream, owed), Verdict::owed_full);
    EXPECT_EQ(owed.total(), Owed::knobs_max);
    for (std::uint32_t i = 0; i < Owed::knobs_max; ++i) {
        EXPECT_EQ(owed.front_knob().status, 201 + i);
        owed.pop(1);
    }
    // Once answered, more fit again.
    Framer next{standard_limits, &routes};
    EXPECT_EQ(next.feed(get_path("/?status=299"), owed), Verdict::fine);
    EXPECT_EQ(owed.front_knob().status, 299u);
}

TEST(FramerKnobs, AClosingRequestKeepsItsKnob) {
    Routes routes;
    routes.query_knobs = true;
    Framer framer{standard_limits, &routes};
    Owed owed;
    ASSERT_EQ(framer.feed(get_path("/?size=5") +
                              "GET /?status=418 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
                          owed),
              Verdict::fine);
    EXPECT_EQ(owed.front_knob().size, 5u);
    owed.pop(1);
    EXPECT_EQ(owed.front_kind(), Kind::get_close);
    EXPECT_EQ(owed.front_route(), Routes::knob_route);
    EXPECT_EQ(owed.front_knob().status, 418u);
}
