"""Desk sessions end on the server: when idle too long, or too old; a user lists their sessions
and ends any of them from the desk (a CSRF-checked form)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update

from conftest import PASSWORD, Site, make_user, unique
from livedesk.store.accounts import hash_token
from livedesk.store.db import make_engine, run_read, run_write
from livedesk.store.tables import tokens


@contextmanager
def signed_in(server: Site, name: str, browser: str = "Firefox on a test bench") -> Iterator[httpx.Client]:
    with server.client(headers={"User-Agent": browser}) as client:
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/desk/login").text).group(1)
        assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD}).status_code == 303
        yield client


def page_csrf(client: httpx.Client, path: str = "/desk/sessions") -> str:
    return re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(path).text).group(1)


def set_token_times(server: Site, session: str, **times: datetime) -> None:
    engine = make_engine(server.env["LIVEDESK_DATABASE_URL"])
    try:
        run_write(engine, lambda conn: conn.execute(
            update(tokens).where(tokens.c.token_hash == hash_token(session)).values(**times)))
    finally:
        engine.dispose()


def last_used(server: Site, session: str) -> datetime:
    engine = make_engine(server.env["LIVEDESK_DATABASE_URL"])
    try:
        return run_read(engine, lambda conn: conn.execute(
            select(tokens.c.last_used_at).where(tokens.c.token_hash == hash_token(session))).scalar_one())
    finally:
        engine.dispose()


def sessions_listed(client: httpx.Client) -> dict[str, int]:
    """The desk's sessions page: each session's label (its browser) and id."""
    page = client.get("/desk/sessions").text
    found = re.findall(r'class="session-label">([^<]*)</span>.*?action="/desk/sessions/(\d+)/revoke"', page, re.S)
    return {label.split(" · ")[0]: int(session_id) for label, session_id in found}


def is_signed_in(client: httpx.Client) -> bool:
    return client.get("/desk").status_code == 200  # else 303 to the login page


def test_an_idle_session_ends_on_the_server(server):
    with signed_in(server, make_user(server)) as client:
        session = client.cookies["livedesk_session"]
        set_token_times(server, session, last_used_at=datetime.now(UTC) - timedelta(hours=11, minutes=50))
        assert is_signed_in(client)  # within 12 hours unused, and the use starts the count again
        assert last_used(server, session) > datetime.now(UTC) - timedelta(minutes=5)
        set_token_times(server, session, last_used_at=datetime.now(UTC) - timedelta(hours=12, minutes=1))
        assert not is_signed_in(client)
        assert client.get("/desk").headers["location"].startswith("/desk/login")
    with server.client(session) as bearer:  # the same token sent as a bearer token is refused too
        assert bearer.post("/api/events", json={"slug": unique("idle"), "title": "t"}).status_code == 401


def test_a_session_ends_when_it_is_too_old_however_busy(server):
    with signed_in(server, make_user(server)) as client:
        session = client.cookies["livedesk_session"]
        set_token_times(server, session, created_at=datetime.now(UTC) - timedelta(days=13, hours=23))
        assert is_signed_in(client)
        set_token_times(server, session, created_at=datetime.now(UTC) - timedelta(days=14, minutes=1))
        assert not is_signed_in(client)


def test_the_cookie_lives_no_longer_than_the_session(server):
    name = make_user(server)
    with server.client() as client:
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/desk/login").text).group(1)
        answer = client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD})
    assert f"max-age={14 * 86400}" in answer.headers["set-cookie"].lower()


def test_list_and_end_own_sessions_from_the_desk(server):
    name = make_user(server)
    with signed_in(server, name, "Laptop browser") as laptop, signed_in(server, name, "Phone browser") as phone:
        assert set(sessions_listed(laptop)) == {"Laptop browser", "Phone browser"}
        phone_id = sessions_listed(laptop)["Phone browser"]
        # the phone's session is ended from the laptop; without the form's token, nothing happens
        assert laptop.post(f"/desk/sessions/{phone_id}/revoke", data={}).status_code == 403
        assert is_signed_in(phone)
        csrf = page_csrf(laptop)
        ended = laptop.post(f"/desk/sessions/{phone_id}/revoke", data={"csrf": csrf})
        assert ended.status_code == 303 and ended.headers["location"] == "/desk/sessions?done=revoked"
        assert not is_signed_in(phone) and is_signed_in(laptop)
        assert set(sessions_listed(laptop)) == {"Laptop browser"}
        assert laptop.post(f"/desk/sessions/{phone_id}/revoke", data={"csrf": csrf}).status_code == 404
        # ending this browser's own session signs it out
        out = laptop.post(f"/desk/sessions/{sessions_listed(laptop)['Laptop browser']}/revoke", data={"csrf": csrf})
        assert out.headers["location"] == "/desk/login?done=out"
        assert not is_signed_in(laptop)


def test_nobody_ends_another_users_session(server):
    with signed_in(server, make_user(server)) as victim, signed_in(server, make_user(server)) as other:
        [victim_id] = sessions_listed(victim).values()
        response = other.post(f"/desk/sessions/{victim_id}/revoke", data={"csrf": page_csrf(other)})
        assert response.status_code == 404
        assert is_signed_in(victim)
