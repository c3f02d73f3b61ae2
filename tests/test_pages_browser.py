"""The reader pages in a real Chromium against a real server: live updates, filters, tools.

Every test records the browser's requests and checks that none leaves 127.0.0.1.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from conftest import ROOT, Server, server_env, soon_after, unique

ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="module")
def server(live_server):
    """Chromium needs a real socket: this module's server is the session's real one."""
    return live_server


@pytest.fixture
def page(browser, server):
    """A fresh browser page (Berlin time) whose every request is checked to stay local."""
    context = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB", viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    requests: list[str] = []
    tab.on("request", lambda r: requests.append(r.url))
    tab.set_default_timeout(10_000)
    yield tab
    context.close()
    outside = [u for u in requests if not u.startswith(("http://127.0.0.1:", "data:", "about:"))]
    assert requests and not outside, f"requests left the machine: {outside}"


def make_event(editor, *, posts: int = 0, topics=lambda i: [], **extra) -> tuple[str, list[dict]]:
    slug = unique("pg")
    response = editor.post("/api/events", json={"slug": slug, "title": f"Ferry strike at Tarnholm {slug}",
                                                "standfirst": "Crews walk out over the winter timetable.", **extra})
    assert response.status_code == 201, response.text
    made = [publish(editor, slug, f"Update number {i}", f"Harbour note {i}: the queue moves slowly.", topics=topics(i))
            for i in range(posts)]
    return slug, made


def publish(editor, slug: str, headline: str, body: str, **extra) -> dict:
    response = editor.post(f"/api/events/{slug}/posts", json={"headline": headline, "body": body, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def wait_live(page: Page) -> None:
    page.wait_for_selector("html[data-live=open]", state="attached")


def card(page: Page, post_id: str):
    return page.locator(f"#post-{post_id}")


def test_a_published_post_appears_without_reload(page, server, editor):
    slug, _ = make_event(editor, posts=2)
    page.goto(f"{server.url}/e/{slug}")
    expect(page.locator(".post")).to_have_count(2)
    wait_live(page)
    post = publish(editor, slug, "Talks resume at noon", "Both unions are back at the table.")
    expect(card(page, post["id"])).to_be_visible()
    expect(page.locator(".post").first).to_have_id(f"post-{post['id']}")
    expect(page.locator("[data-post-count]")).to_have_text("3")
    # the time is shown in the reader's own zone, with the zone named
    expect(card(page, post["id"]).locator("time[data-local]")).not_to_contain_text("UTC")
    expect(card(page, post["id"]).locator("time[data-rel]")).to_contain_text("now")


def test_a_scrolled_down_reader_gets_the_new_posts_button(page, server, editor):
    slug, _ = make_event(editor, posts=15)
    page.goto(f"{server.url}/e/{slug}")
    page.mouse.wheel(0, 4000)
    page.wait_for_function("() => window.scrollY > 1000")
    anchor = page.locator(".post").nth(10)
    top_before = anchor.bounding_box()["y"]
    first = publish(editor, slug, "Second walkout called", "The night crews join in.")
    second = publish(editor, slug, "Police at the gates", "Officers keep the entrance clear.")
    button = page.locator("[data-newposts]")
    expect(button).to_have_text("2 new posts")
    # the pill keeps its own height, its white text on its own blue
    box = button.bounding_box()
    assert box["height"] >= 36 and box["width"] > 100
    colours = button.evaluate("b => [getComputedStyle(b).color, getComputedStyle(b).backgroundColor]")
    assert colours == ["rgb(255, 255, 255)", "rgb(11, 79, 156)"]
    assert button.evaluate("b => b.scrollHeight <= b.clientHeight + 1")  # no text spills out of it
    expect(page.locator(".newposts")).to_have_attribute("aria-live", "polite")
    assert card(page, first["id"]).count() == 0
    assert abs(anchor.bounding_box()["y"] - top_before) < 2  # the text under the reader stayed put
    button.focus()
    page.keyboard.press("Enter")
    expect(card(page, second["id"])).to_be_visible()
    expect(page.locator(".post").nth(0)).to_have_id(f"post-{second['id']}")
    expect(page.locator(".post").nth(1)).to_have_id(f"post-{first['id']}")
    expect(button).to_be_hidden()


def test_an_edit_shows_in_place_with_its_correction(page, server, editor):
    slug, made = make_event(editor, posts=3)
    target = made[1]
    page.goto(f"{server.url}/e/{slug}")
    expect(card(page, target["id"])).to_contain_text("Harbour note 1")
    response = editor.patch(f"/api/events/{slug}/posts/{target['id']}",
                            json={"body": "Harbour note 1: the queue has cleared.", "correction": "The queue had cleared, not grown."})
    assert response.status_code == 200, response.text
    edited = card(page, target["id"])
    expect(edited).to_contain_text("the queue has cleared")
    expect(edited.locator(".tag-updated")).to_have_text("Updated")
    expect(edited.locator(".history summary")).to_contain_text("Corrected")
    expect(edited.locator(".history summary")).to_contain_text("The queue had cleared, not grown.")
    edited.locator(".history summary").click()
    expect(edited.locator(".history ol")).to_contain_text("the queue moves slowly")
    expect(page.locator(".post")).to_have_count(3)  # in place: no duplicate
    # a delete removes the post
    assert editor.delete(f"/api/events/{slug}/posts/{made[0]['id']}").status_code == 204
    expect(card(page, made[0]["id"])).to_have_count(0)


def test_show_more_and_oldest_first(page, server, editor):
    slug, made = make_event(editor, posts=25)
    page.goto(f"{server.url}/e/{slug}")
    expect(page.locator(".post")).to_have_count(20)
    page.get_by_role("link", name="Show more").focus()
    page.keyboard.press("Enter")  # from the keyboard
    expect(page.locator(".post")).to_have_count(25)
    expect(page.locator(".post").last).to_have_id(f"post-{made[0]['id']}")
    expect(page.get_by_role("link", name="Show more")).to_have_count(0)
    page.get_by_role("link", name="Show oldest first").click()
    expect(page).to_have_url(f"{server.url}/e/{slug}?order=oldest")
    expect(page.locator(".post").first).to_have_id(f"post-{made[0]['id']}")
    expect(page.locator(".post").nth(1)).to_have_id(f"post-{made[1]['id']}")
    # oldest first pages on to newer posts, none twice
    page.get_by_role("link", name="Show more").click()
    expect(page.locator(".post")).to_have_count(25)
    shown = page.locator(".post").evaluate_all("cards => cards.map(c => c.id)")
    assert shown == [f"post-{p['id']}" for p in made]
    # and so does the link without JavaScript's help
    href = page.evaluate("() => document.querySelector('[data-more]') && document.querySelector('[data-more]').href")
    assert href is None  # at the end: no link
    page.goto(f"{server.url}/e/{slug}?order=oldest")
    page.goto(page.locator("[data-more]").evaluate("a => a.href"))
    assert "after=" in page.url
    expect(page.locator(".post")).to_have_count(5)
    expect(page.locator(".post").first).to_have_id(f"post-{made[20]['id']}")


def test_topic_chip_filters_and_search_finds(page, server, editor):
    slug, made = make_event(editor, posts=6, topics=lambda i: ["police"] if i % 2 else ["timetable"])
    publish(editor, slug, "Mayor visits the quay", "She brings coffee for the pickets.", topics=["politics"])
    page.goto(f"{server.url}/e/{slug}")
    page.get_by_role("navigation", name="Topics").get_by_role("link", name="police").click()
    expect(page.locator(".post")).to_have_count(3)
    for post in made[1::2]:
        expect(card(page, post["id"])).to_be_visible()
    page.get_by_role("link", name="All", exact=True).click()
    expect(page.locator(".post")).to_have_count(7)
    page.get_by_placeholder("Search this coverage").fill("coffee")
    page.get_by_placeholder("Search this coverage").press("Enter")
    expect(page.locator(".post")).to_have_count(1)
    expect(page.locator(".post")).to_contain_text("Mayor visits the quay")
    # the site search highlights what it found
    page.goto(f"{server.url}/search?q=coffee")
    expect(page.locator(".results mark").first).to_have_text("coffee")


def test_the_feed_filter_persists_across_a_reload(page, server, editor):
    slug, made = make_event(editor, posts=4, topics=lambda i: ["weather"] if i < 2 else ["ferries"])
    page.goto(f"{server.url}/e/{slug}")
    page.locator("#myfeed summary").click()
    page.locator("#myfeed").get_by_label("weather").check()
    expect(card(page, made[3]["id"])).to_be_hidden()
    expect(card(page, made[0]["id"])).to_be_visible()
    expect(page.locator("[data-myfeed-note]")).to_contain_text("2 posts hidden")
    page.reload()
    expect(card(page, made[3]["id"])).to_be_hidden()
    expect(card(page, made[1]["id"])).to_be_visible()
    page.locator("#myfeed summary").click()
    expect(page.locator("#myfeed").get_by_label("weather")).to_be_checked()
    # it filters all news too, and a live post outside the chosen topics stays hidden
    page.goto(f"{server.url}/")
    expect(page.locator(f"#post-{made[3]['id']}")).to_be_hidden()
    expect(page.locator(f"#post-{made[0]['id']}")).to_be_visible()
    page.locator("[data-myfeed-clear]").click()
    expect(page.locator(f"#post-{made[3]['id']}")).to_be_visible()


def test_the_currency_converter(page, server):
    page.goto(f"{server.url}/tools/currency")
    expect(page.locator("main")).to_contain_text("Reference rates of 20 November 2026")
    page.get_by_label("Amount").fill("100")
    page.get_by_label("From").select_option("EUR")
    page.get_by_label("To").select_option("GBP")
    page.get_by_role("button", name="Convert").click()
    expect(page.locator("[data-result]")).to_have_text("100 EUR = 85.67 GBP")
    page.get_by_role("link", name="Swap GBP → EUR").click()
    expect(page.locator("[data-result]")).to_have_text("100 GBP = 116.73 EUR")
    page.get_by_label("Amount").fill("abc")
    page.get_by_role("button", name="Convert").click()
    expect(page.get_by_role("alert")).to_contain_text("“abc” is not an amount")
    expect(page.locator("[data-result]")).to_have_count(0)


def test_the_embed_view_updates_live(page, server, editor):
    slug, _ = make_event(editor, posts=2)
    page.goto(f"{server.url}/embed/{slug}")
    expect(page.locator(".post")).to_have_count(2)
    wait_live(page)
    post = publish(editor, slug, "Embedded update", "Seen inside the frame.")
    expect(card(page, post["id"])).to_be_visible()
    page.goto(f"{server.url}/e/{slug}")
    snippet = page.locator("#embed-snippet").input_value()
    assert snippet.startswith("<iframe") and f"/embed/{slug}\"" in snippet


def test_key_points_update_live_and_share_links_highlight(page, server, editor):
    slug, made = make_event(editor, posts=3)
    page.goto(f"{server.url}/e/{slug}")
    wait_live(page)
    response = editor.patch(f"/api/events/{slug}", json={"key_points": [{"text": "Crews return on Monday", "post_id": made[0]["id"]}]})
    assert response.status_code == 200, response.text
    box = page.locator("[data-keypoints]")
    expect(box).to_contain_text("Crews return on Monday")
    box.get_by_role("link", name="Crews return on Monday").click()
    expect(card(page, made[0]["id"])).to_have_class(re.compile(r"\bhighlight\b"))
    expect(page).to_have_url(f"{server.url}/e/{slug}#post-{made[0]['id']}")
    expect(card(page, made[0]["id"])).to_be_in_viewport()


HERALD = """Tarnholm ferry strike | Coast Herald

