// Wiring only: flags, listeners, one pinned engine thread per CPU, signals, the start-up line,
// exit codes (0 after a drain, 1 when nothing can run, 2 for a bad flag).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <optional>
#include <string_view>

#include "uring_okay/access_log.hpp"
#include "uring_okay/config.hpp"
#include "uring_okay/engine.hpp"
#include "uring_okay/healthcheck.hpp"
#include "uring_okay/listener.hpp"
#include "uring_okay/sandbox.hpp"
#include "uring_okay/text.hpp"
#include "uring_okay/user.hpp"

#ifndef UO_VERSION
#define UO_VERSION "dev"
#endif

namespace uring_okay {
namespace {

struct Thread {
    EngineSetup setup;
    pthread_t handle{};
    int done_fd = -1;              // main's eventfd: one count per finished thread
    bool uring = false;
    std::uint32_t features_off = 0;
};

// One count on an eventfd: a wake-up, or a thread saying it is done.
void post(int event_fd) {
    const std::uint64_t one = 1;
    (void)!write(event_fd, &one, sizeof one);
}

// One line on stderr: "uring-okay: " and the message.
void complain(const char* message) {
    char line[768];
    write_all(STDERR_FILENO, Text{line}.add("uring-okay: ").add(message).push('\n').view());
}

[[noreturn]] void die(int code, const char* message) {
    complain(message);
    std::exit(code);
}

// "thread 1: io_uring set-up: ENOMEM; using epoll"
void complain_set_up(const Thread& thread, const char* engine, int error, const char* then) {
    char line[128];
    complain(Text{line}
                 .add("thread ")
                 .add(thread.setup.thread_index)
                 .add(": ")
                 .add(engine)
                 .add(" set-up: ")
                 .add(errno_name(error))
                 .add(then)
                 .c_str());
}

void* run_thread(void* argument) {
    Thread& thread = *static_cast<Thread*>(argument);
    note_thread_start(*thread.setup.counters);
    int result = -ENOSYS;
    if (thread.uring) {
        result = run_uring_engine(thread.setup, thread.features_off);
        if (result < 0) complain_set_up(thread, "io_uring", -result, "; using epoll");
    }
    if (result < 0) result = run_epoll_engine(thread.setup);
    if (result < 0) {
        complain_set_up(thread, "epoll", -result, "");
        report_ready(thread.setup, Ready::failed);  // once: engines report only after start()
    }
    note_thread_stop(*thread.setup.counters);
    post(thread.done_fd);  // wakes main's poll: it counts the threads out, then joins them
    return nullptr;
}

// --access-log: the thread that moves every engine's lines to stderr.
struct LogWriter {
    AccessLog* logs;
    std::uint32_t count;
    int wake_fd;
    pthread_t handle{};
    std::atomic<bool> stop{false};
};

void* run_log_writer(void* argument) {
    LogWriter& writer = *static_cast<LogWriter*>(argument);
    run_access_log_writer(writer.logs, writer.count, writer.wake_fd, writer.stop);
    return nullptr;
}

// --access-log: a ring per engine thread (placed, not yet used) and the writer's eventfd.
AccessLog* make_access_logs(const Config& config, std::uint32_t thread_count, int& wake_fd) {
    if (!config.access_log) return nullptr;
    auto* logs = static_cast<AccessLog*>(std::aligned_alloc(64, thread_count * sizeof(AccessLog)));
    wake_fd = eventfd(0, EFD_CLOEXEC);
    if (logs == nullptr || wake_fd < 0) die(1, "--access-log: out of memory or file descriptors");
    for (std::uint32_t i = 0; i < thread_count; ++i) {
        new (&logs[i]) AccessLog{};
        if (!logs[i].allocate(config.limits.access_log_bytes, config.limits.connections_max,
                              wake_fd, config.routes)) {
            die(1, "--access-log: out of memory for its buffers");
        }
    }
    return logs;
}

// Thread i on the (i mod n)-th CPU, pinned right after pthread_create (musl has no
// pthread_attr_setaffinity_np). A CPU we may not use ends start-up as a failed start does.
void start_threads(Thread* threads, std::uint32_t thread_count, const std::uint16_t* cpus,
                   std::uint32_t cpu_count) {
    for (std::uint32_t i = 0; i < thread_count; ++i) {
        cpu_set_t one_cpu;
        CPU_ZERO(&one_cpu);
        CPU_SET(cpus[i % cpu_count], &one_cpu);
        if (pthread_create(&threads[i].handle, nullptr, run_thread, &threads[i]) != 0 ||
            pthread_setaffinity_np(threads[i].handle, sizeof one_cpu, &one_cpu) != 0) {
            die(1, "pthread_create: cannot start an engine thread");
        }
    }
}

// The CPUs threads are pinned to, in order: --cpus, else the process's affinity mask.
std::uint32_t choose_cpus(const Config& config, std::uint16_t* cpus) {
    if (config.cpu_count > 0) {
        std::memcpy(cpus, config.cpus, config.cpu_count * sizeof *cpus);
        return config.cpu_count;
    }
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 0;
    std::uint32_t count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < cpus_max; ++cpu) {
        if (CPU_ISSET(cpu, &mask)) cpus[count++] = std::uint16_t(cpu);
    }
    return count;
}

// Every thread gets its own SO_REUSEPORT socket per address; port 0 is chosen by the first.
void open_listeners(Config& config, Thread* threads, std::uint32_t thread_count) {
    char why[256];
    for (std::uint32_t a = 0; a < config.listen_count; ++a) {
        ListenAddress& address = config.listen[a];
        for (std::uint32_t t = 0; t < thread_count; ++t) {
            const int fd = open_listener(address, address.port, why, sizeof why);
            if (fd < 0) die(1, why);
            if (address.port == 0) address.port = bound_port(fd);
            threads[t].setup.listen_fds[a] = fd;
            threads[t].setup.listen_count = std::uint8_t(a + 1);
        }
    }
}

// The value of the environment variable `name` (given with its '='), or null. Environment
// variables are read and removed in place here: getenv, atol and unsetenv weigh 0.9 KiB of musl.
const char* find_variable(std::string_view name) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (std::string_view(*entry).starts_with(name)) return *entry + name.size();
    }
    return nullptr;
}

