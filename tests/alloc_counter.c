/* LD_PRELOAD shim for alloc_test: counts every heap allocation the process makes and, at exit,
 * writes the count to the file named by URING_OKAY_ALLOC_COUNT_FILE. glibc's __libc_* entry
 * points do the real work, so no dlsym bootstrap is needed. */
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void* __libc_malloc(size_t size);
extern void* __libc_calloc(size_t count, size_t size);
extern void* __libc_realloc(void* pointer, size_t size);
extern void* __libc_memalign(size_t alignment, size_t size);

static atomic_ulong allocations;

void* malloc(size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_malloc(size);
}
void* calloc(size_t count, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_calloc(count, size);
}
void* realloc(void* pointer, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_realloc(pointer, size);
}
void* aligned_alloc(size_t alignment, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_memalign(alignment, size);
}
int posix_memalign(void** out, size_t alignment, size_t size) {
    atomic_fetch_add(&allocations, 1);
    *out = __libc_memalign(alignment, size);
    return *out ? 0 : 12; /* ENOMEM */
}

/* Opened before main, written at exit: the server's seccomp sandbox (--sandbox) refuses open(2)
 * after start-up, but write(2) on an fd already open is allowed. */
static int count_fd = -1;

__attribute__((constructor)) static void open_count_file(void) {
    const char* path = getenv("URING_OKAY_ALLOC_COUNT_FILE");
    if (path != NULL) count_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

__attribute__((destructor)) static void report(void) {
    if (count_fd < 0) return;
    char line[32];
    const int length = snprintf(line, sizeof line, "%lu\n", atomic_load(&allocations));
    if (write(count_fd, line, (size_t)length) != length) { /* the test reads nothing: it fails */ }
    close(count_fd);
}
