"""What each line of copied page text is: text, a time stamp, a date heading, a photo credit,
a video's duration, a key-points bullet, the post count, or page furniture."""

from __future__ import annotations

import re
from dataclasses import dataclass

from livedesk.ingest.times import (
    LINK_TAIL_RE,
    DayMonth,
    Stamp,
    parse_date_text,
    parse_leading_stamp,
    parse_stamp_line,
)
from livedesk.model import Media

_FURNITURE = {
    "show more", "show more posts", "read more", "read more here", "load more", "load more posts",
    "see more", "see all", "partner news", "in other media", "advertisement", "ad", "share",
    "share this", "share this post", "share this article", "share this page", "copy link",
    "link copied", "tweet", "facebook", "twitter", "x", "whatsapp", "telegram", "email",
    "print", "skip to content", "skip to main content", "skip advertisement", "back to top",
    "related", "related stories", "related articles", "most read", "more on this story",
    "recommended", "top stories", "sign up", "subscribe", "newsletter", "comments",
    "pinned", "pinned post", "key event", "key events", "latest", "live", "live updates",
    "sign in", "log in", "menu", "search", "close",
}
# A marker whose next block of short lines is a list of links, not prose.
_LINK_LIST_MARKERS = {
    "read more", "related", "related stories", "related articles", "more on this story",
    "in other media", "partner news", "most read", "show more", "recommended", "top stories",
}
RULE_RE = re.compile(r"[_=~\-–—*]{3,}")  # a drawn line between stories
_FURNITURE_RE = re.compile("|".join(f"(?:{p})" for p in [
    RULE_RE.pattern,
    r"[0-9]+\s+pages?\s+in\s+this\s+article",
    r"share\s+(?:this\s+)?(?:post|article|page|story)?\s*(?:on|via)\s+\w+",
    r"(?:share|copy)\s+(?:the\s+)?link(?:\s+to\s+this\s+\w+)?",
    r"(?:follow|subscribe)\s+(?:us\s+)?(?:on|to)\s+\w+",
    r"(?:[0-9]+|one)\s+(?:comments?|shares?)",
    r"(?:photos?|pictures?|images?|gallery)\s*:?\s*[0-9]+\s*(?:of|/)\s*[0-9]+",
]), re.I)
COUNT_RE = re.compile(r"(?P<n>[0-9]{1,5})\s+(?:posts?|updates?|entries)", re.I)
DURATION_RE = re.compile(
    r"(?:(?:video|duration|length)\s*:?\s*)?\(?(?:(?P<h>[0-9]{1,2}):)?(?P<m>[0-9]{1,2}):(?P<s>[0-5][0-9])\)?"
    r"\s*(?:[-–—|]\s*)?(?:source\s*:\s*(?P<source>.+))?",
    re.I,
)
_KEY_HEADINGS_RE = re.compile(
    r"(?:what we(?:'|’)re covering(?: here)?|what we know(?: so far)?|key points|key developments"
    r"|summary|the latest|das wichtigste|l'essentiel|главное)\s*:?",
    re.I,
)
BULLET_RE = re.compile(r"^[•·▪●◦‣*–-]\s+(?P<text>\S.*)$")
_CREDIT_LINE_RE = re.compile(
    r"^(?:(?:©|\(c\)|copyright)\s*|(?:photo(?:graph)?|picture|image|credit|foto|photo credit)s?\s*:\s*)"
    r"(?P<credit>\S.{1,80})$",
    re.I,
)
_PHOTO_WORD_RE = re.compile(r"^(?:photo|picture|image|foto)s?\s*:", re.I)
_CREDIT_WORDS = {"via", "for", "and", "&", "of", "/", "-", "–"}
INLINE_CREDIT_RE = re.compile(
    r"^(?P<caption>.{3,300}?)\s*(?:©\s*|\b(?:photograph|photo|picture|credit|foto)\s*:\s*|\bimage\s+source\s*[,:]\s*)"
    r"(?P<credit>[^©.]{2,80}?)\.?$",
    re.I,
)
PAREN_CREDIT_RE = re.compile(r"\s*\((?P<credit>[^()]{0,30}\b(?:photo|photograph|picture|credit)\b[^()]{0,80})\)$", re.I)
# `LAP 12/50`, `Lap 3`, `78'`, `45+2 mins`: sport pages mark posts by laps and match minutes,
# which give the posts' order, not their time.
ORDER_MARK_RE = re.compile(
    r"(?:(?:lap|runde|giro|vuelta|tour|круг)\s+[0-9]{1,3}(?:\s*/\s*[0-9]{1,3})?"
    r"|[0-9]{1,3}(?:\+[0-9]{1,2})?\s*(?:'|’|mins?\.?|minutes?|min\.?))",
    re.I,
)
# `*** Ferry back in port ***`: an entry's headline between banner marks.
BANNER_RE = re.compile(r"(?:\*{2,}|\+{2,})\s*(?P<text>[^*+\s][^*+]{2,160}?)\s*(?:\*{2,}|\+{2,})?")
NUMBERED_RE = re.compile(r"^(?P<n>[0-9]{1,3})[.)]\s+(?P<text>\S.*)$")
BYLINE_RE = re.compile(r"^(?:by|von|par|por)\s+(?P<name>\S.{1,60})$", re.I)
_ROLE_RE = re.compile(r"^(?:[a-z][\w-]*\s+){1,3}(?=[A-Z])")  # `political reporter ` before a name
_CONNECTORS = {"van", "von", "de", "da", "der", "den", "la", "le", "bin", "al", "el", "du", "y", "and"}


