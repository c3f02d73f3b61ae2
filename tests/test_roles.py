"""Every write route of the JSON API, called by every role and anonymously, on a real server.

The table must name each non-GET route under /api: a new write route fails the test until
someone decides who may call it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from conftest import unique, wait_until
from livedesk.web.app import create_app

ROLES = ("admin", "editor", "contributor", "reader")
WHO = (*ROLES, "anonymous", "cookie-without-csrf")


def by_role(admin: int, editor: int, contributor: int, reader: int) -> dict[str, int]:
    """Expected statuses; anonymous callers always get 401, cookie writes without CSRF 403."""
    return {"admin": admin, "editor": editor, "contributor": contributor, "reader": reader,
            "anonymous": 401, "cookie-without-csrf": 403}


EDITORS_ONLY = by_role(200, 200, 403, 403)


@dataclass
class Target:
    """What a route acts on, made fresh for each call by an editor."""

    slug: str
    post_id: str = ""
    source_id: int = 0


@dataclass
class Route:
    method: str
    path: str
    expect: dict[str, int]
    body: Callable[[], dict] | None = None
    needs: str = "event"  # event | published | pending | source
    files: Callable[[], dict] | None = None  # a multipart upload instead of a JSON body


def small_png() -> dict:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 160)).save(out, "PNG")
    return {"file": ("gauge.png", out.getvalue(), "image/png")}


ROUTES = [
    Route("POST", "/api/events", by_role(201, 201, 403, 403), lambda: {"slug": unique("role"), "title": "Tide gauge failure"}),
    Route("PATCH", "/api/events/{slug}", EDITORS_ONLY, lambda: {"standfirst": "Gauges on the north pier stopped at dawn."}),
    Route("POST", "/api/events/{slug}/posts", by_role(201, 201, 201, 403), lambda: {"body": "Water is rising at the pier."}),
    Route("PATCH", "/api/events/{slug}/posts/{post_id}", EDITORS_ONLY, lambda: {"body": "Water rose 40 cm."}, "published"),
    Route("DELETE", "/api/events/{slug}/posts/{post_id}", by_role(204, 204, 403, 403), None, "published"),
    Route("POST", "/api/events/{slug}/posts/{post_id}/pin", EDITORS_ONLY, None, "published"),
    Route("POST", "/api/events/{slug}/posts/{post_id}/unpin", EDITORS_ONLY, None, "published"),
    Route("POST", "/api/events/{slug}/posts/{post_id}/key-event", EDITORS_ONLY, lambda: {"key_event": True}, "published"),
    Route("POST", "/api/events/{slug}/posts/{post_id}/approve", EDITORS_ONLY, None, "pending"),
    Route("POST", "/api/events/{slug}/sources", by_role(201, 201, 403, 403),
          lambda: {"url": f"https://news.example.org/live/{unique('gauge')}", "outlet": "Pier Gazette"}),
    Route("DELETE", "/api/events/{slug}/sources/{source_id}", by_role(204, 204, 403, 403), None, "source"),
    Route("POST", "/api/events/{slug}/keypoints/accept", EDITORS_ONLY, lambda: {"text": "Ferries resume at noon."}),
    Route("POST", "/api/media", by_role(201, 201, 201, 403), files=small_png),
    Route("POST", "/api/embeds", by_role(200, 200, 200, 403), lambda: {"url": "https://vimeo.com/76979871"}),
]


def write_routes() -> set[tuple[str, str]]:
    """(method, path) of every non-GET route under /api, as the app builds them."""

    def walk(routes):
        for route in routes:
            if hasattr(route, "effective_route_contexts"):  # an included router
                for context in route.effective_route_contexts():
                    yield context.path, context.methods
            elif hasattr(route, "methods"):
                yield route.path, route.methods

    return {
        (method, path)
        for path, methods in walk(create_app().routes)
        if path.startswith("/api")
        for method in methods or ()
        if method not in ("GET", "HEAD", "OPTIONS")
    }


def test_every_write_route_is_in_the_table():
    assert ("POST", "/api/events") in write_routes()  # the route walk sees the API at all
    missing = write_routes() - {(r.method, r.path) for r in ROUTES}
    assert not missing, f"add these write routes to the roles table: {sorted(missing)}"


@pytest.fixture(scope="module")
def tokens(server) -> dict[str, str]:
    return {role: server.token(role) for role in ROLES}


@pytest.fixture(scope="module")
def setup(server, tokens) -> httpx.Client:
    with server.client(tokens["editor"]) as client:
        yield client


def make_target(server, tokens, setup: httpx.Client, needs: str) -> Target:
    slug = unique("roles")
    assert setup.post("/api/events", json={"slug": slug, "title": "Tide gauges"}).status_code == 201
    target = Target(slug)
    if needs == "published":
        target.post_id = setup.post(f"/api/events/{slug}/posts", json={"body": "Gauges are down."}).json()["id"]
    elif needs == "pending":
        with server.client(tokens["contributor"]) as contributor:
            post = contributor.post(f"/api/events/{slug}/posts", json={"body": "Gauges are back."}).json()
        assert post["status"] == "pending"
        target.post_id = post["id"]
    elif needs == "source":
        response = setup.post(f"/api/events/{slug}/sources", json={"url": f"https://news.example.org/{unique('s')}"})
        assert response.status_code == 201, response.text
        target.source_id = response.json()["id"]
    return target


def call(server, tokens, who: str, route: Route, target: Target) -> httpx.Response:
    headers, cookies = {}, {}
    if who in ROLES:
        headers["Authorization"] = f"Bearer {tokens[who]}"
    elif who == "cookie-without-csrf":
        cookies["livedesk_session"] = tokens["editor"]  # a valid session, but a forged request
    path = route.path.format(slug=target.slug, post_id=target.post_id, source_id=target.source_id)
    with server.client(headers=headers, cookies=cookies) as client:
        if route.files:
            return client.request(route.method, path, files=route.files())
        return client.request(route.method, path, json=route.body() if route.body else None)


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_write_route_by_role(server, tokens, setup, route: Route, who: str):
    if (route.method, route.path) not in write_routes():
        pytest.skip("this route is not in the app")
    target = make_target(server, tokens, setup, route.needs)
    response = call(server, tokens, who, route, target)
    assert response.status_code == route.expect[who], response.text
    if response.status_code >= 400:
        assert response.json()["error"]  # a clear message, never a traceback
    if route.path.endswith("/posts") and response.status_code == 201:
        expected = "pending" if who == "contributor" else "published"
        assert response.json()["status"] == expected  # contributors cannot publish


def test_contributors_cannot_publish_even_when_they_ask(server, tokens, setup):
    slug = make_target(server, tokens, setup, "event").slug
    with server.client(tokens["contributor"]) as contributor:
        post = contributor.post(f"/api/events/{slug}/posts", json={"body": "Pier closed.", "status": "published"}).json()
        assert post["status"] == "pending"
        own = f"/api/events/{slug}/posts/{post['id']}"
        edited = contributor.patch(own, json={"body": "North pier closed.", "status": "published"})
        assert edited.status_code == 200 and edited.json()["status"] == "pending"
        assert contributor.post(own + "/approve").status_code == 403
        assert contributor.post(own + "/pin").status_code == 403
    assert setup.post(own + "/approve").json()["status"] == "published"
    with server.client(tokens["contributor"]) as contributor:
        assert contributor.patch(own, json={"body": "changed after publishing"}).status_code == 403
        assert contributor.delete(own).status_code == 403


def test_cookie_writes_pass_with_the_csrf_header(server, tokens):
    """The desk's own fetch calls: the session cookie plus the page's CSRF token."""
    with server.client() as client:
        client.cookies.set("livedesk_session", tokens["editor"])
        login = server.get("/desk", cookies={"livedesk_session": tokens["editor"]})
        csrf = login.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        slug = unique("cookie")
        assert client.post("/api/events", json={"slug": slug, "title": "t"}).status_code == 403
        made = client.post("/api/events", json={"slug": slug, "title": "t"}, headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201
        wrong = client.post("/api/events", json={"slug": unique("c"), "title": "t"}, headers={"X-CSRF-Token": csrf[::-1]})
        assert wrong.status_code == 403


def hidden_from(server, token: str | None, slug: str, post_ids: list[str], word: str) -> None:
    """Assert that a reader (token) or anonymous caller sees none of the posts anywhere."""
    with server.client(token) as client:
        listed = [p["id"] for p in client.get(f"/api/events/{slug}/posts", params={"limit": 100}).json()["posts"]]
        assert not set(post_ids) & set(listed)
        for status in ("draft", "pending", "scheduled"):
            assert client.get(f"/api/events/{slug}/posts", params={"status": status}).status_code == 404
        for post_id in post_ids:
            assert client.get(f"/api/events/{slug}/posts/{post_id}").status_code == 404
        assert client.get("/api/search", params={"q": word}).json()["total"] == 0
        for page in (f"/e/{slug}", f"/e/{slug}/feed.json", "/feed.json"):
            response = client.get(page)
            if response.status_code == 200:  # pages and feeds, where they exist
                assert word not in response.text


def test_readers_never_see_drafts_or_scheduled_posts_early(server, tokens, setup):
    slug = make_target(server, tokens, setup, "event").slug
    word = "zephyrgauge" + unique("w").split("-")[1]
    soon = datetime.now(UTC) + timedelta(seconds=4)
    later = datetime.now(UTC) + timedelta(days=1)
    posts = setup.post
    draft = posts(f"/api/events/{slug}/posts", json={"body": f"Draft {word}", "status": "draft"}).json()
    scheduled = posts(f"/api/events/{slug}/posts", json={"body": f"Later {word}", "published_at": later.isoformat()}).json()
    due = posts(f"/api/events/{slug}/posts", json={"body": f"Soon {word}", "published_at": soon.isoformat()}).json()
    with server.client(tokens["contributor"]) as contributor:
        pending = contributor.post(f"/api/events/{slug}/posts", json={"body": f"Pending {word}"}).json()
    assert (draft["status"], scheduled["status"], due["status"], pending["status"]) == ("draft", "scheduled", "scheduled", "pending")
    hidden = [draft["id"], scheduled["id"], due["id"], pending["id"]]
    for token in (tokens["reader"], None):
        hidden_from(server, token, slug, hidden, word)

    listed = wait_until(lambda: [p["id"] for p in server.get(f"/api/events/{slug}/posts").json()["posts"]], timeout=15,
                        message="a public post")  # once its time comes, the scheduled post is public
    assert listed == [due["id"]]
    assert datetime.now(UTC) >= soon


def test_contributors_see_only_their_own_unpublished_posts(server, tokens, setup):
    slug = make_target(server, tokens, setup, "event").slug
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    others = {
        "draft": setup.post(f"/api/events/{slug}/posts", json={"body": "Editor's draft", "status": "draft"}).json()["id"],
        "scheduled": setup.post(f"/api/events/{slug}/posts", json={"body": "Embargoed", "published_at": later}).json()["id"],
    }
    with server.client(server.token("contributor")) as someone_else:
        others["pending"] = someone_else.post(f"/api/events/{slug}/posts", json={"body": "Theirs"}).json()["id"]
    with server.client(tokens["contributor"]) as contributor:
        mine = {
            "draft": contributor.post(f"/api/events/{slug}/posts", json={"body": "My draft", "status": "draft"}).json()["id"],
            "pending": contributor.post(f"/api/events/{slug}/posts", json={"body": "Mine"}).json()["id"],
        }
        for status in ("draft", "scheduled", "pending"):
            response = contributor.get(f"/api/events/{slug}/posts", params={"status": status})
            assert response.status_code == 200
            assert [p["id"] for p in response.json()["posts"]] == ([mine[status]] if status in mine else [])
        for post_id in others.values():
            assert contributor.get(f"/api/events/{slug}/posts/{post_id}").status_code == 404
        for post_id in mine.values():
            assert contributor.get(f"/api/events/{slug}/posts/{post_id}").status_code == 200
    for status, post_id in others.items():  # an editor still sees everyone's
        listed = [p["id"] for p in setup.get(f"/api/events/{slug}/posts", params={"status": status}).json()["posts"]]
        assert post_id in listed
        assert setup.get(f"/api/events/{slug}/posts/{post_id}").status_code == 200


def test_readers_cannot_list_sources(server, tokens, setup):
    target = make_target(server, tokens, setup, "source")
    with server.client(tokens["reader"]) as reader:
        response = reader.get(f"/api/events/{target.slug}/sources")
    assert response.status_code == 403
    assert "reader" in response.json()["error"]
    for role in ("editor", "contributor"):
        with server.client(tokens[role]) as client:
            listed = client.get(f"/api/events/{target.slug}/sources").json()["sources"]
        assert [s["id"] for s in listed] == [target.source_id]


@pytest.mark.parametrize("who", WHO)
def test_websub_subscriptions_are_listed_to_editors_only(server, tokens, who: str):
    headers, cookies = {}, {}
    if who in ROLES:
        headers["Authorization"] = f"Bearer {tokens[who]}"
    elif who == "cookie-without-csrf":
        cookies["livedesk_session"] = tokens["editor"]  # a read: no CSRF header needed
    with server.client(headers=headers, cookies=cookies) as client:
        response = client.get("/api/websub/subscriptions")
    expected = {"admin": 200, "editor": 200, "contributor": 403, "reader": 403, "anonymous": 401, "cookie-without-csrf": 200}
    assert response.status_code == expected[who], response.text


@pytest.mark.parametrize("who", WHO)
def test_websub_protocol_routes_answer_every_caller_alike(server, tokens, setup, who: str):
    """The hub and the callback are W3C WebSub endpoints that other sites call without a token:
    no role opens more of them, and a private callback is refused whoever asks."""
    slug = make_target(server, tokens, setup, "event").slug
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who in ROLES else {}
    cookies = {"livedesk_session": tokens["editor"]} if who == "cookie-without-csrf" else {}
    with server.client(headers=headers, cookies=cookies) as client:
        hub = client.post("/websub", data={"hub.mode": "subscribe", "hub.topic": f"http://testserver/e/{slug}/atom.xml",
                                          "hub.callback": "http://127.0.0.1:9/cb"})
        push = client.post(f"/websub/callback/{unique('nobody')}", content=b"<feed/>")
        verify = client.get(f"/websub/callback/{unique('nobody')}", params={"hub.mode": "subscribe", "hub.topic": "t"})
    assert (hub.status_code, push.status_code, verify.status_code) == (422, 410, 404)
    assert "private" in hub.json()["error"]


# ---- the desk issue's routes: in OpenAPI, and who may call them ---------------------------------

DESK_ISSUE_ROUTES = {
    "/api/media": {"post"}, "/media/{name}": {"get"}, "/api/embeds": {"post"}, "/embed/player/{provider}": {"get"},
    "/api/events/{slug}/readers": {"get"}, "/desk/e/{slug}/presence": {"post"}, "/desk/e/{slug}/presence/stream": {"get"},
    "/websub": {"post"}, "/websub/callback/{token}": {"get", "post"}, "/api/websub/subscriptions": {"get"},
}


def test_the_desk_routes_are_in_openapi(server):
    paths = server.get("/openapi.json").json()["paths"]
    for path, methods in DESK_ISSUE_ROUTES.items():
        assert path in paths and methods <= set(paths[path]), path
        for method in methods:
            assert paths[path][method].get("summary"), (path, method)


@pytest.mark.parametrize("who", WHO)
def test_desk_presence_is_for_desk_roles_with_the_csrf_header(server, tokens, setup, who: str):
    slug = make_target(server, tokens, setup, "event").slug
    token = tokens[who] if who in ROLES else tokens["editor"] if who == "cookie-without-csrf" else None
    with server.client(follow_redirects=False) as client:
        headers = {}
        if token:
            client.cookies.set("livedesk_session", token)
            page = client.get("/desk")
            if who != "cookie-without-csrf" and 'name="csrf-token" content="' in page.text:
                headers["X-CSRF-Token"] = page.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        told = client.post(f"/desk/e/{slug}/presence", json={"state": "online"}, headers=headers)
    expected = {"admin": 200, "editor": 200, "contributor": 200, "reader": 403, "cookie-without-csrf": 403}
    if who == "anonymous":
        assert told.status_code in (303, 401) and told.status_code != 200  # sent to sign in
    else:
        assert told.status_code == expected[who], told.text


@pytest.mark.parametrize("who", WHO)
def test_photos_and_players_are_public_reads_alike_for_every_caller(server, tokens, setup, who: str):
    item = setup.post("/api/media", files=small_png()).json()
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who in ROLES else {}
    cookies = {"livedesk_session": tokens["editor"]} if who == "cookie-without-csrf" else {}
    with server.client(headers=headers, cookies=cookies) as client:
        photo = client.get(item["url"])
        player = client.get("/embed/player/youtube", params={"url": "https://youtu.be/dQw4w9WgXcQ"})
    assert (photo.status_code, player.status_code) == (200, 200)
    assert "frame-src https://www.youtube-nocookie.com;" in player.headers["content-security-policy"]
