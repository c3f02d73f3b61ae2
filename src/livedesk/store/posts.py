"""Posts: reading and writing them, listing with cursors, topics, versions and full-text search."""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Row,
    Select,
    String,
    Subquery,
    TextClause,
    and_,
    bindparam,
    delete,
    desc,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    true,
    type_coerce,
    update,
)

from livedesk.model import Post, PostStatus, PostVersion
from livedesk.store.tables import event_topic_counts, events, outlets, post_topics, post_versions, posts

_WORD = re.compile(r"\w+", re.UNICODE)

POST_COLUMNS = [*posts.c, outlets.c.slug.label("outlet_slug"), outlets.c.name.label("outlet_name"),
                outlets.c.own.label("outlet_own"), events.c.slug.label("event_slug")]


class BadCursor(ValueError):
    pass


def _post(row: Any) -> Post:
    return Post(**{**row._mapping, "status": PostStatus(row.status)})


def _base() -> Select[Any]:
    return (
        select(*POST_COLUMNS)
        .join(outlets, outlets.c.id == posts.c.outlet_id)
        .join(events, events.c.id == posts.c.event_id)
    )


def get_post(conn: Connection, event_id: int, post_id: str) -> Post | None:
    row = conn.execute(_base().where(posts.c.event_id == event_id, posts.c.id == post_id)).first()
    return None if row is None else _post(row)


def get_post_by_id(conn: Connection, post_id: str) -> Post | None:
    row = conn.execute(_base().where(posts.c.id == post_id)).first()
    return None if row is None else _post(row)


def encode_cursor(row: Post | Row[Any]) -> str:
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
        moment = moment.replace(tzinfo=UTC)
    return moment, post_id


def _words(q: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(q)][:12]


def _query_terms(conn: Connection, q: str, event_id: int | None = None, outlet_id: int | None = None) -> str | None:
    """Every word of `q` must match; the last one as a prefix, so results come while typing.

    On SQLite the words look in headline and body only, and an event or outlet narrows the
    match inside the index (its `scope` column, see migration 0003)."""
    words = _words(q)
    if not words:
        return None
    if conn.dialect.name != "sqlite":
        return " & ".join(words[:-1] + [words[-1] + ":*"])
    terms = " AND ".join([f'"{w}"' for w in words[:-1]] + [_typed_word(conn, words[-1])])
    return _in_scope(f"{{headline body}} : ({terms})", event_id, outlet_id)


def _in_scope(terms: str, event_id: int | None, outlet_id: int | None = None) -> str:
    """SQLite: FTS5 terms narrowed to one event or outlet by the index's `scope` column."""
    scope = [f'scope : "{kind}{value}"' for kind, value in (("e", event_id), ("o", outlet_id)) if value is not None]
    return " AND ".join([terms, *scope])


def _typed_word(conn: Connection, word: str) -> str:
    """The last word as FTS5 phrases: the indexed words that begin with it, read from the index's
    vocabulary. FTS5's own prefix query merges every match of every such word before the first
    result comes, once per query; named words stream newest first. A prefix of very many words,
    or one the tokenizer would fold (accents), still takes the prefix query: the index keeps
    prefixes of two and three letters (migration 0003), where most such cases fall."""
    if word.isascii():
        found = conn.execute(
            text("SELECT term FROM posts_fts_terms WHERE term >= :word AND term < :past LIMIT :most"),
            {"word": word, "past": word + "\U0010ffff", "most": EXPAND_AT_MOST + 1},
        ).scalars().all()
        found = [term for term in found if term.startswith(word)]
        if len(found) <= EXPAND_AT_MOST:
            return "(" + " OR ".join(f'"{term}"' for term in found or [word]) + ")"
    return f'"{word}"*'


