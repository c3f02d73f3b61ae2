"""Several editors on one post: edits carry the version they started from (If-Match with the
post's ETag in the API, a hidden field in the desk's form), and a stale edit loses nothing."""

from __future__ import annotations

import re
import threading

from playwright.sync_api import expect

from conftest import make_user, unique
from test_desk import http_login


def new_post(editor, event: str, body: str = "Ferries stop at noon.") -> tuple[dict, str]:
    created = editor.post(f"/api/events/{event}/posts", json={"headline": "Ferries", "body": body})
    assert created.status_code == 201, created.text
    read = editor.get(f"/api/events/{event}/posts/{created.json()['id']}")
    return read.json(), read.headers["etag"]


def test_an_edit_with_the_current_etag_wins_and_a_stale_one_gets_412_with_the_current_text(editor, event):
    post, tag = new_post(editor, event)
    assert tag.startswith('"v1-')
    url = f"/api/events/{event}/posts/{post['id']}"

    first = editor.patch(url, json={"body": "Ferries stop at one."}, headers={"If-Match": tag})
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 2 and first.headers["etag"].startswith('"v2-')

    stale = editor.patch(url, json={"body": "Ferries stop at two."}, headers={"If-Match": tag})
    assert stale.status_code == 412
    body = stale.json()
    assert "changed meanwhile" in body["error"]
    assert body["current"]["body"] == "Ferries stop at one." and body["current"]["version"] == 2
    assert body["current"]["history"][0]["body"] == "Ferries stop at noon."

    now = editor.get(url)
    assert now.json()["body"] == "Ferries stop at one." and len(now.json()["history"]) == 1
    assert now.headers["etag"] == stale.headers["etag"]  # the 412 names the tag to retry with
    retried = editor.patch(url, json={"body": "Ferries stop at two."}, headers={"If-Match": stale.headers["etag"]})
    assert retried.status_code == 200 and retried.json()["version"] == 3


def test_if_match_forms(editor, event):
    post, _tag = new_post(editor, event)
    url = f"/api/events/{event}/posts/{post['id']}"
    assert editor.patch(url, json={"body": "x"}, headers={"If-Match": '"not-a-post-tag"'}).status_code == 412
    assert editor.patch(url, json={"body": "x"}, headers={"If-Match": 'W/"v1-00"'}).status_code == 412  # weak never matches
    assert editor.get(url).json()["version"] == 1
    assert editor.patch(url, json={"body": "y"}, headers={"If-Match": '"v1"'}).status_code == 200
    assert editor.patch(url, json={"body": "z"}, headers={"If-Match": "*"}).status_code == 200
    assert editor.patch(url, json={"body": "w"}).status_code == 200  # no If-Match: as before, the edit wins
    assert editor.get(url).json()["version"] == 4
    not_modified = editor.get(url, headers={"If-None-Match": editor.get(url).headers["etag"]})
    assert not_modified.status_code == 304


def test_many_editors_from_one_version_exactly_one_wins(server, editor, event):
    post, tag = new_post(editor, event)
    url = f"/api/events/{event}/posts/{post['id']}"
    writers = 8
    start = threading.Barrier(writers)
    answers: list[int] = []

    def one(n: int) -> None:
        with server.client(server.token("editor")) as client:
            start.wait()
            answers.append(client.patch(url, json={"body": f"Edit number {n}."}, headers={"If-Match": tag}).status_code)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(answers) == [200] + [412] * (writers - 1)
    final = editor.get(url).json()
    assert final["version"] == 2 and len(final["history"]) == 1
    assert final["history"][0]["body"] == "Ferries stop at noon."


def test_two_editors_on_one_post_the_second_sees_both_versions(live_server, live_editor, two_editors):
    slug = unique("ferry")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Ferry strike"}).status_code == 201
    post, _tag = new_post(live_editor, slug, "Crews walk out at dawn.")
    edit_url = f"{live_server.url}/desk/e/{slug}/posts/{post['id']}/edit"
    first, second = two_editors
    first.goto(edit_url)
    second.goto(edit_url)

    first.fill("#f-body", "Crews walk out at dawn; talks resume at nine.")
    first.click("#save-edit")
    expect(first.locator(".notice")).to_have_text("Saved.")

    second.fill("#f-body", "Crews walk out at six in the morning.")
    second.click("#save-edit")
    conflict = second.locator("#conflict")
    expect(conflict).to_be_visible()
    expect(conflict.locator(".version-mine .version-text")).to_have_text("Crews walk out at six in the morning.")
    expect(conflict.locator(".version-theirs .version-text")).to_have_text("Crews walk out at dawn; talks resume at nine.")
    assert second.input_value("#f-body") == "Crews walk out at six in the morning."  # nothing typed is lost
    stored = live_editor.get(f"/api/events/{slug}/posts/{post['id']}").json()
    assert stored["body"] == "Crews walk out at dawn; talks resume at nine." and stored["version"] == 2

    # having seen both, the second editor merges and saves over version 2
    second.fill("#f-body", "Crews walk out at six in the morning; talks resume at nine.")
    second.click("#save-edit")
    expect(second.locator(".notice")).to_have_text("Saved.")
    stored = live_editor.get(f"/api/events/{slug}/posts/{post['id']}").json()
    assert stored["body"] == "Crews walk out at six in the morning; talks resume at nine." and stored["version"] == 3
    assert [v["body"] for v in stored["history"]] == ["Crews walk out at dawn.", "Crews walk out at dawn; talks resume at nine."]


def test_publishing_a_shared_draft_names_the_version_it_holds(server, editor):
    """The compose form's final send carries the draft's version like an edit: when another editor
    saved the draft since, nothing is written over; the form keeps this editor's text and says so."""
    slug = unique("draft")
    assert editor.post("/api/events", json={"slug": slug, "title": "Lock gates"}).status_code == 201
    draft = editor.post(f"/api/events/{slug}/posts", json={"body": "Gates shut at six.", "status": "draft"}).json()
    with http_login(server, make_user(server, "editor")) as desk:
        page = desk.get(f"/desk/e/{slug}", params={"draft": draft["id"]}).text
        held = re.search(r'name="version" value="(\d+)"', page).group(1)
        assert held == str(draft["version"])
        theirs = editor.patch(f"/api/events/{slug}/posts/{draft['id']}", json={"body": "Gates shut at seven."})
        assert theirs.status_code == 200
        form = {"csrf": desk.headers["X-CSRF-Token"], "draft_id": draft["id"], "version": held,
                "body": "Gates shut at half past six.", "action": "publish"}
        stale = desk.post(f"/desk/e/{slug}/posts", data=form)
        assert stale.status_code == 409 and "Another editor saved this draft" in stale.text
        assert "Gates shut at seven." in stale.text and ">Gates shut at half past six.</textarea>" in stale.text
        kept = editor.get(f"/api/events/{slug}/posts/{draft['id']}", params={"status": "draft"})
        assert kept.status_code == 200 and kept.json()["body"] == "Gates shut at seven."
        now_held = re.search(r'name="version" value="(\d+)"', stale.text).group(1)
        assert now_held == str(theirs.json()["version"])
        sent = desk.post(f"/desk/e/{slug}/posts", data={**form, "version": now_held})
        assert sent.status_code == 303
    published = editor.get(f"/api/events/{slug}/posts/{draft['id']}").json()
    assert published["status"] == "published" and published["body"] == "Gates shut at half past six."
