"""SSE fan-out benchmark: livedesk against a bare uvloop reference server.

For each reader count, one client process opens N SSE readers over raw sockets (one
uvloop loop), then 200 posts are published at 10 per second. Each post's headline
carries its publish time, so latency = receive time - publish time on one clock.
Printed per server: p50/p99/max latency, missed deliveries, peak RSS, CPU, and the
ratio of livedesk's p99 to the reference's. A real polling reader (10 s interval)
runs against the livedesk API once, for contrast.

    python bench/fanout.py [--readers 1000,5000,10000] [--posts 200] [--rate 10]
                           [--nodes 1|2|3] [--workers N] [--clients K] [--storm] [--skip-reference]

--nodes 1 runs one `livedesk serve` on SQLite with the in-process broker. --nodes 2 or 3
runs that many nodes on one fresh PostgreSQL database and Redis (LIVEDESK_PG_URL and
LIVEDESK_BENCH_REDIS_URL override the defaults), readers spread evenly, posts
published on node 1. --workers N runs each node as `livedesk serve --workers N`; --clients K
spreads the readers over K client processes, each from its own loopback address (beyond one
process's open files, and beyond one address's ports).

--storm: 10,000 readers connected (the reference's plain connects timed in the same run), then
the server killed with SIGKILL half-way through the posts and started again; every reader
reconnects at once with its Last-Event-ID (at most 500 connects under way, as the listen
backlog allows) while the posts keep coming. Printed: when each reader's stream is open again
and when it holds every post confirmed before the server accepted again, and missed and
duplicated posts over the whole run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing
import os
import random
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import uvloop

PG_URL = os.environ.get("LIVEDESK_PG_URL", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("LIVEDESK_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
POLL_INTERVAL_S = 10.0
CONNECT_BATCH = 250
MARK = re.compile(rb'"headline":"bench (\d+) (\d+\.\d+)"')
BODY = (
    "The ferry to the northern quay has been held at the breakwater while harbour staff "
    "clear a loose mooring line. Passengers on board were told the delay should be short; "
    "the next crossing is expected to leave on time. We will update this post when the "
    "harbour office confirms the new schedule, and add the pilot's statement if one comes."
)


# ---- processes ----------------------------------------------------------------------

def raise_nofile() -> int:
    """Lift the open-file limit to the hard limit; return it."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := current RSS


