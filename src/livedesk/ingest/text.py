"""Plain page text, as copied from a browser, -> a ParsedPage.

The text is a run of blocks (lines separated by blank lines). Posts start at time stamps
(`13:37:41 25.04.2019`, `9.05am BST`, `9.40am: ...`, `0915 ...`) or, on pages without times,
at headline blocks. What comes before the first post is the page's head: navigation, title,
dateline, standfirst, lead media, key points and the post count. Furniture (share prompts,
"Show more", link lists, ...) is dropped; photo credits become media on their post.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from livedesk.ingest import ParseError
from livedesk.ingest.outlet import outlet_from_credits, outlet_zone, split_title
from livedesk.ingest.times import (
    DayMonth,
    PostClock,
    Stamp,
    find_zone_declaration,
    parse_date_text,
    parse_leading_stamp,
    parse_stamp_line,
    resolve,
    zone_by_iana,
)
from livedesk.model import Media, ParsedPage, ParsedPost

# --- line kinds ----------------------------------------------------------------------------

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
_FURNITURE_RE = re.compile("|".join(f"(?:{p})" for p in [
    r"[0-9]+\s+pages?\s+in\s+this\s+article",
    r"share\s+(?:this\s+)?(?:post|article|page|story)?\s*(?:on|via)\s+\w+",
    r"(?:share|copy)\s+(?:the\s+)?link(?:\s+to\s+this\s+\w+)?",
    r"(?:follow|subscribe)\s+(?:us\s+)?(?:on|to)\s+\w+",
    r"(?:[0-9]+|one)\s+(?:comments?|shares?)",
    r"(?:photos?|pictures?|images?|gallery)\s*:?\s*[0-9]+\s*(?:of|/)\s*[0-9]+",
]), re.I)
_COUNT_RE = re.compile(r"(?P<n>[0-9]{1,5})\s+(?:posts?|updates?|entries)", re.I)
_DURATION_RE = re.compile(
    r"(?:(?:video|duration|length)\s*:?\s*)?\(?(?:(?P<h>[0-9]{1,2}):)?(?P<m>[0-9]{1,2}):(?P<s>[0-5][0-9])\)?"
    r"\s*(?:[-–—|]\s*)?(?:source\s*:\s*(?P<source>.+))?",
    re.I,
)
_KEY_HEADINGS_RE = re.compile(
    r"(?:what we(?:'|’)re covering(?: here)?|what we know(?: so far)?|key points|key developments"
    r"|summary|the latest|das wichtigste|l'essentiel|главное)\s*:?",
    re.I,
)
_BULLET_RE = re.compile(r"^[•·▪●◦‣*–-]\s+(?P<text>\S.*)$")
_CREDIT_LINE_RE = re.compile(
    r"^(?:(?:©|\(c\)|copyright)\s*|(?:photo(?:graph)?|picture|image|credit|foto|photo credit)s?\s*:\s*)"
    r"(?P<credit>\S.{1,80})$",
    re.I,
)
_PHOTO_WORD_RE = re.compile(r"^(?:photo|picture|image|foto)s?\s*:", re.I)
_CREDIT_WORDS = {"via", "for", "and", "&", "of", "/", "-", "–"}
_INLINE_CREDIT_RE = re.compile(
    r"^(?P<caption>.{3,300}?)\s*(?:©\s*|\b(?:photograph|photo|picture|credit|foto)\s*:\s*)"
    r"(?P<credit>[^©.]{2,80}?)\.?$",
    re.I,
)
_PAREN_CREDIT_RE = re.compile(r"\s*\((?P<credit>[^()]{0,30}\b(?:photo|photograph|picture|credit)\b[^()]{0,80})\)$", re.I)
_NUMBERED_RE = re.compile(r"^(?P<n>[0-9]{1,3})[.)]\s+(?P<text>\S.*)$")
_BYLINE_RE = re.compile(r"^(?:by|von|par|por)\s+(?P<name>\S.{1,60})$", re.I)
_CONNECTORS = {"van", "von", "de", "da", "der", "den", "la", "le", "bin", "al", "el", "du", "y", "and"}


def _credit(line: str) -> str | None:
    """The credit of a credit line (`© Jane Roe/Agency`, `Credit: AP`), or None."""
    match = _CREDIT_LINE_RE.match(line)
    if not match:
        return None
    credit = match.group("credit").strip()
    if _PHOTO_WORD_RE.match(line):  # `Photo: Leaders meet` is a headline, `Photo: Jane Roe` a credit
        words = credit.replace("/", " / ").split()
        if len(words) > 8 or not all(w[0].isupper() or w.lower() in _CREDIT_WORDS for w in words):
            return None
    return credit


def _norm(line: str) -> str:
    return line.strip().strip(".:!").strip().lower()


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
    return bool(end) and end[-1] not in ".,;:…" and not _BULLET_RE.match(line)


# --- blocks --------------------------------------------------------------------------------

@dataclass
class Line:
    text: str
    block: int
    kind: str = "text"  # text | furniture | count | duration | credit | bullet | keyhead | heading
    stamp: Stamp | None = None
    date: DayMonth | None = None


def _lines(text: str) -> list[Line]:
    lines: list[Line] = []
    block = 0
    for raw in text.splitlines():
        clean = " ".join(raw.replace("\u00a0", " ").replace("\u200b", "").split())
        if not clean:
            block += 1
            continue
        lines.append(Line(clean, block))
    return lines


def _classify(lines: list[Line]) -> None:
    """Mark every line's kind; drop link lists that follow a 'Read more' style marker."""
    drop_block: int | None = None
    for i, line in enumerate(lines):
        text = line.text
        if drop_block == line.block:
            line.kind = "furniture"
            continue
        if is_furniture(text):
            line.kind = "furniture"
            if _norm(text) in _LINK_LIST_MARKERS:
                drop_block = _link_list_after(lines, i)
        elif _COUNT_RE.fullmatch(text):
            line.kind = "count"
        elif _is_duration(text):
            line.kind = "duration"
        elif _credit(text) is not None:
            line.kind = "credit"
        elif _KEY_HEADINGS_RE.fullmatch(text):
            line.kind = "keyhead"
        elif _BULLET_RE.match(text):
            line.kind = "bullet"
        elif (stamp := parse_stamp_line(text)) is not None:
            line.kind, line.stamp = "stamp", stamp
        elif (heading := parse_date_text(text)) is not None and _alone(lines, i):
            line.kind, line.date = "heading", heading
        elif _starts_block(lines, i) and (stamp := parse_leading_stamp(text)) is not None:
            line.kind, line.stamp = "lead", stamp


