// The self-probe (`uring-okay healthcheck`, `--check`): the server's own flags and environment
// name the address, kubelet's httpGet rules say what to send and what counts as healthy.
// A non-blocking socket and poll against one deadline; fixed buffers, no allocation, no engine.
#include "uring_okay/healthcheck.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "uring_okay/listener.hpp"
#include "uring_okay/text.hpp"

namespace uring_okay {
namespace {

constexpr std::string_view timeout_flag = "--check-timeout";
constexpr std::string_view timeout_variable = "URING_OKAY_CHECK_TIMEOUT";
// After the status line: read on until the server closes, at most this much, so that closing
// does not reset a connection with an answer still arriving.
constexpr std::size_t drain_bytes_max = 64 * 1024;

constexpr std::string_view usage =
    "usage: uring-okay healthcheck [--check-timeout DURATION] [server flags...]\n"
    "       uring-okay --check [--check-timeout DURATION] [server flags...]\n"
    "Probes the server that the same flags and URING_OKAY_* environment would start: a new\n"
    "connection to its first --listen address (0.0.0.0 as 127.0.0.1, [::] as [::1]), GET /\n"
    "(or the --health-path) with Connection: close. Prints one line; exits 0 on a status from\n"
    "200 to 399, else 1.\n"
    "  --check-timeout DURATION  the whole probe's deadline, like 500ms or 2s (default 1s);\n"
    "                            environment URING_OKAY_CHECK_TIMEOUT\n";

[[nodiscard]] std::int64_t now_ms() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::int64_t(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

[[nodiscard]] ProbeResult outcome(ProbeOutcome what, int error = 0) noexcept {
    return ProbeResult{what, 0, error};
}

// `answered` once fd is ready for `events` (or hung up), `timed_out` when the deadline passed
// first, or poll's `failed`.
[[nodiscard]] ProbeResult wait_until(int fd, short events, std::int64_t deadline_ms) noexcept {
    for (;;) {
        const std::int64_t left_ms = deadline_ms - now_ms();
        if (left_ms <= 0) return outcome(ProbeOutcome::timed_out);
        pollfd entry{fd, events, 0};
        const int ready = poll(&entry, 1, int(left_ms));
        if (ready > 0) return outcome(ProbeOutcome::answered);
        if (ready < 0 && errno != EINTR) return outcome(ProbeOutcome::failed, errno);
    }
}

class Socket {
public:
    explicit Socket(int fd) noexcept : fd_(fd) {}
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    ~Socket() {
        if (fd_ >= 0) close(fd_);
    }
    [[nodiscard]] int fd() const noexcept { return fd_; }

private:
    int fd_;
};

// The connection, up to the deadline; `answered` here means connected.
ProbeResult connect_by(int fd, const ListenAddress& target, std::int64_t deadline_ms) noexcept {
    sockaddr_storage address;
    const socklen_t length = to_sockaddr(target, target.port, address);
    int error = 0;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
            const ProbeResult waited = wait_until(fd, POLLOUT, deadline_ms);
            if (waited.outcome != ProbeOutcome::answered) return waited;
            socklen_t size = sizeof error;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
        }
    }
    if (error == ECONNREFUSED) return outcome(ProbeOutcome::refused);
    if (error == ETIMEDOUT) return outcome(ProbeOutcome::timed_out);
    if (error != 0) return outcome(ProbeOutcome::failed, error);
    return outcome(ProbeOutcome::answered);
}

// The request, as kubelet sends it, all of it before the deadline.
ProbeResult send_request(int fd, const ListenAddress& target, std::string_view path,
                         std::int64_t deadline_ms) noexcept {
    char request[512];
    Text line{request, sizeof request};
    line.add("GET ").add(path).add(" HTTP/1.1\r\nHost: ");
    add_endpoint(line, target).add("\r\nUser-Agent: uring-okay-healthcheck\r\nAccept: */*\r\n");
    line.add("Connection: close\r\n\r\n");
    std::string_view rest{request, line.bytes()};
    while (!rest.empty()) {
        const ssize_t sent = send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
        if (sent > 0) {
            rest.remove_prefix(std::size_t(sent));
            continue;
        }
        if (sent < 0 && errno == EINTR) continue;
        if (sent < 0 && errno != EAGAIN) {
            const int error = errno;
            return outcome(
                error == ECONNRESET || error == EPIPE ? ProbeOutcome::closed : ProbeOutcome::failed,
                error);
        }
        const ProbeResult waited = wait_until(fd, POLLOUT, deadline_ms);
        if (waited.outcome != ProbeOutcome::answered) return waited;
    }
    return outcome(ProbeOutcome::answered);
}

// Reads until the server closes, drain_bytes_max or the deadline, whichever comes first.
void drain(int fd, std::int64_t deadline_ms) noexcept {
    char bytes[4096];
    for (std::size_t total = 0; total < drain_bytes_max;) {
        const ssize_t got = recv(fd, bytes, sizeof bytes, 0);
        if (got == 0) return;
        if (got > 0) {
            total += std::size_t(got);
        } else if (errno != EAGAIN && errno != EINTR) {
            return;
        } else if (errno == EAGAIN &&
                   wait_until(fd, POLLIN, deadline_ms).outcome != ProbeOutcome::answered) {
            return;
        }
    }
}

// The status line, up to the deadline.
ProbeResult read_status(int fd, std::int64_t deadline_ms) noexcept {
    char bytes[256];
    std::size_t used = 0;
    for (;;) {
        const ssize_t got = recv(fd, bytes + used, sizeof bytes - used, 0);
        if (got > 0) {
            used += std::size_t(got);
            const StatusLine line = parse_status_line({bytes, used});
            if (line.state == StatusLineState::malformed) return outcome(ProbeOutcome::not_http);
            if (line.state == StatusLineState::complete) {
                drain(fd, deadline_ms);
                return ProbeResult{ProbeOutcome::answered, line.status, 0};
            }
            continue;  // the parser decides within 13 bytes: bytes never fills up
        }
        if (got == 0 || errno == ECONNRESET) return outcome(ProbeOutcome::closed);
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return outcome(ProbeOutcome::failed, errno);
        const ProbeResult waited = wait_until(fd, POLLIN, deadline_ms);
        if (waited.outcome != ProbeOutcome::answered) return waited;
    }
}

[[nodiscard]] std::optional<std::string_view> find_variable(const char* const* environment,
                                                            std::string_view name) noexcept {
    for (; environment != nullptr && *environment != nullptr; ++environment) {
        const std::string_view entry = *environment;
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    }
    return std::nullopt;
}

// The one line we print: `length` bytes in `line`, written there by a Text told one byte less
// than its size (what does not fit is cut, the newline always fits), and the newline.
void write_line(int fd, char* line, std::size_t length) noexcept {
    line[length] = '\n';
    write_all(fd, {line, length + 1});
}

// Takes --check-timeout out of argv (the server's parser would call it unknown); returns
// the new argc, or -1 when the flag is last and has no value.
int take_timeout_flag(int argc, char** argv, std::optional<std::string_view>& timeout_text) {
    int kept = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == timeout_flag) {
            if (i + 1 == argc) return -1;
            timeout_text = argv[++i];
        } else if (argument.starts_with(timeout_flag) && argument[timeout_flag.size()] == '=') {
            timeout_text = argument.substr(timeout_flag.size() + 1);
        } else {
            argv[kept++] = argv[i];
        }
    }
    return kept;
}

}  // namespace

