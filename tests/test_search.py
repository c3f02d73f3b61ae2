"""Search over an archive larger than the ranking window, on the real database of this run.

A search ranks only the newest SEARCH_WINDOW matches (after its filters) and counts no
further; these tests compare every search with the window worked out here in Python.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from lxml import html as lxml_html
from sqlalchemy import event, insert

from conftest import database_url, unique
from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, upgrade, write
from livedesk.store.tables import events, outlets, post_topics, posts

WINDOW = post_store.SEARCH_WINDOW
# Long ago, and events that ended then: the site's newest posts, live events and topics, which
# other tests read on a shared database, stay theirs.
START = datetime(2001, 3, 1, tzinfo=UTC)
TOPIC = "searchtests"


def word() -> str:
    """A word no other test writes: letters only, so every engine keeps it whole."""
    return "srch" + "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:10])


def add_posts(engine, rows: list[dict]) -> list[dict]:
    """Stores posts in the order given and returns them with their numbers."""
    with write(engine) as conn:
        conn.execute(insert(posts), [{"updated_at": r["published_at"], "created_at": r["published_at"], "body_md": r["search_text"],
                                      "body_html": f"<p>{r['search_text']}</p>", **r} for r in rows])
        nums = dict(conn.execute(posts.select().with_only_columns(posts.c.id, posts.c.num)
                                 .where(posts.c.id.in_([r["id"] for r in rows]))).all())
    return [{**r, "num": nums[r["id"]]} for r in rows]


def new_event(conn, slug: str) -> int:
    return conn.execute(insert(events).values(slug=slug, title=f"Event {slug}", standfirst="", status="ended", topics=[],
                                              links=[], key_points=[], created_at=START, updated_at=START)).inserted_primary_key[0]


class Archive:
    """Over 10,000 posts: more than SQLite sorts by time, so both of its ways of reading the
    newest matches are taken; on PostgreSQL the planner picks."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.common, self.some, self.topic = word(), word(), TOPIC
        with write(engine) as conn:
            self.events = [new_event(conn, unique("search")) for _ in range(2)]
            self.outlets = [conn.execute(insert(outlets).values(slug=unique("out"), name="Outlet", own=i == 0))
                            .inserted_primary_key[0] for i in range(2)]
            self.outlet_slugs = dict(zip(self.outlets, [r.slug for r in conn.execute(
                outlets.select().where(outlets.c.id.in_(self.outlets)).order_by(outlets.c.id))]))
        count = 10_100
        prefix = unique("p")  # and the row's number: 10,100 random 8-digit ids would collide about once in 80 runs
        rows = []
        for i in range(count):
            text = f"{self.common} crossing update {'x' * (i % 3)}" + (f" {self.some}" if i % 9 == 0 else "")
            rows.append({
                "id": f"{prefix}-{i}", "event_id": self.events[i % 7 == 0], "outlet_id": self.outlets[i % 2],
                "published_at": START + timedelta(minutes=i), "search_text": text,
                "headline": None, "status": "draft" if i % 10 == 5 else "published",
            })
        rows[0]["published_at"] = START + timedelta(minutes=count + 60)  # stored first, dated last
        rows[1]["headline"] = f"{self.common} at the oldest"  # outside the window
        rows[count - 300]["headline"] = f"{self.common} in the window"
        self.rows = add_posts(engine, rows)
        with write(engine) as conn:
            conn.execute(insert(post_topics), [{"post_id": r["id"], "topic": self.topic} for r in self.rows[::3]])

    def expected(self, word: str, *, event_id=None, outlet_id=None, topic=None, since=None, until=None) -> list[dict]:
        """Every published post the search should match, newest first."""
        topical = {r["id"] for r in self.rows[::3]}
        found = [r for r in self.rows if r["status"] == "published" and word in (r["headline"] or "") + " " + r["search_text"]
                 and (event_id is None or r["event_id"] == event_id) and (outlet_id is None or r["outlet_id"] == outlet_id)
                 and (topic is None or r["id"] in topical) and (since is None or r["published_at"] >= since)
                 and (until is None or r["published_at"] < until)]
        return sorted(found, key=lambda r: (r["published_at"], r["num"]), reverse=True)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Archive:
    engine = make_engine(database_url(tmp_path_factory.mktemp("search")))
    upgrade(engine)
    yield Archive(engine)
    engine.dispose()


def search(archive: Archive, q: str, **filters) -> post_store.Search:
    with archive.engine.connect() as conn:
        return post_store.search_posts(conn, q, limit=WINDOW, **filters)


