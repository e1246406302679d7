// Where UO_ASSERT lands: one line to stderr, then abort. A single writev(2) and no stdio or
// allocation, so it still works in whatever state the bug left the process.
#include "uring_okay/assert.hpp"

#include <sys/uio.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>

namespace uring_okay {

void assert_failed(const char* file, int line, const char* condition) noexcept {
    char digits[12];
    const auto result = std::to_chars(digits, digits + sizeof digits, line);
    char prefix[] = "uring-okay: assertion failed: ";
    char colon[] = ":";
    char colon_space[] = ": ";
    char newline[] = "\n";
    iovec parts[] = {
        {prefix, sizeof prefix - 1},
        {const_cast<char*>(file), std::strlen(file)},
        {colon, 1},
        {digits, std::size_t(result.ptr - digits)},
        {colon_space, 2},
        {const_cast<char*>(condition), std::strlen(condition)},
        {newline, 1},
    };
    [[maybe_unused]] const ssize_t written = writev(STDERR_FILENO, parts, 7);  // nothing to retry
    std::abort();
}

}  // namespace uring_okay
