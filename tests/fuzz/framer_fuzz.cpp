// libFuzzer target for the framer: any byte stream, cut anywhere, with or without routes and a
// drain (fuzz_input.hpp). Fed whole and fed in the planned chunks, the framer must owe the same
// answers (kind and route) in the same order and give the same verdict; it must stay within each
// chunk (each is copied to the end of a heap buffer, so ASan sees a read one byte past it); it
// owes at most one answer per 16 bytes plus an error; after its verdict or a closing request,
// later bytes change nothing.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string_view>

#include "fuzz_input.hpp"
#include "owed_sequence.hpp"
#include "uring_okay/framer.hpp"

using uring_okay::Framer;
using uring_okay::Kind;
using uring_okay::Owed;
using uring_okay::Verdict;

namespace {

// The shortest request that is answered: "A / HTTP/1.0\r\n\r\n".
constexpr std::size_t request_bytes_min = 16;

[[noreturn]] void broken(const char* what) {
    std::fprintf(stderr, "framer_fuzz: invariant broken: %s\n", what);
    std::fflush(stderr);
    __builtin_trap();
}

void expect(bool holds, const char* what) {
    if (!holds) broken(what);
}

Kind error_kind(Verdict verdict) {
    switch (verdict) {
        case Verdict::bad_request: return Kind::error_400;
        case Verdict::content_too_large: return Kind::error_413;
        case Verdict::uri_too_long: return Kind::error_414;
        case Verdict::header_too_large: return Kind::error_431;
        case Verdict::version_not_supported: return Kind::error_505;
        default: broken("error_kind of a verdict without an answer");
    }
}

// A heap buffer as long as the stream: each chunk is copied to its end, so the byte after the
// chunk is ASan's redzone (the framer only reads forward).
class Tail {
public:
    explicit Tail(std::size_t bytes) : bytes_(bytes), data_(new char[bytes > 0 ? bytes : 1]) {}
    Verdict feed(Framer& framer, std::string_view chunk, Owed& owed) {
        if (chunk.empty()) return framer.feed(std::string_view{}, owed);
        char* at = data_.get() + bytes_ - chunk.size();
        std::memcpy(at, chunk.data(), chunk.size());
        return framer.feed(std::string_view(at, chunk.size()), owed);
    }

private:
    std::size_t bytes_;
    std::unique_ptr<char[]> data_;
};

struct Setup {
    uring_okay::Limits limits;
    const uring_okay::Routes* routes = nullptr;
    fuzz::RouteMode mode = fuzz::RouteMode::none;

