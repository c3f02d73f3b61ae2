"""The head of a copied live page: what comes before its first post.

Navigation, the title (a browser tab title `Live: ... | Outlet`, or the line before the
dateline), the dateline, the standfirst, lead media (credits, captions, a video), the key
points under "What we're covering here", and the declared post count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from livedesk.ingest.lines import (
    BULLET_RE,
    COUNT_RE,
    PAREN_CREDIT_RE,
    Line,
    alone,
    credit_of,
    video_from,
)
from livedesk.ingest.outlet import split_title
from livedesk.ingest.times import PUBLISHED_WORDS, DayMonth, Stamp, find_zone_declaration
from livedesk.model import Media

_PUBLISHED_RE = re.compile(r"^\W*" + PUBLISHED_WORDS.pattern, re.I)


@dataclass
class Head:
    title: str | None = None
    title_outlet: str | None = None
    dateline: Stamp | None = None  # when the page began: its published time
    updated: Stamp | None = None  # `Updated 10:41 GMT, 4 March`: the time of its newest post
    standfirst: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    declared: int | None = None
    media: list[Media] = field(default_factory=list)
    heading: DayMonth | None = None


def tab_title(lines: list[Line]) -> tuple[str, str, int] | None:
    """A browser tab title on the first line, `Live: Storm Ada | Echo` -> (title, outlet, lines
    used). The page's own heading below it, saying the same at more length, is the better title."""
    if lines[0].kind != "text":
        return None
    title, outlet = split_title(lines[0].text)
    if outlet is None:
        return None
    below = lines[1] if len(lines) > 1 else None
    if below is not None and below.kind == "text" and alone(lines, 1) and (title in below.text or below.text in title):
        return below.text, outlet, 2
    return title, outlet, 1


def title_index(lines: list[Line], end: int, dateline: int | None) -> int | None:
    if dateline is not None and dateline > 0 and lines[dateline - 1].kind == "text" and alone(lines, dateline - 1):
        return dateline - 1
    for i in range(end):
        text = lines[i].text
        if lines[i].kind == "text" and alone(lines, i) and len(text.split()) >= 4 and text[0].isupper() and text[-1] not in ",:;":
            return i
    return None


def read_head(lines: list[Line], end: int, datelines: list[int], title_hint: str | None) -> Head:
    head = Head()
    start = 0
    if title_hint:
        head.title, head.title_outlet = split_title(title_hint)
    elif end and (tab := tab_title(lines)) is not None:
        head.title, head.title_outlet, start = tab
    if head.title is None:
        title_at = title_index(lines, end, datelines[0] if datelines else None)
        if title_at is not None:
            head.title, start = lines[title_at].text, title_at + 1
    for i in datelines:
        stamp = lines[i].stamp
        if stamp is None:  # a date line always holds a stamp
            continue
        # `Published at ...` is when the page began; a note with its date beats one without
        if stamp.style.startswith("updated|") and not _PUBLISHED_RE.match(lines[i].text):
            head.updated = stamp if head.updated is None or (head.updated.date is None and stamp.date) else head.updated
        else:
            head.dateline = stamp if head.dateline is None or (head.dateline.date is None and stamp.date) else head.dateline
    _read_head_blocks(lines, start, end, head)
    return head


def _read_head_blocks(lines: list[Line], start: int, end: int, head: Head) -> None:
    in_key_points = False
    last_credit: Media | None = None
    i = start
    while i < end:
        j = i
        while j < end and lines[j].block == lines[i].block:
            j += 1
        block = [k for k in range(i, j) if lines[k].kind != "furniture"]
        i = j
        if block and head.title and lines[block[0]].text == head.title:
            block = block[1:]
        if not block:
            continue
        texts = [lines[k].text for k in block]
        kinds = [lines[k].kind for k in block]
        for j, kind in zip(block, kinds):
            if kind == "count":
                head.declared = _count(lines[j].text)
            elif kind == "keyhead":
                in_key_points = True
            elif kind == "bullet" and in_key_points:
                head.key_points.append(_bullet(lines[j].text))
            elif kind == "heading":
                head.heading = lines[j].date
        if "duration" in kinds:
            head.media.extend(_media_block(texts, kinds))
            last_credit = None
            continue
        head.media.extend(Media(kind="image", caption=lines[k].text, credit=lines[k].credit) for k in block if lines[k].kind == "caption")
        if kinds == ["credit"]:
            last_credit = Media(kind="image", credit=credit_of(texts[0]))
            head.media.append(last_credit)
            continue
        prose = [t for t, k in zip(texts, kinds) if k == "text"]
        if not prose:
            continue
        in_key_points = False
        paragraph = "\n".join(prose)
        if len(paragraph) < 80 and find_zone_declaration(paragraph) is not None:
            continue  # `All times are UK time.` is a note on the times, not a standfirst
        if last_credit is not None and last_credit.caption is None:
            last_credit.caption = paragraph  # the lead picture's caption follows its credit
        else:
            head.standfirst.append(paragraph)
        last_credit = None


def captioned_image(caption: str) -> Media:
    """A caption, with its credit split off when it ends in `(Agency Photo/Jane Roe)`."""
    match = PAREN_CREDIT_RE.search(caption)
    if match is None:
        return Media(kind="image", caption=caption)
    return Media(kind="image", caption=caption[: match.start()].strip(), credit=match.group("credit").strip())


def _media_block(texts: list[str], kinds: list[str]) -> list[Media]:
    """`caption / video title / 02:09 - Source: X` -> a lead image caption and a video."""
    at = kinds.index("duration")
    caption_lines = texts[: max(at - 1, 0)]
    media = [captioned_image("\n".join(caption_lines))] if caption_lines else []
    media.append(video_from(texts[at], texts[at - 1] if at > 0 else None))
    return media


def head_floor(lines: list[Line], datelines: list[int], title_hint: str | None) -> int:
    """Where headline posts may begin: after the title, and after the post count if any."""
    floor = 0
    if not title_hint:
        if (tab := tab_title(lines)) is not None:
            floor = tab[2]
        else:
            title_at = title_index(lines, len(lines), datelines[0] if datelines else None)
            floor = title_at + 1 if title_at is not None else 0
    for i, line in enumerate(lines[:200]):
        if line.kind == "count":
            return max(floor, i + 1)
    return floor


def declared_count(lines: list[Line]) -> int | None:
    for line in lines[:200]:
        if line.kind == "count":
            return _count(line.text)
    return None


def _count(text: str) -> int:
    """The number of a line whose kind is "count"."""
    match = COUNT_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a post count: {text!r}")
    return int(match.group("n"))


def _bullet(text: str) -> str:
    """The text of a line whose kind is "bullet"."""
    match = BULLET_RE.match(text)
    if match is None:
        raise ValueError(f"not a bullet: {text!r}")
    return match.group("text")
