"""Readers now: each node counts the streams open per event and reports them through the broker;
the API adds up every node's figure. Counted per connection, never per post."""

from __future__ import annotations

import os

from playwright.sync_api import Browser, expect

from conftest import PASSWORD, SSEReader, log_in, make_user, unique, wait_until


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


def test_the_desk_shows_the_reader_count_moving_as_reader_pages_open_and_close(live_server, live_editor, browser: Browser):
    """In Chromium: an editor's desk page, and readers opening the event's page in browsers of their own."""
    slug = unique("readers")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Harbour fog"}).status_code == 201
    desk_context = browser.new_context(viewport={"width": 1280, "height": 900})
    readers_contexts = []
    try:
        desk = desk_context.new_page()
        log_in(desk, live_server, make_user(live_server, "editor"), PASSWORD)
        desk.goto(f"{live_server.url}/desk/e/{slug}")
        count = desk.locator("#readers-now")
        expect(count).to_have_text("0 readers on the page now", timeout=20000)
        for n in (1, 2):
            context = browser.new_context()
            readers_contexts.append(context)
            context.new_page().goto(f"{live_server.url}/e/{slug}")
            expect(count).to_have_text(f"{n} reader{'s' if n > 1 else ''} on the page now", timeout=20000)
        assert live_editor.post(f"/api/events/{slug}/posts", json={"body": "Fog lifts at the mouth."}).status_code == 201
        readers_contexts.pop().close()  # a reader leaves
        expect(count).to_have_text("1 reader on the page now", timeout=20000)
        readers_contexts.pop().close()
        expect(count).to_have_text("0 readers on the page now", timeout=20000)
    finally:
        for context in readers_contexts:
            context.close()
        desk_context.close()
