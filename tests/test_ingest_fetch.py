"""fetch() against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import ipaddress
import re
import socket
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any, ClassVar

import brotli
import pytest

from conftest import http_server
from livedesk.config import LOOPBACK
from livedesk.ingest import FetchError
from livedesk.ingest.fetch import MAX_BYTES, FetchResult
from livedesk.ingest.fetch import fetch as fetch_page
from livedesk.ingest.fetch import read_source as read_page_source
from livedesk.model import ParsedPage

PAGE = (
    b"<html><head><title>Quay works live | Dockside Daily</title></head><body><main>"
    b"<h1>Quay works live</h1><p>All times are UK time.</p>"
    b"<p>10:40</p><p>The second crane is in place on the east quay.</p>"
    b"<p>09:15</p><p>Work starts on the quay wall after a night of rain.</p>"
    b"</main></body></html>"
)
ETAG = '"quay-v1"'
MODIFIED = "Tue, 03 Mar 2026 10:40:00 GMT"
BOMB = gzip.compress(b"\0" * (MAX_BYTES * 3), compresslevel=9)
BROTLI_BOMB = brotli.compress(b"\0" * (MAX_BYTES * 3))


class Handler(BaseHTTPRequestHandler):
    agents: ClassVar[list[str]] = []

    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    def send(self, status: int, body: bytes = b"", **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: C901 - one route per test case
        Handler.agents.append(self.headers.get("User-Agent", ""))
        path = self.path
        if path == "/robots.txt":
            self.send(200, b"User-agent: livedesk\nDisallow: /private/\n", Content_Type="text/plain")
        elif path == "/page":
            if self.headers.get("If-None-Match") == ETAG or self.headers.get("If-Modified-Since") == MODIFIED:
                self.send(304, ETag=ETAG)
            else:
                self.send(200, PAGE, Content_Type="text/html; charset=utf-8", ETag=ETAG, Last_Modified=MODIFIED)
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            self.send(302, Location="/page" if left == 0 else f"/hop/{left - 1}")
        elif path == "/to-metadata":
            self.send(302, Location="http://169.254.169.254/latest/meta-data/")
        elif path == "/to-other-loopback":
            self.send(302, Location=f"http://127.0.0.2:{self.server.server_port}/page")
        elif path == "/big":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()  # no Content-Length: the limit must hold while streaming
            chunk = b"a" * 65536
            try:
                for _ in range(MAX_BYTES // len(chunk) + 20):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Length", str(MAX_BYTES + 1))
            self.end_headers()
        elif path == "/bomb":
            self.send(200, BOMB, Content_Type="text/html", Content_Encoding="gzip")
        elif path == "/brotli-bomb":
            self.send(200, BROTLI_BOMB, Content_Type="text/html", Content_Encoding="br")
        elif path == "/brotli":
            self.send(200, brotli.compress(PAGE), Content_Type="text/html", Content_Encoding="br")
        elif path == "/gzip":
            self.send(200, gzip.compress(PAGE), Content_Type="text/html", Content_Encoding="gzip")
        elif path == "/meta-charset":
            body = '<html><head><meta charset="windows-1251"></head><body><p>Паводок отступает</p></body></html>'
            self.send(200, body.encode("cp1251"), Content_Type="text/html")
        elif path == "/wrong-charset":
            self.send(200, "Brücke über den Fluss".encode(), Content_Type="text/plain; charset=iso-8859-1")
        elif path == "/private/page":
            self.send(200, PAGE, Content_Type="text/html")
        else:
            self.send(404, b"not here")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with http_server(Handler) as httpd:
        yield f"http://127.0.0.1:{httpd.server_port}"


def fetch(url: str, **options: Any) -> FetchResult:
    """The fetcher as run where loopback is allowed (LIVEDESK_FETCH_ALLOW_PRIVATE=1)."""
    return fetch_page(url, **{"allow_private": LOOPBACK, **options})


def read_source(url: str) -> ParsedPage:
    return read_page_source(url, allow_private=LOOPBACK)


def test_fetch_a_page_with_its_validators(server: str) -> None:
    result = fetch(server + "/page")
    assert (result.status, result.etag, result.last_modified) == (200, ETAG, MODIFIED)
    assert result.content == PAGE and "second crane" in result.text
    assert result.final_url == server + "/page"
    assert any("livedesk" in agent for agent in Handler.agents)


def test_conditional_get_with_etag_and_last_modified(server: str) -> None:
    assert fetch(server + "/page", etag=ETAG).status == 304
    not_modified = fetch(server + "/page", last_modified=MODIFIED)
    assert (not_modified.status, not_modified.content, not_modified.text) == (304, b"", "")
    assert fetch(server + "/page", etag='"old"').status == 200


def test_redirects_are_followed_up_to_five(server: str) -> None:
    assert fetch(server + "/hop/4").final_url == server + "/page"  # five redirects
    with pytest.raises(FetchError, match="redirects"):
        fetch(server + "/hop/5")  # six


def test_private_addresses_are_refused_without_permission(server: str) -> None:
    with pytest.raises(FetchError, match="private"):
        fetch_page(server + "/page")
    with pytest.raises(FetchError, match="private"):
        fetch(server + "/page", allow_private=())
    with pytest.raises(FetchError, match="private"):
        fetch("http://169.254.169.254/latest/meta-data/")  # loopback allowed, metadata still not
    with pytest.raises(FetchError, match="private"):
        fetch_page("http://[::1]:9/")


def test_every_redirect_hop_is_checked(server: str) -> None:
    only_this_server = [ipaddress.ip_network("127.0.0.1/32")]
    assert fetch(server + "/page", allow_private=only_this_server).status == 200
    with pytest.raises(FetchError, match=re.escape("169.254.169.254")):
        fetch(server + "/to-metadata", allow_private=only_this_server)
    with pytest.raises(FetchError, match=re.escape("127.0.0.2")):
        fetch(server + "/to-other-loopback", allow_private=only_this_server)


def test_oversized_bodies_are_refused(server: str) -> None:
    with pytest.raises(FetchError, match="larger than 10 MB"):
        fetch(server + "/big")
    with pytest.raises(FetchError, match="larger than 10 MB"):
        fetch(server + "/big-declared")


def test_compression_bombs_are_refused(server: str) -> None:
    assert len(BOMB) < MAX_BYTES // 100
    with pytest.raises(FetchError, match="larger than 10 MB"):
        fetch(server + "/bomb")
    with pytest.raises(FetchError, match="larger than 10 MB"):
        fetch(server + "/brotli-bomb")


def test_gzip_and_brotli_bodies_are_decoded(server: str) -> None:
    assert fetch(server + "/gzip").content == PAGE
    assert fetch(server + "/brotli").content == PAGE


def test_a_server_that_never_answers_times_out() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # connections complete in the backlog; nothing is ever sent
    try:
        with pytest.raises(FetchError, match="timed out"):
            fetch(f"http://127.0.0.1:{silent.getsockname()[1]}/page", timeout=0.5)
    finally:
        silent.close()


def test_charsets_declared_in_meta_or_wrongly_in_the_header(server: str) -> None:
    assert "Паводок отступает" in fetch(server + "/meta-charset").text
    result = fetch(server + "/wrong-charset")
    assert (result.text, result.charset) == ("Brücke über den Fluss", "utf-8")


def test_robots_txt_is_respected(server: str) -> None:
    with pytest.raises(FetchError, match=re.escape("robots.txt")):
        fetch(server + "/private/page")


def test_errors_are_fetch_errors(server: str) -> None:
    with pytest.raises(FetchError, match="404"):
        fetch(server + "/missing")
    for bad in ("ftp://example.org/page", "http://[::1/page", "http://example.org:99999/", "http:///path", "quay"):
        with pytest.raises(FetchError):
            fetch(bad)


def test_read_source_fetches_and_parses(server: str) -> None:
    page = read_source(server + "/page")
    assert page.title == "Quay works live"
    assert page.outlet == "Dockside Daily"
    assert page.posts[0].text.startswith("The second crane")
