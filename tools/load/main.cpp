// uring-okay-load: flags, the target's address and a first connect (so a refused or unreachable
// target fails at once, with its reason), the workers, the clock of the run, the progress line
// and the report. Workers own the sockets; this thread only watches and, at the end, sums.
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "options.hpp"
#include "report.hpp"
#include "worker.hpp"

#ifndef UO_VERSION
#define UO_VERSION "0.0.0"
#endif

namespace uring_okay::load {
namespace {

[[noreturn]] void die(int code, const std::string& message) {
    std::fprintf(stderr, "uring-okay-load: %s\n", message.c_str());
    std::exit(code);
}

const char* connect_hint(int error) {
    switch (error) {
        case ECONNREFUSED:
            return "nothing listens there";
        case ENETUNREACH:
        case EHOSTUNREACH:
            return "unreachable";
        case ETIMEDOUT:
            return "no answer to the connect: unreachable, or dropped by a firewall";
        case EADDRNOTAVAIL:
            return "no local address or port for it";
        default:
            return std::strerror(error);
    }
}

std::string where(const Options& options) {
    return options.host + ":" + std::to_string(options.port);
}

// The target's address; the first getaddrinfo gives (numeric hosts never ask a resolver).
void resolve(const Options& options, Plan& plan) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(options.port);
    if (const int error = getaddrinfo(options.host_lookup.c_str(), port.c_str(), &hints, &found)) {
        die(1, options.host_lookup + ": " + gai_strerror(error));
    }
    std::memcpy(&plan.address, found->ai_addr, found->ai_addrlen);
    plan.address_bytes = found->ai_addrlen;
    freeaddrinfo(found);
}

// One connect before the run, bounded by --timeout: a wrong port or host ends here, at once.
void probe(const Options& options, const Plan& plan) {
    const int fd = socket(plan.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) die(1, std::string("socket: ") + error_name(errno));
    int error = 0;
    if (connect(fd, reinterpret_cast<const sockaddr*>(&plan.address), plan.address_bytes) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
            pollfd entry{fd, POLLOUT, 0};
            const int ready = poll(&entry, 1, int(options.timeout_ns / ms_ns));
            socklen_t size = sizeof error;
            error = 0;
            if (ready <= 0) {
                error = ETIMEDOUT;
            } else {
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
            }
        }
    }
    close(fd);
    if (error != 0) {
        die(1, "connect " + where(options) + ": " + error_name(error) + " (" + connect_hint(error) +
                   ")");
    }
}

// A socket per connection, and a few more: the soft limit goes up to the hard one if needed.
void raise_file_limit(const Options& options) {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    const rlim_t needed = rlim_t(options.connections) + 64;
    if (limit.rlim_cur >= needed) return;
    limit.rlim_cur = limit.rlim_max < needed ? limit.rlim_max : needed;
    (void)setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < needed) {
        die(1, "-c " + std::to_string(options.connections) + ": only " +
                   std::to_string(limit.rlim_max) +
                   " file descriptors allowed (ulimit -Hn); raise it or use fewer connections");
    }
}

std::vector<std::uint16_t> choose_cpus(const Options& options) {
    if (!options.cpus.empty()) return options.cpus;
    std::vector<std::uint16_t> cpus;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) cpus.push_back(std::uint16_t(cpu));
        }
    }
    return cpus;
}

double cpu_seconds(const timeval& time) {
    return double(time.tv_sec) + double(time.tv_usec) / 1e6;
}

struct Run {
    Plan plan;
    Control control;
    std::unique_ptr<Results[]> results;
    std::vector<WorkerSetup> setups;
    std::vector<std::thread> threads;
    std::uint32_t count = 0;

    std::uint64_t sum(std::atomic<std::uint64_t> Results::*field) const {
        std::uint64_t total = 0;
        for (std::uint32_t i = 0; i < count; ++i) {
            total += (results[i].*field).load(std::memory_order_relaxed);
        }
        return total;
    }
    std::string first_error() const {
        for (std::uint32_t i = 0; i < count; ++i) {
            if (results[i].first_error[0] != '\0') return results[i].first_error;
        }
        return {};
    }
};

