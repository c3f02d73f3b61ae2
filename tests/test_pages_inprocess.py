"""Event page parts that need the store directly: other outlets' posts and "In other media"."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from lxml import html as lxml_html

from conftest import broker_url, database_url, unique
from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.newsroom import publish
from livedesk.newsroom.publish import Actor
from livedesk.store import events as event_store
from livedesk.store.db import make_engine, run_write, upgrade
from livedesk.web import pages
from livedesk.web.app import create_app


def test_other_outlets_switch_and_in_other_media(tmp_path):
    url = database_url(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    actor = Actor(None, "Harbour Desk", "admin")
    slug = unique("ip")
    publish.create_event(engine, {"slug": slug, "title": "Ferry held at the breakwater"}, actor)
    _, own = publish.create_post(engine, MemoryBroker(), slug, {"headline": "Ferry held", "body": "Our reporter is on the quay."}, actor)

    def add_gazette_post(conn):
        event = event_store.get_event(conn, slug)
        outlet = event_store.ensure_outlet(conn, "Skerrvik Gazette")
        content = publish.post_content({"body": "The gazette hears the same.", "headline": "Gazette: ferry waits",
                                        "media": [], "authors": [], "topics": []})
        values = {**content, "outlet_id": outlet.id, "published_at": datetime.now(UTC), "status": "published"}
        return publish.insert_post(conn, event.id, values)[0]

    theirs = run_write(engine, add_gazette_post)
    engine.dispose()
    links = {own["id"]: [{"outlet": "Skerrvik Gazette", "headline": "Gazette: ferry waits", "url": "https://gazette.example/ferry"}]}
    app = create_app(Settings(database_url=url, broker_url=broker_url()))
    previous = pages._other_media  # the app may install the alignment's provider
    pages.set_other_media(lambda conn, event_id, post_ids: {k: v for k, v in links.items() if k in post_ids})
    try:
        with TestClient(app) as client:
            page = lxml_html.fromstring(client.get(f"/e/{slug}").text)
            ours = page.xpath(f"//li[@id='post-{own['id']}']")[0]
            gazette = page.xpath(f"//li[@id='post-{theirs['id']}']")[0]
            assert gazette.xpath(".//div[@class='post-head']/span[contains(@class,'tag-outlet')]")[0].text_content() == "Skerrvik Gazette"
            assert not ours.xpath(".//div[@class='post-head']/span[contains(@class,'tag-outlet')]")
            other_media = ours.xpath(".//section[@class='other-media']//a")
            assert [(a.text_content(), a.get("href")) for a in other_media] == [("Gazette: ferry waits", "https://gazette.example/ferry")]
            assert not gazette.xpath(".//section[@class='other-media']")  # nothing when there is nothing
            own_only = lxml_html.fromstring(client.get(f"/e/{slug}?outlets=own").text)
            assert [li.get("id") for li in own_only.xpath("//ol[@data-posts]/li")] == [f"post-{own['id']}"]
            switch = own_only.xpath("//a[@data-outlets]")[0]
            assert switch.text_content() == "Show other outlets' posts" and switch.get("href") == "?"
    finally:
        pages.set_other_media(previous)


def test_an_outlets_embedded_post_shows_as_a_link_to_it(tmp_path):
    url = database_url(tmp_path)
    engine = make_engine(url)
    upgrade(engine)
    slug = unique("em")
    publish.create_event(engine, {"slug": slug, "title": "Comet night"}, Actor(None, "Sky Desk", "admin"))
    tweet = {"kind": "embed", "url": "https://twitter.com/skywatch/status/1823000000000000002",
             "caption": "First glimpse from the harbour wall!", "source": "X"}

    def add_embed_post(conn):
        event = event_store.get_event(conn, slug)
        outlet = event_store.ensure_outlet(conn, "Skyward Gazette")
        content = publish.post_content({"body": "", "headline": None, "media": [tweet], "authors": [], "topics": []})
        values = {**content, "outlet_id": outlet.id, "published_at": datetime.now(UTC), "status": "published"}
        return publish.insert_post(conn, event.id, values)[0]

    post = run_write(engine, add_embed_post)
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url, broker_url=broker_url()))) as client:
        card = lxml_html.fromstring(client.get(f"/e/{slug}").text).xpath(f"//li[@id='post-{post['id']}']")[0]
        link = card.xpath(".//figure//a")[0]
        assert (link.text_content(), link.get("href")) == ("View the post on X", tweet["url"])
        assert card.xpath(".//figure/blockquote")[0].text_content() == "First glimpse from the harbour wall!"
        assert not card.xpath(".//img")  # another site's post is not a picture
