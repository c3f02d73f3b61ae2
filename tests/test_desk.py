"""The desk in real Chromium against a real server: sign-in, compose, publish, correct, approve."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from conftest import PASSWORD, ROOT, Server, Site, log_in, make_user, run_cli, unique
from livedesk.newsroom import Invalid
from livedesk.web.compose import form_from_post, local_to_utc, parse_duration, post_from_form, quote_block

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def desk_server(live_server) -> Server:
    """Chromium needs a real socket: the desk is tried on the session's real server."""
    return live_server


def create_event(page: Page, title: str = "Quay fire in Velmora") -> str:
    slug = unique("quay")
    page.fill("#ev-title", title)
    page.fill("#ev-slug", slug)
    page.fill("#ev-standfirst", "Crews fight a warehouse blaze on the old quay.")
    page.click("text=Create event")
    expect(page.locator("h1")).to_contain_text(title)
    return slug


def api_posts(server: Server, slug: str, token: str | None = None, status: str = "published") -> list[dict]:
    with server.client(token) as client:
        response = client.get(f"/api/events/{slug}/posts", params={"status": status, "limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["posts"]


def test_log_in_compose_preview_publish_pin_and_correct(desk_server, context):
    page = context.new_page()
    name = unique("editor")  # this one's password is set through the CLI, as an operator does
    run_cli("user", "password", name, "--role", "editor", input=PASSWORD + "\n", env=desk_server.env)
    log_in(page, desk_server, name)
    slug = create_event(page)

    page.fill("#f-headline", "Fire crews reach the quay")
    page.fill("#f-body", "Smoke is **visible** across the bay.\n\n<script>window.pwned = 1</script>")
    preview = page.locator("#preview")
    expect(preview.locator("strong")).to_have_text("visible")
    assert preview.locator("script").count() == 0
    assert page.evaluate("window.pwned") is None

    page.click("summary:has-text('Quote')")
    page.fill("#f-quote", "Everyone is out of the building.")
    page.fill("#f-speaker", "Ilse Marrow, fire chief")
    page.click("#insert-quote")
    assert "> Everyone is out of the building.\n>\n> — Ilse Marrow, fire chief" in page.input_value("#f-body")
    expect(preview.locator("blockquote")).to_contain_text("Ilse Marrow")

    page.click("summary:has-text('Image')")
    page.fill("#f-image", "/static/demo/fog.svg")
    page.fill("#f-caption", "Smoke over the quay")
    page.fill("#f-credit", "Desk photographer")
    page.focus("#f-body")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".notice")).to_have_text("Published.")

    [post] = api_posts(desk_server, slug)
    assert post["headline"] == "Fire crews reach the quay"
    assert "<blockquote>" in post["body_html"] and "<script" not in post["body_html"]
    assert post["media"][0]["caption"] == "Smoke over the quay" and post["media"][0]["credit"] == "Desk photographer"

    row = page.locator(f"#post-{post['id']}")
    row.locator("button:has-text('Pin')").click()
    expect(page.locator(".notice")).to_have_text("Pinned.")
    page.locator(f"#post-{post['id']} button:has-text('Mark key event')").click()
    expect(page.locator(".notice")).to_have_text("Marked as a key event.")
    [post] = api_posts(desk_server, slug)
    assert post["pinned"] and post["key_event"]

    page.locator(f"#post-{post['id']} a:has-text('Edit')").click()
    page.fill("#f-headline", "Fire crews reach the old quay")
    page.fill("#f-correction", "An earlier version named the wrong quay.")
    page.click("#save-edit")
    expect(page.locator(".notice")).to_have_text("Correction published.")
    with desk_server.client() as client:
        corrected = client.get(f"/api/events/{slug}/posts/{post['id']}").json()
        reader_page = client.get(f"/e/{slug}")
    assert corrected["correction_note"] == "An earlier version named the wrong quay."
    assert corrected["headline"] == "Fire crews reach the old quay"
    assert corrected["history"][0]["headline"] == "Fire crews reach the quay"
    assert reader_page.status_code == 200 and "An earlier version named the wrong quay." in reader_page.text

    page.once("dialog", lambda dialog: dialog.accept())
    page.locator(f"#post-{post['id']} button:has-text('Delete')").click()
    expect(page.locator(".notice")).to_have_text("Deleted.")
    assert api_posts(desk_server, slug) == []


