// What load_test needs around uring-okay-load: running it with a deadline, small loopback
// servers of our own (one that delays every answer, one that answers with anything but HTTP),
// and nginx in a temporary directory. Every wait is bounded; every thread is joined.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.hpp"

#ifndef UO_LOAD_BINARY
#define UO_LOAD_BINARY "/tmp/uring-okay-load"
#endif

namespace load_test {

using e2e::Clock;  // one clock and one unit for every loopback test's deadlines
using e2e::Ms;

inline std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// A temporary directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        char path[] = "/tmp/uring-okay-load-test-XXXXXX";
        if (mkdtemp(path) != nullptr) path_ = path;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
    }
    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

struct LoadRun {
    int exit_code = -1;  // 128 + signal when it was killed
    std::string out;
    std::string err;
    double seconds = 0;
    bool timed_out = false;
};

// Runs uring-okay-load with `args`; SIGKILL after `timeout`.
inline LoadRun run_load(std::vector<std::string> args, Ms timeout = Ms(20'000)) {
    TempDir dir;
    const std::string out_path = dir.file("out");
    const std::string err_path = dir.file("err");
    args.insert(args.begin(), UO_LOAD_BINARY);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const auto started = Clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int null_fd = open("/dev/null", O_RDONLY);
        dup2(null_fd, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        execv(argv[0], argv.data());
        _exit(127);
    }
    LoadRun run;
    int status = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        if (Clock::now() - started > timeout) {
            run.timed_out = true;
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        std::this_thread::sleep_for(Ms(5));
    }
    run.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    run.out = read_file(out_path);
    run.err = read_file(err_path);
    return run;
}

// A number that follows `key` in `text` ("\"requests\": " -> 1000); -1 when absent.
inline double number_after(const std::string& text, const std::string& key) {
    const std::size_t at = text.find(key);
    if (at == std::string::npos) return -1;
    return std::strtod(text.c_str() + at + key.size(), nullptr);
}

// A listening socket on 127.0.0.1 with a port the kernel chose.
inline int listen_loopback(int& port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    socklen_t size = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    port = ntohs(address.sin_port);
    return fd;
}

// A port nothing listens on (taken from the kernel, then given back).
inline int free_port() {
    int port = 0;
    const int fd = listen_loopback(port);
    close(fd);
    return port;
}

// A test server with a thread per connection: answers each request (an empty line ends it;
// requests have no body here) with `answer` after `delay`; or, with `greeting`, writes that at
// once and then only reads. Counts what it answered. Stops, joining every thread, when it goes.
class TinyServer {
public:
    struct Behaviour {
        Ms delay{0};
        std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
        std::string greeting;  // sent on accept ("SSH-2.0-..."): then nothing is answered
        bool silent = false;   // accept and read, never answer
        int close_at_request = 0;  // n > 0: the n-th request of a connection is read, not
                                   // answered, and the connection closed (an idle close racing it)
    };
    static Behaviour delayed(Ms delay) {
        Behaviour behaviour;
        behaviour.delay = delay;
        return behaviour;
    }
    static Behaviour greeting(std::string text) {
        Behaviour behaviour;
        behaviour.greeting = std::move(text);
        return behaviour;
    }
    static Behaviour closing_at_request(int n) {
        Behaviour behaviour;
        behaviour.close_at_request = n;
        return behaviour;
    }
    static Behaviour silent() {
        Behaviour behaviour;
        behaviour.silent = true;
        return behaviour;
    }
    explicit TinyServer(Behaviour behaviour) : behaviour_(std::move(behaviour)) {
        listen_fd_ = listen_loopback(port_);
        if (listen_fd_ >= 0) acceptor_ = std::thread([this] { accept_loop(); });
    }
    TinyServer(const TinyServer&) = delete;
    TinyServer& operator=(const TinyServer&) = delete;
    ~TinyServer() {
        stopping_ = true;
        if (acceptor_.joinable()) acceptor_.join();
        std::lock_guard lock(mutex_);
        for (std::thread& thread : connections_) thread.join();
        if (listen_fd_ >= 0) close(listen_fd_);
    }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] bool ready() const { return listen_fd_ >= 0; }
    [[nodiscard]] long answered() const { return answered_; }

private:
    void accept_loop() {
        while (!stopping_) {
            pollfd entry{listen_fd_, POLLIN, 0};
            if (poll(&entry, 1, 20) <= 0) continue;
            const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0) continue;
            std::lock_guard lock(mutex_);
            connections_.emplace_back([this, fd] { serve(fd); });
        }
    }
    void serve(int fd) {
        if (!behaviour_.greeting.empty()) {
            (void)!write(fd, behaviour_.greeting.data(), behaviour_.greeting.size());
        }
        std::string pending;
        char buffer[4096];
        int requests = 0;
        while (!stopping_ && (behaviour_.close_at_request == 0 ||
                              requests < behaviour_.close_at_request)) {
            pollfd entry{fd, POLLIN, 0};
            if (poll(&entry, 1, 20) <= 0) continue;
            const ssize_t got = read(fd, buffer, sizeof buffer);
            if (got <= 0) break;
            pending.append(buffer, std::size_t(got));
            for (std::size_t end; (end = pending.find("\r\n\r\n")) != std::string::npos;) {
                pending.erase(0, end + 4);
                if (++requests == behaviour_.close_at_request) break;
                if (behaviour_.silent || !behaviour_.greeting.empty()) continue;
                std::this_thread::sleep_for(behaviour_.delay);
                if (send(fd, behaviour_.answer.data(), behaviour_.answer.size(), MSG_NOSIGNAL) <
                    0) {
                    break;
                }
                ++answered_;
            }
        }
        close(fd);
    }

    Behaviour behaviour_;
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<long> answered_{0};
    std::thread acceptor_;
    std::mutex mutex_;
    std::vector<std::thread> connections_;
};

