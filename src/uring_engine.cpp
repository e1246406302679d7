// The io_uring engine: one ring per thread, multishot accept, multishot recv into a provided
// buffer ring, sends straight from the preformatted batch. One io_uring_enter per loop submits
// everything prepared and waits for the next completion. Knows no HTTP: Connection does.
#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "uring_okay/assert.hpp"
#include "uring_okay/engine.hpp"
#include "uring_okay/engine_core.hpp"
#include "uring_okay/listener.hpp"
#include "uring_okay/uring_ring.hpp"

namespace uring_okay {
namespace {

// unlisten: the cancel of a listener's accept, done: take what queued, then close the listener.
enum class Op : std::uint8_t {
    accept = 1, recv, send, close, cancel, tick, wake, delay, unlisten, drain_grace
};

// user_data: the operation, the slot's generation and its index, so the dispatcher finds the
// connection, or learns it is gone, without a lookup table.
struct Cookie {
    Op op;
    std::uint32_t generation;
    std::uint32_t index;
};
constexpr std::uint64_t pack(Cookie c) {
    return std::uint64_t(c.op) << 56 | std::uint64_t(c.generation & Slots::generation_mask) << 32 |
           c.index;
}
constexpr Cookie unpack(std::uint64_t data) {
    return {Op(data >> 56), std::uint32_t(data >> 32) & Slots::generation_mask,
            std::uint32_t(data)};
}

// What a slot has in flight (Slot::engine_state).
namespace in_flight {
inline constexpr std::uint8_t recv = 1 << 0;
inline constexpr std::uint8_t send = 1 << 1;
inline constexpr std::uint8_t lingering = 1 << 3;  // our side is shut: waiting for the FIN
inline constexpr std::uint8_t closing = 1 << 4;    // cancelled: closes when nothing is in flight
inline constexpr std::uint8_t paused = 1 << 5;     // owed_max reached: not reading
inline constexpr std::uint8_t delay = 1 << 6;      // --delay: a timeout before the next batch
inline constexpr std::uint8_t delayed = 1 << 7;    // that timeout fired: the batch may leave
inline constexpr std::uint8_t pending = recv | send | delay;  // completions to await
}  // namespace in_flight

// --sandbox: all the ring may do once serving (uring_ring.hpp); the rest completes -EACCES.
constexpr io_uring_op ring_ops[] = {
    IORING_OP_ACCEPT,   IORING_OP_RECV,    IORING_OP_SEND,         IORING_OP_CLOSE,
    IORING_OP_POLL_ADD, IORING_OP_TIMEOUT, IORING_OP_ASYNC_CANCEL,
};
constexpr std::uint8_t ring_register_ops[] = {IORING_UNREGISTER_RING_FDS};  // io_uring_queue_exit
constexpr RingRestrictions ring_restrictions{ring_ops, IOSQE_BUFFER_SELECT | IOSQE_IO_HARDLINK,
                                             ring_register_ops};

constexpr std::uint32_t sq_entries = 2048;
constexpr std::uint32_t cqe_batch_max = 1024;  // completions handled between two enters
constexpr std::uint16_t buffer_group = 0;

class UringEngine final : EngineCore {
public:
    UringEngine(const EngineSetup& setup, std::uint32_t features_off)
        : EngineCore(setup), features_off_(features_off) {}
    ~UringEngine() {
        if (ring_ready_) io_uring_queue_exit(&ring_);
        std::free(delays_);
    }

    [[nodiscard]] int start() noexcept;
    void run() noexcept;

private:
    io_uring_sqe* sqe() noexcept { return next_sqe(ring_); }
    void dispatch(const io_uring_cqe& cqe) noexcept;
    void on_accept(Cookie cookie, const io_uring_cqe& cqe) noexcept;
    void on_recv(Cookie cookie, const io_uring_cqe& cqe) noexcept;
    void on_send(Cookie cookie, const io_uring_cqe& cqe) noexcept;
    void on_delayed(Cookie cookie) noexcept;
    void on_tick() noexcept;
    void on_wake() noexcept;
    void begin_drain() noexcept;
    void accept_queued_then_close(std::uint32_t listener) noexcept;
    void arm_accept(std::uint32_t listener) noexcept;
    void arm_recv(Slot& slot) noexcept;
    void arm_tick() noexcept;
    // Rare entries, kept out of line: their callers stay small.
    [[gnu::noinline]] void arm_cancel(std::uint64_t target, std::uint64_t data) noexcept;
    [[gnu::noinline]] void arm_timeout(__kernel_timespec* when, std::uint64_t data) noexcept;
    void arm_wake() noexcept;
    void open_connection(int fd) noexcept;
    void send_owed(Slot& slot) noexcept;
    void close(Slot& slot, Counter& reason) noexcept;
    void finish_close(Slot& slot) noexcept;
    void sweep() noexcept;
    [[nodiscard]] static std::uint64_t cookie(Op op, const Slot& slot) noexcept {
        return pack({op, slot.generation, slot.index});
    }

