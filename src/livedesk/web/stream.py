"""Server-Sent Events: one hub per process fans each change out to every reader.

A change is read from the store once, encoded and framed once, and written to every
reader's connection in one loop: no task or queue per reader.

Under uvicorn's httptools server the hub takes a stream's connection over as soon as its
headers are sent (`Hub.take_now` from `livedesk serve`'s own HTTP protocol, `Hub.take` from
the first ASGI layer, `Hub.serve` from the framework): the socket's protocol becomes the
reader itself, a small slot object, and uvicorn's objects for the request go away. An idle
reader then costs its socket and that one object.

Readers that reconnect with Last-Event-ID are replayed from the hub's memory of the newest
changes (`recent`, filled from the store at start, so a restarted node has it too) when it
holds all they missed; else from the store, where readers who need the same range share one
read (`_replay`), so a reconnect storm costs a few reads, not one each.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from collections.abc import Callable

import anyio
from sqlalchemy import Engine
from starlette.datastructures import Headers, QueryParams

from livedesk.model import Change
from livedesk.store import changes as change_store
from livedesk.store import events as event_store
from livedesk.store.db import run_read
from livedesk.web.responses import header_lines

log = logging.getLogger("livedesk.stream")

KEEPALIVE = b": keep-alive\n\n"
RETRY = b"retry: 2000\n\n"
QUEUE_LIMIT = 1000  # messages held for a reader without a raw socket
WRITE_BATCH = 250  # readers written to before the loop may serve anything else
PAGE = 500  # changes read from the store at a time
MAX_HEADER = 40  # the longest Last-Event-ID / since the API takes
START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"),
        (b"cache-control", b"no-cache, no-transform"),
        (b"x-accel-buffering", b"no"),
    ],
}


def encode(change_id: int, kind: str, payload: str) -> bytes:
    return f"id: {change_id}\nevent: {kind}\ndata: {payload}\n\n".encode()


def chunk(message: bytes) -> bytes:
    """HTTP/1.1 chunked framing, for writing straight to the socket."""
    return b"%x\r\n%s\r\n" % (len(message), message)


def unchunk(framed: bytes) -> bytes:
    """The messages inside one or more chunks (a replay writes several at once)."""
    messages, at = [], 0
    while at < len(framed):
        end_of_size = framed.index(b"\r\n", at)
        start = end_of_size + 2
        at = start + int(framed[at:end_of_size], 16) + 2
        messages.append(framed[start : at - 2])
    return b"".join(messages)


FRAMED_KEEPALIVE = chunk(KEEPALIVE)
FRAMED_RETRY = chunk(RETRY)


class Reader(asyncio.Protocol):
    """One SSE connection. With a raw socket it is the socket's protocol: `out` is the socket's
    own write, the socket's closing takes it off the hub, and a write buffer over the hub's limit
    (a reader fallen far behind) drops it. Without one, `out` fills a queue its own task drains.
    `pending` holds what arrives while it is being replayed; `sent` is the newest change it has."""

    __slots__ = ("closed", "event_id", "hub", "out", "pending", "queue", "sent", "transport")

    def __init__(self, hub: Hub, event_id: int | None, transport: asyncio.Transport | None) -> None:
        self.hub = hub
        self.event_id = event_id  # None: every event
        self.transport = transport
        self.queue: asyncio.Queue | None = None
        if transport is not None:
            self.out = transport.write
        else:
            self.queue = asyncio.Queue()
            self.out = self._enqueue
        self.pending: list | None = None
        self.sent = 0
        self.closed = False

    def put(self, framed: bytes) -> None:
        """Write one framed message, unless the stream has ended."""
        if not self.closed:
            try:
                self.out(framed)
            except RuntimeError:  # the socket closed just now; connection_lost follows
                self.closed = True

    def _enqueue(self, framed: bytes) -> None:
        if self.queue.qsize() >= QUEUE_LIMIT:
            self.close()
        else:
            self.queue.put_nowait(unchunk(framed))

    def close(self) -> None:
        """End the stream: the client reconnects and catches up from the store."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()  # what it has not read yet is dropped; connection_lost takes it off the hub
        else:
            self.queue.put_nowait(None)  # tells the writer task to finish

    # the socket's protocol, once the hub owns the connection

    def data_received(self, data: bytes) -> None:
        pass  # a stream's client has nothing more to say

    def pause_writing(self) -> None:
        log.info("reader fell too far behind; disconnecting it")
        self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.hub._leave(self)


