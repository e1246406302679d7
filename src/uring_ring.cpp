// io_uring set-up with fallbacks, the start-up probe, and the provided-buffer ring. Everything
// here runs before the first request; the request path only calls BufferRing::recycle.
#include "uring_okay/uring_ring.hpp"

#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>

#include "uring_okay/config.hpp"
#include "uring_okay/engine.hpp"
#include "uring_okay/listener.hpp"
#include "uring_okay/text.hpp"

namespace uring_okay {

namespace {

constexpr std::size_t restrictions_max = 64;

// Debian's liburing 2.3 has io_uring_register_restrictions and io_uring_enable_rings in its .a
// but leaves them out of the .so's symbol map: called directly. 0 or -errno.
int register_ring(io_uring& ring, unsigned opcode, const void* argument, unsigned count) noexcept {
    const long result = syscall(__NR_io_uring_register, ring.ring_fd, opcode, argument, count);
    return result < 0 ? -errno : 0;
}

int restrict_ring(io_uring& ring, const RingRestrictions& restrictions) noexcept {
    if (restrictions.ops.size() + restrictions.register_ops.size() >= restrictions_max) {
        return -E2BIG;
    }
    io_uring_restriction entries[restrictions_max]{};
    std::size_t count = 0;
    for (const io_uring_op op : restrictions.ops) {
        entries[count].opcode = IORING_RESTRICTION_SQE_OP;
        entries[count++].sqe_op = std::uint8_t(op);
    }
    for (const std::uint8_t op : restrictions.register_ops) {
        entries[count].opcode = IORING_RESTRICTION_REGISTER_OP;
        entries[count++].register_op = op;
    }
    entries[count].opcode = IORING_RESTRICTION_SQE_FLAGS_ALLOWED;
    entries[count++].sqe_flags = restrictions.sqe_flags;
    return register_ring(ring, IORING_REGISTER_RESTRICTIONS, entries, unsigned(count));
}

}  // namespace

int enable_ring(io_uring& ring) noexcept {
    return register_ring(ring, IORING_REGISTER_ENABLE_RINGS, nullptr, 0);
}

int setup_ring(io_uring& ring, std::uint32_t sq_entries, std::uint32_t& features_off,
               const RingRestrictions* restrictions) noexcept {
    struct Attempt {
        std::uint32_t flags;
        std::uint32_t feature;  // what this attempt needs
    };
    // DEFER_TASKRUN (6.1): completions run only when this thread waits; COOP_TASKRUN (5.19):
    // no interrupting IPIs; else the plain ring every io_uring kernel has.
    static constexpr Attempt attempts[] = {
        {IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, feature::defer_taskrun},
        {IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG, feature::coop_taskrun},
        {0, 0},
    };
    int result = -EINVAL;
    for (const Attempt& attempt : attempts) {
        if (attempt.feature & features_off) continue;
        io_uring_params params{};
        params.flags = attempt.flags | IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
        if (restrictions != nullptr) params.flags |= IORING_SETUP_R_DISABLED;
        params.cq_entries = sq_entries * 4;
        result = io_uring_queue_init_params(sq_entries, &ring, &params);
        if (result == 0) {
            if (!(features_off & feature::registered_ring) && io_uring_register_ring_fd(&ring) != 1) {
                features_off |= feature::registered_ring;
            }
            if (restrictions == nullptr) return 0;
            result = restrict_ring(ring, *restrictions);
            if (result == 0) return 0;
            io_uring_queue_exit(&ring);
            return result;
        }
        features_off |= attempt.feature;
    }
    return result;
}

BufferRing::~BufferRing() {
    if (ring_ != nullptr) munmap(ring_, mapped_bytes_);
}

int BufferRing::setup(io_uring& ring, std::uint32_t count, std::uint32_t bytes_each,
                      std::uint16_t group) noexcept {
    count_ = count;
    bytes_each_ = bytes_each;
    group_ = group;
    // One mapping: the ring of descriptors (page-aligned, as the kernel wants), then the bytes.
    const std::size_t ring_bytes = sizeof(io_uring_buf) * count;
    mapped_bytes_ = ring_bytes + std::size_t(count) * bytes_each;
    void* mapped = mmap(nullptr, mapped_bytes_, PROT_READ | PROT_WRITE,
                        MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mapped == MAP_FAILED) return -errno;
    ring_ = static_cast<io_uring_buf_ring*>(mapped);
    buffers_ = static_cast<char*>(mapped) + ring_bytes;
    io_uring_buf_ring_init(ring_);
    io_uring_buf_reg registration{};
    registration.ring_addr = reinterpret_cast<std::uint64_t>(ring_);
    registration.ring_entries = count;
    registration.bgid = group;
    if (const int result = io_uring_register_buf_ring(&ring, &registration, 0); result != 0) {
        return result;
    }
    for (std::uint32_t id = 0; id < count; ++id) {
        io_uring_buf_ring_add(ring_, buffers_ + std::size_t(id) * bytes_each, bytes_each,
                              std::uint16_t(id), io_uring_buf_ring_mask(count), int(id));
    }
    io_uring_buf_ring_advance(ring_, int(count));
    return 0;
}

void BufferRing::recycle(std::uint16_t id) noexcept {
    io_uring_buf_ring_add(ring_, buffers_ + std::size_t(id) * bytes_each_, bytes_each_, id,
                          io_uring_buf_ring_mask(count_), 0);
    io_uring_buf_ring_advance(ring_, 1);
}

namespace {

// Multishot recv arrived in 6.0; there is no opcode to probe for it. "6.1.0-18-amd64": 6.
std::uint64_t kernel_major() {
    utsname name{};
    if (uname(&name) != 0) return 0;
    std::size_t digits = 0;
    return leading_decimal(name.release, digits);
}

const char* setup_cause(int error) {
    switch (error) {
        case EPERM: return " (seccomp, or kernel.io_uring_disabled)";
        case ENOSYS: return " (kernel without io_uring, or a sandbox such as gVisor)";
        case ENOMEM: return " (RLIMIT_MEMLOCK too low)";
        default: return "";
    }
}

}  // namespace

UringProbe probe_uring(std::uint32_t disabled_features) noexcept {
    UringProbe probe;
    probe.features_off = disabled_features;
    io_uring ring{};
    int error = setup_ring(ring, 8, probe.features_off);
    const char* call = "io_uring_setup: ";
    const char* cause = setup_cause(-error);
    if (error == 0) {
        // The buffer ring (5.19) is newer than every opcode the engine uses: no opcode probe.
        BufferRing buffers;
        error = buffers.setup(ring, 8, 256, 0);
        io_uring_queue_exit(&ring);
        call = "io_uring_register_buf_ring: ";
        cause = " (kernel < 5.19)";
    }
    if (error < 0) {
        Text{probe.why}.add(call).add(errno_name(-error)).add(cause);
        return probe;
    }
    if (kernel_major() < 6) probe.features_off |= feature::multishot_recv;
    probe.usable = true;
    return probe;
}

void describe_uring_features(std::uint32_t features_off, char* out, std::size_t size) noexcept {
    const bool defer = !(features_off & feature::defer_taskrun);
    const bool coop = !defer && !(features_off & feature::coop_taskrun);
    Text{out, size}
        .add(defer  ? "defer-taskrun, "
             : coop ? "coop-taskrun, "
                    : "plain ring, ")
        .add(features_off & feature::multishot_accept ? "single-shot accept, "
                                                      : "multishot accept, ")
        .add(features_off & feature::multishot_recv ? "single-shot recv" : "multishot recv")
        .add(" into a provided-buffer ring")
        .add(features_off & feature::registered_ring ? "" : ", registered ring fd");
}

}  // namespace uring_okay