def match_expression(conn: Connection, q: str, event_id: int | None = None) -> ColumnElement[bool] | TextClause | None:
    """A WHERE clause for posts whose headline or text match `q`, or None for no words."""
    terms = _query_terms(conn, q, event_id)
    if terms is None:
        return None
    if conn.dialect.name == "sqlite":
        return posts.c.num.in_(text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :fts").bindparams(fts=terms))
    return text("posts.search_vector @@ to_tsquery('simple', :tsq)").bindparams(tsq=terms)


def place_untimed(conn: Connection, event_id: int, times: dict[str, datetime]) -> None:
    """Move untimed posts to the times their alignment inferred, so every list places them there.

    Their `time_known` stays false: pages show such a time as "about".
    """
    if not times:
        return
    query = update(posts).where(
        posts.c.event_id == event_id, posts.c.id == bindparam("post_id"), posts.c.time_known == False,  # noqa: E712
        posts.c.published_at != bindparam("when"),
    ).values(published_at=bindparam("when"))
    conn.execute(query, [{"post_id": post_id, "when": when} for post_id, when in times.items()])


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
    statuses: tuple[str, ...] = (PostStatus.published,),
    outlet_own: bool | None = None,
    created_by: int | None = None,
) -> tuple[list[Post], str | None]:
    """A page of posts (those `created_by` one user, if given) and the cursor of the next page
    (None at the end)."""
    where: list[ColumnElement[bool] | TextClause] = [posts.c.event_id == event_id, posts.c.status.in_(statuses)]
    if created_by is not None:
        where.append(posts.c.created_by == created_by)
    if topic:  # looked up post by post along the time index: a page stops after its posts
        where.append(exists().where(post_topics.c.post_id == posts.c.id, post_topics.c.topic == topic))
    streamed = None  # SQLite: the words of a query that many of the event's posts match
    matched = None  # SQLite: else the numbers of the posts they match
    if q:
        if conn.dialect.name == "sqlite":
            terms = _query_terms(conn, q, event_id)
            if terms is None:
                return [], None
            streamed, matched = _event_matches(conn, terms)
            if matched is not None:  # one parameter, not one each
                where.append(posts.c.num.in_(text("SELECT value FROM json_each(:nums)").bindparams(nums=json.dumps(matched))))
        else:
            match = match_expression(conn, q, event_id)
            if match is None:
                return [], None
            where.append(match)
    if outlet_own is not None:
        where.append(outlets.c.own == outlet_own)
    key = (posts.c.published_at, posts.c.id)
    if before:
        where.append(_past_cursor(*decode_cursor(before), older=True))
    if after:
        where.append(_past_cursor(*decode_cursor(after), older=False))

    pinned: list[Post] = []
    newest = order != "oldest"
    if newest and not before and not after:
        nums = _pinned_nums(conn, event_id)
        if streamed is not None:
            nums = [num for num in nums if _matches(conn, streamed, num)]
        if nums:
            pinned = [_post(r) for r in conn.execute(_base().where(*where, posts.c.num.in_(nums)).order_by(desc(key[0])))]
    if newest:
        where.append(posts.c.pinned == False)  # noqa: E712 - pinned posts lead the first page
        ordering = (desc(key[0]), desc(key[1]))
    else:
        ordering = (key[0], key[1])
    if streamed is not None:
        rows = _streamed_page(conn, streamed, where, newest=newest, most=limit + 1)
    elif matched is not None:  # the matches' numbers sorted, then only the page's posts read whole
        page = conn.execute(select(posts.c.num).select_from(posts.join(outlets, outlets.c.id == posts.c.outlet_id))
                            .where(*where).order_by(*ordering).limit(limit + 1)).scalars().all()
        found = {r.num: _post(r) for r in conn.execute(_base().where(posts.c.num.in_(page)))} if page else {}
        rows = [found[num] for num in page]
    else:
        rows = [_post(r) for r in conn.execute(_base().where(*where).order_by(*ordering).limit(limit + 1))]
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(rows[-1]) if more and rows else None
    return pinned + rows, next_cursor


LIST_STREAM_FROM = 2000  # SQLite: a list filtered by words many posts match reads the index in order


def _event_matches(conn: Connection, terms: str) -> tuple[str | None, list[int] | None]:
    """SQLite: (terms, None) when `terms` (in one event's scope) match LIST_STREAM_FROM posts or
    more, else (None, the numbers of the posts they match). Fewer matches are read once and
    sorted by time; more would cost a read of every match for each page, so `_streamed_page`
    reads them in stored order instead."""
    some = text("SELECT rowid FROM posts_fts WHERE posts_fts MATCH :terms LIMIT :most").bindparams(terms=terms, most=LIST_STREAM_FROM)
    found = conn.execute(select(func.count()).select_from(some.columns(rowid=Integer).subquery())).scalar_one()
    if found >= LIST_STREAM_FROM:  # counted, not read: the page reads them in stored order
        return terms, None
    return None, list(conn.execute(some).scalars())


