"""Each event's stored alignment (its developments), and the post columns alignment reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import BigInteger, Connection, Select, cast, delete, func, insert, select, text, update

from livedesk.model import AlignedPost, AlignmentSummary, Development, PostStatus, StoredAlignment, from_iso, iso
from livedesk.store.db import insert_new
from livedesk.store.tables import alignment_developments, alignment_posts, developments, outlets, posts, sources


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


def _align_columns() -> Select[Any]:
    return (
        select(posts.c.num, posts.c.id, posts.c.search_text, posts.c.headline, posts.c.published_at,
               posts.c.time_known, posts.c.position, posts.c.source_id, outlets.c.name.label("outlet"))
        .join(outlets, outlets.c.id == posts.c.outlet_id)
    )


def _published(event_id: int) -> Select[Any]:
    return _align_columns().where(posts.c.event_id == event_id, posts.c.status == PostStatus.published)


def aligned_rows(conn: Connection, event_id: int, *, after: int = 0) -> list[AlignRow]:
    """The event's published posts numbered above `after`, in the order they were stored.

    Live alignment asks for the few posts stored since it last read: SQLite is told to read the
    posts stored since by number, where it would walk all the event's posts by an index of
    the event (14 ms at 50,000 posts). PostgreSQL's planner knows how many numbers are that high."""
    query = _published(event_id).where(posts.c.num > after).order_by(posts.c.num)
    if after and conn.dialect.name == "sqlite":  # their numbers first, then those posts by number
        since = text("SELECT num FROM posts NOT INDEXED WHERE num > :after AND event_id = :event AND status = :status")
        nums = list(conn.execute(since, {"after": after, "event": event_id, "status": PostStatus.published.value}).scalars())
        query = _align_columns().where(posts.c.num.in_(nums)).order_by(posts.c.num)
    return [AlignRow(*row) for row in conn.execute(query)]


def aligned_rows_of(conn: Connection, event_id: int, post_ids: list[str]) -> list[AlignRow]:
    """These posts, those of them still published in the event."""
    return [AlignRow(*row) for row in conn.execute(_published(event_id).where(posts.c.id.in_(post_ids)))]


def stored(conn: Connection, event_id: int) -> StoredAlignment | None:
    """The stored alignment of an event (its posts without their text, no key-point
    suggestions), or None if it was never aligned."""
    summary = stored_summary(conn, event_id)
    if summary is None:
        return None
    post_rows = conn.execute(
        select(alignment_posts).where(alignment_posts.c.event_id == event_id).order_by(alignment_posts.c.seq)
    ).all()
    dev_rows = conn.execute(
        select(alignment_developments.c.first_time, alignment_developments.c.id, alignment_developments.c.data)
        .where(alignment_developments.c.event_id == event_id)
    ).all()
    never = datetime.max.replace(tzinfo=UTC)
    devs = [Development.from_json(row.data) for row in sorted(dev_rows, key=lambda r: (r.first_time or never, r.id))]
    names = sorted({row.outlet for row in post_rows})
    return StoredAlignment(
        posts=[_aligned_post(row) for row in post_rows],
        developments=devs,
        exclusives={o: [d.id for d in devs if d.outlets == [o]] for o in names},
        shares={o: round(sum(o in d.outlets for d in devs) / len(devs), 4) for o in names} if devs else {},
        last_num=summary.last_num,
        updated_at=summary.updated_at,
    )


def stored_summary(conn: Connection, event_id: int) -> AlignmentSummary | None:
    """The stored alignment's summary, or None if the event was never aligned."""
    data: dict[str, Any] | None = conn.execute(
        select(developments.c.data).where(developments.c.event_id == event_id)
    ).scalar()
    if data is None:
        return None
    return AlignmentSummary(last_num=data.get("last_num", 0), posts=data.get("posts", 0),
                            updated_at=from_iso(data.get("updated_at")), writer=data.get("writer"))


def development_ids(conn: Connection, event_id: int) -> set[str]:
    query = select(alignment_developments.c.id).where(alignment_developments.c.event_id == event_id)
    return set(conn.execute(query).scalars())


def aligned_posts_of(conn: Connection, event_id: int, post_ids: list[str] | set[str]) -> dict[str, AlignedPost]:
    """These posts as the event's alignment holds them, by id."""
    found: dict[str, AlignedPost] = {}
    ids = list(post_ids)
    for start in range(0, len(ids), 500):
        query = select(alignment_posts).where(
            alignment_posts.c.event_id == event_id, alignment_posts.c.post_id.in_(ids[start:start + 500]))
        found.update((row.post_id, _aligned_post(row)) for row in conn.execute(query))
    return found


