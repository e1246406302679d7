// Flags into Options, each checked with its range, and the request they describe. Errors name
// the flag, the value and what was wanted, as uring-okay's own flags do.
#include "options.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace uring_okay::load {
namespace {

bool parse_uint(std::string_view text, std::uint64_t& value) {
    if (text.empty()) return false;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double& value) {
    if (text.empty() || text.size() > 63) return false;
    char copy[64];
    std::memcpy(copy, text.data(), text.size());
    copy[text.size()] = '\0';
    char* end = nullptr;
    errno = 0;
    value = std::strtod(copy, &end);
    return errno == 0 && end == copy + text.size() && std::isfinite(value) && value >= 0;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = char(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return out;
}

bool has_field(const std::vector<std::string>& headers, std::string_view name) {
    for (const std::string& header : headers) {
        const std::size_t colon = header.find(':');
        if (lower(std::string_view(header).substr(0, colon)) == name) return true;
    }
    return false;
}

}  // namespace

bool parse_duration(std::string_view text, std::uint64_t& ns) {
    struct Unit {
        std::string_view suffix;
        double ns;
    };
    constexpr Unit units[] = {{"ms", 1e6}, {"us", 1e3},   {"ns", 1}, {"s", 1e9},
                              {"m", 60e9}, {"h", 3600e9}, {"", 1e9}};
    for (const Unit& unit : units) {
        if (text.size() <= unit.suffix.size() || !text.ends_with(unit.suffix)) continue;
        double value = 0;
        if (!parse_double(text.substr(0, text.size() - unit.suffix.size()), value)) return false;
        const double total = value * unit.ns;
        if (total > 1e18) return false;
        ns = std::uint64_t(std::llround(total));
        return true;
    }
    return false;
}

bool parse_count(std::string_view text, double& count) {
    double scale = 1;
    if (text.ends_with('k') || text.ends_with('K')) scale = 1e3;
    if (text.ends_with('M')) scale = 1e6;
    if (text.ends_with('G')) scale = 1e9;
    if (scale != 1) text.remove_suffix(1);
    if (!parse_double(text, count)) return false;
    count *= scale;
    return count <= 1e15;
}

bool parse_cpu_list(std::string_view text, std::vector<std::uint16_t>& cpus) {
    cpus.clear();
    while (!text.empty()) {
        const std::size_t comma = text.find(',');
        const std::string_view range = text.substr(0, comma);
        const std::size_t dash = range.find('-');
        std::uint64_t first = 0;
        std::uint64_t last = 0;
        if (!parse_uint(range.substr(0, dash), first)) return false;
        last = first;
        if (dash != std::string_view::npos && !parse_uint(range.substr(dash + 1), last))
            return false;
        if (last < first || last >= 4096) return false;
        for (std::uint64_t cpu = first; cpu <= last; ++cpu) cpus.push_back(std::uint16_t(cpu));
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return !cpus.empty();
}

bool parse_url(std::string_view url, Options& options, std::string& error) {
    options.url = std::string(url);
    if (url.starts_with("https://")) {
        error = std::string(url) + ": https is not supported (plain HTTP/1.1 only)";
        return false;
    }
    if (!url.starts_with("http://")) {
        error = std::string(url) + ": expected http://HOST[:PORT][/PATH]";
        return false;
    }
    url.remove_prefix(7);
    const std::size_t slash = url.find('/');
    std::string_view authority = url.substr(0, slash);
    options.path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
    std::string_view port_text;
    if (authority.starts_with('[')) {  // [v6]:port
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            error = options.url + ": unclosed '[' in the host";
            return false;
        }
        options.host_lookup = std::string(authority.substr(1, close - 1));
        options.host = std::string(authority.substr(0, close + 1));
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') {
            error = options.url + ": expected ':' after ']'";
            return false;
        }
        if (!rest.empty()) port_text = rest.substr(1);
    } else {
        const std::size_t colon = authority.rfind(':');
        options.host_lookup = std::string(authority.substr(0, colon));
        options.host = options.host_lookup;
        if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
    }
    if (options.host_lookup.empty()) {
        error = options.url + ": no host";
        return false;
    }
    options.port = 80;
    if (!port_text.empty()) {
        std::uint64_t port = 0;
        if (!parse_uint(port_text, port) || port == 0 || port > 65535) {
            error = options.url + ": the port must be from 1 to 65535";
            return false;
        }
        options.port = std::uint16_t(port);
    }
    return true;
}

