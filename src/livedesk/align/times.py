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


def infer_page(page: list[AlignPost], group_times: list[list[tuple[str, float]]]) -> dict[str, InferredTime]:
    """Inferred times for the untimed posts of one outlet's page.

    group_times[i] holds (outlet, epoch seconds) of the timed posts in page[i]'s development.
    """
    if all(p.time is not None for p in page):
        return {}
    order = sorted(range(len(page)), key=lambda i: _chronological(page[i]))
    anchors = {}  # rank in time order -> (estimate, weight, uncertainty)
    for rank, i in enumerate(order):
        p = page[i]
        if p.time is not None:
            anchors[rank] = (p.time.timestamp(), REAL, 0.0)
            continue
        others = [t for o, t in group_times[i] if o != p.outlet]
        if others:
            spread = (max(others) - min(others)) / 2
            anchors[rank] = (median(others), 1.0, max(ALIGNED_UNCERTAINTY_S, spread))
    if not anchors:
        return {}
    inferred = {}
    for rank, (t, u) in _place(len(page), anchors).items():
        p = page[order[rank]]
        if p.time is None:
            inferred[p.id] = InferredTime(time=datetime.fromtimestamp(t, tz=UTC), plus_minus_s=u)
    return inferred


def _chronological(p: AlignPost) -> int:
    return p.position if p.page_order == "oldest" else -p.position


def _place(n: int, anchors: dict[int, tuple[float, float, float]]) -> dict[int, tuple[float, float]]:
    """Times and uncertainties for every rank 0..n-1 of a page, given the anchored ranks."""
    ranks = np.array(sorted(anchors))
    values = np.array([anchors[r][0] for r in ranks])
    weights = np.array([anchors[r][1] for r in ranks])
    spreads = np.array([anchors[r][2] for r in ranks])
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
    return dict(zip(every.tolist(), zip(t.tolist(), u.tolist())))
