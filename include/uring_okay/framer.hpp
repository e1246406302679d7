// RFC 9112 message framing for requests: where each request ends, what its answer must be
// (GET-like or HEAD, keep-alive or close) or which error to answer. A pure function of the bytes
// fed, in any split; it keeps no request bytes and knows nothing of sockets, rings or time.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "uring_okay/limits.hpp"

namespace uring_okay {

// What one request is owed. Every answer of a kind is byte-for-byte the same (response.hpp), so
// a connection owes counts of kinds, never bytes.
enum class Kind : std::uint8_t {
    get,              // HTTP/1.1 keep-alive: the response with its body
    head,             // the same head, no body (RFC 9110 §9.3.2)
    get_close,        // `Connection: close` in the answer, then the connection closes
    head_close,
    get_keep_alive,   // HTTP/1.0 that asked for keep-alive: `Connection: keep-alive` in the answer
    head_keep_alive,
    error_400,        // errors carry `Connection: close` and end the connection
    error_413,
    error_414,
    error_431,
    error_505,
    unavailable_503,  // not the framer's: the drain answers it
};
inline constexpr std::size_t kind_count = 12;

[[nodiscard]] constexpr bool closes_after(Kind kind) {
    return kind != Kind::get && kind != Kind::head && kind != Kind::get_keep_alive &&
           kind != Kind::head_keep_alive;
}
[[nodiscard]] constexpr bool is_error(Kind kind) { return kind >= Kind::error_400; }

// The framer's word on the bytes it was fed. Anything but `fine` ends the connection; the
// matching error answer (if any) was queued first.
enum class Verdict : std::uint8_t {
    fine,
    bad_request,            // 400: the grammar, or ambiguous framing (RFC 9112 §6.3)
    content_too_large,      // 413: a body past body_bytes_max
    uri_too_long,           // 414: a request line past request_line_bytes_max
    header_too_large,       // 431: a header section past header_bytes_max or header_count_max
    version_not_supported,  // 505: HTTP/x.y other than 1.x
    owed_full,              // the client pipelined more kinds than Owed holds: close, no answer
};

// What a connection still owes, oldest first: a short run-length queue of kinds. k pipelined
// GETs are one run of count k, whatever k is; only changes of kind take a run. A client that
// pipelines more changes of kind than that is answered what fit, then closed (RFC 9112 §9.3.2:
// it retries the rest).
class Owed {
public:
    static constexpr std::uint32_t runs_max = 32;
    static constexpr std::uint32_t run_count_max = (1u << 27) - 1;

    [[nodiscard]] bool push(Kind kind) noexcept;  // false when it would need one run too many
    [[nodiscard]] bool empty() const noexcept { return runs_used_ == 0; }
    [[nodiscard]] Kind front_kind() const noexcept { return runs_[head_].kind(); }
    [[nodiscard]] std::uint32_t front_count() const noexcept { return runs_[head_].count(); }
    void pop(std::uint32_t count) noexcept;  // answers of the front kind that left
    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t count(Kind kind) const noexcept;  // over every run
    void clear() noexcept { *this = Owed{}; }

private:
    struct Run {  // the kind in the top 5 bits, the count below: 32 runs in 128 bytes
        std::uint32_t packed = 0;
        [[nodiscard]] Kind kind() const noexcept { return Kind(packed >> 27); }
        [[nodiscard]] std::uint32_t count() const noexcept { return packed & run_count_max; }
    };
    std::array<Run, runs_max> runs_{};
    std::uint64_t total_ = 0;
    std::uint8_t head_ = 0;
    std::uint8_t runs_used_ = 0;
};

class Framer {
public:
    explicit Framer(const Limits& limits) noexcept : limits_(&limits) {}

    // Frames `bytes`, which continue whatever was fed before, and appends one kind to `owed` per
    // complete request, in order. On an error the error answer is appended and every later
    // byte is ignored; after a request that closes the connection, too.
    [[nodiscard]] Verdict feed(std::string_view bytes, Owed& owed) noexcept;

    void reset() noexcept { *this = Framer{*limits_}; }
    // Between requests (no partial request buffered in our state): what the header timeout asks.
    [[nodiscard]] bool between_requests() const noexcept;
    // Ended: a closing request was framed or a verdict given; later bytes are ignored.
    [[nodiscard]] bool ended() const noexcept;

    enum class State : std::uint8_t;
    enum class Field : std::uint8_t;

private:
    using Cursor = const unsigned char*;
    // Each handler consumes a run of bytes in one state and returns what it found wrong.
    [[nodiscard]] Verdict on_request_start(Cursor& p) noexcept;
    [[nodiscard]] Verdict on_method(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict on_target_first(unsigned char c) noexcept;
    [[nodiscard]] Verdict on_target(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict on_version(unsigned char c) noexcept;
    [[nodiscard]] Verdict on_lf(unsigned char c, Owed& owed) noexcept;
    [[nodiscard]] Verdict on_fields(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict on_field_start(Cursor& p) noexcept;
    void match_field_name(Cursor from, Cursor to) noexcept;
    [[nodiscard]] Verdict on_field_name(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict on_field_value(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict on_body(Cursor& p, Cursor end, Owed& owed) noexcept;
    [[nodiscard]] Verdict on_chunk_size(Cursor& p, Cursor end) noexcept;
    [[nodiscard]] Verdict add_line_bytes(std::size_t bytes, Verdict past_limit) noexcept;
    [[nodiscard]] Verdict add_header_bytes(std::size_t bytes) noexcept;
    [[nodiscard]] Verdict fail(Verdict verdict, Owed& owed) noexcept;
    [[nodiscard]] Verdict end_of_headers(Owed& owed) noexcept;
    [[nodiscard]] Verdict end_of_message(Owed& owed) noexcept;
    [[nodiscard]] Verdict field_name_done() noexcept;
    [[nodiscard]] Verdict field_value_byte(unsigned char c) noexcept;
    [[nodiscard]] Verdict field_value_done() noexcept;
    [[nodiscard]] Verdict list_token_done() noexcept;
    void start_request() noexcept;

    const Limits* limits_;
    std::uint64_t number_ = 0;        // Content-Length, chunk size or remaining body bytes
    std::uint64_t body_bytes_ = 0;    // of a chunked body so far
    std::uint32_t line_bytes_ = 0;    // of the request line, or of a chunk-size line
    std::uint32_t header_bytes_ = 0;  // of the whole header section (or trailer section)
    std::uint16_t header_count_ = 0;
    std::uint16_t match_ = 0;         // position in the name or token being matched
    State state_{};
    Field field_{};
    std::uint8_t method_ = 0;   // method::* in framer.cpp
    std::uint16_t flags_ = 0;   // flag::* in framer.cpp
    std::uint8_t list_ = 0;     // token-list state of the current field value
    std::uint8_t hosts_ = 0;    // Host field lines seen (saturates)
    std::uint8_t version_ = 0;  // minor version: 0 or 1
    std::uint8_t pending_ = 0;  // a byte that decides later (CR awaiting LF, digit of a version)
};

}  // namespace uring_okay
