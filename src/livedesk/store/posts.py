"""Posts: rows to JSON, listing with cursors, topics, versions and full-text search."""

from __future__ import annotations

import base64
import re
from datetime import datetime, timezone

from sqlalchemy import Connection, Float, Integer, and_, delete, desc, func, insert, or_, select, text, true

from livedesk.store.events import _iso
from livedesk.store.tables import events, outlets, post_topics, post_versions, posts

_WORD = re.compile(r"\w+", re.UNICODE)

POST_COLUMNS = [*posts.c, outlets.c.slug.label("outlet_slug"), outlets.c.name.label("outlet_name"),
                outlets.c.own.label("outlet_own"), events.c.slug.label("event_slug")]


class BadCursor(ValueError):
    pass


def post_to_dict(row) -> dict:
    return {
        "id": row.id,
        "event": row.event_slug,
        "outlet": {"slug": row.outlet_slug, "name": row.outlet_name, "own": bool(row.outlet_own)},
        "published_at": _iso(row.published_at),
        "time_known": bool(row.time_known),
        "updated_at": _iso(row.updated_at),
        "headline": row.headline,
        "body": row.body_md,
        "body_html": row.body_html,
        "media": row.media or [],
        "authors": row.authors or [],
        "topics": row.topics or [],
        "pinned": bool(row.pinned),
        "key_event": bool(row.key_event),
        "status": row.status,
        "version": row.version,
        "corrected_at": _iso(row.corrected_at),
        "correction_note": row.correction_note,
    }


def _base():
    return (
        select(*POST_COLUMNS)
        .join(outlets, outlets.c.id == posts.c.outlet_id)
        .join(events, events.c.id == posts.c.event_id)
    )


def get_post(conn: Connection, event_id: int, post_id: str):
    query = _base().where(posts.c.event_id == event_id, posts.c.id == post_id)
    return conn.execute(query).first()


def get_post_by_id(conn: Connection, post_id: str):
    return conn.execute(_base().where(posts.c.id == post_id)).first()


def encode_cursor(row) -> str:
    raw = f"{row.published_at.isoformat()}|{row.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, post_id = raw.split("|", 1)
        moment = datetime.fromisoformat(when)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor("cursor is not one this server gave out") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment, post_id


def _query_terms(dialect: str, q: str) -> str | None:
    """Every word of `q` must match; the last one as a prefix, so results come while typing."""
    words = [w.lower() for w in _WORD.findall(q)][:12]
    if not words:
        return None
    if dialect == "sqlite":
        return " ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])
    return " & ".join(words[:-1] + [words[-1] + ":*"])


