// uring-okay-load: its pure parts (the histogram's error bound, the response framer cut at every
// point, the flags) and the binary end to end, against uring-okay, nginx and small servers of
// our own, on loopback. Every run has a deadline; the whole file stays under a minute.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "e2e_support.hpp"
#include "histogram.hpp"
#include "load_support.hpp"
#include "options.hpp"
#include "response_framer.hpp"

namespace {

using load_test::LoadRun;
using load_test::Ms;
using load_test::number_after;
using load_test::run_load;
using uring_okay::load::Framed;
using uring_okay::load::FrameError;
using uring_okay::load::Histogram;
using uring_okay::load::ResponseFramer;

// ---------------------------------------------------------------------------------- histogram

TEST(LoadHistogram, BucketsTileTheValuesWithoutGapsOrOverlap) {
    for (std::size_t i = 0; i + 1 < Histogram::bucket_count; ++i) {
        ASSERT_EQ(Histogram::lowest(i) + Histogram::width(i), Histogram::lowest(i + 1)) << i;
        ASSERT_EQ(Histogram::index(Histogram::lowest(i)), i);
        ASSERT_EQ(Histogram::index(Histogram::lowest(i + 1) - 1), i);
        // The bound the 1 % promise rests on: no bucket wider than 1/128 of where it starts.
        ASSERT_LE(Histogram::width(i) * 128, std::max<std::uint64_t>(Histogram::lowest(i), 128));
    }
}

TEST(LoadHistogram, AnyOneValueReadsBackWithinOnePercent) {
    std::mt19937_64 random(7);
    for (int i = 0; i < 20'000; ++i) {
        const auto value =
            std::uint64_t(std::exp2(std::uniform_real_distribution<>(0, 40)(random)));
        Histogram histogram;
        histogram.record(value);
        histogram.record(value * 3);  // another bucket, so min and max do not give it away
        const double read = double(histogram.at_percentile(50));
        ASSERT_LE(std::abs(read - double(value)), double(value) * 0.01) << value;
    }
}

TEST(LoadHistogram, PercentilesMatchTheSortedValuesWithinOnePercent) {
    std::mt19937_64 random(11);
    std::lognormal_distribution<> latency(std::log(200'000.0), 1.2);  // ns, a long tail
    Histogram histogram;
    Histogram halves[2];
    std::vector<std::uint64_t> values;
    for (int i = 0; i < 300'000; ++i) {
        const auto value = std::uint64_t(latency(random)) + 1;
        values.push_back(value);
        histogram.record(value);
        halves[i % 2].record(value);
    }
    std::sort(values.begin(), values.end());
    halves[0].merge(halves[1]);
    for (const double percent : {1.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
        const auto rank = std::size_t(std::ceil(percent / 100 * double(values.size())));
        const double exact = double(values[rank - 1]);
        EXPECT_NEAR(double(histogram.at_percentile(percent)), exact, exact * 0.01) << percent;
        EXPECT_EQ(halves[0].at_percentile(percent), histogram.at_percentile(percent));
    }
    EXPECT_EQ(histogram.at_percentile(100), values.back());
    EXPECT_EQ(histogram.max(), values.back());
    EXPECT_EQ(histogram.min(), values.front());
    EXPECT_EQ(halves[0].count(), values.size());
}

TEST(LoadHistogram, HugeValuesShareTheTopBucketAndMaxStaysExact) {
    Histogram histogram;
    histogram.record(UINT64_MAX / 2);
    EXPECT_EQ(Histogram::index(UINT64_MAX), Histogram::bucket_count - 1);
    EXPECT_EQ(histogram.max(), UINT64_MAX / 2);
    EXPECT_EQ(histogram.at_percentile(50), UINT64_MAX / 2);  // clamped to the max recorded
    EXPECT_EQ(Histogram{}.at_percentile(99), 0u);
}

// ---------------------------------------------------------------------------- response framer

struct Answer {
    std::uint16_t status;
    bool closes;
};

// Feeds `pieces` in order and gathers the answers, the error, and what EOF says at the end.
struct Outcome {
    std::vector<Answer> answers;
    FrameError error = FrameError::none;
};
Outcome frame(const std::vector<std::string_view>& pieces, bool head = false, bool eof = false) {
    ResponseFramer framer(head);
    Outcome outcome;
    for (std::string_view piece : pieces) {
        while (!piece.empty() && outcome.error == FrameError::none) {
            const Framed framed = framer.next(piece);
            if (framed.kind == Framed::Kind::response) {
                outcome.answers.push_back({framed.status, framed.closes});
            } else if (framed.kind == Framed::Kind::error) {
                outcome.error = framed.error;
            } else {
                EXPECT_TRUE(piece.empty());
            }
        }
    }
    if (eof && outcome.error == FrameError::none) {
        const Framed framed = framer.on_eof();
        if (framed.kind == Framed::Kind::response) outcome.answers.push_back({framed.status, true});
        if (framed.kind == Framed::Kind::error) outcome.error = framed.error;
    }
    return outcome;
}

// Every kind of framing, one after another on one keep-alive connection.
constexpr std::string_view mixed_stream =
    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nServer: x\r\n\r\nOK"
    "HTTP/1.1 100 Continue\r\n\r\n"
    "HTTP/1.1 201 Created\r\ncontent-length:  5 \r\n\r\nhello"
    "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
    "5;name=value\r\nabcde\r\nA\r\n0123456789\r\n0\r\nTrailer: yes\r\n\r\n"
    "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n"
    "HTTP/1.1 304 Not Modified\r\n\r\n"
    "HTTP/1.1 503 Busy\nContent-Length: 1\n\nX"  // bare LF: forgiven in answers
    "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n"
    "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n!"
    "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbad";
const std::vector<Answer> mixed_answers = {{200, false}, {201, false}, {404, false},
                                           {204, false}, {304, false}, {503, false},
                                           {302, false}, {200, false}, {500, true}};

void expect_answers(const Outcome& outcome, const std::vector<Answer>& expected,
                    const std::string& where) {
    ASSERT_EQ(outcome.error, FrameError::none) << where;
    ASSERT_EQ(outcome.answers.size(), expected.size()) << where;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(outcome.answers[i].status, expected[i].status) << where << " answer " << i;
        EXPECT_EQ(outcome.answers[i].closes, expected[i].closes) << where << " answer " << i;
    }
}

TEST(LoadFramer, FramesEveryKindOfBodyInOneFeed) {
    expect_answers(frame({mixed_stream}), mixed_answers, "whole");
}

TEST(LoadFramer, CountsTheSameWhereverTheStreamIsCut) {
    for (std::size_t cut = 0; cut <= mixed_stream.size(); ++cut) {
        expect_answers(frame({mixed_stream.substr(0, cut), mixed_stream.substr(cut)}),
                       mixed_answers, "cut at " + std::to_string(cut));
    }
}

TEST(LoadFramer, CountsTheSameFedInRandomPieces) {
    std::mt19937 random(3);
    for (int round = 0; round < 300; ++round) {
        std::vector<std::string_view> pieces;
        for (std::size_t at = 0; at < mixed_stream.size();) {
            const std::size_t size = std::uniform_int_distribution<std::size_t>(1, 9)(random);
            pieces.push_back(mixed_stream.substr(at, size));
            at += size;
        }
        expect_answers(frame(pieces), mixed_answers, "round " + std::to_string(round));
    }
}

TEST(LoadFramer, HeadAnswersHaveNoBodyWhateverTheFieldsSay) {
    constexpr std::string_view heads =
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (std::size_t cut = 0; cut <= heads.size(); ++cut) {
        expect_answers(frame({heads.substr(0, cut), heads.substr(cut)}, true),
                       {{200, false}, {200, false}}, "cut at " + std::to_string(cut));
    }
}

TEST(LoadFramer, BodiesWithoutLengthRunToTheClose) {
    constexpr std::string_view http_1_0 = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of this";
    constexpr std::string_view no_length = "HTTP/1.1 200 OK\r\n\r\nuntil the end";
    constexpr std::string_view gzip_only = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz";
    for (const std::string_view stream : {http_1_0, no_length, gzip_only}) {
        for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
            const std::vector<std::string_view> pieces = {stream.substr(0, cut),
                                                          stream.substr(cut)};
            EXPECT_TRUE(frame(pieces).answers.empty()) << "no answer before the close";
            expect_answers(frame(pieces, false, true), {{200, true}},
                           std::string(stream) + " cut at " + std::to_string(cut));
        }
    }
    // HTTP/1.0 with a length is complete at its length, and says it closes.
    expect_answers(frame({"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"}), {{200, true}}, "1.0");
}

TEST(LoadFramer, LongFieldsSplitAnywhereAreSkipped) {
    const std::string stream = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(20'000, 'a') +
                               "\r\nSet-Cookie: " + std::string(3'000, 'b') +
                               "\r\nContent-Length: 2\r\n\r\nOK";
    const std::string_view view = stream;
    for (std::size_t cut = 0; cut <= view.size(); cut += 97) {
        expect_answers(frame({view.substr(0, cut), view.substr(cut)}), {{200, false}},
                       "cut at " + std::to_string(cut));
    }
}

TEST(LoadFramer, RefusesWhatCannotBeFramed) {
    struct Case {
        std::string_view bytes;
        FrameError error;
    };
    const Case cases[] = {
        {"SSH-2.0-OpenSSH_9.2p1", FrameError::not_http},  // no newline needed to tell
        {"\x15\x03\x01\x00\x02\x02\x0a", FrameError::not_http},
        {"HTTP/1.1 20 OK\r\n\r\n", FrameError::bad_status_line},
        {"HTTP/2.0 200 OK\r\n\r\n", FrameError::bad_version},
        {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", FrameError::bad_field},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\n", FrameError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
         FrameError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
         FrameError::bad_content_length},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", FrameError::bad_chunk},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
         FrameError::bad_chunk},
        {"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
         FrameError::switching_protocols},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(frame({c.bytes}).error, c.error) << c.bytes;
    }
    const std::string endless(ResponseFramer::line_bytes_max + 10, 'a');
    EXPECT_EQ(frame({"HTTP/1.1 200 OK\r\nX: ", endless}).error, FrameError::line_too_long);
    EXPECT_EQ(frame({"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"}, false, true).error,
              FrameError::truncated);
    EXPECT_TRUE(frame({"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"}, false, true).error ==
                FrameError::none);
}

// ------------------------------------------------------------------------------------- flags

TEST(LoadFlags, ReadsWrkStyleFlagsAndUrls) {
    using uring_okay::load::parse_options;
    using uring_okay::load::Parsed;
    const char* args[] = {"uring-okay-load",
                          "-t2",
                          "-c",
                          "64",
                          "-d",
                          "5s",
                          "--pipeline=16",
                          "-H",
                          "X-A: b",
                          "http://[::1]:8080/health?x=1"};
    const Parsed parsed = parse_options(int(std::size(args)), args);
    ASSERT_EQ(parsed.kind, Parsed::Kind::run) << parsed.error;
    EXPECT_EQ(parsed.options.threads, 2u);
    EXPECT_EQ(parsed.options.connections, 64u);
    EXPECT_EQ(parsed.options.duration_ns, 5'000'000'000u);
    EXPECT_EQ(parsed.options.pipeline, 16u);
    EXPECT_EQ(parsed.options.host, "[::1]");
    EXPECT_EQ(parsed.options.host_lookup, "::1");
    EXPECT_EQ(parsed.options.port, 8080);
    EXPECT_EQ(parsed.options.path, "/health?x=1");

    uring_okay::load::Request request;
    std::string error;
    ASSERT_TRUE(uring_okay::load::build_request(parsed.options, request, error));
    EXPECT_EQ(request.bytes, "GET /health?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nX-A: b\r\n\r\n");

    for (const std::vector<const char*>& bad :
         std::vector<std::vector<const char*>>{{"x", "--pipeline", "0", "http://a/"},
                                               {"x", "-d", "soon", "http://a/"},
                                               {"x", "--close", "--pipeline", "2", "http://a/"},
                                               {"x", "--frobnicate", "http://a/"},
                                               {"x", "https://a/"},
                                               {"x", "http://a:99999/"},
                                               {"x", "-c", "10"}}) {
        const Parsed refused = parse_options(int(bad.size()), bad.data());
        EXPECT_EQ(refused.kind, Parsed::Kind::error) << bad[1];
        EXPECT_FALSE(refused.error.empty());
    }
}

// ------------------------------------------------------------------------------ end to end

// "uring-okay: drained: N requests, ..." from the server's exit summary; -1 without one.
long drained_requests(e2e::Server& server) {
    EXPECT_EQ(server.stop(), 0);
    return long(number_after(server.log(), "drained: "));
}

std::string url(int port, const char* host = "127.0.0.1") {
    return std::string("http://") + host + ":" + std::to_string(port) + "/";
}

std::string json_of(const load_test::TempDir& dir) {
    return load_test::read_file(dir.file("j"));
}

// The server's own count of `series` ("uring_okay_requests_total"), from its --metrics-path.
long metric(int port, const std::string& series) {
    const std::string page = e2e::ask_once(port, e2e::get("/metrics", "Connection: close\r\n"));
    return long(number_after(page, "\n" + series + " "));
}

TEST(LoadRun, RequestsCompleteExactlyAndTheServerCountsTheSame) {
    e2e::Server server({"--listen", "127.0.0.1:0", "--threads", "2", "--metrics-path", "/metrics"});
    ASSERT_TRUE(server.ready());
    load_test::TempDir dir;
    // 10,007 is no multiple of 16: the last writes of each thread are short batches.
    const LoadRun run = run_load({"-t", "2", "-c", "8", "--pipeline", "16", "--requests", "10007",
                                  "--json", dir.file("j"), url(server.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_NE(run.out.find("10007 requests in"), std::string::npos) << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 10007);
    EXPECT_EQ(number_after(json_of(dir), "\"2xx\": "), 10007);
    EXPECT_EQ(number_after(json_of(dir), "\"requests_lost\": "), 0);
    EXPECT_GT(number_after(json_of(dir), "\"requests_per_cpu_second\": "), 0);
    // The server's metrics, summed over its two threads (this request for them is one more).
    EXPECT_EQ(metric(server.port(), "uring_okay_requests_total"), 10007 + 1);
    const long opened = long(number_after(json_of(dir), "\"connections_opened\": "));
    EXPECT_GE(opened, 8);
    // One more: the generator's connect before the run (it checks the target, then closes).
    EXPECT_EQ(metric(server.port(), "uring_okay_connections_accepted_total"), opened + 1 + 2);
    EXPECT_EQ(drained_requests(server), 10007 + 2);
}

TEST(LoadRun, CloseChurnOpensAConnectionPerRequest) {
    e2e::Server server({"--listen", "127.0.0.1:0", "--threads", "1"});
    ASSERT_TRUE(server.ready());
    load_test::TempDir dir;
    const LoadRun run = run_load({"-t", "1", "-c", "4", "--close", "--requests", "600", "--json",
                                  dir.file("j"), url(server.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 600);
    EXPECT_GE(number_after(json_of(dir), "\"connections_opened\": "), 600);
    EXPECT_EQ(drained_requests(server), 600);
}

TEST(LoadRun, HeadAnswersAndIpv6) {
    e2e::Server server({"--listen", "[::1]:0", "--threads", "1"}, nullptr, true);
    if (!server.ready()) GTEST_SKIP() << "no IPv6 loopback here";
    load_test::TempDir dir;
    const LoadRun run = run_load({"-c", "2", "--method", "HEAD", "--pipeline", "4", "--requests",
                                  "1000", "--json", dir.file("j"), url(server.port(), "[::1]")});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 1000);
    EXPECT_EQ(number_after(json_of(dir), "\"framing\": "), 0);
    EXPECT_EQ(drained_requests(server), 1000);
}

TEST(LoadRun, SendsARequestFileAndBodiesAsTheyAre) {
    e2e::Server server({"--listen", "127.0.0.1:0", "--threads", "1"});
    ASSERT_TRUE(server.ready());
    load_test::TempDir dir;
    std::ofstream(dir.file("request"), std::ios::binary)
        << "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Length: 5\r\n\r\nhello";
    const LoadRun from_file =
        run_load({"-c", "2", "--pipeline", "8", "--requests", "300", "--request-file",
                  dir.file("request"), "--json", dir.file("j"), url(server.port())});
    ASSERT_EQ(from_file.exit_code, 0) << from_file.err << from_file.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 300);
    const LoadRun with_body =
        run_load({"-c", "2", "--body-size", "3000", "--pipeline", "4", "-H", "X-Test: yes",
                  "--requests", "200", "--json", dir.file("j"), url(server.port())});
    ASSERT_EQ(with_body.exit_code, 0) << with_body.err << with_body.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 200);
    EXPECT_EQ(drained_requests(server), 500);
}

TEST(LoadRun, AgainstNginxCountsMatchItsAccessLog) {
    if (load_test::nginx_binary() == nullptr) GTEST_SKIP() << "nginx is not installed";
    // nginx closes a keep-alive connection after 100 requests and drops what was pipelined
    // after the 100th: those are written again on a new connection, never counted twice.
    load_test::Nginx nginx(100);
    ASSERT_TRUE(nginx.ready()) << nginx.why_not_ready();
    load_test::TempDir dir;
    const LoadRun run = run_load({"-t", "1", "-c", "4", "--pipeline", "16", "--requests", "5000",
                                  "--json", dir.file("j"), url(nginx.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 5000);
    EXPECT_EQ(number_after(json_of(dir), "\"2xx\": "), 5000);
    EXPECT_GE(number_after(json_of(dir), "\"connections_opened\": "), 50);
    EXPECT_EQ(nginx.requests_logged(), 5000);
}

TEST(LoadRun, AFixedRateHoldsWithinOnePercent) {
    e2e::Server server({"--listen", "127.0.0.1:0", "--threads", "1"});
    ASSERT_TRUE(server.ready());
    load_test::TempDir dir;
    const LoadRun run = run_load({"-t", "1", "-c", "8", "--rate", "2000", "-d", "3s", "--json",
                                  dir.file("j"), url(server.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    const double rate = number_after(json_of(dir), "\"requests_per_second\": ");
    EXPECT_NEAR(rate, 2000, 20) << run.out;
    EXPECT_NEAR(number_after(json_of(dir), "\"requests\": "), 6000, 60);
}

TEST(LoadRun, ServerDelayShowsInThePercentiles) {
    load_test::TinyServer slow(load_test::TinyServer::delayed(Ms(25)));
    ASSERT_TRUE(slow.ready());
    load_test::TempDir dir;
    const LoadRun run =
        run_load({"-c", "4", "-d", "1s", "--json", dir.file("j"), url(slow.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    const std::string json = json_of(dir);
    EXPECT_GE(number_after(json, "\"p50\": "), 25'000);  // us
    EXPECT_LT(number_after(json, "\"p50\": "), 60'000);
    EXPECT_GE(number_after(json, "\"p99\": "), 25'000);
    EXPECT_GE(number_after(json, "\"requests\": "), 60);  // 4 connections, 40 answers/s each
}

TEST(LoadRun, OpenLoopCountsTheQueueAsLatency) {
    // One connection, one answer per 50 ms, 100 requests/s asked: each request waits longer
    // than the last. Measured from the send (coordinated omission), the p99 would stay 50 ms.
    load_test::TinyServer slow(load_test::TinyServer::delayed(Ms(50)));
    ASSERT_TRUE(slow.ready());
    load_test::TempDir dir;
    const LoadRun run = run_load(
        {"-c", "1", "--rate", "100", "-d", "2s", "--json", dir.file("j"), url(slow.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_GT(number_after(json_of(dir), "\"p99\": "), 500'000) << run.out;  // us
}

TEST(LoadRun, RefusedPortFailsAtOnceWithTheReason) {
    const LoadRun run = run_load({"-d", "10s", url(load_test::free_port())}, Ms(10'000));
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_LT(run.seconds, 3);
    EXPECT_NE(run.err.find("ECONNREFUSED"), std::string::npos) << run.err;
}

TEST(LoadRun, NotHttpFailsWithTheReasonAndTheBytes) {
    load_test::TinyServer ssh(
        load_test::TinyServer::greeting("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
    ASSERT_TRUE(ssh.ready());
    const LoadRun run = run_load({"-c", "4", "-d", "10s", url(ssh.port())}, Ms(10'000));
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_LT(run.seconds, 4);
    EXPECT_NE(run.err.find("not HTTP"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find("SSH-2.0"), std::string::npos) << run.err;
}

TEST(LoadRun, SilentServerTimesOut) {
    load_test::TinyServer silent(load_test::TinyServer::silent());
    ASSERT_TRUE(silent.ready());
    const LoadRun run =
        run_load({"-c", "2", "-d", "20s", "--timeout", "300ms", url(silent.port())}, Ms(10'000));
    EXPECT_EQ(run.exit_code, 1);
    EXPECT_LT(run.seconds, 4);
    EXPECT_NE(run.err.find("no answer"), std::string::npos) << run.err;
}

// RFC 9112 §9.3.1: a used keep-alive connection closed before any byte of its answer lost a
// request the server never took on; a GET is written again on a new connection, not an error.
TEST(LoadRun, RequestsLostOnAUsedConnectionAreRetriedOnce) {
    load_test::TinyServer server(load_test::TinyServer::closing_at_request(4));
    ASSERT_TRUE(server.ready());
    load_test::TempDir dir;
    const LoadRun run = run_load(
        {"-t", "1", "-c", "2", "--requests", "300", "--json", dir.file("j"), url(server.port())});
    ASSERT_EQ(run.exit_code, 0) << run.err << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests\": "), 300);
    EXPECT_EQ(number_after(json_of(dir), "\"reset\": "), 0) << run.out;
    EXPECT_EQ(number_after(json_of(dir), "\"requests_lost\": "), 0);
    EXPECT_GE(number_after(json_of(dir), "\"retried\": "), 90);  // every fourth, 300 / 3 answered
    EXPECT_NE(run.out.find("Retried: "), std::string::npos) << run.out;
    EXPECT_EQ(server.answered(), 300);
}

// --no-retry counts the same losses as errors (as wrk does); a POST is never retried; and a
// fresh connection that loses its first request is an error either way.
TEST(LoadRun, LossesAreErrorsWithNoRetryForPostsAndOnFreshConnections) {
    load_test::TinyServer server(load_test::TinyServer::closing_at_request(4));
    ASSERT_TRUE(server.ready());
    for (const std::vector<std::string>& flags :
         {std::vector<std::string>{"--no-retry"}, {"--method", "POST"}}) {
        load_test::TempDir dir;
        std::vector<std::string> args = {"-t", "1", "-c", "2", "-d", "500ms", "--json",
                                         dir.file("j"), url(server.port())};
        args.insert(args.begin(), flags.begin(), flags.end());
        const LoadRun run = run_load(args);
        ASSERT_EQ(run.exit_code, 0) << flags[0] << run.err << run.out;
        EXPECT_GT(number_after(json_of(dir), "\"reset\": "), 0) << flags[0] << run.out;
        EXPECT_GT(number_after(json_of(dir), "\"requests_lost\": "), 0) << flags[0];
        EXPECT_EQ(number_after(json_of(dir), "\"retried\": "), 0) << flags[0];
    }
    load_test::TinyServer fresh(load_test::TinyServer::closing_at_request(1));
    ASSERT_TRUE(fresh.ready());
    const LoadRun run = run_load({"-c", "2", "-d", "2s", url(fresh.port())}, Ms(10'000));
    EXPECT_EQ(run.exit_code, 1) << run.out;  // not one answer
    EXPECT_NE(run.err.find("ECONNRESET"), std::string::npos) << run.err;
}

TEST(LoadRun, BadFlagsExitTwo) {
    const LoadRun run = run_load({"--pipeline", "0", "http://127.0.0.1:1/"});
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find("--pipeline 0"), std::string::npos) << run.err;
}

}  // namespace
