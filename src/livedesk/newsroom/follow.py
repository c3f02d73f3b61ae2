"""Other outlets' coverage attached to an event: sources, polling, and their posts.

A source is a URL that is polled, or page text pasted once. Each poll fetches with
the stored ETag / Last-Modified, parses the page, and upserts its posts: a post
keeps its identity across polls (the source's own id, or else a fingerprint of
its time and text), so re-polling never duplicates, and a changed body becomes an
edit readers see as `post.updated`.

Polling is shared by every node through leases in the sources table: a node
claims due sources (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite serialises
writers), holds them for one poll interval at most, and releases them after the
poll. A node that dies leaves leases that expire, and another node takes over.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
from sqlalchemy import Connection

from livedesk.config import Settings
from livedesk.ingest import FetchError, ParseError
from livedesk.ingest.fetch import TIMEOUT_S, fetch
from livedesk.ingest.page import read_page, reading_warning
from livedesk.ingest.times import zone_by_iana
from livedesk.ingest.websub import discover
from livedesk.markup import clean_text, clean_url
from livedesk.model import Media, ParsedPage, ParsedPost, Post, PostStatus, Source
from livedesk.newsroom import Invalid, NotFound, publish, websub_follow
from livedesk.newsroom.publish import now
from livedesk.newsroom.roles import EDITORS, Actor, require
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store import sources as source_store
from livedesk.store import websub as websub_store
from livedesk.store.db import run_read, run_write
from livedesk.store.sources import LeaseLost

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

log = logging.getLogger("livedesk.follow")

DEFAULT_INTERVAL_S = 60
MAX_BACKOFF_S = 3600
MAX_ANCHOR = 200
_SPACE = re.compile(r"\s+")
_URL = re.compile(r"^https?://", re.I)


@dataclass
class Stored:
    """What one poll or paste did to the event's posts."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    error: str | None = None
    not_modified: bool = False


# ---- sources ----------------------------------------------------------------------------

def add_source(room: Newsroom, slug: str, data: dict, actor: Actor, *, ingest: bool = True) -> dict:
    """Attach a `url` to poll, or pasted `text` (parsed at once unless `ingest` is False).

    Optional: `outlet` (name), `timezone` (IANA zone for unzoned times), `poll_interval` (seconds).
    Attaching a URL the event follows already, or pasting the same outlet's page again, updates
    that source instead of adding another, so nothing is stored twice.
    Raises Invalid for bad input, including pasted text that is not a live page.
    """
    require(actor, EDITORS)
    url, text = (data.get("url") or "").strip() or None, data.get("text") or None
    if (url is None) == (text is None):
        raise Invalid("give either a url to follow or the page text, not both")
    if url is not None and (not _URL.match(url) or not urlsplit(url).hostname):
        raise Invalid(f"not an http(s) URL: {url}")
    if text is not None and not text.strip():
        raise Invalid("the pasted text is empty")
    zone = (data.get("timezone") or "").strip() or None
    if zone is not None and zone_by_iana(zone) is None:
        raise Invalid(f"unknown time zone {zone!r}; use an IANA name such as Europe/Berlin")
    interval = data.get("poll_interval")
    interval = DEFAULT_INTERVAL_S if interval is None else interval
    shortest = room.settings.min_poll_interval_s
    if int(interval) < shortest:
        raise Invalid(f"poll_interval must be at least {shortest} seconds")
    outlet = clean_text(data.get("outlet")) or None
    page = _read_pasted(text, outlet, zone) if text is not None and ingest else None

    def work(conn: Connection) -> int:
        event = event_store.require_event(conn, slug)
        event_store.lock_event(conn, event.id)  # two adds of one URL make one source
        name = outlet or (page.outlet if page else None)
        outlet_id = event_store.ensure_outlet(conn, name, timezone=zone).id if name else None
        same = source_store.same_source(conn, event.id, url, outlet_id)
        if same is not None:  # following it already, or a fresh paste of the same outlet's page
            source_store.update_source(conn, same, {"text": text, "timezone": zone, "poll_interval_s": int(interval)})
            return same
        return source_store.insert_source(conn, {
            "event_id": event.id, "outlet_id": outlet_id, "url": url, "text": text, "timezone": zone,
            "poll_interval_s": int(interval), "error_count": 0, "created_at": now(),
            "next_poll_at": now() if url else None,
        })

    source_id = run_write(room.engine, work)
    if page is not None:
        store_page(room, source_id, page)
    return get_source(room, slug, source_id)


