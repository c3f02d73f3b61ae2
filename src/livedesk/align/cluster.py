"""Developments: posts of different outlets that report the same statement, act or moment.

Batch: `align(posts)`. Live: `Aligner().add(post)` places one post in well under a second,
and `Aligner.alignment()` settles everything exactly as `align` would.

Clustering runs twice. A first pass keeps only confident links; the times of those links
place untimed posts on the clock (`times.infer_times`). The second pass then also weighs time
proximity for untimed posts, which separates look-alike remarks made hours apart.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import scipy.sparse as sp

from livedesk.align import similar
from livedesk.align.keypoints import key_point_suggestions
from livedesk.align.semantic import Embedder
from livedesk.align.similar import LINK_PROBABILITY, Corpus, Features, Frequencies, Meaning
from livedesk.align.times import LivePage, infer_page, infer_times
from livedesk.model import AlignPost, Development, InferredTime, Quote

CONFIDENT = 0.7  # first-pass links (a probability), trusted to place untimed posts
SETTLE_BELOW = 150  # the live aligner re-clusters small events whole on every post


class AlignError(ValueError):
    """Posts that cannot be aligned, such as two posts sharing one id."""


@dataclass
class Alignment:
    developments: list[Development]
    inferred: dict[str, InferredTime] = field(default_factory=dict)
    exclusives: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    key_point_suggestions: list[dict[str, Any]] = field(default_factory=list)


def align(
    posts: list[AlignPost],
    *,
    progress: Callable[[int, int], None] | None = None,
    off: frozenset[str] = frozenset(),
    embedder: Embedder | None = None,
    known: dict[str, np.ndarray] | None = None,
) -> Alignment:
    """Group the posts of many outlets into developments. `off` switches signals off (ablation).

    With an `embedder`, sentence vectors are one more signal; `known` holds vectors made
    before (by `semantic.text_key`) and receives the ones made now.
    """
    _check_ids(posts)
    with collector_paused():
        feats: list[Features] = []
        for start in range(0, len(posts), 500):
            feats.extend(similar.features(p) for p in posts[start : start + 500])
            if progress:
                progress(len(feats), len(posts))
        raw = similar.raw_vectors(feats) if posts else None
        meaning = Meaning(embedder, {} if known is None else known)
        return _settle(posts, feats, raw, off, meaning)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector, paused while a batch is aligned.

    Alignment frees its objects by reference counts and leaves next to nothing for the
    collector, but it holds lists of a million numbers and a million small objects, which each
    of the collector's full passes walks: at 20,000 posts those passes took a tenth of the
    time. The collector resumes (if it ran before) when the batch is done.
    """
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def _check_ids(posts: list[AlignPost]) -> None:
    seen: set[str] = set()
    for p in posts:
        if p.id in seen:
            raise AlignError(f"two posts share the id {p.id!r}")
        if p.time is not None and p.time.tzinfo is None:
            raise AlignError(f"post {p.id!r} has a time without a zone; give aware UTC times")
        seen.add(p.id)


def _corpus(feats: list[Features], raw: tuple[sp.csr_matrix, ...], meaning: Meaning) -> Corpus:
    freq = Frequencies()
    freq.add(raw)
    return Corpus(feats, freq, tuple(similar.weigh(raw[k], freq, k) for k in range(3)), meaning)


def _settle(posts: list[AlignPost], feats: list[Features], raw: tuple[Any, ...] | None, off: frozenset[str],
            meaning: Meaning) -> Alignment:
    if not posts or raw is None:
        return Alignment(developments=[])
    labels, inferred, _ = _cluster(posts, feats, raw, off, meaning)
    return summarise(posts, feats, labels, inferred)


def _cluster(
    posts: list[AlignPost], feats: list[Features], raw: tuple[Any, ...], off: frozenset[str], meaning: Meaning
) -> tuple[np.ndarray, dict[str, InferredTime], tuple[Any, ...]]:
    """Development label per post, the inferred times, and the pairs (i, j, probability) that
    link in the second pass, in two passes."""
    corpus = _corpus(feats, raw, meaning)
    i, j = similar.candidate_pairs(corpus, raw[0])
    text = similar.text_features(corpus, i, j, off)
    cross = similar.cross_language(feats, i, j)
    first = similar.pair_probability(corpus, i, j, text, _time_features(posts, {}, i, j, off), cross, off)
    labels = _components(posts, i, j, first, CONFIDENT)
    inferred = infer_times(posts, labels)
    shifts = {} if "time" in off else page_shifts(posts, i, j, first)
    second = similar.pair_probability(corpus, i, j, text, _time_features(posts, inferred, i, j, off, shifts), cross, off)
    labels = _components(posts, i, j, second, LINK_PROBABILITY)
    strong = second >= LINK_PROBABILITY
    return labels, infer_times(posts, labels), (i[strong], j[strong], second[strong])


