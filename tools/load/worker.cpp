// The load thread, shaped like the server's engine: one io_uring, one io_uring_enter per loop
// that submits every write prepared since the last and waits for the next completion (or the
// next due time), multishot recv into a provided-buffer ring whose buffers go back before the
// handler returns. The request path allocates nothing: connections, framers and the histogram
// are sized before the first submit. Knows HTTP only through ResponseFramer.
#include "worker.hpp"

#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <vector>

#include "response_framer.hpp"
#include "uring_okay/uring_ring.hpp"

namespace uring_okay::load {
namespace {

enum class Op : std::uint8_t { connect = 1, recv, send, cancel, close };

// user_data: the operation, the connection's generation and its index. A completion for an
// earlier generation belongs to a socket already closed: it is dropped (its buffer recycled).
constexpr std::uint32_t generation_mask = 0xff'ffff;
constexpr std::uint64_t pack(Op op, std::uint32_t generation, std::uint32_t index) {
    return std::uint64_t(op) << 56 | std::uint64_t(generation & generation_mask) << 32 | index;
}

constexpr std::uint16_t buffer_group = 0;
constexpr std::uint32_t buffer_bytes = 16384;
constexpr std::uint32_t cqe_batch_max = 4096;   // completions handled between two enters
constexpr std::uint64_t sweep_ns = 50 * ms_ns;  // timeouts, reconnects, progress
constexpr std::uint64_t retry_ns = 50 * ms_ns;  // after a failed connect

enum class State : std::uint8_t {
    idle,        // no socket: opens when the sweep says so
    connecting,  // connect in flight
    open,        // writing batches and reading their answers
    lingering,   // the server said it closes: waiting for its FIN
};

struct Connection {
    ResponseFramer framer;
    std::uint64_t due_ns = 0;         // when the batch in flight was due: latency counts from here
    std::uint64_t since_ns = 0;       // when it was written (connect, linger began): timeouts
    std::uint64_t slot = 0;           // open loop: its next due write in the run's schedule
    std::uint64_t retry_ns = 0;       // idle: not before this
    std::uint64_t resend_due_ns = 0;  // resend_pending: when the lost batch was first due
    int fd = -1;
    std::uint32_t generation = 0;
    std::uint32_t owed = 0;           // requests written whose answers have not come
    std::uint32_t batch_bytes = 0;    // of the write in flight
    std::uint32_t batch_sent = 0;     // bytes of it that left
    std::uint32_t answered_here = 0;  // answers on this socket: a used connection when > 0
    State state = State::idle;
    bool recv_armed = false;
    bool send_armed = false;
    bool measured = false;        // the batch in flight counts in the results
    bool resend_pending = false;  // the next connection writes the lost batch first
};

std::uint32_t power_of_two_at_least(std::uint64_t n, std::uint32_t low, std::uint32_t high) {
    const auto rounded = std::uint32_t(std::bit_ceil(n < high ? n : std::uint64_t(high)));
    return rounded < low ? low : rounded;
}

class Worker {
public:
    explicit Worker(const WorkerSetup& setup)
        : setup_(setup),
          plan_(*setup.plan),
          control_(*setup.control),
          results_(*setup.results),
          requests_mode_(setup.requests > 0),
          budget_(setup.requests),
          timeout_ns_(setup.plan->options->timeout_ns),
          close_each_(setup.plan->options->close),
          open_loop_(setup.plan->options->rate > 0) {}
    ~Worker() {
        if (ring_ready_) io_uring_queue_exit(&ring_);
        for (const Connection& connection : connections_) {
            if (connection.fd >= 0) ::close(connection.fd);
        }
    }

