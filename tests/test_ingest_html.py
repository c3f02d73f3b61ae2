"""Live pages in HTML, one test per way pages mark their entries up (fictional pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from livedesk.ingest.html import read_html
from livedesk.ingest.page import read_page
from livedesk.model import ParsedPage

FIXTURES = Path(__file__).parent / "fixtures" / "ingest" / "html"


def read(name: str, **options: object) -> ParsedPage:
    return read_page((FIXTURES / name).read_bytes(), **options)  # type: ignore[arg-type]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_time_elements_in_each_entrys_aside() -> None:
    page = read("aside_time.html")
    assert [p.time for p in page.posts] == [
        utc(2026, 9, 14, 14, 5), utc(2026, 9, 14, 11, 48), utc(2026, 9, 14, 9, 20), utc(2026, 9, 14, 8, 2)
    ]
    assert [p.headline for p in page.posts] == [
        "All nine gates are open again", None, "Gate seven sticks for twenty minutes", "Sirens sound along the embankment"
    ]
    assert page.posts[1].text.startswith("A pair of otters was seen")
    assert page.standfirst == "Engineers close all nine gates of the new barrier for the first time."
    for post in page.posts:
        for junk in ("Copy link", "Most read", "ferry timetable", "all rights reserved", "Menu"):
            assert junk not in post.text and junk not in (post.headline or "")


def test_microdata_updates_keep_their_seconds_and_their_own_text() -> None:
    page = read("microdata.html")
    assert (page.title, page.outlet) == ("Fährstreik an der Küste", "Nordstrand Anzeiger")
    assert page.standfirst == "Die Fähren zu den Inseln bleiben den zweiten Tag im Hafen."
    assert page.published == utc(2026, 2, 3, 5, 0)
    assert [p.time for p in page.posts] == [utc(2026, 2, 3, 13, 5, 37), utc(2026, 2, 3, 10, 52, 8), utc(2026, 2, 3, 8, 30, 15)]
    assert [p.headline for p in page.posts] == ["Gewerkschaft lädt zu Gesprächen", None, "Reederei spricht von Millionenschaden"]
    assert page.posts[1].text == (
        "Auf der Insel werden Milch und Brot knapp. Ein Versorgungsschiff der Marine soll am Nachmittag anlegen."
        "\n\nDie Gemeinde öffnet ihr Lager für ältere Bewohner."
    )
    for post in page.posts:  # the next row's date box is not part of a text
        assert "03.02.2026" not in post.text and "11:52" not in post.text and "09:30" not in post.text
    assert page.order == "newest"


def test_stamp_at_the_start_of_each_entrys_heading() -> None:
    page = read("uhr_headings.html", tz="Europe/Berlin")
    assert [p.headline for p in page.posts] == [
        "Pegel in Altena sinkt leicht", "Bahnstrecke gesperrt", "Schulen bleiben geschlossen", "Krisenstab tagt"
    ]
    berlin = [p.time.astimezone(ZoneInfo("Europe/Berlin")).strftime("%H:%M") for p in page.posts if p.time]
    assert berlin == ["14:05", "12:31", "10:47", "09:12"]
    # the page's `<meta name="date">` dates the posts, and beats a date given for pages that say nothing
    assert page.posts[0].time == utc(2026, 7, 14, 12, 5)
    assert page.posts[1].text == (
        "Zwischen Letmathe und Finnentrop fahren keine Züge. Ein Ersatzverkehr mit Bussen ist eingerichtet."
        "\n\nDie Bahn rechnet mit Einschränkungen bis mindestens Freitag."
    )
    dated = read("uhr_headings.html", tz="Europe/Berlin", date=date(2026, 1, 1))
    assert dated.posts[0].time == utc(2026, 7, 14, 12, 5)
    assert (dated.zone_source, dated.date_source) == ("option", "page")


def test_where_the_zone_of_structured_times_came_from() -> None:
    """Times with their own offset say so; zone-less ones take the outlet's zone, then --tz."""
    assert (read("microdata.html").zone_source, read("jsonld_consistent.html").zone_source) == ("stamp", "stamp")
    bare = (FIXTURES / "microdata.html").read_text().replace("+01:00", "")
    german = read_page(bare)  # `<html lang="de">`: German pages write German time
    assert (german.zone_source, german.posts[0].time) == ("outlet", utc(2026, 2, 3, 13, 5, 37))
    hinted = read_page(bare, tz="Asia/Tokyo")
    assert (hinted.zone_source, hinted.posts[0].time) == ("option", utc(2026, 2, 3, 5, 5, 37))
    unsaid = read_page(bare.replace('lang="de"', ""))
    assert (unsaid.zone_source, unsaid.posts[0].time) == ("assumed", utc(2026, 2, 3, 14, 5, 37))
    json_ld = (FIXTURES / "jsonld_consistent.html").read_text().replace("+01:00", "")
    assert read_page(json_ld.replace('<html lang="en">', '<html lang="it-IT">')).posts[0].time == utc(2026, 5, 17, 9, 8, 42)