// The methods a client may send again when a connection is lost under them.
bool is_idempotent(std::string_view method) {
    for (const std::string_view safe : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"}) {
        if (method == safe) return true;
    }
    return false;
}

bool build_request(const Options& options, Request& request, std::string& error) {
    if (!options.request_file.empty()) {
        std::ifstream file(options.request_file, std::ios::binary);
        if (!file) {
            error = "--request-file " + options.request_file + ": " + std::strerror(errno);
            return false;
        }
        request.bytes.assign(std::istreambuf_iterator<char>(file), {});
        const std::size_t space = request.bytes.find(' ');
        const bool ends_head = request.bytes.find("\n\n") != std::string::npos ||
                               request.bytes.find("\r\n\r\n") != std::string::npos;
        if (space == std::string::npos || !ends_head) {
            error = "--request-file " + options.request_file +
                    ": not an HTTP request (a request line, fields, an empty line)";
            return false;
        }
        request.head = request.bytes.compare(0, space, "HEAD") == 0;
        request.idempotent = is_idempotent(std::string_view(request.bytes).substr(0, space));
        return true;
    }
    const std::string method = !options.method.empty() ? options.method
                               : options.has_body      ? "POST"
                                                       : "GET";
    std::string& out = request.bytes;
    out = method + " " + options.path + " HTTP/1.1\r\n";
    if (!has_field(options.headers, "host")) {
        out += "Host: " + options.host;
        if (options.port != 80) out += ":" + std::to_string(options.port);
        out += "\r\n";
    }
    for (const std::string& header : options.headers) out += header + "\r\n";
    if (options.has_body && !has_field(options.headers, "content-length")) {
        out += "Content-Length: " + std::to_string(options.body.size()) + "\r\n";
    }
    if (options.close && !has_field(options.headers, "connection")) out += "Connection: close\r\n";
    out += "\r\n";
    out += options.body;
    request.head = method == "HEAD";
    request.idempotent = is_idempotent(method);
    return true;
}

}  // namespace uring_okay::load

