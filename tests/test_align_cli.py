"""`livedesk align`: sources or a manifest in, developments out, clear errors."""

import json
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from livedesk.cli import app

PAGES = Path(__file__).resolve().parent / "fixtures" / "align" / "pages"
sys.path.insert(0, str(PAGES.parent))
from seed_posts import SHARED, load_gold  # noqa: E402

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["align", *args])


def test_manifest_json_links_the_same_developments_across_outlets():
    result = _run("--manifest", str(PAGES / "ferry.toml"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {p["id"] for p in data["posts"]} == {
        "harbour-courier-1", "harbour-courier-2", "nordic-wire-1", "nordic-wire-2",
        "coastline-daily-1", "coastline-daily-2", "coastline-daily-3",
    }
    shared = sorted(sorted(d["post_ids"]) for d in data["developments"] if len(d["outlets"]) == 3)
    assert shared == [
        ["coastline-daily-1", "harbour-courier-1", "nordic-wire-1"],
        ["coastline-daily-3", "harbour-courier-2", "nordic-wire-2"],
    ]
    assert data["exclusives"]["Coastline Daily"] == ["d-coastline-daily-2"]
    fire = next(d for d in data["developments"] if "coastline-daily-1" in d["post_ids"])
    # Coastline Daily gives no times; its inferred one (± 15 min) may lie before Harbour Courier's
    assert (fire["first_reported_by"], fire["first_contested_by"]) == ("Harbour Courier", ["Coastline Daily"])
    assert fire["lead_seconds"] is None and fire["lead_uncertainty_s"] == 900
    untimed = [p for p in data["posts"] if p["outlet"] == "Coastline Daily"]
    assert all(p["time_inferred"] and p["time"].endswith("Z") for p in untimed)
    assert data["key_point_suggestions"]


def test_sources_given_on_the_command_line_print_a_report(tmp_path):
    for name in ("harbour_courier.txt", "nordic_wire.txt"):
        shutil.copy(PAGES / name, tmp_path / name)
    result = _run(str(tmp_path / "harbour_courier.txt"), str(tmp_path / "nordic_wire.txt"))
    assert result.exit_code == 0, result.output
    assert "4 posts from 2 outlets" in result.stdout
    assert "2 reported by more than one outlet" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["/no/such/page.txt"], "cannot read"),
        ([], "give one or more sources"),
        (["--manifest", "/no/such/manifest.toml"], "cannot read"),
    ],
)
def test_unreadable_input_exits_2_with_one_line(args, message):
    result = _run(*args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_source_that_cannot_be_read_is_skipped_and_named(tmp_path):
    (tmp_path / "empty.txt").write_text("Nothing here looks like a live page at all.\n")
    (tmp_path / "partial.toml").write_text(
        (PAGES / "ferry.toml").read_text().replace('path = "', f'path = "{PAGES}/')
        + '\n[[source]]\npath = "empty.txt"\noutlet = "Quiet Gazette"\n'
        + '\n[[source]]\npath = "gone.txt"\noutlet = "Vanished Times"\n'
    )
    result = _run("--manifest", str(tmp_path / "partial.toml"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [e["source"] for e in data["errors"]] == [str(tmp_path / "empty.txt"), str(tmp_path / "gone.txt")]
    assert all(e["error"] for e in data["errors"])
    assert len(result.stderr.strip().splitlines()) == 2 and "skipped" in result.stderr
    assert {p["outlet"] for p in data["posts"]} == {"Harbour Courier", "Nordic Wire", "Coastline Daily"}
    assert any(len(d["outlets"]) == 3 for d in data["developments"])
    # no source at all: one line, exit 2
    (tmp_path / "none.toml").write_text('[[source]]\npath = "empty.txt"\n[[source]]\npath = "gone.txt"\n')
    result = _run("--manifest", str(tmp_path / "none.toml"))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "none of the 2 sources could be read" in result.stderr


def test_a_bad_manifest_is_named_in_one_line(tmp_path):
    (tmp_path / "bad.toml").write_text("[[source]]\noutlet = 'No Path'\n")
    result = _run("--manifest", str(tmp_path / "bad.toml"))
    assert result.exit_code == 2 and "needs a path or a url" in result.stderr
    (tmp_path / "broken.toml").write_text("[[source]\n")
    result = _run("--manifest", str(tmp_path / "broken.toml"))
    assert result.exit_code == 2 and "not valid TOML" in result.stderr


@pytest.mark.skipif(not (SHARED / "gold" / "seeds.json").exists(), reason="seed pages not present")
def test_the_seed_pages_through_the_real_readers(tmp_path):
    pages = load_gold()["pages"]
    (tmp_path / "seeds.toml").write_text(
        f'[[source]]\npath = "{SHARED / pages["tass"]["file"]}"\noutlet = "TASS"\ntimezone = "Europe/Moscow"\n'
        f'[[source]]\npath = "{SHARED / pages["cnn"]["file"]}"\noutlet = "CNN"\n'
    )
    result = _run("--manifest", str(tmp_path / "seeds.toml"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    headline = {p["id"]: p["headline"] for p in data["posts"]}
    thorough = next(d for d in data["developments"] if any("thorough" in (headline[i] or "") for i in d["post_ids"]))
    assert thorough["outlets"] in (["TASS", "CNN"], ["CNN", "TASS"])
    assert len([d for d in data["developments"] if len(d["outlets"]) == 2]) >= len(load_gold()["alignment"]["same"]) - 1


DEMO_PAGES = Path(__file__).resolve().parents[1] / "src" / "livedesk" / "demo" / "outlets"


def test_human_output_fits_80_columns_and_says_why_a_lead_is_uncertain():
    """`parse` and `align` at 80 columns: no line wider, text cut after a whole word with an ellipsis;
    align names the matched posts and says which outlet gave no times and what that does to a lead."""
    from conftest import run_cli

    narrow = {"COLUMNS": "80", "LIVEDESK_SEMANTIC": "off"}
    parsed = run_cli("parse", str(DEMO_PAGES / "kta.txt"), "--date", "2026-05-14", env=narrow).stdout
    lines = parsed.splitlines()
    assert max(len(line) for line in lines) <= 80
    cut = [line.rstrip() for line in lines if "…" in line]
    words = {w.strip(".,;:!?\"'()") for w in (DEMO_PAGES / "kta.txt").read_text().split()}
    assert cut and all(line.split("…")[0].split(" ")[-1] in words for line in cut), cut  # a whole word before …
    report = run_cli("align", *(str(DEMO_PAGES / n) for n in ("gdn.txt", "kta.txt", "hbc.html")), env=narrow).stdout
    assert max(len(line) for line in report.splitlines()) <= 80
    flat = " ".join(report.split())
    assert "GDN gave no times: its times are estimated from the order of its page" in flat
    assert "Matched across outlets" in flat
    assert "The handshake Harbourlight Broadcasting, 06:49: The handshake" in flat
    assert "GDN may have been earlier: its time is estimated (± 15 min)" in flat


def test_a_page_without_a_date_takes_the_summer_offset_of_the_dated_pages(tmp_path):
    (tmp_path / "dated.txt").write_text(
        "Lakeside Post live: the bridge opening\n\n"
        "14:05 21.06.2031\n\nThe mayor cuts the ribbon and the first cyclists ride across the new bridge.\n\n"
        "13:40 21.06.2031\n\nCrowds gather on both banks of the river ahead of the opening ceremony.\n"
    )
    (tmp_path / "undated.txt").write_text(
        "Riverside Ticker: Brücke eröffnet\n\n"
        "14:07\n\nDie Bürgermeisterin schneidet das Band durch, die ersten Radfahrer fahren über die Brücke.\n\n"
        "13:42\n\nAn beiden Ufern warten schon viele Menschen auf die Eröffnung.\n"
    )
    (tmp_path / "bridge.toml").write_text(
        '[[source]]\npath = "dated.txt"\noutlet = "Lakeside Post"\ntimezone = "Europe/Berlin"\n\n'
        '[[source]]\npath = "undated.txt"\noutlet = "Riverside Ticker"\ntimezone = "Europe/Berlin"\n'
    )
    result = _run("--manifest", str(tmp_path / "bridge.toml"), "--json")
    assert result.exit_code == 0, result.output
    times = {p["id"]: p["time"] for p in json.loads(result.stdout)["posts"]}
    # Berlin keeps summer time in June (UTC+2), whatever the season the page is read in
    assert times["lakeside-post-2"].startswith("2031-06-21T12:05")
    assert times["riverside-ticker-2"][11:16] == "12:07"
    assert times["riverside-ticker-1"][11:16] == "11:42"