def match_expression(conn: Connection, q: str):
    """A WHERE clause for posts whose headline or text match `q`, or None for no words."""
    terms = _query_terms(conn.dialect.name, q)
    if terms is None:
        return None
    if conn.dialect.name == "sqlite":
        return posts.c.num.in_(text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts").bindparams(fts=terms))
    return text("posts.search_vector @@ to_tsquery('simple', :tsq)").bindparams(tsq=terms)


def rank_expression(conn: Connection, q: str):
    """PostgreSQL relevance, larger is better; headline words weigh more (SQLite: bm25 in search_posts)."""
    terms = _query_terms(conn.dialect.name, q)
    return text("ts_rank_cd(posts.search_vector, to_tsquery('simple', :tsq2))").bindparams(tsq2=terms)


def list_posts(
    conn: Connection,
    event_id: int,
    *,
    order: str = "newest",
    limit: int = 20,
    before: str | None = None,
    after: str | None = None,
    topic: str | None = None,
    q: str | None = None,
    statuses: tuple[str, ...] = ("published",),
    outlet_own: bool | None = None,
) -> tuple[list, str | None]:
    """A page of posts and the cursor of the next page (None at the end)."""
    where = [posts.c.event_id == event_id, posts.c.status.in_(statuses)]
    if topic:
        where.append(posts.c.id.in_(select(post_topics.c.post_id).where(post_topics.c.topic == topic)))
    if q:
        match = match_expression(conn, q)
        if match is None:
            return [], None
        where.append(match)
    if outlet_own is not None:
        where.append(outlets.c.own == outlet_own)
    key = (posts.c.published_at, posts.c.id)
    if before:
        moment, post_id = decode_cursor(before)
        where.append(or_(key[0] < moment, and_(key[0] == moment, key[1] < post_id)))
    if after:
        moment, post_id = decode_cursor(after)
        where.append(or_(key[0] > moment, and_(key[0] == moment, key[1] > post_id)))

    pinned: list = []
    newest = order != "oldest"
    if newest and not before and not after:
        pinned = list(conn.execute(_base().where(*where, posts.c.pinned == true()).order_by(desc(key[0]))))
    if newest:
        where.append(posts.c.pinned == False)  # noqa: E712 - pinned posts lead the first page
        ordering = (desc(key[0]), desc(key[1]))
    else:
        ordering = (key[0], key[1])
    rows = list(conn.execute(_base().where(*where).order_by(*ordering).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return pinned + rows, next_cursor


def search_posts(
    conn: Connection,
    q: str,
    *,
    limit: int = 20,
    offset: int = 0,
    event_id: int | None = None,
    outlet_slug: str | None = None,
    topic: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list, int]:
    """Published posts matching `q`, best first, with the total count."""
    where = _search_where(conn, q, event_id=event_id, outlet_slug=outlet_slug, topic=topic, since=since, until=until)
    if where is None:
        return [], 0
    total = conn.execute(
        select(func.count()).select_from(posts.join(outlets, outlets.c.id == posts.c.outlet_id)).where(*where)
    ).scalar_one()
    if conn.dialect.name == "sqlite":
        # bm25 in the same FTS pass that finds the matches: once per match, not one MATCH per row
        hits = (
            text("SELECT rowid AS num, bm25(posts_fts, 4.0, 1.0) AS score FROM posts_fts WHERE posts_fts MATCH :hits")
            .bindparams(hits=_query_terms("sqlite", q))
            .columns(num=Integer, score=Float)
            .subquery("hits")
        )
        query = _base().join(hits, hits.c.num == posts.c.num).order_by(hits.c.score, desc(posts.c.published_at))
    else:
        query = _base().order_by(desc(rank_expression(conn, q)), desc(posts.c.published_at))
    return list(conn.execute(query.where(*where).limit(limit).offset(offset))), total


def _search_where(conn: Connection, q: str, *, event_id=None, outlet_slug=None, topic=None, since=None, until=None):
    """The WHERE clauses of a search, or None when `q` holds no words."""
    match = match_expression(conn, q)
    if match is None:
        return None
    where = [posts.c.status == "published", match]
    if event_id is not None:
        where.append(posts.c.event_id == event_id)
    if outlet_slug:
        where.append(outlets.c.slug == outlet_slug)
    if topic:
        where.append(posts.c.id.in_(select(post_topics.c.post_id).where(post_topics.c.topic == topic)))
    if since:
        where.append(posts.c.published_at >= since)
    if until:
        where.append(posts.c.published_at < until)
    return where


def search_facets(conn: Connection, q: str, **filters) -> dict[str, list[tuple[str, str, int]]]:
    """For a search: (value, label, count) per event, outlet, topic and UTC day, largest first."""
    where = _search_where(conn, q, **filters)
    if where is None:
        return {"event": [], "outlet": [], "topic": [], "day": []}
    joined = posts.join(outlets, outlets.c.id == posts.c.outlet_id).join(events, events.c.id == posts.c.event_id)
    day = func.date(posts.c.published_at)

    def count_by(*columns, source=joined, order=None):
        query = select(*columns, func.count()).select_from(source).where(*where).group_by(*columns)
        return conn.execute(query.order_by(order if order is not None else desc(func.count())).limit(30)).all()

    with_topics = joined.join(post_topics, post_topics.c.post_id == posts.c.id)
    return {
        "event": [(s, t, n) for s, t, n in count_by(events.c.slug, events.c.title)],
        "outlet": [(s, name, n) for s, name, n in count_by(outlets.c.slug, outlets.c.name)],
        "topic": [(t, t, n) for t, n in count_by(post_topics.c.topic, source=with_topics)],
        "day": [(str(d), str(d), n) for d, n in count_by(day, order=desc(day))],
    }


def latest_posts(
    conn: Connection, *, limit: int = 20, before: str | None = None, topic: str | None = None
) -> tuple[list, str | None]:
    """Published posts of every event, newest first, a page at a time."""
    where = [posts.c.status == "published"]
    if topic:
        where.append(posts.c.id.in_(select(post_topics.c.post_id).where(post_topics.c.topic == topic)))
    if before:
        moment, post_id = decode_cursor(before)
        where.append(or_(posts.c.published_at < moment, and_(posts.c.published_at == moment, posts.c.id < post_id)))
    query = _base().where(*where).order_by(desc(posts.c.published_at), desc(posts.c.id)).limit(limit + 1)
    rows = list(conn.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def versions_for(conn: Connection, post_ids: list[str]) -> dict[str, list[dict]]:
    """Previous versions of several posts at once, newest first: post id -> versions."""
    found: dict[str, list[dict]] = {}
    if not post_ids:
        return found
    rows = conn.execute(
        select(post_versions).where(post_versions.c.post_id.in_(post_ids)).order_by(desc(post_versions.c.version))
    )
    for r in rows:
        found.setdefault(r.post_id, []).append(
            {"version": r.version, "headline": r.headline, "body_html": r.body_html,
             "replaced_at": _iso(r.replaced_at), "note": r.note}
        )
    return found


def set_topics(conn: Connection, post_id: str, topics: list[str]) -> None:
    conn.execute(delete(post_topics).where(post_topics.c.post_id == post_id))
    if topics:
        conn.execute(insert(post_topics), [{"post_id": post_id, "topic": t} for t in dict.fromkeys(topics)])


def versions(conn: Connection, post_id: str) -> list[dict]:
    rows = conn.execute(
        select(post_versions).where(post_versions.c.post_id == post_id).order_by(post_versions.c.version)
    )
    return [
        {
            "version": r.version,
            "headline": r.headline,
            "body": r.body_md,
            "body_html": r.body_html,
            "media": r.media,
            "replaced_at": _iso(r.replaced_at),
            "note": r.note,
        }
        for r in rows
    ]


def topic_counts(conn: Connection, event_id: int | None = None) -> list[tuple[str, int]]:
    query = (
        select(post_topics.c.topic, func.count())
        .join(posts, posts.c.id == post_topics.c.post_id)
        .where(posts.c.status == "published")
        .group_by(post_topics.c.topic)
        .order_by(desc(func.count()))
    )
    if event_id is not None:
        query = query.where(posts.c.event_id == event_id)
    return [(t, n) for t, n in conn.execute(query)]
