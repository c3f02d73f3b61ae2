"""Who is asking: bearer tokens (and, for the pages, a session cookie)."""

from __future__ import annotations

from fastapi import Request

from livedesk.newsroom.publish import Actor
from livedesk.store import accounts
from livedesk.store.db import run_read


class Unauthorized(Exception):
    """Missing or wrong credentials (HTTP 401)."""


def actor_from_request(request: Request) -> Actor | None:
    header = request.headers.get("authorization", "")
    token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer TOKEN'")
        token = value.strip()
    elif request.cookies.get("livedesk_session"):
        token = request.cookies["livedesk_session"]
    if token is None:
        return None
    row = run_read(request.app.state.engine, lambda conn: accounts.user_for_token(conn, token))
    if row is None:
        if header:
            raise Unauthorized("the token is unknown or revoked")
        return None
    return Actor(row.id, row.name, row.role)


def optional_actor(request: Request) -> Actor | None:
    return actor_from_request(request)


def required_actor(request: Request) -> Actor:
    actor = actor_from_request(request)
    if actor is None:
        raise Unauthorized("this needs a token: send 'Authorization: Bearer TOKEN'")
    return actor
