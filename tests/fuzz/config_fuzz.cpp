// libFuzzer target for the configuration parser. The input, split on NUL bytes, is the command
// line up to the first empty item and the environment after it:
//     --threads \0 2 \0 --header=X-A: b \0 \0 URING_OKAY_HEADER_BYTES_MAX=32K \0 PORT=9000
// Whatever it holds, parse_config must not crash; a usage error is one NUL-terminated line that
// names a flag (or the argument it could not read); a config it accepts has limits that fit
// together, routes sorted and distinct, and every answer built from it (one per route) has a
// header section of CRLF-ended lines only.
#include <sanitizer/allocator_interface.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "uring_okay/config.hpp"
#include "uring_okay/limits.hpp"
#include "uring_okay/response.hpp"

using namespace uring_okay;

namespace {

[[noreturn]] void broken(const char* what, std::string_view detail = {}) {
    std::fprintf(stderr, "config_fuzz: invariant broken: %s: %.*s\n", what, int(detail.size()),
                 detail.data());
    std::fflush(stderr);
    __builtin_trap();
}

// The flags --help lists ("--name"), so the check follows the table without copying it.
const std::set<std::string>& flag_names() {
    static const std::set<std::string> names = [] {
        std::set<std::string> found;
        const int fd = memfd_create("help", MFD_CLOEXEC);
        if (fd < 0) broken("memfd_create");
        write_help(fd);
        std::string text(1 << 16, '\0');
        const ssize_t got = pread(fd, text.data(), text.size(), 0);
        close(fd);
        if (got <= 0) broken("write_help wrote nothing");
        text.resize(std::size_t(got));
        for (std::size_t at = 0; (at = text.find("--", at)) != std::string::npos;) {
            std::size_t end = at + 2;
            while (end < text.size() && (std::islower(static_cast<unsigned char>(text[end])) ||
                                         text[end] == '-')) {
                ++end;
            }
            if (end > at + 2) found.insert(text.substr(at + 2, end - at - 2));
            at = end;
        }
        if (found.size() < 20) broken("too few flags in --help");
        return found;
    }();
    return names;
}

std::string env_name(const std::string& flag) {
    std::string name = "URING_OKAY_";
    for (const char c : flag) name.push_back(c == '-' ? '_' : char(std::toupper(c)));
    return name;
}

// "--name VALUE: reason", "--name: reason", "URING_OKAY_NAME=VALUE: reason", "PORT=...",
// or "ARG: unknown flag" / "ARG: unexpected argument" for what it could not read as a flag.
bool names_a_flag(std::string_view message) {
    if (message.ends_with(": unknown flag") || message.ends_with(": unexpected argument")) {
        return true;
    }
    if (message.starts_with("PORT=")) return true;
    for (const std::string& flag : flag_names()) {
        const std::string long_form = "--" + flag;
        if (message.starts_with(long_form) && message.size() > long_form.size() &&
            (message[long_form.size()] == ' ' || message[long_form.size()] == ':')) {
            return true;
        }
        if (message.starts_with(env_name(flag) + "=")) return true;
    }
    return false;
}

// A header section of "line\r\n" lines ending in an empty one: no bare CR or LF to split it.
void check_answer(std::string_view answer, bool framed) {
    if (!answer.starts_with("HTTP/1.1 ")) broken("an answer without a status line", answer);
    const std::size_t end = answer.find("\r\n\r\n");
    if (end == std::string_view::npos) broken("an answer without an end of head", answer);
    const std::string_view head = answer.substr(0, end + 2);
    for (std::size_t i = 0; i < head.size(); ++i) {
        const bool cr = head[i] == '\r';
        const bool lf = head[i] == '\n';
        if ((cr && (i + 1 == head.size() || head[i + 1] != '\n')) ||
            (lf && (i == 0 || head[i - 1] != '\r'))) {
            broken("a bare CR or LF in an answer's head", answer);
        }
    }
    if (framed && head.find("\r\nContent-Length:") == std::string_view::npos) {
        broken("an answer without Content-Length", answer);
    }
}

void check_config(const Config& config) {
    if (!limits_related_validly(config.limits)) broken("accepted limits that do not fit");
    if (config.listen_count < 1 || config.listen_count > listen_max) broken("listen_count");
    if (config.header_count > headers_max) broken("header_count");
    if (config.cpu_count > cpus_max) broken("cpu_count");
    if (config.threads > threads_ceiling) broken("threads");
    if (config.status < 100 || config.status > 999) broken("status");
    for (std::uint8_t i = 0; i < config.routes.count && i < Routes::max; ++i) {
        const std::uint16_t status = config.route_answers[i].status;
        if (status < 100 || status > 999) broken("a route's status");
    }
    if (config.body.size() > body_bytes_ceiling) broken("body past its ceiling");
    const Routes& routes = config.routes;
    if (routes.count > Routes::max || routes.health > routes.count) broken("routes");
    for (std::uint8_t i = 0; i < routes.count; ++i) {
        const std::string_view path = routes.paths[i];
        if (!path.starts_with('/')) broken("a route not starting with /", path);
        for (const char c : path) {  // what the framer can match: a path's visible bytes
            if (c < 0x21 || c > 0x7e || c == '?') broken("a route the framer cannot match", path);
        }
        if (i > 0 && !(routes.paths[i - 1] < routes.paths[i])) {
            broken("routes not sorted, or given twice", routes.paths[i]);
        }
    }
    for (std::uint8_t route = 0; route <= routes.count; ++route) {
        const ResponseSpec spec = config.response_spec(route);
        Responses responses;
        if (!responses.build(spec, config.limits.batch_count, 784'111'777)) {
            continue;  // out of memory, or a head past build()'s ceiling: main exits 1 on it
        }
        for (std::size_t k = 0; k < kind_count; ++k) {
            // RFC 9110 §8.6: every answer but 1xx, 204 and 304 says how long it is; errors and
            // the drain's 503 have their own status, the rest the configured one.
            const std::uint16_t status = is_error(Kind(k)) ? 400 : spec.status;
            check_answer(responses.one(Kind(k)), status >= 200 && status != 204 && status != 304);
        }
    }
}

// --body-file opens what it is given: keep the fuzzer away from devices and kernel files.
bool harmless(std::string_view item) {
    for (const char* place : {"/dev", "/proc", "/sys", "/run"}) {
        if (item.find(place) != std::string_view::npos) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)flag_names();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // One copy with a NUL after every item: argv and environ point into it.
    std::vector<char> text(data, data + size);
    text.push_back('\0');
    std::vector<const char*> argv{"uring-okay"};
    std::vector<const char*> environment;
    bool in_environment = false;
    for (std::size_t at = 0; at < size || (at == size && size == 0);) {
        const char* item = text.data() + at;
        const std::size_t bytes = std::strlen(item);
        if (!harmless({item, bytes})) return -1;
        if (bytes == 0 && !in_environment) {
            in_environment = true;
        } else {
            (in_environment ? environment : argv).push_back(item);
        }
        at += bytes + 1;
    }
    environment.push_back(nullptr);

    Config config;
    const ParseResult result =
        parse_config(int(argv.size()), argv.data(), environment.data(), config);
    const void* end = std::memchr(result.message, '\0', sizeof result.message);
    if (end == nullptr) broken("a message without its NUL");
    const std::string_view message(result.message);
    if (result.outcome == ParseOutcome::usage_error) {
        if (message.empty()) broken("a usage error without a message");
        if (!names_a_flag(message)) broken("a usage error naming no flag", message);
    } else if (!message.empty()) {
        broken("a message without a usage error", message);
    }
    if (result.outcome == ParseOutcome::run) check_config(config);

    // --body-file and --body-size allocate the body once (it lives as long as the process);
    // anything else points into our text or is the default literal, which the heap does not own.
    const char* body = config.body.data();
    const bool ours = body >= text.data() && body <= text.data() + text.size();
    if (!ours && body != nullptr && __sanitizer_get_ownership(body) != 0) {
        std::free(const_cast<char*>(body));
    }
    return 0;
}
