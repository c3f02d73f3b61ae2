"""Soak: 1,000 SSE readers held for minutes while a post is published every second.

Starts a real `livedesk serve` on a fresh SQLite database (or --database-url), opens the
readers over raw sockets in one asyncio loop, publishes one post a second through the API,
and prints the server's RSS every minute. At the end it prints the errors (must be 0), the
missed deliveries (must be 0) and the RSS at the start and at the end (must stay flat).

    python bench/soak.py [--minutes 10] [--readers 1000] [--database-url URL --broker-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

POST_ID = re.compile(rb'^data: \{"id":"([a-z0-9]+)"', re.M)
CONNECT_AT_ONCE = 100


def lift_open_file_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "livedesk", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"livedesk {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


class Reader:
    """One SSE connection over a raw socket: undoes the chunked framing, keeps post ids."""

    def __init__(self) -> None:
        self.post_ids: set[bytes] = set()
        self.error: str | None = None
        self.keepalives = 0

    async def run(self, port: int, path: str, connected: asyncio.Semaphore, ready: list) -> None:
        try:
            async with connected:
                stream, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 30)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: soak\r\nAccept: text/event-stream\r\n\r\n".encode())
                head = await asyncio.wait_for(stream.readuntil(b"\r\n\r\n"), 30)
                if not head.startswith(b"HTTP/1.1 200") or b"chunked" not in head.lower():
                    raise ConnectionError(head.split(b"\r\n", 1)[0].decode(errors="replace"))
            ready.append(self)
            pending = b""
            while True:
                size_line = await stream.readuntil(b"\r\n")
                size = int(size_line.strip().split(b";")[0], 16)
                if size == 0:
                    raise ConnectionError("the server ended the stream")
                pending += (await stream.readexactly(size + 2))[:-2]
                *messages, pending = pending.split(b"\n\n")
                for message in messages:
                    if message.startswith(b": keep-alive"):
                        self.keepalives += 1
                    found = POST_ID.search(message)
                    if found and b"event: post.created" in message:
                        self.post_ids.add(found.group(1))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure is counted and shown
            self.error = f"{type(error).__name__}: {error}"


async def publish(client: httpx.AsyncClient, slug: str, seconds: float, published: list, errors: list,
                  pid: int, rss_log: list) -> None:
    started = time.monotonic()
    n = 0
    next_minute = 60.0
    while time.monotonic() - started < seconds:
        n += 1
        try:
            response = await client.post(f"/api/events/{slug}/posts",
                                         json={"headline": f"Soak update {n}", "body": f"Update number {n} of the soak run."})
            if response.status_code == 201:
                published.append(response.json()["id"].encode())
            else:
                errors.append(f"publish {n}: HTTP {response.status_code}")
        except httpx.HTTPError as error:
            errors.append(f"publish {n}: {type(error).__name__}")
        elapsed = time.monotonic() - started
        if elapsed >= next_minute:
            rss_log.append(rss_mb(pid))
            print(f"minute {int(next_minute // 60):>3}: RSS {rss_log[-1]:.1f} MB, {len(published)} posts", flush=True)
            next_minute += 60.0
        await asyncio.sleep(max(0.0, n - (time.monotonic() - started)))


async def soak(port: int, pid: int, slug: str, token: str, readers_n: int, minutes: float) -> int:
    path = f"/api/events/{slug}/stream"
    readers = [Reader() for _ in range(readers_n)]
    ready: list[Reader] = []
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    tasks = [asyncio.create_task(r.run(port, path, gate, ready)) for r in readers]
    deadline = time.monotonic() + 60
    while len(ready) + sum(r.error is not None for r in readers) < readers_n and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)
    rss_start = rss_mb(pid)
    print(f"{len(ready)} of {readers_n} readers connected; server RSS at start {rss_start:.1f} MB", flush=True)

    published: list[bytes] = []
    errors: list[str] = []
    rss_log: list[float] = []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client:
        await publish(client, slug, minutes * 60, published, errors, pid, rss_log)
    settle = time.monotonic() + 10
    while time.monotonic() < settle and any(len(r.post_ids) < len(published) for r in readers if r.error is None):
        await asyncio.sleep(0.2)
    rss_end = rss_mb(pid)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)

    expected = set(published)
    reader_errors = [r.error for r in readers if r.error]
    errors += reader_errors
    missed = sum(len(expected - r.post_ids) for r in readers)
    growth = (rss_end - rss_start) / rss_start * 100 if rss_start else 0.0
    print(f"readers: {readers_n}, minutes: {minutes:g}, posts published: {len(published)}, "
          f"deliveries expected: {len(published) * readers_n}")
    print(f"keep-alives received per reader: {min(r.keepalives for r in readers)}-{max(r.keepalives for r in readers)}")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"missed deliveries: {missed}")
    print(f"server RSS: start {rss_start:.1f} MB, end {rss_end:.1f} MB ({growth:+.1f}%); "
          f"per minute: {', '.join(f'{v:.1f}' for v in rss_log) or '-'}")
    flat = growth < 10
    print("PASS" if not errors and not missed and flat else "FAIL")
    return 0 if not errors and not missed and flat else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--broker-url", default="memory://")
    args = parser.parse_args()
    lift_open_file_limit()  # the server inherits it
    with tempfile.TemporaryDirectory() as workdir:
        env = {**os.environ, "LIVEDESK_DATABASE_URL": args.database_url or f"sqlite:///{workdir}/soak.db",
               "LIVEDESK_BROKER_URL": args.broker_url, "LIVEDESK_KEEPALIVE_S": "15"}
        slug = f"soak-{int(time.time())}"
        cli(env, "event", "create", slug, "--title", "Soak run")
        token = cli(env, "token", "create", "--user", f"soak-{os.getpid()}", "--role", "editor").strip().splitlines()[-1]
        port = _free_port()
        log = open(Path(workdir) / "server.log", "wb")  # noqa: SIM115 - the server keeps it
        server = subprocess.Popen([sys.executable, "-m", "livedesk", "serve", "--port", str(port)],
                                  env=env, stdout=log, stderr=log)
        try:
            _wait_up(port, server)
            return asyncio.run(soak(port, server.pid, slug, token, args.readers, args.minutes))
        finally:
            server.terminate()
            server.wait(15)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_up(port: int, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit("the server exited at start")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/events", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    sys.exit("the server did not start")


if __name__ == "__main__":
    sys.exit(main())
