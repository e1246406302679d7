#!/usr/bin/env python3
"""idle_holder: opens N keep-alive connections to a server on 127.0.0.1 and holds them idle.

    bench/idle_holder.py --port PORT --connections N [--sources K] [--status FILE] [--hold S]

Each connection is bound to one of K loopback source addresses (127.0.0.2 .. 127.0.0.K+1, in
turn, with IP_BIND_ADDRESS_NO_PORT so the port is picked at connect time), sends one
`GET / HTTP/1.1` and reads its answer, then stays open and silent: an idle keep-alive
connection, as a server sees thousands of them. At most --in-flight connects are pending at a
time, so no listen backlog overflows.

Once every connection has its answer (or --setup-timeout passed) it writes
`ready HELD FAILED SECONDS` to --status (and stdout), then holds until SIGTERM, SIGINT or
--hold seconds; then it counts the connections the server closed meanwhile, writes
`done HELD STILL_OPEN`, and exits 0. It exits 1 when not one connection got an answer.
Only 127.0.0.0/8 is ever used. bench/run drives it (the `idle` scenario).
"""

import argparse
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time

IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h; not in Python's socket module


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--sources", type=int, default=8, help="source addresses 127.0.0.2..")
    parser.add_argument("--in-flight", type=int, default=256, help="connects pending at once")
    parser.add_argument("--setup-timeout", type=float, default=60.0)
    parser.add_argument("--hold", type=float, default=120.0, help="seconds to hold at most")
    parser.add_argument("--status", help="file that gets the ready and done lines")
    args = parser.parse_args()
    if not 1 <= args.connections <= 1_000_000 or not 1 <= args.sources <= 250:
        parser.error("--connections 1..1000000, --sources 1..250")
    if not 1 <= args.port <= 65535:
        parser.error("--port 1..65535")
    return args


def report(args, line):
    print(line, flush=True)
    if args.status:
        with open(args.status, "a", encoding="ascii") as status:
            status.write(line + "\n")


def main():
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = args.connections + 64
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))
        if min(needed, hard) < needed:
            print(f"idle_holder: RLIMIT_NOFILE {hard} < {needed}: cannot hold "
                  f"{args.connections} connections", file=sys.stderr)
            return 1

    request = (f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n\r\n").encode()
    selector = selectors.EpollSelector()
    sockets = []          # every connection that got its answer
    pending = 0           # connects and answers outstanding
    opened = failed = 0
    start = time.monotonic()
    deadline = start + args.setup_timeout

    def open_one(index):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((f"127.0.0.{2 + index % args.sources}", 0))
        sock.setblocking(False)
        code = sock.connect_ex(("127.0.0.1", args.port))
        if code not in (0, errno.EINPROGRESS):
            sock.close()
            return False
        selector.register(sock, selectors.EVENT_WRITE, [b""])
        return True

    while (opened < args.connections or pending) and time.monotonic() < deadline:
        while opened < args.connections and pending < args.in_flight:
            if open_one(opened):
                pending += 1
            else:
                failed += 1
            opened += 1
        for key, events in selector.select(timeout=0.5):
            sock, state = key.fileobj, key.data
            if events & selectors.EVENT_WRITE:
                code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                try:
                    if code:
                        raise OSError(code, os.strerror(code))
                    sock.send(request)
                    selector.modify(sock, selectors.EVENT_READ, state)
                except OSError:
                    selector.unregister(sock)
                    sock.close()
                    pending -= 1
                    failed += 1
                continue
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            state[0] += data
            if not data or b"\r\n\r\n" in state[0]:
                selector.unregister(sock)
                pending -= 1
                # An answer that is not a keep-alive 200 counts as a failure.
                if data and state[0].startswith(b"HTTP/1.1 200") and \
                        b"connection: close" not in state[0].lower():
                    sockets.append(sock)
                else:
                    sock.close()
                    failed += 1
    failed += pending + (args.connections - opened)
    setup_seconds = time.monotonic() - start
    report(args, f"ready {len(sockets)} {failed} {setup_seconds:.2f}")
    if not sockets:
        return 1

    # Hold: silent until told to stop, or --hold seconds at most.
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    hold_until = time.monotonic() + args.hold
    while not stop and time.monotonic() < hold_until:
        time.sleep(0.05)

    still_open = 0
    for sock in sockets:
        try:
            still_open += sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
        except BlockingIOError:
            still_open += 1  # nothing to read and not closed: still open
        except OSError:
            pass
    report(args, f"done {len(sockets)} {still_open}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