inline const char* nginx_binary() {
    for (const char* path : {"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/bin/nginx"}) {
        if (access(path, X_OK) == 0) return path;
    }
    return nullptr;
}

// nginx, one worker, in a temporary directory: `return 200 "OK"` on a free loopback port, an
// access log to count requests by, keep-alive connections closed after `keepalive_requests`.
class Nginx {
public:
    explicit Nginx(int keepalive_requests) {
        const char* binary = nginx_binary();
        if (binary == nullptr || dir_.path().empty()) return;
        port_ = free_port();
        const std::string& d = dir_.path();
        std::ofstream(dir_.file("nginx.conf"))
            << "daemon off;\nmaster_process on;\nworker_processes 1;\n"
            << "pid " << d << "/nginx.pid;\nerror_log " << d << "/error.log;\n"
            << "events { worker_connections 1024; }\n"
            << "http {\n  access_log " << d << "/access.log;\n"
            << "  client_body_temp_path " << d << "/body;\n  proxy_temp_path " << d << "/proxy;\n"
            << "  fastcgi_temp_path " << d << "/fastcgi;\n  uwsgi_temp_path " << d << "/uwsgi;\n"
            << "  scgi_temp_path " << d << "/scgi;\n"
            << "  keepalive_requests " << keepalive_requests << ";\n"
            << "  server {\n    listen 127.0.0.1:" << port_ << ";\n"
            << "    location / { return 200 \"OK\"; }\n  }\n}\n";
        pid_ = fork();
        if (pid_ == 0) {
            const int log = open(dir_.file("stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            dup2(log, STDOUT_FILENO);
            dup2(log, STDERR_FILENO);
            execl(binary, binary, "-p", d.c_str(), "-e", (d + "/error.log").c_str(), "-c",
                  dir_.file("nginx.conf").c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        // Ready when it accepts.
        const auto deadline = Clock::now() + Ms(5'000);
        while (Clock::now() < deadline && !ready_) {
            const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in address{};
            address.sin_family = AF_INET;
            address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            address.sin_port = htons(std::uint16_t(port_));
            ready_ = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
            close(fd);
            if (!ready_) std::this_thread::sleep_for(Ms(20));
            if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
        }
    }
    Nginx(const Nginx&) = delete;
    Nginx& operator=(const Nginx&) = delete;
    ~Nginx() { stop(); }

    [[nodiscard]] bool ready() const { return ready_; }
    [[nodiscard]] int port() const { return port_; }
    [[nodiscard]] std::string why_not_ready() {
        return read_file(dir_.file("stderr")) + read_file(dir_.file("error.log"));
    }
    // Stops it (SIGQUIT: graceful, the log complete), then counts the access log's lines.
    long requests_logged() {
        stop();
        const std::string log = read_file(dir_.file("access.log"));
        long lines = 0;
        for (const char c : log) lines += c == '\n';
        return lines;
    }

private:
    void stop() {
        if (pid_ <= 0) return;
        kill(pid_, SIGQUIT);
        const auto deadline = Clock::now() + Ms(5'000);
        while (waitpid(pid_, nullptr, WNOHANG) != pid_) {
            if (Clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, nullptr, 0);
                break;
            }
            std::this_thread::sleep_for(Ms(10));
        }
        pid_ = -1;
    }

    TempDir dir_;
    pid_t pid_ = -1;
    int port_ = 0;
    bool ready_ = false;
};

}  // namespace load_test
