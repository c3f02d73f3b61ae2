"""Search benchmark: 1M synthetic posts in SQLite and in PostgreSQL, 1,000 mixed queries each.

Loads the posts in bulk (executemany on SQLite, COPY on PostgreSQL) into a schema made by the
project's own migrations, posts stored in time order as a live desk stores them, then times
`store.posts.search_posts` and `list_posts(q=...)` and prints p50 and p95 per engine and per
kind of query, in wall time and in CPU time (this process, plus the PostgreSQL server process
when it runs here). A database that already holds the wanted number of posts is reused, so a
second run only queries; one loaded by an older version of this bench (posts not in time
order) should be deleted first.

Run: python bench/search.py [--posts 1000000] [--queries 1000] [--budget-s SECONDS]
         [--sqlite PATH] [--pg postgresql://postgres@127.0.0.1:5432/postgres] [--engines sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, func, insert, select, text

from livedesk.store import posts as post_store
from livedesk.store.db import make_engine, upgrade
from livedesk.store.tables import events, outlets, posts

START = datetime(2030, 1, 1, tzinfo=UTC)
SPAN_S = 365 * 86400
N_EVENTS = 1000
N_OUTLETS = 20
TOPICS = [f"topic{i}" for i in range(30)]
SYLLABLES = ["ka", "lo", "mi", "ren", "tas", "vo", "bri", "del", "un", "sar", "pek",
             "ol", "tri", "mon", "zef", "ga", "hul", "nir", "cas", "dov", "elm", "fyr"]
BATCH = 20_000


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    ordered = sorted(words)  # a set's order changes between processes; the shuffle must not
    rng.shuffle(ordered)
    return ordered


def zipf_weights(size: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1)
    return weights / weights.sum()


def synthetic_rows(n: int, vocab: list[str], seed: int = 7):
    """Batches of post rows, oldest first: a headline of 4-9 words and a body of 20-50, Zipf-distributed."""
    rng = np.random.default_rng(seed)
    words = np.array(vocab, dtype=object)
    weights = zipf_weights(len(vocab))
    moments = np.sort(rng.integers(0, SPAN_S, n))  # stored in time order, as a live desk adds them
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        head_len = rng.integers(4, 10, size)
        body_len = rng.integers(20, 51, size)
        drawn = words[rng.choice(len(vocab), int(head_len.sum() + body_len.sum()), p=weights)]
        seconds = moments[start : start + size]
        event_ids = rng.integers(1, N_EVENTS + 1, size)
        outlet_ids = rng.integers(1, N_OUTLETS + 1, size)
        statuses = rng.choice(["published", "published", "published", "published", "draft"], size)
        at = 0
        batch = []
        for i in range(size):
            headline = " ".join(drawn[at : at + head_len[i]]).capitalize()
            at += head_len[i]
            body = " ".join(drawn[at : at + body_len[i]]).capitalize() + "."
            at += body_len[i]
            when = START + timedelta(seconds=int(seconds[i]))
            batch.append((f"p{start + i:010d}", int(event_ids[i]), int(outlet_ids[i]), when, headline, body, str(statuses[i])))
        yield batch


def prepare(engine, n: int, vocab: list[str]) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(posts)).scalar_one()
    if have == n:
        print(f"  {engine.dialect.name}: reusing {n:,} posts already loaded")
        return
    if have:
        raise SystemExit(f"{engine.url}: holds {have:,} posts, not {n:,}; give an empty database")
    began = time.perf_counter()
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(outlets), [{"slug": f"outlet-{i}", "name": f"Outlet {i}", "own": i == 1} for i in range(1, N_OUTLETS + 1)])
        conn.execute(insert(events), [{"slug": f"event-{i}", "title": f"Event {i}", "standfirst": "", "status": "live",
                                       "topics": [], "links": [], "key_points": [], "created_at": now, "updated_at": now}
                                      for i in range(1, N_EVENTS + 1)])
    load = _load_sqlite if engine.dialect.name == "sqlite" else _load_postgresql
    load(engine, n, vocab)
    print(f"  {engine.dialect.name}: loaded {n:,} posts in {time.perf_counter() - began:.0f} s")


def _load_sqlite(engine, n: int, vocab: list[str]) -> None:
    sql = ("INSERT INTO posts (id, event_id, outlet_id, published_at, updated_at, created_at, headline, body_md, body_html,"
           " search_text, media, authors, topics, pinned, key_event, time_known, status, version)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]', '[]', '[]', 0, 0, 1, ?, 1)")
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("BEGIN")
        for batch in synthetic_rows(n, vocab):
            rows = []
            for post_id, event_id, outlet_id, when, headline, body, status in batch:
                stamp = when.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
                rows.append((post_id, event_id, outlet_id, stamp, stamp, stamp, headline, body, f"<p>{body}</p>", body, status))
            cur.executemany(sql, rows)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()


def _load_postgresql(engine, n: int, vocab: list[str]) -> None:
    columns = ("id, event_id, outlet_id, published_at, updated_at, created_at, headline, body_md, body_html, search_text,"
               " media, authors, topics, pinned, key_event, time_known, status, version")
    raw = engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        cur.execute("DROP INDEX IF EXISTS ix_posts_search_vector")  # built once after the load: much faster
        for batch in synthetic_rows(n, vocab):
            with cur.copy(f"COPY posts ({columns}) FROM STDIN") as copy:
                for post_id, event_id, outlet_id, when, headline, body, status in batch:
                    stamp = when.replace(tzinfo=None)
                    copy.write_row((post_id, event_id, outlet_id, stamp, stamp, stamp, headline, body, f"<p>{body}</p>",
                                    body, "[]", "[]", "[]", False, False, True, status, 1))
        cur.execute("CREATE INDEX ix_posts_search_vector ON posts USING gin (search_vector)")
        raw.driver_connection.commit()
        raw.driver_connection.autocommit = True
        cur.execute("VACUUM ANALYZE posts")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()


def query_mix(vocab: list[str], count: int, seed: int = 11) -> list[tuple[str, dict]]:
    """Mixed queries; words follow the text's own frequencies, leaving out the 50 commonest
    (the synthetic stop words nobody searches for)."""
    rng = random.Random(seed)
    pool = vocab[50:]
    weights = zipf_weights(len(vocab))[50:]
    picks = iter(rng.choices(pool, weights=weights, k=count * 3))
    kinds = ["one word"] * 30 + ["two words"] * 15 + ["prefix"] * 10 + ["in event"] * 15 + ["outlet and day"] * 10 + ["event list"] * 20
    mix = []
    for _ in range(count):
        kind = rng.choice(kinds)
        word = next(picks)
        args: dict = {"q": word}
        if kind == "two words":
            args["q"] = f"{word} {next(picks)}"
        elif kind == "prefix":
            args["q"] = word[: max(3, len(word) - 3)]
        elif kind == "in event":
            args["event_id"] = rng.randint(1, N_EVENTS)
        elif kind == "outlet and day":
            day = START + timedelta(days=rng.randrange(365))
            args.update(outlet_slug=f"outlet-{rng.randint(1, N_OUTLETS)}", since=day, until=day + timedelta(days=1))
        elif kind == "event list":
            args["event_id"] = rng.randint(1, N_EVENTS)
        mix.append((kind, args))
    return mix


def run_queries(engine, mix: list[tuple[str, dict]], budget_s: float | None = None) -> dict[str, list[tuple[float, float]]]:
    """(wall, CPU) milliseconds of each query by kind; stops early (and says so) once `budget_s`
    seconds have gone."""
    timings: dict[str, list[tuple[float, float]]] = {}
    ends = time.perf_counter() + budget_s if budget_s else None
    with engine.connect() as conn:
        cpu = cpu_clock(conn)
        for number, (kind, args) in enumerate(mix):
            if ends is not None and time.perf_counter() > ends:
                print(f"  time budget of {budget_s:.0f} s spent after {number} of {len(mix)} queries")
                break
            began, began_cpu = time.perf_counter(), cpu()
            if kind == "event list":
                event_id = args.pop("event_id")
                post_store.list_posts(conn, event_id, q=args["q"], limit=20)
                args["event_id"] = event_id
            else:
                post_store.search_posts(conn, limit=20, **args)
            timings.setdefault(kind, []).append(((time.perf_counter() - began) * 1000, (cpu() - began_cpu) * 1000))
    return timings


def cpu_clock(conn):
    """CPU seconds spent on the queries: this process's, plus on PostgreSQL those of the server
    process serving the connection when it runs on this machine (the machine may be busy with
    other work, which stretches wall time but not CPU time)."""
    if conn.dialect.name == "sqlite":
        return time.process_time
    stat = Path(f"/proc/{conn.execute(text('SELECT pg_backend_pid()')).scalar_one()}/schedstat")
    if not stat.exists():
        print("  the server runs elsewhere: CPU figures are this process's only")
        return time.process_time
    return lambda: time.process_time() + int(stat.read_text().split()[0]) / 1e9


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def figures(values: list[float]) -> str:
    return f"p50 {statistics.median(values):6.1f} ms  p95 {percentile(values, 95):6.1f} ms"


def report(name: str, timings: dict[str, list[tuple[float, float]]]) -> None:
    every = [t for values in timings.values() for t in values]
    walls, cpus = [w for w, _ in every], [c for _, c in every]
    print(f"{name}: {len(every)} queries  wall {figures(walls)}  max {max(walls):.1f} ms  |  CPU {figures(cpus)}"
          f"  (load average {os.getloadavg()[0]:.2f})")
    for kind, values in timings.items():
        print(f"    {kind:<15} n={len(values):<4} wall {figures([w for w, _ in values])}  |  CPU {figures([c for _, c in values])}")


def postgres_database(admin_url: str, name: str) -> str:
    admin = create_engine(make_engine(admin_url).url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--sqlite", default=str(Path(tempfile.gettempdir()) / "livedesk-bench-search.db"))
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres",
                        help="an admin URL; the bench makes its own database")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--budget-s", type=float, default=None, help="stop querying an engine after this many seconds")
    args = parser.parse_args()
    vocab = vocabulary(random.Random(3))
    mix = query_mix(vocab, args.queries)
    print(f"search benchmark: {args.posts:,} posts, {args.queries} mixed queries per engine,"
          f" ranking the newest {post_store.SEARCH_WINDOW:,} matches (load average {os.getloadavg()[0]:.2f})")
    for name in args.engines.split(","):
        url = f"sqlite:///{args.sqlite}" if name == "sqlite" else postgres_database(args.pg, f"livedesk_bench_{args.posts}")
        engine = make_engine(url)
        prepare(engine, args.posts, vocab)
        run_queries(engine, mix[-10:])  # warm the connection and caches
        report(name, run_queries(engine, mix, args.budget_s))
        engine.dispose()


if __name__ == "__main__":
    main()
