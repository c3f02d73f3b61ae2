"""Rows that many writers may store first at once (outlets, users, an event's alignment, site
secrets): each ends as one row, and no writer fails. On PostgreSQL the second writer is made to
read before the first commits; on either engine many threads store the same new names together."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text

from conftest import database_url, unique, wait_until
from livedesk.model import StoredAlignment
from livedesk.store import accounts, developments
from livedesk.store import events as event_store
from livedesk.store.db import make_engine, run_write, upgrade, write
from livedesk.store.tables import developments as developments_table
from livedesk.store.tables import outlets, users


@pytest.fixture
def engine(tmp_path) -> Iterator[Engine]:
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    yield engine
    engine.dispose()


def new_event(engine: Engine) -> int:
    now = datetime.now(UTC)
    return run_write(engine, lambda conn: event_store.insert_event(
        conn, {"slug": unique("race"), "title": "Race", "created_at": now, "updated_at": now}
    ))


def all_at_once(engine: Engine, work: Callable[[Any], Any], writers: int = 50) -> list[BaseException]:
    """Runs `work(conn)` in `writers` threads released together, each in its own write
    transaction; the errors they raised."""
    start = threading.Barrier(writers)
    errors: list[BaseException] = []

    def one() -> None:
        start.wait()
        try:
            run_write(engine, work)
        except BaseException as exc:  # noqa: BLE001 - every failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return errors


def second_reads_before_first_commits(engine: Engine, work: Callable[[Any], Any]) -> list[BaseException]:
    """PostgreSQL: the first writer stores, and holds its transaction open until the second one,
    which read before that commit, is waiting on its lock; then both finish."""
    errors: list[BaseException] = []
    first_done = threading.Event()
    release = threading.Event()

    def first() -> None:
        with write(engine) as conn:
            work(conn)
            first_done.set()
            release.wait(60)

    def second() -> None:
        first_done.wait(60)
        try:
            run_write(engine, work)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
    wait_until(lambda: count(engine, waiting) > 0, timeout=30, message="second writer waits on the first")  # a new snapshot each time
    release.set()
    for thread in threads:
        thread.join(60)
    return errors


def count(engine: Engine, query) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def test_fifty_writers_name_one_new_outlet(engine):
    name = unique("Outlet")
    errors = all_at_once(engine, lambda conn: event_store.ensure_outlet(conn, name))
    assert errors == []
    assert count(engine, select(func.count()).select_from(outlets).where(outlets.c.name == name)) == 1


def test_fifty_writers_make_one_user(engine):
    name = unique("user")
    errors = all_at_once(engine, lambda conn: accounts.ensure_user(conn, name, "editor"))
    assert errors == []
    assert count(engine, select(func.count()).select_from(users).where(users.c.name == name)) == 1


def test_fifty_first_alignments_of_an_event_store_one_row(engine):
    event_id = new_event(engine)
    when = datetime.now(UTC)
    errors = all_at_once(engine, lambda conn: developments.save(conn, event_id, StoredAlignment(last_num=1), when))
    assert errors == []
    where = developments_table.c.event_id == event_id
    assert count(engine, select(func.count()).select_from(developments_table).where(where)) == 1


def test_a_newer_alignment_replaces_and_an_older_one_is_refused(engine):
    event_id = new_event(engine)
    when = datetime.now(UTC)
    assert run_write(engine, lambda conn: developments.save(conn, event_id, StoredAlignment(last_num=5), when)) is True
    assert run_write(engine, lambda conn: developments.save(conn, event_id, StoredAlignment(last_num=3), when)) is False
    assert run_write(engine, lambda conn: developments.save(conn, event_id, StoredAlignment(last_num=7), when)) is True
    with engine.connect() as conn:
        assert developments.stored_summary(conn, event_id).last_num == 7


def test_twenty_nodes_make_one_site_secret(engine):
    name = unique("secret")[:40]
    start = threading.Barrier(20)
    found: list[str] = []

    def node() -> None:
        start.wait()
        found.append(accounts.site_secret(engine, name))

    threads = [threading.Thread(target=node) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(found) == 20 and len(set(found)) == 1


postgresql_only = pytest.mark.skipif(
    not os.environ.get("LIVEDESK_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL: needs LIVEDESK_TEST_DATABASE_URL",
)


@postgresql_only
def test_an_outlet_stored_while_another_writer_reads(engine):
    name = unique("Outlet")
    assert second_reads_before_first_commits(engine, lambda conn: event_store.ensure_outlet(conn, name)) == []
    assert count(engine, select(func.count()).select_from(outlets).where(outlets.c.name == name)) == 1


@postgresql_only
def test_an_alignment_stored_while_another_first_save_reads(engine):
    event_id = new_event(engine)
    when = datetime.now(UTC)
    work = lambda conn: developments.save(conn, event_id, StoredAlignment(last_num=1), when)  # noqa: E731
    assert second_reads_before_first_commits(engine, work) == []
    where = developments_table.c.event_id == event_id
    assert count(engine, select(func.count()).select_from(developments_table).where(where)) == 1


def test_twenty_concurrent_adds_of_one_url_follow_it_once(live_server, live_editor):
    event = unique("follow")
    assert live_editor.post("/api/events", json={"slug": event, "title": "Follow once"}).status_code == 201
    url = f"https://news.example.org/{unique('live')}"
    start = threading.Barrier(20)
    answers: list[tuple[int, int | None]] = []

    def add() -> None:
        with live_server.client(live_editor.headers["Authorization"].removeprefix("Bearer ")) as client:
            start.wait()
            response = client.post(f"/api/events/{event}/sources", json={"url": url})
            answers.append((response.status_code, response.json().get("id")))

    threads = [threading.Thread(target=add) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert {status for status, _ in answers} == {201}
    assert len({source_id for _, source_id in answers}) == 1
    assert [s["url"] for s in live_editor.get(f"/api/events/{event}/sources").json()["sources"]] == [url]