def _streamed_page(conn: Connection, terms: str, where: list[ColumnElement[bool] | TextClause], *, newest: bool,
                   most: int) -> list[Post]:
    """SQLite: the first `most` posts in list order (newest or oldest first) that pass `where` and
    match `terms`, reading the index's matches in stored order and stopping after `most`. A live
    event stores its posts in time order nearly always; the few stored out of it (backdated,
    scheduled, or placed at an inferred time) that fall within the page's span of time are
    looked up after, each checked against the index."""
    direction = "DESC" if newest else "ASC"
    stream = (text(f"SELECT rowid FROM posts_fts WHERE posts_fts MATCH :terms ORDER BY rowid {direction}")
              .bindparams(terms=terms).columns(rowid=Integer).subquery("fts"))
    order = desc(stream.c.rowid) if newest else stream.c.rowid
    query = _base().join(stream, stream.c.rowid == posts.c.num).where(*where).order_by(order).limit(most)
    found = [_post(r) for r in conn.execute(query)]

    def key(p: Post) -> tuple[datetime, str]:
        return (p.published_at, p.id)

    if len(found) < most:
        return sorted(found, key=key, reverse=newest)
    if newest:  # stored before the last one read, dated within the page's span
        edge, first = min(found, key=key).published_at, min(p.num for p in found)
        span = [posts.c.published_at >= edge, posts.c.num + 0 < first]
    else:
        edge, first = max(found, key=key).published_at, max(p.num for p in found)
        span = [posts.c.published_at <= edge, posts.c.num + 0 > first]
    late = [_post(r) for r in conn.execute(_base().where(*where, *span)) if _matches(conn, terms, r.num)]
    return sorted(found + late, key=key, reverse=newest)[:most]


def _past_cursor(moment: datetime, post_id: str, *, older: bool) -> ColumnElement[bool]:
    """Posts after a cursor's post in the list's order (older ones, or newer ones). The first term
    bounds the walk of the time index, so a page deep in a big event starts at its cursor instead
    of walking every newer post to get there."""
    if older:
        return and_(posts.c.published_at <= moment, or_(posts.c.published_at < moment, posts.c.id < post_id))
    return and_(posts.c.published_at >= moment, or_(posts.c.published_at > moment, posts.c.id > post_id))


def _pinned_nums(conn: Connection, event_id: int) -> list[int]:
    """The numbers of the event's pinned posts, from their own small index (migration 0015), which
    SQLite's planner must be told of: it would rather walk all the event's posts."""
    if conn.dialect.name == "sqlite":
        query = text("SELECT num FROM posts INDEXED BY ix_posts_pinned WHERE event_id = :event AND pinned = 1")
        return list(conn.execute(query, {"event": event_id}).scalars())
    return list(conn.execute(select(posts.c.num).where(posts.c.event_id == event_id, posts.c.pinned == true())).scalars())


# A search ranks the newest SEARCH_WINDOW matching posts (after the filters) and counts no
# further: a common word matches a good part of the archive, and ranking all of it would take
# seconds. Ranking: headline words weigh four times body words (bm25 on SQLite, ts_rank_cd on
# PostgreSQL), ties go to the newest post.
SEARCH_WINDOW = 1000
RANK_WEIGHTS = "'{0.1, 0.2, 0.25, 1.0}'::real[]"  # ts_rank_cd weights of D, C, B (body), A (headline)
EVERY_NUM = (0, 2**62)
EXPAND_AT_MOST = 64  # SQLite: a typed prefix is looked up as at most this many whole words
MOST_SLICES = 2  # PostgreSQL: slices of time searched one by one before all posts at once
COMMON_WORD = 0.05  # PostgreSQL: a word in this share of posts walks them newest first


class Search(NamedTuple):
    rows: list[Post]  # the page asked for, best first
    total: int  # matches counted, at most SEARCH_WINDOW
    capped: bool  # more posts match than were counted
    facets: dict[str, list[tuple[str, str, int]]] | None  # see search_facets; only when asked for


class _Hit(NamedTuple):
    num: int
    published_at: Any  # a datetime; on SQLite the stored text, which sorts the same
    score: float = 0.0  # larger is better


