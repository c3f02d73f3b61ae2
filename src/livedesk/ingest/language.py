"""Which language a page is written in, from its most common little words.

A page's language says where its outlet most likely is, so which zone its bare clock times are
in. Function words are enough for that: they make up a large share of any text and differ
between languages. (A statistical identifier such as py3langid needs seconds to load its
model, which every `livedesk parse` would pay for one guess.)
"""

from __future__ import annotations

import re
from collections import Counter

_FUNCTION_WORDS = {
    "en": "the and of to in is that for on with was as by are from has have it at this be",
    "de": "der die das und ist nicht ein eine mit den dem von zu auf für sich im des auch wird",
    "fr": "le la les et des est une du dans pour que qui sur pas au avec sont ont ce aux",
    "es": "el la los las y que del en por con una para se es al lo como más sus",
    "it": "il di che è la le per una non sono gli del della con al alla dei nel anche",
    "pt": "o os as e que do da em um uma para com não dos das no na ao pelo",
    "nl": "de het een en van is dat op te niet met voor zijn ook er maar bij wordt",
    "pl": "i w na się z do że nie jest to o przez od po jak za już oraz",
    "tr": "ve bir bu da de ile için olarak çok daha olan gibi kadar ancak ise",
    "ru": "и в не на что с по как это из за от у о к для но он",
}
_WORDS = {lang: set(words.split()) for lang, words in _FUNCTION_WORDS.items()}
_TOKEN_RE = re.compile(r"[^\W\d_]+")


def language_of(text: str, sample: int = 6000) -> str | None:
    """The page's language as a two-letter code, or None when no language clearly leads."""
    counts: Counter[str] = Counter()
    for token in _TOKEN_RE.findall(text[:sample].lower()):
        for lang, words in _WORDS.items():
            if token in words:
                counts[lang] += 1
    if not counts:
        return None
    (best, first), *rest = counts.most_common(2) + [("", 0)]
    second = rest[0][1]
    return best if first >= 5 and first >= 1.3 * second else None
