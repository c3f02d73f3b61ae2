"""Odd but well-formed values get a 4xx with a message, never a 500; URLs are read as a browser
reads them; feed titles carry no markup. Against a real server."""

from __future__ import annotations

import json
import time

import feedparser
import httpx
import pytest

from conftest import unique
from livedesk.markup import clean_url, strip_markup


def error_of(response: httpx.Response, status: int = 422) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]
    assert message
    return message


# ---- lone surrogates, far dates, far change ids --------------------------------------------

def test_a_lone_surrogate_in_a_body_is_refused(editor: httpx.Client, event: str) -> None:
    raw = '{"body": "\\ud800 the ferry", "headline": "Quay"}'  # JSON may escape half a pair
    response = editor.post(f"/api/events/{event}/posts", content=raw, headers={"content-type": "application/json"})
    assert "surrogate" in error_of(response)
    raw = '{"headline": "ok", "topics": ["\\udfff"]}'
    assert "unicode" in error_of(editor.post(f"/api/events/{event}/posts", content=raw,
                                             headers={"content-type": "application/json"})).lower()
    assert editor.get(f"/api/events/{event}/posts").json()["posts"] == []  # nothing half-written


@pytest.mark.parametrize("field", ["published_at", "coverage_start"])
@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_times_beyond_the_calendar_in_utc_are_refused(editor: httpx.Client, event: str, field: str, moment: str) -> None:
    if field == "published_at":
        response = editor.post(f"/api/events/{event}/posts", json={"body": "Quay", field: moment})
    else:
        response = editor.patch(f"/api/events/{event}", json={field: moment})
    assert "out of range" in error_of(response)


def test_the_last_day_of_the_calendar_in_search_is_refused(server) -> None:
    message = error_of(server.get("/api/search", params={"q": "ferry", "day": "9999-12-31"}))
    assert "day" in message
    assert server.get("/api/search", params={"q": "ferry", "day": "9999-12-30"}).status_code == 200
    page = server.get("/search", params={"q": "ferry", "day": "9999-12-31"})
    assert page.status_code == 400 and "earlier" in page.text


@pytest.mark.parametrize("last_event_id", ["99999999999999999999", "not-a-number", "-5", "12abc"])
def test_a_last_event_id_that_is_no_change_replays_from_the_start(live_server, live_editor: httpx.Client,
                                                                  last_event_id: str) -> None:
    event = unique("replay")
    assert live_editor.post("/api/events", json={"slug": event, "title": "Ferry back"}).status_code == 201
    made = live_editor.post(f"/api/events/{event}/posts", json={"body": "The ferry is back at the quay."}).json()
    seen: list[dict] = []
    deadline = time.monotonic() + 30
    with httpx.stream("GET", f"{live_server.url}/api/events/{event}/stream", timeout=10,
                      headers={"Last-Event-ID": last_event_id}) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line.removeprefix("data:")))
            if any(item.get("id") == made["id"] or item.get("post", {}).get("id") == made["id"] for item in seen):
                break
            assert time.monotonic() < deadline, seen
    assert seen


# ---- URLs ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "kept"), [
    ("HTTPS://Example.ORG/p.jpg", "https://example.org/p.jpg"),
    ("http://example.org/a b.jpg", "http://example.org/a%20b.jpg"),
    ("/static/demo/crowd.svg", "/static/demo/crowd.svg"),
])
def test_absolute_http_urls_in_any_case_and_site_paths_are_kept(given: str, kept: str) -> None:
    assert clean_url(given) == kept


@pytest.mark.parametrize("url", [
    "//evil.example/x.mp4", "/\\evil.example", "/\t/evil.example", "\\\\evil.example/x.mp4", "javascript:alert(1)",
    "data:image/svg+xml,<svg/>", "https:evil.example", "http://", "ftp://example.org/x.jpg", "x.jpg",
])
def test_urls_that_leave_the_site_or_are_not_http_are_refused(editor: httpx.Client, event: str, url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        clean_url(url)
    response = editor.post(f"/api/events/{event}/posts", json={"body": "Quay", "media": [{"url": url}]})
    assert "media url" in error_of(response)
    response = editor.patch(f"/api/events/{event}", json={"links": [{"url": url, "title": "Elsewhere"}]})
    assert "link url" in error_of(response)


def test_an_uppercase_scheme_is_accepted_and_stored_normalised(editor: httpx.Client, event: str) -> None:
    post = editor.post(f"/api/events/{event}/posts", json={
        "body": "Quay", "media": [{"kind": "video", "url": "HTTPS://Example.org/Clip.mp4", "title": "Quay"}]})
    assert post.status_code == 201, post.text
    assert post.json()["media"][0]["url"] == "https://example.org/Clip.mp4"
    patched = editor.patch(f"/api/events/{event}", json={"links": [{"url": "HTTP://Example.org/map", "title": "Map"}]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["links"] == [{"url": "http://example.org/map", "title": "Map"}]


# ---- feed titles -----------------------------------------------------------------------------

def test_strip_markup_also_removes_tags_written_as_text() -> None:
    assert strip_markup("&lt;script&gt;alert(1)&lt;/script&gt;Ferry &amp; quay") == "Ferry & quay"
    assert strip_markup("&amp;lt;b&amp;gt;bold&amp;lt;/b&amp;gt; 1 < 2") == "bold 1 < 2"


@pytest.mark.parametrize("kind", ["rss.xml", "atom.xml", "feed.json"])
def test_feed_titles_carry_no_markup(server, editor: httpx.Client, kind: str) -> None:
    slug = unique("titles")
    assert editor.post("/api/events", json={"slug": slug, "title": "Quay &lt;b&gt;works&lt;/b&gt;"}).status_code == 201
    for data in ({"headline": "&lt;script&gt;alert(1)&lt;/script&gt;Crane in place", "body": "On the east quay."},
                 {"body": "&lt;img src=x onerror=alert(2)&gt; The night shift starts."}):
        assert editor.post(f"/api/events/{slug}/posts", json=data).status_code == 201
    response = server.get(f"/e/{slug}/{kind}")
    assert response.status_code == 200
    if kind == "feed.json":
        feed = response.json()
        titles = [feed["title"]] + [item["title"] for item in feed["items"]]
    else:
        parsed = feedparser.parse(response.content)
        titles = [parsed.feed.title] + [entry.title for entry in parsed.entries]
    assert titles == ["Quay works", "The night shift starts.", "Crane in place"]
    assert "alert(1)" not in response.text  # the headline's script is gone, not escaped
