// config: flags and environment into a Config. Each test gives an argv (and an environment)
// and checks the fields it should set, or the exact usage error with the flag it names.
#include "uring_okay/config.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace uring_okay {
namespace {

using namespace std::string_view_literals;
using Strings = std::initializer_list<const char*>;

struct Parsed {
    ParseResult result;
    Config config;
};

// argv gets a program name first; both arrays end in null. The strings are literals (or outlive
// the test), so the views Config keeps stay valid.
Parsed parse(Strings args, Strings environment = {}) {
    std::vector<const char*> argv{"uring-okay"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back(nullptr);
    std::vector<const char*> env(environment);
    env.push_back(nullptr);
    Parsed parsed;
    parsed.result = parse_config(int(argv.size() - 1), argv.data(), env.data(), parsed.config);
    return parsed;
}

Config parsed_fine(Strings args, Strings environment = {}) {
    const Parsed parsed = parse(args, environment);
    EXPECT_EQ(parsed.result.outcome, ParseOutcome::run) << parsed.result.message;
    return parsed.config;
}

std::string error_of(Strings args, Strings environment = {}) {
    const Parsed parsed = parse(args, environment);
    if (parsed.result.outcome != ParseOutcome::usage_error) return "(no usage error)";
    return parsed.result.message;
}

bool starts_with(const std::string& text, std::string_view prefix) {
    return std::string_view(text).starts_with(prefix);
}

// The body --body-file or --body-size made, copied out: they allocate it once for the life of the
// process, and the test gives it back.
std::string made_body(Strings args, Strings environment = {}) {
    const Parsed parsed = parse(args, environment);
    if (parsed.result.outcome != ParseOutcome::run) {
        return "(not run) " + std::string(parsed.result.message);
    }
    std::string body(parsed.config.body);
    std::free(const_cast<char*>(parsed.config.body.data()));
    return body;
}

TEST(Config, DefaultsWithoutFlags) {
    const Config config = parsed_fine({});
    ASSERT_EQ(config.listen_count, 1);
    EXPECT_EQ(config.listen[0].family, AF_INET);
    EXPECT_EQ(config.listen[0].port, 8080);
    EXPECT_EQ(std::string_view(config.listen[0].text), "0.0.0.0:8080");
    const std::uint8_t zeros[16]{};
    EXPECT_EQ(std::memcmp(config.listen[0].address, zeros, 16), 0);
    EXPECT_EQ(config.threads, 0u);
    EXPECT_EQ(config.cpu_count, 0);
    EXPECT_EQ(config.engine, EngineChoice::automatic);
    EXPECT_EQ(config.disabled_features, 0u);
    EXPECT_FALSE(config.quiet);
    EXPECT_TRUE(config.sandbox);
    EXPECT_EQ(config.status, 200);
    EXPECT_EQ(config.body, "OK");
    EXPECT_EQ(config.content_type, "text/plain");
    EXPECT_TRUE(config.server.empty());
    EXPECT_EQ(config.header_count, 0);
    EXPECT_TRUE(config.date);
    EXPECT_FALSE(config.minimal);
    const Limits defaults;
    EXPECT_EQ(config.limits.request_line_bytes_max, defaults.request_line_bytes_max);
    EXPECT_EQ(config.limits.header_bytes_max, defaults.header_bytes_max);
    EXPECT_EQ(config.limits.body_bytes_max, defaults.body_bytes_max);
    EXPECT_EQ(config.limits.buffer_count, defaults.buffer_count);
    EXPECT_EQ(config.limits.linger_ms, defaults.linger_ms);
}

TEST(Config, AcceptsANullEnvironment) {
    const char* argv[] = {"uring-okay", "--threads", "2", nullptr};
    Config config;
    const ParseResult result = parse_config(3, argv, nullptr, config);
    EXPECT_EQ(result.outcome, ParseOutcome::run) << result.message;
    EXPECT_EQ(config.threads, 2u);
    EXPECT_EQ(config.listen_count, 1);
}

TEST(Config, StartsFromDefaultsWhateverTheConfigHeld) {
    const char* argv[] = {"uring-okay", nullptr};
    Config config;
    config.threads = 7;
    config.listen_count = 3;
    ASSERT_EQ(parse_config(1, argv, nullptr, config).outcome, ParseOutcome::run);
    EXPECT_EQ(config.threads, 0u);
    EXPECT_EQ(config.listen_count, 1);
}

TEST(Config, TakesEachFormOfAFlag) {
    EXPECT_EQ(parsed_fine({"--threads=4"}).threads, 4u);
    EXPECT_EQ(parsed_fine({"--threads", "5"}).threads, 5u);
    EXPECT_EQ(parsed_fine({"-t", "6"}).threads, 6u);
    EXPECT_EQ(parsed_fine({"-t7"}).threads, 7u);
    EXPECT_EQ(parsed_fine({"-t", "1", "--threads=1024"}).threads, 1024u);  // the last one wins
}

TEST(Config, TakesTheNextArgumentAsTheValueEvenWithADash) {
    EXPECT_EQ(parsed_fine({"--body", "-x"}).body, "-x");
    EXPECT_EQ(parsed_fine({"--body", "--help"}).body, "--help");
    EXPECT_EQ(parsed_fine({"--body="}).body, "");
}

TEST(Config, RefusesUnknownFlagsAndStrayArguments) {
    EXPECT_EQ(error_of({"--frobnicate"}), "--frobnicate: unknown flag");
    EXPECT_EQ(error_of({"--frobnicate=3"}), "--frobnicate: unknown flag");
    EXPECT_EQ(error_of({"-x"}), "-x: unknown flag");
    EXPECT_EQ(error_of({"-qV"}), "-qV: unknown flag");  // short switches do not combine
    EXPECT_EQ(error_of({"serve"}), "serve: unexpected argument");
    EXPECT_EQ(error_of({"--"}), "--: unexpected argument");
    EXPECT_EQ(error_of({"-"}), "-: unexpected argument");
}

TEST(Config, NamesAFlagThatNeedsAValue) {
    EXPECT_EQ(error_of({"--threads"}), "--threads: needs a value");
    EXPECT_EQ(error_of({"-t"}), "--threads: needs a value");
    EXPECT_EQ(error_of({"--quiet", "--listen"}), "--listen: needs a value");
}

TEST(Config, RefusesAValueForASwitch) {
    EXPECT_EQ(error_of({"--quiet=1"}), "--quiet: takes no value");
    EXPECT_EQ(error_of({"--minimal=yes"}), "--minimal: takes no value");
    EXPECT_EQ(error_of({"--help=1"}), "--help: takes no value");
}

TEST(Config, SetsSwitches) {
    EXPECT_TRUE(parsed_fine({"--quiet"}).quiet);
    EXPECT_TRUE(parsed_fine({"-q"}).quiet);
    EXPECT_FALSE(parsed_fine({"--no-date"}).date);
    EXPECT_TRUE(parsed_fine({"--minimal"}).minimal);
}

TEST(Config, AsksForHelpAndVersion) {
    EXPECT_EQ(parse({"-h"}).result.outcome, ParseOutcome::help);
    EXPECT_EQ(parse({"--help"}).result.outcome, ParseOutcome::help);
    EXPECT_EQ(parse({"-V"}).result.outcome, ParseOutcome::version);
    EXPECT_EQ(parse({"--version"}).result.outcome, ParseOutcome::version);
    EXPECT_EQ(parse({"--threads", "2", "--help", "--frobnicate"}).result.outcome,
              ParseOutcome::help);
    EXPECT_EQ(error_of({"--frobnicate", "--help"}), "--frobnicate: unknown flag");
    EXPECT_EQ(parse({}, {"URING_OKAY_HELP=1", "URING_OKAY_VERSION=1"}).result.outcome,
              ParseOutcome::run);
}

struct ListenCase {
    const char* text;
    int family;
    std::vector<std::uint8_t> address;
    std::uint16_t port;
};

TEST(Config, ParsesListenAddresses) {
    const ListenCase cases[] = {
        {"0.0.0.0:8080", AF_INET, {0, 0, 0, 0}, 8080},
        {"127.0.0.1:0", AF_INET, {127, 0, 0, 1}, 0},
        {"10.1.2.3:65535", AF_INET, {10, 1, 2, 3}, 65535},
        {"[::1]:8080", AF_INET6, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 8080},
        {"[::]:80", AF_INET6, std::vector<std::uint8_t>(16, 0), 80},
        {"[2001:db8::ff00:42]:443",
         AF_INET6,
         {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0x00, 0, 0x42},
         443},
        {":8081", AF_INET, {0, 0, 0, 0}, 8081},
        {"9000", AF_INET, {0, 0, 0, 0}, 9000},
    };
    for (const ListenCase& c : cases) {
        const Config config = parsed_fine({"--listen", c.text});
        ASSERT_EQ(config.listen_count, 1) << c.text;
        const ListenAddress& address = config.listen[0];
        EXPECT_EQ(address.family, c.family) << c.text;
        EXPECT_EQ(std::vector<std::uint8_t>(address.address, address.address + c.address.size()),
                  c.address)
            << c.text;
        EXPECT_EQ(address.port, c.port) << c.text;
        EXPECT_EQ(std::string_view(address.text), c.text);
    }
}

TEST(Config, ListensOnEveryAddressGivenInOrder) {
    const Config config = parsed_fine({"-l", "127.0.0.1:1", "--listen=[::1]:2", "-l:3"});
    ASSERT_EQ(config.listen_count, 3);
    EXPECT_EQ(config.listen[0].port, 1);
    EXPECT_EQ(config.listen[1].family, AF_INET6);
    EXPECT_EQ(config.listen[1].port, 2);
    EXPECT_EQ(std::string_view(config.listen[2].text), ":3");
}

TEST(Config, RefusesBadListenAddresses) {
    const char* const bad[] = {
        "localhost:80", "[::1]",      "[::1]8080", "::1:8080", "1.2.3.4:65536",
        "1.2.3.4:",     "1.2.3:80",   "[]:80",     "",         "80x",
        "[1.2.3.4]:80", "0.0.0.0:-1", "0.0.0.0"};
    for (const char* text : bad) {
        const std::string message = error_of({"--listen", text});
        EXPECT_TRUE(starts_with(message, "--listen ")) << text << ": " << message;
    }
    EXPECT_EQ(error_of({"--listen", "::1:8080"}),
              "--listen ::1:8080: an IPv6 address goes in brackets: [::1]:8080");
    EXPECT_EQ(error_of({"--listen", "1.2.3.4:65536"}),
              "--listen 1.2.3.4:65536: the port must be a whole number from 0 to 65535");
    EXPECT_EQ(error_of({"-l", "localhost:80"}),
              "--listen localhost:80: the address must be IPv4 like 127.0.0.1 or IPv6 in "
              "brackets like [::1]");
}

// Addresses to try on inet_pton and on --listen: edge cases, random bytes from an address's
// alphabet, and random group lists with "::" and IPv4 tails, from a fixed seed.
std::vector<std::string> address_texts() {
    std::vector<std::string> texts = {
        "", "::", "::1", "1::", ":::", "1:::2", ":1", "1:", "::ffff:1.2.3.4", "::ffff:1.2.3.04",
        "::1.2.3.4", "1.2.3.4", "0.0.0.0", "255.255.255.255", "256.0.0.0", "01.2.3.4",
        "1.2.3.04", "1.2.3", "1.2.3.4.5", "1..2.3", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::", "::1:2:3:4:5:6:7", "1::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "1:2:3:4:5::1.2.3.4",
        "1:2:3:4:5:6::1.2.3.4", "::1:2:3:4:5:1.2.3.4", "1.2.3.4::", "ABCD::ef", "12345::",
        "0000::", "00000::", "fe80::1%eth0", " 1.2.3.4", "1.2.3.4 ", "::1.2.3"};
    std::mt19937 random(7);
    const auto pick = [&](std::string_view from) { return from[random() % from.size()]; };
    for (int i = 0; i < 20000; ++i) {
        std::string text(random() % 24, ' ');
        for (char& c : text) c = pick("0123456789abcdefABCDEFg:.x% ");
        texts.push_back(text);
    }
    for (int i = 0; i < 20000; ++i) {
        std::string text;
        for (std::size_t groups = random() % 10, g = 0; g < groups; ++g) {
            if (g > 0) text += ':';
            for (std::size_t digits = random() % 6, d = 0; d < digits; ++d)
                text += pick("0123456789abcdefABCDEF");
        }
        if (random() % 3 == 0) {
            if (!text.empty()) text += ':';
            for (int b = 0; b < 4; ++b) {
                const std::uint32_t value = random() % 10 == 0 ? random() % 1000 : random() % 256;
                text += (b > 0 ? "." : "") + std::string(random() % 10 == 0 ? "0" : "") +
                        std::to_string(value);
            }
        }
        if (random() % 2 == 0) text.insert(random() % (text.size() + 1), "::");
        texts.push_back(text);
    }
    return texts;
}

// musl's inet_pton is 830 B, so config parses addresses itself: exactly as inet_pton does.
TEST(Config, TakesTheAddressesInetPtonTakes) {
    int taken = 0;
    for (const std::string& host : address_texts()) {
        for (const int family : {AF_INET, AF_INET6}) {
            // Without brackets a ':' means a port, and an empty host 0.0.0.0.
            if (family == AF_INET && (host.empty() || host.find(':') != std::string::npos))
                continue;
            const std::string listen = family == AF_INET ? host + ":1" : "[" + host + "]:1";
            std::uint8_t expected[16] = {};
            const bool valid = inet_pton(family, host.c_str(), expected) == 1;
            const Parsed parsed = parse({"--listen", listen.c_str()});
            ASSERT_EQ(parsed.result.outcome == ParseOutcome::run, valid)
                << listen << ": " << parsed.result.message;
            if (!valid) continue;
            ++taken;
            const std::size_t bytes = family == AF_INET ? 4 : 16;
            EXPECT_EQ(std::memcmp(parsed.config.listen[0].address, expected, bytes), 0) << listen;
        }
    }
    EXPECT_GT(taken, 2000);  // the random addresses are not all refused
}

TEST(Config, RefusesTheSameAddressTwiceButNotTwoEphemeralPorts) {
    EXPECT_EQ(error_of({"-l", "0.0.0.0:80", "-l", ":80"}), "--listen :80: given twice");
    EXPECT_EQ(parsed_fine({"-l", "127.0.0.1:0", "-l", "127.0.0.1:0"}).listen_count, 2);
}

TEST(Config, RefusesMoreListenAddressesThanItHolds) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i <= listen_max; ++i) texts.push_back(std::to_string(9000 + i));
    std::vector<const char*> argv{"uring-okay"};
    for (const std::string& text : texts) {
        argv.push_back("--listen");
        argv.push_back(text.c_str());
    }
    argv.push_back(nullptr);
    Config config;
    ParseResult result = parse_config(int(argv.size() - 1), argv.data(), nullptr, config);
    EXPECT_EQ(std::string(result.message), "--listen " + texts.back() + ": at most " +
                                               std::to_string(listen_max) + " addresses");
    argv.resize(argv.size() - 3);
    argv.push_back(nullptr);
    result = parse_config(int(argv.size() - 1), argv.data(), nullptr, config);
    EXPECT_EQ(result.outcome, ParseOutcome::run) << result.message;
    EXPECT_EQ(config.listen_count, listen_max);
}