def test_a_common_word_counts_the_newest_window_and_says_there_is_more(archive):
    expected = archive.expected(archive.common)
    found = search(archive, archive.common)
    assert len(archive.rows) > post_store.few_matches(archive.rows[-1]["num"]) and found.capped and found.total == WINDOW
    assert {r.id for r in found.rows} == {r["id"] for r in expected[:WINDOW]}
    assert archive.rows[0]["id"] in {r.id for r in found.rows}  # stored first, dated newest
    with archive.engine.connect() as conn:
        assert post_store.search_posts(conn, archive.common, offset=WINDOW).rows == []


def test_a_rarer_word_is_capped_too(archive):
    expected = archive.expected(archive.some)
    found = search(archive, archive.some)
    assert WINDOW < len(expected) < len(archive.rows) / 8
    assert found.capped and found.total == WINDOW
    assert {r.id for r in found.rows} == {r["id"] for r in expected[:WINDOW]}


@pytest.mark.parametrize("which", ["event", "outlet", "topic", "day", "outlet and day", "prefix", "two words"])
def test_filters_narrow_the_window_exactly(archive, which):
    q, filters, expect = archive.common, {}, {}
    if which == "event":
        filters = expect = {"event_id": archive.events[1]}
    elif which == "outlet":
        filters, expect = {"outlet_slug": archive.outlet_slugs[archive.outlets[1]]}, {"outlet_id": archive.outlets[1]}
    elif which == "topic":
        filters = expect = {"topic": archive.topic}
    elif which in ("day", "outlet and day"):
        filters = expect = {"since": START + timedelta(hours=30), "until": START + timedelta(hours=54)}
        if which == "outlet and day":
            filters = {**filters, "outlet_slug": archive.outlet_slugs[archive.outlets[0]]}
            expect = {**expect, "outlet_id": archive.outlets[0]}
    elif which == "prefix":
        q = archive.common[:-3]
    else:
        q = f"{archive.some} {archive.common}"
    expected = archive.expected(archive.some if which == "two words" else archive.common, **expect)
    found = search(archive, q, **filters)
    assert found.total == min(len(expected), WINDOW) and found.capped == (len(expected) > WINDOW)
    assert {r.id for r in found.rows} == {r["id"] for r in expected[:WINDOW]}


def test_a_short_prefix_of_many_words_finds_them_all(archive):
    prefix = "zq" + chr(ord("a") + uuid.uuid4().int % 26)
    names = {prefix + word()[4:] for _ in range(post_store.EXPAND_AT_MOST + 6)}  # too many to name one by one
    rows = add_posts(archive.engine, [
        {"id": unique("p"), "event_id": archive.events[0], "outlet_id": archive.outlets[0], "headline": None,
         "published_at": START + timedelta(days=30, minutes=k), "search_text": f"The {name} pier", "status": "published"}
        for k, name in enumerate(sorted(names))
    ])
    found = search(archive, prefix)
    assert found.total == len(rows) and not found.capped
    assert {r.id for r in found.rows} == {r["id"] for r in rows}


def test_postgresql_finds_the_same_window_in_slices_of_time(archive, monkeypatch):
    """A word read slice by slice of time, newest first, gives the window read at once."""
    if archive.engine.dialect.name != "postgresql":
        pytest.skip("slices of time are how PostgreSQL reads a word in a few percent of posts")
    expected = archive.expected(archive.common)
    with write(archive.engine) as conn:
        conn.exec_driver_sql("ANALYZE posts")
    # The planner's count of a typed prefix's matches on so small a table varies from one
    # ANALYZE to the next; the slices are sized from the true count here. Every post here
    # holds the word: a common word as far as this table goes.
    monkeypatch.setattr(post_store, "_planned_rows", lambda conn, query: len(expected))
    monkeypatch.setattr(post_store, "COMMON_WORD", 1.0)
    statements: list[str] = []
    listen = lambda conn, cursor, statement, *rest: statements.append(statement)  # noqa: E731
    event.listen(archive.engine, "before_cursor_execute", listen)
    try:
        found = search(archive, archive.common)
    finally:
        event.remove(archive.engine, "before_cursor_execute", listen)
    assert any("published_at >=" in s for s in statements)
    assert found.capped and found.total == WINDOW
    assert {r.id for r in found.rows} == {r["id"] for r in expected[:WINDOW]}
    monkeypatch.undo()
    assert [r.id for r in found.rows] == [r.id for r in search(archive, archive.common).rows]


