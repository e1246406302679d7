// RFC 9112 request framing as a byte-driven state machine: each state consumes a run of bytes
// with a table lookup per byte, so a request split anywhere costs what it costs whole. Only the
// fields that decide framing or the answer are looked at (Host, Content-Length,
// Transfer-Encoding, Connection, Expect); no request byte is kept.
#include "uring_okay/framer.hpp"

#include <array>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "uring_okay/assert.hpp"

namespace uring_okay {

using namespace std::string_view_literals;  // "text"sv: no strlen call where it is put

enum class Framer::State : std::uint8_t {
    request_start,     // before a request line; empty lines (CRLF) are skipped
    request_start_lf,  // CR of an empty line seen
    method,
    target_first,
    target_scheme,     // absolute-form: scheme up to ':'
    target_authority,  // CONNECT's host:port
    target,
    target_star,       // `*` seen: SP must follow
    version,           // "HTTP/" DIGIT "." DIGIT, position in match_
    request_line_lf,
    field_start,       // a field line, or the CR of the empty line ending the section
    field_name,
    field_ows,
    field_value,
    field_lf,
    section_lf,        // CR of the empty line seen
    body_length,       // number_ bytes of Content-Length body to skip
    chunk_size,
    chunk_ext,         // after the size: BWS, `;` extensions, up to CR
    chunk_size_lf,
    chunk_data,        // number_ bytes of chunk data to skip
    chunk_data_cr,
    chunk_data_lf,
    ended,             // a verdict was given or a closing request framed: ignore the rest
};

enum class Framer::Field : std::uint8_t {
    other,
    host,
    content_length,
    connection,
    transfer_encoding,
    expect,
};

namespace {

namespace method {
inline constexpr std::uint8_t other = 0;
inline constexpr std::uint8_t head = 1;
inline constexpr std::uint8_t connect = 2;
inline constexpr std::uint8_t options = 3;
}  // namespace method

namespace flag {
inline constexpr std::uint16_t content_length = 1 << 0;
inline constexpr std::uint16_t transfer_encoding = 1 << 1;
inline constexpr std::uint16_t chunked_final = 1 << 2;  // the last coding so far was `chunked`
inline constexpr std::uint16_t chunked_seen = 1 << 3;
inline constexpr std::uint16_t chunked_twice = 1 << 4;  // RFC 9112 §6.1: at most once
inline constexpr std::uint16_t close = 1 << 5;
inline constexpr std::uint16_t keep_alive = 1 << 6;
inline constexpr std::uint16_t expect_continue = 1 << 7;
inline constexpr std::uint16_t trailers = 1 << 8;  // the field states read a trailer section
inline constexpr std::uint16_t matching_path = 1 << 9;  // routes are matched against the path
inline constexpr std::uint16_t reading_query = 1 << 10;  // --query-knobs: the query is read
}  // namespace flag

// The token-list reader's state for the current field value (RFC 9110 §5.6.1).
namespace list {
inline constexpr std::uint8_t before_token = 0;  // start, or after a comma: OWS allowed
inline constexpr std::uint8_t in_token = 1;
inline constexpr std::uint8_t after_token = 2;  // OWS after a token: a comma or the end must come
}  // namespace list

// Character classes, one table lookup per byte.
inline constexpr std::uint8_t tchar = 1 << 0;       // RFC 9110 §5.6.2 token
inline constexpr std::uint8_t field_char = 1 << 1;  // field-vchar, SP, HTAB, obs-text
inline constexpr std::uint8_t target_char = 1 << 2;  // visible ASCII
inline constexpr std::uint8_t host_char = 1 << 3;   // RFC 3986 reg-name, IP literals, port
inline constexpr std::uint8_t hex_char = 1 << 4;
inline constexpr std::uint8_t scheme_char = 1 << 5;  // RFC 3986 §3.1 after the first ALPHA

constexpr bool in(std::string_view set, unsigned char c) {
    return set.find(char(c)) != std::string_view::npos;
}

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> classes{};
    for (unsigned c = 0; c < 256; ++c) {
        const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        const bool digit = c >= '0' && c <= '9';
        std::uint8_t bits = 0;
        if (alpha || digit || in("!#$%&'*+-.^_`|~", c)) bits |= tchar;
        if ((c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' || c >= 0x80) bits |= field_char;
        if (c >= 0x21 && c <= 0x7e) bits |= target_char;
        if (alpha || digit || in("-._~!$&'()*+,;=:[]%", c)) bits |= host_char;
        if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) bits |= hex_char;
        if (alpha || digit || in("+-.", c)) bits |= scheme_char;
        classes[c] = bits;
    }
    return classes;
}
inline constexpr std::array<std::uint8_t, 256> classes = make_classes();

constexpr bool is(std::uint8_t class_bits, unsigned char c) { return classes[c] & class_bits; }
constexpr bool is_ows(unsigned char c) { return c == ' ' || c == '\t'; }
constexpr unsigned char lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

// The long runs (field values, request targets) are scanned 16 bytes at a time for the first
// byte that needs a look: never reading at or past `end`, so a buffer may end at a guard page.
// A field value stops at any control byte or DEL; a target at any byte outside 0x21..0x7E.
template <bool target>
const unsigned char* skip_plain(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi8(char(0x80));  // unsigned order via signed compares
    const __m128i low = _mm_set1_epi8(char((target ? 0x21 : 0x20) ^ 0x80));
    const __m128i high = _mm_set1_epi8(char(0x7f));
    while (end - p >= 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i below = _mm_cmplt_epi8(_mm_xor_si128(bytes, flip), low);
        const __m128i del = target ? _mm_cmpeq_epi8(_mm_max_epu8(bytes, high), bytes)
                                   : _mm_cmpeq_epi8(bytes, high);
        const int mask = _mm_movemask_epi8(_mm_or_si128(below, del));
        if (mask != 0) return p + __builtin_ctz(unsigned(mask));
        p += 16;
    }
#endif
    const std::uint8_t wanted = target ? target_char : field_char;
    while (p < end && is(wanted, *p)) ++p;
    return p;
}

// A token ends at the first byte outside tchar: controls, SP, DEL, obs-text and the
// delimiters "(),/:;<=>?@[\]{} (RFC 9110 §5.6.2).
const unsigned char* skip_token(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
    const __m128i flip = _mm_set1_epi8(char(0x80));
    const auto in_range = [&](__m128i flipped, char low, char high) {  // low <= byte <= high
        const __m128i below = _mm_cmplt_epi8(flipped, _mm_set1_epi8(char(low ^ 0x80)));
        const __m128i above = _mm_cmpgt_epi8(flipped, _mm_set1_epi8(char(high ^ 0x80)));
        return _mm_andnot_si128(_mm_or_si128(below, above), _mm_set1_epi8(-1));
    };
    const auto equal = [](__m128i bytes, char c) { return _mm_cmpeq_epi8(bytes, _mm_set1_epi8(c)); };
    while (end - p >= 16) {
        const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        const __m128i flipped = _mm_xor_si128(bytes, flip);
        __m128i stop = _mm_andnot_si128(in_range(flipped, 0x21, 0x7e), _mm_set1_epi8(-1));
        stop = _mm_or_si128(stop, in_range(flipped, '(', ')'));
        stop = _mm_or_si128(stop, in_range(flipped, ':', '@'));
        stop = _mm_or_si128(stop, in_range(flipped, '[', ']'));
        stop = _mm_or_si128(stop, _mm_or_si128(equal(bytes, '"'), equal(bytes, ',')));
        stop = _mm_or_si128(stop, _mm_or_si128(equal(bytes, '/'), equal(bytes, '{')));
        stop = _mm_or_si128(stop, equal(bytes, '}'));
        const int mask = _mm_movemask_epi8(stop);
        if (mask != 0) return p + __builtin_ctz(unsigned(mask));
        p += 16;
    }
#endif
    while (p < end && is(tchar, *p)) ++p;
    return p;
}

constexpr int hex_value(unsigned char c) {
    if (c <= '9') return c - '0';
    return lower(c) - 'a' + 10;
}

// Field names and list tokens we act on, lower case; matched one byte at a time.
constexpr std::string_view field_name(Framer::Field field) {
    switch (field) {
        case Framer::Field::host: return "host"sv;
        case Framer::Field::content_length: return "content-length"sv;
        case Framer::Field::connection: return "connection"sv;
        case Framer::Field::transfer_encoding: return "transfer-encoding"sv;
        case Framer::Field::expect: return "expect"sv;
        case Framer::Field::other: break;
    }
    return {};
}

constexpr std::string_view method_name(std::uint8_t m) {
    switch (m) {
        case method::head: return "HEAD"sv;
        case method::connect: return "CONNECT"sv;
        case method::options: return "OPTIONS"sv;
        default: return {};
    }
}

// Which token of a list field we are matching (token_ in match_'s high byte).
namespace token {
inline constexpr std::uint8_t none = 0;
inline constexpr std::uint8_t close = 1;
inline constexpr std::uint8_t keep_alive = 2;
inline constexpr std::uint8_t chunked = 3;
inline constexpr std::uint8_t continue_100 = 4;
}  // namespace token

constexpr std::string_view token_name(std::uint8_t t) {
    switch (t) {
        case token::close: return "close"sv;
        case token::keep_alive: return "keep-alive"sv;
        case token::chunked: return "chunked"sv;
        case token::continue_100: return "100-continue"sv;
        default: return {};
    }
}

constexpr Kind error_kind(Verdict verdict) {
    switch (verdict) {
        case Verdict::content_too_large: return Kind::error_413;
        case Verdict::uri_too_long: return Kind::error_414;
        case Verdict::header_too_large: return Kind::error_431;
        case Verdict::version_not_supported: return Kind::error_505;
        default: return Kind::error_400;
    }
}

}  // namespace

// ---- Owed ------------------------------------------------------------------------------------

namespace {

// get/head pairs differ in the lowest bit: head == get + 1 (framer.hpp keeps that order).
constexpr bool pairs(Kind kind) { return kind <= Kind::head_keep_alive && !closes_after(kind); }
constexpr std::uint8_t family(Kind kind) { return std::uint8_t(kind) & ~1u; }
constexpr std::uint32_t head_bit(Kind kind) { return std::uint32_t(kind) & 1u; }
static_assert(std::uint8_t(Kind::head) == std::uint8_t(Kind::get) + 1 &&
              std::uint8_t(Kind::head_close) == std::uint8_t(Kind::get_close) + 1 &&
              std::uint8_t(Kind::head_keep_alive) == std::uint8_t(Kind::get_keep_alive) + 1);

// --query-knobs: the names heard (a bit each, while a name is read) and the value's units.
constexpr std::string_view knob_names[] = {"status", "delay", "size"};
inline constexpr std::uint8_t knob_status = 1 << 0;
inline constexpr std::uint8_t knob_delay = 1 << 1;
inline constexpr std::uint8_t knob_size = 1 << 2;
inline constexpr std::uint8_t all_knob_names = knob_status | knob_delay | knob_size;
inline constexpr std::uint8_t knob_value = 1 << 7;  // the name was heard: its value is read

namespace knob_unit {                    // after the digits of a value: 10, 10ms, 10s, 10us
inline constexpr std::uint8_t none = 0;  // no digit yet
inline constexpr std::uint8_t digits = 1;
inline constexpr std::uint8_t m = 2;
inline constexpr std::uint8_t ms = 3;
inline constexpr std::uint8_t s = 4;
inline constexpr std::uint8_t u = 5;
inline constexpr std::uint8_t us = 6;
inline constexpr std::uint8_t bad = 7;
}  // namespace knob_unit

constexpr std::uint8_t next_unit(std::uint8_t at, unsigned char c, bool takes_unit) {
    if (!takes_unit) return knob_unit::bad;
    if (at == knob_unit::digits && c == 'm') return knob_unit::m;
    if (at == knob_unit::digits && c == 's') return knob_unit::s;
    if (at == knob_unit::digits && c == 'u') return knob_unit::u;
    if (at == knob_unit::m && c == 's') return knob_unit::ms;
    if (at == knob_unit::u && c == 's') return knob_unit::us;
    return knob_unit::bad;
}

// A delay's unit in microseconds; a bare number is milliseconds. 0: no delay was spelled.
constexpr std::uint32_t microseconds_per(std::uint8_t at) {
    switch (at) {
        case knob_unit::digits:
        case knob_unit::ms:
            return 1'000;
        case knob_unit::s:
            return 1'000'000;
        case knob_unit::us:
            return 1;
        default:
            return 0;
    }
}

}  // namespace

// One more answer at the end of `run`, if it can hold it.
bool Owed::append(Run& run, Kind kind, std::uint8_t route) noexcept {
    if (run.route != route) return false;
    if (run.mixed_count == 0) {
        if (run.kind == std::uint8_t(kind) && run.bits_or_count < UINT32_MAX) {
            ++run.bits_or_count;
            return true;
        }
        // A short uniform run of the same family becomes a mixed one.
        const Kind was = Kind(run.kind);
        if (!pairs(kind) || !pairs(was) || family(kind) != family(was) ||
            run.bits_or_count >= mixed_max) {
            return false;
        }
        const std::uint32_t count = run.bits_or_count;
        run.bits_or_count = head_bit(was) ? (1u << count) - 1 : 0;  // count < 32
        run.kind = family(was);
        run.mixed_count = std::uint8_t(count);
    }
    if (!pairs(kind) || family(kind) != run.kind || run.mixed_count == mixed_max) return false;
    run.bits_or_count |= head_bit(kind) << run.mixed_count;
    ++run.mixed_count;
    return true;
}

bool Owed::push(Kind kind, std::uint8_t route, const Knob* knob) noexcept {
    if (has_last_) return false;  // nothing is owed after the answer that closes
    if (knob != nullptr) {
        if (knob_count_ == knobs_max) return false;
        route = Routes::knob_route;
    }
    if (closes_after(kind)) {
        last_ = kind;
        last_route_ = route;
        has_last_ = true;
    } else if (runs_used_ == 0 || !append(tail(), kind, route)) {
        if (runs_used_ == runs_max) return false;
        ++runs_used_;
        tail() = Run{1, std::uint8_t(kind), 0, route};
    }
    ++total_;
    if (knob != nullptr) knobs_[(knob_head_ + knob_count_++) % knobs_max] = *knob;
    return true;
}

Kind Owed::front_kind() const noexcept {
    if (runs_used_ == 0) return last_;
    const Run& run = runs_[head_];
    if (run.mixed_count == 0) return Kind(run.kind);
    return Kind(run.kind | (run.bits_or_count & 1u));
}

std::uint8_t Owed::front_route() const noexcept {
    return runs_used_ == 0 ? last_route_ : runs_[head_].route;
}

std::uint32_t Owed::front_count() const noexcept {
    if (runs_used_ == 0) return has_last_ ? 1 : 0;
    const Run& run = runs_[head_];
    if (run.mixed_count == 0) return run.bits_or_count;
    // The answers alike at the front: the run of equal low bits.
    const std::uint32_t bits = (run.bits_or_count & 1u) ? ~run.bits_or_count : run.bits_or_count;
    const std::uint32_t alike = bits == 0 ? 32u : std::uint32_t(__builtin_ctz(bits));
    return alike < run.mixed_count ? alike : run.mixed_count;
}

void Owed::pop(std::uint32_t count) noexcept {
    UO_ASSERT(count > 0 && count <= front_count());  // only what was owed can leave
    total_ -= count;
    if (front_route() == Routes::knob_route) {
        knob_head_ = std::uint8_t((knob_head_ + count) % knobs_max);
        knob_count_ = std::uint8_t(knob_count_ - count);
    }
    if (runs_used_ == 0) {
        has_last_ = false;
        return;
    }
    Run& run = runs_[head_];
    bool emptied = false;
    if (run.mixed_count == 0) {
        run.bits_or_count -= count;
        emptied = run.bits_or_count == 0;
    } else {
        run.bits_or_count = count == 32 ? 0 : run.bits_or_count >> count;
        run.mixed_count = std::uint8_t(run.mixed_count - count);
        emptied = run.mixed_count == 0;
    }
    if (emptied) {
        head_ = std::uint8_t((head_ + 1) % runs_max);
        --runs_used_;
    }
}

bool Owed::close_newest() noexcept {
    if (has_last_ || runs_used_ == 0) return false;
    Run& run = tail();
    Kind newest = Kind(run.kind);
    if (run.mixed_count == 0) {
        if (--run.bits_or_count == 0) --runs_used_;
    } else {
        const std::uint32_t bit = 1u << (run.mixed_count - 1u);  // bit 0 is the oldest
        newest = Kind(run.kind | ((run.bits_or_count & bit) ? 1u : 0u));
        run.bits_or_count &= ~bit;
        if (--run.mixed_count == 0) --runs_used_;
    }
    last_ = is_head(newest) ? Kind::head_close : Kind::get_close;
    last_route_ = run.route;
    has_last_ = true;
    return true;
}

std::uint64_t Owed::count(Kind kind) const noexcept {
    std::uint64_t sum = 0;
    for (std::uint8_t i = 0; i < runs_used_; ++i) {
        const Run& run = runs_[(head_ + i) % runs_max];
        if (run.mixed_count == 0) {
            if (run.kind == std::uint8_t(kind)) sum += run.bits_or_count;
        } else if (pairs(kind) && family(kind) == run.kind) {
            const auto heads = std::uint32_t(__builtin_popcount(run.bits_or_count));
            sum += head_bit(kind) ? heads : run.mixed_count - heads;
        }
    }
    return sum + (has_last_ && last_ == kind ? 1 : 0);
}

// ---- Framer: the small decisions -------------------------------------------------------------

bool Framer::between_requests() const noexcept {
    return state_ == State::request_start;
}

bool Framer::ended() const noexcept { return state_ == State::ended; }

void Framer::end() noexcept { state_ = State::ended; }

void Framer::start_request() noexcept {
    number_ = 0;
    body_bytes_ = 0;
    line_bytes_ = 0;
    header_bytes_ = 0;
    header_count_ = 0;
    match_ = 0;
    field_ = Field::other;
    method_ = method::other;
    flags_ = 0;
    list_ = list::before_token;
    hosts_ = 0;
    version_ = 0;
    pending_ = 0;
    route_ = 0;
    knob_ = Knob{};
}

Verdict Framer::fail(Verdict verdict, Owed& owed) noexcept {
    state_ = State::ended;
    if (!owed.push(error_kind(verdict))) return Verdict::owed_full;
    return verdict;
}

// The answer the request just framed is owed, by method, version and Connection (RFC 9112 §9.3).
Verdict Framer::end_of_message(Owed& owed) noexcept {
    const std::uint8_t route = route_matched();
    if (unavailable_ == 2 || (route != 0 && unavailable(route))) {
        state_ = State::ended;  // 503 closes: a draining server takes no more requests here
        return owed.push(Kind::unavailable_503, route) ? Verdict::fine : Verdict::owed_full;
    }
    const bool head = method_ == method::head;
    const Knob* knob = route == 0 && knob_.any() ? &knob_ : nullptr;
    // RFC 9110 §9.3.6: after a 2xx to CONNECT the stream is a tunnel; we are no proxy, so close.
    const bool close = (flags_ & flag::close) || method_ == method::connect ||
                       (version_ == 0 && !(flags_ & flag::keep_alive));
    Kind kind = head ? Kind::head : Kind::get;
    if (close) {
        kind = head ? Kind::head_close : Kind::get_close;
    } else if (version_ == 0) {
        kind = head ? Kind::head_keep_alive : Kind::get_keep_alive;
    }
    if (!owed.push(kind, route, knob)) {
        state_ = State::ended;
        return Verdict::owed_full;
    }
    state_ = close ? State::ended : State::request_start;
    if (!close) start_request();
    return Verdict::fine;
}

// RFC 9112 §6.3: the body's length, decided once the header section is complete.
Verdict Framer::end_of_headers(Owed& owed) noexcept {
    if (flags_ & flag::trailers) return end_of_message(owed);
    // RFC 9112 §3.2: exactly one Host in HTTP/1.1; never two.
    if (hosts_ > 1 || (version_ == 1 && hosts_ == 0)) return Verdict::bad_request;
    const bool chunked = flags_ & flag::transfer_encoding;
    if (chunked) {
        // §6.1: Transfer-Encoding beside Content-Length smells of smuggling; in HTTP/1.0 it is
        // faulty framing; a final coding other than chunked leaves the length unknown.
        if ((flags_ & flag::content_length) || version_ == 0 || !(flags_ & flag::chunked_final) ||
            (flags_ & flag::chunked_twice)) {
            return Verdict::bad_request;
        }
    } else if (number_ > limits_->body_bytes_max) {
        return Verdict::content_too_large;
    }
    const bool body = chunked || number_ > 0;
    // RFC 9110 §10.1.1: we answer at once without 100 Continue and close, so whether the client
    // then sends its body or not, the stream cannot be misread.
    if (body && (flags_ & flag::expect_continue)) {
        flags_ |= flag::close;
        return end_of_message(owed);
    }
    if (!body) return end_of_message(owed);
    line_bytes_ = 0;
    match_ = 0;
    state_ = chunked ? State::chunk_size : State::body_length;
    return Verdict::fine;
}

Verdict Framer::add_line_bytes(std::size_t bytes, Verdict past_limit) noexcept {
    line_bytes_ += std::uint32_t(bytes);  // a run never exceeds the limit by more than a buffer
    return line_bytes_ > limits_->request_line_bytes_max ? past_limit : Verdict::fine;
}

Verdict Framer::add_header_bytes(std::size_t bytes) noexcept {
    header_bytes_ += std::uint32_t(bytes);
    return header_bytes_ > limits_->header_bytes_max ? Verdict::header_too_large : Verdict::fine;
}

Verdict Framer::field_name_done() noexcept {
    if (field_ != Field::other && match_ != field_name(field_).size()) field_ = Field::other;
    if (field_ == Field::host && hosts_ < 2) ++hosts_;
    match_ = 0;
    list_ = list::before_token;
    if (field_ == Field::content_length) body_bytes_ = 0;  // scratch: the element being read
    return Verdict::fine;
}

// One element of a comma list ended (Content-Length, Connection, Transfer-Encoding, Expect).
Verdict Framer::list_token_done() noexcept {
    const std::uint8_t t = std::uint8_t(match_ >> 8);
    const bool whole = t != token::none && (match_ & 0xff) == token_name(t).size();
    switch (field_) {
        case Field::content_length:
            // RFC 9110 §8.6: a list of one value repeated is that value; any other is an error.
            if ((flags_ & flag::content_length) && number_ != body_bytes_) return Verdict::bad_request;
            flags_ |= flag::content_length;
            number_ = body_bytes_;
            body_bytes_ = 0;
            break;
        case Field::connection:
            if (whole && t == token::close) flags_ |= flag::close;
            if (whole && t == token::keep_alive) flags_ |= flag::keep_alive;
            break;
        case Field::transfer_encoding:
            flags_ |= flag::transfer_encoding;
            if (whole && (flags_ & flag::chunked_seen)) flags_ |= flag::chunked_twice;
            if (whole) flags_ |= flag::chunked_final | flag::chunked_seen;
            if (!whole) flags_ &= std::uint16_t(~flag::chunked_final);
            break;
        case Field::expect:
            if (whole) flags_ |= flag::expect_continue;
            break;
        default: break;
    }
    match_ = 0;
    return Verdict::fine;
}

// A byte of a value we act on. Host is one element; the others are comma lists.
[[gnu::always_inline]] inline Verdict Framer::field_value_byte(unsigned char c) noexcept {
    if (is_ows(c)) {
        if (list_ == list::in_token) list_ = list::after_token;
        return Verdict::fine;
    }
    if (field_ == Field::host) {
        if (!is(host_char, c) || list_ == list::after_token) return Verdict::bad_request;
        list_ = list::in_token;
        return Verdict::fine;
    }
    if (c == ',') {
        // Empty elements of a Content-Length list would make "5,,5" a smuggler's toy: refuse.
        if (list_ == list::before_token) {
            return field_ == Field::content_length ? Verdict::bad_request : Verdict::fine;
        }
        list_ = list::before_token;
        return list_token_done();
    }
    if (list_ == list::after_token) return Verdict::bad_request;  // "a b": one element, two words
    if (list_ == list::before_token) {
        list_ = list::in_token;
        if (field_ == Field::connection) match_ = lower(c) == 'c' ? token::close << 8 : token::keep_alive << 8;
        if (field_ == Field::transfer_encoding) match_ = token::chunked << 8;
        if (field_ == Field::expect) match_ = token::continue_100 << 8;
    }
    if (field_ == Field::content_length) {
        const unsigned digit = c - '0';
        if (c < '0' || c > '9') return Verdict::bad_request;
        if (body_bytes_ > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
            return Verdict::bad_request;  // past 2^64 - 1: no number we could skip
        }
        body_bytes_ = body_bytes_ * 10 + digit;
        return Verdict::fine;
    }
    const std::uint8_t t = std::uint8_t(match_ >> 8);
    const std::uint8_t at = std::uint8_t(match_ & 0xff);
    const std::string_view name = token_name(t);
    const bool still = t != token::none && at < name.size() && char(lower(c)) == name[at];
    match_ = still ? std::uint16_t(match_ + 1) : 0;  // 0: token::none, matches nothing
    return Verdict::fine;
}

Verdict Framer::field_value_done() noexcept {
    if (field_ == Field::other || field_ == Field::host) return Verdict::fine;
    if (list_ == list::before_token) {
        // An empty value, or one ending in a comma.
        if (field_ == Field::content_length) return Verdict::bad_request;
        if (field_ == Field::transfer_encoding && !(flags_ & flag::transfer_encoding)) {
            flags_ |= flag::transfer_encoding;  // present with no coding: not chunked, refused
        }
        return Verdict::fine;
    }
    return list_token_done();
}

// ---- Framer: one handler per state ------------------------------------------------------------

// RFC 9112 §2.2: empty lines before a request line are ignored.
Verdict Framer::on_request_start(Cursor& p) noexcept {
    if (*p == '\r') {
        ++p;
        state_ = State::request_start_lf;
        return Verdict::fine;
    }
    if (!is(tchar, *p)) return Verdict::bad_request;
    start_request();
    method_ = *p == 'H' ? method::head : *p == 'C' ? method::connect
            : *p == 'O' ? method::options : method::other;  // methods are case-sensitive
    state_ = State::method;
    return Verdict::fine;
}

Verdict Framer::on_method(Cursor& p, Cursor end) noexcept {
    const Cursor start = p;
    for (; p < end && is(tchar, *p); ++p) {
        const std::string_view name = method_name(method_);
        if (match_ < name.size() && char(*p) == name[match_]) {
            ++match_;
        } else {
            method_ = method::other;
        }
    }
    if (Verdict v = add_line_bytes(std::size_t(p - start), Verdict::uri_too_long); v != Verdict::fine) return v;
    if (p == end) return Verdict::fine;
    if (*p != ' ') return Verdict::bad_request;  // one SP, no other whitespace (RFC 9112 §3)
    if (match_ != method_name(method_).size()) method_ = method::other;
    ++p;
    state_ = State::target_first;
    return add_line_bytes(1, Verdict::uri_too_long);
}

// RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT only), asterisk-form
// (OPTIONS only).
Verdict Framer::on_target_first(unsigned char c) noexcept {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (method_ == method::connect) {
        if (!is(host_char, c) || c == ':') return Verdict::bad_request;
        state_ = State::target_authority;
        pending_ = 0;  // 1 once the ':' before the port was seen
    } else if (c == '/') {
        state_ = State::target;
        if (routes_ != nullptr && (routes_->count > 0 || routes_->query_knobs)) {
            flags_ |= flag::matching_path;
            route_lo_ = 0;
            route_hi_ = routes_->count;
            path_bytes_ = 0;
            match_route(&c, &c + 1);
        }
    } else if (c == '*') {
        if (method_ != method::options) return Verdict::bad_request;
        state_ = State::target_star;
    } else if (alpha) {
        state_ = State::target_scheme;
    } else {
        return Verdict::bad_request;
    }
    return add_line_bytes(1, Verdict::uri_too_long);
}

Verdict Framer::on_target(Cursor& p, Cursor end) noexcept {
    const Cursor start = p;
    bool bad = false;  // refused once the bytes before it are counted: 414 wins wherever cut
    if (state_ == State::target_scheme) {
        while (p < end && is(scheme_char, *p)) ++p;
        if (p < end && *p != ':') {
            bad = true;
        } else if (p < end) {
            ++p;
            state_ = State::target;
        }
    }
    if (state_ == State::target) {
        if (flags_ & flag::matching_path) {
            const Cursor path_start = p;
            while (p < end && is(target_char, *p) && *p != '?') ++p;
            match_route(path_start, p);
            if (p < end) end_path();  // at '?', SP or a byte the line refuses
            if (p < end && *p == '?' && routes_->query_knobs) {
                flags_ |= flag::reading_query;
                knob_name_ = all_knob_names;
                knob_at_ = 0;
                ++p;
            }
        }
        if (flags_ & flag::reading_query) {
            read_query(p, end);
            if (p < end) {  // the query ended: its last pair counts too
                query_pair_done();
                flags_ &= std::uint16_t(~flag::reading_query);
            }
        }
        p = skip_plain<true>(p, end);
    }
    if (state_ == State::target_authority) {
        for (; p < end && is(host_char, *p); ++p) pending_ |= *p == ':';
        bad = p < end && *p == ' ' && !pending_;  // no port
    }
    if (Verdict v = add_line_bytes(std::size_t(p - start), Verdict::uri_too_long); v != Verdict::fine) return v;
    if (bad) return Verdict::bad_request;
    if (p == end) return Verdict::fine;
    if (*p != ' ') return Verdict::bad_request;
    ++p;
    state_ = State::version;
    match_ = 0;
    return add_line_bytes(1, Verdict::uri_too_long);
}

// --query-knobs: `name=value` pairs split by '&'; only status, delay and size are heard, any
// other pair, or a value that does not parse, is passed over. One byte at a time: only a query
// of a server that asked for knobs is read at all.
void Framer::read_query(Cursor& p, Cursor end) noexcept {
    for (; p < end && is(target_char, *p); ++p) query_byte(*p);
}

void Framer::query_byte(unsigned char c) noexcept {
    if (c == '&') {
        query_pair_done();
        knob_name_ = all_knob_names;
        knob_at_ = 0;
        return;
    }
    if (knob_name_ & knob_value) {  // the value: digits, then (for delay) a unit
        const bool digit = c >= '0' && c <= '9';
        if (digit && knob_at_ == knob_unit::none) {
            knob_at_ = knob_unit::digits;
            knob_number_ = c - '0';
        } else if (digit && knob_at_ == knob_unit::digits) {
            knob_number_ =
                knob_number_ >= 100'000'000 ? 1'000'000'000 : knob_number_ * 10 + (c - '0');
        } else {
            knob_at_ = next_unit(knob_at_, c, knob_name_ == (knob_value | knob_delay));
        }
        return;
    }
    if (knob_name_ == 0) return;  // a pair we do not hear
    if (c == '=') {
        std::uint8_t chosen = 0;
        for (std::size_t i = 0; i < std::size(knob_names); ++i) {
            if ((knob_name_ >> i & 1) && knob_names[i].size() == knob_at_)
                chosen = std::uint8_t(1u << i);
        }
        knob_name_ = chosen == 0 ? 0 : std::uint8_t(knob_value | chosen);
        knob_at_ = knob_unit::none;
        return;
    }
    for (std::size_t i = 0; i < std::size(knob_names); ++i) {
        const std::string_view name = knob_names[i];
        if (knob_at_ >= name.size() || name[knob_at_] != char(c))
            knob_name_ &= std::uint8_t(~(1u << i));
    }
    ++knob_at_;
}

void Framer::query_pair_done() noexcept {
    if (!(knob_name_ & knob_value)) return;
    const std::uint64_t number = knob_number_;
    if (knob_name_ & knob_status) {
        if (knob_at_ == knob_unit::digits && number >= 100 && number <= 999)
            knob_.status = number & 0x3ff;
    } else if (knob_name_ & knob_size) {
        if (knob_at_ != knob_unit::digits) return;
        knob_.size =
            std::uint32_t(number < limits_->knob_size_max ? number : limits_->knob_size_max);
        knob_.sized = 1;
    } else if (const std::uint32_t us = microseconds_per(knob_at_); us != 0) {
        const std::uint64_t ms = (number * us + 999) / 1000;
        const std::uint64_t max = limits_->knob_delay_ms_max;
        knob_.delay_ms = std::uint32_t(ms < max ? ms : max) & Knob::delay_unset;
    }
}

// A drain fails the health and readiness routes; the readiness route fails until ready, too.
bool Framer::unavailable(std::uint8_t route) const noexcept {
    if (route == routes_->ready) {
        return unavailable_ == 1 || (routes_->not_ready != nullptr &&
                                     routes_->not_ready->load(std::memory_order_relaxed));
    }
    return unavailable_ == 1 && route == routes_->health;
}

// Each byte of the path narrows the sorted routes still matching it. Sorted, the candidates
// sharing the first k bytes are adjacent, and the one that is exactly those k bytes is first.
void Framer::match_route(Cursor from, Cursor to) noexcept {
    const std::string_view* paths = routes_->paths;
    for (; from < to && route_lo_ < route_hi_; ++from, ++path_bytes_) {
        const char c = char(*from);
        const std::size_t at = path_bytes_;
        std::uint8_t lo = route_lo_;
        while (lo < route_hi_ && (paths[lo].size() <= at || paths[lo][at] < c)) ++lo;
        std::uint8_t hi = lo;
        while (hi < route_hi_ && paths[hi].size() > at && paths[hi][at] == c) ++hi;
        route_lo_ = lo;
        route_hi_ = hi;
    }
}

// The path ended (the query, if any, is not matched): its route is the one it spelled whole.
void Framer::end_path() noexcept {
    flags_ &= std::uint16_t(~flag::matching_path);
    const bool whole = route_lo_ < route_hi_ && routes_->paths[route_lo_].size() == path_bytes_;
    route_ = whole ? std::uint8_t(route_lo_ + 1) : 0;
}

// "HTTP/" DIGIT "." DIGIT CR. RFC 9110 §2.5: a higher minor version of 1 is read as 1.1;
// another major version is one we do not implement: 505.
Verdict Framer::on_version(unsigned char c) noexcept {
    constexpr std::string_view prefix = "HTTP/";
    const bool digit = c >= '0' && c <= '9';
    if (match_ < prefix.size()) {
        if (char(c) != prefix[match_]) return Verdict::bad_request;
    } else if (match_ == 5 || match_ == 7) {
        if (!digit) return Verdict::bad_request;
        (match_ == 5 ? pending_ : version_) = std::uint8_t(c - '0');
    } else if (match_ == 6) {
        if (c != '.') return Verdict::bad_request;
    } else {
        if (c != '\r') return Verdict::bad_request;
        if (pending_ != 1) return Verdict::version_not_supported;
        version_ = version_ == 0 ? 0 : 1;
        pending_ = 0;
        state_ = State::request_line_lf;
    }
    ++match_;
    return add_line_bytes(1, Verdict::uri_too_long);
}

// Every line ends in CRLF: a bare LF is refused, so no peer reading it otherwise can be led
// to see another request (RFC 9112 §2.2 lets us choose; we choose strict).
Verdict Framer::on_lf(unsigned char c, Owed& owed) noexcept {
    if (c != '\n') return Verdict::bad_request;
    switch (state_) {
        case State::request_start_lf: state_ = State::request_start; return Verdict::fine;
        case State::request_line_lf:
            state_ = State::field_start;
            return add_header_bytes(line_bytes_ + 1);  // its CR was counted as a line byte
        case State::section_lf:
            if (Verdict v = add_header_bytes(1); v != Verdict::fine) return v;
            return end_of_headers(owed);
        case State::chunk_size_lf:
            if (number_ == 0) {  // the last chunk: a trailer section follows (RFC 9112 §7.1.2)
                flags_ |= flag::trailers;
                header_bytes_ = 0;
                header_count_ = 0;
                state_ = State::field_start;
                return Verdict::fine;
            }
            if (number_ > limits_->body_bytes_max - body_bytes_) return Verdict::content_too_large;
            body_bytes_ += number_;
            state_ = State::chunk_data;
            return Verdict::fine;
        case State::chunk_data_lf:
            state_ = State::chunk_size;
            number_ = 0;
            match_ = 0;
            line_bytes_ = 0;
            return Verdict::fine;
        default: break;
    }
    UO_ASSERT(false);  // feed() calls this for the *_lf states only
    return Verdict::bad_request;
}

// Field lines one after another, until the empty line, the end of the bytes, or an error.
Verdict Framer::on_fields(Cursor& p, Cursor end) noexcept {
    while (p < end) {
        Verdict verdict = Verdict::fine;
        switch (state_) {
            case State::field_start: verdict = on_field_start(p); break;
            case State::field_name: verdict = on_field_name(p, end); break;
            case State::field_ows:
            case State::field_value: verdict = on_field_value(p, end); break;
            case State::field_lf:
                if (*p++ != '\n') return Verdict::bad_request;  // a bare CR
                state_ = State::field_start;
                verdict = add_header_bytes(1);
                break;
            default: return Verdict::fine;  // the empty line: feed() ends the section
        }
        if (verdict != Verdict::fine) return verdict;
    }
    return Verdict::fine;
}

Verdict Framer::on_field_start(Cursor& p) noexcept {
    if (*p == '\r') {
        ++p;
        state_ = State::section_lf;
        return add_header_bytes(1);
    }
    // RFC 9112 §5.2: obs-fold (and whitespace before the first field) is refused.
    if (!is(tchar, *p)) return Verdict::bad_request;
    if (++header_count_ > limits_->header_count_max) return Verdict::header_too_large;
    field_ = Field::other;
    match_ = 0;
    state_ = State::field_name;
    return Verdict::fine;
}

namespace {

// A whole field name seen at once: which of ours it is, by length, then case-insensitively.
// `| 0x20` lowers letters and leaves every other token byte unable to match a letter or '-'.
Framer::Field classify_field(const unsigned char* name, std::size_t length) {
    Framer::Field candidate = Framer::Field::other;
    switch (length) {
        case 4: candidate = Framer::Field::host; break;
        case 6: candidate = Framer::Field::expect; break;
        case 10: candidate = Framer::Field::connection; break;
        case 14: candidate = Framer::Field::content_length; break;
        case 17: candidate = Framer::Field::transfer_encoding; break;
        default: return Framer::Field::other;
    }
    const std::string_view expected = field_name(candidate);
    for (std::size_t i = 0; i < length; ++i) {
        if (char(name[i] | 0x20) != expected[i]) return Framer::Field::other;
    }
    return candidate;
}

}  // namespace

// The name in pieces (it straddles feeds): matched a byte at a time against our names.
void Framer::match_field_name(Cursor from, Cursor to) noexcept {
    for (; from < to; ++from) {
        const unsigned char c = lower(*from);
        if (match_ == 0) {
            field_ = c == 'h' ? Field::host : c == 'c' ? Field::content_length
                   : c == 't' ? Field::transfer_encoding : c == 'e' ? Field::expect : Field::other;
        } else if (field_ == Field::other) {
        } else if (match_ < field_name(field_).size() && char(c) == field_name(field_)[match_]) {
        } else if (field_ == Field::content_length && match_ == 3 && c == 'n') {
            field_ = Field::connection;  // "con" is where the two part
        } else {
            field_ = Field::other;
        }
        if (match_ < 0xffff) ++match_;  // past our longest name, only "not empty" matters
    }
}

Verdict Framer::on_field_name(Cursor& p, Cursor end) noexcept {
    const Cursor start = p;
    p = skip_token(p, end);
    const bool whole = match_ == 0 && p < end && *p == ':';
    if (flags_ & flag::trailers) {
        // Trailers never decide framing (RFC 9112 §7.1.2): only whether a name began matters.
        if (p != start) match_ = 1;
    } else if (whole) {
        field_ = classify_field(start, std::size_t(p - start));
        match_ = std::uint16_t(field_name(field_).size());
    } else {
        match_field_name(start, p);
    }
    if (Verdict v = add_header_bytes(std::size_t(p - start)); v != Verdict::fine) return v;
    if (p == end) return Verdict::fine;
    // RFC 9112 §5.1: no whitespace before the colon; an empty name is no name.
    if (*p != ':' || (p == start && match_ == 0)) return Verdict::bad_request;
    ++p;
    state_ = State::field_ows;
    if (Verdict v = add_header_bytes(1); v != Verdict::fine) return v;
    return field_name_done();
}

Verdict Framer::on_field_value(Cursor& p, Cursor end) noexcept {
    const Cursor start = p;
    if (state_ == State::field_ows) {
        while (p < end && is_ows(*p)) ++p;
        if (p < end) state_ = State::field_value;
    }
    if (state_ == State::field_value) {
        if (field_ == Field::other) {
            // A HTAB stops the vector scan but belongs to the value: go on past it.
            while ((p = skip_plain<false>(p, end)) < end && *p == '\t') ++p;
        } else {
            for (; p < end && is(field_char, *p); ++p) {
                if (Verdict v = field_value_byte(*p); v != Verdict::fine) {
                    // The bytes before it count first: 431 wins wherever the stream was cut.
                    const Verdict size = add_header_bytes(std::size_t(p - start));
                    return size != Verdict::fine ? size : v;
                }
            }
        }
    }
    if (Verdict v = add_header_bytes(std::size_t(p - start)); v != Verdict::fine) return v;
    if (p == end) return Verdict::fine;
    // RFC 9110 §5.5: CR, LF and NUL (and other controls) in a value are refused.
    if (*p != '\r') return Verdict::bad_request;
    ++p;
    state_ = State::field_lf;
    if (Verdict v = add_header_bytes(1); v != Verdict::fine) return v;
    return field_value_done();
}

Verdict Framer::on_body(Cursor& p, Cursor end, Owed& owed) noexcept {
    const std::uint64_t available = std::uint64_t(end - p);
    const std::uint64_t skipped = available < number_ ? available : number_;
    p += skipped;
    number_ -= skipped;
    if (number_ > 0) return Verdict::fine;
    if (state_ == State::body_length) return end_of_message(owed);
    state_ = State::chunk_data_cr;
    return Verdict::fine;
}

// RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF; extensions are read past, never kept.
Verdict Framer::on_chunk_size(Cursor& p, Cursor end) noexcept {
    const Cursor start = p;
    if (state_ == State::chunk_size) {
        for (; p < end && is(hex_char, *p); ++p) {
            if (number_ > (std::numeric_limits<std::uint64_t>::max() >> 4)) return Verdict::bad_request;
            number_ = (number_ << 4) | std::uint64_t(hex_value(*p));
            ++match_;
        }
        if (p < end) {
            if (match_ == 0) return Verdict::bad_request;
            state_ = State::chunk_ext;
            pending_ = 0;  // 1 once the ';' of an extension was seen
        }
    }
    if (state_ == State::chunk_ext) {
        for (; p < end && is(field_char, *p); ++p) {
            if (pending_ == 0 && !is_ows(*p)) {
                if (*p != ';') return Verdict::bad_request;
                pending_ = 1;
            }
        }
    }
    if (Verdict v = add_line_bytes(std::size_t(p - start), Verdict::bad_request); v != Verdict::fine) return v;
    if (p == end) return Verdict::fine;
    if (*p != '\r') return Verdict::bad_request;
    ++p;
    pending_ = 0;
    state_ = State::chunk_size_lf;
    return Verdict::fine;
}

// ---- Framer: the state machine ----------------------------------------------------------------

Verdict Framer::feed(std::string_view bytes, Owed& owed) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    const auto* const end = p + bytes.size();
    while (p < end) {
        Verdict verdict = Verdict::fine;
        switch (state_) {
            case State::request_start: verdict = on_request_start(p); break;
            case State::request_start_lf:
            case State::request_line_lf:
            case State::section_lf:
            case State::chunk_size_lf:
            case State::chunk_data_lf: verdict = on_lf(*p++, owed); break;
            case State::method: verdict = on_method(p, end); break;
            case State::target_first: verdict = on_target_first(*p++); break;
            case State::target_scheme:
            case State::target_authority:
            case State::target:
            case State::target_star: verdict = on_target(p, end); break;
            case State::version: verdict = on_version(*p++); break;
            case State::field_start:
            case State::field_name:
            case State::field_ows:
            case State::field_value:
            case State::field_lf: verdict = on_fields(p, end); break;
            case State::body_length:
            case State::chunk_data: verdict = on_body(p, end, owed); break;
            case State::chunk_size:
            case State::chunk_ext: verdict = on_chunk_size(p, end); break;
            case State::chunk_data_cr:
                if (*p++ != '\r') verdict = Verdict::bad_request;
                state_ = State::chunk_data_lf;
                break;
            case State::ended: return Verdict::fine;
        }
        if (verdict != Verdict::fine) {
            // end_of_* already queued the answer when the queue overflowed.
            return verdict == Verdict::owed_full ? verdict : fail(verdict, owed);
        }
    }
    return Verdict::fine;
}

}  // namespace uring_okay
