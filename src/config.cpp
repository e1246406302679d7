// Flags and environment into a Config. One table names every flag: its form, its --help line and
// the handler that checks and stores its value; limits use limits.hpp's ceilings. --body-file is
// read and --body-size filled once, after every flag passed. Knows no sockets and no rings.
#include "uring_okay/config.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <new>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

#include "uring_okay/text.hpp"

namespace uring_okay {
namespace {

constexpr std::size_t npos = std::string_view::npos;
constexpr std::string_view env_prefix = "URING_OKAY_";
constexpr std::uint16_t default_port = 8080;
constexpr std::size_t env_name_bytes_max = 48;          // URING_OKAY_NAME and its NUL
constexpr std::size_t shown_bytes_max = 80;             // of a value echoed in a message
constexpr std::uint64_t request_line_bytes_floor = 16;  // limits_related_validly's
constexpr std::uint64_t day_ms = 86'400'000;            // the longest timeout anyone means
// Nothing is sized from body_bytes_max (a body is only skipped), so no ceiling is in limits.hpp;
// this one keeps the number readable.
constexpr std::uint64_t body_bytes_max_ceiling = 1ull << 40;

// string_view::substr, clamped instead of checked: its std::out_of_range would pull exception
// support into the static binary.
[[nodiscard]] constexpr std::string_view head(std::string_view text, std::size_t bytes) noexcept {
    return {text.data(), bytes < text.size() ? bytes : text.size()};
}
[[nodiscard]] constexpr std::string_view tail(std::string_view text, std::size_t index) noexcept {
    text.remove_prefix(index < text.size() ? index : text.size());
    return text;
}

enum class Unit : std::uint8_t { count, power_of_two, bytes, ms };

// Pieces of a message besides text and numbers.
struct Shown {  // a user's value: controls escaped, cut past shown_bytes_max, quoted if spaced
    std::string_view value;
};
struct Amount {  // 16K, 10s, 250ms or 100, as --help writes defaults
    Unit unit;
    std::uint64_t value;
};
struct Errno {  // "ENOENT (No such file or directory)"
    int number;
};
struct Choice {
    const char* name;
    std::uint32_t value;
};
struct Choices {  // "a, b or c"
    std::span<const Choice> choices;
};
struct FlagName {  // --name, or URING_OKAY_NAME
    std::string_view name;
    bool from_env;
};

// What fills a "{}" in a message. One function writes every message (Parser::fail_at), so a call
// site costs a pointer and a few stores rather than a template copy of its own.
struct Part {
    enum class Kind : std::uint8_t { text, number, shown, amount, choices, error, flag_name };
    // NOLINTBEGIN(clang-analyzer-optin.cplusplus.UninitializedObject): unit and from_env are
    // read only for the kinds whose constructors set them; setting them in every constructor
    // would cost a store at each of the call sites.
    Part(std::string_view text) noexcept : kind(Kind::text), text(text) {}
    Part(const char* text) noexcept : Part(std::string_view(text)) {}
    Part(std::uint64_t number) noexcept : kind(Kind::number), number(number) {}
    Part(const Shown& shown) noexcept : kind(Kind::shown), text(shown.value) {}
    Part(Amount amount) noexcept : kind(Kind::amount), unit(amount.unit), number(amount.value) {}
    Part(Choices choices) noexcept : kind(Kind::choices), choices(choices.choices) {}
    Part(Errno error) noexcept : kind(Kind::error), number(std::uint64_t(error.number)) {}
    Part(const FlagName& flag) noexcept
        : kind(Kind::flag_name), from_env(flag.from_env), text(flag.name) {}
    // NOLINTEND(clang-analyzer-optin.cplusplus.UninitializedObject)

    Kind kind;
    // Each set only by its own kind's constructor: a Part is built at every call site.
    Unit unit;      // of an amount
    bool from_env;  // of a flag name
    union {
        std::string_view text;  // text, shown
        std::uint64_t number;   // number, amount, error
        std::span<const Choice> choices;
    };
};

void add_shown(Text& text, std::string_view value) noexcept {
    bool quoted = value.empty();
    for (const char c : value) quoted |= c == ' ' || c == '\t' || c == '\'' || c == '"';
    if (quoted) text.push('\'');
    for (std::size_t i = 0; i < value.size() && i < shown_bytes_max; ++i) {
        const auto byte = static_cast<unsigned char>(value[i]);
        if (byte >= 0x20 && byte != 0x7f) {
            text.push(value[i]);
            continue;
        }
        constexpr std::string_view hex = "0123456789abcdef";
        text.push('\\');
        if (byte == '\r')
            text.push('r');
        else if (byte == '\n')
            text.push('n');
        else if (byte == '\t')
            text.push('t');
        else
            text.push('x').push(hex[byte >> 4]).push(hex[byte & 15]);
    }
    if (value.size() > shown_bytes_max) text.add("...");
    if (quoted) text.push('\'');
}

// 16K, 10s, 250ms or 100, as --help writes defaults.
void add_amount(Text& text, Unit unit, std::uint64_t n) noexcept {
    if (unit == Unit::ms) {
        if (n != 0 && n % 1000 == 0)
            text.add(n / 1000).add("s");
        else
            text.add(n).add("ms");
    } else if (unit != Unit::bytes || n == 0) {
        text.add(n);
    } else if (n % (1u << 30) == 0) {
        text.add(n >> 30).add("G");
    } else if (n % (1u << 20) == 0) {
        text.add(n >> 20).add("M");
    } else if (n % (1u << 10) == 0) {
        text.add(n >> 10).add("K");
    } else {
        text.add(n);
    }
}

// --name, or as the environment spells it: URING_OKAY_ and the name in upper case with '_' for
// '-', like URING_OKAY_HEADER_BYTES_MAX.
void add_flag_name(Text& text, std::string_view name, bool from_env) noexcept {
    if (!from_env) {
        text.add("--").add(name);
        return;
    }
    text.add(env_prefix);
    for (const char c : name) text.push(c == '-' ? '_' : c >= 'a' && c <= 'z' ? char(c - 32) : c);
}

void add_part(Text& text, const Part& part) noexcept {
    switch (part.kind) {
        case Part::Kind::text:
            text.add(part.text);
            return;
        case Part::Kind::number:
            text.add(part.number);
            return;
        case Part::Kind::shown:
            add_shown(text, part.text);
            return;
        case Part::Kind::amount:
            add_amount(text, part.unit, part.number);
            return;
        case Part::Kind::error:
            text.add_errno(int(part.number));
            return;
        case Part::Kind::flag_name:
            add_flag_name(text, part.text, part.from_env);
            return;
        case Part::Kind::choices:  // "a, b or c"
            for (std::size_t i = 0; i < part.choices.size(); ++i) {
                if (i > 0) text.add(i + 1 == part.choices.size() ? " or " : ", ");
                text.add(part.choices[i].name);
            }
            return;
    }
}

struct Parser;
using Handler = bool (*)(Parser& p, std::string_view value);  // false after a usage error

enum class Form : std::uint8_t {
    value,   // --name VALUE or --name=VALUE; the environment holds one value
    toggle,  // --name; in the environment 1 or 0
    action,  // --help, --version: the command line only
};
enum class Section : std::uint8_t { listening, answer, operations, limits, engine };

// A flag as parsing and --help use it. The table below is written with whole strings and rules
// (FlagSpec) and made compact at compile time: its strings packed into one array and its handlers
// into another, each once, and the rules of limits apart, in limit_rules.
struct Flag {
    std::uint16_t name_at;     // --name, and URING_OKAY_NAME in the environment
    std::uint16_t metavar_at;  // --help's word for the value
    std::uint16_t meaning_at;  // --help's text: '\n' continues under it; limits add the default
    char short_name;           // -x, or 0
    Form form;
    Section section;
    std::uint8_t handler_at;
    std::uint8_t limit;  // Section::limits: its rule in limit_rules
    Unit unit;           // Section::limits: what the value counts

