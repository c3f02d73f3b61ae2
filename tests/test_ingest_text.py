"""Plain page text in every time style the ingest layer promises to read (fictional pages)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from livedesk.ingest import ParseError
from livedesk.ingest.page import read_page
from livedesk.ingest.text import read_text

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def read(name: str, **options):
    return read_page((FIXTURES / name).read_bytes(), **options)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_dated_seconds_stamps_with_a_dateline_zone() -> None:
    page = read("dated_seconds.txt")
    assert page.title == "Floodgates close on the Orlen river as storm reaches Maravik"
    assert page.standfirst == "Engineers expect the highest water in forty years"
    assert page.published == utc(2026, 3, 3, 7, 0)  # `March 3, 9:00 UTC+2`
    assert page.outlet == "NWA"  # from the `© .../NWA` credits
    assert [p.time for p in page.posts] == [
        utc(2026, 3, 3, 14, 45, 10), utc(2026, 3, 3, 13, 2, 33), utc(2026, 3, 3, 9, 20, 5), utc(2026, 3, 3, 7, 14, 59)
    ]
    assert page.order == "newest"
    assert page.posts[1].media[0].credit == "Tove Lindqvist/NWA"
    assert page.media[0].credit == "Tove Lindqvist/NWA"
    assert page.media[0].caption.startswith("Crews worked through the night")
    for post in page.posts:
        for junk in ("Show more", "Partner News", "In other media", "Share on Facebook", "pages in this article",
                     "Weather desk", "©"):
            assert junk not in post.text


def test_own_line_am_pm_bst_with_headlines() -> None:
    page = read("ownline_bst.txt", date=date(2026, 4, 18))
    assert page.title == "Tallbridge marathon day"
    assert page.outlet == "Riverside Gazette"
    assert [p.time for p in page.posts] == [utc(2026, 4, 18, 8, 5), utc(2026, 4, 18, 7, 31), utc(2026, 4, 18, 7, 2)]
    assert [p.headline for p in page.posts] == ["Leaders reach the ten-mile mark", "Wheelchair race under way", None]
    assert page.posts[0].text.startswith("The front group of six")
    assert "Share this post" not in page.posts[1].text


def test_am_pm_at_paragraph_start_in_uk_time_under_a_date_heading() -> None:
    page = read("ampm_lead_uk.txt", date=date(2026, 6, 9))
    # June: UK time is BST, one hour ahead of UTC
    assert [p.time for p in page.posts] == [utc(2026, 6, 9, 14, 15), utc(2026, 6, 9, 11, 40), utc(2026, 6, 9, 8, 40)]
    assert page.posts[0].text.startswith("The union says")
    picket = page.posts[1].media[0]
    assert (picket.credit, picket.caption) == ("Ansel Marr", "A picket at the north gate waves to passing drivers.")
    assert "Credit" not in page.posts[1].text
    assert page.standfirst is None  # the zone note is not a standfirst


def test_24h_clock_with_colon_at_paragraph_start_takes_the_users_zone() -> None:
    page = read("colon_lead.txt", tz="Europe/Oslo", date=date(2026, 8, 12))
    assert [p.time for p in page.posts] == [utc(2026, 8, 12, 19, 5), utc(2026, 8, 12, 18, 40), utc(2026, 8, 12, 18, 12)]
    assert page.posts[0].text.startswith("The clouds over the western ridge")


def test_four_digit_times_with_the_zone_declared_in_words() -> None:
    page = read("hhmm_gmt2.txt", date=date(2026, 11, 5))
    assert [p.time for p in page.posts] == [
        utc(2026, 11, 5, 7, 15), utc(2026, 11, 5, 8, 42), utc(2026, 11, 5, 9, 30), utc(2026, 11, 5, 11, 10)
    ]
    assert page.order == "oldest"
    assert page.posts[0].text.startswith("The finance minister arrives")


def test_cet_stamp_with_author_and_outlet_lines() -> None:
    page = read("cet_author.txt", date=date(2026, 1, 20))
    assert [p.time for p in page.posts] == [utc(2026, 1, 20, 8, 12), utc(2026, 1, 20, 7, 30)]
    assert [p.author for p in page.posts] == ["Mira Kessel, Bergpost", "Jonas Amrein, Bergpost"]
    assert page.posts[0].text.startswith("Geologists flew over")
    assert "Mira Kessel" not in page.posts[0].text


def test_posts_after_midnight_under_the_previous_days_heading() -> None:
    page = read("midnight_heading.txt", tz="UTC", date=date(2026, 3, 4))
    assert [p.time for p in page.posts] == [
        utc(2026, 3, 4, 0, 20), utc(2026, 3, 4, 0, 5), utc(2026, 3, 3, 23, 48), utc(2026, 3, 3, 23, 10)
    ]


def test_newest_first_page_crossing_midnight_moves_the_date_back() -> None:
    page = read("midnight_no_heading.txt", date=date(2027, 1, 1), tz="UTC")
    assert [p.time for p in page.posts] == [
        utc(2027, 1, 1, 1, 10), utc(2027, 1, 1, 0, 2), utc(2026, 12, 31, 23, 50), utc(2026, 12, 31, 22, 15)
    ]
    assert page.posts[0].text.startswith("Crowds are leaving")  # the ` - ` after the clock is not text


def test_german_date_headings_and_zone_declaration() -> None:
    page = read("heading_german.txt")
    assert [p.time for p in page.posts] == [utc(2026, 3, 4, 6, 30), utc(2026, 3, 3, 21, 15), utc(2026, 3, 3, 17, 40)]
    assert all("März" not in p.text for p in page.posts)


def test_french_and_russian_date_headings() -> None:
    page = read("heading_french_russian.txt", tz="Europe/Paris", date=date(2026, 3, 10))
    assert [p.time for p in page.posts] == [utc(2026, 3, 3, 9, 15), utc(2026, 3, 3, 8, 5)]
    assert page.posts[1].text.startswith("Портовые краны")


def test_numbered_headline_posts_under_a_page_zone() -> None:
    page = read("numbered.txt", date=date(2026, 3, 4))
    assert [p.headline for p in page.posts] == [
        "Minister: the bridge will reopen to lorries next week",
        "Mayor: residents will be consulted on the toll",
        "Engineers publish the load test results",
    ]
    # Kyiv is UTC+2 in March; the third post has no time and keeps its place
    assert [p.time for p in page.posts] == [utc(2026, 3, 4, 7, 10), utc(2026, 3, 4, 9, 45), None]


def test_headline_posts_with_a_declared_count_key_points_video_and_link_lists() -> None:
    page = read("headlines_count.txt")
    assert page.title == "Ferry strike halts island crossings"
    assert page.outlet == "Coastline News"
    assert page.declared_post_count == 5
    assert [p.headline for p in page.posts] == [
        'Operator offers talks "within hours"',
        "Islanders turn to fishing boats",
        "Supermarket shelves thin on Solvik",
        "Brekka terminal car park full",
        "Strike begins at dawn",
    ]
    assert all(p.time is None for p in page.posts)
    assert len(page.key_points) == 2 and page.key_points[1].startswith("The operator says")
    video = next(m for m in page.media if m.kind == "video")
    assert (video.title, video.duration_s, video.source) == ("Why the ferry crews walked out", 105, "Coastline News")
    lead = next(m for m in page.media if m.kind == "image")
    assert lead.credit == "Coastline Photo/Ida Vorne" and lead.caption.startswith("Passengers wait")
    assert "Opening hours today" in page.posts[2].text  # a sub-heading inside a post stays its text
    for post in page.posts:
        for junk in ("Read more", "5 Posts", "What we're covering here", "Island schools plan", "01:45"):
            assert junk not in post.text


@pytest.mark.parametrize(
    ("text", "options", "expected"),
    [
        # 1. the stamp's own zone beats the page's declaration
        ("Pier works\n\nAll times are UK time.\n\n09:12 CET\n\nCrane arrives.\n\n08:00 CET\n\nSite opens.",
         {"outlet": "TASS", "tz": "Asia/Tokyo"}, utc(2026, 2, 2, 8, 12)),
        # 2. the page's declaration beats the outlet's known zone
        ("Pier works\n\nAll times are UK time.\n\n09:12\n\nCrane arrives.\n\n08:00\n\nSite opens.",
         {"outlet": "TASS", "tz": "Asia/Tokyo"}, utc(2026, 2, 2, 9, 12)),
        # 3. the outlet's known zone beats --tz
        ("Pier works\n\n09:12\n\nCrane arrives.\n\n08:00\n\nSite opens.",
         {"outlet": "TASS", "tz": "Asia/Tokyo"}, utc(2026, 2, 2, 6, 12)),
        # 4. --tz when nothing else says
        ("Pier works\n\n09:12\n\nCrane arrives.\n\n08:00\n\nSite opens.",
         {"outlet": "Unknown Weekly", "tz": "Asia/Tokyo"}, utc(2026, 2, 2, 0, 12)),
    ],
)
def test_zone_precedence(text: str, options: dict, expected: datetime) -> None:
    page = read_page(text, date=date(2026, 2, 2), **options)
    assert page.posts[0].time == expected


def test_outlet_flag_overrides_detection() -> None:
    assert read("ownline_bst.txt", outlet="Other Paper").outlet == "Other Paper"


def test_bylines_become_authors() -> None:
    page = read_text("Storm live\n\n10:05 GMT\n\nBy Ola Strand\n\nWind gusts reached 90 km/h.\n\n"
                     "09:40 GMT\n\nThe ferry is cancelled.", date=date(2026, 1, 5))
    assert page.posts[0].author == "Ola Strand"
    assert page.posts[0].text == "Wind gusts reached 90 km/h."


def test_text_without_posts_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        read_page("just one lonely line of text")
    with pytest.raises(ParseError):
        read_page("   \n\n  ")
    with pytest.raises(ParseError):
        read_page(b"")


def test_updated_lines_date_the_newest_post_and_never_start_posts() -> None:
    page = read("updated_notes.txt", date=date(2030, 1, 1))  # the page's own date wins
    assert (page.title, page.outlet, page.published) == ("Storm Ada hits the coast", "Westshore Echo", None)
    assert [p.time for p in page.posts] == [utc(2026, 3, 4, 0, 5), utc(2026, 3, 3, 23, 40)]
    assert [p.headline for p in page.posts] == ["Power cut in Harwick", "Trains stopped"]
    assert page.posts[0].text == "About 3,000 homes are without power."


def test_a_weekday_heading_without_a_year_finds_its_year() -> None:
    page = read("midnight_heading.txt", tz="UTC")  # no --date: `Tuesday March 3` is in 2026
    assert page.posts[-1].time == utc(2026, 3, 3, 23, 10)


def test_an_undated_page_holds_no_posts_from_hours_ahead() -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ahead, behind = now + timedelta(hours=3), now - timedelta(hours=1)
    page = read_text(f"Harbour works\n\n{ahead:%H:%M} UTC\nCranes arrive at the pier.\n\n"
                     f"{behind:%H:%M} UTC\nThe pier is closed to walkers.", outlet="Quay News")
    newest, older = (p.time for p in page.posts)
    assert newest <= now and now - newest < timedelta(hours=24)
    assert (newest - older) % timedelta(days=1) == timedelta(hours=4)


def test_an_undated_page_read_just_after_its_posts_keeps_todays_date() -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    recent, older = now - timedelta(minutes=10), now - timedelta(minutes=40)
    page = read_text(f"Harbour works\n\n{recent:%H:%M} UTC\nCranes arrive at the pier.\n\n"
                     f"{older:%H:%M} UTC\nThe pier is closed to walkers.", outlet="Quay News")
    assert [p.time for p in page.posts] == [recent, older]


def test_a_given_date_dates_the_newest_posts_of_a_page_published_the_day_before() -> None:
    # the coverage opened one morning and ran into the next afternoon; the excerpt keeps only
    # its newest posts, so the date the user gives is theirs, not the day it was published
    text = (
        "Harbour Lights live: the tunnel breakthrough\n\n"
        "Published: 9:10AM Wednesday March 3, 2027\n\n"
        "4:40PM\n\nThe last section of rock gives way and the two crews shake hands through the gap.\n\n"
        "4:05PM\n\nEngineers say the drill is less than a metre from breaking through.\n\n"
        "3:30PM\n\nThe night shift has been replaced by a fresh crew for the final push.\n"
    )
    page = read_page(text, tz="UTC", date=date(2027, 3, 4))
    assert [p.time for p in page.posts] == [utc(2027, 3, 4, 16, 40), utc(2027, 3, 4, 16, 5), utc(2027, 3, 4, 15, 30)]