Tarnholm ferry strike

Crews and the harbour board meet again

10:15 CET
Ines Varga
Coast Herald

Union leader Petra Lind told the crowd on the Tarnholm quay that the ferry strike ends on Friday. "We have a deal we can live with," Lind said.

09:30 CET
Ines Varga
Coast Herald

Queues of lorries stretch back two kilometres from the closed ferry ramp at Tarnholm.
"""


def test_in_other_media_links_are_drawn_when_an_own_post_joins_a_development(page, server, editor):
    slug, _ = make_event(editor)
    pasted = editor.post(f"/api/events/{slug}/sources", json={"text": HERALD, "timezone": "Europe/Oslo"})
    assert pasted.status_code == 201, pasted.text
    page.goto(f"{server.url}/e/{slug}")
    expect(page.locator(".post")).to_have_count(2)
    wait_live(page)
    listed = editor.get(f"/api/events/{slug}/posts").json()["posts"]
    quay_post = next(p for p in listed if "Petra Lind" in p["body"])
    quay = quay_post["id"]
    expect(card(page, quay).locator(".other-media")).to_have_count(0)
    own = publish(editor, slug, "Ferry strike to end on Friday",
                  "Petra Lind, the union leader, told strikers on the Tarnholm quay the ferry strike ends on Friday. "
                  "\"We have a deal we can live with,\" Lind said.", published_at=soon_after(quay_post["published_at"]))
    # our post links to the herald's report; the herald's card lists no other media: ours is not "other"
    expect(card(page, own["id"]).locator(".other-media a")).to_have_attribute("href", f"/e/{slug}/p/{quay}")
    expect(card(page, own["id"]).locator(".other-media")).to_contain_text("In other media")
    page.reload()
    expect(card(page, own["id"]).locator(".other-media a")).to_have_attribute("href", f"/e/{slug}/p/{quay}")
    expect(card(page, quay).locator(".other-media")).to_have_count(0)


def test_a_link_to_an_older_post_shows_it(page, server, editor):
    slug, made = make_event(editor, posts=22)
    page.goto(f"{server.url}/e/{slug}#post-{made[0]['id']}")  # not on the first page
    linked = card(page, made[0]["id"])
    expect(linked).to_be_visible()
    expect(linked).to_have_class(re.compile(r"\bhighlight\b"))
    expect(linked).to_be_in_viewport()


@pytest.mark.rendering
def test_screenshots_at_phone_and_desktop_width(browser, server, editor):
    slug, _ = make_event(editor, posts=0, lead_media={"url": "/static/demo/harbour-skyline.svg", "alt": "A harbour at dawn",
                                                     "caption": "The quay at first light.", "credit": "Illustration: livedesk"},
                         key_points=[{"text": "The strike is in its second day."}, {"text": "Ferries to Skerrvik are cancelled."}],
                         links=[{"url": "/topics", "title": "All topics"}])
    publish(editor, slug, "Pickets at gate three", "About **forty** crew members stand at the gate.", topics=["strike"],
            media=[{"url": "/static/demo/crowd.svg", "caption": "Pickets at the gate.", "credit": "Illustration: livedesk"}],
            key_event=True)
    publish(editor, slug, None, "> We are not going anywhere.\n\nA union steward, speaking at the gate.", topics=["strike"])
    publish(editor, slug, "Statement from the operator", "The operator says talks can resume on Monday.",
            media=[{"kind": "video", "title": "Operator statement", "duration_s": 95, "source": "Harbour TV"}], pinned=True)
    ARTIFACTS.mkdir(exist_ok=True)
    for width, height in ((360, 780), (1280, 900)):
        context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="Europe/Berlin")
        tab = context.new_page()
        tab.goto(f"{server.url}/e/{slug}")
        expect(tab.locator(".post")).to_have_count(3)
        overflow = tab.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        path = ARTIFACTS / f"event-{width}.png"
        tab.screenshot(path=str(path), full_page=True)
        context.close()
        assert path.stat().st_size > 10_000
        assert overflow <= 0, f"the page scrolls sideways at {width} px"


def test_the_page_catches_up_after_the_server_restarts(browser, tmp_path):
    """The stream drops; posts published meanwhile arrive once each, and the indicator comes and goes."""
    srv = Server(server_env(tmp_path, LIVEDESK_KEEPALIVE_S="1")).start()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        with srv.client(srv.token("editor")) as desk:
            slug, _ = make_event(desk, posts=2)
            tab = context.new_page()
            tab.goto(f"{srv.url}/e/{slug}")
            wait_live(tab)
            srv.stop()
            expect(tab.locator("[data-conn]")).to_be_visible()
            start_again(srv)
            during = [publish(desk, slug, f"While away {i}", "Published as the page reconnects.") for i in range(3)]
            for post in during:
                expect(tab.locator(f"#post-{post['id']}")).to_have_count(1)
            expect(tab.locator("[data-conn]")).to_be_hidden()
            after = publish(desk, slug, "Back to normal", "Live again.")
            expect(tab.locator(f"#post-{after['id']}")).to_be_visible()
            expect(tab.locator(".post")).to_have_count(6)
            ids = tab.eval_on_selector_all(".post", "els => els.map(e => e.id)")
            assert len(ids) == len(set(ids))
    finally:
        context.close()
        srv.stop()


def start_again(srv: Server) -> None:
    """Restart on the same port; a busy machine may need longer than the usual start-up wait."""
    try:
        srv.start()
    except AssertionError:
        deadline = time.monotonic() + 90
        while srv.process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(srv.url + "/api/events", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise
