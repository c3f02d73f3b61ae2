"""How far new link weights alone could take alignment on the real events corpus.

For every pair of posts of two outlets in the shared corpus events (posts cut by their gold, as
in bench/align_eval.py; near misses the gold calls related left out), the signals are computed
as alignment computes them in its second pass, sentence model included. Then two scores of those
same signals are compared: the shipped link probability, and a logistic regression fitted on the
corpus itself, leave one event out (each event scored by weights fitted on the other six). The
corpus-fitted weights are never shipped: if they do no better than the shipped ones, the limit is
in the signals, not in the fit.

Prints the ROC AUC of each score, over all pairs and over pairs of two languages, and the same
pairs found and other pairs passed at a few probability thresholds.
Run from the repository root: python bench/align_ceiling.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "align"))

import corpus_events  # noqa: E402

from livedesk.align import semantic, similar  # noqa: E402
from livedesk.align.cluster import CONFIDENT, _components, _corpus, _time_features, page_shifts  # noqa: E402
from livedesk.align.similar import Meaning  # noqa: E402
from livedesk.align.times import infer_times  # noqa: E402

NO_OFF: frozenset[str] = frozenset()


def event_rows(event: corpus_events.CorpusEvent, embedder) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Signal rows, shipped probabilities, gold labels and two-language flags of the event's pairs."""
    posts = event.posts
    feats = [similar.features(p) for p in posts]
    corpus = _corpus(feats, similar.raw_vectors(feats), Meaning(embedder, {}))
    n = len(posts)
    i, j = (a.astype(np.int64) for a in np.triu_indices(n, k=1))
    keep = np.array([posts[a].outlet != posts[b].outlet
                     and frozenset((posts[a].id, posts[b].id)) not in event.related for a, b in zip(i, j)], dtype=bool)
    i, j = i[keep], j[keep]
    text = similar.text_features(corpus, i, j)
    cross = similar.cross_language(feats, i, j)
    first = similar.pair_probability(corpus, i, j, text, _time_features(posts, {}, i, j, NO_OFF), cross)
    inferred = infer_times(posts, _components(posts, i, j, first, CONFIDENT))
    timing = _time_features(posts, inferred, i, j, NO_OFF, page_shifts(posts, i, j, first))
    shipped = similar.pair_probability(corpus, i, j, text, timing, cross)
    similar.nearest_in_time([f.outlet for f in feats], i, j, timing)
    columns = [similar.TEXT_FEATURES.index(name) for name in similar.MEANING_FEATURES]
    if embedder is not None:
        text[:, columns] = similar.meaning_features(corpus, i, j, timing[:, 1] <= 0)
    rows = similar.feature_rows(text, timing, cross)
    same = {frozenset(pair) for pair in event.same}
    gold = np.array([frozenset((posts[a].id, posts[b].id)) in same for a, b in zip(i, j)], dtype=bool)
    return rows, shipped, gold, cross > 0


def main() -> None:
    embedder = semantic.load()
    events = corpus_events.load_events()
    parts = [event_rows(e, embedder) for e in events]
    rows, shipped, gold, cross = (np.concatenate([p[k] for p in parts]) for k in range(4))
    owner = np.concatenate([np.full(len(p[2]), k) for k, p in enumerate(parts)])
    refit = np.zeros(len(gold))
    for k in range(len(events)):
        fit = LogisticRegression(C=1.0, max_iter=5000).fit(rows[owner != k], gold[owner != k])
        refit[owner == k] = fit.predict_proba(rows[owner == k])[:, 1]
    print(f"real events corpus: {len(events)} events, {len(gold)} pairs of two outlets, {gold.sum()} same; "
          f"sentence model {'on' if embedder else 'off'}")
    for name, part in (("all pairs", np.ones(len(gold), dtype=bool)), ("two languages", cross)):
        print(f"  {name:<14} ROC AUC shipped {roc_auc_score(gold[part], shipped[part]):.3f}   "
              f"fitted on the corpus, leave one event out {roc_auc_score(gold[part], refit[part]):.3f}")
    for threshold in (0.3, 0.5, 0.7):
        print(f"  at p >= {threshold}: shipped {int((gold & (shipped >= threshold)).sum())} same, "
              f"{int((~gold & (shipped >= threshold)).sum())} others;   corpus-fitted "
              f"{int((gold & (refit >= threshold)).sum())} same, {int((~gold & (refit >= threshold)).sum())} others")


if __name__ == "__main__":
    main()
