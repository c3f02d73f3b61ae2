"""Alignment on real coverage and on translations: the fitted link score, held to what it reached.

The real events corpus (../shared/corpus/events) is read at run time and never fitted on;
the written events (fixtures/align/written) are this project's own text. These tests align
without the sentence model, as the default install does. All but the demo's test open no database
(marked `nodb`: CI's PostgreSQL pass leaves them out).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import score_here
from livedesk.align.cluster import align

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "align"))
from datetime import UTC

import corpus_events
from labelled import load_event, pairs_of, pairwise

WRITTEN = Path(__file__).resolve().parent / "fixtures" / "align" / "written"

# Reached on the real events corpus without the sentence model: 27 of 69 same pairs, 6 false
# links. CI fails when recall drops more than 0.05 below it.
REACHED_RECALL = 27 / 69
REACHED_FALSE_LINKS = 6


def _groups(posts) -> dict[str, str]:
    return {pid: d.id for d in align(posts).developments for pid in d.post_ids}


@pytest.mark.nodb
def test_events_corpus_recall_holds():
    linked = total = false = 0
    for event in corpus_events.load_events():
        found, pairs, wrong = corpus_events.score(event, _groups(event.posts))
        linked, total, false = linked + found, total + pairs, false + len(wrong)
    assert total == 69
    assert linked / total >= REACHED_RECALL - 0.05, (linked, total)
    assert false <= REACHED_FALSE_LINKS + 3, false


# With the sentence model (the `semantic` extra): 38 of 69, 9 false links, and 16 of the 32
# German-English same pairs.
REACHED_WITH_MODEL = (38 / 69, 9, 16 / 32)


@pytest.mark.nodb
def test_events_corpus_recall_holds_with_the_sentence_model():
    from livedesk.align import semantic

    embedder = semantic.load()
    if embedder is None:
        pytest.skip("the semantic extra is not installed")
    known: dict = {}
    linked = total = false = bilingual = bilingual_linked = 0
    for event in corpus_events.load_events():
        groups = {pid: d.id for d in align(event.posts, embedder=embedder, known=known).developments
                  for pid in d.post_ids}
        found, pairs, wrong = corpus_events.score(event, groups)
        linked, total, false = linked + found, total + pairs, false + len(wrong)
        de_en_linked, de_en = corpus_events.german_english(event, groups)
        bilingual_linked, bilingual = bilingual_linked + de_en_linked, bilingual + de_en
    recall, false_links, bilingual_recall = REACHED_WITH_MODEL
    assert linked / total >= recall - 0.05, (linked, total)
    assert false <= false_links + 3, false
    assert bilingual_linked / bilingual >= bilingual_recall - 0.05, (bilingual_linked, bilingual)


@pytest.mark.nodb
def test_a_german_report_and_an_english_paraphrase_join_the_english_original():
    """A held-out event (never fitted on): a German wire and an English radio paraphrase."""
    posts, gold, _ = load_event(WRITTEN / "dam_warning.json")
    found = _groups(posts)
    precision, _recall, _ = pairwise(found, gold)
    assert precision == 1.0
    linked = pairs_of(found)
    assert frozenset({"hl-2", "ab-2"}) in linked  # the evacuation, in English and in German
    assert frozenset({"hl-5", "ab-4"}) in linked  # the minister's remark, translated
    assert frozenset({"hl-2", "lr-1"}) in linked  # "about 1,200 people" / "around twelve hundred residents"


@pytest.mark.nodb
def test_figures_read_in_other_languages():
    from livedesk.align.normalize import numbers

    values = lambda text: {v for _, v in numbers(text)}  # noqa: E731
    assert {6.0, 8.0, 4_200_000.0} <= values("Sechs Taucher, acht Wochen, 4,2 Millionen Euro")
    assert {12.0, 33.0} <= values("il dodicesimo ragazzo e i trentatré minatori")
    assert {1200.0, 11.0} <= values("about 1,200 residents; the 11th boy")


@pytest.mark.nodb
def test_an_assumed_date_compares_the_clock_only():
    """Two posts minutes apart on the clock, one read with a date guessed days off."""
    from datetime import datetime

    from livedesk.model import AlignPost

    when = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)
    text = "Rescuers have reached the last of the climbers stranded on the Kessel ridge, the mountain service said."
    posts = [
        AlignPost(id="a-1", outlet="Alpine Desk", text=text, time=when),
        AlignPost(id="b-1", outlet="Valley Wire", text="Mountain service: the last stranded climbers on the Kessel ridge"
                  " have been reached by rescuers.", time=when.replace(day=9, minute=6), date_assumed=True),
    ]
    assert len(align(posts).developments) == 1
    moved = [p if p.id == "a-1" else AlignPost(**{**p.__dict__, "date_assumed": False}) for p in posts]
    assert len(align(moved).developments) == 2  # a week apart when the date is taken as stated


def test_the_demo_compare_page_opens_without_the_welcome_merge(tmp_path):
    """The demo's welcome post only says the leaders are due to meet: it is no report of the
    handshake, and the handshake's first reporter is named on times, not on a wrong merge."""
    from conftest import database_url
    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import Settings
    from livedesk.newsroom import demo
    from livedesk.newsroom.room import Newsroom
    from livedesk.store import events as event_store
    from livedesk.store.db import make_engine, run_read, upgrade

    room = Newsroom(Settings(semantic="off"), make_engine(database_url(tmp_path)), MemoryBroker())
    upgrade(room.engine)
    slug = demo.seed(room)
    event = run_read(room.engine, lambda conn: event_store.get_event(conn, slug))
    data = room.developments.recompute(event.id).to_json()
    room.close()
    posts = {p["id"]: p for p in data["posts"]}
    by_id = {d["id"]: d for d in data["developments"]}
    dev_of = {pid: d["id"] for d in data["developments"] for pid in d["post_ids"]}
    welcome = next(pid for pid, p in posts.items() if p["headline"] == "Good morning from Velmora")
    handshakes = [pid for pid, p in posts.items() if "shake hands" in (p["headline"] or "").lower()]
    assert handshakes and all(dev_of[h] != dev_of[welcome] for h in handshakes)
    assert by_id[dev_of[welcome]]["post_ids"] == [welcome]  # nor is a profile of the leaders a report of it
    handshake = by_id[dev_of[handshakes[0]]]
    assert len(handshake["outlets"]) >= 3
    assert handshake["lead_seconds"] is None or handshake["lead_seconds"] <= 120


