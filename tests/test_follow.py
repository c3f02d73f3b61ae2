"""Following other outlets: sources attached to an event, polled from a real local HTTP server."""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from datetime import UTC
from http.server import BaseHTTPRequestHandler

import pytest
from lxml import html as lxml_html

from conftest import Server, SSEReader, cli_here, database_url, fresh_postgres, http_server, server_env, unique, wait_until

FAST = {"LIVEDESK_FETCH_ALLOW_PRIVATE": "1", "LIVEDESK_MIN_POLL_INTERVAL_S": "1", "LIVEDESK_POLL_TICK_S": "0.2",
        "LIVEDESK_KEEPALIVE_S": "1"}


def live_page(updates: list[dict], outlet: str = "Fenwick Gazette") -> str:
    """A schema.org LiveBlogPosting page (fictional)."""
    blocks = [{"@type": "BlogPosting", "url": f"https://fenwick.example/live#{u['id']}", "headline": u["headline"],
               "articleBody": u["body"], "datePublished": u["time"]} for u in updates]
    data = {"@context": "https://schema.org", "@type": "LiveBlogPosting", "headline": "Canal lock repairs: live",
            "datePublished": "2026-06-02T06:00:00+00:00", "publisher": {"@type": "Organization", "name": outlet},
            "liveBlogUpdate": blocks}
    return (f"<!doctype html><html><head><title>Canal lock repairs | {outlet}</title>"
            f'<script type="application/ld+json">{json.dumps(data)}</script></head><body><h1>Canal lock repairs</h1></body></html>')


UPDATES = [
    {"id": "u2", "headline": "Gates lifted out", "body": "A crane lifts the old oak gates from lock four.", "time": "2026-06-02T09:30:00+00:00"},
    {"id": "u1", "headline": "Boats held upstream", "body": "Eleven narrowboats wait above the weir.", "time": "2026-06-02T08:05:00+00:00"},
]

PASTED = """Ferry strike talks resume | Northsound Post

Ferry strike talks resume

Crews and the operator meet again after a week without sailings

10:40 CET
Ada Ringholm
Northsound Post

Both sides say the new offer covers night shifts for the first time.

09:55 CET
Ola Bremnes
Northsound Post

The first island ferry is not expected before Friday.
"""


