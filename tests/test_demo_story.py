"""The bundled demo story and the other outlets' coverage files are well-formed."""

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser
import lxml.html
import pytest

import livedesk
from livedesk.demo import load_outlets, load_story, outlet_pages

STATIC = Path(livedesk.__file__).parent / "web" / "static"
DEMO_SVGS = sorted((STATIC / "demo").glob("*.svg"))


@pytest.fixture(scope="module")
def story() -> dict:
    return load_story()


@pytest.fixture(scope="module")
def pages() -> dict[str, tuple[dict, bytes]]:
    """format -> (manifest entry, content)"""
    content = {file: data for _name, file, data in outlet_pages()}
    return {o["format"]: (o, content[o["file"]]) for o in load_outlets()}


def in_coverage(story: dict, t: datetime) -> bool:
    start = story["start"]
    return start - timedelta(minutes=30) <= t <= start + timedelta(hours=7)


def test_posts_are_many_ordered_and_timed(story):
    posts = story["posts"]
    assert len(posts) >= 30
    offsets = [p["minutes_offset"] for p in posts]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert 5 * 60 <= offsets[-1] - offsets[0] <= 7 * 60
    assert len({p["key"] for p in posts}) == len(posts)
    for p in posts:
        assert p["time"] == story["start"] + timedelta(minutes=p["minutes_offset"])
        assert p["time"].utcoffset() == timedelta(0)
        assert p["body"].strip() and p["authors"]
        assert set(p["topics"]) <= set(story["topics"])


def test_event_fields(story):
    assert re.fullmatch(r"[a-z0-9-]+", story["slug"])
    assert story["title"] and story["standfirst"]
    assert 4 <= len(story["topics"]) <= 6
    assert len(story["related"]) == 3
    for link in story["related"]:
        assert link["url"].startswith(("/e/", "https://example.org/"))
    keys = {p["key"] for p in story["posts"]}
    assert 4 <= len(story["key_points"]) <= 5
    assert all(kp["post"] in keys for kp in story["key_points"] if "post" in kp)


def test_pinned_key_events_correction_headlines(story):
    posts = story["posts"]
    assert sum(bool(p.get("pinned")) for p in posts) == 1
    assert 3 <= sum(bool(p.get("key_event")) for p in posts) <= 4
    corrected = [p for p in posts if "correction" in p]
    assert len(corrected) == 1
    fix = corrected[0]["correction"]
    assert fix["note"] and fix["original_body"].strip() != corrected[0]["body"].strip()
    with_headline = sum(bool(p.get("headline")) for p in posts)
    assert 0.35 <= with_headline / len(posts) <= 0.65
    assert sum("video" in p for p in posts) == 1
    video = next(p["video"] for p in posts if "video" in p)
    assert video["url"].startswith("/static/demo/") and video["title"] and video["duration_s"] > 0
    assert any("\n> " in "\n" + p["body"] for p in posts)


def test_the_story_hands_over_to_its_next_chapter_which_signs_off_last(story):
    chapter = story["next_chapter"]
    assert len(chapter) >= 20
    bodies = [item["body"].strip() for item in chapter]
    assert len(set(bodies)) == len(bodies)  # told once each: no filler repeats
    assert not {p["body"].strip() for p in story["posts"]} & set(bodies)
    for item in chapter:
        assert item["body"].strip() and set(item["topics"]) <= set(story["topics"])
    signs_off = [k for k, item in enumerate(chapter) if "That's all" in (item.get("headline") or "")]
    assert signs_off == [len(chapter) - 1]  # the sign-off is the chapter's last post
    assert not any("That's all" in (p.get("headline") or "") + p["body"] for p in story["posts"])


