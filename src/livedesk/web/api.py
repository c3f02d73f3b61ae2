"""The JSON API (OpenAPI at /docs)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from livedesk.model import PostStatus, Role
from livedesk.newsroom import NotFound, publish
from livedesk.newsroom.publish import Actor
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.auth import optional_actor, required_actor
from livedesk.web.deps import engine_of, newsroom_of
from livedesk.web.responses import etag_json
from livedesk.web.stream import parse_last_event_id

router = APIRouter(prefix="/api")


def unicode_only(value: Any) -> Any:
    """Strings (also inside lists) must be valid Unicode: JSON can carry a lone surrogate
    (`"\\ud800"`), which no database or page can hold."""
    for text in value if isinstance(value, list) else [value]:
        if isinstance(text, str):
            try:
                text.encode()
            except UnicodeEncodeError as error:
                raise ValueError(f"holds a lone surrogate at character {error.start}: not valid Unicode") from None
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range: the time must fall between the years 1 and 9999 in UTC") from None


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_in_utc)]
LAST_DAY = date.max - timedelta(days=1)  # the day after it must exist too


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    _unicode_only = field_validator("*")(unicode_only)


class MediaIn(Strict):
    kind: Literal["image", "video"] | None = None
    url: str | None = Field(None, max_length=2000)
    alt: str | None = Field(None, max_length=1000)
    caption: str | None = Field(None, max_length=2000)
    credit: str | None = Field(None, max_length=300)
    title: str | None = Field(None, max_length=500)
    duration_s: int | None = Field(None, ge=0, le=86400 * 7)
    source: str | None = Field(None, max_length=300)


class KeyPointIn(Strict):
    text: str = Field(max_length=500)
    post_id: str | None = None


class LinkIn(Strict):
    url: str = Field(max_length=2000, description="an absolute http(s) URL or a path on this site")
    title: str = Field(max_length=300)


class EventPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=300)
    standfirst: str | None = Field(None, max_length=2000)
    lead_media: MediaIn | None = None
    status: Literal["live", "ended"] | None = None
    coverage_start: UtcDatetime | None = None
    coverage_end: UtcDatetime | None = None
    topics: list[Annotated[str, Field(max_length=80)]] | None = Field(None, max_length=50)
    links: list[LinkIn] | None = Field(None, max_length=50)
    key_points: list[KeyPointIn] | None = Field(None, max_length=30)


class EventIn(EventPatch):
    slug: str = Field(max_length=119)
    title: str = Field(min_length=1, max_length=300)


class PostPatch(Strict):
    body: str | None = None
    headline: str | None = Field(None, max_length=500)
    media: list[MediaIn] | None = None
    authors: list[Annotated[str, Field(max_length=120)]] | None = Field(None, max_length=20)
    topics: list[Annotated[str, Field(max_length=80)]] | None = Field(None, max_length=20)
    key_event: bool | None = None
    status: Literal["draft", "published"] | None = None
    published_at: UtcDatetime | None = None
    correction: str | None = Field(None, max_length=1000, description="shown to readers as the reason for the edit")


class PostIn(Strict):
    body: str = ""
    headline: str | None = Field(None, max_length=500)
    media: list[MediaIn] = []
    authors: list[Annotated[str, Field(max_length=120)]] | None = Field(None, max_length=20)
    topics: list[Annotated[str, Field(max_length=80)]] = Field([], max_length=20)
    pinned: bool = False
    key_event: bool = False
    status: Literal["draft", "published"] | None = Field(None, description="default published; a future published_at schedules it")
    published_at: UtcDatetime | None = None


class KeyEventIn(Strict):
    key_event: bool = True


# ---- events -------------------------------------------------------------------------

@router.get("/events", summary="List events")
def list_events(request: Request, status: Literal["live", "ended"] | None = None) -> Response:
    def read(conn):
        return [r.to_json(event_store.count_published(conn, r.id)) for r in event_store.list_events(conn, status)]

    return etag_json(request, {"events": run_read(engine_of(request), read)})


@router.post("/events", status_code=201, summary="Create an event")
def create_event(request: Request, body: EventIn, actor: Actor = Depends(required_actor)) -> JSONResponse:
    event = publish.create_event(newsroom_of(request), body.model_dump(exclude_unset=True, mode="python"), actor)
    return JSONResponse(event, status_code=201)


@router.get("/events/{slug}", summary="One event")
def get_event(request: Request, slug: str) -> Response:
    def read(conn):
        row = event_store.require_event(conn, slug)
        return row.to_json(event_store.count_published(conn, row.id))

    return etag_json(request, run_read(engine_of(request), read))


@router.patch("/events/{slug}", summary="Change an event (title, status, key points, links ...)")
def patch_event(request: Request, slug: str, body: EventPatch, actor: Actor = Depends(required_actor)) -> dict:
    data = body.model_dump(exclude_unset=True, mode="python")
    return publish.update_event(newsroom_of(request), slug, data, actor)


# ---- posts --------------------------------------------------------------------------

@router.get("/events/{slug}/posts", summary="Posts of an event, a page at a time")
def list_posts(
    request: Request,
    slug: str,
    order: Literal["newest", "oldest"] = "newest",
    limit: int = Query(20, ge=1, le=100),
    before: str | None = Query(None, max_length=200),
    after: str | None = Query(None, max_length=200),
    topic: str | None = Query(None, max_length=80),
    q: str | None = Query(None, max_length=200),
    outlets: Literal["all", "own", "others"] = "all",
    status: Literal["published", "draft", "pending", "scheduled"] = "published",
    actor: Actor | None = Depends(optional_actor),
) -> Response:
    if status != PostStatus.published and (actor is None or actor.role not in publish.WRITERS):
        raise NotFound("only the desk may list unpublished posts")
    own = {"all": None, "own": True, "others": False}[outlets]

    def read(conn):
        event = event_store.require_event(conn, slug)
        rows, cursor = post_store.list_posts(
            conn, event.id, order=order, limit=limit, before=before, after=after, topic=topic, q=q,
            statuses=(status,), outlet_own=own,
        )
        return {"posts": [r.to_json() for r in rows], "next": cursor}

    return etag_json(request, run_read(engine_of(request), read))


@router.post("/events/{slug}/posts", status_code=201, summary="Publish, draft or schedule a post")
def create_post(
    request: Request,
    slug: str,
    body: PostIn,
    actor: Actor = Depends(required_actor),
    idempotency_key: str | None = Header(None, max_length=200),
) -> JSONResponse:
    data = body.model_dump(exclude_unset=True, mode="python")
    status, post = publish.create_post(
        newsroom_of(request), slug, data, actor, idempotency_key=idempotency_key
    )
    return JSONResponse(post, status_code=status)


@router.get("/events/{slug}/posts/{post_id}", summary="One post, with its edit history")
def get_post(request: Request, slug: str, post_id: str, actor: Actor | None = Depends(optional_actor)) -> Response:
    def read(conn):
        event = event_store.require_event(conn, slug)
        row = post_store.get_post(conn, event.id, post_id)
        hidden = row is None or row.status == PostStatus.deleted or (not row.visible and (actor is None or actor.role == Role.reader))
        if hidden:
            raise NotFound(f"no post {post_id!r} in this event")
        post = row.to_json()
        post["history"] = post_store.versions(conn, row.id)
        return post

    return etag_json(request, run_read(engine_of(request), read))


@router.patch("/events/{slug}/posts/{post_id}", summary="Edit a post; give a correction note to show readers")
def patch_post(request: Request, slug: str, post_id: str, body: PostPatch, actor: Actor = Depends(required_actor)) -> dict:
    data = body.model_dump(exclude_unset=True, mode="python")
    correction = data.pop("correction", None)
    return publish.edit_post(newsroom_of(request), slug, post_id, data, actor, correction=correction)


@router.delete("/events/{slug}/posts/{post_id}", status_code=204, summary="Delete a post")
def delete_post(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> Response:
    publish.delete_post(newsroom_of(request), slug, post_id, actor)
    return Response(status_code=204)


@router.post("/events/{slug}/posts/{post_id}/pin", summary="Pin a post to the top")
def pin(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.set_pinned(newsroom_of(request), slug, post_id, actor, True)


@router.post("/events/{slug}/posts/{post_id}/unpin", summary="Unpin a post")
def unpin(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.set_pinned(newsroom_of(request), slug, post_id, actor, False)


@router.post("/events/{slug}/posts/{post_id}/key-event", summary="Mark or unmark a key event")
def key_event(request: Request, slug: str, post_id: str, body: KeyEventIn | None = None, actor: Actor = Depends(required_actor)) -> dict:
    flag = True if body is None else body.key_event
    return publish.set_key_event(newsroom_of(request), slug, post_id, actor, flag)


@router.post("/events/{slug}/posts/{post_id}/approve", summary="Publish a contributor's post")
def approve(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.approve_post(newsroom_of(request), slug, post_id, actor)


# ---- search -------------------------------------------------------------------------

@router.get(
    "/search",
    summary="Search posts across events",
    description=f"Ranks the newest {post_store.SEARCH_WINDOW:,} matching posts and counts no further: "
    f"`total_capped` is true when more match, and `total` is then {post_store.SEARCH_WINDOW:,}.",
)
def search(
    request: Request,
    q: str = Query(min_length=1, max_length=200),
    event: str | None = Query(None, max_length=120),
    outlet: str | None = Query(None, max_length=80),
    topic: str | None = Query(None, max_length=80),
    day: date | None = Query(None, le=LAST_DAY, description="only posts of this UTC day"),
    page: int = Query(1, ge=1, le=1000),
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    since = datetime.combine(day, time(), tzinfo=UTC) if day else None
    until = since + timedelta(days=1) if since else None

    def read(conn):
        event_id = event_store.require_event(conn, event).id if event else None
        found = post_store.search_posts(
            conn, q, limit=limit, offset=(page - 1) * limit, event_id=event_id, outlet_slug=outlet,
            topic=topic, since=since, until=until,
        )
        return {"results": [r.to_json() for r in found.rows], "total": found.total,
                "total_capped": found.capped, "page": page}

    return etag_json(request, run_read(engine_of(request), read))


# ---- streams ------------------------------------------------------------------------

class EventStream(Response):
    """Hands the connection to the process's hub."""

    media_type = "text/event-stream"

    def __init__(self, event_id: int | None, last_event_id: int | None) -> None:
        self.event_id = event_id
        self.last_event_id = last_event_id
        self.background = None

    async def __call__(self, scope, receive, send) -> None:
        hub = scope["app"].state.hub
        await hub.serve(scope, receive, send, event_id=self.event_id, last_event_id=self.last_event_id)


STREAM_DOC = {
    200: {"content": {"text/event-stream": {}},
          "description": "post.created, post.updated, post.deleted, post.pinned, keypoints.updated, event.updated"}
}


@router.get("/events/{slug}/stream", status_code=200, response_class=EventStream, responses=STREAM_DOC,
            summary="Live changes of one event (SSE)")
def event_stream(
    request: Request,
    slug: str,
    last_event_id: str | None = Header(None, max_length=40),
    since: str | None = Query(None, max_length=40, description="like Last-Event-ID, for clients that cannot set headers"),
) -> EventStream:
    event = run_read(engine_of(request), lambda conn: event_store.require_event(conn, slug))
    return EventStream(event.id, parse_last_event_id(last_event_id or since))


@router.get("/stream", status_code=200, response_class=EventStream, responses=STREAM_DOC, summary="Live changes of every event (SSE)")
def all_stream(
    last_event_id: str | None = Header(None, max_length=40),
    since: str | None = Query(None, max_length=40),
) -> EventStream:
    return EventStream(None, parse_last_event_id(last_event_id or since))
