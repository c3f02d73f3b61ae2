"""Fetch another outlet's page: conditional GET, size and time limits, robots.txt, and a guard
against private addresses on every connection.

The guard sits in the transport: each new connection resolves its host once, refuses it when
any answer is a private, loopback or link-local address (127.0.0.1, 10.x, 169.254.169.254 for
cloud metadata, IPv6 forms that embed one of them, ...), and connects to the very address it
checked, so a name that answers differently the second time (DNS rebinding) gets nowhere. TLS
still names the host: SNI, certificate and Host header are the URL's. The caller passes the
networks it allows anyway (`allow_private`), for instance loopback for a local test site.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import socket
import ssl
import time
import urllib.robotparser
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import brotli
import httpcore
import httpx

from livedesk.ingest import FetchError, ParseError
from livedesk.ingest.decode import decode_bytes
from livedesk.ingest.page import read_page
from livedesk.model import ParsedPage

if TYPE_CHECKING:
    from httpcore import SOCKET_OPTION

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
    links: dict[str, str] = field(default_factory=dict)  # the Link header's URLs by rel (hub, self)


Networks = Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Tunnels whose far end is whatever IPv4 address the attacker embeds: 6to4, Teredo, and
# NAT64 for local use (RFC 8215).
_TUNNELS = tuple(ipaddress.ip_network(n) for n in ("2002::/16", "2001::/32", "64:ff9b:1::/48"))
# Forms that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052), IPv4-compatible.
_EMBEDDING = tuple(ipaddress.ip_network(n) for n in ("64:ff9b::/96", "::/96"))


def address_allowed(ip: Address, allowed: Networks = ()) -> bool:
    """True for a public address, or one inside the `allowed` networks."""
    if any(ip in network for network in allowed):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if any(ip in network for network in _TUNNELS):
            return False
        inner = ip.ipv4_mapped
        if inner is None and any(ip in network for network in _EMBEDDING):
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None:
            return address_allowed(inner, allowed)
    return ip.is_global


def allowed_addresses(host: str, port: int, allowed: Networks = ()) -> list[str]:
    """The host's addresses; FetchError when any is private, loopback or link-local (outside `allowed`)."""
    addresses = resolve(host, port)
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_allowed(ip, allowed):
            raise FetchError(f"refused: {host} is a private, loopback or link-local address ({ip})")
    return addresses


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise FetchError(f"cannot resolve {host}: {error}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class PinnedBackend(httpcore.SyncBackend):
    """Resolves a host once, checks every address, and connects only to a checked one."""

    def __init__(self, allowed: Networks) -> None:
        self.allowed = allowed

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = allowed_addresses(host, port, self.allowed)
        failure: Exception = FetchError(f"cannot resolve {host}")
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure


class PinnedTransport(httpx.HTTPTransport):
    """httpx's transport over a PinnedBackend. Proxies from the environment are not used: a
    proxy would resolve the name itself, after the check."""

    def __init__(self, allowed: Networks = (), verify: ssl.SSLContext | bool = True) -> None:
        context = _default_tls() if verify is True else httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=context, trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=context, network_backend=PinnedBackend(allowed))