def wait_listening(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited:\n{log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"server on port {port} did not start")


@dataclass
class Server:
    name: str
    procs: list[subprocess.Popen]
    ports: list[int]
    stream_path: str
    baseline_kb: list[int] = field(default_factory=list)
    cleanup: list = field(default_factory=list)
    workers: int = 1
    command: list[str] = field(default_factory=list)
    env: dict = field(default_factory=dict)
    log: Path | None = None

    def pids(self) -> list[int]:
        """The processes that serve: each node, or with workers each node's workers."""
        if self.workers == 1:
            return [p.pid for p in self.procs]
        return [int(child) for p in self.procs
                for child in Path(f"/proc/{p.pid}/task/{p.pid}/children").read_text().split()]

    def wait_workers(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while self.workers > 1 and len(self.pids()) < self.workers * len(self.procs):
            if time.monotonic() > deadline:
                sys.exit("the workers did not start")
            time.sleep(0.1)
        if self.workers > 1:  # each worker is listening once it answers; a few asks reach each of them
            for port in self.ports:
                for _ in range(self.workers * 8):
                    httpx.get(f"http://127.0.0.1:{port}/api/events", timeout=30).raise_for_status()

    def kill(self) -> None:
        """SIGKILL, as a crash: node 1 (and its workers) go at once."""
        for pid in self.pids()[: self.workers]:
            os.kill(pid, signal.SIGKILL)
        self.procs[0].kill()
        self.procs[0].wait()

    def restart(self) -> float:
        """Start node 1 again on its port; the time it accepts connections again."""
        self.procs[0] = spawn([*self.command, "--port", str(self.ports[0])], self.env, self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.ports[0]), timeout=1).close()
                return time.time()
            except OSError:
                time.sleep(0.01)
        sys.exit("livedesk did not start again")

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for action in self.cleanup:
            action()


def spawn(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    with open(log, "ab") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=out, preexec_fn=raise_nofile)


def livedesk_cli(env: dict, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "livedesk", *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"livedesk {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def start_livedesk(workdir: Path, nodes: int, workers: int = 1) -> tuple[Server, str, str]:
    """`nodes` livedesk processes (each `serve --workers N`) on a fresh database; returns the
    server, event slug and token."""
    env = {**os.environ, "LIVEDESK_KEEPALIVE_S": "15"}
    cleanup = []
    if nodes == 1:
        env |= {"LIVEDESK_DATABASE_URL": f"sqlite:///{workdir}/bench.db", "LIVEDESK_BROKER_URL": "memory://"}
    else:
        db = f"livedesk_fanout_{os.getpid()}_{int(time.time())}"
        admin = ["-h", "127.0.0.1", "-U", "postgres"]
        subprocess.run(["createdb", *admin, db], check=True)
        cleanup.append(lambda: subprocess.run(["dropdb", *admin, "--force", db], check=False))
        env |= {"LIVEDESK_DATABASE_URL": f"{PG_URL}/{db}", "LIVEDESK_BROKER_URL": REDIS_URL}
    slug = "bench-fanout"
    livedesk_cli(env, "event", "create", slug, "--title", "Fan-out benchmark")  # also migrates
    token = livedesk_cli(env, "token", "create", "--user", "bench", "--role", "editor").strip().splitlines()[-1]
    ports = [free_port() for _ in range(nodes)]
    log = workdir / "livedesk.log"
    command = [sys.executable, "-m", "livedesk", "serve", "--workers", str(workers)]
    procs = [spawn([*command, "--port", str(p)], env, log) for p in ports]
    for port, proc in zip(ports, procs):
        wait_listening(port, proc, log)
    name = f"livedesk x{nodes}" if nodes > 1 else "livedesk"
    server = Server(name + (f" ({workers} workers)" if workers > 1 else ""), procs, ports,
                    f"/api/events/{slug}/stream", cleanup=cleanup, workers=workers, command=command, env=env, log=log)
    server.wait_workers()
    with httpx.Client(base_url=f"http://127.0.0.1:{ports[0]}", headers={"Authorization": f"Bearer {token}"}) as client:
        client.post(f"/api/events/{slug}/posts", json={"headline": "warm-up", "body": BODY}).raise_for_status()
        for port in ports:  # every node's code paths warmed once
            httpx.get(f"http://127.0.0.1:{port}/api/events/{slug}/posts?limit=5").raise_for_status()
    return server, slug, token


def start_reference(workdir: Path) -> tuple[Server, int]:
    port, control = free_port(), free_port()
    log = workdir / "reference.log"
    proc = spawn([sys.executable, __file__, "--serve-reference", str(port), str(control)], os.environ.copy(), log)
    wait_listening(port, proc, log)
    wait_listening(control, proc, log)
    return Server("reference", [proc], [port], "/stream"), control


# ---- the reference server: a bare uvloop loop writing to every socket in turn ---------------

def serve_reference(port: int, control_port: int) -> None:
    raise_nofile()
    readers: dict[asyncio.Transport, None] = {}  # insertion-ordered set
    head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")

    class Reader(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.request = transport, b""

        def data_received(self, data):
            if self.request is None:
                return
            self.request += data
            if b"\r\n\r\n" in self.request:
                self.request = None
                retry = b"retry: 2000\n\n"
                self.transport.write(head + b"%x\r\n%s\r\n" % (len(retry), retry))
                readers[self.transport] = None

        def connection_lost(self, exc):
            if self.request is None:
                readers.pop(self.transport, None)

    class Control(asyncio.Protocol):
        """One JSON post per line; each becomes one SSE message written to every reader.

        Each line is acknowledged when it is read, before its fan-out, as the livedesk API answers
        a post once it is committed: a busy server slows both publishers alike."""

        def connection_made(self, transport):
            self.transport, self.buffer, self.next_id = transport, b"", 1

        def data_received(self, data):
            *lines, self.buffer = (self.buffer + data).split(b"\n")
            for line in lines:
                self.transport.write(b"ok\n")
                message = b"id: %d\nevent: post.created\ndata: %s\n\n" % (self.next_id, line)
                framed = b"%x\r\n%s\r\n" % (len(message), message)
                self.next_id += 1
                for transport in readers:
                    transport.write(framed)

    async def main():
        loop = asyncio.get_running_loop()
        await loop.create_server(Reader, "127.0.0.1", port, backlog=4096)
        await loop.create_server(Control, "127.0.0.1", control_port)
        gc.collect()
        gc.freeze()
        await asyncio.Event().wait()

    uvloop.run(main())


# ---- publishing (in its own process, so the readers' loop never delays it) ----------------

def post_json(seq: int, sent: float) -> dict:
    return {"headline": f"bench {seq} {sent:.6f}", "body": BODY}


def paced(posts: int, rate: float, started):
    started.set()
    start = time.time() + 0.2
    for seq in range(posts):
        delay = start + seq / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        yield seq, time.time()


def publish_livedesk(url: str, slug: str, token: str, posts: int, rate: float, poll: bool, started, results) -> None:
    import threading

    poller_result: list = []
    stop = threading.Event()
    if poll:
        thread = threading.Thread(target=poll_livedesk, args=(url, slug, posts, stop, poller_result), daemon=True)
        thread.start()
    calls, first = [], 0.0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for seq, sent in paced(posts, rate, started):
            first = sent if seq == 0 else first
            client.post(f"/api/events/{slug}/posts", json=post_json(seq, sent)).raise_for_status()
            calls.append(time.time() - sent)
    took = time.time() - first
    if poll:
        thread.join(timeout=POLL_INTERVAL_S * 3)
        stop.set()
    results.put((took, calls, poller_result))


def poll_livedesk(url: str, slug: str, posts: int, stop, found: list) -> None:
    """A reader that fetches the newest posts every 10 s, like a polling live-blog plugin."""
    seen: set[str] = set()
    time.sleep(random.uniform(0, POLL_INTERVAL_S))  # a random phase against the publishing
    with httpx.Client(base_url=url, timeout=30) as client:
        while len(found) < posts and not stop.is_set():
            polled = time.time()
            params: dict = {"order": "newest", "limit": 100}
            while True:
                page = client.get(f"/api/events/{slug}/posts", params=params).json()
                fresh = [p for p in page["posts"] if p["id"] not in seen]
                for post in fresh:
                    seen.add(post["id"])
                    parts = (post.get("headline") or "").split()
                    if len(parts) == 3 and parts[0] == "bench":
                        found.append(polled - float(parts[2]))
                if len(fresh) < len(page["posts"]) or not page.get("next"):
                    break
                params["before"] = page["next"]
            stop.wait(max(0.0, polled + POLL_INTERVAL_S - time.time()))


def publish_reference(control_port: int, posts: int, rate: float, started, results) -> None:
    with socket.create_connection(("127.0.0.1", control_port)) as conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        acks = conn.makefile("rb")
        calls, first = [], 0.0
        for seq, sent in paced(posts, rate, started):
            first = sent if seq == 0 else first
            conn.sendall(json.dumps(post_json(seq, sent), separators=(",", ":")).encode() + b"\n")
            acks.readline()
            calls.append(time.time() - sent)
    results.put((time.time() - first, calls, []))


# ---- the client: N readers on raw sockets in one loop ---------------------------------

class Tally:
    def __init__(self, readers: int, posts: int) -> None:
        self.posts = posts
        self.latencies = array("d")
        self.counts = bytearray(readers * posts)
        self.last_ids = array("q", bytes(8 * readers))  # each reader's newest event id
        self.received = 0
        self.closed = 0
        self.lost: list[int] | None = None  # during a storm: the readers whose connection ended


class SSEReader(asyncio.Protocol):
    __slots__ = ("index", "ready", "request", "tail", "tally", "transport")

    def __init__(self, index: int, tally: Tally, request: bytes, ready: asyncio.Future) -> None:
        self.index, self.tally, self.request, self.ready, self.tail = index, tally, request, ready, b""

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time()
        data = self.tail + data if self.tail else data
        end = data.rfind(b"\n\n")
        if end < 0:
            self.tail = data
            return
        self.tail = data[end + 2:]
        if not self.ready.done():
            if data.startswith(b"HTTP/1.1 200") and b"retry:" in data:
                self.ready.set_result(None)
            else:
                self.ready.set_exception(ConnectionError(data[:200].decode(errors="replace")))
        tally, base = self.tally, self.index * self.tally.posts
        for match in MARK.finditer(data, 0, end):
            seq = int(match[1])
            tally.latencies.append(now - float(match[2]))
            tally.counts[base + seq] += 1
            tally.received += 1
        at = data.rfind(b"\nid: ", 0, end)
        if at >= 0:
            tally.last_ids[self.index] = int(data[at + 5 : data.index(b"\n", at + 5)])

    def connection_lost(self, exc) -> None:
        self.tally.closed += 1
        if self.tally.lost is not None:
            self.tally.lost.append(self.index)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(str(exc or "closed before the stream started")))


async def connect_reader(index: int, port: int, path: str, tally: Tally, source: str,
                         last_id: int | None = None, attempts: int = 5) -> asyncio.Transport:
    """One reader's stream, from `source` (a loopback address: each has its own ports)."""
    loop = asyncio.get_running_loop()
    resume = f"Last-Event-ID: {last_id}\r\n" if last_id is not None else ""
    request = (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/event-stream\r\n"
               f"{resume}\r\n").encode()
    for attempt in range(attempts):
        ready = loop.create_future()
        try:
            transport, _ = await loop.create_connection(
                lambda: SSEReader(index, tally, request, ready), "127.0.0.1", port, local_addr=(source, 0))
            await ready
            return transport
        except OSError:
            await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
    raise ConnectionError(f"reader {index} could not connect")


async def open_readers(ports: list[int], path: str, count: int, tally: Tally,
                       source: str = "127.0.0.1") -> list[asyncio.Transport]:
    transports: list[asyncio.Transport] = []

    async def one(index: int) -> None:
        transports.append(await connect_reader(index, ports[index % len(ports)], path, tally, source))

    for start in range(0, count, CONNECT_BATCH):
        await asyncio.gather(*(one(i) for i in range(start, min(start + CONNECT_BATCH, count))))
    return transports


def reset_all(transports: list[asyncio.Transport]) -> None:
    """Close every reader's connection with a reset, not FIN: no TIME_WAIT pile-up between runs."""
    for transport in transports:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.close()


@dataclass
class Result:
    server: str
    readers: int
    connect_s: float
    latencies: np.ndarray
    missed: int
    duplicates: int
    closed: int
    baseline_kb: list[int]
    peak_kb: list[int]
    cpu_s: list[float]
    window_s: float
    poller: list[float]
    publish_s: float
    calls: list[float]  # each publish call's round trip, in seconds
    client_cpu_s: float
    load: str
    connect_cpu_s: float  # the servers' CPU while the readers connected

    def p(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000 if len(self.latencies) else float("nan")


async def measure(server: Server, readers: int, posts: int, publisher, args: tuple) -> Result:
    tally = Tally(readers, posts)
    pids = server.pids()
    connect_cpu = sum(cpu_seconds(pid) for pid in pids)
    t0 = time.monotonic()
    transports = await open_readers(server.ports, server.stream_path, readers, tally)
    connect_s = time.monotonic() - t0
    connect_cpu = sum(cpu_seconds(pid) for pid in pids) - connect_cpu
    gc.collect()
    gc.freeze()
    gc.disable()  # the client's own pauses would show as server latency
    await asyncio.sleep(1.0)
    spawn = multiprocessing.get_context("spawn")
    results, started = spawn.Queue(), spawn.Event()
    proc = spawn.Process(target=publisher, args=(*args, started, results))
    proc.start()
    await asyncio.to_thread(started.wait, 60)
    cpu_before = [cpu_seconds(pid) for pid in pids]
    client_before = client_cpu()
    window = time.monotonic()
    expected = readers * posts
    last, quiet_since = -1, time.monotonic()
    while tally.received < expected and time.monotonic() - quiet_since < 10:
        await asyncio.sleep(0.25)
        if tally.received != last or proc.is_alive():
            last, quiet_since = tally.received, time.monotonic()
    window_s = time.monotonic() - window
    dropped = tally.closed  # closed by the server, before the client closes anything
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    client_s = client_cpu() - client_before
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before)]
    peak = [proc_kb(pid, "VmHWM") for pid in pids]
    publish_s, calls, poller = await asyncio.to_thread(results.get, True, 60)
    await asyncio.to_thread(proc.join)
    reset_all(transports)
    await asyncio.sleep(0.5)
    gc.enable()
    counts = np.frombuffer(tally.counts, dtype=np.uint8)
    return Result(server.name, readers, connect_s, np.frombuffer(tally.latencies, dtype=np.float64).copy(),
                  int((counts == 0).sum()), int(np.clip(counts.astype(np.int32) - 1, 0, None).sum()),
                  dropped,
                  server.baseline_kb, peak, cpu, window_s, poller, publish_s, calls, client_s, load, connect_cpu)


def run_case(server: Server, readers: int, posts: int, publisher, args: tuple) -> Result:
    pids = server.pids()
    server.baseline_kb = [proc_kb(pid, "VmRSS") for pid in pids]
    for pid in pids:
        reset_peak_rss(pid)
    return uvloop.run(measure(server, readers, posts, publisher, args))


# ---- several client processes (readers beyond one process's open files, or more cores) --------

def client_main(ports: list[int], path: str, count: int, posts: int, source: str,
                connected, go, done, results) -> None:
    """One client process of several: `count` readers from address `source`."""
    raise_nofile()

    async def main() -> None:
        tally = Tally(count, posts)
        t0 = time.monotonic()
        transports = await open_readers(ports, path, count, tally, source)
        connected.put(time.monotonic() - t0)
        gc.collect()
        gc.freeze()
        gc.disable()
        await asyncio.to_thread(go.wait)
        before = client_cpu()
        expected, last, quiet_since = count * posts, -1, time.monotonic()
        while tally.received < expected and time.monotonic() - quiet_since < 10:
            await asyncio.sleep(0.25)
            if tally.received != last or not done.is_set():
                last, quiet_since = tally.received, time.monotonic()
        closed = tally.closed
        reset_all(transports)
        results.put((source, bytes(tally.counts), tally.latencies.tobytes(), closed, client_cpu() - before))

    uvloop.run(main())


def run_case_clients(server: Server, readers: int, posts: int, clients: int, publisher, args: tuple) -> Result:
    pids = server.pids()
    server.baseline_kb = [proc_kb(pid, "VmRSS") for pid in pids]
    for pid in pids:
        reset_peak_rss(pid)
    ctx = multiprocessing.get_context("spawn")
    connected, results, go, done = ctx.Queue(), ctx.Queue(), ctx.Event(), ctx.Event()
    shares = [readers // clients + (k < readers % clients) for k in range(clients)]
    sources = [f"127.0.0.{10 + k}" for k in range(clients)]
    procs = [ctx.Process(target=client_main, args=(server.ports, server.stream_path, n, posts, source,
                                                   connected, go, done, results))
             for n, source in zip(shares, sources)]
    connect_cpu = sum(cpu_seconds(pid) for pid in pids)
    for proc in procs:
        proc.start()
    connect_s = max(connected.get(timeout=600) for _ in procs)  # each client's own time, from its first connect
    connect_cpu = sum(cpu_seconds(pid) for pid in pids) - connect_cpu
    time.sleep(1.0)
    pub_results, started = ctx.Queue(), ctx.Event()
    pub = ctx.Process(target=publisher, args=(*args, started, pub_results))
    pub.start()
    started.wait(60)
    cpu_before = [cpu_seconds(pid) for pid in pids]
    window = time.monotonic()
    go.set()
    publish_s, calls, poller = pub_results.get(timeout=600)
    pub.join()
    done.set()
    got = {}
    for _ in procs:
        source, counts, latencies, closed, client_s = results.get(timeout=600)
        got[source] = (counts, latencies, closed, client_s)
    window_s = time.monotonic() - window
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    cpu = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before)]
    peak = [proc_kb(pid, "VmHWM") for pid in pids]
    for proc in procs:
        proc.join()
    counts = np.concatenate([np.frombuffer(got[s][0], dtype=np.uint8) for s in sources])
    latencies = np.concatenate([np.frombuffer(got[s][1], dtype=np.float64) for s in sources])
    return Result(f"{server.name}, {clients} clients", readers, connect_s, latencies, int((counts == 0).sum()),
                  int(np.clip(counts.astype(np.int32) - 1, 0, None).sum()), sum(got[s][2] for s in sources),
                  server.baseline_kb, peak, cpu, window_s, poller, publish_s, calls,
                  sum(got[s][3] for s in sources), load, connect_cpu)


