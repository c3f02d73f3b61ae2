"""Cards for other sites' posts and videos, pasted by URL: made from the link alone, filled from
oEmbed through the guarded fetch, hostile links refused, and nothing third-party loaded by a
reader who does not click (counted in Chromium)."""

from __future__ import annotations

import io
import json
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image
from playwright.sync_api import Browser, expect

from conftest import App, http_server, server_env, unique

LINKS = [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "video", "YouTube", None),
    ("https://youtu.be/dQw4w9WgXcQ", "video", "YouTube", None),
    ("https://vimeo.com/76979871", "video", "Vimeo", None),
    ("https://x.com/harbourdesk/status/1790000000000000000", "embed", "X", "@harbourdesk"),
    ("https://twitter.com/harbourdesk/status/1790000000000000000", "embed", "X", "@harbourdesk"),
    ("https://www.instagram.com/p/C7abcDEF123/", "embed", "Instagram", None),
    ("https://www.tiktok.com/@quaywatch/video/7350000000000000000", "video", "TikTok", "@quaywatch"),
    ("https://bsky.app/profile/harbour.example.org/post/3kabc2def", "embed", "Bluesky", "@harbour.example.org"),
    ("https://mastodon.example.org/@ferrynews/112233445566", "embed", "Mastodon", "@ferrynews"),
    ("https://www.facebook.com/harbourdesk/posts/123456789", "embed", "Facebook", None),
]


@pytest.mark.parametrize(("url", "kind", "provider", "author"), LINKS)
def test_a_card_from_the_link_alone(editor, url, kind, provider, author):
    answer = editor.post("/api/embeds", json={"url": url})
    assert answer.status_code == 200, answer.text
    card = answer.json()
    assert card["kind"] == kind and card["source"] == provider and card["url"].startswith("https://")
    assert card.get("author") == author