// The leading decimal digits of `text` (atol's number for what systemd writes), 0 without any.
std::uint64_t leading_number(const char* text) {
    std::size_t digits = 0;
    return leading_decimal(text, digits);
}

// SO_ACCEPTCONN: listen() was called; SO_TYPE: a stream, not a datagram socket.
bool is_listening_stream(int fd) {
    int type = 0;
    int listening = 0;
    socklen_t size = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM) return false;
    size = sizeof listening;
    return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && listening != 0;
}

// systemd socket activation (sd_listen_fds(3)): LISTEN_PID names us, LISTEN_FDS counts the
// listening sockets from fd 3. Thread 0 takes each; the others share it through a dup. The
// addresses become the configured ones, for the start-up line. False when not activated.
bool take_activated_listeners(Config& config, Thread* threads, std::uint32_t thread_count) {
    const char* pid = find_variable("LISTEN_PID=");
    const char* count = find_variable("LISTEN_FDS=");
    if (pid == nullptr || count == nullptr || leading_number(pid) != std::uint64_t(getpid()))
        return false;
    const std::uint64_t fds = leading_number(count);
    if (fds < 1 || fds > listen_max) die(1, "LISTEN_FDS: must be from 1 to 8 sockets");
    char** kept = environ;  // as sd_listen_fds unsets them: for no child to take the sockets
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view variable = *entry;
        if (!variable.starts_with("LISTEN_PID=") && !variable.starts_with("LISTEN_FDS=") &&
            !variable.starts_with("LISTEN_FDNAMES="))
            *kept++ = *entry;
    }
    *kept = nullptr;
    config.listen_count = std::uint8_t(fds);
    for (int a = 0; a < int(fds); ++a) {
        const int fd = 3 + a;  // SD_LISTEN_FDS_START
        // The raw call: musl's fcntl wrapper (0.4 KiB) leaves once the epoll engine's goes too.
        if (syscall(SYS_fcntl, fd, F_SETFD, FD_CLOEXEC) != 0)
            die(1, "LISTEN_FDS: a passed fd is not open");
        ListenAddress& address = config.listen[a];
        const ListenAddress bound = socket_address(fd, false);
        // Checked as sd_is_socket does: a closed fd 3 would have become one of ours (the
        // signalfd), and serving that, or a UDP or Unix socket, would spin or refuse every call.
        if ((bound.family != AF_INET && bound.family != AF_INET6) || !is_listening_stream(fd)) {
            char why[96];
            die(1, Text{why}
                       .add("LISTEN_FDS: fd ")
                       .add(std::uint64_t(fd))
                       .add(" is not a listening TCP socket")
                       .c_str());
        }
        address.family = bound.family;
        std::memcpy(address.address, bound.address, sizeof address.address);
        address.port = bound.port;
        for (std::uint32_t t = 0; t < thread_count; ++t) {
            threads[t].setup.listen_fds[a] =
                t == 0 ? fd : int(syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3));
            threads[t].setup.listen_count = std::uint8_t(a + 1);
        }
    }
    return true;
}