# ---- the reconnect storm ------------------------------------------------------------------

STORM_IN_FLIGHT = 500  # connects a client has under way at once (more overflow the listen backlog)


def publish_storm(url: str, slug: str, token: str, posts: int, rate: float, acked, started, results) -> None:
    """Like publish_livedesk, but each post is retried (same Idempotency-Key) until the server,
    killed meanwhile and started again, has it; `acked` counts the posts it confirmed. After a
    wait the posts go on at `rate`, as an editor's would: no burst of the ones not written meanwhile."""
    calls, first = [], time.time()
    started.set()
    due = time.time() + 0.2
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for seq in range(posts):
            if due > time.time():
                time.sleep(due - time.time())
            sent = time.time()
            while True:
                try:
                    answer = client.post(f"/api/events/{slug}/posts", json=post_json(seq, sent),
                                         headers={"Idempotency-Key": f"storm-{seq}"})
                    if answer.status_code < 500:
                        answer.raise_for_status()
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.02)
            calls.append(time.time() - sent)
            acked.value = seq + 1
            due = max(due + 1 / rate, time.time())
    results.put((time.time() - first, calls, []))


@dataclass
class Storm:
    readers: int
    connect_s: float
    killed_after: int
    restart_s: float  # from the kill until the server accepts again
    published_before: int  # posts confirmed when it accepted again
    back: np.ndarray  # each reader's stream open again, seconds after accepting
    caught_up: np.ndarray  # each reader holding every post confirmed before accepting, seconds after accepting
    cpu_s: float  # the server's CPU from accepting until every reader was caught up
    missed: int
    duplicates: int
    load: str


