"""What a request handler takes from the running app and its request: the newsroom and its engine,
the event a page's URL names (or the 404 every page shows), and whether it came over HTTPS."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Connection, Engine
from starlette.types import Scope

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


def over_https(scope: Scope) -> bool:
    """The request reached us over HTTPS, or through a proxy that says so."""
    forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-proto", b"").split(b",")[0].strip().lower()
    return scope.get("scheme") == "https" or forwarded == b"https"