TEST(Config, ChecksThreads) {
    EXPECT_EQ(parsed_fine({"--threads", "1"}).threads, 1u);
    EXPECT_EQ(parsed_fine({"--threads", "1024"}).threads, 1024u);
    for (const char* bad : {"0", "1025", "abc", "-1", "+2", "", "2x", "99999999999999999999999"}) {
        EXPECT_TRUE(starts_with(error_of({"--threads", bad}), "--threads ")) << bad;
    }
    EXPECT_EQ(error_of({"--threads", "0"}), "--threads 0: must be a whole number from 1 to 1024");
    EXPECT_EQ(error_of({"--threads="}), "--threads '': must be a whole number from 1 to 1024");
}

std::vector<std::uint16_t> cpus_of(const Config& config) {
    return {config.cpus, config.cpus + config.cpu_count};
}

TEST(Config, ParsesCpuLists) {
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "0"})), (std::vector<std::uint16_t>{0}));
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "0,2"})), (std::vector<std::uint16_t>{0, 2}));
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "1-3,5"})), (std::vector<std::uint16_t>{1, 2, 3, 5}));
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "7,2-2,0"})), (std::vector<std::uint16_t>{7, 2, 0}));
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "1023"})), (std::vector<std::uint16_t>{1023}));
    EXPECT_EQ(cpus_of(parsed_fine({"--cpus", "0,1", "--cpus", "4"})),
              (std::vector<std::uint16_t>{4}));
    const Config all = parsed_fine({"--cpus", "0-1023"});
    EXPECT_EQ(all.cpu_count, cpus_max);
    EXPECT_EQ(all.cpus[1023], 1023);
}

