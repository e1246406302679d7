// What an Owed holds, oldest first, as runs of equal kind and route: comparable with ==.
#pragma once

#include <cstdint>
#include <vector>

#include "uring_okay/framer.hpp"

namespace fuzz {

struct Run {
    uring_okay::Kind kind;
    std::uint8_t route;
    std::uint64_t count;
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
