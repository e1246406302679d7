// The differential check: for the requests reference.hpp reads (a plain, strict subset), the
// framer must find the same requests with the same answers and the same boundaries. Fed one
// request at a time, it owes nothing and is not between requests one byte before each end, and
// owes exactly that request's answer and is between requests (or ended, after a closing one)
// exactly at it. Fed the same bytes at once, it owes the same answers in order.
//
// Built twice: framer_diff (UO_DIFF_MAIN) reads corpus files and directories, checks each, and
// fails unless every file named valid-* is read whole by the reference; framer_diff_fuzz is a
// libFuzzer target over the same check.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "owed_sequence.hpp"
#include "reference.hpp"
#include "uring_okay/framer.hpp"

using uring_okay::Framer;
using uring_okay::Kind;
using uring_okay::Owed;
using uring_okay::Verdict;

namespace {

[[noreturn]] void disagree(const char* what, std::size_t request, std::size_t offset) {
    std::fprintf(stderr, "framer_diff: the framer and the reference disagree: %s (request %zu, "
                 "byte %zu)\n", what, request, offset);
    std::fflush(stderr);
    __builtin_trap();
}

Verdict feed_exact(Framer& framer, std::string_view bytes, Owed& owed) {
    if (bytes.empty()) return framer.feed(std::string_view{}, owed);
    const std::unique_ptr<char[]> copy(new char[bytes.size()]);
    std::memcpy(copy.get(), bytes.data(), bytes.size());
    return framer.feed(std::string_view(copy.get(), bytes.size()), owed);
}

void check_one_at_a_time(std::string_view stream, const reference::Reading& reading) {
    const uring_okay::Limits limits;
    Framer framer{limits};
    for (std::size_t i = 0; i < reading.requests.size(); ++i) {
        const reference::Request& request = reading.requests[i];
        const std::string_view bytes = stream.substr(request.begin, request.end - request.begin);
        if (!framer.between_requests() || framer.ended()) {
            disagree("not between requests where one begins", i, request.begin);
        }
        Owed owed;
        if (feed_exact(framer, bytes.substr(0, bytes.size() - 1), owed) != Verdict::fine) {
            disagree("a verdict inside a request", i, request.end - 1);
        }
        if (!owed.empty()) disagree("a request ends early", i, request.end - 1);
        if (framer.between_requests() || framer.ended()) {
            disagree("between requests one byte before the end", i, request.end - 1);
        }
        if (feed_exact(framer, bytes.substr(bytes.size() - 1), owed) != Verdict::fine) {
            disagree("a verdict on the last byte", i, request.end);
        }
        if (owed.total() != 1) disagree("not one request at the end", i, request.end);
        if (owed.front_kind() != request.kind) disagree("another kind of answer", i, request.end);
        const bool closes = uring_okay::closes_after(request.kind);
        if (closes ? !framer.ended() : !framer.between_requests()) {
            disagree("not between requests (or ended) at the end", i, request.end);
        }
    }
}

void check_at_once(std::string_view stream, const reference::Reading& reading) {
    const uring_okay::Limits limits;
    Framer framer{limits};
    Owed owed;
    const std::size_t end = reading.requests.back().end;
    const Verdict verdict = feed_exact(framer, stream.substr(0, end), owed);
    if (verdict == Verdict::owed_full) return;  // more runs than Owed holds: checked one by one
    if (verdict != Verdict::fine) disagree("a verdict on the whole stream", 0, end);
    fuzz::Sequence expected;
    for (const reference::Request& request : reading.requests) {
        if (!expected.empty() && expected.back().kind == request.kind) {
            ++expected.back().count;
        } else {
            expected.push_back({request.kind, 0, 1});
        }
    }
    if (fuzz::sequence_of(owed) != expected) disagree("other answers for the whole stream", 0, end);
}

reference::Reading check(std::string_view stream) {
    const reference::Reading reading = reference::read(stream);
    if (!reading.requests.empty()) {
        check_one_at_a_time(stream, reading);
        check_at_once(stream, reading);
    }
    return reading;
}

}  // namespace

#if defined(UO_DIFF_MAIN)

#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

int main(int argc, char** argv) {
    std::vector<std::filesystem::path> files;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path path = argv[i];
        if (std::filesystem::is_directory(path)) {
            for (const auto& entry : std::filesystem::directory_iterator(path)) {
                if (entry.is_regular_file()) files.push_back(entry.path());
            }
        } else {
            files.push_back(path);
        }
    }
    std::size_t whole = 0;
    std::size_t requests = 0;
    int failures = 0;
    for (const std::filesystem::path& file : files) {
        std::ifstream in(file, std::ios::binary);
        const std::string data{std::istreambuf_iterator<char>(in), {}};
        fuzz::Plan plan;
        if (!fuzz::read_plan(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(),
                             plan)) {
            continue;
        }
        const reference::Reading reading = check(plan.stream);
        const bool read_whole = reading.stop == reference::Stop::whole && !reading.requests.empty();
        whole += read_whole;
        requests += reading.requests.size();
        if (file.filename().string().starts_with("valid-") && !read_whole) {
            std::fprintf(stderr, "framer_diff: %s: the reference does not read it whole (%zu "
                         "requests, then %s)\n", file.c_str(), reading.requests.size(),
                         reading.stop == reference::Stop::incomplete ? "incomplete" : "outside");
            ++failures;
        }
    }
    std::printf("framer_diff: %zu files, %zu read whole by the reference, %zu requests: the "
                "framer agrees on every one\n", files.size(), whole, requests);
    if (files.empty() || whole == 0) {
        std::fprintf(stderr, "framer_diff: nothing was compared\n");
        return 1;
    }
    return failures == 0 ? 0 : 1;
}

#else

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Plan plan;
    if (!fuzz::read_plan(data, size, plan)) return -1;
    (void)check(plan.stream);
    return 0;
}

#endif
