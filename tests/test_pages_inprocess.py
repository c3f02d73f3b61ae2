"""Event page parts that need the store directly: other outlets' posts and "In other media"."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from lxml import html as lxml_html

from conftest import broker_url, database_url, unique
from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.model import AlignedPost, Development, StoredAlignment
from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.newsroom.room import Newsroom
from livedesk.store import developments as development_store
from livedesk.store import events as event_store
from livedesk.store.db import make_engine, run_write, upgrade
from livedesk.web.app import create_app


def test_other_outlets_switch_and_in_other_media(tmp_path):
    url = database_url(tmp_path)
    settings = Settings(database_url=url, broker_url=broker_url())
    room = Newsroom(settings, make_engine(url), MemoryBroker())
    upgrade(room.engine)
    actor = Actor(None, "Harbour Desk", "admin")
    slug = unique("ip")
    publish.create_event(room, {"slug": slug, "title": "Ferry held at the breakwater"}, actor)
    own = publish.create_post(room, slug, {"headline": "Ferry held", "body": "Our reporter is on the quay."}, actor).to_json()

    def add_gazette_post(conn):
        event = event_store.get_event(conn, slug)
        outlet = event_store.ensure_outlet(conn, "Skerrvik Gazette")
        content = publish.post_content({"body": "The gazette hears the same.", "headline": "Gazette: ferry waits",
                                        "media": [], "authors": [], "topics": []}, settings)
        values = {**content, "outlet_id": outlet.id, "published_at": datetime.now(UTC), "status": "published"}
        theirs = publish.insert_post(conn, event.id, values)[0].to_json()
        # an alignment that puts both posts in one development, as the store keeps it
        posts = [AlignedPost(own["id"], "Harbour Desk", None, False, None, "Ferry held"),
                 AlignedPost(theirs["id"], "Skerrvik Gazette", None, False, None, "Gazette: ferry waits")]
        development = Development(id="d1", post_ids=[own["id"], theirs["id"]], outlets=["Harbour Desk", "Skerrvik Gazette"],
                                  label="Ferry held")
        alignment = StoredAlignment(posts=posts, developments=[development], last_num=2**31)
        development_store.save(conn, event.id, alignment, datetime.now(UTC))
        return theirs

    theirs = run_write(room.engine, add_gazette_post)
    room.close()
    app = create_app(settings)
    with TestClient(app) as client:
        page = lxml_html.fromstring(client.get(f"/e/{slug}").text)
        ours = page.xpath(f"//li[@id='post-{own['id']}']")[0]
        gazette = page.xpath(f"//li[@id='post-{theirs['id']}']")[0]
        assert gazette.xpath(".//div[@class='post-head']/span[contains(@class,'tag-outlet')]")[0].text_content() == "Skerrvik Gazette"
        assert not ours.xpath(".//div[@class='post-head']/span[contains(@class,'tag-outlet')]")
        other_media = ours.xpath(".//section[@class='other-media']//a")
        assert [(a.text_content(), a.get("href")) for a in other_media] == [("Gazette: ferry waits", f"/e/{slug}/p/{theirs['id']}")]
        theirs_links = gazette.xpath(".//section[@class='other-media']//a")
        assert [(a.text_content(), a.get("href")) for a in theirs_links] == [("Ferry held", f"/e/{slug}/p/{own['id']}")]
        own_only = lxml_html.fromstring(client.get(f"/e/{slug}?outlets=own").text)
        assert [li.get("id") for li in own_only.xpath("//ol[@data-posts]/li")] == [f"post-{own['id']}"]
        switch = own_only.xpath("//a[@data-outlets]")[0]
        assert switch.text_content() == "Show other outlets' posts" and switch.get("href") == "?"


def test_an_outlets_embedded_post_shows_as_a_link_to_it(tmp_path):
    url = database_url(tmp_path)
    settings = Settings(database_url=url, broker_url=broker_url())
    room = Newsroom(settings, make_engine(url), MemoryBroker())
    upgrade(room.engine)
    slug = unique("em")
    publish.create_event(room, {"slug": slug, "title": "Comet night"}, Actor(None, "Sky Desk", "admin"))
    tweet = {"kind": "embed", "url": "https://twitter.com/skywatch/status/1823000000000000002",
             "caption": "First glimpse from the harbour wall!", "source": "X"}

    def add_embed_post(conn):
        event = event_store.get_event(conn, slug)
        outlet = event_store.ensure_outlet(conn, "Skyward Gazette")
        content = publish.post_content({"body": "", "headline": None, "media": [tweet], "authors": [], "topics": []}, settings)
        values = {**content, "outlet_id": outlet.id, "published_at": datetime.now(UTC), "status": "published"}
        return publish.insert_post(conn, event.id, values)[0].to_json()

    post = run_write(room.engine, add_embed_post)
    room.close()
    with TestClient(create_app(settings)) as client:
        card = lxml_html.fromstring(client.get(f"/e/{slug}").text).xpath(f"//li[@id='post-{post['id']}']")[0]
        link = card.xpath(".//figure/figcaption/a")[0]
        assert (link.text_content(), link.get("href")) == ("View the post on X", tweet["url"])
        play = card.xpath(".//figure/a[@data-player]")[0]  # or shown here, by this site's player, on a click
        assert play.get("href").startswith("/embed/player/x?url=https%3A%2F%2Ftwitter.com%2Fskywatch%2F")
        assert card.xpath(".//figure/blockquote")[0].text_content() == "First glimpse from the harbour wall!"
        assert not card.xpath(".//img")  # another site's post is not a picture
