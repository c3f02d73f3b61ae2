"""Each event's developments, kept up to date as posts arrive.

One live `Aligner` per event lives in this process, built from the store the first time
the event is touched and then fed only the posts it has not seen (`posts.num` above the
highest one seen; several nodes may ingest, so the store is always asked). The alignment
is stored per event in the `developments` table together with a `developments.updated`
change, so readers get it pushed.

Ingested posts arrive through `follow.ON_POSTS_STORED`. The site's own posts arrive through
`publish.ON_POSTS_CHANGED`, which only queues them: one thread in this process aligns them (in
events that follow other outlets), so publishing stays as fast as it was. Every read of the
developments (`current`) also catches up with the store first (posts another node published).

A post whose text changed, or one that was removed, cannot be taken out of an `Aligner`:
such an event is recomputed from scratch (`recompute`), which is also the batch path
used by `livedesk align-event`.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from livedesk.broker import Broker
from livedesk.model import AlignPost, Development
from livedesk.store import changes, embeddings
from livedesk.store import developments as store
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read, run_write
from livedesk.store.developments import AlignRow

if TYPE_CHECKING:
    from livedesk.align.cluster import Aligner, Alignment
    from livedesk.align.semantic import Embedder

# align/ (SciPy, scikit-learn) is imported where it is first used, so the server starts quickly.

log = logging.getLogger("livedesk.developments")

KIND = "developments.updated"
PAYLOAD_LIMIT = 50  # changed developments named in one change; more means "reload"


@dataclass
class Live:
    """One event's alignment as this process holds it."""

    aligner: Aligner
    last_num: int = 0
    devs: dict[str, Development] = field(default_factory=dict)  # development id -> development
    dev_of: dict[str, str] = field(default_factory=dict)  # post id -> development id
    index: dict[str, int] = field(default_factory=dict)  # post id -> index in aligner.posts
    orders: dict[int, str] = field(default_factory=dict)  # source id -> its page order
    kept: set[str] = field(default_factory=set)  # text keys of the sentence vectors in the store

    def posts(self) -> list[AlignPost]:
        return self.aligner.posts

    def take(self, found: list[Development]) -> tuple[set[str], set[str]]:
        """Put these developments in place of those they overlap; returns (changed, removed) ids.

        What remains of a replaced development keeps its own, smaller development.
        """
        changed: set[str] = set()
        removed: set[str] = set()
        leftovers: set[str] = set()
        for dev in found:
            for pid in dev.post_ids:
                old = self.dev_of.get(pid)
                if old is not None and old in self.devs:
                    leftovers.update(self.devs.pop(old).post_ids)
                    removed.add(old)
        for dev in found:
            self.put(dev)
            changed.add(dev.id)
            leftovers.difference_update(dev.post_ids)
        from livedesk.align import cluster

        while leftovers:  # what a merge or split left of an older development
            old_dev = removed & {self.dev_of[p] for p in leftovers}
            for dev_id in old_dev:
                rest = [self.index[p] for p in sorted(leftovers) if self.dev_of[p] == dev_id]
                dev = cluster.development(self.posts(), self.aligner.feats, rest, self.aligner.inferred)
                self.put(dev)
                changed.add(dev.id)
                leftovers.difference_update(dev.post_ids)
            if not old_dev:
                break
        return changed, removed - changed

    def put(self, dev: Development) -> None:
        self.devs[dev.id] = dev
        for pid in dev.post_ids:
            self.dev_of[pid] = dev.id

    def alignment(self) -> Alignment:
        from livedesk.align.cluster import Alignment
        from livedesk.align.keypoints import key_point_suggestions

        devs = sorted(self.devs.values(), key=lambda d: (d.first_time or _NEVER, d.id))
        names = sorted({p.outlet for p in self.posts()})
        return Alignment(
            developments=devs,
            inferred=dict(self.aligner.inferred),
            exclusives={o: [d.id for d in devs if d.outlets == [o]] for o in names},
            shares={o: sum(o in d.outlets for d in devs) / len(devs) for o in names} if devs else {},
            key_point_suggestions=key_point_suggestions(devs, {p.id: p for p in self.posts()}),
        )