    [[nodiscard]] std::string_view name() const noexcept;
    [[nodiscard]] std::string_view metavar() const noexcept;
    [[nodiscard]] std::string_view meaning() const noexcept;
    [[nodiscard]] Handler handler() const noexcept;
};

// 16 bytes: the unit is in the flag's row, and body_bytes_max (the one 64-bit limit, with a null
// field) keeps its ceiling in limit_max.
struct LimitRule {
    std::uint32_t Limits::*field;
    std::uint32_t min;
    std::uint32_t max;
};
[[nodiscard]] const LimitRule& rule_of(const Flag& flag) noexcept;

// Where the value a flag holds came from, for messages.
struct Origin {
    std::string_view value;
    bool given = false;      // on the command line or in the environment
    bool from_env = false;   // URING_OKAY_NAME=value rather than --name value
    bool has_value = false;  // a switch on the command line has none
};

constexpr std::size_t flags_max = 56;
[[nodiscard]] std::size_t index_of(const Flag& flag) noexcept;

void add_origin(Text& text, const Flag& flag, const Origin& origin) noexcept {
    add_flag_name(text, flag.name(), origin.from_env);
    if (origin.from_env)
        add_shown(text.push('='), origin.value);
    else if (origin.has_value)
        add_shown(text.push(' '), origin.value);
}

struct Parser {
    Config& config;
    ParseResult& result;
    const Flag* flag = nullptr;  // the one being applied
    Origin origins[flags_max] = {};
    const Flag* body_flag = nullptr;  // which of --body, --body-file, --body-size holds the body
    std::string_view body_path = {};  // read once every flag passed
    std::optional<std::uint64_t> body_bytes = {};
    std::string_view health_path = {};
    std::string_view ready_path = {};
    std::string_view metrics_path = {};

    Origin& origin_of(const Flag& which) noexcept { return origins[index_of(which)]; }

    // Each writes the usage error "ORIGIN: reason", each "{}" in `reason` filled by the next of
    // `parts`, and returns false: `return p.fail("CPU {} is named twice", {cpu})`.
    bool fail(const char* reason, std::initializer_list<Part> parts = {}) noexcept {
        return fail_at(flag, reason, parts);
    }
    bool fail_plain(const char* reason, std::initializer_list<Part> parts = {}) noexcept {
        return fail_at(nullptr, reason, parts);
    }
    bool fail_at(const Flag* which, const char* reason,
                 std::initializer_list<Part> parts = {}) noexcept;
};

bool Parser::fail_at(const Flag* which, const char* reason,
                     std::initializer_list<Part> parts) noexcept {
    result.outcome = ParseOutcome::usage_error;
    Text text{result.message};
    if (which != nullptr) {
        add_origin(text, *which, origin_of(*which));
        text.add(": ");
    }
    const Part* part = parts.begin();
    for (; *reason != '\0'; ++reason) {
        if (reason[0] == '{' && reason[1] == '}' && part != parts.end()) {
            add_part(text, *part++);
            ++reason;
        } else {
            text.push(*reason);
        }
    }
    return false;
}

// --- Values -------------------------------------------------------------------------------------

constexpr Choice byte_units[] = {{"", 1},          {"K", 1u << 10},   {"KiB", 1u << 10},
                                 {"M", 1u << 20},  {"MiB", 1u << 20}, {"G", 1u << 30},
                                 {"GiB", 1u << 30}};
constexpr Choice duration_units[] = {{"", 1}, {"ms", 1}, {"s", 1000}};
constexpr Choice switch_words[] = {{"1", 1},     {"true", 1}, {"yes", 1}, {"on", 1}, {"0", 0},
                                   {"false", 0}, {"no", 0},   {"off", 0}, {"", 0}};
constexpr Choice engines[] = {{"auto", std::uint32_t(EngineChoice::automatic)},
                              {"uring", std::uint32_t(EngineChoice::uring)},
                              {"epoll", std::uint32_t(EngineChoice::epoll)}};
constexpr Choice sandbox_states[] = {{"on", 1}, {"off", 0}};
constexpr Choice features[] = {{"defer-taskrun", feature::defer_taskrun},
                               {"coop-taskrun", feature::coop_taskrun},
                               {"multishot-accept", feature::multishot_accept},
                               {"multishot-recv", feature::multishot_recv},
                               {"registered-ring", feature::registered_ring}};

[[nodiscard]] std::optional<std::uint32_t> find_choice(std::span<const Choice> choices,
                                                       std::string_view name) noexcept {
    for (const Choice& choice : choices) {
        if (choice.name == name) return choice.value;
    }
    return std::nullopt;
}

[[nodiscard]] std::optional<std::uint64_t> parse_whole(std::string_view text) noexcept {
    if (text.empty()) return std::nullopt;
    std::uint64_t number = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, number);
    if (error != std::errc{} || stop != end) return std::nullopt;
    return number;
}

// "16K" with byte_units, "10s" with duration_units: digits, then one of the units.
[[nodiscard]] std::optional<std::uint64_t> parse_scaled(std::string_view text,
                                                        std::span<const Choice> units) noexcept {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    const std::optional<std::uint64_t> number = parse_whole(head(text, digits));
    const std::optional<std::uint32_t> unit = find_choice(units, tail(text, digits));
    if (!number || !unit || *number > ~std::uint64_t{0} / *unit) return std::nullopt;
    return *number * *unit;
}

[[nodiscard]] std::optional<std::uint64_t> parse_amount(Unit unit, std::string_view text) noexcept {
    if (unit == Unit::bytes) return parse_scaled(text, byte_units);
    if (unit == Unit::ms) return parse_scaled(text, duration_units);
    return parse_whole(text);
}

// "must be a byte count from 16 to 1M, like 4096 or 4K": the value is not in [min, max].
bool fail_range(Parser& p, Unit unit, std::uint64_t min, std::uint64_t max) noexcept {
    constexpr const char* kinds[] = {"a whole number", "a power of two", "a byte count",
                                     "a duration"};  // by Unit
    constexpr const char* examples[] = {"", "", ", like 4096 or 4K", ", like 250ms or 10s"};
    return p.fail("must be {} from {} to {}{}",
                  {kinds[int(unit)], Amount{unit, min}, Amount{unit, max}, examples[int(unit)]});
}

[[nodiscard]] std::optional<std::uint64_t> whole_in(Parser& p, std::string_view value,
                                                    std::uint64_t min, std::uint64_t max) noexcept {
    const std::optional<std::uint64_t> number = parse_whole(value);
    if (number && *number >= min && *number <= max) return number;
    fail_range(p, Unit::count, min, max);
    return std::nullopt;
}

[[nodiscard]] std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    const std::optional<std::uint64_t> number = parse_whole(text);
    if (!number || *number > 65'535) return std::nullopt;
    return std::uint16_t(*number);
}

// `name` is `lower`, a lower-case C string, whatever the case of its letters. A token holds no
// NUL, so the end of `lower` differs from any byte of `name`.
[[nodiscard]] bool is_named(std::string_view name, const char* lower) noexcept {
    for (const char c : name) {
        if ((c >= 'A' && c <= 'Z' ? char(c + 32) : c) != *lower++) return false;
    }
    return *lower == '\0';
}

// RFC 9110 §5.6.2: tchar.
[[nodiscard]] bool is_token(std::string_view text) noexcept {
    constexpr std::string_view marks = "!#$%&'*+-.^_`|~";
    for (const char c : text) {
        const bool alphanumeric =
            (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
        if (!alphanumeric && marks.find(c) == npos) return false;
    }
    return !text.empty();
}

// RFC 9110 §5.5: visible characters, SP, HTAB and obs-text; never CR, LF, NUL or other controls.
[[nodiscard]] bool is_field_value(std::string_view text) noexcept {
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7f) return false;
    }
    return true;
}
constexpr const char* field_value_rule =
    "may hold visible characters, spaces and tabs only: no CR, LF, NUL or other controls";

