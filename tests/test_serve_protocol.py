"""What `livedesk serve`'s HTTP protocol answers itself (web/protocol.py): a GET for a cached,
current page, and a stream of an event its hub knows. Each must be what the app would give.
And how it reads: no faster than a client takes its replies."""

from __future__ import annotations

import gzip
import socket
import time
from pathlib import Path

import httpx
import pytest

from conftest import Server, server_env, unique, wait_until

NOT_COMPARED = {"date", "connection"}  # the clock, and whether this reply closes the connection


def exchange(port: int, request: bytes) -> bytes:
    """Send raw request bytes, read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def split_head(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    """(status line, headers, what follows them) of the reply that `raw` starts with."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    return status, {name.lower(): value for name, _, value in (line.partition(": ") for line in lines)}, rest


def replies(raw: bytes) -> list[tuple[str, dict[str, str], bytes]]:
    """(status line, headers, body) of each reply in `raw` (each with a content-length)."""
    found = []
    while raw:
        status, headers, rest = split_head(raw)
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        raw = rest[length:]
    return found


def get(path: str, *extra: str, version: str = "1.1", close: bool = True) -> bytes:
    lines = [f"GET {path} HTTP/{version}", "Host: localhost", *extra] + (["Connection: close"] if close else [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def compared(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in NOT_COMPARED}


def test_a_cached_page_gets_the_reply_the_app_gives(live_server, live_editor):
    slug = unique("sp")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Quay wall survey"}).status_code == 201
    assert live_editor.post(f"/api/events/{slug}/posts", json={"body": "Divers reached the quay wall."}).status_code == 201
    port, path = live_server.port, f"/e/{slug}"

    def settled():  # background work may add a change just after the post: then the page is built again
        first = replies(exchange(port, get(path)))[0]
        again = replies(exchange(port, get(path)))[0]
        return first[1]["etag"] == again[1]["etag"] and (first, again)

    built, cached = wait_until(settled, message="the page stays the same")
    assert cached[0] == built[0] == "HTTP/1.1 200 OK"
    assert compared(cached[1]) == compared(built[1]) and cached[2] == built[2]
    assert b"Divers reached the quay wall." in cached[2]
    assert cached[1]["connection"] == "close" and cached[1]["date"]

    etag = cached[1]["etag"]
    status, headers, body = replies(exchange(port, get(path, f"If-None-Match: {etag}")))[0]
    assert status == "HTTP/1.1 304 Not Modified" and headers["etag"] == etag and not body
    assert headers["content-security-policy"] == cached[1]["content-security-policy"]

    status, headers, body = replies(exchange(port, get(path, "Accept-Encoding: gzip")))[0]
    assert status == "HTTP/1.1 200 OK" and headers["content-encoding"] == "gzip" and headers["etag"] == etag[:-1] + '-gz"'
    assert gzip.decompress(body) == cached[2]

    # two requests in one write on a kept-alive connection: two whole replies, in order
    both = replies(exchange(port, get(path, close=False) + get(f"/embed/{slug}")))
    assert [r[0] for r in both] == ["HTTP/1.1 200 OK"] * 2 and both[0][2] == cached[2]
    assert "frame-ancestors *" in both[1][1]["content-security-policy"] and "x-frame-options" not in both[1][1]

    # many in one write, from a client that reads only once all are sent: the replies that do
    # not fit the socket's buffer wait for it, and all arrive whole and in order
    many = replies(exchange(port, get(path, close=False) * 299 + get(path)))
    assert len(many) == 300 and all(r[0] == "HTTP/1.1 200 OK" and r[2] == cached[2] for r in many)

    # HTTP/1.0 goes the long way round, and gets the same page
    status, headers, body = replies(exchange(port, get(path, version="1.0", close=False)))[0]
    assert status.endswith("200 OK") and body == cached[2]

    # a new post is a new change: the cached page is not served past it
    assert live_editor.post(f"/api/events/{slug}/posts", json={"body": "The survey found two cracks."}).status_code == 201
    wait_until(lambda: b"two cracks" in replies(exchange(port, get(path)))[0][2], message="the new post on the page")


def stream_head(port: int, path: str, last_event_id: int) -> tuple[str, dict[str, str], bytes]:
    """The head of a stream's reply and what came with it before the connection is cut."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(get(path, f"Last-Event-ID: {last_event_id}", close=False))
        raw = b""
        while raw.count(b"event: post.created") < 2:
            raw += sock.recv(65536)
    return split_head(raw)


def test_a_stream_taken_by_the_protocol_is_the_stream_the_app_answers(live_server, live_editor):
    slug = unique("ss")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Ferry timetable"}).status_code == 201
    for body in ("The first ferry left at six.", "The second ferry was held."):
        assert live_editor.post(f"/api/events/{slug}/posts", json={"body": body}).status_code == 201
    path = f"/api/events/{slug}/stream"
    # the first reader of an event goes through the app, which looks the event up; the hub then
    # knows it, and the next reader is taken from the protocol's callback
    first = stream_head(live_server.port, path, 0)
    second = stream_head(live_server.port, path, 0)
    assert first[0] == second[0] == "HTTP/1.1 200 OK"
    assert compared(first[1]) == compared(second[1])
    assert second[1]["content-type"].startswith("text/event-stream") and second[1]["transfer-encoding"] == "chunked"
    assert "frame-ancestors 'none'" in second[1]["content-security-policy"]
    for _, _, rest in (first, second):
        assert b"retry: 2000" in rest and b"The first ferry left at six." in rest and b"The second ferry was held." in rest


def resident_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.mark.slow
def test_a_client_that_sends_requests_and_never_reads_cannot_fill_the_server(tmp_path):
    server = Server(server_env(tmp_path)).start()
    try:
        slug = unique("fl")
        with server.client(server.token("editor")) as desk:
            assert desk.post("/api/events", json={"slug": slug, "title": "Harbour gate"}).status_code == 201
        for _ in range(3):  # the page is cached from now on
            assert httpx.get(f"{server.url}/e/{slug}").status_code == 200
        assert server.process is not None
        before = resident_kb(server.process.pid)
        request = get(f"/e/{slug}", close=False) * 1000
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            sock.setblocking(False)
            sent, deadline = 0, time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    sent += sock.send(request[sent % len(request):])
                except BlockingIOError:
                    time.sleep(0.01)
            grown_mb = (resident_kb(server.process.pid) - before) / 1024
        # each request asks for a 10 KB page: reading on without limit, the server held hundreds
        # of megabytes of requests waiting their turn; it reads only as fast as replies are taken
        assert grown_mb < 64, f"the server grew by {grown_mb:.0f} MB for {sent * 1000 // len(request)} requests"
        assert httpx.get(f"{server.url}/e/{slug}").status_code == 200  # and serves others as before
    finally:
        server.stop()
    said = Path(server.env["LIVEDESK_TEST_LOG"]).read_text()
    assert "Traceback" not in said, said[-2000:]  # connections whose replies the protocol wrote end cleanly
