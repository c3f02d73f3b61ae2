"""Similarity signals between posts, and candidate blocking so that large events scale.

Each post becomes a `Features` record once. Text is hashed (scikit-learn's HashingVectorizer),
so vectors never need a refit when a post arrives: only the document frequencies grow, and
TF-IDF weights are applied when two posts are compared.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import HashingVectorizer
from sklearn.utils import murmurhash3_32

from livedesk.align import normalize, semantic
from livedesk.model import AlignPost

N_FEATURES = 2**20


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
    column: int = abs(murmurhash3_32(term, seed=0)) % N_FEATURES
    return column


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
    text: str = ""  # headline and text as written, for sentence embeddings
    language: str | None = None
    welcome: bool = False  # greets readers or opens the coverage: reports no development


def features(post: AlignPost) -> Features:
    written = semantic.post_text(post.headline, post.text)
    text = normalize.fold(written)
    stems = normalize.content_words(text)
    pairs = [f"{a}_{b}" for a, b in zip(stems, stems[1:])]
    quotes = [
        QuoteStems(q.text, q.speaker, frozenset(normalize.content_words(q.text)))
        for q in normalize.quotes(text)
    ]
    lower = [w for w in text.lower().replace("-", " ").split() if w not in normalize.STOP]
    language = normalize.language(written)
    return Features(
        outlet=post.outlet,
        # an assumed date or zone may put a post hours off: such posts are not kept apart by time
        time=post.time.timestamp() if post.time and not (post.date_assumed or post.zone_assumed) else None,
        words=stems + pairs,
        unigrams=len(stems),
        names=sorted(normalize.names(text)),
        quotes=[q for q in quotes if q.stems],
        numbers=normalize.numbers(text, language),
        stems=frozenset(stems),
        char_text=" ".join(lower),
        text=written,
        language=language,
        welcome=normalize.is_welcome(written),
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
        weights: np.ndarray = np.log((1.0 + self.n) / (1.0 + self.df[kind][columns])) + 1.0
        return weights

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


COSINE_BLOCK = 300_000  # stored entries of `a` per block of rows (blocks of a few megabytes ran fastest)


def rowwise_cosine(a: sp.csr_matrix, b: sp.csr_matrix, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """cos(a[i[k]], b[j[k]]) for every k, in blocks of about COSINE_BLOCK entries (fewer rows
    of a denser matrix, such as the character n-grams)."""
    out = np.empty(len(i))
    rows = max(256, COSINE_BLOCK * a.shape[0] // max(a.nnz, 1))
    for s in range(0, len(i), rows):
        out[s : s + rows] = np.asarray(a[i[s : s + rows]].multiply(b[j[s : s + rows]]).sum(axis=1)).ravel()
    return out


# --- the signals that are not plain cosines ----------------------------------------------


def quote_similarity(corpus: Corpus, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """For every pair (i[k], j[k]): how well a remark quoted by one post matches a remark, or
    the words, of the other.

    Translations of one remark share few exact words, so quotes are compared on stems with
    synonyms merged, weighted by rarity; near-verbatim quotes also match on a fuzzy ratio.
    Evidence grows with the rarity mass shared, so one common word proves little.
    All pairs at once: sparse rows of the quotes' stems, expanded over the pairs.
    """
    feats = corpus.feats
    quotes = _QuoteRows(feats, corpus.freq, np.unique(np.concatenate([i, j])))
    best = np.zeros(len(i))
    # a remark that the other outlet reports without quote marks
    for a, b in ((i, j), (j, i)):
        pair, qa = quotes.expand(a)
        np.maximum.at(best, pair, 0.7 * quotes.evidence(qa, quotes.stems, b[pair]))
    # two quoted remarks
    pair, qa = quotes.expand(i)
    pair, qa, qb = quotes.expand_against(pair, qa, j)
    size_a, size_b = quotes.size[qa], quotes.size[qb]
    a_smaller = size_a <= size_b
    small, large = np.where(a_smaller, qa, qb), np.where(a_smaller, qb, qa)
    evidence = quotes.evidence(small, quotes.present, large)
    common = rowwise_cosine(quotes.present, quotes.present, qa, qb)
    close = (common / (size_a + size_b - common) >= 0.5) & (quotes.size[small] >= 3)
    for k in np.flatnonzero(close):
        ratio = fuzz.token_sort_ratio(quotes.text[qa[k]], quotes.text[qb[k]]) / 100
        if ratio >= NEAR_VERBATIM:
            evidence[k] = max(ratio, evidence[k])
    np.maximum.at(best, pair, evidence)
    return best


NEAR_VERBATIM = 0.85
FULL_EVIDENCE = 12.0  # IDF mass of shared words that counts as full proof (about three rare words)


class _QuoteRows:
    """The quotes of some posts as sparse rows over the quotes' stems: IDF weights, and 0/1;
    and each post's own stems as 0/1 over the same columns."""

    def __init__(self, feats: list[Features], freq: Frequencies, used: np.ndarray) -> None:
        columns: dict[str, int] = {}
        self.first = np.zeros(len(feats) + 1, dtype=np.int64)  # post p's quotes: first[p] .. first[p] + count[p]
        self.count = np.zeros(len(feats), dtype=np.int64)
        weights: list[dict[int, float]] = []
        self.text: list[str] = []
        for p in used.tolist():
            self.first[p] = len(weights)
            self.count[p] = len(feats[p].quotes)
            for q in feats[p].quotes:
                q.weigh(freq)
                weights.append({columns.setdefault(t, len(columns)): w for t, w in q.weights.items()})
                self.text.append(q.text.lower())
        self.weights = _sparse_rows(weights, len(columns))
        self.present = self.weights.copy()
        self.present.data[:] = 1.0
        self.size = np.diff(self.present.indptr).astype(float)
        self.mass = np.asarray(self.weights.sum(axis=1)).ravel()
        quoting = set(used.tolist())
        own = [{columns[t]: 1.0 for t in f.stems if t in columns} if p in quoting else {} for p, f in enumerate(feats)]
        self.stems = _sparse_rows(own, len(columns))

    def expand(self, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pair, quote) for every quote of every post in `posts` (one pair per entry)."""
        return _entries(self.first, self.count, posts)

    def expand_against(self, pair: np.ndarray, quote: np.ndarray, others: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each (pair, quote) again for every quote of the pair's other post: (pair, quote, other quote)."""
        pair_of, other = self.expand(others[pair])
        return pair[pair_of], quote[pair_of], other

    def evidence(self, quote: np.ndarray, whole: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
        """Share of each quote's words found in a row of `whole`, by IDF weight, scaled by how
        much rarity is shared."""
        shared = rowwise_cosine(self.weights, whole, quote, rows)
        mass = self.mass[quote]
        return np.where(mass > 0, shared / np.where(mass > 0, mass, 1.0), 0.0) * np.minimum(1.0, shared / FULL_EVIDENCE)


def _sparse_rows(rows: list[dict[int, float]], width: int) -> sp.csr_matrix:
    indptr = np.cumsum([0] + [len(r) for r in rows])
    indices = np.fromiter((c for r in rows for c in r), dtype=np.int64, count=indptr[-1])
    data = np.fromiter((v for r in rows for v in r.values()), dtype=float, count=indptr[-1])
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), max(width, 1)))


