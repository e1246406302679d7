// What both engines hold and decide alike: the answers, the slot table, the clock of the last
// wake-up, and the shutdown policy (lame duck, drain, deadlines). The engines do every syscall
// and close connections their own way; this part only says which and why.
#pragma once

#include <cstdint>

#include "uring_okay/answers.hpp"
#include "uring_okay/engine.hpp"
#include "uring_okay/slots.hpp"

namespace uring_okay {

class EngineCore {
public:
    EngineCore(const EngineCore&) = delete;
    EngineCore& operator=(const EngineCore&) = delete;

protected:
    explicit EngineCore(const EngineSetup& setup) noexcept;
    ~EngineCore();

    // The answers and the slot table: false when memory ran out.
    [[nodiscard]] bool build() noexcept;
    // A fresh connection in `slot` on `fd`: 503s already if a lame duck or a drain runs.
    void open(Slot& slot, int fd) noexcept;
    // Why a connection ends when a call on it failed with `error`: the client reset it, or not.
    [[nodiscard]] Counter& failed(int error) const noexcept;
    // An accept that failed for its client only: a network error pending on the new connection
    // (accept(2) passes those on), or a firewall's EPERM; the next accept may succeed at once.
    // Any other error fails again at once (out of descriptors or memory; EINVAL, a listener
    // another holder of the socket shut down): the listener waits for the next tick instead of
    // spinning its thread.
    [[nodiscard]] static bool accept_failed_alone(int error) noexcept;
    // Its descriptor closed: the slot is free again, the bytes of a send cut off are let go.
    void release(Slot& slot) noexcept;

    // SIGTERM or SIGINT. True: the drain begins now. False: --drain-delay, a lame duck first,
    // accepting and answering every request 503 and close, until lame_duck_over.
    [[nodiscard]] bool wake() noexcept;
    [[nodiscard]] bool lame_duck_over() const noexcept {
        return lame_duck_ && now_ms_ >= lame_duck_end_ms_;
    }
    // The drain from now on: nothing more is accepted (the engine stops its listeners), the
    // health route says 503, and the open connections have drain_timeout_ms to finish.
    void start_drain() noexcept;
    // The drain's timer of drain_grace_ms fired: from now on its idle connections may close.
    // A flag, not a comparison with the coarse clock, which may read a little early then.
    void end_drain_grace() noexcept { drain_grace_over_ = true; }
    // Whether the drain may close this connection now without losing a request: the grace
    // over (a request may be on the way until then), nothing owed and nothing unread. Inline:
    // every completed send asks, and outside a drain the answer is one load.
    [[nodiscard]] bool drain_closes(const Slot& slot, bool lingering) const noexcept {
        return draining_ && drain_grace_over_ && !lingering && quiet(slot);
    }
    // Nothing owed, nothing unread (drain_closes).
    [[nodiscard]] static bool quiet(const Slot& slot) noexcept;
    // The tick's verdict on an open connection: the counter to close it with, or null.
    [[nodiscard]] Counter* expired(const Slot& slot, bool lingering) const noexcept;

    const EngineSetup& setup_;
    const Limits& limits_;
    Counters& counters_;
    Answers answers_;
    Slots slots_;
    std::uint64_t now_ms_ = 0;  // monotonic_ms() at this batch of completions or events
    bool lame_duck_ = false;    // --drain-delay: answering 503 until lame_duck_end_ms_
    bool draining_ = false;
    bool drain_grace_over_ = false;  // end_drain_grace
    std::uint64_t lame_duck_end_ms_ = 0;
    std::uint64_t drain_deadline_ms_ = 0;
};

}  // namespace uring_okay
