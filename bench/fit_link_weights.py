"""Fit the link score: a logistic regression over the pair signals of livedesk.align.similar.

Labelled pairs (every pair of posts of two outlets in one event; 1 when they report the same
development) come from the seed gold, the labelled fictional events and the events written
for this fit (tests/fixtures/align/written: German and English, paraphrases). Some events are
held out and never fitted on; their scores are printed. The shared real-events corpus is never
read here: it only measures. Two weight sets are written, one with the sentence-model feature
and one without, to src/livedesk/align/link_weights.json.

Run from the repository root: python bench/fit_link_weights.py [--check]
(--check refits and fails if the shipped weights differ: the file is reproducible.)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "align"))

from labelled import EVENTS, load_event, seed_groups  # noqa: E402
from seed_posts import SHARED, load_gold, seed_posts  # noqa: E402

from livedesk.align import semantic, similar  # noqa: E402
from livedesk.align.cluster import _corpus, _time_features  # noqa: E402
from livedesk.align.similar import Meaning  # noqa: E402
from livedesk.align.times import infer_times  # noqa: E402
from livedesk.model import AlignPost  # noqa: E402

WRITTEN = ROOT / "tests" / "fixtures" / "align" / "written"
OUT = ROOT / "src" / "livedesk" / "align" / "link_weights.json"
HELD_OUT = {"museum_theft", "dam_warning"}  # never fitted on
EMBEDDER = semantic.load()
KNOWN: dict[str, np.ndarray] = {}  # sentence vectors made so far, by text
C = 30.0  # inverse regularisation strength: 10 and 100 score worse on the labelled sets


def event_pairs(posts: list[AlignPost], same, groups: dict[str, str], plain: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and 0/1 labels for every pair of posts of two outlets; `same(a, b)` is
    True, False, or None for a pair the gold leaves open (left out). Untimed posts get the
    times that the gold `groups` place them at, as clustering would.

    Without `plain` weights: the rows of the signals other than the sentence model. With them:
    the pairs of two languages that those weights leave in doubt (`similar.asked`), with the
    model's signals too, as at work, where the model is asked about those pairs only."""
    label = {g: k for k, g in enumerate(sorted(set(groups.values())))}
    inferred = infer_times(posts, np.array([label[groups[p.id]] for p in posts]))
    feats = [similar.features(p) for p in posts]
    raw = similar.raw_vectors(feats)
    corpus = _corpus(feats, raw, Meaning(EMBEDDER if plain else None, KNOWN))
    n = len(posts)
    i, j = np.triu_indices(n, k=1)
    keep = np.array([posts[a].outlet != posts[b].outlet for a, b in zip(i, j)], dtype=bool)
    i, j = i[keep], j[keep]
    labels = [same(posts[a].id, posts[b].id) for a, b in zip(i, j)]
    known = np.array([y is not None for y in labels], dtype=bool)
    y = np.array([bool(v) for v in labels], dtype=float)
    off = frozenset() if plain else frozenset({"semantic"})
    text = similar.text_features(corpus, i, j, off)
    timing = _time_features(posts, inferred, i, j, off)
    if plain:
        similar.nearest_in_time([p.outlet for p in posts], i, j, timing)  # as pair_probability does
    cross = similar.cross_language(feats, i, j)
    x = similar.feature_rows(text, timing, cross)
    if plain:
        p = 1 / (1 + np.exp(-(x @ np.array([plain["coef"][f] for f in similar.FEATURES]) + plain["intercept"])))
        doubt = similar.asked(p, cross)
        columns = [similar.TEXT_FEATURES.index(name) for name in similar.MEANING_FEATURES]
        text[np.ix_(doubt, columns)] = similar.meaning_features(corpus, i[doubt], j[doubt], timing[doubt, 1] <= 0)
        x = similar.feature_rows(text, timing, cross)
        known &= doubt
    return x[known], y[known]


def labelled_sets(plain: dict | None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    sets = {}
    for path in sorted(EVENTS.glob("*.json")) + sorted(WRITTEN.glob("*.json")):
        posts, gold, _truth = load_event(path)
        sets[path.stem] = event_pairs(posts, lambda a, b, gold=gold: gold[a] == gold[b], gold, plain)
    if (SHARED / "gold" / "seeds.json").exists():
        alignment = load_gold()["alignment"]
        same = {frozenset(p) for p in alignment["same"]}
        related = {frozenset(p) for p in alignment["related"]}
        posts = seed_posts()
        sets["seeds"] = event_pairs(
            posts, lambda a, b: None if frozenset((a, b)) in related else frozenset((a, b)) in same,
            seed_groups(alignment, [p.id for p in posts]), plain,
        )
    return sets


def fit(plain: dict | None) -> tuple[dict, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """The weights without the sentence model, or (given those) the weights with it."""
    sets = labelled_sets(plain)
    train = [v for k, v in sets.items() if k not in HELD_OUT]
    x = np.vstack([a for a, _ in train])
    y = np.concatenate([b for _, b in train])
    # Being each other's closest posts in time is weighed only with the model's reading beside
    # it: alone, it links posts of two languages on time alone (on the real events corpus,
    # fitted without the model: 5 more same pairs for 5 more false links).
    columns = [k for k, name in enumerate(similar.FEATURES) if plain or ("semantic" not in name and "nearest" not in name)]
    model = LogisticRegression(C=C, max_iter=2000).fit(x[:, columns], y)
    coef = dict.fromkeys(similar.FEATURES, 0.0)
    for k, w in zip(columns, model.coef_[0]):
        coef[similar.FEATURES[k]] = round(float(w), 4)
    weights = {"coef": coef, "intercept": round(float(model.intercept_[0]), 4)}
    return weights, sets


def report(name: str, weights: dict, sets: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    coef = np.array([weights["coef"][f] for f in similar.FEATURES])
    print(f"{name}: intercept {weights['intercept']:+.2f}; " + ", ".join(f"{f} {weights['coef'][f]:+.2f}" for f in similar.FEATURES))
    print(f"  {'set':<16} {'pairs':>6} {'same':>5} {'precision':>9} {'recall':>7}  (pairs alone, before clustering)")
    for key, (x, y) in sets.items():
        p = 1 / (1 + np.exp(-(x @ coef + weights["intercept"])))
        hit = p >= similar.LINK_PROBABILITY
        tp = float((hit & (y == 1)).sum())
        precision = tp / hit.sum() if hit.sum() else 1.0
        recall = tp / (y == 1).sum() if (y == 1).sum() else 1.0
        print(f"  {key + (' (held out)' if key in HELD_OUT else ''):<16} {len(y):6d} {int(y.sum()):5d} {precision:9.3f} {recall:7.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the shipped weights differ from a refit")
    args = parser.parse_args()
    plain, plain_sets = fit(None)
    out = {"plain": plain}
    report("without the sentence model", plain, plain_sets)
    if EMBEDDER is not None:
        with_model, model_sets = fit(plain)
        out["semantic"] = with_model
        report("with the sentence model", with_model, model_sets)
    else:
        print("sentence model not installed: the weights with it are kept as shipped")
        out["semantic"] = json.loads(OUT.read_text())["semantic"] if OUT.exists() else plain
    text = json.dumps(out, indent=1) + "\n"
    if args.check:
        if OUT.read_text() != text:
            sys.exit("the shipped link weights differ from a refit: run python bench/fit_link_weights.py")
        print("shipped link weights match a refit")
        return
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