def number_agreement(feats: list[Features], i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every pair (i[k], j[k]): agreement, +1 when both give one figure, -1 when their
    figures for one unit clash, else 0; and the share of shared values, whatever their units.

    A figure agrees when its unit matches and its value is within 15%, or when a
    distinctive value (10 or more) recurs exactly, whatever word follows it. Units are words
    and differ between languages, so values met in both posts are counted apart (up to 3).
    """
    units: dict[str, int] = {}
    count = np.array([len(f.numbers) for f in feats], dtype=np.int64)
    first = np.cumsum(count) - count
    figures = [(units.setdefault(unit, len(units)), value) for f in feats for unit, value in f.numbers]
    unit = np.array([u for u, _ in figures], dtype=np.int64)
    value = np.array([v for _, v in figures], dtype=float)
    pair, a = _entries(first, count, i)  # every figure of one post against every figure of the other
    pair_of, b = _entries(first, count, j[pair])
    pair, a = pair[pair_of], a[pair_of]
    same_unit = unit[a] == unit[b]
    close = np.abs(value[a] - value[b]) <= 0.15 * np.maximum(np.abs(value[a]), np.abs(value[b]))
    agree = np.zeros(len(i), dtype=bool)
    agree[pair[(same_unit & close) | ((value[a] == value[b]) & (value[a] >= 10))]] = True
    clash = np.zeros(len(i), dtype=bool)
    clash[pair[same_unit]] = True
    equal = (value[a] == value[b]) & (value[a] >= 2)
    shared = np.zeros(len(i))
    distinct = np.unique(np.stack([pair[equal], value[a][equal]]), axis=1) if equal.any() else np.zeros((2, 0))
    np.add.at(shared, distinct[0].astype(np.int64), 1.0)
    return np.where(agree, 1.0, np.where(clash, -1.0, 0.0)), np.minimum(shared, 3.0) / 3.0


def _entries(first: np.ndarray, count: np.ndarray, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(k, entry) for every entry of posts[k], where post p holds entries first[p] .. first[p] + count[p]."""
    counts = count[posts]
    pair = np.repeat(np.arange(len(posts)), counts)
    offset = np.arange(len(pair)) - np.repeat(np.cumsum(counts) - counts, counts)
    return pair, first[posts][pair] + offset


# --- scoring --------------------------------------------------------------------------

# The signals of a pair, in the order of a feature row. A logistic regression fitted on
# labelled pairs (bench/fit_link_weights.py, weights in link_weights.json) turns a row into
# the probability that the two posts report the same development; LINK_PROBABILITY links.
TEXT_FEATURES = ("words", "chars", "names", "quotes", "figures", "figure_clash", "shared_figures", "semantic",
                 "semantic_margin")
TIME_FEATURES = ("time_near", "time_far", "time_close", "time_nearest")
# Posts in two languages share few words: for them the other signals weigh differently.
CROSS_FEATURES = ("cross_language", "cross_names", "cross_shared_figures", "cross_semantic", "cross_semantic_margin",
                  "cross_time_near", "cross_time_nearest")
FEATURES = TEXT_FEATURES + TIME_FEATURES + CROSS_FEATURES
SIGNALS = ("words", "chars", "names", "quotes", "numbers", "time", "semantic")  # what ablation switches off
_SIGNAL_OF = {"figures": "numbers", "figure_clash": "numbers", "shared_figures": "numbers",
              "time_near": "time", "time_far": "time", "time_close": "time", "time_nearest": "time", "semantic_margin": "semantic"}
_CROSSED = {"cross_names": "names", "cross_shared_figures": "shared_figures", "cross_semantic": "semantic",
            "cross_semantic_margin": "semantic_margin", "cross_time_near": "time_near",
            "cross_time_nearest": "time_nearest"}
LINK_PROBABILITY = 0.5
WORD_GATE = 0.04  # pairs sharing fewer words than this, and no name or figure, are not read further


@dataclass
class Meaning:
    """The sentence model, if one is on, and the vectors it has made (by `semantic.text_key`)."""

    embedder: semantic.Embedder | None = None
    known: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Corpus:
    """Features and TF-IDF matrices (words, characters, names) of the posts being compared."""

    feats: list[Features]
    freq: Frequencies
    matrices: tuple[sp.csr_matrix, sp.csr_matrix, sp.csr_matrix]
    meaning: Meaning = field(default_factory=Meaning)


def text_features(
    corpus: Corpus, i: np.ndarray, j: np.ndarray, off: frozenset[str] = frozenset()
) -> np.ndarray:
    """One row of TEXT_FEATURES per pair (i[k], j[k]); signals in `off` stay 0.

    Word overlap is cheap and comes first. Pairs that share almost no words and no name
    (translations share names and figures, not words) keep zeros in the costlier columns.
    """
    x = np.zeros((len(i), len(TEXT_FEATURES)))
    word_m, char_m, name_m = corpus.matrices
    x[:, 0] = rowwise_cosine(word_m, word_m, i, j)
    x[:, 2] = rowwise_cosine(name_m, name_m, i, j)
    # posts in two languages share names and figures, not words: they are read on with a name in common
    live = np.flatnonzero((x[:, 0] >= WORD_GATE) | ((x[:, 2] > 0) & (cross_language(corpus.feats, i, j) > 0)))
    x[live, 1] = rowwise_cosine(char_m, char_m, i[live], j[live])
    x[live, 3] = quote_similarity(corpus, i[live], j[live])
    agreement, shared = number_agreement(corpus.feats, i[live], j[live])
    x[live, 4] = agreement > 0
    x[live, 5] = agreement < 0
    x[live, 6] = shared
    for k, name in enumerate(TEXT_FEATURES):
        if _SIGNAL_OF.get(name, name) in off:
            x[:, k] = 0.0
    return x


def meaning_features(corpus: Corpus, i: np.ndarray, j: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Rows of the sentence model's signals for the pairs (i[k], j[k]): the cosine (posts in two
    languages score lower: the cross-language copy weighs it apart), and how it stands among
    the other pairs given that are `near` enough in time to compete (`relative`)."""
    embedder = corpus.meaning.embedder
    assert embedder is not None
    texts = [f.text for f in corpus.feats]
    cosine = semantic.pair_cosines(embedder, texts, i, j, corpus.meaning.known)
    absolute = np.clip(cosine, 0.0, 1.0)
    return np.stack([absolute, relative([f.outlet for f in corpus.feats], i, j, cosine, near)], axis=1)


MARGIN_SCALE = 0.15  # a cosine this far above the runner-up is a clear best match


def relative(outlets: list[str], i: np.ndarray, j: np.ndarray, score: np.ndarray, near: np.ndarray) -> np.ndarray:
    """How a pair's score stands among its posts' other pairs, averaged over both posts.

    Posts on one story all look alike in absolute terms; what marks the post of another outlet
    that reports the same development is that it stands out among that outlet's posts of
    about the same time (`near`: posts hours apart are no rivals; time tells them apart).
    Per post: the score above the best rival in the other post's outlet (below it where a
    rival is better), over MARGIN_SCALE, in -1..1; 0 where that outlet offers no rival.
    `outlets` names each post's outlet. Time closeness is weighed the same way.
    """
    margin = np.zeros(len(i))
    if len(i) == 0:
        return margin
    outlet = np.unique(outlets, return_inverse=True)[1]
    n_out = int(outlet.max()) + 1
    rival_score = np.where(near, score, -np.inf)
    for a, b in ((i, j), (j, i)):
        key = a * n_out + outlet[b]  # post a's pairs into b's outlet
        order = np.lexsort((-rival_score, key))
        sorted_key = key[order]
        first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
        group = np.empty(len(i), dtype=np.int64)
        group[order] = np.repeat(np.arange(len(first)), np.diff(np.r_[first, len(order)]))
        top = order[first]  # each group's best rival
        second = np.where(np.r_[first[1:], len(order)] - first > 1, order[np.minimum(first + 1, len(order) - 1)], -1)
        other = np.where(top[group] == np.arange(len(i)), second[group], top[group])
        rival = np.where(other >= 0, rival_score[np.maximum(other, 0)], -np.inf)
        margin += np.where(np.isfinite(rival), np.clip((score - rival) / MARGIN_SCALE, -1, 1), 0.0) / 2
    return margin


DAY_S = 86400.0
CLOSE_S = 300.0  # half of the reports of one development by two outlets come within five minutes


def time_features(
    t_a: np.ndarray, u_a: np.ndarray, t_b: np.ndarray, u_b: np.ndarray, daily: np.ndarray, stated: np.ndarray,
    off: frozenset[str] = frozenset(),
) -> np.ndarray:
    """Rows of TIME_FEATURES: closeness in time (on a scale of half an hour, and of CLOSE_S),
    and distance beyond an hour; 0 where a time is unknown.

    t_* are epoch seconds (NaN when unknown), u_* the uncertainty of each time in seconds.
    Closeness counts only where both times are stated (an inferred time was placed by the
    very links it would confirm) and shrinks as the uncertainty grows; distance counts from
    one hour plus the uncertainty, in hours, up to 1.5. Where `daily` is set, a date was
    assumed: only the clock is compared. The last column, time_nearest (how clearly the two
    posts are each other's closest in time within their outlets), weighs each pair against
    the others: `nearest_in_time` fills it once all pairs are known, where the sentence
    model's weights read it (only they weigh it).
    """
    gap = np.where(daily, np.abs((t_a - t_b + DAY_S / 2) % DAY_S - DAY_S / 2), np.abs(t_a - t_b))
    slack = u_a + u_b
    near = np.exp(-np.maximum(gap - slack, 0) / 1800) * np.minimum(1.0, 1800 / np.maximum(slack, 1)) * stated
    far = np.clip((gap - slack - 3600) / 7200, 0, 1.5)
    close = np.exp(-np.maximum(gap - slack, 0) / CLOSE_S) * np.minimum(1.0, CLOSE_S / np.maximum(slack, CLOSE_S)) * stated
    x: np.ndarray = np.stack([near, far, close, np.zeros(len(gap))], axis=1)
    x[np.isnan(gap)] = 0.0
    if "time" in off:
        x[:] = 0.0
    return x


def nearest_in_time(outlets: list[str], i: np.ndarray, j: np.ndarray, x: np.ndarray) -> None:
    """Fill the time_nearest column of the time rows `x` of the pairs (i[k], j[k]).

    Two outlets that report one development do so within minutes, so a post's match in
    another outlet is usually its closest post there in time, whatever the words: the one
    signal that does not weaken across languages. Closeness on the CLOSE_S scale, weighed
    against the rivals in each post's other outlet (`relative`)."""
    close = TIME_FEATURES.index("time_close")
    x[:, TIME_FEATURES.index("time_nearest")] = relative(outlets, i, j, x[:, close], np.ones(len(i), dtype=bool))


@lru_cache(maxsize=1)
def _weights() -> dict[str, dict[str, Any]]:
    path = Path(__file__).with_name("link_weights.json")
    weights: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return weights


def feature_rows(text_x: np.ndarray, time_x: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """The full rows of FEATURES: text and time signals, and for pairs of posts in two
    languages (`cross`) a second copy of the signals that survive translation."""
    x = np.hstack([text_x, time_x, np.zeros((len(cross), len(CROSS_FEATURES)))])
    x[:, FEATURES.index("cross_language")] = cross
    for name, signal in _CROSSED.items():
        x[:, FEATURES.index(name)] = cross * x[:, FEATURES.index(signal)]
    return x


def cross_language(feats: list[Features], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """1.0 where the two posts are known to be written in different languages."""
    lang = np.array([f.language or "" for f in feats])
    cross: np.ndarray = ((lang[i] != lang[j]) & (lang[i] != "") & (lang[j] != "")).astype(float)
    return cross


DOUBT = (0.01, 0.99)  # the sentence model is asked only about links between these probabilities


def pair_probability(
    corpus: Corpus, i: np.ndarray, j: np.ndarray, text_x: np.ndarray, time_x: np.ndarray, cross: np.ndarray,
    off: frozenset[str] = frozenset(),
) -> np.ndarray:
    """P(same development) per pair (i[k], j[k]) from its text and time signals.

    The signals other than the sentence model settle the pairs they are sure of (weights
    fitted without it). The pairs of two languages they leave in doubt (`asked`) are scored
    again with the model's signals as well (weights fitted with them), and keep the higher
    of the two: the model reads meaning, but poorly enough across languages that a low cosine
    must not undo what time, names and figures showed. Only their posts are embedded.
    """
    p = scored(text_x, time_x, cross, with_model=False)
    # a post that greets the readers reports no development: it is linked to none
    welcome = np.array([f.welcome for f in corpus.feats], dtype=bool)
    p[welcome[i] | welcome[j]] = 0.0
    if corpus.meaning.embedder is None or "semantic" in off:
        return p
    doubt = np.flatnonzero(asked(p, cross))
    if not len(doubt):
        return p
    text = text_x[doubt].copy()
    columns = [TEXT_FEATURES.index(name) for name in MEANING_FEATURES]
    text[:, columns] = meaning_features(corpus, i[doubt], j[doubt], time_x[doubt, 1] <= 0)
    timing = time_x.copy()
    nearest_in_time([f.outlet for f in corpus.feats], i, j, timing)  # against every rival, not only those in doubt
    # the model's reading can find a link the other signals missed, never overrule one they found
    p[doubt] = np.maximum(p[doubt], scored(text, timing[doubt], cross[doubt], with_model=True))
    return p


MEANING_FEATURES = ("semantic", "semantic_margin")


SCORE_BLOCK = 16_384  # pairs whose feature rows are built at once (a few megabytes)


def scored(text_x: np.ndarray, time_x: np.ndarray, cross: np.ndarray, with_model: bool) -> np.ndarray:
    """`link_probability` of the pairs' feature rows, built block by block: a large event's
    rows of all pairs at once would fill hundreds of megabytes only to be read once."""
    p = np.empty(len(cross))
    for s in range(0, len(cross), SCORE_BLOCK):
        block = slice(s, s + SCORE_BLOCK)
        p[block] = link_probability(feature_rows(text_x[block], time_x[block], cross[block]), with_model)
    return p


def asked(p: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """The pairs the sentence model is asked about: posts in two languages, where words and
    characters cannot see a shared meaning, whose link the other signals leave in doubt.
    Within one language those signals read a paraphrase better than the model, which finds
    every post on one story alike."""
    ask: np.ndarray = (p >= DOUBT[0]) & (p < DOUBT[1]) & (cross > 0)
    return ask


def link_probability(x: np.ndarray, with_model: bool) -> np.ndarray:
    """P(same development) per pair from its row of FEATURES: the fitted logistic regression,
    with the weights fitted with the sentence model's feature or those fitted without it."""
    fitted = _weights()["semantic" if with_model else "plain"]
    coef = np.array([fitted["coef"].get(name, 0.0) for name in FEATURES])
    probability: np.ndarray = 1.0 / (1.0 + np.exp(-(x @ coef + fitted["intercept"])))
    return probability


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
    outlets = np.unique([f.outlet for f in feats], return_inverse=True)[1]  # a number per outlet: compared per pair
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
        met = queries @ present.T
        met = sp.triu(met + met.T, k=1, format="csr").sorted_indices().tocoo()  # either post's rare word; each pair once
        i, j = met.row.astype(np.int64), met.col.astype(np.int64)
    keep = outlets[i] != outlets[j]
    gap = np.abs(times[i] - times[j])
    keep &= ~(gap > TIME_WINDOW_S)
    return i[keep], j[keep]
