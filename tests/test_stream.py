"""Server-Sent Events read by a real HTTP client from a real server."""

from __future__ import annotations

import socket
import time

import pytest

from conftest import Server, SSEReader, server_env, unique, wait_until
from test_api import post


@pytest.fixture(scope="module")
def server(live_server):
    """Streams are read off a real socket: this module's server is the session's real one."""
    return live_server


def test_published_post_arrives(server, editor, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    created = post(editor, event, body="on the wire")
    got = reader.wait_for(lambda e: e["event"] == "post.created")
    assert got[0]["data"]["id"] == created["id"] and got[0]["data"]["body"] == "on the wire"
    assert int(got[0]["id"]) > 0
    reader.close()


def test_every_change_kind(server, editor, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    p = post(editor, event, body="first")
    editor.patch(f"/api/events/{event}/posts/{p['id']}", json={"body": "second", "correction": "typo"})
    editor.post(f"/api/events/{event}/posts/{p['id']}/pin")
    editor.patch(f"/api/events/{event}", json={"key_points": [{"text": "Ferry resumes", "post_id": p["id"]}]})
    editor.patch(f"/api/events/{event}", json={"title": "Renamed"})
    editor.delete(f"/api/events/{event}/posts/{p['id']}")
    events = reader.wait_count(6)
    kinds = [e["event"] for e in events]
    assert kinds == ["post.created", "post.updated", "post.pinned", "keypoints.updated", "event.updated", "post.deleted"]
    assert events[1]["data"]["correction_note"] == "typo"
    assert events[3]["data"]["key_points"][0]["text"] == "Ferry resumes"
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    reader.close()


def test_reconnect_replays_exactly_the_missed(server, editor, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    post(editor, event, body="seen")
    last = reader.wait_for(lambda e: e["event"] == "post.created")[-1]["id"]
    reader.close()
    missed = [post(editor, event, body=f"missed {i}")["id"] for i in range(3)]
    again = SSEReader(f"{server.url}/api/events/{event}/stream", last_event_id=last)
    assert [e["data"]["id"] for e in again.wait_count(len(missed))] == missed
    later = post(editor, event, body="live again")
    again.wait_for(lambda e: e["data"].get("id") == later["id"])
    assert [e["data"]["id"] for e in again.events] == [*missed, later["id"]]
    again.close()


def test_drafts_never_reach_the_stream(server, editor, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    draft = post(editor, event, body="secret", status="draft")
    editor.patch(f"/api/events/{event}/posts/{draft['id']}", json={"body": "still secret"})
    contributor = server.client(server.token("contributor"))
    pending = post(contributor, event, body="awaiting approval")
    marker = post(editor, event, body="public")
    reader.wait_for(lambda e: e["data"].get("id") == marker["id"])
    replay = SSEReader(f"{server.url}/api/events/{event}/stream", last_event_id="0")
    replay.wait_for(lambda e: e["data"].get("id") == marker["id"])
    for stream in (reader, replay):
        seen = {e["data"].get("id") for e in stream.events}
        assert draft["id"] not in seen and pending["id"] not in seen
    reader.close()
    replay.close()


def test_scheduled_post_reaches_the_stream_when_due(server, editor, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    due = int(time.time()) + 2
    scheduled = post(editor, event, body="at its time", published_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(due)))
    got = reader.wait_for(lambda e: e["data"].get("id") == scheduled["id"], timeout=10)
    assert time.time() >= due  # never before its time
    assert got[0]["event"] == "post.created" and got[0]["data"]["status"] == "published"
    assert [e["data"].get("id") for e in reader.events] == [scheduled["id"]]  # nothing else came first
    reader.close()


def test_keepalive_comment(server, event):
    reader = SSEReader(f"{server.url}/api/events/{event}/stream")
    wait_until(lambda: reader.comments, timeout=5, message="a keep-alive comment")
    assert reader.comments[0].startswith(":")
    reader.close()


def test_all_events_stream(server, editor):
    reader = SSEReader(f"{server.url}/api/stream")
    slugs = [unique("g") for _ in range(2)]
    ids = []
    for slug in slugs:
        editor.post("/api/events", json={"slug": slug, "title": slug})
        ids.append(post(editor, slug, body="everywhere")["id"])
    reader.wait_for(lambda e: e["data"].get("id") == ids[1])
    seen = [e["data"]["id"] for e in reader.events if e["event"] == "post.created"]
    assert seen[-2:] == ids
    reader.close()


def test_unknown_event_stream_is_404(server):
    assert server.get("/api/events/nope/stream").status_code == 404


@pytest.mark.slow
def test_stalled_reader_is_dropped_and_others_keep_up(tmp_path):
    srv = Server(server_env(tmp_path, LIVEDESK_READER_BUFFER_BYTES="20000")).start()
    try:
        editor = srv.client(srv.token("editor"))
        slug = unique("slow")
        editor.post("/api/events", json={"slug": slug, "title": "slow"})
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(("127.0.0.1", srv.port))
        stalled.sendall(f"GET /api/events/{slug}/stream HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        healthy = SSEReader(f"{srv.url}/api/events/{slug}/stream")
        big = "word " * 19_000
        ids = [post(editor, slug, body=big)["id"] for _ in range(60)]
        healthy.wait_for(lambda e: e["data"].get("id") == ids[-1], timeout=20)
        assert [e["data"]["id"] for e in healthy.events] == ids
        stalled.settimeout(5)
        received = 0
        try:
            while chunk := stalled.recv(1 << 20):
                received += len(chunk)
        except TimeoutError:
            raise AssertionError("the stalled reader was never disconnected") from None
        assert received < 60 * len(big)
        healthy.close()
    finally:
        srv.stop()


@pytest.mark.slow
@pytest.mark.parametrize("memory", ["8000000", "0"])  # replayed from the node's memory; from the database
def test_reader_catches_up_with_a_restarted_server(tmp_path, memory):
    srv = Server(server_env(tmp_path, LIVEDESK_REPLAY_MEMORY_BYTES=memory)).start()
    try:
        editor = srv.client(srv.token("editor"))
        slug, other = unique("restart"), unique("other")
        for name in (slug, other):
            editor.post("/api/events", json={"slug": name, "title": name}).raise_for_status()
        reader = SSEReader(f"{srv.url}/api/events/{slug}/stream")
        seen = post(editor, slug, body="seen")["id"]
        last = reader.wait_for(lambda e: e["data"].get("id") == seen)[-1]["id"]
        reader.close()
        missed = [post(editor, slug, body=f"missed {i}")["id"] for i in range(2)]
        post(editor, other, body="another event's change, in between")
        missed.append(post(editor, slug, body="missed last")["id"])
        srv.stop(kill=True)
        srv.start()
        again = SSEReader(f"{srv.url}/api/events/{slug}/stream", last_event_id=last)
        assert [e["data"]["id"] for e in again.wait_count(len(missed))] == missed
        later = post(editor, slug, body="live again")["id"]
        again.wait_for(lambda e: e["data"].get("id") == later)
        assert [e["data"]["id"] for e in again.events] == [*missed, later]
        again.close()
    finally:
        srv.stop()


def test_memory_of_changes_replays_only_what_it_fully_holds():
    from collections import namedtuple

    from livedesk.web.stream import Hub, chunk, encode

    Change = namedtuple("Change", "id event_id kind payload")
    changes = [Change(k, 1 + k % 2, "post.created", f'{{"n":{k}}}') for k in range(1, 21)]
    framed = {c.id: chunk(encode(c.id, c.kind, c.payload)) for c in changes}
    hub = Hub(None, keepalive_s=1, poll_s=1, reader_limit=1, replay_memory=8 * len(framed[10]))
    for c in changes:
        hub._remember(c)
    kept = [c for c, _, _ in hub.recent]
    assert kept == list(range(hub.recent_floor + 1, 21)) and 6 <= len(kept) <= 8  # trimmed to three quarters
    assert hub._missed_since(1, 17) == framed[18] + framed[20]  # event 1's changes after 17
    assert hub._missed_since(2, 17) == framed[19]
    assert hub._missed_since(None, 17) == framed[18] + framed[19] + framed[20]
    assert hub._missed_since(1, 20) == b""  # missed nothing
    assert hub._missed_since(1, hub.recent_floor - 1) is None  # older than memory: read from the store
    assert hub._missed_since(1, 21) is None  # ahead of this hub