    std::uint32_t features_off_;
    io_uring ring_{};
    bool ring_ready_ = false;
    BufferRing buffers_;
    __kernel_timespec tick_interval_{1, 0};
    __kernel_timespec drain_grace_{0, drain_grace_ms * 1'000'000};
    // --delay and --query-knobs: a delay per connection slot, read by the kernel when submitted.
    __kernel_timespec* delays_ = nullptr;
    bool accepting_[listen_max]{};    // an accept is armed on the listener
    bool backing_off_[listen_max]{};  // EMFILE and the like: re-armed by the tick
    bool tick_armed_ = false;
    std::uint32_t listeners_open_ = 0;  // a drain ends once they are closed and slots empty
};

int UringEngine::start() noexcept {
    const bool restricted = setup_.config->sandbox;
    if (const int result =
            setup_ring(ring_, sq_entries, features_off_, restricted ? &ring_restrictions : nullptr);
        result < 0) {
        return result;
    }
    ring_ready_ = true;
    if (const int result = buffers_.setup(ring_, limits_.buffer_count, limits_.buffer_bytes,
                                          buffer_group);
        result < 0) {
        return result;
    }
    if (const int result = restricted ? enable_ring(ring_) : 0; result < 0) return result;
    if (!build()) return -ENOMEM;
    if (setup_.config->delay_ms > 0 || setup_.config->routes.query_knobs) {
        delays_ = static_cast<__kernel_timespec*>(
            std::calloc(limits_.connections_max, sizeof(__kernel_timespec)));
        if (delays_ == nullptr) return -ENOMEM;
    }
    now_ms_ = monotonic_ms();
    for (std::uint32_t i = 0; i < setup_.listen_count; ++i) arm_accept(i);
    arm_wake();
    return 0;
}

// One enter submits what the last batch of completions prepared and waits for more.
void UringEngine::run() noexcept {
    listeners_open_ = setup_.listen_count;
    while (!(draining_ && slots_.used() == 0 && listeners_open_ == 0)) {
        // Errors here are passing (EINTR, EBUSY while the CQ overflows, EAGAIN): the
        // completions below are handled either way.
        (void)io_uring_submit_and_wait(&ring_, 1);
        now_ms_ = monotonic_ms();
        if (io_uring_cq_has_overflow(&ring_)) counters_.cq_overflows.add();
        handle_completions(ring_, cqe_batch_max, [this](const io_uring_cqe& cqe) { dispatch(cqe); });
        if (setup_.access_log != nullptr) setup_.access_log->publish();
    }
    io_uring_submit(&ring_);  // the last closes
}

void UringEngine::dispatch(const io_uring_cqe& cqe) noexcept {
    const Cookie cookie = unpack(cqe.user_data);
    switch (cookie.op) {
        case Op::accept: return on_accept(cookie, cqe);
        case Op::recv: return on_recv(cookie, cqe);
        case Op::send: return on_send(cookie, cqe);
        case Op::delay: return on_delayed(cookie);
        case Op::tick: return on_tick();
        case Op::drain_grace:
            end_drain_grace();
            return sweep();
        case Op::wake: return on_wake();
        case Op::unlisten: return accept_queued_then_close(cookie.index);
        case Op::close:
        case Op::cancel: return;  // nothing waits on them
    }
}

void UringEngine::arm_accept(std::uint32_t listener) noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_accept(entry, setup_.listen_fds[listener], nullptr, nullptr, SOCK_CLOEXEC);
    if (!(features_off_ & feature::multishot_accept)) {
        entry->ioprio |= IORING_ACCEPT_MULTISHOT;  // io_uring_prep_multishot_accept (5.19)
    }
    io_uring_sqe_set_data64(entry, pack({Op::accept, 0, listener}));
    accepting_[listener] = true;
}

// Multishot accept (5.19) ends on its own: EMFILE and the like back off until the next tick;
// an error of one client only, or an end without one, is armed again at once. No connection
// is lost to it.
void UringEngine::on_accept(Cookie cookie, const io_uring_cqe& cqe) noexcept {
    const std::uint32_t listener = cookie.index;
    if (cqe.res >= 0) open_connection(cqe.res);
    if (cqe.flags & IORING_CQE_F_MORE) return;
    accepting_[listener] = false;
    if (draining_) return;
    if (cqe.res < 0 && !accept_failed_alone(-cqe.res)) {
        counters_.accept_errors.add();
        backing_off_[listener] = true;
        arm_tick();
        return;
    }
    if (!(features_off_ & feature::multishot_accept)) {
        arm_accept(listener);
        return;
    }
    counters_.multishot_rearms.add();
    arm_accept(listener);
}

void UringEngine::open_connection(int fd) noexcept {
    counters_.accepted.add();
    // Accepted during a drain (the multishot accept ran before its cancel): still served.
    Slot* slot = slots_.acquire();
    if (slot == nullptr) {
        counters_.accepts_refused_full.add();
        counters_.closed.add();
        ::close(fd);  // the table is full: the client learns at once, not after a timeout
        return;
    }
    open(*slot, fd);
    arm_recv(*slot);
    arm_tick();
}

void UringEngine::arm_recv(Slot& slot) noexcept {
    io_uring_sqe* entry = sqe();
    const bool multishot = !(features_off_ & feature::multishot_recv);  // 6.0
    const std::uint32_t bytes = multishot ? 0 : buffers_.bytes_each();  // 0: the whole buffer
    io_uring_prep_recv(entry, slot.connection.fd, nullptr, bytes, 0);
    if (multishot) entry->ioprio |= IORING_RECV_MULTISHOT;  // io_uring_prep_recv_multishot
    entry->flags |= IOSQE_BUFFER_SELECT;
    entry->buf_group = buffers_.group();
    io_uring_sqe_set_data64(entry, cookie(Op::recv, slot));
    slot.engine_state |= in_flight::recv;
}

// One completion per chunk. The buffer is back in the ring before we return, so nothing may
// keep a pointer into the bytes.
void UringEngine::on_recv(Cookie cookie, const io_uring_cqe& cqe) noexcept {
    Slot* slot = slots_.find(cookie.index, cookie.generation);
    if (cqe.flags & IORING_CQE_F_BUFFER) {
        const auto id = std::uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
        if (slot != nullptr && cqe.res > 0 && !(slot->engine_state & in_flight::closing)) {
            slot->connection.on_bytes(buffers_.bytes(id, std::uint32_t(cqe.res)), now_ms_,
                                      counters_);
        }
        buffers_.recycle(id);
    }
    if (slot == nullptr) return;
    Slot& s = *slot;
    const bool ended = !(cqe.flags & IORING_CQE_F_MORE);
    if (ended) s.engine_state &= std::uint8_t(~in_flight::recv);
    if (s.engine_state & in_flight::closing) return finish_close(s);
    if (cqe.res == 0) {
        s.connection.on_peer_closed();
        if (s.engine_state & in_flight::lingering) return close(s, counters_.closed_by_peer);
    } else if (cqe.res < 0 && cqe.res != -ENOBUFS && cqe.res != -ECANCELED) {
        return close(s, failed(-cqe.res));
    }
    if (cqe.res == -ENOBUFS) counters_.recv_no_buffers.add();
    if (!s.connection.wants_bytes() && !(s.engine_state & in_flight::paused)) {
        // A client that pipelines without reading: stop reading until it catches up.
        s.engine_state |= in_flight::paused;
        counters_.reads_paused.add();
        if (!ended) arm_cancel(UringEngine::cookie(Op::recv, s), pack({Op::cancel, 0, 0}));
    }
    const bool reading = cqe.res != 0 && !(s.engine_state & in_flight::paused);
    if (ended && reading) {
        if (!(features_off_ & feature::multishot_recv)) counters_.multishot_rearms.add();
        arm_recv(s);
    }
    send_owed(s);
}

void UringEngine::send_owed(Slot& slot) noexcept {
    Connection& connection = slot.connection;
    constexpr std::uint8_t waiting = in_flight::lingering | in_flight::delay;
    if (connection.in_flight() || (slot.engine_state & waiting)) return;
    const bool fresh_batch = !connection.sending() && connection.owed_total() > 0;
    const std::uint32_t delay_ms = fresh_batch ? connection.delay_ms(setup_.config->delay_ms) : 0;
    if (delay_ms > 0 && !(slot.engine_state & in_flight::delayed)) {
        // --delay: a ring timeout, never a sleeping thread; one batch at a time keeps order.
        // The kernel reads the time when the entry is submitted, after this loop: each
        // connection has its own.
        __kernel_timespec& when = delays_[slot.index];
        when = {delay_ms / 1000, std::int64_t(delay_ms % 1000) * 1'000'000};
        arm_timeout(&when, cookie(Op::delay, slot));
        slot.engine_state |= in_flight::delay;
        return;
    }
    if (const std::optional<Outgoing> out = connection.next_send(answers_)) {
        slot.engine_state &= std::uint8_t(~in_flight::delayed);
        io_uring_sqe* entry = sqe();
        io_uring_prep_send(entry, connection.fd, out->data, out->bytes, MSG_NOSIGNAL);
        io_uring_sqe_set_data64(entry, cookie(Op::send, slot));
        slot.engine_state |= in_flight::send;
        return;
    }
    if (connection.answered_all_and_ending()) {
        // The last answer left. Shut our side and wait for the client's FIN, so an RST for
        // bytes it still sends cannot destroy that answer in its receive queue. shutdown(2) on
        // a TCP socket never blocks; as an io_uring op it would run on an io-wq worker thread.
        if (!(slot.engine_state & in_flight::recv)) return close(slot, counters_.closed_by_peer);
        if (shutdown(connection.fd, SHUT_WR) != 0) return close(slot, counters_.closed_by_peer);
        slot.engine_state |= in_flight::lingering;
        slot.linger_started_ms = now_ms_;
        return;
    }
    if (drain_closes(slot, false)) close(slot, counters_.closed_drain);
}

void UringEngine::on_send(Cookie cookie, const io_uring_cqe& cqe) noexcept {
    Slot* slot = slots_.find(cookie.index, cookie.generation);
    UO_ASSERT(slot != nullptr);  // a slot is released only once its send completed
    Slot& s = *slot;
    s.engine_state &= std::uint8_t(~in_flight::send);
    if (cqe.res > 0) {
        const Finished finished =
            s.connection.on_sent(std::uint32_t(cqe.res), now_ms_, answers_, counters_);
        if (setup_.access_log != nullptr)
            setup_.access_log->record(cookie.index, finished, counters_);
    } else {
        s.connection.on_send_failed(answers_);
    }
    if (s.engine_state & in_flight::closing) return finish_close(s);
    if (cqe.res <= 0) return close(s, failed(-cqe.res));
    if ((s.engine_state & in_flight::paused) && s.connection.may_resume()) {
        s.engine_state &= std::uint8_t(~in_flight::paused);
        if (!(s.engine_state & in_flight::recv)) arm_recv(s);
    }
    send_owed(s);
}

void UringEngine::on_delayed(Cookie cookie) noexcept {
    Slot* slot = slots_.find(cookie.index, cookie.generation);
    UO_ASSERT(slot != nullptr);  // a slot is released only once its delay fired
    slot->engine_state = std::uint8_t((slot->engine_state & ~in_flight::delay) | in_flight::delayed);
    if (slot->engine_state & in_flight::closing) return finish_close(*slot);
    send_owed(*slot);
}

// Cancel what is in flight on the fd; the fd closes once the last of it completed.
void UringEngine::close(Slot& slot, Counter& reason) noexcept {
    if (slot.engine_state & in_flight::closing) return;
    reason.add();
    slot.engine_state |= in_flight::closing;
    // A --delay timeout is not tied to the fd: it fires within the delay, then the fd closes.
    if (slot.engine_state & (in_flight::recv | in_flight::send)) {
        io_uring_sqe* entry = sqe();
        io_uring_prep_cancel_fd(entry, slot.connection.fd, IORING_ASYNC_CANCEL_ALL);  // 5.19
        io_uring_sqe_set_data64(entry, pack({Op::cancel, 0, 0}));
    }
    finish_close(slot);
}

void UringEngine::finish_close(Slot& slot) noexcept {
    if (slot.engine_state & in_flight::pending) return;
    io_uring_sqe* entry = sqe();
    io_uring_prep_close(entry, slot.connection.fd);
    io_uring_sqe_set_data64(entry, pack({Op::close, 0, 0}));
    release(slot);
}

// Cancels the operation `target` names; the cancel's own completion carries `data`.
void UringEngine::arm_cancel(std::uint64_t target, std::uint64_t data) noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_cancel64(entry, target, 0);
    io_uring_sqe_set_data64(entry, data);
}