StatusLine parse_status_line(std::string_view bytes) noexcept {
    // One character class per position of "HTTP/d.d ddd" and the byte that ends the code.
    constexpr std::string_view shape = "HTTP/9.9 999e";
    const std::size_t checked = bytes.size() < shape.size() ? bytes.size() : shape.size();
    for (std::size_t i = 0; i < checked; ++i) {
        const char c = bytes[i];
        const bool fits = shape[i] == '9'   ? c >= '0' && c <= '9'
                          : shape[i] == 'e' ? c == ' ' || c == '\r' || c == '\n'
                                            : c == shape[i];
        if (!fits) return StatusLine{StatusLineState::malformed, 0};
    }
    if (bytes.size() < shape.size()) return StatusLine{};
    const auto status =
        std::uint16_t((bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0'));
    if (status < 100) return StatusLine{StatusLineState::malformed, 0};
    return StatusLine{StatusLineState::complete, status};
}

std::optional<std::uint32_t> parse_check_timeout_ms(std::string_view text) noexcept {
    std::size_t digits = 0;
    const std::uint64_t number = leading_decimal(text, digits);
    if (digits == 0) return std::nullopt;
    const std::string_view unit = text.substr(digits);
    std::uint64_t scale = 0;
    if (unit == "ms") scale = 1;
    if (unit == "s") scale = 1000;
    if (scale == 0 || number == 0 || number > check_timeout_ms_max / scale) return std::nullopt;
    return std::uint32_t(number * scale);
}

ListenAddress probe_address(const ListenAddress& listen) noexcept {
    ListenAddress target = listen;
    const std::size_t bytes = listen.family == AF_INET6 ? 16 : 4;
    bool wildcard = true;
    for (std::size_t i = 0; i < bytes; ++i) wildcard = wildcard && listen.address[i] == 0;
    if (!wildcard) return target;
    if (listen.family == AF_INET6) {
        target.address[15] = 1;  // ::1
    } else {
        const std::uint8_t loopback[4] = {127, 0, 0, 1};
        std::memcpy(target.address, loopback, sizeof loopback);
    }
    return target;
}

ProbeResult probe_http(const ListenAddress& target, std::string_view path,
                       std::uint32_t timeout_ms) noexcept {
    const std::int64_t deadline_ms = now_ms() + timeout_ms;
    const Socket socket_fd{socket(target.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    const int fd = socket_fd.fd();
    if (fd < 0) return outcome(ProbeOutcome::failed, errno);
    ProbeResult step = connect_by(fd, target, deadline_ms);
    if (step.outcome != ProbeOutcome::answered) return step;
    step = send_request(fd, target, path, deadline_ms);
    if (step.outcome != ProbeOutcome::answered) return step;
    return read_status(fd, deadline_ms);
}

bool ready_condition_holds(const ReadyCondition& condition, std::uint32_t timeout_ms) noexcept {
    if (!condition.tcp) {
        char path[4096];
        if (condition.path.size() >= sizeof path) return false;
        std::memcpy(path, condition.path.data(), condition.path.size());
        path[condition.path.size()] = '\0';
        return access(path, F_OK) == 0;
    }
    const Socket socket_fd{
        socket(condition.address.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (socket_fd.fd() < 0) return false;
    const std::int64_t deadline_ms = now_ms() + timeout_ms;
    return connect_by(socket_fd.fd(), condition.address, deadline_ms).outcome ==
           ProbeOutcome::answered;
}

std::string_view probe_path(const Config& config) noexcept {
    const Routes& routes = config.routes;
    return routes.health > 0 && routes.health <= routes.count ? routes.paths[routes.health - 1]
                                                              : std::string_view("/");
}

std::size_t describe_probe(const ListenAddress& target, std::string_view path,
                           const ProbeResult& result, std::uint32_t timeout_ms, char* out,
                           std::size_t size) noexcept {
    Text line{out, size};
    add_endpoint(line.add("healthcheck: "), target).add(path == "/" ? "" : path);
    switch (result.outcome) {
        case ProbeOutcome::answered:
            line.add(" answered ").add(std::uint64_t{result.status});
            break;
        case ProbeOutcome::refused:
            line.add(" refused");
            break;
        case ProbeOutcome::timed_out:
            line.add(" timed out after ").add(timeout_ms).add(" ms");
            break;
        case ProbeOutcome::closed:
            line.add(" closed the connection without an answer");
            break;
        case ProbeOutcome::not_http:
            line.add(" answered, but not with an HTTP/1.x status line");
            break;
        case ProbeOutcome::failed: {
            const std::string_view name = errno_name(result.error);
            line.add(" failed: ").add(name);
            if (name == "errno") line.add(" ").add(std::uint64_t(result.error));
            break;
        }
    }
    return line.bytes();
}

int run_healthcheck(int argc, char** argv, const char* const* environment) noexcept {
    char text[768];
    Text error{text, sizeof text - 1};  // a usage error, on stderr
    error.add("uring-okay healthcheck: ");
    const auto refuse = [&] {  // once `error` holds the rest of its line
        write_line(STDERR_FILENO, text, error.bytes());
        return unhealthy_exit;
    };
    std::optional<std::string_view> timeout_text = find_variable(environment, timeout_variable);
    const int kept = take_timeout_flag(argc, argv, timeout_text);
    if (kept < 0) {
        error.add(timeout_flag).add(": needs a value");
        return refuse();
    }
    std::uint32_t timeout_ms = check_timeout_ms_default;
    if (timeout_text) {
        const std::optional<std::uint32_t> parsed = parse_check_timeout_ms(*timeout_text);
        if (!parsed) {
            error.add(timeout_flag).push(' ').add(*timeout_text);
            error.add(": must be a duration from 1ms to 3600s, like 500ms or 2s");
            return refuse();
        }
        timeout_ms = *parsed;
    }

    Config config;
    const ParseResult parsed = parse_config(kept, argv, environment, config);
    if (parsed.outcome == ParseOutcome::usage_error) {
        error.add(parsed.message);
        return refuse();
    }
    if (parsed.outcome != ParseOutcome::run) {
        write_all(STDOUT_FILENO, usage);
        return healthy_exit;
    }
    const ListenAddress target = probe_address(config.listen[0]);
    if (target.port == 0) {
        Text line{text, sizeof text - 1};
        add_endpoint(line.add("healthcheck: "), target)
            .add(": port 0 is picked at start-up, so there is no port to probe");
        write_line(STDOUT_FILENO, text, line.bytes());
        return unhealthy_exit;
    }
    const std::string_view path = probe_path(config);
    const ProbeResult result = probe_http(target, path, timeout_ms);
    write_line(STDOUT_FILENO, text,
               describe_probe(target, path, result, timeout_ms, text, sizeof text - 1));
    return healthy(result) ? healthy_exit : unhealthy_exit;
}

}  // namespace uring_okay
