"""Assembles the web app: API, stream, pages; the hub, broker and scheduler."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from livedesk.config import Settings, get_settings
from livedesk.errors import Unavailable
from livedesk.newsroom import Forbidden, Invalid, NotFound, Stale, publish, websub_follow, websub_hub
from livedesk.newsroom.follow import default_node_id
from livedesk.newsroom.photos import TooLarge
from livedesk.newsroom.room import Newsroom
from livedesk.store.posts import BadCursor
from livedesk.web import api, compare, currency, desk, feeds, pages, player, presence, render, search, websub
from livedesk.web.auth import Unauthorized
from livedesk.web.middleware import BodyLimitMiddleware, CachedPages, SecurityHeaders, StreamRequests
from livedesk.web.responses import post_etag
from livedesk.web.stream import Hub

log = logging.getLogger("livedesk")


Job = Callable[[Newsroom], Awaitable[None]]


def create_app(settings: Settings | None = None, *, background: Sequence[Job] = ()) -> FastAPI:
    """The app; `background` holds coroutine functions `f(newsroom)` that run while it serves."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        room = Newsroom.open(settings)
        hub = Hub(room.engine, keepalive_s=settings.keepalive_s, poll_s=settings.catchup_poll_s,
                  reader_limit=settings.reader_buffer_bytes, replay_memory=settings.replay_memory_bytes)
        app.state.newsroom, app.state.hub = room, hub
        await hub.start()
        pushes = asyncio.Event()  # wakes the WebSub hub's deliveries when a change is announced

        def on_change(change_id: int) -> None:
            hub.notify(change_id)
            pushes.set()

        await room.broker.start(on_change)
        app.state.readers_site = readers_site(settings)
        tasks = [asyncio.create_task(_publish_scheduled(room)),
                 asyncio.create_task(_report_readers(room, hub, app.state.readers_site)),
                 asyncio.create_task(websub_hub.run(room, feeds.topic_renderer(room.engine, settings), pushes,
                                                    default_node_id(settings), websub_follow.renew_due))]
        tasks += [asyncio.create_task(job(room)) for job in background]
        gc.collect()
        gc.freeze()  # long-lived objects stay out of the collector's way: fewer pauses
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await hub.stop()
            await room.broker.stop()
            await anyio.to_thread.run_sync(room.close)

    app = FastAPI(
        title="livedesk",
        version="0.1.0",
        description="Live coverage: publish a live blog and follow other outlets' coverage of the same story.",
        lifespan=lifespan,
        docs_url=None,  # served by pages.py from local files, under the site's CSP
        redoc_url=None,
    )
    app.state.settings = settings
    app.include_router(api.router)
    desk.install(app)
    app.include_router(presence.router)
    app.include_router(compare.router)
    app.include_router(feeds.router)
    app.include_router(player.router)
    app.include_router(pages.router)
    app.include_router(search.router)
    app.include_router(currency.router)
    app.include_router(websub.router)
    app.mount("/static", StaticFiles(directory=render.STATIC), name="static")
    app.mount("/docs/assets", StaticFiles(directory=pages.DOCS_ASSETS), name="docs-assets")
    _add_error_handlers(app)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeaders, trusted=settings.trusted_proxies)
    return app


def server_app(settings: Settings | None = None, *, background=()) -> StreamRequests:
    """What `livedesk serve` runs: the app, under the layer that lets streams reach the socket
    and the one that answers cached pages before the framework."""
    app = create_app(settings, background=background)
    return StreamRequests(CachedPages(app, app), app)


async def _publish_scheduled(room: Newsroom) -> None:
    while True:
        await asyncio.sleep(room.settings.scheduler_interval_s)
        try:
            await anyio.to_thread.run_sync(publish.publish_due, room)
        except Exception:
            log.exception("publishing scheduled posts failed; trying again")


def readers_site(settings: Settings) -> str:
    """Names the nodes that count readers together: those on one database."""
    return hashlib.blake2b(settings.database_url.encode(), digest_size=8).hexdigest()


async def _report_readers(room: Newsroom, hub: Hub, site: str) -> None:
    """Every few seconds, tell the other nodes how many readers each event has open here."""
    every = room.settings.readers_report_s
    node = default_node_id(room.settings)
    try:
        while True:
            await anyio.to_thread.run_sync(room.broker.report_readers, site, node, hub.readers_per_event(), every * 3)
            await asyncio.sleep(every)
    finally:
        with contextlib.suppress(Exception):  # this node's readers leave with it
            room.broker.report_readers(site, node, {}, every)


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def _plain_error(status: int):
    async def handler(_r: Request, exc: Exception):
        return _error(status, str(exc))

    return handler


def _add_error_handlers(app: FastAPI) -> None:
    for error, status in ((TooLarge, 413), (NotFound, 404), (Invalid, 422), (BadCursor, 400), (Forbidden, 403)):
        app.add_exception_handler(error, _plain_error(status))

    @app.exception_handler(Unavailable)
    async def unavailable(request: Request, exc: Unavailable):
        log.warning("unavailable: %s", exc)
        if _wants_page(request):
            return render.error_page(request, 503, "This cannot be shown just now. Try again shortly.")
        return JSONResponse({"error": f"{exc}; nothing was stored; try again shortly"}, status_code=503,
                            headers={"Retry-After": "5"})

    @app.exception_handler(Stale)
    async def stale(_r: Request, exc: Stale):
        current = exc.current.to_json(exc.history)
        return JSONResponse({"error": str(exc), "current": current}, status_code=412, headers={"ETag": post_etag(current)})

    @app.exception_handler(Unauthorized)
    async def unauthorized(_r: Request, exc: Unauthorized):
        return JSONResponse({"error": str(exc)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(RequestValidationError)
    async def validation(_r: Request, exc: RequestValidationError):
        problems = [_describe(e) for e in exc.errors()]
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return _error(400, "the request body is not valid JSON")
        return _error(422, "; ".join(problems[:5]), details=problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 404 and _wants_page(request):
            return render.error_page(request, 404, "There is no page at this address.")
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(DataError)
    async def unstorable(_r: Request, exc: DataError):
        # e.g. a NUL byte, which PostgreSQL text cannot hold; the transaction was rolled back
        return _error(400, "the request holds a value the database cannot take (such as a NUL byte)")

    @app.exception_handler(OperationalError)
    async def unreachable(request: Request, exc: OperationalError):
        # the database is down, restarting or locked; the transaction did not commit
        log.warning("database unavailable: %s", exc.orig)
        message = "the database cannot be reached just now; nothing was changed; try again shortly"
        if _wants_page(request):
            return render.error_page(request, 503, "The coverage cannot be read just now. Try again shortly.")
        return JSONResponse({"error": message}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def crash(_r: Request, exc: Exception):
        log.exception("unexpected error")
        return _error(500, "internal error; nothing was changed")


def _wants_page(request: Request) -> bool:
    """A browser asking for a page (not the API, a feed or a file) gets an HTML error page."""
    path = request.url.path
    return "text/html" in request.headers.get("accept", "") and not path.startswith(("/api/", "/static/"))


def _describe(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
    return f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid")
