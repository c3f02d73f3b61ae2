"""JSON-LD, feeds and HTML pages (fictional), format detection and charset decoding."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from livedesk.ingest import ParseError
from livedesk.ingest.decode import decode_bytes
from livedesk.ingest.jsonld import iso_duration
from livedesk.ingest.page import page_to_json, read_page, sniff

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def read(name: str, **options):
    return read_page((FIXTURES / name).read_bytes(), **options)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_json_ld_single_block() -> None:
    page = read("jsonld_single.html")
    assert (page.title, page.outlet) == ("Reservoir dam inspection: live", "Valley Record")
    assert page.standfirst == "Engineers check the Hollin dam after a week of rain."
    assert page.published == utc(2026, 4, 10, 5, 0)
    first, second, third = page.posts
    assert (first.headline, first.time, first.updated) == ("Dam declared safe", utc(2026, 4, 10, 9, 40), utc(2026, 4, 10, 9, 52))
    assert first.text == "The inspectors say the wall shows no new cracks.\n\nThe road across the crest reopens at noon."
    assert first.author == "Petra Lund"
    assert first.anchor == "https://valley.example/live#u3"
    assert (first.media[0].caption, first.media[0].credit) == ("The crest road", "Valley Record")
    video = second.media[0]
    assert (video.kind, video.title, video.duration_s, video.source) == ("video", "The divers at the outlet", 85, "Valley Record")
    # an update without a time keeps its place with time null
    assert third.time is None and third.text.startswith("An update with no time")
    assert page_to_json(page)["posts"][2]["time"] is None


def test_json_ld_list_of_blocks() -> None:
    page = read("jsonld_list.html")
    assert page.outlet == "Pedal Daily"
    assert [p.headline for p in page.posts] == ["Breakaway caught", "Stage starts"]
    assert page.order == "newest"


def test_json_ld_graph_with_a_single_update_and_zone_less_times() -> None:
    page = read("jsonld_graph.html", tz="Europe/Vienna")
    assert page.title == "Museum of Clocks reopens"
    assert page.outlet == "Old Town Tribune"
    assert page.posts[0].time == utc(2026, 5, 20, 8, 0)  # zone-less time read in --tz


def test_json_ld_several_blocks_merge_and_skip_broken_ones() -> None:
    page = read("jsonld_multi.html")
    assert page.outlet == "Pier Gazette"  # og:site_name, as the JSON-LD names no publisher
    assert [p.headline for p in page.posts] == ["Tall ships arrive", "Gates open"]  # no duplicate


def test_json_ld_as_a_document_of_its_own() -> None:
    page = read("jsonld_document.json")
    assert (page.outlet, page.posts[0].time) == ("Farm Weekly", utc(2026, 4, 2, 1, 40))


def test_rss() -> None:
    page = read("feed_rss.xml", tz="Europe/Zurich")
    assert (page.title, page.outlet) == ("Snowfall in the Kell valley - live", "Mountain Wire")
    # the third item's date has no zone: it is read in --tz, not taken as UTC
    assert [p.time for p in page.posts] == [utc(2026, 2, 3, 13, 10), utc(2026, 2, 3, 6, 30), utc(2026, 2, 3, 4, 0)]
    assert page.posts[0].text == "The valley railway is running again after ploughs cleared the cutting."
    assert page.posts[0].media[0].url == "https://mountain.example/plough.jpg"
    assert page.posts[1].author == "Aron Holt"
    assert page.posts[0].anchor == "https://mountain.example/live#r2"


def test_atom() -> None:
    page = read("feed_atom.xml")
    assert page.title == "Canal regatta live"
    assert [p.headline for p in page.posts] == ["Final won by the Lockside crew", "Heats begin"]
    assert page.posts[0].time == utc(2026, 5, 9, 13, 58)
    assert page.posts[1].time == utc(2026, 5, 9, 9, 0)  # no <published>: <updated>
    assert page.posts[0].author == "Mara Veil"


def test_json_feed() -> None:
    page = read("feed.json")
    assert (page.title, page.outlet) == ("Bridge lift live", "Estuary Times")
    assert page.posts[0].text == "The span settled on its bearings at dusk."
    assert page.posts[0].time == utc(2026, 9, 12, 18, 5)
    assert page.posts[0].author == "Kai Brenner"
    assert page.posts[1].media[0].url == "https://estuary.example/cranes.jpg"


def test_html_without_json_ld() -> None:
    page = read("html_timed.html", date=date(2026, 1, 1))
    assert (page.title, page.outlet) == ("Lighthouse restoration weekend", "Saltmarsh Herald")
    assert page.standfirst == "Volunteers repaint the Saltmarsh lighthouse before the winter storms."
    # `Saturday 6 June 2026` sets the date; UK time in June is UTC+1
    assert [p.time for p in page.posts] == [utc(2026, 6, 6, 15, 20), utc(2026, 6, 6, 12, 5), utc(2026, 6, 6, 8, 30)]
    assert [p.headline for p in page.posts] == ["The lamp is lit again", "Paint runs short", "Scaffolding goes up"]
    assert [p.anchor for p in page.posts] == ["post-3", "post-2", "post-1"]  # the posts' own element ids
    lamp = page.posts[0].media[0]
    assert (lamp.caption, lamp.credit) == ("The restored lamp room.", "Nell Harrow/Saltmarsh Herald")
    for post in page.posts:
        for junk in ("Share", "Most read", "Tide tables", "Copyright", "Sign in", "Home"):
            assert junk not in post.text


def test_sniffing() -> None:
    assert sniff('{"version": "https://jsonfeed.org/version/1"}') == "json"
    assert sniff('<?xml version="1.0"?>\n<rss version="2.0">') == "feed"
    assert sniff("<feed xmlns='http://www.w3.org/2005/Atom'>") == "feed"
    assert sniff("<!doctype html><html>") == "html"
    assert sniff("Title\n\n09:12 CET\n\nText") == "text"


def test_json_that_is_not_a_live_page() -> None:
    with pytest.raises(ParseError):
        read_page('{"hello": "world"}')
    with pytest.raises(ParseError):
        read_page("[1, 2, 3")


def test_iso_durations() -> None:
    assert iso_duration("PT2M9S") == 129
    assert iso_duration("PT1H") == 3600
    assert iso_duration("P") is None and iso_duration("soon") is None and iso_duration(12) is None


def test_charsets() -> None:
    cyrillic = "Паводок: дамба выдержала".encode("cp1251")
    page = b'<html><head><meta charset="windows-1251"></head><body><p>' + cyrillic + b"</p></body></html>"
    assert "Паводок" in decode_bytes(page)[0]
    # a server that says latin-1 for what is really UTF-8
    text, charset = decode_bytes("Zürich: Brücke offen".encode(), "text/html; charset=iso-8859-1")
    assert (text, charset) == ("Zürich: Brücke offen", "utf-8")
    # a server that says UTF-8 for what is really cp1252
    text, _ = decode_bytes("Café on the quay – open".encode("cp1252") * 20, "text/plain; charset=utf-8")
    assert "Café" in text
    # byte order marks win
    assert decode_bytes("Title".encode("utf-16"))[0] == "Title"


def test_html_time_elements_prefer_their_datetime_attribute() -> None:
    page = read_page(
        "<html><head><title>Quay live | Harbour Lamp</title></head><body><main><h1>Quay live</h1>"
        '<article id="a2"><time datetime="2026-10-02T23:50:00-04:00">2 hours ago</time>'
        "<p>The night ferry has docked with every passenger on board.</p></article>"
        '<article id="a1"><time datetime="2026-10-02T21:05:00-04:00">5 hours ago</time>'
        "<p>The night ferry has left the outer harbour two hours late.</p></article>"
        "</main></body></html>",
        tz="Asia/Tokyo",  # the attributes carry their own offset: --tz is not needed
    )
    assert [p.time for p in page.posts] == [utc(2026, 10, 3, 3, 50), utc(2026, 10, 3, 1, 5)]
    assert all("ago" not in p.text for p in page.posts)