TEST(Config, RefusesBadCpuLists) {
    const std::string rule = ": CPUs must be numbers from 0 to 1023, like 0,2 or 1-3,5";
    for (const char* text : {",", "1,", ",1", "a", "1-", "-1", "1-2-3", "1024", "0-1024", "0x1"}) {
        EXPECT_EQ(error_of({"--cpus", text}), "--cpus " + std::string(text) + rule) << text;
    }
    EXPECT_EQ(error_of({"--cpus", ""}), "--cpus ''" + rule);
    EXPECT_EQ(error_of({"--cpus", " 1"}), "--cpus ' 1'" + rule);
    EXPECT_EQ(error_of({"--cpus", "3-1"}), "--cpus 3-1: the range 3-1 runs backwards");
    EXPECT_EQ(error_of({"--cpus", "1,1"}), "--cpus 1,1: CPU 1 is named twice");
    EXPECT_EQ(error_of({"--cpus", "1-3,2"}), "--cpus 1-3,2: CPU 2 is named twice");
}

TEST(Config, ChoosesTheEngine) {
    EXPECT_EQ(parsed_fine({"--engine", "auto"}).engine, EngineChoice::automatic);
    EXPECT_EQ(parsed_fine({"--engine", "uring"}).engine, EngineChoice::uring);
    EXPECT_EQ(parsed_fine({"--engine=epoll"}).engine, EngineChoice::epoll);
    EXPECT_EQ(error_of({"--engine", "io_uring"}),
              "--engine io_uring: must be auto, uring or epoll");
}

