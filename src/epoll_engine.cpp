// The epoll engine: the io_uring engine's contract where io_uring is refused (Docker's seccomp,
// kernel.io_uring_disabled, gVisor, kernels before 5.1). Readiness instead of completions, the
// same Connection, slots, timeouts, lingering close and drain. It knows no HTTP grammar.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string_view>

#include "uring_okay/assert.hpp"
#include "uring_okay/engine.hpp"
#include "uring_okay/engine_core.hpp"
#include "uring_okay/listener.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {
namespace {

// Every loop has a bound, so one busy client or listener cannot starve the others; epoll is
// level-triggered, so whatever is left is reported again on the next epoll_wait.
constexpr int events_max = 256;
constexpr int accepts_per_event = 64;
constexpr int reads_per_event = 16;
constexpr int sends_per_event = 64;
constexpr std::uint64_t tick_ms = 1'000;

// What an epoll event names, packed into data.u64 beside the slot index and its generation.
enum class Source : std::uint8_t { listener, wake, tick, connection, delay };

struct Cookie {
    Source source;
    std::uint32_t index;  // the slot, or the listener's place in EngineSetup::listen_fds
    std::uint32_t generation;
};

constexpr std::uint64_t pack(Source source, std::uint32_t index, std::uint32_t generation) {
    return std::uint64_t(source) << 56 | std::uint64_t(generation) << 32 | index;
}

constexpr Cookie unpack(std::uint64_t data) {
    return {Source(data >> 56), std::uint32_t(data),
            std::uint32_t(data >> 32) & Slots::generation_mask};
}

// Slot::engine_state bits.
namespace state {
constexpr std::uint8_t watching_in = 1u << 0;   // EPOLLIN | EPOLLRDHUP in the interest set
constexpr std::uint8_t watching_out = 1u << 1;  // EPOLLOUT in the interest set
constexpr std::uint8_t send_blocked = 1u << 2;  // EAGAIN, or the send bound: wait for EPOLLOUT
constexpr std::uint8_t paused = 1u << 3;        // owed reached owed_max: unread until half left
constexpr std::uint8_t peer_eof = 1u << 4;      // recv returned 0
constexpr std::uint8_t lingering = 1u << 5;     // SHUT_WR sent: reading on to the client's FIN
constexpr std::uint8_t delaying = 1u << 6;      // --delay: queued until its batch may leave
constexpr std::uint8_t delayed = 1u << 7;       // the delay passed: the next batch leaves
}  // namespace state

// CLOCK_MONOTONIC in milliseconds, rounded up: --delay's clock (the coarse clock the deadlines
// use moves in jiffies), so a delay never ends early.
[[nodiscard]] std::uint64_t precise_ms() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::uint64_t(now.tv_sec) * 1000 + (std::uint64_t(now.tv_nsec) + 999'999) / 1'000'000;
}

// The timerfd fires once at `due_ms` of CLOCK_MONOTONIC (monotonic_ms() and precise_ms()).
void set_timer(int fd, std::uint64_t due_ms) {
    itimerspec when{};
    when.it_value.tv_sec = time_t(due_ms / 1000);
    when.it_value.tv_nsec = long(due_ms % 1000) * 1'000'000 + 1;  // never all zero: that disarms
    const int result = timerfd_settime(fd, TFD_TIMER_ABSTIME, &when, nullptr);
    UO_ASSERT(result == 0);  // a valid timerfd and a valid time: nothing else can fail
}

class EpollEngine final : EngineCore {
  public:
    explicit EpollEngine(const EngineSetup& setup) noexcept : EngineCore(setup) {}
    ~EpollEngine();

    [[nodiscard]] int start() noexcept;  // 0, or -errno before serving anything
    [[nodiscard]] int run() noexcept;    // 0 after a drain

  private:
    struct Delayed {  // a batch waiting for its --delay
        std::uint32_t index;
        std::uint32_t generation;
        std::uint64_t due_ms;
    };

