"""Every stamp, date and zone family live pages use, on small invented pages."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from livedesk.ingest.language import language_of
from livedesk.ingest.outlet import outlet_zone
from livedesk.ingest.text import read_text
from livedesk.ingest.times import dates_in, find_zone_declaration, parse_leading_stamp, parse_stamp_line


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("paragraph", "clock", "rest"),
    [
        ("+++ 16.40 Uhr: Fähre legt wieder an +++", (16, 40), "Fähre legt wieder an"),
        ("7.05 Uhr: Brücke bleibt gesperrt", (7, 5), "Brücke bleibt gesperrt"),
        ("● 18:58 | Pochód dotarł pod ratusz.", (18, 58), "Pochód dotarł pod ratusz."),
        ("TSİ 23:00 - Sandıklar kapandı.", (23, 0), "Sandıklar kapandı."),
        ("21.12 мск Явка превысила 40%.", (21, 12), "Явка превысила 40%."),
        ("14h05 Le cortège arrive place du Marché.", (14, 5), "Le cortège arrive place du Marché."),
        ("5h37 – A ponte foi reaberta.", (5, 37), "A ponte foi reaberta."),
        ("20 heures 45 : le maire prend la parole", (20, 45), "le maire prend la parole"),
        ("19 heures : les bureaux ferment", (19, 0), "les bureaux ferment"),
        ("00,39: Proiezione al 60% del campione.", (0, 39), "Proiezione al 60% del campione."),
        ("22:54 hs | Se conocen los primeros datos.", (22, 54), "Se conocen los primeros datos."),
        ("Update 10:30: Raad komt bijeen", (10, 30), "Raad komt bijeen"),
        ("21:07And that is all from the courts today.", (21, 7), "And that is all from the courts today."),
        ("11:50 AM: The mayor arrives at the pier.", (11, 50), "The mayor arrives at the pier."),
        ("4:37am: 78 mins - Harbour 2 Quay 1", (4, 37), "78 mins - Harbour 2 Quay 1"),
        ("0130 GMT — Second ferry reaches port", (1, 30), "Second ferry reaches port"),
    ],
)
def test_leading_stamp_forms(paragraph: str, clock: tuple[int, int], rest: str) -> None:
    stamp = parse_leading_stamp(paragraph)
    assert stamp is not None
    assert (stamp.hour, stamp.minute) == clock
    assert stamp.rest == rest


def test_zones_written_in_the_stamp() -> None:
    turkish = parse_leading_stamp("TSİ 21:40 - Sonuçlar geliyor.")
    moscow = parse_leading_stamp("20.48 мск Участки закрылись.")
    eastern = parse_leading_stamp("6:07 EDT: Winds pick up on the shore.")
    assert turkish is not None and turkish.zone is not None
    assert moscow is not None and moscow.zone is not None
    assert eastern is not None and eastern.zone is not None
    assert datetime(2014, 9, 14, 21, 12, tzinfo=moscow.zone).utcoffset().total_seconds() == 4 * 3600  # MSK+1 then
    assert datetime(2019, 6, 23, 21, 40, tzinfo=turkish.zone).utcoffset().total_seconds() == 3 * 3600
    # a US region named after the clock, then a separator: the zone, not the post's first word
    pacific = parse_leading_stamp("10:42AM Pacific: The new phone is thinner than the last one.")
    assert pacific is not None and pacific.zone is not None and pacific.rest.startswith("The new phone")
    assert datetime(2031, 6, 9, 10, 42, tzinfo=pacific.zone).utcoffset().total_seconds() == -7 * 3600
    # with no separator after it, the word is the post's own
    bank = parse_leading_stamp("10:30 Central bank leaves its rates unchanged.")
    assert bank is not None and bank.zone is None and bank.rest.startswith("Central bank")


@pytest.mark.parametrize(
    ("line", "clock", "day"),
    [
        ("UPDATE: 10/29/12 5:30 PM ET", (17, 30), date(2012, 10, 29)),
        ("UPDATED Tuesday, April 23, 2013 --- 12:02 p.m.", (12, 2), (4, 23, 2013)),
        ("10:26 p.m. EDT | Sept. 1, 2005 | permalink", (22, 26), (9, 1, 2005)),
        ("** 10th update, Mon. August 29th, 4:00 pm CDT **", (16, 0), (8, 29, None)),
        ("5/21/2022 9:38:14 AM", (9, 38), date(2022, 5, 21)),
        ("Aug 21, 2023 07:43 IST", (7, 43), (8, 21, 2023)),
        ("/ Màj. le 14 nov. 2015 à 23:09", (23, 9), (11, 14, 2015)),
        ("5:50 p.m. ET, September 12, 2022", (17, 50), (9, 12, 2022)),
    ],
)
def test_stamp_lines_with_dates(line: str, clock: tuple[int, int], day: object) -> None:
    stamp = parse_stamp_line(line)
    assert stamp is not None
    assert (stamp.hour, stamp.minute) == clock
    found = stamp.date
    if isinstance(day, tuple):
        assert found is not None and not isinstance(found, date)
        assert (found.month, found.day, found.year) == day
    else:
        assert found == day


def test_dates_written_out_in_text() -> None:
    assert [(d.day, d.month, d.year) for d in dates_in("Harbour live blog - Thursday 6 May 2010")] == [(6, 5, 2010)]
    assert [(d.day, d.month, d.year) for d in dates_in("Kaimauer, 02.07.2016. Einsatz")] == [(2, 7, 2016)]
    last = dates_in("Page last updated at 12:04 GMT, Thursday, 2 April 2009")
    assert [(d.day, d.month, d.year) for d in last] == [(2, 4, 2009)]


@pytest.mark.parametrize(
    ("statement", "offset_hours"),
    [
        ("Follow the count here (all times GMT+1)", 1),
        ("All times are in BST.", 1),
        ("Urnas fecharam às 17h, horário de Brasília.", -3),
        ("Saturday, May 2 (Tokyo time)", 9),
    ],
)
def test_zone_statements(statement: str, offset_hours: int) -> None:
    zone = find_zone_declaration(statement)
    assert zone is not None
    assert datetime(2026, 5, 2, 12, 0, tzinfo=zone).utcoffset().total_seconds() == offset_hours * 3600


def test_home_zones_from_domain_and_language() -> None:
    assert str(outlet_zone("kuestenbote.de")) == "Europe/Berlin"
    assert str(outlet_zone("Harbour Times", url="https://www.harbourtimes.co.uk/live")) == "Europe/London"
    assert outlet_zone("Harbour Times") is None
    assert language_of("Die Fähre hat am Morgen wieder angelegt, und der Hafen ist nicht mehr gesperrt. Das sagt die Stadt.") == "de"
    assert language_of("La mairie a rouvert le port et les ferries sont de retour pour la saison.") == "fr"


def test_eastern_time_in_august_is_daylight_time() -> None:
    page = read_text(
        "Storm watch live\n\nAll times are ET.\n\n"
        "9:15 p.m. Ferries stay in port overnight, the harbour office says.\n\n"
        "8:40 p.m. The first gusts reach the outer pier.\n",
        date=date(2026, 8, 20),
    )
    assert [p.time for p in page.posts] == [utc(2026, 8, 21, 1, 15), utc(2026, 8, 21, 0, 40)]
    assert (page.zone_source, page.date_source) == ("page", "option")


def test_german_page_without_zone_reads_berlin_time_and_title_date() -> None:
    page = read_text(
        "Liveticker Hafenfest - Samstag, 4. Juli 2026\n\n"
        "+++ 16.40 Uhr: Die letzte Fähre legt an +++\n"
        "Die Besatzung winkt den Gästen am Kai zu, und der Hafenmeister ist zufrieden.\n"
        "+++ 15.05 Uhr: Regen setzt ein +++\n"
        "Viele Gäste suchen Schutz unter den Zelten, die Musik spielt aber weiter.\n"
    )
    assert [p.time for p in page.posts] == [utc(2026, 7, 4, 14, 40), utc(2026, 7, 4, 13, 5)]
    assert (page.zone_source, page.date_source) == ("outlet", "page")


def test_midnight_crossing_after_the_page_date() -> None:
    page = read_text(
        "Harbour vote: live\n\nNieuws 3 maart 2026\n\n"
        "Update 08:00: Telling afgerond\nDe laatste stembus is geteld in de haven.\n\n"
        "Update 23:10: Eerste uitslag\nDe eerste cijfers komen binnen uit de kustdorpen.\n",
        tz="Europe/Amsterdam",
    )
    assert [p.time for p in page.posts] == [utc(2026, 3, 4, 7, 0), utc(2026, 3, 3, 22, 10)]


def test_diary_times_inside_a_post_are_not_posts() -> None:
    page = read_text(
        "Council live - Monday 9 March 2026\n\n"
        "8.40am: Good morning. Here is the diary for today.\n\n"
        "10am: The harbour committee meets.\n\n"
        "3.30pm: Councillors debate the ferry budget.\n\n"
        "8.55am: The committee agenda has been published.\n\n"
        "9.20am: The first speaker is the harbour master.\n",
        tz="Europe/London",
    )
    assert [p.time for p in page.posts] == [utc(2026, 3, 9, 8, 40), utc(2026, 3, 9, 8, 55), utc(2026, 3, 9, 9, 20)]
    assert "committee meets" in page.posts[0].text


def test_stamps_that_close_their_posts() -> None:
    page = read_text(
        "Regatta live\n\n"
        "Boats leave the harbour\n\nThe fleet set off in light winds from the inner quay.\n\n"
        "9:45 p.m. EDT | June 3, 2026 | permalink\n\n"
        "Crowds on the pier\n\nHundreds watched from the pier as the boats turned.\n\n"
        "9:20 p.m. EDT | June 3, 2026 | permalink\n"
    )
    assert [p.headline for p in page.posts] == ["Boats leave the harbour", "Crowds on the pier"]
    assert [p.time for p in page.posts] == [utc(2026, 6, 4, 1, 45), utc(2026, 6, 4, 1, 20)]
    assert page.zone_source == page.date_source == "stamp"


def test_bullets_with_a_stamp_under_some_of_them() -> None:
    page = read_text(
        "Budget day live\n\n"
        "  • The minister opens with a joke about the harbour\n"
        "  • Ferry fares will be frozen for two years.\n"
        "    3/24/2026 12:46:56 PM\n"
        "  • Reader: will the pier be repaired? #budget\n"
        "  • Pier repairs get 4 million.\n"
        "    3/24/2026 12:48:10 PM\n"
    )
    assert [p.text[:20] for p in page.posts] == [
        "The minister opens w", "Ferry fares will be ", "Reader: will the pie", "Pier repairs get 4 m"
    ]
    assert [p.time for p in page.posts] == [None, utc(2026, 3, 24, 12, 46, 56), None, utc(2026, 3, 24, 12, 48, 10)]


def test_laps_are_order_not_time() -> None:
    page = read_text(
        "Harbour Grand Prix live\nThe race is under way.\n"
        "LAP 12/40\nThe leader pits for new tyres.\n"
        "CRASH\nA car hits the wall at the hairpin.\n"
        "LAP 3/40\nThe field is still close together after a lap time of 1:31:20.\n"
    )
    assert [p.headline for p in page.posts] == ["LAP 12/40", "CRASH", "LAP 3/40"]
    assert all(p.time is None for p in page.posts)


def test_parse_warns_once_when_zone_and_date_were_assumed(tmp_path: Path) -> None:
    page = tmp_path / "page.txt"
    page.write_text(
        "Harbour live\n\n3:37 p.m.\n\nThe ferry is back in service.\n\n2:40 p.m.\n\nThe ferry is delayed again.\n"
    )
    livedesk = str(Path(sys.executable).parent / "livedesk")
    shown = subprocess.run([livedesk, "parse", str(page)], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0
    warnings = [line for line in shown.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "--tz" in warnings[0] and "--date" in warnings[0]
    fixed = subprocess.run(
        [livedesk, "parse", str(page), "--tz", "America/Chicago", "--date", "2026-03-05", "--json"],
        capture_output=True, text=True, timeout=120,
    )
    assert '"zone_source": "option"' in fixed.stdout and '"date_source": "option"' in fixed.stdout
    assert "warning" not in fixed.stderr
