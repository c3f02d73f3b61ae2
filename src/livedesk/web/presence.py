"""Who is on an event's desk: each desk page says every few seconds what its user is doing
(online, writing, editing a post), the broker keeps it for all nodes, and the desk's own stream
pushes the list, with the readers open now, to every desk page of the event."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Literal

import anyio
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import Field

from livedesk.store import events as event_store
from livedesk.store.db import run_read
from livedesk.web.auth import Session, csrf_valid
from livedesk.web.deps import engine_of, event_or_404, newsroom_of
from livedesk.web.desk import DeskProblem, signed_in
from livedesk.web.schemas import Strict

router = APIRouter(prefix="/desk", include_in_schema=False)

PRESENCE_TTL_S = 15.0  # a desk page that stops saying what it does drops off after this
STREAM_TICK_S = 1.0
KEEPALIVE_S = 15.0


class PresenceIn(Strict):
    state: Literal["online", "writing", "editing"] = "online"
    post_id: str | None = Field(None, max_length=24, pattern=r"^[A-Za-z0-9_-]+$")


def _event_id(request: Request, slug: str) -> int:
    return run_read(engine_of(request), lambda conn: event_or_404(conn, slug)).id


def snapshot(request: Request, event_id: int, *, pending: bool = False) -> dict:
    """The desk users on the event, and its readers now, as every node sees them; for an editor
    also the contributors' posts waiting for approval."""
    broker, site = newsroom_of(request).broker, request.app.state.readers_site
    now = {"editors": broker.presence(site, event_id), "readers": broker.reader_counts(site).get(event_id, 0)}
    if pending:
        now["pending"] = run_read(engine_of(request), lambda conn: event_store.count_pending(conn, event_id))
    return now


@router.post("/e/{slug}/presence")
def report(request: Request, slug: str, body: PresenceIn, desk: Session = Depends(signed_in)) -> JSONResponse:
    """A desk page says what its user is doing (needs the X-CSRF-Token header)."""
    if not csrf_valid(request, desk.token, request.headers.get("x-csrf-token")):
        raise DeskProblem(403, "presence needs a valid X-CSRF-Token header")
    event_id = _event_id(request, slug)
    state = {"state": body.state, "post": body.post_id if body.state == "editing" else None}
    newsroom_of(request).broker.report_presence(request.app.state.readers_site, event_id, desk.actor.name, state, PRESENCE_TTL_S)
    return JSONResponse(snapshot(request, event_id), headers={"Cache-Control": "no-store"})


@router.get("/e/{slug}/presence/stream")
async def stream(request: Request, slug: str, desk: Session = Depends(signed_in)) -> StreamingResponse:
    """Server-Sent Events: a `presence` event whenever who is here, the readers' count, or (for
    editors) the number of posts waiting for approval changes."""
    event_id = await anyio.to_thread.run_sync(_event_id, request, slug)

    async def events() -> AsyncIterator[bytes]:
        last, quiet = None, 0.0
        yield b"retry: 3000\n\n"
        while not await request.is_disconnected():
            now = await anyio.to_thread.run_sync(lambda: snapshot(request, event_id, pending=desk.is_editor))
            if now != last:
                last, quiet = now, 0.0
                yield b"event: presence\ndata: " + json.dumps(now).encode() + b"\n\n"
            elif quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield b": keep-alive\n\n"
            await asyncio.sleep(STREAM_TICK_S)
            quiet += STREAM_TICK_S

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
