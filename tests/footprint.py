#!/usr/bin/env python3
"""Footprint figures for the README (issue 6): prints a Markdown table. Asserts nothing (the hard
limit, the static binary's size, is tools/checks/10-static's); all traffic goes to 127.0.0.x.

    tests/footprint.py [--connections N] [--idle-seconds S] [BINARY...]
    (default: build/release/uring-okay and build/static/uring-okay, each with both engines)

- binary: file size on disk (the static one is stripped; the glibc one as the release build
  leaves it), and for a dynamic binary the shared libraries it maps;
- start-up: from Popen() (fork + exec) to the first complete 200 OK on a fresh connection over
  loopback, retried every 0.1 ms until it comes; median and max of 20 starts;
- idle wake-ups: voluntary context switches summed over all threads (/proc/PID/task/*/status)
  during S seconds (default 10) with no connection, after 2 s to settle: an engine's 1 s tick,
  armed while it had a connection, fires once after the last one closed;
- RSS idle: VmRSS with default limits after start-up;
- per idle keep-alive connection: (VmRSS with N connections, each having had one request
  answered and kept open) - (VmRSS idle), divided by N (default 10,000). The kernel's socket
  memory is not in VmRSS.
- exec floor: Popen() to exit of `BINARY --version`, the part of start-up that is process
  creation and the C library's own start.
"""
import argparse
import os
import pathlib
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

TOP = pathlib.Path(__file__).resolve().parent.parent
SETTLE_SECONDS = 2  # past the engines' 1 s tick, which fires once after the last connection
REQUEST = b"GET / HTTP/1.1\r\nHost: footprint\r\n\r\n"
CLOSING = b"GET / HTTP/1.1\r\nHost: footprint\r\nConnection: close\r\n\r\n"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(binary, engine, port, log):
    arguments = [binary, "--listen", f"127.0.0.1:{port}", "--engine", engine, "--quiet"]
    return subprocess.Popen(arguments, stdout=log, stderr=log)


def answered_200(port, deadline):
    """One request on a fresh connection, retried until it is answered or the deadline."""
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
                client.sendall(CLOSING)
                answer = b""
                while b"\r\n\r\nOK" not in answer:
                    chunk = client.recv(4096)
                    if not chunk:
                        break
                    answer += chunk
                if answer.startswith(b"HTTP/1.1 200 OK"):
                    return True
        except OSError:
            time.sleep(0.0001)
    return False


def stop(server):
    server.send_signal(signal.SIGTERM)
    try:
        return server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        return server.wait()


def startup_ms(binary, engine, runs=20):
    times = []
    with tempfile.TemporaryFile() as log:
        for _ in range(runs):
            port = free_port()
            began = time.monotonic()
            server = start(binary, engine, port, log)
            ok = answered_200(port, began + 5)
            took = (time.monotonic() - began) * 1000
            stop(server)
            if not ok:
                raise SystemExit(f"{binary} --engine {engine}: no 200 within 5 s")
            times.append(took)
    return statistics.median(times), max(times)


def status_field(pid, field, task=None):
    path = f"/proc/{pid}/task/{task}/status" if task else f"/proc/{pid}/status"
    text = pathlib.Path(path).read_text()
    return int(re.search(rf"^{field}:\s+(\d+)", text, re.M).group(1))


def voluntary_switches(pid):
    return sum(status_field(pid, "voluntary_ctxt_switches", task)
               for task in os.listdir(f"/proc/{pid}/task"))


def open_keep_alive(port, count):
    """`count` connections from 127.0.0.2..5 (so source ports never run out), each answered once
    and left open."""
    clients = []
    for i in range(count):
        client = socket.socket()
        client.bind((f"127.0.0.{2 + i % 4}", 0))
        client.connect(("127.0.0.1", port))
        clients.append(client)
    for client in clients:
        client.sendall(REQUEST)
    for client in clients:
        client.settimeout(10)
        answer = b""
        while not answer.endswith(b"\r\n\r\nOK"):
            chunk = client.recv(4096)
            if not chunk:
                raise SystemExit("a keep-alive connection was closed")
            answer += chunk
    return clients


def idle_and_memory(binary, engine, connections, idle_seconds):
    with tempfile.TemporaryFile() as log:
        port = free_port()
        server = start(binary, engine, port, log)
        try:
            if not answered_200(port, time.monotonic() + 5):
                raise SystemExit(f"{binary}: does not answer")
            time.sleep(SETTLE_SECONDS)
            threads = len(os.listdir(f"/proc/{server.pid}/task"))
            before = voluntary_switches(server.pid)
            time.sleep(idle_seconds)
            wakeups = voluntary_switches(server.pid) - before
            rss_idle = status_field(server.pid, "VmRSS")
            clients = open_keep_alive(port, connections)
            time.sleep(0.5)
            rss_loaded = status_field(server.pid, "VmRSS")
            for client in clients:
                client.close()
        finally:
            stop(server)
    per_connection = (rss_loaded - rss_idle) * 1024 / connections
    return threads, wakeups, rss_idle, per_connection


def exec_floor_ms(binary, runs=20):
    times = []
    for _ in range(runs):
        began = time.monotonic()
        subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
        times.append((time.monotonic() - began) * 1000)
    return statistics.median(times)


def describe_binary(binary):
    size = os.path.getsize(binary)
    kind = "static musl, stripped"
    libraries = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
    shared = re.findall(r"(\S+\.so[.\d]*) =>", libraries)
    if shared:
        kind = "dynamic glibc, " + ", ".join(sorted(shared))
    return size, kind


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("binaries", nargs="*")
    options = parser.parse_args()
    binaries = options.binaries or [str(TOP / "build/release/uring-okay"),
                                    str(TOP / "build/static/uring-okay")]
    # Each side needs a descriptor per connection, and the server inherits our limit.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < options.connections + 100:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {hard} is below {options.connections + 100}")

    print(f"| binary | bytes | engine | exec floor | start-up to first 200, median (max) of 20 | "
          f"threads | voluntary switches in {options.idle_seconds:g} s idle | RSS idle | "
          f"RSS per idle keep-alive connection at {options.connections:,} |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for binary in binaries:
        size, kind = describe_binary(binary)
        floor = exec_floor_ms(binary)
        for engine in ("uring", "epoll"):
            median, worst = startup_ms(binary, engine)
            threads, wakeups, rss, per_connection = idle_and_memory(
                binary, engine, options.connections, options.idle_seconds)
            name = os.path.relpath(binary, TOP)
            print(f"| `{name}` ({kind}) | {size:,} | {engine} | {floor:.2f} ms | "
                  f"{median:.2f} ms ({worst:.2f}) | {threads} | {wakeups} | {rss:,} KiB | "
                  f"{per_connection:,.0f} B |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
