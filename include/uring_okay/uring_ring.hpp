// Setting up an io_uring the newest way the kernel allows, each step with its fallback, and the
// provided-buffer ring registered by hand (Debian's liburing 2.3 has no io_uring_setup_buf_ring).
#pragma once

#include <liburing.h>

#include <cstdint>
#include <span>
#include <string_view>

namespace uring_okay {

// What a ring may do once enabled (IORING_REGISTER_RESTRICTIONS, 5.10): seccomp never sees
// io_uring operations, so a ring bounds its own. Anything else completes with -EACCES.
struct RingRestrictions {
    std::span<const io_uring_op> ops;            // the opcodes its SQEs may carry
    std::uint8_t sqe_flags = 0;                  // the IOSQE_* flags they may set
    std::span<const std::uint8_t> register_ops;  // io_uring_register after enable_ring
};

// io_uring_queue_init with DEFER_TASKRUN|SINGLE_ISSUER (6.1), else COOP_TASKRUN (5.19), else
// plain; a CQ four times the SQ. `features_off` gains the bits of what was refused.
// With `restrictions`, the ring starts disabled (R_DISABLED) and bound by them: register what
// set-up needs, then enable_ring. Returns 0 or -errno of the plainest attempt.
[[nodiscard]] int setup_ring(io_uring& ring, std::uint32_t sq_entries, std::uint32_t& features_off,
                             const RingRestrictions* restrictions = nullptr) noexcept;
// The end of a restricted ring's set-up: from here on its restrictions hold. 0 or -errno.
[[nodiscard]] int enable_ring(io_uring& ring) noexcept;

// The next free SQE. The SQ is never full for long: when it is, what it holds goes to the
// kernel now.
[[nodiscard]] inline io_uring_sqe* next_sqe(io_uring& ring) noexcept {
    io_uring_sqe* entry = io_uring_get_sqe(&ring);
    while (entry == nullptr) {
        io_uring_submit(&ring);
        entry = io_uring_get_sqe(&ring);
    }
    return entry;
}

// Hands at most `max` ready completions to `handle`, then marks them seen: a bound on the work
// between two enters, so submissions keep flowing under a flood of completions.
template <typename Handle>
unsigned handle_completions(io_uring& ring, unsigned max, Handle&& handle) noexcept {
    unsigned head = 0;
    unsigned seen = 0;
    io_uring_cqe* cqe = nullptr;
    io_uring_for_each_cqe(&ring, head, cqe) {
        handle(*cqe);
        if (++seen == max) break;
    }
    io_uring_cq_advance(&ring, seen);
    return seen;
}

// Buffers the kernel picks from for multishot recv (5.19): one mapping holds the ring of
// descriptors and the bytes. A buffer goes back the moment its bytes were read.
class BufferRing {
public:
    BufferRing() = default;
    BufferRing(const BufferRing&) = delete;
    BufferRing& operator=(const BufferRing&) = delete;
    ~BufferRing();

    [[nodiscard]] int setup(io_uring& ring, std::uint32_t count, std::uint32_t bytes_each,
                            std::uint16_t group) noexcept;  // 0 or -errno
    [[nodiscard]] std::string_view bytes(std::uint16_t id, std::uint32_t length) const noexcept {
        return {buffers_ + std::size_t(id) * bytes_each_, length};
    }
    void recycle(std::uint16_t id) noexcept;
    [[nodiscard]] std::uint16_t group() const noexcept { return group_; }
    [[nodiscard]] std::uint32_t bytes_each() const noexcept { return bytes_each_; }

private:
    io_uring_buf_ring* ring_ = nullptr;
    char* buffers_ = nullptr;
    std::size_t mapped_bytes_ = 0;
    std::uint32_t count_ = 0;
    std::uint32_t bytes_each_ = 0;
    std::uint16_t group_ = 0;
};

}  // namespace uring_okay
