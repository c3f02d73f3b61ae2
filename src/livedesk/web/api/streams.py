"""The JSON API's live streams (Server-Sent Events), handed to the process's hub."""

from __future__ import annotations

from fastapi import APIRouter, Header, Query, Request, Response

from livedesk.store import events as event_store
from livedesk.store.db import run_read
from livedesk.web.deps import engine_of
from livedesk.web.stream import parse_last_event_id

router = APIRouter(prefix="/api")


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
