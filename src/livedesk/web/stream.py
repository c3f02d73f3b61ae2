"""Server-Sent Events: one hub per process fans each change out to every reader.

A change is read from the store once, encoded once, and written to every
reader's connection in one loop: no task or queue per reader on the hot path.
Readers that reconnect with Last-Event-ID are replayed from the store.

Under uvicorn's httptools server, a stream leaves the web framework as soon as its
headers are sent (see middleware.RawSendMiddleware): an idle reader then holds only its socket,
uvicorn's connection objects and one waiting coroutine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import anyio
from sqlalchemy import Engine

from livedesk.store import changes as change_store
from livedesk.store.db import run_read

log = logging.getLogger("livedesk.stream")

KEEPALIVE = b": keep-alive\n\n"
RETRY = b"retry: 2000\n\n"
QUEUE_LIMIT = 1000  # messages held for a reader without a raw socket
WRITE_BATCH = 500  # readers written to before the loop may serve anything else


def encode(change_id: int, kind: str, payload: str) -> bytes:
    return f"id: {change_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


def chunk(message: bytes) -> bytes:
    """HTTP/1.1 chunked framing, for writing straight to the socket."""
    return b"%x\r\n%s\r\n" % (len(message), message)


class Reader:
    """One SSE connection: the raw socket when the server exposes it, else a queue its own task drains."""

    __slots__ = ("closed", "event_id", "limit", "pending", "queue", "transport")

    def __init__(self, event_id: int | None, transport: asyncio.Transport | None, limit: int) -> None:
        self.event_id = event_id  # None: every event
        self.transport = transport
        self.queue: asyncio.Queue | None = None if transport is not None else asyncio.Queue()
        self.limit = limit
        self.pending: list | None = []  # changes that arrive during catch-up
        self.closed = False

    def deliver(self, change_id: int, message: bytes, framed: bytes) -> None:
        if self.pending is not None:
            self.pending.append((change_id, message))
        else:
            self.write(message, framed)

    def write(self, message: bytes, framed: bytes | None = None) -> None:
        if self.closed:
            return
        transport = self.transport
        if transport is None:
            if self.queue.qsize() >= QUEUE_LIMIT:
                self.close()
            else:
                self.queue.put_nowait(message)
            return
        if transport.is_closing():
            self.closed = True
        elif transport.get_write_buffer_size() > self.limit:
            log.info("reader fell too far behind; disconnecting it")
            self.close()
        else:
            transport.write(framed if framed is not None else chunk(message))

    def close(self) -> None:
        """End the stream: the client reconnects and catches up from the store."""
        self.closed = True
        if self.transport is not None:
            self.transport.close()  # the server sees the disconnect and ends the request
        else:
            self.queue.put_nowait(None)  # tells the writer task to finish


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

    def readers_per_event(self) -> dict[int, int]:
        """Open readers of each event's stream on this node (the all-events stream is not counted)."""
        return {event_id: len(readers) for event_id, readers in self.by_event.items() if event_id is not None and readers}

    async def start(self) -> None:
        self.last_id = await anyio.to_thread.run_sync(run_read, self.engine, change_store.last_change_id)
        self._tasks = [asyncio.create_task(self._every(self.keepalive_s, self._keepalive)),
                       asyncio.create_task(self._every(self.poll_s, lambda: self.notify(None)))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for readers in self.by_event.values():
            for reader in list(readers):
                reader.close()

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
                    self.last_id = row.id  # a reader joining during the fan-out starts after this change
                    await self._publish(row.id, row.event_id, encode(row.id, row.kind, row.payload))
                if len(rows) < 500:
                    break

    def _read_after(self, after_id: int) -> list:
        return run_read(self.engine, lambda conn: change_store.changes_since(conn, after_id, limit=500))

    async def _publish(self, change_id: int, event_id: int, message: bytes) -> None:
        """The hot loop: one framed message, written to every reader in turn.

        Between batches the loop may serve others, so a publish request or a new reader
        never waits for a whole fan-out."""
        framed = chunk(message)
        readers = [*self.by_event.get(event_id, ()), *self.by_event.get(None, ())]
        for start in range(0, len(readers), WRITE_BATCH):
            if start:
                await asyncio.sleep(0)
            for reader in readers[start : start + WRITE_BATCH]:
                reader.deliver(change_id, message, framed)

    # ---- one reader's connection ----------------------------------------------------

    async def serve(self, scope, receive, send, *, event_id: int | None, last_event_id: int | None) -> None:
        """Answer an SSE request; called from inside the web framework's layers."""
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
        handoff = scope.get("livedesk.handoff")
        if transport is not None and handoff is not None:
            # Return at once, so the framework's layers (request, middleware, exit stacks) are
            # freed; RawSendMiddleware, the outermost layer, then calls `_serve_raw`. A reader
            # held open for hours costs a socket, uvicorn's connection and one small coroutine.
            handoff.append(lambda raw_receive, raw_send: self._serve_raw(
                transport, raw_receive, raw_send, event_id, last_event_id))
            return
        await self._serve_queued(receive, send, event_id, last_event_id)

    async def _serve_raw(self, transport, receive, send, event_id: int | None, last_event_id: int | None) -> None:
        """Live delivery writes straight to the socket; this coroutine only waits for the end."""
        reader = Reader(event_id, transport, self.reader_limit)
        try:
            await self._join(reader, last_event_id)
            await _wait_disconnect(receive)  # a dropped reader's socket is closed, which ends this too
        finally:
            self._leave(reader)
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _serve_queued(self, receive, send, event_id: int | None, last_event_id: int | None) -> None:
        """For servers without a reachable socket: a queue and a writer task per reader."""
        reader = Reader(event_id, None, self.reader_limit)
        writer = asyncio.create_task(_write_queue(reader, send))
        waiter = None
        try:
            await self._join(reader, last_event_id)
            waiter = asyncio.create_task(_wait_disconnect(receive))
            await asyncio.wait({waiter, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._leave(reader)
            for task in (waiter, writer):
                if task is not None:
                    task.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _join(self, reader: Reader, last_event_id: int | None) -> None:
        reader.write(RETRY)
        self.by_event.setdefault(reader.event_id, set()).add(reader)
        await self._catch_up(reader, last_event_id)

    def _leave(self, reader: Reader) -> None:
        reader.closed = True
        readers = self.by_event.get(reader.event_id)
        if readers is not None:
            readers.discard(reader)
            if not readers:
                del self.by_event[reader.event_id]

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
    with contextlib.suppress(Exception):
        while (message := await reader.queue.get()) is not None:
            await send({"type": "http.response.body", "body": message, "more_body": True})


def _raw_transport(scope) -> asyncio.Transport | None:
    """The socket under uvicorn's httptools protocol, when we may write chunks to it directly."""
    raw_send = scope.get("livedesk.raw_send")
    cycle = getattr(raw_send, "__self__", None)
    if cycle is None or type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
        return None
    if not getattr(cycle, "chunked_encoding", False):
        return None
    return getattr(cycle, "transport", None)


MAX_CHANGE_ID = 2**63 - 1  # a 64-bit integer column


def parse_last_event_id(value: str | None) -> int | None:
    """The change a reader saw last; None when it sent none (live from now on). A value that is
    no change id (not a number, negative, or beyond any id) replays from the start."""
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value)
    except ValueError:
        return 0
    return number if 0 <= number <= MAX_CHANGE_ID else 0
