"""Text normalisation for alignment: words, names, quotes and numbers.

Everything here is a pure function of one post's text. Two outlets that write the same
name, remark or figure differently ("Kim Jong-un" / "Kim Jong Un", curly / straight quotes,
"three and a half hours" / "3.5 hours") should come out equal.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from anyascii import anyascii
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from text_to_num import alpha2digit  # type: ignore[import-untyped]

_STEMMER = snowballstemmer.stemmer("english")

# Words that reports of one remark render differently, above all in translation.
# Each group maps to its first word before stemming.
_SYNONYM_GROUPS = [
    "satisfied pleased happy glad content delighted",
    "result outcome results outcomes",
    "talks talk negotiations negotiation conversation discussions discussion",
    "end ended ends finished finish concluded conclude over wrapped",
    "last lasted lasting took",
    "begin began begun start started starts kicked commenced",
    "settle settlement resolve resolution resolving settling",
    "help assist aid",
    "busy hectic packed",
    "arrive arrived arrives reached landed",
    "leave left leaves departed depart",
    "gift present presented gave gifted",
    "thank thanked thanks grateful",
    "hope hoped hopes expects expected expect",
    "agree agreed agreement deal",
    "reject rejected refuse refused denied deny",
    "die died dead killed deaths death",
    "injure injured wounded hurt injuries",
    "fire blaze flames",
    "large big huge",
    "quick fast rapid swift",
    "frank candid open sincere sincerely openly frankly",
    "important significant key",
    "ship vessel boat",
    "car vehicle",
    "truck lorry",
    "homes households home household",
    "electricity power",
    "closed shut",
    "useful productive fruitful constructive",
    "lawmakers legislators deputies mps",
]
# Reporting verbs carry no content: "said", "stressed", "noted" are the same act.
_REPORTING = {
    "said",
    "says",
    "say",
    "saying",
    "stated",
    "states",
    "stressed",
    "stresses",
    "noted",
    "notes",
    "added",
    "adds",
    "told",
    "tells",
    "remarked",
    "emphasized",
    "emphasised",
    "emphasizes",
    "underlined",
    "according",
    "reported",
    "reports",
}
STOP = set(ENGLISH_STOP_WORDS) | _REPORTING | {"s", "t", "mr", "mrs", "ms", "dr"}
_SYNONYM = {word: group.split()[0] for group in _SYNONYM_GROUPS for word in group.split()}

_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_QUOTE = re.compile(r'"([^"]{2,}?)"')
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"(])")


def fold(text: str) -> str:
    """Unicode to plain ASCII: curly quotes become straight, accents and scripts transliterated."""
    text = unicodedata.normalize("NFKC", text)
    # anyascii maps the typographic apostrophe to "'" and curly double quotes to '"'.
    return anyascii(text)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    stem: str = _STEMMER.stemWord(_SYNONYM.get(word, word))
    return stem


def content_words(text: str) -> list[str]:
    """Stemmed content words of already folded text, synonyms merged, stop words dropped."""
    words = _WORD.findall(text.lower().replace("-", " "))
    return [_stem(w) for w in words if w not in STOP and len(w) > 1]


def sentences(text: str) -> list[str]:
    out: list[str] = []
    for paragraph in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE_END.split(paragraph) if s.strip())
    return out


# --- language ----------------------------------------------------------------------------

# The commonest short words of each language: enough to tell which language a post is in.
_FUNCTION_WORDS = {
    "en": ["the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with", "has", "have", "are", "by", "at", "from", "it"],
    "de": ["der", "die", "das", "und", "ist", "nicht", "ein", "eine", "den", "dem", "des", "von", "mit", "sich", "auf", "auch", "im", "zu"],
    "it": ["il", "la", "di", "che", "e", "un", "una", "per", "non", "sono", "della", "del", "dei", "con", "le", "gli", "al", "alla"],
    "fr": ["le", "la", "les", "de", "des", "et", "est", "une", "du", "pour", "que", "dans", "pas", "au", "sur", "avec"],
    "es": ["el", "la", "los", "las", "de", "que", "y", "en", "un", "una", "por", "con", "para", "del", "se", "al"],
    "nl": ["de", "het", "een", "en", "van", "is", "dat", "op", "te", "zijn", "niet", "met", "voor", "aan"],
    "pt": ["o", "a", "os", "as", "de", "que", "e", "um", "uma", "do", "da", "em", "para", "com", "nao", "no"],
}
_LANGUAGE_OF: dict[str, list[str]] = {}
for _language, _words in _FUNCTION_WORDS.items():
    for _word in _words:
        _LANGUAGE_OF.setdefault(_word, []).append(_language)


def language(text: str) -> str | None:
    """The language whose commonest words a text uses most, or None for too few words."""
    counts: dict[str, float] = {}
    for word in re.findall(r"[a-z]+", fold(text).lower()):
        for lang in _LANGUAGE_OF.get(word, ()):
            counts[lang] = counts.get(lang, 0.0) + 1.0 / len(_LANGUAGE_OF[word])
    if not counts or max(counts.values()) < 2:
        return None
    return max(counts, key=lambda k: counts[k])


# --- names -----------------------------------------------------------------------------

_NAME = re.compile(r"\b[A-Z][A-Za-z'.]*(?:[ -](?:of |the |de |al-|bin )?[A-Z][A-Za-z'.]*)*(?:-[a-z]+)?")
# Capitalised words that are not names by themselves.
_NOT_NAMES = STOP | {
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
    "photo",
    "update",
    "live",
    "breaking",
    "today",
    "yesterday",
    "tomorrow",
    "earlier",
    "later",
    "asked",
    "speaking",
    "meanwhile",
    "however",
    "moreover",
    "also",
    "chairman",
    "president",
    "minister",
    "prime",
    "leader",
    "mayor",
    "governor",
    "chief",
    "analyst",
}


def name_key(name: str) -> str:
    """A spelling-tolerant key: case, hyphens, spaces and transliteration variants fold away.

    "Kim Jong-un", "Kim Jong Un" and "Kim Jongun" share one key, and so do
    "Aleksandr" / "Alexander" and "Zelensky" / "Zelenskyy".
    """
    s = re.sub(r"[^a-z]", "", fold(name).lower())
    s = s.replace("x", "ks").replace("ph", "f").replace("kh", "h").replace("ck", "k")
    s = re.sub(r"(.)\1+", r"\1", s)  # doubled letters
    return s[:1] + re.sub(r"[aeiouy]", "", s[1:])


def names(text: str) -> set[str]:
    """Keys of the named entities in folded text, with their short forms.

    A multi-word name also yields its last word ("Vladimir Putin" -> "Putin") and its
    initials ("Far Eastern Federal University" -> "FEFU"), so short and long forms meet.
    """
    keys: set[str] = set()
    for match in _NAME.finditer(text):
        words = [w.strip("'.") for w in re.split(r"[ -]", match.group())]
        while words and (not words[0] or words[0].lower() in _NOT_NAMES):
            words.pop(0)  # "President Putin", "The Kremlin"
        words = [w for w in words if w]
        if not words:
            continue
        keys.add(name_key("".join(words)))
        if len(words) > 1:
            keys.add(name_key(words[-1]))
            keys.add(name_key(words[0]))
            keys.add(name_key("".join(w[0] for w in words)))
        elif words[0].isupper() and len(words[0]) > 1:
            keys.add(name_key(words[0]))
    keys.discard("")
    return keys


# --- quotes ----------------------------------------------------------------------------

_VERB = r"(?:said|says|added|stressed|noted|told|wrote|emphasized|called|continued|asked)"
_ROLE = r"(?:leader|president|minister|official|spokesman|spokeswoman|agency|mayor|governor|chief)"
_WHO = rf"((?:the )?(?:[A-Z][\w'-]*(?: [A-Z][\w'-]*){{0,3}}|(?:[A-Za-z'-]+ ){{0,2}}{_ROLE}))"
_SPEAKER_AFTER = re.compile(rf"^[,.]?\s*(?:{_VERB}\s+{_WHO}|{_WHO}\s+{_VERB})")
_SPEAKER_BEFORE = re.compile(rf"{_WHO}\s+(?:\w+\s+){{0,2}}{_VERB}\b[^.]*$")


@dataclass(frozen=True)
class FoundQuote:
    text: str  # as written, folded to ASCII
    speaker: str | None


def quotes(text: str) -> list[FoundQuote]:
    """Spans inside double quotes (curly or straight), with the nearest named speaker."""
    found: list[FoundQuote] = []
    for paragraph in fold(text).splitlines():
        for match in _QUOTE.finditer(paragraph):
            span = match.group(1).strip(" ,.")
            if len(span) < 2:
                continue
            found.append(FoundQuote(span, _speaker(paragraph, match.start(), match.end())))
    return found


def _speaker(paragraph: str, start: int, end: int) -> str | None:
    match = _SPEAKER_AFTER.match(paragraph[end:]) or _SPEAKER_BEFORE.search(_QUOTE.sub("", paragraph[:start]))
    if not match:
        return None
    words = next(g for g in match.groups() if g).split()
    while len(words) > 1 and words[0].lower() in _NOT_NAMES and words[1][0].isupper():
        words.pop(0)  # "the", "Mayor", "President" before a name
    if len(words) == 1 and words[0].lower() in _NOT_NAMES:
        return None
    return " ".join(words)


# --- numbers ---------------------------------------------------------------------------

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
    "half": 0.5,
    "a": None,
    "and": None,
}
_SCALES = {
    "hundred": 100,
    "thousand": 1000,
    "million": 1_000_000,
    "billion": 1_000_000_000,
    # the same scales as other languages write them after a figure ("4,2 Millionen")
    "millionen": 1_000_000,
    "mio": 1_000_000,
    "milioni": 1_000_000,
    "millions": 1_000_000,
    "millones": 1_000_000,
    "milhoes": 1_000_000,
    "miljoen": 1_000_000,
    "milliarden": 1_000_000_000,
    "mrd": 1_000_000_000,
    "miliardi": 1_000_000_000,
    "milliards": 1_000_000_000,
}
_NUM_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:[.,]\d+)?|[a-z]+|%")
_ORDINAL_ENDINGS = {"st", "nd", "rd", "th", "o", "a", "e", "er", "eme", "ter", "te", "ten"}
# Number words are read in these languages: "sechs Retter", "il dodicesimo ragazzo".
NUMBER_LANGUAGES = ("en", "de", "it", "fr", "es", "pt", "nl")


def numbers(text: str, language: str | None = None) -> set[tuple[str, float]]:
    """(unit, value) pairs such as ("hour", 3.5) for "three and a half hours" or "3.5 hours".

    The unit is the stemmed word that follows the figure; years and clock times are left out.
    Number words and ordinals of NUMBER_LANGUAGES count as figures too (text2num reads
    them); their unit is the word after them as written, so across languages only the
    value can agree. A text known to be in one `language` has its number words read in
    that language only; otherwise in all of them.
    """
    found = _figures(fold(text))  # digits, and English number words
    readings: tuple[str, ...] = NUMBER_LANGUAGES[1:]
    if language is not None:
        readings = tuple(r for r in readings if r == language)
    for reading in readings:
        digits = alpha2digit(text, reading)
        if digits != text:
            found |= _figures(fold(digits))
    return found


def _figures(text: str) -> set[tuple[str, float]]:
    tokens = _NUM_TOKEN.findall(text.lower().replace("-", " "))
    found: set[tuple[str, float]] = set()
    i = 0
    while i < len(tokens):
        value, j = _read_number(tokens, i)
        if value is None:
            i += 1
            continue
        while j < len(tokens) and tokens[j] in _ORDINAL_ENDINGS and tokens[i][0].isdigit() and j == i + 1:
            j += 1  # 11th, 12o, 11eme
        while j < len(tokens) and tokens[j] in ("plus", "more", "than", "about", "some", "over"):
            j += 1
        if j < len(tokens) and not tokens[j][0].isdigit():
            unit = tokens[j] if tokens[j] == "%" else _stem(tokens[j])
            if unit not in STOP or unit == "%":
                found.add((unit, value))
        elif value >= 2:
            found.add(("", value))
        i = max(j, i + 1)
    return found


def _read_number(tokens: list[str], i: int) -> tuple[float | None, int]:
    tok = tokens[i]
    if tok[0].isdigit():
        whole, _, decimals = tok.rpartition(",") if re.search(r",\d{1,2}$", tok) else (tok, "", "")
        value = float(whole.replace(",", "") + ("." + decimals if decimals else ""))  # 4,2 is 4.2; 1,200 is 1200
        if 1900 <= value <= 2100 and "." not in tok and "," not in tok:
            return None, i + 1  # a year
        j = i + 1
        if j < len(tokens) and tokens[j] in _SCALES:
            value *= _SCALES[tokens[j]]
            j += 1
        elif j < len(tokens) and tokens[j] in ("1000", "1000000", "1000000000") and value < 1000:
            value *= float(tokens[j])  # "4,2 Millionen" as number words become digits
            j += 1
        return value, j
    if tok not in _NUMBER_WORDS or _NUMBER_WORDS[tok] is None:
        return None, i + 1
    value, j = 0.0, i
    while j < len(tokens):
        word = tokens[j]
        if word in _SCALES and value:
            value *= _SCALES[word]
        elif word in ("and", "a") and j + 1 < len(tokens) and tokens[j + 1] in _NUMBER_WORDS:
            pass
        elif (number := _NUMBER_WORDS.get(word)) is not None:
            value += number
        else:
            break
        j += 1
    if value == 0.5 and tok == "half":
        return None, i + 1  # "half" alone is not a figure
    return (value or None), j


# The opening of a post that greets readers or opens the coverage: it reports no development.
_WELCOME = re.compile(
    r"^\W*(?:good (?:morning|afternoon|evening)|hello and welcome|welcome (?:to|back to) (?:our|the|this)"
    r"|guten (?:morgen|tag|abend)|(?:herzlich )?willkommen (?:zu|zum|im|in|bei)"
    r"|buongiorno|buonasera|benvenut[ie] (?:alla|nella|nel|al)"
    r"|bonjour|bienvenue (?:dans|sur|à)|buenos días|bienvenidos? (?:a|al)"
    r"|(?:this is )?(?:our )?live coverage (?:of|on))",
    re.IGNORECASE,
)


def is_welcome(text: str) -> bool:
    """Whether a post (headline first) opens by greeting its readers or welcoming them to the
    coverage, as the first post of a live page does: a scene-setter, no report of a development."""
    return bool(_WELCOME.match(text.strip()))