def test_contributor_post_waits_for_an_editor(desk_server, browser):
    editor_ctx, contributor_ctx = browser.new_context(), browser.new_context()
    try:
        editor_page, contributor_page = editor_ctx.new_page(), contributor_ctx.new_page()
        log_in(editor_page, desk_server, make_user(desk_server, "editor"))
        slug = create_event(editor_page)

        log_in(contributor_page, desk_server, make_user(desk_server, "contributor"))
        contributor_page.click(f"a[href='/desk/e/{slug}']")
        expect(contributor_page.locator("#publish")).to_have_text("Submit for approval")
        assert contributor_page.locator("#ev-title").count() == 0  # no event creation for contributors
        contributor_page.fill("#f-headline", "Ferry service suspended")
        contributor_page.fill("#f-body", "The harbour office stopped all crossings.")
        contributor_page.click("#publish")
        expect(contributor_page.locator(".notice")).to_contain_text("Sent for approval")
        assert api_posts(desk_server, slug) == []  # readers see nothing yet

        editor_page.reload()
        waiting = editor_page.locator("section.waiting")
        expect(waiting).to_contain_text("Ferry service suspended")
        waiting.locator("button:has-text('Approve')").click()
        expect(editor_page.locator(".notice")).to_have_text("Approved and published.")
        [post] = api_posts(desk_server, slug)
        assert post["headline"] == "Ferry service suspended" and post["status"] == "published"
    finally:
        editor_ctx.close()
        contributor_ctx.close()


def test_writes_without_a_csrf_token_are_refused(desk_server, context):
    page = context.new_page()
    log_in(page, desk_server, make_user(desk_server, "editor"))
    slug = unique("csrf")
    form = {"slug": slug, "title": "Forged event"}
    assert page.request.post(desk_server.url + "/desk/events", form=form).status == 403
    assert page.request.post(desk_server.url + "/desk/events", form={**form, "csrf": "0" * 64}).status == 403
    # JSON API writes by session cookie need the X-CSRF-Token header; the page's own token works.
    api = desk_server.url + "/api/events"
    assert page.request.post(api, data={"slug": slug, "title": "Forged event"}).status == 403
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert page.request.post(api, data={"slug": slug, "title": "Event"}, headers={"X-CSRF-Token": token}).status == 201
    # The login form is protected too.
    assert page.request.post(desk_server.url + "/desk/login", form={"name": "x", "password": "y"}).status == 403


def test_wrong_password_then_rate_limit(desk_server, context):
    name = make_user(desk_server, "editor")
    page = context.new_page()
    page.goto(desk_server.url + "/desk/login")
    for _ in range(5):
        page.fill("#login-name", name)
        page.fill("#login-password", "not-the-password")
        with page.expect_response(lambda r: r.url.endswith("/desk/login") and r.request.method == "POST") as answer:
            page.click("#login-form button.primary")
        assert answer.value.status == 401
        expect(page.locator(".error")).to_have_text("Wrong user name or password.")
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)  # even the right password waits now
    with page.expect_response(lambda r: r.url.endswith("/desk/login") and r.request.method == "POST") as answer:
        page.click("#login-form button.primary")
    assert answer.value.status == 429 and answer.value.headers["retry-after"] == "60"
    expect(page.locator(".error")).to_contain_text("Too many failed logins")
    assert "livedesk_session" not in [c["name"] for c in context.cookies()]