void start_workers(const Options& options, const std::vector<std::uint16_t>& cpus, Run& run) {
    run.results = std::make_unique<Results[]>(run.count);
    run.setups.resize(run.count);
    std::uint32_t first = 0;
    for (std::uint32_t i = 0; i < run.count; ++i) {
        WorkerSetup& setup = run.setups[i];
        setup.plan = &run.plan;
        setup.control = &run.control;
        setup.results = &run.results[i];
        setup.first_connection = first;
        setup.connection_count =
            options.connections / run.count + (i < options.connections % run.count);
        setup.cpu = cpus.empty() ? -1 : cpus[i % cpus.size()];
        setup.requests = options.requests / run.count + (i < options.requests % run.count);
        first += setup.connection_count;
    }
    for (std::uint32_t i = 0; i < run.count; ++i) {
        run.threads.emplace_back([&run, i] { run_worker(run.setups[i]); });
    }
    while (run.control.ready.load(std::memory_order_acquire) < run.count) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (std::uint32_t i = 0; i < run.count; ++i) {
        if (const int error = run.results[i].setup_error; error < 0) {
            run.control.go.store(true, std::memory_order_release);
            run.control.stop.store(true);
            for (std::thread& thread : run.threads) thread.join();
            const char* hint = -error == EPERM    ? " (seccomp, or kernel.io_uring_disabled)"
                               : -error == ENOMEM ? " (RLIMIT_MEMLOCK too low)"
                               : -error == EINVAL ? " (a kernel before 6.0: multishot recv)"
                                                  : "";
            die(1, std::string("worker start-up: ") + error_name(-error) + hint);
        }
    }
}

// Watches the run: signals, the progress line, and a target that never answers.
struct Watch {
    bool stopped_early = false;
    std::uint64_t stopped_ns = 0;
    std::string gave_up;  // why the run was ended for want of any answer
    rusage cpu_start{};
};

Watch watch(const Options& options, Run& run) {
    Watch watch;
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    const bool progress = options.progress && isatty(STDERR_FILENO);
    bool cpu_started = false;
    std::uint64_t next_progress_ns = run.control.measure_ns + s_ns;
    std::uint64_t last_responses = 0;
    while (run.control.finished.load(std::memory_order_acquire) < run.count) {
        std::uint64_t now = monotonic_ns();
        if (!cpu_started && now >= run.control.measure_ns) {
            getrusage(RUSAGE_SELF, &watch.cpu_start);
            cpu_started = true;
        }
        std::uint64_t wait_ns = 50 * ms_ns;
        if (!cpu_started && run.control.measure_ns - now < wait_ns) {
            wait_ns = run.control.measure_ns - now;
        }
        const timespec wait{time_t(wait_ns / s_ns), long(wait_ns % s_ns)};
        if (sigtimedwait(&signals, nullptr, &wait) > 0 && !watch.stopped_early) {
            watch.stopped_early = true;
            watch.stopped_ns = monotonic_ns();
            run.control.stop.store(true);
        }
        now = monotonic_ns();
        const std::uint64_t responses = run.sum(&Results::progress_responses);
        if (progress && now >= next_progress_ns) {
            std::fprintf(stderr, "uring-okay-load: %.0fs, %llu requests, %llu req/s, %llu errors\n",
                         double(now - run.control.measure_ns) / 1e9, (unsigned long long)responses,
                         (unsigned long long)(responses - last_responses),
                         (unsigned long long)run.sum(&Results::progress_errors));
            last_responses = responses;
            next_progress_ns += s_ns;
        }
        // Not one answer: every connection failed once, or the timeout passed.
        if (watch.gave_up.empty() && run.sum(&Results::progress_answers) == 0) {
            const bool all_failed = run.sum(&Results::progress_errors) >= options.connections;
            const bool too_long = now - run.control.start_ns > options.timeout_ns + s_ns;
            if (all_failed || too_long) {
                watch.gave_up = run.first_error();
                if (watch.gave_up.empty()) {
                    watch.gave_up = "no answer within " + format_ns(double(options.timeout_ns)) +
                                    " (--timeout)";
                }
                run.control.stop.store(true);
            }
        }
    }
    if (!cpu_started) getrusage(RUSAGE_SELF, &watch.cpu_start);
    return watch;
}

