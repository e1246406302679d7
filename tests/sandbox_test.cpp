// --sandbox: the allow-list refuses what it leaves out (a forked child installs it, for each
// engine's list), a restricted ring refuses opcodes it was not given, and the real binary runs
// every thread under the filter, serves, drains and exits 0, with both engines.
#include "uring_okay/sandbox.hpp"

#include <liburing.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "e2e_support.hpp"
#include "uring_okay/uring_ring.hpp"

namespace {

using e2e::Client;
using e2e::Ms;
using e2e::Server;
using namespace uring_okay;

constexpr std::uint32_t both = sandbox_engine::uring | sandbox_engine::epoll;

// What a child found, one bit per check, for the parent to assert on.
enum Found : int {
    installed = 1 << 0,
    execve_refused = 1 << 1,         // EPERM, and it did not run
    write_allowed = 1 << 2,          // to a pipe made before
    unix_socket_refused = 1 << 3,    // socket(AF_UNIX): only the probes' inet families
    inet_socket_allowed = 1 << 4,    // what a tcp readiness probe needs
    exec_mapping_refused = 1 << 5,   // mmap(PROT_EXEC)
    plain_mapping_allowed = 1 << 6,  // mmap(PROT_READ | PROT_WRITE)
    kill_other_refused = 1 << 7,     // kill(another process)
    kill_self_allowed = 1 << 8,      // kill(ourselves): abort() still aborts
};
constexpr int all_found = (1 << 9) - 1;

int check_in_child(std::uint32_t engines) {
    int found = 0;
    int pipe_fds[2] = {-1, -1};  // made before: creating fds is start-up's business
    if (pipe(pipe_fds) != 0) return 0;
    const pid_t parent = getppid();  // getppid is not on the list either
    char why[192];
    if (install_sandbox(engines, why, sizeof why) == 0) found |= installed;
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    if (execve("/bin/true", argv, environ) < 0 && errno == EPERM) found |= execve_refused;
    if (write(pipe_fds[1], "x", 1) == 1) found |= write_allowed;
    if (socket(AF_UNIX, SOCK_STREAM, 0) < 0 && errno == EPERM) found |= unix_socket_refused;
    if (const int fd = socket(AF_INET, SOCK_STREAM, 0); fd >= 0) {
        found |= inet_socket_allowed;
        close(fd);
    }
    const int exec = PROT_READ | PROT_EXEC;
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS;
    if (mmap(nullptr, 4096, exec, flags, -1, 0) == MAP_FAILED && errno == EPERM) {
        found |= exec_mapping_refused;
    }
    if (mmap(nullptr, 4096, PROT_READ | PROT_WRITE, flags, -1, 0) != MAP_FAILED) {
        found |= plain_mapping_allowed;
    }
    if (kill(parent, 0) < 0 && errno == EPERM) found |= kill_other_refused;
    if (kill(getpid(), 0) == 0) found |= kill_self_allowed;
    return found;
}

// The child's findings (over a pipe: more bits than an exit status holds), or -1 when it did
// not exit 0 (killed by a refused call).
int found_in_child(std::uint32_t engines) {
    int report[2];
    if (pipe(report) != 0) return -1;
    const pid_t pid = fork();
    if (pid == 0) {
        const int found = check_in_child(engines);
        _exit(write(report[1], &found, sizeof found) == sizeof found ? 0 : 1);
    }
    close(report[1]);
    int found = -1;
    int status = 0;
    const bool exited =
        pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!exited || read(report[0], &found, sizeof found) != sizeof found) found = -1;
    close(report[0]);
    return found;
}

TEST(Sandbox, EveryListRefusesWhatItLeavesOutAndAllowsWhatItHas) {
    if (!sandbox_supported()) GTEST_SKIP() << "no system call numbers for this architecture";
    for (const std::uint32_t engines : {sandbox_engine::uring, sandbox_engine::epoll, both}) {
        EXPECT_EQ(found_in_child(engines), all_found) << "engines " << engines;
    }
}

TEST(Sandbox, ProgramFitsTheKernelsCeiling) {
    if (!sandbox_supported()) GTEST_SKIP() << "no system call numbers for this architecture";
    EXPECT_LE(sandbox_program_size(both), 512u);  // program_max; BPF_MAXINSNS is 4096
    EXPECT_LT(sandbox_program_size(sandbox_engine::uring), sandbox_program_size(both));
}

// --- The ring restricts itself -----------------------------------------------------------------

// The io_uring engine's restrictions (uring_engine.cpp) are this shape: opcodes, SQE flags, and
// one register op for io_uring_queue_exit.
constexpr io_uring_op allowed_ops[] = {IORING_OP_TIMEOUT, IORING_OP_ASYNC_CANCEL};
constexpr std::uint8_t allowed_register_ops[] = {IORING_UNREGISTER_RING_FDS};
constexpr RingRestrictions restrictions{allowed_ops, IOSQE_IO_HARDLINK, allowed_register_ops};