@pytest.mark.parametrize("url", [
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://x.com/harbourdesk/status/1",
    "/static/x.svg",
    "https://user:secret@x.com/harbourdesk/status/1",
    "http://127.0.0.1/@ferrynews/1",
    "http://[::1]/@ferrynews/1",
    "http://169.254.169.254/@meta/1",
    "https://news.example.org/live/harbour",
    "https://x.com.evil.example/harbourdesk/status/1",
    "https://www.youtube.com/watch?v=" + "a" * 2100,
])
def test_hostile_or_unknown_links_are_refused(editor, url):
    answer = editor.post("/api/embeds", json={"url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]


class Provider(BaseHTTPRequestHandler):
    """A Mastodon-like server: a status page, its oEmbed answer, and a thumbnail."""

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        if parts.path == "/api/oembed":
            status = parse_qs(parts.query)["url"][0]
            host = self.headers["Host"]
            body = json.dumps({
                "type": "rich", "author_name": "Ferry News", "provider_name": "Mastodon",
                "html": f'<blockquote><p>The <b>noon ferry</b> is cancelled.</p><script src="http://{host}/x.js"></script>'
                        f'<a href="{status}">link</a></blockquote>',
                "thumbnail_url": f"http://{host}/thumb.png",
            }).encode()
            kind = "application/json"
        elif parts.path == "/thumb.png":
            out = io.BytesIO()
            Image.new("RGB", (600, 400), (10, 120, 200)).save(out, "PNG")
            body, kind = out.getvalue(), "image/png"
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def test_a_card_is_filled_from_oembed_with_plain_text_and_a_local_thumbnail(tmp_path):
    app = App(server_env(tmp_path, LIVEDESK_FETCH_ALLOW_PRIVATE="127.0.0.0/8", LIVEDESK_POLL_SOURCES="false",
                         LIVEDESK_BROKER_URL="memory://")).start()
    try:
        with http_server(Provider) as provider, app.client(app.token("editor")) as editor:
            status = f"http://127.0.0.1:{provider.server_port}/@ferrynews/112233445566"
            card = editor.post("/api/embeds", json={"url": status}).json()
            assert card["source"] == "Mastodon" and card["author"] == "Ferry News"
            assert card["caption"].startswith("The noon ferry is cancelled.") and "<" not in card["caption"]
            assert card["thumbnail"].startswith("/media/") and card["thumbnail"].endswith("-480.jpg")
            thumb = app.get(card["thumbnail"])
            assert thumb.status_code == 200 and Image.open(io.BytesIO(thumb.content)).size == (480, 320)

            slug = unique("ferry")
            assert editor.post("/api/events", json={"slug": slug, "title": "Ferries"}).status_code == 201
            post = editor.post(f"/api/events/{slug}/posts", json={"body": "Cancelled.", "media": [card]})
            assert post.status_code == 201, post.text
            page = app.get(f"/e/{slug}").text
            assert "Ferry News" in page and card["thumbnail"] in page and "noon ferry is cancelled" in page
            assert f"127.0.0.1:{provider.server_port}/x.js" not in page
    finally:
        app.stop()


def test_a_reader_loads_nothing_from_the_provider_until_clicking(live_server, live_editor, browser: Browser):
    slug = unique("embeds")
    assert live_editor.post("/api/events", json={"slug": slug, "title": "Storm videos"}).status_code == 201
    media = [live_editor.post("/api/embeds", json={"url": url}).json() for url, *_ in LINKS[:1] + LINKS[3:4] + LINKS[8:9]]
    post = live_editor.post(f"/api/events/{slug}/posts", json={"body": "What people are posting.", "media": media})
    assert post.status_code == 201, post.text

    context = browser.new_context()
    try:
        requested: list[str] = []
        elsewhere: list[str] = []
        context.on("request", lambda request: requested.append(request.url))
        context.route(lambda url: not url.startswith(live_server.url),
                      lambda route: (elsewhere.append(route.request.url),
                                     route.fulfill(status=200, content_type="text/html", body="<p>provider</p>")))
        page = context.new_page()
        page.goto(f"{live_server.url}/e/{slug}")
        page.wait_for_load_state("networkidle")
        cards = page.locator(f"#post-{post.json()['id']} .video-card")
        assert cards.count() == 3
        assert elsewhere == []  # cards, text and thumbnails are all this site's
        assert all(url.startswith(live_server.url) for url in requested) and not any("/embed/player/" in u for u in requested)
        csp = page.evaluate("() => fetch(location.href).then(r => r.headers.get('content-security-policy'))")
        assert "youtube" not in csp and "twitter" not in csp and "frame-src" not in csp  # frames: this site's alone

        # the YouTube card plays here: this site's player page, then YouTube's no-cookie player in it
        youtube = cards.nth(0)
        assert youtube.locator("a.card-play").count() == 1 and cards.nth(2).locator("a.card-play").count() == 0  # Mastodon: link only
        seen = len(requested)
        with page.expect_request(lambda request: "youtube-nocookie" in request.url):
            youtube.locator("a.card-play").click()
        frame = youtube.locator("iframe.card-player")
        expect(frame).to_be_visible()
        assert frame.get_attribute("src").startswith("/embed/player/youtube?url=")
        assert page.url == f"{live_server.url}/e/{slug}"  # the reader stays on the page
        assert [u for u in requested[seen:] if not u.startswith(live_server.url)] == ["https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"]
        assert elsewhere == ["https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"]
        assert any(u.startswith(f"{live_server.url}/embed/player/youtube?url=") for u in requested[seen:])
        assert youtube.locator(".card-thumb").count() == 0

        seen = len(requested)  # the X post is shown in X's own frame, on its click alone
        with page.expect_request(lambda request: "platform.twitter.com" in request.url):
            cards.nth(1).locator("a.card-play").click()
        expect(cards.nth(1).locator("iframe.card-player-post")).to_be_visible()
        assert [u for u in requested[seen:] if not u.startswith(live_server.url)] == [
            "https://platform.twitter.com/embed/Tweet.html?id=1790000000000000000&dnt=true"]

        with page.expect_navigation():  # a card still links out to the video itself
            cards.locator("a:has-text('Watch the video')").first.click()
        assert elsewhere[-1] == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    finally:
        context.close()


def test_the_player_page_lets_in_its_provider_alone(server):
    answer = server.get("/embed/player/vimeo", params={"url": "https://vimeo.com/76979871"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    csp = answer.headers["content-security-policy"]
    assert "frame-src https://player.vimeo.com;" in csp and "default-src 'none'" in csp and "script-src" not in csp
    assert len(answer.headers.get_list("content-security-policy")) == 1 and "x-frame-options" not in answer.headers
    assert 'src="https://player.vimeo.com/video/76979871?autoplay=1&amp;dnt=1"' in answer.text
    page_csp = server.get("/").headers["content-security-policy"]
    assert "vimeo" not in page_csp  # the reader's pages keep theirs
    for provider, url in [("youtube", "https://vimeo.com/76979871"),  # not the link's provider
                          ("mastodon", "https://mastodon.example.org/@ferrynews/112233445566"),  # any server: no player
                          ("youtube", "https://www.youtube.com/watch?v=%22%3E%3Cscript%3E"),
                          ("youtube", "javascript:alert(1)"), ("x", "https://evil.example/x/status/1")]:
        refused = server.get(f"/embed/player/{provider}", params={"url": url})
        assert refused.status_code == 404, (provider, url)
    assert server.get("/embed/player/youtube").status_code == 422


def test_the_desk_makes_a_card_from_a_pasted_link(live_server, browser: Browser):
    from conftest import log_in, make_user
    from test_desk import create_event

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        log_in(page, live_server, make_user(live_server, "editor"))
        slug = create_event(page, "Quay storm posts")
        page.fill("#f-body", "A resident filmed the waves.")
        page.click("summary:has-text('Social post or video link')")
        page.fill("#f-embed", "https://bsky.app/profile/harbour.example.org/post/3kabc2def")
        page.click("#publish")
        expect(page.locator(".notice")).to_have_text("Published.")
        with live_server.client() as client:
            [post] = client.get(f"/api/events/{slug}/posts").json()["posts"]
        assert post["media"] == [{"kind": "embed", "url": "https://bsky.app/profile/harbour.example.org/post/3kabc2def",
                                  "source": "Bluesky", "author": "@harbour.example.org"}]
        page.fill("#f-body", "Another.")
        page.click("summary:has-text('Social post or video link')")
        page.fill("#f-embed", "javascript:alert(1)")
        page.click("#publish")
        expect(page.locator("[role=alert], .error").first).to_contain_text("http(s) address")
    finally:
        context.close()


@pytest.mark.parametrize(("url", "player"), [
    ("https://www.youtube.com/watch?v=dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
    ("https://youtu.be/dQw4w9WgXcQ", "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?autoplay=1"),
    ("https://vimeo.com/76979871", "https://player.vimeo.com/video/76979871?autoplay=1&dnt=1"),
    ("https://x.com/harbourdesk/status/1790000000000000000", "https://platform.twitter.com/embed/Tweet.html?id=1790000000000000000&dnt=true"),
    ("https://www.instagram.com/p/C7abcDEF123/", "https://www.instagram.com/p/C7abcDEF123/embed/"),
    ("https://www.tiktok.com/@quaywatch/video/7350000000000000000", "https://www.tiktok.com/embed/v2/7350000000000000000"),
    ("https://www.facebook.com/harbourdesk/videos/123456789",
     "https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fharbourdesk%2Fvideos%2F123456789"),
    ("https://bsky.app/profile/did:plc:abcdefghijklmnopqrstuvwx/post/3kabc2defghij",
     "https://embed.bsky.app/embed/did:plc:abcdefghijklmnopqrstuvwx/app.bsky.feed.post/3kabc2defghij"),
    ("https://bsky.app/profile/harbour.example.org/post/3kabc2def", None),  # a handle: the embed needs the DID
    ("https://mastodon.example.org/@ferrynews/112233445566", None),  # anyone's server: the link leads out
    ("https://www.youtube.com/watch?v=%22%3E%3Cscript%3E", None),
    ("https://evil.example/watch?v=dQw4w9WgXcQ", None),
])
def test_a_player_is_the_providers_own_frame_made_from_the_links_ids(url, player):
    from livedesk.ingest.embeds import player_frame

    found = player_frame(url)
    assert (found[1] if found else None) == player


def test_cards_with_their_play_links_and_the_player_page_are_valid_html(server, editor, tmp_path):
    from test_pages_standards import vnu_errors

    slug = unique("cards")
    assert editor.post("/api/events", json={"slug": slug, "title": "Storm posts"}).status_code == 201
    media = [editor.post("/api/embeds", json={"url": url}).json() for url, *_ in LINKS]
    assert editor.post(f"/api/events/{slug}/posts", json={"body": "What people post.", "media": media}).status_code == 201
    page = server.get(f"/e/{slug}").text
    assert page.count('class="card-play"') == 8  # all but Bluesky by handle and Mastodon
    files = {"event.html": page, "player.html": server.get("/embed/player/youtube", params={"url": LINKS[0][0]}).text}
    for name, html in files.items():
        (tmp_path / name).write_text(html)
    assert vnu_errors([tmp_path / name for name in files]) == {name: [] for name in files}