async def measure_storm(server: Server, readers: int, posts: int, rate: float, slug: str, token: str) -> Storm:
    tally = Tally(readers, posts)
    t0 = time.monotonic()
    transports = await open_readers(server.ports, server.stream_path, readers, tally, "127.0.0.2")
    connect_s = time.monotonic() - t0
    gc.collect()
    gc.freeze()
    gc.disable()
    await asyncio.sleep(1.0)
    ctx = multiprocessing.get_context("spawn")
    acked, results, started = ctx.Value("i", 0), ctx.Queue(), ctx.Event()
    url = f"http://127.0.0.1:{server.ports[0]}"
    proc = ctx.Process(target=publish_storm, args=(url, slug, token, posts, rate, acked, started, results))
    proc.start()
    await asyncio.to_thread(started.wait, 60)
    while acked.value < posts // 2:
        await asyncio.sleep(0.01)
    killed_after = acked.value
    tally.lost = []
    killed = time.time()
    await asyncio.to_thread(server.kill)
    deadline = time.monotonic() + 30
    while len(tally.lost) < readers and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    lost, tally.lost = tally.lost, None
    accepting = await asyncio.to_thread(server.restart)
    before = acked.value
    cpu_at_accept = sum(cpu_seconds(pid) for pid in server.pids())
    back = np.full(readers, np.nan)
    caught = np.full(readers, np.nan)
    slots = asyncio.Semaphore(STORM_IN_FLIGHT)

    resumed_from = np.zeros(readers, dtype=np.int64)

    async def reconnect(index: int) -> None:
        async with slots:
            last = resumed_from[index] = tally.last_ids[index]
            transports.append(await connect_reader(index, server.ports[0], server.stream_path, tally, "127.0.0.3",
                                                   last if last else None, attempts=200))
        back[index] = time.time() - accepting

    storm = asyncio.gather(*(reconnect(i) for i in lost))
    counts = np.frombuffer(tally.counts, dtype=np.uint8).reshape(readers, posts)
    while np.isnan(caught).any() and time.time() - accepting < 300:
        now = time.time() - accepting
        have = counts[:, :before].min(axis=1) > 0 if before else np.ones(readers, bool)
        caught[np.isnan(caught) & ~np.isnan(back) & have] = now
        await asyncio.sleep(0.02)
    await storm
    storm_cpu_s = sum(cpu_seconds(pid) for pid in server.pids()) - cpu_at_accept
    expected, last, quiet_since = readers * posts, -1, time.monotonic()
    while tally.received < expected and time.monotonic() - quiet_since < 10:
        await asyncio.sleep(0.25)
        if tally.received != last or proc.is_alive():
            last, quiet_since = tally.received, time.monotonic()
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    await asyncio.to_thread(results.get, True, 60)
    await asyncio.to_thread(proc.join)
    reset_all(transports)
    await asyncio.sleep(0.5)
    gc.enable()
    flat = counts.ravel()
    for index in np.nonzero((counts > 1).any(axis=1))[0][:3]:  # what a duplicate looks like, if any
        print(f"    reader {index}: resumed after id {resumed_from[index]}; posts twice:"
              f" {np.nonzero(counts[index] > 1)[0].tolist()[:10]}; missing: {np.nonzero(counts[index] == 0)[0].tolist()[:10]}")
    return Storm(readers, connect_s, killed_after, accepting - killed, before, back, caught, storm_cpu_s,
                 int((flat == 0).sum()), int(np.clip(flat.astype(np.int32) - 1, 0, None).sum()), load)


