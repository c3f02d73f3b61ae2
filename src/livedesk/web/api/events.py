"""The JSON API of events: list, read, create and change them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.store import events as event_store
from livedesk.store.db import run_read
from livedesk.web.auth import required_actor
from livedesk.web.deps import engine_of, newsroom_of
from livedesk.web.responses import etag_json
from livedesk.web.schemas import MediaIn, Strict, UtcDatetime

router = APIRouter(prefix="/api")


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


@router.get("/events", summary="List events")
def list_events(request: Request, status: Literal["live", "ended"] | None = None) -> Response:
    def read(conn):
        return [r.to_json(event_store.count_published(conn, r.id)) for r in event_store.list_events(conn, status)]

    return etag_json(request, {"events": run_read(engine_of(request), read)})


@router.post("/events", status_code=201, summary="Create an event")
def create_event(request: Request, body: EventIn, actor: Actor = Depends(required_actor)) -> JSONResponse:
    event = publish.create_event(newsroom_of(request), body.model_dump(exclude_unset=True, mode="python"), actor)
    return JSONResponse(event.to_json(0), status_code=201)


@router.get("/events/{slug}", summary="One event")
def get_event(request: Request, slug: str) -> Response:
    def read(conn):
        row = event_store.require_event(conn, slug)
        return row.to_json(event_store.count_published(conn, row.id))

    return etag_json(request, run_read(engine_of(request), read))


@router.get("/events/{slug}/readers", summary="How many readers have the event open now, on every node")
def readers_now(request: Request, slug: str) -> JSONResponse:
    event = run_read(engine_of(request), lambda conn: event_store.require_event(conn, slug))
    counts = newsroom_of(request).broker.reader_counts(request.app.state.readers_site)
    return JSONResponse({"event": slug, "readers": counts.get(event.id, 0)}, headers={"Cache-Control": "no-store"})


@router.patch("/events/{slug}", summary="Change an event (title, status, key points, links ...)")
def patch_event(request: Request, slug: str, body: EventPatch, actor: Actor = Depends(required_actor)) -> dict:
    data = body.model_dump(exclude_unset=True, mode="python")
    event, post_count = publish.update_event(newsroom_of(request), slug, data, actor)
    return event.to_json(post_count)
