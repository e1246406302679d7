#!/usr/bin/env python3
"""Soak: mixed good and hostile traffic against the real binary, one engine after the other.

Good clients: wrk (keep-alive, 16-deep pipelines, Connection: close churn) and Python clients
that check every answer byte for byte (GET, HEAD, mixed pipelines, bodies, close). Hostile
clients: slowloris, clients that never read, RST mid-request (SO_LINGER 0), half-closed clients,
idle keep-alive, garbage and over-limit requests. Every second the server's RSS, open fds, CPU
and threads are sampled from /proc. Fails on: a crash or a sanitizer/assert line, any wrong
answer to a good client, a hostile client not closed by a limit in time, RSS growing more than
--rss-growth-mib after warm-up, fds not back to their start-up count once the clients left,
CPU while idle, a thread count that moves, SIGTERM not exiting 0.

    tests/soak.py --binary build/release/uring-okay --seconds 60      (CI: 30 s per engine)
    tools/soak                                                         (10 minutes)

Loopback only (127.0.0.1), every wait bounded.
"""

import argparse
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

BODY = b"soak-OK-0123456789"
HEADER_TIMEOUT_MS = 1000
IDLE_TIMEOUT_MS = 2000
LINGER_MS = 500
OWED_MAX = 4096
# A limit closes a client within its timeout plus one tick (1 s) and some scheduling slack.
CLOSE_SLACK_S = 3.0

DATE = re.compile(rb"\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT(?=\r\n)")
FAILURE_SIGNS = (b"Sanitizer", b"runtime error:", b"assertion failed")


def strip_date(answer):
    return DATE.sub(b"", answer)


def say(text):
    print(f"soak: {text}", flush=True)


def stop_process(process, timeout=10):
    """SIGTERM, then up to `timeout` s for the exit code; None when it had to be killed.
    Shared with exhaustion.py."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return None


def finish(results, failures, json_path, say):
    """The end of a run (soak's and exhaustion's): the figures to json_path, then each failure
    or "passed", and the exit status."""
    if json_path:
        with open(json_path, "w") as out:
            json.dump(results, out, indent=1)
    for failure in failures:
        say(f"FAILED: {failure}")
    if not failures:
        say("passed")
    return 1 if failures else 0


class Stats:
    """Named counters and a few examples of what went wrong, shared by every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.examples = []

    def add(self, name, n=1):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + n

    def problem(self, name, detail):
        with self.lock:
            self.counts[name] = self.counts.get(name, 0) + 1
            if len(self.examples) < 12:
                self.examples.append(f"{name}: {detail}")

    def get(self, name):
        with self.lock:
            return self.counts.get(name, 0)


# --- The server ----------------------------------------------------------------------------

class Server:
    def __init__(self, binary, engine, work):
        self.log_path = os.path.join(work, f"server-{engine}.log")
        self.log = open(self.log_path, "wb")
        flags = [
            "--listen", "127.0.0.1:0", "--engine", engine, "--threads", "2",
            "--body", BODY.decode(), "--header", "X-Soak: yes",
            "--header-timeout-ms", str(HEADER_TIMEOUT_MS), "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
            "--linger-ms", str(LINGER_MS), "--owed-max", str(OWED_MAX),
        ]
        self.command = [binary] + flags
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=self.log,
                                        stderr=self.log)
        self.port = 0
        self.start_line = ""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.process.poll() is None:
            text = self.text()
            match = re.search(r"^(.*listening on 127\.0\.0\.1:(\d+),.*)$", text, re.M)
            if match:
                self.start_line, self.port = match.group(1), int(match.group(2))
                return
            time.sleep(0.02)

    def text(self):
        with open(self.log_path, "rb") as log:
            return log.read().decode(errors="replace")

    def sample(self):
        """(rss KiB, open fds, threads, CPU seconds, io_uring workers) from /proc, or None once
        it is gone. The kernel's io_uring workers (iou-wrk-*, come and go with blocking work)
        are counted apart from the server's own threads."""
        pid = self.process.pid
        try:
            rss = 0
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        rss = int(line.split()[1])
            threads = workers = 0
            for task in os.listdir(f"/proc/{pid}/task"):
                try:
                    with open(f"/proc/{pid}/task/{task}/comm") as comm:
                        name = comm.read()
                except FileNotFoundError:
                    continue  # a worker that just ended
                if name.startswith("iou-"):
                    workers += 1
                else:
                    threads += 1
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])  # utime, stime
            return rss, fds, threads, ticks / os.sysconf("SC_CLK_TCK"), workers
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            return None

    def stop(self, timeout=10):
        """SIGTERM; the exit code, or None when it had to be killed."""
        return stop_process(self.process, timeout)


