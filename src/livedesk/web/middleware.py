"""Every ASGI middleware of the app, outermost first as `server_app` stacks them.

- StreamRequests hands a live stream's request to the hub before the framework runs;
- CachedPages answers a GET for a cached, current page before the framework runs;
- SecurityHeaders adds the security headers to every response;
- BodyLimitMiddleware refuses request bodies over 1 MB.
"""

from __future__ import annotations

import hashlib
import re
from base64 import b64encode

from fastapi.responses import JSONResponse

from livedesk.config import Network
from livedesk.newsroom import Invalid
from livedesk.newsroom.photos import MAX_UPLOAD_BYTES
from livedesk.web.deps import over_https
from livedesk.web.page_cache import CachedEntry, page_key, send_page
from livedesk.web.player import PREFIX as PLAYER_PREFIX
from livedesk.web.render import CRITICAL_CSS

MAX_REQUEST_BYTES = 1_000_000
MAX_UPLOAD_REQUEST_BYTES = MAX_UPLOAD_BYTES + 100_000  # the photo and its form's framing


class StreamRequests:
    """Outermost layer: a GET of a live stream goes straight to the hub, which answers it and
    takes the connection over (no routing, request object, middleware or task per reader);
    anything else, or a stream the hub leaves to the framework, passes on to `app`. Keeps the
    server's own `send` in the scope, so a stream answered by the framework can reach the socket too."""

    def __init__(self, app, fastapi_app) -> None:
        self.app = app
        self.state = fastapi_app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        scope["livedesk.raw_send"] = send
        if scope["method"] == "GET" and (match := STREAM_PATH.fullmatch(scope["path"])):
            hub = getattr(self.state, "hub", None)
            if hub is not None:
                https = over_https(scope, self.state.settings.trusted_proxies)
                if await hub.take(scope, send, match["slug"], security_headers(scope["path"], https)):
                    return
        await self.app(scope, receive, send)


STREAM_PATH = re.compile(r"/api(?:/events/(?P<slug>[^/]+))?/stream")


class CachedPages:
    """Pure ASGI, outside the framework: answers a GET for a cached, current page at once.

    The same look-up as `cached_page`, without routing, a request or a response object; it
    adds the security headers itself, since it answers before `SecurityHeaders` would run.
    Everything else passes through to `app`, whose state (`fastapi_app.state`) holds the cache.
    """

    def __init__(self, app, fastapi_app) -> None:
        self.app = app
        self.state = fastapi_app.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = cached_entry(self.state, scope)
            if found is not None:
                return await send_page(scope, send, *found)
        await self.app(scope, receive, send)


def cached_entry(state, scope) -> tuple[CachedEntry, tuple] | None:
    """The cached, current page a GET asks for, with the security headers to send it with."""
    cache = state._state.get("page_cache")  # the state's own dict, without __getattr__
    if cache is None:
        return None
    entry = cache.get(page_key(state, scope))
    if entry is None:
        return None
    https = over_https(scope, state._state["settings"].trusted_proxies)
    return entry, _SECURITY[https, scope["path"].startswith("/embed/")]


def _style_hash() -> str:
    return "'sha256-" + b64encode(hashlib.sha256(CRITICAL_CSS.encode()).digest()).decode() + "'"


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' " + _style_hash() + "; "
    "img-src 'self' data: https:; media-src 'self' https:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; "
)
PERMISSIONS = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
_COMMON = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"strict-origin-when-cross-origin"),
           (b"permissions-policy", PERMISSIONS.encode())]
_PAGE = [(b"content-security-policy", (CSP + "frame-ancestors 'none'").encode()), (b"x-frame-options", b"DENY")]
_EMBED = [(b"content-security-policy", (CSP + "frame-ancestors *").encode())]
_HSTS = [(b"strict-transport-security", b"max-age=31536000; includeSubDomains")]


_SECURITY = {(https, embed): tuple(_COMMON + (_HSTS if https else []) + (_EMBED if embed else _PAGE))
             for https in (False, True) for embed in (False, True)}


_PLAYER = {https: tuple(_COMMON + (_HSTS if https else [])) for https in (False, True)}


def security_headers(path: str, https: bool = False) -> list[tuple[bytes, bytes]]:
    """Every response's security headers; HSTS only where the browser came over HTTPS. A card's
    player (web/player.py) sends the one CSP that lets its provider's frame in, on itself alone."""
    if path.startswith(PLAYER_PREFIX):
        return list(_PLAYER[https])
    return list(_SECURITY[https, path.startswith("/embed/")])


class SecurityHeaders:
    """Pure ASGI: adds security headers to each response's start; never touches the body.
    `trusted`: the proxies whose X-Forwarded-Proto is believed (HSTS over HTTPS only)."""

    def __init__(self, app, trusted: tuple[Network, ...] = ()) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = security_headers(scope["path"], over_https(scope, self.trusted))

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimitMiddleware:
    """Refuses request bodies over 1 MB (a photo upload: its own limit) before reading them."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = MAX_UPLOAD_REQUEST_BYTES if scope["path"] == "/api/media" else MAX_REQUEST_BYTES
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            response = JSONResponse({"error": f"request body over {limit} bytes"}, status_code=413)
            return await response(scope, receive, send)
        received = 0

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > limit:
                raise Invalid(f"request body over {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)