def search_posts(
    conn: Connection,
    q: str,
    *,
    limit: int = 20,
    offset: int = 0,
    facets: bool = False,
    event_id: int | None = None,
    outlet_slug: str | None = None,
    topic: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Search:
    """Published posts matching `q`, best first, among the newest SEARCH_WINDOW matches."""
    window = _search_window(conn, q, event_id=event_id, outlet_slug=outlet_slug, topic=topic, since=since, until=until)
    capped = len(window) > SEARCH_WINDOW
    window = window[:SEARCH_WINDOW]
    ranked = sorted(window, key=lambda h: (h.score, h.published_at, h.num), reverse=True)
    page = [h.num for h in ranked[offset : offset + limit]]
    found = {r.num: _post(r) for r in conn.execute(_base().where(posts.c.num.in_(page)))} if page else {}
    return Search(
        rows=[found[n] for n in page if n in found],
        total=len(window),
        capped=capped,
        facets=search_facets(conn, [h.num for h in window]) if facets else None,
    )


def _search_window(conn: Connection, q: str, *, event_id: int | None, outlet_slug: str | None, topic: str | None,
                   since: datetime | None, until: datetime | None) -> list[_Hit]:
    """The newest SEARCH_WINDOW + 1 published posts that match, newest first, with their scores."""
    if not _words(q):
        return []
    outlet_id = None
    if outlet_slug:
        outlet_id = conn.execute(select(outlets.c.id).where(outlets.c.slug == outlet_slug)).scalar()
        if outlet_id is None:
            return []
    where = [posts.c.status == PostStatus.published]
    if event_id is not None:
        where.append(posts.c.event_id == event_id)
    if outlet_id is not None:
        where.append(posts.c.outlet_id == outlet_id)
    if topic:
        where.append(posts.c.id.in_(select(post_topics.c.post_id).where(post_topics.c.topic == topic)))
    if since:
        where.append(posts.c.published_at >= since)
    if until:
        where.append(posts.c.published_at < until)
    terms = _query_terms(conn, q)
    if terms is None:
        return []
    if conn.dialect.name == "sqlite":
        return _window_sqlite(conn, terms, _in_scope(terms, event_id, outlet_id), where, timed=bool(since or until))
    return _window_postgresql(conn, terms, where)


def _window_postgresql(conn: Connection, terms: str, where: list[ColumnElement[bool]]) -> list[_Hit]:
    # Each query's plan needs the words and the time bounds: a generic plan of a prepared
    # statement would make one choice for all.
    conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")
    vector: ColumnElement[Any] = literal_column("posts.search_vector")
    query = func.to_tsquery(literal_column("'simple'"), bindparam("tsq", terms))

    def matching(*within: ColumnElement[bool]) -> Select[Any]:
        return select(posts.c.num, posts.c.published_at, vector.label("vector")).where(*where, *within, vector.op("@@")(query))

    def newest(within: list[ColumnElement[bool]], most: int) -> list[_Hit]:
        window = matching(*within).order_by(desc(posts.c.published_at), desc(posts.c.num)).limit(most).subquery("newest")
        rank = func.ts_rank_cd(literal_column(RANK_WEIGHTS), window.c.vector, query)  # for the window only
        rows = select(window.c.num, window.c.published_at, rank).order_by(desc(window.c.published_at), desc(window.c.num))
        return [_Hit(*row) for row in conn.execute(rows)]

    return _in_time_slices(conn, where, newest, _planned_rows(conn, matching()))


def _planned_rows(conn: Connection, query: Select[Any]) -> float:
    """How many rows PostgreSQL expects `query` to return."""
    compiled = query.compile(dialect=conn.dialect)
    plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar()
    return float(plan[0]["Plan"]["Plan Rows"]) if plan else 0.0


def _in_time_slices(conn: Connection, where: list[ColumnElement[bool]], newest: Callable[[list[ColumnElement[bool]], int], list[_Hit]],
                    expected: float) -> list[_Hit]:
    """PostgreSQL: the newest SEARCH_WINDOW + 1 matches, `newest(within, most)` asked slice by
    slice of time going back from the newest post, when that is cheaper than asking at once.

    A word in a few percent of posts matches tens of thousands: sorting them all, or walking
    the time index and testing each post, reads that many rows. Within a slice of time the
    planner combines the word index with the time index and reads only the matching posts of
    the slice. The first slice is sized from the planner's count of matches to hold the window,
    a next one from the matches found. The time index reads a slice's posts some 50 times
    cheaper than a match is read, so a rarer word (its matches fewer than a fiftieth of the
    slice's posts) is better read whole; a common word fills the window soon when the time
    index is walked backwards: both, and what MOST_SLICES slices did not find, are asked at once."""
    stored = float(conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = 'posts'::regclass")).scalar() or 0)
    share = 1.3 * SEARCH_WINDOW / max(expected, 1.0)  # of the time searched
    if share < 1 and share * stored / 50 < expected < COMMON_WORD * stored:
        oldest, latest = conn.execute(select(func.min(posts.c.published_at), func.max(posts.c.published_at)).where(*where)).one()
        if latest is None:
            return []
        found: list[_Hit] = []
        top, bottom = None, latest - (latest - oldest) * share
        for _ in range(MOST_SLICES):
            if bottom <= oldest:
                break
            within = [posts.c.published_at >= bottom] + ([posts.c.published_at < top] if top else [])
            found += newest(within, SEARCH_WINDOW + 1 - len(found))
            if len(found) > SEARCH_WINDOW:
                return found
            growth = min(8.0, 1.5 * (SEARCH_WINDOW + 1 - len(found)) / len(found)) if found else 8.0
            top, bottom = bottom, bottom - (latest - bottom) * growth
    return newest([], SEARCH_WINDOW + 1)


def _fts_rows(terms: str, span: tuple[int, int], *, newest_first: bool = False) -> Subquery:
    order = " ORDER BY rowid DESC" if newest_first else ""
    return (
        text(f"SELECT rowid FROM posts_fts WHERE posts_fts MATCH :terms AND rowid BETWEEN :low AND :high{order}")
        .bindparams(terms=terms, low=span[0], high=span[1])
        .columns(rowid=Integer)
        .subquery("fts")
    )


def _window_sqlite(conn: Connection, words: str, terms: str, where: list[ColumnElement[bool]], *, timed: bool) -> list[_Hit]:
    """The window found with `terms` (the `words` in scope), scored by the words alone."""
    span = EVERY_NUM
    if timed:  # the posts of that time were stored between these numbers
        low, high = conn.execute(select(func.min(posts.c.num), func.max(posts.c.num)).where(*where)).one()
        if low is None:
            return []
        span = (low, high)
    # The time as stored ("2031-03-01 06:00:00.000000", in time order as text): a window of a
    # thousand posts is sorted and compared here, and making each a datetime took longer.
    stored_at = type_coerce(posts.c.published_at, String)
    newest = (stored_at, posts.c.num)
    columns = (posts.c.num, stored_at)
    few = _fts_rows(terms, span)
    enough = few_matches(conn.execute(select(func.max(posts.c.num))).scalar() or 0)
    if conn.execute(select(func.count()).select_from(select(few.c.rowid).limit(enough).subquery())).scalar_one() < enough:
        window = conn.execute(
            select(*columns).select_from(few.join(posts, posts.c.num == few.c.rowid))
            .where(*where).order_by(desc(newest[0]), desc(newest[1])).limit(SEARCH_WINDOW + 1)
        ).all()
        return _bm25(conn, words, [_Hit(*r) for r in window])
    # Many matches: read them newest stored first and stop after the window. A post stored
    # earlier but dated inside the window (scheduled, backdated or re-dated) is looked up after.
    stream = _fts_rows(terms, span, newest_first=True)
    stored = [_Hit(*r) for r in conn.execute(
        select(*columns).select_from(stream.join(posts, posts.c.num == stream.c.rowid))
        .where(*where).order_by(desc(stream.c.rowid)).limit(SEARCH_WINDOW + 1)
    )]
    if len(stored) <= SEARCH_WINDOW:
        return _bm25(conn, words, sorted(stored, key=lambda h: (h.published_at, h.num), reverse=True))
    oldest = min(h.published_at for h in stored)
    first = min(h.num for h in stored)
    stored_before = (posts.c.num + 0).between(span[0], first - 1)  # "+ 0": walk the time index, not the numbers
    dated_later = conn.execute(select(*columns).where(*where, stored_at >= oldest, stored_before)).all()
    late = [_Hit(*r) for r in dated_later if _matches(conn, terms, r.num)]
    merged = sorted(stored + late, key=lambda h: (h.published_at, h.num), reverse=True)[: SEARCH_WINDOW + 1]
    return _bm25(conn, words, merged, apart={h.num for h in late} & {h.num for h in merged})


def few_matches(stored: int) -> int:
    """SQLite: up to this many index matches are all read and sorted by time (one post look-up
    each); more are read newest stored first, which stops after the window but then walks the
    time index over the window's time for posts stored out of order (about stored × window /
    matches entries, some 50 times cheaper each). The two costs meet near this count.
    PostgreSQL's planner makes the same choice itself."""
    return max(SEARCH_WINDOW, math.isqrt(SEARCH_WINDOW * stored // 50))


def _matches(conn: Connection, terms: str, num: int) -> bool:
    one = text("SELECT 1 FROM posts_fts WHERE posts_fts MATCH :terms AND rowid = :num")
    return conn.execute(one, {"terms": terms, "num": num}).first() is not None


def _bm25(conn: Connection, terms: str, window: list[_Hit], apart: set[int] | frozenset[int] = frozenset()) -> list[_Hit]:
    """The window with bm25 scores, read from the index over the range of numbers the window
    spans (each in `apart` on its own): one pass, not one index look-up per post.

    `terms` are the words without the scope of an event or outlet: the scope column weighs 0,
    so its phrase adds nothing to a score, but bm25 would first count every post of the event
    to weigh that phrase (its IDF), a read as long as the event. Posts of other events in the
    range are scored too and left out."""
    if not window:
        return window
    together = [h.num for h in window if h.num not in apart]
    spans = [(min(together), max(together))] if together else []
    spans += [(n, n) for n in apart]
    bm25 = text("SELECT rowid, bm25(posts_fts, 4.0, 1.0, 0.0) FROM posts_fts"
                " WHERE posts_fts MATCH :terms AND rowid BETWEEN :low AND :high")
    scores: dict[int, float] = {}
    for low, high in spans:
        scores.update(conn.execute(bm25.bindparams(terms=terms, low=low, high=high)).all())
    return [_Hit(num, at, -scores[num]) for num, at, _ in window]  # bm25: smaller is better


def search_facets(conn: Connection, nums: list[int]) -> dict[str, list[tuple[str, str, int]]]:
    """(value, label, count) per event, outlet, topic and UTC day among the posts numbered
    `nums` (a search's window), largest first."""
    if not nums:
        return {"event": [], "outlet": [], "topic": [], "day": []}
    joined = posts.join(outlets, outlets.c.id == posts.c.outlet_id).join(events, events.c.id == posts.c.event_id)
    day = func.date(posts.c.published_at)

    def count_by(*columns: ColumnElement[Any], source: FromClause = joined, order: ColumnElement[Any] | None = None) -> Sequence[Any]:
        query = select(*columns, func.count()).select_from(source).where(posts.c.num.in_(nums)).group_by(*columns)
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
) -> tuple[list[Post], str | None]:
    """Published posts of every event, newest first, a page at a time."""
    where = [posts.c.status == PostStatus.published]
    if topic:
        where.append(posts.c.id.in_(select(post_topics.c.post_id).where(post_topics.c.topic == topic)))
    if before:
        where.append(_past_cursor(*decode_cursor(before), older=True))
    query = _base().where(*where).order_by(desc(posts.c.published_at), desc(posts.c.id)).limit(limit + 1)
    rows = [_post(r) for r in conn.execute(query)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(rows[-1]) if more and rows else None)


def versions_for(conn: Connection, post_ids: list[str]) -> dict[str, list[PostVersion]]:
    """Previous versions of several posts at once, newest first: post id -> versions."""
    found: dict[str, list[PostVersion]] = {}
    if not post_ids:
        return found
    rows = conn.execute(
        select(post_versions).where(post_versions.c.post_id.in_(post_ids)).order_by(desc(post_versions.c.version))
    )
    for r in rows:
        found.setdefault(r.post_id, []).append(PostVersion(**r._mapping))
    return found


def set_topics(conn: Connection, post_id: str, topics: list[str], *, new_post: bool = False) -> None:
    if not new_post:
        conn.execute(delete(post_topics).where(post_topics.c.post_id == post_id))
    if topics:
        conn.execute(insert(post_topics), [{"post_id": post_id, "topic": t} for t in dict.fromkeys(topics)])


def versions(conn: Connection, post_id: str) -> list[PostVersion]:
    """Previous versions of a post, oldest first."""
    rows = conn.execute(
        select(post_versions).where(post_versions.c.post_id == post_id).order_by(post_versions.c.version)
    )
    return [PostVersion(**r._mapping) for r in rows]


def topic_counts(conn: Connection, event_id: int | None = None) -> list[tuple[str, int]]:
    """Published posts per topic (of one event, or of all), most first: read from the counts the
    triggers of migration 0013 keep."""
    counts = event_topic_counts.c
    if event_id is not None:
        query = select(counts.topic, counts.total).where(counts.event_id == event_id, counts.total > 0)
        query = query.order_by(desc(counts.total), counts.topic)
    else:
        total = func.sum(counts.total)
        query = select(counts.topic, total).group_by(counts.topic).having(total > 0).order_by(desc(total), counts.topic)
    return [(t, int(n)) for t, n in conn.execute(query)]


# ---- writing ------------------------------------------------------------------------------

def insert_post(conn: Connection, post_id: str, event_id: int, values: dict[str, Any], when: datetime) -> Post:
    """Store a new post from its column values (topics included) and return it."""
    values = dict(values)
    topics = values.pop("topics", [])
    conn.execute(insert(posts).values(id=post_id, event_id=event_id, updated_at=when, created_at=when, topics=topics, **values))
    set_topics(conn, post_id, topics, new_post=True)
    post = get_post(conn, event_id, post_id)
    assert post is not None
    return post


def keep_version(conn: Connection, post: Post, note: str | None, when: datetime) -> None:
    """Keep the post's current headline, text and media as a replaced version."""
    conn.execute(
        insert(post_versions).values(
            post_id=post.id, version=post.version, headline=post.headline, body_md=post.body_md,
            body_html=post.body_html, media=post.media, replaced_at=when, note=note,
        )
    )


def update_post(conn: Connection, post_id: str, values: dict[str, Any], *, version: int | None = None) -> bool:
    """Set columns of a post; `topics`, if given, also replace its topic rows.

    With `version`, only while the stored post still has that version (one conditional UPDATE,
    so two editors racing cannot both win); False when it has moved on and nothing was written.
    """
    query = update(posts).where(posts.c.id == post_id)
    if version is not None:
        query = query.where(posts.c.version == version)
    if conn.execute(query.values(**values)).rowcount != 1 and version is not None:
        return False
    if "topics" in values:
        set_topics(conn, post_id, values["topics"])
    return True


def publish_scheduled(conn: Connection, post_id: str, when: datetime) -> bool:
    """Publish a scheduled post; False if it is no longer scheduled (another node took it)."""
    result = conn.execute(
        update(posts)
        .where(posts.c.id == post_id, posts.c.status == PostStatus.scheduled)
        .values(status=PostStatus.published, updated_at=when)
    )
    return result.rowcount == 1


def due_posts(conn: Connection, moment: datetime, limit: int = 500) -> list[tuple[str, int]]:
    """(post id, event id) of scheduled posts whose time has come."""
    query = select(posts.c.id, posts.c.event_id).where(posts.c.status == PostStatus.scheduled, posts.c.published_at <= moment)
    return [(r.id, r.event_id) for r in conn.execute(query.limit(limit))]


def source_posts(conn: Connection, source_id: int) -> list[Post]:
    return [_post(r) for r in conn.execute(_base().where(posts.c.source_id == source_id))]


def set_position(conn: Connection, post_id: str, position: int) -> None:
    conn.execute(update(posts).where(posts.c.id == post_id).values(position=position))


def detach_source(conn: Connection, source_id: int) -> None:
    """The posts a source brought stay, no longer tied to it."""
    conn.execute(update(posts).where(posts.c.source_id == source_id).values(source_id=None))


def source_post_counts(conn: Connection, event_id: int) -> dict[int, int]:
    """Published posts of the event per source."""
    query = (
        select(posts.c.source_id, func.count())
        .where(posts.c.event_id == event_id, posts.c.status == PostStatus.published, posts.c.source_id.is_not(None))
        .group_by(posts.c.source_id)
    )
    return {int(row.source_id): int(row[1]) for row in conn.execute(query)}


def post_events(conn: Connection, post_ids: list[str]) -> dict[int, list[str]]:
    """The events of these posts, each with its posts among them."""
    found: dict[int, list[str]] = {}
    for row in conn.execute(select(posts.c.id, posts.c.event_id).where(posts.c.id.in_(post_ids))):
        found.setdefault(row.event_id, []).append(row.id)
    return found
