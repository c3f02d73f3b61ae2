"""Inferred times for posts that their page leaves untimed.

Two clues, combined per outlet page:
- the times of aligned posts of other outlets (a report of one development appears near
  the others), and
- the page order: an untimed post lies between its timed or placed neighbours.
An isotonic fit (scikit-learn) makes the placed times agree with the page order.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from statistics import median

import numpy as np
from sklearn.isotonic import IsotonicRegression

from livedesk.model import AlignPost, InferredTime

MIN_UNCERTAINTY_S = 300.0
ALIGNED_UNCERTAINTY_S = 900.0  # a report usually follows another outlet's within minutes
DEFAULT_STEP_S = 1200.0  # spacing of posts when a page gives no better figure
REAL = 1000.0  # weight of a real time against an estimate in the fit


def infer_times(posts: list[AlignPost], labels: np.ndarray) -> dict[str, InferredTime]:
    """post id -> inferred time, for every untimed post that can be placed."""
    timed_by_group: dict[int, list[tuple[str, float]]] = defaultdict(list)
    pages: dict[str, list[int]] = defaultdict(list)
    for k, p in enumerate(posts):
        pages[p.outlet].append(k)
        if p.time is not None:
            timed_by_group[int(labels[k])].append((p.outlet, p.time.timestamp()))
    inferred: dict[str, InferredTime] = {}
    for members in pages.values():
        page = [posts[k] for k in members]
        inferred.update(infer_page(page, [timed_by_group[int(labels[k])] for k in members]))
    return inferred


class PageMemo:
    """What `infer_page` worked out for each untimed post, kept by the live aligner, which places
    a whole page again for each post it adds: a post's estimate from its development is worked
    out again only when the development's list of timed posts grew (the lists only grow, and a
    new list is a new object), and its inferred time is a new object only when it moved."""

    def __init__(self) -> None:
        self.estimates: dict[str, tuple[list[tuple[str, float]], int, tuple[float, float, float] | None]] = {}
        self.placed: dict[str, tuple[float, float, InferredTime]] = {}


def infer_page(page: list[AlignPost], group_times: list[list[tuple[str, float]]],
               memo: PageMemo | None = None) -> dict[str, InferredTime]:
    """Inferred times for the untimed posts of one outlet's page.

    group_times[i] holds (outlet, epoch seconds) of the timed posts in page[i]'s development.
    """
    if all(p.time is not None for p in page):
        return {}
    keys = [_chronological(p) for p in page]
    order = sorted(range(len(page)), key=keys.__getitem__)
    # the anchored ranks in time order, each with its estimate, weight and uncertainty
    ranks: list[int] = []
    estimates: list[float] = []
    weights: list[float] = []
    spreads: list[float] = []
    untimed = []  # ranks of the untimed posts
    for rank, i in enumerate(order):
        p = page[i]
        if p.time is not None:
            ranks.append(rank)
            estimates.append(p.time.timestamp())
            weights.append(REAL)
            spreads.append(0.0)
            continue
        untimed.append(rank)
        times = group_times[i]
        held = memo.estimates.get(p.id) if memo is not None else None
        if held is not None and held[0] is times and held[1] == len(times):
            anchor = held[2]
        else:
            anchor = _estimate(p.outlet, times)
            if memo is not None:
                memo.estimates[p.id] = (times, len(times), anchor)
        if anchor is not None:
            ranks.append(rank)
            estimates.append(anchor[0])
            weights.append(anchor[1])
            spreads.append(anchor[2])
    if not ranks:
        return {}
    inferred = {}
    t, u = (values.tolist() for values in _place(len(page), np.array(ranks), np.array(estimates), np.array(weights),
                                                np.array(spreads)))
    for rank in untimed:
        pid = page[order[rank]].id
        placed = memo.placed.get(pid) if memo is not None else None
        if placed is not None and placed[0] == t[rank] and placed[1] == u[rank]:
            inferred[pid] = placed[2]
            continue
        inferred[pid] = InferredTime(time=datetime.fromtimestamp(t[rank], tz=UTC), plus_minus_s=u[rank])
        if memo is not None:
            memo.placed[pid] = (t[rank], u[rank], inferred[pid])
    return inferred


def _estimate(outlet: str, group_times: list[tuple[str, float]]) -> tuple[float, float, float] | None:
    """An untimed post's anchor from the other outlets' times in its development, if any."""
    others = [t for o, t in group_times if o != outlet]
    if not others:
        return None
    spread = (max(others) - min(others)) / 2
    return (median(others), 1.0, max(ALIGNED_UNCERTAINTY_S, spread))


def _chronological(p: AlignPost) -> int:
    return p.position if p.page_order == "oldest" else -p.position


def _place(n: int, ranks: np.ndarray, values: np.ndarray, weights: np.ndarray, spreads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and uncertainties for every rank 0..n-1 of a page, given the anchored ranks (in
    order) with their estimate, weight and uncertainty."""
    fitted = IsotonicRegression(increasing=True).fit(ranks, values, sample_weight=weights).predict(ranks)
    steps = np.diff(fitted) / np.maximum(np.diff(ranks), 1)
    step = float(np.median(steps[steps > 0])) if np.any(steps > 0) else DEFAULT_STEP_S
    every = np.arange(n)
    pos = np.searchsorted(ranks, every)
    t, u = np.empty(n), np.empty(n)
    # an anchored rank keeps its fitted time
    anchored = np.zeros(n, dtype=bool)
    anchored[ranks] = True
    t[anchored], u[anchored] = fitted, np.maximum(spreads, MIN_UNCERTAINTY_S)
    # between two anchors: on the line between their fitted times
    between = ~anchored & (pos > 0) & (pos < len(ranks))
    p = pos[between]
    lo, hi = fitted[p - 1], fitted[p]
    share = (every[between] - ranks[p - 1]) / (ranks[p] - ranks[p - 1])
    t[between], u[between] = lo + share * (hi - lo), np.maximum((hi - lo) / 2, MIN_UNCERTAINTY_S)
    # before the first or after the last: a typical step per rank away
    before = ~anchored & (pos == 0)
    distance = ranks[0] - every[before]
    t[before], u[before] = fitted[0] - step * distance, np.maximum(step * distance, MIN_UNCERTAINTY_S)
    after = ~anchored & (pos == len(ranks))
    distance = every[after] - ranks[-1]
    t[after], u[after] = fitted[-1] + step * distance, np.maximum(step * distance, MIN_UNCERTAINTY_S)
    return t, u
