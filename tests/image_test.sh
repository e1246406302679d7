#!/usr/bin/env bash
# The FROM scratch image, end to end, without a Docker engine: buildah builds docker/Dockerfile
# from the prebuilt static binary (offline), its config is checked, and its root filesystem runs
# with the binary as PID 1 in a new PID namespace, chrooted into the image's root (no /proc, /etc
# or /dev) as 65534:65534. It must answer on its port, pass its own healthcheck, and exit 0 within
# 1 s of SIGTERM, and of SIGINT. Traffic goes to 127.0.0.1 only; every wait is bounded.
#
#   tests/image_test.sh [BINARY]   (default build/static/uring-okay; needs root and buildah)
#
# Exit 0 on success, 1 on a failure, 77 (skipped) when buildah is not there.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
binary=$(realpath "${1:-$top/build/static/uring-okay}")
say() { printf 'image_test: %s\n' "$*" >&2; }
fail() {
    say "FAILED: $*"
    exit 1
}

command -v buildah >/dev/null || {
    say "SKIPPED: buildah is not installed"
    exit 77
}
[ -x "$binary" ] ||
    fail "no binary at $binary (cmake --preset static && cmake --build build/static)"
[ "$(id -u)" -eq 0 ] || {
    say "SKIPPED: needs root (buildah's vfs storage, unshare --pid, chroot)"
    exit 77
}

