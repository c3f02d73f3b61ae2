"""The JSON API of an event's posts: list, read, publish, edit, pin, approve and delete."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from livedesk.model import PostStatus, StoredResponse
from livedesk.newsroom import NotFound, publish, roles
from livedesk.newsroom.roles import Actor
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.auth import optional_actor, required_actor
from livedesk.web.deps import engine_of, newsroom_of
from livedesk.web.responses import etag_json, post_etag, post_tag_prefix, version_from_if_match
from livedesk.web.schemas import MediaIn, Strict, UtcDatetime

router = APIRouter(prefix="/api")


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
    media: list[MediaIn] = []  # noqa: RUF012 (pydantic copies defaults)
    authors: list[Annotated[str, Field(max_length=120)]] | None = Field(None, max_length=20)
    topics: list[Annotated[str, Field(max_length=80)]] = Field([], max_length=20)
    pinned: bool = False
    key_event: bool = False
    status: Literal["draft", "published"] | None = Field(None, description="default published; a future published_at schedules it")
    published_at: UtcDatetime | None = None


class KeyEventIn(Strict):
    key_event: bool = True


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
    author = None if status == PostStatus.published else roles.unpublished_author(actor)
    own = {"all": None, "own": True, "others": False}[outlets]

    def read(conn):
        event = event_store.require_event(conn, slug)
        rows, cursor = post_store.list_posts(
            conn, event.id, order=order, limit=limit, before=before, after=after, topic=topic, q=q,
            statuses=(status,), outlet_own=own, created_by=author,
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
    room = newsroom_of(request)
    if not idempotency_key:
        return JSONResponse(publish.create_post(room, slug, data, actor).to_json(), status_code=201)
    done = publish.create_post_once(room, slug, data, actor, idempotency_key)
    if isinstance(done, StoredResponse):  # the key was used before: its first response again
        return JSONResponse(json.loads(done.body), status_code=done.status)
    return JSONResponse(done.to_json(), status_code=201)


@router.get("/events/{slug}/posts/{post_id}", summary="One post, with its edit history")
def get_post(request: Request, slug: str, post_id: str, actor: Actor | None = Depends(optional_actor)) -> Response:
    def read(conn):
        event = event_store.require_event(conn, slug)
        row = post_store.get_post(conn, event.id, post_id)
        if row is None or not roles.may_read(actor, row):
            raise NotFound(f"no post {post_id!r} in this event")
        return row.to_json(post_store.versions(conn, row.id))

    post = run_read(engine_of(request), read)
    return etag_json(request, post, prefix=post_tag_prefix(post))


@router.patch(
    "/events/{slug}/posts/{post_id}",
    summary="Edit a post; give a correction note to show readers",
    description="Send the post's ETag as If-Match: if another edit came first, the answer is 412 with the "
                "post as it is now under `current`, and nothing is changed.",
    responses={412: {"description": "the post changed since the version named in If-Match; `current` holds it"}},
)
def patch_post(request: Request, slug: str, post_id: str, body: PostPatch, actor: Actor = Depends(required_actor),
               if_match: str | None = Header(None, max_length=500)) -> JSONResponse:
    data = body.model_dump(exclude_unset=True, mode="python")
    correction = data.pop("correction", None)
    post = publish.edit_post(newsroom_of(request), slug, post_id, data, actor, correction=correction,
                             version=version_from_if_match(if_match)).to_json()
    return JSONResponse(post, headers={"ETag": post_etag(post)})


@router.delete("/events/{slug}/posts/{post_id}", status_code=204, summary="Delete a post")
def delete_post(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> Response:
    publish.delete_post(newsroom_of(request), slug, post_id, actor)
    return Response(status_code=204)


@router.post("/events/{slug}/posts/{post_id}/pin", summary="Pin a post to the top")
def pin(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.set_pinned(newsroom_of(request), slug, post_id, actor, True).to_json()


@router.post("/events/{slug}/posts/{post_id}/unpin", summary="Unpin a post")
def unpin(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.set_pinned(newsroom_of(request), slug, post_id, actor, False).to_json()


@router.post("/events/{slug}/posts/{post_id}/key-event", summary="Mark or unmark a key event")
def key_event(request: Request, slug: str, post_id: str, body: KeyEventIn | None = None, actor: Actor = Depends(required_actor)) -> dict:
    flag = True if body is None else body.key_event
    return publish.set_key_event(newsroom_of(request), slug, post_id, actor, flag).to_json()


@router.post("/events/{slug}/posts/{post_id}/approve", summary="Publish a contributor's post")
def approve(request: Request, slug: str, post_id: str, actor: Actor = Depends(required_actor)) -> dict:
    return publish.approve_post(newsroom_of(request), slug, post_id, actor).to_json()