def _read_pasted(text: str, outlet: str | None, zone: str | None) -> ParsedPage:
    try:
        return read_page(text, outlet=outlet, tz=zone)
    except ParseError as exc:
        raise Invalid(f"the pasted text is not a live page: {exc}") from None


def get_source(room: Newsroom, slug: str, source_id: int) -> dict:
    found = [s for s in list_sources(room, slug) if s["id"] == source_id]
    if not found:
        raise NotFound(f"no source {source_id} in event {slug!r}")
    return found[0]


def list_sources(room: Newsroom, slug: str) -> list[dict]:
    """The event's sources with their polling status."""

    def read(conn: Connection) -> list[dict]:
        event = event_store.require_event(conn, slug)
        found = source_store.list_sources(conn, event.id)
        pushes = websub_store.follows_of(conn, [source.id for source in found])
        return [{**source.to_json(slug), "push": pushes[source.id].to_json() if source.id in pushes else None}
                for source in found]

    return run_read(room.engine, read)


def remove_source(room: Newsroom, slug: str, source_id: int, actor: Actor) -> None:
    """Stop following a source; the posts it brought stay."""
    require(actor, EDITORS)

    def work(conn: Connection) -> None:
        event = event_store.require_event(conn, slug)
        source = source_store.get_source(conn, source_id)
        if source is None or source.event_id != event.id:
            raise NotFound(f"no source {source_id} in event {slug!r}")
        post_store.detach_source(conn, source_id)
        source_store.delete_source(conn, event.id, source_id)

    run_write(room.engine, work)


# ---- one poll ------------------------------------------------------------------------------

def refresh(room: Newsroom, source_id: int, owner: str | None = None) -> Stored:
    """Fetch, parse and store one URL source now, and record how it went. Never raises.

    `owner` is the node holding the source's lease; the lease is released at the end.
    """
    source = run_read(room.engine, lambda conn: source_store.get_source(conn, source_id))
    if source is None or source.url is None:
        return Stored(error="no such URL source")
    outcome = Stored()
    try:
        result = fetch(
            source.url, etag=source.etag, last_modified=source.last_modified,
            allow_private=room.settings.fetch_allow_private, timeout=_fetch_timeout(source.poll_interval_s),
        )
        interval = websub_follow.poll_interval(room, source_id, source.poll_interval_s)
        done = {"last_fetch_at": now(), "next_poll_at": now() + timedelta(seconds=interval),
                "error_count": 0, "last_error": None}
        if result.status == 304:
            outcome.not_modified = True
            _finish(room, source_id, owner, done)
            return outcome
        page = read_page(result.content, url=result.final_url, content_type=result.content_type,
                         outlet=source.outlet_name, tz=source.timezone or source.outlet_timezone)
        done.update(etag=result.etag, last_modified=result.last_modified)
        stored = _store(room, source_id, page, owner=owner, done=done)
        hub = discover(result.content, result.content_type, result.links, result.final_url)
        if hub is not None:
            websub_follow.noticed(room, source_id, hub)
        return stored
    except LeaseLost:
        log.info("source %s: lease lost during the poll; its result is dropped", source_id)
        return Stored(error="lease lost")
    except (FetchError, ParseError) as exc:
        outcome.error = str(exc)
    except Exception as exc:  # noqa: BLE001 - one broken source must not stop the others
        log.exception("source %s: poll failed", source_id)
        outcome.error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    errors = source.error_count + 1
    backoff = min(source.poll_interval_s * 2**min(errors, 12), max(MAX_BACKOFF_S, source.poll_interval_s))
    _finish(room, source_id, owner, {"last_fetch_at": now(), "last_error": outcome.error[:2000],
                                       "error_count": errors, "next_poll_at": now() + timedelta(seconds=backoff)})
    return outcome


def take_push(room: Newsroom, token: str, body: bytes, content_type: str | None, signature: str | None) -> Stored:
    """A hub's push to the callback `token` (WebSub): a correctly signed feed is stored as a poll
    would store it; anything else is ignored and noted on the source's subscription. Raises
    websub_follow.Gone when no source has this callback."""
    follow = websub_follow.check_push(room, token, body, signature)
    if follow is None:
        return Stored(error="signature mismatch")
    source = run_read(room.engine, lambda conn: source_store.get_source(conn, follow.source_id))
    if source is None:
        raise websub_follow.Gone("the source was removed")
    try:
        page = read_page(body, url=follow.topic, content_type=content_type,
                         outlet=source.outlet_name, tz=source.timezone or source.outlet_timezone)
    except ParseError as exc:
        websub_follow.pushed(room, source.id, f"a push could not be read: {exc}"[:2000])
        return Stored(error=str(exc))
    stored = store_page(room, source.id, page)
    websub_follow.pushed(room, source.id)
    return stored


