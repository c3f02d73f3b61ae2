"""Hostile input at the doors: `livedesk parse` on junk and pathological files, and the
private-address guard of the fetcher for the addresses and redirects test_ingest_fetch.py
does not already cover."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import tempfile
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import LIVEDESK, cli_here, http_server
from livedesk.config import LOOPBACK
from livedesk.ingest import FetchError
from livedesk.ingest.fetch import fetch

GUARD_S = 120  # a parser that hangs fails here instead of stalling the suite


def parse(path: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run([*LIVEDESK, "parse", str(path), *args], capture_output=True, text=True,
                              timeout=GUARD_S, errors="replace")
    except subprocess.TimeoutExpired:
        raise AssertionError(f"livedesk parse ran longer than {GUARD_S} s on {path.name}") from None


def assert_clean_exit(done: subprocess.CompletedProcess) -> None:
    assert done.returncode in (0, 2), (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr + done.stdout
    if done.returncode == 2:
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr[-500:]
        assert done.stdout == ""


@given(st.binary(max_size=20_000), st.sampled_from([".bin", ".html", ".json", ".xml", ".txt"]))
@settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_parse_random_bytes_exits_0_or_2_with_one_line(data: bytes, suffix: str) -> None:
    """The command line run in this process (an uncaught error is raised here); the files below,
    which may take a reader to its limits of depth and size, each get a process of their own."""
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / f"junk{suffix}"
        page.write_bytes(data)
        assert_clean_exit(cli_here("parse", str(page), "--json", check=False))


LIVE_LINES = "09:12 The ferry leaves the quay.\n\n09:40 The pilot boards at the breakwater.\n\n"
DEPTH = 10_000
PATHOLOGICAL = {
    "nested-json-ld.html": (
        '<html><head><script type="application/ld+json">{"@type":"LiveBlogPosting","liveBlogUpdate":'
        + "[" * DEPTH + "]" * DEPTH + "}</script></head><body><p>Harbour day</p></body></html>"
    ).encode(),
    "nested-objects.json": ('{"@type":"LiveBlogPosting","liveBlogUpdate":' + '{"a":' * DEPTH + "1" + "}" * DEPTH + "}").encode(),
    "nested-unclosed.json": ("[" * DEPTH * 10).encode(),
    "invalid-utf8.txt": LIVE_LINES.encode().replace(b"ferry", b"fe\xff\xferry") + b"\xc3\x28\xa0\xa1\xe2\x28\xa1" * 5000,
    "invalid-utf8.html": b"<html><body><p>09:12 \xc3\x28 quay \xf0\x28\x8c\xbc</p>" * 2000 + b"</body></html>",
    "digits-and-colons.txt": b"12:34:56:" * 400_000,
    "digits.txt": b"0123456789" * 300_000,
    "colons.txt": b":" * 3_000_000,
    "clock-lines.txt": b"09:12\n12:30:\n" * 80_000,
    "one-5mb-line.txt": b"the ferry waits at the quay " * 190_000,
    "one-5mb-line.html": b"<p>" + b"<b>quay</b> " * 450_000,
}


@pytest.mark.slow  # a process per file
@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_parse_survives_pathological_files(tmp_path: Path, name: str) -> None:
    page = tmp_path / name
    page.write_bytes(PATHOLOGICAL[name])
    assert_clean_exit(parse(page, "--json"))


def test_parse_refuses_a_private_url_in_one_line() -> None:
    for url in ("http://127.0.0.1:9/live", "http://169.254.169.254/latest/meta-data/", "http://localhost:9/"):
        done = subprocess.run([*LIVEDESK, "parse", url], capture_output=True, text=True, timeout=GUARD_S,
                              env={**os.environ, "LIVEDESK_FETCH_ALLOW_PRIVATE": "0"})
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "private" in done.stderr


# ---- the fetcher's private-address guard --------------------------------------------------

REFUSED = [
    "http://localhost/",  # a name that resolves to loopback
    "http://127.0.0.1/",
    "http://127.1/",  # short, decimal and hexadecimal spellings of loopback
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped loopback
    "http://[::ffff:169.254.169.254]/",
    "http://[::]/",
    "http://10.1.2.3/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata
    "http://[fd00:ec2::254]/",  # cloud metadata over IPv6
    "http://[fe80::1]/",
    "http://[fc00::1]/",
]


@pytest.mark.parametrize("url", REFUSED)
def test_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(FetchError, match=r"private|refused"):
        fetch(url, timeout=5)


PUBLIC = "127.0.0.5"  # the test server stands for a public site at this loopback address
STAND_IN = [ipaddress.ip_network(f"{PUBLIC}/32")]  # so only its own address is allowed


class Redirector(BaseHTTPRequestHandler):
    """Answers every path with a redirect to the address named in the path, or with a page."""

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path == "/robots.txt":
            self.send_response(404)
            self.end_headers()
        elif self.path.startswith("/to/"):
            self.send_response(302)
            self.send_header("Location", self.path.removeprefix("/to/"))
            self.end_headers()
        else:
            body = b"<html><body><p>09:12 Quay open.</p></body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def redirector():
    with http_server(Redirector, PUBLIC) as httpd:
        yield httpd.server_port


@pytest.mark.parametrize("target", [
    "http://localhost:{port}/page",
    "http://[::1]:{port}/page",
    "http://[::ffff:127.0.0.1]:{port}/page",
    "http://2130706433:{port}/page",
    "http://10.0.0.1:{port}/page",
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.5:{port}/to/http://127.0.0.1:{port}/page",  # two hops, the second refused
])
def test_redirects_into_private_space_are_refused(redirector: int, target: str) -> None:
    port = redirector
    assert fetch(f"http://{PUBLIC}:{port}/page", timeout=5, allow_private=STAND_IN).status == 200
    with pytest.raises(FetchError, match=r"private|refused"):
        fetch(f"http://{PUBLIC}:{port}/to/" + target.format(port=port), timeout=5, allow_private=STAND_IN)


def test_the_allow_switch_lets_private_fetches_through(redirector: int) -> None:
    assert fetch(f"http://{PUBLIC}:{redirector}/to/http://2130706437:{redirector}/page", timeout=5,
                 allow_private=LOOPBACK).status == 200  # 127.0.0.5
