// --sandbox: the seccomp allow-list main installs on every thread once every engine thread has
// started. Classic BPF built here (no libseccomp). Knows system call numbers, not sockets or rings:
// io_uring operations never pass seccomp, so the ring restricts its own opcodes (uring_ring.hpp).
//
// The list is groups of calls, each for one purpose; a thread gets the common groups and the
// groups of the engines that run. To extend it, add the call to the group that needs it, or a
// group of its own to `common` or an engine's list in sandbox.cpp:
//   lifetime   thread and process exit, futex (join, locks), signal masks, restart_syscall
//   memory     free() giving memory back; mmap/mprotect only without PROT_EXEC
//   clock      clock_gettime, gettimeofday (CPU clocks are no vDSO call), sleeps,
//              getrusage(RUSAGE_THREAD)
//   stdio      read/write/writev/close/poll on fds already open: stderr, the signalfd,
//              the eventfds (eventfd2 for one made later), a logger thread's writes
//   probes     a readiness probe: socket(AF_INET/AF_INET6), connect, getsockopt(SO_ERROR);
//              newfstatat/statx/faccessat/access for a file probe (no open: nothing is read);
//              getpeername for the access log's client address
//   drain      accept4 behind a poll of the listen queue, recv(MSG_PEEK), shutdown(2)
//   uring      io_uring_enter, io_uring_register (the ring's restrictions bound both)
//   epoll      epoll_wait/epoll_pwait, epoll_ctl, accept4, recv, send, timerfd reads and settime
// Everything else (execve, open, fork, ptrace, io_uring_setup, bind...) fails with EPERM: a
// missed call fails on the path that made it, which already handles -errno (a connection
// closes), rather than killing the whole server; the kernel's audit log names it
// (SECCOMP_FILTER_FLAG_LOG, 4.14: `dmesg | grep type=1326`).
#pragma once

#include <cstddef>
#include <cstdint>

namespace uring_okay {

// Which engines' groups join the common ones (bits: a thread whose io_uring set-up failed
// serves with epoll beside io_uring threads).
namespace sandbox_engine {
inline constexpr std::uint32_t uring = 1u << 0;
inline constexpr std::uint32_t epoll = 1u << 1;
}  // namespace sandbox_engine

// Whether this build knows the architecture's system call numbers (x86_64, aarch64).
[[nodiscard]] bool sandbox_supported() noexcept;

// Sets PR_SET_NO_NEW_PRIVS and installs the filter on every thread of the process
// (SECCOMP_FILTER_FLAG_TSYNC, 3.17). 0, or -errno with `why` saying what was refused and that
// we go on without it: "seccomp: EINVAL (kernel without seccomp filters)".
[[nodiscard]] int install_sandbox(std::uint32_t engines, char* why, std::size_t size) noexcept;

// The number of BPF instructions the filter for `engines` has (tests: it fits BPF_MAXINSNS).
[[nodiscard]] std::size_t sandbox_program_size(std::uint32_t engines) noexcept;

}  // namespace uring_okay