def _is_duration(text: str) -> bool:
    match = _DURATION_RE.fullmatch(text)
    return bool(match) and (match.group("source") is not None or text.lower().startswith(("video", "duration", "length", "(")))


def _starts_block(lines: list[Line], i: int) -> bool:
    return i == 0 or lines[i - 1].block != lines[i].block


def _alone(lines: list[Line], i: int) -> bool:
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


# --- choosing where posts start ------------------------------------------------------------

def _stamp_starts(lines: list[Line]) -> tuple[list[int], list[int]]:
    """Indices of lines that start posts, and of datelines (page-level stamps before them)."""
    candidates = [i for i, line in enumerate(lines) if line.kind in ("stamp", "lead")]
    styles = Counter(lines[i].stamp.style for i in candidates)
    if not styles:
        return [], []
    dominant = styles.most_common(1)[0][0]
    starts, datelines = [], []
    seen_dominant = False
    for i in candidates:
        stamp = lines[i].stamp
        seen_dominant = seen_dominant or stamp.style == dominant
        if stamp.style.startswith(("hhmm", "spaced")) and styles[stamp.style] < 2:
            continue  # `0915 Text` and `21:05 Text` count only when the page repeats them
        if not seen_dominant and stamp.date is not None and stamp.style != dominant:
            datelines.append(i)
            continue
        starts.append(i)
    if len(starts) == 1 and not datelines and _is_head(lines, starts[0]):
        return [], starts  # a single stamp at the top of a page is its dateline
    return starts, datelines


def _is_head(lines: list[Line], i: int) -> bool:
    return i < 12 and not any(line.kind == "text" and len(line.text) > 60 for line in lines[:i])


def _headline_starts(lines: list[Line], after: int, declared: int | None) -> list[int]:
    """Pages without times: posts start at numbered headlines or at headline blocks."""
    numbered = [
        i for i in range(after, len(lines))
        if lines[i].kind == "text" and _alone(lines, i) and _NUMBERED_RE.match(lines[i].text)
    ]
    if len(numbered) >= 2 and _consecutive([int(_NUMBERED_RE.match(lines[i].text).group("n")) for i in numbered]):
        return numbered
    loose = [i for i in range(after, len(lines)) if _headline_block(lines, i)]
    if declared is None or len(loose) == declared:
        return loose
    strict = [i for i in loose if len(lines[i].text) <= 100 and _next_text_length(lines, i) >= 60]
    return strict if abs(len(strict) - declared) < abs(len(loose) - declared) else loose