def test_session_cookie_flags_and_logout_revokes(desk_server, context):
    page = context.new_page()
    log_in(page, desk_server, make_user(desk_server, "editor"))
    [cookie] = [c for c in context.cookies() if c["name"] == "livedesk_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and not cookie["secure"]
    assert page.evaluate("document.cookie").find("livedesk_session") == -1
    session = cookie["value"]
    with desk_server.client(session) as client:
        assert client.get("/api/events/x/posts", params={"status": "draft"}).status_code == 404  # known user
        page.click("text=Log out")
        expect(page.locator(".notice")).to_have_text("You are signed out.")
        assert client.post("/api/events", json={"slug": unique("x"), "title": "t"}).status_code == 401
    page.goto(desk_server.url + "/desk")
    expect(page).to_have_url(re.compile(r"/desk/login"))


def test_log_in_with_an_api_token_gets_its_own_session(desk_server, context):
    api_token = desk_server.token("editor")
    page = context.new_page()
    page.goto(desk_server.url + "/desk/login")
    page.click("summary:has-text('API token')")
    page.fill("#login-token", api_token)
    page.click("text=Log in with token")
    expect(page).to_have_url(desk_server.url + "/desk")
    [cookie] = [c for c in context.cookies() if c["name"] == "livedesk_session"]
    assert cookie["value"] != api_token  # a fresh token: logging out leaves the API token alone
    page.click("text=Log out")
    with desk_server.client(api_token) as client:
        assert client.post("/api/events", json={"slug": unique("tok"), "title": "Still valid"}).status_code == 201


def test_cookie_is_secure_behind_tls(server):
    name = make_user(server, "editor")
    with server.client(headers={"X-Forwarded-Proto": "https"}) as client:
        login = client.get("/desk/login")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', login.text).group(1)
        client.cookies.set("livedesk_login", login.cookies["livedesk_login"])  # a Secure cookie: set by hand over http
        answer = client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD})
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"].lower()
    assert "livedesk_session=" in cookie and "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


@contextmanager
def http_login(server: Site, name: str) -> Iterator[httpx.Client]:
    """A plain HTTP client signed in to the desk; its X-CSRF-Token header holds the page token."""
    with server.client() as client:
        login = client.get("/desk/login")
        csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', login.text).group(1)
        assert client.post("/desk/login", data={"csrf": csrf, "name": name, "password": PASSWORD}).status_code == 303
        page = client.get("/desk").text
        client.headers["X-CSRF-Token"] = re.search(r'name="csrf-token" content="([0-9a-f]+)"', page).group(1)
        yield client


def test_oversized_or_odd_form_input_gets_a_clear_error(server):
    with http_login(server, make_user(server, "editor")) as client:
        csrf = client.headers["X-CSRF-Token"]
        slug = unique("odd")
        assert client.post("/desk/events", data={"csrf": csrf, "slug": slug, "title": "T" * 400}).status_code == 422
        assert client.post("/desk/events", data={"csrf": csrf, "slug": slug, "title": "Odd input"}).status_code == 303
        bad_posts = [
            {"body": "x", "topics": "t" * 200},
            {"body": "x", "headline": "h" * 600},
            {"body": "x", "video_url": "https://v.example.org/a.mp4", "video_duration": "ninety"},
            {"body": "x", "action": "schedule", "scheduled_at": "2030-01-01T10:00", "tz": "a" * 5000},
            {"body": "x", "action": "schedule", "scheduled_at": "2001-01-01T10:00", "tz": "UTC"},
            {"body": "x", "image_url": "javascript:alert(1)"},
        ]
        for fields in bad_posts:
            answer = client.post(f"/desk/e/{slug}/posts", data={"csrf": csrf, **fields})
            assert answer.status_code == 422, fields
            assert 'class="error"' in answer.text and ">x</textarea>" in answer.text  # the text stays in the form
        points = {"csrf": csrf, "kp_new": "k" * 600}
        assert client.post(f"/desk/e/{slug}/key-points", data=points).status_code == 422
        assert client.post("/desk/login", data={"csrf": "é" * 64, "name": "n" * 5000, "password": "p"}).status_code == 403