_NEVER = datetime.max.replace(tzinfo=UTC)
_live: dict[tuple[str, int], Live] = {}
_locks: dict[tuple[str, int], threading.Lock] = {}
_locks_lock = threading.Lock()


def _key(engine: Engine, event_id: int) -> tuple[str, int]:
    return (engine.url.render_as_string(hide_password=True), event_id)


def _lock(key: tuple[str, int]) -> threading.Lock:
    with _locks_lock:
        return _locks.setdefault(key, threading.Lock())


# ---- entry points ----------------------------------------------------------------------------

def on_posts_stored(engine: Engine, broker: Broker, event_id: int, post_ids: list[str]) -> None:
    """The `follow.ON_POSTS_STORED` hook: align what a poll or a paste stored."""
    refresh(engine, broker, event_id, post_ids)


_queue: queue.SimpleQueue = queue.SimpleQueue()  # (engine, broker, post ids) published or changed
_worker: threading.Thread | None = None


def on_posts_changed(engine: Engine, broker: Broker, post_ids: list[str]) -> None:
    """The `publish.ON_POSTS_CHANGED` hook: queue the posts for the aligning thread."""
    global _worker
    _queue.put((engine, broker, list(post_ids)))
    with _locks_lock:
        if _worker is None or not _worker.is_alive():
            _worker = threading.Thread(target=_align_queued, name="livedesk-developments", daemon=True)
            _worker.start()


def _align_queued() -> None:
    """Refresh the events of the queued posts, each event once for whatever queued meanwhile."""
    while True:
        jobs = [_queue.get()]
        while not _queue.empty():
            jobs.append(_queue.get())
        touched: dict[tuple[Engine, Broker, int], list[str]] = {}
        try:
            for engine, broker, post_ids in jobs:
                for event_id, ids in run_read(engine, lambda conn, p=post_ids: _followed_events(conn, p)).items():
                    touched.setdefault((engine, broker, event_id), []).extend(ids)
            for (engine, broker, event_id), ids in touched.items():
                refresh(engine, broker, event_id, ids)
        except Exception:  # noqa: BLE001 - the next post or read tries again
            log.exception("aligning published posts failed")


def _followed_events(conn: Connection, post_ids: list[str]) -> dict[int, list[str]]:
    """The events of these posts that hold other outlets' posts, each with its posts among them.

    An event with only the site's own posts has nothing to align them with.
    """
    found = post_store.post_events(conn, post_ids)
    followed = store.followed_events(conn, list(found))
    return {event_id: ids for event_id, ids in found.items() if event_id in followed}


def refresh(engine: Engine, broker: Broker, event_id: int, touched: list[str] = ()) -> bool:
    """Bring the event's stored developments up to date; True if they changed.

    `touched` names posts that were stored or changed: if one the aligner has seen already
    now reads differently, or was taken off the page, the event is recomputed.
    """
    key = _key(engine, event_id)
    with _lock(key):
        live = _live.get(key)
        if live is None and not touched and run_read(engine, lambda conn: _stored_is_current(conn, event_id)):
            return False  # e.g. after a restart: the aligner is built when a new post comes
        held = [pid for pid in touched if live is not None and pid in live.index]
        if live is None or (held and run_read(engine, lambda conn: _changed(conn, event_id, live, held))):
            _recompute_locked(engine, broker, event_id)
            return True
        rows, seen = run_read(engine, lambda conn: (store.aligned_rows(conn, event_id, after=live.last_num),
                                                    store.count_published_up_to(conn, event_id, live.last_num)))
        if seen != len(live.index):
            # a post was deleted, or one below the highest number seen became visible late
            # (a scheduled post, or a transaction of another node that committed after ours)
            _recompute_locked(engine, broker, event_id)
            return True
        if not rows:
            return False
        _reposition(engine, event_id, live, {r.source_id for r in rows if r.source_id is not None})
        live.orders = {**_page_orders(rows), **live.orders}
        found: list[Development] = []
        for row in rows:
            post = _align_post(row, live.orders.get(row.source_id, "newest"))
            live.index[post.id] = len(live.aligner.posts)
            found.extend(live.aligner.add(post))
            live.last_num = max(live.last_num, row.num)
        _keep_vectors(engine, live)
        changed, removed = live.take(_latest(found))
        _store(engine, broker, event_id, live, changed, removed)
        return True


def recompute(engine: Engine, broker: Broker, event_id: int) -> dict:
    """Align the event from scratch (batch `cluster.align`) and store it; returns the stored data."""
    key = _key(engine, event_id)
    with _lock(key):
        return _recompute_locked(engine, broker, event_id)


def current(engine: Engine, broker: Broker, slug: str) -> tuple[object, dict]:
    """The event row and its developments as stored, after catching up with new posts."""
    event = run_read(engine, lambda conn: event_store.require_event(conn, slug))
    refresh(engine, broker, event.id)
    return event, run_read(engine, lambda conn: stored(conn, event.id)) or empty()


stored = store.stored


def empty() -> dict:
    return {"posts": [], "developments": [], "exclusives": {}, "shares": {}, "key_point_suggestions": [], "last_num": 0}


# ---- building -------------------------------------------------------------------------------

def _recompute_locked(engine: Engine, broker: Broker, event_id: int) -> dict:
    from livedesk.align import cluster, semantic
    from livedesk.config import get_settings

    rows, newest = run_read(engine, lambda conn: (store.aligned_rows(conn, event_id), store.newest_num(conn, event_id)))
    orders = _page_orders(rows)
    align_posts = [_align_post(row, orders.get(row.source_id, "newest")) for row in rows]
    embedder = semantic.load(get_settings().semantic == "auto")
    known = _stored_vectors(engine, embedder, align_posts)
    kept = set(known)  # aligning adds to `known` the vectors it makes
    # the batch result, and the live index on it
    aligner, result = cluster.Aligner.from_posts(align_posts, embedder=embedder, known=known)
    live = Live(aligner=aligner, last_num=newest, orders=orders, index={p.id: k for k, p in enumerate(align_posts)},
                kept=kept)
    _keep_vectors(engine, live)
    for dev in result.developments:
        live.put(dev)
    _live[_key(engine, event_id)] = live
    before = run_read(engine, lambda conn: stored(conn, event_id)) or empty()
    old_ids = {d["id"] for d in before["developments"]}
    return _store(engine, broker, event_id, live, set(live.devs), old_ids - set(live.devs), result)


def _stored_vectors(engine: Engine, embedder: Embedder | None, align_posts: list[AlignPost]) -> dict:
    """The sentence vectors the store keeps for these posts' texts, by text key."""
    from livedesk.align import semantic

    if embedder is None:
        return {}
    keys = [semantic.text_key(semantic.post_text(p.headline, p.text)) for p in align_posts]
    return run_read(engine, lambda conn: embeddings.load(conn, embedder.name, keys))


def _keep_vectors(engine: Engine, live: Live) -> None:
    """Store the sentence vectors the aligner made since the last call: each text is embedded once."""
    meaning = live.aligner.meaning
    new = {key: vector for key, vector in meaning.known.items() if key not in live.kept}
    if meaning.embedder is None or not new:
        return
    model = meaning.embedder.name
    run_write(engine, lambda conn: embeddings.save(conn, model, new))
    live.kept.update(new)


def _latest(found: list[Development]) -> list[Development]:
    """The newest version of each group the aligner reported (later adds supersede earlier)."""
    out: list[Development] = []
    claimed: set[str] = set()
    for dev in reversed(found):
        if claimed.isdisjoint(dev.post_ids):
            out.append(dev)
        claimed.update(dev.post_ids)
    return out


