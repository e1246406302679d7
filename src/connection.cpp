// One client's bookkeeping between the engine and the framer: what is owed, what is in flight,
// which deadline applies. Everything here is arithmetic; the engines own every syscall.
#include "uring_okay/connection.hpp"

#include "uring_okay/assert.hpp"

namespace uring_okay {

void Connection::open(int fd_, std::uint64_t now_ms, char* scratch) noexcept {
    fd = fd_;
    scratch_ = scratch;
    request_started_ms_ = now_ms;
    progress_ms_ = now_ms;
}

void Connection::on_bytes(std::string_view bytes, std::uint64_t now_ms,
                          Counters& counters) noexcept {
    counters.bytes_in.add(bytes.size());
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
    // A drain: the newest request this chunk completed is answered with `Connection: close`
    // and whatever follows is read past, so the client takes its next request elsewhere
    // instead of having it crossed by the close. A chunk that ends inside a request waits for
    // the chunk that completes it.
    if (framer_.draining() && owed_.total() != owed_before && framer_.between_requests() &&
        owed_.close_newest()) {
        framer_.end();
    }
}

std::optional<Outgoing> Connection::next_send(Answers& answers) noexcept {
    if (in_flight_) return std::nullopt;
    if (!sending()) {
        if (owed_.empty()) return std::nullopt;
        batch_route_ = owed_.front_route();
        if (batch_route_ == Routes::knob_route) {
            batch_ = answers.take_knob(owed_.front_kind(), owed_.front_knob(), scratch_);
            knob_body_next_ = true;
        } else {
            batch_ = answers.take(batch_route_, owed_.front_kind(), owed_.front_count());
        }
        sent_bytes_ = 0;
        if (batch_.count == 0) {
            owed_.clear();
            abandoned_ = true;
            return std::nullopt;
        }
    }
    in_flight_ = true;  // one send in flight: answers leave in request order
    return Outgoing{batch_.data + sent_bytes_, batch_.bytes - sent_bytes_};
}

Finished Connection::on_sent(std::uint32_t bytes, std::uint64_t now_ms, Answers& answers,
                             Counters& counters) noexcept {
    UO_ASSERT(in_flight_ && bytes > 0 && bytes <= batch_.bytes - sent_bytes_);
    in_flight_ = false;
    counters.bytes_out.add(bytes);
    progress_ms_ = now_ms;
    sent_bytes_ += bytes;
    if (sent_bytes_ < batch_.bytes) {
        counters.short_sends.add();  // the rest goes next, from the same bytes (take() held them)
        return {};
    }
    const Kind kind = owed_.front_kind();
    if (knob_body_next_) {
        // A knob answer's head left: its body goes next, from the bytes Answers keeps.
        knob_body_next_ = false;
        const std::string_view body = answers.knob_body(kind, owed_.front_knob());
        if (!body.empty()) {
            head_bytes_ = batch_.bytes;
            batch_.data = body.data();
            batch_.bytes = std::uint32_t(body.size());
            sent_bytes_ = 0;
            return {};
        }
    }
    const bool knob = batch_route_ == Routes::knob_route;
    const std::uint16_t status =
        knob ? answers.knob_status(kind, owed_.front_knob()) : answers.status(batch_route_, kind);
    const Finished finished{batch_.count, kind, batch_route_, status, head_bytes_ + batch_.bytes};
    head_bytes_ = 0;
    counters.answered[std::size_t(kind)].add(batch_.count);
    counters.answered_class[Answers::status_class(status)].add(batch_.count);
    owed_.pop(batch_.count);
    if (!knob) answers.release(batch_route_, batch_.generation);
    batch_ = {};
    return finished;
}

void Connection::on_send_failed(Answers& answers) noexcept {
    in_flight_ = false;
    if (!sending()) return;
    if (batch_route_ != Routes::knob_route) answers.release(batch_route_, batch_.generation);
    batch_ = {};
    knob_body_next_ = false;
    head_bytes_ = 0;
}

std::uint32_t Connection::delay_ms(std::uint32_t configured) const noexcept {
    if (owed_.empty() || owed_.front_route() != Routes::knob_route) return configured;
    const Knob knob = owed_.front_knob();
    return knob.delay_ms == Knob::delay_unset ? configured : knob.delay_ms;
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
