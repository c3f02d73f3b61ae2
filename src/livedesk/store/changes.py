"""The change log: what the stream sends and what catch-up replays."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from livedesk.model import Change
from livedesk.store.tables import changes, counters


def append_change(conn: Connection, event_id: int, kind: str, payload: dict[str, Any], post_id: str | None = None) -> int:
    """Record a change inside the caller's transaction and return its id.

    Taking the id locks the counter row until commit, so ids become visible in order.
    """
    change_id = conn.execute(
        update(counters).where(counters.c.name == "change").values(value=counters.c.value + 1).returning(counters.c.value)
    ).scalar_one()
    conn.execute(
        insert(changes).values(
            id=change_id,
            event_id=event_id,
            kind=kind,
            post_id=post_id,
            payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            created_at=datetime.now(UTC),
        )
    )
    return int(change_id)


def _change(row: Row[Any]) -> Change:
    return Change(row.id, row.event_id, row.kind, row.post_id, row.payload, row.created_at)


def changes_since(conn: Connection, after_id: int, *, event_id: int | None = None, limit: int = 1000) -> list[Change]:
    query = select(changes).where(changes.c.id > after_id).order_by(changes.c.id).limit(limit)
    if event_id is not None:
        query = query.where(changes.c.event_id == event_id)
    return [_change(row) for row in conn.execute(query)]


def latest_changes(conn: Connection, limit: int) -> list[Change]:
    """The newest `limit` changes, oldest first."""
    newest = [_change(row) for row in conn.execute(select(changes).order_by(changes.c.id.desc()).limit(limit))]
    return newest[::-1]


def last_change_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(changes.c.id), 0))).scalar_one())
