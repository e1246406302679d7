// The self-probe: its status-line parser, its --check-timeout values, the address it probes, and
// `uring-okay healthcheck` end to end against a live server, one answering 503, a dead port and
// a port that accepts but never answers. Every run of the binary is bounded in time.
#include "uring_okay/healthcheck.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "e2e_support.hpp"

namespace {

using namespace uring_okay;
using e2e::Clock;
using e2e::Ms;
using e2e::Server;

// --- The parts ----------------------------------------------------------------------------------

TEST(StatusLine, ReadsTheStatusOfACompleteLine) {
    EXPECT_EQ(parse_status_line("HTTP/1.1 200 OK\r\n").status, 200);
    EXPECT_EQ(parse_status_line("HTTP/1.0 503 Service Unavailable\r\n").status, 503);
    EXPECT_EQ(parse_status_line("HTTP/1.1 204\r\n").status, 204);  // no SP before an empty reason
    EXPECT_EQ(parse_status_line("HTTP/1.1 302 \r\n").status, 302);
    EXPECT_EQ(parse_status_line("HTTP/1.1 999 x").status, 999);
    EXPECT_EQ(parse_status_line("HTTP/1.1 200 OK\r\n").state, StatusLineState::complete);
}

TEST(StatusLine, IsIncompleteAtEveryCutOfAValidLineAndMalformedAtTheFirstWrongByte) {
    const std::string_view line = "HTTP/1.1 404 Not Found\r\n";
    for (std::size_t cut = 0; cut < 13; ++cut) {
        EXPECT_EQ(parse_status_line(line.substr(0, cut)).state, StatusLineState::incomplete)
            << "cut " << cut;
    }
    for (std::size_t cut = 13; cut <= line.size(); ++cut) {
        const StatusLine parsed = parse_status_line(line.substr(0, cut));
        EXPECT_EQ(parsed.state, StatusLineState::complete) << "cut " << cut;
        EXPECT_EQ(parsed.status, 404) << "cut " << cut;
    }
    for (const std::string_view bad :
         {"SSH-2.0-OpenSSH", "http/1.1 200 OK", "HTTP/1.1  200 OK", "HTTP/11.1 200 OK",
          "HTTP/1.1 20x OK", "HTTP/1.1 2000 OK", "HTTP/1.1 099 Low", "HTTP/1.1 200\tOK", "\r\n"}) {
        EXPECT_EQ(parse_status_line(bad).state, StatusLineState::malformed) << bad;
    }
    EXPECT_EQ(parse_status_line("HTTX").state, StatusLineState::malformed);  // decided early
}

TEST(CheckTimeout, TakesMillisecondsOrSecondsUpToAnHour) {
    EXPECT_EQ(parse_check_timeout_ms("1s"), 1'000u);
    EXPECT_EQ(parse_check_timeout_ms("250ms"), 250u);
    EXPECT_EQ(parse_check_timeout_ms("1ms"), 1u);
    EXPECT_EQ(parse_check_timeout_ms("3600s"), 3'600'000u);
    for (const std::string_view bad : {"", "5", "0s", "0ms", "3601s", "1.5s", "-1s", "ms", "1m",
                                       "1 s", "99999999999999999999s", "1sec"}) {
        EXPECT_EQ(parse_check_timeout_ms(bad), std::nullopt) << bad;
    }
}

ListenAddress address(int family, std::string_view text, std::uint16_t port) {
    ListenAddress result;
    result.family = family;
    result.port = port;
    const std::string host(text);
    EXPECT_EQ(inet_pton(family, host.c_str(), result.address), 1) << text;
    return result;
}

std::string described(const ListenAddress& target, ProbeResult result, std::uint32_t timeout_ms) {
    char text[256];
    return std::string(text, describe_probe(target, "/", result, timeout_ms, text, sizeof text));
}

std::string formatted(const ListenAddress& address) {
    char text[address_text_bytes];
    format_address(address, text);
    return text;
}

TEST(FormatAddress, WritesWhatInetNtopWrites) {
    for (const char* text : {"0.0.0.0", "127.0.0.1", "255.255.255.255", "10.20.0.3"}) {
        EXPECT_EQ(formatted(address(AF_INET, text, 0)), text);
    }
    for (const char* text : {"::", "::1", "1::", "2001:db8::1", "2001:db8:0:1:1:1:1:1",
                             "1:0:0:2::3", "fe80::1:2:3:4", "::ffff:10.0.0.1", "1:2:3:4:5:6:7:8",
                             "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "0:1:0:1:0:1:0:1"}) {
        EXPECT_EQ(formatted(address(AF_INET6, text, 0)), text);
    }
    // Zero-heavy random addresses, against the C library's own formatting.
    std::uint32_t state = 12345;
    const auto next = [&state] { return state = state * 1'103'515'245u + 12'345u; };
    for (int round = 0; round < 20'000; ++round) {
        ListenAddress a;
        a.family = AF_INET6;
        for (int group = 0; group < 8; ++group) {
            const std::uint32_t pick = next() >> 16;
            const std::uint16_t value = pick % 3 == 0   ? 0
                                        : pick % 3 == 1 ? 1
                                                        : std::uint16_t(next());
            a.address[2 * group] = std::uint8_t(value >> 8);
            a.address[2 * group + 1] = std::uint8_t(value);
        }
        const bool compatible =
            std::all_of(a.address, a.address + 12, [](auto b) { return b == 0; });
        if (compatible) continue;  // glibc writes ::a.b.c.d there, musl and we hex; both valid
        char expected[INET6_ADDRSTRLEN];
        ASSERT_NE(inet_ntop(AF_INET6, a.address, expected, sizeof expected), nullptr);
        ASSERT_EQ(formatted(a), expected);
    }
}

TEST(ProbeAddress, TurnsWildcardsIntoLoopbackAndKeepsTheRest) {
    const ListenAddress v4 = probe_address(address(AF_INET, "0.0.0.0", 8080));
    EXPECT_EQ(described(v4, {ProbeOutcome::refused, 0, 0}, 1000),
              "healthcheck: 127.0.0.1:8080 refused");
    const ListenAddress v6 = probe_address(address(AF_INET6, "::", 9000));
    EXPECT_EQ(described(v6, {ProbeOutcome::answered, 204, 0}, 1000),
              "healthcheck: [::1]:9000 answered 204");
    const ListenAddress other = probe_address(address(AF_INET, "10.1.2.3", 80));
    EXPECT_EQ(described(other, {ProbeOutcome::timed_out, 0, 0}, 1500),
              "healthcheck: 10.1.2.3:80 timed out after 1500 ms");
}

TEST(Probe, IsHealthyFrom200To399Only) {
    for (const std::uint16_t status : {200, 204, 301, 399}) {
        EXPECT_TRUE(healthy({ProbeOutcome::answered, status, 0})) << status;
    }
    for (const std::uint16_t status : {100, 199, 400, 404, 500, 503}) {
        EXPECT_FALSE(healthy({ProbeOutcome::answered, status, 0})) << status;
    }
    EXPECT_FALSE(healthy({ProbeOutcome::refused, 200, 0}));
}

// --- probe_http against scripted peers in this process ------------------------------------------

// A loopback listener; `answer` runs on a thread for the first connection it accepts.
class Peer {
public:
    template <typename Answer>
    explicit Peer(Answer answer) {
        fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), length), 0);
        EXPECT_EQ(listen(fd_, 16), 0);
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this, answer] {
            pollfd entry{fd_, POLLIN, 0};
            if (poll(&entry, 1, 5'000) != 1) return;
            const int client = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (client < 0) return;
            answer(client);
            close(client);
        });
    }
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    ~Peer() {
        shutdown(fd_, SHUT_RDWR);  // wakes the poll if no probe came
        thread_.join();
        close(fd_);
    }
    [[nodiscard]] ListenAddress target() const { return address(AF_INET, "127.0.0.1", port_); }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
    std::thread thread_;
};