@functools.cache
def _default_tls() -> ssl.SSLContext:
    """The verifying TLS context, made once: loading the CA bundle costs tens of milliseconds, and
    a context serves any number of connections and threads."""
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:
        raise FetchError(f"not a valid URL: {url[:200]}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"not an http(s) URL: {url[:200]}")


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


def guarded_client(timeout: float, allowed: Networks = ()) -> httpx.Client:
    """A client with the private-address guard, for many `send`s (its connections are kept)."""
    return _client(timeout, allowed)


def _client(timeout: float, allowed: Networks) -> httpx.Client:
    return httpx.Client(
        transport=PinnedTransport(allowed),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip, deflate, br"},
    )


def _read_body(response: httpx.Response, max_bytes: int, deadline: float, url: str) -> bytes:
    """The response's body, decoded, within `max_bytes` and the deadline."""
    inflater = _Inflater(response.headers.get("content-encoding", ""), max_bytes)
    body = bytearray()
    for chunk in response.iter_raw():
        body += inflater.feed(chunk)
        if time.monotonic() > deadline:
            raise FetchError(f"timed out reading {url}")
    return bytes(body)


def _get(client: httpx.Client, url: str, headers: dict[str, str], max_bytes: int, deadline: float,
         robots: bool = True) -> tuple[httpx.Response, bytes, str]:
    """Guarded GETs, one per redirect hop. Returns (response, body, final url)."""
    for _hop in range(MAX_REDIRECTS + 1):
        _check_url(url)
        if robots:
            _check_robots(client, url, deadline)
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise FetchError(_too_large(max_bytes))
                return response, _read_body(response, max_bytes, deadline, url), url
        except httpx.TimeoutException:
            raise FetchError(f"timed out fetching {url}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise FetchError(f"cannot fetch {url}: {type(error).__name__}: {error}".splitlines()[0]) from None
    raise FetchError(f"more than {MAX_REDIRECTS} redirects from {url}")


def _check_robots(client: httpx.Client, url: str, deadline: float) -> None:
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
        response, body, _final = _get(client, root + "/robots.txt", {}, _ROBOTS_MAX_BYTES, deadline, robots=False)
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
    allow_private: Networks = (),
    timeout: float = TIMEOUT_S,
    max_bytes: int = MAX_BYTES,
) -> FetchResult:
    """GET a page (at most `max_bytes`, `timeout` seconds, 5 redirects). Private addresses are
    refused unless inside `allow_private`. Raises FetchError."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    deadline = time.monotonic() + timeout
    with _client(timeout, allow_private) as client:
        response, body, final_url = _get(client, url, headers, max_bytes, deadline)
    content_type = response.headers.get("content-type")
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    if response.status_code == 304:
        return FetchResult(304, b"", "", content_type, etag, modified, final_url)
    if response.status_code != 200:
        raise FetchError(f"{final_url} answered HTTP {response.status_code}")
    text, charset = decode_bytes(body, content_type)
    links = {str(rel): urljoin(final_url, link["url"]) for rel, link in response.links.items() if rel and link.get("url")}
    return FetchResult(200, body, text, content_type, etag, modified, final_url, charset, links)


@dataclass
class Answer:
    status: int
    content: bytes
    headers: httpx.Headers


def check_address(url: str, allow_private: Networks = ()) -> None:
    """Refuse now a URL that is not http(s), or whose host resolves to a private address
    (outside `allow_private`), before anything is stored for it. Raises FetchError."""
    _check_url(url)
    parts = urlsplit(url)
    allowed_addresses(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80), allow_private)


def send(
    method: str,
    url: str,
    *,
    params: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
    allow_private: Networks = (),
    timeout: float = 10.0,
    max_bytes: int = 64 * 1024,
    client: httpx.Client | None = None,
) -> Answer:
    """One guarded request to a URL another site gave us (a WebSub callback or hub): the same
    private-address guard and limits as `fetch`, no redirects, no robots.txt; through `client`
    (a `guarded_client`) when given, so its connections are kept. Raises FetchError."""
    _check_url(url)
    deadline = time.monotonic() + timeout
    with contextlib.nullcontext(client) if client else _client(timeout, allow_private) as caller:
        try:
            with caller.stream(method, url, params=params, data=data, content=content, headers=headers) as response:
                return Answer(response.status_code, _read_body(response, max_bytes, deadline, url), response.headers)
        except httpx.TimeoutException:
            raise FetchError(f"timed out calling {url}") from None
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise FetchError(f"cannot call {url}: {type(error).__name__}: {error}".splitlines()[0]) from None


def read_source(
    path_or_url: str,
    *,
    outlet: str | None = None,
    tz: str | None = None,
    date: date | None = None,
    allow_private: Networks = (),
) -> ParsedPage:
    """Read a saved page or fetch a URL, and parse it. Raises ParseError or FetchError."""
    return read_page(**load_source(path_or_url, allow_private=allow_private), outlet=outlet, tz=tz, date=date)


def load_source(path_or_url: str, *, allow_private: Networks = ()) -> dict[str, Any]:
    """The bytes of a saved page or a fetched URL, with the URL and content type read_page takes."""
    if path_or_url.lower().startswith(("http://", "https://")):
        result = fetch(path_or_url, allow_private=allow_private)
        return {"content": result.content, "url": result.final_url, "content_type": result.content_type}
    try:
        return {"content": Path(path_or_url).read_bytes()}
    except OSError as error:
        raise ParseError(f"cannot read {path_or_url}: {error.strerror or error}") from None
