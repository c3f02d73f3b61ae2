"""`livedesk event export` and `import`: an event moves to another database (SQLite, and
PostgreSQL when LIVEDESK_TEST_DATABASE_URL names a server) with every field of every row kept."""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from conftest import App, cli_here, fresh_postgres, server_env, unique, wait_until
from livedesk.store.archive import read_event
from livedesk.store.db import make_engine, run_read

OTHER_OUTLET = """Island ferries stay in port | Skerry Gazette

Island ferries stay in port

The operator's new offer is on the table as crews gather at the terminal

11:15 CET
Marit Holm
Skerry Gazette

Union leaders say the night-shift clause is the sticking point.

10:20 CET
Jon Vik
Skerry Gazette

No island sailing is planned before the weekend, the operator says.
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request, tmp_path: Path) -> Iterator[str]:
    """A fresh database of each engine (PostgreSQL only where the suite has a server)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.db'}"
        return
    if not os.environ.get("LIVEDESK_TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("needs LIVEDESK_TEST_DATABASE_URL=postgresql://...")
    with fresh_postgres("livedesk_archive") as url:
        yield url


@pytest.fixture(scope="module")
def full_event(server) -> str:
    """An event holding one of everything: published, corrected, pinned, key, draft, scheduled and
    pending posts with media and topics; key points; a followed outlet's page; developments."""
    slug = unique("archive")
    with server.client(server.token("editor")) as editor, server.client(server.token("contributor")) as contributor:
        assert editor.post("/api/events", json={"slug": slug, "title": "Ferry strike", "standfirst": "Crews and the operator talk.",
                                                 "topics": ["transport"]}).status_code == 201
        posts = f"/api/events/{slug}/posts"
        media = [{"url": "https://img.example.org/quay.jpg", "caption": "The north quay", "credit": "Desk photo"}]
        first = editor.post(posts, json={"headline": "Talks resume", "body": "Crews and the operator meet at **noon**.",
                                         "media": media, "topics": ["talks", "ferries"], "key_event": True,
                                         "published_at": (datetime.now(UTC) - timedelta(hours=3)).isoformat()}).json()
        second = editor.post(posts, json={"body": "The first island ferry is not expected before Friday."}).json()
        assert editor.patch(f"{posts}/{second['id']}", json={"body": "No island ferry before Saturday.",
                                                              "correction": "The day was wrong."}).status_code == 200
        assert editor.post(f"{posts}/{first['id']}/pin").status_code == 200
        editor.post(posts, json={"body": "Draft: the offer in full", "status": "draft"})
        editor.post(posts, json={"body": "Embargoed timetable", "published_at": (datetime.now(UTC) + timedelta(days=2)).isoformat()})
        contributor.post(posts, json={"body": "Pending: queues at the terminal"})
        assert editor.patch(f"/api/events/{slug}", json={"key_points": [{"text": "Talks resume", "post_id": first["id"]},
                                                                         {"text": "No ferry before Saturday"}]}).status_code == 200
        source = editor.post(f"/api/events/{slug}/sources", json={"text": OTHER_OUTLET, "timezone": "Europe/Oslo"})
        assert source.status_code == 201, source.text
        editor.post(f"/api/events/{slug}/sources", json={"url": f"https://news.example.org/{unique('live')}"})
        wait_until(lambda: editor.get(f"/api/events/{slug}/developments").json().get("developments"), timeout=60,
                   message="aligned")
    return slug


def dump(url: str, slug: str) -> dict[str, Any]:
    engine = make_engine(url)
    try:
        return run_read(engine, lambda conn: read_event(conn, slug))
    finally:
        engine.dispose()


def comparable(data: dict[str, Any]) -> dict[str, Any]:
    """A dump with each database's own numbers replaced by what they stand for."""
    outlet = {o["id"]: o["slug"] for o in data["outlets"]}
    user = {u["id"]: u["name"] for u in data["users"]}
    source = {s["id"]: k for k, s in enumerate(data["sources"])}
    order = {p["num"]: k for k, p in enumerate(data["posts"])}
    posts = [{**p, "num": order[p["num"]], "event_id": None, "outlet_id": outlet[p["outlet_id"]],
              "source_id": source.get(p["source_id"]), "created_by": user.get(p["created_by"])} for p in data["posts"]]
    sources = [{**s, "id": None, "event_id": None, "outlet_id": outlet.get(s["outlet_id"])} for s in data["sources"]]
    developments = []
    for d in data["developments"]:
        last = d["data"]["last_num"]
        seen = sum(1 for p in data["posts"] if p["num"] <= last)
        developments.append({**d, "id": None, "event_id": None, "data": {**d["data"], "last_num": seen}})
    return {
        **data,
        "event": {**data["event"], "id": None},
        "outlets": sorted(({**o, "id": None} for o in data["outlets"]), key=lambda o: o["slug"]),
        "users": sorted(({**u, "id": None} for u in data["users"]), key=lambda u: u["name"]),
        "sources": sources, "posts": posts, "developments": developments,
        "post_versions": [{**v, "id": None} for v in data["post_versions"]],
    }


def test_an_event_moves_to_another_database_with_every_field(server, full_event: str, target: str, tmp_path: Path) -> None:
    archive = tmp_path / "ferry.zip"
    exported = cli_here("event", "export", full_event, str(archive), env=server.env)
    assert f"exported {full_event}" in exported.stdout
    assert zipfile.ZipFile(archive).namelist() == ["event.json"]
    imported = cli_here("event", "import", str(archive), env={**server.env, "LIVEDESK_DATABASE_URL": target})
    assert f"imported {full_event}" in imported.stdout

    before, after = dump(server.env["LIVEDESK_DATABASE_URL"], full_event), dump(target, full_event)
    assert len(before["posts"]) == 7 and before["post_versions"] and before["developments"] and len(before["sources"]) == 2
    assert {p["status"] for p in before["posts"]} == {"published", "draft", "scheduled", "pending"}
    assert comparable(after) == comparable(before)

    # the imported event serves its pages, search and developments on the other database
    other = App(server_env(tmp_path, LIVEDESK_DATABASE_URL=target, LIVEDESK_POLL_SOURCES="false", LIVEDESK_BROKER_URL="memory://")).start()
    try:
        with other.client(other.token("editor")) as editor:
            page = editor.get(f"/e/{full_event}")
            assert page.status_code == 200 and "Talks resume" in page.text
            assert editor.get("/api/search", params={"q": "Saturday"}).json()["total"] >= 1
            for status in ("draft", "scheduled", "pending"):
                assert len(editor.get(f"/api/events/{full_event}/posts", params={"status": status}).json()["posts"]) == 1
            developments = editor.get(f"/api/events/{full_event}/developments").json()
        assert developments["developments"]
        assert developments == server.get(f"/api/events/{full_event}/developments").json()
    finally:
        other.stop()


def test_an_archive_whose_event_exists_is_refused_in_one_line(server, full_event: str, tmp_path: Path) -> None:
    archive = tmp_path / "again.zip"
    cli_here("event", "export", full_event, str(archive), env=server.env)
    again = cli_here("event", "import", str(archive), env=server.env, check=False)
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0 and full_event in again.stderr and "exists" in again.stderr
    assert len(dump(server.env["LIVEDESK_DATABASE_URL"], full_event)["posts"]) == 7  # nothing doubled


@pytest.mark.parametrize("content", [b"not a zip", None])
def test_a_file_that_is_no_archive_is_refused_in_one_line(server, tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bad.zip"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("other.txt", "hello")
    else:
        path.write_bytes(content)
    result = cli_here("event", "import", str(path), env=server.env, check=False)
    assert result.returncode == 2 and "not an event archive" in result.stderr and "Traceback" not in result.stderr
    missing = cli_here("event", "export", "no-such-event", str(tmp_path / "x.zip"), env=server.env, check=False)
    assert missing.returncode == 2 and "no event" in missing.stderr and not (tmp_path / "x.zip").exists()


def test_an_event_moves_from_sqlite_to_postgresql_and_back(server, full_event: str, tmp_path: Path) -> None:
    """Whatever engine the suite runs on, the event passes through a SQLite file and (where the
    suite has a server) a PostgreSQL database, and comes back with every field as it was."""
    here = server.env["LIVEDESK_DATABASE_URL"]
    stops = [f"sqlite:///{tmp_path / 'hop.db'}"]
    with contextlib.ExitStack() as stack:
        if os.environ.get("LIVEDESK_TEST_DATABASE_URL", "").startswith("postgresql"):
            stops.append(stack.enter_context(fresh_postgres("livedesk_hop")))
        stops.append(f"sqlite:///{tmp_path / 'last.db'}")
        source = here
        for number, stop in enumerate(stops):
            archive = tmp_path / f"hop-{number}.zip"
            cli_here("event", "export", full_event, str(archive), env={**server.env, "LIVEDESK_DATABASE_URL": source})
            cli_here("event", "import", str(archive), env={**server.env, "LIVEDESK_DATABASE_URL": stop})
            source = stop
        assert comparable(dump(source, full_event)) == comparable(dump(here, full_event))


def test_uploaded_photos_move_with_their_event(server, target: str, tmp_path: Path) -> None:
    from test_photos import event_with_photo

    slug, item = event_with_photo(server, "Ferry photos", 1000, 700)
    archive = tmp_path / "photos.zip"
    cli_here("event", "export", slug, str(archive), env=server.env)
    names = zipfile.ZipFile(archive).namelist()
    assert "media.json" in names and f"media/{item['upload']}-960.webp" in names
    cli_here("event", "import", str(archive), env={**server.env, "LIVEDESK_DATABASE_URL": target})
    other = App(server_env(tmp_path, LIVEDESK_DATABASE_URL=target, LIVEDESK_POLL_SOURCES="false", LIVEDESK_BROKER_URL="memory://")).start()
    try:
        for width in item["widths"]:
            for ext in ("jpg", "webp"):
                name = f"/media/{item['upload']}-{width}.{ext}"
                assert other.get(name).content == server.get(name).content
        assert f"{item['upload']}-480.webp 480w" in other.get(f"/e/{slug}").text
    finally:
        other.stop()