// --user: bind first (ports below 1024 need root), then become that user and group; never go
// on as root when another user was asked for. NAME needs /etc/passwd; UID[:GID] needs nothing.
// The raw system calls, which change only the calling thread: no engine thread exists yet, so
// every one to come inherits the new ids. (The C library's setuid signals every thread to do
// the same, which costs musl's whole __synccall machinery: 2.4 KiB of the static binary.)
void drop_privileges(std::string_view user) {
    if (user.empty()) return;
    char why[256];
    Text text{why};
    text.add("--user ").add(user).add(": ");
    std::optional<UserIds> ids = parse_numeric_user(user);
    if (!ids) {
        const UserLookup found = find_user(passwd_path, user);
        if (found.error != 0) {
            text.add(passwd_path).add(": ").add_errno(found.error).add("; give UID[:GID] instead");
            die(2, text.c_str());
        }
        if (!found.ids)
            die(2, text.add("no such user in ").add(passwd_path).add("; give UID[:GID]").c_str());
        ids = found.ids;
    }
    const std::uint32_t uid = ids->uid;
    const std::uint32_t gid = ids->gid;
    if (syscall(SYS_setgroups, 0L, nullptr) != 0 && errno != EPERM)
        die(1, "--user: setgroups failed");
    if (syscall(SYS_setgid, long(gid)) != 0 || syscall(SYS_setuid, long(uid)) != 0) {
        text.add("setgid/setuid: ").add(errno_name(errno)).add(" (only root can change user)");
        die(1, text.c_str());
    }
    if (uid != 0 && (getuid() == 0 || geteuid() == 0 || getegid() == 0)) {
        die(1, "--user: still root after dropping privileges; refusing to run");
    }
}

// --sandbox: once every thread has reported its start-up over, the allow-list of the engines
// that run, on every thread. What it says goes on the start-up line.
const char* seal(const Config& config, int ready_fd, std::uint32_t thread_count) {
    std::uint32_t engines = 0;
    for (std::uint32_t reported = 0; reported < thread_count;) {
        char ready = 0;
        if (read(ready_fd, &ready, 1) != 1) continue;  // EINTR; a thread never fails to report
        ++reported;
        if (ready == char(Ready::uring)) engines |= sandbox_engine::uring;
        if (ready == char(Ready::epoll)) engines |= sandbox_engine::epoll;
    }
    if (!config.sandbox) return "sandbox off";
    char why[192];
    if (install_sandbox(engines, why, sizeof why) == 0) return "sandbox on";
    complain(why);
    return "sandbox off (refused)";
}

void announce(const Config& config, std::uint32_t thread_count, const std::uint16_t* cpus,
              std::uint32_t cpu_count, const char* engine, const char* sandbox) {
    char buffer[1536];
    Text line{buffer};
    line.add("uring-okay " UO_VERSION ": listening on ");
    for (std::uint32_t a = 0; a < config.listen_count; ++a)
        add_endpoint(line.add(a ? ", " : ""), config.listen[a]);
    line.add(", ")
        .add(thread_count)
        .add(thread_count == 1 ? " thread" : " threads")
        .add(" on CPU ");
    for (std::uint32_t i = 0; i < thread_count && i < cpu_count; ++i)
        line.add(i ? "," : "").add(cpus[i]);
    line.add(", engine ").add(engine).add(", ").add(sandbox).push('\n');
    write_all(STDERR_FILENO, line.view());
}

// Signals arrive on a signalfd. Blocked and handled, they reach us even as PID 1 (where
// the kernel drops signals with the default action). SIGPIPE is blocked too, and never read:
// a write to a closed stderr then fails with EPIPE instead of killing us (sends pass
// MSG_NOSIGNAL). Blocking needs no handler, so musl's sigaction stays out of the binary.
// The raw calls take the kernel's 64-bit set, which spares musl's set helpers, pthread_sigmask
// and signalfd (0.3 KiB); no thread exists yet, so blocking here blocks in every one to come.
int block_signals() {
    static_assert(_NSIG - 1 == 64, "the kernel's signal set is one 64-bit word here");
    const auto bit = [](int signal) { return std::uint64_t{1} << (signal - 1); };
    const std::uint64_t handled = bit(SIGTERM) | bit(SIGINT);
    const std::uint64_t blocked = handled | bit(SIGPIPE);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &blocked, nullptr, sizeof blocked);
    return int(syscall(SYS_signalfd4, -1, &handled, sizeof handled, SFD_CLOEXEC));
}

// --ready-when: the engines answer the --ready-path 503 while this is true.
std::atomic<bool> not_ready{false};