async def measure_connects(server: Server, readers: int) -> float:
    tally = Tally(readers, 1)
    t0 = time.monotonic()
    transports = await open_readers(server.ports, server.stream_path, readers, tally, "127.0.0.2")
    took = time.monotonic() - t0
    reset_all(transports)
    await asyncio.sleep(0.5)
    return took


def report_storm(storm: Storm, reference_connect_s: float | None, posts: int) -> None:
    def ms(values: np.ndarray, q: float) -> str:
        return f"{np.nanpercentile(values, q) * 1000:6.0f}" if not np.isnan(values).all() else "   n/a"

    print(f"  livedesk     readers {storm.readers:>6}  connected in {storm.connect_s:5.1f} s   (machine load average"
          f" {storm.load})")
    if reference_connect_s:
        print(f"    plain connects: {storm.connect_s / reference_connect_s:.1f}x the reference's"
              f" {reference_connect_s:.1f} s")
    print(f"    killed (SIGKILL) after {storm.killed_after} of {posts} posts; accepting again {storm.restart_s:.1f} s"
          f" later; {storm.published_before} posts confirmed by then, more coming")
    print(f"    stream open again (Last-Event-ID sent) ms after accepting   p50 {ms(storm.back, 50)}"
          f"   p99 {ms(storm.back, 99)}   max {ms(storm.back, 100)}")
    print(f"    caught up (every post confirmed before accepting) ms        p50 {ms(storm.caught_up, 50)}"
          f"   p99 {ms(storm.caught_up, 99)}   max {ms(storm.caught_up, 100)}")
    print(f"    server CPU from accepting until every reader was caught up: {storm.cpu_s:.2f} s"
          " (what the storm costs the server, whatever else runs on the machine)")
    within = int((storm.caught_up <= 2.0).sum())
    print(f"    caught up within 2 s: {within} of {storm.readers} readers;"
          f"   missed {storm.missed}   duplicates {storm.duplicates} (every reader, all {posts} posts)")
    sys.stdout.flush()