class Sampler(threading.Thread):
    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        # (seconds since start, rss KiB, fds, threads, CPU % of one core, io_uring workers)
        self.samples = []
        self.halt = threading.Event()
        self.start_time = time.monotonic()

    def run(self):
        last = None
        while not self.halt.is_set():
            now = time.monotonic()
            sample = self.server.sample()
            if sample is None:
                return
            rss, fds, threads, cpu, workers = sample
            percent = 0.0 if last is None else 100 * (cpu - last[1]) / max(now - last[0], 1e-3)
            last = (now, cpu)
            self.samples.append((now - self.start_time, rss, fds, threads, percent, workers))
            self.halt.wait(1.0)


# --- Client helpers ------------------------------------------------------------------------

def connect(port, timeout=5.0):
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_answer(sock, pending, head, deadline):
    """One answer framed by Content-Length (none after HEAD): (answer, rest), or (None, bytes)."""
    while True:
        end = pending.find(b"\r\n\r\n")
        if end >= 0:
            length = 0
            if not head:
                match = re.search(rb"\r\nContent-Length: ?(\d+)\r\n", pending[: end + 2])
                length = int(match.group(1)) if match else 0
            total = end + 4 + length
            if len(pending) >= total:
                return pending[:total], pending[total:]
        left = deadline - time.monotonic()
        if left <= 0:
            return None, pending
        sock.settimeout(left)
        try:
            got = sock.recv(65536)
        except (socket.timeout, OSError):
            return None, pending
        if not got:
            return None, pending
        pending += got


def read_to_close(sock, deadline):
    """Everything until EOF or a reset: (bytes, closed in time)."""
    data = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return data, False
        sock.settimeout(left)
        try:
            got = sock.recv(65536)
        except socket.timeout:
            return data, False
        except OSError:  # ECONNRESET: closed with our bytes unread, still closed
            return data, True
        if not got:
            return data, True
        data += got