def test_csrf_tokens_hold_on_every_node_of_the_database(server, live_server):
    """A second server on the same database (the session's real one, beside the app in this
    process) accepts the first one's session and CSRF token."""
    with http_login(server, make_user(server, "editor")) as first:
        session, page_csrf = first.cookies["livedesk_session"], first.headers["X-CSRF-Token"]
    with live_server.client(cookies={"livedesk_session": session}) as second:
        slug = unique("node")
        made = second.post("/desk/events", data={"csrf": page_csrf, "slug": slug, "title": "Made on the second node"})
        assert made.status_code == 303 and made.headers["location"].startswith(f"/desk/e/{slug}")


def test_autosave_keeps_a_server_draft_and_local_text(desk_server, context):
    page = context.new_page()
    log_in(page, desk_server, make_user(desk_server, "editor"))
    slug = create_event(page)
    editor_token = desk_server.token("editor")
    page.clock.install()  # the form autosaves every 5 s: its clock is moved on instead of waited for
    page.reload()

    page.fill("#f-headline", "Tugs standing by")
    page.fill("#f-body", "Two tugs wait at the harbour mouth.")
    page.clock.run_for(5000)
    expect(page).to_have_url(re.compile(r"\?draft=\w+"), timeout=12_000)
    expect(page.locator("#autosave")).to_contain_text("Draft saved")
    [draft] = api_posts(desk_server, slug, editor_token, status="draft")
    assert draft["body"] == "Two tugs wait at the harbour mouth."

    page.fill("#f-body", "Three tugs wait at the harbour mouth.")
    page.clock.run_for(5000)
    deadline = datetime.now() + timedelta(seconds=12)
    while api_posts(desk_server, slug, editor_token, status="draft")[0]["body"].startswith("Two") and datetime.now() < deadline:
        page.wait_for_timeout(300)
    [draft_again] = api_posts(desk_server, slug, editor_token, status="draft")
    assert draft_again["id"] == draft["id"] and draft_again["body"].startswith("Three")

    page.reload()  # the draft opens again in the form; publishing it keeps one post
    expect(page.locator("#f-body")).to_have_value("Three tugs wait at the harbour mouth.")
    page.click("#publish")
    expect(page.locator(".notice")).to_have_text("Published.")
    assert [p["id"] for p in api_posts(desk_server, slug)] == [draft["id"]]
    assert api_posts(desk_server, slug, editor_token, status="draft") == []

    # Text typed into a new post survives leaving the page before any save.
    page.fill("#f-body", "Unsent words about the tide.")
    page.goto(desk_server.url + "/desk")
    page.goto(f"{desk_server.url}/desk/e/{slug}")
    expect(page.locator("#f-body")).to_have_value("Unsent words about the tide.")
    expect(page.locator("#autosave")).to_contain_text("Restored")


def test_a_lapsed_session_loses_no_text(desk_server, context):
    name = make_user(desk_server, "editor")
    page = context.new_page()
    log_in(page, desk_server, name)
    slug = create_event(page)
    page.fill("#f-body", "The harbour master will speak at six.")
    context.clear_cookies()  # the session is gone, as after a logout elsewhere
    page.click("#publish")
    expect(page).to_have_url(re.compile(r"/desk/login"))
    page.fill("#login-name", name)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button.primary")
    page.goto(f"{desk_server.url}/desk/e/{slug}")
    expect(page.locator("#f-body")).to_have_value("The harbour master will speak at six.")