# ---- output -----------------------------------------------------------------------------

def report(result: Result, posts: int) -> None:
    nodes = len(result.peak_kb)
    growth = sum(p - b for p, b in zip(result.peak_kb, result.baseline_kb))
    rss = ", ".join(f"{p / 1024:.0f} MB (+{(p - b) / 1024:.0f})" for p, b in zip(result.peak_kb, result.baseline_kb))
    cpu = ", ".join(f"{c:.1f} s" for c in result.cpu_s)
    per_connect = f" ({result.connect_cpu_s / result.readers * 1e6:.0f} µs server CPU each)" if result.readers else ""
    print(f"  {result.server:<12} readers {result.readers:>6}  connected in {result.connect_s:5.1f} s{per_connect}"
          f"   (machine load average {result.load})")
    if result.readers:
        print(f"    latency ms   p50 {result.p(50):7.1f}   p99 {result.p(99):7.1f}   max {result.p(100):7.1f}"
              f"   ({len(result.latencies)} deliveries; {posts} posts published in {result.publish_s:.1f} s)")
    calls = np.array(result.calls) * 1000
    print(f"    publish call ms   p50 {np.percentile(calls, 50):6.1f}   p99 {np.percentile(calls, 99):6.1f}"
          "   (part of each latency: it runs from the publish time to the server's answer)")
    print(f"    missed {result.missed}   duplicates {result.duplicates}   readers dropped {result.closed}")
    per_reader = f"; peak minus baseline {growth / result.readers:.1f} KB per reader" if result.readers else ""
    print(f"    peak RSS {rss} (node{'s' if nodes > 1 else ''}){per_reader}")
    print(f"    CPU {cpu} over the {result.window_s:.1f} s publish window "
          f"({sum(result.cpu_s) / result.window_s * 100:.0f}% of one core); "
          f"{sum(result.cpu_s) / max(len(result.latencies), 1) * 1e6:.1f} µs server CPU per delivery; "
          f"client {result.client_cpu_s:.1f} s")
    sys.stdout.flush()


