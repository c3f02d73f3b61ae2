"""What a request handler takes from the running app and its request: the newsroom and its engine,
the event a page's URL names (or the 404 every page shows), and whether it came over HTTPS."""

from __future__ import annotations

import ipaddress

from fastapi import Request
from sqlalchemy import Connection, Engine
from starlette.types import Scope

from livedesk.config import Network
from livedesk.model import Event
from livedesk.newsroom.room import Newsroom
from livedesk.store import events as event_store


def newsroom_of(request: Request) -> Newsroom:
    room: Newsroom = request.app.state.newsroom
    return room


def engine_of(request: Request) -> Engine:
    return newsroom_of(request).engine


def event_or_404(conn: Connection, slug: str) -> Event:
    """The event a page's URL names; NotFound, with the words the 404 page shows, when there is none."""
    return event_store.require_event(conn, slug, f"There is no event called “{slug}”.")


# Asked on every request, mostly about the same few peers and always the app's one tuple of
# networks: remembered per address and tuple (by identity: hashing the networks costs more).
_known: dict[tuple[str, int], tuple[tuple[Network, ...], bool]] = {}


def _in(address: str, networks: tuple[Network, ...]) -> bool:
    found = _known.get((address, id(networks)))
    if found is not None and found[0] is networks:
        return found[1]
    if len(_known) >= 1024:
        _known.clear()
    inside = _known[address, id(networks)] = (networks, _inside(address, networks))
    return inside[1]


def _inside(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in networks)


def _header(scope: Scope, name: bytes) -> str:
    return b",".join(value for key, value in scope.get("headers") or [] if key == name).decode("latin-1")


def client_address(scope: Scope, trusted: tuple[Network, ...]) -> str:
    """The address a request came from: its peer's, or, when the peer is a trusted proxy, the
    nearest address in X-Forwarded-For that is not one (proxies append, so read from the right)."""
    client = scope.get("client")
    address = client[0] if client else "unknown"
    if not _in(address, trusted):
        return address
    for hop in reversed(_header(scope, b"x-forwarded-for").split(",")):
        if hop.strip():
            address = hop.strip()[:64]
            if not _in(address, trusted):
                break
    return address


def over_https(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    """The request reached us over HTTPS, or through a trusted proxy that says it did
    (worked out once per request: the page cache, links and security headers all ask)."""
    known = scope.get("livedesk.https")
    if known is None:
        known = scope["livedesk.https"] = _over_https(scope, trusted)
    return bool(known)


def _over_https(scope: Scope, trusted: tuple[Network, ...]) -> bool:
    if scope.get("scheme") == "https":
        return True
    client = scope.get("client")
    if not client or not _in(client[0], trusted):
        return False
    return _header(scope, b"x-forwarded-proto").split(",")[0].strip().lower() == "https"
