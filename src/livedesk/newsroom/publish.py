"""Create, edit, pin and schedule: write to the store, then announce.

Each write that readers see commits together with its change record, in one
transaction; the broker is told only after the commit.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from livedesk.config import Settings
from livedesk.errors import Forbidden, Invalid, NotFound, Stale
from livedesk.markup import clean_text, clean_url, html_to_text, render_markdown, strip_controls
from livedesk.model import Event, EventStatus, Post, PostStatus, Role, StoredAlignment, StoredResponse
from livedesk.newsroom import photos
from livedesk.newsroom.roles import EDITORS, WRITERS, Actor, require
from livedesk.store import accounts, changes
from livedesk.store import developments as development_store
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read, run_write

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

VISIBLE = PostStatus.published


def now() -> datetime:
    return datetime.now(UTC)


def new_post_id() -> str:
    return base64.b32encode(os.urandom(8)).decode().lower().rstrip("=")


# ---- events ---------------------------------------------------------------------------

EVENT_FIELDS = ("title", "standfirst", "lead_media", "status", "coverage_start", "coverage_end", "topics", "links", "key_points")


def create_event(room: Newsroom, data: dict, actor: Actor) -> Event:
    require(actor, EDITORS)
    slug = data.get("slug", "")
    if not event_store.SLUG.match(slug):
        raise Invalid("slug must be 1-119 lowercase letters, digits or hyphens, starting with a letter or digit")
    values = {k: data[k] for k in EVENT_FIELDS if data.get(k) is not None}
    values.setdefault("status", EventStatus.live)
    values.setdefault("standfirst", "")
    values.setdefault("coverage_start", now())
    values.update(slug=slug, created_at=now(), updated_at=now())
    _check_event_values(values, room.settings)

    def work(conn: Connection) -> Event:
        if event_store.get_event(conn, slug) is not None:
            raise Invalid(f"an event with slug {slug!r} exists already")
        event_store.insert_event(conn, values)
        return event_store.require_event(conn, slug)

    return run_write(room.engine, work)


def _check_event_values(values: dict, settings: Settings) -> None:
    if "title" in values:
        values["title"] = clean_text(values["title"])
        if not values["title"]:
            raise Invalid("title must not be empty")
    if "status" in values and values["status"] not in tuple(EventStatus):
        raise Invalid("status must be live or ended")
    if values.get("lead_media"):
        values["lead_media"] = _clean_media([values["lead_media"]], settings)[0]
    if values.get("links"):
        values["links"] = [{**link, "url": _clean_url(link.get("url"), "link url")} for link in values["links"]]
    if "standfirst" in values:
        values["standfirst"] = clean_text(values["standfirst"]) or ""
    if "key_points" in values:
        values["key_points"] = [
            {"text": clean_text(p.get("text")) or "", "post_id": p.get("post_id")} for p in values["key_points"] or []
        ]
        if any(not p["text"] for p in values["key_points"]):
            raise Invalid("a key point needs text")


def update_event(room: Newsroom, slug: str, data: dict, actor: Actor) -> tuple[Event, int]:
    """Change an event; returns it as now stored, and how many published posts it has."""
    require(actor, EDITORS)
    values = {k: data[k] for k in EVENT_FIELDS if k in data}
    _check_event_values(values, room.settings)
    if values.get("status") == EventStatus.ended and "coverage_end" not in values:
        values["coverage_end"] = now()
    values["updated_at"] = now()
    announced: list[int] = []

    def work(conn: Connection) -> tuple[Event, int]:
        row = event_store.require_event(conn, slug)
        if "key_points" in values:
            _check_key_point_posts(conn, row.id, values["key_points"])
        event_store.update_event(conn, row.id, values)
        event, post_count = event_store.require_event(conn, slug), event_store.count_published(conn, row.id)
        if "key_points" in values:
            announced.append(changes.append_change(conn, row.id, "keypoints.updated",
                                                   {"event": slug, "key_points": event.key_points or []}))
        if set(values) - {"key_points", "updated_at"}:
            announced.append(changes.append_change(conn, row.id, "event.updated", event.to_json(post_count)))
        return event, post_count

    result = run_write(room.engine, work)
    for change_id in announced:
        room.broker.announce(change_id)
    return result



def accept_suggestion(room: Newsroom, slug: str, development_id: str | None, text: str | None,
                      actor: Actor) -> tuple[Event, int]:
    """Append a key-point suggestion of the event's alignment (by development id, or its text) to
    the key points, linked to the site's own post in that development; returns the event and its
    published posts' count, as `update_event` does."""
    require(actor, EDITORS)
    if not development_id and not (text or "").strip():
        raise Invalid("give a development_id or the suggestion's text")
    event, data = room.developments.current(slug)
    suggestions = data.key_point_suggestions
    found = next((s for s in suggestions if s["development_id"] == development_id), None) if development_id else None
    if development_id and found is None:
        raise Invalid(f"no key-point suggestion for development {development_id!r}")
    point_text = found["text"] if found else " ".join((text or "").split())
    point = {"text": point_text, "post_id": _own_post(room, event.id, data, found["development_id"] if found else None)}
    points = [{"text": p["text"], "post_id": p.get("post_id")} for p in (event.key_points or [])]
    if all(p["text"] != point_text for p in points):
        points.append(point)
    return update_event(room, slug, {"key_points": points}, actor)