def _fetch_timeout(interval_s: int) -> float:
    """A poll ends well inside its lease, which lasts one interval."""
    return min(TIMEOUT_S, interval_s * 0.75)


def _finish(room: Newsroom, source_id: int, owner: str | None, values: dict) -> None:
    def work(conn: Connection) -> None:
        source_store.hold(conn, source_id, owner)
        source_store.update_source(conn, source_id, {**values, **_released(owner)})

    try:
        run_write(room.engine, work)
    except LeaseLost:
        log.info("source %s: lease lost before its status was saved", source_id)


def _released(owner: str | None) -> dict:
    return {"lease_owner": None, "lease_until": None} if owner else {}


# ---- storing a page's posts --------------------------------------------------------------

def store_page(room: Newsroom, source_id: int, page: ParsedPage) -> Stored:
    """Upsert the posts of one parsed page of a source (used for pasted text and by the demo)."""
    return _store(room, source_id, page, owner=None, done={"last_fetch_at": now(), "error_count": 0, "last_error": None})


def _store(room: Newsroom, source_id: int, page: ParsedPage, *, owner: str | None, done: dict) -> Stored:
    stored = Stored()
    announced: list[int] = []

    def work(conn: Connection) -> int:
        for done_list in (stored.created, stored.updated, announced):
            done_list.clear()  # a retried transaction starts over
        source = source_store.hold(conn, source_id, owner)
        outlet_id = source.outlet_id or _page_outlet(conn, source, page)
        existing = post_store.source_posts(conn, source_id)
        matches = _match(existing, page.posts)
        seen_at = now()
        for position, parsed in enumerate(page.posts):
            anchor = matches.identity[position]
            row = matches.rows.get(position)
            if row is None:
                when = parsed.time or _placeholder(seen_at, position, len(page.posts), page.order)
                post, change_id = publish.insert_post(conn, source.event_id, {
                    **_content(parsed, room.settings), "outlet_id": outlet_id, "published_at": when, "status": publish.VISIBLE,
                    "source_id": source_id, "anchor": anchor, "position": position, "time_known": parsed.time is not None,
                })
                stored.created.append(post.id)
                announced.append(change_id)
            elif row.status != PostStatus.deleted:
                _update(conn, row, _content(parsed, room.settings), parsed, anchor, position, stored, announced)
        warning = reading_warning(page, pasted=source.url is None)
        source_store.update_source(conn, source_id, {"outlet_id": outlet_id, "reading_warning": warning, **done, **_released(owner)})
        return source.event_id

    event_id = run_write(room.engine, work)
    for change_id in announced:
        room.broker.announce(change_id)
    changed = stored.created + stored.updated
    if changed:
        room.developments.posts_stored(event_id, changed)
    return stored


def _update(conn: Connection, row: Post, content: dict, parsed: ParsedPost, anchor: str, position: int,
            stored: Stored, announced: list[int]) -> None:
    values = {k: content[k] for k in ("headline", "body_md", "body_html", "media", "search_text")
              if k == "search_text" or content[k] != getattr(row, k)}
    if len(values) == 1:
        values = {}  # only search_text: nothing a reader sees changed
    if parsed.time is not None and (not row.time_known or parsed.time != row.published_at):
        values.update(published_at=parsed.time, time_known=True)
    if anchor != row.anchor:
        values["anchor"] = anchor
    if not values:
        if row.position != position:
            post_store.set_position(conn, row.id, position)
        return
    post = publish.update_post(conn, row, {**values, "position": position})
    stored.updated.append(row.id)
    announced.append(publish.record_change(conn, row.event_id, "post.updated", post.to_json(), row.id))


def _page_outlet(conn: Connection, source: Source, page: ParsedPage) -> int:
    name = page.outlet or (urlsplit(source.url).hostname if source.url else None) or "Unnamed outlet"
    return event_store.ensure_outlet(conn, name[:200], timezone=source.timezone).id


def _content(parsed: ParsedPost, settings: Settings) -> dict:
    """Sanitised post fields from a parsed post: plain text goes through Markdown to clean HTML."""
    body = parsed.text.encode()[: settings.max_body_bytes].decode(errors="ignore")
    return publish.post_content({
        "body": body,
        "headline": (parsed.headline or "")[:500] or None,
        "media": [_media(m) for m in parsed.media[: settings.max_media]],
        "authors": [parsed.author[:120]] if parsed.author else [],
        "topics": [],
    }, settings)


