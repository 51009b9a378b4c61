"""A TCP proxy that holds every chunk for a fixed time each way: a network's round trip, measured.

tc's netem is not available on these machines. The proxy runs in a process of its own, a thread
per connection and direction: read, hold until the chunk's deadline (sleep, then spin the last
0.1 ms), forward. It is not pinned: on two shared cores a pinned proxy queued behind the client or
the server (measured 0.67-0.81 ms added against 0.44-0.58 ms unpinned, for the same hold). Its hold
is calibrated until `SELECT 1` through it takes the wanted round trip longer than direct, and what
it measured last goes in the report.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import psycopg
from sqlalchemy.engine import URL

from pyglue.bench.timing import percentile
from pyglue.dburl import libpq_dsn


def _pipe(src: socket.socket, dst: socket.socket, hold_s: list[float]) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(1 << 16):
            due = time.perf_counter() + hold_s[0]
            time.sleep(max(0.0, due - time.perf_counter() - 1e-4))
            while time.perf_counter() < due:
                pass
            dst.sendall(data)
    for sock in (src, dst):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _serve(host: str, port: int) -> None:
    """Print the port it listens on; hold each chunk for the seconds last read from stdin."""
    listener, hold_s = socket.create_server(("127.0.0.1", 0)), [0.0]
    print(listener.getsockname()[1], flush=True)

    def read_holds() -> None:
        for line in sys.stdin:
            hold_s[0] = float(line)

    threading.Thread(target=read_holds, daemon=True).start()
    while True:
        client, _ = listener.accept()
        server = socket.create_connection((host, port))
        for a, b in ((client, server), (server, client)):
            a.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=_pipe, args=(a, b, hold_s), daemon=True).start()


def added_ms(direct: URL, proxied: URL, samples: int = 400) -> float:
    """Median `SELECT 1` through the proxy minus direct, taken in turns (drift hits both)."""
    with psycopg.connect(libpq_dsn(direct)) as a, psycopg.connect(libpq_dsn(proxied)) as b:
        times: dict[Any, list[float]] = {a: [], b: []}
        for _ in range(samples):
            for conn, got in times.items():
                start = time.perf_counter()
                conn.execute("SELECT 1").fetchone()
                got.append((time.perf_counter() - start) * 1000)
    return percentile(times[b], 50) - percentile(times[a], 50)


@contextlib.contextmanager
def delaying(url: URL, rtt_ms: float) -> Iterator[tuple[URL, float]]:
    """`url` through a proxy adding `rtt_ms` per round trip, and the round trip it measured."""
    command = [sys.executable, "-m", __name__, url.host or "localhost", str(url.port or 5432)]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdin is not None
    assert proc.stdout is not None
    try:
        proxied, hold_s = url.set(host="127.0.0.1", port=int(proc.stdout.readline())), rtt_ms / 2000
        for _ in range(4):  # the proxy's own forwarding costs too: hold that much less
            print(hold_s, file=proc.stdin, flush=True)
            added = added_ms(url, proxied)
            if abs(added - rtt_ms) < 0.02:
                break
            hold_s = max(0.0, hold_s + (rtt_ms - added) / 2000)
        yield proxied, added
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]))
