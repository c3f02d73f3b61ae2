"""Several real `livedesk serve` nodes on one PostgreSQL database and one Redis.

Runs in CI's PostgreSQL + Redis pass; skipped only when no PostgreSQL server is configured.
The nodes reach both servers through relays of their own, so an outage cut there drops the
nodes' connections and refuses new ones while other test processes go on using the servers.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from conftest import Server, SSEReader, server_env, unique
from test_follow import FAST, UPDATES, Pages, live_page

pytestmark = [pytest.mark.nodes, pytest.mark.skipif(
    not (os.environ.get("LIVEDESK_TEST_DATABASE_URL", "").startswith("postgresql")
         and os.environ.get("LIVEDESK_TEST_BROKER_URL", "").startswith("redis")),
    reason="needs LIVEDESK_TEST_DATABASE_URL=postgresql://... and LIVEDESK_TEST_BROKER_URL=redis://...",
)]

class Relay:
    """A TCP relay to a server. `cut()` is an outage for whoever connects through it: open
    connections drop and new ones close at once, until `mend()`."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.down = False
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                near, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                far = None if self.down else socket.create_connection(self.target, timeout=5)
            except OSError:
                far = None
            if far is None:
                near.close()
                continue
            far.settimeout(None)
            with self.lock:
                self.open |= {near, far}
            for source, sink in ((near, far), (far, near)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self._drop(end)

    def _drop(self, end: socket.socket) -> None:
        with self.lock:
            self.open.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    def cut(self) -> None:
        self.down = True
        with self.lock:
            ends = list(self.open)
        for end in ends:
            self._drop(end)

    def mend(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()


def relayed(url: str, relay: Relay) -> str:
    return make_url(url).set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def relays():
    made = {}
    for name in ("database", "broker"):
        url = make_url(os.environ[f"LIVEDESK_TEST_{name.upper()}_URL"])
        made[name] = Relay(url.host or "127.0.0.1", url.port or {"database": 5432, "broker": 6379}[name])
    yield made
    for relay in made.values():
        relay.close()


def start_node(tmp_path_factory, relays: dict[str, Relay], name: str, **env: str) -> Server:
    return Server(server_env(
        tmp_path_factory.mktemp(name), **FAST, **env,
        LIVEDESK_DATABASE_URL=relayed(os.environ["LIVEDESK_TEST_DATABASE_URL"], relays["database"]),
        LIVEDESK_BROKER_URL=relayed(os.environ["LIVEDESK_TEST_BROKER_URL"], relays["broker"]),
    )).start()


@pytest.fixture(scope="module")
def nodes(tmp_path_factory, relays):
    """A and B get changes by push only (their own database poll is a minute away);
    C falls back to polling the database every second."""
    started = [start_node(tmp_path_factory, relays, "node-a", LIVEDESK_CATCHUP_POLL_S="60"),
               start_node(tmp_path_factory, relays, "node-b", LIVEDESK_CATCHUP_POLL_S="60"),
               start_node(tmp_path_factory, relays, "node-c", LIVEDESK_CATCHUP_POLL_S="1")]
    yield started
    for node in started:
        node.stop()


@pytest.fixture(scope="module")
def desk(nodes):
    token = nodes[0].token("editor")
    clients = [node.client(token) for node in nodes]
    yield clients
    for client in clients:
        client.close()


@pytest.fixture
def slug(desk) -> str:
    slug = unique("nodes")
    assert desk[0].post("/api/events", json={"slug": slug, "title": "Tidal barrier test"}).status_code == 201
    return slug


def publish(client: httpx.Client, slug: str, body: str, **extra) -> dict:
    response = client.post(f"/api/events/{slug}/posts", json={"body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def created_ids(reader: SSEReader) -> list[str]:
    return [e["data"]["id"] for e in reader.events if e["event"] == "post.created"]


def test_post_on_one_node_reaches_reader_on_another(nodes, desk, slug):
    reader = SSEReader(f"{nodes[1].url}/api/events/{slug}/stream")
    post = publish(desk[0], slug, "Barrier gates close at high water.")
    got = reader.wait_for(lambda e: e["event"] == "post.created", timeout=10)  # B polls only once a minute: this is push
    assert got[0]["data"]["id"] == post["id"]
    reader.close()


def test_catch_up_with_an_event_id_from_another_node(nodes, desk, slug):
    reader = SSEReader(f"{nodes[0].url}/api/events/{slug}/stream")
    publish(desk[0], slug, "Seen on A.")
    last = reader.wait_for(lambda e: e["event"] == "post.created")[-1]["id"]
    reader.close()
    missed = [publish(desk[i % 3], slug, f"Missed {i}.")["id"] for i in range(4)]
    again = SSEReader(f"{nodes[1].url}/api/events/{slug}/stream", last_event_id=last)
    again.wait_count(4)
    assert created_ids(again) == missed
    later = publish(desk[2], slug, "Live again.")
    again.wait_for(lambda e: e["data"].get("id") == later["id"])
    assert created_ids(again) == [*missed, later["id"]]
    again.close()


def test_reader_of_a_killed_node_reconnects_elsewhere_without_a_gap(tmp_path_factory, relays, nodes, desk, slug):
    doomed = start_node(tmp_path_factory, relays, "node-doomed")
    reader = SSEReader(f"{doomed.url}/api/events/{slug}/stream")
    sent = [publish(desk[0], slug, f"Before the crash {i}.")["id"] for i in range(3)]
    reader.wait_count(3)
    doomed.stop(kill=True)  # kill -9
    assert reader.closed.wait(10)
    sent += [publish(desk[1], slug, f"While it is down {i}.")["id"] for i in range(3)]
    last = reader.events[-1]["id"]
    moved = SSEReader(f"{nodes[2].url}/api/events/{slug}/stream", last_event_id=last)
    sent.append(publish(desk[0], slug, "After the move.")["id"])
    moved.wait_count(4)
    assert created_ids(reader) + created_ids(moved) == sent
    moved.close()


def test_redis_outage_loses_nothing_and_push_resumes(relays, nodes, desk, slug):
    pushed = SSEReader(f"{nodes[1].url}/api/events/{slug}/stream")  # push only
    polling = SSEReader(f"{nodes[2].url}/api/events/{slug}/stream")  # falls back to the database
    before = publish(desk[0], slug, "Before the outage.")["id"]
    pushed.wait_for(lambda e: e["data"].get("id") == before)
    relays["broker"].cut()
    try:
        during = [publish(desk[i % 2], slug, f"During the outage {i}.")["id"] for i in range(3)]
        polling.wait_for(lambda e: e["data"].get("id") == during[-1], timeout=10)  # nodes keep serving
        assert created_ids(polling) == [before, *during]
    finally:
        relays["broker"].mend()
    pushed.wait_for(lambda e: e["data"].get("id") == during[-1], timeout=15)  # caught up on resubscribing
    after = publish(desk[0], slug, "After the outage.")["id"]
    pushed.wait_for(lambda e: e["data"].get("id") == after, timeout=10)  # push is back
    assert created_ids(pushed) == [before, *during, after]
    polling.wait_for(lambda e: e["data"].get("id") == after)
    assert created_ids(polling) == [before, *during, after]
    pushed.close()
    polling.close()


def test_scheduled_post_is_published_once_across_nodes(nodes, desk, slug):
    reader = SSEReader(f"{nodes[2].url}/api/events/{slug}/stream")
    when = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    scheduled = publish(desk[1], slug, "Published by whichever node is first.", published_at=when)
    assert scheduled["status"] == "scheduled"
    reader.wait_for(lambda e: e["data"].get("id") == scheduled["id"], timeout=15)
    # a second post due a second later: once it is out, the schedulers have run past the first
    later = publish(desk[0], slug, "Published after the first.", published_at=(datetime.now(UTC) + timedelta(seconds=1)).isoformat())
    reader.wait_for(lambda e: e["data"].get("id") == later["id"], timeout=15)
    assert created_ids(reader) == [scheduled["id"], later["id"]]
    listed = desk[0].get(f"/api/events/{slug}/posts", params={"order": "oldest"}).json()["posts"]
    assert [p["id"] for p in listed] == [scheduled["id"], later["id"]]
    reader.close()


def test_two_nodes_never_poll_the_same_source_at_once(nodes, desk, slug):
    from livedesk.store.db import make_engine
    from livedesk.store.tables import sources

    pages = Pages()
    pages.delay = 0.15  # long enough that a second poller would overlap
    engine = make_engine(os.environ["LIVEDESK_TEST_DATABASE_URL"])
    try:
        paths = [f"/{slug}/{i}" for i in range(6)]
        for path in paths:
            pages.set(path, live_page(UPDATES))
            response = desk[0].post(f"/api/events/{slug}/sources", json={"url": pages.url(path), "poll_interval": 2})
            assert response.status_code == 201, response.text
        owners: set[str] = set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (len(owners) >= 2 and all(pages.count(path) >= 3 for path in paths)):
            with engine.connect() as conn:
                owners |= {o for (o,) in conn.execute(select(sources.c.lease_owner).where(sources.c.url.like(f"%/{slug}/%"))) if o}
            time.sleep(0.05)
        listed = desk[1].get(f"/api/events/{slug}/sources").json()["sources"]
        assert all(pages.count(path) >= 3 for path in paths), ([pages.count(p) for p in paths], listed)
        assert [path for path in pages.overlaps if path in paths] == []  # robots.txt may be read by two nodes at once
        assert len(owners) >= 2  # the work really was shared
        assert all(s["post_count"] == 2 for s in listed)
    finally:
        pages.close()
        engine.dispose()


def test_nodes_survive_a_postgresql_outage(relays, nodes, desk, slug):
    reader = SSEReader(f"{nodes[1].url}/api/events/{slug}/stream")
    first = publish(desk[0], slug, "Before the outage.")["id"]
    reader.wait_for(lambda e: e["data"].get("id") == first)
    relays["database"].cut()  # every pooled connection is dead when the database comes back
    try:
        refused = desk[0].post(f"/api/events/{slug}/posts", json={"body": "While it is down."})
        assert refused.status_code == 503, refused.text
        assert "nothing was changed" in refused.json()["error"] and refused.headers["retry-after"]
    finally:
        relays["database"].mend()
    after = [publish(desk[i % 3], slug, f"After the outage {i}.")["id"] for i in range(3)]
    reader.wait_for(lambda e: e["data"].get("id") == after[-1], timeout=15)
    assert created_ids(reader) == [first, *after]
    reader.close()