def _consecutive(numbers: list[int]) -> bool:
    steps = {b - a for a, b in zip(numbers, numbers[1:])}
    return steps <= {1} or steps <= {-1}


def _headline_block(lines: list[Line], i: int) -> bool:
    line = lines[i]
    if line.kind != "text" or not _alone(lines, i) or not looks_like_headline(line.text):
        return False
    nxt = _next_content(lines, i)
    return nxt is not None and lines[nxt].kind in ("text", "bullet", "credit", "duration")


def _next_content(lines: list[Line], i: int) -> int | None:
    for j in range(i + 1, min(len(lines), i + 20)):
        if lines[j].kind != "furniture":
            return j
    return None


def _next_text_length(lines: list[Line], i: int) -> int:
    j = _next_content(lines, i)
    return len(lines[j].text) if j is not None else 0


# --- the page head ---------------------------------------------------------------------------

@dataclass
class Head:
    title: str | None = None
    title_outlet: str | None = None
    dateline: Stamp | None = None
    standfirst: list[str] = field(default_factory=list)
    key_points: list[str] = field(default_factory=list)
    declared: int | None = None
    media: list[Media] = field(default_factory=list)
    heading: DayMonth | None = None


def _title_index(lines: list[Line], end: int, dateline: int | None) -> int | None:
    if dateline is not None and dateline > 0 and lines[dateline - 1].kind == "text" and _alone(lines, dateline - 1):
        return dateline - 1
    for i in range(end):
        text = lines[i].text
        if lines[i].kind == "text" and _alone(lines, i) and len(_words(text)) >= 4 and text[0].isupper() and text[-1] not in ",:;":
            return i
    return None


def _read_head(lines: list[Line], end: int, datelines: list[int], title_hint: str | None) -> Head:
    head = Head()
    start = 0
    if title_hint:
        head.title, head.title_outlet = split_title(title_hint)
    elif end and lines[0].kind == "text":
        title, outlet = split_title(lines[0].text)
        if outlet:  # a browser tab title: `Live: ... | Outlet`
            head.title, head.title_outlet, start = title, outlet, 1
    if head.title is None:
        title_at = _title_index(lines, end, datelines[0] if datelines else None)
        if title_at is not None:
            head.title, start = lines[title_at].text, title_at + 1
    if datelines:
        head.dateline = lines[datelines[0]].stamp
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
                head.declared = int(_COUNT_RE.fullmatch(lines[j].text).group("n"))
            elif kind == "keyhead":
                in_key_points = True
            elif kind == "bullet" and in_key_points:
                head.key_points.append(_BULLET_RE.match(lines[j].text).group("text"))
            elif kind == "heading":
                head.heading = lines[j].date
        if "duration" in kinds:
            head.media.extend(_media_block(texts, kinds))
            last_credit = None
            continue
        if kinds == ["credit"]:
            last_credit = Media(kind="image", credit=_credit(texts[0]))
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


def _captioned_image(caption: str) -> Media:
    """A caption, with its credit split off when it ends in `(Agency Photo/Jane Roe)`."""
    match = _PAREN_CREDIT_RE.search(caption)
    if match is None:
        return Media(kind="image", caption=caption)
    return Media(kind="image", caption=caption[: match.start()].strip(), credit=match.group("credit").strip())


def _media_block(texts: list[str], kinds: list[str]) -> list[Media]:
    """`caption / video title / 02:09 - Source: X` -> a lead image caption and a video."""
    media = []
    at = kinds.index("duration")
    match = _DURATION_RE.fullmatch(texts[at])
    seconds = int(match.group("h") or 0) * 3600 + int(match.group("m")) * 60 + int(match.group("s"))
    source = (match.group("source") or "").strip() or None
    title = texts[at - 1] if at > 0 else None
    caption_lines = texts[: max(at - 1, 0)]
    if caption_lines:
        media.append(_captioned_image("\n".join(caption_lines)))
    media.append(Media(kind="video", title=title, duration_s=seconds, source=source))
    return media


