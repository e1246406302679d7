// The part of an engine thread that is the same for io_uring and epoll: its answers and slots,
// and when a drain or a deadline ends a connection. No syscalls but the unread-bytes check.
#include "uring_okay/engine_core.hpp"

#include <cerrno>

#include "uring_okay/listener.hpp"

namespace uring_okay {

EngineCore::EngineCore(const EngineSetup& setup) noexcept
    : setup_(setup), limits_(setup.config->limits), counters_(*setup.counters) {}

EngineCore::~EngineCore() = default;

bool EngineCore::build() noexcept {
    return answers_.build(*setup_.config, realtime_seconds(), setup_.all_counters, counters_) &&
           slots_.allocate(limits_, &setup_.config->routes);
}

void EngineCore::open(Slot& slot, int fd) noexcept {
    const std::uint32_t index = slot.index;
    slot.connection.open(fd, now_ms_, answers_.knob_scratch(index));
    if (setup_.access_log != nullptr) setup_.access_log->note_peer(index, fd);
    if (lame_duck_ || draining_) slot.connection.answer_unavailable(lame_duck_);
}

Counter& EngineCore::failed(int error) const noexcept {
    return error == ECONNRESET || error == EPIPE ? counters_.closed_by_peer : counters_.closed_errors;
}

bool EngineCore::accept_failed_alone(int error) noexcept {
    switch (error) {
        case ECONNABORTED: case EPROTO: case EPERM: case EINTR: case ENETDOWN: case ENOPROTOOPT:
        case EHOSTDOWN: case ENONET: case EHOSTUNREACH: case EOPNOTSUPP: case ENETUNREACH:
        case EAGAIN:  // none left: epoll looks for it first; io_uring polls instead
            return true;
        default:
            return false;
    }
}

void EngineCore::release(Slot& slot) noexcept {
    slot.connection.on_send_failed(answers_);
    counters_.closed.add();
    slots_.release(slot);
}

bool EngineCore::wake() noexcept {
    if (setup_.config->drain_delay_ms == 0) return true;
    lame_duck_ = true;
    lame_duck_end_ms_ = now_ms_ + setup_.config->drain_delay_ms;
    slots_.for_each_used([](Slot& slot) { slot.connection.answer_unavailable(true); });
    return false;
}

void EngineCore::start_drain() noexcept {
    lame_duck_ = false;
    draining_ = true;
    drain_deadline_ms_ = now_ms_ + limits_.drain_timeout_ms;
    slots_.for_each_used([](Slot& slot) { slot.connection.answer_unavailable(false); });
}

bool EngineCore::quiet(const Slot& slot) noexcept {
    return slot.connection.idle() && !has_unread_bytes(slot.connection.fd);
}

// Deadlines only: a timeout closes without an answer.
Counter* EngineCore::expired(const Slot& slot, bool lingering) const noexcept {
    if (draining_ && now_ms_ >= drain_deadline_ms_) return &counters_.closed_drain;
    if (drain_closes(slot, lingering)) return &counters_.closed_drain;
    if (lingering) {
        const bool linger_over = now_ms_ - slot.linger_started_ms >= limits_.linger_ms;
        return linger_over ? &counters_.closed_linger_timeout : nullptr;
    }
    switch (slot.connection.timed_out(now_ms_)) {
        case Connection::Timeout::header: return &counters_.closed_header_timeout;
        case Connection::Timeout::idle: return &counters_.closed_idle_timeout;
        case Connection::Timeout::none: break;
    }
    return nullptr;
}

}  // namespace uring_okay
