// The seccomp allow-list: named groups of system calls, the classic BPF program built from them,
// and its installation on every thread. What each group is for: sandbox.hpp.
#include "uring_okay/sandbox.hpp"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <span>

#include "uring_okay/assert.hpp"
#include "uring_okay/text.hpp"

#if defined(__x86_64__)
#define UO_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__) && !defined(__AARCH64EB__)
#define UO_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

// Sanitizer runtimes make calls of their own at exit and in reports (sandbox_sanitizer below).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UO_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UO_SANITIZED 1
#endif
#endif

namespace uring_okay {

#ifdef UO_AUDIT_ARCH
namespace {

// What a call's arguments must be, beyond its number.
enum class Check : std::uint8_t {
    any,
    no_exec,  // mmap, mprotect: the protection (argument 2) lacks PROT_EXEC
    self,     // tgkill, kill: the process (argument 0) is this one (abort's SIGABRT)
    inet,     // socket: the family (argument 0) is AF_INET or AF_INET6
};

struct Rule {
    std::uint16_t number;  // below 1024 on both architectures
    Check check = Check::any;
};

// --- The groups (what each is for: sandbox.hpp) -------------------------------------------------

constexpr Rule lifetime[] = {
    {__NR_futex},
    {__NR_exit},
    {__NR_exit_group},
    {__NR_restart_syscall},
    {__NR_rt_sigreturn},
    {__NR_rt_sigprocmask},
    {__NR_sched_yield},
    {__NR_getpid},
    {__NR_gettid},
    // A thread created just before the filter (the access log's writer) may only now run
    // glibc's thread start: its robust-list and rseq registration must not fail.
    {__NR_set_robust_list},
#ifdef __NR_rseq
    {__NR_rseq},
#endif
    {__NR_tgkill, Check::self},
    {__NR_kill, Check::self},
};

constexpr Rule memory[] = {
    {__NR_munmap},
    {__NR_madvise},
    {__NR_mremap},
    {__NR_brk},
    {__NR_mmap, Check::no_exec},
    {__NR_mprotect, Check::no_exec},
};

constexpr Rule clock[] = {
    {__NR_clock_gettime},
    {__NR_gettimeofday},  // a vDSO call too, but not where there is no vDSO (TSan calls it)
    {__NR_clock_nanosleep},
    {__NR_nanosleep},
    {__NR_getrusage},
};

constexpr Rule stdio[] = {
    {__NR_read}, {__NR_write}, {__NR_writev}, {__NR_close}, {__NR_ppoll}, {__NR_eventfd2},
#ifdef __NR_poll
    {__NR_poll},
#endif
};

constexpr Rule probes[] = {
    {__NR_socket, Check::inet}, {__NR_connect}, {__NR_getsockopt},
    {__NR_newfstatat},          {__NR_statx},   {__NR_faccessat},
#ifdef __NR_faccessat2
    {__NR_faccessat2},
#endif
#ifdef __NR_access
    {__NR_access},  // --ready-when file: (x86_64 libcs call access, not faccessat)
#endif
    {__NR_getpeername},  // --access-log: each new connection's peer, once
};

constexpr Rule drain[] = {
    {__NR_accept4},
    {__NR_recvfrom},
    {__NR_shutdown},
};

// The engines' own (the hot calls first: the program tests them in order).
constexpr Rule uring[] = {
    {__NR_io_uring_enter},
    {__NR_io_uring_register},
};

constexpr Rule epoll[] = {
#ifdef __NR_epoll_wait
    {__NR_epoll_wait},
#endif
    {__NR_epoll_pwait}, {__NR_recvfrom}, {__NR_sendto},
    {__NR_epoll_ctl},   {__NR_accept4},  {__NR_timerfd_settime},
};

// Only in sanitizer builds (dev, tsan): the runtimes' own calls at exit and in a report, so a
// report still comes out and LeakSanitizer still checks at exit. The shipped binary has none.
#ifdef UO_SANITIZED
constexpr Rule sandbox_sanitizer[] = {
    {__NR_clone},
    {__NR_ptrace},
    {__NR_wait4},
    {__NR_prctl},
    {__NR_openat},
    {__NR_getdents64},
    {__NR_sigaltstack},
    {__NR_rt_sigaction},
    {__NR_readlinkat},
    {__NR_getppid},
    {__NR_sched_getaffinity},
    {__NR_fstat},
    {__NR_lseek},
    {__NR_pread64},
#ifdef __NR_open  // x86_64's older calls, which the runtimes use there
    {__NR_open},
    {__NR_getdents},
    {__NR_readlink},
#endif
};
#endif

constexpr std::span<const Rule> common[] = {
    lifetime,          memory, clock, stdio, probes, drain,
#ifdef UO_SANITIZED
    sandbox_sanitizer,
#endif
};

// --- The program --------------------------------------------------------------------------------

constexpr std::size_t program_max = 512;  // instructions; the kernel's ceiling is 4096
constexpr std::uint32_t refuse = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
constexpr std::uint32_t nr_offset = offsetof(seccomp_data, nr);
constexpr std::uint32_t arch_offset = offsetof(seccomp_data, arch);
constexpr std::uint32_t arg_offset(int index) {  // the low 32 bits (both are little-endian)
    return std::uint32_t(offsetof(seccomp_data, args) + 8 * std::size_t(index));
}

// The instructions rule() writes for one rule, and build()'s for the arch and x32 tests around them.
constexpr std::size_t rule_instructions(const Rule& rule) {
    return rule.check == Check::any ? 2 : rule.check == Check::inet ? 6 : 5;
}
template <std::size_t n>
constexpr std::size_t group_instructions(const Rule (&group)[n]) {
    std::size_t count = 0;
    for (const Rule& rule : group) count += rule_instructions(rule);
    return count;
}
constexpr std::size_t frame_instructions = 7;  // on x86_64; 5 on aarch64, without the x32 test

// The longest program, with both engines' groups: checked here, so build() never overflows.
constexpr std::size_t program_instructions_max = [] {
    std::size_t count = frame_instructions + group_instructions(uring) + group_instructions(epoll);
    for (const std::span<const Rule> group : common) {
        for (const Rule& rule : group) count += rule_instructions(rule);
    }
    return count;
}();
static_assert(program_instructions_max <= program_max, "the allow-list outgrew program_max");

class Program {
public:
    void add(sock_filter instruction) noexcept {
        UO_ASSERT(size_ < program_max);  // program_instructions_max counts what rule() writes
        code_[size_++] = instruction;
    }
    void statement(std::uint16_t code, std::uint32_t k) noexcept { add(BPF_STMT(code, k)); }
    void jump(std::uint16_t code, std::uint32_t k, std::uint8_t yes, std::uint8_t no) noexcept {
        add(BPF_JUMP(code, k, yes, no));
    }
    void rule(const Rule& rule, long pid) noexcept;
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] sock_fprog fprog() noexcept { return {std::uint16_t(size_), code_}; }

private:
    sock_filter code_[program_max]{};
    std::size_t size_ = 0;
};

// The number in the accumulator: allowed, or the arguments decide. Every branch of a checked
// rule returns, so the accumulator holds the number again for the next rule.
void Program::rule(const Rule& rule, long pid) noexcept {
    const std::uint32_t number = rule.number;
    switch (rule.check) {
        case Check::any:
            jump(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 1);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            return;
        case Check::no_exec:
            jump(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 4);
            statement(BPF_LD | BPF_W | BPF_ABS, arg_offset(2));
            jump(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 1, 0);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            statement(BPF_RET | BPF_K, refuse);
            return;
        case Check::self:
            jump(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 4);
            statement(BPF_LD | BPF_W | BPF_ABS, arg_offset(0));
            jump(BPF_JMP | BPF_JEQ | BPF_K, std::uint32_t(pid), 0, 1);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            statement(BPF_RET | BPF_K, refuse);
            return;
        case Check::inet:
            jump(BPF_JMP | BPF_JEQ | BPF_K, number, 0, 5);
            statement(BPF_LD | BPF_W | BPF_ABS, arg_offset(0));
            jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 1, 0);
            jump(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 0, 1);
            statement(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
            statement(BPF_RET | BPF_K, refuse);
            return;
    }
}

// Another architecture's calls (int 0x80, x32) have other numbers: all refused. The engines'
// groups come first: io_uring_enter is the first test of the io_uring engine's every call.
Program& build(std::uint32_t engines) noexcept {
    static Program program;  // 4 KiB: built once, in main
    program = Program{};
    const long pid = getpid();
    program.statement(BPF_LD | BPF_W | BPF_ABS, arch_offset);
    program.jump(BPF_JMP | BPF_JEQ | BPF_K, UO_AUDIT_ARCH, 1, 0);
    program.statement(BPF_RET | BPF_K, refuse);
    program.statement(BPF_LD | BPF_W | BPF_ABS, nr_offset);
#if defined(__x86_64__)
    program.jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);  // __X32_SYSCALL_BIT
    program.statement(BPF_RET | BPF_K, refuse);
#endif
    if (engines & sandbox_engine::uring) {
        for (const Rule& rule : uring) program.rule(rule, pid);
    }
    if (engines & sandbox_engine::epoll) {
        for (const Rule& rule : epoll) program.rule(rule, pid);
    }
    for (const std::span<const Rule> group : common) {
        for (const Rule& rule : group) program.rule(rule, pid);
    }
    program.statement(BPF_RET | BPF_K, refuse);
    return program;
}

}  // namespace

