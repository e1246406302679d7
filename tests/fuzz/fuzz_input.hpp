// How a framer fuzz input is read, shared by framer_fuzz and framer_diff: a plan byte, the chunk
// sizes it announces, then the byte stream. Seeds start with '@' (no chunk sizes, default limits)
// so they stay readable: "@GET / HTTP/1.1\r\nHost: a\r\n\r\n".
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uring_okay/framer.hpp"
#include "uring_okay/limits.hpp"

namespace fuzz {

// Plan byte: bits 0-3 = how many chunk-size bytes follow (0: feed one byte at a time),
// bits 4-5 = the limits profile below, bits 6-7 = the routes below ('@' is 0x40: no sizes,
// profile 0, no routes).
enum class RouteMode : std::uint8_t {
    routes,            // routes_for() below
    none,              // no --route: every request gets the default answer
    health_draining,   // routes, and the health route answers 503 (a drain)
    all_unavailable,   // routes, and every request answers 503 (the lame-duck phase)
};

struct Plan {
    std::span<const std::uint8_t> chunk_bytes;  // the sizes of successive feeds, repeated
    int profile = 0;
    RouteMode route_mode = RouteMode::none;
    std::string_view stream;
};

inline bool read_plan(const std::uint8_t* data, std::size_t size, Plan& plan) {
    if (size == 0) return false;
    const std::size_t sizes = data[0] & 0x0f;
    if (size < 1 + sizes) return false;
    plan.profile = (data[0] >> 4) & 3;
    plan.route_mode = RouteMode(data[0] >> 6);
    plan.chunk_bytes = {data + 1, sizes};
    plan.stream = {reinterpret_cast<const char*>(data + 1 + sizes), size - 1 - sizes};
    return true;
}

// Small limits reach every limit's verdict with short inputs; profile 0 is what ships.
inline uring_okay::Limits limits_for(int profile) {
    uring_okay::Limits limits;
    switch (profile) {
        case 1:
            limits.request_line_bytes_max = 32;
            limits.header_bytes_max = 128;
            limits.header_count_max = 4;
            limits.body_bytes_max = 64;
            break;
        case 2:
            limits.request_line_bytes_max = 16;
            limits.header_bytes_max = 16;
            limits.header_count_max = 1;
            limits.body_bytes_max = 0;
            break;
        case 3:
            limits.request_line_bytes_max = 256;
            limits.header_bytes_max = 1024;
            limits.header_count_max = 16;
            limits.body_bytes_max = 4096;
            break;
        default: break;
    }
    return limits;
}

// Sorted, as config sorts them, with prefixes of one another; route 4 is the health path.
inline const uring_okay::Routes& routes_for() {
    static const uring_okay::Routes routes = [] {
        uring_okay::Routes r;
        const std::string_view paths[] = {"/", "/a", "/a/b", "/health", "/z~"};
        for (const std::string_view path : paths) r.paths[r.count++] = path;
        r.health = 4;
        r.query_knobs = true;  // ?status=&delay=&size= on the paths without a route
        return r;
    }();
    return routes;
}

}  // namespace fuzz
