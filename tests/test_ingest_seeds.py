"""The two seed pages, read with no flags, must match the gold reading exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from livedesk.ingest.page import page_to_json, read_page

SHARED = Path(__file__).resolve().parents[2] / "shared"
GOLD_PATH = SHARED / "gold" / "seeds.json"

pytestmark = pytest.mark.skipif(not GOLD_PATH.exists(), reason="the shared seeds are not beside the repository")


def gold() -> dict:
    return json.loads(GOLD_PATH.read_text(encoding="utf-8"))["pages"]


def parsed(name: str) -> dict:
    page = gold()[name]
    return page_to_json(read_page((SHARED / page["file"]).read_bytes()))


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def assert_no_furniture(result: dict, furniture: list[str]) -> None:
    for post in result["posts"]:
        for junk in furniture:
            assert junk not in post["text"], (junk, post["text"][:80])
            assert junk != (post["headline"] or "")


def test_tass_posts_times_and_head() -> None:
    expected = gold()["tass"]
    result = parsed("tass")
    assert result["title"] == expected["title"]
    assert result["outlet"] == expected["outlet"]
    assert result["standfirst"] == expected["standfirst"]
    assert instant(result["published"]) == instant(expected["published"])
    assert len(result["posts"]) == len(expected["posts"]) == 22
    for got, want in zip(result["posts"], expected["posts"]):
        assert instant(got["time"]) == instant(want["time"]), want["id"]
        assert got["time"].endswith("+00:00")  # stored as UTC
        assert got["text"].startswith(want["first_words"]), want["id"]
    assert_no_furniture(result, expected["not_post_text"])


def test_tass_credits_are_media_on_their_posts() -> None:
    expected = gold()["tass"]
    result = parsed("tass")
    credits = {m["credit"] for post in result["posts"] for m in post["media"] if "credit" in m}
    credits |= {m["credit"] for m in result["media"] if "credit" in m}
    assert credits == set(expected["media_credits"])
    for post in result["posts"]:
        assert "©" not in post["text"]
    # the picture under the "venue" post stays with that post
    venue = next(p for p in result["posts"] if p["text"].startswith("The venue of the summit:"))
    assert venue["media"] and venue["media"][0]["kind"] == "image"


def test_cnn_headlines_count_key_points_and_video() -> None:
    expected = gold()["cnn"]
    result = parsed("cnn")
    assert result["title"] == expected["title"]
    assert result["outlet"] == expected["outlet"]
    assert result["declared_post_count"] == expected["declared_post_count"] == 18
    assert len(result["key_points"]) == expected["key_points_count"]
    assert [p["headline"] for p in result["posts"]] == [p["headline"] for p in expected["posts"]]
    assert all(p["time"] is None for p in result["posts"])
    video = next(m for m in result["media"] if m["kind"] == "video")
    assert {k: video.get(k) for k in ("title", "duration_s", "source")} == expected["video"]
    assert_no_furniture(result, expected["not_post_text"])


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "livedesk", "parse", *args], capture_output=True, text=True, env=env, timeout=120
    )


@pytest.mark.parametrize("name", ["tass", "cnn"])
def test_cli_json_matches_the_library_and_the_gold(name: str) -> None:
    expected = gold()[name]
    done = run_cli(str(SHARED / expected["file"]), "--json")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result == parsed(name)
    assert result["title"] == expected["title"]
    assert len(result["posts"]) == len(expected["posts"])
    if name == "tass":
        assert [instant(p["time"]) for p in result["posts"]] == [instant(p["time"]) for p in expected["posts"]]
    else:
        assert [p["headline"] for p in result["posts"]] == [p["headline"] for p in expected["posts"]]


def test_cli_table_without_json() -> None:
    done = run_cli(str(SHARED / gold()["tass"]["file"]))
    assert done.returncode == 0, done.stderr
    assert "25 Apr 10:37" in done.stdout  # the table shows UTC times to the minute


def test_cli_random_bytes_exit_2_with_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40 + os.urandom(4096))
    done = run_cli(str(junk), "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--tz", "Nowhere/Atlantis"],
        ["--date", "2026-02-30"],
        ["--date", "yesterday"],
    ],
)
def test_cli_bad_options_exit_2_with_one_line(args: list[str]) -> None:
    done = run_cli(str(SHARED / gold()["tass"]["file"]), *args)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_cli_missing_file_and_empty_file(tmp_path: Path) -> None:
    for target in (tmp_path / "absent.txt", tmp_path / "empty.txt"):
        if target.name == "empty.txt":
            target.write_bytes(b"")
        done = run_cli(str(target))
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1
