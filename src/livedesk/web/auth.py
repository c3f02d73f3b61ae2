"""Who is asking, over HTTP: bearer tokens, or the desk's session cookie; CSRF tokens for cookie
writes; signing in (with a limit on failed tries) and out. The rules of who may do what live in
newsroom/, the accounts in store/accounts.py."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response
from sqlalchemy import Connection

from livedesk.config import Network
from livedesk.model import DeskSession, Role, TokenUser, User
from livedesk.newsroom import Forbidden
from livedesk.newsroom.roles import EDITORS, Actor
from livedesk.store import accounts
from livedesk.store.db import run_read, run_write
from livedesk.web.deps import client_address, engine_of, over_https

SESSION_COOKIE = "livedesk_session"
LOGIN_NONCE_COOKIE = "livedesk_login"
DESK_ROLES = (Role.admin, Role.editor, Role.contributor)
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


def session_limits(request: Request) -> accounts.SessionLimits:
    settings = request.app.state.settings
    return accounts.SessionLimits(timedelta(hours=settings.session_idle_hours), timedelta(days=settings.session_max_days))


def _token_user(request: Request, token: str) -> TokenUser | None:
    """The user of a live token; a desk session's use is recorded (at most once a minute)."""
    engine = engine_of(request)
    found = run_read(engine, lambda conn: accounts.user_for_token(conn, token, session_limits(request)))
    if (found is not None and found.token_kind == "session" and found.last_used_at is not None
            and found.last_used_at < accounts.now() - accounts.TOUCH_EVERY):
        run_write(engine, lambda conn: accounts.touch_session(conn, found.token_id))
    return found


def _actor(user: User) -> Actor:
    return Actor(user.id, user.name, user.role)


def _actor_for(request: Request, token: str) -> Actor | None:
    found = _token_user(request, token)
    return None if found is None else _actor(found.user)


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


# ---- the desk's sessions ---------------------------------------------------------------

@dataclass(frozen=True)
class Session:
    """A signed-in desk user and the session token their cookie holds."""

    actor: Actor
    token: str
    session_id: int | None = None  # None when the cookie holds an API token

    @property
    def is_editor(self) -> bool:
        return self.actor.role in EDITORS


def current_session(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    found = _token_user(request, token)
    if found is None:
        return None
    return Session(_actor(found.user), token, found.token_id if found.token_kind == "session" else None)


class LoginRefused(Exception):
    """A failed sign-in: the message says why, `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def proxies(request: Request) -> tuple[Network, ...]:
    networks: tuple[Network, ...] = request.app.state.settings.trusted_proxies
    return networks


def log_in(request: Request, name: str, password: str, token: str) -> str:
    """Check a user name and password, or an API token, and start a session: its token.

    Tries are counted per account (or per token use) and client address before the check, in
    one statement: past the settings' limit a minute, every try is refused (429) without a
    check until the minute has passed, however many arrive at once. Success clears the count."""
    if not token and not (name and password):
        raise LoginRefused(422, "Enter your user name and password, or an API token.")
    address = client_address(request.scope, proxies(request))
    key = f"token|{address}" if token else f"{name.lower()[:200]}|{address}"
    engine = engine_of(request)
    limit = request.app.state.settings.login_failures_per_minute
    tries = run_write(engine, lambda conn: accounts.take_login_try(conn, key, timedelta(minutes=1)))
    if tries > limit:
        raise LoginRefused(429, "Too many failed logins for this account from your address. Wait a minute, then try again.")

    def check(conn: Connection) -> User | None:
        if token:
            found = accounts.user_for_token(conn, token, session_limits(request))
            return None if found is None else found.user
        return accounts.user_with_password(conn, name, password, request.app.state.settings.password_cost)

    user = run_read(engine, check)
    if user is None:
        raise LoginRefused(401, "That token is unknown or revoked." if token else "Wrong user name or password.")
    if user.role not in DESK_ROLES:
        raise LoginRefused(403, f"A {user.role} account has no access to the desk.")

    def start_session(conn: Connection) -> str:
        accounts.clear_login_tries(conn, key)
        browser = request.headers.get("user-agent", "")[:150] or "unknown browser"
        return accounts.create_session(conn, user.id, f"{browser} · {address}")

    return run_write(engine, start_session)


def set_session_cookie(request: Request, response: Response, session: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, session, max_age=int(request.app.state.settings.session_max_days * 86400), httponly=True, samesite="lax",
        secure=over_https(request.scope, proxies(request)), path="/",
    )


def list_sessions(request: Request, session: Session) -> list[DeskSession]:
    """The signed-in user's live desk sessions."""
    return run_read(engine_of(request), lambda conn: accounts.list_sessions(conn, session.actor.id, session_limits(request)))


def revoke_session(request: Request, session: Session, session_id: int) -> bool:
    """End one of the signed-in user's own sessions; False if they have none by that id."""
    return run_write(engine_of(request), lambda conn: accounts.revoke_session(conn, session.actor.id, session_id))


def log_out(request: Request, response: Response, session: Session) -> None:
    """End the session: its token is revoked and the cookie dropped."""
    run_write(engine_of(request), lambda conn: accounts.revoke_token(conn, session.token))
    response.delete_cookie(SESSION_COOKIE, path="/")


def login_nonce(request: Request) -> str:
    """The login form's nonce, which its CSRF token is bound to (kept in a cookie of its own)."""
    return request.cookies.get(LOGIN_NONCE_COOKIE) or secrets.token_urlsafe(24)


def set_login_nonce(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, httponly=True, samesite="strict", secure=over_https(request.scope, proxies(request)),
                        path="/desk")
