// Response framing by RFC 9112 §6.3, in the order it gives: HEAD, 1xx, 204 and 304 have no body;
// Transfer-Encoding ending in chunked is chunked, any other Transfer-Encoding runs to the close;
// then Content-Length; else the body runs to the close. Lenient where a client may be (bare LF,
// empty lines before a status line), strict where a wrong guess would desynchronise the stream.
#include "response_framer.hpp"

#include <strings.h>

#include <cstring>

namespace uring_okay::load {
namespace {

constexpr bool is_space(char c) {
    return c == ' ' || c == '\t';
}
constexpr bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

bool equals_lower(std::string_view text, std::string_view lower) {
    return text.size() == lower.size() && strncasecmp(text.data(), lower.data(), text.size()) == 0;
}

// Calls `each` with every comma-separated element, trimmed, empty ones skipped.
template <typename Each>
void for_each_element(std::string_view list, Each each) {
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        const std::string_view element = trim(list.substr(0, comma));
        if (!element.empty()) each(element);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

constexpr std::uint64_t content_length_max = std::uint64_t(1) << 62;

}  // namespace

const char* describe(FrameError error) noexcept {
    switch (error) {
        case FrameError::none:
            return "none";
        case FrameError::not_http:
            return "not HTTP (the answer does not start with \"HTTP/\")";
        case FrameError::bad_status_line:
            return "malformed status line";
        case FrameError::bad_version:
            return "not HTTP/1.x";
        case FrameError::bad_field:
            return "malformed header field";
        case FrameError::bad_content_length:
            return "malformed Content-Length";
        case FrameError::bad_chunk:
            return "malformed chunk";
        case FrameError::line_too_long:
            return "header line too long";
        case FrameError::head_too_long:
            return "header section too long";
        case FrameError::switching_protocols:
            return "101 Switching Protocols";
        case FrameError::truncated:
            return "connection closed inside a response";
    }
    return "unknown";
}

void ResponseFramer::reset() noexcept {
    state_ = State::status_line;
    status_ = 0;
    http_1_0_ = close_field_ = keep_alive_field_ = false;
    has_content_length_ = has_transfer_encoding_ = chunked_last_ = false;
    head_bytes_ = 0;
    content_length_ = body_left_ = 0;
    error_ = FrameError::none;
    line_used_ = line_bytes_ = 0;
}

bool ResponseFramer::take_line(std::string_view& bytes, std::string_view& line,
                               bool& cut) noexcept {
    const auto* newline = static_cast<const char*>(std::memchr(bytes.data(), '\n', bytes.size()));
    const std::size_t piece = newline ? std::size_t(newline - bytes.data()) : bytes.size();
    const std::size_t total = line_bytes_ + piece;  // of the line so far
    if (total >= line_bytes_max) {
        error_ = FrameError::line_too_long;
        return false;
    }
    cut = false;
    if (line_bytes_ == 0 && newline != nullptr) {
        line = bytes.substr(0, piece);  // the whole line is here: no copy
    } else {
        const std::size_t room = line_kept_max - line_used_;
        const std::size_t kept = piece < room ? piece : room;
        std::memcpy(line_ + line_used_, bytes.data(), kept);
        line_used_ += std::uint32_t(kept);
        line_bytes_ = std::uint32_t(total);
        if (newline == nullptr) {
            bytes.remove_prefix(piece);
            return false;
        }
        line = std::string_view(line_, line_used_);
        cut = line_bytes_ > line_used_;
        line_used_ = line_bytes_ = 0;
    }
    bytes.remove_prefix(piece + 1);
    if (state_ != State::chunk_size && state_ != State::chunk_crlf) {
        head_bytes_ += std::uint32_t(total) + 1;  // and the LF
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return true;
}

Framed ResponseFramer::next(std::string_view& bytes) noexcept {
    for (;;) {
        switch (state_) {
            case State::status_line:
            case State::fields:
            case State::chunk_size:
            case State::chunk_crlf:
            case State::trailers: {
                std::string_view line;
                bool cut = false;
                if (!take_line(bytes, line, cut)) {
                    if (error_ != FrameError::none) return fail(error_);
                    // Say "not HTTP" from the first bytes: an SSH banner or a TLS alert may
                    // never send a newline.
                    const std::size_t seen = line_used_ < 5 ? line_used_ : 5;
                    if (state_ == State::status_line && seen > 0 && line_[0] != '\r' &&
                        std::memcmp(line_, "HTTP/", seen) != 0) {
                        return fail(FrameError::not_http);
                    }
                    return {};
                }
                if (head_bytes_ > head_bytes_max) return fail(FrameError::head_too_long);
                FrameError error = FrameError::none;
                switch (state_) {
                    case State::status_line:
                        if (line.empty()) break;  // stray CRLF between responses
                        error = on_status_line(line);
                        if (error == FrameError::none) state_ = State::fields;
                        break;
                    case State::fields:
                        if (!line.empty()) {
                            error = on_field_line(line, cut);
                        } else if (start_body()) {
                            return complete();
                        }
                        break;
                    case State::chunk_size:
                        error = on_chunk_size_line(line);
                        break;
                    case State::chunk_crlf:
                        if (!line.empty()) error = FrameError::bad_chunk;
                        state_ = State::chunk_size;
                        break;
                    default:  // trailers: ignored until the empty line
                        if (line.empty()) return complete();
                        break;
                }
                if (error != FrameError::none) return fail(error);
                break;
            }
            case State::body_length:
            case State::chunk_data: {
                const std::uint64_t skip = body_left_ < bytes.size() ? body_left_ : bytes.size();
                bytes.remove_prefix(std::size_t(skip));
                body_left_ -= skip;
                if (body_left_ > 0) return {};
                if (state_ == State::body_length) return complete();
                state_ = State::chunk_crlf;
                break;
            }
            case State::body_until_close:
                bytes = {};
                return {};
            case State::failed:
                return {Framed::Kind::error, 0, true, error_};
        }
    }
}

Framed ResponseFramer::on_eof() noexcept {
    if (state_ == State::body_until_close) return complete();
    if (state_ == State::failed) return {Framed::Kind::error, 0, true, error_};
    if (idle()) return {};
    return fail(FrameError::truncated);
}

FrameError ResponseFramer::on_status_line(std::string_view line) noexcept {
    // HTTP-version SP status-code SP [reason-phrase]; a missing reason's SP is forgiven.
    if (line.size() < 5 || std::memcmp(line.data(), "HTTP/", 5) != 0) return FrameError::not_http;
    if (line.size() < 12 || !is_digit(line[5]) || line[6] != '.' || !is_digit(line[7]) ||
        line[8] != ' ' || !is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
        (line.size() > 12 && line[12] != ' ')) {
        return FrameError::bad_status_line;
    }
    if (line[5] != '1') return FrameError::bad_version;
    http_1_0_ = line[7] == '0';
    status_ = std::uint16_t((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (status_ < 100) return FrameError::bad_status_line;
    return FrameError::none;
}

FrameError ResponseFramer::on_field_line(std::string_view line, bool cut) noexcept {
    if (is_space(line.front())) return FrameError::none;  // obs-fold: a value we do not read
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos && cut) return FrameError::none;  // a long name: not ours
    if (colon == 0 || colon == std::string_view::npos) return FrameError::bad_field;
    const std::string_view name = line.substr(0, colon);
    // Only three names matter; the first letter turns most lines away at once.
    const char first = char(name.front() | 0x20);
    if (first != 'c' && first != 't') return FrameError::none;
    const bool ours = equals_lower(name, "content-length") ||
                      equals_lower(name, "transfer-encoding") || equals_lower(name, "connection");
    if (ours && cut) return FrameError::line_too_long;  // a value we cannot read whole
    const std::string_view value = trim(line.substr(colon + 1));
    if (equals_lower(name, "content-length")) {
        bool bad = false;
        for_each_element(value, [&](std::string_view element) {
            std::uint64_t length = 0;
            for (const char c : element) {
                if (!is_digit(c) || length > content_length_max / 10) bad = true;
                length = length * 10 + std::uint64_t(c - '0');
            }
            // RFC 9112 §6.3: a list of identical values is one value; differing ones are not.
            if (has_content_length_ && length != content_length_) bad = true;
            content_length_ = length;
            has_content_length_ = true;
        });
        if (bad || !has_content_length_) return FrameError::bad_content_length;
    } else if (equals_lower(name, "transfer-encoding")) {
        has_transfer_encoding_ = true;
        for_each_element(value, [&](std::string_view coding) {
            chunked_last_ = equals_lower(coding, "chunked");
        });
    } else if (equals_lower(name, "connection")) {
        for_each_element(value, [&](std::string_view option) {
            if (equals_lower(option, "close")) close_field_ = true;
            if (equals_lower(option, "keep-alive")) keep_alive_field_ = true;
        });
    }
    return FrameError::none;
}

FrameError ResponseFramer::on_chunk_size_line(std::string_view line) noexcept {
    std::uint64_t size = 0;
    std::size_t digits = 0;
    for (; digits < line.size(); ++digits) {
        const char c = char(line[digits] | 0x20);
        int value = 0;
        if (is_digit(c)) {
            value = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            value = c - 'a' + 10;
        } else {
            break;
        }
        if (digits == 15) return FrameError::bad_chunk;  // 2^60 bytes is no chunk
        size = size * 16 + std::uint64_t(value);
    }
    if (digits == 0) return FrameError::bad_chunk;
    const std::string_view rest = trim(line.substr(digits));
    if (!rest.empty() && rest.front() != ';') return FrameError::bad_chunk;  // chunk-ext only
    if (size == 0) {
        state_ = State::trailers;
    } else {
        body_left_ = size;
        state_ = State::chunk_data;
    }
    return FrameError::none;
}

bool ResponseFramer::start_body() noexcept {
    if (status_ < 200) {
        if (status_ == 101) {
            (void)fail(FrameError::switching_protocols);
            return false;
        }
        reset();  // 100 Continue, 103 Early Hints: interim, the real answer follows
        return false;
    }
    if (head_ || status_ == 204 || status_ == 304) return true;
    if (has_transfer_encoding_) {
        state_ = chunked_last_ ? State::chunk_size : State::body_until_close;
        return false;
    }
    if (has_content_length_) {
        if (content_length_ == 0) return true;
        body_left_ = content_length_;
        state_ = State::body_length;
        return false;
    }
    state_ = State::body_until_close;
    return false;
}

Framed ResponseFramer::complete() noexcept {
    const bool closes =
        close_field_ || (http_1_0_ && !keep_alive_field_) || state_ == State::body_until_close;
    const Framed framed{Framed::Kind::response, status_, closes, FrameError::none};
    reset();
    return framed;
}

Framed ResponseFramer::fail(FrameError error) noexcept {
    state_ = State::failed;
    error_ = error;
    return {Framed::Kind::error, 0, true, error};
}

}  // namespace uring_okay::load
