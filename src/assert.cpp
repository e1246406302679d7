// Where UO_ASSERT lands: one line to stderr, then abort. One write from a buffer on the stack
// and no stdio or allocation, so it still works in whatever state the bug left the process.
#include "uring_okay/assert.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdlib>

#include "uring_okay/text.hpp"

namespace uring_okay {

void assert_failed(const char* file, int line, const char* condition) noexcept {
    char text[512];
    write_all(STDERR_FILENO, Text{text}
                                 .add("uring-okay: assertion failed: ")
                                 .add(file)
                                 .push(':')
                                 .add(std::uint64_t(line))
                                 .add(": ")
                                 .add(condition)
                                 .push('\n')
                                 .view());
    std::abort();
}

}  // namespace uring_okay
