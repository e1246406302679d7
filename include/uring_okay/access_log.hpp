// --access-log: one line per answer, written by the engine thread into its own ring of bytes and
// moved to stderr by one writer thread, so a slow terminal or pipe never blocks an engine. A ring
// that is full drops the line and counts it. Nothing is allocated after allocate().
//
// A line: the time, the client, the path (`*` for any path without an answer of its own), the
// status, the bytes of the answer, and `close` when the connection ends after it:
//   Fri, 27 Nov 2026 01:26:55 GMT 127.0.0.1:54321 /health 200 117
// The framer keeps no bytes of a request, so the path is the configured one it matched.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "uring_okay/connection.hpp"
#include "uring_okay/counters.hpp"
#include "uring_okay/framer.hpp"
#include "uring_okay/response.hpp"

namespace uring_okay {

inline constexpr std::size_t peer_text_bytes = 56;  // "[ffff:...:ffff]:65535" and a NUL

class AccessLog {
public:
    AccessLog() = default;
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;
    ~AccessLog();

    // `ring_bytes` of lines in waiting; a peer's text for each of `slots` connections.
    [[nodiscard]] bool allocate(std::uint32_t ring_bytes, std::uint32_t slots, int wake_fd,
                                const Routes& routes) noexcept;

    // --- The engine thread ---
    // A new connection in `slot`: its peer's address, read once.
    void note_peer(std::uint32_t slot, int fd) noexcept;
    // Lines for the answers that just left `slot` (none for a short send); dropped ones are
    // counted in `counters`.
    void record(std::uint32_t slot, const Finished& finished, Counters& counters) noexcept;
    // Once per loop: makes the lines recorded visible to the writer and wakes it if it sleeps.
    void publish() noexcept;

    // --- The writer thread ---
    // Writes what is published to fd; returns the bytes taken from the ring.
    std::size_t write_to(int fd) noexcept;

private:
    void push(std::string_view line, Counters& counters) noexcept;

    char* ring_ = nullptr;
    std::uint32_t ring_bytes_ = 0;
    char (*peers_)[peer_text_bytes] = nullptr;
    std::uint32_t slots_ = 0;
    int wake_fd_ = -1;
    const Routes* routes_ = nullptr;
    std::uint64_t head_ = 0;                               // the engine's: bytes written so far
    alignas(64) std::atomic<std::uint64_t> published_{0};  // head_, as the writer may see it
    alignas(64) std::atomic<std::uint64_t> tail_{0};       // the writer's: bytes written out
    std::int64_t date_seconds_ = -1;
    char date_[imf_fixdate_bytes]{};
};

// The writer thread's loop: sleeps on `wake_fd` (an eventfd), writes every log's lines to
// stderr, and returns once `stop` is set and everything left was written.
void run_access_log_writer(AccessLog* logs, std::uint32_t count, int wake_fd,
                           const std::atomic<bool>& stop) noexcept;

}  // namespace uring_okay