// --- Handlers: each checks one value and stores it ----------------------------------------------

[[nodiscard]] std::uint64_t limit_value(const Limits& limits, const LimitRule& rule) noexcept {
    return rule.field != nullptr ? limits.*rule.field : limits.body_bytes_max;
}

[[nodiscard]] std::uint64_t limit_max(const LimitRule& rule) noexcept {
    return rule.field != nullptr ? rule.max : body_bytes_max_ceiling;
}

bool set_limit(Parser& p, std::string_view value) {
    const LimitRule& rule = rule_of(*p.flag);
    const Unit unit = p.flag->unit;
    const std::optional<std::uint64_t> number = parse_amount(unit, value);
    // Each power of two is at least its rule's min of 1. Not std::has_single_bit: without
    // popcnt, -Os calls libgcc's __popcountdi2 for it.
    const bool fits = number && *number >= rule.min && *number <= limit_max(rule) &&
                      (unit != Unit::power_of_two || (*number & (*number - 1)) == 0);
    if (!fits) return fail_range(p, unit, rule.min, limit_max(rule));
    if (rule.field != nullptr)
        p.config.limits.*rule.field = std::uint32_t(*number);
    else
        p.config.limits.body_bytes_max = *number;
    return true;
}

// inet_pton's grammar, written here: musl's costs 830 B. config_test checks that both agree on
// every address it tries. Each parser reads a NUL-terminated string.

// inet_pton(AF_INET): four decimal bytes split by '.', without leading zeros.
[[nodiscard]] bool parse_ipv4(const char* text, std::uint8_t* address) noexcept {
    for (int i = 0; i < 4; ++i) {
        int digits = 0;
        unsigned value = 0;
        for (; text[digits] >= '0' && text[digits] <= '9'; ++digits)
            value = value * 10 + unsigned(text[digits] - '0');
        if (digits == 0 || digits > 3 || (digits > 1 && text[0] == '0') || value > 255)
            return false;
        address[i] = std::uint8_t(value);
        text += digits;
        if (*text++ != (i < 3 ? '.' : '\0')) return false;
    }
    return true;
}

[[nodiscard]] int hex_value(char c) noexcept {
    const char lower = char(c | 0x20);
    if (c >= '0' && c <= '9') return c - '0';
    if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
    return -1;
}

// inet_pton(AF_INET6): eight groups of one to four hex digits split by ':', the last two of which
// may be an IPv4 address instead; one "::" stands for one or more zero groups.
[[nodiscard]] bool parse_ipv6(const char* text, std::uint8_t (&address)[16]) noexcept {
    std::uint8_t bytes[16] = {};
    int used = 0;  // of `bytes`
    int gap = -1;  // where "::" stands in `bytes`
    // A leading ':' only as "::".
    if (*text == ':' && *++text != ':') return false;
    for (;;) {
        if (*text == ':' && gap < 0) {  // the second ':' of "::"
            gap = used;
            if (*++text == '\0') break;
            continue;
        }
        if (used == 16) return false;
        int digits = 0;
        unsigned value = 0;
        for (int digit = 0; (digit = hex_value(text[digits])) >= 0; ++digits)
            value = value * 16 + unsigned(digit);
        if (text[digits] == '.') {  // the IPv4 address, last
            if (used > 12 || !parse_ipv4(text, bytes + used)) return false;
            used += 4;
            break;
        }
        if (digits == 0 || digits > 4) return false;
        bytes[used++] = std::uint8_t(value >> 8);
        bytes[used++] = std::uint8_t(value);
        text += digits;
        if (*text == '\0') break;
        if (*text++ != ':') return false;
    }
    // "::" stands for one zero group or more.
    if (gap < 0 ? used != 16 : used > 14) return false;
    if (gap < 0) gap = used;
    // The bytes after the gap move to the end; those it stands for stay zero.
    std::memset(address, 0, sizeof address);
    std::memcpy(address, bytes, std::size_t(gap));
    std::memcpy(address + 16 - (used - gap), bytes + gap, std::size_t(used - gap));
    return true;
}

// The parsers want a C string, and `host` is only part of one.
[[nodiscard]] bool parse_host(std::string_view host, int family, std::uint8_t (&address)[16]) {
    char text[64];
    if (host.size() >= sizeof text) return false;
    std::memcpy(text, host.data(), host.size());
    text[host.size()] = '\0';
    return family == AF_INET ? parse_ipv4(text, address) : parse_ipv6(text, address);
}

[[nodiscard]] bool is_listed(const Config& config, const ListenAddress& address) noexcept {
    for (std::size_t i = 0; i < config.listen_count; ++i) {
        const ListenAddress& other = config.listen[i];
        if (other.family == address.family && other.port == address.port &&
            std::memcmp(other.address, address.address, sizeof address.address) == 0)
            return true;
    }
    return false;
}

// 0.0.0.0:8080, [::1]:8080, :8080 (every IPv4 address) or 8080.
[[nodiscard]] bool parse_address(Parser& p, std::string_view value, ListenAddress& address) {
    address.family = AF_INET;
    std::string_view host = "0.0.0.0";
    std::string_view port = value;
    if (value.starts_with('[')) {
        std::size_t close = 1;  // the first "]:", by hand: find("]:") inlines a substring search
        while (close + 1 < value.size() && (value[close] != ']' || value[close + 1] != ':'))
            ++close;
        if (close + 1 >= value.size())
            return p.fail("an IPv6 address needs a port after it: [::1]:8080");
        address.family = AF_INET6;
        host = head(tail(value, 1), close - 1);
        port = tail(value, close + 2);
    } else if (const std::size_t colon = value.rfind(':'); colon != npos) {
        if (colon > 0) host = head(value, colon);
        port = tail(value, colon + 1);
        if (host.find(':') != npos) return p.fail("an IPv6 address goes in brackets: [::1]:8080");
    }
    if (!parse_host(host, address.family, address.address))
        return p.fail("the address must be IPv4 like 127.0.0.1 or IPv6 in brackets like [::1]");
    const std::optional<std::uint16_t> number = parse_port(port);
    if (!number) return p.fail("the port must be a whole number from 0 to 65535");
    address.port = *number;
    Text{address.text, sizeof address.text}.add(value);
    return true;
}

bool add_listen(Parser& p, std::string_view value) {
    Config& config = p.config;
    if (config.listen_count == listen_max) return p.fail("at most {} addresses", {listen_max});
    // Parsed in place, into the next entry as Config cleared it: a usage error ends parsing, so
    // an entry left half written is never counted or reused.
    ListenAddress& address = config.listen[config.listen_count];
    if (!parse_address(p, value, address)) return false;
    // SO_REUSEPORT would let both bind and split the connections between them.
    if (address.port != 0 && is_listed(config, address)) return p.fail("given twice");
    ++config.listen_count;
    return true;
}

bool set_threads(Parser& p, std::string_view value) {
    const std::optional<std::uint64_t> threads = whole_in(p, value, 1, threads_ceiling);
    if (threads) p.config.threads = std::uint32_t(*threads);
    return threads.has_value();
}

// One item of --cpus, "3" or "1-3": appends its CPUs, refusing any named before.
bool add_cpus(Parser& p, std::string_view item, std::uint64_t (&seen)[cpus_max / 64]) {
    const std::size_t dash = item.find('-');
    const std::optional<std::uint64_t> first = parse_whole(head(item, dash));
    const std::optional<std::uint64_t> last =
        dash == npos ? first : parse_whole(tail(item, dash + 1));
    if (!first || !last || *first >= cpus_max || *last >= cpus_max)
        return p.fail("CPUs must be numbers from 0 to {}, like 0,2 or 1-3,5", {cpus_max - 1});
    if (*first > *last) return p.fail("the range {}-{} runs backwards", {*first, *last});
    for (std::uint64_t cpu = *first; cpu <= *last; ++cpu) {
        const std::uint64_t bit = 1ull << (cpu % 64);
        if (seen[cpu / 64] & bit) return p.fail("CPU {} is named twice", {cpu});
        seen[cpu / 64] |= bit;
        p.config.cpus[p.config.cpu_count++] = std::uint16_t(cpu);  // fits: each CPU once
    }
    return true;
}

bool set_cpus(Parser& p, std::string_view value) {
    static_assert(cpus_max % 64 == 0);
    std::uint64_t seen[cpus_max / 64] = {};
    p.config.cpu_count = 0;  // given again, the last list wins
    for (;;) {
        const std::size_t comma = value.find(',');
        if (!add_cpus(p, head(value, comma), seen)) return false;
        if (comma == npos) return true;
        value = tail(value, comma + 1);
    }
}

// One of `choices` by name, or the usage error "must be a, b or c".
[[nodiscard]] std::optional<std::uint32_t> choose(Parser& p, std::string_view value,
                                                  std::span<const Choice> choices,
                                                  const char* reason = "must be {}") noexcept {
    const std::optional<std::uint32_t> choice = find_choice(choices, value);
    if (!choice) p.fail(reason, {Choices{choices}});
    return choice;
}

bool set_engine(Parser& p, std::string_view value) {
    const std::optional<std::uint32_t> engine = choose(p, value, engines);
    if (engine) p.config.engine = EngineChoice(*engine);
    return engine.has_value();
}

bool add_disabled(Parser& p, std::string_view value) {
    const std::optional<std::uint32_t> bit = choose(p, value, features, "must be one of {}");
    if (bit) p.config.disabled_features |= *bit;
    return bit.has_value();
}

bool set_status(Parser& p, std::string_view value) {
    const std::optional<std::uint64_t> status = whole_in(p, value, 100, 999);
    if (status) p.config.status = std::uint16_t(*status);
    return status.has_value();
}

enum class Claim : std::uint8_t { take, leave, refused };

// --body, --body-file and --body-size each say what the body is, so one may be given. A flag
// beats the environment, as everywhere, and a flag given again replaces its value.
[[nodiscard]] Claim claim_body(Parser& p) noexcept {
    const Flag* holder = p.body_flag;
    if (holder == nullptr || holder == p.flag) {
        p.body_flag = p.flag;
        return Claim::take;
    }
    const bool held_from_env = p.origin_of(*holder).from_env;
    if (p.origin_of(*p.flag).from_env && !held_from_env) return Claim::leave;
    (void)p.fail("cannot be combined with {}", {FlagName{holder->name(), held_from_env}});
    return Claim::refused;
}

bool set_body(Parser& p, std::string_view value) {
    const Claim claim = claim_body(p);
    if (claim == Claim::take) p.config.body = value;
    return claim != Claim::refused;
}

bool set_body_file(Parser& p, std::string_view value) {
    if (value.empty()) return p.fail("needs a path");
    const Claim claim = claim_body(p);
    if (claim == Claim::take) p.body_path = value;
    return claim != Claim::refused;
}

bool set_body_size(Parser& p, std::string_view value) {
    const std::optional<std::uint64_t> bytes = parse_scaled(value, byte_units);
    if (!bytes || *bytes > body_bytes_ceiling)
        return fail_range(p, Unit::bytes, 0, body_bytes_ceiling);
    const Claim claim = claim_body(p);
    if (claim == Claim::take) p.body_bytes = *bytes;
    return claim != Claim::refused;
}

bool set_content_type(Parser& p, std::string_view value) {
    if (!is_field_value(value)) return p.fail(field_value_rule);
    p.config.content_type = value;
    return true;
}

bool set_server(Parser& p, std::string_view value) {
    if (!is_field_value(value)) return p.fail(field_value_rule);
    p.config.server = value;
    return true;
}

struct Written {
    const char* name;
    const char* reason;
};
constexpr Written written_by_us[] = {
    {"content-length", "uring-okay writes Content-Length itself"},
    {"transfer-encoding",
     "uring-okay frames its body with Content-Length, never Transfer-Encoding"},
    {"connection", "uring-okay writes Connection itself"},
    {"date", "uring-okay writes Date itself; --no-date leaves it out"},
    {"content-type", "set Content-Type with --content-type"},
    {"server", "set Server with --server"},
};

// "Name: value", kept as given: the response writes it as one field line.
bool add_header(Parser& p, std::string_view value) {
    Config& config = p.config;
    if (config.header_count == headers_max) return p.fail("at most {} fields", {headers_max});
    const std::size_t colon = value.find(':');
    if (colon == npos) return p.fail("must be 'Name: value'");
    const std::string_view name = head(value, colon);
    if (!is_token(name))
        return p.fail("the name must be a token: letters, digits and !#$%&'*+-.^_`|~");
    for (const Written& written : written_by_us) {
        if (is_named(name, written.name)) return p.fail(written.reason);
    }
    if (!is_field_value(tail(value, colon + 1))) return p.fail("the value {}", {field_value_rule});
    config.headers[config.header_count++] = value;
    return true;
}

// --- Routes, delays ----------------------------------------------------------------------------

// A path as an origin-form request-target spells it before any query: '/' then visible bytes.
[[nodiscard]] bool is_route_path(std::string_view path) noexcept {
    if (path.empty() || path[0] != '/') return false;
    for (const char c : path) {
        if (c <= ' ' || c == '?' || c >= 0x7f) return false;
    }
    return true;
}

[[nodiscard]] bool add_route_path(Parser& p, std::string_view path,
                                  const RouteAnswer& answer) noexcept {
    Routes& routes = p.config.routes;
    if (!is_route_path(path)) {
        return p.fail("the path must start with '/' and hold visible characters, no '?'");
    }
    if (routes.count == Routes::max) return p.fail("at most {} paths", {Routes::max});
    // Kept sorted, so the framer can narrow the candidates byte by byte.
    std::uint8_t at = 0;
    for (std::uint8_t i = 0; i < routes.count; ++i) {
        const int order = routes.paths[i].compare(path);
        if (order == 0) return p.fail("{} already has an answer", {path});
        at += order < 0;
    }
    for (std::uint8_t i = routes.count++; i > at; --i) {
        routes.paths[i] = routes.paths[i - 1];
        p.config.route_answers[i] = p.config.route_answers[i - 1];
    }
    routes.paths[at] = path;
    p.config.route_answers[at] = answer;
    return true;
}