# Everything buildah stores goes under one temporary directory, removed however we exit.
work=$(mktemp -d /tmp/uring-okay-image.XXXXXX)
container=""
server_pid=""
bh() { buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" "$@"; }
cleanup() {
    set +e
    [ -z "$server_pid" ] || kill -KILL "$server_pid" 2>/dev/null
    if [ -n "$container" ]; then
        bh umount "$container" >/dev/null 2>&1 || true
        bh rm "$container" >/dev/null 2>&1 || true
    fi
    bh rmi --all --force >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# --- Build: the context holds only the binary, where the Dockerfile's `prebuilt` stage looks.
mkdir -p "$work/context/build/static"
cp "$binary" "$work/context/build/static/uring-okay"
say "building the image from $binary"
timeout 120 buildah --storage-driver vfs --root "$work/storage" --runroot "$work/run" \
    bud --format docker --isolation chroot --build-arg BINARY=prebuilt \
    -f "$top/docker/Dockerfile" -t localhost/uring-okay:image-test "$work/context" \
    >"$work/bud.log" 2>&1 || {
    cat "$work/bud.log" >&2
    fail "buildah bud"
}
grep -q 'debian' "$work/bud.log" && fail "the prebuilt build touched the debian stage"

# --- Config: what a runtime reads from the image.
bh inspect --type image localhost/uring-okay:image-test >"$work/inspect.json"
python3 - "$work/inspect.json" <<'EOF' || fail "image config"
import json, sys
config = json.load(open(sys.argv[1]))["Docker"]["config"]
expected = {
    "User": "65534:65534",
    "Entrypoint": ["/uring-okay"],
    "StopSignal": "SIGTERM",
    "ExposedPorts": {"8080/tcp": {}},
}
bad = [f"{key}: {config.get(key)!r}, expected {value!r}" for key, value in expected.items()
       if config.get(key) != value]
health = config.get("Healthcheck") or {}
if health.get("Test") != ["CMD", "/uring-okay", "healthcheck"]:
    bad.append(f"Healthcheck: {health!r}")
if config.get("Cmd"):
    bad.append(f"Cmd: {config['Cmd']!r}, expected none")
for line in bad:
    print("image_test: config", line, file=sys.stderr)
sys.exit(1 if bad else 0)
EOF

# --- The root filesystem: exactly one file, the binary, byte for byte.
container=$(bh from localhost/uring-okay:image-test)
root=$(bh mount "$container")
files=$(cd "$root" && find . -mindepth 1 | sort | tr '\n' ' ')
[ "$files" = "./uring-okay " ] || fail "the image holds more than /uring-okay: $files"
cmp -s "$root/uring-okay" "$binary" || fail "/uring-okay differs from $binary"
image_bytes=$(stat -c %s "$root/uring-okay")
say "config checked; the root holds only /uring-okay ($image_bytes bytes)"

# env -i leaves no PATH: the tools by their full names.
unshare=$(command -v unshare)
chroot=$(command -v chroot)
timeout=$(command -v timeout)

# Starts the image's entrypoint as PID 1 of a new PID namespace, chrooted into the image's
# root as 65534:65534, with only the environment a runtime would pass; sets server_pid (our
# unshare, whose exit status is the server's) and port.
start_pid1() {
    local log=$1
    env -i URING_OKAY_LISTEN=127.0.0.1:0 URING_OKAY_THREADS=2 \
        "$unshare" --pid --fork --kill-child \
        "$chroot" --userspec=65534:65534 "$root" /uring-okay >"$log" 2>&1 &
    server_pid=$!
    port=""
    for _ in $(seq 100); do
        port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\),.*/\1/p' "$log")
        [ -n "$port" ] && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.05
    done
    cat "$log" >&2
    fail "no start-up line within 5 s"
}

# The server itself, as the kernel sees it: the child of our unshare.
pid1_host_pid() { pgrep -P "$server_pid" | head -n 1; }

# One request over loopback; prints the status line.
status_line() {
    timeout 5 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/"$1"
        printf "GET / HTTP/1.1\r\nHost: image-test\r\nConnection: close\r\n\r\n" >&3
        head -n 1 <&3 | tr -d "\r"' _ "$1"
}

for signal in TERM INT; do
    log="$work/server-$signal.log"
    start_pid1 "$log"
    pid1=$(pid1_host_pid)
    [ -n "$pid1" ] || fail "no process under unshare"
    ns_pid=$(awk '/^NSpid:/ {print $NF}' "/proc/$pid1/status")
    [ "$ns_pid" = 1 ] || fail "the server is PID $ns_pid in its namespace, not 1"
    uid_gid=$(awk '/^Uid:/ {u=$2} /^Gid:/ {g=$2} END {print u ":" g}' "/proc/$pid1/status")
    [ "$uid_gid" = "65534:65534" ] || fail "the server runs as $uid_gid"

    line=$(status_line "$port") || true
    [ "$line" = "HTTP/1.1 200 OK" ] || fail "GET / answered '$line'"

    # The image's HEALTHCHECK, as a runtime runs it: same root, user and environment.
    health=$(env -i URING_OKAY_LISTEN="127.0.0.1:$port" \
        "$timeout" 5 "$chroot" --userspec=65534:65534 "$root" /uring-okay healthcheck) ||
        fail "healthcheck exited $?: $health"
    [ "$health" = "healthcheck: 127.0.0.1:$port answered 200" ] || fail "healthcheck said '$health'"

    started=$(date +%s%N)
    kill -"$signal" "$pid1"
    status=0
    for _ in $(seq 200); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.005
    done
    elapsed_ms=$((($(date +%s%N) - started) / 1000000))
    if kill -0 "$server_pid" 2>/dev/null; then
        cat "$log" >&2
        fail "SIG$signal: still running after ${elapsed_ms} ms"
    fi
    wait "$server_pid" || status=$?
    server_pid=""
    [ "$status" -eq 0 ] || {
        cat "$log" >&2
        fail "SIG$signal: exit status $status"
    }
    [ "$elapsed_ms" -lt 1000 ] || fail "SIG$signal: exit took ${elapsed_ms} ms (limit 1000)"
    engine=$(sed -n '1s/.*engine //p' "$log")
    say "PID 1 as 65534:65534: answered 200, healthcheck 0," \
        "SIG$signal -> exit 0 in ${elapsed_ms} ms (engine $engine)"
done
say "passed"
