"""Users, tokens and idempotency records."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Engine, Row, case, delete, insert, select, update

from livedesk.store.db import engine_insert, insert_new, run_read, run_write
from livedesk.store.tables import idempotency_keys, login_tries, site_secrets, tokens, users

_hasher = PasswordHasher()


def now() -> datetime:
    return datetime.now(UTC)


def hash_token(token: str) -> str:
    # Tokens are long random strings, so a fast hash keeps them safe at rest.
    return hashlib.sha256(token.encode()).hexdigest()


def get_user(conn: Connection, name: str) -> Row[Any] | None:
    return conn.execute(select(users).where(users.c.name == name)).first()


def ensure_user(conn: Connection, name: str, role: str) -> Row[Any]:
    """The named user, created with `role` if new; an existing user's role is updated."""
    conn.execute(insert_new(conn, users).values(name=name, role=role, created_at=now()))
    conn.execute(update(users).where(users.c.name == name, users.c.role != role).values(role=role))
    return conn.execute(select(users).where(users.c.name == name)).one()


def set_password(conn: Connection, user_id: int, password: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=_hasher.hash(password)))


def check_password(row: Row[Any] | None, password: str) -> bool:
    if row is None or not row.password_hash:
        _hasher.hash(password)  # spend the same time either way
        return False
    try:
        return bool(_hasher.verify(row.password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def create_token(conn: Connection, user_id: int) -> str:
    token = "ld_" + secrets.token_urlsafe(32)
    conn.execute(insert(tokens).values(user_id=user_id, token_hash=hash_token(token), created_at=now()))
    return token


def user_for_token(conn: Connection, token: str) -> Row[Any] | None:
    query = (
        select(users)
        .join(tokens, tokens.c.user_id == users.c.id)
        .where(tokens.c.token_hash == hash_token(token), tokens.c.revoked_at.is_(None))
    )
    return conn.execute(query).first()


def revoke_token(conn: Connection, token: str) -> bool:
    result = conn.execute(
        update(tokens).where(tokens.c.token_hash == hash_token(token), tokens.c.revoked_at.is_(None)).values(revoked_at=now())
    )
    return result.rowcount > 0


def stored_response(conn: Connection, key: str, scope: str) -> Row[Any] | None:
    query = select(idempotency_keys).where(idempotency_keys.c.key == key, idempotency_keys.c.scope == scope)
    return conn.execute(query).first()


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
