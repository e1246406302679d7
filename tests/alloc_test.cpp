// No allocation on the request path, proved on the real binary: a preloaded counter counts every
// malloc, calloc, realloc and aligned allocation; a server that answered thousands of requests
// (keep-alive, pipelined, errors, closes) must have made exactly as many as one that answered
// none. ASan owns malloc in sanitizer builds, so there the test says why it cannot run.
#include <cstdio>
#include <fstream>
#include <string>

#include "e2e_support.hpp"

#ifndef UO_ALLOC_COUNTER
#define UO_ALLOC_COUNTER ""
#endif

namespace {

using e2e::Client;
using e2e::Ms;
using e2e::Server;

std::string count_file;

void preload_counter() {  // in the child, before exec
    setenv("LD_PRELOAD", UO_ALLOC_COUNTER, 1);
    setenv("URING_OKAY_ALLOC_COUNT_FILE", count_file.c_str(), 1);
}

// `operations`: with the metrics page, query knobs, the access log and a readiness path on,
// each round also asks for the metrics and for answers changed by their query.
long allocations_after(const char* engine, int rounds, bool operations = false) {
    std::vector<std::string> flags = {"--listen", "127.0.0.1:0", "--threads",
                                      "2",        "--engine",    engine};
    if (operations) {
        for (const char* flag : {"--metrics-path", "/metrics", "--query-knobs", "--access-log",
                                 "--ready-path", "/ready"}) {
            flags.push_back(flag);
        }
    }
    Server server(flags, preload_counter);
    EXPECT_TRUE(server.ready()) << server.log();
    const std::string get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string head = "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n";
    for (int round = 0; round < rounds; ++round) {
        Client keep_alive(server.port());
        std::string pipeline;
        for (int i = 0; i < 64; ++i) pipeline += i % 3 == 2 ? head : get;
        keep_alive.send_all(pipeline);
        std::vector<bool> heads;
        for (int i = 0; i < 64; ++i) heads.push_back(i % 3 == 2);
        EXPECT_EQ(keep_alive.read_responses_to(heads, Ms(5'000)).size(), 64u);
        Client closing(server.port());
        closing.send_all("GET / HTTP/1.0\r\n\r\n");
        EXPECT_TRUE(closing.read_until_close(Ms(5'000)).closed);
        Client bad(server.port());
        bad.send_all("GET / HTTP/1.1\r\nHost : a\r\n\r\n");
        EXPECT_TRUE(bad.read_until_close(Ms(5'000)).closed);
        if (!operations) continue;
        Client asking(server.port());
        asking.send_all(e2e::get("/metrics") + e2e::get("/?status=201&size=3000&delay=1ms") +
                        e2e::get("/ready") + e2e::get("/?size=5", "Connection: close\r\n"));
        EXPECT_TRUE(asking.read_until_close(Ms(5'000)).closed);
    }
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.log();
    std::ifstream file(count_file);
    long count = -1;
    file >> count;
    return count;
}

// The same count after `rounds` of requests as after none.
void expect_no_growth(const char* engine, int rounds, bool operations) {
    char path[] = "/tmp/uring-okay-alloc-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    count_file = path;
    const long idle = allocations_after(engine, 0, operations);
    const long busy = allocations_after(engine, rounds, operations);
    std::remove(path);
    ASSERT_GT(idle, 0) << "the counter was not loaded";
    EXPECT_EQ(busy, idle);
}

class Allocations : public testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
        GTEST_SKIP()
            << "the sanitizer's allocator cannot be interposed; the release build runs this";
#endif
        ASSERT_STRNE(UO_ALLOC_COUNTER, "");
    }
};

TEST_P(Allocations, DoNotGrowWithRequests) {
    expect_no_growth(GetParam(), 50, false);  // 3,200 requests, 150 connections
}

TEST_P(Allocations, DoNotGrowWithMetricsKnobsAndTheAccessLog) {
    expect_no_growth(GetParam(), 30, true);
}

INSTANTIATE_TEST_SUITE_P(Engines, Allocations, testing::Values("uring", "epoll"),
                         [](const auto& info) { return std::string(info.param); });

}  // namespace
