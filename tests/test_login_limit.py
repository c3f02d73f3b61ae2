"""The desk's sign-in limit under concurrent tries, and whose address it counts behind a proxy."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from conftest import PASSWORD, App, make_user, run_cli, server_env
from livedesk.config import Settings


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


def wrong_tries(client: httpx.Client, csrf: str, name: str, count: int, forwarded_for: str) -> list[int]:
    form = {"csrf": csrf, "name": name, "password": "wrong"}
    return [client.post("/desk/login", data=form, headers={"X-Forwarded-For": forwarded_for}).status_code
            for _ in range(count)]


def test_behind_a_trusted_proxy_each_client_address_has_its_own_count(server):
    """The in-process app's peer is 127.0.0.1, a trusted proxy by default (loopback)."""
    name = make_user(server)
    with server.client() as client:
        csrf = login_form(client)
        assert wrong_tries(client, csrf, name, 6, "203.0.113.7") == [401] * 5 + [429]
        assert wrong_tries(client, csrf, name, 1, "203.0.113.8") == [401]  # another reader of the desk
        # a client that writes its own X-Forwarded-For is still known by the address the proxy added
        assert wrong_tries(client, csrf, name, 1, "198.51.100.1, 203.0.113.7") == [429]
        assert wrong_tries(client, csrf, name, 1, "203.0.113.7, 127.0.0.1") == [429]  # proxies are skipped


def test_an_untrusted_peer_cannot_pick_its_address_or_claim_https(tmp_path):
    with server_over(tmp_path, "10.20.0.0/16") as app:
        name = make_user(app)
        with app.client() as client:
            csrf = login_form(client)
            tries = [wrong_tries(client, csrf, name, 1, f"203.0.113.{n}")[0] for n in range(6)]
            assert tries == [401] * 5 + [429]  # every try counts against the peer's own address
            secure = client.get("/desk/login", headers={"X-Forwarded-Proto": "https"})
        assert "strict-transport-security" not in secure.headers
        assert "secure" not in secure.headers["set-cookie"].lower()
    with server_over(tmp_path, "1") as trusting:
        secure = trusting.get("/desk/login", headers={"X-Forwarded-Proto": "https"})
        assert secure.headers["strict-transport-security"].startswith("max-age=")
        assert "secure" in secure.headers["set-cookie"].lower()


@contextmanager
def server_over(tmp_path, trusted: str) -> Iterator[App]:
    # its own broker: this app needs no other node's changes
    app = App(server_env(tmp_path, LIVEDESK_TRUSTED_PROXIES=trusted, LIVEDESK_BROKER_URL="memory://")).start()
    try:
        yield app
    finally:
        app.stop()


@pytest.mark.parametrize(("given", "expected"), [
    ("0", ()), ("1", ("127.0.0.0/8", "::1/128")), ("10.0.0.0/8, 192.0.2.10", ("10.0.0.0/8", "192.0.2.10/32")),
])
def test_trusted_proxies_is_a_typed_list_of_networks(given: str, expected: tuple[str, ...]) -> None:
    assert tuple(str(n) for n in Settings(trusted_proxies=given).trusted_proxies) == expected


def test_a_bad_proxy_network_stops_the_server_in_one_line(tmp_path) -> None:
    result = run_cli("serve", "--port", "1", check=False, env=server_env(tmp_path, LIVEDESK_TRUSTED_PROXIES="nginx"))
    assert result.returncode == 2 and "networks" in result.stderr and "Traceback" not in result.stderr