class Hub:
    def __init__(self, engine: Engine, *, keepalive_s: float, poll_s: float, reader_limit: int,
                 replay_memory: int) -> None:
        self.engine = engine
        self.keepalive_s = keepalive_s
        self.poll_s = poll_s
        self.reader_limit = reader_limit
        self.by_event: dict[int | None, set[Reader]] = {}  # every reader, by the event it follows
        self.live: dict[int | None, dict[Reader, Callable[[bytes], object]]] = {}  # written to as changes come
        self.waiting: dict[int | None, set[Reader]] = {}  # being replayed, or ahead of this hub
        self.last_id = 0
        self.replay_memory = replay_memory  # bytes of framed changes kept in `recent`
        self.recent: list[tuple[int, int, bytes]] = []  # (change id, event id, framed), oldest first
        self.recent_bytes = 0
        self.recent_floor = 0  # `recent` holds every change after this one up to last_id
        self._missed: dict[tuple[int | None, int], bytes] = {}  # replays made from `recent` since last_id moved
        self.event_ids: dict[str, int] = {}  # slug -> id of events streamed here (slugs never change)
        self._heads: dict[tuple, bytes] = {}  # a stream response's own headers, encoded once
        self._lookups: dict[str, asyncio.Future] = {}
        self._replays: dict[tuple[int | None, int], list[Reader]] = {}  # readers waiting for one read
        self._replay_locks: dict[tuple[int | None, int], asyncio.Lock] = {}
        self._dirty = False
        self._drain_task: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def reader_count(self) -> int:
        return sum(len(s) for s in self.by_event.values())

    def readers_per_event(self) -> dict[int, int]:
        """Open readers of each event's stream on this node (the all-events stream is not counted)."""
        return {event_id: len(readers) for event_id, readers in self.by_event.items() if event_id is not None and readers}

    async def start(self) -> None:
        rows = await anyio.to_thread.run_sync(run_read, self.engine, lambda conn: change_store.latest_changes(conn, PAGE))
        if rows:
            self.last_id = self.recent_floor = rows[0].id - 1
            for row in rows:
                self._remember(row)
        self._spawn(self._every(self.keepalive_s, self._keepalive))
        self._spawn(self._every(self.poll_s, lambda: self.notify(None)))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for readers in list(self.by_event.values()):
            for reader in list(readers):
                reader.close()

    def _spawn(self, work) -> asyncio.Task:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _every(self, seconds: float, action) -> None:
        while True:
            await asyncio.sleep(seconds)
            action()

    def _keepalive(self) -> None:
        for readers in list(self.live.values()):
            for reader in list(readers):
                reader.put(FRAMED_KEEPALIVE)

    def notify(self, change_id: int | None) -> None:
        """A change was committed somewhere (None: just look)."""
        if change_id is not None and change_id <= self.last_id:
            return
        self._dirty = True
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = self._spawn(self._drain())

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
                    framed = self._remember(row)  # a reader joining during the fan-out starts after this change
                    await self._publish(row.id, row.event_id, framed)
                if len(rows) < PAGE:
                    break

    def _remember(self, row) -> bytes:
        """Take the next change in order: it becomes the newest this hub has, kept in `recent`."""
        framed = chunk(encode(row.id, row.kind, row.payload))
        self.last_id = row.id
        self.recent.append((row.id, row.event_id, framed))
        self.recent_bytes += len(framed)
        if self.recent_bytes > self.replay_memory:  # forget the oldest, down to three quarters
            drop = 0
            while self.recent_bytes > self.replay_memory * 3 // 4:
                self.recent_bytes -= len(self.recent[drop][2])
                drop += 1
            self.recent_floor = self.recent[drop - 1][0]
            del self.recent[:drop]
        self._missed.clear()
        return framed

    def _missed_since(self, event_id: int | None, after_id: int) -> bytes | None:
        """What a reader of `event_id` missed after change `after_id`, framed, from memory; None
        when memory does not reach back that far (or the reader is ahead of this hub)."""
        if not self.recent_floor <= after_id <= self.last_id:
            return None
        key = (event_id, after_id)
        missed = self._missed.get(key)
        if missed is None:
            start = bisect.bisect_right(self.recent, after_id, key=lambda change: change[0])
            missed = self._missed[key] = b"".join(
                framed for _, event, framed in self.recent[start:] if event_id is None or event == event_id)
        return missed

    def _read_after(self, after_id: int, event_id: int | None = None) -> list[Change]:
        return run_read(self.engine, lambda conn: change_store.changes_since(conn, after_id, event_id=event_id, limit=PAGE))

    async def _publish(self, change_id: int, event_id: int, framed: bytes) -> None:
        """The hot loop: one framed message, written to every live reader's socket in turn.

        Between batches the loop may serve others, so a publish request or a new reader
        never waits for a whole fan-out."""
        writes = [*self.live.get(event_id, {}).values(), *self.live.get(None, {}).values()]
        for key in (event_id, None):  # after the snapshot: a reader going live here has this change already
            for reader in list(self.waiting.get(key, ())):
                self._deliver_waiting(reader, change_id, framed)
        for start in range(0, len(writes), WRITE_BATCH):
            if start:
                await asyncio.sleep(0)
            for write in writes[start : start + WRITE_BATCH]:
                try:
                    write(framed)
                except RuntimeError:  # its socket closed just now; connection_lost takes it off
                    pass

    def _deliver_waiting(self, reader: Reader, change_id: int, framed: bytes) -> None:
        if reader.pending is not None:  # being replayed: this change follows the replay
            reader.pending.append((change_id, framed))
            return
        if change_id > reader.sent:  # a reader ahead of this hub (it came from a node further on)
            reader.put(framed)
            reader.sent = change_id
        if change_id >= reader.sent:
            self._go_live(reader)

    # ---- a reader's connection ----------------------------------------------------------

    async def take(self, scope, send, slug: str | None, headers: list[tuple[bytes, bytes]]) -> bool:
        """The fast route, before any framework layer: answer a stream request and own its
        connection. False when the framework should answer instead (an unknown event, odd
        parameters, a server whose socket the hub cannot reach)."""
        cycle = _httptools_cycle(send)
        if cycle is None or scope["http_version"] != "1.1":
            return False
        found, last_event_id = _last_event_id(scope)
        if not found:
            return False
        event_id = None
        if slug is not None:
            event_id = await self.event_id(slug)
            if event_id is None:
                return False
        if cycle.disconnected:
            return True
        cycle.response_started = True
        cycle.disconnected = True  # uvicorn neither writes to nor closes this connection any more
        self._own(cycle.transport, event_id, last_event_id, self._greeting(headers, cycle.default_headers))
        return True

    def take_now(self, transport, scope, slug: str | None, headers: list[tuple[bytes, bytes]],
                 default_headers: list[tuple[bytes, bytes]]) -> bool:
        """`take` from the HTTP protocol's own callback (web/protocol.py), before uvicorn makes
        anything of the request: only for an event this hub knows already (no store read)."""
        found, last_event_id = _last_event_id(scope)
        if not found:
            return False
        event_id = None
        if slug is not None:
            event_id = self.event_ids.get(slug)
            if event_id is None:
                return False
        self._own(transport, event_id, last_event_id, self._greeting(headers, default_headers))
        return True

    def _greeting(self, headers: list[tuple[bytes, bytes]], default_headers: list[tuple[bytes, bytes]]) -> bytes:
        """The response's head and the retry advice: they go in one write with what the reader missed."""
        head = self._heads.get(key := tuple(headers))
        if head is None:
            head = self._heads[key] = header_lines(START["headers"] + headers)
        default = header_lines(default_headers)  # server, date
        return b"HTTP/1.1 200 OK\r\n%s%stransfer-encoding: chunked\r\n\r\n%s" % (default, head, FRAMED_RETRY)

    async def event_id(self, slug: str) -> int | None:
        """The id of the event called `slug`; readers asking at once share one read."""
        known = self.event_ids.get(slug)
        if known is not None:
            return known
        lookup = self._lookups.get(slug)
        if lookup is None:
            lookup = self._lookups[slug] = asyncio.ensure_future(anyio.to_thread.run_sync(self._read_event_id, slug))
            lookup.add_done_callback(lambda _: self._lookups.pop(slug, None))
        try:
            found = await asyncio.shield(lookup)
        except Exception:  # noqa: BLE001 - the store is down: the framework's route answers, or says why not
            return None
        if found is not None:
            self.event_ids[slug] = found
        return found

    def _read_event_id(self, slug: str) -> int | None:
        event = run_read(self.engine, lambda conn: event_store.get_event(conn, slug))
        return None if event is None else event.id

    async def serve(self, scope, receive, send, *, event_id: int | None, last_event_id: int | None) -> None:
        """Answer an SSE request; called from inside the web framework's layers."""
        await send(START)
        cycle = _httptools_cycle(scope.get("livedesk.raw_send"))
        if cycle is not None and cycle.chunked_encoding:
            if not cycle.disconnected:
                cycle.disconnected = True
                self._own(cycle.transport, event_id, last_event_id)
        else:
            await self._serve_queued(receive, send, event_id, last_event_id)

    def _own(self, transport, event_id: int | None, last_event_id: int | None, greeting: bytes = FRAMED_RETRY) -> None:
        """The response's headers are written or in `greeting`: the connection becomes the
        reader's. uvicorn forgets it (it no longer counts it among its connections)."""
        server_protocol = transport.get_protocol()
        with contextlib.suppress(AttributeError):
            server_protocol.connections.discard(server_protocol)
        reader = Reader(self, event_id, transport)
        transport.set_protocol(reader)
        transport.set_write_buffer_limits(high=self.reader_limit)  # beyond it, pause_writing drops the reader
        if reader.closed:  # so far behind already
            return
        self._join(reader, last_event_id, greeting)

    async def _serve_queued(self, receive, send, event_id: int | None, last_event_id: int | None) -> None:
        """For servers without a reachable socket: a queue and a writer task per reader."""
        reader = Reader(self, event_id, None)
        writer = asyncio.create_task(_write_queue(reader, send))
        waiter = asyncio.create_task(_wait_disconnect(receive))
        try:
            self._join(reader, last_event_id)
            await asyncio.wait({waiter, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._leave(reader)
            for task in (waiter, writer):
                task.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _join(self, reader: Reader, last_event_id: int | None, greeting: bytes = FRAMED_RETRY) -> None:
        """Greet the reader (the response's head, where the hub writes it, and the retry advice),
        then send it live, or first replay what it missed after `last_event_id`."""
        self.by_event.setdefault(reader.event_id, set()).add(reader)
        missed = b"" if last_event_id is None else self._missed_since(reader.event_id, last_event_id)
        if missed is not None:  # nothing to replay, or all of it in memory
            reader.put(greeting + missed)
            reader.sent = self.last_id  # live from now on
            self._go_live(reader)
            return
        reader.put(greeting)
        reader.pending = []
        self.waiting.setdefault(reader.event_id, set()).add(reader)
        key = (reader.event_id, last_event_id)
        replaying = self._replays.get(key)
        if replaying is None:
            replaying = self._replays[key] = []
            self._spawn(self._replay(key, replaying))
        replaying.append(reader)

    def _replayed(self, reader: Reader, sent: int) -> None:
        """The replay is written up to change `sent`: what came meanwhile follows, then live delivery."""
        pending, reader.pending = reader.pending or [], None
        reader.sent = max(reader.sent, sent)
        for change_id, framed in pending:
            if change_id > reader.sent:
                reader.put(framed)
                reader.sent = change_id
        if reader.sent <= self.last_id:
            self._go_live(reader)

    def _go_live(self, reader: Reader) -> None:
        if reader.closed:
            return
        _discard(self.waiting, reader)
        self.live.setdefault(reader.event_id, {})[reader] = reader.out

    def _leave(self, reader: Reader) -> None:
        reader.closed = True
        _discard(self.by_event, reader)
        _discard(self.waiting, reader)
        live = self.live.get(reader.event_id)
        if live is not None:
            live.pop(reader, None)
            if not live:
                del self.live[reader.event_id]

    async def _replay(self, key: tuple[int | None, int], readers: list[Reader]) -> None:
        """Replay what `readers` missed after change `key[1]` with one read of the store, then
        switch them to live delivery.

        Readers join the list until the read begins, so each joined before it: whatever the hub
        had published when they joined is in the read, and what it publishes later waits in
        their `pending`. Reads of one range follow each other, so the next list fills meanwhile."""
        lock = self._replay_locks.setdefault(key, asyncio.Lock())
        try:
            async with lock:
                if self._replays.get(key) is readers:
                    del self._replays[key]  # no one joins from here on
                event_id, sent = key
                try:
                    while True:
                        rows = await anyio.to_thread.run_sync(self._read_after, sent, event_id)
                        if rows:
                            framed = b"".join(chunk(encode(row.id, row.kind, row.payload)) for row in rows)
                            for start in range(0, len(readers), WRITE_BATCH):
                                if start:
                                    await asyncio.sleep(0)
                                for reader in readers[start : start + WRITE_BATCH]:
                                    reader.put(framed)
                            sent = rows[-1].id
                        if len(rows) < PAGE:
                            break
                except Exception:  # the store is down: the readers reconnect and try again
                    log.exception("could not replay changes")
                    for reader in readers:
                        reader.close()
                    return
                for reader in readers:
                    self._replayed(reader, sent)
        finally:
            if not lock.locked() and self._replay_locks.get(key) is lock and key not in self._replays:
                del self._replay_locks[key]


def _discard(readers: dict, reader: Reader) -> None:
    found = readers.get(reader.event_id)
    if found is not None:
        found.discard(reader)
        if not found:
            del readers[reader.event_id]


async def _wait_disconnect(receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _write_queue(reader: Reader, send) -> None:
    with contextlib.suppress(Exception):
        while (message := await reader.queue.get()) is not None:
            await send({"type": "http.response.body", "body": message, "more_body": True})


def _httptools_cycle(send):
    """uvicorn's request under its httptools protocol, whose socket the hub may take over."""
    cycle = getattr(send, "__self__", None)
    if cycle is None or type(cycle).__module__ != "uvicorn.protocols.http.httptools_impl":
        return None
    if not hasattr(cycle, "transport") or not hasattr(cycle.transport, "set_protocol"):
        return None
    return cycle


def _last_event_id(scope) -> tuple[bool, int | None]:
    """(False, None) when Last-Event-ID or `since` is longer than the API takes (the framework
    then answers 422); else (True, the change to replay after, or None)."""
    header = Headers(scope=scope).get("last-event-id")
    since = QueryParams(scope["query_string"]).get("since") if scope["query_string"] else None
    if any(value is not None and len(value) > MAX_HEADER for value in (header, since)):
        return False, None
    return True, parse_last_event_id(header or since)


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
