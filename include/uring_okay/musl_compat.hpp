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

#endif
