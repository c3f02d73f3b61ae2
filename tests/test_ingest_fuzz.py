"""Arbitrary text and bytes into every reader: ParseError or a page, never a crash or a hang."""

from __future__ import annotations

import signal
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livedesk.ingest import ParseError
from livedesk.ingest.feeds import read_feed, read_json_feed
from livedesk.ingest.html import read_html
from livedesk.ingest.jsonld import json_ld_blocks, parse_json_ld_document, read_json_ld
from livedesk.ingest.page import read_page
from livedesk.ingest.text import read_text
from livedesk.ingest.times import parse_date_text, parse_leading_stamp, parse_stamp_line
from livedesk.model import ParsedPage

SECONDS_PER_EXAMPLE = 10
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of live pages, so that the fuzzer reaches deep into the readers, not only their doors.
PIECES = [
    "09:12 CET", "13:37:41 25.04.2019", "9.40am:", "0915 ", "21:05: ", "Tuesday March 3", "3 марта",
    "All times are UK time.", "18 Posts", "• ", "© Ana Roe/Wire", "Read more", "Show more",
    "02:09 - Source: X", "What we're covering here", "1. ", "<p>", "</p>", "<time>", "<h2>", "\n", "\n\n",
    '<script type="application/ld+json">', "</script>", '{"@type": "LiveBlogPosting", "liveBlogUpdate": [',
    '<?xml version="1.0"?><rss version="2.0"><channel><item><title>', "</title></item></channel></rss>",
    '{"version": "https://jsonfeed.org/version/1.1", "items": [', "Minister arrives", "The talks ended.",
]
page_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=40)), max_size=60).map("".join)


@contextmanager
def time_limit(seconds: int):
    """Fail instead of hanging: SIGALRM interrupts a reader stuck in a loop."""

    def interrupt(signum, frame):
        raise TimeoutError(f"a reader ran longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def only_parse_errors(read: Callable[[], object]) -> None:
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            result = read()
        except ParseError as error:
            assert str(error) and "\n" not in str(error)
            return
    if isinstance(result, ParsedPage):
        assert result.posts
        for post in result.posts:
            assert post.time is None or post.time.utcoffset().total_seconds() == 0


@FUZZ
@given(st.binary(max_size=3000))
def test_read_page_bytes(data: bytes) -> None:
    only_parse_errors(lambda: read_page(data))


@FUZZ
@given(page_text, st.sampled_from([None, "text/html", "application/rss+xml", "text/plain", "application/json"]))
def test_read_page_text(text: str, content_type: str | None) -> None:
    only_parse_errors(lambda: read_page(text, content_type=content_type, date=date(2026, 3, 3)))


@FUZZ
@given(page_text)
def test_read_text(text: str) -> None:
    only_parse_errors(lambda: read_text(text, tz="Europe/Berlin"))


@FUZZ
@given(page_text)
def test_read_html(text: str) -> None:
    only_parse_errors(lambda: read_html("<html><body>" + text + "</body></html>"))
    only_parse_errors(lambda: read_html(text))


@FUZZ
@given(st.one_of(page_text.map(str.encode), st.binary(max_size=2000)))
def test_read_feed(data: bytes) -> None:
    only_parse_errors(lambda: read_feed(data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(["@type", "@graph", "liveBlogUpdate", "headline", "articleBody", "datePublished",
                         "image", "video", "author", "publisher", "items", "version", "duration", "name"]),
        children,
        max_size=5,
    ),
    max_leaves=20,
)


@FUZZ
@given(json_values)
def test_json_readers(value: object) -> None:
    only_parse_errors(lambda: read_json_ld([value]) or (_ for _ in ()).throw(ParseError("no live blog")))
    if isinstance(value, dict):
        only_parse_errors(lambda: read_json_feed(value))


@FUZZ
@given(page_text)
def test_json_ld_blocks_and_documents(text: str) -> None:
    with time_limit(SECONDS_PER_EXAMPLE):
        assert isinstance(json_ld_blocks(text), list)
    only_parse_errors(lambda: parse_json_ld_document(text))


@FUZZ
@given(st.text(max_size=80))
def test_time_pieces(text: str) -> None:
    with time_limit(SECONDS_PER_EXAMPLE):
        parse_stamp_line(text)
        parse_leading_stamp(text)
        parse_date_text(text)


@pytest.mark.parametrize(
    "nasty",
    [
        "<" * 5000,
        "<div>" * 3000,
        "[" * 5000,
        '{"a":' * 3000,
        "09:12\n\n" * 3000,
        "1. A\n\n" * 2000,
        "\x00\x01\x02" * 1000,
        "Edge of the calendar\n\n23:30:00 31.12.9999\n\nLast.\n\n00:10:00 31.12.9999\n\nFirst.\n\n23:00 UTC-12\n\nX.",
        "Start of the calendar\n\n00:10:00 01.01.0001\n\nFirst.\n\n23:30\n\nEarlier.\n\n00:05 UTC+14\n\nY.",
    ],
)
def test_pathological_inputs(nasty: str) -> None:
    only_parse_errors(lambda: read_page(nasty))
    only_parse_errors(lambda: read_page(nasty.encode()))
