"""Events and outlets."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from livedesk.errors import NotFound
from livedesk.model import Event, EventStatus, Outlet, PostStatus
from livedesk.store.db import insert_new, inserted_id
from livedesk.store.tables import event_post_counts, events, outlets

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,118}$")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "outlet"


def _event(row: Row[Any]) -> Event:
    return Event(**{**row._mapping, "status": EventStatus(row.status)})


def get_event(conn: Connection, slug: str) -> Event | None:
    row = conn.execute(select(events).where(events.c.slug == slug)).first()
    return None if row is None else _event(row)


def require_event(conn: Connection, slug: str, message: str | None = None) -> Event:
    """The event called `slug`; NotFound (with `message`, if given) when there is none."""
    event = get_event(conn, slug)
    if event is None:
        raise NotFound(message or f"no event {slug!r}")
    return event


def lock_event(conn: Connection, event_id: int) -> None:
    """Hold the event's row until commit, so that writers which read the event's rows and then
    add one (a source of a URL it may follow already) go one at a time on every engine."""
    conn.execute(select(events.c.id).where(events.c.id == event_id).with_for_update())


def event_slug(conn: Connection, event_id: int) -> str | None:
    return conn.execute(select(events.c.slug).where(events.c.id == event_id)).scalar()


def list_events(conn: Connection, status: EventStatus | str | None = None) -> list[Event]:
    query = select(events).order_by(events.c.updated_at.desc())
    if status:
        query = query.where(events.c.status == status)
    return [_event(row) for row in conn.execute(query)]


def event_titles(conn: Connection) -> dict[str, str]:
    """Every event's title by its slug."""
    return {event.slug: event.title for event in list_events(conn)}


def count_published(conn: Connection, event_id: int) -> int:
    return _count_posts(conn, event_id, PostStatus.published)


def count_pending(conn: Connection, event_id: int) -> int:
    """Contributors' posts of the event waiting for an editor."""
    return _count_posts(conn, event_id, PostStatus.pending)


def _count_posts(conn: Connection, event_id: int, status: PostStatus) -> int:
    """The event's posts of this status, as the triggers of migration 0013 count them."""
    where = (event_post_counts.c.event_id == event_id, event_post_counts.c.status == status)
    return int(conn.execute(select(event_post_counts.c.total).where(*where)).scalar() or 0)


def insert_event(conn: Connection, values: dict[str, Any]) -> int:
    return inserted_id(conn.execute(insert(events).values(**values)))


def update_event(conn: Connection, event_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(events).where(events.c.id == event_id).values(**values))


def ensure_outlet(conn: Connection, name: str, *, own: bool = False, timezone: str | None = None) -> Outlet:
    """The outlet of this name's slug, stored if new. One statement, so that concurrent first
    posts or polls naming the same new outlet all get the one row."""
    slug = slugify(name)
    conn.execute(insert_new(conn, outlets).values(slug=slug, name=name, own=own, timezone=timezone))
    return Outlet(**conn.execute(select(outlets).where(outlets.c.slug == slug)).one()._mapping)


def own_outlet_names(conn: Connection) -> set[str]:
    """The names of the site's own outlets."""
    return set(conn.execute(select(outlets.c.name).where(outlets.c.own == True)).scalars())  # noqa: E712


def outlet_id(conn: Connection, slug: str) -> int | None:
    return conn.execute(select(outlets.c.id).where(outlets.c.slug == slug)).scalar()