def wait_closed(sock, deadline):
    """Waits for the server's FIN or RST without reading (POLLRDHUP): whether it came in time."""
    poller = select.poll()
    poller.register(sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        if poller.poll(int(left * 1000) + 1):
            return True


def request(method="GET", path="/", extra=b""):
    return method.encode() + b" " + path.encode() + b" HTTP/1.1\r\nHost: soak\r\n" + extra + b"\r\n"


class Expected:
    """The answers every good client must get, learned once and checked for their shape."""

    def __init__(self, port):
        sock = connect(port)
        sock.sendall(request("GET") + request("HEAD") + request("GET", extra=b"Connection: close\r\n"))
        deadline = time.monotonic() + 5
        get, rest = read_answer(sock, b"", False, deadline)
        head, rest = read_answer(sock, rest, True, deadline)
        close, rest = read_answer(sock, rest, False, deadline)
        sock.close()
        if get is None or head is None or close is None:
            raise RuntimeError("the first answers did not arrive")
        self.get, self.head, self.close = strip_date(get), strip_date(head), strip_date(close)
        length = f"Content-Length: {len(BODY)}\r\n".encode()
        checks = [
            self.get.startswith(b"HTTP/1.1 200 OK\r\n"), self.get.endswith(b"\r\n\r\n" + BODY),
            length in self.get, b"X-Soak: yes\r\n" in self.get, self.head == self.get[: -len(BODY)],
            b"Connection: close\r\n" in self.close, self.close.endswith(BODY),
        ]
        if not all(checks):
            raise RuntimeError(f"unexpected answers: {get!r} {head!r} {close!r}")


# --- Good clients --------------------------------------------------------------------------

class Abandon(Exception):
    """This connection went wrong (already counted): the client opens another."""


def good_client(port, expected, stats, stop, rng):
    """Keep-alive connections: single GETs and HEADs, mixed pipelines, bodies; then a close."""
    bodies = [
        (b"POST", b"Content-Length: 5\r\n", b"hello"),
        (b"PUT", b"Transfer-Encoding: chunked\r\n", b"5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
    ]
    while not stop.is_set():
        try:
            sock = connect(port)
        except OSError as error:
            stats.problem("good_connect_failed", repr(error))
            continue
        pending = b""
        try:
            for _ in range(rng.randint(1, 40)):
                if stop.is_set():
                    break
                heads = [rng.random() < 0.3 for _ in range(rng.choice([1, 1, 2, 8, 32, 100]))]
                blob = b""
                for head in heads:
                    if not head and rng.random() < 0.1:
                        method, field, body = rng.choice(bodies)
                        blob += method + b" /b HTTP/1.1\r\nHost: soak\r\n" + field + b"\r\n" + body
                    else:
                        blob += request("HEAD" if head else "GET", f"/{rng.randint(0, 999)}?q=1")
                sock.sendall(blob)
                deadline = time.monotonic() + 10
                for head in heads:
                    answer, pending = read_answer(sock, pending, head, deadline)
                    if answer is None:
                        stats.problem("good_answer_missing", f"after {len(blob)} bytes sent")
                        raise Abandon
                    want = expected.head if head else expected.get
                    if strip_date(answer) != want:
                        stats.problem("good_answer_wrong", repr(answer[:200]))
                    else:
                        stats.add("good_answers_checked")
            if not stop.is_set():
                sock.sendall(request("GET", extra=b"Connection: close\r\n"))
                rest, closed = read_to_close(sock, time.monotonic() + 10)
                answer = strip_date(pending + rest)
                if answer != expected.close or not closed:
                    stats.problem("good_close_wrong", repr(answer[:200]))
                else:
                    stats.add("good_answers_checked")
        except Abandon:
            pass
        except OSError as error:
            stats.problem("good_connection_error", repr(error))
        finally:
            sock.close()


WRK_PIPELINE = """
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/p") end
  req = table.concat(r)
end
request = function() return req end
"""


def start_wrk(port, seconds, work):
    """Keep-alive, pipelined and close-churn load, one wrk each: Popen objects by name."""
    script = os.path.join(work, "pipeline.lua")
    with open(script, "w") as out:
        out.write(WRK_PIPELINE)
    url = f"http://127.0.0.1:{port}/"
    base = ["wrk", "-t1", f"-d{seconds}s", "--timeout", "5s"]
    runs = {
        "keep-alive": base + ["-c16", url],
        "pipelined": base + ["-c8", "-s", script, url],
        "close-churn": base + ["-c4", "-H", "Connection: close", url],
    }
    return {name: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            for name, command in runs.items()}


def finish_wrk(runs, stats, seconds):
    summary = {}
    for name, process in runs.items():
        try:
            output = process.communicate(timeout=seconds + 30)[0].decode(errors="replace")
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0].decode(errors="replace")
            stats.problem("wrk_hung", name)
        requests = re.search(r"(\d+) requests in", output)
        non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
        entry = {
            "requests": int(requests.group(1)) if requests else 0,
            "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": [int(n) for n in errors.groups()] if errors else [0, 0, 0, 0],
        }
        summary[name] = entry
        if process.returncode != 0 or not requests:
            stats.problem("wrk_failed", f"{name}: {output[-300:]!r}")
        if entry["non_2xx"]:
            stats.problem("good_answer_wrong", f"wrk {name}: {entry['non_2xx']} non-2xx answers")
        connect_errors, _, _, timeouts = entry["socket_errors"]
        if connect_errors or timeouts:
            stats.problem("wrk_errors", f"{name}: connect {connect_errors}, timeout {timeouts}")
        stats.add("wrk_requests", entry["requests"])
    return summary


# --- Hostile clients: each episode must end with the server closing, in time ---------------

def slowloris(port, expected, stats, rng):
    sock = connect(port)
    started = time.monotonic()
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: soak\r\nX-Slow: ")
        deadline = started + HEADER_TIMEOUT_MS / 1000 + CLOSE_SLACK_S
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.2)
            if readable:
                data, closed = read_to_close(sock, deadline)
                if closed and not data:
                    stats.add("slowloris_closed")
                    return
                stats.problem("slowloris_wrong", repr(data[:100]))
                return
            sock.send(bytes([rng.choice(b"abcdefgh")]))
        stats.problem("slowloris_not_closed", f"open after {time.monotonic() - started:.1f} s")
    except OSError:
        stats.add("slowloris_closed")  # reset while we sent: closed
    finally:
        sock.close()