namespace uring_okay::load {
namespace {

// What one flag does with its value; false with `error` set when the value is out of range.
using Apply = bool (*)(Options& options, std::string_view value, std::string& error);

struct Flag {
    std::string_view name;  // "--threads"
    char short_name;        // 't', or 0
    bool takes_value;
    Apply apply;
};

bool apply_count(std::string_view value, std::uint64_t low, std::uint64_t high, std::uint64_t& out,
                 std::string& error) {
    double count = 0;
    if (!parse_count(value, count) || count != std::floor(count) || count < double(low) ||
        count > double(high)) {
        error =
            "must be a whole number from " + std::to_string(low) + " to " + std::to_string(high);
        return false;
    }
    out = std::uint64_t(count);
    return true;
}

bool apply_duration(std::string_view value, std::uint64_t& out, bool zero_ok, std::string& error) {
    if (!parse_duration(value, out) || (!zero_ok && out == 0)) {
        error = zero_ok ? "must be a duration such as 5s, 500ms or 2m"
                        : "must be a positive duration such as 5s, 500ms or 2m";
        return false;
    }
    return true;
}

constexpr Flag flags[] = {
    {"--threads", 't', true,
     [](Options& o, std::string_view v, std::string& e) {
         std::uint64_t n = 0;
         if (!apply_count(v, 1, threads_max, n, e)) return false;
         o.threads = std::uint32_t(n);
         return true;
     }},
    {"--connections", 'c', true,
     [](Options& o, std::string_view v, std::string& e) {
         std::uint64_t n = 0;
         if (!apply_count(v, 1, connections_max, n, e)) return false;
         o.connections = std::uint32_t(n);
         return true;
     }},
    {"--duration", 'd', true,
     [](Options& o, std::string_view v, std::string& e) {
         return apply_duration(v, o.duration_ns, false, e);
     }},
    {"--cpus", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         if (parse_cpu_list(v, o.cpus)) return true;
         e = "must be a CPU list such as 1 or 0-3,6 (CPUs below 4096)";
         return false;
     }},
    {"--pipeline", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         std::uint64_t n = 0;
         if (!apply_count(v, 1, pipeline_max, n, e)) return false;
         o.pipeline = std::uint32_t(n);
         return true;
     }},
    {"--requests", 'n', true,
     [](Options& o, std::string_view v, std::string& e) {
         return apply_count(v, 1, std::uint64_t(1e15), o.requests, e);
     }},
    {"--warmup", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         return apply_duration(v, o.warmup_ns, true, e);
     }},
    {"--rate", 'R', true,
     [](Options& o, std::string_view v, std::string& e) {
         if (parse_count(v, o.rate) && o.rate > 0 && o.rate <= 1e9) return true;
         e = "must be requests per second, above 0 and at most 1G (such as 5000 or 20k)";
         return false;
     }},
    {"--timeout", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         return apply_duration(v, o.timeout_ns, false, e);
     }},
    {"--method", 'm', true,
     [](Options& o, std::string_view v, std::string& e) {
         for (const char c : v) {
             if (c <= ' ' || c >= 127) {
                 e = "must be a token such as GET or HEAD";
                 return false;
             }
         }
         o.method = std::string(v);
         return !v.empty();
     }},
    {"--path", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         if (v.empty() || v.find_first_of(" \r\n") != std::string_view::npos) {
             e = "must be a request target without spaces, such as /health";
             return false;
         }
         o.path = std::string(v);
         return true;
     }},
    {"--header", 'H', true,
     [](Options& o, std::string_view v, std::string& e) {
         const std::size_t colon = v.find(':');
         if (colon == 0 || colon == std::string_view::npos ||
             v.find_first_of("\r\n") != std::string_view::npos) {
             e = "must be 'Name: value' on one line";
             return false;
         }
         o.headers.emplace_back(v);
         return true;
     }},
    {"--body", 0, true,
     [](Options& o, std::string_view v, std::string&) {
         o.body = std::string(v);
         o.has_body = true;
         return true;
     }},
    {"--body-size", 0, true,
     [](Options& o, std::string_view v, std::string& e) {
         std::uint64_t n = 0;
         if (!apply_count(v, 0, batch_bytes_max, n, e)) return false;
         o.body.assign(std::size_t(n), 'x');
         o.has_body = true;
         return true;
     }},
    {"--request-file", 0, true,
     [](Options& o, std::string_view v, std::string&) {
         o.request_file = std::string(v);
         return !v.empty();
     }},
    {"--close", 0, false,
     [](Options& o, std::string_view, std::string&) {
         o.close = true;
         return true;
     }},
    {"--no-retry", 0, false,
     [](Options& o, std::string_view, std::string&) {
         o.retry = false;
         return true;
     }},
    {"--json", 0, true,
     [](Options& o, std::string_view v, std::string&) {
         o.json_path = std::string(v);
         return !v.empty();
     }},
    {"--no-progress", 0, false,
     [](Options& o, std::string_view, std::string&) {
         o.progress = false;
         return true;
     }},
    {"--latency", 0, false,  // wrk's; the distribution is always shown
     [](Options&, std::string_view, std::string&) { return true; }},
};

const Flag* find_flag(std::string_view name) {
    for (const Flag& flag : flags) {
        if (flag.name == name) return &flag;
        if (name.size() == 2 && name[0] == '-' && flag.short_name != 0 &&
            name[1] == flag.short_name) {
            return &flag;
        }
    }
    return nullptr;
}

// Checks that need every flag: which combine and which do not.
std::string check_together(const Options& options, bool has_url, bool request_flags) {
    if (!has_url) return "no URL: uring-okay-load [flags] http://HOST:PORT/PATH (see --help)";
    if (options.close && options.pipeline > 1) {
        return "--close and --pipeline: a closing request is the last on its connection";
    }
    if (!options.request_file.empty() && request_flags) {
        return "--request-file: the file is the whole request; drop --method, --path, --header, "
               "--body";
    }
    return {};
}

}  // namespace

