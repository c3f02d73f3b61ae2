"""The XSS corpus, posted and ingested, then opened in a real Chromium: no vector may run.

Every vector in fixtures/xss/vectors.txt goes in as a post body, headline, image caption,
credit and alt text, author, topic, key point, link title, and as an event's title and
standfirst; it is ingested as pasted page text and as a JSON-LD page fetched from a local
site. Then the reader page (live and paged), the embed view, the feeds, the search results,
the topic pages and the desk are opened with a hook that records any script execution:
`__xss`, `alert`, `confirm`, `prompt` and `print` are replaced by recorders, dialogs and
Content-Security-Policy violations are recorded too. Each page's security headers are checked.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page

from conftest import Server, http_server, server_env, unique

VECTORS = [
    line.replace("\\n", "\n")
    for line in (Path(__file__).parent / "fixtures" / "xss" / "vectors.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("# ")
]

pytestmark = [pytest.mark.slow, pytest.mark.rendering]  # the whole corpus goes through a server of its own

MARK = "lanternword"  # a word in every post, so one search finds them all
START = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)

HOOK = """
(() => {
  const hits = [];
  const record = (kind) => function (...args) { hits.push(kind + ": " + String(args[0])); };
  const lock = (name, value) => Object.defineProperty(window, name, { value, writable: false, configurable: false });
  lock("__xssHits", hits);
  for (const name of ["__xss", "alert", "confirm", "prompt", "print"]) lock(name, record(name));
  document.addEventListener("securitypolicyviolation", (e) =>
    hits.push("csp: " + e.violatedDirective + " blocked " + e.blockedURI + " " + (e.sample || "")), true);
})();
"""

# Markup that must never be in a page built from stored coverage, whether or not it ran.
AUDIT = """
() => {
  const found = [];
  if (document.contentType !== "text/html") return found;  // the browser's own view of a feed
  const urls = ["href", "src", "action", "formaction", "xlink:href", "data", "background", "poster", "srcdoc"];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName.toLowerCase();
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value.replace(/[\\u0000-\\u0020]/g, "").toLowerCase();
      if (name.startsWith("on") || name === "style" || name === "srcdoc") found.push(tag + " " + name + "=" + attr.value.slice(0, 60));
      else if (urls.includes(name) && value !== "data:," && /^(javascript|vbscript|data:(?!image\\/(png|jpe?g|gif|webp)))/.test(value))
        found.push(tag + " " + name + "=" + attr.value.slice(0, 60));
    }
    if (["iframe", "frame", "object", "embed", "applet"].includes(tag)) found.push("<" + tag + ">");
    if (tag === "base" && el.hasAttribute("href")) found.push("<base href>");
    if (tag === "meta" && (el.getAttribute("http-equiv") || "").toLowerCase() === "refresh") found.push("meta refresh");
    if (tag === "script" && !el.getAttribute("src") && !["application/ld+json", "application/json"].includes(el.type))
      found.push("inline script: " + el.textContent.slice(0, 60));
    if (tag === "script" && el.getAttribute("src") && new URL(el.src, location.href).origin !== location.origin)
      found.push("script from " + el.src);
  }
  return found;
}
"""


# ---- a site to ingest from -------------------------------------------------------------------

def json_ld_page() -> bytes:
    updates = [
        {
            "@type": "BlogPosting",
            "headline": vector,
            "articleBody": f"{vector} {MARK}",
            "datePublished": (START + timedelta(minutes=i)).isoformat(),
            "author": {"@type": "Person", "name": vector[:100]},
            "image": {"@type": "ImageObject", "url": "https://example.org/pier.jpg", "caption": vector},
        }
        for i, vector in enumerate(VECTORS)
    ]
    data = {"@context": "https://schema.org", "@type": "LiveBlogPosting", "headline": "Vector Wire live",
            "publisher": {"@type": "Organization", "name": "Vector Wire"}, "liveBlogUpdate": updates}
    script = json.dumps(data).replace("</", "<\\/")  # a well-made page escapes its own JSON
    return f'<html><head><title>Vector Wire</title><script type="application/ld+json">{script}</script></head><body><p>Live</p></body></html>'.encode()


CONTROL = b"<p>Control</p><script>__xss('inline')</script><img src=x onerror=\"alert('handler')\">"


class Outlet(BaseHTTPRequestHandler):
    """Another site: the page livedesk follows, a page that frames livedesk, and control pages."""

    livedesk = ""  # the livedesk server's base URL

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        framer = (f'<iframe id="page" src="{self.livedesk}/e/{{slug}}"></iframe>'
                  f'<iframe id="embed" src="{self.livedesk}/embed/{{slug}}"></iframe>')
        pages = {
            "/live": (json_ld_page(), {}),
            "/framer": (framer.format(slug=self.path.partition("?")[2]).encode(), {}),
            "/control": (CONTROL, {}),
            "/control-csp": (CONTROL, {"Content-Security-Policy": "script-src 'self'"}),
        }
        body, headers = pages.get(self.path.partition("?")[0], (None, {}))
        if body is not None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    def log_message(self, *args) -> None:
        pass


def pasted_text() -> str:
    """A page of clock times only, all in the past: read as today's (or yesterday's) posts, they
    stay older than the posts the tests publish live."""
    first = datetime.now(UTC) - timedelta(minutes=len(VECTORS) + 30)
    lines = ["Lantern Pasted Wire", "Live updates", ""]
    for i, vector in enumerate(VECTORS):
        lines += [(first + timedelta(minutes=i)).strftime("%H:%M GMT"), f"{vector} {MARK}", ""]
    return "\n".join(lines)


# ---- the coverage ------------------------------------------------------------------------------

def ok(response: httpx.Response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def marked(vector: str, limit: int = 500) -> str:
    """The vector after a plain word, for fields that must not be empty once cleaned."""
    return MARK + " " + vector[: limit - len(MARK) - 1]


def media(i: int, vector: str) -> dict:
    kind = "image" if i % 2 == 0 else "video"
    return {"kind": kind, "url": "https://example.org/m?" + quote(vector, safe="")[:1900] if i % 3 else "/static/demo/fog.svg",
            "caption": vector, "credit": vector[:300], "alt": vector, **({"title": vector} if kind == "video" else {})}


def publish_vectors(editor: httpx.Client, slug: str, round_name: str) -> list[str]:
    ids = []
    for i, vector in enumerate(VECTORS):
        post = ok(editor.post(f"/api/events/{slug}/posts", json={
            "body": f"{vector}\n\n{MARK} {round_name} {i}", "headline": vector[:500], "media": [media(i, vector)],
            "authors": [vector[:120]], "topics": [vector[:80], "vectors"],
        }))
        ids.append(post["id"])
    return ids


def fill(editor: httpx.Client, outlet_url: str) -> dict:
    """Every vector into every field of the coverage; returns the main event, its posts, the other events."""
    slug = unique("xss")
    ok(editor.post("/api/events", json={
        "slug": slug, "title": "Harbour check", "standfirst": "Hostile markup, posted and ingested.",
        "key_points": [{"text": marked(v)} for v in VECTORS[:30]],
        "links": [{"url": "https://example.org/read?" + quote(v, safe="")[:1900], "title": v[:300]} for v in VECTORS[:50]],
    }))
    post_ids = publish_vectors(editor, slug, "first")
    events = []
    for i, vector in enumerate(VECTORS):
        other = unique(f"xss-v{i}")
        ok(editor.post("/api/events", json={
            "slug": other, "title": marked(vector, 300), "standfirst": marked(vector),
            "key_points": [{"text": marked(vector)}],
            "links": [{"url": "https://example.org/?" + quote(vector, safe="")[:1900], "title": vector[:300]}],
            "lead_media": media(i, vector),
        }))
        ok(editor.post(f"/api/events/{other}/posts", json={"body": f"{vector} {MARK}", "headline": vector[:500]}))
        events.append(other)
    # Reading a page stores and aligns its posts before answering: give it time on a busy machine.
    ok(editor.post(f"/api/events/{slug}/sources", json={"text": pasted_text(), "outlet": "Lantern Pasted Wire"}, timeout=180))
    ok(editor.post(f"/api/events/{slug}/sources", json={"url": outlet_url + "/live", "outlet": "Vector Wire", "poll_interval": 60},
                   timeout=180))
    return {"slug": slug, "posts": post_ids, "events": events}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with http_server(Outlet) as outlet:
        outlet_url = f"http://127.0.0.1:{outlet.server_port}"
        server = Server(server_env(tmp_path_factory.mktemp("xss"), LIVEDESK_FETCH_ALLOW_PRIVATE="1", LIVEDESK_KEEPALIVE_S="1"))
        try:
            server.start()
            Outlet.livedesk = server.url  # its port is known once it runs
            token = server.token("editor")
            with server.client(token) as editor:
                yield {"server": server, "editor": editor, "token": token, "outlet": outlet_url, **fill(editor, outlet_url)}
        finally:
            server.stop()


def wait_for_ingest(site: dict) -> int:
    """Posts of other outlets in the main event, once both sources were read."""
    deadline = time.monotonic() + 60
    count = 0
    while time.monotonic() < deadline:
        found = site["editor"].get(f"/api/events/{site['slug']}/posts", params={"outlets": "others", "limit": 100}).json()
        count = len(found["posts"])
        if count >= len(VECTORS) + 20:
            return count
        time.sleep(0.5)
    return count


# ---- the browser -----------------------------------------------------------------------------

class Watch:
    """One browser tab with the hook; remembers every hit, dialog, console error and bad header."""

    def __init__(self, browser, base: str) -> None:
        self.base = base
        self.context = browser.new_context()
        self.context.add_init_script(HOOK)
        self.context.route("**/*", self._local_only)
        self.page: Page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.hits: list[str] = []
        self.header_problems: list[str] = []
        self.visited = 0
        self.page.on("dialog", lambda d: (self.hits.append(f"dialog {d.type}: {d.message} on {self.page.url}"), d.dismiss()))
        self.page.on("pageerror", lambda e: self.hits.append(f"page error on {self.page.url}: {e}"))
        self.page.on("console", self._console)

    def _local_only(self, route) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            route.abort()

    def _console(self, message) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.hits.append(f"console on {self.page.url}: {text[:300]}")

    def collect(self) -> None:
        for frame in self.page.frames:
            try:
                found = frame.evaluate("() => window.__xssHits ? Array.from(window.__xssHits) : []")
            except Exception:  # noqa: BLE001 - a frame without a script context (blocked or blank)
                found = []
            self.hits += [f"{hit} on {frame.url}" for hit in found]
        if self.page.url.startswith(self.base):
            self.hits += [f"{bad} in {self.page.url}" for bad in self.page.evaluate(AUDIT)]

    def visit(self, path: str, *, embed: bool = False) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None, path
        self.check_headers(path, response.headers, embed=embed)
        self.page.keyboard.press("Tab")  # focus handlers, if any survived
        self.page.mouse.move(200, 300)
        self.page.wait_for_timeout(30)
        self.collect()
        self.visited += 1

    def check_headers(self, path: str, headers: dict, *, embed: bool = False) -> None:
        csp = headers.get("content-security-policy", "")
        script = next((d for d in csp.split(";") if d.strip().startswith(("script-src", "default-src"))), "")
        problems = []
        if "script-src" not in csp or "'unsafe-inline'" in script or "'unsafe-eval'" in csp:
            problems.append(f"CSP allows inline script or has none: {csp!r}")
        if headers.get("x-content-type-options", "").lower() != "nosniff":
            problems.append("no X-Content-Type-Options: nosniff")
        if not headers.get("referrer-policy"):
            problems.append("no Referrer-Policy")
        ancestors = next((d.strip() for d in csp.split(";") if d.strip().startswith("frame-ancestors")), "")
        if embed and ("'none'" in ancestors or headers.get("x-frame-options")):
            problems.append(f"the embed view cannot be framed: {ancestors!r}")
        if not embed and ancestors not in ("frame-ancestors 'none'", "frame-ancestors 'self'"):
            problems.append(f"framing not refused: {ancestors!r}")
        self.header_problems += [f"{path}: {p}" for p in problems]

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(browser, site):
    tab = Watch(browser, site["server"].url)
    yield tab
    tab.close()


def assert_clean(watch: Watch) -> None:
    assert watch.visited > 0
    assert watch.hits == [], "\n".join(watch.hits[:20])
    assert watch.header_problems == [], "\n".join(sorted(set(watch.header_problems))[:20])


# ---- the tests ---------------------------------------------------------------------------------

def test_the_corpus_is_large_and_everything_went_in(site):
    assert len(VECTORS) >= 50
    assert len(set(VECTORS)) == len(VECTORS)
    assert len(site["posts"]) == len(VECTORS) and len(site["events"]) == len(VECTORS)
    assert wait_for_ingest(site) >= len(VECTORS) + 20  # the JSON-LD page's posts and the pasted text's


def test_reader_page_live_and_paged(watch, site):
    slug = site["slug"]
    wait_for_ingest(site)
    watch.visit(f"/e/{slug}")
    # New posts arrive over the stream and are inserted by the page's script.
    live_ids = publish_vectors(site["editor"], slug, "live")
    site["editor"].patch(f"/api/events/{slug}", json={"key_points": [{"text": marked(v)} for v in VECTORS[30:60]],
                                                       "standfirst": marked(VECTORS[0]), "title": marked(VECTORS[1], 300)})
    watch.page.wait_for_selector(f"#post-{live_ids[-1]}", state="attached", timeout=30_000)
    watch.page.wait_for_timeout(500)
    watch.collect()
    # Every older post, through "Show more".
    for _ in range(40):
        more = watch.page.query_selector("[data-more]")
        if more is None or not more.is_visible():
            break
        more.click()
        # The next page is in once the link reads "Show more" again, or is gone at the end.
        watch.page.wait_for_function(
            "() => { const m = document.querySelector('[data-more]');"
            " return !m || m.textContent.trim() !== 'Loading\u2026'; }", timeout=30_000)
        left = watch.page.query_selector("[data-more]")
        assert left is None or "try again" not in left.text_content()
    watch.collect()
    watch.visit(f"/e/{slug}?order=oldest")
    for i in range(0, len(VECTORS), 8):
        watch.visit(f"/e/{slug}?q={quote(VECTORS[i], safe='')}")
    watch.visit(f"/e/{slug}/p/{site['posts'][0]}")
    assert_clean(watch)


def test_event_titles_standfirsts_and_lead_media(watch, site):
    watch.visit("/")
    for other in site["events"]:
        watch.visit(f"/e/{other}")
    assert_clean(watch)


def test_embed_view(watch, site):
    watch.visit(f"/embed/{site['slug']}", embed=True)
    for other in site["events"][::5]:
        watch.visit(f"/embed/{other}", embed=True)
    assert_clean(watch)


def test_feeds_as_documents(watch, site):
    slug = site["slug"]
    for path in (f"/e/{slug}/rss.xml", f"/e/{slug}/atom.xml", f"/e/{slug}/feed.json", "/rss.xml", "/atom.xml", "/feed.json"):
        watch.visit(path)
        text = watch.page.content()
        assert "__xss" in text or MARK in text, path  # the feed really held the vectors
    assert_clean(watch)


def test_search_results_and_topics(watch, site):
    total = len(VECTORS) * 4
    for page in range(1, total // 20 + 2):
        watch.visit(f"/search?q={MARK}&page={page}")
    for vector in VECTORS:
        watch.visit(f"/search?q={quote(vector[:200], safe='')}")
    watch.visit("/topics")
    for vector in VECTORS[::3]:
        topic = site["editor"].get(f"/api/events/{site['slug']}/posts/{site['posts'][VECTORS.index(vector)]}").json()["topics"][0]
        watch.visit(f"/topics/{quote(topic, safe='')}")
    assert_clean(watch)


def test_desk(watch, site):
    page = watch.page
    watch.visit("/desk/login")
    page.click("summary")
    page.fill("#login-token", site["token"])
    page.click("text=Log in with token")
    page.wait_for_url("**/desk")
    watch.collect()
    watch.visit("/desk")
    watch.visit(f"/desk/e/{site['slug']}")
    for post_id in site["posts"][::10]:
        watch.visit(f"/desk/e/{site['slug']}/posts/{post_id}/edit")
    # The live preview puts the sanitised HTML into the page. It asks once typing has paused for
    # 250 ms: the page's clock is moved on past that pause instead of waiting it out per vector.
    page.clock.install()
    watch.visit(f"/desk/e/{site['slug']}")
    for vector in VECTORS:
        page.fill("#f-body", vector)
        with page.expect_response("**/desk/preview"):
            page.dispatch_event("#f-body", "input")
            page.clock.run_for(250)
        page.wait_for_timeout(20)
    page.wait_for_timeout(300)
    watch.collect()
    assert_clean(watch)


def test_framing_is_refused_except_for_the_embed(browser, site):
    """A page of another origin frames the reader page and the embed view."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{site['outlet']}/framer?{site['slug']}")  # waits for the frames' load, refused or not
    page.frame_locator("#embed").locator("[data-posts]").wait_for(state="attached")
    loaded = {}
    for frame_id in ("page", "embed"):
        frame = page.query_selector(f"#{frame_id}").content_frame()
        try:
            loaded[frame_id] = frame.evaluate("() => document.querySelector('[data-posts]') !== null")
        except Exception:  # noqa: BLE001 - a refused frame holds the browser's error page
            loaded[frame_id] = False
    context.close()
    assert loaded == {"page": False, "embed": True}


