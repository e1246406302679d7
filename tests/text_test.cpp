// Text, the fixed-buffer writer every message goes through in place of snprintf: what it writes,
// where it cuts, and the errno names and meanings.
#include "uring_okay/text.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace {

using namespace uring_okay;

TEST(Text, WritesTextAndNumbers) {
    char buffer[64];
    Text text{buffer};
    text.add("port ").add(std::uint64_t{8080}).push(' ').add_hex(0xfe80).push(' ').add(
        std::uint64_t{18'446'744'073'709'551'615ull});
    EXPECT_EQ(text.view(), "port 8080 fe80 18446744073709551615");
    EXPECT_STREQ(text.c_str(), "port 8080 fe80 18446744073709551615");
}

TEST(Text, WritesFixedPointWithLeadingZeros) {
    const auto fixed = [](std::uint64_t number, unsigned decimals) {
        char buffer[32];
        return std::string(Text{buffer}.add_fixed(number, decimals).view());
    };
    EXPECT_EQ(fixed(1234, 2), "12.34");
    EXPECT_EQ(fixed(5, 2), "0.05");
    EXPECT_EQ(fixed(0, 1), "0.0");
    EXPECT_EQ(fixed(1000, 1), "100.0");
    EXPECT_EQ(fixed(7, 0), "7");
}

// Cut at the buffer's end, whatever is added after, and NUL-terminated there.
TEST(Text, CutsWhatDoesNotFit) {
    char buffer[8];
    std::memset(buffer, 'x', sizeof buffer);
    Text text{buffer};
    text.add("abcde").add(std::uint64_t{12345}).push('!').add("more");
    EXPECT_EQ(text.view(), "abcde12");
    EXPECT_EQ(text.bytes(), 7u);
    EXPECT_EQ(buffer[7], '\0');
    char one[1];
    Text empty{one};
    empty.add("anything").push('x');
    EXPECT_EQ(empty.bytes(), 0u);
    EXPECT_EQ(one[0], '\0');
}

TEST(Text, ReadsLeadingDecimalsSaturated) {
    std::size_t digits = 9;
    EXPECT_EQ(leading_decimal("", digits), 0u);
    EXPECT_EQ(digits, 0u);
    EXPECT_EQ(leading_decimal("+1", digits), 0u);
    EXPECT_EQ(digits, 0u);
    EXPECT_EQ(leading_decimal("0042ms", digits), 42u);
    EXPECT_EQ(digits, 4u);
    EXPECT_EQ(leading_decimal("18446744073709551615", digits), ~std::uint64_t{0});
    EXPECT_EQ(digits, 20u);
    EXPECT_EQ(leading_decimal("18446744073709551616x", digits), ~std::uint64_t{0});
    EXPECT_EQ(digits, 20u);
    EXPECT_EQ(leading_decimal("99999999999999999999999", digits), ~std::uint64_t{0});
    EXPECT_EQ(digits, 23u);
}

TEST(Errno, NamesWhatWeReportAndNumbersTheRest) {
    EXPECT_STREQ(errno_name(EACCES), "EACCES");
    EXPECT_STREQ(errno_name(EADDRINUSE), "EADDRINUSE");
    EXPECT_STREQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
    EXPECT_STREQ(errno_name(4095), "errno");
}

// strerror's words (glibc's), so the static build's messages read as the dev build's did.
TEST(Errno, SaysWhatItMeans) {
    char buffer[96];
    EXPECT_EQ(Text{buffer}.add_errno(ENOENT).view(), "ENOENT (No such file or directory)");
    EXPECT_EQ(Text{buffer}.add_errno(EACCES).view(), "EACCES (Permission denied)");
    EXPECT_EQ(Text{buffer}.add_errno(4095).view(), "errno 4095");
    for (const int error : {EPERM, ENOENT, EIO, EACCES, EISDIR, EMFILE, ENAMETOOLONG, ELOOP,
                            EADDRINUSE, ECONNREFUSED}) {
        EXPECT_STREQ(errno_meaning(error), std::strerror(error)) << errno_name(error);
    }
}

}  // namespace
