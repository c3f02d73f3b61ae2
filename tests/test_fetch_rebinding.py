"""The fetcher connects to the address it checked: DNS rebinding, tunnelled IPv6 forms, TLS.

A name is answered by a resolver hook (socket.getaddrinfo, which every connection asks) that
can change its answer the way a hostile DNS server with a zero TTL would. The servers are real
ones on loopback; 127.0.0.5 stands for a public site and is the only address allowed.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import trustme

import livedesk.ingest.fetch as fetching
from conftest import http_server
from livedesk.ingest import FetchError
from livedesk.ingest.fetch import PinnedTransport, address_allowed, fetch

PUBLIC = "127.0.0.5"
STAND_IN = [ipaddress.ip_network(f"{PUBLIC}/32")]
NAME = "coast-courier.test"


class Recorder(BaseHTTPRequestHandler):
    """Answers every GET with a small page and notes what it was asked."""

    seen: list[tuple[str, str]]

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Host", "")))
        body = b"<html><body><p>09:12 The ferry leaves on time.</p></body></html>"
        self.send_response(404 if self.path == "/robots.txt" else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def recorder() -> tuple[type[Recorder], list[tuple[str, str]]]:
    """A handler class of its own, and the requests it records."""
    seen: list[tuple[str, str]] = []
    return type("Handler", (Recorder,), {"seen": seen}), seen


@pytest.fixture
def sites(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, list, list]]:
    """The stand-in public site and a private one on 127.0.0.1, on the same port."""
    monkeypatch.setattr(fetching, "_robots_cache", {})  # a new site: a port used before may come back
    (private_handler, private_seen), (public_handler, public_seen) = recorder(), recorder()
    with http_server(private_handler) as private, http_server(public_handler, PUBLIC, private.server_port):
        yield private.server_port, public_seen, private_seen


def answering(monkeypatch: pytest.MonkeyPatch, answer: Callable[[], str]) -> None:
    """Resolve NAME to whatever `answer()` says at the moment it is asked."""
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real(answer() if host == NAME else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_that_turns_to_loopback_after_the_first_request_gets_nowhere(
        sites: tuple[int, list, list], monkeypatch: pytest.MonkeyPatch) -> None:
    port, public_seen, private_seen = sites
    # The hostile name points at the public site until it has been asked once (robots.txt),
    # then at loopback, where an internal service listens.
    answering(monkeypatch, lambda: "127.0.0.1" if public_seen else PUBLIC)
    with pytest.raises(FetchError, match=r"refused.*\(127\.0\.0\.1\)"):
        fetch(f"http://{NAME}:{port}/live", allow_private=STAND_IN, timeout=5)
    assert [path for path, _host in public_seen] == ["/robots.txt"]
    assert private_seen == []  # nothing was ever sent to loopback


def test_a_name_with_one_public_and_one_private_answer_is_refused(
        sites: tuple[int, list, list], monkeypatch: pytest.MonkeyPatch) -> None:
    port, public_seen, private_seen = sites
    real = socket.getaddrinfo

    def both(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != NAME:
            return real(host, port, *args, **kwargs)
        return real(PUBLIC, port, *args, **kwargs) + real("127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", both)
    with pytest.raises(FetchError, match="refused"):
        fetch(f"http://{NAME}:{port}/live", allow_private=STAND_IN, timeout=5)
    assert public_seen == [] and private_seen == []


def test_the_host_header_names_the_site_while_the_checked_address_is_used(
        sites: tuple[int, list, list], monkeypatch: pytest.MonkeyPatch) -> None:
    port, public_seen, private_seen = sites
    answering(monkeypatch, lambda: PUBLIC)
    result = fetch(f"http://{NAME}:{port}/live", allow_private=STAND_IN, timeout=5)
    assert result.status == 200 and "ferry" in result.text
    assert public_seen == [("/robots.txt", f"{NAME}:{port}"), ("/live", f"{NAME}:{port}")]
    assert private_seen == []


def test_https_keeps_sni_certificate_and_host_of_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert(NAME).configure_cert(server_tls)
    names: list[str | None] = []
    server_tls.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    handler, seen = recorder()
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    answering(monkeypatch, lambda: PUBLIC)
    with http_server(handler, PUBLIC, tls=server_tls) as httpd:
        with httpx.Client(transport=PinnedTransport(STAND_IN, verify=client_tls)) as client:
            response = client.get(f"https://{NAME}:{httpd.server_port}/live")
        assert response.status_code == 200
        assert names == [NAME]
        assert seen == [("/live", f"{NAME}:{httpd.server_port}")]
        answering(monkeypatch, lambda: "127.0.0.1")  # the same name, now private: refused
        with httpx.Client(transport=PinnedTransport(STAND_IN, verify=client_tls)) as client, \
                pytest.raises(FetchError, match="refused"):
            client.get(f"https://{NAME}:{httpd.server_port}/live")


@pytest.mark.parametrize("address", [
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 around 10.0.0.1
    "2002:808:808::1",  # 6to4: refused whatever it embeds
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "::ffff:10.0.0.1",  # IPv4-mapped
    "::a9fe:a9fe",  # IPv4-compatible 169.254.169.254
    "::7f00:1",  # IPv4-compatible 127.0.0.1
])
def test_ipv6_forms_that_carry_a_private_ipv4_are_refused(address: str) -> None:
    assert not address_allowed(ipaddress.ip_address(address))
    with pytest.raises(FetchError, match="refused"):
        fetch(f"http://[{address}]/live", timeout=2)


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_and_nat64_of_a_public_one_pass_the_check(address: str) -> None:
    assert address_allowed(ipaddress.ip_address(address))


def test_allowed_networks_open_only_themselves() -> None:
    loopback = [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128")]
    assert address_allowed(ipaddress.ip_address("127.0.0.1"), loopback)
    assert address_allowed(ipaddress.ip_address("::ffff:127.0.0.1"), loopback)
    assert not address_allowed(ipaddress.ip_address("169.254.169.254"), loopback)
    assert not address_allowed(ipaddress.ip_address("10.0.0.1"), loopback)
