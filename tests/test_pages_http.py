"""The pages over plain HTTP, as a reader without JavaScript (or a crawler) gets them."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import httpx
import pytest
from lxml import html as lxml_html

from conftest import App, server_env, unique, wait_until
from livedesk.web import currency
from livedesk.web.search import highlight

PARTNER_RSS = """<?xml version="1.0"?>
<rss version="2.0"><channel><title>Skerrvik Gazette</title><link>https://gazette.example/</link>
<description>Local news</description>
<item><title>Lighthouse keepers vote on new rota</title><link>https://gazette.example/rota</link>
<guid>https://gazette.example/rota</guid><pubDate>Mon, 23 Nov 2026 09:00:00 GMT</pubDate>
<description>The vote closes on Friday.</description></item>
</channel></rss>
"""

RATES_CSV = "Date, USD, JPY, GBP, \n20 November 2026, 1.1000, 160.00, 0.8500, \n"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The app with partner feeds (one good, one missing) and CSV rates configured, in this process."""
    folder = tmp_path_factory.mktemp("site")
    (folder / "partner.xml").write_text(PARTNER_RSS)
    (folder / "rates.csv").write_text(RATES_CSV)
    env = server_env(folder, LIVEDESK_PARTNER_FEEDS=f"{folder / 'partner.xml'},{folder / 'missing.xml'}",
                     LIVEDESK_RATES_PATH=str(folder / "rates.csv"), LIVEDESK_PUBLIC_URL="https://news.example")
    app = App(env).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def desk(site):
    with site.client(site.token("editor")) as client:
        yield client


def new_event(desk, posts: int, **extra) -> tuple[str, list[dict]]:
    slug = unique("ht")
    assert desk.post("/api/events", json={"slug": slug, "title": "Bridge repairs on the Vell", **extra}).status_code == 201
    made = []
    for i in range(posts):
        response = desk.post(f"/api/events/{slug}/posts", json={"headline": f"Span {i} lifted", "body": f"Crane crews lifted span {i}.",
                                                                 "topics": ["bridge"]})
        assert response.status_code == 201, response.text
        made.append(response.json())
    return slug, made


def doc(response: httpx.Response):
    assert response.status_code == 200, response.text[:500]
    return lxml_html.fromstring(response.text)


def test_the_event_page_without_javascript_shows_posts_and_a_show_more_link(site, desk):
    slug, made = new_event(desk, 23)
    page = doc(site.get(f"/e/{slug}"))
    ids = [li.get("id") for li in page.xpath("//ol[@data-posts]/li")]
    assert ids == [f"post-{p['id']}" for p in reversed(made)][:20]
    more = page.xpath("//a[@data-more]")
    assert more and more[0].text_content() == "Show more"
    older = doc(site.get(f"/e/{slug}{more[0].get('href')}"))
    assert [li.get("id") for li in older.xpath("//ol[@data-posts]/li")] == [f"post-{p['id']}" for p in reversed(made[:3])]
    assert not older.xpath("//a[@data-more]")
    oldest = doc(site.get(f"/e/{slug}?order=oldest"))
    assert oldest.xpath("//ol[@data-posts]/li")[0].get("id") == f"post-{made[0]['id']}"
    # a post's own address sends people to the post on the event page
    moved = site.get(f"/e/{slug}/p/{made[0]['id']}")
    assert moved.status_code == 303 and moved.headers["location"] == f"/e/{slug}#post-{made[0]['id']}"
    fragment = site.get(f"/e/{slug}/p/{made[0]['id']}?fragment=1")
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith(f'<li class="post" id="post-{made[0]["id"]}"')