def test_the_headline_ranks_first_inside_the_window_and_ties_go_to_the_newest(archive):
    found = search(archive, archive.common)
    window = {r["id"] for r in archive.expected(archive.common)[:WINDOW]}
    assert archive.rows[1]["id"] not in window and archive.rows[1]["id"] not in {r.id for r in found.rows}
    assert found.rows[0].headline == f"{archive.common} in the window"
    same_text = [r for r in found.rows[1:] if r.search_text == found.rows[1].search_text]
    assert len(same_text) > 100
    assert [r.published_at for r in same_text] == sorted((r.published_at for r in same_text), reverse=True)


@pytest.mark.parametrize("which", ["common", "some"])
def test_an_event_search_ranks_by_the_index_scores_of_its_words_in_the_event(archive, which):
    """SQLite: the scores read without the event's scope (a column weighed 0) are FTS5's own for
    the words in that scope, so the ranking is the same."""
    if archive.engine.dialect.name != "sqlite":
        pytest.skip("the scope column is SQLite's")
    q, event_id = getattr(archive, which), archive.events[1]
    window = archive.expected(q, event_id=event_id)[:WINDOW]
    with archive.engine.connect() as conn:
        scoped = f'{{headline body}} : ("{q}") AND scope : "e{event_id}"'
        scores = dict(conn.exec_driver_sql("SELECT rowid, bm25(posts_fts, 4.0, 1.0, 0.0) FROM posts_fts"
                                           " WHERE posts_fts MATCH ?", (scoped,)).all())
    ranked = sorted(window, key=lambda r: (-scores[r["num"]], r["published_at"], r["num"]), reverse=True)
    assert len({scores[r["num"]] for r in window}) > 1 or which == "some"  # its posts read alike
    assert [r.id for r in search(archive, q, event_id=event_id).rows] == [r["id"] for r in ranked]


def test_paging_walks_the_ranked_window_once(archive):
    with archive.engine.connect() as conn:
        pages = [post_store.search_posts(conn, archive.common, limit=100, offset=o).rows for o in range(0, WINDOW, 100)]
    ids = [r.id for page in pages for r in page]
    assert len(ids) == WINDOW == len(set(ids))
    assert ids[:100] == [r.id for r in search(archive, archive.common).rows[:100]]


def test_facets_count_the_window(archive):
    with archive.engine.connect() as conn:
        found = post_store.search_posts(conn, archive.common, facets=True)
    window = archive.expected(archive.common)[:WINDOW]
    by_event = {e: sum(1 for r in window if r["event_id"] == e) for e in archive.events}
    assert sorted(n for _, _, n in found.facets["event"]) == sorted(n for n in by_event.values() if n)
    assert sum(n for _, _, n in found.facets["outlet"]) == WINDOW
    assert sum(n for _, _, n in found.facets["day"]) == WINDOW
    assert [n for _, _, n in found.facets["topic"]] == [sum(1 for r in window if r["id"] in {t["id"] for t in archive.rows[::3]})]


def test_no_words_unknown_outlet_and_no_match_find_nothing(archive):
    assert search(archive, "  ,; ") == post_store.Search([], 0, False, None)
    assert search(archive, archive.common, outlet_slug=unique("none")).total == 0
    assert search(archive, word()).total == 0


def test_the_event_list_search_finds_the_newest_of_one_event(archive):
    expected = archive.expected(archive.some, event_id=archive.events[0])
    with archive.engine.connect() as conn:
        rows, cursor = post_store.list_posts(conn, archive.events[0], q=archive.some, limit=20)
    assert [r.id for r in rows] == [r["id"] for r in expected[:20]] and cursor


def test_api_and_page_say_when_the_count_stops(server):
    engine = make_engine(server.env["LIVEDESK_DATABASE_URL"])
    common = word()
    with write(engine) as conn:
        event_id = new_event(conn, unique("capped"))
        outlet_id = conn.execute(insert(outlets).values(slug=unique("out"), name="Outlet", own=True)).inserted_primary_key[0]
    add_posts(engine, [{"id": unique("p"), "event_id": event_id, "outlet_id": outlet_id, "headline": None, "status": "published",
                        "published_at": START + timedelta(minutes=i), "search_text": f"{common} number {i}"}
                       for i in range(WINDOW + 1)])
    engine.dispose()
    api = server.get("/api/search", params={"q": common, "limit": 5}).json()
    assert api["total"] == WINDOW and api["total_capped"] is True and len(api["results"]) == 5
    page = lxml_html.fromstring(server.get("/search", params={"q": common}).text)
    assert page.xpath("//*[@role='status']")[0].text_content().startswith(f"{WINDOW:,}+ results")
    assert "newest 1,000 matches" in page.xpath("//aside[@class='facets']")[0].text_content()
    fewer = server.get("/api/search", params={"q": f"{common} 999"}).json()
    assert fewer["total"] == 1 and fewer["total_capped"] is False
