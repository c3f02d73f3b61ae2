"""Fetch another outlet's page: conditional GET, size and time limits, robots.txt, and a guard
against private addresses on every redirect hop.

The guard resolves the host before connecting and checks the address actually connected to,
so a name that resolves to 127.0.0.1, 10.x, 169.254.169.254 (cloud metadata) and the like is
refused unless the operator allows it (`allow_private=True` or `LIVEDESK_FETCH_ALLOW_PRIVATE=1`,
or a list of networks in that variable to allow only those).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
import urllib.robotparser
import zlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import brotli
import httpx

from livedesk.ingest import FetchError, ParseError
from livedesk.ingest.decode import decode_bytes
from livedesk.ingest.page import read_page
from livedesk.model import ParsedPage

ROBOT_NAME = "livedesk"
USER_AGENT = "livedesk/0.1 (live coverage follower; respects robots.txt)"
MAX_BYTES = 10 * 1024 * 1024
TIMEOUT_S = 15.0
MAX_REDIRECTS = 5
ROBOTS_TTL_S = 3600.0
_ROBOTS_MAX_BYTES = 512 * 1024
_REDIRECTS = {301, 302, 303, 307, 308}

_robots_cache: dict[str, tuple[float, urllib.robotparser.RobotFileParser | None]] = {}


@dataclass
class FetchResult:
    status: int  # 200, or 304 when the page has not changed since etag / last_modified
    content: bytes
    text: str  # content decoded with the detected charset ("" for 304)
    content_type: str | None
    etag: str | None
    last_modified: str | None
    final_url: str
    charset: str | None = None


Private = bool | list  # True: every address; a list of networks: only those; False: none


def private_allowed(allow_private: bool | None) -> Private:
    """The caller's choice, else LIVEDESK_FETCH_ALLOW_PRIVATE: `1` allows every private
    address, a comma-separated list of networks (`127.0.0.1/32,10.1.0.0/16`) only those."""
    if allow_private is not None:
        return allow_private
    setting = os.environ.get("LIVEDESK_FETCH_ALLOW_PRIVATE", "").strip()
    if setting.lower() in ("", "0", "false", "no"):
        return False
    if setting.lower() in ("1", "true", "yes"):
        return True
    try:
        return [ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip()]
    except ValueError:
        raise FetchError(f"LIVEDESK_FETCH_ALLOW_PRIVATE is neither 1 nor a list of networks: {setting}") from None


def _check_address(host: str, address: str, allowed: Private) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    mapped = getattr(ip, "ipv4_mapped", None)
    if ip.is_global and (mapped is None or mapped.is_global):
        return
    if allowed is True or (isinstance(allowed, list) and any(ip in network for network in allowed)):
        return
    raise FetchError(f"refused: {host} is a private, loopback or link-local address ({ip})")


def _check_url(url: str, allow_private: Private) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError(f"not a valid URL: {url[:200]}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url[:200]}")
    if allow_private is True:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise FetchError(f"cannot resolve {parts.hostname}: {error}") from None
    for info in infos:
        _check_address(parts.hostname, info[4][0], allow_private)


def _check_peer(response: httpx.Response, host: str, allow_private: Private) -> None:
    """The address really connected to, in case DNS answered differently the second time."""
    if allow_private is True:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        _check_address(host, peer[0], allow_private)


def _too_large(limit: int) -> str:
    size = f"{limit // (1024 * 1024)} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return f"page larger than {size}: refused"


class _Inflater:
    """Content-Encoding decoding that stops at `limit` bytes of output (gzip bombs)."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.limit, self.size = limit, 0
        self.kind = encoding.strip().lower() or "identity"
        if self.kind in ("gzip", "x-gzip", "deflate"):
            self.zlib = zlib.decompressobj(zlib.MAX_WBITS | 32)
        elif self.kind == "br":
            self.brotli = brotli.Decompressor()
        elif self.kind != "identity":
            raise FetchError(f"unsupported Content-Encoding: {encoding}")

    def _count(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise FetchError(_too_large(self.limit))
        return data

    def feed(self, chunk: bytes) -> bytes:
        room = self.limit - self.size + 1
        try:
            if self.kind == "identity":
                return self._count(chunk)
            if self.kind == "br":
                out = [self._count(self.brotli.process(chunk, output_buffer_limit=room))]
                while not self.brotli.can_accept_more_data():
                    out.append(self._count(self.brotli.process(b"", output_buffer_limit=self.limit - self.size + 1)))
                return b"".join(out)
            out = [self._count(self.zlib.decompress(chunk, room))]
            while self.zlib.unconsumed_tail:
                out.append(self._count(self.zlib.decompress(self.zlib.unconsumed_tail, self.limit - self.size + 1)))
            return b"".join(out)
        except (zlib.error, brotli.error) as error:
            raise FetchError(f"corrupt {self.kind} body: {error}") from None


def _client(timeout: float) -> httpx.Client:
    return httpx.Client(
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate, br"},
    )


def _get(client: httpx.Client, url: str, headers: dict, allow_private: Private, max_bytes: int,
         deadline: float, robots: bool = True):
    """Guarded GETs, one per redirect hop. Returns (response, body, final url)."""
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url, allow_private)
        if robots:
            _check_robots(client, url, allow_private, deadline)
        try:
            with client.stream("GET", url, headers=headers) as response:
                _check_peer(response, urlsplit(url).hostname or "", allow_private)
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(_too_large(max_bytes))
                inflater = _Inflater(response.headers.get("content-encoding", ""), max_bytes)
                body = bytearray()
                for chunk in response.iter_raw():
                    body += inflater.feed(chunk)
                    if time.monotonic() > deadline:
                        raise FetchError(f"timed out reading {url}")
                return response, bytes(body), url
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {url}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise FetchError(f"cannot fetch {url}: {type(error).__name__}: {error}".splitlines()[0]) from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _check_robots(client: httpx.Client, url: str, allow_private: Private, deadline: float) -> None:
    """Refuse a URL its site's robots.txt disallows for livedesk (cached for an hour).

    As RFC 9309 says: a missing robots.txt (4xx) allows everything, a failing one (5xx)
    allows nothing.
    """
    parts = urlsplit(url)
    root = f"{parts.scheme}://{parts.netloc}"
    cached = _robots_cache.get(root)
    if cached and cached[0] > time.monotonic():
        parser = cached[1]
    else:
        response, body, _final = _get(client, root + "/robots.txt", {}, allow_private, _ROBOTS_MAX_BYTES,
                                      deadline, robots=False)
        if response.status_code >= 500:
            raise FetchError(f"{root}/robots.txt answered HTTP {response.status_code}: not fetching")
        parser = None
        if response.status_code < 300:
            parser = urllib.robotparser.RobotFileParser()
            parser.parse(decode_bytes(body, response.headers.get("content-type"))[0].splitlines())
        _robots_cache[root] = (time.monotonic() + ROBOTS_TTL_S, parser)
    if parser is not None and not parser.can_fetch(ROBOT_NAME, url):
        raise FetchError(f"robots.txt of {parts.netloc} does not allow fetching {url}")