ZONE_DOUBT_S = 3600.0  # a guessed zone: pages read with one guess keep their order, but may be hours apart
DST_DOUBT_S = 3600.0  # a guessed date may fall in the other half of a summer-time year


def _times(posts: list[AlignPost], inferred: dict[str, InferredTime], shifts: dict[str, float] | None = None,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epoch seconds (NaN if unknown), their uncertainty in seconds, and whether the date was
    assumed (only the clock can be compared); real times first. A page in `shifts` had its
    assumed date or zone settled by its links: its times move by the shift and count as read."""
    t = np.full(len(posts), np.nan)
    u = np.zeros(len(posts))
    daily = np.zeros(len(posts), dtype=bool)
    for k, p in enumerate(posts):
        if p.time is not None:
            t[k] = p.time.timestamp()
            u[k] = ZONE_DOUBT_S if p.zone_assumed else (DST_DOUBT_S if p.date_assumed else 0.0)
            daily[k] = p.date_assumed
        elif p.id in inferred:
            t[k] = inferred[p.id].time.timestamp()
            u[k] = inferred[p.id].plus_minus_s
    t = _move_assumed_dates(posts, t, daily)
    for k, p in enumerate(posts):
        if shifts and p.time is not None and p.outlet in shifts:
            t[k] += shifts[p.outlet]
            u[k], daily[k] = 0.0, False
    return t, u, daily


SHIFT_SUPPORT = 1.0  # summed link probability, at matching times, that settles a page's clock
SHIFT_CLOSE_S = 900.0


def page_shifts(posts: list[AlignPost], i: np.ndarray, j: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """Whole hours to move each page whose date or zone was assumed, found from its links.

    All the times of one page share one error: a guessed zone is off by whole hours, a guessed
    date by at most the summer-time hour. Pages are settled against the pages whose times are
    stated (or, where none are, against the assumed page with the most posts), biggest first:
    the shift that puts a page's likely links closest in time is taken when they clearly agree."""
    t, _, _ = _times(posts, {})
    timed = np.array([p.time is not None for p in posts])
    assumed = np.array([p.time is not None and (p.date_assumed or p.zone_assumed) for p in posts])
    outlets = np.array([p.outlet for p in posts])
    settled = timed & ~assumed
    pages = sorted(set(outlets[assumed].tolist()), key=lambda o: (-int((outlets == o).sum()), o))
    if not settled.any() and pages:
        settled = outlets == pages.pop(0)
    shifts: dict[str, float] = {}
    for outlet in pages:
        page = assumed & (outlets == outlet)
        zone = any(posts[k].zone_assumed for k in np.flatnonzero(page))
        hours = np.arange(-14, 15) if zone else np.arange(-1, 2)
        mine = np.concatenate([np.flatnonzero(page[i] & settled[j]), np.flatnonzero(page[j] & settled[i])])
        a = np.where(page[i[mine]], i[mine], j[mine])
        b = np.where(page[i[mine]], j[mine], i[mine])
        weight = score[mine]
        support = np.array([
            float((weight * np.exp(-np.abs(t[a] + h * 3600 - t[b]) / SHIFT_CLOSE_S)).sum()) for h in hours
        ])
        best = int(np.argmax(support))
        runner_up = np.max(np.delete(support, best)) if len(support) > 1 else 0.0
        if support[best] >= SHIFT_SUPPORT and support[best] >= 2 * runner_up:
            shifts[outlet] = float(hours[best] * 3600)
            t[page] += shifts[outlet]
            settled |= page
    return shifts


def _move_assumed_dates(posts: list[AlignPost], t: np.ndarray, daily: np.ndarray) -> np.ndarray:
    """Move each page whose date was assumed by whole days to the coverage of the pages that
    state their dates (the median of both), so that its times can be compared at all."""
    stated = t[~daily & ~np.isnan(t)]
    if not daily.any() or not len(stated):
        return t
    anchor = float(np.median(stated))
    moved = t.copy()
    outlets = np.array([p.outlet for p in posts])
    for outlet in set(outlets[daily].tolist()):
        page = daily & (outlets == outlet)
        moved[page] += round((anchor - float(np.median(t[page]))) / similar.DAY_S) * similar.DAY_S
    return moved


def _time_features(
    posts: list[AlignPost], inferred: dict[str, InferredTime], i: np.ndarray, j: np.ndarray, off: frozenset[str],
    shifts: dict[str, float] | None = None,
) -> np.ndarray:
    t, u, daily = _times(posts, inferred, shifts)
    stated = np.array([p.time is not None for p in posts], dtype=bool)
    return similar.time_features(t[i], u[i], t[j], u[j], daily[i] | daily[j], stated[i] & stated[j], off)


def _components(
    posts: list[AlignPost], i: np.ndarray, j: np.ndarray, score: np.ndarray, threshold: float
) -> np.ndarray:
    """Development label per post: strong, near-best links join groups, strongest first, while
    the two groups' posts of different outlets link on average by `threshold` or more.

    Plain connected components would chain look-alike posts minutes apart into one group;
    averaging over the groups (pairs never scored count 0) keeps a group about one thing, and
    so does asking that at least half of those pairs lend the merge some support (AGREE): one
    strong link cannot pull in a post that the group's other posts clearly speak against.
    """
    keep = score >= threshold
    keep[keep] = near_best(posts, i[keep], j[keep], score[keep])
    useful = score >= MERGE_FLOOR
    links = _link_lists(len(posts), i[useful], j[useful], score[useful])
    outlet = [p.outlet for p in posts]
    label = list(range(len(posts)))  # post -> its group (a group is named by one of its posts)
    place = [0] * len(posts)  # post -> its place in its group's list
    members = [[k] for k in range(len(posts))]  # group -> its posts
    counts = [{outlet[k]: 1} for k in range(len(posts))]  # group -> posts per outlet
    spans = [_spans(posts[k]) for k in range(len(posts))]  # group -> its outlets' timed posts

    # merges refused, by the two groups as they were then: a group only grows, so the same
    # groups at the same sizes hold the same posts and would be refused again
    refused: set[tuple[int, int, int, int]] = set()
    order = np.argsort(-score[keep], kind="stable")
    for x, y in zip(i[keep][order].tolist(), j[keep][order].tolist()):
        ra, rb = label[x], label[y]
        if ra == rb:
            continue
        group_a, group_b = members[ra], members[rb]
        seen = (ra, rb, len(group_a), len(group_b))
        if seen in refused:
            continue
        refused.add(seen)
        # a second post of one outlet joins only a group it is clearly about
        count_a, count_b = counts[ra], counts[rb]
        shared = count_a.keys() & count_b.keys()
        repeat = bool(shared)
        if repeat and _apart(spans[ra], spans[rb]):
            continue
        # the pairs of the two groups' posts of different outlets; those never linked count 0
        pairs = len(group_a) * len(group_b) - sum(count_a[o] * count_b[o] for o in shared)
        cross = _cross_links(group_a, group_b, links, label, place, outlet)
        if pairs and sum(cross) / pairs < (SECOND_POST if repeat else GROUP_AVERAGE * threshold):
            continue
        # nor a group that most of its posts' links disagree with, however strong one link is
        if pairs and sum(c >= AGREE for c in cross) < pairs / 2:
            continue
        offset = len(group_a)
        for m in group_b:
            label[m], place[m] = ra, place[m] + offset
        for o, n in count_b.items():
            count_a[o] = count_a.get(o, 0) + n
        _join(spans[ra], spans[rb])
        group_a.extend(group_b)
        members[rb], counts[rb], spans[rb] = [], {}, {}
    return np.array(label)


def _link_lists(n: int, i: np.ndarray, j: np.ndarray, score: np.ndarray) -> tuple[list[int], list[int], list[float]]:
    """Each post's links as compressed rows (start of each post's run, other posts, probabilities),
    both ways; pairs given with i < j, the last of pairs given twice."""
    key = i * n + j
    _, last = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - last
    last = last[i[last] < j[last]]
    rows, cols, vals = np.r_[i[last], j[last]], np.r_[j[last], i[last]], np.r_[score[last], score[last]]
    order = np.argsort(rows, kind="stable")
    start = np.searchsorted(rows[order], np.arange(n + 1))
    return start.tolist(), cols[order].tolist(), vals[order].tolist()


def _cross_links(group_a: list[int], group_b: list[int], links: tuple[list[int], list[int], list[float]],
                 label: list[int], place: list[int], outlet: list[str]) -> list[float]:
    """The link probabilities between posts of two groups (of different outlets), in the order
    of a walk over group_a's posts and, for each, over group_b's: summed in that order, they
    add up exactly as the sum over all the groups' pairs, unlinked ones 0, does."""
    start, other_post, probability = links
    a_is_small = len(group_a) <= len(group_b)
    small = group_a if a_is_small else group_b
    other = label[group_b[0]] if a_is_small else label[group_a[0]]
    found = []
    for x in small:
        for n in range(start[x], start[x + 1]):
            y = other_post[n]
            if label[y] == other and outlet[x] != outlet[y]:
                found.append((place[x], place[y], probability[n]) if a_is_small else (place[y], place[x], probability[n]))
    found.sort()
    return [s for _, _, s in found]


SPLIT_S = 900.0  # posts of one outlet further apart than this are not one development split in two


Span = tuple[float, float, int]  # an outlet's timed posts in a group: earliest, latest, how many


def _spans(post: AlignPost) -> dict[str, Span]:
    """The spans of a group of one post."""
    when = post.time
    return {} if when is None else {post.outlet: (when.timestamp(), when.timestamp(), 1)}


def _join(a: dict[str, Span], b: dict[str, Span]) -> None:
    """Add the spans of b to a."""
    for outlet, span in b.items():
        had = a.get(outlet)
        a[outlet] = span if had is None else (min(span[0], had[0]), max(span[1], had[1]), span[2] + had[2])


def _apart(a: dict[str, Span], b: dict[str, Span]) -> bool:
    """True when two groups (given by their spans) joined would hold several timed posts of two
    or more outlets, and the posts of one of them lie further apart than SPLIT_S. One outlet's
    summary may report what another wrote in several posts, but two outlets that each wrote
    twice, far apart, wrote of two things."""
    several = [hi - lo for o, (lo, hi, n) in a.items() if n > 1 and o not in b]
    several += [hi - lo for o, (lo, hi, n) in b.items() if n > 1 and o not in a]
    several += [max(a[o][1], b[o][1]) - min(a[o][0], b[o][0]) for o in a.keys() & b.keys()]
    return len(several) >= 2 and max(several) > SPLIT_S


GROUP_AVERAGE = 0.6  # groups merge when their posts link on average by this share of the threshold
SECOND_POST = 0.8  # the average link a group needs to take a second post of an outlet it holds
MERGE_FLOOR = 0.05  # link probabilities below this count as 0 when groups are merged
AGREE = 0.2  # a link this likely supports a merge: at least half the pairs of two groups must
NEAR_BEST = 0.75


def near_best(posts: list[AlignPost], i: np.ndarray, j: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Keep a link only if it is close to the best link of both its posts into the other outlet.

    One post may report what another outlet split over two posts, but a weaker second
    link from one post into the same outlet usually joins a different development.
    """
    names = sorted({p.outlet for p in posts})
    outlet = np.array([names.index(p.outlet) for p in posts]) if len(names) < 64 else np.unique(
        [p.outlet for p in posts], return_inverse=True
    )[1]
    key_i = i * len(names) + outlet[j]  # post i's links into j's outlet
    key_j = j * len(names) + outlet[i]
    best = np.zeros(len(posts) * len(names))
    np.maximum.at(best, key_i, score)
    np.maximum.at(best, key_j, score)
    near: np.ndarray = (score >= NEAR_BEST * best[key_i]) & (score >= NEAR_BEST * best[key_j])
    return near


# --- what the groups say ---------------------------------------------------------------


def summarise(
    posts: list[AlignPost],
    feats: list[Features],
    labels: np.ndarray,
    inferred: dict[str, InferredTime],
) -> Alignment:
    groups: dict[int, list[int]] = {}
    for k, label in enumerate(labels):
        groups.setdefault(int(label), []).append(k)
    devs = [development(posts, feats, members, inferred) for members in groups.values()]
    devs.sort(key=lambda d: (d.first_time or datetime.max.replace(tzinfo=UTC), d.id))
    outlets = sorted({p.outlet for p in posts})
    exclusives = {o: [d.id for d in devs if d.outlets == [o]] for o in outlets}
    shares = {o: sum(o in d.outlets for d in devs) / len(devs) for o in outlets}
    by_id = {p.id: p for p in posts}
    return Alignment(
        developments=devs,
        inferred=inferred,
        exclusives=exclusives,
        shares=shares,
        key_point_suggestions=key_point_suggestions(devs, by_id),
    )


def when(post: AlignPost, inferred: dict[str, InferredTime]) -> datetime | None:
    if post.time is not None:
        return post.time
    guess = inferred.get(post.id)
    return guess.time if guess else None


def development(
    posts: list[AlignPost], feats: list[Features], members: list[int], inferred: dict[str, InferredTime]
) -> Development:
    """One development from the indices of its posts."""
    never = datetime.max.replace(tzinfo=UTC)
    members = sorted(members, key=lambda k: (when(posts[k], inferred) or never, posts[k].id))
    outlets = list(dict.fromkeys(posts[k].outlet for k in members))
    first = first_reporter([posts[k] for k in members], inferred)
    return Development(
        id="d-" + min(posts[k].id for k in members),
        post_ids=[posts[k].id for k in members],
        outlets=outlets,
        label=_label([posts[k] for k in members]),
        first_time=first.pop("first_time") or when(posts[members[0]], inferred),
        quotes=_quotes(posts, feats, members),
        **first,
    )


CLEAR_LEAD_S = 60.0  # a lead resting on an inferred time must exceed its uncertainty by this much


def first_reporter(members: list[AlignPost], inferred: dict[str, InferredTime]) -> dict[str, Any]:
    """Who reported a development first, and by how much, from each outlet's earliest post.

    Inferred times count too, with their uncertainty: a lead is claimed only where it is
    larger than the uncertainty of both times (by CLEAR_LEAD_S). Where an inferred time
    may lie before the first one (by as much), the first by a real time is named, if any,
    and the others contest it. A time read with an assumed date or zone never carries a
    lead: its outlet contests the first place instead. `lead_basis` says what the lead
    rests on: "both times stated", or whose time was inferred or assumed.
    """
    earliest: dict[str, tuple[datetime, float, str]] = {}  # outlet -> (time, ± seconds, basis)
    assumed: list[str] = []
    for p in members:
        if p.time is not None and (p.date_assumed or p.zone_assumed):
            assumed.append(p.outlet)
            continue
        guess = inferred.get(p.id) if p.time is None else None
        if p.time is not None:
            moment = (p.time, 0.0, "stated")
        elif guess is not None:
            moment = (guess.time, guess.plus_minus_s, "inferred")
        else:
            continue
        if p.outlet not in earliest or moment[0] < earliest[p.outlet][0]:
            earliest[p.outlet] = moment
    assumed = [o for o in dict.fromkeys(assumed) if o not in earliest]
    ranked = sorted(earliest.items(), key=lambda item: (item[1][0], item[1][2] != "stated"))
    out: dict[str, Any] = {"first_reported_by": None, "first_time": None, "lead_seconds": None, "runner_up": None,
                 "lead_uncertainty_s": None, "first_contested_by": [], "lead_basis": None}
    if not ranked:
        out.update(first_contested_by=assumed, lead_basis=_basis(assumed, "date or zone assumed") if assumed else None)
        return out
    (first, (t1, u1, b1)), rest = ranked[0], ranked[1:]
    gaps = [((t - t1).total_seconds(), u + u1, outlet, b) for outlet, (t, u, b) in rest]
    open_to = [(outlet, slack) for gap, slack, outlet, _ in gaps if gap < slack - CLEAR_LEAD_S]
    if not open_to and not assumed:
        out.update(first_reported_by=first, first_time=t1)
        if gaps:
            gap, slack, runner_up, b2 = gaps[0]
            clear = not slack or gap > slack + CLEAR_LEAD_S
            inferred_of = [o for o, b in ((first, b1), (runner_up, b2)) if b == "inferred"]
            out.update(lead_seconds=gap if clear else None, runner_up=runner_up, lead_uncertainty_s=slack or None,
                       lead_basis=_basis(inferred_of, "time inferred") if inferred_of else "both times stated")
        return out
    contenders = [first] + [outlet for outlet, _ in open_to]
    named = next((o for o in contenders if earliest[o][2] == "stated"), None)
    contested = [o for o in contenders if o != named]
    basis = [_basis(contested, "time inferred")] if contested else []
    basis += [_basis(assumed, "date or zone assumed")] if assumed else []
    out.update(first_reported_by=named, first_time=earliest[named][0] if named else None,
               first_contested_by=contested + assumed,
               lead_uncertainty_s=max((slack for _, slack in open_to), default=None), lead_basis="; ".join(basis))
    return out


def _basis(outlets: list[str], what: str) -> str:
    """ "CNN's time inferred", "CNN's and BBC's time inferred"."""
    names = [f"{o}'s" for o in outlets]
    return (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]) + f" {what}"


def _label(members: list[AlignPost]) -> str:
    for p in members:
        if p.headline:
            return p.headline.strip()
    text = " ".join(members[0].text.split())
    sentence = text.split(". ")[0]
    return sentence if len(sentence) <= 120 else sentence[:117].rstrip() + "..."


def _quotes(posts: list[AlignPost], feats: list[Features], members: list[int]) -> list[Quote]:
    """The quoted remarks; in a shared development only those another outlet also quotes."""
    outlets = {posts[k].outlet for k in members}
    out = []
    for k in members:
        for q in feats[k].quotes:
            shared = len(outlets) == 1 or any(
                len(q.stems & other.stems) >= max(1, min(len(q.stems), len(other.stems)) // 2)
                for m in members
                if posts[m].outlet != posts[k].outlet
                for other in feats[m].quotes
            )
            if shared:
                out.append(Quote(outlet=posts[k].outlet, post_id=posts[k].id, text=q.text, speaker=q.speaker))
    return out


class Aligner:
    """Live alignment: one post at a time, each placed against an index of the earlier ones.

    `add` scores the new post against its blocked candidates only, with the document
    frequencies seen so far, and joins or starts a development. `alignment` settles the
    whole event as `align` does, with the final frequencies and both passes.
    """

    def __init__(
        self,
        posts: list[AlignPost] | None = None,
        embedder: Embedder | None = None,
        known: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Start empty, or from the posts already stored for an event (aligned as a batch).
        `embedder` and `known` are as for `align`."""
        self.meaning = Meaning(embedder, {} if known is None else known)
        self.posts: list[AlignPost] = []
        self.feats: list[Features] = []
        self.rows: list[tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]] = []
        self.freq = Frequencies()
        self.postings: dict[int, list[int]] = {}
        self.parent: list[int] = []
        self.members: dict[int, list[int]] = {}
        self.ids: set[str] = set()
        self.best: dict[tuple[int, str], float] = {}  # a post's best link score into an outlet
        self.pages: dict[str, list[int]] = {}  # outlet -> its posts
        self.inferred: dict[str, InferredTime] = {}
        self.timed: dict[int, list[tuple[str, float]]] = {}  # root -> its timed posts' (outlet, time)
        self.live_pages: dict[str, LivePage] | None = {}  # outlet -> its page as last placed (None: place anew)
        self.replaced: set[str] = set()  # posts whose inferred time is a new object since the owner last looked
        if posts:
            self._load(posts)

    @classmethod
    def from_posts(
        cls,
        posts: list[AlignPost],
        embedder: Embedder | None = None,
        known: dict[str, np.ndarray] | None = None,
    ) -> tuple[Aligner, Alignment]:
        """An aligner holding these posts, and their batch alignment: one clustering for both."""
        aligner = cls(embedder=embedder, known=known)
        if not posts:
            return aligner, Alignment(developments=[])
        labels, inferred = aligner._load(posts)
        return aligner, summarise(aligner.posts, aligner.feats, labels, inferred)

    @collector_paused()
    def _load(self, posts: list[AlignPost]) -> tuple[np.ndarray, dict[str, InferredTime]]:
        _check_ids(posts)
        self.feats = [similar.features(p) for p in posts]
        raw = similar.raw_vectors(self.feats)
        self.freq.add(raw)
        self.rows = [tuple(m[k] for m in raw) for k in range(len(posts))]
        for k, (post, feat) in enumerate(zip(posts, self.feats)):
            self._index(k, similar.single_word_columns(feat))
            self.pages.setdefault(post.outlet, []).append(k)
        self.posts = list(posts)
        self.ids = {p.id for p in posts}
        self.parent = list(range(len(posts)))
        labels, inferred, strong = _cluster(self.posts, self.feats, raw, frozenset(), self.meaning)
        self._adopt(labels, inferred, strong)
        if self.live_pages is not None:  # the pages in order now, so the first new posts need not wait for it
            for outlet, page in self.pages.items():
                self.live_pages[outlet] = LivePage(self.posts, page)
                self.live_pages[outlet].place(outlet, lambda m: self.timed[self._find(m)], self.inferred)
        return labels, inferred

    def add(self, post: AlignPost) -> list[Development]:
        """Place one post; return the developments that changed (the post's own among them)."""
        if post.id in self.ids:
            raise AlignError(f"two posts share the id {post.id!r}")
        _check_ids([post])
        k = len(self.posts)
        feat = similar.features(post)
        rows = similar.raw_vectors([feat])
        self.freq.add(rows)
        words = similar.single_word_columns(feat)
        candidates = self._candidates(post, feat, words)
        self._index(k, words)
        self.posts.append(post)
        self.feats.append(feat)
        self.rows.append(rows)
        self.ids.add(post.id)
        self.parent.append(k)
        self.members[k] = [k]
        self.timed[k] = [(post.outlet, post.time.timestamp())] if post.time else []
        self.pages.setdefault(post.outlet, []).append(k)
        if self.live_pages and post.outlet in self.live_pages:
            self.live_pages[post.outlet].add(k)
        if k < SETTLE_BELOW:
            return self._resettle()
        if post.time is None:
            self._refresh_times([k])  # place it between its page neighbours first
        links, scores = self._links(k, candidates)
        for c in links:
            if self._joins(k, c, scores):
                self._union(k, c)
        root = self._find(k)
        self._refresh_times([m for m in self.members[root] if self.posts[m].time is None])
        return [development(self.posts, self.feats, self.members[root], self.inferred)]

    def _resettle(self) -> list[Development]:
        """Cluster everything afresh (small events, while word statistics are still young)."""
        before = {frozenset(m) for m in self.members.values()}
        raw = tuple(sp.vstack([r[m] for r in self.rows]).tocsr() for m in range(3))
        self._adopt(*_cluster(self.posts, self.feats, raw, frozenset(), self.meaning))
        return [
            development(self.posts, self.feats, m, self.inferred)
            for m in self.members.values()
            if frozenset(m) not in before or len(self.posts) - 1 in m
        ]

    def _adopt(self, labels: np.ndarray, inferred: dict[str, InferredTime], strong: tuple[Any, ...]) -> None:
        """Take over developments, times and best links computed for all posts at once."""
        self.inferred = inferred
        self.replaced.update(inferred)
        if self.live_pages is not None:
            self.live_pages = {}
        self.best = {}
        outlets = [p.outlet for p in self.posts]
        for a, b, s in zip(*(x.tolist() for x in strong)):
            for post, other in ((a, b), (b, a)):
                key = (post, outlets[other])
                if s > self.best.get(key, 0.0):
                    self.best[key] = s
        groups: dict[int, list[int]] = {}
        for k, label in enumerate(labels.tolist()):
            groups.setdefault(label, []).append(k)
        self.members = {m[0]: m for m in groups.values()}
        self.timed = {}
        for root, members in self.members.items():
            for k in members:
                self.parent[k] = root
            self.timed[root] = [(self.posts[k].outlet, t.timestamp()) for k in members if (t := self.posts[k].time) is not None]

    def alignment(self) -> Alignment:
        if not self.posts:
            return Alignment(developments=[])
        with collector_paused():
            raw = tuple(sp.vstack([r[m] for r in self.rows]).tocsr() for m in range(3))
            return _settle(self.posts, self.feats, raw, frozenset(), self.meaning)

    # --- the index -----------------------------------------------------------------

    def _candidates(self, post: AlignPost, feat: Features, words: np.ndarray) -> list[int]:
        if len(self.posts) < similar.EXHAUSTIVE_BELOW:
            found: Iterable[int] = range(len(self.posts))
        else:
            n_outlets = len({p.outlet for p in self.posts[-2000:]})
            found = {c for col in similar.rare_terms(words, self.freq, n_outlets) for c in self.postings.get(int(col), [])}
        out = []
        for c in sorted(found):
            other = self.posts[c]
            if other.outlet == post.outlet:
                continue
            seen, now = self.feats[c].time, feat.time
            if seen is not None and now is not None and abs(seen - now) > similar.TIME_WINDOW_S:
                continue
            out.append(c)
        return out

    def _index(self, k: int, words: np.ndarray) -> None:
        for col in words.tolist():
            self.postings.setdefault(col, []).append(k)

    def _links(self, k: int, candidates: list[int]) -> tuple[list[int], dict[int, float]]:
        """The candidates the new post k links to, strongest first, and its score against each."""
        if not candidates:
            return [], {}
        feats = [self.feats[c] for c in candidates] + [self.feats[k]]
        mats = tuple(
            similar.weigh(sp.vstack([self.rows[c][m] for c in candidates] + [self.rows[k][m]]).tocsr(), self.freq, m)
            for m in range(3)
        )
        n = len(candidates)
        i, j = np.arange(n), np.full(n, n)
        corpus = Corpus(feats, self.freq, mats, self.meaning)
        text = similar.text_features(corpus, i, j)
        timing = _time_features([self.posts[c] for c in candidates] + [self.posts[k]], self.inferred, i, j, frozenset())
        score = similar.pair_probability(corpus, i, j, text, timing, similar.cross_language(feats, i, j))
        outlet = self.posts[k].outlet
        best: dict[str, float] = {}
        for c, s in zip(candidates, score):
            best[self.posts[c].outlet] = max(best.get(self.posts[c].outlet, 0.0), s)
        links = [
            (c, s) for c, s in zip(candidates, score.tolist())
            if s >= LINK_PROBABILITY
            and s >= NEAR_BEST * best[self.posts[c].outlet]
            and s >= NEAR_BEST * self.best.get((c, outlet), 0.0)
        ]
        for c, s in links:
            self.best[(c, outlet)] = max(self.best.get((c, outlet), 0.0), s)
            self.best[(k, self.posts[c].outlet)] = max(self.best.get((k, self.posts[c].outlet), 0.0), s)
        return [c for c, _ in sorted(links, key=lambda link: -link[1])], dict(zip(candidates, score.tolist()))

    def _joins(self, k: int, c: int, scores: dict[int, float]) -> bool:
        """Whether post k's group may take in c's group: the rule `_components` applies."""
        ours, theirs = self.members[self._find(k)], self.members[self._find(c)]
        if ours is theirs:
            return False
        outlets = {self.posts[n].outlet for n in ours}
        # k's own scores; pairs of its group's earlier posts with theirs count 0 (not rescored here)
        cross = [scores.get(m, 0.0) if n == k else 0.0
                 for n in ours for m in theirs if self.posts[n].outlet != self.posts[m].outlet]
        repeat = any(self.posts[m].outlet in outlets for m in theirs)
        return not cross or sum(cross) / len(cross) >= (SECOND_POST if repeat else GROUP_AVERAGE * LINK_PROBABILITY)

    def move(self, k: int, position: int) -> None:
        """Post k now stands at this position on its page (newer posts came in above it)."""
        post = self.posts[k]
        if post.position != position:
            post.position = position
            if self.live_pages and post.outlet in self.live_pages:
                self.live_pages[post.outlet].moved = True

    def _refresh_times(self, untimed: list[int]) -> None:
        """Re-infer the times of the untimed posts on the pages of these untimed posts, whose
        developments' timed posts may have changed."""
        outlets = dict.fromkeys(self.posts[k].outlet for k in untimed)
        if self.live_pages is None:  # each page placed anew
            for outlet in outlets:
                page = self.pages[outlet]
                found = infer_page([self.posts[k] for k in page], [self.timed[self._find(k)] for k in page])
                self.replaced.update(pid for pid, guess in found.items() if self.inferred.get(pid) != guess)
                self.inferred.update(found)
            return
        for k in untimed:
            if (live := self.live_pages.get(self.posts[k].outlet)) is not None:
                live.stale.add(k)
        for outlet in outlets:
            if outlet not in self.live_pages:
                self.live_pages[outlet] = LivePage(self.posts, self.pages[outlet])
            moved = self.live_pages[outlet].place(outlet, lambda m: self.timed[self._find(m)], self.inferred)
            self.replaced.update(moved)

    def _find(self, k: int) -> int:
        while self.parent[k] != k:
            self.parent[k] = self.parent[self.parent[k]]
            k = self.parent[k]
        return k

    def _union(self, a: int, b: int) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra == rb:
            return
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        self.timed[ra].extend(self.timed.pop(rb))
