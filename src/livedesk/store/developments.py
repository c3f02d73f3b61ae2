"""Each event's stored alignment (its developments), and the post columns alignment reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, Select, func, select, update

from livedesk.model import PostStatus
from livedesk.store.db import insert_new
from livedesk.store.tables import developments, outlets, posts


class AlignRow(NamedTuple):
    """A published post as alignment reads it."""

    num: int
    id: str
    search_text: str
    headline: str | None
    published_at: datetime
    time_known: bool
    position: int | None
    source_id: int | None
    outlet: str


class PostSummary(NamedTuple):
    """What the compare views show of a published post beside its stored alignment."""

    id: str
    headline: str | None
    search_text: str
    source_id: int | None
    own: bool


def _published(event_id: int) -> Select[Any]:
    return (
        select(posts.c.num, posts.c.id, posts.c.search_text, posts.c.headline, posts.c.published_at,
               posts.c.time_known, posts.c.position, posts.c.source_id, outlets.c.name.label("outlet"))
        .join(outlets, outlets.c.id == posts.c.outlet_id)
        .where(posts.c.event_id == event_id, posts.c.status == PostStatus.published)
    )


def aligned_rows(conn: Connection, event_id: int, *, after: int = 0) -> list[AlignRow]:
    """The event's published posts numbered above `after`, in the order they were stored."""
    query = _published(event_id).where(posts.c.num > after).order_by(posts.c.num)
    return [AlignRow(*row) for row in conn.execute(query)]


def aligned_rows_of(conn: Connection, event_id: int, post_ids: list[str]) -> list[AlignRow]:
    """These posts, those of them still published in the event."""
    return [AlignRow(*row) for row in conn.execute(_published(event_id).where(posts.c.id.in_(post_ids)))]


def stored(conn: Connection, event_id: int) -> dict[str, Any] | None:
    """The stored alignment of an event, or None if it was never aligned."""
    data: dict[str, Any] | None = conn.execute(
        select(developments.c.data).where(developments.c.event_id == event_id)
    ).scalar()
    return data


def published_span(conn: Connection, event_id: int) -> tuple[int, int]:
    """The highest number and the count of the event's published posts."""
    where = (posts.c.event_id == event_id, posts.c.status == PostStatus.published)
    newest, count = conn.execute(select(func.max(posts.c.num), func.count()).where(*where)).one()
    return newest or 0, count


def newest_num(conn: Connection, event_id: int) -> int:
    """The highest post number of the event, whatever the post's status."""
    query = select(func.coalesce(func.max(posts.c.num), 0)).where(posts.c.event_id == event_id)
    return int(conn.execute(query).scalar_one())


def count_published_up_to(conn: Connection, event_id: int, up_to: int) -> int:
    """Published posts of the event numbered up to `up_to`."""
    where = (posts.c.event_id == event_id, posts.c.status == PostStatus.published, posts.c.num <= up_to)
    return int(conn.execute(select(func.count()).select_from(posts).where(*where)).scalar_one())


def positions(conn: Connection, event_id: int, source_ids: set[int]) -> dict[str, int | None]:
    """Post id -> its place on its source's page, for the posts of these sources."""
    query = select(posts.c.id, posts.c.position).where(posts.c.event_id == event_id, posts.c.source_id.in_(source_ids))
    return {row.id: row.position for row in conn.execute(query)}


def followed_events(conn: Connection, event_ids: list[int]) -> set[int]:
    """Those of these events that hold published posts of other outlets."""
    query = (
        select(posts.c.event_id).distinct().join(outlets, outlets.c.id == posts.c.outlet_id)
        .where(posts.c.event_id.in_(event_ids), posts.c.status == PostStatus.published, outlets.c.own.is_(False))
    )
    return set(conn.execute(query).scalars())


def save(conn: Connection, event_id: int, data: dict[str, Any], when: datetime) -> bool:
    """Store the event's alignment unless a newer one (by `last_num`) is stored; True if stored."""
    values = {"data": data, "updated_at": when}
    # a first save stores the row in one statement; otherwise the stored row is locked and compared
    if conn.execute(insert_new(conn, developments).values(event_id=event_id, **values)).rowcount == 1:
        return True
    row = conn.execute(
        select(developments.c.id, developments.c.data).where(developments.c.event_id == event_id).with_for_update()
    ).one()
    if (row.data or {}).get("last_num", 0) > data["last_num"]:
        return False
    conn.execute(update(developments).where(developments.c.id == row.id).values(**values))
    return True


def post_summaries(conn: Connection, event_id: int) -> dict[str, PostSummary]:
    query = (
        select(posts.c.id, posts.c.headline, posts.c.search_text, posts.c.source_id, outlets.c.own)
        .join(outlets, outlets.c.id == posts.c.outlet_id)
        .where(posts.c.event_id == event_id, posts.c.status == PostStatus.published)
    )
    return {row.id: PostSummary(*row) for row in conn.execute(query)}
