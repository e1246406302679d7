// --user's lookup: UID[:GID] in digits, passwd(5) lines, and the file read through its fixed
// buffer (malformed lines, lines past the buffer, a last line without a newline, no file).
#include "uring_okay/user.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

using namespace uring_okay;

testing::AssertionResult ids_are(std::optional<UserIds> ids, std::uint32_t uid, std::uint32_t gid) {
    if (!ids) return testing::AssertionFailure() << "no ids";
    if (ids->uid != uid || ids->gid != gid)
        return testing::AssertionFailure() << ids->uid << ":" << ids->gid;
    return testing::AssertionSuccess();
}

TEST(NumericUser, TakesUidOrUidColonGid) {
    EXPECT_TRUE(ids_are(parse_numeric_user("65534"), 65534, 65534));
    EXPECT_TRUE(ids_are(parse_numeric_user("1000:100"), 1000, 100));
    EXPECT_TRUE(ids_are(parse_numeric_user("0"), 0, 0));
    EXPECT_TRUE(ids_are(parse_numeric_user("4294967294:1"), 4294967294u, 1));
    for (const std::string_view name :
         {"", "nobody", "65534:", ":65534", "1:2:3", "-1", "+1", "1 ", "4294967295", "1:4294967295",
          "99999999999", "12ab", "0x10"}) {
        EXPECT_EQ(parse_numeric_user(name).has_value(), false) << name;
    }
}

TEST(PasswdLine, MatchesTheNameAndReadsItsIds) {
    const std::string_view line = "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";
    EXPECT_TRUE(ids_are(match_passwd_line(line, "nobody"), 65534, 65534));
    EXPECT_TRUE(ids_are(match_passwd_line("app::1000:100", "app"), 1000, 100));  // fields may end
    EXPECT_FALSE(match_passwd_line(line, "nobod"));
    EXPECT_FALSE(match_passwd_line(line, "nobody:x"));
    EXPECT_FALSE(match_passwd_line(line, ""));
}

TEST(PasswdLine, RefusesMalformedLines) {
    for (const std::string_view line :
         {"app", "app:", "app:x", "app:x:1000", "app:x::100:", "app:x:1000::", "app:x:ten:100:",
          "app:x:1000:-1:", "app:x:4294967295:1:", "app:x:99999999999:1:", "app:x: 1000:100:", "",
          ":x:1:1:"}) {
        EXPECT_FALSE(match_passwd_line(line, "app")) << line;
    }
}

class PasswdFile : public testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/uring-okay-passwd-XXXXXX";
        const int fd = mkstemp(pattern);
        ASSERT_GE(fd, 0);
        close(fd);
        path_ = pattern;
    }
    void TearDown() override { std::remove(path_.c_str()); }
    UserLookup find(const std::string& contents, std::string_view name) {
        std::ofstream(path_, std::ios::binary | std::ios::trunc) << contents;
        return find_user(path_.c_str(), name);
    }
    std::string path_;
};

TEST_F(PasswdFile, FindsTheFirstLineNamingTheUser) {
    const std::string contents =
        "root:x:0:0:root:/root:/bin/bash\n"
        "broken line without colons\n"
        "app:x:not-a-number:1:\n"
        "app:x:1000:100:first:/home/app:/bin/sh\n"
        "app:x:2000:200:second:/home/app:/bin/sh\n";
    UserLookup found = find(contents, "app");
    EXPECT_EQ(found.error, 0);
    EXPECT_TRUE(ids_are(found.ids, 1000, 100));
    found = find(contents, "root");
    EXPECT_TRUE(ids_are(found.ids, 0, 0));
    found = find(contents, "nobody");
    EXPECT_EQ(found.error, 0);
    EXPECT_FALSE(found.ids);
}

TEST_F(PasswdFile, ReadsALastLineWithoutItsNewline) {
    EXPECT_TRUE(ids_are(find("a:x:1:1:\nlast:x:7:8:gecos:/:/bin/sh", "last").ids, 7, 8));
    EXPECT_FALSE(find("", "last").ids);
}

// A line longer than the buffer cannot be matched; the lines after it still are, wherever the
// buffer's edge falls.
TEST_F(PasswdFile, SkipsLinesLongerThanTheBuffer) {
    for (const std::size_t long_bytes : {passwd_line_bytes_max - 1, passwd_line_bytes_max,
                                         passwd_line_bytes_max + 1, 3 * passwd_line_bytes_max}) {
        const std::string long_line = "long:x:5:5:" + std::string(long_bytes, 'g');
        const std::string contents = "a:x:1:1:\n" + long_line + "\nafter:x:9:9:\n";
        EXPECT_TRUE(ids_are(find(contents, "after").ids, 9, 9)) << long_bytes;
        // The long line itself matches only while it fits (with its newline) in the buffer.
        const bool fits = long_line.size() < passwd_line_bytes_max;
        EXPECT_EQ(find(contents, "long").ids.has_value(), fits) << long_bytes;
    }
    for (std::size_t pad = 0; pad < 64; ++pad) {  // "target" straddling the buffer's end
        const std::string filler = "f:x:1:1:" + std::string(passwd_line_bytes_max - 40 + pad, 'p');
        EXPECT_TRUE(ids_are(find(filler + "\ntarget:x:3:4:\n", "target").ids, 3, 4)) << pad;
    }
}

TEST_F(PasswdFile, SaysWhyWithoutAFile) {
    const UserLookup found = find_user("/nonexistent/uring-okay/passwd", "app");
    EXPECT_EQ(found.error, ENOENT);
    EXPECT_FALSE(found.ids);
    EXPECT_EQ(find_user("/", "app").error, EISDIR);  // read fails on a directory
}

}  // namespace
