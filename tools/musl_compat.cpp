// The static build's runtime, linked in place of libstdc++.a and libsupc++.a (the glibc builds
// never compile this file; see tools/musl-toolchain.cmake):
// - what header-only standard library code and g++ still call out of line: the std::__throw_*
//   helpers (reached even with -fno-exceptions), thread-safe static guards, operator new/delete;
// - an allocator in place of musl's. Everything is allocated while threads start and freed at
//   exit (STYLE §5), so one mmap per allocation serves as well as a general allocator and
//   weighs 0.3 KiB instead of mallocng's 9 KiB;
// - abort, without musl's lock, raise and signal blocking (0.7 KiB).
// Each function here that should never run (a throw without exceptions, a pure virtual call)
// says what happened on stderr and aborts, as UO_ASSERT does.
#include <bits/functexcept.h>  // the std::__throw_* declarations
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

namespace {

[[noreturn]] void fail(const char* what) noexcept {
    constexpr char prefix[] = "uring-okay: static runtime: ";
    (void)!write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!write(STDERR_FILENO, what, std::strlen(what));
    (void)!write(STDERR_FILENO, "\n", 1);
    std::abort();
}

// --- The allocator ------------------------------------------------------------------------------

// Just before every pointer handed out: the mapping it lives in, and the size asked for.
struct Header {
    void* base;
    std::size_t length;
    std::size_t size;
};
constexpr std::size_t header_room =
    64;  // bytes before the data: holds a Header, keeps 64-alignment
constexpr std::size_t alignment_max = 4096;  // a page; mmap gives nothing stricter

void* allocate(std::size_t size, std::size_t alignment) noexcept {
    if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment > alignment_max) {
        errno = EINVAL;
        return nullptr;
    }
    const std::size_t offset = alignment > header_room ? alignment : header_room;
    if (size > PTRDIFF_MAX - offset) {
        errno = ENOMEM;
        return nullptr;
    }
    void* base =
        mmap(nullptr, offset + size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) {
        errno = ENOMEM;
        return nullptr;
    }
    char* data = static_cast<char*>(base) + offset;
    *(reinterpret_cast<Header*>(data) - 1) = Header{base, offset + size, size};
    return data;
}

[[nodiscard]] const Header& header_of(const void* data) noexcept {
    return *(reinterpret_cast<const Header*>(data) - 1);
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) {
    return allocate(size, alignof(std::max_align_t));
}

void* calloc(std::size_t count, std::size_t size) {  // fresh anonymous pages are zero
    std::size_t bytes = 0;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return nullptr;
    }
    return allocate(bytes, alignof(std::max_align_t));
}

void* aligned_alloc(std::size_t alignment, std::size_t size) {
    return allocate(size, alignment);
}

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
    if (alignment < sizeof(void*)) return EINVAL;
    void* data = allocate(size, alignment);
    if (data == nullptr) return errno;
    *out = data;
    return 0;
}

void free(void* data) {
    if (data == nullptr) return;
    const Header header = header_of(data);
    munmap(header.base, header.length);
}

void* realloc(void* data, std::size_t size) {
    if (data == nullptr) return malloc(size);
    void* moved = malloc(size);
    if (moved == nullptr) return nullptr;
    const std::size_t old_size = header_of(data).size;
    std::memcpy(moved, data, old_size < size ? old_size : size);
    free(data);
    return moved;
}

// --- What g++ emits calls to --------------------------------------------------------------------

// A function-local static with a dynamic initialiser. Itanium C++ ABI: the guard's first byte
// says "initialised"; we use the second as "being initialised" and wait for it with yields.
int __cxa_guard_acquire(std::uint64_t* guard) {
    auto* bytes = reinterpret_cast<unsigned char*>(guard);
    for (;;) {
        if (__atomic_load_n(&bytes[0], __ATOMIC_ACQUIRE) != 0) return 0;
        unsigned char idle = 0;
        if (__atomic_compare_exchange_n(&bytes[1], &idle, 1, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            return 1;
        }
        sched_yield();
    }
}

void __cxa_guard_release(std::uint64_t* guard) {
    auto* bytes = reinterpret_cast<unsigned char*>(guard);
    __atomic_store_n(&bytes[0], 1, __ATOMIC_RELEASE);
    __atomic_store_n(&bytes[1], 0, __ATOMIC_RELEASE);
}

void __cxa_guard_abort(std::uint64_t* guard) {
    __atomic_store_n(&reinterpret_cast<unsigned char*>(guard)[1], 0, __ATOMIC_RELEASE);
}

// SIGABRT to this thread, as musl's abort raises it. Nothing installs a handler for it or blocks
// it (main blocks SIGTERM, SIGINT and SIGPIPE only), so its default action dumps core; were it
// ever to return, the trap's SIGILL dumps core too.
void abort() {
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGABRT);
    __builtin_trap();
}

void __cxa_pure_virtual() {
    fail("pure virtual function called");
}

}  // extern "C"

// Without exceptions, running out of memory in operator new has nothing to throw: abort.
void* operator new(std::size_t size) {
    void* data = malloc(size ? size : 1);
    if (data == nullptr) fail("operator new: out of memory");
    return data;
}
void* operator new[](std::size_t size) {
    return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    return malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
    return malloc(size ? size : 1);
}
void* operator new(std::size_t size, std::align_val_t alignment) {
    void* data = allocate(size ? size : 1, std::size_t(alignment));
    if (data == nullptr) fail("operator new: out of memory");
    return data;
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
    return operator new(size, alignment);
}
void operator delete(void* data) noexcept {
    free(data);
}
void operator delete[](void* data) noexcept {
    free(data);
}
void operator delete(void* data, std::size_t) noexcept {
    free(data);
}
void operator delete[](void* data, std::size_t) noexcept {
    free(data);
}
void operator delete(void* data, std::align_val_t) noexcept {
    free(data);
}
void operator delete[](void* data, std::align_val_t) noexcept {
    free(data);
}
void operator delete(void* data, std::size_t, std::align_val_t) noexcept {
    free(data);
}
void operator delete[](void* data, std::size_t, std::align_val_t) noexcept {
    free(data);
}

// libstdc++'s throw helpers: header code calls them for a bad index or length even when built
// with -fno-exceptions (std::string_view::substr, std::array::at...). Here they abort.
namespace std {
void __throw_bad_exception() {
    fail("bad exception");
}
void __throw_bad_alloc() {
    fail("bad alloc");
}
void __throw_bad_array_new_length() {
    fail("bad array new length");
}
void __throw_bad_cast() {
    fail("bad cast");
}
void __throw_bad_typeid() {
    fail("bad typeid");
}
void __throw_logic_error(const char* what) {
    fail(what);
}
void __throw_domain_error(const char* what) {
    fail(what);
}
void __throw_invalid_argument(const char* what) {
    fail(what);
}
void __throw_length_error(const char* what) {
    fail(what);
}
void __throw_out_of_range(const char* what) {
    fail(what);
}
void __throw_out_of_range_fmt(const char* what, ...) {
    fail(what);
}
void __throw_runtime_error(const char* what) {
    fail(what);
}
void __throw_range_error(const char* what) {
    fail(what);
}
void __throw_overflow_error(const char* what) {
    fail(what);
}
void __throw_underflow_error(const char* what) {
    fail(what);
}
void __throw_system_error(int) {
    fail("system error");
}
void __throw_bad_function_call() {
    fail("bad function call");
}
}  // namespace std
