"""Inferred times for posts that their page leaves untimed.

Two clues, combined per outlet page:
- the times of aligned posts of other outlets (a report of one development appears near
  the others), and
- the page order: an untimed post lies between its timed or placed neighbours.
An isotonic fit (scikit-learn) makes the placed times agree with the page order.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from statistics import median

import numpy as np
from sklearn.isotonic import isotonic_regression

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


def infer_page(page: list[AlignPost], group_times: list[list[tuple[str, float]]]) -> dict[str, InferredTime]:
    """Inferred times for the untimed posts of one outlet's page, placed in one go.

    group_times[i] holds (outlet, epoch seconds) of the timed posts in page[i]'s development.
    """
    inferred: dict[str, InferredTime] = {}
    if page:
        LivePage(page, list(range(len(page)))).place(page[0].outlet, group_times.__getitem__, inferred)
    return inferred


class LivePage:
    """One outlet's page as the live aligner places it again after each post: its posts (indices
    into the aligner's list) in time order, each with its anchor (NaN for none), and the times
    placed last. Only the anchors of the posts named `stale` are worked out again; the fit still
    covers the whole page, so the times are those a first placing gives, and only the posts whose
    time moved get a new `InferredTime`."""

    def __init__(self, posts: list[AlignPost], members: list[int]) -> None:
        self.posts = posts  # the aligner's posts
        self.members = list(members)
        self.keys: list[int] = []
        n = len(members)
        self.estimate, self.weight, self.spread = np.full(n, np.nan), np.zeros(n), np.zeros(n)
        self.untimed = np.array([posts[k].time is None for k in members], dtype=bool)
        self.placed_t, self.placed_u = np.full(n, np.nan), np.full(n, np.nan)
        for rank, k in enumerate(members):
            if (when := posts[k].time) is not None:
                self.estimate[rank], self.weight[rank] = when.timestamp(), REAL
        self.stale = {k for k, untimed in zip(members, self.untimed.tolist()) if untimed}
        self.moved = True  # the order is worked out on the first placing

    def add(self, k: int) -> None:
        """Take in a new post, in its place in time order (at the end if the page is to be sorted)."""
        post = self.posts[k]
        if self.moved:
            rank = len(self.members)
        else:
            key = _chronological(post)
            rank = bisect_right(self.keys, key)
            self.keys.insert(rank, key)
        self.members.insert(rank, k)
        timed = post.time is not None
        self.estimate = np.insert(self.estimate, rank, post.time.timestamp() if post.time is not None else np.nan)
        self.weight = np.insert(self.weight, rank, REAL if timed else 0.0)
        self.spread = np.insert(self.spread, rank, 0.0)
        self.untimed = np.insert(self.untimed, rank, not timed)
        self.placed_t = np.insert(self.placed_t, rank, np.nan)
        self.placed_u = np.insert(self.placed_u, rank, np.nan)
        if not timed:
            self.stale.add(k)

    def _sort(self) -> None:
        """Put the posts in time order again after positions moved (ties in the order they came)."""
        keys = {k: _chronological(self.posts[k]) for k in self.members}
        order = sorted(range(len(self.members)), key=lambda rank: (keys[self.members[rank]], self.members[rank]))
        self.members = [self.members[rank] for rank in order]
        self.keys = [keys[k] for k in self.members]
        for name in ("estimate", "weight", "spread", "untimed", "placed_t", "placed_u"):
            setattr(self, name, getattr(self, name)[order])
        self.moved = False

    def place(self, outlet: str, group_times: Callable[[int], list[tuple[str, float]]],
              inferred: dict[str, InferredTime]) -> list[str]:
        """Place the page's untimed posts again into `inferred`; returns the ids whose time moved.
        group_times(k) holds (outlet, epoch seconds) of the timed posts in post k's development."""
        if self.moved:
            self._sort()
        if not self.untimed.any():
            return []
        rank_of = {k: rank for rank, k in enumerate(self.members)} if len(self.stale) > 20 else None
        for k in self.stale:
            rank = rank_of[k] if rank_of is not None else self.members.index(k)
            anchor = _estimate(outlet, group_times(k))
            self.estimate[rank], self.weight[rank], self.spread[rank] = anchor if anchor is not None else (np.nan, 0.0, 0.0)
        self.stale.clear()
        ranks = np.flatnonzero(~np.isnan(self.estimate))
        if not len(ranks):
            return []
        t, u = _place(len(self.members), ranks, self.estimate[ranks], self.weight[ranks], self.spread[ranks])
        moved = np.flatnonzero(self.untimed & ((t != self.placed_t) | (u != self.placed_u)))
        self.placed_t[moved], self.placed_u[moved] = t[moved], u[moved]
        out = []
        for rank, when, plus_minus in zip(moved.tolist(), t[moved].tolist(), u[moved].tolist()):
            pid = self.posts[self.members[rank]].id
            inferred[pid] = InferredTime(time=datetime.fromtimestamp(when, tz=UTC), plus_minus_s=plus_minus)
            out.append(pid)
        return out


def _estimate(outlet: str, group_times: list[tuple[str, float]]) -> tuple[float, float, float] | None:
    """An untimed post's anchor from the other outlets' times in its development, if any."""
    others = [t for o, t in group_times if o != outlet]
    if not others:
        return None
    spread = (max(others) - min(others)) / 2
    return (median(others), 1.0, max(ALIGNED_UNCERTAINTY_S, spread))


def _chronological(p: AlignPost) -> int:
    return p.position if p.page_order == "oldest" else -p.position


def fit(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The isotonic fit at the anchors, to the last bit as IsotonicRegression(increasing=True)
    .fit(ranks, values, sample_weight=weights).predict(ranks) gives it for distinct ranks in order
    (the estimator scales each value by its weight and back before the fit, and predicts the fitted
    values at the ranks exactly), without the estimator's checks, which cost most of its time."""
    fitted: np.ndarray = isotonic_regression(values * weights / weights, sample_weight=weights, increasing=True)
    return fitted


def _place(n: int, ranks: np.ndarray, values: np.ndarray, weights: np.ndarray, spreads: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Times and uncertainties for every rank 0..n-1 of a page, given the anchored ranks (in
    order) with their estimate, weight and uncertainty."""
    fitted = fit(values, weights)
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
