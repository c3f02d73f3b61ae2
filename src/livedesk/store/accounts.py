"""Users, tokens (API tokens and desk sessions), sign-in tries and idempotency records."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ColumnElement, Connection, Engine, Row, and_, case, delete, insert, or_, select, update

from livedesk.model import DeskSession, Role, StoredResponse, TokenUser, User
from livedesk.store.db import engine_insert, insert_new, run_read, run_write
from livedesk.store.tables import idempotency_keys, login_tries, site_secrets, tokens, users

# Argon2id at the library's cost (RFC 9106's second choice), or at its lowest for test suites,
# which sign in hundreds of times. A hash keeps its own cost, so either one checks the other's.
HASHERS = {"standard": PasswordHasher(), "test": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)}


def now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    # Tokens are long random strings, so a fast hash keeps them safe at rest.
    return hashlib.sha256(token.encode()).hexdigest()


USER_COLUMNS = (users.c.id, users.c.name, users.c.role, users.c.created_at)


def _user(row: Row[*tuple[Any, ...]]) -> User:
    return User(row.id, row.name, Role(row.role), row.created_at)


def get_user(conn: Connection, name: str) -> User | None:
    row = conn.execute(select(*USER_COLUMNS).where(users.c.name == name)).first()
    return None if row is None else _user(row)


def ensure_user(conn: Connection, name: str, role: str) -> User:
    """The named user, created with `role` if new; an existing user's role is updated."""
    conn.execute(insert_new(conn, users).values(name=name, role=role, created_at=now()))
    conn.execute(update(users).where(users.c.name == name, users.c.role != role).values(role=role))
    return _user(conn.execute(select(*USER_COLUMNS).where(users.c.name == name)).one())


def set_password(conn: Connection, user_id: int, password: str, cost: str = "standard") -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=HASHERS[cost].hash(password)))


def user_with_password(conn: Connection, name: str, password: str, cost: str = "standard") -> User | None:
    """The named user if `password` is theirs; None for a wrong password or an unknown user,
    after the same hashing work either way."""
    row = conn.execute(select(*USER_COLUMNS, users.c.password_hash).where(users.c.name == name)).first()
    if not check_password(None if row is None else row.password_hash, password, cost) or row is None:
        return None
    return _user(row)


def check_password(password_hash: str | None, password: str, cost: str = "standard") -> bool:
    hasher = HASHERS[cost]
    if not password_hash:
        hasher.hash(password)  # spend the same time either way
        return False
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class SessionLimits:
    """How long a desk session lives: `idle` since it was last used, `lifetime` in all."""

    idle: timedelta
    lifetime: timedelta


TOUCH_EVERY = timedelta(minutes=1)  # a session's last use is written at most this often


def create_token(conn: Connection, user_id: int) -> str:
    """An API token: it lives until it is revoked."""
    token = "ld_" + secrets.token_urlsafe(32)
    conn.execute(insert(tokens).values(user_id=user_id, token_hash=hash_token(token), created_at=now()))
    return token


def create_session(conn: Connection, user_id: int, label: str) -> str:
    """A desk session's token; `label` names the browser and address that signed in."""
    token = "ld_" + secrets.token_urlsafe(32)
    moment = now()
    conn.execute(insert(tokens).values(
        user_id=user_id, token_hash=hash_token(token), created_at=moment, kind="session", last_used_at=moment,
        label=label[:200],
    ))
    return token


def _live(limits: SessionLimits, moment: datetime) -> ColumnElement[bool]:
    """Tokens not revoked: API tokens, and sessions used lately and not too old."""
    session_live = and_(tokens.c.created_at > moment - limits.lifetime, tokens.c.last_used_at > moment - limits.idle)
    return and_(tokens.c.revoked_at.is_(None), or_(tokens.c.kind == "api", session_live))


def user_for_token(conn: Connection, token: str, limits: SessionLimits) -> TokenUser | None:
    """The user of a live token, with the token's id, kind and last use."""
    query = (
        select(*USER_COLUMNS, tokens.c.id.label("token_id"), tokens.c.kind.label("token_kind"), tokens.c.last_used_at)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == hash_token(token), _live(limits, now()))
    )
    row = conn.execute(query).first()
    return None if row is None else TokenUser(_user(row), row.token_id, row.token_kind, row.last_used_at)