# --- posts ---------------------------------------------------------------------------------

def _post(lines: list[Line], start: int, end: int, headline_mode: bool) -> ParsedPost:
    first = lines[start]
    headline = author = None
    body = list(range(start + 1, end))
    paragraphs: list[list[str]] = []
    if headline_mode:
        numbered = _NUMBERED_RE.match(first.text)
        headline = numbered.group("text") if numbered else first.text
        inner = parse_leading_stamp(headline)
        if inner is not None:  # `1. 09:10 Minister: ...`
            first.stamp, headline = inner, inner.rest
    elif first.kind == "lead":
        paragraphs.append([first.stamp.rest])
    if body and (byline := _BYLINE_RE.match(lines[body[0]].text)) and looks_like_name(byline.group("name").split(",")[0]):
        author, body = byline.group("name"), body[1:]
    if first.kind == "stamp" and author is None:
        author, body = _author(lines, body)
        opens = body and (_alone(lines, body[0]) or lines[body[0]].block == first.block)
        if author is None and len(body) >= 2 and opens and looks_like_headline(lines[body[0]].text):
            headline, body = lines[body[0]].text, body[1:]
    media = _body(lines, body, paragraphs)
    text = "\n\n".join("\n".join(p) for p in paragraphs)
    return ParsedPost(text=text, headline=headline, author=author, media=media)


def _author(lines: list[Line], body: list[int]) -> tuple[str | None, list[int]]:
    """`09:12 CET / Mira Kessel / Northtown Courier / text` -> "Mira Kessel, Northtown Courier"."""
    if len(body) >= 3:
        name, outlet = lines[body[0]].text, lines[body[1]].text
        if lines[body[0]].kind == "text" and looks_like_name(name) and looks_like_outlet_line(outlet):
            return f"{name}, {outlet}", body[2:]
    return None, body


def _body(lines: list[Line], body: list[int], paragraphs: list[list[str]]) -> list[Media]:
    media: list[Media] = []
    block = None
    skip = -1
    for j in body:
        line = lines[j]
        if line.kind in ("furniture", "count", "keyhead", "heading") or j == skip:
            continue
        if line.block != block or not paragraphs:
            paragraphs.append([])
            block = line.block
        if line.kind == "credit":
            caption = None
            if paragraphs[-1] and lines[j - 1].block == line.block:
                caption = paragraphs[-1].pop()  # the line above a credit, in the same block
            elif j + 1 < len(lines) and lines[j + 1].block == line.block and lines[j + 1].kind == "text":
                caption, skip = lines[j + 1].text, j + 1  # or the line below it
            media.append(Media(kind="image", caption=caption, credit=_credit(line.text)))
        elif line.kind == "duration":
            match = _DURATION_RE.fullmatch(line.text)
            title = paragraphs[-1].pop() if paragraphs[-1] else None
            seconds = int(match.group("h") or 0) * 3600 + int(match.group("m")) * 60 + int(match.group("s"))
            media.append(Media(kind="video", title=title, duration_s=seconds, source=(match.group("source") or "").strip() or None))
        elif (inline := _INLINE_CREDIT_RE.match(line.text)) and len(line.text) <= 400:
            media.append(Media(kind="image", caption=inline.group("caption").strip(), credit=inline.group("credit").strip()))
        else:
            paragraphs[-1].append(line.text)
    paragraphs[:] = [p for p in paragraphs if p]
    return media


# --- the reader ------------------------------------------------------------------------------