// PATH=STATUS or PATH=STATUS:BODY; without a body, the status's reason phrase.
bool add_route(Parser& p, std::string_view value) {
    const std::size_t equals = value.find('=');
    if (equals == npos) return p.fail("must be PATH=STATUS or PATH=STATUS:BODY");
    const std::string_view rest = tail(value, equals + 1);
    const std::size_t colon = rest.find(':');
    const std::optional<std::uint64_t> status = whole_in(p, head(rest, colon), 100, 999);
    if (!status) return false;
    RouteAnswer answer{std::uint16_t(*status), reason_phrase(std::uint16_t(*status))};
    if (colon != npos) answer.body = tail(rest, colon + 1);
    return add_route_path(p, head(value, equals), answer);
}

bool set_health_path(Parser& p, std::string_view value) {
    p.health_path = value;
    return add_route_path(p, value, RouteAnswer{200, "OK"});
}

bool set_ready_path(Parser& p, std::string_view value) {
    p.ready_path = value;
    return add_route_path(p, value, RouteAnswer{200, "OK"});
}

bool set_metrics_path(Parser& p, std::string_view value) {
    p.metrics_path = value;
    return add_route_path(p, value, RouteAnswer{200, {}});
}

// file:PATH (exists) or tcp:ADDR:PORT (accepts a connection), like tcp:127.0.0.1:5432.
bool add_ready_condition(Parser& p, std::string_view value) {
    Config& config = p.config;
    if (config.ready_count == ready_conditions_max)
        return p.fail("at most {} conditions", {ready_conditions_max});
    ReadyCondition& condition = config.ready_when[config.ready_count];  // as in add_listen
    if (value.starts_with("file:") && value.size() > 5) {
        condition.path = tail(value, 5);
    } else if (value.starts_with("tcp:")) {
        condition.tcp = true;
        if (!parse_address(p, tail(value, 4), condition.address)) return false;
        if (condition.address.port == 0) return p.fail("the port must be from 1 to 65535");
    } else {
        return p.fail("must be file:PATH or tcp:ADDR:PORT, like tcp:127.0.0.1:5432");
    }
    ++config.ready_count;
    return true;
}

// --delay and --drain-delay: a duration from 0 to a day.
bool set_duration(Parser& p, std::string_view value, std::uint32_t& field_ms) {
    const std::optional<std::uint64_t> ms = parse_scaled(value, duration_units);
    if (!ms || *ms > day_ms) return fail_range(p, Unit::ms, 0, day_ms);
    field_ms = std::uint32_t(*ms);
    return true;
}

bool set_delay(Parser& p, std::string_view value) {
    return set_duration(p, value, p.config.delay_ms);
}

bool set_drain_delay(Parser& p, std::string_view value) {
    return set_duration(p, value, p.config.drain_delay_ms);
}

// The route answering `path`, numbered as the framer numbers routes, or 0 for none: a route's path
// is never empty, so an unset path finds none.
[[nodiscard]] std::uint8_t route_of(const Routes& routes, std::string_view path) noexcept {
    for (std::uint8_t i = 0; i < routes.count; ++i) {
        if (routes.paths[i] == path) return i + 1;
    }
    return 0;
}

// The health, ready and metrics routes, by path: each was added among the others.
void find_routes(Parser& p) noexcept {
    Routes& routes = p.config.routes;
    routes.health = route_of(routes, p.health_path);
    routes.ready = route_of(routes, p.ready_path);
    routes.metrics = route_of(routes, p.metrics_path);
}

bool set_user(Parser& p, std::string_view value) {
    if (value.empty() || value.size() > 64) return p.fail("must be a user name or UID[:GID]");
    p.config.user = value;
    return true;
}

bool set_sandbox(Parser& p, std::string_view value) {
    const std::optional<std::uint32_t> on = choose(p, value, sandbox_states);
    if (on) p.config.sandbox = *on != 0;
    return on.has_value();
}

bool set_quiet(Parser& p, std::string_view) {
    p.config.quiet = true;
    return true;
}

bool set_query_knobs(Parser& p, std::string_view) {
    p.config.routes.query_knobs = true;
    return true;
}

bool set_access_log(Parser& p, std::string_view) {
    p.config.access_log = true;
    return true;
}

bool set_no_date(Parser& p, std::string_view) {
    p.config.date = false;
    return true;
}

bool set_minimal(Parser& p, std::string_view) {
    p.config.minimal = true;
    return true;
}

bool ask_help(Parser& p, std::string_view) {
    p.result.outcome = ParseOutcome::help;
    return true;
}

bool ask_version(Parser& p, std::string_view) {
    p.result.outcome = ParseOutcome::version;
    return true;
}

// --- The table ----------------------------------------------------------------------------------

struct LimitSpec {
    Unit unit = Unit::count;
    std::uint64_t min = 0;
    std::uint64_t max = 0;
    std::uint32_t Limits::*field = nullptr;
    std::uint64_t Limits::*wide_field = nullptr;  // set instead of field for 64-bit limits
};

struct FlagSpec {
    const char* name;
    char short_name;
    Form form;
    Section section;
    const char* metavar;
    Handler handler;
    const char* meaning;
    LimitSpec limit{};  // set_limit's range and field
};

constexpr FlagSpec limit_flag(const char* name, LimitSpec rule, const char* meaning) {
    constexpr const char* metavars[] = {"N", "N", "BYTES", "MS"};  // by Unit
    return {name,      0,       Form::value, Section::limits, metavars[int(rule.unit)],
            set_limit, meaning, rule};
}