// The first completion's result after submitting what is prepared.
int first_result(io_uring& ring) {
    if (io_uring_submit_and_wait(&ring, 1) < 0) return 1;
    io_uring_cqe* cqe = nullptr;
    if (io_uring_peek_cqe(&ring, &cqe) != 0) return 1;
    const int result = cqe->res;
    io_uring_cqe_seen(&ring, cqe);
    return result;
}

TEST(RestrictedRing, RefusesOpcodesAndFlagsItWasNotGiven) {
    io_uring ring{};
    std::uint32_t features_off = 0;
    const int setup = setup_ring(ring, 8, features_off, &restrictions);
    if (setup == -EPERM || setup == -ENOSYS) GTEST_SKIP() << "io_uring_setup refused here";
    ASSERT_EQ(setup, 0);
    ASSERT_EQ(enable_ring(ring), 0);

    __kernel_timespec none{0, 0};
    io_uring_prep_timeout(next_sqe(ring), &none, 0, 0);
    EXPECT_EQ(first_result(ring), -ETIME);  // allowed: it ran

    io_uring_prep_nop(next_sqe(ring));
    EXPECT_EQ(first_result(ring), -EACCES);

    io_uring_prep_openat(next_sqe(ring), AT_FDCWD, "/", O_RDONLY, 0);
    EXPECT_EQ(first_result(ring), -EACCES);

    io_uring_sqe* linked = next_sqe(ring);
    io_uring_prep_timeout(linked, &none, 0, 0);
    linked->flags |= IOSQE_IO_LINK;  // not among the flags given
    EXPECT_EQ(first_result(ring), -EACCES);

    // io_uring_register beyond what it was given (here: a probe) is refused too.
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    EXPECT_EQ(probe, nullptr);
    if (probe != nullptr) io_uring_free_probe(probe);
    io_uring_queue_exit(&ring);
}

// --- The real binary ----------------------------------------------------------------------------

// "Seccomp_filters:" of a task's status, or -1 when unreadable.
int filters_of(const std::string& status_path) {
    std::ifstream status(status_path);
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("Seccomp_filters:", 0) == 0) return std::atoi(line.c_str() + 16);
    }
    return -1;
}

// The filter count of each of the server's threads.
std::vector<int> thread_filters(pid_t pid) {
    std::vector<int> filters;
    const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
    for (const auto& task : std::filesystem::directory_iterator(tasks)) {
        filters.push_back(filters_of(task.path().string() + "/status"));
    }
    return filters;
}

bool serves_one(int port) {
    Client client(port);
    if (!client.send_all("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")) return false;
    const e2e::Received got = client.read_until_close(Ms(5'000));
    return got.closed && got.bytes.rfind("HTTP/1.1 200 OK\r\n", 0) == 0;
}

class SandboxE2e : public testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        if (!sandbox_supported()) GTEST_SKIP() << "no system call numbers for this architecture";
        // A harness may run us under a filter of its own (Docker's): the server inherits it.
        inherited_ = filters_of("/proc/self/status");
        if (inherited_ < 0) GTEST_SKIP() << "no Seccomp_filters in /proc/self/status";
    }
    std::unique_ptr<Server> serve(std::vector<std::string> flags) {
        std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--threads",
                                         "2",        "--engine",    GetParam()};
        args.insert(args.end(), flags.begin(), flags.end());
        auto server = std::make_unique<Server>(args);
        EXPECT_TRUE(server->ready()) << server->log();
        return server;
    }
    int inherited_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Engines, SandboxE2e, testing::Values("uring", "epoll"));

// The start-up line comes after the filter is in: every thread has it by then.
TEST_P(SandboxE2e, EveryThreadServesUnderTheFilterThenDrainsAndExits0) {
    const auto server = serve({"--route", "/missing=404", "--delay", "1ms"});
    ASSERT_TRUE(server->ready());
    EXPECT_NE(server->start_line().find(", sandbox on"), std::string::npos) << server->start_line();
    const std::vector<int> filters = thread_filters(server->pid());
    EXPECT_GE(filters.size(), 3u);  // main, two engine threads (and TSan's own thread there)
    for (const int count : filters) EXPECT_EQ(count, inherited_ + 1);
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(serves_one(server->port())) << "connection " << i;
    Client held(server->port());  // open through the drain: answered, then closed
    ASSERT_TRUE(held.send_all("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
    EXPECT_EQ(held.read_responses(1, Ms(5'000)).size(), 1u);
    EXPECT_EQ(server->stop(), 0);
    EXPECT_TRUE(held.read_until_close(Ms(5'000)).closed);
    EXPECT_NE(server->log().find("uring-okay: drained: 21 requests"), std::string::npos)
        << server->log();
}

TEST_P(SandboxE2e, OffInstallsNothing) {
    setenv("URING_OKAY_SANDBOX", "on", 1);  // the flag wins
    const auto server = serve({"--sandbox", "off"});
    unsetenv("URING_OKAY_SANDBOX");
    ASSERT_TRUE(server->ready());
    EXPECT_NE(server->start_line().find(", sandbox off"), std::string::npos)
        << server->start_line();
    for (const int count : thread_filters(server->pid())) EXPECT_EQ(count, inherited_);
    EXPECT_TRUE(serves_one(server->port()));
    EXPECT_EQ(server->stop(), 0);
}

}  // namespace
