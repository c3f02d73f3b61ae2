"""WebSub rows: subscribers of this site's feeds with their owed deliveries (this site as the hub),
and the hubs this site subscribed to for followed sources (this site as a subscriber)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from livedesk.store.db import engine_insert
from livedesk.store.tables import changes, counters, events, websub_deliveries, websub_follows, websub_subscribers

CURSOR = "websub"


@dataclass
class Subscriber:
    id: int
    topic: str
    topic_url: str
    callback: str
    secret: str | None
    lease_seconds: int
    expires_at: datetime
    created_at: datetime


@dataclass
class Delivery:
    id: int
    subscriber_id: int
    change_id: int
    attempts: int
    created_at: datetime
    subscriber: Subscriber


@dataclass
class Follow:
    source_id: int
    hub: str
    topic: str
    token: str
    secret: str
    state: str
    lease_seconds: int | None
    expires_at: datetime | None
    requested_at: datetime
    last_push_at: datetime | None
    last_error: str | None

    def to_json(self) -> dict[str, Any]:
        """What a source's JSON says of its hub (the secret and callback stay here)."""
        return {"hub": self.hub, "topic": self.topic, "state": self.state,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "last_push_at": self.last_push_at.isoformat() if self.last_push_at else None,
                "last_error": self.last_error}


# ---- this site as the hub ------------------------------------------------------------------

def save_subscriber(conn: Connection, values: dict[str, Any]) -> None:
    """Insert a subscription, or renew the one of the same topic and callback."""
    statement = engine_insert(conn, websub_subscribers).values(**values)
    keep = {k: statement.excluded[k] for k in ("topic_url", "secret", "lease_seconds", "expires_at")}
    conn.execute(statement.on_conflict_do_update(index_elements=["topic", "callback"], set_=keep))


def remove_subscriber(conn: Connection, topic: str, callback: str) -> bool:
    query = delete(websub_subscribers).where(websub_subscribers.c.topic == topic, websub_subscribers.c.callback == callback)
    return conn.execute(query).rowcount > 0


def drop_subscriber(conn: Connection, subscriber_id: int) -> None:
    conn.execute(delete(websub_deliveries).where(websub_deliveries.c.subscriber_id == subscriber_id))
    conn.execute(delete(websub_subscribers).where(websub_subscribers.c.id == subscriber_id))


def list_subscribers(conn: Connection, topics: list[str] | None = None) -> list[Subscriber]:
    query = select(websub_subscribers).order_by(websub_subscribers.c.id)
    if topics is not None:
        query = query.where(websub_subscribers.c.topic.in_(topics))
    return [Subscriber(**row._mapping) for row in conn.execute(query)]


def expire_subscribers(conn: Connection, moment: datetime) -> int:
    """Drop the subscriptions whose lease has ended, with what they were still owed."""
    ended = select(websub_subscribers.c.id).where(websub_subscribers.c.expires_at <= moment)
    conn.execute(delete(websub_deliveries).where(websub_deliveries.c.subscriber_id.in_(ended)))
    return conn.execute(delete(websub_subscribers).where(websub_subscribers.c.expires_at <= moment)).rowcount


def take_cursor(conn: Connection) -> int | None:
    """The last change made into deliveries, locked for this transaction; None while another
    node holds it (it is making the same deliveries now)."""
    query = select(counters.c.value).where(counters.c.name == CURSOR).with_for_update(skip_locked=True)
    value = conn.execute(query).scalar()
    return None if value is None else int(value)


def move_cursor(conn: Connection, change_id: int) -> None:
    conn.execute(update(counters).where(counters.c.name == CURSOR).values(value=change_id))


def changed_events(conn: Connection, after_id: int, limit: int = 5000) -> tuple[dict[int, int], int]:
    """Events whose posts changed after `after_id` ({event id: newest change}), and the last change read."""
    rows = conn.execute(
        select(changes.c.id, changes.c.event_id, changes.c.kind)
        .where(changes.c.id > after_id).order_by(changes.c.id).limit(limit)
    ).all()
    events: dict[int, int] = {}
    for change_id, event_id, kind in rows:
        if kind.startswith("post."):
            events[event_id] = change_id
    return events, (rows[-1][0] if rows else after_id)


def owe(conn: Connection, subscriber_ids: list[int], change_id: int, moment: datetime) -> None:
    """A delivery for each subscriber: one that is waiting already (not being sent) carries the
    new change too, since a delivery sends the feed as it is when it goes."""
    if not subscriber_ids:
        return
    waiting = set(conn.execute(
        select(websub_deliveries.c.subscriber_id)
        .where(websub_deliveries.c.subscriber_id.in_(subscriber_ids), websub_deliveries.c.lease_owner.is_(None))
    ).scalars())
    if waiting:
        conn.execute(update(websub_deliveries)
                     .where(websub_deliveries.c.subscriber_id.in_(waiting), websub_deliveries.c.lease_owner.is_(None))
                     .values(change_id=change_id))
    fresh = [s for s in subscriber_ids if s not in waiting]
    if fresh:
        conn.execute(insert(websub_deliveries), [
            {"subscriber_id": s, "change_id": change_id, "attempts": 0, "due_at": moment, "created_at": moment}
            for s in fresh
        ])


