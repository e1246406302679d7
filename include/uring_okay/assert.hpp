// UO_ASSERT: our own bugs only, checked in every build. Input errors are verdicts, kernel
// refusals are -errno; neither ever reaches an assert.
#pragma once

namespace uring_okay {
[[noreturn]] void assert_failed(const char* file, int line, const char* condition) noexcept;
}  // namespace uring_okay

#define UO_ASSERT(condition) \
    ((condition) ? static_cast<void>(0) : ::uring_okay::assert_failed(__FILE__, __LINE__, #condition))