def test_repeated_entry_blocks_are_one_post_each() -> None:
    page = read("entries.html")
    assert len(page.posts) == 30
    assert [p.text.split(" on ")[0] for p in page.posts] == [f"Update {n}" for n in range(30, 0, -1)]
    assert max(len(p.text) for p in page.posts) < 300
    clocks = [p.time for p in page.posts if p.time]
    assert len(clocks) == 30
    assert {later - earlier for later, earlier in zip(clocks, clocks[1:])} == {timedelta(minutes=13)}


def test_entries_without_stamps_or_headlines_are_still_one_post_each() -> None:
    """Nothing in the text marks where posts begin; the page's repeated `<article>` blocks do."""
    page = read("entries_unstamped.html")
    assert [p.text.split(".")[0] for p in page.posts] == [
        "The inquiry has adjourned for lunch",
        "The engineer told the panel that the inspection report from the spring was never passed to the contractor, and that she "
        "learned of it only in June",
        "Members of the public have filled every seat in the gallery, and a second room with a video link has been opened on the "
        "floor below",
        "The chair opened the session by reading out the names of the four people who died when the span fell into the river last winter",
    ]
    assert [p.anchor for p in page.posts] == ["e4", "e3", "e2", "e1"]
    assert all(p.headline is None and p.time is None and "Share" not in p.text for p in page.posts)
    assert page.title == "Bridge inquiry live"  # the page's heading is its title, not a post


def test_relative_stamps_start_their_post_and_count_back_from_the_reading() -> None:
    before = datetime.now(UTC)
    page = read("relative.html")
    after = datetime.now(UTC)
    assert [p.headline for p in page.posts] == ["Turnout tops 60 per cent", "First box arrives at the count", None]
    assert page.posts[2].text == "Polls have closed. Counting staff are setting out the tables in the sports hall."
    for post, minutes in zip(page.posts, (3, 18, 42)):
        assert post.time is not None  # to the minute: `3 min ago` says no seconds
        assert before - timedelta(minutes=minutes, seconds=60) <= post.time <= after - timedelta(minutes=minutes)
    german = read_html(
        '<html lang="de"><body><main><h1>Sturm</h1><div class="e"><span>vor 5 Minuten</span><h3>Fähre fällt aus</h3>'
        "<p>Die Abendfähre bleibt heute im Hafen.</p></div><div class='e'><span>vor 2 Stunden</span><h3>Warnung vor Orkan</h3>"
        "<p>Der Wetterdienst warnt vor Orkanböen an der Küste.</p></div></main></body></html>",
        now=utc(2026, 11, 20, 18, 30),
    )
    assert [(p.time, p.headline) for p in german.posts] == [
        (utc(2026, 11, 20, 18, 25), "Fähre fällt aus"), (utc(2026, 11, 20, 16, 30), "Warnung vor Orkan")
    ]