@pytest.mark.nodb
def test_a_welcome_post_reports_no_development():
    """An opening post that greets the readers shares names and background with a profile
    piece on another page, yet neither reports something that happened: they stay apart."""
    from datetime import datetime

    from livedesk.align.normalize import is_welcome
    from livedesk.model import AlignPost

    assert is_welcome("Good evening and welcome. Ministers are due to meet at six.")
    assert is_welcome("Herzlich willkommen zu unserem Liveblog aus Kessling.")
    assert is_welcome("Benvenuti alla nostra diretta da Castrano.")
    assert is_welcome("Live coverage of the vote in Marland continues through the night.")
    assert not is_welcome("The mayor welcomed the decision to reopen the bridge.")
    when = datetime(2031, 3, 4, 9, 0, tzinfo=UTC)
    posts = [
        AlignPost(id="w-1", outlet="Harbour Courier", time=when, headline="Good morning from Tarnby",
                  text="Welcome to our live coverage. Premier Odile Varsk and Governor Jon Hallan are due to meet "
                       "in Tarnby today, their first meeting in person in five years."),
        AlignPost(id="p-1", outlet="Coast Wire", time=when.replace(minute=4), headline="Who are Varsk and Hallan?",
                  text="Odile Varsk, a former pilot, has been premier for three years. Jon Hallan became governor "
                       "last spring. Varsk and Hallan last met in person five years ago."),
        AlignPost(id="p-2", outlet="Harbour Courier", time=when.replace(hour=11),
                  text="Varsk and Hallan shake hands on the quay in Tarnby."),
        AlignPost(id="h-1", outlet="Coast Wire", time=when.replace(hour=11, minute=1),
                  text="Premier Varsk and Governor Hallan have shaken hands on the Tarnby quay."),
    ]
    found = _groups(posts)
    assert found["w-1"] not in {found["p-1"], found["p-2"], found["h-1"]}
    assert found["p-2"] == found["h-1"]