// Every condition, now; once all hold together the server is ready for good, and the checks
// (and their wake-ups) stop.
void check_readiness(const Config& config) {
    constexpr std::uint32_t connect_timeout_ms = 1'000;
    const std::uint32_t timeout_ms = config.limits.ready_check_ms < connect_timeout_ms
                                         ? config.limits.ready_check_ms
                                         : connect_timeout_ms;
    for (std::uint8_t i = 0; i < config.ready_count; ++i) {
        if (!ready_condition_holds(config.ready_when[i], timeout_ms)) return;
    }
    not_ready.store(false);
    if (!config.quiet) complain("ready: every --ready-when condition holds");
}

// Wait for a signal, ask every thread to drain, wait for them; a second signal ends at once.
// Until ready, the --ready-when conditions are checked between the waits.
void wait_and_drain(const Config& config, int signal_fd, int done_fd, Thread* threads,
                    std::uint32_t count) {
    std::uint32_t done = 0;
    int signals = 0;
    while (done < count) {
        pollfd fds[2] = {{signal_fd, POLLIN, 0}, {done_fd, POLLIN, 0}};
        const bool waiting = not_ready.load() && signals == 0;
        const int timeout_ms = waiting ? int(config.limits.ready_check_ms) : -1;
        const int ready = poll(fds, 2, timeout_ms);
        if (ready == 0 && waiting) check_readiness(config);
        if (ready <= 0) continue;
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            if (read(signal_fd, &info, sizeof info) != sizeof info) continue;
            if (++signals > 1) die(1, "second signal: exiting without draining");
            for (std::uint32_t i = 0; i < count; ++i) post(threads[i].setup.wake_fd);
        }
        if (fds[1].revents & POLLIN) {
            std::uint64_t finished = 0;
            if (read(done_fd, &finished, sizeof finished) == sizeof finished) done += finished;
        }
    }
}

// One line on exit: what was served, what it cost, and how close the busiest thread came to a
// whole CPU (near 100 %: the server was the bottleneck; far below: the load generator was).
void summarize(const Config& config, const Thread* threads, std::uint32_t count,
               std::uint64_t started_ms) {
    if (config.quiet) return;
    std::uint64_t requests = 0;
    std::uint64_t cpu_ns = 0;
    std::uint64_t busiest_ns = 0;
    for (std::uint32_t i = 0; i < count; ++i) {
        const Counters& counters = *threads[i].setup.counters;
        requests += counters.requests.get();
        cpu_ns += counters.cpu_ns.get();
        if (counters.cpu_ns.get() > busiest_ns) busiest_ns = counters.cpu_ns.get();
    }
    const std::uint64_t wall_ms = monotonic_ms() - started_ms;
    // Rounded to the decimal shown: hundredths of a microsecond, tenths of a percent.
    const std::uint64_t cpu_centi_us = requests ? (cpu_ns + 5 * requests) / (10 * requests) : 0;
    const std::uint64_t busy_permille =
        wall_ms ? (busiest_ns + 500 * wall_ms) / (1000 * wall_ms) : 0;
    char line[192];
    complain(Text{line}
                 .add("drained: ")
                 .add(requests)
                 .add(" requests, ")
                 .add_fixed(cpu_centi_us, 2)
                 .add(" CPU-us per request, busiest thread ")
                 .add_fixed(busy_permille, 1)
                 .add("% busy")
                 .c_str());
}

// io_uring unless refused or --engine epoll; `engine` says which for the start-up line.
UringProbe choose_engine(const Config& config, char (&engine)[320]) {
    UringProbe probe;
    if (config.engine != EngineChoice::epoll) {
        probe = probe_uring(config.disabled_features);
        if (!probe.usable && config.engine == EngineChoice::uring) die(1, probe.why);
    }
    char features[200] = "";
    if (probe.usable) describe_uring_features(probe.features_off, features, sizeof features);
    Text{engine}
        .add(probe.usable ? "io_uring (" : "epoll (")
        .add(probe.usable                           ? features
             : config.engine == EngineChoice::epoll ? "--engine epoll"
                                                    : probe.why)
        .push(')');
    return probe;
}

