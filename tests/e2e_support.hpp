// The end-to-end harness: starts the real binary on loopback with an ephemeral port, talks to it
// as clients do, and frames its answers by Content-Length. Every wait has a deadline, and a
// server still running when its Server goes away is killed. Tests may use anything (STYLE §5).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef UO_BINARY
#define UO_BINARY "/tmp/e2e-uring-okay"
#endif

namespace e2e {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

inline int ms_until(Clock::time_point deadline) {
    const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    return left > 0 ? int(left) : 0;
}

// The server's process: stderr goes to a temporary file, so it never blocks on a full pipe.
class Server {
public:
    // Runs in the child between fork and exec: async-signal-safe calls only.
    using ChildSetup = void (*)();

    // Starts UO_BINARY with `args` and, unless told not to, waits up to 5 s for the start-up
    // line; ready() says whether it came.
    explicit Server(std::vector<std::string> args, ChildSetup setup = nullptr,
                    bool wait_for_start = true) {
        char path[] = "/tmp/uring-okay-e2e-XXXXXX";
        log_fd_ = mkostemp(path, O_CLOEXEC);
        if (log_fd_ < 0) {
            ADD_FAILURE() << "mkstemp: " << std::strerror(errno);
            return;
        }
        unlink(path);  // read through log_fd_: nothing is left behind, however the test ends
        args.insert(args.begin(), std::string(UO_BINARY));
        std::vector<char*> argv;
        for (std::string& arg : args) argv.push_back(arg.data());
        argv.push_back(nullptr);
        pid_ = fork();
        if (pid_ == 0) {
            const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
            dup2(null_fd, STDIN_FILENO);
            dup2(log_fd_, STDOUT_FILENO);
            dup2(log_fd_, STDERR_FILENO);
            if (setup != nullptr) setup();
            execv(argv[0], argv.data());
            _exit(127);
        }
        if (pid_ < 0) ADD_FAILURE() << "fork: " << std::strerror(errno);
        if (pid_ > 0 && wait_for_start) wait_for_start_line();
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;
    ~Server() {
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            check_log();
        }
        if (log_fd_ >= 0) close(log_fd_);
    }

    [[nodiscard]] bool ready() const { return port_ != 0; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] pid_t pid() const { return pid_; }
    [[nodiscard]] const std::string& start_line() const { return start_line_; }
    [[nodiscard]] std::string log() const {
        std::string text;
        char buffer[4096];
        for (ssize_t got; (got = pread(log_fd_, buffer, sizeof buffer, off_t(text.size()))) > 0;) {
            text.append(buffer, std::size_t(got));
        }
        return text;
    }

    // Sends `signal` and waits for the exit (SIGKILL and a failure after `timeout`). Returns
    // the exit code, 128 + the signal that ended it, or -1.
    int stop(int signal = SIGTERM, Ms timeout = Ms(10'000)) {
        if (pid_ <= 0 || exited_) return exit_code_;
        kill(pid_, signal);
        return wait_exit(timeout);
    }
    int wait_exit(Ms timeout) {
        const auto deadline = Clock::now() + timeout;
        while (pid_ > 0 && !exited_ && Clock::now() < deadline) {
            if (!reap(WNOHANG)) std::this_thread::sleep_for(Ms(5));
        }
        if (pid_ > 0 && !exited_) {
            ADD_FAILURE() << "the server did not exit within " << timeout.count() << " ms\n"
                          << log();
            kill(pid_, SIGKILL);
            reap(0);
            exit_code_ = -1;
        }
        return exit_code_;
    }

    // VmRSS from /proc/PID/status, in KiB (0 when unreadable).
    [[nodiscard]] long rss_kib() const {
        std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
        }
        return 0;
    }

private:
    bool reap(int options) {
        int status = 0;
        if (waitpid(pid_, &status, options) != pid_) return false;
        exited_ = true;
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        check_log();
        return true;
    }

    // A sanitizer report or a failed UO_ASSERT is a server bug, whatever the test checks.
    void check_log() const {
        const std::string text = log();
        for (const char* sign : {"Sanitizer", "runtime error:", "assertion failed"}) {
            if (text.find(sign) != std::string::npos) ADD_FAILURE() << "server stderr:\n" << text;
        }
    }

