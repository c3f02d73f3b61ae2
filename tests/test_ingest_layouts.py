"""Page layouts of real live pages, on small pages written for these tests: where posts start,
what their headline is, and which lines are page furniture."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from livedesk.ingest.page import read_page
from livedesk.ingest.text import read_text
from livedesk.ingest.times import dates_in, parse_stamp_line

LAYOUTS = Path(__file__).parent / "fixtures" / "ingest" / "layouts"


def read(name: str, **options: object):
    return read_text((LAYOUTS / name).read_text(), **options)  # type: ignore[arg-type]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_headline_glued_to_its_published_stamp() -> None:
    page = read("titled_stamps.txt")
    assert [p.headline for p in page.posts] == ["That is all for tonight", "Where is the road still shut?"]
    assert [p.time for p in page.posts] == [utc(2026, 11, 3, 21, 10), utc(2026, 11, 3, 20, 52)]
    second = page.posts[1]
    assert second.text == "The road stays shut between the two harbours until the morning crews arrive."
    assert [(m.caption, m.credit) for m in second.media] == [
        ("Workers clear a fallen oak on the coast road near the lighthouse.", "Harbour Press")
    ]


def test_untimed_entries_under_banner_headlines() -> None:
    page = read("banner_headlines.txt")
    assert [p.headline for p in page.posts] == [
        "Bürgermeisterin dankt den Helfern", "Erste Fähre legt ab", "Wetterdienst hebt Warnung auf",
    ]
    assert page.posts[1].text == "Die erste Fähre des Tages verlässt den Hafen mit zwanzig Minuten Verspätung."


def test_headline_above_a_lead_stamp_belongs_to_that_post() -> None:
    page = read("headed_lead_stamps.txt", tz="UTC", date=date(2026, 7, 4))
    timed = [p for p in page.posts if p.time is not None]
    assert [p.headline for p in timed] == ["Confirmed: harbour open", "Confirmed: last ferry docked", "Update: pilots back on duty"]
    assert [p.time for p in timed] == [utc(2026, 7, 4, 21, 41), utc(2026, 7, 4, 21, 12), utc(2026, 7, 4, 20, 55)]
    assert timed[1].text.startswith("The last ferry of the night has docked")
    assert all("Confirmed: last ferry docked" not in p.text for p in page.posts)
    # the unstamped entry under a headline of its own is a post, not the end of the one above
    assert [p.headline for p in page.posts if p.time is None] == ["How the breakwater held"]
    assert timed[0].text == "The harbour master has reopened the port, his office confirmed."


def test_one_undated_stamp_at_the_top_is_a_post() -> None:
    page = read("single_post.txt", tz="America/Los_Angeles", date=date(2026, 6, 7))
    assert len(page.posts) == 1
    assert page.posts[0].time == utc(2026, 6, 7, 17, 5, 12)
    assert page.posts[0].text.startswith("Item 3: the new pier.")


def test_banner_stamps_without_separator_or_capital() -> None:
    page = read("banner_stamps.txt", date=date(2026, 7, 4))
    assert [p.time for p in page.posts] == [utc(2026, 7, 4, 20, 0), utc(2026, 7, 4, 19, 35), utc(2026, 7, 4, 19, 10)]
    assert page.posts[0].text.startswith("hafenblatt.de beendet den Liveticker")
    assert page.posts[1].text == "Das Feuerwerk beginnt mit zehn Minuten Verspätung."


def test_first_stamp_with_its_date_dates_the_page() -> None:
    page = read("dated_first_stamp.txt")
    assert [p.time for p in page.posts] == [utc(2026, 7, 5, 1, 27), utc(2026, 7, 5, 0, 50), utc(2026, 7, 5, 0, 15)]
    assert page.posts[0].text == "Fireworks light up the bay as the festival ends."


def test_relative_stamps_start_posts_and_furniture_stays_out() -> None:
    page = read("relative_furniture.txt")
    assert [p.headline for p in page.posts] == [
        "The storm is less than 30 miles from the harbour", "Ferries stay in port for the night",
    ]
    assert all(p.time is None for p in page.posts)  # when the page was read is unknown
    first, second = page.posts
    text = first.text + second.text
    for furniture in ("Jon Vale/Harbour Press", "e-mail sent in by reader", "Update", "Coast Radio", "Saturday evening"):
        assert furniture not in text
    assert [(m.caption, m.credit) for m in first.media] == [
        ("Waves break over the outer pier as the storm nears the harbour on Saturday evening.", "Jon Vale/Harbour Press")
    ]
    assert "Residents along the seafront" in first.text
    assert second.author == "Mira Kessel"
    assert [m.credit for m in second.media] == ["Coast Radio: Sam Poe"]
    assert second.text == "All evening ferries are cancelled, the ferry company said."


def test_zone_from_the_masthead_place_and_a_drawn_line_between_wire_stories() -> None:
    page = read("masthead_place.txt")
    assert [p.time for p in page.posts] == [utc(2026, 5, 8, 20, 15), None, utc(2026, 5, 8, 18, 40)]
    assert page.zone_source == "outlet"
    assert page.posts[1].text == "CINCINNATI (AP) -- The river is expected to crest below flood stage on Sunday."
    assert all("____" not in p.text for p in page.posts)


def test_zone_from_the_country_a_page_names_at_its_top() -> None:
    page = read("country_place.txt", date=date(2026, 1, 11))
    assert [p.time for p in page.posts] == [utc(2026, 1, 12, 1, 10), utc(2026, 1, 12, 0, 45)]  # Santiago in summer: UTC-3
    assert page.zone_source == "outlet"


def test_zone_from_the_outlet_a_staff_photographer_works_for() -> None:
    page = read("staff_credit.txt")
    assert page.outlet == "Guardian"
    assert page.title == "Council live blog - Tuesday 3 March 2026"
    assert [p.time for p in page.posts] == [utc(2026, 3, 3, 9, 10), utc(2026, 3, 3, 8, 45)]
    assert page.zone_source == "outlet"


def test_page_without_place_or_zone_is_assumed_utc() -> None:
    page = read_text("Harbour live\n\n10:05 Crews arrive at the pier.\n\n09:40 The tide turns.\n", date=date(2026, 3, 3))
    assert page.zone_source == "assumed"


def test_zone_from_the_domain_the_page_was_read_from() -> None:
    text = b"Final live\n\n4:37am: Harbour 2 Quay 1, and the keeper saves again.\n\n4:30am: Kick-off in the final.\n"
    page = read_page(text, url="https://www.harbourtimes.co.nz/sport/final-live", date=date(2026, 7, 16))
    assert page.zone_source == "outlet"
    assert [p.time for p in page.posts] == [utc(2026, 7, 15, 16, 37), utc(2026, 7, 15, 16, 30)]  # NZST: UTC+12


def test_month_names_of_other_languages_date_the_page() -> None:
    page = read_text(
        "date 2026-06 TSİ 22:10 - Belediye önünde kutlamalar sürüyor.\n\n"
        "TSİ 21:40 - Başkan, 14 Haziran akşamı sonuçları değerlendirdi.\n"
    )
    assert [p.time for p in page.posts] == [utc(2026, 6, 14, 19, 10), utc(2026, 6, 14, 18, 40)]
    assert [(d.day, d.month, d.year) for d in dates_in("Warszawa, 11 stycznia 2026. Pochód")] == [(11, 1, 2026)]
    assert dates_in("2 out of 3 ferries sailed, 40 min ago") == []


def test_json_ld_times_without_offset_take_the_zone_the_page_states() -> None:
    html = """<!doctype html><html lang="en"><head><title>Regatta live</title>
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "LiveBlogPosting",
 "headline": "Regatta live", "liveBlogUpdate": [
  {"@type": "BlogPosting", "headline": "Last race starts", "datePublished": "2026-07-04T15:20:00",
   "articleBody": "The last race of the regatta is under way."},
  {"@type": "BlogPosting", "headline": "Wind drops", "datePublished": "2026-07-04T14:05:00",
   "articleBody": "The wind has dropped and the start is delayed."}]}</script></head>