TEST(Config, TurnsTheSandboxOnOrOff) {
    EXPECT_FALSE(parsed_fine({"--sandbox", "off"}).sandbox);
    EXPECT_TRUE(parsed_fine({"--sandbox=on"}).sandbox);
    EXPECT_FALSE(parsed_fine({}, {"URING_OKAY_SANDBOX=off"}).sandbox);
    EXPECT_TRUE(parsed_fine({"--sandbox", "on"}, {"URING_OKAY_SANDBOX=off"}).sandbox);
    EXPECT_EQ(error_of({"--sandbox", "no"}), "--sandbox no: must be on or off");
    EXPECT_EQ(error_of({"--sandbox"}), "--sandbox: needs a value");
}

TEST(Config, DisablesFeatures) {
    EXPECT_EQ(parsed_fine({"--disable", "defer-taskrun"}).disabled_features,
              feature::defer_taskrun);
    EXPECT_EQ(parsed_fine({"--disable", "coop-taskrun", "--disable=multishot-recv", "--disable",
                           "multishot-accept", "--disable", "registered-ring", "--disable",
                           "coop-taskrun"})
                  .disabled_features,
              feature::coop_taskrun | feature::multishot_recv | feature::multishot_accept |
                  feature::registered_ring);
    EXPECT_EQ(error_of({"--disable", "sqpoll"}),
              "--disable sqpoll: must be one of defer-taskrun, coop-taskrun, multishot-accept, "
              "multishot-recv or registered-ring");
}

#define UO_FIELD(name) [](const Limits& limits) -> std::uint64_t { return limits.name; }

struct LimitCase {
    const char* flag;
    const char* value;
    std::uint64_t expected;
    std::uint64_t (*field)(const Limits&);
};

TEST(Config, SetsEveryLimit) {
    const LimitCase cases[] = {
        {"--request-line-bytes-max", "1000", 1000, UO_FIELD(request_line_bytes_max)},
        {"--header-bytes-max", "20000", 20000, UO_FIELD(header_bytes_max)},
        {"--header-count-max", "7", 7, UO_FIELD(header_count_max)},
        {"--body-bytes-max", "0", 0, UO_FIELD(body_bytes_max)},
        {"--connections-max", "3", 3, UO_FIELD(connections_max)},
        {"--buffer-count", "128", 128, UO_FIELD(buffer_count)},
        {"--buffer-bytes", "300", 300, UO_FIELD(buffer_bytes)},
        {"--batch-count", "9", 9, UO_FIELD(batch_count)},
        {"--owed-max", "99", 99, UO_FIELD(owed_max)},
        {"--header-timeout-ms", "11", 11, UO_FIELD(header_timeout_ms)},
        {"--idle-timeout-ms", "12", 12, UO_FIELD(idle_timeout_ms)},
        {"--drain-timeout-ms", "13", 13, UO_FIELD(drain_timeout_ms)},
        {"--linger-ms", "14", 14, UO_FIELD(linger_ms)},
    };
    for (const LimitCase& c : cases) {
        const Config config = parsed_fine({c.flag, c.value});
        EXPECT_EQ(c.field(config.limits), c.expected) << c.flag;
        const std::string joined = std::string(c.flag) + "=" + c.value;
        EXPECT_EQ(c.field(parsed_fine({joined.c_str()}).limits), c.expected) << joined;
        std::string variable = "URING_OKAY_";
        for (const char* at = c.flag + 2; *at != 0; ++at)
            variable += *at == '-' ? '_' : char(std::toupper(*at));
        variable = variable + "=" + c.value;
        EXPECT_EQ(c.field(parsed_fine({}, {variable.c_str()}).limits), c.expected) << variable;
        EXPECT_NE(c.field(Limits{}), c.expected)
            << c.flag << ": pick a value that is not the default";
    }
}