def claim_deliveries(conn: Connection, owner: str, moment: datetime, limit: int, lease_s: float) -> list[Delivery]:
    """Lease up to `limit` due deliveries to `owner`."""
    free = or_(websub_deliveries.c.lease_until.is_(None), websub_deliveries.c.lease_until < moment)
    ids = list(conn.execute(
        select(websub_deliveries.c.id).where(websub_deliveries.c.due_at <= moment, free)
        .order_by(websub_deliveries.c.due_at).limit(limit).with_for_update(skip_locked=True)
    ).scalars())
    if not ids:
        return []
    conn.execute(update(websub_deliveries).where(websub_deliveries.c.id.in_(ids))
                 .values(lease_owner=owner, lease_until=moment + timedelta(seconds=lease_s)))
    rows = conn.execute(
        select(websub_deliveries, websub_subscribers.c.topic, websub_subscribers.c.topic_url,
               websub_subscribers.c.callback, websub_subscribers.c.secret, websub_subscribers.c.lease_seconds,
               websub_subscribers.c.expires_at, websub_subscribers.c.created_at.label("subscribed_at"))
        .join(websub_subscribers, websub_subscribers.c.id == websub_deliveries.c.subscriber_id)
        .where(websub_deliveries.c.id.in_(ids))
    ).all()
    return [
        Delivery(row.id, row.subscriber_id, row.change_id, row.attempts, row.created_at,
                 Subscriber(row.subscriber_id, row.topic, row.topic_url, row.callback, row.secret, row.lease_seconds,
                            row.expires_at, row.subscribed_at))
        for row in rows
    ]


def delivered(conn: Connection, delivery_ids: list[int], owner: str) -> None:
    if delivery_ids:
        conn.execute(delete(websub_deliveries).where(websub_deliveries.c.id.in_(delivery_ids),
                                                     websub_deliveries.c.lease_owner == owner))


def retry_later(conn: Connection, delivery_id: int, owner: str, due_at: datetime, error: str) -> None:
    conn.execute(update(websub_deliveries)
                 .where(websub_deliveries.c.id == delivery_id, websub_deliveries.c.lease_owner == owner)
                 .values(attempts=websub_deliveries.c.attempts + 1, due_at=due_at, lease_owner=None, lease_until=None,
                         last_error=error[:2000]))


def owed(conn: Connection) -> dict[int, dict[str, Any]]:
    """Per subscriber: deliveries still owed, the most tries one of them took, and its last error."""
    found: dict[int, dict[str, Any]] = {}
    rows = conn.execute(select(websub_deliveries.c.subscriber_id, websub_deliveries.c.attempts,
                               websub_deliveries.c.last_error).order_by(websub_deliveries.c.id))
    for subscriber_id, attempts, error in rows:
        entry = found.setdefault(subscriber_id, {"count": 0, "attempts": 0, "error": None})
        entry["count"] += 1
        entry["attempts"] = max(entry["attempts"], attempts)
        entry["error"] = error or entry["error"]
    return found


# ---- this site as a subscriber -------------------------------------------------------------

def get_follow(conn: Connection, source_id: int) -> Follow | None:
    row = conn.execute(select(websub_follows).where(websub_follows.c.source_id == source_id)).first()
    return None if row is None else Follow(**row._mapping)


def follow_by_token(conn: Connection, token: str) -> Follow | None:
    row = conn.execute(select(websub_follows).where(websub_follows.c.token == token)).first()
    return None if row is None else Follow(**row._mapping)


def follows_of(conn: Connection, source_ids: list[int]) -> dict[int, Follow]:
    rows = conn.execute(select(websub_follows).where(websub_follows.c.source_id.in_(source_ids)))
    return {row.source_id: Follow(**row._mapping) for row in rows}


def save_follow(conn: Connection, values: dict[str, Any]) -> None:
    statement = engine_insert(conn, websub_follows).values(**values)
    keep = {k: statement.excluded[k] for k in values if k != "source_id"}
    conn.execute(statement.on_conflict_do_update(index_elements=["source_id"], set_=keep))


def update_follow(conn: Connection, source_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(websub_follows).where(websub_follows.c.source_id == source_id).values(**values))


def all_follows(conn: Connection) -> list[Follow]:
    return [Follow(**row._mapping) for row in conn.execute(select(websub_follows).order_by(websub_follows.c.source_id))]


def take_follow(conn: Connection, source_id: int, requested_at: datetime, moment: datetime) -> bool:
    """Mark a follow as being asked for again now, unless another node did since `requested_at`."""
    query = (update(websub_follows)
             .where(websub_follows.c.source_id == source_id, websub_follows.c.requested_at == requested_at)
             .values(requested_at=moment))
    return conn.execute(query).rowcount == 1


def event_slugs(conn: Connection, event_ids: list[int]) -> dict[int, str]:
    rows = conn.execute(select(events.c.id, events.c.slug).where(events.c.id.in_(event_ids)))
    return {row.id: row.slug for row in rows}


@dataclass
class Waiting:
    changes: bool  # changes past the cursor
    deliveries: bool  # deliveries due now
    expired: bool  # subscriptions whose lease has ended


def waiting(conn: Connection, moment: datetime) -> Waiting:
    """What the hub has to do, read without taking any write lock."""
    cursor = conn.execute(select(counters.c.value).where(counters.c.name == CURSOR)).scalar() or 0
    newer = conn.execute(select(changes.c.id).where(changes.c.id > cursor).limit(1)).first() is not None
    free = or_(websub_deliveries.c.lease_until.is_(None), websub_deliveries.c.lease_until < moment)
    due = conn.execute(select(websub_deliveries.c.id).where(websub_deliveries.c.due_at <= moment, free).limit(1)).first()
    ended = conn.execute(select(websub_subscribers.c.id).where(websub_subscribers.c.expires_at <= moment).limit(1)).first()
    return Waiting(newer, due is not None, ended is not None)
