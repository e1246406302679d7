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
    std::size_t first = sizeof digits;  // written from the last digit back
    do {
        digits[--first] = "0123456789abcdef"[number & 15];
        number >>= 4;
    } while (number != 0);
    return add(std::string_view(digits + first, sizeof digits - first));
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

std::uint64_t leading_decimal(std::string_view text, std::size_t& digits) noexcept {
    std::uint64_t number = 0;
    for (digits = 0; digits < text.size() && text[digits] >= '0' && text[digits] <= '9'; ++digits) {
        const unsigned digit = unsigned(text[digits] - '0');
        number =
            number > (~std::uint64_t{0} - digit) / 10 ? ~std::uint64_t{0} : number * 10 + digit;
    }
    return number;
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

// The errors start-up reports: open and read (--body-file), socket, bind and listen, io_uring
// set-up, setuid; the healthcheck's connect and send. One line each; they become a byte per
// number and one string of "NAME\0meaning\0" pairs in the same order, with no pointers (a
// table of two pointers and an int per errno weighed 696 bytes beside the words).
#define UO_KNOWN_ERRNOS(X)                                             \
    X(EPERM, "Operation not permitted")                                \
    X(ENOENT, "No such file or directory")                             \
    X(EIO, "Input/output error")                                       \
    X(ENXIO, "No such device or address")                              \
    X(ENOMEM, "Cannot allocate memory")                                \
    X(EACCES, "Permission denied")                                     \
    X(EFAULT, "Bad address")                                           \
    X(EBUSY, "Device or resource busy")                                \
    X(ENODEV, "No such device")                                        \
    X(ENOTDIR, "Not a directory")                                      \
    X(EISDIR, "Is a directory")                                        \
    X(EINVAL, "Invalid argument")                                      \
    X(ENFILE, "Too many open files in system")                         \
    X(EMFILE, "Too many open files")                                   \
    X(ENAMETOOLONG, "File name too long")                              \
    X(ENOSYS, "Function not implemented")                              \
    X(ELOOP, "Too many levels of symbolic links")                      \
    X(EOVERFLOW, "Value too large for defined data type")              \
    X(EAFNOSUPPORT, "Address family not supported by protocol")        \
    X(EADDRINUSE, "Address already in use")                            \
    X(EADDRNOTAVAIL, "Cannot assign requested address")                \
    X(ENETUNREACH, "Network is unreachable")                           \
    X(ECONNRESET, "Connection reset by peer")                          \
    X(ENOBUFS, "No buffer space available")                            \
    X(EOPNOTSUPP, "Operation not supported")                           \
    X(ETIMEDOUT, "Connection timed out")                               \
    X(ECONNREFUSED, "Connection refused")                              \
    X(EHOSTUNREACH, "No route to host")                                \
    X(EPIPE, "Broken pipe")

#define UO_ERRNO_NUMBER(number, meaning) number,
#define UO_ERRNO_WORDS(number, meaning) #number "\0" meaning "\0"
constexpr unsigned char known_numbers[] = {UO_KNOWN_ERRNOS(UO_ERRNO_NUMBER)};
constexpr char known_words[] = UO_KNOWN_ERRNOS(UO_ERRNO_WORDS);
#undef UO_ERRNO_WORDS
#undef UO_ERRNO_NUMBER
#undef UO_KNOWN_ERRNOS

// The name of `error` (its meaning follows the name's NUL), or null for one not in the table.
[[nodiscard]] const char* find_errno(int error) noexcept {
    const char* words = known_words;
    for (const unsigned char number : known_numbers) {
        if (number == error) return words;
        words += std::strlen(words) + 1;  // past the name
        words += std::strlen(words) + 1;  // past the meaning
    }
    return nullptr;
}

// The meaning that follows a name found by find_errno.
[[nodiscard]] const char* meaning_after(const char* name) noexcept {
    return name + std::strlen(name) + 1;
}

}  // namespace

const char* errno_name(int error) noexcept {
    const char* name = find_errno(error);
    return name != nullptr ? name : "errno";
}

const char* errno_meaning(int error) noexcept {
    const char* name = find_errno(error);
    return name != nullptr ? meaning_after(name) : "";
}

Text& Text::add_errno(int error) noexcept {
    const char* name = find_errno(error);
    if (name == nullptr) return add("errno ").add(std::uint64_t(error));
    return add(name).add(" (").add(meaning_after(name)).push(')');
}

}  // namespace uring_okay
