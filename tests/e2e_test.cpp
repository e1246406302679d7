// End to end: the real binary on 127.0.0.1 (and ::1) with an ephemeral port, once per engine.
// Each test starts its own server, bounds every wait, and stops the server when it ends
// (SIGTERM and exit 0 where the test checks it; SIGKILL otherwise, in Server's destructor).
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "e2e_support.hpp"

namespace {

using e2e::Client;
using e2e::Clock;
using e2e::Ms;
using e2e::Server;
using e2e::strip_date;

constexpr std::size_t npos = std::string::npos;

std::string request(std::string_view method = "GET", std::string_view fields = "") {
    return std::string(method) + " / HTTP/1.1\r\nHost: e2e\r\n" + std::string(fields) + "\r\n";
}

// The default answer, Date taken out; `connection` adds a Connection field.
std::string ok_response(bool head = false, std::string_view connection = "") {
    std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n";
    if (!connection.empty()) text += "Connection: " + std::string(connection) + "\r\n";
    return text + "\r\n" + (head ? "" : "OK");
}

// A framing error's answer, Date taken out; the connection closes after it.
std::string error_response(std::string_view status_line) {
    return "HTTP/1.1 " + std::string(status_line) +
           "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
}

// `count` requests, the last asking to close; with HEADs, every third is one, so that order
// shows (and the kind changes often).
enum class Mix : std::uint8_t { gets, gets_and_heads };
struct Pipeline {
    std::string bytes;
    std::vector<bool> heads;
};
Pipeline pipeline(std::size_t count, Mix mix = Mix::gets_and_heads) {
    Pipeline p;
    for (std::size_t i = 0; i < count; ++i) {
        p.heads.push_back(mix == Mix::gets_and_heads && i % 3 == 2);
        p.bytes +=
            request(p.heads[i] ? "HEAD" : "GET", i + 1 == count ? "Connection: close\r\n" : "");
    }
    return p;
}

std::string shown(std::string_view text) {
    std::string out;
    for (const char c : text) out += c == '\r' ? "\\r" : c == '\n' ? "\\n\n" : std::string(1, c);
    return out;
}

testing::AssertionResult answered_in_order(const std::vector<std::string>& responses,
                                           const Pipeline& p) {
    if (responses.size() != p.heads.size()) {
        return testing::AssertionFailure()
               << responses.size() << " responses of " << p.heads.size();
    }
    for (std::size_t i = 0; i < responses.size(); ++i) {
        const std::string expected =
            ok_response(p.heads[i], i + 1 == p.heads.size() ? "close" : "");
        if (strip_date(responses[i]) != expected) {
            return testing::AssertionFailure() << "response " << i << ":\n"
                                               << shown(responses[i]) << "expected:\n"
                                               << shown(expected);
        }
    }
    return testing::AssertionSuccess();
}

// Sends a pipeline in one write; all its answers must come back in order, then EOF.
testing::AssertionResult serves_pipeline(int port, std::size_t count, Mix mix = Mix::gets_and_heads,
                                         const char* host = "127.0.0.1") {
    Client client(port, host);
    const Pipeline p = pipeline(count, mix);
    if (!client.connected() || !client.send_all(p.bytes)) {
        return testing::AssertionFailure() << "could not send " << count << " requests";
    }
    testing::AssertionResult result =
        answered_in_order(client.read_responses_to(p.heads, Ms(10'000)), p);
    if (!result) {
        return result << " (pipeline of " << count
                      << (mix == Mix::gets ? " GETs)" : " GETs and HEADs)");
    }
    const e2e::Received rest = client.read_until_close(Ms(3'000));
    if (!rest.closed || !rest.bytes.empty()) {
        return testing::AssertionFailure() << "after the pipeline of " << count << ": closed "
                                           << rest.closed << ", bytes " << shown(rest.bytes);
    }
    return testing::AssertionSuccess();
}

// One request, one default answer, on a fresh or a given connection.
testing::AssertionResult serves_one(Client& client) {
    if (!client.connected() || !client.send_all(request())) {
        return testing::AssertionFailure() << "could not send";
    }
    const std::vector<std::string> got = client.read_responses(1, Ms(5'000));
    if (got.size() != 1) return testing::AssertionFailure() << "no answer within 5 s";
    if (strip_date(got[0]) != ok_response()) {
        return testing::AssertionFailure() << "answer:\n" << shown(got[0]);
    }
    return testing::AssertionSuccess();
}
testing::AssertionResult serves_one(int port, const char* host = "127.0.0.1") {
    Client client(port, host);
    return serves_one(client);
}

// Keeps connecting until one connection is served, for up to `timeout`.
bool served_again_within(int port, Ms timeout) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
        Client client(port, "127.0.0.1", Ms(500));
        if (client.connected() && client.send_all(request(), Ms(500)) &&
            client.read_responses(1, Ms(500)).size() == 1) {
            return true;
        }
        std::this_thread::sleep_for(Ms(100));
    }
    return false;
}

// Polls `clients` (one request sent on each) in this one thread and takes one answer from each,
// until all answered, `quiet` passes without a new answer, or `timeout`. Returns how many were
// answered; each answer must be the default one.
std::size_t answer_each(std::vector<Client>& clients, Ms quiet, Ms timeout) {
    const auto deadline = Clock::now() + timeout;
    std::vector<bool> answered(clients.size(), false);
    std::size_t answered_count = 0;
    auto last_answer = Clock::now();
    while (answered_count < clients.size() && Clock::now() < deadline &&
           Clock::now() - last_answer < quiet) {
        std::vector<pollfd> fds;
        std::vector<std::size_t> indexes;
        for (std::size_t i = 0; i < clients.size(); ++i) {
            if (answered[i]) continue;
            fds.push_back({clients[i].fd(), POLLIN, 0});
            indexes.push_back(i);
        }
        if (poll(fds.data(), fds.size(), 100) < 0) break;
        for (std::size_t k = 0; k < fds.size(); ++k) {
            if (fds[k].revents == 0) continue;
            const std::size_t i = indexes[k];
            const std::vector<std::string> got = clients[i].read_responses(1, Ms(0));
            if (got.empty()) continue;
            EXPECT_EQ(strip_date(got[0]), ok_response()) << "connection " << i;
            answered[i] = true;
            ++answered_count;
            last_answer = Clock::now();
        }
    }
    return answered_count;
}

bool io_uring_usable() {
    io_uring_params params{};
    const long fd = syscall(__NR_io_uring_setup, 1, &params);
    if (fd >= 0) close(int(fd));
    return fd >= 0;
}

void raise_fd_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
}

std::size_t fd_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

// In the server's child, before exec: fewer descriptors than the test will open connections.
void limit_fds_to_64() {
    const rlimit limit{64, 64};
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
}

#if defined(__x86_64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t audit_arch = 0;  // the seccomp tests skip
#endif

// In the server's child, before exec: io_uring_setup fails with EPERM, as under Docker's default
// seccomp profile; every other call (and every other architecture's) is allowed.
void block_io_uring_setup() {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{sizeof filter / sizeof filter[0], filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
        _exit(125);
    }
}

// Whether a child can install that filter here (a sandbox may forbid seccomp itself).
bool seccomp_installable() {
    if (audit_arch == 0) return false;
    const pid_t pid = fork();
    if (pid == 0) {
        block_io_uring_setup();
        io_uring_params params{};
        _exit(syscall(__NR_io_uring_setup, 1, &params) < 0 && errno == EPERM ? 0 : 1);
    }
    int status = 0;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

class E2e : public testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "uring" && !io_uring_usable()) {
            GTEST_SKIP() << "io_uring_setup fails in this process (seccomp, sysctl or kernel)";
        }
    }

    // This engine's server on `listen`; its start-up line must name the engine.
    std::unique_ptr<Server> serve(std::vector<std::string> flags = {},
                                  Server::ChildSetup setup = nullptr,
                                  std::string listen = "127.0.0.1:0") {
        flags.insert(flags.begin(), {"--listen", listen, "--engine", GetParam()});
        auto server = std::make_unique<Server>(flags, setup);
        const char* engine = GetParam() == "uring" ? "engine io_uring (" : "engine epoll (";
        if (server->ready()) {
            EXPECT_NE(server->start_line().find(engine), npos) << server->start_line();
        }
        return server;
    }
};

INSTANTIATE_TEST_SUITE_P(Engines, E2e, testing::Values("uring", "epoll"),
                         [](const testing::TestParamInfo<std::string>& info) {
                             return info.param;
                         });

TEST_P(E2e, ServesTenThousandRequestsOnOneKeepAliveConnection) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(client.connected());
        for (int i = 0; i < 10'000; ++i) ASSERT_TRUE(serves_one(client)) << "request " << i;
    }
    EXPECT_EQ(server->stop(), 0);
}

// GETs alone are one run of any length; GETs mixed with HEADs take a run per 32 answers, so a
// connection may owe 32 x 32 of them, and the closing answer after them.
TEST_P(E2e, AnswersPipelinesInOrder) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    for (const std::size_t count : {1, 2, 16, 100, 1024, 1025}) {
        EXPECT_TRUE(serves_pipeline(server->port(), count, Mix::gets));
        EXPECT_TRUE(serves_pipeline(server->port(), count));
    }
    EXPECT_EQ(server->stop(), 0);
}

// Past what a connection may owe, what fit is answered in order and the connection closes:
// RFC 9112 §9.3.2 has the client retry the rest.
TEST_P(E2e, AnswersWhatFitsOfAnOverlongMixedPipelineThenCloses) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client client(server->port());
    const Pipeline p = pipeline(2000);
    ASSERT_TRUE(client.send_all(p.bytes));
    const std::vector<bool> fits(p.heads.begin(), p.heads.begin() + 32 * 32);
    const std::vector<std::string> got = client.read_responses_to(fits, Ms(10'000));
    ASSERT_EQ(got.size(), fits.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(strip_date(got[i]), ok_response(fits[i], "")) << "answer " << i;
    }
    const e2e::Received rest = client.read_until_close(Ms(5'000));
    EXPECT_TRUE(rest.closed);
    EXPECT_TRUE(rest.bytes.empty()) << shown(rest.bytes);
    EXPECT_TRUE(serves_one(server->port()));  // and the server serves on
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, AnswersAPipelineCutIntoSmallWrites) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(client.connected());
        const Pipeline p = pipeline(200);
        std::mt19937 random(20'240'611);  // fixed: a failure reproduces
        std::uniform_int_distribution<std::size_t> chunk_bytes(1, 48);
        for (std::size_t at = 0; at < p.bytes.size();) {
            const std::size_t bytes = chunk_bytes(random);
            ASSERT_TRUE(client.send_all(std::string_view(p.bytes).substr(at, bytes)));
            at += bytes;
            std::this_thread::sleep_for(Ms(1));
        }
        EXPECT_TRUE(answered_in_order(client.read_responses_to(p.heads, Ms(10'000)), p));
        EXPECT_TRUE(client.read_until_close(Ms(3'000)).closed);
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, SkipsRequestBodies) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    const std::string smuggled = request();  // must be skipped as body bytes, never answered
    const std::string closing = request("GET", "Connection: close\r\n");
    const std::string with_length =
        request("POST", "Content-Length: " + std::to_string(smuggled.size()) + "\r\n") + smuggled +
        closing;
    char size_line[32];
    std::snprintf(size_line, sizeof size_line, "%zx;name=value\r\n", smuggled.size());
    const std::string chunked = request("POST", "Transfer-Encoding: chunked\r\n") + size_line +
                                smuggled + "\r\n0\r\nTrailer-Field: x\r\n\r\n" + closing;
    for (const std::string& stream : {with_length, chunked}) {
        Client client(server->port());
        ASSERT_TRUE(client.connected());
        ASSERT_TRUE(client.send_all(stream));
        const e2e::Received got = client.read_until_close(Ms(5'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(strip_date(got.bytes), ok_response() + ok_response(false, "close"))
            << shown(stream);
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, AnswersEachFramingErrorThenClosesWhileOthersAreServed) {
    struct Case {
        const char* name;
        std::string bytes;
        std::string answer;
    };
    std::string many_fields;
    for (int i = 0; i < 20; ++i) {
        many_fields += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'b') + "\r\n";
    }
    const std::string bad_request = error_response("400 Bad Request");
    const Case cases[] = {
        {"space before colon", "GET / HTTP/1.1\r\nHost : e2e\r\n\r\n", bad_request},
        {"obs-fold", request("GET", "X-Folded: a\r\n b\r\n"), bad_request},
        {"TE and CL",
         request("POST", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "0\r\n\r\n",
         bad_request},
        {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: e2e\r\n\r\n",
         error_response("505 HTTP Version Not Supported")},
        {"request line over 8 KiB", "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n\r\n",
         error_response("414 URI Too Long")},
        {"header section over 16 KiB", request("GET", many_fields),
         error_response("431 Request Header Fields Too Large")},
        {"Content-Length over 64 MiB", request("POST", "Content-Length: 67108865\r\n"),
         error_response("413 Content Too Large")},
        {"bare LF", "GET / HTTP/1.1\nHost: e2e\n\n", bad_request},
        {"after two good ones", request() + request() + "GET / HTTP/1.1\r\nHost : e2e\r\n\r\n",
         ok_response() + ok_response() + bad_request},
    };
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client bystander(server->port());
    ASSERT_TRUE(serves_one(bystander));
    for (const Case& c : cases) {
        Client client(server->port());
        ASSERT_TRUE(client.connected());
        ASSERT_TRUE(client.send_all(c.bytes)) << c.name;
        const e2e::Received got = client.read_until_close(Ms(3'000));
        EXPECT_TRUE(got.closed) << c.name;
        EXPECT_EQ(strip_date(got.bytes), c.answer) << c.name;
        EXPECT_TRUE(serves_one(bystander)) << "after " << c.name;
    }
    bystander.close();
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, ClosesAfterHttp10AndConnectionCloseUnlessKeepAlive) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        // HTTP/1.0 closes by default; what follows it on the stream is never answered.
        Client client(server->port());
        ASSERT_TRUE(client.send_all("GET / HTTP/1.0\r\n\r\n" + request()));
        const e2e::Received got = client.read_until_close(Ms(3'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(strip_date(got.bytes), ok_response(false, "close"));
    }
    {
        Client client(server->port());
        ASSERT_TRUE(client.send_all(request("GET", "Connection: close\r\n") + request()));
        const e2e::Received got = client.read_until_close(Ms(3'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(strip_date(got.bytes), ok_response(false, "close"));
    }
    {
        Client client(server->port());
        const std::string keep_alive = "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        for (int i = 0; i < 2; ++i) {
            ASSERT_TRUE(client.send_all(keep_alive));
            const std::vector<std::string> got = client.read_responses(1, Ms(5'000));
            ASSERT_EQ(got.size(), 1u) << "request " << i;
            EXPECT_EQ(strip_date(got[0]), ok_response(false, "keep-alive"));
        }
        ASSERT_TRUE(client.send_all("HEAD / HTTP/1.0\r\n\r\n"));
        const e2e::Received got = client.read_until_close(Ms(3'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(strip_date(got.bytes), ok_response(true, "close"));
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, AnswersHeadWithoutABody) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(client.send_all(request("HEAD")));
        const std::vector<std::string> head = client.read_responses_to({true}, Ms(5'000));
        ASSERT_EQ(head.size(), 1u);
        EXPECT_EQ(strip_date(head[0]), ok_response(true));
        // A body after the HEAD answer would come before this GET's status line.
        EXPECT_TRUE(serves_one(client));
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, AnswersWhatWasAskedBeforeTheClientHalfCloses) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(client.send_all(request() + request("HEAD") + request()));
        client.half_close();
        const e2e::Received got = client.read_until_close(Ms(5'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(strip_date(got.bytes), ok_response() + ok_response(true) + ok_response());
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, SendsTheMinimalResponseByteForByte) {
    const auto server = serve({"--minimal"});
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(client.send_all(request() + request("HEAD") +
                                    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" +
                                    request("GET", "Connection: close\r\n")));
        const e2e::Received got = client.read_until_close(Ms(5'000));
        EXPECT_TRUE(got.closed);
        const std::string head = "HTTP/1.1 200 OK\r\nContent-Length:2\r\n";
        EXPECT_EQ(got.bytes, head + "\r\nOK" + head + "\r\n" + head +
                                 "Connection: keep-alive\r\n\r\nOK" + head +
                                 "Connection: close\r\n\r\nOK");
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, ServesAThousandConcurrentConnections) {
    raise_fd_limit();
    if (fd_limit() < 1'100) GTEST_SKIP() << "RLIMIT_NOFILE below 1100 here";
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    {
        std::vector<Client> clients;
        for (int i = 0; i < 1'000; ++i) {
            clients.emplace_back(server->port());
            ASSERT_TRUE(clients.back().connected()) << "connection " << i;
        }
        for (Client& client : clients) ASSERT_TRUE(client.send_all(request()));
        EXPECT_EQ(answer_each(clients, Ms(10'000), Ms(20'000)), clients.size());
    }
    EXPECT_EQ(server->stop(), 0);
}

// Bytes the server has not read yet on its end of `client`'s connection: rx_queue in
// /proc/net/tcp, or -1 when the line is not found.
long unread_by_server(int server_port, const Client& client) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    getsockname(client.fd(), reinterpret_cast<sockaddr*>(&address), &length);
    char ends[32];
    std::snprintf(ends, sizeof ends, ":%04X 0100007F:%04X", unsigned(server_port),
                  unsigned(ntohs(address.sin_port)));
    std::ifstream table("/proc/net/tcp");
    for (std::string line; std::getline(table, line);) {
        const std::size_t at = line.find(ends);
        if (at == npos) continue;
        // "... local rem st tx_queue:rx_queue ...": rx_queue in hex, after the state.
        const std::size_t colon = line.find(':', at + std::strlen(ends));
        return std::strtol(line.c_str() + colon + 1, nullptr, 16);
    }
    return -1;
}

TEST_P(E2e, AClientThatNeverReadsCostsBoundedMemory) {
    const auto server = serve({"--threads", "1", "--owed-max", "4096"});
    ASSERT_TRUE(server->ready());
    ASSERT_TRUE(serves_one(server->port()));  // the engine has started: its memory counts
    const long start_kib = server->rss_kib();
    ASSERT_GT(start_kib, 0);
    {
        Client flooder(server->port());
        ASSERT_TRUE(flooder.connected());
        std::string requests;
        for (int i = 0; i < 100'000; ++i) requests += request();
        // Send until everything left or a second passes without progress (at most 5 s).
        std::string_view rest = requests;
        const auto deadline = Clock::now() + Ms(5'000);
        auto progress = Clock::now();
        while (!rest.empty() && Clock::now() < deadline && Clock::now() - progress < Ms(1'000)) {
            const ssize_t sent = send(flooder.fd(), rest.data(), rest.size(), MSG_NOSIGNAL);
            if (sent > 0) {
                rest.remove_prefix(std::size_t(sent));
                progress = Clock::now();
                continue;
            }
            ASSERT_EQ(errno, EAGAIN) << std::strerror(errno);
            pollfd entry{flooder.fd(), POLLOUT, 0};
            poll(&entry, 1, 100);
        }
        EXPECT_TRUE(serves_one(server->port())) << "another client, while the flood is unread";
        // Its answers cannot all fit in the socket buffers, so the server owes owed-max and
        // stops reading: once the queues settle, requests stay unread in its receive queue.
        long unread = -1;
        int same = 0;
        for (const auto until = Clock::now() + Ms(5'000); same < 3 && Clock::now() < until;) {
            std::this_thread::sleep_for(Ms(100));
            const long now = unread_by_server(server->port(), flooder);
            same = now == unread ? same + 1 : 0;
            unread = now;
        }
        EXPECT_GT(unread, 0) << "the server read the whole flood";
        const long kib = server->rss_kib();
        EXPECT_LT(kib, start_kib + 64 * 1024) << "RSS grew from " << start_kib << " KiB";
    }
    EXPECT_EQ(server->stop(), 0);
}

// --owed-max 1: reading pauses at every answer owed and must resume once it is sent, or a
// pipelining client waits for answers that never come (io_uring resumed only below half of
// owed_max, which for 1 is never).
TEST_P(E2e, ResumesReadingWithAnOwedMaxOfOne) {
    const auto server = serve({"--threads", "1", "--owed-max", "1", "--batch-count", "1"});
    ASSERT_TRUE(server->ready());
    Client client(server->port());
    ASSERT_TRUE(client.connected());
    constexpr std::size_t count = 3'000;  // many receive buffers' worth, each pausing the reads
    std::string requests;
    for (std::size_t i = 0; i < count; ++i) requests += request();
    ASSERT_TRUE(client.send_all(requests));
    const std::vector<std::string> answers = client.read_responses(count, Ms(5'000));
    ASSERT_EQ(answers.size(), count);
    for (const std::string& answer : answers) EXPECT_TRUE(answer.starts_with("HTTP/1.1 200 OK"));
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, ClosesASlowlorisAtTheHeaderTimeout) {
    const auto server = serve({"--header-timeout-ms", "500"});
    ASSERT_TRUE(server->ready());
    {
        Client stalled(server->port());
        Client trickling(server->port());
        Client healthy(server->port());
        ASSERT_TRUE(stalled.send_all("GET / HT"));
        ASSERT_TRUE(trickling.send_all("GET / HTTP/1.1\r\nX-Slow: "));
        // Header timeout plus up to a 1 s tick; the trickle keeps the idle timeout away.
        bool stalled_closed = false;
        bool trickling_closed = false;
        const auto deadline = Clock::now() + Ms(3'000);
        while (!(stalled_closed && trickling_closed) && Clock::now() < deadline) {
            (void)trickling.send_all("a", Ms(100));
            const e2e::Received a = stalled.read_until_close(Ms(0));
            const e2e::Received b = trickling.read_until_close(Ms(0));
            EXPECT_EQ(a.bytes.find("200 OK"), npos);
            EXPECT_EQ(b.bytes.find("200 OK"), npos);
            stalled_closed = stalled_closed || a.closed;
            trickling_closed = trickling_closed || b.closed;
            // Complete requests, however long the connection lives, are never timed out.
            ASSERT_TRUE(serves_one(healthy));
            std::this_thread::sleep_for(Ms(100));
        }
        EXPECT_TRUE(stalled_closed) << "half a request line, stalled";
        EXPECT_TRUE(trickling_closed) << "a header field, a byte every 100 ms";
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, ClosesAnIdleKeepAliveConnection) {
    const auto server = serve({"--idle-timeout-ms", "500"});
    ASSERT_TRUE(server->ready());
    {
        Client client(server->port());
        ASSERT_TRUE(serves_one(client));
        const e2e::Received got = client.read_until_close(Ms(3'000));
        EXPECT_TRUE(got.closed);
        EXPECT_EQ(got.bytes, "");
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, RefusesConnectionsPastTheLimit) {
    const auto server = serve({"--connections-max", "4", "--threads", "1"});
    ASSERT_TRUE(server->ready());
    {
        std::vector<Client> clients;
        for (int i = 0; i < 4; ++i) {
            clients.emplace_back(server->port());
            ASSERT_TRUE(serves_one(clients.back())) << "connection " << i;
        }
        Client fifth(server->port());
        const e2e::Received refused = fifth.read_until_close(Ms(2'000));
        EXPECT_TRUE(refused.closed) << "the fifth connection stays open";
        EXPECT_EQ(refused.bytes, "");
        for (int i = 0; i < 4; ++i) EXPECT_TRUE(serves_one(clients[i])) << "connection " << i;
        clients[0].close();
        EXPECT_TRUE(served_again_within(server->port(), Ms(3'000))) << "a slot freed";
    }
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(E2e, SurvivesRunningOutOfFileDescriptors) {
    const auto server = serve({"--threads", "1"}, limit_fds_to_64);
    ASSERT_TRUE(server->ready());
    {
        std::vector<Client> clients;
        for (int i = 0; i < 100; ++i) {
            clients.emplace_back(server->port());
            ASSERT_TRUE(clients.back().connected()) << "connection " << i;
            ASSERT_TRUE(clients.back().send_all(request()));
        }
        // Those accepted are answered; the rest wait in the backlog, so stop looking once
        // 1.5 s pass without a new answer.
        const std::size_t answered_count = answer_each(clients, Ms(1'500), Ms(5'000));
        EXPECT_GE(answered_count, 20u) << "too few served below the descriptor limit";
        EXPECT_LT(answered_count, 100u) << "the limit of 64 descriptors did not apply";
        ASSERT_EQ(kill(server->pid(), 0), 0) << "the server died";
    }
    EXPECT_TRUE(served_again_within(server->port(), Ms(4'000))) << "not recovered";
    EXPECT_EQ(server->stop(), 0);
}

// 50 requests, then SIGTERM at once: every answer leaves before the drain closes, then EOF.
testing::AssertionResult drain_answers_50(Server& server, Client& client) {
    std::string requests;
    for (int i = 0; i < 50; ++i) requests += request();
    if (!client.connected() || !client.send_all(requests)) {
        return testing::AssertionFailure() << "could not send";
    }
    kill(server.pid(), SIGTERM);
    const std::size_t answered = client.read_responses(50, Ms(5'000)).size();
    const e2e::Received rest = client.read_until_close(Ms(5'000));
    const int status = server.wait_exit(Ms(5'000));
    if (answered != 50 || !rest.closed || !rest.bytes.empty() || status != 0) {
        return testing::AssertionFailure()
               << answered << " of 50 answered; then closed " << rest.closed << " after "
               << rest.bytes.size() << " more bytes; exit status " << status << "\n"
               << server.log();
    }
    return testing::AssertionSuccess();
}

// The connection was accepted and served before: what it asks next is owed, even if the
// server has not read it yet when SIGTERM comes.
TEST_P(E2e, DrainAnswersEverythingOwedThenExits0) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client client(server->port());
    ASSERT_TRUE(serves_one(client));
    EXPECT_TRUE(drain_answers_50(*server, client));
}

// The same on a connection just opened, which may still wait in the accept queue.
TEST_P(E2e, DrainAnswersAConnectionJustOpened) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client client(server->port());
    EXPECT_TRUE(drain_answers_50(*server, client));
}

TEST_P(E2e, DrainClosesIdleConnectionsAndExits0) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client client(server->port());
    ASSERT_TRUE(serves_one(client));
    kill(server->pid(), SIGTERM);
    const e2e::Received got = client.read_until_close(Ms(2'000));
    EXPECT_TRUE(got.closed);
    EXPECT_EQ(got.bytes, "");
    EXPECT_EQ(server->wait_exit(Ms(2'000)), 0);
    EXPECT_NE(server->log().find("uring-okay: drained: "), npos);
}

// A connection accepted just before SIGTERM whose request comes moments later (a hand-over:
// the client connected to the old instance a moment before it began to drain) is answered; one
// that never speaks is closed once drain_grace_ms has passed, and the drain ends.
TEST_P(E2e, DrainAnswersAConnectionThatSpeaksJustAfterIt) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    Client late(server->port());
    Client mute(server->port());
    ASSERT_TRUE(late.connected() && mute.connected());
    std::this_thread::sleep_for(Ms(100));  // both accepted
    const auto sent = Clock::now();
    kill(server->pid(), SIGTERM);
    std::this_thread::sleep_for(Ms(50));
    ASSERT_TRUE(late.send_all(request()));
    EXPECT_EQ(late.read_responses(1, Ms(5'000)).size(), 1u) << server->log();
    EXPECT_TRUE(late.read_until_close(Ms(5'000)).closed);
    const e2e::Received nothing = mute.read_until_close(Ms(5'000));
    EXPECT_TRUE(nothing.closed);
    EXPECT_EQ(nothing.bytes, "");
    EXPECT_EQ(server->wait_exit(Ms(5'000)), 0);
    EXPECT_LT(std::chrono::duration_cast<Ms>(Clock::now() - sent).count(), 3'000);
}

// A keep-alive connection idle when SIGTERM comes (a client between two requests) sends
// `count` pipelined requests in one write 50 ms later: all are answered, only the last with
// `Connection: close`, then the connection closes (nothing after it is read) and the server
// exits 0. The client learns to go elsewhere from the answer, not from a close that crosses
// its request.
testing::AssertionResult drain_closes_after_what_came_together(Server& server, int count) {
    Client client(server.port());
    if (!serves_one(client)) return testing::AssertionFailure() << "not served before SIGTERM";
    kill(server.pid(), SIGTERM);
    std::this_thread::sleep_for(Ms(50));
    std::string requests;
    for (int i = 0; i < count; ++i) requests += request();
    if (!client.send_all(requests)) return testing::AssertionFailure() << "could not send";
    const std::vector<std::string> answers = client.read_responses(std::size_t(count), Ms(5'000));
    auto failure = [&] { return testing::AssertionFailure() << server.log(); };
    if (answers.size() != std::size_t(count)) return failure() << answers.size() << " answered";
    for (int i = 0; i < count; ++i) {
        const std::string& answer = answers[std::size_t(i)];
        const bool closes = answer.find("\r\nConnection: close\r\n") != npos;
        if (answer.rfind("HTTP/1.1 200 OK\r\n", 0) != 0 || closes != (i + 1 == count)) {
            return failure() << "answer " << i + 1 << " of " << count << ":\n" << answer;
        }
    }
    const e2e::Received rest = client.read_until_close(Ms(5'000));
    if (!rest.closed || !rest.bytes.empty()) return failure() << "not closed after the last";
    const int status = server.wait_exit(Ms(5'000));
    if (status != 0) return failure() << "exit status " << status;
    return testing::AssertionSuccess();
}

TEST_P(E2e, DrainAnswersAnIdleKeepAliveConnectionsNextRequestWithClose) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    EXPECT_TRUE(drain_closes_after_what_came_together(*server, 1));
}

TEST_P(E2e, DrainClosesAfterTheLastOfThePipelinedRequestsThatCameTogether) {
    const auto server = serve();
    ASSERT_TRUE(server->ready());
    EXPECT_TRUE(drain_closes_after_what_came_together(*server, 3));
}

TEST_P(E2e, ServesOverIpv6Loopback) {
    {
        const int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in6 address{};
        address.sin6_family = AF_INET6;
        address.sin6_addr = in6addr_loopback;
        const bool bound =
            fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        if (fd >= 0) close(fd);
        if (!bound) GTEST_SKIP() << "cannot bind [::1] here (no IPv6 loopback)";
    }
    const auto server = serve({}, nullptr, "[::1]:0");
    ASSERT_TRUE(server->ready());
    EXPECT_NE(server->start_line().find("listening on [::1]:"), npos);
    EXPECT_TRUE(serves_one(server->port(), "::1"));
    EXPECT_TRUE(serves_pipeline(server->port(), 16, Mix::gets_and_heads, "::1"));
    EXPECT_EQ(server->stop(), 0);
}

// Each fallback of the io_uring engine, forced by a flag, so every path runs on any kernel.
struct Fallback {
    const char* name;
    std::vector<std::string> flags;
    const char* says;   // in the start-up line
    const char* never;  // not in it
};

void PrintTo(const Fallback& fallback, std::ostream* out) {
    *out << fallback.name;
}

class UringFallback : public testing::TestWithParam<Fallback> {};

INSTANTIATE_TEST_SUITE_P(
    Flags, UringFallback,
    testing::Values(
        Fallback{"single_shot_recv",
                 {"--disable", "multishot-recv"},
                 "single-shot recv",
                 "multishot recv"},
        Fallback{"single_shot_accept",
                 {"--disable", "multishot-accept"},
                 "single-shot accept",
                 "multishot accept"},
        Fallback{"coop_taskrun", {"--disable", "defer-taskrun"}, "(coop-taskrun,", "defer-taskrun"},
        Fallback{"plain_ring",
                 {"--disable", "defer-taskrun", "--disable", "coop-taskrun"},
                 "(plain ring,",
                 "taskrun"},
        Fallback{"unregistered_ring",
                 {"--disable", "registered-ring"},
                 "engine io_uring (",
                 "registered ring"}),
    [](const testing::TestParamInfo<Fallback>& info) { return std::string(info.param.name); });

TEST_P(UringFallback, ServesKeepAliveAndPipelines) {
    if (!io_uring_usable()) GTEST_SKIP() << "io_uring_setup fails in this process";
    std::vector<std::string> flags = {"--listen", "127.0.0.1:0", "--engine", "uring"};
    flags.insert(flags.end(), GetParam().flags.begin(), GetParam().flags.end());
    Server server(flags);
    ASSERT_TRUE(server.ready());
    EXPECT_NE(server.start_line().find(GetParam().says), npos) << server.start_line();
    EXPECT_EQ(server.start_line().find(GetParam().never), npos) << server.start_line();
    {
        Client client(server.port());
        for (int i = 0; i < 100; ++i) ASSERT_TRUE(serves_one(client)) << "request " << i;
    }
    EXPECT_TRUE(serves_pipeline(server.port(), 100, Mix::gets));
    EXPECT_TRUE(serves_pipeline(server.port(), 100));
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(serves_one(server.port())) << "connection " << i;
    EXPECT_EQ(server.stop(), 0);
}

TEST(E2eSeccomp, FallsBackToEpollWhenIoUringIsRefused) {
    if (!seccomp_installable()) GTEST_SKIP() << "cannot install a seccomp filter here";
    Server server({"--listen", "127.0.0.1:0"}, block_io_uring_setup);
    ASSERT_TRUE(server.ready());
    EXPECT_NE(server.start_line().find(
                  "engine epoll (io_uring_setup: EPERM (seccomp, or kernel.io_uring_disabled))"),
              npos)
        << server.start_line();
    EXPECT_TRUE(serves_one(server.port()));
    EXPECT_TRUE(serves_pipeline(server.port(), 100, Mix::gets));
    EXPECT_TRUE(serves_pipeline(server.port(), 100));
    EXPECT_EQ(server.stop(), 0);
}

TEST(E2eSeccomp, EngineUringExits1WhenIoUringIsRefused) {
    if (!seccomp_installable()) GTEST_SKIP() << "cannot install a seccomp filter here";
    Server server({"--listen", "127.0.0.1:0", "--engine", "uring"}, block_io_uring_setup, false);
    EXPECT_EQ(server.wait_exit(Ms(5'000)), 1);
    EXPECT_NE(server.log().find("io_uring_setup: EPERM (seccomp, or kernel.io_uring_disabled)"),
              npos)
        << server.log();
}

TEST(E2eFlags, BadValueExits2NamingTheFlag) {
    Server server({"--listen", "127.0.0.1:0", "--threads", "abc"}, nullptr, false);
    EXPECT_EQ(server.wait_exit(Ms(5'000)), 2);
    EXPECT_NE(server.log().find("--threads"), npos) << server.log();
}

TEST(E2eFlags, UnknownFlagExits2) {
    Server server({"--listen", "127.0.0.1:0", "--frobnicate"}, nullptr, false);
    EXPECT_EQ(server.wait_exit(Ms(5'000)), 2);
    EXPECT_NE(server.log().find("--frobnicate"), npos) << server.log();
}

}  // namespace