// The kernel reads `*when` as the entry is submitted, after the current batch of completions.
void UringEngine::arm_timeout(__kernel_timespec* when, std::uint64_t data) noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_timeout(entry, when, 0, 0);
    io_uring_sqe_set_data64(entry, data);
}

// The Date may be hours old after a quiet spell: refresh it before the first answer.
void UringEngine::arm_tick() noexcept {
    if (tick_armed_) return;
    answers_.refresh_date(realtime_seconds());
    arm_timeout(&tick_interval_, pack({Op::tick, 0, 0}));
    tick_armed_ = true;
}

// Once a second while anything is open: the Date, the deadlines, listeners backing off.
// With no connection the tick is not armed: an idle server makes no wake-ups at all.
void UringEngine::on_tick() noexcept {
    tick_armed_ = false;
    answers_.refresh_date(realtime_seconds());
    if (lame_duck_over()) begin_drain();
    for (std::uint32_t i = 0; i < setup_.listen_count; ++i) {
        if (backing_off_[i] && !draining_) {  // a drain closed the listeners
            backing_off_[i] = false;
            arm_accept(i);  // another EMFILE backs off again, and arms the tick
        }
    }
    sweep();
    if (slots_.used() > 0 || lame_duck_) arm_tick();
}

void UringEngine::sweep() noexcept {
    slots_.for_each_used([this](Slot& slot) {
        if (slot.engine_state & in_flight::closing) return;
        if (Counter* reason = expired(slot, slot.engine_state & in_flight::lingering)) {
            close(slot, *reason);
        }
    });
}