def _own_post(room: Newsroom, event_id: int, data: StoredAlignment, development_id: str | None) -> str | None:
    """The site's own post in the development, which the key point then links to."""
    dev = next((d for d in data.developments if d.id == development_id), None)
    if dev is None:
        return None
    rows = run_read(room.engine, lambda conn: development_store.post_summaries(conn, event_id))
    return next((pid for pid in dev.post_ids if pid in rows and rows[pid].own), None)

def _check_key_point_posts(conn: Connection, event_id: int, points: list[dict]) -> None:
    for point in points:
        if point.get("post_id") and post_store.get_post(conn, event_id, point["post_id"]) is None:
            raise Invalid(f"key point links to unknown post {point['post_id']!r}")


# ---- posts ----------------------------------------------------------------------------

def _clean_url(url: str | None, what: str) -> str | None:
    try:
        return clean_url(url) if url else url
    except ValueError as error:
        raise Invalid(f"{what}: {error}") from None


def _clean_media(items: list[dict] | None, settings: Settings) -> list[dict]:
    items = items or []
    if len(items) > settings.max_media:
        raise Invalid(f"a post holds at most {settings.max_media} media items, not {len(items)}")
    cleaned = []
    for item in items:
        kind = item.get("kind") or ("video" if item.get("duration_s") or item.get("title") else "image")
        if kind not in ("image", "video", "embed"):  # embed: another site's post, as followed pages show them
            raise Invalid("media kind must be image, video or embed")
        entry = {"kind": kind, "url": _clean_url(item.get("url"), "media url")}
        if kind == "image" and item.get("upload"):
            entry = _upload_entry(item)
        for key in ("alt", "caption", "credit", "title", "source", "author"):
            if item.get(key):
                entry[key] = clean_text(str(item[key]))
        if item.get("thumbnail") and re.fullmatch(r"/media/[0-9a-f]{24}-\d{1,5}\.jpg", str(item["thumbnail"])):
            entry["thumbnail"] = item["thumbnail"]
        if item.get("duration_s") is not None:
            entry["duration_s"] = int(item["duration_s"])
        cleaned.append(entry)
    return cleaned


def _upload_entry(item: dict) -> dict:
    """An uploaded photo's media item; its URLs are made here from its id, never taken as given."""
    upload_id, widths = str(item["upload"]), sorted({int(w) for w in item.get("widths") or []})
    if not re.fullmatch(r"[0-9a-f]{24}", upload_id) or not widths or not item.get("width") or not item.get("height"):
        raise Invalid("an uploaded photo needs the upload id, widths, width and height that POST /api/media gave")
    return photos.media_item(upload_id, int(item["width"]), int(item["height"]), widths)