def fetch(
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    allow_private: bool | None = None,
    timeout: float = TIMEOUT_S,
    max_bytes: int = MAX_BYTES,
) -> FetchResult:
    """GET a page (at most `max_bytes`, `timeout` seconds, 5 redirects). Raises FetchError."""
    private = private_allowed(allow_private)
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    with _client(timeout) as client:
        response, body, final_url = _get(client, url, headers, private, max_bytes, deadline)
    content_type = response.headers.get("content-type")
    common = dict(
        content_type=content_type, etag=response.headers.get("etag"),
        last_modified=response.headers.get("last-modified"), final_url=final_url,
    )
    if response.status_code == 304:
        return FetchResult(status=304, content=b"", text="", **common)
    if response.status_code != 200:
        raise FetchError(f"{final_url} answered HTTP {response.status_code}")
    text, charset = decode_bytes(body, content_type)
    return FetchResult(status=200, content=body, text=text, charset=charset, **common)


def read_source(
    path_or_url: str,
    *,
    outlet: str | None = None,
    tz: str | None = None,
    date: date | None = None,
    allow_private: bool | None = None,
) -> ParsedPage:
    """Read a saved page or fetch a URL, and parse it. Raises ParseError or FetchError."""
    if path_or_url.lower().startswith(("http://", "https://")):
        result = fetch(path_or_url, allow_private=allow_private)
        return read_page(result.content, url=result.final_url, content_type=result.content_type,
                         outlet=outlet, tz=tz, date=date)
    try:
        content = Path(path_or_url).read_bytes()
    except OSError as error:
        raise ParseError(f"cannot read {path_or_url}: {error.strerror or error}") from None
    return read_page(content, outlet=outlet, tz=tz, date=date)