def _media(item: Media) -> dict:
    data = item.to_dict()
    url = data.get("url")
    try:
        data["url"] = clean_url(url) if url and _URL.match(url) else None  # relative or data: URLs of
    except ValueError:  # another site lead nowhere here, nor do ones a browser cannot parse
        data["url"] = None
    return data


def _placeholder(seen_at: datetime, position: int, count: int, order: str) -> datetime:
    """A time for an untimed post that keeps the page's order: first seen, nudged by position."""
    rank = position if order != "oldest" else count - 1 - position
    return seen_at - timedelta(milliseconds=rank)


# ---- identity ------------------------------------------------------------------------------

def fingerprint(post: ParsedPost) -> str:
    """Identity of a post without an id of its own: its time and normalised text."""
    text = _SPACE.sub(" ", f"{post.headline or ''} {post.text}").strip().lower()
    stamp = post.time.isoformat() if post.time else "untimed"
    return "fp:" + hashlib.sha256(f"{stamp}|{text}".encode()).hexdigest()[:40]


def _own_anchor(post: ParsedPost) -> str | None:
    if not post.anchor:
        return None
    if len(post.anchor) <= MAX_ANCHOR:
        return post.anchor
    return "id:" + hashlib.sha256(post.anchor.encode()).hexdigest()[:40]


@dataclass
class _Matches:
    identity: list[str]  # the anchor each parsed post is stored under
    rows: dict[int, Post]  # position -> the stored post it updates


def _match(existing: list[Post], parsed: list[ParsedPost]) -> _Matches:
    """Pair each parsed post with its stored row, if any.

    First by identity; then a post whose fingerprint changed (its text was edited) is paired
    with a leftover fingerprinted row of the same time and headline, so the edit updates it.
    """
    by_anchor = {row.anchor: row for row in existing}
    identity: list[str] = []
    rows: dict[int, Post] = {}
    for position, post in enumerate(parsed):
        anchor = _own_anchor(post)
        if anchor is None or anchor in identity:
            anchor = fingerprint(post)
        while anchor in identity:  # the same post twice on one page: keep both, apart
            anchor = "fp:" + hashlib.sha256(anchor.encode()).hexdigest()[:40]
        identity.append(anchor)
        if anchor in by_anchor:
            rows[position] = by_anchor.pop(anchor)
    leftovers: dict[tuple, Post] = {}
    for row in by_anchor.values():
        if row.anchor and row.anchor.startswith("fp:"):
            leftovers.setdefault(_edit_key(row.published_at if row.time_known else None, row.headline), row)
    for position, post in enumerate(parsed):
        if position in rows or not identity[position].startswith("fp:"):
            continue
        key = _edit_key(post.time, clean_text(post.headline) or None)
        if key[0] is None and key[1] is None:
            continue  # untimed and without a headline: nothing to tell an edit by
        row = leftovers.pop(key, None)
        if row is not None:
            rows[position] = row
    return _Matches(identity, rows)


def _edit_key(time: datetime | None, headline: str | None) -> tuple:
    return (time, (headline or "").strip().lower() or None)


# ---- shared polling ---------------------------------------------------------------------------

def default_node_id(settings: Settings) -> str:
    return settings.node_id or f"{socket.gethostname()}:{os.getpid()}"


def claim_due(room: Newsroom, owner: str, limit: int = 4) -> list[int]:
    """Lease up to `limit` due URL sources of live events to `owner`; returns their ids.

    Each lease lasts one poll interval, so a dead node's sources are polled again within one.
    """

    return run_write(room.engine, lambda conn: source_store.claim_due(conn, owner, now(), limit))


async def poll_forever(room: Newsroom, *, node_id: str, tick_s: float = 1.0, concurrency: int = 4) -> None:
    """This node's share of polling: claim due sources every tick, poll each in a thread."""
    running: set[asyncio.Task] = set()
    while True:
        free = concurrency - len(running)
        if free > 0:
            try:
                claimed = await anyio.to_thread.run_sync(claim_due, room, node_id, free)
            except Exception:  # noqa: BLE001 - the database is away: try again next tick
                log.exception("could not claim sources")
                claimed = []
            for source_id in claimed:
                task = asyncio.create_task(anyio.to_thread.run_sync(refresh, room, source_id, node_id))
                running.add(task)
                task.add_done_callback(running.discard)
        await asyncio.sleep(tick_s)


async def poller(room: Newsroom) -> None:
    """The background job `livedesk serve` runs (see create_app's `background`)."""
    settings = room.settings
    if settings.poll_sources:
        await poll_forever(room, node_id=default_node_id(settings), tick_s=settings.poll_tick_s)