def never_reads(port, expected, stats, rng):
    """Pipelines GETs as fast as the server takes them and never reads an answer."""
    sock = connect(port)
    sock.setblocking(False)
    blob = request("GET") * 256
    sent = 0
    try:
        started = time.monotonic()
        stalled_since = None
        deadline = started + 30
        while time.monotonic() < deadline:
            try:
                sent += sock.send(blob)
                stalled_since = None
            except BlockingIOError:
                stalled_since = stalled_since or time.monotonic()
                if time.monotonic() - stalled_since > 0.5:
                    break  # the server stopped reading: now only its idle timeout may end this
                select.select([], [sock], [], 0.1)
        closed = wait_closed(sock, time.monotonic() + IDLE_TIMEOUT_MS / 1000 + CLOSE_SLACK_S)
        if closed:
            stats.add("never_reads_closed")
            stats.add("never_reads_bytes_sent", sent)
        else:
            stats.problem("never_reads_not_closed", f"{sent} bytes sent, open")
    except OSError:
        stats.add("never_reads_closed")
    finally:
        sock.close()


def reset_mid_request(port, expected, stats, rng):
    """A request cut anywhere, then SO_LINGER 0 and close: an RST instead of a FIN."""
    sock = connect(port)
    try:
        whole = request("GET") + request("POST", extra=b"Content-Length: 100\r\n") + b"x" * 50
        sock.sendall(whole[: rng.randint(1, len(whole) - 1)])
        time.sleep(rng.random() * 0.05)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        stats.add("resets_sent")
    finally:
        sock.close()
    time.sleep(0.01)


def half_closed(port, expected, stats, rng):
    """Requests, then SHUT_WR: the answers must come, then the server's close."""
    sock = connect(port)
    try:
        count = rng.randint(1, 4)
        partial = rng.random() < 0.3
        blob = request("GET") * count + (b"GET /cut HTTP/1.1\r\nHo" if partial else b"")
        sock.sendall(blob)
        sock.shutdown(socket.SHUT_WR)
        data, closed = read_to_close(sock, time.monotonic() + LINGER_MS / 1000 + CLOSE_SLACK_S)
        if not closed:
            stats.problem("half_closed_not_closed", f"{len(data)} bytes read, open")
        elif strip_date(data) != expected.get * count:
            stats.problem("good_answer_wrong", f"half-closed after {count}: {data[:200]!r}")
        else:
            stats.add("half_closed_closed")
            stats.add("good_answers_checked", count)
    except OSError as error:
        stats.problem("half_closed_error", repr(error))
    finally:
        sock.close()


def idle_keep_alive(port, expected, stats, rng):
    """One request, then silence: the idle timeout must close it."""
    sock = connect(port)
    try:
        sock.sendall(request("GET"))
        answer, _ = read_answer(sock, b"", False, time.monotonic() + 5)
        if answer is None or strip_date(answer) != expected.get:
            stats.problem("good_answer_wrong", f"idle client: {answer!r}")
            return
        stats.add("good_answers_checked")
        started = time.monotonic()
        data, closed = read_to_close(sock, started + IDLE_TIMEOUT_MS / 1000 + CLOSE_SLACK_S)
        if closed and not data:
            stats.add("idle_closed")
        else:
            stats.problem("idle_not_closed", f"{data[:100]!r} closed={closed}")
    finally:
        sock.close()


