// The load generator's response framer (RFC 9112 §6.3): where each response ends, its status,
// and whether the connection closes after it. A pure function of the bytes fed, in any cuts;
// it keeps no byte of the input beyond the first bytes of one split line (256 bytes a
// connection). Knows no sockets, rings or clocks.
#pragma once

#include <cstdint>
#include <string_view>

namespace uring_okay::load {

// Why a stream is not HTTP/1.x we can frame; none while it is.
enum class FrameError : std::uint8_t {
    none,
    not_http,             // the first bytes are not "HTTP/"
    bad_status_line,      // "HTTP/1.1 200 OK" in another shape
    bad_version,          // HTTP/x.y with x != 1
    bad_field,            // a field line without a colon
    bad_content_length,   // not digits, too large, or two different values
    bad_chunk,            // a chunk size line or the CRLF after a chunk
    line_too_long,        // one line past line_bytes_max
    head_too_long,        // the status line and fields past head_bytes_max
    switching_protocols,  // 101: the stream is no longer HTTP/1.x
    truncated,            // EOF inside a response that is not close-delimited
};
[[nodiscard]] const char* describe(FrameError error) noexcept;

// What next() found.
struct Framed {
    enum class Kind : std::uint8_t { more, response, error };
    Kind kind = Kind::more;
    std::uint16_t status = 0;  // for a response
    bool closes = false;       // the server closes after it (Connection: close, HTTP/1.0, EOF body)
    FrameError error = FrameError::none;
};

class ResponseFramer {
public:
    static constexpr std::uint32_t line_bytes_max = 65536;
    static constexpr std::uint32_t head_bytes_max = 262144;
    // Of a line split across feeds, the first bytes are kept: the status code, a field's name
    // and the short values we read are all within them.
    static constexpr std::uint32_t line_kept_max = 256;

    // Every response on this connection answers a HEAD: no body, whatever the fields say.
    explicit ResponseFramer(bool head = false) noexcept : head_(head) {}

    // Consumes bytes from the front of `bytes` up to the end of the next complete response and
    // returns it; or consumes all of them and returns `more`; or returns the error (after which
    // the framer stays in error). Interim 1xx responses are consumed, not returned.
    [[nodiscard]] Framed next(std::string_view& bytes) noexcept;
    // The peer closed: completes a close-delimited body; `truncated` inside any other response;
    // `more` (nothing owed) between responses.
    [[nodiscard]] Framed on_eof() noexcept;
    // Between responses, nothing of one seen yet.
    [[nodiscard]] bool idle() const noexcept {
        return state_ == State::status_line && line_bytes_ == 0;
    }
    // A fresh connection.
    void reset() noexcept;

private:
    enum class State : std::uint8_t {
        status_line,
        fields,
        body_length,
        chunk_size,
        chunk_data,
        chunk_crlf,
        trailers,
        body_until_close,
        failed,
    };

    // The next whole line (CRLF or LF taken off) into `line`, joined from earlier cuts when
    // split (then only its first line_kept_max bytes, `cut` says whether there were more);
    // false when `bytes` ended first, or with error_ set when the line is too long.
    [[nodiscard]] bool take_line(std::string_view& bytes, std::string_view& line,
                                 bool& cut) noexcept;
    [[nodiscard]] FrameError on_status_line(std::string_view line) noexcept;
    [[nodiscard]] FrameError on_field_line(std::string_view line, bool cut) noexcept;
    [[nodiscard]] FrameError on_chunk_size_line(std::string_view line) noexcept;
    // The head ended: choose how the body is framed. True when the response is complete now.
    [[nodiscard]] bool start_body() noexcept;
    Framed complete() noexcept;
    Framed fail(FrameError error) noexcept;

    bool head_ = false;
    State state_ = State::status_line;
    // This response's head.
    std::uint16_t status_ = 0;
    bool http_1_0_ = false;
    bool close_field_ = false;
    bool keep_alive_field_ = false;
    bool has_content_length_ = false;
    bool has_transfer_encoding_ = false;
    bool chunked_last_ = false;  // the last transfer coding seen is chunked
    std::uint32_t head_bytes_ = 0;
    std::uint64_t content_length_ = 0;
    std::uint64_t body_left_ = 0;  // bytes of the body (or of this chunk) still to skip
    FrameError error_ = FrameError::none;
    // A line split across feeds: its first bytes, and how long it is so far.
    std::uint32_t line_used_ = 0;
    std::uint32_t line_bytes_ = 0;
    char line_[line_kept_max];
};

}  // namespace uring_okay::load
