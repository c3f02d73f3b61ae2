"""The HTTP protocol `livedesk serve` runs: uvicorn's httptools protocol with one shortcut.

A GET for a cached, current page is answered from the parser's callback with one write of
bytes encoded once, before uvicorn makes the request's ASGI scope, cycle and task, and before
any middleware runs. Every other request, and any request the shortcut is unsure of (HTTP/1.0,
a pipelined request behind one still being answered, an escaped path, an access log being
written), goes on to uvicorn and the app as usual, where `CachedPages` answers the same look-up.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from livedesk.web.middleware import cached_entry
from livedesk.web.page_cache import page_reply

STATUS_LINES = {200: b"HTTP/1.1 200 OK\r\n", 304: b"HTTP/1.1 304 Not Modified\r\n"}


class _Answered:
    """Stands for a request answered here where uvicorn asks after the current one."""

    response_complete = True
    disconnected = False


ANSWERED = _Answered()


class PageProtocol(HttpToolsProtocol):
    state: ClassVar[Any] = None  # the app's state, which holds the page cache; see `for_app`

    @classmethod
    def for_app(cls, state: Any) -> type[PageProtocol]:
        """The protocol class for one app (uvicorn makes one instance per connection)."""
        return type(cls.__name__, (cls,), {"state": state})

    def on_headers_complete(self) -> None:
        if not self._answer_cached():
            super().on_headers_complete()

    def _answer_cached(self) -> bool:
        parser = self.parser
        if parser.get_method() != b"GET" or parser.get_http_version() != "1.1" or parser.should_upgrade():
            return False
        if self.cycle is not None and not self.cycle.response_complete:  # a pipelined request waits its turn
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
        found = cached_entry(self.state, scope)
        if found is None:
            return False
        reply = page_reply(scope, *found)
        keep_alive = parser.should_keep_alive()
        head = b"".join(name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers)  # date, server
        if not keep_alive:
            head += b"connection: close\r\n"
        self.transport.writelines([STATUS_LINES[reply.status], head, reply.head, reply.body])
        self.cycle = ANSWERED  # the parser's next callbacks for this request see it answered
        if keep_alive:
            self.on_response_complete()  # counts it, and waits for the next request
        else:
            self.transport.close()
        return True