def developments_of(conn: Connection, event_id: int, development_ids: set[str]) -> list[Development]:
    """These developments of the event, as stored."""
    if not development_ids:
        return []
    query = select(alignment_developments.c.data).where(
        alignment_developments.c.event_id == event_id, alignment_developments.c.id.in_(sorted(development_ids)))
    return [Development.from_json(data) for data in conn.execute(query).scalars()]


def _aligned_post(row: Any) -> AlignedPost:
    return AlignedPost(id=row.post_id, outlet=row.outlet, time=row.time, time_inferred=row.time_inferred,
                       time_uncertainty_s=row.time_uncertainty_s, headline=row.headline, development=row.development_id)


def published_span(conn: Connection, event_id: int) -> tuple[int, int]:
    """The highest number and the count of the event's published posts."""
    where = (posts.c.event_id == event_id, posts.c.status == PostStatus.published)
    newest, count = conn.execute(select(func.max(posts.c.num), func.count()).where(*where)).one()
    return newest or 0, count


def newest_num(conn: Connection, event_id: int) -> int:
    """The highest post number of the event, whatever the post's status."""
    query = select(func.coalesce(func.max(posts.c.num), 0)).where(posts.c.event_id == event_id)
    return int(conn.execute(query).scalar_one())


def positions(conn: Connection, source_ids: set[int], *, up_to: int) -> dict[str, tuple[int, int, int | None]]:
    """Post id -> (its source, its number, its place on its source's page), for the published posts
    of these sources numbered up to `up_to`."""
    query = select(posts.c.id, posts.c.source_id, posts.c.num, posts.c.position).where(
        posts.c.source_id.in_(source_ids), posts.c.status == PostStatus.published,
        posts.c.num + 0 <= up_to)
    return {row.id: (row.source_id, row.num, row.position) for row in conn.execute(query)}


def position_sums(conn: Connection, source_ids: set[int], *, up_to: int) -> dict[int, tuple[int, int, int]]:
    """Per source, (published posts numbered up to `up_to`, the sum of their positions, the sum of
    position × number): what changes when any of them moves on its page. A source belongs to one
    event: its posts and their positions are all in the index of migration 0015 (`num + 0`: read
    by that index, not by walking all post numbers)."""
    place = func.coalesce(posts.c.position, 0)
    query = (
        select(posts.c.source_id, func.count(), func.sum(place), func.sum(cast(place, BigInteger) * posts.c.num))
        .where(posts.c.source_id.in_(source_ids), posts.c.status == PostStatus.published,
               posts.c.num + 0 <= up_to)
        .group_by(posts.c.source_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0), int(row[3] or 0)) for row in conn.execute(query)}


def followed_events(conn: Connection, event_ids: list[int]) -> set[int]:
    """Those of these events that hold published posts of other outlets.

    Other outlets' posts come from the event's sources: looked up source by source, so the cost
    does not grow with the event's own posts (a check made on every post published)."""
    other_outlets_post = (
        select(posts.c.id).join(outlets, outlets.c.id == posts.c.outlet_id)
        .where(posts.c.source_id == sources.c.id, posts.c.status == PostStatus.published, outlets.c.own.is_(False))
    )
    query = select(sources.c.event_id).distinct().where(sources.c.event_id.in_(event_ids), other_outlets_post.exists())
    return set(conn.execute(query).scalars())


def _dev_row(event_id: int, dev: Development) -> dict[str, Any]:
    return {"event_id": event_id, "id": dev.id, "first_time": dev.first_time, "data": dev.to_json()}


def _post_row(event_id: int, post: AlignedPost, development_id: str, seq: int) -> dict[str, Any]:
    return {
        "event_id": event_id, "post_id": post.id, "development_id": development_id, "seq": seq,
        "outlet": post.outlet, "time": post.time, "time_inferred": post.time_inferred,
        "time_uncertainty_s": post.time_uncertainty_s, "headline": post.headline,
    }


def _lock_summary(conn: Connection, event_id: int, summary: dict[str, Any], when: datetime) -> dict[str, Any] | None:
    """Store a first summary in one statement (returns None), or lock the stored one and return it."""
    if conn.execute(insert_new(conn, developments).values(event_id=event_id, data=summary, updated_at=when)).rowcount == 1:
        return None
    row = conn.execute(
        select(developments.c.data).where(developments.c.event_id == event_id).with_for_update()
    ).one()
    return dict(row.data or {})


