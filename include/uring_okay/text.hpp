// Messages without stdio: Text appends to a fixed buffer, write_all sends it to a descriptor, and
// errno values get their names and meanings from a table of the ones we report. snprintf, fprintf
// and strerror would pull musl's printf family (13 KiB) and its message table into the static
// binary. Knows no sockets, flags or rings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uring_okay {

// Appends to a fixed buffer and cuts what does not fit; always NUL-terminated.
class Text {
public:
    Text(char* data, std::size_t capacity) noexcept : data_(data), room_(capacity - 1) {
        data_[0] = '\0';
    }
    template <std::size_t capacity>
    explicit Text(char (&data)[capacity]) noexcept : Text(data, capacity) {}

    Text& push(char c) noexcept;
    Text& add(std::string_view text) noexcept;
    // A C string: the call site passes one pointer (a literal's length is measured here).
    Text& add(const char* text) noexcept;
    Text& add(std::uint64_t number) noexcept;  // decimal
    Text& add_hex(std::uint64_t number) noexcept;  // lowercase, no prefix
    // `number` in units of 10^-decimals, written with that many decimals: 1234, 2 is "12.34".
    Text& add_fixed(std::uint64_t number, unsigned decimals) noexcept;
    // "EACCES (Permission denied)", or "errno 123" for one outside errno_name's table.
    Text& add_errno(int error) noexcept;

    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] std::string_view view() const noexcept { return {data_, bytes_}; }
    [[nodiscard]] const char* c_str() const noexcept { return data_; }
    [[nodiscard]] bool cut() const noexcept { return cut_; }  // something did not fit

private:
    char* data_;
    std::size_t room_;
    std::size_t bytes_ = 0;
    bool cut_ = false;
};

// The decimal number `text` starts with, saturated at UINT64_MAX (more than any caller takes);
// `digits` is how many digits it read, 0 when `text` starts with none. What std::from_chars
// did, written once: each call of from_chars was its own inlined copy.
[[nodiscard]] std::uint64_t leading_decimal(std::string_view text, std::size_t& digits) noexcept;

// All of `bytes`, retried after EINTR and short writes; gives up silently on an error (nobody
// to tell when stderr itself fails).
void write_all(int fd, std::string_view bytes) noexcept;

// "EACCES", or "errno" for one outside the table.
[[nodiscard]] const char* errno_name(int error) noexcept;
// "Permission denied", as glibc's strerror words it, or "" for one outside the table.
[[nodiscard]] const char* errno_meaning(int error) noexcept;

}  // namespace uring_okay
