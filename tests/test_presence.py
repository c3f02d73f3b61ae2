"""Editors see each other on an event's desk (who is online, writing, editing which post) and the
readers open now, pushed over the desk's own stream; in Chromium against a real server."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from conftest import SSEReader, make_user, unique
from test_edit_versions import new_post


def test_editors_see_who_is_here_and_who_edits_which_post(live_server, live_editor, two_editors):
    slug = unique("presence")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Bridge closure"}).status_code == 201
    post, _tag = new_post(live_editor, slug, "The bridge shuts at ten.")
    first, second = two_editors
    first.goto(f"{live_server.url}/desk/e/{slug}")
    second.goto(f"{live_server.url}/desk/e/{slug}/posts/{post['id']}/edit")

    listed = first.locator("#presence-list")
    expect(listed).to_contain_text(re.compile(r"editor-[0-9a-f]+ — editing a post"), timeout=15000)
    badge = first.locator(f"#post-{post['id']} .editing-badge")
    expect(badge).to_contain_text("is editing", timeout=15000)
    assert badge.text_content().split(" is editing")[0] in listed.text_content()

    first.fill("#f-body", "Drivers queue at the east ramp.")
    expect(second.locator("#presence-list")).to_contain_text("writing a post", timeout=15000)

    reader = SSEReader(f"{live_server.url}/api/events/{slug}/stream")
    try:
        expect(first.locator("#readers-now")).to_have_text("1 reader on the page now", timeout=20000)
    finally:
        reader.close()
    expect(first.locator("#readers-now")).to_have_text("0 readers on the page now", timeout=20000)

    second.goto(f"{live_server.url}/desk")  # left the post: the badge goes once the presence lapses
    expect(badge).to_have_count(0, timeout=30000)


def test_presence_needs_the_csrf_header_and_a_known_event(server):
    from test_desk import http_login

    name = make_user(server, "editor")
    with http_login(server, name) as client:
        csrf = client.headers.pop("X-CSRF-Token")
        slug = unique("pres")
        assert client.post("/api/events", json={"slug": slug, "title": "t"}, headers={"X-CSRF-Token": csrf}).status_code == 201
        assert client.post(f"/desk/e/{slug}/presence", json={"state": "online"}).status_code == 403
        told = client.post(f"/desk/e/{slug}/presence", json={"state": "writing"}, headers={"X-CSRF-Token": csrf})
        assert told.status_code == 200
        assert told.json() == {"editors": [{"user": name, "state": "writing", "post": None}], "readers": 0}
        missing = client.post("/desk/e/no-such-event/presence", json={"state": "online"}, headers={"X-CSRF-Token": csrf})
        assert missing.status_code == 404
        odd = client.post(f"/desk/e/{slug}/presence", json={"state": "dancing"}, headers={"X-CSRF-Token": csrf})
        assert odd.status_code == 422


def test_a_contributors_post_shows_up_at_once_for_an_editor(live_server, live_editor, two_editors):
    slug = unique("waiting")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Flood gates"}).status_code == 201
    editor_page, _other = two_editors
    editor_page.goto(f"{live_server.url}/desk/e/{slug}")
    expect(editor_page.locator("#readers-now")).to_contain_text("readers on the page now", timeout=15000)
    with live_server.client(live_server.token("contributor")) as contributor:
        sent = contributor.post(f"/api/events/{slug}/posts", json={"body": "Gates close at six, says the warden."})
    assert sent.status_code == 201 and sent.json()["status"] == "pending"
    news = editor_page.locator("#pending-news")
    expect(news).to_contain_text("1 new post is waiting for approval", timeout=15000)
    news.locator("a").click()
    expect(editor_page.locator(f"#post-{sent.json()['id']}")).to_contain_text("Gates close at six")


def test_a_draft_is_shared_with_the_events_other_editors(live_server, live_editor, two_editors):
    slug = unique("drafts")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Harbour fog"}).status_code == 201
    writer, other = two_editors
    writer.goto(f"{live_server.url}/desk/e/{slug}")
    writer.fill("#f-body", "Fog horns sound every minute; pilots wait.")
    writer.click("#save-draft")
    expect(writer.locator(".notice")).to_have_text("Draft saved.")

    other.goto(f"{live_server.url}/desk/e/{slug}")
    draft = other.locator("#draft-posts .desk-post")
    expect(draft).to_contain_text("Fog horns sound every minute")
    draft.locator("a:has-text('Continue draft')").click()
    assert other.input_value("#f-body") == "Fog horns sound every minute; pilots wait."


def test_two_editors_autosaving_one_draft_never_overwrite_each_other(live_server, live_editor, two_editors):
    slug = unique("shared")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Harbour fog"}).status_code == 201
    made = live_editor.post(f"/api/events/{slug}/posts", json={"body": "Fog at the mouth.", "status": "draft"}).json()
    first, second = two_editors
    for page in (first, second):
        page.clock.install()  # the pages autosave every 5 s: their clocks are moved on instead of waited for
        page.goto(f"{live_server.url}/desk/e/{slug}?draft={made['id']}#compose")
    first.fill("#f-body", "Fog at the mouth; pilots wait.")
    first.clock.run_for(5000)
    expect(first.locator("#autosave")).to_contain_text("Draft saved", timeout=15000)
    second.fill("#f-body", "Fog lifting at the mouth.")
    second.clock.run_for(5000)
    expect(second.locator("#autosave")).to_contain_text("Another editor changed this draft", timeout=15000)
    with live_server.client(live_server.token("editor")) as client:
        stored = client.get(f"/api/events/{slug}/posts/{made['id']}").json()
    assert stored["body"] == "Fog at the mouth; pilots wait." and stored["version"] == 2
