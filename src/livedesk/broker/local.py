"""The broker for the workers of one machine (`livedesk serve --workers N` without Redis).

Each worker listens on its own Unix datagram socket in one directory; what a worker announces
or reports is sent to every socket there, and each keeps its own tables as the memory broker
does. A datagram lost to a full buffer costs latency, never data: hubs also look on a timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from livedesk.broker.memory import MemoryBroker

log = logging.getLogger("livedesk.broker")

MAX_DATAGRAM = 65536


class LocalBroker(MemoryBroker):
    def __init__(self, directory: str) -> None:
        super().__init__()
        self.directory = Path(directory)
        self._inbox: socket.socket | None = None
        self._path: Path | None = None
        self._out = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._out.setblocking(False)

    async def start(self, on_change: Callable[[int], None]) -> None:
        await super().start(on_change)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._path = self.directory / f"{os.getpid()}.sock"
        self._path.unlink(missing_ok=True)
        inbox = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        inbox.setblocking(False)
        inbox.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        inbox.bind(str(self._path))
        self._inbox = inbox
        asyncio.get_running_loop().add_reader(inbox.fileno(), self._receive)

    async def stop(self) -> None:
        if self._inbox is not None:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_reader(self._inbox.fileno())
            self._inbox.close()
            self._inbox = None
        if self._path is not None:
            self._path.unlink(missing_ok=True)
        await super().stop()

    def announce(self, change_id: int) -> None:
        super().announce(change_id)
        self._send(b"%d" % change_id)

    def report_readers(self, site: str, node: str, counts: dict[int, int], ttl_s: float) -> None:
        super().report_readers(site, node, counts, ttl_s)
        self._send(json.dumps(["readers", site, node, counts, ttl_s]).encode())

    def report_presence(self, site: str, event_id: int, user: str, state: dict[str, str | None], ttl_s: float) -> None:
        super().report_presence(site, event_id, user, state, ttl_s)
        self._send(json.dumps(["presence", site, event_id, user, state, ttl_s]).encode())

    def _send(self, payload: bytes) -> None:
        """To every other worker's socket; safe from any thread, never raises."""
        try:
            peers = [path for path in self.directory.glob("*.sock") if path != self._path]
        except OSError:
            return
        for path in peers:
            try:
                self._out.sendto(payload, str(path))
            except OSError:  # a worker gone (its socket left behind) or a full buffer
                pass

    def _receive(self) -> None:
        while self._inbox is not None:
            try:
                payload = self._inbox.recv(MAX_DATAGRAM)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                log.exception("local broker: could not read")
                return
            try:
                self._apply(payload)
            except (ValueError, TypeError, IndexError):
                log.warning("local broker: dropped a message it could not read")

    def _apply(self, payload: bytes) -> None:
        if payload[:1].isdigit():
            if self._on_change is not None:
                self._on_change(int(payload))
            return
        kind, *args = json.loads(payload)
        if kind == "readers":
            site, node, counts, ttl_s = args
            super().report_readers(site, node, {int(event): int(n) for event, n in counts.items()}, float(ttl_s))
        elif kind == "presence":
            site, event_id, user, state, ttl_s = args
            super().report_presence(site, int(event_id), user, state, float(ttl_s))
