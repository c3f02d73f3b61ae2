"""Live alignment at scale: from "a new post is stored" to "the event's developments are stored".

Fills a store with one synthetic event of about 10,000 posts from many outlets (the generator
of bench/align.py), builds its alignment once, then stores the held-back newest posts one at
a time, each followed by `developments.refresh` as a stored poll runs it. Prints the first
build's time (beside a plain batch align of the same posts) and p50 / p99 / max of the per-post latency (wall clock, and this process's CPU,
which a busy machine does not inflate), and how many new posts joined the development their
true mates are in.

Run: python bench/align_live.py [--outlets 25] [--per-outlet 400] [--probes 60] [--database-url URL]
(SQLite in a temporary folder unless a URL is given.)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sqlalchemy import insert  # noqa: E402

from align import START, synthetic_event  # noqa: E402  (bench/align.py)
from livedesk.align import semantic  # noqa: E402
from livedesk.align.cluster import align  # noqa: E402
from livedesk.broker import make_broker  # noqa: E402
from livedesk.config import Settings  # noqa: E402
from livedesk.model import AlignPost  # noqa: E402
from livedesk.newsroom import developments, publish  # noqa: E402
from livedesk.newsroom.roles import Actor  # noqa: E402
from livedesk.newsroom.room import Newsroom  # noqa: E402
from livedesk.store import events as event_store  # noqa: E402
from livedesk.store.db import make_engine, run_read, run_write, upgrade  # noqa: E402
from livedesk.store.tables import posts, sources  # noqa: E402


def row(event_id: int, outlet_id: int, source_id: int, post: AlignPost) -> dict:
    when = post.time or (START + timedelta(hours=30) - timedelta(milliseconds=post.position))
    return {
        "id": post.id, "event_id": event_id, "outlet_id": outlet_id, "source_id": source_id, "anchor": post.id,
        "published_at": when, "time_known": post.time is not None, "position": post.position,
        "updated_at": when, "created_at": when, "headline": None, "body_md": post.text,
        "body_html": f"<p>{post.text}</p>", "search_text": post.text, "status": "published",
    }


def fill(room: Newsroom, slug: str, outlets: list[str]) -> tuple[int, dict[str, tuple[int, int]]]:
    """The event and, per outlet, its outlet and source ids."""
    engine = room.engine
    publish.create_event(room, {"slug": slug, "title": "Synthetic live event"}, Actor(0, "bench", "admin"))

    def work(conn):
        event_id = event_store.get_event(conn, slug).id
        ids = {}
        for name in outlets:
            outlet_id = event_store.ensure_outlet(conn, name).id
            source_id = conn.execute(insert(sources).values(
                event_id=event_id, outlet_id=outlet_id, text="(bench)", poll_interval_s=60, error_count=0,
                created_at=publish.now())).inserted_primary_key[0]
            ids[name] = (outlet_id, source_id)
        return event_id, ids

    return run_write(engine, work)


def store(engine, rows: list[dict]) -> None:
    for start in range(0, len(rows), 1000):
        run_write(engine, lambda conn, chunk=rows[start:start + 1000]: conn.execute(insert(posts), chunk))


def spread(seconds: list[float]) -> str:
    ms = sorted(x * 1000 for x in seconds)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return f"p50 {statistics.median(ms):.0f} ms   p99 {p99:.0f} ms   max {ms[-1]:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outlets", type=int, default=25)
    parser.add_argument("--per-outlet", type=int, default=400)
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="livedesk-bench-")
    engine = make_engine(args.database_url or f"sqlite:///{folder}/bench.db")
    upgrade(engine)
    room = Newsroom(Settings(), engine, make_broker("memory://"))
    all_posts, truth = synthetic_event(args.outlets, args.per_outlet)
    by_time = sorted(all_posts, key=lambda p: (p.time or START + timedelta(hours=30), p.id))
    held = [p for p in by_time if p.time is not None][-args.probes:]
    held_ids = {p.id for p in held}
    slug = f"bench-live-{int(time.time())}"
    event_id, ids = fill(room, slug, sorted({p.outlet for p in all_posts}))
    store(engine, [row(event_id, *ids[p.outlet], p) for p in all_posts if p.id not in held_ids])
    print(f"store: {engine.url.get_backend_name()}, {len(all_posts) - len(held)} posts of {args.outlets} outlets stored")

    embedder = semantic.load(room.settings.semantic == "auto")
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"semantic signal {'on' if embedder else 'off'} (LIVEDESK_SEMANTIC)")
    stored_posts = [p for p in all_posts if p.id not in held_ids]
    started, cpu = time.perf_counter(), time.process_time()
    align(stored_posts, embedder=embedder)
    print(f"batch align of the stored posts alone: {time.perf_counter() - started:.1f} s wall, "
          f"{time.process_time() - cpu:.1f} s CPU")
    started, cpu = time.perf_counter(), time.process_time()
    room.developments.refresh(event_id)
    print(f"first build (read the store, batch align, live index on it, store): "
          f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")

    latencies, cpu_times = [], []
    for post in held:
        store(engine, [row(event_id, *ids[post.outlet], post)])
        started, cpu = time.perf_counter(), time.process_time()
        room.developments.refresh(event_id, [post.id])
        latencies.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu)

    data = run_read(engine, lambda conn: developments.stored(conn, event_id))
    dev_of = {pid: d.id for d in data.developments for pid in d.post_ids}
    mates = {p.id: [q for q in truth if truth[q] == truth[p.id] and q != p.id] for p in held}
    joined = sum(1 for p in held if mates[p.id] and any(dev_of.get(q) == dev_of[p.id] for q in mates[p.id]))
    with_mates = sum(1 for p in held if mates[p.id])
    print(f"new post stored -> developments stored, {len(latencies)} posts at {len(all_posts)} in the event:")
    print("  wall " + spread(latencies))
    print("  CPU  " + spread(cpu_times))
    print(f"  {joined} of {with_mates} new posts with true mates joined one of them")
    size = len(json.dumps(data.to_json())) / 1e6
    print(f"stored alignment: {len(data.developments)} developments and {len(data.posts)} posts, a row each "
          f"({size:.1f} MB as JSON when read whole; a new post rewrites only the rows it changed)")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
