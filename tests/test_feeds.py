"""RSS, Atom and JSON Feed out, per event and site-wide, read back with feedparser."""

from __future__ import annotations

import feedparser
import pytest

from conftest import unique


@pytest.fixture(scope="module")
def coverage(server, editor) -> tuple[str, list[dict]]:
    slug = unique("feed")
    assert editor.post("/api/events", json={"slug": slug, "title": "Night market reopens",
                                            "standfirst": "Stalls return to the old tram depot."}).status_code == 201
    made = []
    for i, (headline, body) in enumerate([("Gates open", "The first stalls open at dusk."),
                                          (None, "Lanterns & music fill the depot <b>hall</b>."),
                                          ("Queues at the noodle stand", "Some wait forty minutes.")]):
        data = {"body": body, "topics": ["food"], "authors": ["Mira Talvik"],
                "media": [{"url": "/static/demo/crowd.svg", "caption": "The depot"}] if i == 0 else []}
        if headline:
            data["headline"] = headline
        response = editor.post(f"/api/events/{slug}/posts", json=data)
        assert response.status_code == 201, response.text
        made.append(response.json())
    return slug, made


@pytest.mark.parametrize("kind", ["rss.xml", "atom.xml"])
def test_event_xml_feeds_parse(server, coverage, kind):
    slug, made = coverage
    response = server.get(f"/e/{slug}/{kind}")
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == ("rss20" if kind == "rss.xml" else "atom10")
    assert feed.feed.title == "Night market reopens"
    titles = [e.title for e in feed.entries]
    assert titles == ["Queues at the noodle stand", "Lanterns & music fill the depot hall.", "Gates open"]  # no markup
    newest = feed.entries[0]
    assert newest.link.endswith(f"/e/{slug}#post-{made[2]['id']}")
    assert newest.published_parsed is not None
    assert "forty minutes" in (newest.get("content", [{}])[0].get("value") or newest.summary)
    assert [t.term for t in newest.tags] == ["food"]
    again = server.get(f"/e/{slug}/{kind}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_event_json_feed(server, coverage):
    slug, made = coverage
    response = server.get(f"/e/{slug}/feed.json")
    assert response.headers["content-type"].startswith("application/feed+json")
    data = response.json()
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert data["title"] == "Night market reopens"
    items = data["items"]
    assert [i["id"] for i in items] == [p["id"] for p in reversed(made)]
    assert items[-1]["image"].endswith("/static/demo/crowd.svg")
    assert items[1]["content_text"] == "Lanterns & music fill the depot <b>hall</b>."
    assert items[0]["authors"] == [{"name": "Mira Talvik"}]
    assert all(i["url"].endswith(f"/e/{slug}#post-{i['id']}") for i in items)
    assert items[1]["title"] == "Lanterns & music fill the depot hall."  # no headline: the text's start, no markup


@pytest.mark.parametrize("path", ["/rss.xml", "/atom.xml", "/feed.json"])
def test_site_wide_feeds_hold_every_event(server, coverage, editor, path):
    slug, made = coverage
    other = unique("feed")
    editor.post("/api/events", json={"slug": other, "title": "Tide tables"})
    late = editor.post(f"/api/events/{other}/posts", json={"headline": "Spring tide tonight", "body": "Highest of the year."}).json()
    response = server.get(f"{path}")
    if path == "/feed.json":  # feedparser 6.0 reads no JSON Feed
        links = [item["url"] for item in response.json()["items"]]
    else:
        feed = feedparser.parse(response.content)
        assert not feed.bozo, feed.get("bozo_exception")
        links = [e.link for e in feed.entries]
    # newest first: the late post before the earlier event's (other tests' posts dated ahead may lead)
    position = {link.rpartition("/e/")[2]: k for k, link in enumerate(links)}
    assert position[f"{other}#post-{late['id']}"] < position[f"{slug}#post-{made[0]['id']}"]


def test_feed_of_a_missing_event_is_404(server):
    assert server.get(f"/e/{unique('none')}/rss.xml").status_code == 404


@pytest.mark.parametrize("kind", ["rss.xml", "atom.xml", "feed.json"])
def test_a_photo_without_words_gets_a_title_in_every_feed(server, editor, kind):
    slug = unique("photo")
    assert editor.post("/api/events", json={"slug": slug, "title": "Harbour at dawn"}).status_code == 201
    made = editor.post(f"/api/events/{slug}/posts", json={
        "body": "---", "media": [{"url": "/static/demo/crowd.svg", "caption": ""}],  # a rule: no words
        "published_at": "2026-11-20T06:45:00+00:00"})
    assert made.status_code == 201, made.text
    response = server.get(f"/e/{slug}/{kind}")
    assert response.status_code == 200, response.text
    titles = ([i["title"] for i in response.json()["items"]] if kind == "feed.json"
              else [e.title for e in feedparser.parse(response.content).entries])
    assert titles == ["Update at 06:45 UTC"]
