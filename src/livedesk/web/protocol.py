"""The HTTP protocol `livedesk serve` runs: uvicorn's httptools protocol with two shortcuts.

From the parser's callback, before uvicorn makes the request's ASGI scope, cycle and task, and
before any middleware runs:
- a GET for a cached, current page is answered with one write of bytes encoded once;
- a GET of a live stream of an event the hub knows is handed to the hub, whose reader takes
  the connection over (`Hub.take_now`).
Every other request, and any request the shortcuts are unsure of (HTTP/1.0, a pipelined
request behind one still being answered, a client not reading what it was sent, an escaped
path, an access log being written, an event the hub has not looked up yet), goes on to
uvicorn and the app as usual, where `StreamRequests` and `CachedPages` do the same work.

Two of uvicorn's ways are changed for every request: it reads no faster than the client takes
its replies, and when a connection ends every request still waiting on it is marked gone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from livedesk.web.deps import over_https
from livedesk.web.middleware import STREAM_PATH, cached_entry, security_headers
from livedesk.web.page_cache import page_reply
from livedesk.web.responses import header_lines

STATUS_LINES = {200: b"HTTP/1.1 200 OK\r\n", 304: b"HTTP/1.1 304 Not Modified\r\n"}


class _Answered:
    """Stands for a request answered here where uvicorn asks after the current one."""

    response_complete = True
    disconnected = False
    message_event = asyncio.Event()  # set when the connection ends; no one waits on it


ANSWERED = _Answered()


class ServeProtocol(HttpToolsProtocol):
    state: ClassVar[Any] = None  # the app's state, which holds the page cache; see `for_app`
    answering: Any = None  # uvicorn's request whose reply is being made, if any

    @classmethod
    def for_app(cls, state: Any) -> type[ServeProtocol]:
        """The protocol class for one app (uvicorn makes one instance per connection)."""
        return type(cls.__name__, (cls,), {"state": state})

    def on_headers_complete(self) -> None:
        if not self._answered_here():
            super().on_headers_complete()

    # uvicorn reads on after each reply, however many requests wait and however much of the
    # replies the client has not read: a client that sends without reading would fill memory.
    # Reading waits while requests wait or replies back up.

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if (self.pipeline or self.flow.write_paused) and not self.transport.is_closing():
            self.flow.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.pipeline and not self.transport.is_closing():
            self.flow.resume_reading()

    # uvicorn marks only the newest request as disconnected when the connection ends; with
    # requests pipelined, the one being answered is an older one, and would write to a closed
    # socket.

    def _start_asgi_task(self, cycle, app) -> None:
        self.answering = cycle
        super()._start_asgi_task(cycle, app)

    def connection_lost(self, exc: Exception | None) -> None:
        for cycle in (self.answering, *(queued for queued, _ in self.pipeline)):
            if cycle is not None and not cycle.response_complete:
                cycle.disconnected = True
        super().connection_lost(exc)

    def _answered_here(self) -> bool:
        parser = self.parser
        if parser.get_method() != b"GET" or parser.get_http_version() != "1.1" or parser.should_upgrade():
            return False
        if self.cycle is not None and not self.cycle.response_complete:  # a pipelined request waits its turn
            return False
        if self.flow.write_paused:  # a client that does not read: uvicorn's way waits for it
            return False
        if self.access_log and self.access_logger.isEnabledFor(logging.INFO):
            return False
        url = httptools.parse_url(self.url)
        if b"%" in url.path:
            return False
        scope = self.scope
        scope["method"] = "GET"
        scope["path"] = self.root_path + url.path.decode("ascii")
        scope["query_string"] = url.query or b""
        stream = STREAM_PATH.fullmatch(scope["path"])
        return self._take_stream(scope, stream["slug"]) if stream else self._answer_cached(scope)

    def _take_stream(self, scope: dict, slug: str | None) -> bool:
        values = self.state._state
        hub = values.get("hub")
        if hub is None:
            return False
        https = over_https(scope, values["settings"].trusted_proxies)
        if not hub.take_now(self.transport, scope, slug, security_headers(scope["path"], https),
                            self.server_state.default_headers):
            return False
        self.cycle = ANSWERED  # the parser's next callbacks for this request see it answered
        return True

    def _answer_cached(self, scope: dict) -> bool:
        found = cached_entry(self.state, scope)
        if found is None:
            return False
        self.cycle = ANSWERED
        reply = page_reply(scope, *found)
        keep_alive = self.parser.should_keep_alive()
        head = header_lines(self.server_state.default_headers)  # date, server
        if not keep_alive:
            head += b"connection: close\r\n"
        self.transport.writelines([STATUS_LINES[reply.status], head, reply.head, reply.body])
        if keep_alive:
            self.on_response_complete()  # counts it, and waits for the next request
        else:
            self.transport.close()
        return True
