"""Faults: the server is killed mid-publish, and the database is busy.

Writers retry with an Idempotency-Key until they get a 201; after a restart every
acknowledged post is stored once and streamed once.
"""

from __future__ import annotations

import os
import random
import sqlite3
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import text

from conftest import Server, SSEReader, server_env, unique
from livedesk.store import db

pytestmark = pytest.mark.slow

WRITERS = 4
PUBLISHES = 1000


class Writer(threading.Thread):
    """Publishes its share of posts; retries each one with the same key until a 201."""

    def __init__(self, server: Server, token: str, slug: str, number: int, count: int, acked: list) -> None:
        super().__init__(daemon=True)
        self.server, self.token, self.slug = server, token, slug
        self.number, self.count, self.acked = number, count, acked
        self.retries = 0
        self.failure: str | None = None

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, headers={"Authorization": f"Bearer {self.token}"}, timeout=10) as client:
            for i in range(self.count):
                body = f"Writer {self.number} post {i} on {self.slug}"
                if not self.publish(client, body):
                    return

    def publish(self, client: httpx.Client, body: str) -> bool:
        key = uuid.uuid4().hex
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                response = client.post(f"/api/events/{self.slug}/posts", json={"body": body},
                                       headers={"Idempotency-Key": key})
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code == 201:
                self.acked.append((response.json()["id"], body))
                return True
            if response is not None and response.status_code < 500:
                self.failure = f"{response.status_code}: {response.text}"
                return False
            self.retries += 1
            time.sleep(0.05)
        self.failure = f"no 201 for {body!r} within 90 s"
        return False


def all_posts(client: httpx.Client, slug: str) -> list[dict]:
    found, cursor = [], None
    while True:
        params = {"order": "oldest", "limit": 100, **({"after": cursor} if cursor else {})}
        response = client.get(f"/api/events/{slug}/posts", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        found += page["posts"]
        cursor = page["next"]
        if not cursor or not page["posts"]:
            return found


def created(reader: SSEReader) -> list[dict]:
    return [e for e in reader.events if e.get("event") == "post.created"]


def test_kill_9_during_1000_publishes_loses_and_repeats_nothing(tmp_path):
    server = Server(server_env(tmp_path, LIVEDESK_KEEPALIVE_S="1")).start()
    try:
        token = server.token("editor")
        slug = unique("crash")
        with server.client(token) as editor:
            assert editor.post("/api/events", json={"slug": slug, "title": "Crash run"}).status_code == 201
        before = SSEReader(f"{server.url}/api/events/{slug}/stream")

        acked: list[tuple[str, str]] = []
        writers = [Writer(server, token, slug, n, PUBLISHES // WRITERS, acked) for n in range(WRITERS)]
        for w in writers:
            w.start()
        kill_at = random.randint(300, 500)
        while len(acked) < kill_at and any(w.is_alive() for w in writers):
            time.sleep(0.005)
        server.stop(kill=True)
        killed_after = len(acked)
        before.closed.wait(10)
        server.start()
        for w in writers:
            w.join(180)
        assert [w.failure for w in writers] == [None] * WRITERS
        assert len(acked) == PUBLISHES
        print(f"killed after {killed_after} acknowledged publishes; retries: {sum(w.retries for w in writers)}")

        with server.client() as anon:
            stored = all_posts(anon, slug)
        acked_by_id = dict(acked)
        assert len(acked_by_id) == PUBLISHES  # no two acknowledgements for one post
        assert len(stored) == PUBLISHES
        assert {p["id"]: p["body"] for p in stored} == acked_by_id
        assert len({p["body"] for p in stored}) == PUBLISHES

        # A reader that saw part of the run reconnects from its last id; one from the start. A last
        # post, made after the run, closes both: whatever the run sent comes before it.
        seen = created(before)
        resumed = SSEReader(f"{server.url}/api/events/{slug}/stream", last_event_id=before.events[-1]["id"] if before.events else "0")
        fresh = SSEReader(f"{server.url}/api/events/{slug}/stream", last_event_id="0")
        with server.client(token) as editor:
            last = editor.post(f"/api/events/{slug}/posts", json={"body": "after the run"}).json()["id"]
        for reader in (resumed, fresh):
            reader.wait_for(lambda e: e["data"].get("id") == last, timeout=30)
            reader.close()

        def run_of(reader: SSEReader) -> list[dict]:
            return [e for e in created(reader) if e["data"]["id"] != last]

        for events in (seen + run_of(resumed), run_of(fresh)):
            ids = [e["data"]["id"] for e in events]
            change_ids = [int(e["id"]) for e in events]
            assert sorted(ids) == sorted(acked_by_id)  # each acknowledged post exactly once
            assert change_ids == sorted(set(change_ids))  # in order, no repeats
            assert all(e["data"]["body"] == acked_by_id[e["data"]["id"]] for e in events)
    finally:
        server.stop()


def hold_write_lock(url: str, seconds: float, locked: threading.Event) -> threading.Thread:
    """Another connection takes the database's write lock and keeps it for `seconds`."""

    def run() -> None:
        if url.startswith("sqlite"):
            conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            locked.set()
            time.sleep(seconds)
            conn.execute("ROLLBACK")
            conn.close()
            return
        engine = db.make_engine(url)
        with engine.begin() as conn:  # every write takes the change counter's row
            conn.execute(text("SELECT value FROM counters WHERE name = 'change' FOR UPDATE"))
            conn.execute(text("LOCK TABLE posts IN EXCLUSIVE MODE"))
            locked.set()
            time.sleep(seconds)
        engine.dispose()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert locked.wait(10)
    return thread


def test_publish_waits_out_a_held_write_lock(tmp_path):
    env = server_env(tmp_path)
    server = Server(env).start()
    try:
        with server.client(server.token("editor")) as editor:
            slug = unique("locked")
            assert editor.post("/api/events", json={"slug": slug, "title": "Locked"}).status_code == 201
            started = time.monotonic()
            holder = hold_write_lock(env["LIVEDESK_DATABASE_URL"], 1.0, threading.Event())
            response = editor.post(f"/api/events/{slug}/posts", json={"body": "after the lock"})
            waited = time.monotonic() - started
            holder.join(10)
            assert response.status_code == 201, response.text
            assert waited >= 0.9  # it really waited for the lock, then wrote
            assert [p["body"] for p in editor.get(f"/api/events/{slug}/posts").json()["posts"]] == ["after the lock"]
    finally:
        server.stop()


@pytest.mark.skipif(bool(os.environ.get("LIVEDESK_TEST_DATABASE_URL")), reason="SQLite's lock handling")
def test_run_write_retries_when_sqlite_is_locked(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    engine = db.make_engine(url)

    @sa_event.listens_for(engine, "connect")
    def impatient(dbapi_conn, _record) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=100")  # give up quickly, so run_write must retry

    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (body TEXT)"))
    holder = hold_write_lock(url, 0.4, threading.Event())
    db.run_write(engine, lambda conn: conn.execute(text("INSERT INTO notes VALUES ('written')")), attempts=6)
    holder.join(10)
    assert db.run_read(engine, lambda conn: conn.execute(text("SELECT body FROM notes")).scalars().all()) == ["written"]
    engine.dispose()
