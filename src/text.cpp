// Text, write_all and the errno names (text.hpp): what snprintf and stdio did for our messages,
// in a few hundred bytes.
#include "uring_okay/text.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace uring_okay {

Text& Text::add(std::string_view text) noexcept {
    const std::size_t bytes = text.size() < room_ - bytes_ ? text.size() : room_ - bytes_;
    std::memcpy(data_ + bytes_, text.data(), bytes);
    bytes_ += bytes;
    data_[bytes_] = '\0';
    return *this;
}

Text& Text::add(std::uint64_t number) noexcept {
    char digits[20];
    const char* end = std::to_chars(digits, digits + sizeof digits, number).ptr;
    return add(std::string_view(digits, std::size_t(end - digits)));
}

Text& Text::add_hex(std::uint64_t number) noexcept {
    char digits[16];
    const char* end = std::to_chars(digits, digits + sizeof digits, number, 16).ptr;
    return add(std::string_view(digits, std::size_t(end - digits)));
}

Text& Text::add_fixed(std::uint64_t number, unsigned decimals) noexcept {
    std::uint64_t scale = 1;
    for (unsigned i = 0; i < decimals; ++i) scale *= 10;
    add(number / scale);
    if (decimals == 0) return *this;
    push('.');
    std::uint64_t rest = number % scale;
    for (scale /= 10; scale > 0; scale /= 10) {  // leading zeros included: 5, 2 is "0.05"
        push(char('0' + rest / scale));
        rest %= scale;
    }
    return *this;
}

void write_all(int fd, std::string_view bytes) noexcept {
    while (!bytes.empty()) {
        const ssize_t n = write(fd, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        bytes.remove_prefix(std::size_t(n));
    }
}

namespace {

struct KnownErrno {
    int number;
    const char* name;
};
// The errors start-up reports: open and read (--body-file), socket, bind and listen, io_uring
// set-up, setuid; the healthcheck's connect and send.
constexpr KnownErrno known_errnos[] = {
    {EPERM, "EPERM"},
    {ENOENT, "ENOENT"},
    {EIO, "EIO"},
    {ENXIO, "ENXIO"},
    {ENOMEM, "ENOMEM"},
    {EACCES, "EACCES"},
    {EFAULT, "EFAULT"},
    {EBUSY, "EBUSY"},
    {ENODEV, "ENODEV"},
    {ENOTDIR, "ENOTDIR"},
    {EISDIR, "EISDIR"},
    {EINVAL, "EINVAL"},
    {ENFILE, "ENFILE"},
    {EMFILE, "EMFILE"},
    {ENAMETOOLONG, "ENAMETOOLONG"},
    {ENOSYS, "ENOSYS"},
    {ELOOP, "ELOOP"},
    {EOVERFLOW, "EOVERFLOW"},
    {EAFNOSUPPORT, "EAFNOSUPPORT"},
    {EADDRINUSE, "EADDRINUSE"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
    {ENETUNREACH, "ENETUNREACH"},
    {ECONNRESET, "ECONNRESET"},
    {ENOBUFS, "ENOBUFS"},
    {EOPNOTSUPP, "EOPNOTSUPP"},
    {ETIMEDOUT, "ETIMEDOUT"},
    {ECONNREFUSED, "ECONNREFUSED"},
    {EHOSTUNREACH, "EHOSTUNREACH"},
    {EPIPE, "EPIPE"},
};

[[nodiscard]] const KnownErrno* find_errno(int error) noexcept {
    for (const KnownErrno& known : known_errnos) {
        if (known.number == error) return &known;
    }
    return nullptr;
}

}  // namespace

const char* errno_name(int error) noexcept {
    const KnownErrno* known = find_errno(error);
    return known != nullptr ? known->name : "errno";
}

}  // namespace uring_okay
