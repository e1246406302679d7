#!/usr/bin/env python3
"""Exhaustion: the soak's companion. Each engine, three resources run out on purpose.

1. Descriptors: the server runs with RLIMIT_NOFILE 64; 30 keep-alive clients hold connections,
   then 100 more connect at once, each with its request sent (more clients than descriptors).
   While it is saturated, the 30 must still be answered, round after round, and the server's
   CPU must stay low (accept backs off until the next tick instead of failing in a loop); then
   every one of the 100 must be answered as descriptors free up, and the fds come back.
2. Receive buffers: --buffer-count 2 --buffer-bytes 256 (io_uring: a provided-buffer ring of two;
   epoll reads into one buffer anyway); 200 clients write 8 pipelined requests at once, 10
   rounds each. Every answer must arrive, byte for byte in number, and the server's own count of
   requests at exit must equal what was sent: the multishot recv that ends with ENOBUFS is armed
   again and loses nothing.
3. Memory: RSS with 10,000 idle keep-alive connections (each answered once), then with 10,000
   hostile ones (header sections, request lines and bodies in progress, pipelines never read):
   the hostile RSS must stay within --rss-bound-kib of the idle one, since nothing per
   connection grows with what a client sends.

    tests/exhaustion.py --binary build/release/uring-okay [--engines uring,epoll] [--json F]

Run by tools/checks/50-soak after tests/soak.py, about 25 s per engine. Loopback only; every
wait bounded; the server is stopped with SIGTERM and must exit 0.
"""

import argparse
import json
import os
import re
import resource
import selectors
import socket
import struct
import subprocess
import sys
import tempfile
import time

from soak import finish, stop_process  # tests/soak.py, beside this script

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h
REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
FAILURE_SIGNS = ("Sanitizer", "runtime error:", "assertion failed")


def say(text):
    print(f"exhaustion: {text}", flush=True)


class Server:
    def __init__(self, binary, engine, flags, work, nofile=None):
        self.log_path = os.path.join(work, f"exhaustion-{engine}-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "wb")

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

        command = [binary, "--listen", "127.0.0.1:0", "--threads", "1", "--engine", engine] + flags
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=self.log, preexec_fn=limit)
        self.port = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.process.poll() is None:
            match = re.search(r"listening on 127\.0\.0\.1:(\d+),", self.text())
            if match:
                self.port = int(match.group(1))
                break
            time.sleep(0.02)
        if not self.port:
            self.stop(2)
            raise RuntimeError(f"{engine}: no start-up line: {self.text()[:500]}")

    def text(self):
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")

    def rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def fds(self):
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def cpu_seconds(self):
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, timeout=10):
        return stop_process(self.process, timeout)

    def drained(self):
        match = re.search(r"drained: (\d+) requests", self.text())
        return int(match.group(1)) if match else None

    def troubles(self):
        return [l for l in self.text().splitlines() if any(s in l for s in FAILURE_SIGNS)]


def open_socket(port, source=None, blocking=True):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # RST on close: no TIME_WAIT left behind by tens of thousands of connections.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    if source:
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((source, 0))
    if blocking:
        sock.settimeout(5)
        sock.connect(("127.0.0.1", port))
    else:
        sock.setblocking(False)
        sock.connect_ex(("127.0.0.1", port))
    return sock


def answer_bytes(port):
    """The length of one whole answer: the Date field has a fixed width, so all are equal."""
    with open_socket(port) as sock:
        sock.sendall(REQUEST)
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(4096)
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        return len(head) + 4 + length


def read_exactly(socks, want, deadline, close_done=False):
    """Reads from every socket until each has `want` bytes; returns the sockets short of it.
    With close_done, each socket is closed as soon as it has them."""
    got = {s: 0 for s in socks}
    selector = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ)
    open_count = len(socks)
    while open_count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            got[s] += len(data)
            if not data or got[s] >= want:
                selector.unregister(s)
                open_count -= 1
                if close_done:
                    s.close()
    selector.close()
    return [s for s in socks if got[s] != want]