// Reads the request head; returns it.
std::string read_request(int fd) {
    std::string request;
    char bytes[1024];
    while (request.find("\r\n\r\n") == std::string::npos) {
        pollfd entry{fd, POLLIN, 0};
        if (poll(&entry, 1, 5'000) != 1) break;
        const ssize_t got = recv(fd, bytes, sizeof bytes, 0);
        if (got <= 0) break;
        request.append(bytes, std::size_t(got));
    }
    return request;
}

void send_text(int fd, std::string_view text) {
    EXPECT_EQ(send(fd, text.data(), text.size(), MSG_NOSIGNAL), ssize_t(text.size()));
}

TEST(Probe, SendsWhatKubeletSendsAndReadsAnAnswerThatArrivesInPieces) {
    std::string request;
    {
        Peer peer([&request](int fd) {
            request = read_request(fd);
            for (const std::string_view piece : {"HTT", "P/1.1 2", "07 Whatever\r\n", "\r\n"}) {
                send_text(fd, piece);
                std::this_thread::sleep_for(Ms(20));
            }
        });
        const ProbeResult result = probe_http(peer.target(), "/", 5'000);
        EXPECT_EQ(result.outcome, ProbeOutcome::answered);
        EXPECT_EQ(result.status, 207);
    }
    EXPECT_TRUE(request.starts_with("GET / HTTP/1.1\r\nHost: 127.0.0.1:")) << request;
    EXPECT_NE(request.find("\r\nConnection: close\r\n"), std::string::npos) << request;
    EXPECT_TRUE(request.ends_with("\r\n\r\n")) << request;
}

TEST(Probe, CallsAnAnswerThatIsNotHttpSo) {
    Peer peer([](int fd) {
        read_request(fd);
        send_text(fd, "SSH-2.0-OpenSSH_9.2\r\n");
    });
    EXPECT_EQ(probe_http(peer.target(), "/", 5'000).outcome, ProbeOutcome::not_http);
}

TEST(Probe, CallsACloseBeforeTheStatusLineSo) {
    Peer peer([](int fd) {
        read_request(fd);
        send_text(fd, "HTTP/1.1 20");
    });
    EXPECT_EQ(probe_http(peer.target(), "/", 5'000).outcome, ProbeOutcome::closed);
}

TEST(Probe, TimesOutOnAPeerThatNeverAnswers) {
    Peer peer([](int fd) {
        read_request(fd);
        std::this_thread::sleep_for(Ms(600));
    });
    const auto start = Clock::now();
    EXPECT_EQ(probe_http(peer.target(), "/", 150).outcome, ProbeOutcome::timed_out);
    EXPECT_LT(Clock::now() - start, Ms(550));
}

// --- The binary ---------------------------------------------------------------------------------

struct Outcome {
    int exit_code = -1;  // 128 + signal when a signal ended it; -1 when it overran and was killed
    std::string out;
    std::string err;
};

// Runs UO_BINARY with `args` and `environment` (nothing else of ours), for up to `timeout`.
Outcome run_binary(const std::vector<std::string>& args,
                   const std::vector<std::string>& environment, Ms timeout = Ms(10'000)) {
    int out_pipe[2];
    int err_pipe[2];
    EXPECT_EQ(pipe2(out_pipe, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err_pipe, O_CLOEXEC), 0);
    std::vector<std::string> argv_text{UO_BINARY};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_text) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text = environment;
    std::vector<char*> envp;
    for (std::string& entry : env_text) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(out_pipe[1], STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        execve(argv[0], argv.data(), envp.data());
        _exit(127);
    }
    close(out_pipe[1]);
    close(err_pipe[1]);
    Outcome run;
    const auto deadline = Clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    int open_count = 2;
    while (open_count > 0 && Clock::now() < deadline) {
        if (poll(fds, 2, e2e::ms_until(deadline)) <= 0) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            char bytes[4096];
            const ssize_t got = read(fds[i].fd, bytes, sizeof bytes);
            if (got > 0) {
                (i == 0 ? run.out : run.err).append(bytes, std::size_t(got));
            } else {
                close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    for (const pollfd& entry : fds) {
        if (entry.fd >= 0) close(entry.fd);
    }
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (Clock::now() >= deadline) {
            ADD_FAILURE() << "uring-okay " << args[0] << " ran past " << timeout.count() << " ms";
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return run;
        }
        std::this_thread::sleep_for(Ms(5));
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return run;
}

std::string listen_on(int port, const char* host = "127.0.0.1") {
    return std::string(host) + ":" + std::to_string(port);
}

// A port nothing listens on: bound once to learn a free number, then closed.
int dead_port() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    bind(fd, reinterpret_cast<sockaddr*>(&address), length);
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    close(fd);
    return ntohs(address.sin_port);
}

TEST(Healthcheck, ExitsZeroAgainstALiveServerByFlagOrEnvironment) {
    Server server({"--listen", "127.0.0.1:0", "--threads", "1"});
    ASSERT_TRUE(server.ready());
    const std::string where = listen_on(server.port());
    const std::string line = "healthcheck: " + where + " answered 200\n";

    Outcome run = run_binary({"healthcheck", "--listen", where}, {});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, line);
    EXPECT_EQ(run.err, "");

    run = run_binary({"--check", "-l", where, "--check-timeout", "2s"}, {});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, line);

    run = run_binary({"healthcheck"}, {"URING_OKAY_LISTEN=" + where});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, line);

    // PORT moves the default 0.0.0.0:8080, which is probed as 127.0.0.1.
    run = run_binary({"healthcheck"}, {"PORT=" + std::to_string(server.port())});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, line);

    // The server's other flags are accepted and change nothing about the probe.
    run = run_binary({"healthcheck", "--status", "503", "--threads", "3", "-l", where}, {});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(server.stop(), 0);
}

TEST(Healthcheck, ProbesIpv6LoopbackForTheIpv6Wildcard) {
    Server server({"--listen", "[::1]:0", "--threads", "1"});
    if (!server.ready()) GTEST_SKIP() << "no IPv6 loopback here";
    const Outcome run =
        run_binary({"healthcheck", "--listen", listen_on(server.port(), "[::]")}, {});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: [::1]:" + std::to_string(server.port()) + " answered 200\n");
}

TEST(Healthcheck, ExitsOneAgainstAServerAnswering503) {
    Server server({"--listen", "127.0.0.1:0", "--threads", "1", "--status", "503"});
    ASSERT_TRUE(server.ready());
    const std::string where = listen_on(server.port());
    const Outcome run = run_binary({"healthcheck", "--listen", where}, {});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + " answered 503\n");
}

TEST(Healthcheck, ProbesTheHealthPathAndSeesALameDuckFail) {
    Server server({"--listen", "127.0.0.1:0", "--threads", "1", "--health-path", "/healthz",
                   "--drain-delay", "1500ms"});
    ASSERT_TRUE(server.ready());
    const std::string where = listen_on(server.port());
    Outcome run = run_binary({"healthcheck", "--health-path", "/healthz", "--listen", where}, {});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + "/healthz answered 200\n");

    // SIGTERM with --drain-delay: still listening, answering 503, which the probe must see.
    kill(server.pid(), SIGTERM);
    std::this_thread::sleep_for(Ms(200));
    run = run_binary({"healthcheck", "--health-path", "/healthz"}, {"URING_OKAY_LISTEN=" + where});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + "/healthz answered 503\n");
    EXPECT_EQ(server.wait_exit(Ms(10'000)), 0);
}

TEST(Healthcheck, ExitsOneAgainstADeadPort) {
    const std::string where = listen_on(dead_port());
    const Outcome run = run_binary({"--check", "--listen", where}, {});
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + " refused\n");
}

TEST(Healthcheck, ExitsOneWithinItsDefaultTimeoutAgainstAPortThatNeverAnswers) {
    Peer silent([](int fd) {
        read_request(fd);
        std::this_thread::sleep_for(Ms(1'200));
    });
    const std::string where = listen_on(silent.target().port);
    const auto start = Clock::now();
    const Outcome run = run_binary({"healthcheck", "--listen", where}, {}, Ms(5'000));
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + " timed out after 1000 ms\n");
    EXPECT_GE(Clock::now() - start, Ms(1'000));
    EXPECT_LT(Clock::now() - start, Ms(3'000));
}

TEST(Healthcheck, FlagBeatsTheEnvironmentForItsTimeout) {
    Peer silent([](int fd) {
        read_request(fd);
        std::this_thread::sleep_for(Ms(1'000));
    });
    const std::string where = listen_on(silent.target().port);
    const Outcome run = run_binary({"healthcheck", "--check-timeout", "200ms", "--listen", where},
                                   {"URING_OKAY_CHECK_TIMEOUT=5s"}, Ms(3'000));
    EXPECT_EQ(run.exit_code, 1) << run.out << run.err;
    EXPECT_EQ(run.out, "healthcheck: " + where + " timed out after 200 ms\n");
}

TEST(Healthcheck, ExitsOneWithTheReasonForABadFlag) {
    Outcome run = run_binary({"healthcheck", "--no-such-flag"}, {});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(run.out, "");
    EXPECT_EQ(run.err, "uring-okay healthcheck: --no-such-flag: unknown flag\n");

    run = run_binary({"healthcheck", "--check-timeout", "5"}, {});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.err.find("--check-timeout 5: must be a duration"), std::string::npos) << run.err;

    run = run_binary({"healthcheck", "--check-timeout"}, {});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_EQ(run.err, "uring-okay healthcheck: --check-timeout: needs a value\n");

    run = run_binary({"healthcheck", "--listen", "127.0.0.1:0"}, {});
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_NE(run.out.find("port 0"), std::string::npos) << run.out;

    run = run_binary({"healthcheck", "--help"}, {});
    EXPECT_EQ(run.exit_code, 0);
    EXPECT_TRUE(run.out.starts_with("usage: uring-okay healthcheck")) << run.out;
}

}  // namespace
