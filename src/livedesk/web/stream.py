"""Server-Sent Events: one hub per process fans each change out to every reader.

A change is read from the store once, encoded once, and written to every
reader's connection in one loop: no task or queue per reader on the hot path.
Readers that reconnect with Last-Event-ID are replayed from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field

import anyio
from sqlalchemy import Engine

from livedesk.store import changes as change_store
from livedesk.store.db import run_read

log = logging.getLogger("livedesk.stream")

KEEPALIVE = b": keep-alive\n\n"
RETRY = b"retry: 2000\n\n"


def encode(change_id: int, kind: str, payload: str) -> bytes:
    return f"id: {change_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


def chunk(message: bytes) -> bytes:
    """HTTP/1.1 chunked framing, for writing straight to the socket."""
    return b"%x\r\n%s\r\n" % (len(message), message)


@dataclass(eq=False)
class Reader:
    event_id: int | None  # None: every event
    send: object  # the ASGI send, used when there is no raw socket
    transport: asyncio.Transport | None  # the raw socket, when the server exposes it
    limit: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    pending: list | None = field(default_factory=list)  # changes that arrive during catch-up
    queue: asyncio.Queue | None = None

    def deliver(self, change_id: int, message: bytes, framed: bytes) -> None:
        if self.pending is not None:
            self.pending.append((change_id, message))
            return
        self.write(message, framed)

    def write(self, message: bytes, framed: bytes | None = None) -> None:
        if self.done.is_set():
            return
        if self.transport is not None:
            if self.transport.is_closing():
                self.done.set()
                return
            if self.transport.get_write_buffer_size() > self.limit:
                log.info("reader fell too far behind; disconnecting it")
                self.transport.close()
                self.done.set()
                return
            self.transport.write(framed if framed is not None else chunk(message))
            return
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.done.set()


class Hub:
    def __init__(self, engine: Engine, *, keepalive_s: float, poll_s: float, reader_limit: int) -> None:
        self.engine = engine
        self.keepalive_s = keepalive_s
        self.poll_s = poll_s
        self.reader_limit = reader_limit
        self.by_event: dict[int | None, set[Reader]] = {}
        self.last_id = 0
        self._dirty = False
        self._drain_task: asyncio.Task | None = None
        self._tasks: list[asyncio.Task] = []

    @property
    def reader_count(self) -> int:
        return sum(len(s) for s in self.by_event.values())

    async def start(self) -> None:
        self.last_id = await anyio.to_thread.run_sync(run_read, self.engine, change_store.last_change_id)
        self._tasks = [asyncio.create_task(self._every(self.keepalive_s, self._keepalive)),
                       asyncio.create_task(self._every(self.poll_s, lambda: self.notify(None)))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for readers in self.by_event.values():
            for reader in readers:
                reader.done.set()

    async def _every(self, seconds: float, action) -> None:
        while True:
            await asyncio.sleep(seconds)
            action()

    def _keepalive(self) -> None:
        framed = chunk(KEEPALIVE)
        for readers in list(self.by_event.values()):
            for reader in list(readers):
                if reader.pending is None:
                    reader.write(KEEPALIVE, framed)

    def notify(self, change_id: int | None) -> None:
        """A change was committed somewhere (None: just look)."""
        if change_id is not None and change_id <= self.last_id:
            return
        self._dirty = True
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        while self._dirty:
            self._dirty = False
            while True:
                try:
                    rows = await anyio.to_thread.run_sync(self._read_after, self.last_id)
                except Exception:  # the store is down: the next poll tries again
                    log.exception("could not read changes")
                    return
                for row in rows:
                    self._publish(row.id, row.event_id, encode(row.id, row.kind, row.payload))
                    self.last_id = row.id
                if len(rows) < 500:
                    break

    def _read_after(self, after_id: int) -> list:
        return run_read(self.engine, lambda conn: change_store.changes_since(conn, after_id, limit=500))

    def _publish(self, change_id: int, event_id: int, message: bytes) -> None:
        framed = chunk(message)
        for key in (event_id, None):
            for reader in list(self.by_event.get(key, ())):
                reader.deliver(change_id, message, framed)

    # ---- one reader's connection ----------------------------------------------------

    async def serve(self, scope, receive, send, *, event_id: int | None, last_event_id: int | None) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"text/event-stream; charset=utf-8"),
                    (b"cache-control", b"no-cache, no-transform"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        transport = _raw_transport(scope)
        reader = Reader(event_id, send, transport, self.reader_limit)
        writer_task = None
        if transport is None:
            reader.queue = asyncio.Queue(maxsize=1000)
            writer_task = asyncio.create_task(_write_queue(reader, send))
        reader.write(RETRY)
        self.by_event.setdefault(event_id, set()).add(reader)
        try:
            await self._catch_up(reader, last_event_id)
            waiter = asyncio.create_task(_wait_disconnect(receive))
            done_wait = asyncio.create_task(reader.done.wait())
            await asyncio.wait({waiter, done_wait}, return_when=asyncio.FIRST_COMPLETED)
            for task in (waiter, done_wait):
                task.cancel()
        finally:
            self.by_event.get(event_id, set()).discard(reader)
            reader.done.set()
            if writer_task is not None:
                writer_task.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _catch_up(self, reader: Reader, last_event_id: int | None) -> None:
        """Replay what the reader missed from the store, then switch it to live delivery."""
        sent = self.last_id if last_event_id is None else last_event_id
        if last_event_id is not None:
            while True:
                rows = await anyio.to_thread.run_sync(
                    lambda after=sent: run_read(
                        self.engine, lambda c: change_store.changes_since(c, after, event_id=reader.event_id, limit=500)
                    )
                )
                for row in rows:
                    reader.write(encode(row.id, row.kind, row.payload))
                    sent = row.id
                if len(rows) < 500:
                    break
        pending, reader.pending = reader.pending or [], None
        for change_id, message in pending:
            if change_id > sent:
                reader.write(message)


async def _wait_disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _write_queue(reader: Reader, send) -> None:
    try:
        while True:
            message = await reader.queue.get()
            await send({"type": "http.response.body", "body": message, "more_body": True})
    except Exception:
        reader.done.set()


def _raw_transport(scope) -> asyncio.Transport | None:
    """The socket under uvicorn's httptools protocol, when we may write chunks to it directly."""
    raw_send = scope.get("livedesk.raw_send")
    cycle = getattr(raw_send, "__self__", None)
    if cycle is None or type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
        return None
    if not getattr(cycle, "chunked_encoding", False):
        return None
    return getattr(cycle, "transport", None)


class RawSendMiddleware:
    """Outermost layer: keeps the server's own `send` so the stream can reach the socket."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            scope["livedesk.raw_send"] = send
        await self.app(scope, receive, send)


def parse_last_event_id(value: str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number >= 0 else None


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