def touch_session(conn: Connection, token_id: int) -> None:
    """Mark a session used now (its idle time starts again)."""
    moment = now()
    conn.execute(update(tokens).where(tokens.c.id == token_id, tokens.c.last_used_at < moment - TOUCH_EVERY)
                 .values(last_used_at=moment))


def list_sessions(conn: Connection, user_id: int, limits: SessionLimits) -> list[DeskSession]:
    """A user's live desk sessions, the most recently used first."""
    query = (
        select(tokens.c.id, tokens.c.created_at, tokens.c.last_used_at, tokens.c.label)
        .where(tokens.c.user_id == user_id, tokens.c.kind == "session", _live(limits, now()))
        .order_by(tokens.c.last_used_at.desc(), tokens.c.id.desc())
    )
    return [DeskSession(row.id, row.created_at, row.last_used_at, row.label) for row in conn.execute(query)]


def revoke_session(conn: Connection, user_id: int, session_id: int) -> bool:
    """End one of a user's own sessions; False if they have no such live session."""
    result = conn.execute(
        update(tokens)
        .where(tokens.c.id == session_id, tokens.c.user_id == user_id, tokens.c.kind == "session",
               tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    return result.rowcount > 0


def revoke_token(conn: Connection, token: str) -> bool:
    result = conn.execute(
        update(tokens).where(tokens.c.token_hash == hash_token(token), tokens.c.revoked_at.is_(None)).values(revoked_at=now())
    )
    return result.rowcount > 0


def stored_response(conn: Connection, key: str, scope: str) -> StoredResponse | None:
    query = select(idempotency_keys.c.status, idempotency_keys.c.body).where(
        idempotency_keys.c.key == key, idempotency_keys.c.scope == scope)
    row = conn.execute(query).first()
    return None if row is None else StoredResponse(row.status, row.body)


def store_response(conn: Connection, key: str, scope: str, status: int, body: str) -> None:
    """Remember a response; raises IntegrityError when the key was used meanwhile."""
    conn.execute(insert(idempotency_keys).values(key=key, scope=scope, status=status, body=body, created_at=now()))


def site_secret(engine: Engine, name: str) -> str:
    """A random secret made once and stored, so that every node on the database shares it."""

    def read(conn: Connection) -> str | None:
        return conn.execute(select(site_secrets.c.value).where(site_secrets.c.name == name)).scalar()

    value = run_read(engine, read)
    if value is None:
        # another node may make it first: theirs is kept, and read back
        run_write(engine, lambda conn: conn.execute(
            insert_new(conn, site_secrets).values(name=name, value=secrets.token_urlsafe(48), created_at=now())
        ))
        value = run_read(engine, read)
    if value is None:
        raise RuntimeError(f"the site secret {name!r} could not be stored")
    return value


def take_login_try(conn: Connection, key: str, window: timedelta) -> int:
    """Count one sign-in try for `key` and return how many it has made in the current window
    (which starts with its first try). One statement, so concurrent tries are counted one by one.
    Keys idle for an hour are dropped."""
    moment = now()
    conn.execute(delete(login_tries).where(login_tries.c.window_start < moment - timedelta(hours=1)))
    stmt = engine_insert(conn, login_tries).values(key=key, window_start=moment, count=1)
    expired = login_tries.c.window_start <= moment - window
    stmt = stmt.on_conflict_do_update(
        index_elements=[login_tries.c.key],
        set_={
            "count": case((expired, 1), else_=login_tries.c.count + 1),
            "window_start": case((expired, stmt.excluded.window_start), else_=login_tries.c.window_start),
        },
    )
    return int(conn.execute(stmt.returning(login_tries.c.count)).scalar_one())


def clear_login_tries(conn: Connection, key: str) -> None:
    conn.execute(delete(login_tries).where(login_tries.c.key == key))
