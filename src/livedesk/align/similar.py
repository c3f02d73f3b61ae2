"""Similarity signals between posts, and candidate blocking so that large events scale.

Each post becomes a `Features` record once. Text is hashed (scikit-learn's HashingVectorizer),
so vectors never need a refit when a post arrives: only the document frequencies grow, and
TF-IDF weights are applied when two posts are compared.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from livedesk.align import normalize
from livedesk.model import AlignPost

N_FEATURES = 2**20
SIGNALS = ("words", "chars", "names", "quotes", "numbers", "time")


def _identity(tokens: list[str]) -> list[str]:
    return tokens


_WORDS = HashingVectorizer(analyzer=_identity, n_features=N_FEATURES, alternate_sign=False, norm=None)
_NAMES = HashingVectorizer(analyzer=_identity, n_features=N_FEATURES, alternate_sign=False, norm=None)
_CHARS = HashingVectorizer(
    analyzer="char_wb", ngram_range=(4, 4), n_features=N_FEATURES, alternate_sign=False, norm=None
)


@lru_cache(maxsize=500_000)
def term_index(term: str) -> int:
    """The column a word lands in, as HashingVectorizer computes it."""
    return abs(murmurhash3_32(term, seed=0)) % N_FEATURES


@dataclass
class QuoteStems:
    text: str
    speaker: str | None
    stems: frozenset[str]
    weights: dict[str, float] = field(default_factory=dict)  # IDF per stem, as of `weighed_at`
    mass: float = 0.0
    weighed_at: int = -1

    def weigh(self, freq: Frequencies) -> None:
        if self.weighed_at != freq.n:
            self.weights = {t: freq.word_idf(t) for t in self.stems}
            self.mass = sum(self.weights.values())
            self.weighed_at = freq.n


@dataclass
class Features:
    """What the signals need to know about one post."""

    outlet: str
    time: float | None  # seconds since the epoch, UTC
    words: list[str]  # stemmed content words, then word pairs
    unigrams: int  # how many of `words` are single words
    names: list[str]
    quotes: list[QuoteStems]
    numbers: set[tuple[str, float]]
    stems: frozenset[str] = field(default_factory=frozenset)
    char_text: str = ""


def features(post: AlignPost) -> Features:
    text = normalize.fold("\n".join(filter(None, [post.headline, post.text])))
    stems = normalize.content_words(text)
    pairs = [f"{a}_{b}" for a, b in zip(stems, stems[1:])]
    quotes = [
        QuoteStems(q.text, q.speaker, frozenset(normalize.content_words(q.text)))
        for q in normalize.quotes(text)
    ]
    lower = [w for w in text.lower().replace("-", " ").split() if w not in normalize.STOP]
    return Features(
        outlet=post.outlet,
        time=post.time.timestamp() if post.time else None,
        words=stems + pairs,
        unigrams=len(stems),
        names=sorted(normalize.names(text)),
        quotes=[q for q in quotes if q.stems],
        numbers=normalize.numbers(text),
        stems=frozenset(stems),
        char_text=" ".join(lower),
    )


def raw_vectors(feats: list[Features]) -> tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]:
    """Sublinear term counts (words, characters, names), one row per post, no IDF yet."""
    out = []
    for vectorizer, docs in (
        (_WORDS, [f.words for f in feats]),
        (_CHARS, [f.char_text for f in feats]),
        (_NAMES, [f.names for f in feats]),
    ):
        m = vectorizer.transform(docs).tocsr()
        m.data = 1.0 + np.log(m.data)
        out.append(m)
    return out[0], out[1], out[2]


class Frequencies:
    """Document frequencies that grow post by post: the IDF side of TF-IDF."""

    def __init__(self) -> None:
        self.n = 0
        self.df = [np.zeros(N_FEATURES, dtype=np.int32) for _ in range(3)]
        self._word_idf: dict[str, float] = {}

    def add(self, rows: tuple[sp.csr_matrix, ...]) -> None:
        self.n += rows[0].shape[0]
        self._word_idf.clear()
        for df, m in zip(self.df, rows):
            if m.shape[0] < 100:
                np.add.at(df, m.indices, 1)  # a few posts: touch only their columns
            else:
                df += np.bincount(m.indices, minlength=N_FEATURES).astype(np.int32)

    def idf(self, kind: int, columns: np.ndarray) -> np.ndarray:
        return np.log((1.0 + self.n) / (1.0 + self.df[kind][columns])) + 1.0

    def word_idf(self, term: str) -> float:
        idf = self._word_idf.get(term)
        if idf is None:
            idf = math.log((1.0 + self.n) / (1.0 + int(self.df[0][term_index(term)]))) + 1.0
            self._word_idf[term] = idf
        return idf


def weigh(raw: sp.csr_matrix, freq: Frequencies, kind: int) -> sp.csr_matrix:
    """Apply IDF and scale each row to unit length."""
    m = raw.copy()
    m.data = m.data * freq.idf(kind, m.indices)
    lengths = np.diff(m.indptr)
    squares = np.concatenate([[0.0], np.cumsum(m.data**2)])
    norms = np.sqrt(squares[m.indptr[1:]] - squares[m.indptr[:-1]])
    norms[norms == 0] = 1.0
    m.data = m.data / np.repeat(norms, lengths)
    return m


def rowwise_cosine(a: sp.csr_matrix, b: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """cos(a[i[k]], b[j[k]]) for every k, in chunks to bound memory."""
    out = np.empty(len(i))
    for s in range(0, len(i), 20_000):
        out[s : s + 20_000] = np.asarray(a[i[s : s + 20_000]].multiply(b[j[s : s + 20_000]]).sum(axis=1)).ravel()
    return out


# --- the signals that are not plain cosines ----------------------------------------------


def quote_similarity(a: Features, b: Features, freq: Frequencies) -> float:
    """How well a remark quoted by one post matches a remark, or the words, of the other.

    Translations of one remark share few exact words, so quotes are compared on stems with
    synonyms merged, weighted by rarity; near-verbatim quotes also match on a fuzzy ratio.
    Evidence grows with the rarity mass shared, so one common word proves little.
    """
    best = 0.0
    for qa in a.quotes:
        for qb in b.quotes:
            best = max(best, _quote_pair(qa, qb, freq))
    # a remark that the other outlet reports without quote marks
    for q, other in [(qa, b) for qa in a.quotes] + [(qb, a) for qb in b.quotes]:
        best = max(best, 0.7 * _evidence(q, other.stems, freq))
    return best


def _quote_pair(qa: QuoteStems, qb: QuoteStems, freq: Frequencies) -> float:
    small, large = sorted((qa, qb), key=lambda q: len(q.stems))
    evidence = _evidence(small, large.stems, freq)
    common = len(qa.stems & qb.stems) / len(qa.stems | qb.stems)
    if common >= 0.5 and len(small.stems) >= 3:
        ratio = fuzz.token_sort_ratio(qa.text.lower(), qb.text.lower()) / 100
        if ratio >= NEAR_VERBATIM:
            return max(ratio, evidence)
    return evidence


NEAR_VERBATIM = 0.85
FULL_EVIDENCE = 12.0  # IDF mass of shared words that counts as full proof (about three rare words)


def _evidence(quote: QuoteStems, whole: frozenset[str], freq: Frequencies) -> float:
    """Share of the quote's words found in `whole`, by IDF weight, scaled by how much rarity
    is shared."""
    quote.weigh(freq)
    if not quote.mass:
        return 0.0
    shared = sum(quote.weights[t] for t in quote.stems & whole)
    return (shared / quote.mass) * min(1.0, shared / FULL_EVIDENCE)


def number_agreement(a: Features, b: Features) -> float:
    """+1 when both give one figure, -1 when their figures for one unit clash, else 0.

    A figure agrees when its unit matches and its value is within 15%, or when a
    distinctive value (10 or more) recurs exactly, whatever word follows it.
    """
    values_a = defaultdict(list)
    for unit, value in a.numbers:
        values_a[unit].append(value)
    exact_a = {value for _, value in a.numbers if value >= 10}
    verdict = 0.0
    for unit, value in b.numbers:
        if value in exact_a:
            return 1.0
        if unit not in values_a:
            continue
        if any(abs(value - v) <= 0.15 * max(abs(v), abs(value)) for v in values_a[unit]):
            verdict = 1.0
        elif verdict == 0.0:
            verdict = -1.0
    return verdict


# --- scoring --------------------------------------------------------------------------

# How much each signal adds to a pair's score. A pair whose score reaches THRESHOLD reports
# the same development. Tuned on the project's own labelled events (tests/fixtures/align).
WEIGHTS = {"words": 0.5, "chars": 0.5, "names": 0.1, "quotes": 0.5, "numbers": 0.08, "time": 0.15}
NUMBER_CLASH = -0.15  # a clash of figures weighs more than an agreement
WORD_GATE = 0.04  # pairs sharing fewer words than this are not examined further
TEXT_GATE = 0.10  # quotes and figures are read only for pairs with this much text in common


@dataclass
class Corpus:
    """Features and TF-IDF matrices (words, characters, names) of the posts being compared."""

    feats: list[Features]
    freq: Frequencies
    matrices: tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]


def pair_signals(
    corpus: Corpus, i: np.ndarray, j: np.ndarray, off: frozenset[str] = frozenset()
) -> np.ndarray:
    """Score of each pair (i[k], j[k]) from every signal but time. `off` switches signals off.

    Word overlap is cheap and comes first: pairs with almost no words in common cannot
    reach the threshold, so the costlier signals are computed for the others only.
    """
    w = {k: (0.0 if k in off else v) for k, v in WEIGHTS.items()}
    word_m, char_m, name_m = corpus.matrices
    words = rowwise_cosine(word_m, word_m, i, j)
    score = w["words"] * words
    live = np.flatnonzero(words >= WORD_GATE)
    chars = rowwise_cosine(char_m, char_m, i[live], j[live])
    score[live] += w["chars"] * chars + w["names"] * rowwise_cosine(name_m, name_m, i[live], j[live])
    for k in live[0.5 * words[live] + 0.5 * chars >= TEXT_GATE]:
        a, b = corpus.feats[i[k]], corpus.feats[j[k]]
        if w["quotes"] and (a.quotes or b.quotes):
            score[k] += w["quotes"] * quote_similarity(a, b, corpus.freq)
        if w["numbers"]:
            agreement = number_agreement(a, b)
            score[k] += w["numbers"] if agreement > 0 else NUMBER_CLASH if agreement < 0 else 0.0
    return score


def time_adjustment(
    t_a: np.ndarray, u_a: np.ndarray, t_b: np.ndarray, u_b: np.ndarray, weight: float = WEIGHTS["time"]
) -> np.ndarray:
    """Bonus for posts close in time, penalty for posts hours apart; 0 where a time is unknown.

    t_* are epoch seconds (NaN when unknown), u_* the uncertainty of each time in seconds.
    The bonus shrinks as the uncertainty grows; the penalty starts beyond one hour plus it.
    """
    gap = np.abs(t_a - t_b)
    slack = u_a + u_b
    near = np.exp(-np.maximum(gap - slack, 0) / 1800) * np.minimum(1.0, 1800 / np.maximum(slack, 1))
    far = np.clip((gap - slack - 3600) / 7200, 0, 1.5)
    adjust = weight * (near - far)
    return np.where(np.isnan(gap), 0.0, adjust)


# --- candidate blocking ---------------------------------------------------------------

EXHAUSTIVE_BELOW = 400  # smaller events are compared pair by pair
MIN_RARE_TERMS = 3  # each post meets at least the posts sharing one of its 3 rarest words
TIME_WINDOW_S = 12 * 3600  # timed posts further apart are never compared


def single_word_columns(feat: Features) -> np.ndarray:
    """Word columns of a post's single words (word pairs are too often rare by chance)."""
    return np.array(sorted({term_index(w) for w in feat.words[: feat.unigrams]}), dtype=np.int64)


