// The access log's rings: one producer (an engine thread), one consumer (the writer thread),
// byte counters that only grow. The engine publishes once per loop; the writer sleeps on an
// eventfd and is woken only when a publish finds it caught up (the seq_cst pair below: either
// the engine sees the writer caught up and wakes it, or the writer sees the new bytes).
#include "uring_okay/access_log.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "uring_okay/engine.hpp"
#include "uring_okay/listener.hpp"
#include "uring_okay/text.hpp"

namespace uring_okay {

using namespace std::string_view_literals;  // "text"sv: no strlen call where it is added

namespace {

constexpr std::size_t line_bytes_max = 512;
constexpr std::size_t path_shown_max = 256;

// "127.0.0.1:54321" or "[::1]:54321"; "-" when the socket has no peer any more.
void format_peer(int fd, char (&out)[peer_text_bytes]) noexcept {
    const ListenAddress peer = socket_address(fd, true);
    Text text{out};
    if (peer.family == 0)
        text.add("-"sv);
    else
        add_endpoint(text, peer);
}

}  // namespace

AccessLog::~AccessLog() {
    std::free(ring_);
    std::free(peers_);
}

bool AccessLog::allocate(std::uint32_t ring_bytes, std::uint32_t slots, int wake_fd,
                         const Routes& routes) noexcept {
    ring_ = static_cast<char*>(std::malloc(ring_bytes));
    peers_ = static_cast<char(*)[peer_text_bytes]>(std::calloc(slots, peer_text_bytes));
    ring_bytes_ = ring_bytes;
    slots_ = slots;
    wake_fd_ = wake_fd;
    routes_ = &routes;
    return ring_ != nullptr && peers_ != nullptr;
}

void AccessLog::note_peer(std::uint32_t slot, int fd) noexcept {
    if (slot < slots_) format_peer(fd, peers_[slot]);
}

void AccessLog::record(std::uint32_t slot, const Finished& finished, Counters& counters) noexcept {
    if (finished.count == 0) return;
    const std::int64_t now = realtime_seconds();
    if (now != date_seconds_) {
        format_imf_fixdate(now, date_);
        date_seconds_ = now;
    }
    std::string_view path = "*"sv;
    if (finished.route != 0 && finished.route <= routes_->count)
        path = routes_->paths[finished.route - 1];
    if (path.size() > path_shown_max) path.remove_suffix(path.size() - path_shown_max);
    char line[line_bytes_max];
    Text text{line};
    text.add(std::string_view{date_, sizeof date_}).add(" "sv);
    text.add(slot < slots_ ? std::string_view{peers_[slot]} : "-"sv).add(" "sv);
    text.add(path).add(" "sv).add(std::uint64_t{finished.status}).add(" "sv);
    text.add(std::uint64_t{finished.bytes / finished.count});
    // Only the last answer of a batch can be the one after which the connection closes.
    const bool closes = closes_after(finished.kind);
    for (std::uint32_t i = 1; i <= finished.count; ++i) {
        Text one = text;
        one.add(closes && i == finished.count ? " close\n"sv : "\n"sv);
        push({line, one.bytes()}, counters);
    }
}

void AccessLog::push(std::string_view line, Counters& counters) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_acquire);
    if (head_ + line.size() - tail > ring_bytes_) {
        counters.access_log_dropped.add();
        return;
    }
    const std::size_t at = std::size_t(head_ % ring_bytes_);
    const std::size_t first = line.size() < ring_bytes_ - at ? line.size() : ring_bytes_ - at;
    std::memcpy(ring_ + at, line.data(), first);
    std::memcpy(ring_, line.data() + first, line.size() - first);
    head_ += line.size();
}

void AccessLog::publish() noexcept {
    const std::uint64_t before = published_.load(std::memory_order_relaxed);
    if (head_ == before) return;
    published_.store(head_);
    if (tail_.load() == before) {  // the writer had caught up: it sleeps, or is about to
        const std::uint64_t one = 1;
        (void)!write(wake_fd_, &one, sizeof one);
    }
}

std::size_t AccessLog::write_to(int fd) noexcept {
    const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
    const std::uint64_t head = published_.load();
    if (head == tail) return 0;
    const std::size_t at = std::size_t(tail % ring_bytes_);
    const std::uint64_t waiting = head - tail;
    const std::size_t bytes = waiting < ring_bytes_ - at ? std::size_t(waiting) : ring_bytes_ - at;
    // stderr gone or refusing: write_all gives up, these lines are lost, and the rest go on.
    write_all(fd, {ring_ + at, bytes});
    tail_.store(tail + bytes);
    return bytes;
}

void run_access_log_writer(AccessLog* logs, std::uint32_t count, int wake_fd,
                           const std::atomic<bool>& stop) noexcept {
    for (;;) {
        const bool last = stop.load();  // read before the pass: nothing published is left behind
        for (bool wrote = true; wrote;) {
            wrote = false;
            for (std::uint32_t i = 0; i < count; ++i)
                wrote = logs[i].write_to(STDERR_FILENO) > 0 || wrote;
        }
        if (last) return;
        std::uint64_t wakes = 0;
        while (read(wake_fd, &wakes, sizeof wakes) < 0 && errno == EINTR) {
        }
    }
}

}  // namespace uring_okay