class Pages:
    """A live-page server: pages by path, ETag/304, and a record of every request."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes]] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, If-None-Match)
        self.not_modified = 0
        self.active: dict[str, int] = {}
        self.overlaps: list[str] = []
        self.delay = 0.0
        self.lock = threading.Lock()
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                pages.handle(self)

            def log_message(self, *args) -> None:
                pass

        self.serving = ExitStack()
        self.http = self.serving.enter_context(http_server(Handler))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.http.server_address[1]}{path}"

    def set(self, path: str, body: str | bytes, status: int = 200) -> None:
        with self.lock:
            self.pages[path] = (status, body.encode() if isinstance(body, str) else body)

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path
        with self.lock:
            self.requests.append((path, request.headers.get("If-None-Match")))
            self.active[path] = self.active.get(path, 0) + 1
            if self.active[path] > 1:
                self.overlaps.append(path)
            status, body = self.pages.get(path, (404, b"not here"))
        try:
            time.sleep(self.delay)
            tag = f'"{hash(body) & 0xFFFFFFFF:x}"'
            if status == 200 and request.headers.get("If-None-Match") == tag:
                with self.lock:
                    self.not_modified += 1
                request.send_response(304)
                request.send_header("ETag", tag)
                request.end_headers()
                return
            request.send_response(status)
            request.send_header("Content-Type", "text/html; charset=utf-8")
            request.send_header("Content-Length", str(len(body)))
            if status == 200:
                request.send_header("ETag", tag)
            request.end_headers()
            request.wfile.write(body)
        finally:
            with self.lock:
                self.active[path] -= 1

    def count(self, path: str) -> int:
        with self.lock:
            return sum(1 for p, _tag in self.requests if p == path)

    def close(self) -> None:
        self.serving.close()


@pytest.fixture(scope="module")
def pages():
    server = Pages()
    yield server
    server.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    srv = Server(server_env(tmp_path_factory.mktemp("follow"), **FAST)).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def desk(node):
    with node.client(node.token("editor")) as client:
        yield client


@pytest.fixture
def slug(desk) -> str:
    slug = unique("follow")
    assert desk.post("/api/events", json={"slug": slug, "title": "Canal lock repairs"}).status_code == 201
    return slug


def wait(predicate, timeout: float = 15, message: str = "condition"):
    """conftest.wait_until, with the longer default a poll by a node of its own may need."""
    return wait_until(predicate, timeout=timeout, message=message)


def sources(desk, slug: str) -> list[dict]:
    response = desk.get(f"/api/events/{slug}/sources")
    assert response.status_code == 200, response.text
    return response.json()["sources"]


def other_posts(desk, slug: str) -> list[dict]:
    response = desk.get(f"/api/events/{slug}/posts", params={"outlets": "others", "limit": 100})
    return response.json()["posts"]


def test_pasted_text_is_parsed_at_once(desk, slug):
    response = desk.post(f"/api/events/{slug}/sources", json={"text": PASTED, "timezone": "Europe/Oslo"})
    assert response.status_code == 201, response.text
    source = response.json()
    assert source["kind"] == "text" and source["post_count"] == 2 and source["next_poll_at"] is None
    assert source["outlet"]["name"] == "Northsound Post" and source["last_fetch_at"]
    got = other_posts(desk, slug)
    assert [p["published_at"][10:] for p in got] == ["T09:40:00Z", "T08:55:00Z"] and all(p["time_known"] for p in got)
    assert {p["outlet"]["name"] for p in got} == {"Northsound Post"}
    assert got[0]["authors"][0].startswith("Ada Ringholm") and "night shifts" in got[0]["body_html"]


def test_a_source_says_when_its_page_left_zone_or_date_to_be_assumed(desk, slug):
    unsaid = PASTED.replace(" CET", "")  # no zone and no date anywhere on the page
    source = desk.post(f"/api/events/{slug}/sources", json={"text": unsaid}).json()
    assert source["reading_warning"] == (
        "The page says no time zone, so its times were read as UTC: add the source again with its timezone; "
        "and no date, so its newest posts were dated today: paste it again with the line that gives its date."
    )
    assert sources(desk, slug)[0]["reading_warning"] == source["reading_warning"]
    desk.cookies.set("livedesk_session", desk.headers["authorization"].split()[1])  # the desk's session
    shown = lxml_html.fromstring(desk.get(f"/desk/e/{slug}").text)
    assert shown.xpath(f"//li[@id='source-{source['id']}']/p[@class='source-warning']")[0].text_content() == source["reading_warning"]
    zoned = desk.post(f"/api/events/{slug}/sources", json={"text": unsaid, "timezone": "Europe/Oslo"}).json()
    assert zoned["id"] == source["id"] and zoned["reading_warning"] == (
        "The page says no date, so its newest posts were dated today: paste it again with the line that gives its date."
    )
    dated = unsaid.replace("10:40\n", "10:40 14.03.2026\n").replace("09:55\n", "09:55 14.03.2026\n")
    assert desk.post(f"/api/events/{slug}/sources", json={"text": dated, "timezone": "Europe/Oslo"}).json()["reading_warning"] is None
    shown = lxml_html.fromstring(desk.get(f"/desk/e/{slug}").text)
    assert not shown.xpath("//p[@class='source-warning']")


def test_pasting_the_same_outlet_again_updates_instead_of_duplicating(desk, slug):
    first = desk.post(f"/api/events/{slug}/sources", json={"text": PASTED}).json()
    reader = SSEReader(f"{desk.base_url}/api/events/{slug}/stream")
    edited = PASTED.replace("first island ferry", "first island ferry, the Skarv,")
    again = desk.post(f"/api/events/{slug}/sources", json={"text": edited})
    assert again.status_code == 201 and again.json()["id"] == first["id"]
    assert len(sources(desk, slug)) == 1
    got = other_posts(desk, slug)
    assert len(got) == 2
    changed = [p for p in got if "Skarv" in p["body"]]
    assert len(changed) == 1 and changed[0]["version"] == 2
    pushed = reader.wait_for(lambda e: e["event"] == "post.updated")
    assert pushed[0]["data"]["id"] == changed[0]["id"]
    reader.close()


def test_polled_page_uses_etag_and_never_duplicates(desk, slug, pages):
    path = f"/{slug}/live"
    pages.set(path, live_page(UPDATES))
    response = desk.post(f"/api/events/{slug}/sources", json={"url": pages.url(path), "poll_interval": 1})
    assert response.status_code == 201, response.text
    wait(lambda: len(other_posts(desk, slug)) == 2, message="first poll")
    wait(lambda: pages.count(path) >= 6, message="repeated polls")
    assert pages.not_modified >= 1
    assert any(tag for p, tag in pages.requests if p == path)  # conditional GETs carry the ETag
    got = other_posts(desk, slug)
    assert [p["headline"] for p in got] == ["Gates lifted out", "Boats held upstream"]
    assert {p["outlet"]["name"] for p in got} == {"Fenwick Gazette"}
    source = sources(desk, slug)[0]
    assert source["post_count"] == 2 and source["error_count"] == 0 and source["last_error"] is None
    assert source["last_fetch_at"] and source["next_poll_at"]


def test_changed_page_is_pushed_as_update_and_new_post(desk, slug, pages, node):
    path = f"/{slug}/live"
    pages.set(path, live_page(UPDATES))
    desk.post(f"/api/events/{slug}/sources", json={"url": pages.url(path), "poll_interval": 1})
    wait(lambda: len(other_posts(desk, slug)) == 2, message="first poll")
    reader = SSEReader(f"{node.url}/api/events/{slug}/stream")
    changed = [{**UPDATES[0], "body": "A crane lifts the old oak gates from lock four; the new steel gates arrive Monday."}, UPDATES[1]]
    pages.set(path, live_page(changed))
    updated = reader.wait_for(lambda e: e["event"] == "post.updated", timeout=15)
    assert "steel gates" in updated[0]["data"]["body"] and updated[0]["data"]["version"] == 2
    newest = {"id": "u3", "headline": "Lock reopens", "body": "The first boat passes through at noon.", "time": "2026-06-02T12:00:00+00:00"}
    pages.set(path, live_page([newest, *changed]))
    created = reader.wait_for(lambda e: e["event"] == "post.created", timeout=15)
    assert created[0]["data"]["headline"] == "Lock reopens"
    assert created[0]["data"]["outlet"]["name"] == "Fenwick Gazette"
    polls = pages.count(path)
    wait(lambda: pages.count(path) >= polls + 2, message="two more polls")  # the first of them is done
    got = other_posts(desk, slug)
    assert [p["headline"] for p in got] == ["Lock reopens", "Gates lifted out", "Boats held upstream"]
    assert sum(1 for e in reader.events if e["event"] == "post.created") == 1
    reader.close()


def test_broken_sources_are_recorded_and_others_keep_polling(desk, slug, pages):
    good, failing, garbage = f"/{slug}/good", f"/{slug}/failing", f"/{slug}/garbage"
    pages.set(good, live_page(UPDATES[1:]))
    pages.set(failing, "upstream is down", status=500)
    pages.set(garbage, bytes(range(256)) * 40)
    for path in (failing, garbage, good):
        assert desk.post(f"/api/events/{slug}/sources", json={"url": pages.url(path), "poll_interval": 3}).status_code == 201

    def by_name() -> dict:
        return {s["url"].rsplit("/", 1)[1]: s for s in sources(desk, slug)}

    wait(lambda: "HTTP 500" in (by_name()["failing"]["last_error"] or ""), timeout=60, message="the failing source's error")
    garbled = wait(lambda: by_name()["garbage"]["last_error"] and by_name()["garbage"], timeout=60, message="the garbage's error")
    assert garbled["error_count"] >= 1 and garbled["post_count"] == 0
    pages.set(good, live_page(UPDATES))
    wait(lambda: len(other_posts(desk, slug)) == 2, message="the healthy source still polled")
    pages.set(failing, live_page(UPDATES, outlet="Marsh Herald"))
    recovered = wait(lambda: [s for s in sources(desk, slug) if s["url"].endswith("failing") and s["post_count"] == 2],
                     timeout=60, message="recovery after backoff")
    assert recovered[0]["error_count"] == 0 and recovered[0]["last_error"] is None


def test_bad_requests_are_refused_clearly(desk, slug, node):
    cases = [
        ({"url": "ftp://example.org/live"}, 422, "http"),
        ({"url": "https://example.org/a", "text": "both"}, 422, "either"),
        ({}, 422, "either"),
        ({"url": "https://example.org/a", "timezone": "Mars/Olympus"}, 422, "time zone"),
        ({"url": "https://example.org/a", "poll_interval": 0}, 422, "poll_interval"),
        ({"text": "just a sentence without any times or posts"}, 422, "not a live page"),
    ]
    for body, status, words in cases:
        response = desk.post(f"/api/events/{slug}/sources", json=body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]
    assert desk.post("/api/events/no-such-event/sources", json={"url": "https://example.org/a"}).status_code == 404
    with node.client() as anonymous:
        assert anonymous.post(f"/api/events/{slug}/sources", json={"url": "https://example.org/a"}).status_code == 401
    with node.client(node.token("contributor")) as contributor:
        assert contributor.post(f"/api/events/{slug}/sources", json={"url": "https://example.org/a"}).status_code == 403
    assert sources(desk, slug) == []


def test_removing_a_source_keeps_its_posts(desk, slug):
    source = desk.post(f"/api/events/{slug}/sources", json={"text": PASTED}).json()
    assert desk.delete(f"/api/events/{slug}/sources/{source['id']}").status_code == 204
    assert sources(desk, slug) == []
    assert len(other_posts(desk, slug)) == 2
    assert desk.delete(f"/api/events/{slug}/sources/{source['id']}").status_code == 404


@pytest.mark.slow  # six CLI processes
def test_ingest_command(node, desk, slug, pages, tmp_path):
    saved = tmp_path / "northsound.txt"
    saved.write_text(PASTED)
    path = f"/{slug}/cli"
    pages.set(path, live_page(UPDATES))
    env = {**node.env, **FAST}
    result = cli_here("ingest", slug, str(saved), pages.url(path), "--tz", "Europe/Oslo", env=env)
    assert "2 new posts" in result.stdout
    listed = sources(desk, slug)
    assert [s["kind"] for s in listed] == ["text", "url"] and all(s["post_count"] == 2 for s in listed)
    assert len(other_posts(desk, slug)) == 4
    for args in (["ingest", slug, str(tmp_path / "missing.txt")], ["ingest", "no-such-event", str(saved)],
                 ["ingest", slug, pages.url(f"/{slug}/nothing-here")], ["ingest", slug, str(saved), "--tz", "Nowhere/Land"]):
        failed = cli_here(*args, env=env, check=False)
        assert failed.returncode == 2 and len(failed.stderr.strip().splitlines()) == 1, (args, failed.stderr)
    assert len(sources(desk, slug)) == 2  # a URL that cannot be read is not left attached
    partial = cli_here("ingest", slug, str(tmp_path / "missing.txt"), str(saved), env=env, check=False)
    assert partial.returncode == 0, partial.stderr
    assert partial.stderr.strip().splitlines() == [f"livedesk: skipped {tmp_path / 'missing.txt'}: cannot read "
                                                   f"{tmp_path / 'missing.txt'}: No such file or directory"]
    assert "northsound.txt" in partial.stdout


@pytest.fixture
def own_database(tmp_path):
    """A database of this test alone, so no running node competes for its sources."""
    from livedesk.store.db import make_engine, upgrade

    url = database_url(tmp_path)
    with ExitStack() as stack:
        if url.startswith("postgresql"):
            url = stack.enter_context(fresh_postgres("lease"))
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


def test_leases_give_each_source_to_one_node_and_expire(own_database):
    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import Settings
    from livedesk.newsroom import follow, publish
    from livedesk.newsroom.roles import Actor
    from livedesk.newsroom.room import Newsroom

    room = Newsroom(Settings(min_poll_interval_s=1), own_database, MemoryBroker())
    actor = Actor(None, "desk", "admin")
    publish.create_event(room, {"slug": "lease-test", "title": "Lease test"}, actor)
    ids = [follow.add_source(room, "lease-test", {"url": f"https://example.org/{i}", "poll_interval": 2}, actor)["id"]
           for i in range(3)]
    first = follow.claim_due(room, "node-that-dies", limit=2)
    second = follow.claim_due(room, "other-node", limit=10)
    assert len(first) == 2 and len(second) == 1 and set(first) | set(second) == set(ids)
    assert follow.claim_due(room, "third-node", limit=10) == []
    # the leases run out after one interval: the dead node's sources are free again
    freed: set[str] = set()
    wait(lambda: freed.update(follow.claim_due(room, "third-node", limit=10)) or freed == set(ids),
         timeout=10, message="every lease ran out")


def test_demo_follows_five_outlets_on_the_story_clock(own_database):
    from datetime import datetime, timedelta

    from livedesk.broker.memory import MemoryBroker
    from livedesk.config import Settings
    from livedesk.demo import load_outlets
    from livedesk.newsroom import demo, follow
    from livedesk.newsroom.room import Newsroom
    from livedesk.store import events as event_store
    from livedesk.store import posts as post_store
    from livedesk.store.db import run_read

    room = Newsroom(Settings(), own_database, MemoryBroker())
    slug = demo.seed(room)
    room.developments.close()
    listed = follow.list_sources(room, slug)
    assert sorted(s["outlet"]["name"] for s in listed) == sorted(o["name"] for o in load_outlets())
    assert all(s["kind"] == "text" and s["post_count"] >= 10 and s["last_error"] is None for s in listed)

    def read(conn):
        event = event_store.get_event(conn, slug)
        return event, post_store.list_posts(conn, event.id, limit=100, outlet_own=False)[0]

    event, others = run_read(own_database, read)
    timed = [p.published_at for p in others if p.time_known]
    assert len(timed) >= 40
    now = datetime.now(UTC)
    assert all(event.coverage_start - timedelta(hours=1) <= t <= now + timedelta(minutes=15) for t in timed)