int run_load(const Options& options) {
    Request request;
    std::string error;
    if (!build_request(options, request, error)) die(2, error);
    if (request.bytes.size() * options.pipeline > batch_bytes_max) {
        die(2, "--pipeline " + std::to_string(options.pipeline) + ": " +
                   std::to_string(request.bytes.size()) +
                   "-byte requests, that many to a write, are past 16 MiB");
    }
    std::string batch;
    for (std::uint32_t i = 0; i < options.pipeline; ++i) batch += request.bytes;

    raise_file_limit(options);
    Run run;
    resolve(options, run.plan);
    probe(options, run.plan);
    run.plan.options = &options;
    run.plan.batch = batch;
    run.plan.request_bytes = std::uint32_t(request.bytes.size());
    run.plan.head = request.head;
    run.plan.retry = options.retry && request.idempotent;
    run.plan.connections_total = options.connections;
    if (options.rate > 0) run.plan.slot_ns = double(options.pipeline) * 1e9 / options.rate;

    const std::vector<std::uint16_t> cpus = choose_cpus(options);
    run.count = options.threads ? options.threads : std::uint32_t(cpus.empty() ? 1 : cpus.size());
    if (run.count > options.connections) run.count = options.connections;

    // The workers inherit the mask: signals reach this thread only, through sigtimedwait.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    start_workers(options, cpus, run);

    run.control.start_ns = monotonic_ns();
    run.control.measure_ns = run.control.start_ns + options.warmup_ns;
    run.control.end_ns =
        options.requests > 0 ? UINT64_MAX : run.control.measure_ns + options.duration_ns;
    run.control.go.store(true, std::memory_order_release);
    const Watch seen = watch(options, run);
    rusage cpu_end{};
    getrusage(RUSAGE_SELF, &cpu_end);
    for (std::thread& thread : run.threads) thread.join();

    Summary summary;
    summary.options = &options;
    summary.version = UO_VERSION;
    summary.threads = run.count;
    for (std::uint32_t i = 0; i < run.count; ++i) {
        if (run.setups[i].cpu >= 0) summary.cpus.push_back(std::uint16_t(run.setups[i].cpu));
    }
    std::uint64_t finish_ns = 0;
    for (std::uint32_t i = 0; i < run.count; ++i) {
        summary.latency.merge(run.results[i].latency);
        summary.counts.add(run.results[i].counts);
        if (run.results[i].finish_ns > finish_ns) finish_ns = run.results[i].finish_ns;
    }
    std::uint64_t end_ns = run.control.end_ns;
    if (options.requests > 0) end_ns = finish_ns;
    if (seen.stopped_early || !seen.gave_up.empty())
        end_ns = seen.stopped_ns ? seen.stopped_ns : monotonic_ns();
    summary.seconds =
        end_ns > run.control.measure_ns ? double(end_ns - run.control.measure_ns) / 1e9 : 0;
    summary.user_seconds = cpu_seconds(cpu_end.ru_utime) - cpu_seconds(seen.cpu_start.ru_utime);
    summary.system_seconds = cpu_seconds(cpu_end.ru_stime) - cpu_seconds(seen.cpu_start.ru_stime);
    summary.stopped_early = seen.stopped_early;

    if (!seen.gave_up.empty() || summary.counts.responses == 0) {
        const std::string why = !seen.gave_up.empty() ? seen.gave_up : run.first_error();
        die(1, "no answer from " + options.url + (why.empty() ? "" : ": " + why));
    }
    std::fputs(human_report(summary).c_str(), stdout);
    std::fflush(stdout);
    if (!options.json_path.empty()) {
        std::ofstream json(options.json_path, std::ios::trunc);
        json << json_report(summary);
        if (!json) die(1, "--json " + options.json_path + ": cannot write");
    }
    if (options.requests > 0 && summary.counts.responses < options.requests &&
        !seen.stopped_early) {
        const std::string why = run.first_error();
        die(1, "only " + std::to_string(summary.counts.responses) + " of " +
                   std::to_string(options.requests) + " requests were answered" +
                   (why.empty() ? "" : ": " + why));
    }
    return 0;
}

}  // namespace
}  // namespace uring_okay::load

int main(int argc, char** argv) {
    using namespace uring_okay::load;
    const Parsed parsed = parse_options(argc, argv);
    switch (parsed.kind) {
        case Parsed::Kind::help:
            std::fputs(usage().c_str(), stdout);
            return 0;
        case Parsed::Kind::version:
            std::printf("uring-okay-load %s\n", UO_VERSION);
            return 0;
        case Parsed::Kind::error:
            std::fprintf(stderr, "uring-okay-load: %s\n", parsed.error.c_str());
            return 2;
        case Parsed::Kind::run:
            break;
    }
    return run_load(parsed.options);
}
