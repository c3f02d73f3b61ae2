"""Many readers at once: `livedesk serve --workers N` shares every post across its workers, and
readers who all reconnect after a kill -9 catch up exactly (real processes, real SSE clients)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from pathlib import Path

import httpx
import pytest

from conftest import LIVEDESK, Server, SSEReader, cli_here, free_port, run_cli, server_env, unique, wait_until
from test_crash import Writer, all_posts

pytestmark = pytest.mark.slow


class Workers:
    """A real `livedesk serve --workers N` with its parent process."""

    def __init__(self, env: dict, workers: int) -> None:
        self.env, self.port, self.workers = env, free_port(), workers
        self.url = f"http://127.0.0.1:{self.port}"
        log = open(env["LIVEDESK_TEST_LOG"], "ab")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen([*LIVEDESK, "serve", "--port", str(self.port), "--workers", str(workers)],
                                        env={**os.environ, **env}, stdout=log, stderr=log)
        wait_until(lambda: len(self.pids()) == workers and self._answers(), timeout=60, message="the workers")

    def pids(self) -> list[int]:
        if self.process.poll() is not None:
            raise AssertionError("server exited: " + Path(self.env["LIVEDESK_TEST_LOG"]).read_text()[-2000:])
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def _answers(self) -> bool:
        try:
            return all(httpx.get(self.url + "/api/events", timeout=2).status_code == 200 for _ in range(4 * self.workers))
        except httpx.HTTPError:
            return False

    def streams_held(self) -> dict[int, int]:
        """Each worker's open connections on the port (a stream's connection belongs to one worker)."""
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == "01":  # ESTABLISHED
                    inodes.add(fields[9])
        held = {}
        for pid in self.pids():
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
            held[pid] = sum(f"socket:[{inode}]" in links for inode in inodes)
        return held

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)


def test_a_post_through_one_worker_reaches_readers_on_every_worker(tmp_path):
    env = server_env(tmp_path, LIVEDESK_BROKER_URL="memory://")  # the workers' own local broker carries changes
    cli_here("db", "upgrade", env=env)
    token = cli_here("token", "create", "--user", unique("ed"), "--role", "editor", env=env).stdout.strip().splitlines()[-1]
    server = Workers(env, 2)
    readers: list[SSEReader] = []
    try:
        editor = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
        slug = unique("workers")
        assert editor.post("/api/events", json={"slug": slug, "title": "Workers"}).status_code == 201
        # The kernel spreads connections over the workers: open streams until each worker holds some.
        while len(readers) < 60 and not all(server.streams_held().values()):
            readers.append(SSEReader(f"{server.url}/api/events/{slug}/stream"))
        held = server.streams_held()
        assert len(held) == 2 and all(held.values()), held
        environ = Path(f"/proc/{server.pids()[0]}/environ").read_bytes().split(b"\0")
        broker = next(v for v in environ if v.startswith(b"LIVEDESK_BROKER_URL=")).split(b"=", 1)[1].decode()
        assert broker.startswith("local://") and len(list(Path(broker.removeprefix("local://")).glob("*.sock"))) == 2
        ids = []
        for i in range(6):  # each through whichever worker the kernel picks
            response = editor.post(f"/api/events/{slug}/posts", json={"body": f"to every worker {i}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        for reader in readers:
            reader.wait_for(lambda e: e["data"].get("id") == ids[-1], timeout=20)
            assert [e["data"]["id"] for e in reader.events if e["event"] == "post.created"] == ids
        # every worker's readers are counted, whichever worker is asked
        for _ in range(4):
            wait_until(lambda: editor.get(f"/api/events/{slug}/readers").json()["readers"] == len(readers),
                       timeout=15, message="readers of both workers counted")
    finally:
        for reader in readers:
            reader.close()
        server.stop()
    assert server.process.returncode == 0
    assert not Path(broker.removeprefix("local://")).exists()  # the workers' sockets went with them


class Resuming(threading.Thread):
    """A reader that, like a browser's EventSource, reconnects with its Last-Event-ID when the
    stream ends, until told to stop; keeps every post.created in the order it came."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.last_id: str | None = None
        self.posts: list[str] = []
        self.connects = 0
        self.live = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(10, read=None)) as client:
            while not self.stop.is_set():
                self._read(client)

    def _read(self, client: httpx.Client) -> None:
        headers = {"Last-Event-ID": self.last_id} if self.last_id else {}
        try:
            with client.stream("GET", self.url, headers=headers) as response:
                if response.status_code != 200:
                    raise httpx.HTTPError(f"status {response.status_code}")
                self.connects += 1
                self.live.set()
                event: dict[str, str] = {}
                for line in response.iter_lines():
                    if self.stop.is_set():
                        return
                    if line == "":
                        if event.get("event") == "post.created":
                            self.posts.append(event["data"])
                        if "id" in event:
                            self.last_id = event["id"]
                        event = {}
                    elif not line.startswith(":"):
                        key, _, value = line.partition(":")
                        event[key] = value.removeprefix(" ")
        except httpx.HTTPError:
            self.stop.wait(0.2)  # the server is away: try again soon, as EventSource does


def test_readers_reconnecting_at_once_after_kill_9_catch_up_exactly(tmp_path):
    server = Server(server_env(tmp_path)).start()
    readers: list[Resuming] = []
    try:
        token = server.token("editor")
        slug = unique("storm")
        with server.client(token) as editor:
            assert editor.post("/api/events", json={"slug": slug, "title": "Storm"}).status_code == 201
        url = f"{server.url}/api/events/{slug}/stream"
        readers = [Resuming(url) for _ in range(40)]
        for reader in readers:
            reader.start()
        for reader in readers:
            assert reader.live.wait(30)
        acked: list[tuple[str, str]] = []
        writer = Writer(server, token, slug, 0, 120, acked)
        writer.start()
        wait_until(lambda: len(acked) >= 40, timeout=60, message="posts before the kill")
        server.stop(kill=True)
        server.start()  # the same port: every reader comes back with its Last-Event-ID while posts keep coming
        writer.join(120)
        assert writer.failure is None and len(acked) == 120
        with server.client(token) as editor:
            last = editor.post(f"/api/events/{slug}/posts", json={"body": "after the storm"}).json()["id"]
        with server.client() as anon:
            stored = [p["id"] for p in all_posts(anon, slug)]
        for reader in readers:
            wait_until(lambda r=reader: any(f'"id":"{last}"' in data for data in r.posts), timeout=60,
                       message="the last post on every reader")
        assert len(stored) == 121
        for reader in readers:
            got = [data.split('"id":"', 1)[1].split('"', 1)[0] for data in reader.posts]
            assert got == stored  # every post once, in order, across the kill
        assert all(reader.connects >= 2 for reader in readers)
    finally:
        for reader in readers:
            reader.stop.set()
        server.stop()


def test_workers_refuse_a_bad_count(tmp_path):
    env = server_env(tmp_path)
    result = run_cli("serve", "--workers", "0", "--port", str(free_port()), env=env, check=False)
    assert result.returncode == 2 and "workers" in result.stderr.lower() and "Traceback" not in result.stderr
