"""Each event's developments, kept up to date as posts arrive.

One live `Aligner` per event lives in this process, built from the store the first time
the event is touched and then fed only the posts it has not seen (`posts.num` above the
highest one seen; several nodes may ingest, so the store is always asked). The alignment
is stored per event in the `developments` table together with a `developments.updated`
change, so readers get it pushed.

The newsroom holds one `Developments`. `follow` hands it the posts a poll or a paste stored
(`posts_stored`); `publish` hands it the site's own posts (`posts_changed`), which only queues
them: one thread aligns them (in events that follow other outlets), so publishing stays as fast
as it was. Every read of the developments (`current`) also catches up with the store first
(posts another node published).

A post whose text changed, or one that was removed, cannot be taken out of an `Aligner`:
such an event is recomputed from scratch (`recompute`), which is also the batch path
used by `livedesk align-event`.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import islice
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

from livedesk.align.report import aligned_post
from livedesk.broker import Broker
from livedesk.model import AlignPost, Development, Event, StoredAlignment
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
SUGGESTIONS = 5  # key-point suggestions offered


@dataclass
class Live:
    """One event's alignment as this process holds it."""

    aligner: Aligner
    last_num: int = 0
    devs: dict[str, Development] = field(default_factory=dict)  # development id -> development
    dev_of: dict[str, str] = field(default_factory=dict)  # post id -> development id
    index: dict[str, int] = field(default_factory=dict)  # post id -> index in aligner.posts
    orders: dict[int, str] = field(default_factory=dict)  # source id -> its page order
    kept: int = 0  # the aligner's sentence vectors (in the order made) up to this many are in the store
    writer: str = field(default_factory=lambda: uuid.uuid4().hex)  # names the rows this alignment stores
    stored_num: int = -1  # last_num of the alignment it stored last (-1: none yet)
    stored_times: dict[str, tuple[datetime, int]] = field(default_factory=dict)  # inferred times as stored
    unstored: set[str] = field(default_factory=set)  # posts whose inferred time was placed anew since
    # per source, (posts, sum of positions, sum of position × number) as the aligner holds them:
    # when the store's sums agree, no post of the source moved on its page
    sums: dict[int, tuple[int, int, int]] = field(default_factory=dict)

    def count_position(self, source_id: int | None, num: int, position: int) -> None:
        if source_id is not None:
            count, total, weighted = self.sums.get(source_id, (0, 0, 0))
            self.sums[source_id] = (count + 1, total + position, weighted + position * num)

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


_NEVER = datetime.max.replace(tzinfo=UTC)