def test_json_ld_that_contradicts_the_visible_page_gives_way() -> None:
    """Every update has the page's start time and the page title as headline; the visible
    entries carry three distinct times and their own headlines."""
    page = read("jsonld_one_time.html")
    assert [p.time for p in page.posts] == [utc(2026, 3, 11, 13, 46), utc(2026, 3, 11, 11, 15), utc(2026, 3, 11, 10, 2)]
    assert [p.headline for p in page.posts] == ["Budget passes", "Libraries row", None]


def test_consistent_json_ld_keeps_exact_times_decodes_entities_and_keeps_embeds() -> None:
    page = read("jsonld_consistent.html")
    assert [p.time for p in page.posts] == [
        utc(2026, 5, 17, 10, 8, 42), utc(2026, 5, 17, 9, 21, 5), utc(2026, 5, 17, 8, 47, 30), utc(2026, 5, 17, 8, 0, 12)
    ]
    winner = page.posts[0]
    assert winner.headline == "Winner's time is a course record"
    assert winner.text.startswith("“I felt the wind drop at the river,” the winner said")
    tweet, video = page.posts[1].media, page.posts[2].media
    assert [(m.kind, m.url, m.source) for m in tweet] == [
        ("embed", "https://twitter.com/carrowrunners/status/1790000000000000001", "X")
    ]
    assert page.posts[1].text == ""  # the embed is the post; its markup and script are not text
    assert [(m.kind, m.url, m.title) for m in video] == [
        ("video", "https://www.youtube.com/embed/aBcDeFgHiJk", "Runners cross the old bridge")
    ]
    # the page's lead image and its one author are the page's, not copied onto every post
    assert [m.url for m in page.media] == ["https://carrow.example/img/start-line.jpg"]
    assert all(p.author is None for p in page.posts)
    assert not any(m.url == "https://carrow.example/img/start-line.jpg" for p in page.posts for m in p.media)


def test_posts_that_are_only_an_embed_keep_it_as_media() -> None:
    page = read("embeds.html")
    assert [p.time for p in page.posts] == [
        utc(2026, 8, 12, 22, 40), utc(2026, 8, 12, 22, 10), utc(2026, 8, 12, 21, 35), utc(2026, 8, 12, 21, 5)
    ]
    instagram, text, video, tweet = page.posts
    assert [(m.kind, m.url, m.source) for m in instagram.media] == [
        ("embed", "https://www.instagram.com/p/Cmt123xyz/", "Instagram")
    ]
    assert [(m.kind, m.source, m.title) for m in video.media] == [("video", "YouTube", "Time-lapse of the comet rising")]
    assert [(m.kind, m.url, m.caption) for m in tweet.media] == [
        ("embed", "https://twitter.com/skywatch/status/1823000000000000002", "First glimpse from the harbour wall!")
    ]
    assert (instagram.text, video.text, tweet.text) == ("", "", "")
    assert text.headline == "Clouds part over the moor" and not text.media


def test_feed_items_that_are_only_an_embedded_post_keep_it() -> None:
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Comet night - live | Skyward Gazette</title>'
        "<item><title>From the harbour wall</title><guid>https://skyward.example/live#f2</guid>"
        "<description><![CDATA[<blockquote class=\"twitter-tweet\"><p>Tail visible over the lighthouse!</p>"
        '<a href="https://twitter.com/skywatch/status/1823000000000000009">August 12, 2026</a></blockquote>]]></description>'
        "<pubDate>Wed, 12 Aug 2026 23:05:00 +0100</pubDate></item>"
        "<item><title>Clear skies</title><guid>https://skyward.example/live#f1</guid>"
        "<description>The cloud has cleared over the moor.</description><pubDate>Wed, 12 Aug 2026 22:10:00 +0100</pubDate></item>"
        "</channel></rss>"
    )
    page = read_page(rss.encode())
    tweet = page.posts[0]
    assert (tweet.headline, tweet.text) == ("From the harbour wall", "")
    assert [(m.kind, m.url, m.caption) for m in tweet.media] == [
        ("embed", "https://twitter.com/skywatch/status/1823000000000000009", "Tail visible over the lighthouse!")
    ]
    assert page.posts[1].text == "The cloud has cleared over the moor." and not page.posts[1].media