def _changed(conn: Connection, event_id: int, live: Live, post_ids: list[str]) -> bool:
    """Whether any of these posts the aligner holds now reads differently or left the page."""
    rows = store.aligned_rows_of(conn, event_id, post_ids)
    if len(rows) < len(set(post_ids)):
        return True
    for row in rows:
        now = _align_post(row, live.orders.get(row.source_id, "newest"))
        held = live.aligner.posts[live.index[row.id]]
        if (now.text, now.headline, now.time) != (held.text, held.headline, held.time):
            return True
    return False


def _stored_is_current(conn: Connection, event_id: int) -> bool:
    data = stored(conn, event_id)
    if data is None:
        return False
    newest, count = store.published_span(conn, event_id)
    return data.get("last_num", 0) >= newest and len(data["posts"]) == count


def _align_post(row: AlignRow, page_order: str) -> AlignPost:
    own = row.source_id is None  # the site's own posts: oldest first by time
    return AlignPost(
        id=row.id,
        outlet=row.outlet,
        text=row.search_text or row.headline or "",
        headline=row.headline,
        time=row.published_at if row.time_known else None,
        position=int(row.published_at.timestamp()) if own else (row.position or 0),
        page_order="oldest" if own else page_order,
    )


def _page_orders(rows: list[AlignRow]) -> dict[int, str]:
    """Each source's page order, read off its stored posts: do times fall down the page?

    Untimed posts carry a placeholder time that keeps the order of one poll, so a page
    with no times at all still tells.
    """
    by_source: dict[int, list[AlignRow]] = {}
    for row in rows:
        if row.source_id is not None and row.position is not None:
            by_source.setdefault(row.source_id, []).append(row)
    orders = {}
    for source_id, page in by_source.items():
        timed = [r for r in page if r.time_known] or page
        timed.sort(key=lambda r: r.position)
        falls = sum(a.published_at > b.published_at for a, b in zip(timed, timed[1:]))
        rises = sum(a.published_at < b.published_at for a, b in zip(timed, timed[1:]))
        orders[source_id] = "oldest" if rises > falls else "newest"
    return orders


def _reposition(engine: Engine, event_id: int, live: Live, source_ids: set[int]) -> None:
    """New posts at the top of a page move the older ones down: keep the known posts' positions."""
    if not source_ids:
        return
    found = run_read(engine, lambda conn: store.positions(conn, event_id, source_ids))
    for post_id, position in found.items():
        k = live.index.get(post_id)
        if k is not None and position is not None:
            live.aligner.posts[k].position = position


# ---- storing ----------------------------------------------------------------------------------

def _store(
    engine: Engine, broker: Broker, event_id: int, live: Live, changed: set[str], removed: set[str],
    result: Alignment | None = None,
) -> dict:
    """Write the event's alignment with its `developments.updated` change, then announce it."""
    from livedesk.align.report import alignment_to_json

    result = result or live.alignment()
    data = alignment_to_json(live.posts(), result)
    for post in data["posts"]:
        del post["text"]  # the store has it; the alignment stays small
    data["last_num"] = live.last_num
    data["updated_at"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    payload = _payload(live, changed, removed)
    announced: list[int] = []

    def work(conn: Connection) -> None:
        announced.clear()
        if not store.save(conn, event_id, data, datetime.now(UTC)):
            return  # another node stored a newer alignment meanwhile
        slug = event_store.event_slug(conn, event_id)
        announced.append(changes.append_change(conn, event_id, KIND, {"event": slug, **payload}))

    run_write(engine, work)
    for change_id in announced:
        broker.announce(change_id)
    return data


def _payload(live: Live, changed: set[str], removed: set[str]) -> dict:
    """The changed developments with their posts and outlets; a big change just says so."""
    if len(changed) + len(removed) > PAYLOAD_LIMIT:
        return {"developments": [], "removed": [], "count": len(live.devs), "reload": True}
    devs = [live.devs[d] for d in sorted(changed) if d in live.devs]
    return {
        "developments": [{"id": d.id, "post_ids": d.post_ids, "outlets": d.outlets, "label": d.label} for d in devs],
        "removed": sorted(removed),
        "count": len(live.devs),
        "reload": False,
    }