    [[nodiscard]] int start() noexcept;
    void run() noexcept;

private:
    io_uring_sqe* sqe() noexcept { return next_sqe(ring_); }
    void dispatch(const io_uring_cqe& cqe) noexcept;
    void on_connect(Connection& connection, int result) noexcept;
    void on_recv(std::uint32_t index, std::uint32_t generation, const io_uring_cqe& cqe) noexcept;
    void on_send(Connection& connection, int result) noexcept;
    void on_bytes(Connection& connection, std::string_view bytes) noexcept;
    void on_eof(Connection& connection) noexcept;
    void on_batch_answered(Connection& connection) noexcept;
    void open(Connection& connection) noexcept;
    void arm_recv(Connection& connection) noexcept;
    void arm_send(Connection& connection) noexcept;
    void write_batch(Connection& connection, std::uint64_t due_ns) noexcept;
    void close(Connection& connection, std::uint64_t reopen_ns) noexcept;
    void lose_owed(Connection& connection, std::uint64_t& counter, const char* what,
                   int error) noexcept;
    void give_back_owed(Connection& connection) noexcept;
    [[nodiscard]] bool retry_on_new_connection(Connection& connection) noexcept;
    void run_schedule() noexcept;
    void sweep() noexcept;
    void note_error(const char* what, int error) noexcept;
    void note_framing(const char* what, std::string_view received) noexcept;
    [[nodiscard]] Framed next_answer(Connection& connection, std::string_view& bytes) noexcept;
    void count_answer(Connection& connection, std::uint16_t status) noexcept;
    [[nodiscard]] bool ready_to_write(const Connection& c) const noexcept {
        return c.state == State::open && c.owed == 0 && !c.send_armed;
    }
    [[nodiscard]] bool wants_work() const noexcept {
        return !stopping_ && (!requests_mode_ || budget_ > 0 || now_ < control_.measure_ns);
    }
    [[nodiscard]] std::uint64_t due(std::uint64_t slot) const noexcept {
        return control_.start_ns + std::uint64_t(double(slot) * plan_.slot_ns);
    }
    [[nodiscard]] std::uint64_t cursor_slot() const noexcept {
        return cursor_round_ * plan_.connections_total + setup_.first_connection + cursor_index_;
    }
    [[nodiscard]] std::uint32_t index_of(const Connection& c) const noexcept {
        return std::uint32_t(&c - connections_.data());
    }