@pytest.mark.nodb
def test_a_page_read_an_hour_off_has_its_clock_settled_by_its_links():
    """A page whose date was guessed in the other half of a summer-time year reads every post
    an hour late: its links to a page with stated times put it back, and look-alike stages a
    quarter of an hour apart then pair up by time."""
    from datetime import datetime, timedelta

    from livedesk.align.cluster import page_shifts
    from livedesk.model import AlignPost

    start = datetime(2031, 7, 1, 3, 0, tzinfo=UTC)
    stages = ["first", "second", "third", "fourth"]
    stated = [AlignPost(id=f"a-{k}", outlet="Coast Wire", time=start + timedelta(minutes=15 * k),
                        text=f"The {s} of the four divers is back on the surface at the Tarn quarry.")
              for k, s in enumerate(stages)]
    late = [AlignPost(id=f"b-{k}", outlet="Valley Radio", time=start + timedelta(hours=1, minutes=15 * k + 2),
                      text=f"Tarn quarry: diver number {k + 1} of four has come up.", date_assumed=True)
            for k in range(4)]
    posts = stated + late
    i = np.repeat(np.arange(4), 4)
    j = np.tile(np.arange(4, 8), 4)
    score = np.where(i + 4 == j, 0.6, 0.3)  # each stage's own report a likelier link than the others
    assert page_shifts(posts, i, j, score) == {"Valley Radio": -3600.0}
    assert page_shifts(posts, i, j, np.full(len(i), 0.05)) == {}  # links too weak to say


@pytest.mark.nodb
def test_the_sentence_model_weighs_a_match_against_its_rivals_in_one_outlet():
    from livedesk.align.similar import MARGIN_SCALE, relative

    i = np.array([0, 0, 0])
    j = np.array([1, 2, 3])
    cosine = np.array([0.50, 0.35, 0.45])
    near = np.array([True, True, False])  # post 3 is hours away: no rival
    margin = relative(list("ABBB"), i, j, cosine, near)
    # post 0 into outlet B: 1 beats its rival 2 by 0.15; 2 trails 1; each B post has no rival into A
    assert margin[0] == 0.5 * min(1.0, 0.15 / MARGIN_SCALE)
    assert margin[1] == 0.5 * max(-1.0, -0.15 / MARGIN_SCALE)
    assert margin[2] == 0.5 * max(-1.0, (0.45 - 0.50) / MARGIN_SCALE)


@pytest.mark.nodb
def test_a_post_closest_in_time_to_another_outlets_post_stands_out_among_its_rivals():
    from datetime import datetime, timedelta

    from livedesk.align import similar
    from livedesk.align.cluster import _time_features
    from livedesk.model import AlignPost

    start = datetime(2034, 6, 1, 9, 0, tzinfo=UTC)
    posts = [AlignPost(id=pid, outlet=outlet, text="x", time=start + timedelta(minutes=minutes))
             for pid, outlet, minutes in (("a", "A", 0), ("b1", "B", 1), ("b2", "B", 9), ("c", "C", 30))]
    i, j = np.array([0, 0, 0]), np.array([1, 2, 3])
    x = _time_features(posts, {}, i, j, frozenset())
    similar.nearest_in_time([p.outlet for p in posts], i, j, x)
    nearest = x[:, similar.TIME_FEATURES.index("time_nearest")]
    assert nearest[0] > 0 > nearest[1]  # b1, a minute after a, beats b2; b2 trails it
    assert nearest[2] == 0  # C has one post, and A one: neither side has a rival to beat


# The whole path, as a user runs it: the corpus's own scorer reads each event's pages with
# `livedesk parse` rules and aligns them with `livedesk align` (run in this process: conftest.score_here). Reached: 37 of 69 same pairs
# and 9 false links with the sentence model, 27 and 6 without.
REACHED_WHOLE_PATH = {True: (37 / 69, 9), False: (27 / 69, 6)}
ALIGN_TOTAL = re.compile(r"same pairs (?P<same>[0-9]+)/(?P<total>[0-9]+) \([0-9]+%\); false links (?P<false>[0-9]+)")


@pytest.mark.nodb
def test_events_corpus_read_and_aligned_as_a_user_would():
    from livedesk.align import semantic

    output = score_here(corpus_events.SHARED / "corpus" / "score_align.py")
    totals = ALIGN_TOTAL.search(output.strip().splitlines()[-1])
    assert totals is not None, output[-500:]
    recall, false_links = REACHED_WHOLE_PATH[semantic.available() and os.environ.get("LIVEDESK_SEMANTIC") != "off"]
    assert int(totals["same"]) / int(totals["total"]) >= recall - 0.05, totals.group(0)
    assert int(totals["false"]) <= false_links + 3, totals.group(0)
