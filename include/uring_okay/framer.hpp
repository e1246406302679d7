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

// What a connection still owes, oldest first, in at most runs_max runs (256 bytes). A run is
// either k answers of one kind (k pipelined GETs are one run, whatever k is), or up to 32
// answers that mix GET and HEAD of one family (get/head, get_keep_alive/head_keep_alive) as a bit
// pattern. The one answer after which the connection closes (Connection: close, an error) needs
// no run: nothing follows it. A client that pipelines more than that is answered what fit, then
// closed (RFC 9112 §9.3.2: it retries the rest).
class Owed {
public:
    static constexpr std::uint32_t runs_max = 32;
    static constexpr std::uint32_t mixed_max = 32;  // answers in one mixed run

    // false when it would need one run too many. `route`: which configured answer (0: the
    // default), for the kinds that answer with it.
    [[nodiscard]] bool push(Kind kind, std::uint8_t route = 0) noexcept;
    [[nodiscard]] bool empty() const noexcept { return runs_used_ == 0 && !has_last_; }
    [[nodiscard]] Kind front_kind() const noexcept;
    [[nodiscard]] std::uint8_t front_route() const noexcept;
    [[nodiscard]] std::uint32_t front_count() const noexcept;  // of front_kind, in a row
    void pop(std::uint32_t count) noexcept;  // answers of the front kind that left
    [[nodiscard]] std::uint64_t total() const noexcept { return total_; }
    [[nodiscard]] std::uint64_t count(Kind kind) const noexcept;  // over every run
    void clear() noexcept { *this = Owed{}; }

private:
    // Uniform: the kind and a count. Mixed: the family's GET kind, how many answers, and one
    // bit per answer (1 = HEAD), the oldest in bit 0.
    struct Run {
        std::uint32_t bits_or_count = 0;
        std::uint8_t kind = 0;
        std::uint8_t mixed_count = 0;  // 0: a uniform run
        std::uint8_t route = 0;
    };
    [[nodiscard]] Run& tail() noexcept { return runs_[(head_ + runs_used_ - 1) % runs_max]; }
    [[nodiscard]] static bool append(Run& run, Kind kind, std::uint8_t route) noexcept;

    std::array<Run, runs_max> runs_{};
    std::uint64_t total_ = 0;
    std::uint8_t head_ = 0;
    std::uint8_t runs_used_ = 0;
    Kind last_ = Kind::get;  // the closing answer, owed after every run
    std::uint8_t last_route_ = 0;
    bool has_last_ = false;
};

// The paths that have answers of their own (--route, --health-path), sorted, matched while the
// request-target streams past: no byte of it is kept. Route i + 1 is paths[i]; 0 is the default.
struct Routes {
    static constexpr std::size_t max = 16;
    std::string_view paths[max];
    std::uint8_t count = 0;
    std::uint8_t health = 0;  // the route that answers 503 while draining, or 0
};

class Framer {
public:
    explicit Framer(const Limits& limits, const Routes* routes = nullptr) noexcept
        : limits_(&limits), routes_(routes) {}

    // Frames `bytes`, which continue whatever was fed before, and appends one kind to `owed` per
    // complete request, in order. On an error the error answer is appended and every later
    // byte is ignored; after a request that closes the connection, too.
    [[nodiscard]] Verdict feed(std::string_view bytes, Owed& owed) noexcept;

    void reset() noexcept { *this = Framer{*limits_, routes_}; }
    // From now on every request is answered 503 and closes (a drain's lame-duck phase), or only
    // those for the health route (a drain).
    void answer_unavailable(bool all) noexcept { unavailable_ = all ? 2 : 1; }
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
    void match_route(Cursor from, Cursor to) noexcept;
    void end_path() noexcept;
    [[nodiscard]] std::uint8_t route_matched() const noexcept { return route_; }
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
    const Routes* routes_;
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
    std::uint8_t route_lo_ = 0;  // routes still matching the path so far: [lo, hi)
    std::uint8_t route_hi_ = 0;
    std::uint8_t route_ = 0;     // the route of the request, once its path ended
    std::uint16_t path_bytes_ = 0;  // of the path matched so far
    std::uint8_t unavailable_ = 0;  // 1: the health route answers 503; 2: every request does
};

}  // namespace uring_okay
