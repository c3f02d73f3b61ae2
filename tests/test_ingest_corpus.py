"""The labelled corpus of real live pages: reading them must not get worse.

Runs the corpus's own scorer (which calls `livedesk parse` on every page) blind and with hints,
and fails when blind F1, blind clock or hinted exact-UTC share drops more than 0.02 below what
was reached. The multi-outlet event pages must give every post their labels name.

The scorer's commands run through livedesk's own command line in this process (its arguments,
output and exit code as a `livedesk` process gives them): a process per page would start Python
and import livedesk 64 times for what tests/test_cli.py and tests/test_hostile_input.py check of
the `parse` process itself.
"""

from __future__ import annotations

import importlib.util
import json
import re
from datetime import date

from conftest import SHARED, score_here
from livedesk.ingest.page import read_page

SCORER = SHARED / "corpus" / "score.py"
BLIND_F1_FLOOR = 0.97
BLIND_CLOCK_FLOOR = 0.86
HINTED_UTC_FLOOR = 0.98
TOTAL_RE = re.compile(r"F1 (?P<f1>[0-9.]+); clock (?P<c>[0-9]+)/(?P<cn>[0-9]+) \([0-9]+%\); utc (?P<u>[0-9]+)/(?P<un>[0-9]+)")


def _totals(hinted: bool) -> re.Match[str]:
    output = score_here(SCORER, *(["--hinted"] if hinted else []))
    match = TOTAL_RE.search(output.strip().splitlines()[-1])
    assert match is not None, output[-500:]
    return match


def test_blind_posts_f1_and_clock_hold() -> None:
    totals = _totals(hinted=False)
    assert float(totals["f1"]) >= BLIND_F1_FLOOR
    assert int(totals["c"]) / int(totals["cn"]) >= BLIND_CLOCK_FLOOR


def test_hinted_utc_holds() -> None:
    totals = _totals(hinted=True)
    assert int(totals["u"]) / int(totals["un"]) >= HINTED_UTC_FLOOR


def test_event_pages_give_every_labelled_post() -> None:
    spec = importlib.util.spec_from_file_location("corpus_score", SCORER)
    assert spec is not None and spec.loader is not None
    scorer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(scorer)
    events = SHARED / "corpus" / "events"
    unfound = []
    for event in sorted(events.glob("*.json")):
        for source in json.loads(event.read_text())["sources"]:
            dates = [p["date"] for p in source["posts"] if p.get("date")]
            page = read_page(
                (events / source["file"]).read_bytes(), outlet=source["outlet"], tz=source.get("timezone"),
                date=date.fromisoformat(max(dates)) if dates else None,
            )
            texts = [scorer.norm(f"{p.headline or ''} {p.text}")[:600] for p in page.posts]
            unfound += [g["starts"] for g in source["posts"] if not any(scorer.norm(g["starts"]) in t for t in texts)]
    assert unfound == []