def test_pages_carry_security_headers_and_revalidate_with_etags(site, desk):
    slug, _ = new_event(desk, 1)
    # the page holds the newest change the app has heard of, and background work (alignment, and
    # through Redis the news of the write) may add one a moment later: the page is settled once
    # asking again with its ETag gets 304
    def settled():
        page = site.get(f"/e/{slug}")
        again = site.get(f"/e/{slug}", headers={"If-None-Match": page.headers["etag"]})
        return again.status_code == 304 and (page, again)

    first, again = wait_until(settled, message="the page settles and revalidates with 304")
    csp = first.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert first.headers["x-content-type-options"] == "nosniff"
    assert first.headers["referrer-policy"]
    assert not re.search(r"<script(?![^>]*(type=\"application/(ld\+)?json\"|src=))", first.text), "inline script found"
    assert first.headers["content-encoding"] == "gzip" and first.headers["vary"] == "Accept-Encoding"
    assert again.headers["etag"] == first.headers["etag"] and not again.content
    plain = site.get(f"/e/{slug}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == first.text
    assert plain.headers["content-security-policy"] == csp  # also when answered from the cache
    assert plain.headers["x-frame-options"] == "DENY"
    assert plain.headers["etag"] != first.headers["etag"]
    embed = site.get(f"/embed/{slug}")
    assert embed.status_code == 200 and "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    # a new post changes the page, so the old ETag no longer matches
    desk.post(f"/api/events/{slug}/posts", json={"body": "A later post."})
    later = wait_until(lambda: (page := site.get(f"/e/{slug}", headers={"If-None-Match": first.headers["etag"]})).status_code == 200
                       and page, message="a new page")
    assert "A later post." in later.text


def test_every_page_of_a_missing_event_says_so_in_the_same_words(site):
    pages = ["/e/no-such-event", "/embed/no-such-event", "/e/no-such-event/p/abc?fragment=1", "/e/no-such-event/more",
             "/e/no-such-event/compare", "/e/no-such-event/timeline"]
    for path in pages:
        answer = site.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html"), path
        assert "There is no event called “no-such-event”." in answer.text, path


def test_missing_event_and_bad_cursor_get_clear_pages(site):
    missing = site.get("/e/no-such-event")
    assert missing.status_code == 404 and "There is no event called" in missing.text
    assert missing.headers["content-type"].startswith("text/html")
    bad = site.get("/e/no-such-event?before=%%%")
    assert bad.status_code in (400, 404)


def test_json_ld_is_a_live_blog_posting_and_cannot_break_out_of_its_script(site, desk):
    slug, _ = new_event(desk, 0, lead_media={"url": "/static/demo/fog.svg", "caption": "Fog on the river"})
    response = desk.post(f"/api/events/{slug}/posts", json={
        "headline": "Divers check the piers",
        "body": "The river is calm & clear </script><script>alert(1)</script>", "media": [{"url": "/static/demo/chart.svg", "caption": "Load chart"}]})
    post = response.json()
    desk.patch(f"/api/events/{slug}", json={"status": "ended"})
    text = site.get(f"/e/{slug}").text
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert len(blocks) == 1 and "<" not in blocks[0]
    data = json.loads(blocks[0])
    assert data["@type"] == "LiveBlogPosting" and data["coverageStartTime"] and data["coverageEndTime"]
    update = data["liveBlogUpdate"][0]
    assert update["@type"] == "BlogPosting"
    assert update["headline"] == "Divers check the piers"
    assert update["articleBody"] == "The river is calm & clear </script><script>alert(1)</script>"
    assert update["datePublished"] and update["dateModified"]
    assert update["url"] == f"https://news.example/e/{slug}#post-{post['id']}"
    assert update["image"] == "https://news.example/static/demo/chart.svg"
    page = lxml_html.fromstring(text)
    assert page.xpath('//meta[@property="og:title"]')[0].get("content") == "Bridge repairs on the Vell"
    assert page.xpath('//meta[@property="og:image"]')[0].get("content") == "https://news.example/static/demo/fog.svg"
    assert page.xpath('//meta[@name="twitter:card"]')[0].get("content") == "summary_large_image"
    assert page.xpath("//*[@data-status]")[0].text_content() == "Ended"


def test_partner_news_shows_good_feeds_and_ignores_broken_ones(site, desk):
    slug, _ = new_event(desk, 1, links=[{"url": "https://river.example/history", "title": "A history of the Vell bridges"}])
    page = doc(site.get(f"/e/{slug}"))
    partners = page.xpath("//h2[@id='partners']/following-sibling::ul//a")
    assert [a.text_content() for a in partners] == ["Lighthouse keepers vote on new rota"]
    assert partners[0].get("href") == "https://gazette.example/rota"
    assert [a.text_content() for a in page.xpath("//h2[@id='readmore']/following-sibling::ul//a")] == ["A history of the Vell bridges"]


def test_search_page_has_facets_highlights_and_pages(site, desk):
    word = unique("otter").replace("-", "")
    slug, _ = new_event(desk, 0)
    for i in range(23):
        desk.post(f"/api/events/{slug}/posts", json={"body": f"An {word} <b>swam</b> under span {i}.",
                                                     "topics": ["wildlife" if i % 2 else "bridge"]})
    page = doc(site.get("/search", params={"q": word}))
    assert "23 results" in page.xpath("//*[@role='status']")[0].text_content()
    assert len(page.xpath("//ol[@class='results']/li")) == 20
    marks = page.xpath("//ol[@class='results']//mark")
    assert marks and marks[0].text_content().lower() == word
    assert "<b>" in page.xpath("//ol[@class='results']//p")[0].text_content()  # shown as text, never as markup
    topics = {a.text_content(): a.get("href") for a in page.xpath("//a[@data-facet='topic']")}
    assert set(topics) == {"wildlife", "bridge"}
    assert [a.text_content() for a in page.xpath("//a[@data-facet='event']")] == ["Bridge repairs on the Vell"]
    assert page.xpath("//a[@data-facet='day']")
    second = doc(site.get("/search", params={"q": word, "page": 2}))
    assert len(second.xpath("//ol[@class='results']/li")) == 3
    narrowed = doc(site.get(f"/search{topics['wildlife']}"))
    assert "11 results" in narrowed.xpath("//*[@role='status']")[0].text_content()


def test_home_and_topic_pages_list_posts(site, desk):
    slug, made = new_event(desk, 2)
    home = doc(site.get("/"))
    assert home.xpath(f"//*[@id='post-{made[-1]['id']}']")
    assert any(a.get("href") == f"/e/{slug}" for a in home.xpath("//ul[@class='event-list']//a"))
    topics = doc(site.get("/topics"))
    assert any(a.text_content() == "bridge" for a in topics.xpath("//ul[@class='topic-list']//a"))
    topic = doc(site.get("/topics/bridge"))
    assert topic.xpath(f"//*[@id='post-{made[0]['id']}']")


def test_the_currency_converter_reads_csv_rates_and_explains_bad_input(site):
    page = doc(site.get("/tools/currency", params={"amount": "50", "from": "USD", "to": "GBP"}))
    assert page.xpath("//*[@data-result]")[0].text_content() == "50 USD = 38.64 GBP"
    assert "20 November 2026" in page.text_content()
    bad = site.get("/tools/currency", params={"amount": "abc", "from": "USD", "to": "GBP"})
    assert bad.status_code == 422 and "is not an amount" in bad.text
    unknown = site.get("/tools/currency", params={"amount": "5", "from": "XYZ", "to": "GBP"})
    assert unknown.status_code == 422 and "“XYZ” is not a currency in the rates of 2026-11-20" in unknown.text


def test_rates_parsing_and_conversion_both_ways():
    rates = currency.parse_rates(currency.SAMPLE.read_bytes())
    assert rates.day.isoformat() == "2026-11-20" and rates.per_euro["USD"] == Decimal("1.0914")
    there = currency.convert(rates, "1,234.50", "EUR", "USD")
    back = currency.convert(rates, str(there.result), "USD", "EUR")
    assert there.result == Decimal("1347.33") and abs(back.result - Decimal("1234.50")) <= Decimal("0.01")
    assert currency.convert(rates, "12,5", "EUR", "EUR").result == Decimal("12.50")
    for bad in ("abc", "-3", "NaN", "1e400"):
        with pytest.raises(currency.ConversionError):
            currency.convert(rates, bad, "EUR", "USD")
    with pytest.raises(currency.RatesError):
        currency.parse_rates(b"<rates><broken")
    with pytest.raises(currency.RatesError):
        currency.parse_rates(b"USD,1.1\n")


def test_highlight_escapes_before_marking():
    marked = highlight('Fish & chips <script>alert("amp")</script> at the amp stage', "amp")
    assert "<script>" not in marked
    assert str(marked).count("<mark>") == 2  # the word twice, never inside an &amp; entity
    assert "&amp; chips &lt;script&gt;" in marked


def test_snippets_end_and_start_at_whole_words():
    text = ("The ferry crews met again on Thursday morning. " * 3) + "Talks on the autumn timetable resume " + \
        "after a short break for lunch, the union's spokeswoman said outside the harbour office. " * 4
    snippet = str(highlight(text, "autumn", width=120))
    assert "<mark>autumn</mark>" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")
    inner = snippet[2:-2]
    assert inner.split(" ")[0] in text.split(" ") and inner.split(" ")[-1] in text.split(" ")
    plain = str(highlight(text, "", width=50))
    assert plain.endswith(" …") and plain[:-2].split(" ")[-1] in text.split(" ")


def test_an_app_keeps_the_rates_it_read_and_a_new_app_reads_them_again(tmp_path):
    from fastapi.testclient import TestClient

    from conftest import broker_url, database_url
    from livedesk.config import Settings
    from livedesk.store.db import make_engine, upgrade
    from livedesk.web.app import create_app

    rates = tmp_path / "rates.csv"
    rates.write_text(RATES_CSV)
    settings = Settings(database_url=database_url(tmp_path), broker_url=broker_url(), rates_path=str(rates))
    engine = make_engine(settings.database_url)
    upgrade(engine)
    engine.dispose()

    def converted(client) -> str:
        page = doc(client.get("/tools/currency", params={"amount": "10", "from": "EUR", "to": "USD"}))
        return page.xpath("//*[@data-result]")[0].text_content()

    with TestClient(create_app(settings)) as client:
        assert converted(client) == "10 EUR = 11.00 USD"
        rates.write_text(RATES_CSV.replace("1.1000", "1.2000"))
        assert converted(client) == "10 EUR = 11.00 USD"  # kept for ten minutes
    with TestClient(create_app(settings)) as client:
        assert converted(client) == "10 EUR = 12.00 USD"
