// Text, write_all and the errno table (text.hpp): what snprintf, stdio and strerror did for our
// messages, in a few hundred bytes. The meanings are glibc's words, so a message reads the same
// from the dev build and the static one.
#include "uring_okay/text.hpp"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace uring_okay {

Text& Text::add(std::string_view text) noexcept {
    const std::size_t bytes = text.size() < room_ - bytes_ ? text.size() : room_ - bytes_;
    cut_ = cut_ || bytes < text.size();
    std::memcpy(data_ + bytes_, text.data(), bytes);
    bytes_ += bytes;
    data_[bytes_] = '\0';
    return *this;
}

Text& Text::push(char c) noexcept {
    if (bytes_ < room_)
        data_[bytes_++] = c;
    else
        cut_ = true;
    data_[bytes_] = '\0';
    return *this;
}

Text& Text::add(const char* text) noexcept {
    return add(std::string_view(text));
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
    const char* meaning;
};
// The errors start-up reports: open and read (--body-file), socket, bind and listen, io_uring
// set-up, setuid; the healthcheck's connect and send.
constexpr KnownErrno known_errnos[] = {
    {EPERM, "EPERM", "Operation not permitted"},
    {ENOENT, "ENOENT", "No such file or directory"},
    {EIO, "EIO", "Input/output error"},
    {ENXIO, "ENXIO", "No such device or address"},
    {ENOMEM, "ENOMEM", "Cannot allocate memory"},
    {EACCES, "EACCES", "Permission denied"},
    {EFAULT, "EFAULT", "Bad address"},
    {EBUSY, "EBUSY", "Device or resource busy"},
    {ENODEV, "ENODEV", "No such device"},
    {ENOTDIR, "ENOTDIR", "Not a directory"},
    {EISDIR, "EISDIR", "Is a directory"},
    {EINVAL, "EINVAL", "Invalid argument"},
    {ENFILE, "ENFILE", "Too many open files in system"},
    {EMFILE, "EMFILE", "Too many open files"},
    {ENAMETOOLONG, "ENAMETOOLONG", "File name too long"},
    {ENOSYS, "ENOSYS", "Function not implemented"},
    {ELOOP, "ELOOP", "Too many levels of symbolic links"},
    {EOVERFLOW, "EOVERFLOW", "Value too large for defined data type"},
    {EAFNOSUPPORT, "EAFNOSUPPORT", "Address family not supported by protocol"},
    {EADDRINUSE, "EADDRINUSE", "Address already in use"},
    {EADDRNOTAVAIL, "EADDRNOTAVAIL", "Cannot assign requested address"},
    {ENETUNREACH, "ENETUNREACH", "Network is unreachable"},
    {ECONNRESET, "ECONNRESET", "Connection reset by peer"},
    {ENOBUFS, "ENOBUFS", "No buffer space available"},
    {EOPNOTSUPP, "EOPNOTSUPP", "Operation not supported"},
    {ETIMEDOUT, "ETIMEDOUT", "Connection timed out"},
    {ECONNREFUSED, "ECONNREFUSED", "Connection refused"},
    {EHOSTUNREACH, "EHOSTUNREACH", "No route to host"},
    {EPIPE, "EPIPE", "Broken pipe"},
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

const char* errno_meaning(int error) noexcept {
    const KnownErrno* known = find_errno(error);
    return known != nullptr ? known->meaning : "";
}

Text& Text::add_errno(int error) noexcept {
    const KnownErrno* known = find_errno(error);
    if (known == nullptr) return add("errno ").add(std::uint64_t(error));
    return add(known->name).add(" (").add(known->meaning).push(')');
}

}  // namespace uring_okay
