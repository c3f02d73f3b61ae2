"""Sources: other outlets' pages attached to an event, and the leases that share their polling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, delete, insert, or_, select, update

from livedesk.model import EventStatus, Source
from livedesk.store.db import inserted_id
from livedesk.store.posts import source_post_counts
from livedesk.store.tables import events, outlets, sources


class LeaseLost(Exception):
    """Another node holds this source now; the poll's result is dropped."""


def _with_outlet() -> Select[Any]:
    return (
        select(sources, outlets.c.slug.label("outlet_slug"), outlets.c.name.label("outlet_name"),
               outlets.c.timezone.label("outlet_timezone"))
        .outerjoin(outlets, outlets.c.id == sources.c.outlet_id)
    )


def get_source(conn: Connection, source_id: int) -> Source | None:
    row = conn.execute(_with_outlet().where(sources.c.id == source_id)).first()
    return None if row is None else Source(**row._mapping)


def list_sources(conn: Connection, event_id: int) -> list[Source]:
    """The event's sources with their outlets and counts of published posts."""
    counts = source_post_counts(conn, event_id)
    rows = conn.execute(_with_outlet().where(sources.c.event_id == event_id).order_by(sources.c.id))
    return [Source(**row._mapping, post_count=counts.get(row.id, 0)) for row in rows]


def same_source(conn: Connection, event_id: int, url: str | None, outlet_id: int | None) -> int | None:
    """The event's source with this URL, or else its pasted page of this outlet."""
    query = select(sources.c.id).where(sources.c.event_id == event_id)
    if url is not None:
        query = query.where(sources.c.url == url)
    elif outlet_id is not None:
        query = query.where(sources.c.url.is_(None), sources.c.outlet_id == outlet_id)
    else:
        return None
    return conn.execute(query.order_by(sources.c.id).limit(1)).scalar()


def insert_source(conn: Connection, values: dict[str, Any]) -> int:
    return inserted_id(conn.execute(insert(sources).values(**values)))


def update_source(conn: Connection, source_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(sources).where(sources.c.id == source_id).values(**values))


def delete_source(conn: Connection, event_id: int, source_id: int) -> bool:
    """Remove the event's source; False if it has none by that id."""
    return conn.execute(delete(sources).where(sources.c.id == source_id, sources.c.event_id == event_id)).rowcount == 1


def hold(conn: Connection, source_id: int, owner: str | None) -> Source:
    """The source, locked for this transaction; LeaseLost if `owner` no longer holds it."""
    row = conn.execute(select(sources).where(sources.c.id == source_id).with_for_update()).first()
    if row is None:
        raise LeaseLost(f"source {source_id} was removed")
    if owner is not None and row.lease_owner != owner:
        raise LeaseLost(f"source {source_id} is leased by {row.lease_owner}")
    return Source(**row._mapping)


def claim_due(conn: Connection, owner: str, moment: datetime, limit: int) -> list[int]:
    """Lease up to `limit` due URL sources of live events to `owner`, each for one poll interval."""
    free = or_(sources.c.lease_until.is_(None), sources.c.lease_until < moment)
    due = conn.execute(
        select(sources.c.id, sources.c.poll_interval_s)
        .where(
            sources.c.url.is_not(None), sources.c.next_poll_at <= moment, free,
            sources.c.event_id.in_(select(events.c.id).where(events.c.status == EventStatus.live)),
        )
        .order_by(sources.c.next_poll_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for source_id, interval in due:
        taken = conn.execute(
            update(sources)
            .where(sources.c.id == source_id, free)
            .values(lease_owner=owner, lease_until=moment + timedelta(seconds=interval))
        )
        if taken.rowcount == 1:
            claimed.append(source_id)
    return claimed
