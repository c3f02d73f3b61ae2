"""`livedesk db backup` while a server writes, and `livedesk db restore`, on the test engine
(a SQLite file, or a fresh PostgreSQL database when LIVEDESK_TEST_DATABASE_URL names a server)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Server, cli_here, fresh_postgres, run_cli, server_env, unique


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    shared = os.environ.get("LIVEDESK_TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite:///{tmp_path / 'desk.db'}"
        return
    with fresh_postgres("livedesk_backup") as url:
        yield url


def post_ids(server: Server, slug: str) -> list[str]:
    """Every published post of the event, oldest first, page by page."""
    ids: list[str] = []
    params: dict = {"limit": 100}
    while True:
        page = httpx.get(f"{server.url}/api/events/{slug}/posts", params=params).json()
        ids += [post["id"] for post in page["posts"]]
        if not page.get("next"):
            return ids[::-1]
        params["before"] = page["next"]


def test_a_backup_taken_while_writing_restores_one_consistent_moment(tmp_path: Path, database: str) -> None:
    env = server_env(tmp_path, LIVEDESK_DATABASE_URL=database)
    server = Server(env).start()
    slug = unique("backup")
    try:
        with server.client(server.token("editor")) as editor:
            assert editor.post("/api/events", json={"slug": slug, "title": "Harbour strike"}).status_code == 201
            before = [editor.post(f"/api/events/{slug}/posts", json={"body": f"Dockers meet, hour {i}."}).json()["id"]
                      for i in range(5)]
            during: list[str] = []
            stop = threading.Event()

            def keep_writing() -> None:
                with server.client(server.token("editor")) as writer:
                    while not stop.is_set():
                        made = writer.post(f"/api/events/{slug}/posts", json={"body": f"Pickets, note {len(during)}."})
                        assert made.status_code == 201, made.text
                        during.append(made.json()["id"])

            thread = threading.Thread(target=keep_writing)
            thread.start()
            try:
                done = run_cli("db", "backup", str(tmp_path / "desk.backup"), env=env)
            finally:
                stop.set()
                thread.join(timeout=60)
            assert "copied" in done.stdout
            assert not list(tmp_path.glob("*.partial"))
            after = editor.post(f"/api/events/{slug}/posts", json={"body": "The strike ends."}).json()["id"]
            assert editor.delete(f"/api/events/{slug}/posts/{before[0]}").status_code in (200, 204)
            assert after in post_ids(server, slug) and before[0] not in post_ids(server, slug)
    finally:
        server.stop()

    run_cli("db", "restore", str(tmp_path / "desk.backup"), env=env)
    server = Server(env).start()
    try:
        restored = post_ids(server, slug)
    finally:
        server.stop()
    # the posts of one moment: all earlier ones, and the writer's posts up to some point, in order
    assert restored[:5] == before
    assert restored[5:] == during[: len(restored) - 5]
    assert after not in restored


def test_bad_backup_and_restore_requests_end_in_one_line(tmp_path: Path, database: str) -> None:
    env = {"LIVEDESK_DATABASE_URL": database}
    cli_here("db", "upgrade", env=env)
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("The quay opens at nine.\n")
    for args in (("restore", str(tmp_path / "missing.backup")), ("restore", str(not_a_backup)),
                 ("backup", str(tmp_path / "no-such-dir" / "desk.backup"))):
        done = cli_here("db", *args, env=env, check=False)
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not list(tmp_path.glob("**/*.partial"))
