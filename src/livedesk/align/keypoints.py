"""Key-point suggestions: the developments most outlets reported, one sentence each."""

from __future__ import annotations

from typing import Any

from livedesk.align import normalize
from livedesk.model import AlignPost, Development

MIN_WORDS = 6


def key_point_suggestions(
    developments: list[Development], posts: dict[str, AlignPost], limit: int = 5
) -> list[dict[str, Any]]:
    """Developments covered by two or more outlets, most outlets first, earliest first.

    Each gets the sentence of its posts that shares the most words with the other
    outlets' posts: an extractive line an editor can accept as it is.
    """
    shared = [d for d in developments if len(d.outlets) > 1]
    shared.sort(key=lambda d: -len(d.outlets))  # stable: the earliest first among equals
    return [
        {"development_id": d.id, "text": central_sentence([posts[i] for i in d.post_ids]), "outlets": d.outlets}
        for d in shared[:limit]
    ]


def central_sentence(members: list[AlignPost]) -> str:
    words = {p.id: set(normalize.content_words(normalize.fold(p.text))) for p in members}
    best, best_score = "", -1.0
    for p in members:
        for sentence in normalize.sentences(p.text):
            stems = set(normalize.content_words(normalize.fold(sentence)))
            if len(sentence.split()) < MIN_WORDS or not stems:
                continue
            others = [words[q.id] for q in members if q.outlet != p.outlet]
            score = sum(len(stems & o) for o in others) / len(stems) ** 0.5
            if score > best_score:
                best, best_score = sentence, score
    return best or (members[0].headline or members[0].text)