# `Harbour News: Jane Roe`: a photo credit as an outlet and its photographer; not `Update: ...`
_OUTLET_CREDIT_RE = re.compile(r"^(?P<outlet>[A-Z][\w.&'’-]*(?:\s+[A-Z][\w.&'’-]*){0,3}):\s+(?P<name>[^:]{3,40})$")
_ANNOUNCING = {
    "update", "updated", "breaking", "report", "reports", "confirmed", "watch", "video", "live", "exclusive",
    "analysis", "opinion", "read", "listen", "photos", "gallery", "quote", "poll", "latest", "more", "see",
}


def credit_of(line: str) -> str | None:
    """The credit of a credit line (`© Jane Roe/Agency`, `Credit: AP`), or None."""
    match = _CREDIT_LINE_RE.match(line)
    if not match:
        named = _OUTLET_CREDIT_RE.match(line) if ": " in line and len(line) <= 80 else None
        if named and looks_like_name(named.group("name")) and not set(named.group("outlet").lower().split()) & _ANNOUNCING:
            return line
        return None
    credit = match.group("credit").strip()
    if _PHOTO_WORD_RE.match(line):  # `Photo: Leaders meet` is a headline, `Photo: Jane Roe` a credit
        words = credit.replace("/", " / ").split()
        if len(words) > 8 or not all(w[0].isupper() or w.lower() in _CREDIT_WORDS for w in words):
            return None
    return credit


def _norm(line: str) -> str:
    return line.strip().strip(".:!").strip().lower()


_CREDIT_WORDS_IN = ("©", "photo", "picture", "credit", "foto", "image source")


def inline_credit(line: str) -> re.Match[str] | None:
    """`Caption. Photograph: Jane Roe/Agency` -> the match of INLINE_CREDIT_RE, or None."""
    low = line.lower()
    if len(line) > 400 or not any(word in low for word in _CREDIT_WORDS_IN):
        return None
    return INLINE_CREDIT_RE.match(line)


def is_furniture(line: str) -> bool:
    key = _norm(line)
    return key in _FURNITURE or _FURNITURE_RE.fullmatch(line.strip()) is not None


def _words(line: str) -> list[str]:
    return line.split()


def looks_like_name(line: str) -> bool:
    words = _words(line)
    if not 2 <= len(words) <= 4 or len(line) > 40 or re.search(r"[0-9,;:!?()]", line):
        return False
    return all(w[0].isupper() or w.lower() in _CONNECTORS for w in words) and not line.endswith(".")