def report_poller(latencies: list[float], posts: int) -> None:
    if not latencies:
        return
    values = np.array(latencies)
    print(f"  polling reader, every {POLL_INTERVAL_S:.0f} s (measured: a real client polling the livedesk API"
          f" for the same posts; {len(values)} of {posts} posts seen)")
    print(f"    latency ms   mean {values.mean() * 1000:7.0f}   p99 {np.percentile(values, 99) * 1000:7.0f}"
          f"   max {values.max() * 1000:7.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", default=None, help="comma-separated reader counts (default 1000,5000,10000;"
                        " 10000 with --nodes 2 or 3 or --storm)")
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--rate", type=float, default=10.0, help="posts per second")
    parser.add_argument("--nodes", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument("--workers", type=int, default=1, help="`livedesk serve --workers N` on each node")
    parser.add_argument("--clients", type=int, default=1, help="client processes holding the readers")
    parser.add_argument("--storm", action="store_true", help="kill the server mid-run and start it again: every"
                        " reader reconnects at once with its Last-Event-ID while posts keep coming")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--serve-reference", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_reference:
        return serve_reference(*args.serve_reference)
    # Stop cleanly (servers and the PostgreSQL database go away) on Ctrl-C or kill, even when started in
    # the background, where the shell leaves SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    default = "10000" if args.nodes > 1 or args.storm else "1000,5000,10000"
    counts = [int(n) for n in (args.readers or default).split(",")]
    hard = raise_nofile()
    if args.storm and (args.clients > 1 or args.nodes > 1):
        sys.exit("--storm runs one node and one client process")
    per_server = -(-max(counts) // (args.nodes * args.workers))
    per_client = -(-max(counts) // args.clients)
    if max(per_server, per_client) + 100 > hard:
        sys.exit(f"the open-file hard limit is {hard}; {max(counts)} readers need more (raise `ulimit -Hn`, or use"
                 " more --workers and --clients)")
    print(f"fan-out: {args.posts} posts at {args.rate:g}/s; readers {counts}; livedesk nodes {args.nodes}"
          f" ({'SQLite, in-process broker' if args.nodes == 1 else 'PostgreSQL + Redis'})"
          f"{f', {args.workers} workers each' if args.workers > 1 else ''}; open-file limit {hard}")
    print(f"note: the client ({args.clients} process{'es' if args.clients > 1 else ''}) and the publisher share this"
          f" machine's {os.cpu_count()} cores with the servers; its own delay counts in every latency")
    try:
        if args.storm:
            run_storm(counts, args)
        else:
            run(counts, args)
    except KeyboardInterrupt:
        sys.exit("fan-out: interrupted")


def run_storm(counts: list[int], args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="livedesk-fanout-") as tmp:
        for readers in counts:
            print(f"\n{readers} readers, reconnect storm")
            reference_s = None
            if not args.skip_reference:
                ref, _control = start_reference(Path(tmp))
                try:
                    reference_s = uvloop.run(measure_connects(ref, readers))
                finally:
                    ref.stop()
                print(f"  reference    readers {readers:>6}  connected in {reference_s:5.1f} s   (machine load average"
                      f" {' '.join(Path('/proc/loadavg').read_text().split()[:3])})")
            workdir = Path(tmp) / f"livedesk-storm-{readers}"
            workdir.mkdir()
            server, slug, token = start_livedesk(workdir, 1, args.workers)
            try:
                storm = uvloop.run(measure_storm(server, readers, args.posts, args.rate, slug, token))
            finally:
                server.stop()
            report_storm(storm, reference_s, args.posts)


def run(counts: list[int], args: argparse.Namespace) -> None:
    p99: dict[tuple[str, int], float] = {}
    polled = False
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]

    def case(server: Server, readers: int, publisher, publisher_args: tuple) -> Result:
        if args.clients > 1:
            return run_case_clients(server, readers, args.posts, args.clients, publisher, publisher_args)
        return run_case(server, readers, args.posts, publisher, publisher_args)

    with tempfile.TemporaryDirectory(prefix="livedesk-fanout-") as tmp:
        for readers in counts:
            print(f"\n{readers} readers")
            if readers + 100 > hard and not args.skip_reference:
                print(f"  reference    skipped: one process may hold {hard} open files")
            elif not args.skip_reference:
                ref, control = start_reference(Path(tmp))
                try:
                    result = case(ref, readers, publish_reference, (control, args.posts, args.rate))
                finally:
                    ref.stop()
                report(result, args.posts)
                p99["reference", readers] = result.p(99)
            workdir = Path(tmp) / f"livedesk-{readers}"
            workdir.mkdir()
            server, slug, token = start_livedesk(workdir, args.nodes, args.workers)
            try:
                url = f"http://127.0.0.1:{server.ports[0]}"
                result = case(server, readers, publish_livedesk, (url, slug, token, args.posts, args.rate, not polled))
            finally:
                server.stop()
            report(result, args.posts)
            p99["livedesk", readers] = result.p(99)
            if not polled:
                report_poller(result.poller, args.posts)
                polled = True
            if ("reference", readers) in p99:
                print(f"  livedesk p99 / reference p99 = {p99['livedesk', readers] / p99['reference', readers]:.2f}")


if __name__ == "__main__":
    main()