def read_text(
    text: str,
    *,
    outlet: str | None = None,
    tz: str | None = None,
    date: date | None = None,
    title_hint: str | None = None,
    outlet_hint: str | None = None,
    published_hint: datetime | None = None,
    headings: set[str] | None = None,
) -> ParsedPage:
    """Split plain page text into posts. Raises ParseError when no post can be found.

    The hints come from an HTML page's metadata; `outlet` (the user's choice) beats them all.
    `headings` are the texts of an HTML page's heading elements: one that ends a post right
    before the next post's time stamp is that next post's headline.
    """
    lines = _lines(text)
    if not lines:
        raise ParseError("the page has no text")
    _classify(lines)
    starts, datelines = _stamp_starts(lines)
    headline_mode = not starts
    if headline_mode:
        starts = _headline_starts(lines, _head_floor(lines, datelines, title_hint), _declared(lines))
    if not starts:
        raise ParseError("no posts found: the text has neither time stamps nor headline blocks")
    head_end = starts[0]
    head = _read_head(lines, head_end, [d for d in datelines if d < head_end], title_hint)
    if not head.title:
        head.title = title_hint
    credits: list[str] = []
    posts, clocks = [], []
    heading, section = head.heading, 0
    bounds = starts + [len(lines)]
    for k, start in enumerate(starts):
        end = bounds[k + 1]
        post = _post(lines, start, end, headline_mode)
        stamp = lines[start].stamp
        clocks.append(PostClock(stamp, heading, section) if stamp else None)
        posts.append(post)
        credits.extend(m.credit for m in post.media if m.credit)
        for j in range(start + 1, end):  # a date heading inside sets the day of the next posts
            if lines[j].kind == "heading":
                heading, section = lines[j].date, section + 1
    credits.extend(m.credit for m in head.media if m.credit)
    page_outlet = outlet or outlet_hint or head.title_outlet or outlet_from_credits(credits)
    zone = _page_zone(text, head, page_outlet, tz)
    year = _year(date, head, clocks, published_hint)
    published = _published(head, zone, year) or published_hint
    start_zone = head.dateline.zone if head.dateline and head.dateline.zone else zone or UTC
    times, order = resolve(
        clocks, zone=zone, year=year,
        start=published.astimezone(start_zone).date() if published else None,
        end=date or datetime.now(UTC).date(),
    )
    for post, when in zip(posts, times):
        post.time = when
    if headings:
        _move_trailing_headings(posts, headings)
        if head.standfirst and head.standfirst[-1] in headings and posts[0].headline is None:
            posts[0].headline = head.standfirst.pop()
    return ParsedPage(
        posts=posts,
        title=head.title,
        outlet=page_outlet,
        published=published,
        standfirst="\n\n".join(head.standfirst) or None,
        key_points=head.key_points,
        declared_post_count=head.declared,
        media=head.media,
        order=order,
    )


def _move_trailing_headings(posts: list[ParsedPost], headings: set[str]) -> None:
    for post, following in zip(posts, posts[1:]):
        last = post.text.rsplit("\n\n", 1)[-1]
        if following.headline is None and last in headings and last != post.text:
            following.headline = last
            post.text = post.text[: -len(last)].rstrip()


def _head_floor(lines: list[Line], datelines: list[int], title_hint: str | None) -> int:
    """Where headline posts may begin: after the title, and after the post count if any."""
    floor = 0
    if not title_hint:
        title, outlet = split_title(lines[0].text)
        if outlet:
            floor = 2 if len(lines) > 1 and lines[1].text == title else 1
        else:
            title_at = _title_index(lines, len(lines), datelines[0] if datelines else None)
            floor = title_at + 1 if title_at is not None else 0
    for i, line in enumerate(lines[:200]):
        if line.kind == "count":
            return max(floor, i + 1)
    return floor


def _declared(lines: list[Line]) -> int | None:
    for line in lines[:200]:
        if line.kind == "count":
            return int(_COUNT_RE.fullmatch(line.text).group("n"))
    return None


def _page_zone(text: str, head: Head, outlet: str | None, tz: str | None) -> tzinfo | None:
    declared = find_zone_declaration(text)
    if declared is not None:
        return declared
    if head.dateline is not None and head.dateline.zone is not None:
        return head.dateline.zone
    return outlet_zone(outlet) or zone_by_iana(tz)


def _year(given: date | None, head: Head, clocks: list[PostClock | None], published: datetime | None) -> int:
    if head.dateline is not None and isinstance(head.dateline.date, DayMonth) and head.dateline.date.year:
        return head.dateline.date.year
    for clock in clocks:
        if clock is not None and clock.stamp.date is not None and getattr(clock.stamp.date, "year", None):
            return clock.stamp.date.year
    if head.heading is not None and head.heading.year:
        return head.heading.year
    if published is not None:
        return published.year
    return (given or datetime.now(UTC).date()).year


def _published(head: Head, zone: tzinfo | None, year: int) -> datetime | None:
    stamp = head.dateline
    if stamp is None or stamp.date is None:
        return None
    day = stamp.date.on(year) if isinstance(stamp.date, DayMonth) else stamp.date
    if day is None:
        return None
    return datetime.combine(day, stamp.clock, tzinfo=stamp.zone or zone or UTC).astimezone(UTC)