# Each: bytes, and the status the answer must carry before the close.
def hostile_requests(rng):
    garbage = bytes([0]) + bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
    return [
        (garbage, b"400"),
        (b"GET / HTTP/1.1\nHost: soak\n\n", b"400"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", b"400"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: soak\r\n\r\n", b"414"),
        (b"GET / HTTP/1.1\r\nHost: soak\r\nX-Big: " + b"b" * 20000 + b"\r\n\r\n", b"431"),
        (b"GET / HTTP/2.0\r\nHost: soak\r\n\r\n", b"505"),
        (b"POST / HTTP/1.1\r\nHost: soak\r\nContent-Length: 99999999999\r\n\r\n", b"413"),
    ]


def garbage(port, expected, stats, rng):
    """A good request, then something refused: the good answer, the refusal, the close."""
    data, status = rng.choice(hostile_requests(rng))
    sock = connect(port)
    try:
        sock.sendall(request("GET") + data)
        received, closed = read_to_close(sock, time.monotonic() + LINGER_MS / 1000 + CLOSE_SLACK_S)
    except OSError:
        received, closed = b"", True  # reset while we sent the rest: closed
    finally:
        sock.close()
    if not closed:
        stats.problem("refused_not_closed", f"{status.decode()}: open")
        return
    received = strip_date(received)
    if not received.startswith(expected.get):
        stats.problem("good_answer_wrong", f"before a {status.decode()}: {received[:200]!r}")
        return
    refusal = received[len(expected.get):]
    if refusal and not refusal.startswith(b"HTTP/1.1 " + status + b" "):
        stats.problem("refused_wrong", f"wanted {status.decode()}: {refusal[:100]!r}")
    elif refusal and b"Connection: close\r\n" not in refusal:
        stats.problem("refused_wrong", f"{status.decode()} without Connection: close")
    else:
        # An empty refusal: the reset of our unread bytes beat the answer to us. Still closed.
        stats.add("refused_closed")
        stats.add("good_answers_checked")


def loop(episode, stop, stats, seed, port, expected):
    """Episodes one after another until the run stops; each ends in bounded time."""
    rng = random.Random(seed)
    while not stop.is_set():
        try:
            episode(port, expected, stats, rng)
        except OSError as error:
            stats.problem(f"{episode.__name__}_error", repr(error))
            time.sleep(0.1)


# --- One engine's run ----------------------------------------------------------------------

def slope_kib_per_min(points):
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    cov = sum((t - mean_t) * (v - mean_v) for t, v in points)
    return 60 * cov / var if var else 0.0


CLIENTS = ("wrk", "good", "slowloris", "never_reads", "reset", "half_closed", "idle", "garbage")


def soak_engine(binary, engine, seconds, work, rss_growth_mib, clients=CLIENTS):
    server = Server(binary, engine, work)
    try:
        return run_engine(server, engine, seconds, work, rss_growth_mib, clients)
    finally:
        if server.process.poll() is None:  # this script failed: leave nothing running
            server.process.kill()
            server.process.wait()