def byline_name(line: str) -> str | None:
    """`By Jane Roe`, `By political reporter Jane Roe` -> the name; None for other lines."""
    match = BYLINE_RE.match(line)
    if match is None:
        return None
    name = _ROLE_RE.sub("", match.group("name"))
    return name if looks_like_name(name.split(",")[0]) else None


def looks_like_outlet_line(line: str) -> bool:
    words = _words(line)
    return 1 <= len(words) <= 5 and len(line) <= 40 and line[0].isupper() and line[-1] not in ".,;:"


def looks_like_headline(line: str) -> bool:
    """A short line that reads as a title: no closing full stop, comma or colon."""
    words = _words(line)
    if not 2 <= len(words) <= 25 or len(line) > 160:
        return False
    first = line.lstrip("\"'“‘«„")[:1]
    if not first or not (first.isupper() or first.isdigit()):
        return False
    end = line.rstrip("\"'”’»)]").rstrip()
    return bool(end) and end[-1] not in ".,;:…" and not BULLET_RE.match(line)


@dataclass
class Line:
    text: str
    block: int
    kind: str = "text"  # text | furniture | count | duration | credit | caption | bullet | keyhead | heading
    stamp: Stamp | None = None
    date: DayMonth | None = None
    credit: str | None = None  # a caption's credit
    closing: bool = False  # a stamp that ends its post: `by A edited by B 5/21/2022 9:38 AM`, `... | permalink`


def split_lines(text: str) -> list[Line]:
    lines: list[Line] = []
    block = 0
    for raw in text.splitlines():
        clean = " ".join(raw.replace("\u00a0", " ").replace("\u200b", "").split())
        if not clean:
            block += 1
            continue
        lines.append(Line(clean, block))
    return lines


def classify(lines: list[Line]) -> None:
    """Mark every line's kind; drop link lists that follow a 'Read more' style marker."""
    drop_block: int | None = None
    for i, line in enumerate(lines):
        text = line.text
        if drop_block == line.block:
            line.kind = "furniture"
            continue
        if is_furniture(text) or _is_label(lines, i):
            line.kind = "furniture"
            if _norm(text) in _LINK_LIST_MARKERS:
                drop_block = _link_list_after(lines, i)
        elif line.kind != "text" or _doubled_caption(lines, i):
            continue  # the second copy of a doubled caption, already marked
        elif COUNT_RE.fullmatch(text):
            line.kind = "count"
        elif _is_duration(text):
            line.kind = "duration"
        elif credit_of(text) is not None:
            line.kind = "credit"
        elif _KEY_HEADINGS_RE.fullmatch(text):
            line.kind = "keyhead"
        elif BULLET_RE.match(text) and not _stamped_bullet(text):
            line.kind = "bullet"
        elif (stamp := parse_stamp_line(text)) is not None:
            line.kind, line.stamp = "stamp", stamp
            line.closing = LINK_TAIL_RE.search(text) is not None or (
                i > 0 and lines[i - 1].kind == "bullet" and lines[i - 1].block == line.block
            )
        elif (signed := _signed_stamp(text)) is not None:
            line.kind, line.stamp, line.closing = "stamp", signed, True
        elif (titled := _titled_stamp(text)) is not None:
            line.kind, line.stamp = "stamp", titled
        elif (heading := parse_date_text(text)) is not None and alone(lines, i):
            line.kind, line.date = "heading", heading
        elif (stamp := parse_leading_stamp(text)) is not None:
            line.kind, line.stamp = "lead", stamp


def _is_label(lines: list[Line], i: int) -> bool:
    """A badge or an icon's label on a line of its own: `• Key Post`, `e-mail sent in by reader`."""
    text = lines[i].text
    if len(text) > 40 or any(c.isdigit() for c in text):
        return False
    badge = BULLET_RE.match(text)
    if badge is not None:  # a short bullet that is not one of a list
        listed = any(
            0 <= j < len(lines) and lines[j].block == lines[i].block and BULLET_RE.match(lines[j].text) for j in (i - 1, i + 1)
        )
        return not listed and len(badge.group("text").split()) <= 2 and badge.group("text")[-1:].isalpha()
    return alone(lines, i) and text.islower() and len(text.split()) <= 6 and text[-1].isalpha()