TEST(Config, TakesByteSuffixes) {
    EXPECT_EQ(parsed_fine({"--header-bytes-max", "16K"}).limits.header_bytes_max, 16'384u);
    EXPECT_EQ(parsed_fine({"--header-bytes-max", "20KiB"}).limits.header_bytes_max, 20'480u);
    EXPECT_EQ(parsed_fine({"--header-bytes-max", "1M"}).limits.header_bytes_max, 1u << 20);
    EXPECT_EQ(parsed_fine({"--buffer-bytes", "1MiB"}).limits.buffer_bytes, 1u << 20);
    EXPECT_EQ(parsed_fine({"--body-bytes-max", "3G"}).limits.body_bytes_max, 3ull << 30);
    EXPECT_EQ(parsed_fine({"--body-bytes-max", "5GiB"}).limits.body_bytes_max, 5ull << 30);
    const std::string rule = ": must be a byte count from 16 to 1M, like 4096 or 4K";
    for (const char* bad : {"16k", "16KB", "K", "1.5K", "16Ki", "0x10", "18446744073709551615K"}) {
        EXPECT_EQ(error_of({"--header-bytes-max", bad}),
                  "--header-bytes-max " + std::string(bad) + rule)
            << bad;
    }
    EXPECT_EQ(error_of({"--header-bytes-max", "16 K"}), "--header-bytes-max '16 K'" + rule);
    EXPECT_EQ(error_of({"--buffer-bytes", "2M"}),
              "--buffer-bytes 2M: must be a byte count from 256 to 1M, like 4096 or 4K");
}

TEST(Config, TakesDurations) {
    EXPECT_EQ(parsed_fine({"--idle-timeout-ms", "250"}).limits.idle_timeout_ms, 250u);
    EXPECT_EQ(parsed_fine({"--idle-timeout-ms", "250ms"}).limits.idle_timeout_ms, 250u);
    EXPECT_EQ(parsed_fine({"--idle-timeout-ms", "10s"}).limits.idle_timeout_ms, 10'000u);
    EXPECT_EQ(parsed_fine({"--header-timeout-ms", "86400s"}).limits.header_timeout_ms, 86'400'000u);
    EXPECT_EQ(parsed_fine({"--drain-timeout-ms", "0"}).limits.drain_timeout_ms, 0u);
    EXPECT_EQ(parsed_fine({"--drain-timeout-ms", "0s"}).limits.drain_timeout_ms, 0u);
    for (const char* bad : {"0", "0ms", "86400001", "86401s", "1.5s", "10m", "5S", "s", "-1"}) {
        EXPECT_EQ(error_of({"--header-timeout-ms", bad}),
                  "--header-timeout-ms " + std::string(bad) +
                      ": must be a duration from 1ms to 86400s, like 250ms or 10s")
            << bad;
    }
    EXPECT_EQ(error_of({"--drain-timeout-ms", "2d"}),
              "--drain-timeout-ms 2d: must be a duration from 0ms to 86400s, like 250ms or 10s");
}

TEST(Config, ChecksEachLimitAlone) {
    const std::string buffer_count_rule =
        ": must be a power of two from 1 to " + std::to_string(buffer_count_ceiling);
    EXPECT_EQ(error_of({"--buffer-count", "1000"}), "--buffer-count 1000" + buffer_count_rule);
    EXPECT_EQ(error_of({"--buffer-count", "0"}), "--buffer-count 0" + buffer_count_rule);
    const std::string twice = std::to_string(buffer_count_ceiling * 2);
    EXPECT_EQ(error_of({"--buffer-count", twice.c_str()}),
              "--buffer-count " + twice + buffer_count_rule);
    const std::string ceiling = std::to_string(buffer_count_ceiling);
    EXPECT_EQ(parsed_fine({"--buffer-count", ceiling.c_str()}).limits.buffer_count,
              buffer_count_ceiling);

    // The whole-number limits, one past each end.
    const std::pair<const char*, std::uint32_t> counts[] = {
        {"--header-count-max", header_count_ceiling},
        {"--connections-max", connections_ceiling},
        {"--batch-count", batch_count_ceiling},
        {"--owed-max", owed_ceiling},
    };
    for (const auto& [flag, most] : counts) {
        const std::string rule = ": must be a whole number from 1 to " + std::to_string(most);
        const std::string past = std::to_string(std::uint64_t{most} + 1);
        EXPECT_EQ(error_of({flag, "0"}), flag + std::string(" 0") + rule);
        EXPECT_EQ(error_of({flag, past.c_str()}), flag + (" " + past) + rule);
    }
    EXPECT_EQ(error_of({"--buffer-bytes", "255"}),
              "--buffer-bytes 255: must be a byte count from 256 to 1M, like 4096 or 4K");
    EXPECT_EQ(error_of({"--request-line-bytes-max", "15"}),
              "--request-line-bytes-max 15: must be a byte count from 16 to 1M, like 4096 or 4K");
    EXPECT_TRUE(starts_with(error_of({"--body-bytes-max", "2048G"}), "--body-bytes-max 2048G: "));
}

TEST(Config, NamesTheLimitThatBreaksARelation) {
    const Limits defaults;
    const std::string request_line = std::to_string(defaults.request_line_bytes_max);
    const std::string header = std::to_string(defaults.header_bytes_max);
    const std::string past_header = std::to_string(defaults.header_bytes_max + 1);
    EXPECT_EQ(error_of({"--request-line-bytes-max", past_header.c_str()}),
              "--request-line-bytes-max " + past_header + ": must not exceed --header-bytes-max (" +
                  header + ")");
    EXPECT_EQ(
        error_of({"--header-bytes-max", "16"}),
        "--header-bytes-max 16: must be at least --request-line-bytes-max (" + request_line + ")");
    EXPECT_EQ(error_of({"--header-bytes-max", "4K", "--request-line-bytes-max", "5000"}),
              "--request-line-bytes-max 5000: must not exceed --header-bytes-max (4096)");
    const std::string batch = std::to_string(defaults.batch_count);
    EXPECT_EQ(error_of({"--owed-max", "1"}),
              "--owed-max 1: must be at least --batch-count (" + batch + ")");
    EXPECT_EQ(error_of({}, {"URING_OKAY_OWED_MAX=1"}),
              "URING_OKAY_OWED_MAX=1: must be at least --batch-count (" + batch + ")");
    EXPECT_EQ(error_of({"--owed-max", "100", "--batch-count", "200"}),
              "--batch-count 200: must not exceed --owed-max (100)");
    const Config equal = parsed_fine({"--header-bytes-max", "4K", "--request-line-bytes-max", "4K",
                                      "--owed-max", "8", "--batch-count", "8"});
    EXPECT_EQ(equal.limits.request_line_bytes_max, 4096u);
    EXPECT_EQ(equal.limits.owed_max, 8u);
}

TEST(Config, FallsBackToTheEnvironment) {
    const Config config =
        parsed_fine({}, {"HOME=/root", "URING_OKAY_THREADS=3", "URING_OKAY_HEADER_BYTES_MAX=32K",
                         "URING_OKAY_LISTEN=[::1]:9", "URING_OKAY_QUIET=1",
                         "URING_OKAY_NO_DATE=true", "URING_OKAY_HEADER=X-A: b",
                         "URING_OKAY_DISABLE=multishot-recv", "URING_OKAY_IDLE_TIMEOUT_MS=5s"});
    EXPECT_EQ(config.threads, 3u);
    EXPECT_EQ(config.limits.header_bytes_max, 32'768u);
    ASSERT_EQ(config.listen_count, 1);
    EXPECT_EQ(config.listen[0].family, AF_INET6);
    EXPECT_EQ(config.listen[0].port, 9);
    EXPECT_TRUE(config.quiet);
    EXPECT_FALSE(config.date);
    ASSERT_EQ(config.header_count, 1);
    EXPECT_EQ(config.headers[0], "X-A: b");
    EXPECT_EQ(config.disabled_features, feature::multishot_recv);
    EXPECT_EQ(config.limits.idle_timeout_ms, 5'000u);
}

TEST(Config, ReadsSwitchesFromTheEnvironmentAsOneOrZero) {
    EXPECT_FALSE(parsed_fine({}, {"URING_OKAY_QUIET=0"}).quiet);
    EXPECT_FALSE(parsed_fine({}, {"URING_OKAY_QUIET="}).quiet);
    EXPECT_TRUE(parsed_fine({}, {"URING_OKAY_MINIMAL=yes"}).minimal);
    EXPECT_EQ(error_of({}, {"URING_OKAY_QUIET=maybe"}),
              "URING_OKAY_QUIET=maybe: must be 1 or 0 (or true, false, yes, no, on, off)");
}

TEST(Config, NamesTheVariableInAnEnvironmentError) {
    EXPECT_EQ(error_of({}, {"URING_OKAY_THREADS=abc"}),
              "URING_OKAY_THREADS=abc: must be a whole number from 1 to 1024");
    EXPECT_EQ(
        error_of({}, {"URING_OKAY_HEADER=Date: x"}),
        "URING_OKAY_HEADER='Date: x': uring-okay writes Date itself; --no-date leaves it out");
    EXPECT_EQ(error_of({}, {"URING_OKAY_BUFFER_COUNT=3"}),
              "URING_OKAY_BUFFER_COUNT=3: must be a power of two from 1 to 32768");
}

TEST(Config, LetsFlagsBeatTheEnvironment) {
    EXPECT_EQ(parsed_fine({"--threads", "2"}, {"URING_OKAY_THREADS=3"}).threads, 2u);
    // A bad variable under a flag is never looked at.
    EXPECT_EQ(parsed_fine({"--threads", "2"}, {"URING_OKAY_THREADS=abc"}).threads, 2u);
    const Config listen = parsed_fine({"-l", "127.0.0.1:1"}, {"URING_OKAY_LISTEN=[::1]:2"});
    ASSERT_EQ(listen.listen_count, 1);
    EXPECT_EQ(listen.listen[0].port, 1);
    const Config headers = parsed_fine({"-H", "X-A: 1"}, {"URING_OKAY_HEADER=X-B: 2"});
    ASSERT_EQ(headers.header_count, 1);
    EXPECT_EQ(headers.headers[0], "X-A: 1");
    EXPECT_EQ(parsed_fine({"--disable", "coop-taskrun"}, {"URING_OKAY_DISABLE=defer-taskrun"})
                  .disabled_features,
              feature::coop_taskrun);
}

TEST(Config, IgnoresVariablesThatOnlyLookAlike) {
    const Config config =
        parsed_fine({}, {"URING_OKAY_THREADSX=3", "XURING_OKAY_THREADS=3", "uring_okay_threads=3",
                         "URING_OKAY_THREADS", "URING_OKAY_threads=3"});
    EXPECT_EQ(config.threads, 0u);
}

TEST(Config, MovesTheDefaultPortWithPort) {
    const Config config = parsed_fine({}, {"PORT=9090"});
    ASSERT_EQ(config.listen_count, 1);
    EXPECT_EQ(config.listen[0].family, AF_INET);
    EXPECT_EQ(config.listen[0].port, 9090);
    EXPECT_EQ(std::string_view(config.listen[0].text), "0.0.0.0:9090");
    EXPECT_EQ(parsed_fine({"-l", "127.0.0.1:1"}, {"PORT=9090"}).listen[0].port, 1);
    EXPECT_EQ(parsed_fine({}, {"PORT=9090", "URING_OKAY_LISTEN=:2"}).listen[0].port, 2);
    EXPECT_EQ(parsed_fine({"-l", "127.0.0.1:1"}, {"PORT=nope"}).listen[0].port, 1);
    EXPECT_EQ(error_of({}, {"PORT=nope"}), "PORT=nope: must be a whole number from 0 to 65535");
    EXPECT_EQ(error_of({}, {"PORT=65536"}), "PORT=65536: must be a whole number from 0 to 65535");
}

TEST(Config, SetsTheAnswer) {
    const Config config = parsed_fine({"--status", "204", "--body", "hello", "--content-type",
                                       "text/html; charset=utf-8", "--server", "uring-okay/0.1"});
    EXPECT_EQ(config.status, 204);
    EXPECT_EQ(config.body, "hello");
    EXPECT_EQ(config.content_type, "text/html; charset=utf-8");
    EXPECT_EQ(config.server, "uring-okay/0.1");
    const ResponseSpec spec = config.response_spec();
    EXPECT_EQ(spec.status, 204);
    EXPECT_EQ(spec.body, "hello");
    EXPECT_TRUE(parsed_fine({"--content-type", ""}).content_type.empty());
    EXPECT_TRUE(parsed_fine({"--server="}).server.empty());
    EXPECT_EQ(parsed_fine({"--status", "999"}).status, 999);
    EXPECT_EQ(parsed_fine({"--status", "100"}).status, 100);
}

TEST(Config, ChecksTheStatusAndFieldValues) {
    EXPECT_EQ(error_of({"--status", "99"}), "--status 99: must be a whole number from 100 to 999");
    EXPECT_EQ(error_of({"--status", "1000"}),
              "--status 1000: must be a whole number from 100 to 999");
    EXPECT_EQ(error_of({"--content-type", "text/plain\r\nX-Evil: 1"}),
              "--content-type 'text/plain\\r\\nX-Evil: 1': may hold visible characters, spaces "
              "and tabs only: no CR, LF, NUL or other controls");
    EXPECT_TRUE(starts_with(error_of({"--server", "a\x01z"}), "--server a\\x01z: may hold"));
    EXPECT_TRUE(starts_with(error_of({"--server", "a\x7fz"}), "--server a\\x7fz: may hold"));
    EXPECT_EQ(parsed_fine({"--server", "caf\xc3\xa9\tx"}).server, "caf\xc3\xa9\tx");  // obs-text
}

TEST(Config, KeepsHeadersAsGiven) {
    const Config config = parsed_fine(
        {"-H", "X-A: b", "--header", "X-Empty:", "--header=x-c:d e", "-HCache-Control: no-store"});
    ASSERT_EQ(config.header_count, 4);
    EXPECT_EQ(config.headers[0], "X-A: b");
    EXPECT_EQ(config.headers[1], "X-Empty:");
    EXPECT_EQ(config.headers[2], "x-c:d e");
    EXPECT_EQ(config.headers[3], "Cache-Control: no-store");
    EXPECT_EQ(parsed_fine({"-H", "!#$%&'*+-.^_`|~09azAZ: v"}).header_count, 1);
}

TEST(Config, RefusesBadHeaders) {
    const std::string token = ": the name must be a token: letters, digits and !#$%&'*+-.^_`|~";
    EXPECT_EQ(error_of({"-H", "Bad Name: x"}), "--header 'Bad Name: x'" + token);
    EXPECT_EQ(error_of({"-H", "X-A : x"}), "--header 'X-A : x'" + token);
    EXPECT_EQ(error_of({"-H", ": x"}), "--header ': x'" + token);
    EXPECT_EQ(error_of({"-H", "(x): y"}), "--header '(x): y'" + token);
    EXPECT_EQ(error_of({"-H", "X-A"}), "--header X-A: must be 'Name: value'");
    EXPECT_EQ(error_of({"-H", "X-A: b\r\nX-B: c"}),
              "--header 'X-A: b\\r\\nX-B: c': the value may hold visible characters, spaces and "
              "tabs only: no CR, LF, NUL or other controls");
    EXPECT_TRUE(starts_with(error_of({"-H", "X-A: b\n"}), "--header 'X-A: b\\n': the value"));
}

TEST(Config, RefusesHeadersUringOkayWritesItself) {
    EXPECT_EQ(error_of({"-H", "content-length: 5"}),
              "--header 'content-length: 5': uring-okay writes Content-Length itself");
    EXPECT_EQ(error_of({"-H", "TRANSFER-ENCODING: chunked"}),
              "--header 'TRANSFER-ENCODING: chunked': uring-okay frames its body with "
              "Content-Length, never Transfer-Encoding");
    EXPECT_EQ(error_of({"-H", "Connection: close"}),
              "--header 'Connection: close': uring-okay writes Connection itself");
    EXPECT_EQ(error_of({"-H", "dAtE:x"}),
              "--header dAtE:x: uring-okay writes Date itself; --no-date leaves it out");
    EXPECT_EQ(error_of({"-H", "Content-Type: a/b"}),
              "--header 'Content-Type: a/b': set Content-Type with --content-type");
    EXPECT_EQ(error_of({"-H", "Server: x"}), "--header 'Server: x': set Server with --server");
    EXPECT_EQ(parsed_fine({"-H", "Dates: x", "-H", "Connection-X: y"}).header_count, 2);
}

TEST(Config, RefusesMoreHeadersThanItHolds) {
    std::vector<std::string> texts;
    for (std::size_t i = 0; i <= headers_max; ++i)
        texts.push_back("X-" + std::to_string(i) + ": v");
    std::vector<const char*> argv{"uring-okay"};
    for (const std::string& text : texts) {
        argv.push_back("-H");
        argv.push_back(text.c_str());
    }
    argv.push_back(nullptr);
    Config config;
    const ParseResult result = parse_config(int(argv.size() - 1), argv.data(), nullptr, config);
    EXPECT_EQ(std::string(result.message), "--header '" + texts.back() + "': at most " +
                                               std::to_string(headers_max) + " fields");
    EXPECT_EQ(config.header_count, headers_max);
}

// A file in $TMPDIR (or /tmp) holding `bytes`, removed with the object.
class TempFile {
public:
    explicit TempFile(std::string_view bytes) {
        const char* directory = std::getenv("TMPDIR");
        path_ = std::string(directory ? directory : "/tmp") + "/config_test.XXXXXX";
        const int fd = mkstemp(path_.data());
        EXPECT_GE(fd, 0);
        EXPECT_EQ(write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
        close(fd);
    }
    ~TempFile() { unlink(path_.c_str()); }
    const char* path() const { return path_.c_str(); }

private:
    std::string path_;
};

TEST(Config, ReadsTheBodyFromAFile) {
    const TempFile file("hello\nfile\0with a NUL"sv);
    EXPECT_EQ(made_body({"--body-file", file.path()}), "hello\nfile\0with a NUL"sv);

    const TempFile empty("");
    const std::string variable = "URING_OKAY_BODY_FILE=" + std::string(empty.path());
    EXPECT_EQ(made_body({}, {variable.c_str()}), "");
}

TEST(Config, NamesTheErrnoOfABodyFileItCannotRead) {
    EXPECT_EQ(error_of({"--body-file", "/nonexistent/uring-okay-body"}),
              "--body-file /nonexistent/uring-okay-body: ENOENT (No such file or directory)");
    EXPECT_EQ(error_of({"--body-file", "/"}), "--body-file /: must name a regular file");
    EXPECT_EQ(error_of({"--body-file="}), "--body-file '': needs a path");
    const TempFile fifo("");  // a name to put the FIFO at
    ASSERT_EQ(unlink(fifo.path()), 0);
    ASSERT_EQ(mkfifo(fifo.path(), 0600), 0);
    EXPECT_EQ(error_of({"--body-file", fifo.path()}),
              "--body-file " + std::string(fifo.path()) + ": must name a regular file");
    EXPECT_EQ(error_of({}, {"URING_OKAY_BODY_FILE=/nonexistent/x"}),
              "URING_OKAY_BODY_FILE=/nonexistent/x: ENOENT (No such file or directory)");
}

TEST(Config, RefusesABodyFilePastTheCeiling) {
    const TempFile file("");
    ASSERT_EQ(truncate(file.path(), off_t(body_bytes_ceiling + 1)), 0);  // sparse: nothing written
    EXPECT_EQ(error_of({"--body-file", file.path()}),
              "--body-file " + std::string(file.path()) + ": is 67108865 bytes, past 64M");
}

// What --body-size N must give: the first N bytes of the alphabet and digits, line after line.
std::string_view generated(std::size_t bytes) {
    static const std::string lines = [] {
        std::string text;
        while (text.size() < body_bytes_ceiling) text += "abcdefghijklmnopqrstuvwxyz0123456789\n";
        return text;
    }();
    return std::string_view(lines).substr(0, bytes);
}

TEST(Config, GeneratesABodyOfExactlyTheSizeAsked) {
    const std::pair<const char*, std::size_t> cases[] = {
        {"0", 0},   {"1", 1},       {"36", 36},   {"37", 37},
        {"38", 38}, {"1000", 1000}, {"1K", 1024}, {"64M", 64u << 20}};
    for (const auto& [text, bytes] : cases) {
        const std::string body = made_body({"--body-size", text});
        EXPECT_EQ(body.size(), bytes) << text;
        EXPECT_TRUE(body == generated(bytes)) << text;
    }
    EXPECT_EQ(generated(38), "abcdefghijklmnopqrstuvwxyz0123456789\na");
    EXPECT_EQ(error_of({"--body-size", "65M"}),
              "--body-size 65M: must be a byte count from 0 to 64M, like 4096 or 4K");
    EXPECT_EQ(error_of({"--body-size", "-1"}),
              "--body-size -1: must be a byte count from 0 to 64M, like 4096 or 4K");
}

TEST(Config, TakesOneOfBodyBodyFileAndBodySize) {
    EXPECT_EQ(error_of({"--body", "a", "--body-size", "3"}),
              "--body-size 3: cannot be combined with --body");
    EXPECT_EQ(error_of({"--body-file", "/x", "--body", "y"}),
              "--body y: cannot be combined with --body-file");
    EXPECT_EQ(error_of({"--body-size", "1", "--body-file", "/x"}),
              "--body-file /x: cannot be combined with --body-size");
    EXPECT_EQ(error_of({}, {"URING_OKAY_BODY=a", "URING_OKAY_BODY_SIZE=3"}),
              "URING_OKAY_BODY_SIZE=3: cannot be combined with URING_OKAY_BODY");
    EXPECT_EQ(parsed_fine({"--body", "a", "--body", "b"}).body, "b");

    // A flag beats the environment here too, whichever of the three each one is.
    EXPECT_EQ(made_body({"--body-size", "3"}, {"URING_OKAY_BODY=from env"}), "abc");
    EXPECT_EQ(parsed_fine({"--body", "flag"}, {"URING_OKAY_BODY_FILE=/nonexistent"}).body, "flag");
}

TEST(Config, ReadsNothingWhenALaterFlagFails) {
    EXPECT_EQ(error_of({"--body-size", "1K", "--threads", "0"}),
              "--threads 0: must be a whole number from 1 to 1024");
    // Under LeakSanitizer, a body allocated before the error would be reported as a leak.
    EXPECT_EQ(error_of({"--body-size", "1K", "--request-line-bytes-max", "20000"}),
              "--request-line-bytes-max 20000: must not exceed --header-bytes-max (16384)");
}

TEST(Config, ShowsAValueSafelyInAMessage) {
    const std::string longest(400, 'x');
    const std::string message = error_of({"--engine", longest.c_str()});
    EXPECT_EQ(message, "--engine " + std::string(80, 'x') + "...: must be auto, uring or epoll");
    EXPECT_EQ(error_of({"--engine", "a\x1b[2Jb"}),
              "--engine a\\x1b[2Jb: must be auto, uring or epoll");
    EXPECT_EQ(error_of({"--engine", "a b"}), "--engine 'a b': must be auto, uring or epoll");
}

std::string help_text() {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    write_help(fds[1]);
    close(fds[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(fds[0], buffer, sizeof buffer)) > 0;)
        text.append(buffer, std::size_t(n));
    close(fds[0]);
    return text;
}

// The line of --help that shows `flag`, or "" without one.
std::string help_line(const std::string& help, const std::string& flag) {
    const std::size_t at = help.find(flag + " ");
    if (at == std::string::npos) return "";
    const std::size_t start = help.rfind('\n', at) + 1;
    return help.substr(start, help.find('\n', at) - start);
}

TEST(Config, WritesHelpWithEveryFlagAndDefault) {
    const std::string help = help_text();
    for (const char* section :
         {"\nListening and threads:\n", "\nAnswer:\n", "\nReadiness, metrics and logs:\n",
          "\nLimits (", "\nEngine and output:\n"}) {
        EXPECT_NE(help.find(section), std::string::npos) << section;
    }
    for (const char* flag :
         {"  -l, --listen ADDR:PORT", "  -t, --threads N", "--cpus LIST", "--status CODE",
          "--body TEXT", "--body-file PATH", "--body-size BYTES", "--content-type TYPE",
          "  -H, --header 'NAME: VALUE'", "--server NAME", "--no-date", "--minimal",
          "--engine auto|uring|epoll", "--disable FEATURE", "--sandbox on|off", "  -q, --quiet",
          "  -h, --help", "  -V, --version", "--query-knobs", "--ready-path PATH",
          "--ready-when COND", "--metrics-path PATH", "--access-log"}) {
        EXPECT_NE(help_line(help, flag), "") << flag;
    }
    for (const char* flag :
         {"--request-line-bytes-max BYTES", "--header-bytes-max BYTES", "--header-count-max N",
          "--body-bytes-max BYTES", "--connections-max N", "--buffer-count N",
          "--buffer-bytes BYTES", "--batch-count N", "--owed-max N", "--header-timeout-ms MS",
          "--idle-timeout-ms MS", "--drain-timeout-ms MS", "--linger-ms MS",
          "--knob-delay-max-ms MS", "--knob-size-max BYTES", "--ready-check-ms MS",
          "--access-log-bytes BYTES"}) {
        EXPECT_NE(help_line(help, flag).find("(default "), std::string::npos) << flag;
    }
    const Limits defaults;
    EXPECT_TRUE(help_line(help, "--header-count-max N")
                    .ends_with("(default " + std::to_string(defaults.header_count_max) + ")"));
    EXPECT_TRUE(help_line(help, "--body-bytes-max BYTES").ends_with("(default 64M)"));
    EXPECT_TRUE(help_line(help, "--idle-timeout-ms MS").ends_with("(default 60s)"));
    EXPECT_NE(help.find("registered-ring"), std::string::npos);
    EXPECT_NE(help.find("URING_OKAY_HEADER_BYTES_MAX"), std::string::npos);
    EXPECT_TRUE(std::string_view(help).ends_with("A bad flag exits 2.\n"));  // nothing cut
    std::size_t lines = 0;
    for (std::size_t start = 0, end; (end = help.find('\n', start)) != std::string::npos;
         start = end + 1) {
        ++lines;
        EXPECT_LE(end - start, 100u) << help.substr(start, end - start);
    }
    EXPECT_LE(lines, 90u);
}

}  // namespace
}  // namespace uring_okay
