// uring-okay-load's command line, wrk's where wrk has one (-t -c -d -H, the URL last or
// anywhere), and the request it sends. Pure: no sockets; the request file is the only file read.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace uring_okay::load {

inline constexpr std::uint32_t threads_max = 256;
inline constexpr std::uint32_t connections_max = 100'000;
inline constexpr std::uint32_t pipeline_max = 1024;
inline constexpr std::size_t batch_bytes_max = 16 << 20;  // one write: the request x pipeline
inline constexpr std::uint64_t ms_ns = 1'000'000;
inline constexpr std::uint64_t s_ns = 1'000'000'000;

struct Options {
    std::string url;
    std::string host;         // for the Host field: "127.0.0.1", "[::1]", "localhost"
    std::string host_lookup;  // for getaddrinfo: the host without brackets
    std::uint16_t port = 80;
    std::string path = "/";
    std::uint32_t threads = 0;  // 0: one per CPU of --cpus (or of the affinity mask)
    std::uint32_t connections = 64;
    std::uint32_t pipeline = 1;  // requests per write
    std::vector<std::uint16_t> cpus;
    std::uint64_t duration_ns = 10 * s_ns;
    std::uint64_t warmup_ns = 0;
    std::uint64_t timeout_ns = 2 * s_ns;  // for connects and for each batch's responses
    std::uint64_t requests = 0;           // 0: run for duration_ns
    double rate = 0;                      // requests/s in all; 0: closed loop
    std::string method;                   // empty: GET, or POST with a body
    std::vector<std::string> headers;
    std::string body;
    bool has_body = false;
    std::string request_file;
    bool close = false;  // Connection: close, a new connection per request
    bool retry = true;   // write again what a used connection lost before any answer byte
    std::string json_path;
    bool progress = true;
};

struct Parsed {
    enum class Kind : std::uint8_t { run, help, version, error };
    Kind kind = Kind::run;
    Options options;
    std::string error;  // "--pipeline 0: must be from 1 to 1024"
};
[[nodiscard]] Parsed parse_options(int argc, const char* const* argv);
[[nodiscard]] std::string usage();

// "5s", "250ms", "100us", "2m", "1h"; a bare number is seconds.
[[nodiscard]] bool parse_duration(std::string_view text, std::uint64_t& ns);
// "100000", "100k", "1.5M".
[[nodiscard]] bool parse_count(std::string_view text, double& count);
// "1", "0-3,6".
[[nodiscard]] bool parse_cpu_list(std::string_view text, std::vector<std::uint16_t>& cpus);
// "http://host[:port][/path]"; IPv6 hosts in brackets.
[[nodiscard]] bool parse_url(std::string_view url, Options& options, std::string& error);

// The bytes of one request, and whether it is a HEAD (its answers have no body).
struct Request {
    std::string bytes;
    bool head = false;
    bool idempotent = false;  // RFC 9110 §9.2.2: may be retried after a lost connection
};
// GET, HEAD, OPTIONS, TRACE, PUT, DELETE (RFC 9110 §9.2.2).
[[nodiscard]] bool is_idempotent(std::string_view method);
// From the flags, or the raw bytes of --request-file. False with `error` set when the file
// cannot be read or is not a request.
[[nodiscard]] bool build_request(const Options& options, Request& request, std::string& error);

}  // namespace uring_okay::load