def test_the_hook_sees_script_that_runs(browser, site):
    """The control: on a page that does run script, the hook records it, and a CSP block too."""
    tab = Watch(browser, site["outlet"])
    tab.page.goto(site["outlet"] + "/control")
    tab.page.wait_for_function("() => window.__xssHits.length >= 2")  # the inline script, then the handler
    tab.collect()
    assert any(h.startswith("__xss: inline") for h in tab.hits) and any(h.startswith("alert: handler") for h in tab.hits)
    tab.hits.clear()
    tab.page.goto(site["outlet"] + "/control-csp")
    tab.page.wait_for_function("() => window.__xssHits.some((hit) => hit.startsWith('csp: script-src'))")
    tab.collect()
    assert any("script-src" in h for h in tab.hits) and not any(h.startswith("__xss") for h in tab.hits)
    tab.close()


@pytest.mark.parametrize("url", ["javascript:__xss()", "JAVASCRIPT:__xss()", " javascript:__xss()",
                                 "data:text/html,<script>__xss()</script>", "vbscript:x"])
def test_an_events_lead_media_takes_only_web_urls(site, url):
    lead = {"kind": "video", "url": url, "caption": "<b>Pier</b>"}
    response = site["editor"].post("/api/events", json={"slug": unique("lead"), "title": "Lead", "lead_media": lead})
    assert response.status_code == 422 and "url" in response.json()["error"]
    response = site["editor"].patch(f"/api/events/{site['events'][0]}", json={"lead_media": lead})
    assert response.status_code == 422
    fine = site["editor"].patch(f"/api/events/{site['events'][0]}", json={"lead_media": {**lead, "url": "/static/demo/fog.svg"}})
    assert fine.json()["lead_media"]["caption"] == "Pier"
