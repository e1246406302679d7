// Every answer an engine thread sends: the default one and one per route, each formatted once
// by response.hpp. Both engines hold one of these and hand Connection its table.
#pragma once

#include <cstdint>

#include "uring_okay/config.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {

class Answers {
public:
    [[nodiscard]] bool build(const Config& config, std::int64_t unix_seconds) noexcept {
        count_ = std::uint8_t(config.routes.count + 1);
        for (std::uint8_t route = 0; route < count_; ++route) {
            const ResponseSpec spec = config.response_spec(route);
            if (!by_route_[route].build(spec, config.limits.batch_count, unix_seconds)) return false;
        }
        return true;
    }
    void refresh_date(std::int64_t unix_seconds) noexcept {
        for (std::uint8_t route = 0; route < count_; ++route) {
            by_route_[route].refresh_date(unix_seconds);
        }
    }
    [[nodiscard]] Responses* table() noexcept { return by_route_; }

private:
    Responses by_route_[Routes::max + 1];
    std::uint8_t count_ = 0;
};

}  // namespace uring_okay
