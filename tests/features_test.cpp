// End to end, both engines: what operators and load testers configure. The answer's exact bytes
// (--status, --body, --header, --server, --content-type, --minimal), routes, the health path,
// the lame-duck drain and --delay, on the real binary over loopback.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e_support.hpp"

namespace {

using e2e::Client;
using e2e::Clock;
using e2e::Ms;
using e2e::Server;
using e2e::ask_once;
using e2e::get;

class Features : public testing::TestWithParam<const char*> {
protected:
    std::unique_ptr<Server> serve(std::vector<std::string> flags) {
        std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--threads", "1", "--engine",
                                         GetParam()};
        args.insert(args.end(), flags.begin(), flags.end());
        auto server = std::make_unique<Server>(args);
        EXPECT_TRUE(server->ready()) << server->log();
        return server;
    }
};

TEST_P(Features, AnswersWithTheConfiguredBytes) {
    const auto server = serve({"--status", "201", "--body", "created", "--content-type",
                               "application/json", "--header", "X-One: 1", "-H", "X-Two: two",
                               "--server", "probe", "--no-date"});
    EXPECT_EQ(ask_once(server->port(), get("/", "Connection: close\r\n")),
              "HTTP/1.1 201 Created\r\nServer: probe\r\nContent-Type: application/json\r\n"
              "Content-Length: 7\r\nX-One: 1\r\nX-Two: two\r\nConnection: close\r\n\r\ncreated");
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(Features, MinimalIsTheClassicHealthCheckByteForByte) {
    const auto server = serve({"--minimal"});
    Client client(server->port());
    ASSERT_TRUE(client.send_all(get("/") + get("/")));
    const std::vector<std::string> got = client.read_responses(2, Ms(5'000));
    ASSERT_EQ(got.size(), 2u);
    for (const std::string& answer : got) {
        EXPECT_EQ(answer, "HTTP/1.1 200 OK\r\nContent-Length:2\r\n\r\nOK");
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(Features, EnvironmentSetsWhatFlagsDoNot) {
    setenv("URING_OKAY_STATUS", "418", 1);
    setenv("URING_OKAY_BODY", "teapot", 1);
    const auto server = serve({"--body", "flag wins", "--no-date"});
    unsetenv("URING_OKAY_STATUS");
    unsetenv("URING_OKAY_BODY");
    EXPECT_EQ(ask_once(server->port(), get("/", "Connection: close\r\n")),
              "HTTP/1.1 418 I'm a teapot\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n"
              "Connection: close\r\n\r\nflag wins");
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(Features, RoutesAnswerTheirPathsExactlyAndIgnoreTheQuery) {
    const auto server = serve({"--route", "/missing=404", "--route", "/hi=200:hello",
                               "--health-path", "/healthz", "--no-date"});
    Client client(server->port());
    ASSERT_TRUE(client.send_all(get("/missing") + get("/hi?x=1") + get("/hix") +
                                "HEAD /hi HTTP/1.1\r\nHost: a\r\n\r\n" + get("/healthz") +
                                get("/", "Connection: close\r\n")));
    const std::vector<std::string> got =
        client.read_responses_to({false, false, false, true, false, false}, Ms(5'000));
    ASSERT_EQ(got.size(), 6u);
    EXPECT_EQ(got[0],
              "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\n"
              "Not Found");
    EXPECT_EQ(got[1], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello");
    EXPECT_EQ(got[2], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    EXPECT_EQ(got[3], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n");
    EXPECT_EQ(got[4], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    EXPECT_TRUE(client.read_until_close(Ms(5'000)).closed);
    EXPECT_EQ(server->stop(), 0);
}

// SIGTERM with --drain-delay: still accepting, every request answered 503 and closed; then the
// drain; exit 0. A keep-alive connection's health probe says 503 once the drain begins.
TEST_P(Features, LameDuckAnswers503ThenDrainsAndExits0) {
    const auto server = serve({"--drain-delay", "1500ms", "--health-path", "/healthz"});
    Client kept(server->port());
    ASSERT_TRUE(kept.send_all(get("/healthz")));
    ASSERT_EQ(kept.read_responses(1, Ms(5'000)).size(), 1u);
    kill(server->pid(), SIGTERM);
    std::this_thread::sleep_for(Ms(200));
    const std::string fresh = ask_once(server->port(), get("/"));
    EXPECT_EQ(fresh.rfind("HTTP/1.1 503 Service Unavailable\r\n", 0), 0u) << fresh;
    EXPECT_NE(fresh.find("Connection: close\r\n"), std::string::npos) << fresh;
    ASSERT_TRUE(kept.send_all(get("/healthz")));
    const e2e::Received probe = kept.read_until_close(Ms(5'000));
    EXPECT_EQ(probe.bytes.rfind("HTTP/1.1 503 ", 0), 0u) << probe.bytes;
    EXPECT_TRUE(probe.closed);
    EXPECT_EQ(server->wait_exit(Ms(10'000)), 0) << server->log();
}

// Each answer leaves no sooner than --delay after its request; pipelined answers keep their order.
TEST_P(Features, DelayHoldsEachAnswerAndKeepsOrder) {
    const auto server = serve({"--delay", "200ms", "--route", "/second=202", "--no-date"});
    Client client(server->port());
    const auto sent = Clock::now();
    ASSERT_TRUE(client.send_all(get("/") + get("/second") + get("/")));
    const std::vector<std::string> got = client.read_responses(3, Ms(5'000));
    const auto waited = std::chrono::duration_cast<Ms>(Clock::now() - sent);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].rfind("HTTP/1.1 200 ", 0), 0u);
    EXPECT_EQ(got[1].rfind("HTTP/1.1 202 ", 0), 0u);
    EXPECT_EQ(got[2].rfind("HTTP/1.1 200 ", 0), 0u);
    EXPECT_GE(waited.count(), 200);
    const auto one = Clock::now();
    ASSERT_TRUE(client.send_all(get("/")));
    ASSERT_EQ(client.read_responses(1, Ms(5'000)).size(), 1u);
    EXPECT_GE(std::chrono::duration_cast<Ms>(Clock::now() - one).count(), 200);
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(Features, RefusesBadRoutesAndDelaysWithExit2) {
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--route", "nopath=200"}, {"--route", "/x=99"},
          {"--route", "/x"}, {"--delay", "soon"}, {"--route", "/a=200", "--health-path", "/a"}}) {
        Server server(flags, nullptr, false);
        EXPECT_EQ(server.wait_exit(Ms(5'000)), 2) << flags[0] << " " << flags[1];
        EXPECT_NE(server.log().find("--" + flags[flags.size() - 2].substr(2)), std::string::npos)
            << server.log();
    }
}

// Run as root (as CI is), --user drops every thread to that user after binding.
TEST_P(Features, UserDropsPrivilegesAfterBinding) {
    if (geteuid() != 0) GTEST_SKIP() << "only root can change user; CI runs as root";
    const auto server = serve({"--user", "65534:65534", "--threads", "2"});
    const std::string tasks = "/proc/" + std::to_string(server->pid()) + "/task";
    std::size_t threads = 0;
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        std::ifstream status(task.path() / "status");
        for (std::string line; std::getline(status, line);) {
            if (line.rfind("Uid:", 0) == 0 || line.rfind("Gid:", 0) == 0) {
                EXPECT_EQ(line.substr(4), "\t65534\t65534\t65534\t65534") << line;
            }
        }
        ++threads;
    }
    EXPECT_EQ(threads, 3u);  // main and two engines
    EXPECT_EQ(ask_once(server->port(), get("/", "Connection: close\r\n")).rfind("HTTP/1.1 200", 0),
              0u);
    EXPECT_EQ(server->stop(), 0);
}

// A name comes from /etc/passwd, read by our own parser (Debian's has nobody as 65534:65534).
TEST_P(Features, UserByNameComesFromEtcPasswd) {
    if (geteuid() != 0) GTEST_SKIP() << "only root can change user; CI runs as root";
    const auto server = serve({"--user", "nobody"});
    std::ifstream status("/proc/" + std::to_string(server->pid()) + "/status");
    std::size_t checked = 0;
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Uid:", 0) == 0 || line.rfind("Gid:", 0) == 0) {
            EXPECT_EQ(line.substr(4), "\t65534\t65534\t65534\t65534") << line;
            ++checked;
        }
    }
    EXPECT_EQ(checked, 2u);
    EXPECT_EQ(server->stop(), 0);
}

// A name /etc/passwd lacks is a bad flag: exit 2, and the message says what to give instead.
TEST_P(Features, UnknownUserExitsTwo) {
    Server server(
        {"--listen", "127.0.0.1:0", "--engine", GetParam(), "--user", "no-such-user-uring-okay"},
        nullptr, false);
    EXPECT_EQ(server.wait_exit(Ms(5'000)), 2);
    EXPECT_NE(server.log().find("--user no-such-user-uring-okay: no such user in /etc/passwd; "
                                "give UID[:GID]"),
              std::string::npos)
        << server.log();
}

// systemd socket activation: a listening socket passed as fd 3 with LISTEN_FDS and LISTEN_PID
// (none, fd 3 closed, when activated_fd is -1).
int activated_fd = -1;

void pass_socket_as_fd_3() {  // in the child, before exec
    if (activated_fd < 0) {
        close(3);
    } else {
        dup2(activated_fd, 3);
        fcntl(3, F_SETFD, 0);
    }
    setenv("LISTEN_FDS", "1", 1);
    setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
}

// The port a socket is bound to.
int port_of(int fd) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return ntohs(address.sin_port);
}

// A socket listening on 127.0.0.1 and a port the kernel chose, as a supervisor would pass it.
int listen_on_loopback() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        listen(fd, 64) != 0) {
        ADD_FAILURE() << "cannot listen on 127.0.0.1: " << std::strerror(errno);
    }
    return fd;
}

TEST_P(Features, ServesSocketsPassedBySystemd) {
    activated_fd = listen_on_loopback();
    const int port = port_of(activated_fd);
    Server server({"--listen", "127.0.0.1:1", "--threads", "2", "--engine", GetParam()},
                  pass_socket_as_fd_3);
    close(activated_fd);
    ASSERT_TRUE(server.ready()) << server.log();
    EXPECT_EQ(server.port(), port);  // the passed socket, not --listen's address
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(ask_once(port, get("/", "Connection: close\r\n")).rfind("HTTP/1.1 200", 0), 0u);
    }
    EXPECT_EQ(server.stop(), 0);
}

// The process's CPU time so far, in clock ticks (utime + stime of /proc/PID/stat).
long cpu_ticks(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));  // after "pid (comm) "
    std::string skip;
    for (int field = 3; field < 14; ++field) fields >> skip;
    long user = 0;
    long system = 0;
    fields >> user >> system;
    return user + system;
}

// Another holder of a passed socket may shut it down (a supervisor pausing it); then every
// accept fails with EINVAL and the socket reads as ready for ever. The listener waits a tick
// between tries instead of spinning its thread, the open connections are still served, a
// socket listening again is served again, and SIGTERM still ends the server with 0.
TEST_P(Features, ASharedListenerShutDownElsewhereDoesNotSpin) {
    activated_fd = listen_on_loopback();
    Server server({"--listen", "127.0.0.1:1", "--threads", "1", "--engine", GetParam()},
                  pass_socket_as_fd_3);
    ASSERT_TRUE(server.ready()) << server.log();
    Client client(server.port());
    ASSERT_TRUE(client.connected() && client.send_all(get("/")));
    ASSERT_EQ(client.read_responses(1, Ms(5'000)).size(), 1u);
    ASSERT_EQ(shutdown(activated_fd, SHUT_RD), 0);
    std::this_thread::sleep_for(Ms(200));
    const long before = cpu_ticks(server.pid());
    std::this_thread::sleep_for(Ms(1'000));
    const long ticks = cpu_ticks(server.pid()) - before;
    EXPECT_LT(ticks, sysconf(_SC_CLK_TCK) / 10) << "more than 10 % of a CPU with a dead listener";
    ASSERT_TRUE(client.send_all(get("/")));
    EXPECT_EQ(client.read_responses(1, Ms(5'000)).size(), 1u) << server.log();
    // Listening again (the supervisor resumes it): accepted from the next tick on. The shut
    // down socket let its kernel-chosen port go, so it listens on a new one.
    ASSERT_EQ(listen(activated_fd, 64), 0);
    const std::string answer = ask_once(port_of(activated_fd), get("/", "Connection: close\r\n"));
    EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
    EXPECT_EQ(server.stop(), 0);
    close(activated_fd);
}

// What LISTEN_FDS names must be a listening TCP socket, or the server exits 1 saying so. A closed
// fd 3 is the server's own signalfd by the time it looks (served as a listener, that spun a
// thread at 100 %); a stream socket never listened on, or a UDP one, is not one either.
TEST_P(Features, RefusesPassedFdsThatAreNotListeningTcpSockets) {
    for (const char* kind : {"closed", "not listening", "udp"}) {
        const std::string_view what = kind;
        const int type = what == "udp" ? SOCK_DGRAM : SOCK_STREAM;
        activated_fd = what == "closed" ? -1 : socket(AF_INET, type | SOCK_CLOEXEC, 0);
        Server server({"--listen", "127.0.0.1:0", "--threads", "1", "--engine", GetParam()},
                      pass_socket_as_fd_3, false);
        if (activated_fd >= 0) close(activated_fd);
        EXPECT_EQ(server.wait_exit(Ms(5'000)), 1) << kind;
        EXPECT_NE(server.log().find("uring-okay: LISTEN_FDS: fd 3 is not a listening TCP socket"),
                  std::string::npos)
            << kind << ": " << server.log();
    }
}

INSTANTIATE_TEST_SUITE_P(Engines, Features, testing::Values("uring", "epoll"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
