// One client's bookkeeping between the engine and the framer: what is owed, what is in flight,
// which deadline applies. Everything here is arithmetic; the engines own every syscall.
#include "uring_okay/connection.hpp"

#include "uring_okay/assert.hpp"

namespace uring_okay {

void Connection::open(int fd_, std::uint64_t now_ms) noexcept {
    UO_ASSERT(!sending() && !in_flight_);  // a slot is reused only after its last send ended
    fd = fd_;
    framer_.reset();
    owed_.clear();
    sent_bytes_ = 0;
    request_started_ms_ = now_ms;
    progress_ms_ = now_ms;
    peer_closed_ = false;
    silent_ = true;
}

void Connection::on_bytes(std::string_view bytes, std::uint64_t now_ms,
                          Counters& counters) noexcept {
    counters.bytes_in.add(bytes.size());
    silent_ = false;
    // After a closing request or an error: read past, never frame, and never count it as
    // progress, so a client that only sends cannot hold the connection past the idle timeout.
    if (framer_.ended()) return;
    progress_ms_ = now_ms;
    const bool was_between = framer_.between_requests();
    const std::uint64_t owed_before = owed_.total();
    const Verdict verdict = framer_.feed(bytes, owed_);
    counters.requests.add(owed_.total() - owed_before);
    if (verdict != Verdict::fine) counters.framer_verdicts[std::size_t(verdict)].add();
    // The header timeout runs from a request's first byte until it is complete.
    const bool started_in_this_chunk = was_between || owed_.total() != owed_before;
    if (!framer_.between_requests() && started_in_this_chunk) request_started_ms_ = now_ms;
}

std::optional<Outgoing> Connection::next_send(Responses* answers) noexcept {
    if (in_flight_) return std::nullopt;
    if (!sending()) {
        if (owed_.empty()) return std::nullopt;
        batch_route_ = owed_.front_route();
        batch_ = answers[batch_route_].take(owed_.front_kind(), owed_.front_count());
        sent_bytes_ = 0;
    }
    in_flight_ = true;  // one send in flight: answers leave in request order
    return Outgoing{batch_.data + sent_bytes_, batch_.bytes - sent_bytes_};
}

void Connection::on_sent(std::uint32_t bytes, std::uint64_t now_ms, Responses* answers,
                         Counters& counters) noexcept {
    UO_ASSERT(in_flight_ && bytes > 0 && bytes <= batch_.bytes - sent_bytes_);
    in_flight_ = false;
    counters.bytes_out.add(bytes);
    progress_ms_ = now_ms;
    sent_bytes_ += bytes;
    if (sent_bytes_ < batch_.bytes) {
        counters.short_sends.add();  // the rest goes next, from the same bytes (take() held them)
        return;
    }
    counters.answered[std::size_t(owed_.front_kind())].add(batch_.count);
    owed_.pop(batch_.count);
    answers[batch_route_].release(batch_.generation);
    batch_ = {};
}

void Connection::on_send_failed(Responses* answers) noexcept {
    in_flight_ = false;
    if (!sending()) return;
    answers[batch_route_].release(batch_.generation);
    batch_ = {};
}

bool Connection::answered_all_and_ending() const noexcept {
    return closing_asked() && owed_.empty() && !sending();
}

bool Connection::idle() const noexcept {
    return framer_.between_requests() && owed_.empty() && !sending();
}

Connection::Timeout Connection::timed_out(std::uint64_t now_ms) const noexcept {
    if (!framer_.between_requests() && !framer_.ended() &&
        now_ms - request_started_ms_ >= limits_->header_timeout_ms) {
        return Timeout::header;
    }
    if (now_ms - progress_ms_ >= limits_->idle_timeout_ms) return Timeout::idle;
    return Timeout::none;
}

}  // namespace uring_okay