    Framer framer() const {
        Framer framer{limits, routes};
        if (mode == fuzz::RouteMode::health_draining) framer.answer_unavailable(false);
        if (mode == fuzz::RouteMode::all_unavailable) framer.answer_unavailable(true);
        return framer;
    }
};

struct Outcome {
    Verdict verdict = Verdict::fine;  // the first that was not fine
    fuzz::Sequence owed;
    std::uint64_t total = 0;
    bool between = false;
    bool ended = false;
};

// An answer changed by its query: only with --query-knobs, one at a time, within the bounds.
void check_knob(const fuzz::Run& run, const Setup& setup) {
    expect(setup.routes != nullptr && setup.routes->query_knobs, "a knob without --query-knobs");
    expect(run.count == 1, "knob answers merged");
    uring_okay::Knob knob;
    std::memcpy(&knob, &run.knob, sizeof knob);
    expect(knob.any(), "a knob answer that asked for nothing");
    expect(knob.status == 0 || (knob.status >= 100 && knob.status <= 999), "a knob status");
    expect(knob.delay_ms == uring_okay::Knob::delay_unset ||
               knob.delay_ms <= setup.limits.knob_delay_ms_max,
           "a knob delay past its bound");
    expect(!knob.sized ? knob.size == 0 : knob.size <= setup.limits.knob_size_max,
           "a knob size past its bound");
}

// The end state must agree with itself: the verdict's answer last, ended() when it should be.
void check_outcome(const Outcome& outcome, const Setup& setup, std::size_t stream_bytes) {
    expect(outcome.total <= stream_bytes / request_bytes_min + 1, "more answers than requests");
    const std::uint8_t routes = setup.routes != nullptr ? setup.routes->count : 0;
    std::uint64_t sum = 0;
    for (const fuzz::Run& run : outcome.owed) {
        sum += run.count;
        if (run.route == uring_okay::Routes::knob_route) {
            check_knob(run, setup);
            continue;
        }
        expect(run.route <= routes, "a route that was not configured");
        if (run.kind != Kind::unavailable_503) continue;
        const bool health = routes > 0 && run.route == setup.routes->health;
        expect(setup.mode == fuzz::RouteMode::all_unavailable ||
                   (setup.mode == fuzz::RouteMode::health_draining && health),
               "a 503 while not draining (or not for the health route)");
    }
    expect(sum == outcome.total, "Owed::total differs from its runs");
    const bool closing_last =
        !outcome.owed.empty() && uring_okay::closes_after(outcome.owed.back().kind);
    for (std::size_t i = 0; i + 1 < outcome.owed.size(); ++i) {
        expect(!uring_okay::closes_after(outcome.owed[i].kind), "an answer owed after a close");
    }
    if (closing_last) expect(outcome.owed.back().count == 1, "two closing answers");
    if (outcome.verdict != Verdict::fine && outcome.verdict != Verdict::owed_full) {
        expect(closing_last && outcome.owed.back().kind == error_kind(outcome.verdict),
               "a verdict without its answer last");
    }
    if (outcome.verdict == Verdict::fine) {
        expect(outcome.ended == closing_last, "ended() differs from a closing answer owed");
        const Kind last = closing_last ? outcome.owed.back().kind : Kind::get;
        expect(!closing_last || !uring_okay::is_error(last) || last == Kind::unavailable_503,
               "an error answer with a fine verdict");
    } else {
        expect(outcome.ended, "a verdict but not ended()");
    }
    expect(!(outcome.between && outcome.ended), "between requests and ended at once");
}

Outcome finish(const Framer& framer, const Owed& owed, Verdict verdict) {
    return Outcome{verdict, fuzz::sequence_of(owed), owed.total(), framer.between_requests(),
                   framer.ended()};
}

Outcome feed_whole(const Setup& setup, std::string_view stream) {
    Framer framer = setup.framer();
    Owed owed;
    Tail tail(stream.size());
    const Verdict verdict = tail.feed(framer, stream, owed);
    return finish(framer, owed, verdict);
}

// Chunk sizes from the plan, repeated; a size 0 feeds nothing (progress comes from the next).
Outcome feed_split(const Setup& setup, const fuzz::Plan& plan) {
    Framer framer = setup.framer();
    Owed owed;
    Tail tail(plan.stream.size());
    Verdict first = Verdict::fine;
    std::string_view rest = plan.stream;
    std::size_t turn = 0;
    std::size_t idle_turns = 0;
    fuzz::Sequence at_end;  // what was owed when it ended
    while (!rest.empty()) {
        std::size_t bytes = 1;
        if (!plan.chunk_bytes.empty()) bytes = plan.chunk_bytes[turn++ % plan.chunk_bytes.size()];
        if (bytes == 0 && ++idle_turns > plan.chunk_bytes.size()) bytes = 1;  // all zeros
        if (bytes != 0) idle_turns = 0;
        bytes = bytes < rest.size() ? bytes : rest.size();
        const bool was_ended = framer.ended();
        const std::uint64_t total_before = owed.total();
        const Verdict verdict = tail.feed(framer, rest.substr(0, bytes), owed);
        rest.remove_prefix(bytes);
        if (was_ended) {
            expect(verdict == Verdict::fine, "a verdict after the end");
            expect(owed.total() == total_before, "bytes after the end changed what is owed");
            continue;
        }
        if (verdict != Verdict::fine) {
            expect(first == Verdict::fine, "a second verdict");
            first = verdict;
        }
        if (framer.ended()) at_end = fuzz::sequence_of(owed);
    }
    const Outcome outcome = finish(framer, owed, first);
    expect(!outcome.ended || outcome.owed == at_end, "bytes after the end changed what is owed");
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Plan plan;
    if (!fuzz::read_plan(data, size, plan)) return -1;  // not an input: keep it out of the corpus
    Setup setup;
    setup.limits = fuzz::limits_for(plan.profile);
    setup.mode = plan.route_mode;
    if (plan.route_mode != fuzz::RouteMode::none) setup.routes = &fuzz::routes_for();
    const Outcome whole = feed_whole(setup, plan.stream);
    check_outcome(whole, setup, plan.stream.size());
    const Outcome split = feed_split(setup, plan);
    check_outcome(split, setup, plan.stream.size());
    expect(split.verdict == whole.verdict, "the verdict depends on where the stream is cut");
    expect(split.owed == whole.owed, "the answers owed depend on where the stream is cut");
    expect(split.between == whole.between && split.ended == whole.ended,
           "the end state depends on where the stream is cut");
    return 0;
}