def descriptors(binary, engine, work):
    """RLIMIT_NOFILE 64: the held clients stay served, the flood is served as fds free up."""
    server = Server(binary, engine, ["--idle-timeout-ms", "60000"], work, nofile=64)
    failures, figures = [], {}
    one = answer_bytes(server.port)
    time.sleep(0.3)  # that connection closed on the server's side too
    baseline_fds = server.fds()
    held = []
    for _ in range(30):
        sock = open_socket(server.port)
        sock.sendall(REQUEST)
        held.append(sock)
    if read_exactly(held, one, time.monotonic() + 5):
        failures.append("descriptors: the 30 held clients were not all answered at first")
    flood = []
    for _ in range(100):
        sock = open_socket(server.port, blocking=False)
        flood.append(sock)
    time.sleep(0.2)
    for sock in flood:
        try:
            sock.send(REQUEST)  # connected by now (the backlog took it) or it fails below
        except OSError:
            pass
    # Saturated: fds all taken (the flood's accepted clients keep theirs). The held are served.
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    rounds_missed = 0
    for _ in range(6):
        for sock in held:
            sock.setblocking(True)
            sock.sendall(REQUEST)
        rounds_missed += len(read_exactly(held, one, time.monotonic() + 3))
        time.sleep(0.4)
    saturated_s = time.monotonic() - started
    cpu_percent = 100 * (server.cpu_seconds() - cpu_before) / saturated_s
    fds_saturated = server.fds()
    # The flood: read each answer and close, so descriptors free up for the next.
    late = read_exactly(flood, one, time.monotonic() + 20, close_done=True)
    for sock in flood:
        sock.close()
    for sock in held:
        sock.setblocking(True)
        sock.sendall(REQUEST)
    held_after = len(read_exactly(held, one, time.monotonic() + 5))
    for sock in held:
        sock.close()
    time.sleep(1.5)
    fds_end = server.fds()
    code = server.stop()
    figures = {"rlimit_nofile": 64, "held": 30, "flood": 100, "fds_baseline": baseline_fds,
               "fds_saturated": fds_saturated, "fds_end": fds_end,
               "held_answers_missed_while_saturated": rounds_missed,
               "held_answers_missed_after": held_after, "flood_unanswered": len(late),
               "cpu_percent_saturated": round(cpu_percent, 1),
               "saturated_seconds": round(saturated_s, 1), "exit_code": code}
    if fds_saturated < 60:
        failures.append(f"descriptors: not saturated ({fds_saturated} fds of 64)")
    if rounds_missed or held_after:
        failures.append(f"descriptors: held clients missed {rounds_missed} answers while "
                        f"saturated and {held_after} after")
    if late:
        failures.append(f"descriptors: {len(late)} of the 100 flood clients never answered")
    if cpu_percent > 20:
        failures.append(f"descriptors: {cpu_percent:.0f}% CPU while saturated (a busy loop?)")
    if fds_end != baseline_fds:
        failures.append(f"descriptors: fds {baseline_fds} at start, {fds_end} at the end")
    if code != 0:
        failures.append(f"descriptors: SIGTERM exit {code}")
    return figures, failures + [f"descriptors: {t}" for t in server.troubles()]


def buffers(binary, engine, work):
    """A provided-buffer ring of two 256-byte buffers, 200 clients writing at once."""
    server = Server(binary, engine, ["--buffer-count", "2", "--buffer-bytes", "256"], work)
    one = answer_bytes(server.port)
    clients, rounds, depth = 200, 10, 8
    socks = [open_socket(server.port) for _ in range(clients)]
    short = 0
    for _ in range(rounds):
        for sock in socks:
            sock.setblocking(True)
            sock.sendall(REQUEST * depth)
        short += len(read_exactly(socks, one * depth, time.monotonic() + 10))
    for sock in socks:
        sock.close()
    code = server.stop()
    sent = clients * rounds * depth + 1
    drained = server.drained()
    figures = {"buffer_count": 2, "buffer_bytes": 256, "clients": clients,
               "requests_sent": sent, "requests_counted_by_server": drained,
               "clients_short_of_answers": short, "exit_code": code}
    failures = []
    if short:
        failures.append(f"buffers: {short} client rounds short of their answers")
    if drained != sent:
        failures.append(f"buffers: sent {sent} requests, the server counted {drained}")
    if code != 0:
        failures.append(f"buffers: SIGTERM exit {code}")
    return figures, failures + [f"buffers: {t}" for t in server.troubles()]


