"""Events of 100,000 posts: the read paths of a big event against the same paths of a small one.

Stores two events side by side in one database, one of --posts posts (100,000) and one of
--small posts (500), each with its topics, its change log (one `post.created` per post), one
pinned post, posts of other outlets and a stored alignment grouping them. Then asks the app
in-process (the whole ASGI stack, a fresh URL each time so the page cache never answers) for:

  the event page, its RSS, Atom and JSON Feed, "Show more" near the top, in the middle and at
  the end of the event (newest first and oldest first), catch-up from the change 20 back, 400
  back and from the start (the store read the stream's Last-Event-ID replay makes), and
  search within the event (a common word, a rare word, a prefix, and a word with as many
  matches in each event; the event page's filter and the search API).

Prints per path the median wall time and CPU time (this process) at the big event beside the
small one, and their ratio (goal: at most 1.2), then the store's size per 10,000 posts.

Run: python bench/bigevent.py [--posts 100000] [--small 500] [--repeat 25] [--database-url URL]
(SQLite in a temporary folder unless a URL of an empty database is given; a database this
bench filled before, with the same sizes, is reused.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select, text, update

from livedesk.config import Settings
from livedesk.model import AlignedPost, Development, StoredAlignment
from livedesk.store import changes as change_store
from livedesk.store import developments as development_store
from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, run_read, run_write, upgrade
from livedesk.store.tables import changes, counters, events, outlets, post_topics, posts, sources
from livedesk.web.app import create_app

START = datetime(2031, 3, 1, 6, tzinfo=UTC)
OUTLETS = ["Desk", "Harbour Times", "Coast Radio", "North Wire", "Evening Post", "City Live"]
TOPICS = ["strike", "ferries", "weather", "politics", "markets", "police", "health", "transport"]
SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "bri", "del", "un", "sar", "pek", "ol", "tri", "mon", "zef"]
BATCH = 5000
COMMON_RANK, RARE_RANK = 40, 1500  # words of these frequency ranks are searched


def vocabulary(size: int = 6000) -> list[str]:
    rng = np.random.default_rng(5)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(SYLLABLES, int(rng.integers(2, 5))))] = None
    return list(words)


def post_rows(slug: str, n: int, vocab: list[str], ids: dict[str, int]):
    """Batches of (post values, topics) for an event of n posts, oldest first, a minute apart."""
    rng = np.random.default_rng(len(slug) * 7919 + n)
    weights = 1.0 / np.arange(1, len(vocab) + 1)
    weights /= weights.sum()
    words = np.array(vocab, dtype=object)
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        drawn = words[rng.choice(len(vocab), size * 40, p=weights)]
        batch = []
        for k in range(size):
            i = start + k
            text_words = drawn[k * 40 : k * 40 + 40]
            outlet = OUTLETS[0] if i % 10 < 7 else OUTLETS[1 + i % 5]
            when = START + timedelta(minutes=i)
            body = " ".join(text_words[6:]).capitalize() + "."
            topics = [TOPICS[i % 8]] + ([TOPICS[(i // 3) % 8]] if i % 3 == 0 else [])
            topics = list(dict.fromkeys(topics))
            values = {
                "id": f"{slug[:6]}{i:08d}", "event_id": ids["event"], "outlet_id": ids[outlet],
                "source_id": None if outlet == OUTLETS[0] else ids["source:" + outlet],
                "anchor": None if outlet == OUTLETS[0] else f"a{i}", "published_at": when, "time_known": True,
                "position": None if outlet == OUTLETS[0] else n - i, "updated_at": when, "created_at": when,
                "headline": " ".join(text_words[:6]).capitalize(), "body_md": body, "body_html": f"<p>{body}</p>",
                "search_text": body, "media": [], "authors": ["Bench Writer"] if outlet == OUTLETS[0] else [],
                "topics": topics, "pinned": i == n // 2, "key_event": i % 50 == 0, "status": "published", "version": 1,
            }
            batch.append(values)
        yield batch


def fill(engine, slug: str, n: int, vocab: list[str]) -> None:
    """Store the event of n posts with its topics, change log and alignment."""
    now = datetime.now(UTC)

    def setup(conn):
        event_id = conn.execute(insert(events).values(
            slug=slug, title=f"A big story ({n:,} posts)", standfirst="Everything as it happens.", status="live",
            topics=TOPICS, links=[], key_points=[], created_at=now, updated_at=now)).inserted_primary_key[0]
        ids = {"event": event_id}
        for name in OUTLETS:
            found = conn.execute(select(outlets.c.id).where(outlets.c.name == name)).scalar()
            if found is None:
                found = conn.execute(insert(outlets).values(
                    slug=name.lower().replace(" ", "-"), name=name, own=name == OUTLETS[0])).inserted_primary_key[0]
            ids[name] = found
            if name != OUTLETS[0]:
                ids["source:" + name] = conn.execute(insert(sources).values(
                    event_id=event_id, outlet_id=found, url=f"https://{name.lower().replace(' ', '')}.example/live",
                    poll_interval_s=60, error_count=0, created_at=now)).inserted_primary_key[0]
        return ids

    ids = run_write(engine, setup)
    for batch in post_rows(slug, n, vocab, ids):
        def store(conn, batch=batch):
            conn.execute(insert(posts), batch)
            conn.execute(insert(post_topics), [{"post_id": p["id"], "topic": t} for p in batch for t in p["topics"]])
            first = conn.execute(select(counters.c.value).where(counters.c.name == "change")).scalar_one()
            conn.execute(insert(changes), [
                {"id": first + k + 1, "event_id": ids["event"], "kind": "post.created", "post_id": p["id"],
                 "payload": json.dumps({"id": p["id"], "event": slug}), "created_at": p["created_at"]}
                for k, p in enumerate(batch)])
            conn.execute(update(counters).where(counters.c.name == "change").values(value=first + len(batch)))
        run_write(engine, store)
    run_write(engine, lambda conn: save_alignment(conn, ids["event"], alignment(engine, ids["event"])))


def alignment(engine, event_id: int) -> StoredAlignment:
    """A stored alignment of the event's posts: each post of another outlet with the own post before it."""
    rows = run_read(engine, lambda conn: conn.execute(
        select(posts.c.num, posts.c.id, posts.c.published_at, posts.c.headline, outlets.c.name)
        .join(outlets, outlets.c.id == posts.c.outlet_id).where(posts.c.event_id == event_id).order_by(posts.c.num)).all())
    groups: list[list] = []
    for row in rows:
        if row.name == OUTLETS[0] or not groups:
            groups.append([row])
        else:
            groups[-1].append(row)
    devs = []
    for group in groups:
        names = list(dict.fromkeys(r.name for r in group))
        devs.append(Development(
            id="d-" + min(r.id for r in group), post_ids=[r.id for r in group], outlets=names,
            first_reported_by=group[0].name, first_time=group[0].published_at, label=group[0].headline,
        ))
    return StoredAlignment(
        posts=[AlignedPost(r.id, r.name, r.published_at, False, None, r.headline) for r in rows],
        developments=devs, last_num=rows[-1].num if rows else 0, updated_at=datetime.now(UTC),
    )