    const WorkerSetup& setup_;
    const Plan& plan_;
    Control& control_;
    Results& results_;
    const bool requests_mode_;
    std::uint64_t budget_;  // requests still to write (--requests)
    const std::uint64_t timeout_ns_;
    const bool close_each_;
    const bool open_loop_;
    io_uring ring_{};
    bool ring_ready_ = false;
    BufferRing buffers_;
    std::vector<Connection> connections_;
    std::uint64_t now_ = 0;
    std::uint64_t next_sweep_ns_ = 0;
    std::uint64_t last_progress_ns_ = 0;  // an answer or a connect: --requests stalls end
    std::uint64_t owed_total_ = 0;
    std::uint64_t answers_ = 0;       // warm-up's too
    std::uint64_t cursor_round_ = 0;  // open loop: the next due write is connection
    std::uint32_t cursor_index_ = 0;  // cursor_index_'s in round cursor_round_
    bool stopping_ = false;
    // The last answer framed in one piece, and what it was.
    std::uint32_t cached_bytes_ = 0;
    Framed cached_answer_{};
    char cached_[512];
};

int Worker::start() noexcept {
    if (setup_.cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(setup_.cpu, &set);
        if (const int error = pthread_setaffinity_np(pthread_self(), sizeof set, &set); error) {
            return -error;
        }
    }
    const std::uint32_t count = setup_.connection_count;
    std::uint32_t features_off = 0;
    const std::uint32_t sq_entries = power_of_two_at_least(std::uint64_t(count) * 2, 256, 4096);
    if (const int result = setup_ring(ring_, sq_entries, features_off); result < 0) return result;
    ring_ready_ = true;
    const std::uint32_t buffer_count = power_of_two_at_least(std::uint64_t(count) * 2, 128, 2048);
    if (const int result = buffers_.setup(ring_, buffer_count, buffer_bytes, buffer_group);
        result < 0) {
        return result;
    }
    connections_.resize(count);
    for (std::uint32_t i = 0; i < count; ++i) {
        connections_[i].framer = ResponseFramer(plan_.head);
        connections_[i].slot = setup_.first_connection + i;
    }
    return 0;
}

void Worker::run() noexcept {
    while (!control_.go.load(std::memory_order_acquire)) {
        const timespec pause{0, 200'000};
        nanosleep(&pause, nullptr);
    }
    if (control_.stop.load(std::memory_order_relaxed)) return;  // another worker failed
    now_ = monotonic_ns();
    next_sweep_ns_ = now_ + sweep_ns;
    last_progress_ns_ = now_;
    for (Connection& connection : connections_) open(connection);
    for (;;) {
        std::uint64_t wake_ns = next_sweep_ns_ < control_.end_ns ? next_sweep_ns_ : control_.end_ns;
        if (open_loop_ && due(cursor_slot()) < wake_ns) wake_ns = due(cursor_slot());
        const std::uint64_t wait_ns = wake_ns > now_ ? wake_ns - now_ : 0;
        __kernel_timespec wait{std::int64_t(wait_ns / s_ns), std::int64_t(wait_ns % s_ns)};
        io_uring_cqe* first = nullptr;
        // -ETIME when the wait ran out, -EINTR, -EBUSY: the completions below run either way.
        (void)io_uring_submit_and_wait_timeout(&ring_, &first, 1, &wait, nullptr);
        now_ = monotonic_ns();
        if (now_ >= control_.end_ns) break;
        handle_completions(ring_, cqe_batch_max, [this](const io_uring_cqe& cqe) { dispatch(cqe); });
        if (open_loop_) run_schedule();
        if (now_ >= next_sweep_ns_) sweep();
        if (stopping_) break;
        if (requests_mode_ && budget_ == 0 && owed_total_ == 0 && now_ >= control_.measure_ns) {
            break;
        }
    }
    results_.progress_answers.store(answers_, std::memory_order_relaxed);
    results_.progress_responses.store(results_.counts.responses, std::memory_order_relaxed);
    results_.progress_errors.store(results_.counts.errors(), std::memory_order_relaxed);
}

void Worker::dispatch(const io_uring_cqe& cqe) noexcept {
    const auto op = Op(cqe.user_data >> 56);
    const auto generation = std::uint32_t(cqe.user_data >> 32) & generation_mask;
    const auto index = std::uint32_t(cqe.user_data);
    if (op == Op::recv) return on_recv(index, generation, cqe);
    if (op == Op::cancel || op == Op::close) return;
    Connection& connection = connections_[index];
    if ((connection.generation & generation_mask) != generation) return;  // closed since
    if (op == Op::connect) return on_connect(connection, cqe.res);
    if (op == Op::send) return on_send(connection, cqe.res);
}

void Worker::open(Connection& connection) noexcept {
    if (!wants_work()) return;
    const int fd = socket(plan_.address.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        results_.counts.connect_errors += 1;
        note_error("socket", errno);
        connection.retry_ns = now_ + retry_ns;
        return;
    }
    const int one = 1;  // every batch its own segment at once, as wrk does
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connection.fd = fd;
    connection.state = State::connecting;
    connection.since_ns = now_;
    connection.answered_here = 0;
    connection.framer.reset();
    io_uring_sqe* entry = sqe();
    io_uring_prep_connect(entry, fd, reinterpret_cast<const sockaddr*>(&plan_.address),
                          plan_.address_bytes);
    io_uring_sqe_set_data64(entry, pack(Op::connect, connection.generation, index_of(connection)));
}

void Worker::on_connect(Connection& connection, int result) noexcept {
    if (result < 0) {
        results_.counts.connect_errors += 1;
        note_error("connect", -result);
        return close(connection, now_ + retry_ns);
    }
    results_.counts.connects += 1;
    last_progress_ns_ = now_;
    connection.state = State::open;
    arm_recv(connection);
    if (connection.resend_pending) {
        connection.resend_pending = false;
        return write_batch(connection, connection.resend_due_ns);
    }
    if (!open_loop_) return write_batch(connection, now_);
    if (due(connection.slot) <= now_) {
        write_batch(connection, due(connection.slot));
        connection.slot += plan_.connections_total;
    }
}

void Worker::arm_recv(Connection& connection) noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_recv_multishot(entry, connection.fd, nullptr, 0, 0);  // 6.0
    entry->flags |= IOSQE_BUFFER_SELECT;
    entry->buf_group = buffers_.group();
    io_uring_sqe_set_data64(entry, pack(Op::recv, connection.generation, index_of(connection)));
    connection.recv_armed = true;
}

// Up to `pipeline` requests in one write: the batch holds the request that many times over.
void Worker::write_batch(Connection& connection, std::uint64_t due_ns) noexcept {
    if (!wants_work()) return;
    const bool measuring = now_ >= control_.measure_ns;
    std::uint64_t count = plan_.options->pipeline;
    if (requests_mode_ && measuring) {
        if (count > budget_) count = budget_;
        budget_ -= count;
    }
    connection.owed = std::uint32_t(count);
    owed_total_ += count;
    connection.batch_bytes = std::uint32_t(count) * plan_.request_bytes;
    connection.batch_sent = 0;
    connection.due_ns = due_ns;
    connection.since_ns = now_;
    connection.measured = measuring;
    arm_send(connection);
}

void Worker::arm_send(Connection& connection) noexcept {
    io_uring_sqe* entry = sqe();
    io_uring_prep_send(entry, connection.fd, plan_.batch.data() + connection.batch_sent,
                       connection.batch_bytes - connection.batch_sent, MSG_NOSIGNAL);
    io_uring_sqe_set_data64(entry, pack(Op::send, connection.generation, index_of(connection)));
    connection.send_armed = true;
}

void Worker::on_send(Connection& connection, int result) noexcept {
    connection.send_armed = false;
    if (result <= 0) {
        const bool reset = result == -EPIPE || result == -ECONNRESET || result == 0;
        if (reset && retry_on_new_connection(connection)) return;
        lose_owed(connection, reset ? results_.counts.resets : results_.counts.other_errors, "send",
                  -result);
        return close(connection, now_);
    }
    connection.batch_sent += std::uint32_t(result);
    if (connection.batch_sent < connection.batch_bytes) return arm_send(connection);
    // The answers may have come before this completion did.
    if (connection.owed == 0 && connection.state == State::open) on_batch_answered(connection);
}

// One completion per chunk received. The buffer is back in the ring before we return.
void Worker::on_recv(std::uint32_t index, std::uint32_t generation,
                     const io_uring_cqe& cqe) noexcept {
    Connection* connection = &connections_[index];
    if ((connection->generation & generation_mask) != generation) connection = nullptr;
    if (cqe.flags & IORING_CQE_F_BUFFER) {
        const auto id = std::uint16_t(cqe.flags >> IORING_CQE_BUFFER_SHIFT);
        if (connection != nullptr && cqe.res > 0) {
            if (now_ >= control_.measure_ns) results_.counts.bytes_read += std::uint64_t(cqe.res);
            on_bytes(*connection, buffers_.bytes(id, std::uint32_t(cqe.res)));
        }
        buffers_.recycle(id);
    }
    // on_bytes may have closed it (a new generation): what follows is then not for it.
    if (connection == nullptr || (connection->generation & generation_mask) != generation) return;
    const bool ended = !(cqe.flags & IORING_CQE_F_MORE);
    if (ended) connection->recv_armed = false;
    if (cqe.res == 0) return on_eof(*connection);
    if (cqe.res < 0 && cqe.res != -ENOBUFS) {
        const bool reset = cqe.res == -ECONNRESET || cqe.res == -EPIPE;
        if (reset && retry_on_new_connection(*connection)) return;
        lose_owed(*connection, reset ? results_.counts.resets : results_.counts.other_errors,
                  "recv", -cqe.res);
        return close(*connection, now_);
    }
    if (ended) arm_recv(*connection);  // ENOBUFS, or multishot ended on its own: not an error
}

// Most servers answer a load test with the same bytes again and again: an answer equal to the
// last one framed in one piece is that answer again, found with one memcmp instead of a parse.
Framed Worker::next_answer(Connection& connection, std::string_view& bytes) noexcept {
    if (cached_bytes_ > 0 && bytes.size() >= cached_bytes_ && connection.framer.idle() &&
        std::memcmp(bytes.data(), cached_, cached_bytes_) == 0) {
        bytes.remove_prefix(cached_bytes_);
        return cached_answer_;
    }
    const bool whole = connection.framer.idle();  // the answer starts at bytes.data()
    const std::string_view before = bytes;
    const Framed framed = connection.framer.next(bytes);
    const std::size_t used = before.size() - bytes.size();
    if (framed.kind == Framed::Kind::response && whole && used <= sizeof cached_) {
        std::memcpy(cached_, before.data(), used);
        cached_bytes_ = std::uint32_t(used);
        cached_answer_ = framed;
    }
    return framed;
}

void Worker::on_bytes(Connection& connection, std::string_view bytes) noexcept {
    const std::string_view received = bytes;
    while (!bytes.empty()) {
        const Framed framed = next_answer(connection, bytes);
        if (framed.kind == Framed::Kind::more) return;
        if (framed.kind == Framed::Kind::error || connection.owed == 0) {
            note_framing(framed.kind == Framed::Kind::error ? describe(framed.error)
                                                            : "an answer to no request",
                         received);
            lose_owed(connection, results_.counts.framing_errors, nullptr, 0);
            return close(connection, now_);
        }
        count_answer(connection, framed.status);
        if (framed.closes || close_each_) {
            // The server ends the connection (or we asked it to): what it did not answer is
            // not lost, it was never taken on. Wait for its FIN, so TIME_WAIT stays there.
            give_back_owed(connection);
            if (!framed.closes) return close(connection, now_);  // it did not: we do
            connection.state = State::lingering;
            connection.since_ns = now_;
            return;
        }
        if (connection.owed == 0 && !connection.send_armed) on_batch_answered(connection);
    }
}

void Worker::count_answer(Connection& connection, std::uint16_t status) noexcept {
    connection.owed -= 1;
    connection.answered_here += 1;
    owed_total_ -= 1;
    last_progress_ns_ = now_;
    answers_ += 1;
    if (!connection.measured || now_ >= control_.end_ns) return;
    results_.latency.record(now_ - connection.due_ns);
    results_.counts.responses += 1;
    results_.counts.by_class[status < 600 ? status / 100 : 0] += 1;
    results_.finish_ns = now_;
}

void Worker::on_eof(Connection& connection) noexcept {
    if (retry_on_new_connection(connection)) return;
    const Framed framed = connection.framer.on_eof();
    if (framed.kind == Framed::Kind::response && connection.owed > 0) {
        count_answer(connection, framed.status);  // its body ran to the close
    } else if (framed.kind == Framed::Kind::error) {
        note_framing(describe(framed.error), {});
    }
    if (connection.owed > 0) lose_owed(connection, results_.counts.resets, "recv", ECONNRESET);
    close(connection, now_);
}

void Worker::on_batch_answered(Connection& connection) noexcept {
    if (!open_loop_) return write_batch(connection, now_);
    if (due(connection.slot) <= now_) {  // late: write at once, latency counts from the due time
        write_batch(connection, due(connection.slot));
        connection.slot += plan_.connections_total;
    }
}

// Open loop: every connection's due writes, in the order they fall due. A connection still
// waiting for answers writes when they come (on_batch_answered), its latency counted from here.
void Worker::run_schedule() noexcept {
    for (std::uint64_t at = due(cursor_slot()); at <= now_; at = due(cursor_slot())) {
        Connection& connection = connections_[cursor_index_];
        if (ready_to_write(connection) && due(connection.slot) <= now_) {
            write_batch(connection, due(connection.slot));
            connection.slot += plan_.connections_total;
        }
        if (++cursor_index_ == connections_.size()) {
            cursor_index_ = 0;
            ++cursor_round_;
        }
    }
}

// Cancel what is in flight on the socket and close it after; the connection takes a new
// generation at once, so whatever completes for the old one is dropped.
void Worker::close(Connection& connection, std::uint64_t reopen_ns) noexcept {
    if (connection.fd >= 0) {
        if (connection.recv_armed || connection.send_armed ||
            connection.state == State::connecting) {
            io_uring_sqe* cancel = sqe();
            io_uring_prep_cancel_fd(cancel, connection.fd, IORING_ASYNC_CANCEL_ALL);  // 5.19
            io_uring_sqe_set_data64(cancel, pack(Op::cancel, 0, 0));
            cancel->flags |= IOSQE_IO_HARDLINK;  // the close waits for the cancel, even failed
        }
        io_uring_sqe* entry = sqe();
        io_uring_prep_close(entry, connection.fd);
        io_uring_sqe_set_data64(entry, pack(Op::close, 0, 0));
    }
    owed_total_ -= connection.owed;
    connection.owed = 0;
    connection.fd = -1;
    connection.generation += 1;
    connection.state = State::idle;
    connection.recv_armed = connection.send_armed = false;
    connection.retry_ns = reopen_ns;
    if (reopen_ns <= now_) open(connection);
}

void Worker::lose_owed(Connection& connection, std::uint64_t& counter, const char* what,
                       int error) noexcept {
    counter += 1;
    if (what != nullptr) note_error(what, error);
    if (connection.measured) results_.counts.requests_lost += connection.owed;
    owed_total_ -= connection.owed;
    connection.owed = 0;
}

// Requests the server will never see (it closed first): --requests writes them again.
void Worker::give_back_owed(Connection& connection) noexcept {
    if (requests_mode_ && connection.measured) budget_ += connection.owed;
    owed_total_ -= connection.owed;
    connection.owed = 0;
}

// RFC 9112 §9.3.1: a used keep-alive connection that the server closed before any byte of
// the answers owed on it (its idle close crossed our write; a drain) lost requests the server
// never took on: idempotent ones are written again on a new connection, their latency still
// counted from when they were first due. Once: the new connection is not a used one, so the
// same loss there is an error, as is any loss on a fresh connection (a reset accept queue).
bool Worker::retry_on_new_connection(Connection& connection) noexcept {
    if (!plan_.retry || connection.state != State::open || connection.owed == 0 ||
        connection.answered_here == 0 || !connection.framer.idle()) {
        return false;
    }
    if (connection.measured) results_.counts.retried += connection.owed;
    connection.resend_due_ns = connection.due_ns;
    connection.resend_pending = true;
    give_back_owed(connection);
    close(connection, now_);
    return true;
}

// "framing: not HTTP (...); the answer began "SSH-2.0-OpenSSH_9.2p1\r\n"".
void Worker::note_framing(const char* what, std::string_view received) noexcept {
    if (results_.first_error[0] != '\0') return;
    char shown[64] = {};
    std::size_t used = 0;
    for (std::size_t i = 0; i < received.size() && used + 4 < sizeof shown; ++i) {
        const char c = received[i];
        if (c == '\r' || c == '\n') {
            shown[used++] = '\\';
            shown[used++] = c == '\r' ? 'r' : 'n';
        } else {
            shown[used++] = c >= ' ' && c < 127 ? c : '.';
        }
    }
    if (used > 0) {
        std::snprintf(results_.first_error, sizeof results_.first_error,
                      "framing: %s; the bytes began \"%s\"", what, shown);
    } else {
        std::snprintf(results_.first_error, sizeof results_.first_error, "framing: %s", what);
    }
}

void Worker::note_error(const char* what, int error) noexcept {
    if (results_.first_error[0] != '\0') return;
    std::snprintf(results_.first_error, sizeof results_.first_error, "%s: %s (%s)", what,
                  error_name(error), std::strerror(error));
}

// Every sweep_ns: deadlines, reconnects after a failed connect, progress, the stop flag.
void Worker::sweep() noexcept {
    next_sweep_ns_ = now_ + sweep_ns;
    for (Connection& connection : connections_) {
        const bool late = now_ - connection.since_ns >= timeout_ns_;
        switch (connection.state) {
            case State::idle:
                if (connection.retry_ns <= now_) open(connection);
                break;
            case State::connecting:
                if (!late) break;
                results_.counts.connect_errors += 1;
                note_error("connect", ETIMEDOUT);
                close(connection, now_ + retry_ns);
                break;
            case State::open:
                if (!late || connection.owed == 0) break;
                lose_owed(connection, results_.counts.timeouts, nullptr, 0);
                if (results_.first_error[0] == '\0') {
                    std::snprintf(results_.first_error, sizeof results_.first_error,
                                  "no answer within %s (--timeout)",
                                  format_ns(double(timeout_ns_)).c_str());
                }
                close(connection, now_);
                break;
            case State::lingering:
                if (late) close(connection, now_);
                break;
        }
    }
    results_.progress_answers.store(answers_, std::memory_order_relaxed);
    results_.progress_responses.store(results_.counts.responses, std::memory_order_relaxed);
    results_.progress_errors.store(results_.counts.errors(), std::memory_order_relaxed);
    if (control_.stop.load(std::memory_order_relaxed)) stopping_ = true;
    // --requests has no end time: a target that stopped answering ends it here.
    const std::uint64_t stall_ns = timeout_ns_ * 2 > s_ns ? timeout_ns_ * 2 : s_ns;
    if (requests_mode_ && now_ - last_progress_ns_ > stall_ns) {
        note_error("no progress", ETIMEDOUT);
        stopping_ = true;
    }
}

}  // namespace

std::uint64_t monotonic_ns() noexcept {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return std::uint64_t(now.tv_sec) * s_ns + std::uint64_t(now.tv_nsec);
}

const char* error_name(int error) noexcept {
    const char* name = strerrorname_np(error);
    return name != nullptr ? name : "unknown errno";
}

void run_worker(const WorkerSetup& setup) noexcept {
    Worker worker{setup};
    const int result = worker.start();
    setup.results->setup_error = result;
    setup.control->ready.fetch_add(1, std::memory_order_release);
    if (result == 0) worker.run();
    setup.control->finished.fetch_add(1, std::memory_order_release);
}

}  // namespace uring_okay::load
