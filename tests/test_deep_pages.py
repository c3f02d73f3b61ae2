"""Deep in an event: "Show more" from the first page to the last gives every published post once,
in order (newest or oldest first, with a topic, with pinned posts leading only the first page),
and catch-up from any change id gives exactly the event's later changes, in order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from lxml import html as lxml_html
from sqlalchemy import select

from conftest import broker_url, database_url, unique
from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.newsroom.room import Newsroom
from livedesk.store import changes as change_store
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, run_read, upgrade
from livedesk.store.tables import changes
from livedesk.web.app import create_app

ACTOR = Actor(None, "Deep Desk", "admin")
START = datetime(2025, 6, 1, 8, tzinfo=UTC)
POSTS = 130


@pytest.fixture(scope="module")
def deep_event(tmp_path_factory):
    """An event of POSTS posts (some sharing a minute, two pinned, every fifth a draft) beside a
    second event whose changes interleave with it; the app on the same database."""
    url = database_url(tmp_path_factory.mktemp("deep"))
    settings = Settings(database_url=url, broker_url=broker_url(), semantic="off")
    room = Newsroom(settings, make_engine(url), MemoryBroker())
    upgrade(room.engine)
    slug, other = unique("deep"), unique("beside")
    for name in (slug, other):
        publish.create_event(room, {"slug": name, "title": "Deep"}, ACTOR)
    made = []
    for k in range(POSTS):
        data = {"body": f"Post number {k}.", "topics": ["tide"] if k % 3 == 0 else [],
                "published_at": START + timedelta(minutes=k // 2), "pinned": k in (7, 90),
                "status": "draft" if k % 5 == 4 else "published"}
        made.append(publish.create_post(room, slug, data, ACTOR).to_json())
        if k % 4 == 0:
            publish.create_post(room, other, {"body": f"Elsewhere {k}."}, ACTOR)
    for minutes in (30, 3):  # stored last, dated among the others
        made.append(publish.create_post(room, slug, {"body": f"Post number late {minutes}.",
                                                     "published_at": START + timedelta(minutes=minutes)}, ACTOR).to_json())
    room.close()
    with TestClient(create_app(settings)) as client:
        yield client, room.engine, slug, [p for p in made if p["status"] == "published"]


def walk(client: TestClient, slug: str, params: dict) -> list[list[str]]:
    """The post ids of each page, first page to last, through the API's cursors."""
    pages, cursor_name = [], "after" if params.get("order") == "oldest" else "before"
    query = dict(params, limit=20)
    while True:
        body = client.get(f"/api/events/{slug}/posts", params=query).json()
        pages.append([p["id"] for p in body["posts"]])
        if not body["next"]:
            return pages
        query[cursor_name] = body["next"]


def ordered(posts: list[dict], *, oldest: bool = False) -> list[str]:
    key = sorted(posts, key=lambda p: (p["published_at"], p["id"]), reverse=not oldest)
    return [p["id"] for p in key]


def test_show_more_to_the_end_gives_every_post_once_in_order(deep_event):
    client, _engine, slug, published = deep_event
    pinned = ordered([p for p in published if p["pinned"]])
    assert len(pinned) == 2
    pages = walk(client, slug, {})
    assert pages[0][:2] == pinned and all(set(pinned).isdisjoint(page) for page in pages[1:])
    assert [pid for page in pages for pid in page][2:] == [pid for pid in ordered(published) if pid not in pinned]
    oldest = walk(client, slug, {"order": "oldest"})
    assert [pid for page in oldest for pid in page] == ordered(published, oldest=True)
    tide = [p for p in published if "tide" in p["topics"]]
    by_topic = [pid for page in walk(client, slug, {"topic": "tide"}) for pid in page]
    tide_pinned = [pid for pid in pinned if pid in {p["id"] for p in tide}]
    assert by_topic == tide_pinned + [pid for pid in ordered(tide) if pid not in tide_pinned]


def test_show_more_pages_follow_the_same_cursors(deep_event):
    client, _engine, slug, published = deep_event
    page = lxml_html.fromstring(client.get(f"/e/{slug}").text)
    seen = [li.get("id").removeprefix("post-") for li in page.xpath("//ol[@data-posts]/li")]
    more = page.xpath("//a[@rel='next']/@href")
    assert more, "the first page links to the next"
    cursor = more[0].split("before=", 1)[1].split("&", 1)[0]
    while cursor:
        fragment = lxml_html.fromstring(client.get(f"/e/{slug}/more", params={"before": cursor}).text)
        seen += [li.get("id").removeprefix("post-") for li in fragment.xpath("//li[starts-with(@id, 'post-')]")]
        cursor = fragment.xpath("//ol[@data-next]/@data-next")[0]
    assert sorted(seen) == sorted(p["id"] for p in published) and len(seen) == len(set(seen))


def test_catch_up_from_any_id_gives_exactly_the_later_changes(deep_event):
    _client, engine, slug, published = deep_event

    def read(conn):
        event_id = event_store.require_event(conn, slug).id
        ids = list(conn.execute(select(changes.c.id).where(changes.c.event_id == event_id).order_by(changes.c.id)).scalars())
        every = list(conn.execute(select(changes.c.id).order_by(changes.c.id)).scalars())
        return event_id, ids, every

    event_id, ids, every = run_read(engine, read)
    assert len(ids) >= len(published) and len(every) > len(ids)  # the other event's changes lie between
    for after in [0, *every[::7], every[-1]]:
        got: list[int] = []
        cursor = after
        while True:  # in pages, as the stream replays them
            rows = run_read(engine, lambda conn, c=cursor: change_store.changes_since(conn, c, event_id=event_id, limit=25))
            got += [row.id for row in rows]
            if len(rows) < 25:
                break
            cursor = rows[-1].id
        assert got == [i for i in ids if i > after]


@pytest.mark.parametrize("stream_from", [5, post_store.LIST_STREAM_FROM])
def test_a_word_filter_pages_the_same_whether_the_index_is_read_whole_or_in_order(deep_event, monkeypatch, stream_from):
    """SQLite reads the matches of a word many posts hold in stored order; the pages are the same."""
    client, _engine, slug, published = deep_event
    monkeypatch.setattr(post_store, "LIST_STREAM_FROM", stream_from)
    pinned = ordered([p for p in published if p["pinned"]])
    newest = [pid for page in walk(client, slug, {"q": "number"}) for pid in page]
    assert newest == pinned + [pid for pid in ordered(published) if pid not in pinned]
    oldest = [pid for page in walk(client, slug, {"q": "number", "order": "oldest"}) for pid in page]
    assert oldest == ordered(published, oldest=True)
    late = [p for p in published if "late" in p["body"]]
    assert [pid for page in walk(client, slug, {"q": "late"}) for pid in page] == ordered(late)
