"""The command line, run as a real subprocess on a real database."""

from __future__ import annotations

import pytest

from conftest import run_cli, server_env, unique
from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.newsroom import demo
from livedesk.newsroom.room import Newsroom
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, run_read, upgrade


@pytest.fixture
def env(tmp_path):
    return server_env(tmp_path)


def test_token_is_alone_on_the_last_line(env):
    out = run_cli("token", "create", "--user", unique("ed"), "--role", "editor", env=env).stdout
    token = out.strip().splitlines()[-1]
    assert token.startswith("ld_") and " " not in token and len(token) > 30


@pytest.mark.slow  # a CLI process per command
def test_event_and_post_commands(env):
    slug = unique("cli")
    run_cli("db", "upgrade", env=env)
    run_cli("event", "create", slug, "--title", "From the shell", env=env)
    listed = run_cli("event", "list", env=env).stdout
    assert slug in listed and "From the shell" in listed
    added = run_cli("post", "add", slug, "--body", "Typed at a terminal", "--headline", "Shell", "--topic", "tools", env=env)
    assert "published" in added.stdout
    engine = make_engine(env["LIVEDESK_DATABASE_URL"])

    def read(conn):
        event = event_store.get_event(conn, slug)
        return post_store.list_posts(conn, event.id)[0]

    rows = run_read(engine, read)
    assert [(r.headline, r.body_md, r.topics) for r in rows] == [("Shell", "Typed at a terminal", ["tools"])]


@pytest.mark.parametrize(
    "args",
    [
        ["event", "create", "Not A Slug", "--title", "x"],
        ["post", "add", "no-such-event", "--body", "x"],
        ["post", "add"],
        ["token", "create", "--user", "x", "--role", "overlord"],
        ["serve", "--port", "not-a-port"],
        ["no-such-command"],
        ["token", "revoke", "ld_unknown"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(env, args):
    result = run_cli(*args, env=env, check=False)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_demo_seed_runs_once(env):
    room = Newsroom(Settings(), make_engine(env["LIVEDESK_DATABASE_URL"]), MemoryBroker())
    engine = room.engine
    upgrade(engine)
    slug = demo.seed(room)
    assert demo.seed(room) == slug
    room.close()

    def read(conn):
        event = event_store.get_event(conn, slug)
        rows, _ = post_store.list_posts(conn, event.id, limit=100)
        return event, rows

    event, rows = run_read(engine, read)
    assert len(rows) >= 30
    assert rows[0].pinned and sum(r.pinned for r in rows) == 1
    assert any(r.correction_note for r in rows)
    assert any(m["kind"] == "image" and m.get("credit") for r in rows for m in r.media)
    assert len(event.key_points) >= 3 and any(k["post_id"] for k in event.key_points)