def save_alignment(conn, event_id: int, data: StoredAlignment) -> None:
    development_store.save(conn, event_id, data, datetime.now(UTC))


def store_bytes(engine) -> int:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
            free = conn.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            size = conn.exec_driver_sql("PRAGMA page_size").scalar_one()
            return int((pages - free) * size)
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())


def table_bytes(engine) -> dict[str, int]:
    """Bytes per table with its indexes (PostgreSQL; SQLite when it has the dbstat table)."""
    with engine.connect() as conn:
        try:
            if engine.dialect.name == "sqlite":
                rows = conn.exec_driver_sql(
                    "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d"
                    " LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1").all()
            else:
                rows = conn.execute(text(
                    "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                    " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace")).all()
        except Exception:  # noqa: BLE001 - a SQLite without dbstat
            return {}
    return {str(name): int(size) for name, size in rows}


def cursor_at(engine, event_id: int, depth: float, oldest: bool) -> str:
    """The cursor of the post `depth` of the way down the event's list in this order."""
    def read(conn):
        count = conn.execute(select(func.count()).where(posts.c.event_id == event_id, posts.c.pinned == False)).scalar_one()  # noqa: E712
        key = (posts.c.published_at, posts.c.id) if oldest else (posts.c.published_at.desc(), posts.c.id.desc())
        row = conn.execute(select(posts.c.published_at, posts.c.id).where(posts.c.event_id == event_id, posts.c.pinned == False)  # noqa: E712
                           .order_by(*key).offset(min(count - 21, int(count * depth))).limit(1)).one()
        return post_store.encode_cursor(row)
    return run_read(engine, read)


def change_at(engine, event_id: int, depth: float) -> int:
    """The id of the change `depth` of the way through the event's change log (1.0: the newest)."""
    def read(conn):
        ids = select(changes.c.id).where(changes.c.event_id == event_id)
        count = conn.execute(select(func.count()).select_from(ids.subquery())).scalar_one()
        return conn.execute(ids.order_by(changes.c.id).offset(min(count - 1, int(count * depth))).limit(1)).scalar_one()
    return run_read(engine, read)


def matches(engine, word: str, event_id: int) -> int:
    """How many of the event's posts hold the word (up to the search window)."""
    return run_read(engine, lambda conn: post_store.search_posts(conn, word, event_id=event_id, limit=1).total)


def word_matching(engine, vocab: list[str], event_id: int, count: int) -> tuple[str, int]:
    """A rare word of the vocabulary with about `count` matches in the event (the nearest found)."""
    best = (vocab[-1], matches(engine, vocab[-1], event_id))
    for word in vocab[-2:-400:-1]:
        found = matches(engine, word, event_id)
        if abs(found - count) < abs(best[1] - count):
            best = (word, found)
        if found == count:
            break
    return best


def paths(engine, slug: str, event_id: int, vocab: list[str], same: str) -> dict[str, object]:
    """Label -> a URL to GET, or a function to call (catch-up, a store read). `same` is a word
    with as many matches in this event as in the other one."""
    common, rare, prefix = vocab[COMMON_RANK], vocab[RARE_RANK], vocab[RARE_RANK + 1][:4]
    out: dict[str, object] = {
        "event page": f"/e/{slug}",
        "event page, oldest first": f"/e/{slug}?order=oldest",
        "event page, one topic": f"/e/{slug}?topic=weather",
        "RSS": f"/e/{slug}/rss.xml",
        "Atom": f"/e/{slug}/atom.xml",
        "JSON Feed": f"/e/{slug}/feed.json",
        "API: posts, first page": f"/api/events/{slug}/posts",
    }
    for depth in (0.1, 0.5, 1.0):
        out[f"Show more at {depth:.0%}"] = f"/e/{slug}/more?before={cursor_at(engine, event_id, depth, False)}"
        out[f"Show more at {depth:.0%}, oldest first"] = (
            f"/e/{slug}/more?order=oldest&after={cursor_at(engine, event_id, depth, True)}")
    out["API: posts at 50%"] = f"/api/events/{slug}/posts?before={cursor_at(engine, event_id, 0.5, False)}"
    newest = change_at(engine, event_id, 1.0)
    for label, after in (("20 changes back", newest - 20), ("400 changes back", newest - 400),
                         ("from the start (a first 500)", change_at(engine, event_id, 0.0) - 1)):
        out[f"catch-up {label}"] = (lambda after=after: run_read(
            engine, lambda conn: change_store.changes_since(conn, after, event_id=event_id, limit=500)))
    for label, q in (("common word", common), ("rare word", rare), ("prefix", prefix)):
        out[f"search, {label}"] = f"/api/search?q={q}&event={slug}"
        out[f"event page filter, {label}"] = f"/e/{slug}?q={q}"
    # The words above match more posts in the big event, so it shows or ranks more of them; a
    # word with as many matches in each shows how the cost follows the event's size alone.
    out["search, as many matches"] = f"/api/search?q={same}&event={slug}"
    out["event page filter, as many matches"] = f"/e/{slug}?q={same}"
    return out


def timed(client: TestClient, what, serial: int) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    if callable(what):
        what()
    else:
        url = str(what)
        reply = client.get(url + ("&" if "?" in url else "?") + f"bench={serial}")
        if reply.status_code != 200:
            raise SystemExit(f"{url}: {reply.status_code} {reply.text[:200]}")
    return time.perf_counter() - began, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="livedesk-bigevent-")
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    vocab = vocabulary()
    big, small = f"big-{args.posts}", f"small-{args.small}"
    have = run_read(engine, lambda conn: {e: conn.execute(select(events.c.id).where(events.c.slug == e)).scalar()
                                          for e in (big, small)})
    print(f"store: {engine.url.get_backend_name()}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    before = store_bytes(engine)
    sizes_before = table_bytes(engine)
    if not all(have.values()):
        began = time.perf_counter()
        for slug, n in ((small, args.small), (big, args.posts)):
            if not have[slug]:
                fill(engine, slug, n, vocab)
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
        print(f"stored {args.posts + args.small:,} posts in {time.perf_counter() - began:.0f} s")
        grown = store_bytes(engine) - before
        print(f"store size: {grown / 1e6:.1f} MB for {args.posts + args.small:,} posts, "
              f"{grown / (args.posts + args.small) * 10_000 / 1e6:.1f} MB per 10k posts")
        sizes = table_bytes(engine)
        parts = sorted(((name, size - sizes_before.get(name, 0)) for name, size in sizes.items()), key=lambda x: -x[1])
        print("  per 10k posts: " + ", ".join(
            f"{name} {size / (args.posts + args.small) * 10_000 / 1e6:.2f} MB" for name, size in parts if size > 100_000))
    else:
        print(f"reusing the events already stored ({store_bytes(engine) / 1e6:.1f} MB in all)")
    ids = run_read(engine, lambda conn: {e: conn.execute(select(events.c.id).where(events.c.slug == e)).scalar_one()
                                         for e in (big, small)})

    settings = Settings(database_url=url, broker_url="memory://", semantic="off")
    with TestClient(create_app(settings)) as client:
        common = vocab[COMMON_RANK]
        target = matches(engine, common, ids[small])
        same, found = word_matching(engine, vocab, ids[big], target)
        print(f"as many matches: '{common}' in {target} posts of the small event, '{same}' in {found} of the big one")
        small_paths = paths(engine, small, ids[small], vocab, common)
        big_paths = paths(engine, big, ids[big], vocab, same)
        print(f"{'median of ' + str(args.repeat):<40}{'wall: ' + f'{args.small} posts':>16}{f'{args.posts:,} posts':>14}{'ratio':>7}"
              f"{'CPU: ' + f'{args.small}':>12}{f'{args.posts:,}':>10}{'ratio':>7}")
        worst = 0.0
        serial = 0
        for label in small_paths:
            walls: dict[str, list[float]] = {"small": [], "big": []}
            cpus: dict[str, list[float]] = {"small": [], "big": []}
            for rep in range(args.repeat + 2):
                for name, table in (("small", small_paths), ("big", big_paths)):
                    serial += 1
                    wall, cpu = timed(client, table[label], serial)
                    if rep >= 2:  # the first two warm the caches
                        walls[name].append(wall * 1000)
                        cpus[name].append(cpu * 1000)
            ws, wb = statistics.median(walls["small"]), statistics.median(walls["big"])
            cs, cb = statistics.median(cpus["small"]), statistics.median(cpus["big"])
            worst = max(worst, wb / ws)
            print(f"{label:<40}{ws:>13.2f} ms{wb:>11.2f} ms{wb / ws:>7.2f}{cs:>9.2f} ms{cb:>7.2f} ms{cb / cs:>7.2f}")
        print(f"worst wall ratio {worst:.2f} (goal: at most 1.2); load average after {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