def test_the_ticker_tells_the_chapter_once_then_ends_the_coverage(tmp_path, monkeypatch):
    """The live demo: every post of the next chapter in order, the sign-off last, then the event
    ends; started again, it posts nothing more."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from conftest import database_url
    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import Settings
    from livedesk.newsroom import demo
    from livedesk.newsroom.room import Newsroom
    from livedesk.store import events as event_store
    from livedesk.store import posts as post_store
    from livedesk.store.db import make_engine, run_read, upgrade

    def run(ticking) -> None:
        # on a thread of its own: where a test before this one in the process used the session's
        # Chromium, Playwright keeps an event loop running on this one
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, ticking).result()

    monkeypatch.setattr(demo, "TICK_SECONDS", 0)
    monkeypatch.setattr(demo, "SLOW_TICK_SECONDS", 0)
    room = Newsroom(Settings(semantic="off", site_outlet="The Lune Observer"), make_engine(database_url(tmp_path)),
                    MemoryBroker())
    try:
        upgrade(room.engine)
        slug = demo.seed(room)
        run(demo.ticker(room))

        def read(conn):
            event = event_store.get_event(conn, slug)
            rows, _ = post_store.list_posts(conn, event.id, order="oldest", limit=10_000, outlet_own=True)
            return event, rows

        event, rows = run_read(room.engine, read)
        chapter = [item["body"].strip() for item in load_story()["next_chapter"]]
        assert [r.body_md.strip() for r in rows][-len(chapter):] == chapter
        assert rows[-1].headline == "That's all for today"
        assert str(event.status) == "ended"
        run(demo.ticker(room))  # started again: nothing more to say
        assert len(run_read(room.engine, read)[1]) == len(rows)
    finally:
        room.close()


def test_every_image_is_a_local_svg_that_exists(story):
    images = [story["lead_image"]] + [i for p in story["posts"] for i in p.get("images", [])]
    assert len(images) > 5
    for image in images:
        assert image["url"].startswith("/static/demo/") and image["url"].endswith(".svg")
        assert (STATIC / image["url"].removeprefix("/static/")).is_file(), image["url"]
        assert image["alt"] and image["caption"] and image["credit"]


@pytest.mark.parametrize("svg", DEMO_SVGS, ids=lambda p: p.name)
def test_svgs_are_small_self_contained_and_valid(svg: Path):
    text = svg.read_text()
    assert len(svg.read_bytes()) < 4096
    assert "<script" not in text.lower() and 'href="http' not in text
    assert "@import" not in text and "@font-face" not in text and "url(http" not in text
    root = ET.fromstring(text)
    assert root.get("viewBox") == "0 0 1200 675"


def test_there_are_six_to_eight_svgs():
    assert 6 <= len(DEMO_SVGS) <= 8


def test_every_format_is_represented_once(pages):
    assert set(pages) == {"text-timed", "jsonld", "rss", "text-untimed", "html-timed"}
    names = [o["name"] for o in load_outlets()]
    assert len(set(names)) == len(names)
    for _outlet, data in pages.values():
        assert data.strip()


def test_timed_text_page(pages, story):
    outlet, data = pages["text-timed"]
    text = data.decode()
    assert re.search(r"^May 14, \d{1,2}:\d\d UTC\+3$", text, re.M)
    assert re.search(r"^© [\w ]+/KTA$", text, re.M)
    zone = ZoneInfo(outlet["timezone"])
    stamps = re.findall(r"^(\d\d:\d\d:\d\d \d\d\.\d\d\.\d{4})$", text, re.M)
    times = [datetime.strptime(s, "%H:%M:%S %d.%m.%Y").replace(tzinfo=zone) for s in stamps]
    assert 12 <= len(times) <= 20
    assert times == sorted(times, reverse=True)
    assert all(in_coverage(story, t) for t in times)


def test_jsonld_page(pages, story):
    _outlet, data = pages["jsonld"]
    doc = lxml.html.fromstring(data)
    blocks = [json.loads(s.text) for s in doc.xpath('//script[@type="application/ld+json"]')]
    blog = next(b for b in blocks if b["@type"] == "LiveBlogPosting")
    updates = blog["liveBlogUpdate"]
    assert 12 <= len(updates) <= 20
    for u in updates:
        assert u["headline"] and u["articleBody"]
        t = datetime.fromisoformat(u["datePublished"])
        assert t.tzinfo is not None and in_coverage(story, t)
        if "image" in u:
            assert (STATIC / u["image"]["url"].removeprefix("/static/")).is_file()


def test_rss_feed(pages, story):
    _outlet, data = pages["rss"]
    feed = feedparser.parse(data)
    assert not feed.bozo and feed.version == "rss20"
    assert 12 <= len(feed.entries) <= 20
    for entry in feed.entries:
        assert entry.title and entry.description and entry.id
        t = datetime(*entry.published_parsed[:6], tzinfo=UTC)
        assert in_coverage(story, t)


def test_untimed_text_page(pages):
    _outlet, data = pages["text-untimed"]
    text = data.decode()
    assert "What we're covering here" in text
    count = int(re.search(r"^(\d+) Posts$", text, re.M).group(1))
    assert 12 <= count <= 20
    assert not re.search(r"^\d\d:\d\d:\d\d ", text, re.M)
    bullets = re.findall(r"^\s+• .+$", text, re.M)
    assert 2 <= len(bullets) <= 5


def test_html_page_with_uk_times(pages, story):
    outlet, data = pages["html-timed"]
    text = data.decode()
    assert "All times are UK time" in text and "ld+json" not in text
    zone = ZoneInfo(outlet["timezone"])
    day = story["start"].date()
    times = []
    for hour, minute, half in re.findall(r"<p><strong>(\d{1,2})\.(\d\d)(am|pm):</strong>", text):
        h = int(hour) % 12 + (12 if half == "pm" else 0)
        times.append(datetime(day.year, day.month, day.day, h, int(minute), tzinfo=zone))
    assert 12 <= len(times) <= 20
    assert times == sorted(times)  # this page runs oldest first
    assert all(in_coverage(story, t) for t in times)


def test_outlets_overlap_on_the_same_story(pages):
    for _outlet, data in pages.values():
        text = data.decode()
        assert "Sildra" in text and ("Velmora" in text) and ("Brennick" in text or "Varonen" in text)
