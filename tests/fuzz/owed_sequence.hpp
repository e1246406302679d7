// What an Owed holds, oldest first, as runs of equal kind and route: comparable with ==.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "uring_okay/framer.hpp"

namespace fuzz {

struct Run {
    uring_okay::Kind kind;
    std::uint8_t route;
    std::uint64_t count;
    std::uint64_t knob = 0;  // an answer with query knobs (its own run): the Knob's bytes
    bool operator==(const Run&) const = default;
};
using Sequence = std::vector<Run>;

// Reads a copy, so the caller's Owed stays as it was.
inline Sequence sequence_of(uring_okay::Owed owed) {
    Sequence sequence;
    while (!owed.empty()) {
        const uring_okay::Kind kind = owed.front_kind();
        const std::uint8_t route = owed.front_route();
        const std::uint32_t count = owed.front_count();
        if (count == 0) __builtin_trap();  // a non-empty Owed must owe its front
        if (route == uring_okay::Routes::knob_route) {  // one at a time: each has its own knob
            const uring_okay::Knob knob = owed.front_knob();
            Run run{kind, route, 1};
            std::memcpy(&run.knob, &knob, sizeof knob);
            sequence.push_back(run);
            owed.pop(1);
            continue;
        }
        if (!sequence.empty() && sequence.back().kind == kind && sequence.back().route == route) {
            sequence.back().count += count;
        } else {
            sequence.push_back({kind, route, count});
        }
        owed.pop(count);
    }
    return sequence;
}

}  // namespace fuzz