// A poll, not a read: a blocking read of the eventfd would park an io-wq worker thread for
// the server's whole life. Nobody reads the count: one wake-up is all it says.
void UringEngine::arm_wake() noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_poll_add(entry, setup_.wake_fd, POLLIN);
    io_uring_sqe_set_data64(entry, pack({Op::wake, 0, 0}));
}

// SIGTERM. With --drain-delay, first a lame duck: keep accepting, answer every request 503 and
// close, so load balancers and probes see the instance failing; then the drain.
void UringEngine::on_wake() noexcept {
    if (wake()) return begin_drain();
    arm_tick();
}

// The listener's accept is cancelled (or was not armed): nothing takes connections from its
// queue but this, and closing it right after leaves the least time for one to land there.
void UringEngine::accept_queued_then_close(std::uint32_t listener) noexcept {
    const int listen_fd = setup_.listen_fds[listener];
    for (int queued = 0; queued < listen_backlog; ++queued) {
        const int fd = accept_queued(listen_fd, SOCK_CLOEXEC);
        if (fd < 0) break;
        open_connection(fd);
    }
    ::close(listen_fd);
    listeners_open_ -= 1;
}

// Stop accepting, let every connection finish what it owes, answer its next request with
// `Connection: close`, and close the idle ones after drain_grace_ms; the health route says 503.
void UringEngine::begin_drain() noexcept {
    start_drain();
    // A connection that lands in the accept queue while the listener closes is reset (unless
    // net.ipv4.tcp_migrate_req moves it to another SO_REUSEPORT listener): the accept is
    // cancelled first, then what queued meanwhile is accepted and the listener closed at once.
    for (std::uint32_t i = 0; i < setup_.listen_count; ++i) {
        if (!accepting_[i]) {
            accept_queued_then_close(i);
            continue;
        }
        arm_cancel(pack({Op::accept, 0, i}), pack({Op::unlisten, 0, i}));
    }
    // The idle connections close when drain_grace_ms is over, not at the next tick; armed even
    // with none open, for those the cancelled accept still takes.
    arm_timeout(&drain_grace_, pack({Op::drain_grace, 0, 0}));
    if (slots_.used() > 0) arm_tick();
}

}  // namespace

int run_uring_engine(const EngineSetup& setup, std::uint32_t features_off) noexcept {
    UringEngine engine{setup, features_off};
    const int result = engine.start();
    if (result == 0) {
        report_ready(setup, Ready::uring);
        engine.run();
    }
    return result;
}

}  // namespace uring_okay
