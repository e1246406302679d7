// Every byte uring-okay sends: each Kind's answer formatted once into one arena, repeated into
// batches, kept twice (two generations) so the Date can change under a send that still points at
// the old bytes. Knows nothing of sockets or parsing; the only allocation is in build().
#include "uring_okay/response.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "uring_okay/assert.hpp"

namespace uring_okay {

using namespace std::string_view_literals;  // "text"sv: no strlen call where it is put

namespace {

// A 64 MiB body (the largest we take) and a header section of 4 KiB: past it, build() refuses.
constexpr std::uint64_t copy_bytes_ceiling = (64ull << 20) + 4096;

// IMF-fixdate has four year digits: clocks outside years 0000..9999 format as the nearest edge.
constexpr std::int64_t seconds_min = -62'167'219'200;  // 0000-01-01T00:00:00Z
constexpr std::int64_t seconds_max = 253'402'300'799;  // 9999-12-31T23:59:59Z

// RFC 9110 §15, plus 429 and 431 from RFC 6585: a row per code, "NNN Phrase\n". 306 is
// "(Unused)": it gets no phrase. One string, not a table of views: a third of the bytes.
constexpr std::string_view reasons =
    "100 Continue\n"
    "101 Switching Protocols\n"
    "200 OK\n"
    "201 Created\n"
    "202 Accepted\n"
    "203 Non-Authoritative Information\n"
    "204 No Content\n"
    "205 Reset Content\n"
    "206 Partial Content\n"
    "300 Multiple Choices\n"
    "301 Moved Permanently\n"
    "302 Found\n"
    "303 See Other\n"
    "304 Not Modified\n"
    "305 Use Proxy\n"
    "307 Temporary Redirect\n"
    "308 Permanent Redirect\n"
    "400 Bad Request\n"
    "401 Unauthorized\n"
    "402 Payment Required\n"
    "403 Forbidden\n"
    "404 Not Found\n"
    "405 Method Not Allowed\n"
    "406 Not Acceptable\n"
    "407 Proxy Authentication Required\n"
    "408 Request Timeout\n"
    "409 Conflict\n"
    "410 Gone\n"
    "411 Length Required\n"
    "412 Precondition Failed\n"
    "413 Content Too Large\n"
    "414 URI Too Long\n"
    "415 Unsupported Media Type\n"
    "416 Range Not Satisfiable\n"
    "417 Expectation Failed\n"
    "418 I'm a teapot\n"  // RFC 9110 §15.5.19 keeps it "(Unused)" because RFC 2324 holds it
    "421 Misdirected Request\n"
    "422 Unprocessable Content\n"
    "426 Upgrade Required\n"
    "429 Too Many Requests\n"
    "431 Request Header Fields Too Large\n"
    "500 Internal Server Error\n"
    "501 Not Implemented\n"
    "502 Bad Gateway\n"
    "503 Service Unavailable\n"
    "504 Gateway Timeout\n"
    "505 HTTP Version Not Supported\n";

constexpr char weekdays[] = "SunMonTueWedThuFriSat";  // three letters each
constexpr char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

struct Civil {
    std::uint64_t year;  // 0..9999
    unsigned month;      // 1..12
    unsigned day;        // 1..31
};

// Days since 0000-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days, all
// unsigned: format_imf_fixdate's clamp keeps the days from 0000-01-01 on).
Civil civil_from_days(std::uint64_t days) {
    // From 0000-03-01, so the leap day ends each 400-year era's years; and one era earlier, so
    // that year's January and February count from a day that is not negative.
    const std::uint64_t shifted = days - 60 + 146'097;
    const std::uint64_t era = shifted / 146'097;  // 1: the era from 0000-03-01
    const std::uint64_t day_of_era = shifted % 146'097;
    const std::uint64_t year_of_era =
        (day_of_era - day_of_era / 1'460 + day_of_era / 36'524 - day_of_era / 146'096) / 365;
    const std::uint64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const std::uint64_t month_from_march = (5 * day_of_year + 2) / 153;  // 0: March
    const auto day = unsigned(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    const auto month =
        unsigned(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    const std::uint64_t year = year_of_era + era * 400 + (month <= 2 ? 1 : 0) - 400;
    return {year, month, day};
}

// `width` decimal digits of `value`, zero-padded on the left.
void put_digits(char* out, std::uint64_t value, int width) {
    for (int index = width - 1; index >= 0; --index) {
        out[index] = char('0' + value % 10);
        value /= 10;
    }
}

// Appends to `out`, or only counts when `out` is null: one path decides both the size of an
// answer and its bytes, so they cannot disagree.
struct Writer {
    char* out = nullptr;
    std::uint64_t bytes = 0;

    void put(std::string_view text) {
        if (out && !text.empty()) std::memcpy(out + bytes, text.data(), text.size());
        bytes += text.size();
    }
    void put_number(std::uint64_t value) {
        char digits[20];
        char* first = digits + sizeof digits;
        do {
            *--first = char('0' + value % 10);
            value /= 10;
        } while (value != 0);
        put({first, std::size_t(digits + sizeof digits - first)});
    }
    // "Name: value\r\n", or nothing for an empty value.
    void put_field(std::string_view name, std::string_view value) {
        if (value.empty()) return;
        put(name);
        put(value);
        put("\r\n"sv);
    }
};

struct Answer {
    std::uint64_t bytes = 0;
    std::uint32_t date_offset = 0;  // of the Date value within the answer; 0: no Date field
};

// The Connection field, if any, and the empty line that ends the head.
[[nodiscard]] std::string_view head_end(Kind kind) {
    if (kind == Kind::get_keep_alive || kind == Kind::head_keep_alive) {
        return "Connection: keep-alive\r\n\r\n"sv;
    }
    return closes_after(kind) ? "Connection: close\r\n\r\n"sv : "\r\n"sv;
}

// RFC 9110 §8.6: 1xx and 204 must not send Content-Length; a 304 may, but like them it never
// carries content (§15.4.5), so it goes without one too.
[[nodiscard]] bool sends_content_length(std::uint16_t status) {
    return status >= 200 && status != 204 && status != 304;
}

// RFC 9110 §15.3.6: a 205 must not carry content, though it may say Content-Length: 0.
[[nodiscard]] bool carries_content(std::uint16_t status) {
    return sends_content_length(status) && status != 205;
}

// Writes the answer `spec` gives for `kind` to `out` (or only measures it when `out` is null),
// fields in the order response.hpp promises. `elsewhere_bytes`: the head alone, its
// Content-Length saying this many bytes of a body sent from elsewhere (format_head).
Answer format_answer(const ResponseSpec& spec, Kind kind,
                     std::optional<std::uint64_t> elsewhere_bytes, std::string_view date,
                     char* out) {
    Writer writer{out};
    Answer answer;
    // Errors say only that they close: Content-Length: 0. --minimal drops every optional field.
    const bool error = is_error(kind);
    const std::uint16_t status = status_of(kind, spec.status);
    const bool content_length = error || sends_content_length(status);
    const bool content = !error && content_length && status != 205;  // carries_content()
    const bool full = !spec.minimal;
    writer.put("HTTP/1.1 "sv);
    writer.put_number(status);
    writer.put(" "sv);
    writer.put(reason_phrase(status));
    writer.put("\r\n"sv);
    if (full) {
        writer.put_field("Server: "sv, spec.server);
        if (spec.date) {
            answer.date_offset = std::uint32_t(writer.bytes + "Date: "sv.size());
            writer.put_field("Date: "sv, date);
        }
        if (content) writer.put_field("Content-Type: "sv, spec.content_type);
    }
    if (content_length) {
        writer.put(full ? "Content-Length: "sv : "Content-Length:"sv);
        writer.put_number(!content ? 0 : elsewhere_bytes ? *elsewhere_bytes : spec.body.size());
        writer.put("\r\n"sv);
    }
    if (full && !error) {
        for (const std::string_view header : spec.headers) {
            writer.put(header);
            writer.put("\r\n"sv);
        }
    }
    writer.put(head_end(kind));
    // RFC 9110 §9.3.2: HEAD gets the same head, no content.
    if (content && !is_head(kind) && !elsewhere_bytes) writer.put(spec.body);
    answer.bytes = writer.bytes;
    return answer;
}

// How many answers of a kind one batch holds: under batch_bytes_max, never under one.
[[nodiscard]] std::uint32_t copies_of(Kind kind, std::uint64_t bytes, std::uint32_t batch_count) {
    if (closes_after(kind)) return 1;  // the connection closes after one: never a batch
    const std::uint64_t fit = Responses::batch_bytes_max / bytes;
    if (fit < 1) return 1;
    return fit < batch_count ? std::uint32_t(fit) : batch_count;
}

// Fills the `copies - 1` places after the answer at `first` with that answer: a batch.
void repeat(char* first, std::uint32_t bytes, std::uint32_t copies) {
    for (std::uint32_t copy = 1; copy < copies; ++copy) {
        std::memcpy(first + std::size_t(copy) * bytes, first, bytes);
    }
}

}  // namespace

bool answer_carries_content(std::uint16_t status) noexcept {
    return carries_content(status);
}

std::size_t format_head(const ResponseSpec& spec, Kind kind, std::uint64_t content_bytes,
                        std::int64_t unix_seconds, char* out, std::size_t room) noexcept {
    char date[imf_fixdate_bytes];
    format_imf_fixdate(unix_seconds, date);
    const std::string_view date_text{date, sizeof date};
    if (format_answer(spec, kind, content_bytes, date_text, nullptr).bytes > room) return 0;
    return std::size_t(format_answer(spec, kind, content_bytes, date_text, out).bytes);
}

std::string_view reason_phrase(std::uint16_t status) noexcept {
    char code[4];
    put_digits(code, status, 3);  // past 999 matches no row either
    code[3] = ' ';
    const char* const rows_end = reasons.data() + reasons.size();
    for (const char* row = reasons.data(); row < rows_end;) {
        const auto* end = static_cast<const char*>(std::memchr(row, '\n', rows_end - row));
        if (std::memcmp(row, code, sizeof code) == 0) return {row + 4, std::size_t(end - row - 4)};
        row = end + 1;
    }
    return {};
}

void format_imf_fixdate(std::int64_t unix_seconds, char (&out)[imf_fixdate_bytes]) noexcept {
    std::int64_t clamped = unix_seconds;
    if (clamped < seconds_min) clamped = seconds_min;
    if (clamped > seconds_max) clamped = seconds_max;
    const auto seconds = std::uint64_t(clamped - seconds_min);  // since 0000-01-01T00:00:00Z
    const std::uint64_t days = seconds / 86'400;
    const Civil civil = civil_from_days(days);
    const std::uint64_t weekday = (days + 6) % 7;  // 0000-01-01 was a Saturday
    // "Sun, 06 Nov 1994 08:49:37 GMT"
    std::memcpy(out, "Ddd, DD Mmm YYYY hh:mm:ss GMT", imf_fixdate_bytes);
    std::memcpy(out, weekdays + 3 * weekday, 3);
    put_digits(out + 5, civil.day, 2);
    std::memcpy(out + 8, months + 3 * (civil.month - 1), 3);
    put_digits(out + 12, civil.year, 4);
    std::uint64_t time = seconds % 86'400;  // ss, mm, then hh: each what is left modulo 60
    for (int at = 23; at >= 17; at -= 3) {
        put_digits(out + at, time % 60, 2);
        time /= 60;
    }
}

Responses::~Responses() {
    std::free(arena_);
}

bool Responses::build(const ResponseSpec& spec, std::uint32_t batch_count,
                      std::int64_t unix_seconds) noexcept {
    UO_ASSERT(batch_count >= 1);
    UO_ASSERT(spec.status >= 100 && spec.status <= 999);  // config checks it: three digits
    UO_ASSERT(in_flight_[0] == 0 && in_flight_[1] == 0);  // a send still points into the arena
    char date[imf_fixdate_bytes];
    format_imf_fixdate(unix_seconds, date);
    const std::string_view date_text{date, imf_fixdate_bytes};

    Layout layout[kind_count];
    std::uint64_t generation_bytes = 0;
    for (std::size_t index = 0; index < kind_count; ++index) {
        const Answer answer = format_answer(spec, Kind(index), {}, date_text, nullptr);
        if (answer.bytes > copy_bytes_ceiling) return false;
        const std::uint32_t copies = copies_of(Kind(index), answer.bytes, batch_count);
        layout[index] = {std::uint32_t(generation_bytes), std::uint32_t(answer.bytes), copies,
                         answer.date_offset};
        generation_bytes += answer.bytes * copies;
    }
    // Each kind's batch stays under max(batch_bytes_max, copy_bytes_ceiling): this always holds.
    UO_ASSERT(2 * generation_bytes <= UINT32_MAX);
    auto* arena = static_cast<char*>(std::malloc(2 * generation_bytes));
    if (!arena) return false;  // the previous answers, if any, stay as they were

    std::free(arena_);
    arena_ = arena;
    generation_bytes_ = std::uint32_t(generation_bytes);
    for (std::size_t index = 0; index < kind_count; ++index) {
        layout_[index] = layout[index];
        char* first = arena_ + layout[index].offset;
        const Answer answer = format_answer(spec, Kind(index), {}, date_text, first);
        UO_ASSERT(answer.bytes == layout[index].bytes);  // measured and written the same way
        repeat(first, layout[index].bytes, layout[index].copies);
    }
    // The spare generation is copied at the first refresh_date(), a second later: an engine
    // thread's start-up is mostly first touches of fresh pages, and these were half of them.
    spare_written_ = false;
    current_ = 0;
    date_ = spec.date && !spec.minimal;
    date_seconds_ = unix_seconds;
    return true;
}

Responses::Batch Responses::take(Kind kind, std::uint32_t count) noexcept {
    UO_ASSERT(count > 0);  // a connection that owes nothing has nothing to send
    UO_ASSERT(arena_ != nullptr);
    const Layout& layout = layout_[std::size_t(kind)];
    const std::uint32_t taken = count < layout.copies ? count : layout.copies;
    in_flight_[current_] += 1;
    return {arena_ + std::size_t(current_) * generation_bytes_ + layout.offset,
            taken * layout.bytes, taken, current_};
}

void Responses::release(std::uint8_t generation) noexcept {
    UO_ASSERT(generation < 2);
    UO_ASSERT(in_flight_[generation] > 0);  // every release matches one take
    in_flight_[generation] -= 1;
}

bool Responses::refresh_date(std::int64_t unix_seconds) noexcept {
    if (!date_ || unix_seconds == date_seconds_) return false;
    const auto spare = std::uint8_t(1 - current_);
    if (in_flight_[spare] != 0) return false;  // still leaving: keep the old second a tick longer
    char date[imf_fixdate_bytes];
    format_imf_fixdate(unix_seconds, date);
    if (!spare_written_) {
        std::memcpy(arena_ + std::size_t(spare) * generation_bytes_,
                    arena_ + std::size_t(current_) * generation_bytes_, generation_bytes_);
        spare_written_ = true;
    }
    write_dates(spare, date);
    current_ = spare;
    date_seconds_ = unix_seconds;
    return true;
}

void Responses::write_dates(std::uint8_t generation,
                            const char (&date)[imf_fixdate_bytes]) noexcept {
    char* base = arena_ + std::size_t(generation) * generation_bytes_;
    for (const Layout& layout : layout_) {
        if (layout.date_offset == 0) continue;
        for (std::uint32_t copy = 0; copy < layout.copies; ++copy) {
            const std::size_t at = layout.offset + std::size_t(copy) * layout.bytes;
            std::memcpy(base + at + layout.date_offset, date, imf_fixdate_bytes);
        }
    }
}

std::string_view Responses::one(Kind kind) const noexcept {
    UO_ASSERT(arena_ != nullptr);
    const Layout& layout = layout_[std::size_t(kind)];
    return {arena_ + std::size_t(current_) * generation_bytes_ + layout.offset, layout.bytes};
}

std::uint32_t Responses::batch_max(Kind kind) const noexcept {
    return layout_[std::size_t(kind)].copies;
}

}  // namespace uring_okay
