// One client, whichever engine drives it: its framer, what it is owed, the send in progress,
// its deadline and why it ends. No syscalls: the engines do the I/O and ask it what comes next.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "uring_okay/answers.hpp"
#include "uring_okay/counters.hpp"
#include "uring_okay/framer.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {

// Bytes to hand to send(): the rest of the batch in progress.
struct Outgoing {
    const char* data;
    std::uint32_t bytes;
};

// Answers that left in one send: `count` of `kind` for `route`, with this status.
struct Finished {
    std::uint32_t count = 0;
    Kind kind = Kind::get;
    std::uint8_t route = 0;
    std::uint16_t status = 0;
    std::uint32_t bytes = 0;  // of the whole batch
};

class Connection {
public:
    // `routes`: the paths with answers of their own; each send takes its bytes from the
    // engine's Answers for the request's route.
    Connection(const Limits& limits, const Routes* routes) noexcept
        : limits_(&limits), framer_(limits, routes) {}

    // A new client on `fd`, its connection just built (Slots::acquire builds one per client).
    // `scratch`: where a head changed by --query-knobs is formatted (Answers::knob_scratch).
    void open(int fd, std::uint64_t now_ms, char* scratch = nullptr) noexcept;

    // Bytes from the client; the buffer may be reused as soon as this returns.
    void on_bytes(std::string_view bytes, std::uint64_t now_ms, Counters& counters) noexcept;
    void on_peer_closed() noexcept { peer_closed_ = true; }

    // What to send now, if anything: the rest of a short send, or the next batch of the oldest
    // kind owed. Nothing while a send is in flight or nothing is owed, nor when the answer
    // cannot be had (every metrics page busy): then the connection ends unanswered.
    [[nodiscard]] std::optional<Outgoing> next_send(Answers& answers) noexcept;
    // The bytes of the send in flight not yet taken (epoll retries them after EAGAIN).
    [[nodiscard]] Outgoing in_flight_rest() const noexcept {
        return Outgoing{batch_.data + sent_bytes_, batch_.bytes - sent_bytes_};
    }
    // The kernel took `bytes` (> 0) of the send in flight. Returns the answers that completed
    // with it (count 0: a short send), for the access log.
    Finished on_sent(std::uint32_t bytes, std::uint64_t now_ms, Answers& answers,
                     Counters& counters) noexcept;
    // The send in flight failed or was cancelled: its bytes are let go.
    void on_send_failed(Answers& answers) noexcept;
    // A drain: the health route answers 503 from now on, or (lame duck) every request does.
    // In the drain proper, the next request is answered with `Connection: close`, the last.
    void answer_unavailable(bool all) noexcept { framer_.answer_unavailable(all); }

    // How long the next batch waits before it leaves: --delay, or what its query asked.
    [[nodiscard]] std::uint32_t delay_ms(std::uint32_t configured) const noexcept;

    // Every answer owed has left and the connection must end (close asked, an error answered,
    // or the client closed its side).
    [[nodiscard]] bool answered_all_and_ending() const noexcept;
    // Reading may go on: owed is below owed_max (a client that never reads is not read).
    [[nodiscard]] bool wants_bytes() const noexcept { return owed_.total() < limits_->owed_max; }
    // Paused reading may go on again: owed is down to half of owed_max, so a client at the
    // limit is not paused and resumed at every batch; `<=` so that an owed_max of 1 resumes.
    [[nodiscard]] bool may_resume() const noexcept {
        return owed_.total() <= limits_->owed_max / 2;
    }
    // Between requests with nothing owed: a drain may close it.
    [[nodiscard]] bool idle() const noexcept;
    [[nodiscard]] bool sending() const noexcept { return batch_.count != 0; }  // a batch begun
    [[nodiscard]] bool in_flight() const noexcept { return in_flight_; }
    [[nodiscard]] bool closing_asked() const noexcept {
        return framer_.ended() || peer_closed_ || abandoned_;
    }
    [[nodiscard]] std::uint64_t owed_total() const noexcept { return owed_.total(); }

    enum class Timeout : std::uint8_t { none, header, idle };
    // Whether a deadline passed: a request started and incomplete too long, or no progress.
    [[nodiscard]] Timeout timed_out(std::uint64_t now_ms) const noexcept;

    int fd = -1;

private:
    const Limits* limits_;
    Framer framer_;
    Owed owed_;
    Responses::Batch batch_{};          // the batch in flight; count 0: none
    std::uint32_t sent_bytes_ = 0;      // of batch_
    std::uint32_t head_bytes_ = 0;      // a knob answer's head, sent before batch_ (its body)
    std::uint8_t batch_route_ = 0;      // whose answers batch_ holds
    bool knob_body_next_ = false;       // batch_ is a knob answer's head: its body follows
    char* scratch_ = nullptr;           // --query-knobs: this connection's head
    std::uint64_t request_started_ms_ = 0;  // first byte of the request in progress
    std::uint64_t progress_ms_ = 0;     // last byte in or out
    bool in_flight_ = false;
    bool peer_closed_ = false;
    bool abandoned_ = false;  // an answer could not be had: what is owed is dropped
};

}  // namespace uring_okay