def check_alt_text(media: list[dict], status: str) -> None:
    """A photo uploaded from the desk goes out only with alt text."""
    if status in (PostStatus.published, PostStatus.scheduled, PostStatus.pending):
        if any(m.get("upload") and not m.get("alt") for m in media):
            raise Invalid("an uploaded photo needs alt text (a description for screen readers) before publishing")


def post_content(data: dict, settings: Settings) -> dict:
    """Validated, rendered content fields of a post from the given data, within the settings' limits."""
    values: dict = {}
    if "body" in data:
        body = strip_controls(data["body"] or "")
        if len(body.encode()) > settings.max_body_bytes:
            raise Invalid(f"body is {len(body.encode())} bytes; the limit is {settings.max_body_bytes}")
        values["body_md"] = body
        values["body_html"] = render_markdown(body)
    if "headline" in data:
        values["headline"] = clean_text(data["headline"]) or None
    if "media" in data:
        values["media"] = _clean_media(data["media"], settings)
    if "authors" in data:
        values["authors"] = [clean_text(a) for a in data["authors"] or [] if clean_text(a)]
    if "topics" in data:
        values["topics"] = [t for t in (clean_text(t).lower() for t in data["topics"] or []) if t]
    if "body_html" in values or "headline" in values:
        values["search_text"] = html_to_text(values.get("body_html", ""))
    return values


def create_post(room: Newsroom, slug: str, data: dict, actor: Actor) -> Post:
    """Store a new post; returns it as stored."""
    post = _create_post(room, slug, data, actor, None)
    assert isinstance(post, Post)
    return post


def create_post_once(room: Newsroom, slug: str, data: dict, actor: Actor, idempotency_key: str) -> Post | StoredResponse:
    """`create_post` under an idempotency key: the new post, or, when the key was used before,
    the response that first request got, and nothing is written."""
    return _create_post(room, slug, data, actor, idempotency_key)


def _create_post(room: Newsroom, slug: str, data: dict, actor: Actor, idempotency_key: str | None) -> Post | StoredResponse:
    require(actor, WRITERS)
    values = post_content({"body": "", "media": [], "authors": [actor.name], "topics": [], **data}, room.settings)
    if not values["body_md"].strip() and not values.get("headline"):
        raise Invalid("a post needs a body or a headline")
    when = data.get("published_at") or now()
    if when.tzinfo is None:
        raise Invalid("published_at needs a time zone, e.g. 2026-05-14T09:30:00Z")
    status = _initial_status(data.get("status"), actor, when)
    check_alt_text(values.get("media", []), status)
    photos.check_stored(room, values.get("media", []))
    scope = f"{actor.id}:create-post:{slug}"
    announced: list[int] = []

    def work(conn: Connection) -> Post | StoredResponse:
        if idempotency_key:
            seen = accounts.stored_response(conn, idempotency_key, scope)
            if seen is not None:
                return seen
        event = event_store.require_event(conn, slug)
        post, change_id = insert_post(
            conn,
            event.id,
            {
                **values,
                "outlet_id": event_store.ensure_outlet(conn, room.settings.site_outlet, own=True).id,
                "published_at": when,
                "status": status,
                "pinned": bool(data.get("pinned")) and actor.role in EDITORS,
                "key_event": bool(data.get("key_event")),
                "created_by": actor.id,
            },
        )
        if change_id is not None:
            announced.append(change_id)
        if idempotency_key:
            accounts.store_response(conn, idempotency_key, scope, 201, json.dumps(post.to_json()))
        return post

    try:
        result = run_write(room.engine, work)
    except IntegrityError:
        if not idempotency_key:
            raise
        result = run_write(room.engine, work)  # the same key committed meanwhile: answer as it did
    if isinstance(result, Post):
        _announce(room, announced, [result.id])
    return result


def _announce(room: Newsroom, announced: list[int], post_ids: list[str]) -> None:
    """Tell readers of the committed changes, and queue the posts for alignment."""
    for change_id in announced:
        room.broker.announce(change_id)
    if announced:
        room.developments.posts_changed(post_ids)


