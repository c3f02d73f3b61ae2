"""The desk's sign-in limit under concurrent tries, and whose address it counts behind a proxy."""

from __future__ import annotations

import re
import threading

import httpx

from conftest import Site, run_cli, unique

PASSWORD = "quay-lanterns-17"


def make_user(server: Site) -> str:
    name = unique("editor")
    run_cli("user", "password", name, "--role", "editor", input=PASSWORD + "\n", env=server.env)
    return name


def login_form(client: httpx.Client) -> str:
    """Opens the login page (which sets the form's nonce cookie): its CSRF token."""
    page = client.get("/desk/login")
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)


def test_sixty_concurrent_wrong_logins_get_at_most_the_limit_of_checks(live_server):
    name = make_user(live_server)
    limit = 5  # the default LIVEDESK_LOGIN_FAILURES_PER_MINUTE
    with live_server.client() as client:
        csrf = login_form(client)
        cookies = dict(client.cookies)
    start = threading.Barrier(60)
    statuses: list[int] = []

    def try_once() -> None:
        with live_server.client(cookies=cookies) as client:
            start.wait()
            form = {"csrf": csrf, "name": name, "password": "not-the-password"}
            statuses.append(client.post("/desk/login", data=form).status_code)

    threads = [threading.Thread(target=try_once) for _ in range(60)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(statuses) == 60 and set(statuses) <= {401, 429}
    assert statuses.count(401) <= limit  # a 401 is a password checked; a 429 was refused before
    assert statuses.count(429) >= 60 - limit
    with live_server.client(cookies=cookies) as client:  # the right password waits too
        assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD}).status_code == 429


def test_a_right_password_within_the_limit_clears_the_count(server):
    name = make_user(server)
    with server.client() as client:
        csrf = login_form(client)
        for _ in range(4):
            assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": "wrong"}).status_code == 401
        assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD}).status_code == 303
    with server.client() as client:
        csrf = login_form(client)
        for _ in range(5):  # a fresh count: five more tries are checked
            assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": "wrong"}).status_code == 401
        assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": "wrong"}).status_code == 429
