// Out: appends text and numbers to a fixed buffer, and remembers when something did not fit.
// For what is rendered on the request path (the metrics page, access log lines): no allocation,
// no printf.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace uring_okay {

// Appends to a fixed buffer; remembers when something did not fit.
class Out {
public:
    Out(char* data, std::size_t room) noexcept : data_(data), room_(room) {}
    Out& add(std::string_view text) noexcept {
        if (text.size() > room_ - bytes_) {
            full_ = true;
            return *this;
        }
        std::memcpy(data_ + bytes_, text.data(), text.size());
        bytes_ += text.size();
        return *this;
    }
    Out& add(std::uint64_t number) noexcept {
        char digits[20];
        std::size_t count = 0;
        do {
            digits[sizeof digits - ++count] = char('0' + number % 10);
            number /= 10;
        } while (number != 0);
        return add(std::string_view{digits + sizeof digits - count, count});
    }
    // Nanoseconds as seconds with microseconds: 1.250000.
    Out& add_seconds(std::uint64_t ns) noexcept {
        const std::uint64_t us = ns / 1000 % 1'000'000;
        char fraction[7] = {'.'};
        for (int i = 6, left = int(us); i > 0; --i, left /= 10) fraction[i] = char('0' + left % 10);
        return add(ns / 1'000'000'000).add(std::string_view{fraction, sizeof fraction});
    }
    [[nodiscard]] std::size_t bytes() const noexcept { return bytes_; }
    [[nodiscard]] bool full() const noexcept { return full_; }

private:
    char* data_;
    std::size_t room_;
    std::size_t bytes_ = 0;
    bool full_ = false;
};

}  // namespace uring_okay
