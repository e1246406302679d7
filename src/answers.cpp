// The table of answers an engine thread sends: formatted once per route, plus the status of
// each (route, kind) so counting an answer by its class is one lookup.
#include "uring_okay/answers.hpp"

#include <cstdlib>

#include "uring_okay/engine.hpp"

namespace uring_okay {

bool Answers::build(const Config& config, std::int64_t unix_seconds, CountersTable all,
                    Counters& own) noexcept {
    count_ = std::uint8_t(config.routes.count + 1);
    metrics_route_ = config.routes.metrics;
    for (std::uint8_t route = 0; route < count_; ++route) {
        const ResponseSpec spec = config.response_spec(route);
        if (!by_route_[route].build(spec, config.limits.batch_count, unix_seconds)) return false;
        for (std::size_t kind = 0; kind < kind_count; ++kind) {
            status_[route][kind] = status_of(Kind(kind), spec.status);
        }
    }
    if (metrics_route_ != 0 && !metrics_.allocate(all, config.response_spec(), own)) return false;
    config_ = &config;
    return !config.routes.query_knobs || build_knobs(config);
}

Answers::~Answers() {
    std::free(knob_heads_);
    std::free(knob_bodies_);
}

// The longest head the default answer can have, whatever the status and size asked.
bool Answers::build_knobs(const Config& config) noexcept {
    constexpr std::size_t fixed_bytes = 256;  // status line, Date, Content-Length, Connection
    knob_head_bytes_ = fixed_bytes + config.server.size() + config.content_type.size();
    for (std::uint8_t i = 0; i < config.header_count; ++i)
        knob_head_bytes_ += config.headers[i].size() + 2;
    knob_heads_ = static_cast<char*>(std::calloc(config.limits.connections_max, knob_head_bytes_));
    knob_bodies_ = static_cast<char*>(std::malloc(config.limits.knob_size_max + 1));
    if (knob_heads_ == nullptr || knob_bodies_ == nullptr) return false;
    constexpr std::string_view pattern = "0123456789abcdefghijklmnopqrstuvwxyz\n";
    for (std::uint32_t i = 0; i < config.limits.knob_size_max; ++i) {
        knob_bodies_[i] = pattern[i % pattern.size()];
    }
    return true;
}

Responses::Batch Answers::take_knob(Kind kind, Knob knob, char* scratch) noexcept {
    ResponseSpec spec = config_->response_spec();
    spec.status = knob_status(kind, knob);
    const std::size_t bytes = format_head(spec, kind, knob_body(Kind::get, knob).size(),
                                          realtime_seconds(), scratch, knob_head_bytes_);
    return {scratch, std::uint32_t(bytes), 1, 0};
}

std::string_view Answers::knob_body(Kind kind, Knob knob) const noexcept {
    if (is_head(kind) || is_error(kind) || !answer_carries_content(knob_status(kind, knob)))
        return {};
    return knob.sized ? std::string_view{knob_bodies_, knob.size} : config_->body;
}

}  // namespace uring_okay
