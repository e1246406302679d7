#!/usr/bin/env bash
# Client CPU per request: uring-okay-load against wrk and h2load (--h1), one server, one run.
# The server is pinned to CPU 0, each generator in turn to CPU 1; the generators' utime+stime
# come from GNU time, so every tool is measured the same way. Rounds interleave the tools, so
# a noisy neighbour hurts them alike. Prints a Markdown table (medians over the rounds).
#
#   tools/load/compare.sh [--duration S] [--rounds N] [--server PATH] [--load PATH]
set -euo pipefail

duration=5
rounds=3
root=$(cd "$(dirname "$0")/../.." && pwd)
server=$root/build/release/uring-okay
load=$root/build/release/tools/load/uring-okay-load
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) duration=$2; shift 2 ;;
        --rounds) rounds=$2; shift 2 ;;
        --server) server=$2; shift 2 ;;
        --load) load=$2; shift 2 ;;
        *) echo "usage: $0 [--duration S] [--rounds N] [--server PATH] [--load PATH]" >&2; exit 2 ;;
    esac
done
for tool in "$server" "$load" /usr/bin/time taskset wrk; do
    command -v "$tool" >/dev/null || { echo "compare: $tool is missing" >&2; exit 1; }
done
have_h2load=0
command -v h2load >/dev/null && have_h2load=1

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

port=$((20000 + RANDOM % 10000))
taskset -c 0 timeout $((rounds * duration * 8 + 120)) "$server" --listen "127.0.0.1:$port" \
    --threads 1 --cpus 0 --quiet 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$work/server.log" 2>/dev/null && break
    sleep 0.05
done
url="http://127.0.0.1:$port/"

# run TOOL SCENARIO: prints "requests cpu_seconds"
run() {
    local tool=$1 scenario=$2 depth=1 out="$work/out" cpu="$work/cpu"
    [ "$scenario" = pipelined ] && depth=16
    case "$tool" in
        uring-okay-load)
            taskset -c 1 /usr/bin/time -f "%U %S" -o "$cpu" "$load" -t 1 -c 64 \
                --pipeline "$depth" -d "${duration}s" --no-progress "$url" >"$out"
            requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out") ;;
        wrk)
            local script=()
            [ "$depth" -gt 1 ] && script=(-s "$root/bench/pipeline.lua")
            taskset -c 1 /usr/bin/time -f "%U %S" -o "$cpu" wrk -t 1 -c 64 -d "${duration}s" \
                "${script[@]}" "$url" -- "$depth" >"$out"
            requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$out") ;;
        h2load)
            taskset -c 1 /usr/bin/time -f "%U %S" -o "$cpu" h2load --h1 -t 1 -c 64 -m "$depth" \
                -D "$duration" "$url" >"$out"
            requests=$(sed -n 's/^requests: .* \([0-9]*\) succeeded.*/\1/p' "$out") ;;
    esac
    echo "$requests $(awk '{print $1 + $2}' "$cpu")"
}

tools=(uring-okay-load wrk)
[ $have_h2load = 1 ] && tools+=(h2load)
for scenario in keepalive pipelined; do
    for round in $(seq "$rounds"); do
        for tool in "${tools[@]}"; do
            read -r requests cpu <<<"$(run "$tool" "$scenario")"
            echo "$scenario $tool $round $requests $cpu" >>"$work/results"
            echo "compare: $scenario $tool round $round: $requests requests, $cpu CPU-s" >&2
        done
    done
done

# median SCENARIO TOOL: "requests/s cpu-seconds requests-per-cpu-second" of the median round
median() {
    awk -v s="$1" -v t="$2" -v d="$duration" '$1 == s && $2 == t && $5 > 0 {
        printf "%.0f %.2f %.0f\n", $4 / d, $5, $4 / $5 }' "$work/results" |
        sort -n -k3 | awk '{ rows[NR] = $0 } END { print rows[int((NR + 1) / 2)] }'
}

echo "| scenario | generator | requests/s | client CPU-s | requests per client CPU-second | vs wrk |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for scenario in keepalive pipelined; do
    read -r _ _ wrk_per_cpu <<<"$(median "$scenario" wrk)"
    for tool in "${tools[@]}"; do
        read -r rate cpu per_cpu <<<"$(median "$scenario" "$tool")"
        ratio=$(awk -v a="$per_cpu" -v b="$wrk_per_cpu" 'BEGIN { printf "%.2fx", a / b }')
        echo "| $scenario | $tool | $rate | $cpu | $per_cpu | $ratio |"
    done
done
