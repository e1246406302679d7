// End to end, both engines: what operators watch. --metrics-path parses as Prometheus text and
// counts what the test sent; --ready-path answers 503 until every --ready-when condition holds;
// --access-log writes one line per answer. The real binary, over loopback.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_support.hpp"

namespace {

using e2e::Client;
using e2e::Clock;
using e2e::Ms;
using e2e::Server;
using e2e::ask_once;
using e2e::get;

class Operations : public testing::TestWithParam<const char*> {
protected:
    std::unique_ptr<Server> serve(std::vector<std::string> flags) {
        std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--engine", GetParam()};
        args.insert(args.end(), flags.begin(), flags.end());
        auto server = std::make_unique<Server>(args);
        EXPECT_TRUE(server->ready()) << server->log();
        return server;
    }
};

// The Prometheus text exposition format, version 0.0.4, strictly: each family's # HELP and
// # TYPE, then its samples `name{label="value",...} number`, no sample outside its family.
// Returns every sample by "name{labels}", or fails the test at the first line that breaks it.
std::map<std::string, double> parse_prometheus(const std::string& text) {
    static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*)");
    static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
    static const std::regex sample(
        R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? ([0-9]+(\.[0-9]+)?))");
    std::map<std::string, double> samples;
    std::string family;
    bool typed = false;
    std::istringstream lines(text);
    std::smatch match;
    for (std::string line; std::getline(lines, line);) {
        if (std::regex_match(line, match, help)) {
            family = match[1];
            typed = false;
        } else if (std::regex_match(line, match, type)) {
            EXPECT_EQ(match[1], family) << line;
            typed = true;
        } else if (std::regex_match(line, match, sample)) {
            EXPECT_TRUE(typed && match[1] == family) << "a sample outside its family: " << line;
            EXPECT_EQ(samples.count(match[1].str() + match[2].str()), 0u) << "twice: " << line;
            samples[match[1].str() + match[2].str()] = std::stod(match[4]);
        } else {
            ADD_FAILURE() << "not Prometheus text: " << line;
        }
    }
    EXPECT_TRUE(text.empty() || text.back() == '\n');
    return samples;
}

std::string body_of(const std::string& response) {
    const std::size_t end = response.find("\r\n\r\n");
    return end == std::string::npos ? "" : response.substr(end + 4);
}