Parsed parse_options(int argc, const char* const* argv) {
    Parsed parsed;
    Options& options = parsed.options;
    bool has_url = false;
    bool path_flag = false;
    bool request_flags = false;
    std::string path;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help") return {Parsed::Kind::help, {}, {}};
        if (arg == "-v" || arg == "--version") return {Parsed::Kind::version, {}, {}};
        if (!arg.starts_with('-') || arg == "-") {
            if (has_url) return {Parsed::Kind::error, {}, std::string(arg) + ": a second URL"};
            std::string error;
            if (!parse_url(arg, options, error)) return {Parsed::Kind::error, {}, error};
            has_url = true;
            continue;
        }
        std::string_view name = arg;
        std::string_view value;
        bool has_value = false;
        if (arg.starts_with("--")) {
            if (const std::size_t equals = arg.find('='); equals != std::string_view::npos) {
                name = arg.substr(0, equals);
                value = arg.substr(equals + 1);
                has_value = true;
            }
        } else if (arg.size() > 2) {  // -t1, -c64, -d5s
            name = arg.substr(0, 2);
            value = arg.substr(2);
            has_value = true;
        }
        const Flag* flag = find_flag(name);
        if (flag == nullptr) return {Parsed::Kind::error, {}, std::string(name) + ": unknown flag"};
        if (flag->takes_value && !has_value) {
            if (i + 1 >= argc)
                return {Parsed::Kind::error, {}, std::string(name) + ": needs a value"};
            value = argv[++i];
        } else if (!flag->takes_value && has_value) {
            return {Parsed::Kind::error, {}, std::string(name) + ": takes no value"};
        }
        std::string error = "must not be empty";
        const std::string url_path = options.path;
        if (!flag->apply(options, value, error)) {
            return {Parsed::Kind::error,
                    {},
                    std::string(flag->name) + " " + std::string(value) + ": " + error};
        }
        for (const std::string_view request_flag :
             {"--method", "--path", "--header", "--body", "--body-size"}) {
            request_flags = request_flags || flag->name == request_flag;
        }
        if (flag->name == "--path") {
            path_flag = true;
            path = options.path;
            options.path = url_path;
        }
    }
    if (path_flag) options.path = path;  // --path wins over the URL's, wherever the URL came
    if (std::string error = check_together(options, has_url, request_flags); !error.empty()) {
        return {Parsed::Kind::error, {}, error};
    }
    return parsed;
}

std::string usage() {
    return R"(usage: uring-okay-load [flags] http://HOST[:PORT][/PATH]

An io_uring HTTP/1.1 load generator: one pinned thread per CPU, keep-alive connections spread
over them, responses framed by Content-Length, chunked or close, latency in a log-linear
histogram (within 1 %). Like wrk: uring-okay-load -t 1 -c 64 -d 5s http://127.0.0.1:8080/

Load
  -t, --threads N        threads, each pinned to one CPU (default: one per CPU of --cpus)
  -c, --connections N    connections in all, spread over the threads (default 64)
  -d, --duration D       how long to measure: 10s, 500ms, 2m (default 10s)
  -n, --requests N       send exactly N requests instead of running for a duration
      --warmup D         load without measuring first (default 0)
      --cpus LIST        CPUs for the threads, such as 1 or 2-5 (default: the affinity mask)
      --pipeline D       requests per write; the next write waits for all D answers (default 1)
  -R, --rate R           open loop: R requests/s in all, at fixed intervals per connection;
                         latency counts from when each request was due (no coordinated omission)
      --close            Connection: close, a new connection for every request
      --timeout D        for a connect and for the answers to a write (default 2s)
      --no-retry         count requests lost when a used keep-alive connection closes before
                         any byte of their answer as errors (default: write them again on a
                         new connection, as RFC 9112 §9.3.1 allows for idempotent methods)

Request
  -m, --method M         default GET (POST with a body)
      --path P           default: the URL's
  -H, --header 'N: v'    repeatable; Host is added unless given
      --body TEXT        with Content-Length
      --body-size BYTES  a body of that many 'x'
      --request-file F   send the file's bytes as they are (one request)

Output
      --json FILE        the results as JSON too
      --no-progress      no progress line each second (shown only when stderr is a terminal)
  -h, --help, -v, --version

Exit status: 0 after a run with answers; 1 when none came (the reason is printed: refused,
unreachable, not HTTP, timed out) or the start failed; 2 for a bad flag.
)";
}

}  // namespace uring_okay::load
