"""The JSON API against a real server process and a real database."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import Server, server_env, unique, wait_until


def post(client: httpx.Client, slug: str, **data) -> dict:
    response = client.post(f"/api/events/{slug}/posts", json={"body": "text", **data})
    assert response.status_code == 201, response.text
    return response.json()


def listed_ids(client: httpx.Client, slug: str, **params) -> list[str]:
    response = client.get(f"/api/events/{slug}/posts", params=params)
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["posts"]]


def test_event_routes(server, editor):
    slug = unique("summit")
    created = editor.post("/api/events", json={
        "slug": slug, "title": "Harbour talks", "standfirst": "Two leaders meet.", "topics": ["politics"],
        "links": [{"url": "https://example.org/background", "title": "Background"}],
        "lead_media": {"kind": "image", "url": "/static/x.svg", "caption": "The pier", "credit": "Desk"},
    })
    assert created.status_code == 201
    assert created.json()["status"] == "live"
    assert slug in [e["slug"] for e in server.get("/api/events").json()["events"]]
    one = server.get(f"/api/events/{slug}").json()
    assert one["title"] == "Harbour talks" and one["lead_media"]["credit"] == "Desk"
    patched = editor.patch(f"/api/events/{slug}", json={"status": "ended", "key_points": [{"text": "Talks ended"}]})
    assert patched.status_code == 200
    assert patched.json()["status"] == "ended" and patched.json()["coverage_end"]
    assert patched.json()["key_points"] == [{"text": "Talks ended", "post_id": None}]


def test_event_errors(server, editor):
    assert editor.post("/api/events", json={"slug": "Bad Slug!", "title": "x"}).status_code == 422
    assert editor.post("/api/events", json={"title": "no slug"}).status_code == 422
    slug = unique("dup")
    assert editor.post("/api/events", json={"slug": slug, "title": "x"}).status_code == 201
    again = editor.post("/api/events", json={"slug": slug, "title": "x"})
    assert again.status_code == 422 and "exists" in again.json()["error"]
    missing = server.get("/api/events/no-such-event")
    assert missing.status_code == 404 and "no-such-event" in missing.json()["error"]
    assert editor.patch("/api/events/no-such-event", json={"title": "x"}).status_code == 404


def test_roles(server, event):
    anonymous = server.client()
    no_token = anonymous.post(f"/api/events/{event}/posts", json={"body": "x"})
    assert no_token.status_code == 401 and no_token.json()["error"]
    wrong = server.client("ld_not-a-real-token").post(f"/api/events/{event}/posts", json={"body": "x"})
    assert wrong.status_code == 401
    reader = server.client(server.token("reader"))
    assert reader.post(f"/api/events/{event}/posts", json={"body": "x"}).status_code == 403
    contributor = server.client(server.token("contributor"))
    assert contributor.post("/api/events", json={"slug": unique("c"), "title": "x"}).status_code == 403
    pending = post(contributor, event, body="from the field")
    assert pending["status"] == "pending"
    assert pending["id"] not in listed_ids(anonymous, event)
    assert contributor.post(f"/api/events/{event}/posts/{pending['id']}/approve").status_code == 403
    assert contributor.post(f"/api/events/{event}/posts/{pending['id']}/pin").status_code == 403
    editor = server.client(server.token("editor"))
    approved = editor.post(f"/api/events/{event}/posts/{pending['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "published"
    assert pending["id"] in listed_ids(anonymous, event)
    assert contributor.patch(f"/api/events/{event}/posts/{pending['id']}", json={"body": "changed"}).status_code == 403
    admin = server.client(server.token("admin"))
    assert admin.post("/api/events", json={"slug": unique("adm"), "title": "x"}).status_code == 201


def test_posts_paging_order_pinned_topic_and_search(server, editor, event):
    ids = [post(editor, event, body=f"update number {i} about the ferry", topics=["ferry"] if i % 2 else ["talks"])["id"] for i in range(7)]
    pinned = ids[1]
    assert editor.post(f"/api/events/{event}/posts/{pinned}/pin").json()["pinned"] is True
    anonymous = server.client()
    first = anonymous.get(f"/api/events/{event}/posts", params={"limit": 3}).json()
    assert first["posts"][0]["id"] == pinned
    assert [p["id"] for p in first["posts"][1:]] == [ids[6], ids[5], ids[4]]
    second = anonymous.get(f"/api/events/{event}/posts", params={"limit": 3, "before": first["next"]}).json()
    assert [p["id"] for p in second["posts"]] == [ids[3], ids[2], ids[0]]
    assert second["next"] is None
    oldest = listed_ids(anonymous, event, order="oldest", limit=100)
    assert oldest == ids
    after = anonymous.get(f"/api/events/{event}/posts", params={"order": "oldest", "limit": 2}).json()
    assert listed_ids(anonymous, event, order="oldest", after=after["next"], limit=2) == ids[2:4]
    assert set(listed_ids(anonymous, event, topic="ferry")) == {ids[1], ids[3], ids[5]}
    assert listed_ids(anonymous, event, q="number 4") == [ids[4]]
    assert listed_ids(anonymous, event, q="numb") and listed_ids(anonymous, event, q="zzzz") == []
    assert editor.post(f"/api/events/{event}/posts/{pinned}/unpin").json()["pinned"] is False
    assert listed_ids(anonymous, event, limit=1) == [ids[6]]


def test_list_errors(server, event):
    client = server.client()
    assert client.get(f"/api/events/{event}/posts", params={"limit": 101}).status_code == 422
    bad = client.get(f"/api/events/{event}/posts", params={"before": "garbage!!"})
    assert bad.status_code == 400 and "cursor" in bad.json()["error"]
    assert client.get(f"/api/events/{event}/posts", params={"order": "sideways"}).status_code == 422
    assert client.get("/api/events/nope/posts").status_code == 404


def test_edit_with_correction_keeps_history(server, editor, event):
    original = post(editor, event, body="The ferry leaves at **nine**.", headline="Ferry")
    edited = editor.patch(f"/api/events/{event}/posts/{original['id']}", json={"body": "The ferry leaves at ten.", "correction": "We first gave the wrong time."})
    assert edited.status_code == 200
    data = edited.json()
    assert data["version"] == 2 and data["corrected_at"] and data["correction_note"] == "We first gave the wrong time."
    full = server.client().get(f"/api/events/{event}/posts/{original['id']}").json()
    assert full["history"][0]["body"] == "The ferry leaves at **nine**."
    assert full["history"][0]["note"] == "We first gave the wrong time."
    assert "<strong>nine</strong>" in full["history"][0]["body_html"]
    marked = editor.post(f"/api/events/{event}/posts/{original['id']}/key-event", json={"key_event": True})
    assert marked.json()["key_event"] is True
    assert editor.patch(f"/api/events/{event}/posts/nope", json={"body": "x"}).status_code == 404


def test_delete(server, editor, event):
    doomed = post(editor, event)
    assert editor.delete(f"/api/events/{event}/posts/{doomed['id']}").status_code == 204
    assert doomed["id"] not in listed_ids(server.client(), event)
    assert server.client().get(f"/api/events/{event}/posts/{doomed['id']}").status_code == 404
    assert editor.delete(f"/api/events/{event}/posts/{doomed['id']}").status_code == 404


def test_drafts_are_hidden_from_readers(server, editor, event):
    draft = post(editor, event, body="not yet", status="draft")
    assert draft["status"] == "draft"
    assert draft["id"] not in listed_ids(server.client(), event)
    assert server.client().get(f"/api/events/{event}/posts/{draft['id']}").status_code == 404
    assert server.client().get(f"/api/events/{event}/posts", params={"status": "draft"}).status_code == 404
    assert draft["id"] in listed_ids(editor, event, status="draft")
    assert editor.get(f"/api/events/{event}/posts/{draft['id']}").status_code == 200
    published = editor.patch(f"/api/events/{event}/posts/{draft['id']}", json={"status": "published"})
    assert published.json()["status"] == "published"
    assert draft["id"] in listed_ids(server.client(), event)


def test_scheduled_post_publishes_when_due(server, editor, event):
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 2))
    scheduled = post(editor, event, body="later", published_at=when)
    assert scheduled["status"] == "scheduled"
    assert scheduled["id"] not in listed_ids(server.client(), event)
    wait_until(lambda: scheduled["id"] in listed_ids(server.client(), event), timeout=10, message="the scheduled post's appearance")


def test_bad_input_writes_nothing(server, editor, event):
    before = listed_ids(editor, event, limit=100)
    raw = editor.post(f"/api/events/{event}/posts", content=b"{not json", headers={"content-type": "application/json"})
    assert raw.status_code == 400 and "JSON" in raw.json()["error"]
    assert editor.post(f"/api/events/{event}/posts", json={"headline": 5, "body": []}).status_code == 422
    empty = editor.post(f"/api/events/{event}/posts", json={})
    assert empty.status_code == 422 and "body or a headline" in empty.json()["error"]
    huge = editor.post(f"/api/events/{event}/posts", json={"body": "x" * 100_001})
    assert huge.status_code == 422 and "limit" in huge.json()["error"]
    media = [{"kind": "image", "url": f"/i/{i}.png"} for i in range(21)]
    too_many = editor.post(f"/api/events/{event}/posts", json={"body": "x", "media": media})
    assert too_many.status_code == 422 and "20" in too_many.json()["error"]
    unknown = editor.post("/api/events/no-such/posts", json={"body": "x"})
    assert unknown.status_code == 404
    naive = editor.post(f"/api/events/{event}/posts", json={"body": "x", "published_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422
    assert editor.post(f"/api/events/{event}/posts", json={"body": "x", "surprise": 1}).status_code == 422
    assert listed_ids(editor, event, limit=100) == before


def test_a_nul_byte_is_no_server_error(server, event):
    # PostgreSQL text cannot hold NUL (a 400 says so); SQLite finds no such event or topic
    for url in ("/api/search?q=ferry&event=a%00b", "/api/events/a%00b", f"/api/events/{event}/posts?topic=a%00b"):
        answer = server.get(url)
        assert answer.status_code < 500, (url, answer.status_code)
        if answer.status_code >= 400:
            assert answer.json()["error"]
        else:
            assert answer.json()["posts"] == []


def test_markdown_is_sanitised(server, editor, event):
    data = post(editor, event, body='Hi <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>', headline="<b>Bold</b> move")
    html = data["body_html"]
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, never run
    assert data["headline"] == "Bold move"


def test_etag_and_304(server, event):
    client = server.client()
    for path in ("/api/events", f"/api/events/{event}", f"/api/events/{event}/posts"):
        first = client.get(path)
        tag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tag})
        assert again.status_code == 304 and again.content == b""


def test_idempotent_retry_creates_one_post(server, editor, event):
    headers = {"Idempotency-Key": unique("key")}
    first = editor.post(f"/api/events/{event}/posts", json={"body": "once"}, headers=headers)
    second = editor.post(f"/api/events/{event}/posts", json={"body": "once"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert sum(1 for p in editor.get(f"/api/events/{event}/posts", params={"limit": 100}).json()["posts"] if p["body"] == "once") == 1


def test_search_across_events(server, editor):
    word = unique("zephyr").replace("-", "")
    slugs = []
    for n in range(2):
        slug = unique("s")
        editor.post("/api/events", json={"slug": slug, "title": "x"})
        post(editor, slug, body=f"The {word} crossing reopened", headline=f"{word} news {n}")
        slugs.append(slug)
    found = server.client().get("/api/search", params={"q": word}).json()
    assert found["total"] == 2 and found["total_capped"] is False and {r["event"] for r in found["results"]} == set(slugs)
    only = server.client().get("/api/search", params={"q": word, "event": slugs[0]}).json()
    assert [r["event"] for r in only["results"]] == [slugs[0]]
    assert server.client().get("/api/search", params={"q": ""}).status_code == 422


def test_openapi_and_docs(server):
    spec = server.get("/openapi.json").json()
    assert "/api/events/{slug}/posts" in spec["paths"] and "/api/events/{slug}/stream" in spec["paths"]
    assert server.get("/docs").status_code == 200


@pytest.mark.slow
def test_persistence_across_restart(tmp_path):
    srv = Server(server_env(tmp_path)).start()
    try:
        client = srv.client(srv.token("editor"))
        slug = unique("keep")
        client.post("/api/events", json={"slug": slug, "title": "Kept"})
        kept = post(client, slug, body="still here after a restart")
        srv.stop()
        srv.start()
        assert kept["id"] in listed_ids(srv.client(), slug)
    finally:
        srv.stop()


def test_control_characters_are_dropped_so_feeds_stay_valid(server, editor, event):
    import feedparser

    created = post(editor, event, body="bell\x07 and vertical\x0btab", headline="form\x0cfeed")
    assert created["body"] == "bell and verticaltab" and created["headline"] == "formfeed"
    for path in (f"/e/{event}/atom.xml", f"/e/{event}/rss.xml", "/atom.xml"):
        response = server.client().get(path)
        assert response.status_code == 200
        assert not feedparser.parse(response.content).bozo