def run_engine(server, engine, seconds, work, rss_growth_mib, clients):
    if not server.port:
        code = server.stop(2)
        text = server.text()
        if engine == "uring" and code == 1 and "io_uring" in text:
            say(f"{engine}: skipped, io_uring is not usable here: {text.strip()[:200]}")
            return {"engine": engine, "skipped": text.strip()[:200]}, []
        return {"engine": engine}, [f"{engine}: no start-up line (exit {code}): {text[:500]}"]
    say(f"{engine}: {server.start_line}")
    sampler = Sampler(server)
    time.sleep(0.3)
    baseline = server.sample()
    sampler.start()
    stats = Stats()
    failures = []
    try:
        expected = Expected(server.port)
    except (OSError, RuntimeError) as error:
        sampler.halt.set()
        return {"engine": engine}, [f"{engine}: the first answers: {error}\n{server.text()[-2000:]}"]

    stop = threading.Event()
    seed = 20240601
    threads = []
    # Clients of each kind, each a thread running its episodes one after another.
    plan = [(slowloris, 6, "slowloris"), (never_reads, 2, "never_reads"),
            (reset_mid_request, 2, "reset"), (half_closed, 2, "half_closed"),
            (idle_keep_alive, 3, "idle"), (garbage, 2, "garbage")]
    for i in range(2 if "good" in clients else 0):
        threads.append(threading.Thread(
            target=good_client, args=(server.port, expected, stats, stop, random.Random(seed + i)),
            daemon=True))
    for episode, count, name in plan:
        if name not in clients:
            continue
        for i in range(count):
            seed += 100
            threads.append(threading.Thread(
                target=loop, args=(episode, stop, stats, seed, server.port, expected), daemon=True))
    wrk_seconds = max(int(seconds) - 2, 1)
    wrk = start_wrk(server.port, wrk_seconds, work) if "wrk" in clients else {}
    for thread in threads:
        thread.start()
    load_started = time.monotonic()
    while time.monotonic() - load_started < seconds and server.process.poll() is None:
        time.sleep(0.5)
    stop.set()
    wrk_summary = finish_wrk(wrk, stats, wrk_seconds)
    for thread in threads:
        thread.join(timeout=45)
        if thread.is_alive():
            failures.append(f"{engine}: a client thread did not finish within 45 s")
    load_ended = sampler.samples[-1][0] if sampler.samples else 0

    # Every client is gone: the fds must come back to what the server had before any.
    settled = None
    deadline = time.monotonic() + (IDLE_TIMEOUT_MS + LINGER_MS) / 1000 + 10
    while time.monotonic() < deadline and server.process.poll() is None:
        sample = server.sample()
        if sample and sample[1] == baseline[1]:
            settled = sample
            break
        time.sleep(0.2)
    # Zero CPU while idle: the tick is armed only while a connection is open.
    idle_cpu = None
    if settled and server.process.poll() is None:
        before = server.sample()
        time.sleep(3)
        after = server.sample()
        if before and after:
            idle_cpu = 100 * (after[3] - before[3]) / 3
    sampler.halt.set()
    sampler.join(timeout=5)
    crashed = server.process.poll()
    exit_code = server.stop(10)
    text = server.text()

    # --- Figures and verdicts
    samples = sampler.samples
    warm = max(5.0, 0.2 * seconds)
    loaded = [s for s in samples if warm <= s[0] <= load_ended]
    rss_points = [(s[0], s[1]) for s in loaded]
    rss_start = rss_points[0][1] if rss_points else 0
    rss_growth = (max(v for _, v in rss_points) - rss_start) if rss_points else 0
    threads_seen = sorted({s[3] for s in samples})
    busy = [s[4] for s in samples if 0 < s[0] <= load_ended]
    drained = re.search(r"drained: (\d+) requests", text)
    result = {
        "engine": engine,
        "seconds": seconds,
        "start_line": server.start_line,
        "samples": len(samples),
        "rss_kib_baseline": baseline[0],
        "rss_kib_after_warmup": rss_start,
        "rss_kib_max": max((s[1] for s in samples), default=0),
        "rss_kib_growth_after_warmup": rss_growth,
        "rss_kib_per_min_slope": round(slope_kib_per_min(rss_points), 1),
        "fds_baseline": baseline[1],
        "fds_max": max((s[2] for s in samples), default=0),
        "fds_end": settled[1] if settled else (server.sample() or [None, None])[1],
        "threads": threads_seen,
        "io_uring_workers_max": max((s[5] for s in samples), default=0),
        "cpu_percent_mean_loaded": round(sum(busy) / len(busy), 1) if busy else 0,
        "cpu_percent_idle_after": None if idle_cpu is None else round(idle_cpu, 2),
        "exit_code": exit_code,
        "requests_framed_by_server": int(drained.group(1)) if drained else None,
        "wrk": wrk_summary,
        "clients": dict(sorted(stats.counts.items())),
        "problems": stats.examples,
    }

    if crashed is not None:
        failures.append(f"{engine}: the server died during the run (status {crashed})")
    for sign in FAILURE_SIGNS:
        if sign.decode() in text:
            failures.append(f"{engine}: the server's stderr has '{sign.decode()}':\n{text[-2000:]}")
    wrong_good = ("good_answer_wrong", "good_answer_missing", "good_close_wrong",
                  "good_connect_failed", "good_connection_error")
    bad = {name: n for name, n in stats.counts.items()
           if name in wrong_good or name == "wrk_errors"
           or name.endswith(("_not_closed", "_wrong", "_error", "_failed", "_hung"))}
    if bad:
        failures.append(f"{engine}: {bad}; e.g. " + " | ".join(stats.examples[:6]))
    if stats.get("good_answers_checked") == 0 or ("wrk" in clients and not stats.get("wrk_requests")):
        failures.append(f"{engine}: no good traffic was checked")
    completed = {"slowloris": "slowloris_closed", "never_reads": "never_reads_closed",
                 "reset": "resets_sent", "half_closed": "half_closed_closed",
                 "idle": "idle_closed", "garbage": "refused_closed"}
    for client, name in completed.items():
        if client in clients and stats.get(name) == 0:
            failures.append(f"{engine}: no {name.replace('_', ' ')}: that client never completed")
    if rss_growth > rss_growth_mib * 1024:
        failures.append(f"{engine}: RSS grew {rss_growth} KiB after warm-up (limit {rss_growth_mib} MiB)")
    if settled is None:
        failures.append(f"{engine}: fds did not return to {baseline[1]} after the clients left "
                        f"(now {result['fds_end']})")
    if len(threads_seen) != 1:
        failures.append(f"{engine}: the thread count moved: {threads_seen}")
    if idle_cpu is not None and idle_cpu > 2.0:
        failures.append(f"{engine}: {idle_cpu:.1f}% CPU while idle")
    if exit_code != 0:
        failures.append(f"{engine}: SIGTERM exit code {exit_code}, wanted 0")
    return result, failures


