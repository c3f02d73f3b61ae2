"""WebSub, both ends, against real processes on loopback: `livedesk serve` as the hub of its own
feeds with real subscriber servers, and as a subscriber of a real outlet's feed and hub."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Server, fresh_postgres, http_server, log_in, make_user, server_env, unique, wait_until

SLOW_SAFETY_POLL_S = 900


# ---- a subscriber ----------------------------------------------------------------------------

@dataclass
class Push:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Subscriber:
    """Real HTTP callbacks: each path confirms (or refuses) what a hub asks, and keeps every push."""

    url: str = ""
    verifications: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # paths that do not confirm
    failures: dict[str, int] = field(default_factory=dict)  # path -> HTTP 500s still to answer (-1: always)
    gone: set[str] = field(default_factory=set)  # paths that answer 410
    held: dict[str, threading.Event] = field(default_factory=dict)  # paths that answer once the event is set

    def callback(self, name: str) -> str:
        return f"{self.url}/{name}"

    def pushes_to(self, name: str) -> list[Push]:
        return [p for p in self.pushes if p.path == "/" + name]

    def verified(self, name: str, mode: str = "subscribe") -> list[dict[str, str]]:
        return [q for path, q in self.verifications if path == "/" + name and q.get("hub.mode") == mode]


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    state = Subscriber()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            state.verifications.append((parts.path, query))
            refused = parts.path in state.refuse
            body = b"no" if refused else query.get("hub.challenge", "").encode()
            self.send_response(404 if refused else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            state.pushes.append(Push(self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.monotonic()))
            if self.path in state.held:
                state.held[self.path].wait(30)
            status = 200
            if self.path in state.gone:
                status = 410
            elif state.failures.get(self.path, 0) != 0:
                state.failures[self.path] -= 1
                status = 500
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    with http_server(Handler) as httpd:
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        yield state


# ---- livedesk nodes ----------------------------------------------------------------------------

def node_env(tmp_path, url: str, **extra: str) -> dict:
    return server_env(
        tmp_path, LIVEDESK_DATABASE_URL=url, LIVEDESK_FETCH_ALLOW_PRIVATE="1", LIVEDESK_WEBSUB_TICK_S="0.2",
        LIVEDESK_WEBSUB_RETRY_S="0.2", LIVEDESK_WEBSUB_ATTEMPTS="3", LIVEDESK_WEBSUB_MIN_LEASE_S="1",
        LIVEDESK_MIN_POLL_INTERVAL_S="1", LIVEDESK_POLL_TICK_S="0.2", LIVEDESK_KEEPALIVE_S="1",
        LIVEDESK_WEBSUB_SAFETY_POLL_S=str(SLOW_SAFETY_POLL_S), **extra,
    )


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Iterator[str]:
    if os.environ.get("LIVEDESK_TEST_DATABASE_URL"):
        with fresh_postgres("websub") as url:
            yield url
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('websub') / 'livedesk.db'}"


def start_node(tmp_path, database: str, log: str) -> Server:
    srv = Server(node_env(tmp_path, database, LIVEDESK_TEST_LOG=str(tmp_path / log)))
    srv.env["LIVEDESK_PUBLIC_URL"] = srv.url  # the address other sites' hubs call back
    return srv.start()


@pytest.fixture(scope="module")
def node(tmp_path_factory, database) -> Iterator[Server]:
    """A real `livedesk serve` that may call loopback callbacks and hubs (as tests need)."""
    srv = start_node(tmp_path_factory.mktemp("node"), database, "node.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def desk(node) -> Iterator[httpx.Client]:
    with node.client(node.token("editor")) as client:
        yield client


def new_event(desk: httpx.Client) -> str:
    slug = unique("surge")
    assert desk.post("/api/events", json={"slug": slug, "title": "Storm surge"}).status_code == 201
    return slug


def subscribe(site: Server, topic: str, callback: str, *, mode: str = "subscribe", **extra: str) -> httpx.Response:
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback, **{f"hub.{k}": v for k, v in extra.items()}}
    with site.client() as anonymous:  # the protocol is open to any site: no token
        return anonymous.post("/websub", data=form)


def subscriptions(desk: httpx.Client) -> dict[str, dict]:
    response = desk.get("/api/websub/subscriptions")
    assert response.status_code == 200, response.text
    return {s["callback"]: s for s in response.json()["subscriptions"]}


def subscribed(node: Server, desk: httpx.Client, topic: str, callback: str, **extra: str) -> dict:
    assert subscribe(node, topic, callback, **extra).status_code == 202
    return wait_until(lambda: subscriptions(desk).get(callback), message="subscription verified and stored")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ---- the hub end ---------------------------------------------------------------------------------

def test_the_feeds_declare_the_hub_in_their_links_and_headers(node, desk):
    slug = new_event(desk)
    hub = f"{node.url}/websub"
    for kind in ("atom.xml", "rss.xml", "feed.json"):
        response = node.get(f"/e/{slug}/{kind}")
        topic = f"{node.url}/e/{slug}/{kind}"
        assert response.headers["link"] == f'<{hub}>; rel="hub", <{topic}>; rel="self"'
        if kind == "feed.json":
            assert response.json()["hubs"] == [{"type": "WebSub", "url": hub}]
            assert response.json()["feed_url"] == topic
        else:
            assert f'href="{hub}" rel="hub"' in response.text and f'href="{topic}" rel="self"' in response.text


def test_a_subscriber_verifies_and_gets_each_post_signed(node, desk, subscriber):
    slug = new_event(desk)
    topic = f"{node.url}/e/{slug}/atom.xml"
    callback = subscriber.callback("signed")
    made = subscribed(node, desk, topic, callback, secret="tide-table-7", lease_seconds="3600")
    assert made["signed"] and made["lease_seconds"] == 3600
    asked = subscriber.verified("signed")[0]
    assert asked["hub.topic"] == topic and asked["hub.lease_seconds"] == "3600" and asked["hub.challenge"]

    desk.post(f"/api/events/{slug}/posts", json={"body": "The surge barrier closes at four."})
    push = wait_until(lambda: subscriber.pushes_to("signed"), message="the post pushed")[0]
    assert b"The surge barrier closes at four." in push.body
    assert push.headers["content-type"].startswith("application/atom+xml")
    assert push.headers["x-hub-signature"] == signature("tide-table-7", push.body)
    assert f'<{topic}>; rel="self"' in push.headers["link"] and f'<{node.url}/websub>; rel="hub"' in push.headers["link"]


def test_the_site_wide_feed_is_pushed_for_every_event_without_a_signature(node, desk, subscriber):
    callback = subscriber.callback("site")
    assert not subscribed(node, desk, f"{node.url}/feed.json", callback)["signed"]
    desk.post(f"/api/events/{new_event(desk)}/posts", json={"body": "Sandbags run short in the lower town."})
    push = wait_until(lambda: [p for p in subscriber.pushes_to("site") if b"Sandbags run short" in p.body])[0]
    assert "x-hub-signature" not in push.headers
    assert push.headers["content-type"].startswith("application/feed+json")


def test_a_callback_that_does_not_confirm_is_not_subscribed(node, desk, subscriber):
    slug = new_event(desk)
    subscriber.refuse.add("/unwilling")
    assert subscribe(node, f"{node.url}/e/{slug}/atom.xml", subscriber.callback("unwilling")).status_code == 202
    wait_until(lambda: subscriber.verified("unwilling"), message="the hub asked the callback")
    subscribed(node, desk, f"{node.url}/e/{slug}/atom.xml", subscriber.callback("willing"))
    assert subscriber.callback("unwilling") not in subscriptions(desk)


def test_unsubscribing_is_verified_too(node, desk, subscriber):
    slug = new_event(desk)
    topic, callback = f"{node.url}/e/{slug}/rss.xml", subscriber.callback("leaving")
    subscribed(node, desk, topic, callback)
    assert subscribe(node, topic, callback, mode="unsubscribe").status_code == 202
    wait_until(lambda: callback not in subscriptions(desk), message="unsubscribed")
    assert subscriber.verified("leaving", "unsubscribe")


def test_leases_expire(node, desk, subscriber):
    slug = new_event(desk)
    callback = subscriber.callback("brief")
    assert subscribed(node, desk, f"{node.url}/e/{slug}/atom.xml", callback, lease_seconds="1")["lease_seconds"] == 1
    wait_until(lambda: callback not in subscriptions(desk), message="the lease ended")


def test_failed_deliveries_are_retried_with_backoff_then_dropped(node, desk, subscriber):
    slug = new_event(desk)
    topic = f"{node.url}/e/{slug}/atom.xml"
    subscriber.failures.update({"/flaky": 2, "/broken": -1})
    subscribed(node, desk, topic, subscriber.callback("flaky"))
    subscribed(node, desk, topic, subscriber.callback("broken"))
    desk.post(f"/api/events/{slug}/posts", json={"body": "Pumps fail at the station."})

    flaky = wait_until(lambda: len(subscriber.pushes_to("flaky")) == 3 and subscriber.pushes_to("flaky"))
    assert all(b"Pumps fail" in p.body for p in flaky)
    # a try is not made before its wait is over: LIVEDESK_WEBSUB_RETRY_S, then twice that
    waits = [later.at - earlier.at for earlier, later in zip(flaky, flaky[1:])]
    assert waits[0] >= 0.2 * 0.95 and waits[1] >= 0.4 * 0.95, waits
    # the broken callback got its three tries (LIVEDESK_WEBSUB_ATTEMPTS) and then nothing is owed
    wait_until(lambda: subscriptions(desk)[subscriber.callback("broken")]["owed"] == 0 and len(subscriber.pushes_to("broken")) == 3)
    assert subscriptions(desk)[subscriber.callback("flaky")]["owed"] == 0


def test_a_callback_that_hangs_does_not_hold_up_the_others(node, desk, subscriber):
    slug = new_event(desk)
    topic = f"{node.url}/e/{slug}/atom.xml"
    subscriber.held["/stuck"] = threading.Event()
    try:
        subscribed(node, desk, topic, subscriber.callback("stuck"))
        subscribed(node, desk, topic, subscriber.callback("quick"))
        for n, text in enumerate(("Ferries stop.", "Ferries resume.")):
            desk.post(f"/api/events/{slug}/posts", json={"body": text})
            wait_until(lambda text=text: any(text.encode() in p.body for p in subscriber.pushes_to("quick")),
                       message=f"post {n} reached the quick callback while the other one hangs")
    finally:  # the stuck callback has not answered its first push until now
        subscriber.held["/stuck"].set()
    wait_until(lambda: any(b"Ferries resume." in p.body for p in subscriber.pushes_to("stuck")))


def test_a_callback_that_answers_gone_ends_its_subscription(node, desk, subscriber):
    slug = new_event(desk)
    subscriber.gone.add("/closed")
    subscribed(node, desk, f"{node.url}/e/{slug}/atom.xml", subscriber.callback("closed"))
    desk.post(f"/api/events/{slug}/posts", json={"body": "Roads reopen."})
    wait_until(lambda: subscriber.callback("closed") not in subscriptions(desk), message="the subscription ended")


@pytest.mark.parametrize("callback", ["http://127.0.0.1:9/cb", "http://10.1.2.3/cb", "http://169.254.169.254/latest",
                                      "http://[::1]:9/cb", "http://[::ffff:192.168.0.1]/cb", "ftp://example.org/cb"])
def test_a_callback_to_a_private_address_is_refused(server, editor, event, callback):
    """On a site whose fetch settings allow no private addresses (the default)."""
    response = subscribe(server, f"http://testserver/e/{event}/atom.xml", callback)
    assert response.status_code == 422 and "hub.callback" in response.json()["error"]
    listed = editor.get("/api/websub/subscriptions").json()["subscriptions"]
    assert callback not in [s["callback"] for s in listed]


@pytest.mark.parametrize(("form", "words"), [
    ({"hub.mode": "publish"}, "hub.mode"),
    ({"hub.topic": "https://elsewhere.example/feed.xml"}, "not a feed of this site"),
    ({"hub.topic": "http://testserver/e/no-such-event-here/atom.xml"}, "names no event"),
    ({"hub.lease_seconds": "soon"}, "whole number"),
    ({"hub.secret": "x" * 200}, "hub.secret"),
])
def test_bad_subscription_requests_get_a_clear_4xx(server, event, form, words):
    request = {"hub.mode": "subscribe", "hub.topic": f"http://testserver/e/{event}/atom.xml",
               "hub.callback": "https://subscriber.example/cb", **form}
    with server.client() as anonymous:
        response = anonymous.post("/websub", data=request)
    assert response.status_code == 422 and words in response.json()["error"]


def test_a_missing_field_is_a_4xx(server):
    with server.client() as anonymous:
        response = anonymous.post("/websub", data={"hub.mode": "subscribe"})
    assert response.status_code == 422 and "hub.topic" in response.json()["error"]


@pytest.mark.slow  # a server process of its own
def test_two_nodes_deliver_each_post_once(tmp_path, node, desk, subscriber, database):
    """A second node on the same database: every post reaches each subscriber once, not once per node."""
    other = start_node(tmp_path, database, "other.log")
    try:
        slug = new_event(desk)
        topic = f"{node.url}/e/{slug}/atom.xml"
        names = [f"twice-{i}" for i in range(3)]
        for name in names:
            subscribed(node, desk, topic, subscriber.callback(name))
        bodies = [f"Gauge {i} reads {i + 3} metres." for i in range(5)]
        with other.client(other.token("editor")) as second:
            for i, body in enumerate(bodies):  # written through both nodes in turn
                (desk if i % 2 else second).post(f"/api/events/{slug}/posts", json={"body": body})
                wait_until(lambda body=body: all(any(body.encode() in p.body for p in subscriber.pushes_to(n)) for n in names),
                           message="every subscriber has the post")
        wait_until(lambda: all(subscriptions(desk)[subscriber.callback(n)]["owed"] == 0 for n in names))
        for name in names:
            assert len(subscriber.pushes_to(name)) == len(bodies)  # nothing sent twice
    finally:
        other.stop()


@pytest.mark.slow  # a server process of its own
def test_feeds_may_declare_another_hub_which_is_told_of_each_post(tmp_path, outlet):
    """LIVEDESK_WEBSUB_HUB names another site's hub: the feeds declare it, and after a post it
    gets a publish ping for each feed that changed (it fetches and pushes them itself)."""
    database = f"sqlite:///{tmp_path / 'pinging.db'}"
    with ExitStack() as stack:
        if os.environ.get("LIVEDESK_TEST_DATABASE_URL"):
            database = stack.enter_context(fresh_postgres("websubping"))
        srv = Server(node_env(tmp_path, database, LIVEDESK_WEBSUB_HUB=f"{outlet.url}/hub",
                              LIVEDESK_TEST_LOG=str(tmp_path / "ping.log")))
        srv.env["LIVEDESK_PUBLIC_URL"] = srv.url
        srv.start()
        stack.callback(srv.stop)
        with srv.client(srv.token("editor")) as desk:
            slug = new_event(desk)
            feed = srv.get(f"/e/{slug}/atom.xml")
            assert f'<{outlet.url}/hub>; rel="hub"' in feed.headers["link"]
            assert f'href="{outlet.url}/hub" rel="hub"' in feed.text
            with srv.client() as anonymous:  # this site is not the hub then
                assert anonymous.post("/websub", data={"hub.mode": "subscribe"}).status_code in (404, 422)
            desk.post(f"/api/events/{slug}/posts", json={"body": "The tide turns at noon."})
            wanted = {f"{srv.url}/e/{slug}/{kind}" for kind in ("atom.xml", "rss.xml", "feed.json")}
            wait_until(lambda: wanted <= {r.get("hub.url") for r in outlet.requests if r.get("hub.mode") == "publish"},
                       message="the hub told of every changed feed of the event")


# ---- the subscriber end ---------------------------------------------------------------------------

@dataclass
class Outlet:
    """Another outlet: an Atom feed that declares its hub, and that hub (a real WebSub hub on
    loopback: it verifies the subscriber's intent and pushes signed content)."""

    url: str = ""
    entries: list[tuple[str, str]] = field(default_factory=list)  # (id, text), newest first
    lease_seconds: int = 3600
    requests: list[dict[str, str]] = field(default_factory=list)
    confirmed: list[dict[str, str]] = field(default_factory=list)
    polls: int = 0

    @property
    def feed_url(self) -> str:
        return self.url + "/feed.xml"

    def feed(self) -> bytes:
        items = "".join(
            f"<entry><id>urn:harbour:{key}</id><title>{text}</title><updated>2026-12-04T09:{i:02d}:00Z</updated>"
            f"<content type='text'>{text}</content></entry>"
            for i, (key, text) in enumerate(reversed(self.entries))
        )
        return (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<id>urn:harbour:live</id><title>Harbour Courier live</title><updated>2026-12-04T10:00:00Z</updated>"
            f"<link rel='hub' href='{self.url}/hub'/><link rel='self' href='{self.feed_url}'/>{items}</feed>"
        ).encode()

    def push(self, body: bytes | None = None, secret: str | None = None) -> httpx.Response:
        """Send the feed to the subscriber's callback, signed with its secret (or another)."""
        asked = self.confirmed[-1]
        body = body or self.feed()
        headers = {"Content-Type": "application/atom+xml",
                   "X-Hub-Signature": signature(secret or asked["hub.secret"], body)}
        return httpx.post(asked["hub.callback"], content=body, headers=headers, timeout=15)


@pytest.fixture
def outlet() -> Iterator[Outlet]:
    state = Outlet()

    def verify(form: dict[str, str]) -> None:
        challenge = unique("challenge")
        query = urlencode({"hub.mode": "subscribe", "hub.topic": form["hub.topic"], "hub.challenge": challenge,
                           "hub.lease_seconds": str(state.lease_seconds)})
        answer = httpx.get(f"{form['hub.callback']}?{query}", timeout=15)
        if answer.status_code == 200 and answer.text == challenge:
            state.confirmed.append(form)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path != "/feed.xml":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            state.polls += 1
            body = state.feed()
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            state.requests.append(form)
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            if form.get("hub.mode") == "subscribe":  # intent is verified after the 202
                threading.Thread(target=verify, args=(form,), daemon=True).start()

    with http_server(Handler) as httpd:
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        state.entries.append(("1", "The harbour wall holds for now."))
        yield state


def follow(desk: httpx.Client, outlet: Outlet) -> tuple[str, int]:
    slug = new_event(desk)
    made = desk.post(f"/api/events/{slug}/sources", json={"url": outlet.feed_url, "outlet": "Harbour Courier",
                                                          "poll_interval": 2})
    assert made.status_code == 201, made.text
    return slug, made.json()["id"]


def source(desk: httpx.Client, slug: str, source_id: int) -> dict:
    return next(s for s in desk.get(f"/api/events/{slug}/sources").json()["sources"] if s["id"] == source_id)


def bodies(desk: httpx.Client, slug: str) -> list[str]:
    return [f"{p['headline'] or ''} {p['body']}" for p in desk.get(f"/api/events/{slug}/posts").json()["posts"]]


def test_following_a_feed_with_a_hub_subscribes_and_takes_its_pushes(node, desk, outlet):
    slug, source_id = follow(desk, outlet)
    wait_until(lambda: outlet.confirmed, message="livedesk subscribed and confirmed")
    asked = outlet.confirmed[0]
    assert asked["hub.mode"] == "subscribe" and asked["hub.topic"] == outlet.feed_url
    assert asked["hub.callback"].startswith(f"{node.url}/websub/callback/") and len(asked["hub.secret"]) >= 32
    push_state = wait_until(lambda: source(desk, slug, source_id)["push"]["state"] == "active" and source(desk, slug, source_id))
    assert push_state["push"]["hub"] == f"{outlet.url}/hub"
    assert "The harbour wall holds for now." in " ".join(bodies(desk, slug))  # the first poll's posts

    # the safety net: while the hub pushes, the source is still polled, slowly
    wait_until(lambda: _seconds_between(source(desk, slug, source_id)["last_fetch_at"],
                                        source(desk, slug, source_id)["next_poll_at"]) >= SLOW_SAFETY_POLL_S - 5)
    newer = Outlet(outlet.url, [("2", "Water tops the harbour wall at the ferry ramp."), *outlet.entries]).feed()
    assert outlet.push(newer).status_code == 202  # only the push carries this post: the feed does not
    wait_until(lambda: any("ferry ramp" in b for b in bodies(desk, slug)), message="the pushed post stored")
    pushed = source(desk, slug, source_id)
    assert pushed["push"]["last_push_at"] and pushed["push"]["last_error"] is None


def _seconds_between(start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()


def test_a_push_with_a_wrong_signature_is_ignored(node, desk, outlet):
    slug, source_id = follow(desk, outlet)
    wait_until(lambda: outlet.confirmed)
    wait_until(lambda: source(desk, slug, source_id)["push"]["state"] == "active")
    forged = Outlet(outlet.url, [("3", "Forged: the harbour is closed for a week."), *outlet.entries]).feed()
    assert outlet.push(forged, secret="not-the-secret").status_code == 202  # acknowledged, as WebSub allows
    wait_until(lambda: "signature" in (source(desk, slug, source_id)["push"]["last_error"] or "").lower())
    assert not any("Forged" in b for b in bodies(desk, slug))
    outlet.push(Outlet(outlet.url, [("3", "The ferry ramp reopens at noon."), *outlet.entries]).feed())
    wait_until(lambda: any("ferry ramp reopens" in b for b in bodies(desk, slug)))


def test_a_push_to_an_unknown_callback_is_gone(node):
    response = httpx.post(f"{node.url}/websub/callback/{unique('nobody')}", content=b"<feed/>", timeout=15)
    assert response.status_code == 410 and response.json()["error"]


def test_a_verification_nobody_asked_for_is_refused(node):
    with node.client() as client:
        response = client.get(f"/websub/callback/{unique('nobody')}",
                              params={"hub.mode": "subscribe", "hub.topic": "https://x.example/f", "hub.challenge": "c"})
    assert response.status_code == 404


def test_the_lease_is_renewed_before_it_ends(node, desk, outlet):
    outlet.lease_seconds = 3
    _slug, _source_id = follow(desk, outlet)
    wait_until(lambda: len(outlet.confirmed) >= 2, timeout=15, message="a second subscription before the lease ended")
    first, renewal = outlet.confirmed[0], outlet.confirmed[1]
    assert renewal["hub.callback"] == first["hub.callback"] and renewal["hub.secret"] == first["hub.secret"]


# ---- in Chromium -----------------------------------------------------------------------------------

def test_a_websub_subscriber_receiving_a_post(node, desk, subscriber, browser: Browser):
    """An editor publishes in the desk; the subscriber's callback receives the post, signed."""
    slug = new_event(desk)
    subscribed(node, desk, f"{node.url}/e/{slug}/rss.xml", subscriber.callback("newsroom"), secret="quay-light")
    with ExitStack() as stack:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        stack.callback(context.close)
        page = context.new_page()
        log_in(page, node, make_user(node, "editor"), PASSWORD)
        page.goto(f"{node.url}/desk/e/{slug}")
        page.fill("#f-body", "Lifeboats launch from the north slip.")
        page.click("#publish")
        expect(page.locator(".notice")).to_contain_text("ublished")
    push = wait_until(lambda: [p for p in subscriber.pushes_to("newsroom") if b"Lifeboats launch" in p.body],
                      message="the subscriber received the post")[0]
    assert push.headers["x-hub-signature"] == signature("quay-light", push.body)