def insert_post(conn: Connection, event_id: int, values: dict) -> tuple[Post, int | None]:
    """Insert a post from `_content` values plus its columns (outlet_id, published_at, status ...).

    Returns the post and, when it is visible, the id of its `post.created` change.
    """
    post = post_store.insert_post(conn, new_post_id(), event_id, values, now())
    if values["status"] != VISIBLE:
        return post, None
    return post, record_change(conn, event_id, "post.created", post.to_json(), post.id)


def record_change(conn: Connection, event_id: int, kind: str, payload: dict, post_id: str | None) -> int:
    """The change readers see, in the caller's transaction; the event counts as updated."""
    change_id = changes.append_change(conn, event_id, kind, payload, post_id)
    _touch_event(conn, event_id)
    return change_id


def update_post(conn: Connection, row: Post, values: dict, *, correction: str | None = None) -> Post:
    """Apply `_content` values (and columns) to the post `row`, keeping the replaced version.

    Returns the post as it is now; the caller records the change readers see. The write holds
    only while the stored post is still at `row.version`: otherwise `Stale`, and nothing changed.
    """
    update_values = dict(values)
    if any(k in values for k in ("body_md", "headline", "media")):
        post_store.keep_version(conn, row, clean_text(correction) if correction else None, now())
        update_values["version"] = row.version + 1
    if correction:
        update_values["corrected_at"] = now()
        update_values["correction_note"] = clean_text(correction)
    update_values["updated_at"] = now()
    if not post_store.update_post(conn, row.id, update_values, version=row.version):
        raise _stale(conn, row)
    return _stored(conn, row.event_id, row.id)


def _stale(conn: Connection, row: Post) -> Stale:
    current = _stored(conn, row.event_id, row.id)
    return Stale(f"post {row.id!r} was changed meanwhile: it is at version {current.version}", current,
                 post_store.versions(conn, row.id))


def _stored(conn: Connection, event_id: int, post_id: str) -> Post:
    post = post_store.get_post(conn, event_id, post_id)
    assert post is not None
    return post


def _initial_status(requested: str | None, actor: Actor, when: datetime) -> PostStatus:
    if requested not in (None, PostStatus.draft, PostStatus.published, PostStatus.scheduled):
        raise Invalid("status must be draft or published")
    if requested == PostStatus.draft:
        return PostStatus.draft
    if actor.role not in EDITORS:
        return PostStatus.pending
    if when > now():
        return PostStatus.scheduled
    return PostStatus.published


def _touch_event(conn: Connection, event_id: int) -> None:
    event_store.update_event(conn, event_id, {"updated_at": now()})


def _post(conn: Connection, event_id: int, post_id: str, actor: Actor) -> Post:
    row = post_store.get_post(conn, event_id, post_id)
    if row is None or row.status == PostStatus.deleted:
        raise NotFound(f"no post {post_id!r} in this event")
    if actor.role == Role.contributor and row.created_by != actor.id:
        raise Forbidden("a contributor may change only their own posts")
    if actor.role == Role.contributor and row.status == VISIBLE:
        raise Forbidden("a contributor may not change a published post")
    return row


def edit_post(
    room: Newsroom,
    slug: str,
    post_id: str,
    data: dict,
    actor: Actor,
    *,
    correction: str | None = None,
    version: int | None = None,
) -> Post:
    """Change a post, keeping the previous version; a correction note is shown to readers.

    `version` is the one the editor started from: if the post has moved on since, `Stale`.
    """
    require(actor, WRITERS)
    values = post_content(data, room.settings)
    if "key_event" in data:
        values["key_event"] = bool(data["key_event"])
    if data.get("published_at") is not None:
        if data["published_at"].tzinfo is None:
            raise Invalid("published_at needs a time zone")
        values["published_at"] = data["published_at"]
    photos.check_stored(room, values.get("media") or [])
    announced: list[int] = []

    def work(conn: Connection) -> Post:
        event = event_store.require_event(conn, slug)
        row = _post(conn, event.id, post_id, actor)
        if version is not None and version != row.version:
            raise _stale(conn, row)
        status = row.status
        if data.get("status") is not None:
            status = _initial_status(data["status"], actor, values.get("published_at", row.published_at))
        check_alt_text(values.get("media", row.media), status)
        post = update_post(conn, row, {**values, "status": status}, correction=correction)
        _record_visible(conn, event.id, slug, row.status, status, post, "post.updated", announced)
        return post

    post = run_write(room.engine, work)
    _announce(room, announced, [post.id])
    return post