def hostile_bytes(i):
    kind = i % 4
    if kind == 0:  # a header section in progress (slowloris)
        return b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"s" * 1000
    if kind == 1:  # a request line in progress
        return b"GET /" + b"p" * 4000
    if kind == 2:  # a body in progress, skipped unread by the framer
        return b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n" + b"b" * 4096
    return REQUEST * 256  # a pipeline whose answers are never read


def open_many(port, count, first_source):
    socks = []
    for i in range(count):
        socks.append(open_socket(port, source=f"127.0.0.{first_source + i % 8}"))
    return socks


def memory(binary, engine, work, count, bound_kib):
    """RSS with `count` idle connections, then with `count` hostile ones."""
    server = Server(binary, engine, ["--header-timeout-ms", "60000", "--idle-timeout-ms", "60000",
                                     "--connections-max", str(count + 100)], work)
    one = answer_bytes(server.port)
    rss_start = server.rss_kib()
    idle = open_many(server.port, count, 2)
    for sock in idle:
        sock.sendall(REQUEST)
    unanswered = len(read_exactly(idle, one, time.monotonic() + 30))
    time.sleep(1)
    rss_idle = server.rss_kib()
    for sock in idle:
        sock.close()
    time.sleep(1.5)
    hostile = open_many(server.port, count, 10)
    for i, sock in enumerate(hostile):
        sock.sendall(hostile_bytes(i))
    time.sleep(1.5)
    rss_hostile = server.rss_kib()
    fds_hostile = server.fds()
    for sock in hostile:
        sock.close()
    code = server.stop()
    figures = {"connections": count, "rss_kib_start": rss_start, "rss_kib_idle": rss_idle,
               "rss_kib_hostile": rss_hostile, "rss_kib_hostile_minus_idle": rss_hostile - rss_idle,
               "bound_kib": bound_kib, "idle_unanswered": unanswered,
               "fds_with_hostile": fds_hostile, "exit_code": code}
    failures = []
    if unanswered:
        failures.append(f"memory: {unanswered} of {count} idle connections not answered")
    if fds_hostile < count:
        failures.append(f"memory: only {fds_hostile} fds with {count} hostile clients")
    if rss_hostile > rss_idle + bound_kib:
        failures.append(f"memory: RSS {rss_hostile} KiB with hostile clients, {rss_idle} KiB "
                        f"with idle ones (bound {bound_kib} KiB)")
    if code != 0:
        failures.append(f"memory: SIGTERM exit {code}")
    return figures, failures + [f"memory: {t}" for t in server.troubles()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="build/release/uring-okay")
    parser.add_argument("--engines", default="uring,epoll")
    parser.add_argument("--connections", type=int, default=10000, help="for the memory phase")
    parser.add_argument("--rss-bound-kib", type=int, default=1024)
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < args.connections + 1000:  # the server inherits it too
        if hard < 2000:
            sys.exit(f"exhaustion: RLIMIT_NOFILE hard limit {hard}: too low for the memory phase")
        say(f"RLIMIT_NOFILE hard limit {hard}: the memory phase holds {hard - 1000} connections, "
            f"not {args.connections}")
        args.connections = hard - 1000
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    results, failures = [], []
    with tempfile.TemporaryDirectory(prefix="uring-okay-exhaustion-") as work:
        for engine in args.engines.split(","):
            started = time.monotonic()
            result = {"engine": engine}
            for name, phase in (("descriptors", lambda: descriptors(args.binary, engine, work)),
                                ("buffers", lambda: buffers(args.binary, engine, work)),
                                ("memory", lambda: memory(args.binary, engine, work,
                                                          args.connections, args.rss_bound_kib))):
                try:
                    figures, failed = phase()
                except (OSError, RuntimeError) as error:
                    figures, failed = {}, [f"{name}: {error!r}"]
                result[name] = figures
                failures += [f"{engine}: {f}" for f in failed]
                say(f"{engine} {name}: {json.dumps(figures)}")
            result["seconds"] = round(time.monotonic() - started, 1)
            results.append(result)
    return finish(results, failures, args.json, say)


if __name__ == "__main__":
    sys.exit(main())
