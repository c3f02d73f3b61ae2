"""The counts an event page shows (published posts, posts per topic) are kept by the database's
triggers: after posts are published, drafted, re-topicked, deleted and restored they equal a
count of the posts themselves."""

from __future__ import annotations

from sqlalchemy import func, select

from conftest import database_url, unique
from livedesk.broker.memory import MemoryBroker
from livedesk.config import Settings
from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.newsroom.room import Newsroom
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, run_read, upgrade
from livedesk.store.tables import post_topics, posts

ACTOR = Actor(None, "desk", "admin")


def counted(conn, event_id: int) -> tuple[int, list[tuple[str, int]]]:
    """The same counts, read from the posts."""
    published = (posts.c.event_id == event_id, posts.c.status == "published")
    total = conn.execute(select(func.count()).select_from(posts).where(*published)).scalar_one()
    topics = conn.execute(
        select(post_topics.c.topic, func.count()).join(posts, posts.c.id == post_topics.c.post_id)
        .where(*published).group_by(post_topics.c.topic).order_by(func.count().desc(), post_topics.c.topic)
    ).all()
    return total, [(t, n) for t, n in topics]


def test_event_counts_follow_every_change_of_its_posts(tmp_path):
    url = database_url(tmp_path)
    room = Newsroom(Settings(database_url=url, semantic="off"), make_engine(url), MemoryBroker())
    upgrade(room.engine)
    slugs = [unique("counts"), unique("counts")]
    try:
        for slug in slugs:
            publish.create_event(room, {"slug": slug, "title": "Counting"}, ACTOR)
        made = []
        for k in range(12):
            topics = [["ferries"], ["ferries", "weather"], ["strike"], []][k % 4]
            status = "draft" if k % 5 == 4 else "published"
            made.append(publish.create_post(room, slugs[k % 2], {"body": f"Post {k}", "topics": topics, "status": status},
                                            ACTOR))
        slug = slugs[0]
        mine = [p for p in made if p.event_slug == slug]
        publish.edit_post(room, slug, mine[0].id, {"topics": ["strike", "police"]}, ACTOR)
        publish.edit_post(room, slug, mine[1].id, {"topics": []}, ACTOR)
        drafts = [p for p in mine if p.status == "draft"]
        assert drafts
        publish.edit_post(room, slug, drafts[0].id, {"status": "published"}, ACTOR)
        publish.delete_post(room, slug, mine[2].id, ACTOR)
        publish.edit_post(room, slug, mine[3].id, {"status": "draft"}, ACTOR)

        def read(conn):
            out = []
            for name in slugs:
                event_id = event_store.require_event(conn, name).id
                shown = (event_store.count_published(conn, event_id), post_store.topic_counts(conn, event_id))
                out.append((shown, counted(conn, event_id)))
            return out

        for shown, truth in run_read(room.engine, read):
            assert shown == truth and truth[0] > 0 and truth[1]
        site = dict(run_read(room.engine, post_store.topic_counts))
        assert site["ferries"] >= sum(n for shown, _ in run_read(room.engine, read) for t, n in shown[1] if t == "ferries")
    finally:
        room.close()
