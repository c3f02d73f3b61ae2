"""Schemathesis against the live server's /openapi.json: no route answers 5xx.

Every operation is fuzzed with valid and invalid data twice: anonymously (random slugs, mostly
401/404/422), and with an editor's token aimed at a real event and a fresh real post, so the
writes get past the lookups. The streaming routes never end, so they are fuzzed separately.
"""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from conftest import unique

EXAMPLES = 12  # per operation and mode: a couple of minutes on two cores

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(live_server):
    """Schemathesis and the streams speak HTTP to a real socket: the session's real server."""
    return live_server


@pytest.fixture(scope="module")
def operations(server) -> list:
    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10
    return [op for op in found if not op.path.endswith("/stream")]


@pytest.fixture(scope="module")
def target(server, editor) -> dict:
    slug = unique("fuzz")
    assert editor.post("/api/events", json={"slug": slug, "title": "Fuzz target"}).status_code == 201
    return {"slug": slug, "token": server.token("editor")}


def fuzz(operation, send) -> list[str]:
    """Run `send(case)` on generated cases; returns the 5xx answers as readable lines."""
    errors: list[str] = []
    strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    @given(case=strategy)
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        response = send(case)
        if response.status_code >= 500:
            errors.append(f"{operation.label} -> {response.status_code}: {case.as_curl_command()}")

    run()
    return errors


def test_anonymous_gets_no_5xx(server, operations):
    errors = [e for op in operations for e in fuzz(op, lambda case: case.call(base_url=server.url, timeout=15))]
    assert errors == []


def test_editor_gets_no_5xx(server, operations, target):
    headers = {"Authorization": f"Bearer {target['token']}"}

    def send(case):
        params = case.path_parameters if case.path_parameters is not None else {}
        if "slug" in params:
            params["slug"] = target["slug"]
        if "post_id" in params:
            fresh = httpx.post(f"{server.url}/api/events/{target['slug']}/posts", json={"body": "fuzz me"},
                               headers=headers, timeout=15)
            params["post_id"] = fresh.json()["id"]
        return case.call(base_url=server.url, headers=headers, timeout=15)

    errors = [e for op in operations for e in fuzz(op, send)]
    assert errors == []


HEADER_VALUES = st.one_of(st.text(max_size=40), st.integers().map(str), st.sampled_from(["", "-1", "0", "1e9", "１２"]))


@given(last_event_id=HEADER_VALUES, since=HEADER_VALUES)
@settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_streams_take_any_last_event_id(server, target, last_event_id, since):
    headers = {}
    if last_event_id.isprintable() and last_event_id.isascii():
        headers["Last-Event-ID"] = last_event_id
    for path in (f"/api/events/{target['slug']}/stream", "/api/stream"):
        with httpx.stream("GET", server.url + path, params={"since": since}, headers=headers, timeout=10) as response:
            assert response.status_code in (200, 422), response.status_code


# ---- the pages, feeds and desk are outside the OpenAPI schema: the same rule holds there --------

JUNK = st.one_of(st.text(max_size=60), st.sampled_from(["", "0", "-1", "99999999999999999999", "2026-02-30", "oldest",
                                                        "own", "%00", "../..", "AAAA", "\u202e", "<b>"]))
PAGE_PATHS = ["/", "/e/{slug}", "/embed/{slug}", "/e/{slug}/more", "/e/{slug}/p/{junk}", "/topics", "/topics/{junk}",
              "/search", "/e/{slug}/rss.xml", "/e/{slug}/atom.xml", "/e/{slug}/feed.json", "/rss.xml", "/atom.xml",
              "/feed.json", "/tools/currency", "/desk/login", "/desk", "/desk/e/{slug}", "/e/{junk}", "/embed/{junk}"]
PARAMS = st.dictionaries(st.sampled_from(["q", "before", "after", "topic", "order", "outlets", "page", "day", "event",
                                          "outlet", "embed", "amount", "from", "to", "next"]), JUNK, max_size=5)


FORM = st.dictionaries(st.sampled_from(["csrf", "name", "password", "token", "body", "headline", "title", "slug",
                                       "status", "text", "published_at", "tz", "next", "key_points"]), JUNK, max_size=6)
DESK_POSTS = ["/desk/login", "/desk/logout", "/desk/events", "/desk/e/{slug}/status", "/desk/e/{slug}/key-points",
              "/desk/e/{slug}/posts", "/desk/e/{slug}/posts/{junk}/edit", "/desk/e/{slug}/posts/{junk}/pin",
              "/desk/preview"]
FUZZ_PAGES = settings(max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def request_without_5xx(server, target, method: str, path: str, junk: str, signed_in: bool, **options) -> None:
    url = server.url + path.format(slug=target["slug"], junk=quote(junk, safe="") or "x")
    cookies = {"livedesk_session": target["token"]} if signed_in else {}
    response = httpx.request(method, url, cookies=cookies, timeout=15, follow_redirects=False, **options)
    assert response.status_code < 500, f"{response.status_code} for {method} {response.request.url} {options}"


@given(path=st.sampled_from(PAGE_PATHS), junk=JUNK, params=PARAMS, signed_in=st.booleans())
@FUZZ_PAGES
def test_pages_and_feeds_get_no_5xx(server, target, path, junk, params, signed_in):
    request_without_5xx(server, target, "GET", path, junk, signed_in, params=params)


@given(path=st.sampled_from(DESK_POSTS), junk=JUNK, form=FORM, signed_in=st.booleans())
@FUZZ_PAGES
def test_desk_forms_get_no_5xx(server, target, path, junk, form, signed_in):
    request_without_5xx(server, target, "POST", path, junk, signed_in, data=form)
