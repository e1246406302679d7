// --user's value into the ids to run as: UID[:GID] in digits needs no file; a name is looked up
// in /etc/passwd by a small parser of our own (getpwnam would pull musl's stdio and NSS-less
// passwd reader, 7 KiB, into the static binary). Bounded: the file streams through one fixed
// buffer, and a line longer than it is skipped. Knows no sockets and never changes user itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace uring_okay {

inline constexpr const char* passwd_path = "/etc/passwd";
// The buffer the file streams through; a line longer than this cannot be matched and is skipped.
inline constexpr std::size_t passwd_line_bytes_max = 1024;

struct UserIds {
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
};

// "65534" (the group is the same number) or "65534:65534"; nullopt for anything else. -1, which
// setuid reads as "leave it", is refused.
[[nodiscard]] std::optional<UserIds> parse_numeric_user(std::string_view text) noexcept;

// One passwd(5) line, "name:password:UID:GID:GECOS:home:shell" without its newline: the ids
// when it names `name` and its UID and GID are numbers; nullopt for any other line.
[[nodiscard]] std::optional<UserIds> match_passwd_line(std::string_view line,
                                                       std::string_view name) noexcept;

struct UserLookup {
    int error = 0;               // an errno from open or read; 0 when the file was read
    std::optional<UserIds> ids;  // the first line naming the user
};
// The first line of the file at `path` that names `name`.
[[nodiscard]] UserLookup find_user(const char* path, std::string_view name) noexcept;

}  // namespace uring_okay
