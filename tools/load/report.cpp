// The report in wrk's order (latency, distribution, totals, Requests/sec), then what wrk does
// not say: answers by status class, errors by kind, and the client's own CPU per request.
#include "report.hpp"

#include <cstdio>

namespace uring_okay::load {
namespace {

struct Percentile {
    const char* label;  // as printed
    const char* key;    // in JSON
    double percent;
};
constexpr Percentile percentiles[] = {
    {"50%", "p50", 50},       {"90%", "p90", 90},          {"99%", "p99", 99},
    {"99.9%", "p99.9", 99.9}, {"99.99%", "p99.99", 99.99},
};

std::string printf_string(const char* format, auto... values) {
    char buffer[512];
    std::snprintf(buffer, sizeof buffer, format, values...);
    return buffer;
}

std::string format_bytes(double bytes) {
    const char* units[] = {"B", "KB", "MB", "GB", "TB"};
    std::size_t unit = 0;
    while (bytes >= 1024 && unit + 1 < std::size(units)) {
        bytes /= 1024;
        ++unit;
    }
    return printf_string("%.2f%s", bytes, units[unit]);
}

std::string describe_load(const Summary& s) {
    const Options& o = *s.options;
    std::string cpus;
    for (const std::uint16_t cpu : s.cpus) cpus += (cpus.empty() ? "" : ",") + std::to_string(cpu);
    std::string text = printf_string("  %u thread%s", s.threads, s.threads == 1 ? "" : "s");
    if (!cpus.empty()) text += " on CPU " + cpus;
    text += printf_string(", %u connection%s", o.connections, o.connections == 1 ? "" : "s");
    if (o.pipeline > 1) text += printf_string(", pipeline %u", o.pipeline);
    if (o.close) text += ", a new connection per request";
    if (o.rate > 0) {
        text += printf_string(", open loop at %.0f req/s", o.rate);
    } else {
        text += ", closed loop";
    }
    if (o.requests > 0) text += printf_string(", %llu requests", (unsigned long long)o.requests);
    return text + "\n";
}

}  // namespace

void Counts::add(const Counts& other) noexcept {
    responses += other.responses;
    for (std::size_t i = 0; i < status_classes; ++i) by_class[i] += other.by_class[i];
    bytes_read += other.bytes_read;
    connects += other.connects;
    connect_errors += other.connect_errors;
    resets += other.resets;
    timeouts += other.timeouts;
    framing_errors += other.framing_errors;
    other_errors += other.other_errors;
    requests_lost += other.requests_lost;
    retried += other.retried;
}

std::string format_ns(double ns) {
    if (ns < 1e3) return printf_string("%.0fns", ns);
    if (ns < 1e6) return printf_string("%.2fus", ns / 1e3);
    if (ns < 1e9) return printf_string("%.2fms", ns / 1e6);
    return printf_string("%.2fs", ns / 1e9);
}

std::string human_report(const Summary& s) {
    const Counts& c = s.counts;
    const Histogram& h = s.latency;
    std::string text = "uring-okay-load " + s.version + " @ " + s.options->url + "\n";
    text += describe_load(s);
    text += "  Latency     mean " + format_ns(h.mean()) + ", stdev " + format_ns(h.stdev()) +
            ", max " + format_ns(double(h.max())) + "\n";
    text += "  Latency Distribution\n";
    for (const Percentile& p : percentiles) {
        text += printf_string("  %7s  %10s\n", p.label,
                              format_ns(double(h.at_percentile(p.percent))).c_str());
    }
    text += printf_string("  %7s  %10s\n", "max", format_ns(double(h.max())).c_str());
    text += printf_string("  %llu requests in %.2fs, %s read%s\n", (unsigned long long)c.responses,
                          s.seconds, format_bytes(double(c.bytes_read)).c_str(),
                          s.stopped_early ? " (stopped early)" : "");
    text += printf_string("  Responses: 2xx %llu, 3xx %llu, 4xx %llu, 5xx %llu, other %llu\n",
                          (unsigned long long)c.by_class[2], (unsigned long long)c.by_class[3],
                          (unsigned long long)c.by_class[4], (unsigned long long)c.by_class[5],
                          (unsigned long long)(c.by_class[0] + c.by_class[1]));
    text += printf_string(
        "  Errors: connect %llu, reset %llu, timeout %llu, framing %llu, other %llu (requests "
        "lost %llu)\n",
        (unsigned long long)c.connect_errors, (unsigned long long)c.resets,
        (unsigned long long)c.timeouts, (unsigned long long)c.framing_errors,
        (unsigned long long)c.other_errors, (unsigned long long)c.requests_lost);
    if (c.retried > 0) {
        text +=
            printf_string("  Retried: %llu (a used connection closed before their answers began)\n",
                          (unsigned long long)c.retried);
    }
    text += printf_string("Requests/sec: %.2f\n", s.requests_per_second());
    text += "Transfer/sec: " + format_bytes(s.seconds > 0 ? double(c.bytes_read) / s.seconds : 0) +
            "\n";
    text += printf_string(
        "Client CPU: %.2fs (user %.2fs, system %.2fs), %.0f requests per CPU-second\n",
        s.user_seconds + s.system_seconds, s.user_seconds, s.system_seconds,
        s.requests_per_cpu_second());
    return text;
}

std::string json_report(const Summary& s) {
    const Options& o = *s.options;
    const Counts& c = s.counts;
    const Histogram& h = s.latency;
    std::string url;  // our URLs have no quotes or backslashes past parse_url, but be safe
    for (const char ch : o.url) {
        if (ch == '"' || ch == '\\') url += '\\';
        if (ch >= ' ') url += ch;
    }
    std::string text = "{\n";
    text += "  \"tool\": \"uring-okay-load\",\n  \"version\": \"" + s.version + "\",\n";
    text += "  \"url\": \"" + url + "\",\n";
    text += printf_string("  \"threads\": %u,\n  \"connections\": %u,\n  \"pipeline\": %u,\n",
                          s.threads, o.connections, o.pipeline);
    text += printf_string("  \"loop\": \"%s\",\n  \"rate\": %.3f,\n  \"close\": %s,\n",
                          o.rate > 0 ? "open" : "closed", o.rate, o.close ? "true" : "false");
    text += printf_string("  \"seconds\": %.6f,\n  \"requests\": %llu,\n", s.seconds,
                          (unsigned long long)c.responses);
    text += printf_string("  \"requests_per_second\": %.3f,\n  \"bytes_read\": %llu,\n",
                          s.requests_per_second(), (unsigned long long)c.bytes_read);
    text += "  \"latency_us\": {";
    for (const Percentile& p : percentiles) {
        text += printf_string("\"%s\": %.3f, ", p.key, double(h.at_percentile(p.percent)) / 1e3);
    }
    text += printf_string("\"max\": %.3f, \"min\": %.3f, \"mean\": %.3f, \"stdev\": %.3f},\n",
                          double(h.max()) / 1e3, double(h.min()) / 1e3, h.mean() / 1e3,
                          h.stdev() / 1e3);
    text += printf_string(
        "  \"responses\": {\"1xx\": %llu, \"2xx\": %llu, \"3xx\": %llu, \"4xx\": %llu, "
        "\"5xx\": %llu, \"other\": %llu},\n",
        (unsigned long long)c.by_class[1], (unsigned long long)c.by_class[2],
        (unsigned long long)c.by_class[3], (unsigned long long)c.by_class[4],
        (unsigned long long)c.by_class[5], (unsigned long long)c.by_class[0]);
    text += printf_string(
        "  \"errors\": {\"connect\": %llu, \"reset\": %llu, \"timeout\": %llu, \"framing\": %llu, "
        "\"other\": %llu, \"requests_lost\": %llu},\n",
        (unsigned long long)c.connect_errors, (unsigned long long)c.resets,
        (unsigned long long)c.timeouts, (unsigned long long)c.framing_errors,
        (unsigned long long)c.other_errors, (unsigned long long)c.requests_lost);
    text += printf_string("  \"retried\": %llu,\n", (unsigned long long)c.retried);
    text += printf_string("  \"connections_opened\": %llu,\n", (unsigned long long)c.connects);
    text += printf_string(
        "  \"client_cpu\": {\"user_seconds\": %.6f, \"system_seconds\": %.6f, "
        "\"requests_per_cpu_second\": %.3f},\n",
        s.user_seconds, s.system_seconds, s.requests_per_cpu_second());
    text += printf_string("  \"stopped_early\": %s\n}\n", s.stopped_early ? "true" : "false");
    return text;
}

}  // namespace uring_okay::load