constexpr FlagSpec flag_specs[] = {
    {"listen", 'l', Form::value, Section::listening, "ADDR:PORT", add_listen,
     "listen here, repeatable (default 0.0.0.0:8080):\n"
     "0.0.0.0:8080, 127.0.0.1:0, [::1]:8080, [::]:80, :8080 or 8080"},
    {"threads", 't', Form::value, Section::listening, "N", set_threads,
     "engine threads (default one per CPU in the affinity mask)"},
    {"cpus", 0, Form::value, Section::listening, "LIST", set_cpus,
     "thread i runs on the (i mod n)-th CPU listed: 0,2 or 1-3,5"},

    {"status", 0, Form::value, Section::answer, "CODE", set_status,
     "status code, 100 to 999 (default 200)"},
    {"body", 0, Form::value, Section::answer, "TEXT", set_body, "the body (default OK)"},
    {"body-file", 0, Form::value, Section::answer, "PATH", set_body_file,
     "the body: a file's bytes, read once at start-up"},
    {"body-size", 0, Form::value, Section::answer, "BYTES", set_body_size,
     "the body: that many generated bytes, like 1K"},
    {"content-type", 0, Form::value, Section::answer, "TYPE", set_content_type,
     "Content-Type, empty for none (default text/plain)"},
    {"header", 'H', Form::value, Section::answer, "'NAME: VALUE'", add_header,
     "one more header field, repeatable"},
    {"server", 0, Form::value, Section::answer, "NAME", set_server,
     "Server field, empty for none (default none)"},
    {"no-date", 0, Form::toggle, Section::answer, "", set_no_date, "leave out the Date field"},
    {"route", 0, Form::value, Section::answer, "PATH=STATUS[:BODY]", add_route,
     "this path (exact, query ignored) gets its own answer,\n"
     "repeatable: /missing=404, /hi=200:hello (body: the reason)"},
    {"health-path", 0, Form::value, Section::answer, "PATH", set_health_path,
     "answers 200 OK, and 503 once a drain begins"},
    {"delay", 0, Form::value, Section::answer, "DURATION", set_delay,
     "each answer leaves no sooner than this after its request: 5ms"},
    {"drain-delay", 0, Form::value, Section::answer, "DURATION", set_drain_delay,
     "on SIGTERM, first answer all 503 and close for this long"},
    {"minimal", 0, Form::toggle, Section::answer, "", set_minimal,
     "only the status line, Content-Length and the body"},
    {"query-knobs", 0, Form::toggle, Section::answer, "", set_query_knobs,
     "a query may change the default answer:\n"
     "?status=503&delay=10ms&size=1024 (bounded below)"},

    {"ready-path", 0, Form::value, Section::operations, "PATH", set_ready_path,
     "answers 200 once ready (--ready-when), else 503"},
    {"ready-when", 0, Form::value, Section::operations, "COND", add_ready_condition,
     "ready once this holds, repeatable: file:PATH exists,\n"
     "tcp:ADDR:PORT accepts (checked until all hold)"},
    {"metrics-path", 0, Form::value, Section::operations, "PATH", set_metrics_path,
     "answers the counters as Prometheus text"},
    {"access-log", 0, Form::toggle, Section::operations, "", set_access_log,
     "a line per answer on stderr, written off the engine"},

    limit_flag("request-line-bytes-max",
               {Unit::bytes, request_line_bytes_floor, header_bytes_ceiling,
                &Limits::request_line_bytes_max},
               "longest request line; past it, 414"),
    limit_flag(
        "header-bytes-max",
        {Unit::bytes, request_line_bytes_floor, header_bytes_ceiling, &Limits::header_bytes_max},
        "request line and header fields; past them, 431"),
    limit_flag("header-count-max",
               {Unit::count, 1, header_count_ceiling, &Limits::header_count_max},
               "header field lines; past them, 431"),
    limit_flag("body-bytes-max",
               {Unit::bytes, 0, body_bytes_max_ceiling, nullptr, &Limits::body_bytes_max},
               "request body, skipped unread; past it, 413"),
    limit_flag("connections-max", {Unit::count, 1, connections_ceiling, &Limits::connections_max},
               "per thread; past it, accept and close"),
    limit_flag("buffer-count", {Unit::power_of_two, 1, buffer_count_ceiling, &Limits::buffer_count},
               "receive buffers per thread, a power of two"),
    limit_flag("buffer-bytes",
               {Unit::bytes, buffer_bytes_floor, buffer_bytes_ceiling, &Limits::buffer_bytes},
               "bytes per receive buffer"),
    limit_flag("batch-count", {Unit::count, 1, batch_count_ceiling, &Limits::batch_count},
               "answers one send may carry"),
    limit_flag("owed-max", {Unit::count, 1, owed_ceiling, &Limits::owed_max},
               "answers owed per connection before reads stop"),
    limit_flag("header-timeout-ms", {Unit::ms, 1, day_ms, &Limits::header_timeout_ms},
               "a request's header section must arrive within"),
    limit_flag("idle-timeout-ms", {Unit::ms, 1, day_ms, &Limits::idle_timeout_ms},
               "a keep-alive connection may sit silent for"),
    limit_flag("drain-timeout-ms", {Unit::ms, 0, day_ms, &Limits::drain_timeout_ms},
               "after SIGTERM, owed answers must leave within"),
    limit_flag("linger-ms", {Unit::ms, 1, day_ms, &Limits::linger_ms},
               "after the last answer, wait for the client's FIN"),
    limit_flag("knob-delay-max-ms", {Unit::ms, 0, Knob::delay_ceiling, &Limits::knob_delay_ms_max},
               "--query-knobs: a longer delay= is cut to it"),
    limit_flag("knob-size-max", {Unit::bytes, 0, body_bytes_ceiling, &Limits::knob_size_max},
               "--query-knobs: a larger size= is cut to it"),
    limit_flag("ready-check-ms", {Unit::ms, 10, day_ms, &Limits::ready_check_ms},
               "until ready, --ready-when is checked this often"),
    limit_flag(
        "access-log-bytes",
        {Unit::bytes, access_log_bytes_floor, access_log_bytes_ceiling, &Limits::access_log_bytes},
        "log lines held per thread; past it, dropped"),

    {"user", 0, Form::value, Section::engine, "NAME|UID[:GID]", set_user,
     "after binding, run as this user (never on as root)"},
    {"engine", 0, Form::value, Section::engine, "auto|uring|epoll", set_engine,
     "io_uring, or epoll where it is refused (default auto)"},
    {"disable", 0, Form::value, Section::engine, "FEATURE", add_disabled,
     "one io_uring feature not to use, repeatable:\n"
     "defer-taskrun, coop-taskrun, multishot-accept,\n"
     "multishot-recv or registered-ring"},
    {"sandbox", 0, Form::value, Section::engine, "on|off", set_sandbox,
     "after start-up, a seccomp allow-list of syscalls\n"
     "(default on where the kernel has seccomp)"},
    {"quiet", 'q', Form::toggle, Section::engine, "", set_quiet,
     "print nothing at start-up but errors"},
    {"help", 'h', Form::action, Section::engine, "", ask_help, "print this and exit"},
    {"version", 'V', Form::action, Section::engine, "", ask_version, "print the version and exit"},
};

constexpr std::size_t limit_count = [] {
    std::size_t count = 0;
    for (const FlagSpec& spec : flag_specs) count += spec.section == Section::limits;
    return count;
}();

// The table as parsing keeps it: rows of Flag with 16-bit offsets instead of pointers, each string
// once in `text` (NUL-terminated), each handler once in `handlers`. 12 bytes a row instead of 80.
template <std::size_t text_bytes, std::size_t handler_count>
struct PackedFlags {
    std::array<Flag, std::size(flag_specs)> flags{};
    std::array<char, text_bytes> text{};
    std::array<Handler, handler_count> handlers{};
    std::size_t bytes = 0;  // of `text` used
    std::size_t handlers_used = 0;
    std::array<std::string_view, 3 * std::size(flag_specs)> strings{};  // added, in order
    std::array<std::uint16_t, 3 * std::size(flag_specs)> string_at{};
    std::size_t strings_used = 0;

    constexpr std::uint16_t add(std::string_view string) {
        for (std::size_t i = 0; i < strings_used; ++i) {
            if (strings[i] == string) return string_at[i];
        }
        strings[strings_used] = string;
        string_at[strings_used++] = std::uint16_t(bytes);
        for (const char c : string) text[bytes++] = c;
        text[bytes++] = '\0';
        return string_at[strings_used - 1];
    }
    constexpr std::uint8_t add(Handler handler) {
        std::size_t at = 0;
        while (at < handlers_used && handlers[at] != handler) ++at;
        if (at == handlers_used) handlers[handlers_used++] = handler;
        return std::uint8_t(at);
    }
};

// Sized generously first (packed_flags_sized), then exactly (packed_flags); only the three arrays
// taken from the second are in the binary.
template <std::size_t text_bytes, std::size_t handler_count>
constexpr PackedFlags<text_bytes, handler_count> pack_flags() {
    PackedFlags<text_bytes, handler_count> packed;
    std::uint8_t limit = 0;
    for (std::size_t i = 0; i < std::size(flag_specs); ++i) {
        const FlagSpec& spec = flag_specs[i];
        const bool limited = spec.section == Section::limits;
        Flag& flag = packed.flags[i];
        flag.name_at = packed.add(spec.name);
        flag.metavar_at = packed.add(spec.metavar);
        flag.meaning_at = packed.add(spec.meaning);
        flag.short_name = spec.short_name;
        flag.form = spec.form;
        flag.section = spec.section;
        flag.handler_at = packed.add(spec.handler);
        flag.limit = limited ? limit++ : limit;
        flag.unit = spec.limit.unit;
    }
    return packed;
}
constexpr auto packed_flags_sized = pack_flags<8192, 64>();
constexpr std::size_t flag_text_bytes = packed_flags_sized.bytes;
constexpr std::size_t flag_handler_count = packed_flags_sized.handlers_used;
static_assert(flag_text_bytes < 8192 && flag_handler_count < 64);
constexpr auto packed_flags = pack_flags<flag_text_bytes, flag_handler_count>();
constexpr auto flags = packed_flags.flags;
constexpr auto flag_text = packed_flags.text;
constexpr auto handlers = packed_flags.handlers;

