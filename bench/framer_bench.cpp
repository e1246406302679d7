// Framer throughput on the requests the issue names, beside a floor: memmem for "\r\n\r\n" over
// the same bytes, the least any framer must do. Run: build/release/bench/framer_bench
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>

#include "uring_okay/framer.hpp"

namespace {

using uring_okay::Framer;
using uring_okay::Limits;
using uring_okay::Owed;

const std::string wrk_get = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

// A browser's GET, about 500 bytes.
const std::string browser_get =
    "GET /index.html?utm_source=news&utm_medium=web HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; consent=yes\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Priority: u=0, i\r\n\r\n";

std::string repeated(const std::string& one, int times) {
    std::string all;
    for (int i = 0; i < times; ++i) all += one;
    return all;
}

const std::string pipelined_16 = repeated(wrk_get, 16);

const std::string chunked_post =
    "POST /upload HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json\r\n"
    "Transfer-Encoding: chunked\r\n\r\n"
    "1a\r\n{\"name\":\"uring-okay\",\"n\":1}\r\n"
    "10;ext=1\r\n,\"more\":\"fields\"}\r\n"
    "0\r\n\r\n";

void frame(benchmark::State& state, const std::string& bytes, std::uint64_t requests) {
    const Limits limits;
    for (auto _ : state) {
        Framer framer{limits};
        Owed owed;
        benchmark::DoNotOptimize(framer.feed(bytes, owed));
        if (owed.total() != requests) state.SkipWithError("wrong request count");
        benchmark::DoNotOptimize(owed);
    }
    state.SetBytesProcessed(std::int64_t(state.iterations() * bytes.size()));
    state.SetItemsProcessed(std::int64_t(state.iterations() * requests));
}

// The floor: find each header section's end, nothing else.
void floor(benchmark::State& state, const std::string& bytes) {
    for (auto _ : state) {
        const char* p = bytes.data();
        const char* const end = p + bytes.size();
        int found = 0;
        while (const void* hit = memmem(p, std::size_t(end - p), "\r\n\r\n", 4)) {
            p = static_cast<const char*>(hit) + 4;
            ++found;
        }
        benchmark::DoNotOptimize(found);
    }
    state.SetBytesProcessed(std::int64_t(state.iterations() * bytes.size()));
}

BENCHMARK_CAPTURE(frame, wrk_get, wrk_get, 1);
BENCHMARK_CAPTURE(floor, wrk_get, wrk_get);
BENCHMARK_CAPTURE(frame, browser_get, browser_get, 1);
BENCHMARK_CAPTURE(floor, browser_get, browser_get);
BENCHMARK_CAPTURE(frame, pipelined_16, pipelined_16, 16);
BENCHMARK_CAPTURE(floor, pipelined_16, pipelined_16);
BENCHMARK_CAPTURE(frame, chunked_post, chunked_post, 1);
BENCHMARK_CAPTURE(floor, chunked_post, chunked_post);

}  // namespace
