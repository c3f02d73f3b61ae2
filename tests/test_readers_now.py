"""Readers now: each node counts the streams open per event and reports them through the broker;
the API adds up every node's figure. Counted per connection, never per post."""

from __future__ import annotations

import os

from conftest import SSEReader, unique, wait_until


def readers(site, slug: str) -> int:
    answer = site.get(f"/api/events/{slug}/readers")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    return answer.json()["readers"]


def test_the_reader_count_moves_as_readers_come_and_go(live_server, live_editor, app_server):
    slug = unique("readers")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Tide watch"}).status_code == 201
    assert readers(live_server, slug) == 0
    first = SSEReader(f"{live_server.url}/api/events/{slug}/stream")
    second = SSEReader(f"{live_server.url}/api/events/{slug}/stream")
    elsewhere = SSEReader(f"{live_server.url}/api/stream")  # the all-events stream is no reader of this event
    try:
        wait_until(lambda: readers(live_server, slug) == 2, timeout=20, message="two readers counted")
        if os.environ.get("LIVEDESK_TEST_BROKER_URL", "").startswith("redis"):
            # another node, through Redis
            wait_until(lambda: readers(app_server, slug) == 2, timeout=20, message="the other node counts them")
        for n in range(3):  # posts cost the count nothing, and change it not
            assert live_editor.post(f"/api/events/{slug}/posts", json={"body": f"Tide update {n}."}).status_code == 201
        first.close()
        wait_until(lambda: readers(live_server, slug) == 1, timeout=20, message="one reader left")
    finally:
        first.close()
        second.close()
        elsewhere.close()
    wait_until(lambda: readers(live_server, slug) == 0, timeout=20, message="no readers left")


def test_an_unknown_event_has_no_reader_count(server):
    missing = server.get("/api/events/no-such-event/readers")
    assert missing.status_code == 404 and missing.json()["error"]
