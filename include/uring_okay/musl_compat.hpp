// Force-included (-include) into every C++ file of the static build (tools/musl-toolchain.cmake),
// before any other header. Debian's g++ 12 compiles against musl's C headers with libstdc++'s
// headers, and those were configured for glibc: this header answers each glibc assumption they
// make that shipped code reaches, and nothing else. The normal glibc builds never see it.
//
//   assumption in libstdc++'s headers              answer here
//   os_defines.h tests __GLIBC_PREREQ(2, N)         defined as 0: musl is no glibc
//   gthr-posix.h: weak pthread references           _GLIBCXX_GTHREAD_USE_WEAK 0: in a static
//     (a null one means "no threads")               link a weak reference pulls nothing in
//   c++locale.h: glibc's __locale_t                 musl's locale_t (the same pointer type)
//   pthread_cond_clockwait, pthread_mutex_clocklock,
//     pthread_rwlock_clock*, gets (glibc only)       the c++config.h switches that use them off
//
// One call in src/ is glibc-only too: pthread_attr_setaffinity_np (musl 1.2.3 has
// pthread_setaffinity_np but no attribute form). It is answered below by pinning the thread
// right after pthread_create, from the creating thread.
//
// libstdc++'s out-of-line helpers that header-only code still calls (std::__throw_*, used even
// with -fno-exceptions) are defined in tools/musl_compat.cpp, which the static build links in
// place of libstdc++.a.
#pragma once

#include <features.h>  // glibc's defines __GLIBC__; musl's does not

#if defined(__cplusplus) && !defined(__GLIBC__)

#define __GLIBC_PREREQ(major, minor) 0
#define _GLIBCXX_GTHREAD_USE_WEAK 0

#include <bits/c++config.h>  // libstdc++'s configuration; included once, so we may correct it
#undef _GLIBCXX_USE_PTHREAD_COND_CLOCKWAIT
#undef _GLIBCXX_USE_PTHREAD_MUTEX_CLOCKLOCK
#undef _GLIBCXX_USE_PTHREAD_RWLOCK_CLOCKLOCK
#undef _GLIBCXX_HAVE_GETS

#include <locale.h>
typedef locale_t __locale_t;

#include <pthread.h>
#include <sched.h>

// glibc's pthread_attr_setaffinity_np, for musl: the attribute remembers the set in a slot
// keyed by its address, and pthread_create applies it to the new thread at once. Only the
// creating thread uses the slot (main's start-up loop), so it needs no lock.
namespace uring_okay::musl_compat {
struct PendingAffinity {
    const pthread_attr_t* attributes = nullptr;
    cpu_set_t cpus{};  // zero: constant-initialised, no start-up code in every file
};
inline PendingAffinity pending_affinity;

inline int create_thread(pthread_t* thread, const pthread_attr_t* attributes, void* (*start)(void*),
                         void* argument) {
    const int error = ::pthread_create(thread, attributes, start, argument);
    PendingAffinity& pending = pending_affinity;
    if (error != 0 || attributes == nullptr || pending.attributes != attributes) return error;
    pending.attributes = nullptr;
    return pthread_setaffinity_np(*thread, sizeof pending.cpus, &pending.cpus);
}
}  // namespace uring_okay::musl_compat

inline int pthread_attr_setaffinity_np(pthread_attr_t* attributes, size_t size,
                                       const cpu_set_t* cpus) {
    if (size > sizeof(cpu_set_t)) return 22;  // EINVAL, as glibc answers a set it cannot hold
    uring_okay::musl_compat::PendingAffinity& pending = uring_okay::musl_compat::pending_affinity;
    pending.attributes = attributes;
    CPU_ZERO(&pending.cpus);
    __builtin_memcpy(&pending.cpus, cpus, size);
    return 0;
}
#define pthread_create uring_okay::musl_compat::create_thread

#endif