int serve(Config& config) {
    const std::uint64_t started_ms = monotonic_ms();
    static std::uint16_t cpus[cpus_max];
    const std::uint32_t cpu_count = choose_cpus(config, cpus);
    if (cpu_count == 0) die(1, "sched_getaffinity: no CPU to run on");
    const std::uint32_t thread_count = config.threads ? config.threads : cpu_count;

    char engine[320];
    const UringProbe probe = choose_engine(config, engine);

    not_ready.store(config.ready_count > 0);
    config.routes.not_ready = &not_ready;
    const int signal_fd = block_signals();
    // Made by the C library's eventfd and pipe2, not raw calls: ThreadSanitizer learns from
    // those calls that a post or a byte on them orders the threads.
    const int done_fd = eventfd(0, EFD_CLOEXEC);  // read by poll() here: never by a ring
    int ready_fds[2] = {-1, -1};                  // report_ready's pipe: one byte per thread
    auto* threads = static_cast<Thread*>(std::calloc(thread_count, sizeof(Thread)));
    auto* counters = static_cast<Counters*>(std::aligned_alloc(64, thread_count * sizeof(Counters)));
    if (signal_fd < 0 || done_fd < 0 || pipe2(ready_fds, O_CLOEXEC) != 0 || threads == nullptr ||
        counters == nullptr) {
        die(1, "start-up: out of memory or file descriptors");
    }
    int log_wake_fd = -1;
    AccessLog* logs = make_access_logs(config, thread_count, log_wake_fd);
    for (std::uint32_t i = 0; i < thread_count; ++i) {
        new (&threads[i]) Thread{};
        new (&counters[i]) Counters{};
        if (logs != nullptr) threads[i].setup.access_log = &logs[i];
        threads[i].setup.config = &config;
        threads[i].setup.thread_index = i;
        threads[i].setup.counters = &counters[i];
        threads[i].setup.all_counters = {counters, thread_count};
        threads[i].setup.wake_fd = eventfd(0, EFD_CLOEXEC);
        threads[i].setup.ready_fd = ready_fds[1];
        threads[i].done_fd = done_fd;
        threads[i].uring = probe.usable;
        threads[i].features_off = probe.features_off;
        if (threads[i].setup.wake_fd < 0) die(1, "eventfd: out of file descriptors");
    }
    if (!take_activated_listeners(config, threads, thread_count)) {
        open_listeners(config, threads, thread_count);
    }
    drop_privileges(config.user);

    start_threads(threads, thread_count, cpus, cpu_count);
    LogWriter writer{logs, thread_count, log_wake_fd};
    if (logs != nullptr && pthread_create(&writer.handle, nullptr, run_log_writer, &writer) != 0) {
        die(1, "pthread_create: cannot start the access log's writer");
    }
    // Once every engine thread serves: whoever reads this line finds the whole server up.
    const char* sandbox = seal(config, ready_fds[0], thread_count);
    if (!config.quiet) announce(config, thread_count, cpus, cpu_count, engine, sandbox);
    if (not_ready.load()) check_readiness(config);
    wait_and_drain(config, signal_fd, done_fd, threads, thread_count);
    // Joined, though done_fd counted them out: pthread_join costs 0.7 KiB of the static binary,
    // but a thread never joined nor detached is a leak to ThreadSanitizer, and a detached one
    // could end before start_threads pins it through its handle.
    for (std::uint32_t i = 0; i < thread_count; ++i) pthread_join(threads[i].handle, nullptr);
    if (logs != nullptr) {  // every engine published its last lines: write them, then stop
        writer.stop.store(true);
        post(log_wake_fd);
        pthread_join(writer.handle, nullptr);
    }
    // Open until now: an epoll engine failing after it served reports again (run_thread), into
    // a pipe nobody reads rather than into an fd number a connection took since.
    close(ready_fds[0]);
    close(ready_fds[1]);
    summarize(config, threads, thread_count, started_ms);
    for (std::uint32_t i = 0; logs != nullptr && i < thread_count; ++i) logs[i].~AccessLog();
    std::free(logs);
    std::free(counters);
    std::free(threads);
    return 0;
}

}  // namespace
}  // namespace uring_okay

int main(int argc, char** argv) {
    using namespace uring_okay;
    // `uring-okay healthcheck [FLAGS]` (or --check): probe the server these flags describe.
    if (argc > 1 &&
        (std::strcmp(argv[1], "healthcheck") == 0 || std::strcmp(argv[1], "--check") == 0)) {
        return run_healthcheck(argc - 1, argv + 1, environ);
    }
    Config config;  // on main's stack, which outlives every thread: no static guard to link
    const ParseResult parsed = parse_config(argc, argv, environ, config);
    switch (parsed.outcome) {
        case ParseOutcome::help: write_help(STDOUT_FILENO); return 0;
        case ParseOutcome::version:
            write_all(STDOUT_FILENO, "uring-okay " UO_VERSION "\n");
            return 0;
        case ParseOutcome::usage_error: die(2, parsed.message);
        case ParseOutcome::run: break;
    }
    return serve(config);
}
