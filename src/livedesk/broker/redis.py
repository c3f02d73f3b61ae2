"""The broker for many nodes: Redis pub/sub carries change ids between processes.

If Redis is away, announcements are dropped (readers' timers catch up from the
database) and the subscriber keeps reconnecting until it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable

import redis
import redis.asyncio as aredis

log = logging.getLogger("livedesk.broker")

CHANNEL = "livedesk:changes"
PRESENCE = "livedesk:presence:"  # + site + ":" + event id: a hash of desk user -> what they do, until when
READERS = "livedesk:readers:"  # + site + ":" + node: a hash of event id -> readers open there


class RedisBroker:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._publisher = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._task: asyncio.Task | None = None
        self._local: tuple[asyncio.AbstractEventLoop, Callable[[int | None], None]] | None = None
        self.connected = False
        # Writers hand change ids to one sending thread, so they never wait on Redis.
        self._outbox: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._send_loop, name="livedesk-announce", daemon=True)
        self._sender.start()

    async def start(self, on_change: Callable[[int | None], None]) -> None:
        self._local = (asyncio.get_running_loop(), on_change)
        self._task = asyncio.create_task(self._listen(on_change))

    def announce(self, change_id: int) -> None:
        self._outbox.put(change_id)
        if self._local is not None:  # this node's readers need not wait for the round trip through Redis
            loop, on_change = self._local
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(on_change, change_id)

    def _send_loop(self) -> None:
        failing = False
        while True:
            change_id = self._outbox.get()
            if change_id is None:
                return
            while not self._outbox.empty():  # hubs read every change up to the newest id
                newer = self._outbox.get_nowait()
                if newer is None:
                    return
                change_id = max(change_id, newer)
            for attempt in range(2):  # a connection from before a Redis restart fails once
                try:
                    self._publisher.publish(self.channel, str(change_id))
                    failing = False
                    break
                except (redis.RedisError, OSError) as exc:
                    if attempt and not failing:
                        log.warning("could not announce change %s: %s; readers poll the database", change_id, exc)
                        failing = True

    async def _listen(self, on_change: Callable[[int | None], None]) -> None:
        delay = 0.2
        while True:
            client = aredis.Redis.from_url(self.url, socket_connect_timeout=1, health_check_interval=5)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    self.connected, delay = True, 0.2
                    on_change(None)  # look for anything announced while we were away
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            with contextlib.suppress(ValueError):
                                on_change(int(message["data"]))
            except Exception as exc:  # noqa: BLE001 - whatever broke, keep trying: push must come back by itself
                if self.connected:
                    log.warning("lost Redis (%s); readers fall back to polling the database", exc)
                self.connected = False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
            finally:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def stop(self) -> None:
        self._local = None
        if self._task:
            self._task.cancel()
            # Closing the subscriber's connection has been seen to wait on its socket for good
            # (redis/redis-py#3941): a stopping node gives it two seconds, then goes on.
            await asyncio.wait({self._task}, timeout=2)
        self._outbox.put(None)
        self._sender.join(timeout=2)
        self._publisher.close()

    def report_readers(self, site: str, node: str, counts: dict[int, int], ttl_s: float) -> None:
        key = f"{READERS}{site}:{node}"
        try:
            with self._publisher.pipeline() as pipe:  # MULTI: other nodes never read half a report
                pipe.delete(key)
                if counts:
                    pipe.hset(key, mapping={str(event): n for event, n in counts.items()})
                    pipe.expire(key, max(1, math.ceil(ttl_s)))
                pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("could not report readers: %s", exc)

    def reader_counts(self, site: str) -> dict[int, int]:
        total = Counter[int]()
        try:
            for key in self._publisher.scan_iter(match=f"{READERS}{site}:*", count=200):
                for event, n in self._publisher.hgetall(key).items():
                    total[int(event)] += int(n)
        except (redis.RedisError, OSError) as exc:
            log.warning("could not read reader counts: %s", exc)
        return dict(total)

    def report_presence(self, site: str, event_id: int, user: str, state: dict[str, str | None], ttl_s: float) -> None:
        key = f"{PRESENCE}{site}:{event_id}"
        try:
            with self._publisher.pipeline() as pipe:
                pipe.hset(key, user, json.dumps({**state, "until": time.time() + ttl_s}))
                pipe.expire(key, max(1, math.ceil(ttl_s * 2)))
                pipe.execute()
        except (redis.RedisError, OSError) as exc:
            log.warning("could not report presence: %s", exc)

    def presence(self, site: str, event_id: int) -> list[dict[str, str | None]]:
        try:
            found = self._publisher.hgetall(f"{PRESENCE}{site}:{event_id}")
        except (redis.RedisError, OSError) as exc:
            log.warning("could not read presence: %s", exc)
            return []
        now, users = time.time(), []
        for user, raw in sorted(found.items()):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                state = json.loads(raw)
                if state.pop("until", 0) > now:
                    users.append({"user": user.decode(), **state})
        return users