<body><h1>Regatta live</h1><p>All times are BST.</p><article><h2>Last race starts</h2>
<p>The last race of the regatta is under way.</p></article></body></html>"""
    page = read_page(html.encode(), content_type="text/html")
    assert page.zone_source == "page"
    assert [p.time for p in page.posts] == [utc(2026, 7, 4, 14, 20), utc(2026, 7, 4, 13, 5)]


def test_a_twelve_hour_stamp_without_am_pm_follows_its_neighbours() -> None:
    page = read_text(
        "Storm live\n\n7:10 p.m. EDT: The harbour lights go out.\n\n6:45 p.m. EDT: Gusts reach the pier.\n\n"
        "6:07 EDT: Ferries are told to stay in port.\n\n5:30 p.m. EDT: The first rain bands arrive.\n",
        date=date(2026, 8, 20),
    )
    assert [p.time for p in page.posts] == [
        utc(2026, 8, 20, 23, 10), utc(2026, 8, 20, 22, 45), utc(2026, 8, 20, 22, 7), utc(2026, 8, 20, 21, 30),
    ]


def test_a_lone_place_name_under_a_post_is_a_picture_caption() -> None:
    page = read_text(
        "TSİ 22:10 - Kutlamalar sürüyor.\n\nBaşkanın yarın başkente gitmesi bekleniyor.\n\n\n\nBeylikdüzü\n\n"
        "TSİ 21:40 - Sonuçlar geliyor.\n",
        date=date(2026, 6, 14),
    )
    assert page.posts[0].text == "Kutlamalar sürüyor.\n\nBaşkanın yarın başkente gitmesi bekleniyor."
    assert [m.caption for m in page.posts[0].media] == ["Beylikdüzü"]


def test_zone_written_after_times_in_the_prose() -> None:
    page = read_text(
        "Storm live\n\n9:15 p.m. The ferry office says boats resume at 7 a.m. ET tomorrow.\n\n"
        "8:40 p.m. Gusts reached 60 mph at the pier, three CT scans were done at the clinic.\n",
        date=date(2026, 8, 20),
    )
    assert page.zone_source == "page"
    assert [p.time for p in page.posts] == [utc(2026, 8, 21, 1, 15), utc(2026, 8, 21, 0, 40)]


def test_a_last_updated_note_dates_the_top_posts_of_a_newest_first_page() -> None:
    page = read("published_and_updated.txt", tz="UTC")
    assert [p.time for p in page.posts] == [utc(2025, 10, 5, 20, 41), utc(2025, 10, 5, 20, 10)]
    assert page.published == utc(2025, 10, 3, 10, 5)


def test_published_and_updated_notes_in_other_languages() -> None:
    for line, day in [
        ("Pubblicato il 13 Ottobre 2026 - 08:11", (10, 13, 2026)),
        ("Actualizado el 5 de mayo de 2026, 10:32", (5, 5, 2026)),
        ("Veröffentlicht am 3. März 2026, 09:15 Uhr", (3, 3, 2026)),
    ]:
        stamp = parse_stamp_line(line)
        assert stamp is not None and stamp.style.startswith("updated|")
        assert stamp.date is not None and (stamp.date.month, stamp.date.day, stamp.date.year) == day


def test_an_update_stamp_on_its_own_line_with_a_colon_opens_a_post() -> None:
    page = read_text(
        "UPDATE 2:52 p.m.: The ferry office says boats resume at dawn.\n"
        "______________________________\n"
        "UPDATE 2:30 p.m.: Gusts reach the outer pier.\n"
        "______________________________\n"
        "UPDATE 2:06 p.m.:\n"
        ".@harbourmaster says the pier is closed until further notice.\n"
        "______________________________\n",
        tz="UTC", date=date(2026, 1, 6),
    )
    assert [p.time for p in page.posts] == [utc(2026, 1, 6, 14, 52), utc(2026, 1, 6, 14, 30), utc(2026, 1, 6, 14, 6)]
    assert page.posts[2].text == ".@harbourmaster says the pier is closed until further notice."


def test_an_updated_note_without_a_clock_dates_the_newest_posts() -> None:
    page = read_text(
        "Porto, la notte della regata\n\n"
        "Pubblicato il 13 Ottobre 2026 - 08:11| Aggiornato il 14 Ottobre 2026\n\n"
        "La regata si chiude dopo una lunga notte in mare.\n\n"
        "05:34 - Rientrano in porto anche le ultime barche.\n\n"
        "05:12 - La giuria conferma il vincitore.\n",
        tz="Europe/Rome",
    )
    assert [p.time for p in page.posts] == [utc(2026, 10, 14, 3, 34), utc(2026, 10, 14, 3, 12)]


def test_bare_stamps_below_a_pm_stamp_are_afternoon_ones() -> None:
    page = read_text(
        "All times below are EDT.\n\n"
        "4:41 p.m. EDT: The keynote ends with a short film.\n\n"
        "4:36: The new tablet costs $499 and ships in May.\n\n"
        "4:20: A second speaker shows the camera.\n",
        tz="America/New_York", date=date(2026, 3, 10),
    )
    assert [p.time for p in page.posts] == [utc(2026, 3, 10, 20, 41), utc(2026, 3, 10, 20, 36), utc(2026, 3, 10, 20, 20)]


def test_a_twelve_midnight_stamp_below_published_and_updated_notes() -> None:
    page = read_text(
        "Harbour strike enters its second day\n"
        "Published: Mar 4, 2026 7:25 AM\n"
        "·\n"
        "Updated: Mar 4, 2026 5:17 PM\n\n"
        "Follow our live coverage below:\n\n"
        "Union calls off the night shift\n\n"
        "12midnight: The union says no crane will move before the talks resume.\n\n"
        "The port authority has not answered.\n",
        tz="Asia/Kuala_Lumpur",
    )
    assert len(page.posts) == 1
    post = page.posts[0]
    assert post.headline == "Union calls off the night shift"
    assert post.time == utc(2026, 3, 3, 16, 0)
    assert post.text.startswith("The union says no crane will move")


def test_a_weekday_before_each_stamp() -> None:
    page = read_text(
        "Liveblog zur Sturmflut\n\n"
        "Dienstag, 13.57 Uhr: Deich bei Nordhafen hält\n\n"
        "Die Feuerwehr meldet keine neuen Schäden.\n\n"
        "Dienstag, 12.46 Uhr: Fähren fahren wieder\n\n"
        "Die erste Fähre hat den Hafen verlassen.\n",
        tz="Europe/Berlin", date=date(2026, 2, 17),
    )
    assert [p.time for p in page.posts] == [utc(2026, 2, 17, 12, 57), utc(2026, 2, 17, 11, 46)]


def test_a_date_without_a_year_is_an_assumed_date() -> None:
    page = read_text(
        "+++ 18. Juli, 16:06 Uhr +++\n\nDie Regierung fordert eine Waffenruhe.\n\n"
        "+++ 18. Juli, 15:40 Uhr +++\n\nDer Flughafen bleibt geschlossen.\n",
        tz="Europe/Berlin",
    )
    assert [(p.time.month, p.time.day) for p in page.posts if p.time] == [(7, 18), (7, 18)]
    assert page.date_source == "assumed"


def test_a_stamp_with_a_space_after_its_colon() -> None:
    page = read_text(
        "The count is nearly done.\n"
        "5:45am BST: The prime minister congratulates the winning side.\n"
        "5: 30 am BST: Forecasters now expect a 55 to 45 result.\n"
        "5: 25 am BST: The losing side concedes.\n",
        tz="Europe/London", date=date(2026, 9, 19),
    )
    assert [p.time for p in page.posts] == [utc(2026, 9, 19, 4, 45), utc(2026, 9, 19, 4, 30), utc(2026, 9, 19, 4, 25)]
