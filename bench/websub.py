"""WebSub delivery time: from publishing a post to each subscriber's receipt of the pushed feed.

Starts a real `livedesk serve` on a fresh SQLite database (or --database-url, with --broker-url,
and --nodes servers on it, posts going to the first), as its own hub, and one real HTTP
server on loopback holding --subscribers (100) callbacks, each subscribed with a secret to the
event's Atom feed (verified with the hub's challenge). Then publishes --posts (20) posts one at a
time; for each, the time from sending the publish request to each callback's receipt of a feed
holding the post. Prints p50, p99 and the slowest over every receipt, with the load average.
Run: python bench/websub.py [--subscribers N] [--posts N] [--database-url URL --broker-url URL --nodes N]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

MARK = re.compile(rb"Bench post (\d+)\.")


class Callbacks(ThreadingHTTPServer):
    request_queue_size = 256
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.lock = threading.Lock()
        self.verified: set[str] = set()
        self.received: dict[tuple[str, int], float] = {}  # (callback path, post number) -> when


class Handler(BaseHTTPRequestHandler):
    server: Callbacks

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        challenge = parse_qs(parts.query).get("hub.challenge", [""])[0].encode()
        with self.server.lock:
            self.server.verified.add(parts.path)
        self._answer(200, challenge)

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        at = time.perf_counter()
        with self.server.lock:
            for number in MARK.findall(body):
                self.server.received.setdefault((self.path, int(number)), at)
        self._answer(200, b"")

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a fresh SQLite file)")
    parser.add_argument("--broker-url", default="memory://")
    parser.add_argument("--nodes", type=int, default=1, help="servers on the one database")
    args = parser.parse_args()
    callbacks = Callbacks()
    threading.Thread(target=callbacks.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "LIVEDESK_DATABASE_URL": args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}",
               "LIVEDESK_BROKER_URL": args.broker_url, "LIVEDESK_POLL_SOURCES": "false", "LIVEDESK_FETCH_ALLOW_PRIVATE": "1"}
        servers, bases = [], []
        try:
            for _ in range(args.nodes):
                port = free_port()
                servers.append(subprocess.Popen([sys.executable, "-m", "livedesk", "serve", "--port", str(port)], env=env,
                                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                wait(lambda port=port: _up(f"http://127.0.0.1:{port}"), "the server did not start")
                bases.append(f"http://127.0.0.1:{port}")
            token = subprocess.run([sys.executable, "-m", "livedesk", "token", "create", "--user", "bench", "--role", "editor"],
                                   env=env, capture_output=True, text=True, check=True).stdout.strip().split()[-1]
            engine = "SQLite" if not args.database_url else f"PostgreSQL, {args.nodes} node(s)"
            run(bases[0], token, callbacks, args.subscribers, args.posts, engine)
        finally:
            for server in servers:
                server.terminate()
                server.wait(15)
            callbacks.shutdown()


def _up(base: str) -> bool:
    try:
        return httpx.get(base + "/api/events", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def run(base: str, token: str, callbacks: Callbacks, subscribers: int, posts: int, engine: str) -> None:
    callback_base = f"http://127.0.0.1:{callbacks.server_address[1]}"
    paths = [f"/sub-{n}" for n in range(subscribers)]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        client.post("/api/events", json={"slug": "bench-websub", "title": "WebSub bench"}).raise_for_status()
        topic = f"{base}/e/bench-websub/atom.xml"
        for path in paths:
            client.post("/websub", data={"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback_base + path,
                                         "hub.secret": f"secret{path}", "hub.lease_seconds": "3600"}).raise_for_status()
        wait(lambda: len(client.get("/api/websub/subscriptions").json()["subscriptions"]) == subscribers,
             "subscriptions verified")
        delays: list[float] = []
        for number in range(posts):
            start = time.perf_counter()
            client.post("/api/events/bench-websub/posts", json={"body": f"Bench post {number}."}).raise_for_status()
            wait(lambda number=number: all((p, number) in callbacks.received for p in paths), f"post {number} delivered")
            delays += [callbacks.received[(p, number)] - start for p in paths]
    delays.sort()
    p50, p99 = statistics.quantiles(delays, n=100)[49], statistics.quantiles(delays, n=100)[98]
    print(f"WebSub delivery, publish to subscriber's receipt, {subscribers} subscribers x {posts} posts "
          f"({len(delays)} receipts, signed, {engine}): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
          f"slowest {delays[-1] * 1000:.0f} ms")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