// The NUL-terminated string at `at` in flag_text.
[[nodiscard]] std::string_view text_at(std::uint16_t at) noexcept {
    std::size_t bytes = 0;
    while (flag_text[at + bytes] != '\0') ++bytes;
    return {flag_text.data() + at, bytes};
}
std::string_view Flag::name() const noexcept {
    return text_at(name_at);
}
std::string_view Flag::metavar() const noexcept {
    return text_at(metavar_at);
}
std::string_view Flag::meaning() const noexcept {
    return text_at(meaning_at);
}
Handler Flag::handler() const noexcept {
    return handlers[handler_at];
}

constexpr std::array<LimitRule, limit_count> limit_rules = [] {
    std::array<LimitRule, limit_count> compact{};
    std::size_t i = 0;
    for (const FlagSpec& spec : flag_specs) {
        const LimitSpec& rule = spec.limit;
        if (spec.section == Section::limits)
            compact[i++] = {rule.field, std::uint32_t(rule.min), std::uint32_t(rule.max)};
    }
    return compact;
}();

// Every name fits parse_environment's buffer, every limit its field, and the one without a 32-bit
// field is body_bytes_max (LimitRule's null field), whose ceiling limit_max knows.
constexpr bool flags_fit() {
    for (const FlagSpec& spec : flag_specs) {
        const LimitSpec& rule = spec.limit;
        if (env_prefix.size() + std::string_view(spec.name).size() >= env_name_bytes_max)
            return false;
        if (rule.min > 0xffff'ffffu) return false;
        if (rule.field != nullptr && rule.max > 0xffff'ffffu) return false;
        const bool wide = rule.wide_field != nullptr;
        if (spec.section == Section::limits && wide != (rule.field == nullptr)) return false;
        if (wide &&
            (rule.wide_field != &Limits::body_bytes_max || rule.max != body_bytes_max_ceiling))
            return false;
    }
    return std::size(flag_specs) <= flags_max;
}
static_assert(flags_fit());

std::size_t index_of(const Flag& flag) noexcept {
    return std::size_t(&flag - flags.data());
}

const LimitRule& rule_of(const Flag& flag) noexcept {
    return limit_rules[flag.limit];
}

// The flag of that name, found while compiling.
consteval const Flag& flag_named(std::string_view name) {
    for (const Flag& flag : flags) {
        if (std::string_view(flag_text.data() + flag.name_at) == name) return flag;
    }
    return flags.at(flags.size());  // out of range: a name not in the table does not compile
}

[[nodiscard]] const Flag* find_long(std::string_view name) noexcept {
    for (const Flag& flag : flags) {
        if (flag.name() == name) return &flag;
    }
    return nullptr;
}

[[nodiscard]] const Flag* find_short(char name) noexcept {
    for (const Flag& flag : flags) {
        if (name != 0 && flag.short_name == name) return &flag;
    }
    return nullptr;
}

// --- Parsing ------------------------------------------------------------------------------------

struct Argument {
    const Flag* flag = nullptr;
    std::string_view name;        // as typed, for "unknown flag"; empty: no flag at all
    const char* value = nullptr;  // the rest of the argument after '=', or after -x
};

// "--name", "--name=value", "-x" or "-xvalue". Short switches do not combine: -qV is unknown.
[[nodiscard]] Argument split_argument(const char* text) noexcept {
    Argument argument;
    const std::string_view whole = text;
    if (text[0] == '-' && text[1] == '-' && text[2] != '\0') {
        const std::size_t equals = whole.find('=');
        argument.name = head(whole, equals);
        if (equals != npos) argument.value = text + equals + 1;
        argument.flag = find_long(tail(argument.name, 2));
    } else if (text[0] == '-' && text[1] != '-' && text[1] != '\0') {
        argument.name = head(whole, 2);
        argument.flag = find_short(text[1]);
        if (text[2] != '\0') argument.value = text + 2;
        if (argument.value && argument.flag && argument.flag->form != Form::value) {
            argument.flag = nullptr;
            argument.name = whole;
        }
    }
    return argument;
}

bool apply(Parser& p, const Flag& flag, std::string_view value) {
    p.flag = &flag;
    return flag.handler()(p, value);
}

// False when parsing stops here: a usage error, or --help or --version.
bool parse_arguments(Parser& p, int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
        const Argument argument = split_argument(argv[i]);
        if (argument.flag == nullptr) {
            const bool flag_like = !argument.name.empty();
            return p.fail_plain(flag_like ? "{}: unknown flag" : "{}: unexpected argument",
                                {Shown{flag_like ? argument.name : argv[i]}});
        }
        const Flag& flag = *argument.flag;
        const bool takes_value = flag.form == Form::value;
        const char* value = argument.value;
        if (takes_value && value == nullptr && i + 1 < argc) value = argv[++i];
        Origin& origin = p.origin_of(flag);
        origin = {value != nullptr ? value : "", true, false, takes_value && value != nullptr};
        if (takes_value != (value != nullptr))
            return p.fail_at(&flag, takes_value ? "needs a value" : "takes no value");
        if (!apply(p, flag, origin.value) || p.result.outcome != ParseOutcome::run) return false;
    }
    return true;
}

[[nodiscard]] std::optional<std::string_view> find_variable(const char* const* environment,
                                                            std::string_view name) noexcept {
    // `name` holds no NUL, so a shorter entry stops the match at its end.
    for (; environment != nullptr && *environment != nullptr; ++environment) {
        const char* entry = *environment;
        std::size_t i = 0;
        while (i < name.size() && entry[i] == name[i]) ++i;
        if (i == name.size() && entry[i] == '=') return std::string_view(entry + i + 1);
    }
    return std::nullopt;
}

// URING_OKAY_<NAME> for each flag the command line did not give, in table order.
bool parse_environment(Parser& p, const char* const* environment) {
    for (const Flag& flag : flags) {
        Origin& origin = p.origin_of(flag);
        if (flag.form == Form::action || origin.given) continue;
        char name[env_name_bytes_max];
        Text text{name};
        add_flag_name(text, flag.name(), true);
        const std::optional<std::string_view> value = find_variable(environment, text.view());
        if (!value) continue;
        origin = {*value, true, true, true};
        if (flag.form == Form::toggle) {
            const std::optional<std::uint32_t> on = find_choice(switch_words, *value);
            if (!on) return p.fail_at(&flag, "must be 1 or 0 (or true, false, yes, no, on, off)");
            if (*on == 0) continue;
        }
        if (!apply(p, flag, *value)) return false;
    }
    return true;
}

// With no --listen, 0.0.0.0:8080; PORT (the PaaS convention) moves only this default.
bool listen_by_default(Parser& p, const char* const* environment) {
    Config& config = p.config;
    if (config.listen_count > 0) return true;
    std::uint16_t port = default_port;
    if (const std::optional<std::string_view> text = find_variable(environment, "PORT")) {
        const std::optional<std::uint16_t> number = parse_port(*text);
        if (!number)
            return p.fail_plain("PORT={}: must be a whole number from 0 to 65535", {Shown{*text}});
        port = *number;
    }
    ListenAddress& address = config.listen[0];  // as Config made it: nothing was listed
    address.family = AF_INET;
    address.port = port;
    Text{address.text, sizeof address.text}.add("0.0.0.0:").add(std::uint64_t{port});
    config.listen_count = 1;
    return true;
}

// A relation of limits_related_validly. The message names the flag that was given, so a
// --header-bytes-max below the default request line says so rather than blaming the default.
bool check_order(Parser& p, const Flag& smaller, const Flag& larger) {
    const std::uint64_t small = limit_value(p.config.limits, rule_of(smaller));
    const std::uint64_t large = limit_value(p.config.limits, rule_of(larger));
    if (small <= large) return true;
    const bool blame_larger = !p.origin_of(smaller).given && p.origin_of(larger).given;
    const Flag& other = blame_larger ? smaller : larger;
    return p.fail_at(blame_larger ? &larger : &smaller,
                     blame_larger ? "must be at least --{} ({})" : "must not exceed --{} ({})",
                     {other.name(), blame_larger ? small : large});
}

bool check_limits(Parser& p) {
    if (!check_order(p, flag_named("request-line-bytes-max"), flag_named("header-bytes-max")))
        return false;
    if (!check_order(p, flag_named("batch-count"), flag_named("owed-max"))) return false;
    // Every value passed its own range: only a relation added to limits.hpp alone lands here.
    if (!limits_related_validly(p.config.limits))
        return p.fail_plain("limits: the values do not fit together (limits_related_validly)");
    return true;
}

// --ready-when gates the --ready-path: alone, it would gate nothing.
bool check_readiness(Parser& p) noexcept {
    if (p.config.ready_count == 0 || !p.ready_path.empty()) return true;
    return p.fail_at(&flag_named("ready-when"),
                     "needs --ready-path, the path that answers 503 until every condition holds");
}

bool fail_errno(Parser& p, int number) {
    return p.fail("{}", {Errno{number}});
}

// Up to `bytes`, fewer if the file shrank since fstat; -errno when a read fails.
[[nodiscard]] std::int64_t read_all(int fd, char* data, std::uint64_t bytes) noexcept {
    std::uint64_t got = 0;
    while (got < bytes) {
        const ssize_t n = read(fd, data + got, bytes - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;
        got += std::uint64_t(n);
    }
    return std::int64_t(got);
}

bool read_body_file(Parser& p) {
    // The path is the tail of an argv or environ string, so a NUL ends it. O_NONBLOCK: a FIFO
    // must not hold up start-up; it is refused below as not a regular file.
    // Raw, as user.cpp opens /etc/passwd: musl's open wrapper is 0.2 KiB of the binary.
    const int fd = int(syscall(SYS_openat, AT_FDCWD, p.body_path.data(),
                               O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (fd < 0) return fail_errno(p, errno);
    // The system call itself: musl's fstat goes through fstatat and a /proc path (780 B), and on
    // 64-bit Linux the kernel's struct stat is the C library's.
    static_assert(sizeof(void*) == 8);
    struct stat status {};
    const bool regular = syscall(SYS_fstat, fd, &status) == 0 && S_ISREG(status.st_mode);
    const auto bytes = std::uint64_t(status.st_size);
    const bool fits = regular && bytes <= body_bytes_ceiling;
    char* data = fits ? static_cast<char*>(std::malloc(bytes + 1)) : nullptr;
    const std::int64_t got = data != nullptr ? read_all(fd, data, bytes) : 0;
    close(fd);
    if (!regular) return p.fail("must name a regular file");
    if (!fits)
        return p.fail("is {} bytes, past {}", {bytes, Amount{Unit::bytes, body_bytes_ceiling}});
    if (data == nullptr) return fail_errno(p, ENOMEM);
    if (got < 0) {
        std::free(data);
        return fail_errno(p, int(-got));
    }
    p.config.body = {data, std::size_t(got)};  // NOLINT(clang-analyzer-unix.Malloc): kept for the process's life
    return true;
}

// Exactly `bytes` bytes: the alphabet and digits, line after line.
bool generate_body(Parser& p, std::uint64_t bytes) {
    constexpr std::string_view line = "abcdefghijklmnopqrstuvwxyz0123456789\n";
    char* data = static_cast<char*>(std::malloc(bytes + 1));
    if (data == nullptr) return fail_errno(p, ENOMEM);
    std::uint64_t filled = bytes < line.size() ? bytes : line.size();
    std::memcpy(data, line.data(), filled);
    // Each copy doubles what is written; it starts at a multiple of the line, so the lines go on.
    while (filled < bytes) {
        const std::uint64_t copied = filled < bytes - filled ? filled : bytes - filled;
        std::memcpy(data + filled, data, copied);
        filled += copied;
    }
    p.config.body = {data, bytes};  // NOLINT(clang-analyzer-unix.Malloc): kept for the process's life
    return true;
}

// Last, so that nothing is read or allocated for a command line that fails. Messages name the
// flag that holds the body.
bool make_body(Parser& p) {
    p.flag = p.body_flag;
    if (!p.body_path.empty()) return read_body_file(p);
    if (p.body_bytes) return generate_body(p, *p.body_bytes);
    return true;
}

// --- Help ---------------------------------------------------------------------------------------

constexpr std::size_t help_column = 38;  // where meanings start
constexpr Limits default_limits;
constexpr const char* section_titles[] = {
    "Listening and threads", "Answer", "Readiness, metrics and logs",
    "Limits (bytes take K, M or G; times ms or s)", "Engine and output"};

void add_help_line(Text& text, const Flag& flag) {
    const std::size_t start = text.bytes();
    text.add("  ");
    if (flag.short_name != 0)
        text.push('-').push(flag.short_name).add(", ");
    else
        text.add("    ");
    text.add("--").add(flag.name());
    if (!flag.metavar().empty()) text.push(' ').add(flag.metavar());
    const std::size_t used = text.bytes() - start;
    for (std::size_t column = used; column < help_column || column < used + 2; ++column)
        text.push(' ');
    for (const char c : flag.meaning()) {
        text.push(c);
        if (c == '\n') {
            for (std::size_t column = 0; column < help_column; ++column) text.push(' ');
        }
    }
    if (flag.section == Section::limits) {
        add_amount(text.add(" (default "), flag.unit, limit_value(default_limits, rule_of(flag)));
        text.push(')');
    }
    text.push('\n');
}

}  // namespace

ParseResult parse_config(int argc, const char* const* argv, const char* const* environment,
                         Config& config) noexcept {
    ParseResult result;
    // Defaults, whatever it held: Config's own constructor, which main and healthcheck call too
    // (`config = Config{}` inlined a second copy of it, 256 B).
    static_assert(std::is_trivially_destructible_v<Config>);
    new (&config) Config;
    Parser p{config, result};
    if (parse_arguments(p, argc, argv) && parse_environment(p, environment) &&
        listen_by_default(p, environment) && check_limits(p) && make_body(p) && check_readiness(p))
        find_routes(p);
    return result;
}

void write_help(int fd) noexcept {
    char buffer[12288];
    Text text{buffer, sizeof buffer};
    text.add(
        "usage: uring-okay [FLAG]...\n"
        "Answers every HTTP/1.x request with one response, formatted once at start-up.\n");
    for (std::size_t section = 0; section < std::size(section_titles); ++section) {
        text.push('\n').add(section_titles[section]).add(":\n");
        for (const Flag& flag : flags) {
            if (std::size_t(flag.section) == section) add_help_line(text, flag);
        }
    }
    text.add(
        "\nEvery flag can also be set as URING_OKAY_<NAME>, like URING_OKAY_HEADER_BYTES_MAX=32K\n"
        "(switches as 1 or 0); the command line wins. PORT=N moves the default address to\n"
        "0.0.0.0:N. A bad flag exits 2.\n");
    write_all(fd, text.view());
}

}  // namespace uring_okay