TEST_P(Operations, MetricsParseAsPrometheusTextAndCountWhatWasSent) {
    const auto server = serve({"--threads", "2", "--metrics-path", "/metrics"});
    Client good(server->port());
    ASSERT_TRUE(good.send_all(get("/") + get("/") + get("/") + get("/") + get("/")));
    ASSERT_EQ(good.read_responses(5, Ms(5'000)).size(), 5u);
    const std::string refused =
        ask_once(server->port(), "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    ASSERT_EQ(refused.rfind("HTTP/1.1 400 ", 0), 0u) << refused;

    // A thread counts an answer once its send completed, which may be a moment after the client
    // read it: ask until both show, within a bound.
    std::map<std::string, double> samples;
    std::string response;
    int asked = 0;
    for (const auto deadline = Clock::now() + Ms(3'000); Clock::now() < deadline;) {
        response = ask_once(server->port(), get("/metrics", "Connection: close\r\n"));
        ++asked;
        samples = parse_prometheus(body_of(response));
        if (samples["uring_okay_responses_total{class=\"2xx\"}"] >= 5 &&
            samples["uring_okay_responses_total{class=\"4xx\"}"] == 1)
            break;
        std::this_thread::sleep_for(Ms(20));
    }
    EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
              std::string::npos);
    EXPECT_NE(
        response.find("\r\nContent-Length: " + std::to_string(body_of(response).size()) + "\r\n"),
        std::string::npos);
    EXPECT_EQ(samples["uring_okay_requests_total"], 6 + asked);
    EXPECT_EQ(samples["uring_okay_responses_total{class=\"4xx\"}"], 1);
    EXPECT_GE(samples["uring_okay_responses_total{class=\"2xx\"}"], 5);
    EXPECT_LE(samples["uring_okay_responses_total{class=\"2xx\"}"], 5 + asked - 1);
    EXPECT_EQ(samples["uring_okay_framer_errors_total{error=\"bad_request\"}"], 1);
    EXPECT_EQ(samples["uring_okay_connections_accepted_total"], 2 + asked);
    EXPECT_EQ(samples["uring_okay_received_bytes_total"] > 0, true);
    EXPECT_GT(samples["uring_okay_thread_cpu_seconds_total"], 0);
    // Each summed series is the sum of its two threads' series.
    for (const auto& [series, value] : samples) {
        if (series.find("thread=") != std::string::npos) continue;
        const std::size_t brace = series.find('{');
        const std::string name = series.substr(0, brace);
        const std::string labels =
            brace == std::string::npos ? "" : series.substr(brace + 1, series.size() - brace - 2);
        double threads = 0;
        for (const char* thread : {"0", "1"}) {
            const std::string label = std::string("thread=\"") + thread + "\"";
            const std::string key =
                name + "{" + (labels.empty() ? label : labels + "," + label) + "}";
            ASSERT_EQ(samples.count(key), 1u) << key;
            threads += samples[key];
        }
        if (name != "uring_okay_thread_cpu_seconds_total") {
            EXPECT_EQ(value, threads) << series;
        }
    }
    // HEAD: the same head, no body.
    const std::string head = ask_once(server->port(),
                                      "HEAD /metrics HTTP/1.1\r\nHost: a\r\n"
                                      "Connection: close\r\n\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << head;
    EXPECT_NE(head.find("\r\nContent-Length: "), std::string::npos) << head;
    EXPECT_EQ(body_of(head), "");
    EXPECT_EQ(server->stop(), 0);
}

// Keep-alive and pipelined: each metrics answer is framed by its Content-Length, in order.
TEST_P(Operations, MetricsAnswerPipelinedRequestsInOrder) {
    const auto server = serve({"--threads", "1", "--metrics-path", "/metrics", "--no-date"});
    Client client(server->port());
    ASSERT_TRUE(client.send_all(get("/metrics") + get("/") + get("/metrics")));
    const std::vector<std::string> got = client.read_responses(3, Ms(5'000));
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(parse_prometheus(body_of(got[0]))["uring_okay_requests_total"], 3);
    EXPECT_EQ(got[1], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    const auto later = parse_prometheus(body_of(got[2]));
    EXPECT_EQ(later.at("uring_okay_responses_total{class=\"2xx\"}"), 2);
    EXPECT_EQ(server->stop(), 0);
}

// A port reserved (bound, not listening) refuses until the test listens on it.
struct ReservedPort {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int port = 0;
    ReservedPort() {
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        socklen_t length = sizeof address;
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        port = ntohs(address.sin_port);
    }
    ~ReservedPort() { close(fd); }
};

int status_of(const std::string& response) {
    return response.size() >= 12 ? std::atoi(response.c_str() + 9) : 0;
}

// Polls the path until it answers `status`, within a bound; returns what it answered last.
int wait_for_status(int port, const std::string& path, int status) {
    int got = 0;
    for (const auto deadline = Clock::now() + Ms(5'000); Clock::now() < deadline;) {
        got = status_of(ask_once(port, get(path, "Connection: close\r\n")));
        if (got == status) break;
        std::this_thread::sleep_for(Ms(20));
    }
    return got;
}

TEST_P(Operations, ReadyPathAnswers503UntilEveryConditionHolds) {
    char file[] = "/tmp/uring-okay-ready-XXXXXX";
    const int made = mkstemp(file);
    ASSERT_GE(made, 0);
    close(made);
    unlink(file);
    ReservedPort database;
    const auto server =
        serve({"--threads", "2", "--ready-path", "/ready", "--health-path", "/healthz",
               "--ready-when", std::string("file:") + file, "--ready-when",
               "tcp:127.0.0.1:" + std::to_string(database.port), "--ready-check-ms", "50"});
    EXPECT_EQ(status_of(ask_once(server->port(), get("/ready", "Connection: close\r\n"))), 503);
    EXPECT_EQ(status_of(ask_once(server->port(), get("/healthz", "Connection: close\r\n"))), 200);
    std::FILE* created = std::fopen(file, "w");
    ASSERT_NE(created, nullptr);
    std::fclose(created);
    std::this_thread::sleep_for(Ms(200));  // four checks: the file alone is not enough
    EXPECT_EQ(status_of(ask_once(server->port(), get("/ready", "Connection: close\r\n"))), 503);
    ASSERT_EQ(listen(database.fd, 8), 0);
    EXPECT_EQ(wait_for_status(server->port(), "/ready", 200), 200);
    EXPECT_NE(server->log().find("ready: every --ready-when condition holds"), std::string::npos);
    // Ready for good: the file going away changes nothing.
    unlink(file);
    std::this_thread::sleep_for(Ms(200));
    EXPECT_EQ(status_of(ask_once(server->port(), get("/ready", "Connection: close\r\n"))), 200);
    EXPECT_EQ(server->stop(), 0);
}

// A drain fails the readiness path as it fails the health path.
TEST_P(Operations, ReadyPathAnswers503OnceADrainBegins) {
    const auto server = serve({"--threads", "1", "--ready-path", "/ready"});
    Client kept(server->port());
    ASSERT_TRUE(kept.send_all(get("/ready")));
    const std::vector<std::string> first = kept.read_responses(1, Ms(5'000));
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(status_of(first[0]), 200);
    ASSERT_TRUE(kept.send_all(get("/", "X-Pad: 1\r\n").substr(0, 10)));  // a request begun
    kill(server->pid(), SIGTERM);
    std::this_thread::sleep_for(Ms(100));
    ASSERT_TRUE(kept.send_all(get("/", "X-Pad: 1\r\n").substr(10) + get("/ready")));
    const e2e::Received rest = kept.read_until_close(Ms(5'000));
    EXPECT_NE(rest.bytes.find("HTTP/1.1 503 "), std::string::npos) << rest.bytes;
    EXPECT_EQ(server->wait_exit(Ms(10'000)), 0);
}

TEST_P(Operations, RefusesReadyWhenWithoutAReadyPath) {
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--ready-when", "file:/tmp/x"},
          {"--ready-path", "/r", "--ready-when", "disk:/x"},
          {"--ready-path", "/r", "--ready-when", "tcp:127.0.0.1:0"},
          {"--ready-path", "/r", "--ready-when", "tcp:localhost:80"},
          {"--metrics-path", "metrics"}}) {
        Server server(flags, nullptr, false);
        EXPECT_EQ(server.wait_exit(Ms(5'000)), 2) << flags[0] << " " << flags[1];
        EXPECT_NE(server.log().find(flags[flags.size() - 2]), std::string::npos) << server.log();
    }
}

// One line per answer: the client's address and port, the path (or * for the default answer),
// the status, the bytes, and `close` after the last.
TEST_P(Operations, AccessLogWritesALinePerAnswer) {
    const auto server = serve({"--threads", "1", "--access-log", "--health-path", "/healthz"});
    Client client(server->port());
    sockaddr_in local{};
    socklen_t length = sizeof local;
    getsockname(client.fd(), reinterpret_cast<sockaddr*>(&local), &length);
    const std::string peer = "127.0.0.1:" + std::to_string(ntohs(local.sin_port));
    const std::string requests =
        get("/healthz") + get("/other") + get("/", "Connection: close\r\n");
    ASSERT_TRUE(client.send_all(requests));
    const e2e::Received got = client.read_until_close(Ms(5'000));
    EXPECT_TRUE(got.closed);
    const std::string bad = ask_once(server->port(), "GET / HTTP/1.1\r\n\r\n");  // no Host: 400
    EXPECT_EQ(server->stop(), 0);
    const std::string log = server->log();
    const std::regex line(
        R"(\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT (\S+) (\S+) (\d{3}) (\d+)( close)?)");
    std::vector<std::smatch> lines;
    std::istringstream text(log);
    std::vector<std::string> kept;
    for (std::string each; std::getline(text, each);) {
        if (std::regex_match(each, line)) kept.push_back(each);
    }
    ASSERT_EQ(kept.size(), 4u) << log;
    std::smatch match;
    ASSERT_TRUE(std::regex_match(kept[0], match, line));
    EXPECT_EQ(match[1], peer);
    EXPECT_EQ(match[2], "/healthz");
    EXPECT_EQ(match[3], "200");
    EXPECT_EQ(match[5], "");
    ASSERT_TRUE(std::regex_match(kept[1], match, line));
    EXPECT_EQ(match[2], "*");
    ASSERT_TRUE(std::regex_match(kept[2], match, line));
    EXPECT_EQ(match[2], "*");
    EXPECT_EQ(match[5], " close");
    ASSERT_TRUE(std::regex_match(kept[3], match, line));
    EXPECT_EQ(match[3], "400");
    EXPECT_EQ(match[4], std::to_string(bad.size()));
    EXPECT_EQ(match[5], " close");
}

// --query-knobs, like fortio's server: status, size and delay per request; keep-alive and order
// kept; the bounds hold.
TEST_P(Operations, QueryKnobsChangeTheDefaultAnswerWithinTheirBounds) {
    const auto server = serve({"--threads", "1", "--query-knobs", "--no-date", "--health-path",
                               "/healthz", "--knob-size-max", "100", "--knob-delay-max-ms", "300"});
    Client client(server->port());
    const auto sent = Clock::now();
    ASSERT_TRUE(client.send_all(get("/?delay=250ms&status=202") + get("/") +
                                get("/?status=503&size=10") + get("/healthz?status=500")));
    const std::vector<std::string> got = client.read_responses(4, Ms(5'000));
    const auto waited = std::chrono::duration_cast<Ms>(Clock::now() - sent).count();
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0],
              "HTTP/1.1 202 Accepted\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    EXPECT_EQ(got[1], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    EXPECT_EQ(got[2],
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
              "Content-Length: 10\r\n\r\n0123456789");
    EXPECT_EQ(got[3], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nOK");
    EXPECT_GE(waited, 250);
    // Past the bounds: size cut to 100 bytes, delay to 300 ms.
    const auto again = Clock::now();
    ASSERT_TRUE(client.send_all(get("/?size=100000&delay=60s") +
                                "HEAD /?size=7 HTTP/1.1\r\nHost: a\r\n\r\n"));
    const std::vector<std::string> cut = client.read_responses_to({false, true}, Ms(5'000));
    const auto cut_waited = std::chrono::duration_cast<Ms>(Clock::now() - again).count();
    ASSERT_EQ(cut.size(), 2u);
    EXPECT_EQ(body_of(cut[0]).size(), 100u);
    EXPECT_NE(cut[0].find("Content-Length: 100\r\n"), std::string::npos) << cut[0];
    EXPECT_GE(cut_waited, 300);
    EXPECT_LT(cut_waited, 3'000);
    EXPECT_EQ(cut[1], "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 7\r\n\r\n");
    EXPECT_EQ(server->stop(), 0);
}

TEST_P(Operations, QueryKnobsAreIgnoredUnlessAskedFor) {
    const auto server = serve({"--threads", "1", "--no-date"});
    EXPECT_EQ(ask_once(server->port(), get("/?status=503&size=9", "Connection: close\r\n")),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
              "Connection: close\r\n\r\nOK");
    EXPECT_EQ(server->stop(), 0);
}

// Four answers with knobs may be owed at once: a client that pipelines five is answered four,
// then closed (RFC 9112 §9.3.2: it retries the rest), and the bound is counted.
TEST_P(Operations, QueryKnobsPipelinedPastTheirBoundAreAnsweredWhatFits) {
    const auto server = serve({"--threads", "1", "--query-knobs", "--metrics-path", "/metrics"});
    Client client(server->port());
    std::string five;
    for (int i = 0; i < 5; ++i) five += get("/?status=" + std::to_string(201 + i));
    ASSERT_TRUE(client.send_all(five));
    const e2e::Received got = client.read_until_close(Ms(5'000));
    EXPECT_TRUE(got.closed);
    for (int i = 0; i < 4; ++i) {
        EXPECT_NE(got.bytes.find("HTTP/1.1 " + std::to_string(201 + i) + " "), std::string::npos)
            << got.bytes;
    }
    EXPECT_EQ(got.bytes.find("HTTP/1.1 205 "), std::string::npos) << got.bytes;
    const auto samples = parse_prometheus(
        body_of(ask_once(server->port(), get("/metrics", "Connection: close\r\n"))));
    EXPECT_EQ(samples.at("uring_okay_framer_errors_total{error=\"owed_full\"}"), 1);
    EXPECT_EQ(server->stop(), 0);
}

INSTANTIATE_TEST_SUITE_P(Engines, Operations, testing::Values("uring", "epoll"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
