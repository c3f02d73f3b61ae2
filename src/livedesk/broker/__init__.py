"""Fan-out of "something changed": the store is the truth, a broker only says where to look.
memory:// serves one process, local://DIRECTORY the workers of one machine, redis:// many nodes.
It also adds up each node's open readers per event (counted per connection, never per post).

A lost message costs latency, never data: readers also look for missed changes on a timer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Broker(Protocol):
    async def start(self, on_change: Callable[[int], None]) -> None:
        """Begin delivering announced change ids to `on_change` on the running loop."""

    def announce(self, change_id: int) -> None:
        """Say that change `change_id` is committed. Safe from any thread; never raises."""

    async def stop(self) -> None: ...

    def report_readers(self, site: str, node: str, counts: dict[int, int], ttl_s: float) -> None:
        """Say how many readers each event has open on `node` now; the figure lapses after `ttl_s`."""

    def reader_counts(self, site: str) -> dict[int, int]:
        """Readers open per event on every node of `site` that reported lately."""

    def report_presence(self, site: str, event_id: int, user: str, state: dict[str, str | None], ttl_s: float) -> None:
        """Say what a desk user is doing on an event (online, writing, editing a post) for `ttl_s`."""

    def presence(self, site: str, event_id: int) -> list[dict[str, str | None]]:
        """The desk users on an event now, by name: {"user", "state", "post"}."""


def make_broker(url: str) -> Broker:
    if url.startswith("redis://") or url.startswith("rediss://"):
        from livedesk.broker.redis import RedisBroker

        return RedisBroker(url)
    if url in ("memory://", "", "memory"):
        from livedesk.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith("local://") and len(url) > len("local://"):
        from livedesk.broker.local import LocalBroker

        return LocalBroker(url.removeprefix("local://"))
    raise ValueError(f"unknown broker URL {url!r}: use memory://, local://DIRECTORY or redis://host:port")