def rare_terms(cols: np.ndarray, freq: Frequencies, n_outlets: int) -> np.ndarray:
    """A post's rarest single words that some other post shares.

    Words are taken rarest first until their posting lists would hold more posts than a
    budget that grows with the number of outlets (one development can have a post from each).
    """
    df = freq.df[0][cols]
    budget = max(64, 4 * n_outlets)
    usable = (df >= 2) & (df <= budget)
    cols, df = cols[usable], df[usable]
    order = np.argsort(df, kind="stable")
    within = np.cumsum(df[order]) <= budget
    within[:MIN_RARE_TERMS] = True
    return cols[order[within]]


def candidate_pairs(corpus: Corpus, raw_words: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of posts of different outlets worth scoring, as two index arrays (i < j).

    Small events: every pair. Larger ones: each post meets the posts that share one of its
    rarest words (a sparse product, no all-pairs); timed posts far apart never meet.
    """
    feats = corpus.feats
    n = len(feats)
    outlets = np.array([f.outlet for f in feats])
    times = np.array([np.nan if f.time is None else f.time for f in feats])
    if n < EXHAUSTIVE_BELOW:
        i, j = np.triu_indices(n, k=1)
    else:
        n_outlets = len(set(outlets))
        picked = [rare_terms(single_word_columns(f), corpus.freq, n_outlets) for f in feats]
        queries = sp.csr_matrix(
            (np.ones(sum(map(len, picked))), np.concatenate(picked), np.cumsum([0] + [len(p) for p in picked])),
            shape=raw_words.shape,
        )
        present = raw_words.copy()
        present.data[:] = 1.0
        met = (queries @ present.T).tocoo()
        i, j = np.minimum(met.row, met.col), np.maximum(met.row, met.col)
        unique = np.unique(i.astype(np.int64) * n + j)
        i, j = unique // n, unique % n
        i, j = i[i < j], j[i < j]
    keep = outlets[i] != outlets[j]
    gap = np.abs(times[i] - times[j])
    keep &= ~(gap > TIME_WINDOW_S)
    return i[keep], j[keep]
