"""Who is on an event's desk: each desk page says every few seconds what its user is doing
(online, writing, editing a post), the broker keeps it for all nodes, and the desk's own stream
pushes the list, with the readers open now, to every desk page of the event.

A node reads an event's list once a tick however many desk pages stream it (`Board`), and at
once when one of its own desk pages reports a change; other nodes' changes show within a tick."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
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

router = APIRouter(prefix="/desk", tags=["desk"])  # the desk's own calls, with its session cookie and CSRF header

PRESENCE_BEATS = 3  # a desk page silent for this many beats (LIVEDESK_PRESENCE_BEAT_S) drops off
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


class Board:
    """This node's latest reading of each event's desk, shared by every desk stream of the event,
    and the wake-up its streams wait on when a desk page here reports."""

    def __init__(self) -> None:
        self._read: dict[tuple[int, bool], tuple[float, dict]] = {}
        self._changed: dict[int, asyncio.Event] = {}

    async def snapshot(self, request: Request, event_id: int, pending: bool) -> dict:
        key = (event_id, pending)
        held = self._read.get(key)
        if held is not None and time.monotonic() - held[0] < STREAM_TICK_S * 0.9:
            return held[1]
        now = await anyio.to_thread.run_sync(lambda: snapshot(request, event_id, pending=pending))
        self._read[key] = (time.monotonic(), now)
        return now

    def changed(self, event_id: int) -> None:
        """A desk page of this node reported: read the event afresh, and wake its streams now."""
        self._read.pop((event_id, True), None)
        self._read.pop((event_id, False), None)
        waiting = self._changed.pop(event_id, None)
        if waiting is not None:
            waiting.set()

    async def wait(self, event_id: int, timeout: float) -> None:
        waiting = self._changed.setdefault(event_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiting.wait(), timeout)


def board_of(request: Request) -> Board:
    state = request.app.state
    if getattr(state, "presence_board", None) is None:
        state.presence_board = Board()
    board: Board = state.presence_board
    return board


@router.post(
    "/e/{slug}/presence", summary="Say what this desk user is doing on an event: online, writing, editing a post",
    description="For the desk's pages: needs a desk session (admin, editor or contributor) and the X-CSRF-Token "
                "header. The answer is the event's editors now and its readers open now.",
    responses={403: {"description": "no valid X-CSRF-Token, or a role without the desk"}, 404: {"description": "no such event"}},
)
def report(request: Request, slug: str, body: PresenceIn, desk: Session = Depends(signed_in)) -> JSONResponse:
    """A desk page says what its user is doing (needs the X-CSRF-Token header)."""
    if not csrf_valid(request, desk.token, request.headers.get("x-csrf-token")):
        raise DeskProblem(403, "presence needs a valid X-CSRF-Token header")
    event_id = _event_id(request, slug)
    state = {"state": body.state, "post": body.post_id if body.state == "editing" else None}
    ttl_s = PRESENCE_BEATS * request.app.state.settings.presence_beat_s
    newsroom_of(request).broker.report_presence(request.app.state.readers_site, event_id, desk.actor.name, state, ttl_s)
    anyio.from_thread.run_sync(board_of(request).changed, event_id)
    return JSONResponse(snapshot(request, event_id), headers={"Cache-Control": "no-store"})


@router.get(
    "/e/{slug}/presence/stream", summary="Who is on an event's desk and its readers now, as Server-Sent Events",
    description="For the desk's pages, with a desk session: a `presence` event at each change.",
    responses={200: {"content": {"text/event-stream": {}}}, 403: {"description": "a role without the desk"}},
)
async def stream(request: Request, slug: str, desk: Session = Depends(signed_in)) -> StreamingResponse:
    """Server-Sent Events: a `presence` event whenever who is here, the readers' count, or (for
    editors) the number of posts waiting for approval changes."""
    event_id = await anyio.to_thread.run_sync(_event_id, request, slug)
    board = board_of(request)

    async def events() -> AsyncIterator[bytes]:
        last, said = None, time.monotonic()
        yield b"retry: 3000\n\n"
        while not await request.is_disconnected():
            now = await board.snapshot(request, event_id, desk.is_editor)
            if now != last:
                last, said = now, time.monotonic()
                yield b"event: presence\ndata: " + json.dumps(now).encode() + b"\n\n"
            elif time.monotonic() - said >= KEEPALIVE_S:
                said = time.monotonic()
                yield b": keep-alive\n\n"
            await board.wait(event_id, STREAM_TICK_S)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
