// Tests for response: the exact bytes of every kind in every mode, batches, the Date and its two
// generations, and format_imf_fixdate against the C library's strftime.
#include "uring_okay/response.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <ctime>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace uring_okay {
namespace {

constexpr std::int64_t nov_1994 = 784'111'777;  // Sun, 06 Nov 1994 08:49:37 GMT
constexpr std::string_view nov_1994_date = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";

constexpr std::array<Kind, kind_count> all_kinds = {
    Kind::get,        Kind::head,           Kind::get_close,
    Kind::head_close, Kind::get_keep_alive, Kind::head_keep_alive,
    Kind::error_400,  Kind::error_413,      Kind::error_414,
    Kind::error_431,  Kind::error_505,      Kind::unavailable_503,
};

std::string_view view(const Responses::Batch& batch) {
    return {batch.data, batch.bytes};
}

std::string date_of(std::int64_t unix_seconds) {
    char out[imf_fixdate_bytes];
    format_imf_fixdate(unix_seconds, out);
    return {out, imf_fixdate_bytes};
}

std::string strftime_date(std::int64_t unix_seconds) {
    const auto seconds = std::time_t(unix_seconds);
    std::tm tm{};
    EXPECT_NE(gmtime_r(&seconds, &tm), nullptr);
    char out[64];
    const std::size_t bytes = std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return {out, bytes};
}

// Builds with `spec` at nov_1994 and 64 copies per batch.
struct Built {
    explicit Built(const ResponseSpec& spec, std::uint32_t batch_count = 64) {
        EXPECT_TRUE(responses.build(spec, batch_count, nov_1994));
    }
    Responses responses;
};

TEST(ReasonPhrase, NamesTheStandardCodesAndNothingElse) {
    EXPECT_EQ(reason_phrase(200), "OK");
    EXPECT_EQ(reason_phrase(100), "Continue");
    EXPECT_EQ(reason_phrase(203), "Non-Authoritative Information");
    EXPECT_EQ(reason_phrase(308), "Permanent Redirect");
    EXPECT_EQ(reason_phrase(413), "Content Too Large");
    EXPECT_EQ(reason_phrase(422), "Unprocessable Content");
    EXPECT_EQ(reason_phrase(429), "Too Many Requests");
    EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
    EXPECT_EQ(reason_phrase(306), "");  // "(Unused)" in RFC 9110
    EXPECT_EQ(reason_phrase(299), "");
    EXPECT_EQ(reason_phrase(799), "");
}

TEST(Responses, DefaultAnswersForEveryNonErrorKind) {
    const Built built{ResponseSpec{}};
    const std::string head = "HTTP/1.1 200 OK\r\n" + std::string(nov_1994_date) +
                             "Content-Type: text/plain\r\nContent-Length: 2\r\n";
    EXPECT_EQ(built.responses.one(Kind::get), head + "\r\nOK");
    EXPECT_EQ(built.responses.one(Kind::head), head + "\r\n");
    EXPECT_EQ(built.responses.one(Kind::get_close), head + "Connection: close\r\n\r\nOK");
    EXPECT_EQ(built.responses.one(Kind::head_close), head + "Connection: close\r\n\r\n");
    EXPECT_EQ(built.responses.one(Kind::get_keep_alive), head + "Connection: keep-alive\r\n\r\nOK");
    EXPECT_EQ(built.responses.one(Kind::head_keep_alive), head + "Connection: keep-alive\r\n\r\n");
}

TEST(Responses, MinimalIsByteForByteTheShortestAnswer) {
    ResponseSpec spec;
    spec.minimal = true;
    const Built built{spec};
    const Responses& responses = built.responses;
    EXPECT_EQ(responses.one(Kind::get), "HTTP/1.1 200 OK\r\nContent-Length:2\r\n\r\nOK");
    EXPECT_EQ(responses.one(Kind::head), "HTTP/1.1 200 OK\r\nContent-Length:2\r\n\r\n");
    EXPECT_EQ(responses.one(Kind::get_close),
              "HTTP/1.1 200 OK\r\nContent-Length:2\r\nConnection: close\r\n\r\nOK");
    EXPECT_EQ(responses.one(Kind::head_close),
              "HTTP/1.1 200 OK\r\nContent-Length:2\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(responses.one(Kind::get_keep_alive),
              "HTTP/1.1 200 OK\r\nContent-Length:2\r\nConnection: keep-alive\r\n\r\nOK");
    EXPECT_EQ(responses.one(Kind::head_keep_alive),
              "HTTP/1.1 200 OK\r\nContent-Length:2\r\nConnection: keep-alive\r\n\r\n");
}

TEST(Responses, MinimalDropsServerTypeDateAndExtraHeaders) {
    const std::string_view headers[] = {"X-A: 1"};
    ResponseSpec spec;
    spec.minimal = true;
    spec.server = "uo";
    spec.content_type = "application/json";
    spec.headers = headers;
    spec.status = 404;
    spec.body = "{}\n";
    const Built built{spec};
    EXPECT_EQ(built.responses.one(Kind::get),
              "HTTP/1.1 404 Not Found\r\nContent-Length:3\r\n\r\n{}\n");
    EXPECT_EQ(built.responses.one(Kind::error_400),
              "HTTP/1.1 400 Bad Request\r\nContent-Length:0\r\nConnection: close\r\n\r\n");
}

TEST(Responses, EveryErrorKindIsItsStatusAndAClose) {
    const std::array<std::pair<Kind, std::string_view>, 6> errors = {{
        {Kind::error_400, "400 Bad Request"},
        {Kind::error_413, "413 Content Too Large"},
        {Kind::error_414, "414 URI Too Long"},
        {Kind::error_431, "431 Request Header Fields Too Large"},
        {Kind::error_505, "505 HTTP Version Not Supported"},
        {Kind::unavailable_503, "503 Service Unavailable"},
    }};
    const std::string_view headers[] = {"X-Extra: no"};
    ResponseSpec spec;
    spec.server = "uring-okay";
    spec.headers = headers;  // the configured answer's, not the errors'
    spec.status = 418;
    const Built with_date{spec};
    spec.date = false;
    const Built without_date{spec};
    spec.minimal = true;
    const Built minimal{spec};
    for (const auto& [kind, status] : errors) {
        const std::string line = "HTTP/1.1 " + std::string(status) + "\r\n";
        const std::string tail = "Content-Length: 0\r\nConnection: close\r\n\r\n";
        EXPECT_EQ(with_date.responses.one(kind),
                  line + "Server: uring-okay\r\n" + std::string(nov_1994_date) + tail);
        EXPECT_EQ(without_date.responses.one(kind), line + "Server: uring-okay\r\n" + tail);
        EXPECT_EQ(minimal.responses.one(kind),
                  line + "Content-Length:0\r\nConnection: close\r\n\r\n");
        EXPECT_EQ(with_date.responses.batch_max(kind), 1u) << status;
    }
}

TEST(Responses, FieldsComeInTheirOrder) {
    const std::string_view headers[] = {"Cache-Control: no-store", "X-Probe: yes"};
    ResponseSpec spec;
    spec.server = "uring-okay/0.1";
    spec.content_type = "application/json";
    spec.headers = headers;
    spec.body = "{\"ok\":true}";
    const Built built{spec};
    const std::string head = "HTTP/1.1 200 OK\r\nServer: uring-okay/0.1\r\n" +
                             std::string(nov_1994_date) +
                             "Content-Type: application/json\r\nContent-Length: 11\r\n"
                             "Cache-Control: no-store\r\nX-Probe: yes\r\n";
    EXPECT_EQ(built.responses.one(Kind::get), head + "\r\n{\"ok\":true}");
    EXPECT_EQ(built.responses.one(Kind::head_close), head + "Connection: close\r\n\r\n");
}

TEST(Responses, NoContentTypeWhenEmptyAndNoDateWhenOff) {
    ResponseSpec spec;
    spec.content_type = {};
    spec.date = false;
    spec.body = {};
    const Built built{spec};
    EXPECT_EQ(built.responses.one(Kind::get), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
}

TEST(Responses, NoContentAndNotModifiedCarryNeitherLengthNorBody) {
    for (const std::uint16_t status : {204, 304}) {
        ResponseSpec spec;
        spec.status = status;
        spec.date = false;
        const Built built{spec};
        const std::string line =
            "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status));
        EXPECT_EQ(built.responses.one(Kind::get), line + "\r\n\r\n");
        EXPECT_EQ(built.responses.one(Kind::head), line + "\r\n\r\n");
        EXPECT_EQ(built.responses.one(Kind::get_close), line + "\r\nConnection: close\r\n\r\n");
        spec.minimal = true;
        const Built minimal{spec};
        EXPECT_EQ(minimal.responses.one(Kind::get), line + "\r\n\r\n");
    }
}

TEST(Responses, ResetContentSaysZeroAndSendsNothing) {
    ResponseSpec spec;
    spec.status = 205;
    spec.date = false;
    const Built built{spec};
    EXPECT_EQ(built.responses.one(Kind::get),
              "HTTP/1.1 205 Reset Content\r\nContent-Length: 0\r\n\r\n");
}

TEST(Responses, UnknownStatusKeepsTheSpaceBeforeAnEmptyReason) {
    ResponseSpec spec;
    spec.status = 799;
    spec.date = false;
    spec.content_type = {};
    const Built built{spec};
    EXPECT_EQ(built.responses.one(Kind::get), "HTTP/1.1 799 \r\nContent-Length: 2\r\n\r\nOK");
}

TEST(Responses, TakeReturnsCopiesBackToBack) {
    Built built{ResponseSpec{}};
    Responses& responses = built.responses;
    const std::string one{responses.one(Kind::get)};
    const Responses::Batch batch = responses.take(Kind::get, 5);
    EXPECT_EQ(batch.count, 5u);
    ASSERT_EQ(batch.bytes, 5 * one.size());
    for (std::size_t copy = 0; copy < 5; ++copy) {
        EXPECT_EQ(view(batch).substr(copy * one.size(), one.size()), one) << "copy " << copy;
    }
    responses.release(batch.generation);
}

TEST(Responses, TakeIsClippedToBatchCount) {
    Built built{ResponseSpec{}, 16};
    Responses& responses = built.responses;
    EXPECT_EQ(responses.batch_max(Kind::get), 16u);
    const Responses::Batch batch = responses.take(Kind::get, 1000);
    EXPECT_EQ(batch.count, 16u);
    EXPECT_EQ(batch.bytes, 16 * responses.one(Kind::get).size());
    responses.release(batch.generation);
    const Responses::Batch error = responses.take(Kind::error_431, 1000);
    EXPECT_EQ(error.count, 1u);
    EXPECT_EQ(view(error), responses.one(Kind::error_431));
    responses.release(error.generation);
}

// A connection ends after a closing answer, so there is never a second one to batch.
TEST(Responses, OnlyKeepAliveKindsAreBatched) {
    Built built{ResponseSpec{}, 16};
    for (const Kind kind : all_kinds) {
        const std::uint32_t expected = closes_after(kind) ? 1 : 16;
        EXPECT_EQ(built.responses.batch_max(kind), expected) << int(kind);
        const Responses::Batch batch = built.responses.take(kind, 1000);
        EXPECT_EQ(batch.count, expected) << int(kind);
        built.responses.release(batch.generation);
    }
}

TEST(Responses, BatchStaysUnderBatchBytesMax) {
    const std::string body(10 * 1024, 'x');
    ResponseSpec spec;
    spec.body = body;
    Built built{spec};
    const std::size_t one_bytes = built.responses.one(Kind::get).size();
    EXPECT_EQ(built.responses.batch_max(Kind::get), Responses::batch_bytes_max / one_bytes);
    EXPECT_LT(built.responses.batch_max(Kind::get), 64u);
    EXPECT_EQ(built.responses.batch_max(Kind::head), 64u);  // the head alone is small
}

TEST(Responses, LargeBodyGivesOneCopyPerBatch) {
    const std::string body(300 * 1024, 'b');
    ResponseSpec spec;
    spec.body = body;
    spec.date = false;
    Built built{spec};
    Responses& responses = built.responses;
    EXPECT_EQ(responses.batch_max(Kind::get), 1u);
    EXPECT_EQ(responses.batch_max(Kind::get_close), 1u);
    const Responses::Batch batch = responses.take(Kind::get, 10);
    EXPECT_EQ(batch.count, 1u);
    EXPECT_EQ(view(batch),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
              "Content-Length: 307200\r\n\r\n" +
                  body);
    responses.release(batch.generation);
    EXPECT_EQ(responses.one(Kind::head),
              "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 307200\r\n\r\n");
}

TEST(Responses, OneIsWhatTakeOfOneWouldSend) {
    Built built{ResponseSpec{}};
    Responses& responses = built.responses;
    for (const Kind kind : all_kinds) {
        const Responses::Batch batch = responses.take(kind, 1);
        EXPECT_EQ(batch.count, 1u);
        EXPECT_EQ(view(batch), responses.one(kind)) << int(kind);
        responses.release(batch.generation);
    }
}

TEST(Responses, RefusesAnAnswerPastTheCeilingAndKeepsTheOldOne) {
    Built built{ResponseSpec{}};
    const std::string old{built.responses.one(Kind::get)};
    const std::string body((64u << 20) + 8 * 1024, 'z');
    ResponseSpec spec;
    spec.body = body;
    EXPECT_FALSE(built.responses.build(spec, 64, nov_1994));
    EXPECT_EQ(built.responses.one(Kind::get), old);
}

TEST(Responses, BuildingAgainReplacesEverything) {
    Responses responses;
    ASSERT_TRUE(responses.build(ResponseSpec{}, 8, nov_1994));
    ResponseSpec spec;
    spec.minimal = true;
    spec.body = "again";
    ASSERT_TRUE(responses.build(spec, 4, nov_1994 + 10));  // ASan reports the first if it leaks
    EXPECT_EQ(responses.one(Kind::get), "HTTP/1.1 200 OK\r\nContent-Length:5\r\n\r\nagain");
    EXPECT_EQ(responses.batch_max(Kind::get), 4u);
    EXPECT_FALSE(responses.refresh_date(nov_1994 + 11));  // minimal: no Date to refresh
}

TEST(FormatImfFixdate, MatchesTheRfcExample) {
    EXPECT_EQ(date_of(nov_1994), "Sun, 06 Nov 1994 08:49:37 GMT");
    EXPECT_EQ(date_of(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(date_of(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(FormatImfFixdate, MatchesStrftimeEverywhere) {
    std::vector<std::int64_t> seconds = {
        0,
        nov_1994,
        951'782'400,    // 2000-02-29 00:00:00, the 400-year leap day
        951'868'799,    // 2000-02-29 23:59:59
        4'107'542'400,  // 2100-03-01: 2100 is no leap year
        4'107'542'399,  // 2100-02-28 23:59:59
        2'147'483'647,  // the 32-bit time_t edge
        2'147'483'648,
        -2'208'988'800,   // 1900-01-01
        253'402'300'799,  // 9999-12-31 23:59:59, the last four-digit second
        std::int64_t(std::time(nullptr)),
    };
    std::mt19937_64 random{20'240'601};
    std::uniform_int_distribution<std::int64_t> any(-2'208'988'800, 253'402'300'799);
    for (int draw = 0; draw < 100'000; ++draw) seconds.push_back(any(random));
    for (const std::int64_t second : seconds) {
        ASSERT_EQ(date_of(second), strftime_date(second)) << "at " << second;
    }
}

TEST(FormatImfFixdate, ClampsToFourDigitYears) {
    EXPECT_EQ(date_of(253'402'300'800), "Fri, 31 Dec 9999 23:59:59 GMT");
    EXPECT_EQ(date_of(INT64_MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    EXPECT_EQ(date_of(INT64_MIN), "Sat, 01 Jan 0000 00:00:00 GMT");
}

TEST(RefreshDate, RewritesTheDateInEveryCopyOfEveryKind) {
    const std::string_view headers[] = {"X-A: b"};
    ResponseSpec spec;
    spec.server = "s";
    spec.headers = headers;
    Built built{spec, 8};
    Responses& responses = built.responses;
    const std::int64_t later = nov_1994 + 86'400 + 3'661;
    EXPECT_FALSE(responses.refresh_date(nov_1994));  // the same second: nothing to do
    ASSERT_TRUE(responses.refresh_date(later));
    EXPECT_FALSE(responses.refresh_date(later));

    Responses fresh;
    ASSERT_TRUE(fresh.build(spec, 8, later));
    for (const Kind kind : all_kinds) {
        const Responses::Batch batch = responses.take(kind, 1000);
        const Responses::Batch expected = fresh.take(kind, 1000);
        EXPECT_EQ(view(batch), view(expected)) << int(kind);
        EXPECT_NE(view(batch).find("Date: Mon, 07 Nov 1994 09:50:38 GMT\r\n"), std::string::npos);
        responses.release(batch.generation);
        fresh.release(expected.generation);
    }
}

TEST(RefreshDate, DoesNothingWithoutADate) {
    ResponseSpec spec;
    spec.date = false;
    Built built{spec};
    const std::string before{built.responses.one(Kind::get)};
    EXPECT_FALSE(built.responses.refresh_date(nov_1994 + 1));
    EXPECT_EQ(built.responses.one(Kind::get), before);
}

TEST(RefreshDate, LeavesAHeldGenerationAloneUntilReleased) {
    Built built{ResponseSpec{}};
    Responses& responses = built.responses;
    const Responses::Batch first = responses.take(Kind::get, 64);
    const std::string first_bytes{view(first)};

    ASSERT_TRUE(responses.refresh_date(nov_1994 + 1));  // the spare is free: it becomes current
    const Responses::Batch second = responses.take(Kind::get, 64);
    EXPECT_NE(second.generation, first.generation);
    EXPECT_NE(second.data, first.data);
    const std::string second_bytes{view(second)};
    EXPECT_NE(second_bytes.find("08:49:38 GMT"), std::string::npos);

    EXPECT_FALSE(responses.refresh_date(nov_1994 + 2));  // the spare is `first`, still leaving
    EXPECT_EQ(view(first), first_bytes);
    EXPECT_EQ(view(second), second_bytes);
    EXPECT_NE(responses.one(Kind::get).find("08:49:38 GMT"), std::string::npos);

    responses.release(first.generation);
    ASSERT_TRUE(responses.refresh_date(nov_1994 + 2));
    EXPECT_EQ(view(second), second_bytes);  // now held and not current: untouched
    EXPECT_NE(responses.one(Kind::get).find("08:49:39 GMT"), std::string::npos);
    EXPECT_FALSE(responses.refresh_date(nov_1994 + 3));
    responses.release(second.generation);
    EXPECT_TRUE(responses.refresh_date(nov_1994 + 3));
}

TEST(ResponsesDeathTest, TakingNothingIsABug) {
    Built built{ResponseSpec{}};
    EXPECT_DEATH((void)built.responses.take(Kind::get, 0), "assertion failed: .*count > 0");
}

TEST(ResponsesDeathTest, ReleasingWhatWasNotTakenIsABug) {
    Built built{ResponseSpec{}};
    EXPECT_DEATH(built.responses.release(0), "assertion failed: .*in_flight_");
}

}  // namespace
}  // namespace uring_okay