class Developments:
    """The live alignments of one newsroom's events, and the thread that aligns its own posts.

    Posts a poll or a paste stored are aligned at once (`posts_stored`); the site's own
    published or changed posts are queued (`posts_changed`) for one thread, so publishing
    stays as fast as it was. `close` lets that thread finish what is queued.
    """

    def __init__(self, engine: Engine, broker: Broker, *, semantic: bool = False) -> None:
        self.engine = engine
        self.broker = broker
        self.semantic = semantic  # the sentence-embedding signal, when its extra is installed
        self._live: dict[int, Live] = {}  # event id -> its alignment
        self._locks: dict[int, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._queue: queue.SimpleQueue[list[str] | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None

    def _lock(self, event_id: int) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(event_id, threading.Lock())

    # ---- entry points ------------------------------------------------------------------------

    def posts_stored(self, event_id: int, post_ids: list[str]) -> None:
        """Align what a poll or a paste stored; a failure is logged, the posts stay stored."""
        try:
            self.refresh(event_id, post_ids)
        except Exception:  # noqa: BLE001 - the next poll or read tries again
            log.exception("aligning the posts of event %s failed", event_id)

    def posts_changed(self, post_ids: list[str]) -> None:
        """Queue the site's own published or changed posts for the aligning thread."""
        self._queue.put(list(post_ids))
        with self._locks_lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._align_queued, name="livedesk-developments", daemon=True)
                self._worker.start()

    def close(self) -> None:
        """Align what is queued, then end the aligning thread."""
        with self._locks_lock:
            worker = self._worker
        if worker is not None and worker.is_alive():
            self._queue.put(None)
            worker.join()

    def _align_queued(self) -> None:
        """Refresh the events of the queued posts, each event once for whatever queued meanwhile."""
        while True:
            jobs = [self._queue.get()]
            while not self._queue.empty():
                jobs.append(self._queue.get())
            touched: dict[int, list[str]] = {}
            try:
                for post_ids in jobs:
                    if post_ids is None:
                        continue
                    for event_id, ids in run_read(self.engine, lambda conn, p=post_ids: _followed_events(conn, p)).items():
                        touched.setdefault(event_id, []).extend(ids)
                for event_id, ids in touched.items():
                    self.refresh(event_id, ids)
            except Exception:  # noqa: BLE001 - the next post or read tries again
                log.exception("aligning published posts failed")
            if None in jobs:
                return

    def refresh(self, event_id: int, touched: list[str] | tuple[str, ...] = ()) -> bool:
        """Bring the event's stored developments up to date; True if they changed.

        `touched` names posts that were stored or changed: if one the aligner has seen already
        now reads differently, or was taken off the page, the event is recomputed.
        """
        engine = self.engine
        with self._lock(event_id):
            live = self._live.get(event_id)
            if live is None and not touched and run_read(engine, lambda conn: _stored_is_current(conn, event_id)):
                return False  # e.g. after a restart: the aligner is built when a new post comes
            held = [pid for pid in touched if live is not None and pid in live.index]
            if live is None or (held and run_read(engine, lambda conn: _changed(conn, event_id, live, held))):
                self._recompute_locked(event_id)
                return True
            rows, published = run_read(engine, lambda conn: (store.aligned_rows(conn, event_id, after=live.last_num),
                                                             event_store.count_published(conn, event_id)))
            if published - len(rows) != len(live.index):  # the published posts numbered up to last_num
                # a post was deleted, or one below the highest number seen became visible late
                # (a scheduled post, or a transaction of another node that committed after ours)
                self._recompute_locked(event_id)
                return True
            if not rows:
                return False
            _reposition(engine, live, {r.source_id for r in rows if r.source_id is not None})
            live.orders = {**_page_orders(rows), **live.orders}
            found: list[Development] = []
            for row in rows:
                post = _align_post(row, live.orders.get(row.source_id, "newest"))
                live.count_position(row.source_id, row.num, post.position)
                live.index[post.id] = len(live.aligner.posts)
                found.extend(live.aligner.add(post))
                live.last_num = max(live.last_num, row.num)
            _keep_vectors(engine, live)
            changed, removed = live.take(_latest(found))
            _store_changes(engine, self.broker, event_id, live, changed, removed, [r.id for r in rows])
            return True

    def recompute(self, event_id: int) -> StoredAlignment:
        """Align the event from scratch (batch `cluster.align`) and store it; returns it as stored."""
        with self._lock(event_id):
            return self._recompute_locked(event_id)

    def current(self, slug: str) -> tuple[Event, StoredAlignment]:
        """The event and its developments as stored, after catching up with new posts."""
        event = run_read(self.engine, lambda conn: event_store.require_event(conn, slug))
        self.refresh(event.id)
        return event, run_read(self.engine, lambda conn: _with_suggestions(conn, event.id, stored(conn, event.id) or StoredAlignment()))

    def _recompute_locked(self, event_id: int) -> StoredAlignment:
        from livedesk.align import cluster, semantic

        rows, newest = run_read(self.engine, lambda conn: (store.aligned_rows(conn, event_id), store.newest_num(conn, event_id)))
        orders = _page_orders(rows)
        align_posts = [_align_post(row, orders.get(row.source_id, "newest")) for row in rows]
        embedder = semantic.load(self.semantic)
        known = _stored_vectors(self.engine, embedder, align_posts)
        kept = len(known)  # aligning adds to `known` the vectors it makes, after these
        # the batch result, and the live index on it
        aligner, result = cluster.Aligner.from_posts(align_posts, embedder=embedder, known=known)
        live = Live(aligner=aligner, last_num=newest, orders=orders, index={p.id: k for k, p in enumerate(align_posts)},
                    kept=kept)
        _keep_vectors(self.engine, live)
        for row, post in zip(rows, align_posts, strict=True):
            live.count_position(row.source_id, row.num, post.position)
        for dev in result.developments:
            live.put(dev)
        self._live[event_id] = live
        old_ids = run_read(self.engine, lambda conn: store.development_ids(conn, event_id))
        return _store_whole(self.engine, self.broker, event_id, live, old_ids - set(live.devs), result)


def _followed_events(conn: Connection, post_ids: list[str]) -> dict[int, list[str]]:
    """The events of these posts that hold other outlets' posts, each with its posts among them.

    An event with only the site's own posts has nothing to align them with.
    """
    found = post_store.post_events(conn, post_ids)
    followed = store.followed_events(conn, list(found))
    return {event_id: ids for event_id, ids in found.items() if event_id in followed}


stored = store.stored


# ---- building -------------------------------------------------------------------------------

def _stored_vectors(engine: Engine, embedder: Embedder | None, align_posts: list[AlignPost]) -> dict:
    """The sentence vectors the store keeps for these posts' texts, by text key."""
    from livedesk.align import semantic

    if embedder is None:
        return {}
    keys = [semantic.text_key(semantic.post_text(p.headline, p.text)) for p in align_posts]
    return run_read(engine, lambda conn: embeddings.load(conn, embedder.name, keys))


def _keep_vectors(engine: Engine, live: Live) -> None:
    """Store the sentence vectors the aligner made since the last call: each text is embedded once.
    Vectors are only ever added to `known`, so the new ones are its last."""
    meaning = live.aligner.meaning
    if meaning.embedder is None or len(meaning.known) == live.kept:
        return
    new = dict(reversed(list(islice(reversed(meaning.known.items()), len(meaning.known) - live.kept))))
    model = meaning.embedder.name
    run_write(engine, lambda conn: embeddings.save(conn, model, new))
    live.kept = len(meaning.known)


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
    summary = store.stored_summary(conn, event_id)
    if summary is None:
        return False
    newest, count = store.published_span(conn, event_id)
    return summary.last_num >= newest and summary.posts == count


def _with_suggestions(conn: Connection, event_id: int, data: StoredAlignment) -> StoredAlignment:
    """The stored alignment with its key-point suggestions, worked out from the stored developments
    and the text of the few posts they need (a new post's storing does not redo them)."""
    from livedesk.align.keypoints import key_point_suggestions

    shared = [d for d in data.developments if len(d.outlets) > 1]
    shared.sort(key=lambda d: -len(d.outlets))  # stable: the earliest first among equals
    top = shared[:SUGGESTIONS]
    wanted = [pid for d in top for pid in d.post_ids]
    rows = store.aligned_rows_of(conn, event_id, wanted) if wanted else []
    found = {row.id: _align_post(row, "newest") for row in rows}
    devs = [Development(id=d.id, post_ids=[p for p in d.post_ids if p in found], outlets=d.outlets, label=d.label)
            for d in top]
    data.key_point_suggestions = key_point_suggestions([d for d in devs if d.post_ids], found, limit=SUGGESTIONS)
    return data


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


def _reposition(engine: Engine, live: Live, source_ids: set[int]) -> None:
    """New posts at the top of a page move the older ones down: keep the known posts' positions.

    Only the sources whose stored positions no longer add up to the held ones are read post by post."""
    if not source_ids:
        return

    def read(conn: Connection) -> dict[str, tuple[int, int, int | None]]:
        sums = store.position_sums(conn, source_ids, up_to=live.last_num)
        moved = {s for s in source_ids if sums.get(s, (0, 0, 0)) != live.sums.get(s, (0, 0, 0))}
        return store.positions(conn, moved, up_to=live.last_num) if moved else {}

    found = run_read(engine, read)
    for source_id in {source_id for source_id, _num, _position in found.values()}:
        live.sums[source_id] = (0, 0, 0)
    for post_id, (source_id, num, position) in found.items():
        k = live.index.get(post_id)
        if k is None:
            continue
        if position is not None:
            live.aligner.move(k, position)
        live.count_position(source_id, num, live.aligner.posts[k].position)


# ---- storing ----------------------------------------------------------------------------------

def _inferred(live: Live) -> dict[str, tuple[datetime, int]]:
    """The times the alignment infers for posts that state none, with their ± in whole seconds."""
    posts = live.posts()
    return {pid: (guess.time, round(guess.plus_minus_s)) for pid, guess in live.aligner.inferred.items()
            if pid in live.index and posts[live.index[pid]].time is None}


def _store_whole(
    engine: Engine, broker: Broker, event_id: int, live: Live, removed: set[str], result: Alignment
) -> StoredAlignment:
    """Store the event's whole alignment (a recompute) with its `developments.updated` change,
    then announce it; returns it as stored."""
    data = StoredAlignment(
        posts=[aligned_post(p, live.aligner.inferred) for p in live.posts()], developments=result.developments,
        exclusives=result.exclusives, shares={o: round(s, 4) for o, s in result.shares.items()},
        key_point_suggestions=result.key_point_suggestions, last_num=live.last_num, updated_at=datetime.now(UTC),
    )
    times = _inferred(live)
    payload = _payload(live, set(live.devs), removed)

    def work(conn: Connection) -> bool:
        if not store.save(conn, event_id, data, datetime.now(UTC), writer=live.writer):
            return False  # another node stored a newer alignment meanwhile
        post_store.place_untimed(conn, event_id, {pid: when for pid, (when, _pm) in times.items()})
        return True

    if _write(engine, broker, event_id, payload, work):
        live.stored_num, live.stored_times = live.last_num, times
        live.unstored.clear()
        live.aligner.replaced.clear()
    return data


def _store_changes(
    engine: Engine, broker: Broker, event_id: int, live: Live, changed: set[str], removed: set[str], added: list[str],
) -> None:
    """Store what new posts changed: the changed developments' rows, the removed ones, and the rows
    of the posts whose development or inferred time changed; the whole alignment only when the
    stored rows are not the ones this live alignment stored last (another node stored since)."""
    times = _new_times(live)
    moved = set(times)
    devs = [live.devs[d] for d in sorted(changed) if d in live.devs]
    touched = {pid for dev in devs for pid in dev.post_ids} | moved | set(added)
    posts = live.posts()
    posts_in = [(aligned_post(posts[live.index[pid]], live.aligner.inferred), live.index[pid])
                for pid in sorted(touched) if pid in live.index]
    payload = _payload(live, changed, removed)
    updated_at = datetime.now(UTC)

    def work(conn: Connection) -> bool:
        when = datetime.now(UTC)
        done = store.save_changes(
            conn, event_id, writer=live.writer, since_num=live.stored_num, last_num=live.last_num, count=len(live.index),
            changed=devs, removed=removed, posts_in=posts_in, when=when, updated_at=updated_at,
            held_developments={pid: live.dev_of[pid] for pid in moved if pid in live.dev_of},
        )
        place = {pid: times[pid][0] for pid in moved}
        if done is None:  # the stored rows are another's: store the whole alignment
            done = store.save(conn, event_id, _whole(live, updated_at), when, writer=live.writer)
            place = {pid: value[0] for pid, value in _inferred(live).items()}
        if done:
            post_store.place_untimed(conn, event_id, place)
        return done

    if _write(engine, broker, event_id, payload, work):
        live.stored_num = live.last_num
        live.stored_times.update(times)
        live.unstored.clear()


def _new_times(live: Live) -> dict[str, tuple[datetime, int]]:
    """The inferred times that differ from those stored. The aligner names the posts whose time
    it placed anew, so only those are compared."""
    posts, inferred = live.posts(), live.aligner.inferred
    live.unstored.update(live.aligner.replaced)
    live.aligner.replaced.clear()
    out = {}
    for pid in live.unstored:
        if pid not in live.index or posts[live.index[pid]].time is not None:
            continue
        guess = inferred[pid]
        value = (guess.time, round(guess.plus_minus_s))
        if live.stored_times.get(pid) != value:
            out[pid] = value
    return out


def _whole(live: Live, updated_at: datetime) -> StoredAlignment:
    devs = sorted(live.devs.values(), key=lambda d: (d.first_time or _NEVER, d.id))
    return StoredAlignment(posts=[aligned_post(p, live.aligner.inferred) for p in live.posts()], developments=devs, last_num=live.last_num,
                           updated_at=updated_at)


def _write(engine: Engine, broker: Broker, event_id: int, payload: dict, store_rows) -> bool:
    """Run `store_rows(conn)` and, if it stored, append the `developments.updated` change in the same
    transaction; announce it after commit. True if stored."""
    announced: list[int] = []

    def work(conn: Connection) -> bool:
        announced.clear()
        if not store_rows(conn):
            return False
        slug = event_store.event_slug(conn, event_id)
        announced.append(changes.append_change(conn, event_id, KIND, {"event": slug, **payload}))
        return True

    stored_now = run_write(engine, work)
    for change_id in announced:
        broker.announce(change_id)
    return stored_now


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