_CAPTION_CREDIT_RE = re.compile(r"(?:[A-Z][\w.'’-]*\s+){0,3}[A-Z][\w.'’-]*\s*/\s*[\w.&' -]{2,30}")


def _doubled_caption(lines: list[Line], i: int) -> bool:
    """A photo caption copied twice, as alt text and as the caption (`... Jane Roe/Agency` the
    second time): the first copy becomes the caption, the second is dropped."""
    if i + 1 >= len(lines) or lines[i + 1].block != lines[i].block or len(lines[i].text) < 20:
        return False
    first, second = lines[i].text, lines[i + 1].text
    if not second.startswith(first):
        return False
    tail = second[len(first):].strip()
    if tail and not _CAPTION_CREDIT_RE.fullmatch(tail):
        return False
    lines[i].kind, lines[i].credit = "caption", tail or None
    lines[i + 1].kind = "furniture"
    return True


def _is_duration(text: str) -> bool:
    match = DURATION_RE.fullmatch(text)
    return match is not None and (match.group("source") is not None or text.lower().startswith(("video", "duration", "length", "(")))


def _signed_stamp(text: str) -> Stamp | None:
    """`by Jane Roe edited by Sam Poe 5/21/2022 9:38:14 AM`: a byline that closes its post."""
    if not BYLINE_RE.match(text) or len(text) > 160:
        return None
    for space in re.finditer(r"\s(?=[0-9])", text):
        stamp = parse_stamp_line(text[space.end():])
        if stamp is not None and stamp.date is not None:
            return stamp
    return None


# `2. Ferry back in portpublished at 18:46 GMT 2 November 2023`: a headline, then its stamp.
_TITLED_STAMP_RE = re.compile(
    r"^(?:[0-9]{1,3}[.)]\s+)?(?P<title>\S.{0,160}?)\s*(?:published|posted|updated)\s+at\s+(?P<stamp>[0-9].{3,60})$", re.I
)


def _titled_stamp(text: str) -> Stamp | None:
    """A headline closed by its post's stamp; the stamp's `rest` is the headline."""
    tail = text[-90:].lower()
    if " at " not in tail or not ("published" in tail or "posted" in tail or "updated" in tail):
        return None
    match = _TITLED_STAMP_RE.match(text)
    if match is None or (stamp := parse_stamp_line(match.group("stamp"))) is None:
        return None
    stamp.rest = match.group("title")
    return stamp


def _stamped_bullet(text: str) -> bool:
    """`● 18:58 | Text`: a post's stamp behind a bullet mark; `• Last updated at 11:36 pm July 10th`:
    a page's note behind one."""
    if text[1:].lstrip()[:1].isdigit():
        return parse_leading_stamp(text) is not None
    return len(text) <= 80 and parse_stamp_line(text) is not None


def alone(lines: list[Line], i: int) -> bool:
    before = i == 0 or lines[i - 1].block != lines[i].block
    after = i + 1 == len(lines) or lines[i + 1].block != lines[i].block
    return before and after


def _link_list_after(lines: list[Line], i: int) -> int | None:
    """The block after a marker, when it is two or more short lines without full stops."""
    j = i + 1
    while j < len(lines) and lines[j].block == lines[i].block:
        j += 1
    members = [line for line in lines[j : j + 30] if line.block == lines[j].block] if j < len(lines) else []
    if len(members) >= 2 and all(len(m.text) <= 120 and not m.text.endswith(".") for m in members):
        return members[0].block
    return None


def video_from(line: str, title: str | None) -> Media:
    """`02:09 - Source: X` (and the title line above it) -> a video."""
    match = DURATION_RE.fullmatch(line)
    if match is None:
        raise ValueError(f"not a video duration line: {line!r}")
    seconds = int(match.group("h") or 0) * 3600 + int(match.group("m")) * 60 + int(match.group("s"))
    return Media(kind="video", title=title, duration_s=seconds, source=(match.group("source") or "").strip() or None)