    [[nodiscard]] int watch_fd(int fd, std::uint32_t events, std::uint64_t data) noexcept;
    void dispatch(const epoll_event& event) noexcept;
    void on_listener(std::uint32_t index) noexcept;
    void on_accepted(int fd) noexcept;
    void on_wake() noexcept;
    void begin_drain() noexcept;
    void on_tick() noexcept;
    void on_delay() noexcept;
    void arm_delay() noexcept;
    void queue_delay(Slot& slot, std::uint32_t delay_ms) noexcept;
    std::uint32_t push_delay(Delayed entry) noexcept;
    void pop_delay() noexcept;
    void drop_closed_delays() noexcept;
    void on_connection(Cookie cookie, std::uint32_t events) noexcept;
    [[nodiscard]] bool receive(Slot& slot, std::uint32_t events) noexcept;
    [[nodiscard]] bool send_owed(Slot& slot) noexcept;
    void settle(Slot& slot) noexcept;
    void linger(Slot& slot) noexcept;
    void watch(Slot& slot) noexcept;
    void close(Slot& slot, Counter& reason) noexcept;
    void back_off(std::uint32_t index) noexcept;
    [[nodiscard]] bool readmit_listeners() noexcept;
    void close_listeners() noexcept;
    void arm_tick() noexcept;

    char* buffer_ = nullptr;  // one recv buffer: bytes never outlive on_bytes
    int epoll_fd_ = -1;
    int timer_fd_ = -1;
    int listen_fds_[listen_max]{};
    bool backed_off_[listen_max]{};  // out of the epoll set until the next tick
    bool owns_listeners_ = false;    // serving began: this thread closes them
    bool tick_armed_ = false;
    // --delay and the delays queries ask for (--query-knobs): the due times in a min-heap,
    // one timerfd set to the earliest.
    Delayed* delayed_ = nullptr;  // connections_max entries: a connection queues once at most
    std::uint32_t delayed_count_ = 0;
    int delay_fd_ = -1;
};

EpollEngine::~EpollEngine() {
    if (slots_.used() != 0) {
        slots_.for_each_used([this](Slot& slot) { close(slot, counters_.closed_errors); });
    }
    if (owns_listeners_) close_listeners();
    if (timer_fd_ >= 0) ::close(timer_fd_);
    if (delay_fd_ >= 0) ::close(delay_fd_);
    std::free(delayed_);
    if (epoll_fd_ >= 0) ::close(epoll_fd_);
    std::free(buffer_);
}

int EpollEngine::watch_fd(int fd, std::uint32_t events, std::uint64_t data) noexcept {
    epoll_event event{};
    event.events = events;
    event.data.u64 = data;
    return epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) == 0 ? 0 : -errno;
}

// Everything the thread will use is taken here; after it, nothing is allocated.
int EpollEngine::start() noexcept {
    buffer_ = static_cast<char*>(std::malloc(limits_.buffer_bytes));
    if (!build() || buffer_ == nullptr) return -ENOMEM;
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) return -errno;
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timer_fd_ < 0) return -errno;
    if (int error = watch_fd(timer_fd_, EPOLLIN, pack(Source::tick, 0, 0))) return error;
    if (int error = watch_fd(setup_.wake_fd, EPOLLIN, pack(Source::wake, 0, 0))) return error;
    if (setup_.config->delay_ms > 0 || setup_.config->routes.query_knobs) {
        delayed_ = static_cast<Delayed*>(std::calloc(limits_.connections_max, sizeof(Delayed)));
        delay_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (delayed_ == nullptr || delay_fd_ < 0) return delayed_ ? -errno : -ENOMEM;
        if (int error = watch_fd(delay_fd_, EPOLLIN, pack(Source::delay, 0, 0))) return error;
    }
    for (std::uint32_t index = 0; index < setup_.listen_count; ++index) {
        const int fd = setup_.listen_fds[index];
        listen_fds_[index] = fd;
        const int flags = int(syscall(SYS_fcntl, fd, F_GETFL));
        if (flags < 0 || syscall(SYS_fcntl, fd, F_SETFL, flags | O_NONBLOCK) < 0) return -errno;
        if (int error = watch_fd(fd, EPOLLIN, pack(Source::listener, index, 0))) return error;
    }
    owns_listeners_ = true;
    return 0;
}

