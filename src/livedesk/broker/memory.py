"""The broker for one process: a callback on the event loop."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable


class MemoryBroker:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_change: Callable[[int], None] | None = None
        self._readers: dict[tuple[str, str], tuple[float, dict[int, int]]] = {}
        self._presence: dict[tuple[str, int], dict[str, tuple[float, dict[str, str | None]]]] = {}

    async def start(self, on_change: Callable[[int], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_change = on_change

    def announce(self, change_id: int) -> None:
        loop, callback = self._loop, self._on_change
        if loop is None or callback is None or loop.is_closed():
            return  # nobody listens in this process; readers' timers pick the change up
        loop.call_soon_threadsafe(callback, change_id)

    async def stop(self) -> None:
        self._loop = None
        self._on_change = None

    def report_readers(self, site: str, node: str, counts: dict[int, int], ttl_s: float) -> None:
        self._readers[(site, node)] = (time.monotonic() + ttl_s, dict(counts))

    def reader_counts(self, site: str) -> dict[int, int]:
        now, total = time.monotonic(), Counter[int]()
        for (where, _node), (until, counts) in list(self._readers.items()):
            if where == site and until > now:
                total.update(counts)
        return dict(total)

    def report_presence(self, site: str, event_id: int, user: str, state: dict[str, str | None], ttl_s: float) -> None:
        self._presence.setdefault((site, event_id), {})[user] = (time.monotonic() + ttl_s, dict(state))

    def presence(self, site: str, event_id: int) -> list[dict[str, str | None]]:
        now = time.monotonic()
        users = self._presence.get((site, event_id), {})
        return [{"user": user, **state} for user, (until, state) in sorted(users.items()) if until > now]
