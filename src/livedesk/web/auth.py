"""Who is asking: bearer tokens, or the desk's session cookie; CSRF tokens for cookie writes."""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request

from livedesk.newsroom import Forbidden
from livedesk.newsroom.publish import Actor
from livedesk.store import accounts
from livedesk.store.db import run_read
from livedesk.web.deps import engine_of

SESSION_COOKIE = "livedesk_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Unauthorized(Exception):
    """Missing or wrong credentials (HTTP 401)."""


def _credentials(request: Request) -> tuple[str | None, bool]:
    """The token the request carries, and whether it came from the session cookie."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthorized("use 'Authorization: Bearer TOKEN'")
        return value.strip(), False
    return request.cookies.get(SESSION_COOKIE) or None, True


def _actor_for(request: Request, token: str) -> Actor | None:
    row = run_read(engine_of(request), lambda conn: accounts.user_for_token(conn, token))
    return None if row is None else Actor(row.id, row.name, row.role)


def actor_from_request(request: Request) -> Actor | None:
    token, from_cookie = _credentials(request)
    if token is None:
        return None
    actor = _actor_for(request, token)
    if actor is None and not from_cookie:
        raise Unauthorized("the token is unknown or revoked")
    return actor


def optional_actor(request: Request) -> Actor | None:
    return actor_from_request(request)


def required_actor(request: Request) -> Actor:
    """The signed-in user; a write by session cookie must also carry the X-CSRF-Token header."""
    token, from_cookie = _credentials(request)
    actor = _actor_for(request, token) if token else None
    if actor is None:
        if token and not from_cookie:
            raise Unauthorized("the token is unknown or revoked")
        raise Unauthorized("this needs a token: send 'Authorization: Bearer TOKEN'")
    if from_cookie and request.method not in SAFE_METHODS:
        if not csrf_valid(request, token, request.headers.get(CSRF_HEADER)):
            raise Forbidden("a write with the session cookie needs a valid X-CSRF-Token header")
    return actor


# ---- CSRF -----------------------------------------------------------------------------

def secret_key(request: Request) -> bytes:
    """The server secret: LIVEDESK_SECRET_KEY, else one kept in the database for all nodes."""
    state = request.app.state
    if getattr(state, "secret_key", None) is None:
        configured = state.settings.secret_key
        state.secret_key = (configured or accounts.site_secret(state.newsroom.engine, "csrf")).encode()
    return state.secret_key


def csrf_token(request: Request, bound_to: str) -> str:
    """The CSRF token for a session token (or for a login form's nonce)."""
    return hmac.new(secret_key(request), b"csrf:" + bound_to.encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, bound_to: str | None, given: str | None) -> bool:
    if not bound_to or not given:
        return False
    # bytes: compare_digest refuses str with non-ASCII characters, which anyone can send
    return hmac.compare_digest(csrf_token(request, bound_to).encode(), given.encode(errors="replace"))
