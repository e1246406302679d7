// Every byte uring-okay sends, formatted once at start-up: one answer per Kind, and for the kinds
// that repeat, a batch of the same answer back to back so k pipelined requests are one send.
// Knows nothing of sockets or parsing. Never allocates after build().
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "uring_okay/framer.hpp"

namespace uring_okay {

// What the configured answer says. Views must outlive build() only (it copies them).
struct ResponseSpec {
    std::uint16_t status = 200;                  // 100..999; the reason is the standard phrase
    std::string_view body = "OK";
    std::string_view content_type = "text/plain";  // empty: no Content-Type
    std::string_view server = {};                 // empty: no Server field
    std::span<const std::string_view> headers;    // extra "Name: value" lines, already validated
    bool date = true;                             // RFC 9110 §6.6.1: an origin with a clock sends Date
    bool minimal = false;  // status line, "Content-Length:N", the body: nothing else, no Date
};

// The standard reason phrase (RFC 9110 §15), empty for codes it does not name.
[[nodiscard]] std::string_view reason_phrase(std::uint16_t status) noexcept;

// IMF-fixdate (RFC 9110 §5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT": always 29 bytes.
inline constexpr std::size_t imf_fixdate_bytes = 29;
void format_imf_fixdate(std::int64_t unix_seconds, char (&out)[imf_fixdate_bytes]) noexcept;

// Whether an answer with this status has content (not 1xx, 204, 205 or 304).
[[nodiscard]] bool answer_carries_content(std::uint16_t status) noexcept;

// The head alone of the answer `spec` gives for `kind`, its Content-Length saying content_bytes
// (a body sent from elsewhere: --query-knobs). Returns its bytes, or 0 when room is too small.
[[nodiscard]] std::size_t format_head(const ResponseSpec& spec, Kind kind,
                                      std::uint64_t content_bytes, std::int64_t unix_seconds,
                                      char* out, std::size_t room) noexcept;

class Responses {
public:
    // Bytes one send may point at. `generation` must be handed back to release() once the last
    // byte of it left; until then refresh_date() leaves those bytes alone.
    struct Batch {
        const char* data = nullptr;
        std::uint32_t bytes = 0;  // count answers of one kind, back to back
        std::uint32_t count = 0;
        std::uint8_t generation = 0;
    };

    Responses() = default;
    Responses(const Responses&) = delete;
    Responses& operator=(const Responses&) = delete;
    ~Responses();

    // Formats every kind, `batch_count` copies of the keep-alive ones (fewer when one answer is
    // large: a batch stays under batch_bytes_max, never under one copy). False when memory for
    // it cannot be had; nothing else can fail.
    [[nodiscard]] bool build(const ResponseSpec& spec, std::uint32_t batch_count,
                             std::int64_t unix_seconds) noexcept;

    // Up to `count` answers of `kind` (a kind that closes the connection is one answer).
    [[nodiscard]] Batch take(Kind kind, std::uint32_t count) noexcept;
    void release(std::uint8_t generation) noexcept;

    // Called from the engine's tick: when the second changed and the spare copy is not being
    // sent, rewrites its Date fields and makes it current. Returns whether it did.
    bool refresh_date(std::int64_t unix_seconds) noexcept;

    // One answer of `kind`, as sent now: for tests and the epoll engine's bookkeeping.
    [[nodiscard]] std::string_view one(Kind kind) const noexcept;
    [[nodiscard]] std::uint32_t batch_max(Kind kind) const noexcept;

    static constexpr std::uint32_t batch_bytes_max = 256 * 1024;

private:
    struct Layout {
        std::uint32_t offset = 0;       // of the first copy, in each generation
        std::uint32_t bytes = 0;        // of one copy
        std::uint32_t copies = 0;
        std::uint32_t date_offset = 0;  // within one copy; 0: no Date field
    };
    void write_dates(std::uint8_t generation, const char (&date)[imf_fixdate_bytes]) noexcept;

    char* arena_ = nullptr;  // two generations back to back
    std::uint32_t generation_bytes_ = 0;
    Layout layout_[kind_count]{};
    std::uint32_t in_flight_[2]{};
    std::int64_t date_seconds_ = 0;
    std::uint8_t current_ = 0;
    bool date_ = false;
    bool spare_written_ = false;  // the spare generation holds the answers (from the first refresh)
};

}  // namespace uring_okay
