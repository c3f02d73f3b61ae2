"""Shared fixtures: real `livedesk serve` processes on a real database, real HTTP and SSE clients.

The database is a fresh SQLite file per server unless LIVEDESK_TEST_DATABASE_URL names a
PostgreSQL database (and LIVEDESK_TEST_BROKER_URL a Redis server), as CI's second run does.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

# The suite aligns as the default install does, without sentence embeddings, even where the
# `semantic` extra is installed (as CI installs it); tests/test_semantic.py switches them on.
os.environ.setdefault("LIVEDESK_SEMANTIC", "off")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
LIVEDESK = [sys.executable, "-m", "livedesk"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def soon_after(published_at: str) -> str:
    """A past time minutes after another post's, for an own post that reports the same thing.

    Pasted pages without dates get times of the last day, while alignment only compares posts
    within hours of each other: an own post published now could fall outside that.
    """
    after = datetime.fromisoformat(published_at) + timedelta(minutes=5)
    return min(after, datetime.now(UTC) - timedelta(minutes=1)).isoformat()


def database_url(tmp_path: Path) -> str:
    return os.environ.get("LIVEDESK_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'livedesk.db'}"


def broker_url() -> str:
    return os.environ.get("LIVEDESK_TEST_BROKER_URL") or "memory://"


def run_cli(*args: str, env: dict | None = None, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*LIVEDESK, *args], capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120, input=input
    )
    if check and result.returncode != 0:
        raise AssertionError(f"livedesk {' '.join(args)} failed: {result.stderr}")
    return result


@dataclass
class Server:
    """A real `livedesk serve` subprocess."""

    env: dict
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Server":
        log = open(self.env["LIVEDESK_TEST_LOG"], "ab")
        self.process = subprocess.Popen(
            [*LIVEDESK, "serve", "--port", str(self.port)], env={**os.environ, **self.env}, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60  # generous: a busy machine imports slowly
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("server exited: " + Path(self.env["LIVEDESK_TEST_LOG"]).read_text()[-2000:])
            try:
                if httpx.get(self.url + "/api/events", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop(kill=True)  # never leave a half-started server behind
        raise AssertionError("server did not start")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            (self.process.kill if kill else self.process.terminate)()
            self.process.wait(timeout=15)

    def token(self, role: str, user: str | None = None) -> str:
        out = run_cli("token", "create", "--user", user or unique(role), "--role", role, env=self.env)
        return out.stdout.strip().splitlines()[-1]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=15)


def server_env(tmp_path: Path, **extra: str) -> dict:
    return {
        "LIVEDESK_DATABASE_URL": database_url(tmp_path),
        "LIVEDESK_BROKER_URL": broker_url(),
        "LIVEDESK_TEST_LOG": str(tmp_path / "server.log"),
        "LIVEDESK_SCHEDULER_INTERVAL_S": "0.2",
        **extra,
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    srv = Server(server_env(tmp_path_factory.mktemp("srv"), LIVEDESK_KEEPALIVE_S="1")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def editor(server) -> httpx.Client:
    with server.client(server.token("editor")) as client:
        yield client


@pytest.fixture
def event(editor) -> str:
    slug = unique("ev")
    response = editor.post("/api/events", json={"slug": slug, "title": f"Event {slug}"})
    assert response.status_code == 201, response.text
    return slug


class SSEReader:
    """Reads a stream with a real HTTP client in a thread; keeps every event and comment."""

    def __init__(self, url: str, last_event_id: str | None = None) -> None:
        self.url = url
        self.headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        self.events: list[dict] = []
        self.comments: list[str] = []
        self.connected = threading.Event()
        self.closed = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self.connected.wait(10), "stream did not connect"

    def _run(self) -> None:
        try:
            with httpx.stream("GET", self.url, headers=self.headers, timeout=httpx.Timeout(10, read=None)) as response:
                assert response.status_code == 200
                self.connected.set()
                current: dict = {}
                for line in response.iter_lines():
                    if self._stop.is_set():
                        break
                    if line == "":
                        if "data" in current:
                            current["data"] = json.loads(current["data"])
                            self.events.append(current)
                        current = {}
                    elif line.startswith(":"):
                        self.comments.append(line)
                    else:
                        key, _, value = line.partition(":")
                        current[key] = value.removeprefix(" ")
        except (httpx.HTTPError, AssertionError):
            pass
        finally:
            self.connected.set()
            self.closed.set()

    def wait_for(self, predicate, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events if predicate(e)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"no matching event within {timeout}s; got {[e.get('event') for e in self.events]}")

    def wait_count(self, n: int, timeout: float = 10) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.events) < n:
            time.sleep(0.02)
        return list(self.events)

    def close(self) -> None:
        self._stop.set()
