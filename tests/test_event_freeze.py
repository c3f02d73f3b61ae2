"""`livedesk event freeze`: an event as static files (its pages, feeds and JSON-LD), served from a
plain folder and read in Chromium without the server."""

from __future__ import annotations

import json
import re
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import feedparser
import pytest

from conftest import cli_here, http_server, unique


@pytest.fixture(scope="module")
def frozen(server, tmp_path_factory) -> tuple[str, Path, list[str]]:
    """An ended event of 45 posts (three pages), frozen; its post ids, newest first."""
    slug = unique("frozen")
    with server.client(server.token("editor")) as editor:
        assert editor.post("/api/events", json={"slug": slug, "title": "Lighthouse relit"}).status_code == 201
        ids = [editor.post(f"/api/events/{slug}/posts", json={"headline": f"Update {n}", "body": f"Keeper's log, entry {n}.",
                                                               "topics": ["lights"]}).json()["id"] for n in range(45)]
        assert editor.patch(f"/api/events/{slug}", json={"status": "ended"}).status_code == 200
    folder = tmp_path_factory.mktemp("frozen")
    result = cli_here("event", "freeze", slug, str(folder), env=server.env)
    assert f"froze {slug}" in result.stdout
    return slug, folder, ids[::-1]


def test_every_post_is_on_the_frozen_pages_in_order(frozen) -> None:
    slug, folder, ids = frozen
    pages = [folder / "e" / slug / "index.html", folder / "e" / slug / "page" / "2" / "index.html",
             folder / "e" / slug / "page" / "3" / "index.html"]
    found = [post_id for page in pages for post_id in re.findall(r'id="post-([a-z0-9]+)"', page.read_text())]
    assert found == ids
    assert not (folder / "e" / slug / "page" / "4").exists()
    first = pages[0].read_text()
    assert f'href="/e/{slug}/page/2/"' in first and "reader.js" not in first


def test_the_pages_are_the_apps_own(server, frozen) -> None:
    slug, folder, _ids = frozen
    live = server.get(f"/e/{slug}").text
    frozen_page = (folder / "e" / slug / "index.html").read_text()
    assert frozen_page.split("<main", 1)[1].split('<p class="more">', 1)[0] == live.split("<main", 1)[1].split('<p class="more">', 1)[0]


def test_feeds_and_json_ld_are_written(frozen) -> None:
    slug, folder, _ids = frozen
    jsonld = json.loads((folder / "e" / slug / "liveblog.jsonld").read_text())
    assert jsonld["@type"] == "LiveBlogPosting" and jsonld["liveBlogUpdate"]
    for name in ("rss.xml", "atom.xml"):
        feed = feedparser.parse((folder / "e" / slug / name).read_bytes())
        assert not feed.bozo and feed.entries
    assert json.loads((folder / "e" / slug / "feed.json").read_text())["items"]


def test_the_folder_serves_the_event_without_the_server(browser, frozen) -> None:
    slug, folder, ids = frozen
    handler = partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    with http_server(handler) as httpd:
        base = f"http://127.0.0.1:{httpd.server_port}"
        tab = browser.new_page()
        failed: list[str] = []
        tab.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
        try:
            tab.goto(f"{base}/e/{slug}/")
            assert tab.locator(f"#post-{ids[0]}").is_visible()
            assert tab.evaluate("getComputedStyle(document.body).fontFamily") != ""
            tab.click("a[rel=next]")
            tab.locator(f"#post-{ids[20]}").wait_for()
        finally:
            tab.close()
        assert failed == []


def test_an_unknown_event_is_refused_in_one_line(server, tmp_path: Path) -> None:
    result = cli_here("event", "freeze", "no-such-event", str(tmp_path / "out"), env=server.env, check=False)
    assert result.returncode == 2 and "no event" in result.stderr and "Traceback" not in result.stderr


def test_uploaded_photos_are_frozen_with_their_renditions(server, tmp_path: Path) -> None:
    from test_photos import event_with_photo

    slug, item = event_with_photo(server, "Lighthouse photos", 1200, 800)
    cli_here("event", "freeze", slug, str(tmp_path), env=server.env)
    for width in item["widths"]:
        for ext in ("jpg", "webp"):
            frozen = tmp_path / "media" / f"{item['upload']}-{width}.{ext}"
            assert frozen.read_bytes() == server.get(f"/media/{item['upload']}-{width}.{ext}").content