    // "... listening on 127.0.0.1:PORT, ..." or "[::1]:PORT, ...": the first address's port.
    void wait_for_start_line() {
        const auto deadline = Clock::now() + Ms(5'000);
        while (Clock::now() < deadline && !exited_) {
            const std::string text = log();
            const std::size_t at = text.find("listening on ");
            const std::size_t end = text.find('\n', at);
            if (at != std::string::npos && end != std::string::npos) {
                const std::size_t begin = text.rfind('\n', at) + 1;  // npos + 1 is 0
                start_line_ = text.substr(begin, end - begin);
                const std::size_t comma = text.find(',', at);
                port_ = std::atoi(text.c_str() + text.rfind(':', comma) + 1);
                return;
            }
            if (!reap(WNOHANG)) std::this_thread::sleep_for(Ms(5));
        }
        ADD_FAILURE() << "no start-up line within 5 s (exit status " << exit_code_
                      << ", -1: none); stderr:\n"
                      << log();
    }

    pid_t pid_ = -1;
    int port_ = 0;
    bool exited_ = false;
    int exit_code_ = -1;
    int log_fd_ = -1;  // the server's stdout and stderr
    std::string start_line_;
};

// Bytes of the complete response at the front of `bytes`, or 0 while it is incomplete.
inline std::size_t response_bytes(std::string_view bytes, bool head) {
    const std::size_t end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) return 0;
    std::size_t length = 0;
    for (std::size_t line = bytes.find("\r\n") + 2; !head && line < end;) {
        const std::size_t next = bytes.find("\r\n", line);
        if (strncasecmp(bytes.data() + line, "Content-Length:", 15) == 0) {
            length = std::strtoul(bytes.data() + line + 15, nullptr, 10);
        }
        line = next + 2;
    }
    return end + 4 + length <= bytes.size() ? end + 4 + length : 0;
}

// Takes "Date: <29 bytes>\r\n" lines out, so answers compare byte for byte. A Date of another
// length stays in and shows up in the comparison.
inline std::string strip_date(std::string text) {
    for (std::size_t at = 0; (at = text.find("\r\nDate: ", at)) != std::string::npos;) {
        const bool shaped = text.size() >= at + 39 && text.compare(at + 37, 2, "\r\n") == 0 &&
                            text.compare(at + 34, 3, "GMT") == 0;
        if (shaped)
            text.erase(at + 2, 37);
        else
            at += 2;
    }
    return text;
}

// What read_until_close saw: every byte, and whether the stream ended (EOF or reset).
struct Received {
    std::string bytes;
    bool closed = false;
};

// A loopback client on a non-blocking socket; every call takes a timeout.
class Client {
public:
    explicit Client(int port, const char* host = "127.0.0.1", Ms timeout = Ms(5'000)) {
        sockaddr_storage address{};
        socklen_t length = sizeof(sockaddr_in);
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
        if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
            v4->sin_family = AF_INET;
            v4->sin_port = htons(std::uint16_t(port));
        } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
            v6->sin6_family = AF_INET6;
            v6->sin6_port = htons(std::uint16_t(port));
            length = sizeof(sockaddr_in6);
        }
        fd_ = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd_ < 0) return;
        const int one = 1;  // each send its own segment, as a slow client's would be
        setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(fd_, reinterpret_cast<sockaddr*>(&address), length) == 0) {
            connected_ = true;
        } else if (errno == EINPROGRESS && wait(POLLOUT, int(timeout.count()))) {
            int error = 0;
            socklen_t size = sizeof error;
            getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
            connected_ = error == 0;
        }
    }
    Client(Client&& other) noexcept
        : fd_(std::exchange(other.fd_, -1)),
          connected_(other.connected_),
          pending_(std::move(other.pending_)) {}
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    ~Client() { close(); }

    [[nodiscard]] bool connected() const { return connected_; }
    [[nodiscard]] int fd() const { return fd_; }
    void close() {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }
    void half_close() { shutdown(fd_, SHUT_WR); }

    // False when the peer is gone or the bytes did not all leave in time.
    bool send_all(std::string_view bytes, Ms timeout = Ms(5'000)) {
        const auto deadline = Clock::now() + timeout;
        while (!bytes.empty()) {
            const ssize_t sent = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (sent > 0) {
                bytes.remove_prefix(std::size_t(sent));
            } else if (errno != EAGAIN || !wait(POLLOUT, ms_until(deadline))) {
                return false;
            }
        }
        return true;
    }

    // Everything until EOF or a reset, or until the timeout (then closed is false).
    Received read_until_close(Ms timeout) {
        const auto deadline = Clock::now() + timeout;
        Received received;
        while (!(received.closed = !read_some()) && wait(POLLIN, ms_until(deadline))) {
        }
        received.bytes = std::exchange(pending_, {});
        return received;
    }

    // Whole responses (status line, fields, body), framed by Content-Length; `heads[i]` says
    // the i-th answers HEAD, so has no body. Returns those that arrived complete in time.
    std::vector<std::string> read_responses_to(const std::vector<bool>& heads, Ms timeout) {
        const auto deadline = Clock::now() + timeout;
        std::vector<std::string> responses;
        std::size_t used = 0;
        bool open = true;
        while (responses.size() < heads.size()) {
            const std::size_t bytes =
                response_bytes(std::string_view(pending_).substr(used), heads[responses.size()]);
            if (bytes > 0) {
                responses.push_back(pending_.substr(used, bytes));
                used += bytes;
                continue;
            }
            if (!open || !wait(POLLIN, ms_until(deadline))) break;
            open = read_some();
        }
        pending_.erase(0, used);
        return responses;
    }
    std::vector<std::string> read_responses(std::size_t count, Ms timeout) {
        return read_responses_to(std::vector<bool>(count, false), timeout);
    }

private:
    // Appends what is readable now; false on EOF or an error other than EAGAIN.
    bool read_some() {
        char buffer[65536];
        for (;;) {
            const ssize_t got = recv(fd_, buffer, sizeof buffer, 0);
            if (got > 0) pending_.append(buffer, std::size_t(got));
            if (got == 0) return false;
            if (got < 0) return errno == EAGAIN || errno == EINTR;
        }
    }
    // Whether the socket became ready for `events` (or hung up) within `timeout_ms`.
    [[nodiscard]] bool wait(short events, int timeout_ms) const {
        pollfd entry{fd_, events, 0};
        return poll(&entry, 1, timeout_ms) > 0;
    }

    int fd_ = -1;
    bool connected_ = false;
    std::string pending_;  // received, not yet taken as a response
};

// A GET for `target` with Host and any more `fields` ("Name: value\r\n" each).
inline std::string get(std::string_view target, std::string_view fields = "") {
    return "GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n" + std::string(fields) +
           "\r\n";
}

// Every byte of the answer to one request on a fresh connection that asks to close.
inline std::string ask_once(int port, const std::string& request) {
    Client client(port);
    EXPECT_TRUE(client.send_all(request));
    const Received got = client.read_until_close(Ms(5'000));
    EXPECT_TRUE(got.closed);
    return got.bytes;
}

}  // namespace e2e
