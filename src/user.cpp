// --user's lookup (user.hpp): digits parsed where they stand, names found in /etc/passwd one
// line at a time through a fixed buffer. Only open and read; the caller changes user.
#include "uring_okay/user.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "uring_okay/text.hpp"

namespace uring_okay {
namespace {

// A whole decimal number below 2^32 - 1 (setuid's "no change"), and nothing else.
[[nodiscard]] std::optional<std::uint32_t> parse_id(std::string_view text) noexcept {
    std::size_t digits = 0;
    const std::uint64_t id = leading_decimal(text, digits);
    if (text.empty() || digits != text.size() || id >= ~std::uint32_t{0}) return std::nullopt;
    return std::uint32_t(id);
}

// The text up to the next ':' (or the end), and `rest` moved past it.
[[nodiscard]] std::string_view next_field(std::string_view& rest) noexcept {
    const std::size_t colon = rest.find(':');
    const std::string_view field = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
    return field;
}

}  // namespace

std::optional<UserIds> parse_numeric_user(std::string_view text) noexcept {
    const std::size_t colon = text.find(':');
    const std::optional<std::uint32_t> uid = parse_id(text.substr(0, colon));
    if (!uid) return std::nullopt;
    if (colon == std::string_view::npos) return UserIds{*uid, *uid};
    const std::optional<std::uint32_t> gid = parse_id(text.substr(colon + 1));
    if (!gid) return std::nullopt;
    return UserIds{*uid, *gid};
}

std::optional<UserIds> match_passwd_line(std::string_view line, std::string_view name) noexcept {
    std::string_view rest = line;
    if (name.empty() || next_field(rest) != name || rest.data() == nullptr) return std::nullopt;
    (void)next_field(rest);  // the password, "x" where shadow holds it
    const std::optional<std::uint32_t> uid = parse_id(next_field(rest));
    const std::optional<std::uint32_t> gid = parse_id(next_field(rest));
    if (!uid || !gid) return std::nullopt;
    return UserIds{*uid, *gid};
}

UserLookup find_user(const char* path, std::string_view name) noexcept {
    UserLookup found;
    // The raw openat: musl's open wrapper (0.2 KiB) leaves once --body-file's goes the same way.
    const int fd = int(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
    if (fd < 0) {
        found.error = errno;
        return found;
    }
    char buffer[passwd_line_bytes_max];
    std::size_t used = 0;
    bool skipping = false;  // inside a line longer than the buffer
    for (;;) {
        const ssize_t got = read(fd, buffer + used, sizeof buffer - used);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            found.error = errno;
            break;
        }
        used += std::size_t(got);
        std::string_view lines{buffer, used};
        for (std::size_t newline; (newline = lines.find('\n')) != std::string_view::npos;) {
            if (!skipping) found.ids = match_passwd_line(lines.substr(0, newline), name);
            if (found.ids) break;
            skipping = false;
            lines.remove_prefix(newline + 1);
        }
        if (found.ids) break;
        if (got == 0) {  // the end: a last line without its newline still counts
            if (!skipping) found.ids = match_passwd_line(lines, name);
            break;
        }
        if (lines.size() == sizeof buffer) {  // a line past the buffer: drop it to its end
            skipping = true;
            lines = {};
        }
        if (!lines.empty()) std::memmove(buffer, lines.data(), lines.size());
        used = lines.size();
    }
    close(fd);
    return found;
}

}  // namespace uring_okay