def _record_visible(conn: Connection, event_id: int, slug: str, before: str, after: str, post: Post, kind_if_same: str,
                    announced: list[int]) -> None:
    """Record the change readers see when a post goes from status `before` to `after`, if any."""
    kind = _visible_change(before, after, kind_if_same)
    if kind:
        payload = post.to_json() if kind != "post.deleted" else {"id": post.id, "event": slug}
        announced.append(record_change(conn, event_id, kind, payload, post.id))


def _visible_change(before: str, after: str, kind_if_same: str) -> str | None:
    """The change readers see when a post moves from status `before` to `after`."""
    if before == VISIBLE and after == VISIBLE:
        return kind_if_same
    if after == VISIBLE:
        return "post.created"
    if before == VISIBLE:
        return "post.deleted"
    return None


def delete_post(room: Newsroom, slug: str, post_id: str, actor: Actor) -> None:
    require(actor, WRITERS)
    _set_flags(room, slug, post_id, actor, {"status": PostStatus.deleted, "pinned": False}, "post.deleted")


def set_pinned(room: Newsroom, slug: str, post_id: str, actor: Actor, pinned: bool) -> Post:
    require(actor, EDITORS)
    return _set_flags(room, slug, post_id, actor, {"pinned": pinned}, "post.pinned")


def set_key_event(room: Newsroom, slug: str, post_id: str, actor: Actor, flag: bool) -> Post:
    require(actor, EDITORS)
    return _set_flags(room, slug, post_id, actor, {"key_event": flag}, "post.updated")


def approve_post(room: Newsroom, slug: str, post_id: str, actor: Actor) -> Post:
    """An editor publishes a contributor's post (at its scheduled time, if in the future)."""
    require(actor, EDITORS)

    def status_for(row: Post) -> PostStatus:
        if row.status != PostStatus.pending:
            raise Invalid(f"post {post_id!r} is {row.status}, not waiting for approval")
        return PostStatus.scheduled if row.published_at > now() else VISIBLE

    return _set_flags(room, slug, post_id, actor, {}, "post.created", status_for=status_for)


def _set_flags(room: Newsroom, slug: str, post_id: str, actor: Actor, values: dict, kind: str, *,
               status_for: Callable[[Post], PostStatus] | None = None) -> Post:
    announced: list[int] = []

    def work(conn: Connection) -> Post:
        event = event_store.require_event(conn, slug)
        row = _post(conn, event.id, post_id, actor)
        new_values = dict(values)
        if status_for is not None:
            new_values["status"] = status_for(row)
            if new_values["status"] == VISIBLE:
                new_values["published_at"] = now()  # it goes live now, at the top
        status = new_values.get("status", row.status)
        post_store.update_post(conn, row.id, {**new_values, "updated_at": now()})
        post = _stored(conn, event.id, row.id)
        _record_visible(conn, event.id, slug, row.status, status, post, kind, announced)
        return post

    post = run_write(room.engine, work)
    _announce(room, announced, [post.id])
    return post


def publish_due(room: Newsroom) -> int:
    """Publish scheduled posts whose time has come; returns how many.

    The status check in the UPDATE makes each post publish once, however many nodes run this.
    """
    due = run_read(room.engine, lambda conn: post_store.due_posts(conn, now()))
    published = 0
    for post_id, event_id in due:
        announced: list[int] = []

        def work(conn: Connection) -> None:
            if not post_store.publish_scheduled(conn, post_id, now()):
                return  # another node took it
            post = _stored(conn, event_id, post_id)
            announced.append(record_change(conn, event_id, "post.created", post.to_json(), post_id))

        run_write(room.engine, work)
        _announce(room, announced, [post_id])
        published += len(announced)
    return published

