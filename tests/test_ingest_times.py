"""Clock strings, zones, date headings and date resolution."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from livedesk.ingest.times import (
    DayMonth,
    PostClock,
    find_zone_declaration,
    parse_date_text,
    parse_leading_stamp,
    parse_stamp_line,
    resolve,
    zone_from_name,
)


@pytest.mark.parametrize(
    ("line", "clock", "day", "offset_h"),
    [
        ("13:37:41 25.04.2019", (13, 37, 41), date(2019, 4, 25), None),
        ("9.05am BST", (9, 5, 0), None, 1),
        ("12.10am", (0, 10, 0), None, None),
        ("12.30pm GMT", (12, 30, 0), None, 0),
        ("09:12 CET", (9, 12, 0), None, 1),
        ("14.05 Uhr", (14, 5, 0), None, None),
        ("4/25/2019 6:00 p.m. EDT", (18, 0, 0), date(2019, 4, 25), -4),
        ("2026-03-04 10:00 UTC+5:30", (10, 0, 0), date(2026, 3, 4), 5.5),
    ],
)
def test_stamp_lines(line: str, clock: tuple, day: date | None, offset_h: float | None) -> None:
    stamp = parse_stamp_line(line)
    assert (stamp.hour, stamp.minute, stamp.second) == clock
    assert stamp.date == day
    if offset_h is None:
        assert stamp.zone is None
    else:
        assert stamp.zone.utcoffset(None) == timedelta(hours=offset_h)


def test_dateline_with_a_text_date() -> None:
    stamp = parse_stamp_line("April 25, 6:00 UTC+3")
    assert stamp.date == DayMonth(4, 25) and stamp.zone.utcoffset(None) == timedelta(hours=3)
    assert parse_stamp_line("Updated 10:41 GMT, 4 March 2026").date == DayMonth(3, 4, 2026)


@pytest.mark.parametrize("line", ["2019", "25.04.2019", "24:10", "The 09:12 train left", "13:61", "Tuesday"])
def test_not_stamp_lines(line: str) -> None:
    assert parse_stamp_line(line) is None


@pytest.mark.parametrize(
    ("paragraph", "clock", "rest"),
    [
        ("9.40am: The minister arrives.", (9, 40), "The minister arrives."),
        ("3.15pm: Talks resume.", (15, 15), "Talks resume."),
        ("21:05: The count begins.", (21, 5), "The count begins."),
        ("0915 The minister arrives.", (9, 15), "The minister arrives."),
        ("0915 UN observers arrive.", (9, 15), "UN observers arrive."),
        ("21:05 - Gates close.", (21, 5), "Gates close."),
    ],
)
def test_leading_stamps(paragraph: str, clock: tuple, rest: str) -> None:
    stamp = parse_leading_stamp(paragraph)
    assert (stamp.hour, stamp.minute, stamp.rest) == (*clock, rest)


@pytest.mark.parametrize("paragraph", ["2019 was a long year.", "1999 people came.", "9.40 percent rise", "10:30 is late"])
def test_not_leading_stamps(paragraph: str) -> None:
    assert parse_leading_stamp(paragraph) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tuesday March 3", DayMonth(3, 3, None, 1)),
        ("Tuesday, March 3, 2026", DayMonth(3, 3, 2026, 1)),
        ("Dienstag, 3. März", DayMonth(3, 3, None, 1)),
        ("mardi 3 mars", DayMonth(3, 3, None, 1)),
        ("martes 3 de marzo de 2026", DayMonth(3, 3, 2026, 1)),
        ("вторник, 3 марта", DayMonth(3, 3, None, 1)),
        ("3 March", DayMonth(3, 3)),
        ("3 марта 2026 года", DayMonth(3, 3, 2026)),
        ("2026-03-03", DayMonth(3, 3, 2026)),
    ],
)
def test_date_headings(text: str, expected: DayMonth) -> None:
    assert parse_date_text(text) == expected


def test_a_named_weekday_gives_the_year() -> None:
    assert parse_date_text("Thursday April 25").likely_year(2020) == 2019
    assert parse_date_text("Tuesday March 3").likely_year(2029) == 2026
    assert parse_date_text("March 3").likely_year(2029) is None


@pytest.mark.parametrize("text", ["Tuesday", "March", "The March 3 rally", "February 30", "March 3 and 4"])
def test_not_date_headings(text: str) -> None:
    assert parse_date_text(text) is None


@pytest.mark.parametrize(
    ("text", "offset_on_june_1"),
    [
        ("All times are UK time.", 1),
        ("Times in GMT+2", 2),
        ("all times shown in CET", 1),
        ("Alle Zeiten in MEZ", 1),
        ("All times are Moscow time (UTC+3).", 3),
    ],
)
def test_zone_declarations(text: str, offset_on_june_1: int | None) -> None:
    zone = find_zone_declaration(text)
    if offset_on_june_1 is None:
        assert zone is None
    else:
        assert datetime(2026, 6, 1, tzinfo=zone).utcoffset() == timedelta(hours=offset_on_june_1)


def test_zone_names() -> None:
    assert zone_from_name("UTC-3:30").utcoffset(None) == timedelta(hours=-3.5)
    assert zone_from_name("Europe/Kyiv") is not None
    assert zone_from_name("Mars/Olympus") is None
    assert zone_from_name("UTC+25") is None


def clocks(*texts: str, heading: DayMonth | None = None) -> list[PostClock]:
    return [PostClock(parse_stamp_line(t), heading) for t in texts]


def test_resolve_newest_first_from_an_end_date() -> None:
    times, order = resolve(clocks("00:30", "23:40", "22:00"), zone=UTC, year=2026, end=date(2026, 1, 1))
    assert order == "newest"
    assert [t.isoformat() for t in times] == [
        "2026-01-01T00:30:00+00:00", "2025-12-31T23:40:00+00:00", "2025-12-31T22:00:00+00:00"
    ]


def test_resolve_oldest_first_from_a_start_date() -> None:
    times, order = resolve(clocks("22:00", "23:40", "00:30"), zone=UTC, year=2026, start=date(2026, 3, 3))
    assert order == "oldest"
    assert [t.day for t in times] == [3, 3, 4]


def test_resolve_keeps_untimed_posts_in_place() -> None:
    items = [PostClock(parse_stamp_line("10:00")), None, PostClock(parse_stamp_line("09:00"))]
    times, _ = resolve(items, zone=UTC, year=2026, end=date(2026, 5, 5))
    assert times[1] is None and times[0] > times[2]