def report(result):
    if "skipped" in result:
        return
    clients = result["clients"]
    wrk = result["wrk"]
    say(f"{result['engine']}: {result['seconds']:.0f} s, {result['samples']} samples")
    say(f"  good: {clients.get('good_answers_checked', 0)} answers checked byte for byte; wrk "
        + ", ".join(f"{k} {v['requests']} (non-2xx {v['non_2xx']}, socket errors {v['socket_errors']})"
                    for k, v in wrk.items()))
    say(f"  hostile, each closed by a limit: slowloris {clients.get('slowloris_closed', 0)}, "
        f"never-read {clients.get('never_reads_closed', 0)}, idle {clients.get('idle_closed', 0)}, "
        f"half-closed {clients.get('half_closed_closed', 0)}, refused {clients.get('refused_closed', 0)}, "
        f"RST sent {clients.get('resets_sent', 0)}")
    say(f"  RSS KiB: start-up {result['rss_kib_baseline']}, after warm-up {result['rss_kib_after_warmup']}, "
        f"max {result['rss_kib_max']}, growth after warm-up {result['rss_kib_growth_after_warmup']}, "
        f"slope {result['rss_kib_per_min_slope']} KiB/min")
    say(f"  fds: start-up {result['fds_baseline']}, max {result['fds_max']}, end {result['fds_end']}; "
        f"threads {result['threads']} (io_uring workers up to {result['io_uring_workers_max']}); CPU {result['cpu_percent_mean_loaded']}% of a core loaded, "
        f"{result['cpu_percent_idle_after']}% idle after")
    say(f"  server framed {result['requests_framed_by_server']} requests; SIGTERM exit {result['exit_code']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--binary", default="build/release/uring-okay")
    parser.add_argument("--seconds", type=float, default=60, help="in all, split between engines")
    parser.add_argument("--engines", default="uring,epoll")
    parser.add_argument("--rss-growth-mib", type=float, default=8)
    parser.add_argument("--json", help="write every figure here")
    parser.add_argument("--clients", default=",".join(CLIENTS),
                        help="which kinds run (to narrow a failure down): " + ",".join(CLIENTS))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("soak: wrk is missing (apt-get install wrk)")
    if not os.access(args.binary, os.X_OK):
        sys.exit(f"soak: {args.binary}: not an executable")
    engines = [e for e in args.engines.split(",") if e]
    results, failures = [], []
    with tempfile.TemporaryDirectory(prefix="uring-okay-soak-") as work:
        for engine in engines:
            result, failed = soak_engine(args.binary, engine, args.seconds / len(engines), work,
                                         args.rss_growth_mib, args.clients.split(","))
            report(result)
            results.append(result)
            failures += failed
    return finish(results, failures, args.json, say)


if __name__ == "__main__":
    sys.exit(main())