def test_schedule_in_the_editors_zone(desk_server, browser):
    ctx = browser.new_context(timezone_id="Europe/Berlin")
    try:
        page = ctx.new_page()
        log_in(page, desk_server, make_user(desk_server, "editor"))
        slug = create_event(page)
        berlin = ZoneInfo("Europe/Berlin")
        local = (datetime.now(berlin) + timedelta(days=2)).replace(second=0, microsecond=0)
        page.fill("#f-body", "The inquiry opens on Thursday.")
        page.click("summary:has-text('Schedule')")
        expect(page.locator("#tz-name")).to_contain_text("Europe/Berlin")
        page.fill("#f-when", local.strftime("%Y-%m-%dT%H:%M"))
        page.click("button[value=schedule]")
        expect(page.locator(".notice")).to_have_text("Scheduled.")
        [post] = api_posts(desk_server, slug, desk_server.token("editor"), status="scheduled")
        expected = local.astimezone(UTC)
        assert datetime.fromisoformat(post["published_at"].replace("Z", "+00:00")) == expected
        assert api_posts(desk_server, slug) == []
    finally:
        ctx.close()


def test_key_points_reorder_and_end_coverage(desk_server, context):
    page = context.new_page()
    log_in(page, desk_server, make_user(desk_server, "editor"))
    slug = create_event(page)
    for text in ("Warehouse fire on the old quay", "No injuries reported", "Ferries suspended"):
        page.fill("#kp-new", text)
        page.click("button[value=save]")
        expect(page.locator(".notice")).to_have_text("Key points saved.")
    page.click("button[aria-label='Move key point 3 up']")
    page.click("button[aria-label='Remove key point 1']")
    page.fill("#kp-1", "No injuries reported so far")
    page.click("button[value=save]")
    with httpx.Client(base_url=desk_server.url) as client:
        points = [p["text"] for p in client.get(f"/api/events/{slug}").json()["key_points"]]
    assert points == ["Ferries suspended", "No injuries reported so far"]

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("text=End coverage")
    expect(page.locator(".notice")).to_have_text("Coverage ended.")
    with httpx.Client(base_url=desk_server.url) as client:
        event = client.get(f"/api/events/{slug}").json()
    assert event["status"] == "ended" and event["coverage_end"]


@pytest.mark.rendering
@pytest.mark.parametrize("width", [1280, 360])
def test_compose_screenshots(desk_server, browser, width):
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = ctx.new_page()
        log_in(page, desk_server, make_user(desk_server, "editor"))
        create_event(page)
        page.fill("#kp-new", "Warehouse fire on the old quay")
        page.click("button[value=save]")
        page.fill("#f-headline", "Crews on the scene")
        page.fill("#f-body", "Four engines arrived at the old quay shortly after **nine**.")
        page.click("#publish")
        page.click("#published-posts button:has-text('Pin')")
        page.fill("#f-headline", "Fire crews reach the quay")
        page.fill("#f-body", "Smoke is **visible** across the bay.\n\n> Everyone is out.\n>\n> — Ilse Marrow")
        expect(page.locator("#preview blockquote")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing sticks out sideways
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"desk-compose-{width}.png"), full_page=True)
        assert (ARTIFACTS / f"desk-compose-{width}.png").stat().st_size > 10_000
    finally:
        ctx.close()


def test_the_desk_works_without_javascript(desk_server, browser):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        log_in(page, desk_server, make_user(desk_server, "editor"))
        slug = create_event(page)
        page.fill("#f-body", "Divers found the *second* hull.")
        page.click("summary:has-text('Quote')")
        page.fill("#f-quote", "We will keep looking.")
        page.fill("#f-speaker", "Oren Pask, dive lead")
        page.click("button[value=preview]")
        expect(page.locator("#preview em")).to_have_text("second")
        expect(page.locator("#preview blockquote")).to_contain_text("Oren Pask, dive lead")
        assert page.input_value("#f-quote") == "We will keep looking."  # nothing typed is lost
        page.click("#publish")
        expect(page.locator(".notice")).to_have_text("Published.")
        [post] = api_posts(desk_server, slug)
        assert "<blockquote>" in post["body_html"] and "Oren Pask, dive lead" in post["body_html"]
    finally:
        ctx.close()


