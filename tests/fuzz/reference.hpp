// An independent, deliberately plain reading of a request stream, for the differential check:
// it finds lines with find("\r\n"), splits them with string functions and knows only a strict
// subset of RFC 9112 that no reasonable reader disagrees on: origin-form (or OPTIONS *) request
// lines of HTTP/1.0 and 1.1, token names with printable ASCII values, one Host, at most one
// Content-Length of plain digits or Transfer-Encoding: chunked, chunk extensions without
// whitespace, trailers. Anything else (and anything near a default limit) is outside the subset
// and ends the reading there: it is no judgement that the bytes are wrong. Shares no code with
// the framer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "uring_okay/framer.hpp"

namespace reference {

struct Request {
    std::size_t begin = 0;  // leading empty lines belong to the request they precede
    std::size_t end = 0;    // one past its last byte
    uring_okay::Kind kind = uring_okay::Kind::get;
};

enum class Stop : std::uint8_t {
    whole,          // every byte read as requests, or the rest follows a closing request
    incomplete,     // the bytes end inside a request that was inside the subset so far
    outside,        // bytes outside the subset (which may or may not be valid HTTP)
};

struct Reading {
    std::vector<Request> requests;
    Stop stop = Stop::whole;
};

namespace detail {

inline bool is_tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
inline bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (const char c : text) {
        if (!is_tchar(c)) return false;
    }
    return true;
}
inline std::string lowered(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return out;
}
inline std::string_view trimmed(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}
inline bool all_of(std::string_view text, bool (*allowed)(char)) {
    for (const char c : text) {
        if (!allowed(c)) return false;
    }
    return true;
}
inline bool printable(char c) { return (c >= 0x20 && c <= 0x7e) || c == '\t'; }
inline bool visible(char c) { return c >= 0x21 && c <= 0x7e; }
inline bool digit(char c) { return c >= '0' && c <= '9'; }
inline bool hex(char c) {
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
inline bool host_char(char c) {
    return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
           c == '-' || c == ':' || c == '[' || c == ']';
}
inline std::uint64_t number(std::string_view digits, int base) {
    std::uint64_t value = 0;
    for (const char c : digits) {
        const int d = digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
        value = value * std::uint64_t(base) + std::uint64_t(d);
    }
    return value;
}

// The reader's position in the stream; each step returns false where the subset ends.
struct Reader {
    std::string_view stream;
    std::size_t at = 0;
    Stop stop = Stop::whole;

    // The next line without its CRLF; false (incomplete) when no CRLF follows.
    bool line(std::string_view& out) {
        const std::size_t end = stream.find("\r\n", at);
        if (end == std::string_view::npos) return fail(Stop::incomplete);
        out = stream.substr(at, end - at);
        at = end + 2;
        return true;
    }
    bool fail(Stop why) {
        stop = why;
        return false;
    }
};

struct Fields {
    int hosts = 0;
    int content_lengths = 0;
    int transfer_encodings = 0;
    std::uint64_t content_length = 0;
    bool chunked = false;
    bool close = false;
    bool keep_alive = false;
};

// Field lines up to the empty line. `framing` false (trailers): names are not looked at.
inline bool read_fields(Reader& r, Fields& fields, bool framing) {
    const std::size_t start = r.at;
    for (int count = 0;; ++count) {
        std::string_view text;
        if (!r.line(text)) return false;
        if (text.empty()) return true;
        if (count == 50 || r.at - start > 8000) return r.fail(Stop::outside);  // near a limit
        const std::size_t colon = text.find(':');
        if (colon == std::string_view::npos || !is_token(text.substr(0, colon))) {
            return r.fail(Stop::outside);
        }
        const std::string_view value = trimmed(text.substr(colon + 1));
        if (!all_of(value, printable)) return r.fail(Stop::outside);
        if (!framing) continue;
        const std::string name = lowered(text.substr(0, colon));
        if (name == "host") {
            if (value.empty() || !all_of(value, host_char)) return r.fail(Stop::outside);
            ++fields.hosts;
        } else if (name == "content-length") {
            if (value.empty() || value.size() > 12 || !all_of(value, digit)) {
                return r.fail(Stop::outside);
            }
            ++fields.content_lengths;
            fields.content_length = number(value, 10);
        } else if (name == "transfer-encoding") {
            if (lowered(value) != "chunked") return r.fail(Stop::outside);
            ++fields.transfer_encodings;
            fields.chunked = true;
        } else if (name == "connection") {
            std::string_view rest = value;
            for (;;) {
                const std::size_t comma = rest.find(',');
                const std::string_view element = trimmed(rest.substr(0, comma));
                if (!is_token(element)) return r.fail(Stop::outside);
                if (lowered(element) == "close") fields.close = true;
                if (lowered(element) == "keep-alive") fields.keep_alive = true;
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
        } else if (name == "expect") {
            return r.fail(Stop::outside);
        }
    }
}

// chunk *( ";" token [ "=" token ] ) CRLF data CRLF ... last-chunk trailers CRLF.
inline bool read_chunks(Reader& r) {
    for (;;) {
        std::string_view text;
        if (!r.line(text)) return false;
        const std::size_t semicolon = text.find(';');
        const std::string_view size = text.substr(0, semicolon);
        if (size.empty() || size.size() > 12 || !all_of(size, hex)) return r.fail(Stop::outside);
        if (semicolon != std::string_view::npos) {
            std::string_view extensions = text.substr(semicolon + 1);
            for (;;) {
                const std::size_t next = extensions.find(';');
                const std::string_view extension = extensions.substr(0, next);
                const std::size_t equals = extension.find('=');
                if (!is_token(extension.substr(0, equals)) ||
                    (equals != std::string_view::npos && !is_token(extension.substr(equals + 1)))) {
                    return r.fail(Stop::outside);
                }
                if (next == std::string_view::npos) break;
                extensions.remove_prefix(next + 1);
            }
        }
        const std::uint64_t bytes = number(size, 16);
        if (bytes == 0) {
            Fields trailers;
            return read_fields(r, trailers, false);
        }
        if (bytes > r.stream.size() - r.at) return r.fail(Stop::incomplete);
        r.at += bytes;
        if (r.stream.size() - r.at < 2) return r.fail(Stop::incomplete);
        if (r.stream.substr(r.at, 2) != "\r\n") return r.fail(Stop::outside);
        r.at += 2;
    }
}

inline bool read_request(Reader& r, uring_okay::Kind& kind) {
    while (r.stream.substr(r.at, 2) == "\r\n") r.at += 2;  // RFC 9112 §2.2
    if (r.at == r.stream.size() || r.stream.substr(r.at) == "\r") return r.fail(Stop::incomplete);
    std::string_view text;
    if (!r.line(text)) return false;
    const std::size_t first = text.find(' ');
    const std::size_t second = text.find(' ', first == std::string_view::npos ? 0 : first + 1);
    if (first == std::string_view::npos || second == std::string_view::npos || text.size() > 4000) {
        return r.fail(Stop::outside);
    }
    const std::string_view method = text.substr(0, first);
    const std::string_view target = text.substr(first + 1, second - first - 1);
    const std::string_view version = text.substr(second + 1);
    if (method.empty() || method.size() > 20) return r.fail(Stop::outside);
    for (const char c : method) {
        if (c < 'A' || c > 'Z') return r.fail(Stop::outside);
    }
    if (method == "CONNECT") return r.fail(Stop::outside);
    const bool asterisk = method == "OPTIONS" && target == "*";
    if (!asterisk && (target.empty() || target[0] != '/' || !all_of(target, visible))) {
        return r.fail(Stop::outside);
    }
    if (version != "HTTP/1.0" && version != "HTTP/1.1") return r.fail(Stop::outside);
    const bool http10 = version == "HTTP/1.0";

    Fields fields;
    if (!read_fields(r, fields, true)) return false;
    if (fields.hosts > 1 || (!http10 && fields.hosts == 0) || fields.content_lengths > 1 ||
        fields.transfer_encodings > 1 || (fields.chunked && (http10 || fields.content_lengths))) {
        return r.fail(Stop::outside);
    }
    if (fields.chunked) {
        if (!read_chunks(r)) return false;
    } else if (fields.content_length > 0) {
        if (fields.content_length > r.stream.size() - r.at) return r.fail(Stop::incomplete);
        r.at += fields.content_length;
    }

    const bool head = method == "HEAD";
    using uring_okay::Kind;
    if (fields.close || (http10 && !fields.keep_alive)) {
        kind = head ? Kind::head_close : Kind::get_close;
    } else if (http10) {
        kind = head ? Kind::head_keep_alive : Kind::get_keep_alive;
    } else {
        kind = head ? Kind::head : Kind::get;
    }
    return true;
}

}  // namespace detail

// Requests up to where the stream ends, leaves the subset, or follows a closing request.
inline Reading read(std::string_view stream) {
    Reading reading;
    detail::Reader r{stream};
    while (r.at < stream.size()) {
        Request request;
        request.begin = r.at;
        if (!detail::read_request(r, request.kind)) {
            reading.stop = r.stop;
            break;
        }
        request.end = r.at;
        reading.requests.push_back(request);
        if (uring_okay::closes_after(request.kind)) break;
    }
    return reading;
}

}  // namespace reference
