"""An event's rows, read out as plain JSON values and written back on another database.

`read_event` gathers everything an event holds: the event, its sources, posts (with topics and
earlier versions), developments, and the outlets and users those rows name. `write_event` stores
such a dump on any engine, giving each row a new number there and mapping every reference (a
post's outlet, source and author; a version's post; the alignment's last post number) to it.
Posts keep their public ids, so their links and the developments that name them stay right.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select

from livedesk.errors import Invalid
from livedesk.model import StoredAlignment
from livedesk.store import developments as alignment
from livedesk.store.db import insert_new
from livedesk.store.tables import (
    UTCDateTime,
    developments,
    events,
    outlets,
    post_topics,
    post_versions,
    posts,
    sources,
    users,
)

FORMAT = "livedesk-event"
VERSION = 1

# columns that only mean something on the database that wrote them
_LOCAL = {"sources": {"lease_owner", "lease_until"}}


def _row(table: Table, row: Any) -> dict[str, Any]:
    local = _LOCAL.get(table.name, set())
    return {key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in row._mapping.items() if key not in local}


def _values(table: Table, data: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """A dumped row as column values again: times parsed, the table's own numbering dropped."""
    values = {}
    for key, value in data.items():
        if key in drop or key not in table.c:
            continue
        if isinstance(table.c[key].type, UTCDateTime) and isinstance(value, str):
            value = datetime.fromisoformat(value)
        values[key] = value
    return values


def read_event(conn: Connection, slug: str) -> dict[str, Any] | None:
    """Everything the event holds, as JSON values; None if there is no such event."""
    event = conn.execute(select(events).where(events.c.slug == slug)).first()
    if event is None:
        return None
    post_rows = conn.execute(select(posts).where(posts.c.event_id == event.id).order_by(posts.c.num)).all()
    source_rows = conn.execute(select(sources).where(sources.c.event_id == event.id).order_by(sources.c.id)).all()
    post_ids = [p.id for p in post_rows]
    outlet_ids = {p.outlet_id for p in post_rows} | {s.outlet_id for s in source_rows if s.outlet_id is not None}
    user_ids = {p.created_by for p in post_rows if p.created_by is not None}
    in_posts = post_versions.c.post_id.in_(post_ids)
    return {
        "format": FORMAT,
        "version": VERSION,
        "event": _row(events, event),
        "outlets": [_row(outlets, r) for r in conn.execute(select(outlets).where(outlets.c.id.in_(outlet_ids)).order_by(outlets.c.id))],
        "users": [{"id": r.id, "name": r.name, "role": r.role}
                  for r in conn.execute(select(users).where(users.c.id.in_(user_ids)).order_by(users.c.id))],
        "sources": [_row(sources, r) for r in source_rows],
        "posts": [_row(posts, r) for r in post_rows],
        "post_topics": [_row(post_topics, r) for r in conn.execute(
            select(post_topics).where(post_topics.c.post_id.in_(post_ids)).order_by(post_topics.c.post_id, post_topics.c.topic))],
        "post_versions": [_row(post_versions, r) for r in conn.execute(
            select(post_versions).where(in_posts).order_by(post_versions.c.post_id, post_versions.c.version))],
        "developments": [{**_row(developments, r), "data": _alignment_json(conn, event.id)} for r in conn.execute(
            select(developments).where(developments.c.event_id == event.id))],
    }


def _alignment_json(conn: Connection, event_id: int) -> dict[str, Any] | None:
    data = alignment.stored(conn, event_id)
    return data.to_json() if data else None


def write_event(conn: Connection, dump: dict[str, Any]) -> int:
    """Store a dump from `read_event` in the caller's transaction; the new event's id.

    Invalid (nothing stored) if the event's slug or any of its post ids is taken here."""
    if dump.get("format") != FORMAT or dump.get("version") != VERSION:
        raise Invalid(f"not a {FORMAT} archive of version {VERSION}")
    slug = dump["event"]["slug"]
    if conn.execute(select(events.c.id).where(events.c.slug == slug)).first() is not None:
        raise Invalid(f"an event called {slug!r} exists here already")
    post_ids = [p["id"] for p in dump["posts"]]
    for start in range(0, len(post_ids), 500):
        taken = conn.execute(select(posts.c.id).where(posts.c.id.in_(post_ids[start:start + 500]))).scalars().first()
        if taken is not None:
            raise Invalid(f"post {taken!r} of this archive exists here already")

    event_id = _insert(conn, events, _values(events, dump["event"], drop=("id",)))
    outlet_map = {o["id"]: _outlet(conn, o) for o in dump["outlets"]}
    user_map = {u["id"]: _user(conn, u) for u in dump["users"]}
    source_map = {}
    for source in dump["sources"]:
        values = _values(sources, source, drop=("id",))
        values.update(event_id=event_id, outlet_id=outlet_map.get(source["outlet_id"]))
        source_map[source["id"]] = _insert(conn, sources, values)
    num_map = {}
    for post in dump["posts"]:  # in their old order, so the new numbers keep it
        values = _values(posts, post, drop=("num",))
        values.update(event_id=event_id, outlet_id=outlet_map[post["outlet_id"]],
                      source_id=source_map.get(post["source_id"]), created_by=user_map.get(post["created_by"]))
        num_map[post["num"]] = _insert(conn, posts, values)
    if dump["post_topics"]:
        conn.execute(insert(post_topics), [_values(post_topics, t) for t in dump["post_topics"]])
    if dump["post_versions"]:
        conn.execute(insert(post_versions), [_values(post_versions, v, drop=("id",)) for v in dump["post_versions"]])
    for development in dump["developments"]:
        values = _values(developments, development, drop=("id",))
        data = StoredAlignment.from_json(values["data"])
        # the alignment has seen the posts up to its last number: the same posts, renumbered
        seen = [new for old, new in num_map.items() if old <= data.last_num]
        data.last_num = max(seen, default=0)
        alignment.save(conn, event_id, data, values["updated_at"])
    return event_id


def _insert(conn: Connection, table: Table, values: dict[str, Any]) -> int:
    """Insert one row; the number this database gave it."""
    key = conn.execute(insert(table).values(**values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def _outlet(conn: Connection, outlet: dict[str, Any]) -> int:
    """The outlet of this slug here, stored as the archive has it if new."""
    conn.execute(insert_new(conn, outlets).values(**_values(outlets, outlet, drop=("id",))))
    return int(conn.execute(select(outlets.c.id).where(outlets.c.slug == outlet["slug"])).scalar_one())


def _user(conn: Connection, user: dict[str, Any]) -> int:
    """The user of this name here; a new one keeps the archive's role and has no way to sign in
    until an operator gives it a password or a token."""
    conn.execute(insert_new(conn, users).values(name=user["name"], role=user["role"], created_at=datetime.now(UTC)))
    return int(conn.execute(select(users.c.id).where(users.c.name == user["name"])).scalar_one())