# ---- the compose form's conversions, without a browser --------------------------------

def test_local_schedule_times_become_utc_across_daylight_saving():
    assert local_to_utc("2026-03-28T12:00", "Europe/Berlin") == datetime(2026, 3, 28, 11, 0, tzinfo=UTC)
    assert local_to_utc("2026-03-30T12:00", "Europe/Berlin") == datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    assert local_to_utc("2026-03-30T12:00", "") == datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    for bad_time, zone in (("", "UTC"), ("tomorrow", "UTC"), ("2026-03-30T12:00", "Mars/Olympus")):
        with pytest.raises(Invalid):
            local_to_utc(bad_time, zone)


def test_durations_quotes_and_media_from_the_form():
    assert [parse_duration(t) for t in ("", "95", "1:35", "1:01:35")] == [None, 95, 95, 3695]
    with pytest.raises(Invalid):
        parse_duration("ninety")
    assert quote_block("Line one\nLine two", "Oren Pask") == "> Line one\n> Line two\n>\n> — Oren Pask"
    fields = {
        "headline": "Divers return", "body": "The hull is found.", "topics": "sea, rescue ",
        "image_url": "/static/demo/fog.svg", "image_caption": "Fog", "image_credit": "Desk",
        "video_url": "https://video.example.org/dive.mp4", "video_title": "The dive", "video_duration": "2:05",
        "video_source": "Harbour TV", "key_event": "on",
    }
    data = post_from_form(fields)
    assert data["topics"] == ["sea", "rescue"] and data["key_event"] is True
    assert [m["kind"] for m in data["media"]] == ["image", "video"] and data["media"][1]["duration_s"] == 125
    back = form_from_post({**data, "media": data["media"]})
    assert back["video_duration"] == "2:05" and back["image_caption"] == "Fog" and back["topics"] == "sea, rescue"


def test_every_published_post_can_be_found_paged_and_pinned(desk_server, context):
    """A busy event: the desk pages back through all its posts and searches them; the header and the
    list give the same count."""
    editor = make_user(desk_server, "editor")
    slug = unique("busy")
    token = desk_server.token("editor")
    with desk_server.client(token) as client:
        assert client.post("/api/events", json={"slug": slug, "title": "Night market fire"}).status_code == 201
        made = [client.post(f"/api/events/{slug}/posts", json={
            "headline": f"Stall report {i}", "body": f"Crews check stall {i}." + (" The lantern maker's shop." if i == 3 else "")}
        ).json() for i in range(57)]
    page = context.new_page()
    log_in(page, desk_server, editor)
    page.goto(f"{desk_server.url}/desk/e/{slug}")
    expect(page.locator(".event-head")).to_contain_text("57 published posts")
    published = page.locator("#published-posts")
    expect(published.locator("h2 .count")).to_have_text("57")
    expect(published.locator(".desk-post")).to_have_count(50)
    expect(published.locator("[data-listed]")).to_have_text("The newest 50 of 57")
    published.get_by_role("link", name="Older posts").click()
    expect(published.locator(".desk-post")).to_have_count(7)
    expect(published.locator(".desk-post").last).to_have_id(f"post-{made[0]['id']}")
    expect(published.get_by_role("link", name="Older posts")).to_have_count(0)
    # an old post is pinned from its page
    published.locator(f"#post-{made[0]['id']}").get_by_role("button", name="Pin").click()
    assert any(p["pinned"] for p in api_posts(desk_server, slug) if p["id"] == made[0]["id"])
    # search finds one post among all
    page.goto(f"{desk_server.url}/desk/e/{slug}")
    page.fill("#desk-q", "lantern")
    page.locator(".desk-search button").click()
    expect(published.locator(".desk-post")).to_have_count(1)
    expect(published.locator(".desk-post")).to_have_id(f"post-{made[3]['id']}")
    expect(published.locator("[data-listed]")).to_contain_text("1 post matches “lantern”")