def _insert_rows(conn: Connection, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), 1000):
        conn.execute(insert(table), rows[start:start + 1000])


def save(conn: Connection, event_id: int, alignment: StoredAlignment, when: datetime, *, writer: str | None = None) -> bool:
    """Store the event's whole alignment (its posts, developments, `last_num` and `updated_at`) in
    place of the stored one, unless a newer one (by `last_num`) is stored; True if stored. `writer`
    names the live alignment that made it, so that it may later store only what it changed
    (`save_changes`)."""
    last_num = alignment.last_num
    summary = {"last_num": last_num, "posts": len(alignment.posts), "updated_at": iso(alignment.updated_at), "writer": writer}
    held = _lock_summary(conn, event_id, summary, when)
    if held is not None:
        if held.get("last_num", 0) > last_num:
            return False
        conn.execute(update(developments).where(developments.c.event_id == event_id).values(data=summary, updated_at=when))
        conn.execute(delete(alignment_developments).where(alignment_developments.c.event_id == event_id))
        conn.execute(delete(alignment_posts).where(alignment_posts.c.event_id == event_id))
    devs = alignment.developments
    dev_of = {pid: dev.id for dev in devs for pid in dev.post_ids}
    _insert_rows(conn, alignment_developments, [_dev_row(event_id, dev) for dev in devs])
    _insert_rows(conn, alignment_posts,
                 [_post_row(event_id, p, dev_of.get(p.id, ""), k) for k, p in enumerate(alignment.posts)])
    return True


def save_changes(
    conn: Connection, event_id: int, *, writer: str, since_num: int, last_num: int, count: int,
    changed: list[Development], removed: set[str], posts_in: list[tuple[AlignedPost, int]], when: datetime,
    updated_at: datetime | None = None, held_developments: dict[str, str] | None = None,
) -> bool | None:
    """Store what a live alignment changed since it stored the alignment of `since_num`: the
    `changed` developments (stored anew), the `removed` ones, and `posts_in` (each post with its
    place in the list; its development is the one that names it, else the one the caller holds
    for it in `held_developments`, else the stored one). True if stored; False if a
    newer alignment is stored; None if the stored rows are not the ones this `writer` stored
    at `since_num` (another node stored since), so the whole alignment must be stored instead."""
    summary = {"last_num": last_num, "posts": count, "updated_at": iso(updated_at), "writer": writer}
    held = _lock_summary(conn, event_id, summary, when)
    if held is None:
        conn.execute(delete(developments).where(developments.c.event_id == event_id))  # nothing to change: store it whole
        return None
    if held.get("last_num", 0) > last_num:
        return False
    if held.get("writer") != writer or held.get("last_num") != since_num:
        return None
    dev_of = {**(held_developments or {}), **{pid: dev.id for dev in changed for pid in dev.post_ids}}
    ids = [post.id for post, _seq in posts_in]
    missing = [pid for pid in ids if pid not in dev_of]  # posts whose time alone changed keep their development
    dev_of.update((pid, post.development) for pid, post in aligned_posts_of(conn, event_id, missing).items())
    gone = sorted(removed | {dev.id for dev in changed})
    for start in range(0, len(gone), 500):
        conn.execute(delete(alignment_developments).where(
            alignment_developments.c.event_id == event_id, alignment_developments.c.id.in_(gone[start:start + 500])))
    _insert_rows(conn, alignment_developments, [_dev_row(event_id, dev) for dev in changed])
    for start in range(0, len(ids), 500):
        conn.execute(delete(alignment_posts).where(
            alignment_posts.c.event_id == event_id, alignment_posts.c.post_id.in_(ids[start:start + 500])))
    _insert_rows(conn, alignment_posts, [_post_row(event_id, post, dev_of.get(post.id, ""), seq) for post, seq in posts_in])
    conn.execute(update(developments).where(developments.c.event_id == event_id).values(data=summary, updated_at=when))
    return True


def post_summaries(conn: Connection, event_id: int) -> dict[str, PostSummary]:
    query = (
        select(posts.c.id, posts.c.headline, posts.c.search_text, posts.c.source_id, outlets.c.own)
        .join(outlets, outlets.c.id == posts.c.outlet_id)
        .where(posts.c.event_id == event_id, posts.c.status == PostStatus.published)
    )
    return {row.id: PostSummary(*row) for row in conn.execute(query)}