bool sandbox_supported() noexcept {
    return true;
}

std::size_t sandbox_program_size(std::uint32_t engines) noexcept {
    return build(engines).size();
}

int install_sandbox(std::uint32_t engines, char* why, std::size_t size) noexcept {
    Program& program = build(engines);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        const int error = errno;
        Text{why, size}
            .add("prctl(PR_SET_NO_NEW_PRIVS): ")
            .add(errno_name(error))
            .add("; going on without the sandbox");
        return -error;
    }
    sock_fprog fprog = program.fprog();
    // TSYNC (3.17): every thread at once; LOG (4.14): refusals reach the audit log.
    unsigned flags = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG;
    long result = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
    if (result < 0 && errno == EINVAL) {
        flags = SECCOMP_FILTER_FLAG_TSYNC;
        result = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
    }
    if (result == 0) return 0;
    const int error = result > 0 ? ESRCH : errno;  // > 0: a thread that could not be synced
    const char* cause = error == ENOSYS   ? " (kernel without seccomp)"
                        : error == EINVAL ? " (kernel without seccomp filters or TSYNC)"
                        : error == EACCES ? " (no_new_privs refused)"
                        : error == ESRCH  ? " (a thread has another filter)"
                                          : "";
    Text{why, size}
        .add("seccomp: ")
        .add(errno_name(error))
        .add(cause)
        .add("; going on without the sandbox");
    return -error;
}

#else  // no system call numbers for this architecture

bool sandbox_supported() noexcept {
    return false;
}

std::size_t sandbox_program_size(std::uint32_t) noexcept {
    return 0;
}

int install_sandbox(std::uint32_t, char* why, std::size_t size) noexcept {
    Text{why, size}.add("sandbox: not built for this architecture; going on without it");
    return -ENOSYS;
}

#endif

}  // namespace uring_okay