// Never a periodic wake-up: the only timer is the tick, armed while it has work.
int EpollEngine::run() noexcept {
    epoll_event events[events_max];
    for (;;) {
        const int count = epoll_wait(epoll_fd_, events, events_max, -1);
        if (count < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        now_ms_ = monotonic_ms();
        for (int index = 0; index < count; ++index) dispatch(events[index]);
        if (setup_.access_log != nullptr) setup_.access_log->publish();
        if (draining_ && slots_.used() == 0) return 0;
    }
}

void EpollEngine::dispatch(const epoll_event& event) noexcept {
    const Cookie cookie = unpack(event.data.u64);
    switch (cookie.source) {
        case Source::listener:
            return on_listener(cookie.index);
        case Source::wake:
            return on_wake();
        case Source::tick:
            return on_tick();
        case Source::connection:
            return on_connection(cookie, event.events);
        case Source::delay:
            return on_delay();
    }
}

void EpollEngine::on_listener(std::uint32_t index) noexcept {
    // Closed by a drain, or backed off, earlier in this batch of events.
    if (listen_fds_[index] < 0 || backed_off_[index]) return;
    for (int accepts = 0; accepts < accepts_per_event; ++accepts) {
        // Raw, as below: musl's accept4 and fcntl wrappers cost the static binary 0.6 KiB.
        const int fd = int(syscall(SYS_accept4, listen_fds_[index], nullptr, nullptr,
                                   SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (fd >= 0) {
            on_accepted(fd);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (!accept_failed_alone(errno)) {
            counters_.accept_errors.add();
            return back_off(index);
        }
    }
}

void EpollEngine::on_accepted(int fd) noexcept {
    Slot* slot = slots_.acquire();
    if (slot == nullptr) {
        ::close(fd);
        counters_.accepts_refused_full.add();
        return;
    }
    counters_.accepted.add();
    open(*slot, fd);
    const std::uint64_t data = pack(Source::connection, slot->index, slot->generation);
    if (watch_fd(fd, EPOLLIN | EPOLLRDHUP, data)) {
        return close(*slot, counters_.accept_errors);  // ENOMEM, or fs.epoll.max_user_watches
    }
    slot->engine_state = state::watching_in;
    arm_tick();
}

// SIGTERM or SIGINT in main. The eventfd is not read, only dropped from the set: one eventfd
// may wake every thread, and each must see it.
void EpollEngine::on_wake() noexcept {
    if (draining_ || lame_duck_) return;
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, setup_.wake_fd, nullptr);
    if (wake()) return begin_drain();
    arm_tick();
}

// Stop accepting, let every connection finish what it owes, answer its next request with
// `Connection: close`, and close the idle ones after drain_grace_ms; the health route says 503.
void EpollEngine::begin_drain() noexcept {
    for (std::uint32_t i = 0; i < setup_.listen_count; ++i) {
        if (listen_fds_[i] < 0) continue;
        for (int queued = 0; queued < listen_backlog; ++queued) {
            const int fd = accept_queued(listen_fds_[i], SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) break;
            on_accepted(fd);
        }
    }
    close_listeners();
    start_drain();
    // The idle connections close when drain_grace_ms is over: the tick comes then, not later.
    if (slots_.used() != 0) {
        set_timer(timer_fd_, now_ms_ + drain_grace_ms);
        tick_armed_ = true;
    }
}

// Once a second while a connection is open, a listener is backed off, or a lame duck runs.
// Then not again: an idle server makes no wake-ups at all.
void EpollEngine::on_tick() noexcept {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t got = read(timer_fd_, &expirations, sizeof expirations);
    tick_armed_ = false;
    if (draining_) end_drain_grace();  // begin_drain set the timer for its end
    answers_.refresh_date(realtime_seconds());
    const bool backed_off = readmit_listeners();
    if (lame_duck_over()) begin_drain();
    slots_.for_each_used([this](Slot& slot) {
        if (Counter* reason = expired(slot, slot.engine_state & state::lingering)) {
            close(slot, *reason);
        }
    });
    if (slots_.used() != 0 || backed_off || lame_duck_) arm_tick();
}

void EpollEngine::on_connection(Cookie cookie, std::uint32_t events) noexcept {
    Slot* slot = slots_.find(cookie.index, cookie.generation);
    if (slot == nullptr) return;  // closed earlier in this batch; the slot may serve another
    // EPOLLERR and EPOLLHUP come even when not asked for: recv names the error or sees the EOF.
    const bool readable = events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP);
    if (readable && !receive(*slot, events)) return;
    if (slot->engine_state & state::lingering) return;  // it only reads, to the client's FIN
    // A full socket stays full until EPOLLOUT says otherwise: no EAGAIN send per read.
    const bool writable = events & (EPOLLOUT | EPOLLERR | EPOLLHUP);
    if ((writable || !(slot->engine_state & state::send_blocked)) && !send_owed(*slot)) return;
    settle(*slot);
}

// Reads until EAGAIN, a pause, the end of the requests, or the bound. Lingering, after the last
// answer and our FIN: discards what the client still sends until its FIN, so our close does
// not become an RST that destroys the answer in the client's receive buffer.
bool EpollEngine::receive(Slot& slot, std::uint32_t events) noexcept {
    Connection& connection = slot.connection;
    const bool to_eof = events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    for (int reads = 0; reads < reads_per_event; ++reads) {
        const ssize_t got = recv(connection.fd, buffer_, limits_.buffer_bytes, 0);
        if (got > 0) {
            connection.on_bytes({buffer_, std::size_t(got)}, now_ms_, counters_);
            if (!connection.wants_bytes()) {
                slot.engine_state |= state::paused;
                counters_.reads_paused.add();
                return true;
            }
            if (connection.closing_asked() && !(slot.engine_state & state::lingering)) {
                return true;  // later bytes wait for the linger, which counts them only
            }
            // A short read emptied the socket: the EAGAIN recv would be a wasted syscall.
            if (std::size_t(got) < limits_.buffer_bytes && !to_eof) return true;
            continue;
        }
        if (got == 0) {
            if (slot.engine_state & state::lingering) {
                close(slot, counters_.closed_by_peer);
                return false;
            }
            connection.on_peer_closed();
            slot.engine_state |= state::peer_eof;
            return true;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        close(slot, failed(errno));
        return false;
    }
    return true;
}

// Sends what is owed until the socket is full, nothing is owed, or the bound.
bool EpollEngine::send_owed(Slot& slot) noexcept {
    Connection& connection = slot.connection;
    slot.engine_state &= ~state::send_blocked;
    for (int sends = 0; sends < sends_per_event; ++sends) {
        Outgoing out{};
        if (connection.in_flight()) {
            out = connection.in_flight_rest();  // what EAGAIN left
        } else {
            if (slot.engine_state & state::delaying) return true;
            const bool fresh = !connection.sending() && connection.owed_total() > 0;
            const std::uint32_t delay_ms =
                fresh && delay_fd_ >= 0 ? connection.delay_ms(setup_.config->delay_ms) : 0;
            if (delay_ms > 0 && !(slot.engine_state & state::delayed)) {
                queue_delay(slot, delay_ms);
                return true;
            }
            const std::optional<Outgoing> next = connection.next_send(answers_);
            if (!next) return true;
            slot.engine_state &= ~state::delayed;
            out = *next;
        }
        const ssize_t sent = send(connection.fd, out.data, out.bytes, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            const Finished finished =
                connection.on_sent(std::uint32_t(sent), now_ms_, answers_, counters_);
            if (setup_.access_log != nullptr) {
                setup_.access_log->record(slot.index, finished, counters_);
            }
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            slot.engine_state |= state::send_blocked;  // stays in flight until EPOLLOUT
            return true;
        }
        if (errno == EINTR) continue;
        close(slot, failed(errno));
        return false;
    }
    if (connection.in_flight() || connection.sending() || connection.owed_total() != 0) {
        slot.engine_state |= state::send_blocked;
    }
    return true;
}

// The batch waits in the heap, its connection marked delaying.
void EpollEngine::queue_delay(Slot& slot, std::uint32_t delay_ms) noexcept {
    if (delayed_count_ == limits_.connections_max) drop_closed_delays();
    UO_ASSERT(delayed_count_ < limits_.connections_max);  // live entries: one per connection
    slot.engine_state |= state::delaying;
    if (push_delay({slot.index, slot.generation, precise_ms() + delay_ms}) == 0) {
        arm_delay();  // the earliest changed
    }
}

// The entry rises from the bottom to its place; returns that place (0: it is the earliest).
std::uint32_t EpollEngine::push_delay(Delayed entry) noexcept {
    std::uint32_t at = delayed_count_++;
    for (; at > 0 && delayed_[(at - 1) / 2].due_ms > entry.due_ms; at = (at - 1) / 2) {
        delayed_[at] = delayed_[(at - 1) / 2];
    }
    delayed_[at] = entry;
    return at;
}

// The earliest entry leaves; the last one sinks from the top to its place.
void EpollEngine::pop_delay() noexcept {
    const Delayed last = delayed_[--delayed_count_];
    std::uint32_t at = 0;
    for (;;) {
        std::uint32_t child = 2 * at + 1;
        if (child >= delayed_count_) break;
        if (child + 1 < delayed_count_ && delayed_[child + 1].due_ms < delayed_[child].due_ms) {
            ++child;
        }
        if (delayed_[child].due_ms >= last.due_ms) break;
        delayed_[at] = delayed_[child];
        at = child;
    }
    if (delayed_count_ > 0) delayed_[at] = last;
}

// Connections that closed while delayed leave entries behind; when those fill the heap, the
// live ones are pushed again, in place: entry i is read before push i writes (rare: the heap
// holds connections_max).
void EpollEngine::drop_closed_delays() noexcept {
    const std::uint32_t count = delayed_count_;
    delayed_count_ = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const Delayed entry = delayed_[i];
        const Slot* slot = slots_.find(entry.index, entry.generation);
        if (slot != nullptr && (slot->engine_state & state::delaying)) push_delay(entry);
    }
}

void EpollEngine::arm_delay() noexcept {
    if (delayed_count_ > 0) set_timer(delay_fd_, delayed_[0].due_ms);
}

// Every batch whose delay passed may leave; a connection closed meanwhile is skipped.
void EpollEngine::on_delay() noexcept {
    std::uint64_t expirations = 0;
    [[maybe_unused]] const ssize_t got = read(delay_fd_, &expirations, sizeof expirations);
    const std::uint64_t now = precise_ms();
    while (delayed_count_ > 0 && delayed_[0].due_ms <= now) {
        const Delayed due = delayed_[0];
        pop_delay();
        Slot* slot = slots_.find(due.index, due.generation);
        if (slot == nullptr) continue;
        slot->engine_state = std::uint8_t((slot->engine_state & ~state::delaying) | state::delayed);
        if (send_owed(*slot)) settle(*slot);
    }
    arm_delay();
}

// After reading and sending: end the connection, or decide what epoll watches for it.
void EpollEngine::settle(Slot& slot) noexcept {
    Connection& connection = slot.connection;
    if (connection.answered_all_and_ending()) {
        if (slot.engine_state & state::peer_eof) return close(slot, counters_.closed_by_peer);
        return linger(slot);
    }
    if (drain_closes(slot, false)) return close(slot, counters_.closed_drain);
    if ((slot.engine_state & state::paused) && connection.may_resume()) {
        slot.engine_state &= ~state::paused;
    }
    watch(slot);
}

void EpollEngine::linger(Slot& slot) noexcept {
    if (shutdown(slot.connection.fd, SHUT_WR) != 0) {
        return close(slot, failed(errno));
    }
    slot.engine_state |= state::lingering;
    slot.engine_state &= ~(state::send_blocked | state::paused);
    slot.linger_started_ms = now_ms_;
    watch(slot);
}

// The interest set follows the state: EPOLLIN while more requests may be read (or the linger
// waits for the FIN), EPOLLOUT while a send waits for room. Unwatched EPOLLRDHUP would repeat.
void EpollEngine::watch(Slot& slot) noexcept {
    const std::uint8_t bits = slot.engine_state;
    const bool in =
        (bits & state::lingering) || (!(bits & state::paused) && !slot.connection.closing_asked());
    const bool out = !(bits & state::lingering) && (bits & state::send_blocked);
    const std::uint8_t watching =
        std::uint8_t((in ? state::watching_in : 0) | (out ? state::watching_out : 0));
    if ((bits & (state::watching_in | state::watching_out)) == watching) return;
    epoll_event event{};
    event.events = (in ? EPOLLIN | EPOLLRDHUP : 0u) | (out ? EPOLLOUT : 0u);
    event.data.u64 = pack(Source::connection, slot.index, slot.generation);
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, slot.connection.fd, &event) != 0) {
        return close(slot, counters_.closed_errors);  // ENOMEM: we could not keep track of it
    }
    slot.engine_state =
        std::uint8_t((bits & ~(state::watching_in | state::watching_out)) | watching);
}

