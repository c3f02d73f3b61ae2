"""Events and outlets."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Connection, func, insert, select, update

from livedesk.store.tables import events, outlets, posts

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,118}$")


def slugify(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:80] or "outlet"


def event_to_dict(row, post_count: int | None = None) -> dict:
    data = {
        "slug": row.slug,
        "title": row.title,
        "standfirst": row.standfirst,
        "lead_media": row.lead_media,
        "status": row.status,
        "coverage_start": _iso(row.coverage_start),
        "coverage_end": _iso(row.coverage_end),
        "topics": row.topics or [],
        "links": row.links or [],
        "key_points": row.key_points or [],
        "created_at": _iso(row.created_at),
        "updated_at": _iso(row.updated_at),
    }
    if post_count is not None:
        data["post_count"] = post_count
    return data


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def get_event(conn: Connection, slug: str):
    return conn.execute(select(events).where(events.c.slug == slug)).first()


def list_events(conn: Connection, status: str | None = None) -> list:
    query = select(events).order_by(events.c.updated_at.desc())
    if status:
        query = query.where(events.c.status == status)
    return list(conn.execute(query))


def count_published(conn: Connection, event_id: int) -> int:
    query = select(func.count()).select_from(posts).where(
        posts.c.event_id == event_id, posts.c.status == "published"
    )
    return conn.execute(query).scalar_one()


def insert_event(conn: Connection, values: dict) -> int:
    return conn.execute(insert(events).values(**values)).inserted_primary_key[0]


def update_event(conn: Connection, event_id: int, values: dict) -> None:
    conn.execute(update(events).where(events.c.id == event_id).values(**values))


def ensure_outlet(conn: Connection, name: str, *, own: bool = False, timezone: str | None = None):
    slug = slugify(name)
    row = conn.execute(select(outlets).where(outlets.c.slug == slug)).first()
    if row is None:
        conn.execute(insert(outlets).values(slug=slug, name=name, own=own, timezone=timezone))
        row = conn.execute(select(outlets).where(outlets.c.slug == slug)).first()
    return row
