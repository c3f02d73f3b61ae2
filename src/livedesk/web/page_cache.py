"""The page cache: rendered pages kept in memory, keyed by the URL and the newest change id the
process has seen, so repeated loads cost a dictionary look-up; browsers revalidate with ETags."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from fastapi import Request, Response

from livedesk.newsroom import NotFound
from livedesk.store.posts import BadCursor
from livedesk.web.partners import partners_of
from livedesk.web.render import HTML, error_page, public_base
from livedesk.web.responses import header_lines, not_modified


@dataclass(frozen=True)
class CachedEntry:
    tag: str  # the ETag of the plain body; the gzip body's ends in -gz
    body: bytes
    gzipped: bytes
    # (gzip?, the security headers sent with it) -> its 200 and its 304 reply, made once
    replies: dict = field(default_factory=dict, compare=False, repr=False)


class PageCache:
    """A small LRU of rendered pages: key -> CachedEntry."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.latest: dict = {}  # (path, query) -> the newest entry built for that URL

    def newest_for(self, key) -> CachedEntry | None:
        return self.latest.get(key[:2])

    def get(self, key) -> CachedEntry | None:
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
        return found

    def put(self, key, body: bytes) -> CachedEntry:
        tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        entry = CachedEntry(tag, body, gzip.compress(body, 6, mtime=0))
        self.items[key] = entry
        self.latest[key[:2]] = entry
        if len(self.items) > self.size:
            old_key, old_entry = self.items.popitem(last=False)
            if self.latest.get(old_key[:2]) is old_entry:
                del self.latest[old_key[:2]]
        return entry


class PageError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _state(request: Request, name: str, factory):
    value = getattr(request.app.state, name, None)
    if value is None:
        value = factory()
        setattr(request.app.state, name, value)
    return value


def page_key(state, scope: dict) -> tuple:
    """What a cached page depends on: its full URL (links in it are absolute), the newest change
    seen, the partner items."""
    values = state._state  # the app state's own dict: asked on every request, without __getattr__
    hub = values.get("hub")
    partners = values.get("partner_news")
    url = public_base(values["settings"], scope) + scope["path"]
    return (url, scope["query_string"].decode("latin-1"), hub.last_id if hub is not None else 0,
            partners.generation if partners else 0)


async def cached_page(request: Request, build: Callable[[int], str]) -> Response:
    """Serve from the cache while nothing changed; else `build(since)` in a thread and keep it."""
    cache = _state(request, "page_cache", PageCache)
    partners_of(request)  # its generation is part of the key
    key = page_key(request.app.state, request.scope)
    since = key[2]  # read before the store: the page is at least this new
    entry = cache.get(key)
    if entry is None:
        previous = cache.newest_for(key)
        if previous is not None and key in _state(request, "page_builds", dict):
            # another request is building the new version: take the last one rather than wait;
            # its stream position is older, so its live updates replay what it misses
            return CachedPage(previous)
        try:
            entry = await _build_once(request, key, lambda: cache.put(key, build(since).encode()))
        except NotFound as exc:
            return error_page(request, 404, str(exc))
        except (BadCursor, PageError) as exc:
            return error_page(request, getattr(exc, "status", 400), str(exc))
    return CachedPage(entry)


async def _build_once(request: Request, key, build: Callable[[], CachedEntry]) -> CachedEntry:
    """Build a page in a thread; requests for the same page meanwhile wait for that one build."""
    builds = _state(request, "page_builds", dict)
    task = builds.get(key)
    if task is None:
        task = asyncio.ensure_future(anyio.to_thread.run_sync(build))
        builds[key] = task
        task.add_done_callback(lambda _done: builds.pop(key, None))
    return await asyncio.shield(task)


class CachedPage(Response):
    """A response that sends a cache entry as it is (gzip when the client takes it)."""

    def __init__(self, entry: CachedEntry) -> None:
        self.entry = entry
        self.background = None

    async def __call__(self, scope, receive, send) -> None:
        await send_page(scope, send, self.entry)


def page_reply(scope, entry: CachedEntry, extra: tuple = ()) -> Reply:
    """The reply to this request for a cache entry: 200, or 304 when the client holds it (its
    If-None-Match), gzip when the client takes it. Made once per kind of reply and kept."""
    zipped, if_none_match = False, b""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            zipped = zipped or b"gzip" in value
        elif name == b"if-none-match":
            if_none_match = value
    replies = entry.replies.get((zipped, extra))
    if replies is None:
        replies = entry.replies[zipped, extra] = _replies(entry, zipped, extra)
    full, unchanged = replies
    return unchanged if if_none_match and not_modified(unchanged.tag, if_none_match.decode("latin-1")) else full


async def send_page(scope, send, entry: CachedEntry, extra: tuple = ()) -> None:
    """Sends a cache entry: a look-up and two sends."""
    reply = page_reply(scope, entry, extra)
    await send({"type": "http.response.start", "status": reply.status, "headers": reply.headers})
    await send({"type": "http.response.body", "body": reply.body})


@dataclass(frozen=True)
class Reply:
    status: int
    headers: list
    body: bytes
    tag: str
    head: bytes  # the headers encoded, with the blank line that ends them


def _replies(entry: CachedEntry, zipped: bool, extra: tuple) -> tuple[Reply, Reply]:
    """The 200 and the 304 reply of one kind."""
    tag = entry.tag[:-1] + '-gz"' if zipped else entry.tag
    reply = [(b"etag", tag.encode()), (b"cache-control", b"no-cache"), (b"vary", b"Accept-Encoding"), *extra]
    body = entry.gzipped if zipped else entry.body
    full = [*reply, (b"content-type", HTML.encode()), (b"content-length", str(len(body)).encode())]
    if zipped:
        full.append((b"content-encoding", b"gzip"))
    return (Reply(200, full, body, tag, header_lines(full) + b"\r\n"),
            Reply(304, reply, b"", tag, header_lines(reply) + b"\r\n"))