void EpollEngine::close(Slot& slot, Counter& reason) noexcept {
    ::close(slot.connection.fd);  // which takes it out of the epoll set: it has no duplicate
    slot.connection.fd = -1;
    reason.add();
    release(slot);
}

// EMFILE and the like: out of the set until the next tick, so a full accept queue (or a dead
// listener, ready for ever) cannot spin us; the open connections are served meanwhile, and
// closing them frees descriptors.
void EpollEngine::back_off(std::uint32_t index) noexcept {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fds_[index], nullptr);
    backed_off_[index] = true;
    arm_tick();
}

// Whether one is still backed off.
bool EpollEngine::readmit_listeners() noexcept {
    bool backed_off = false;
    for (std::uint32_t index = 0; index < setup_.listen_count; ++index) {
        if (!backed_off_[index] || listen_fds_[index] < 0) continue;
        const std::uint64_t data = pack(Source::listener, index, 0);
        backed_off_[index] = watch_fd(listen_fds_[index], EPOLLIN, data) != 0;
        backed_off = backed_off || backed_off_[index];
    }
    return backed_off;
}

void EpollEngine::close_listeners() noexcept {
    for (std::uint32_t index = 0; index < setup_.listen_count; ++index) {
        if (listen_fds_[index] < 0) continue;
        if (!backed_off_[index]) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fds_[index], nullptr);
        ::close(listen_fds_[index]);
        listen_fds_[index] = -1;
        backed_off_[index] = false;
    }
}

// The Date may be hours old after a quiet spell: refresh it before the first answer.
void EpollEngine::arm_tick() noexcept {
    if (tick_armed_) return;
    answers_.refresh_date(realtime_seconds());
    set_timer(timer_fd_, now_ms_ + tick_ms);
    tick_armed_ = true;
}

}  // namespace

int run_epoll_engine(const EngineSetup& setup) noexcept {
    UO_ASSERT(setup.config != nullptr && setup.counters != nullptr);
    UO_ASSERT(setup.listen_count <= listen_max);
    int result = 0;
    {
        EpollEngine engine{setup};
        result = engine.start();
        if (result == 0) {
            report_ready(setup, Ready::epoll);
            result = engine.run();
        }
    }
    return result;
}

}  // namespace uring_okay
