"""Plain page text, as copied from a browser, -> a ParsedPage.

The text is a run of blocks (lines separated by blank lines). Posts start at time stamps
(`13:37:41 25.04.2019`, `9.05am BST`, `9.40am: ...`, `0915 ...`) or, on pages without times,
at headline blocks. What comes before the first post is the page's head: navigation, title,
dateline, standfirst, lead media, key points and the post count. Furniture (share prompts,
"Show more", link lists, ...) is dropped; photo credits become media on their post.
lines.py says what each line is, head.py reads the head; this module finds the posts.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta, tzinfo

from livedesk.ingest import ParseError
from livedesk.ingest.head import Head, declared_count, head_floor, read_head
from livedesk.ingest.language import language_of
from livedesk.ingest.lines import (
    BANNER_RE,
    BULLET_RE,
    NUMBERED_RE,
    ORDER_MARK_RE,
    RULE_RE,
    Line,
    alone,
    byline_name,
    classify,
    credit_of,
    inline_credit,
    looks_like_headline,
    looks_like_name,
    looks_like_outlet_line,
    split_lines,
    video_from,
)
from livedesk.ingest.outlet import language_zone, outlet_from_credits, outlet_zone, place_zone
from livedesk.ingest.times import (
    RELATIVE_RE,
    STATEMENT_REACH,
    DayMonth,
    PostClock,
    Stamp,
    dates_in,
    find_zone_declaration,
    parse_leading_stamp,
    resolve,
    split_date_marker,
    to_utc,
    updated_date_in,
    zone_by_iana,
    zone_in_prose,
)
from livedesk.model import Media, ParsedPage, ParsedPost

# --- choosing where posts start ------------------------------------------------------------

def _stamp_starts(lines: list[Line]) -> tuple[list[int], list[int]]:
    """Indices of lines that start posts, and of datelines (page-level stamps before them).

    Posts start at the page's own repeating stamp form; a note like `Updated 10:41 GMT` that
    the page writes once is a dateline, and one it repeats on every post is the posts' stamp.
    """
    candidates = [i for i, line in enumerate(lines) if line.kind in ("stamp", "lead")]
    _settle_half_days([_stamp(lines[i]) for i in candidates])
    styles = Counter(_stamp(lines[i]).style for i in candidates)
    if not styles:
        return [], []
    repeated = {style for style, count in styles.items() if count >= 2}
    posting = [s for s in styles if not s.startswith("updated|") or s in repeated]
    if not posting:
        return [], list(candidates)
    dominant = max(posting, key=lambda s: (styles[s], not s.startswith("updated|")))
    starts: list[int] = []
    datelines: list[int] = []
    seen_dominant = False
    for i in candidates:
        stamp = _stamp(lines[i])
        opens = lines[i].text.endswith(":")  # `UPDATE 1:06 p.m.:` on its own line opens a post
        if stamp.style.startswith("updated|") and stamp.style not in repeated and not opens:
            if not starts:  # `Updated 9.20am BST`: the page's note, or a post's
                datelines.append(i)
            continue
        seen_dominant = seen_dominant or stamp.style == dominant
        if stamp.style.startswith(("hhmm", "spaced", "glued")) and styles[stamp.style] < 2:
            continue  # `0915 Text` and `21:05 Text` count only when the page repeats them
        if not seen_dominant and stamp.date is not None and stamp.style != dominant:
            datelines.append(i)
            continue
        starts.append(i)
    starts = _in_time_order(lines, starts, dominant)
    notes = _wordless_notes(lines, starts)
    if notes:
        starts = [i for i in starts if i not in notes]
        datelines = sorted(datelines + notes)
    if len(starts) == 1 and not datelines and _is_head(lines, starts[0]) and _stamp(lines[starts[0]]).date is not None:
        return [], starts  # a single dated stamp at the top of a page is its dateline
    return starts, datelines


_WORD = re.compile(r"[^\W\d_]{2,}")


def _wordless_notes(lines: list[Line], starts: list[int]) -> list[int]:
    """`Published: Jul 18, 7:25 AM` above `Updated: Jul 18, 5:17 PM` are the page's notes, not
    two posts: two such notes with no word between them are datelines."""
    notes: list[int] = []
    for a, b in zip(starts, starts[1:]):
        both = all(_stamp(lines[k]).style.startswith("updated|") for k in (a, b))
        if both and not _stamp(lines[a]).rest and not any(_WORD.search(lines[k].text) for k in range(a + 1, b)):
            notes += [k for k in (a, b) if k not in notes]
    return notes


def _settle_half_days(stamps: list[Stamp]) -> None:
    """On a page of 12-hour stamps (`6:30 p.m. EDT`), one without am/pm (`6:07 EDT`) is the
    reading nearer its neighbours, and is written in the page's form. A page counts as
    12-hour when most of its stamps say am or pm, or when some do and none is past 12
    without (`2:55 p.m.` above `2:50` and `2:31`)."""
    twelve = [k for k, stamp in enumerate(stamps) if "|ap" in stamp.style]
    past_noon = any("|24" in stamp.style and stamp.hour > 12 for stamp in stamps)
    if not twelve or (len(twelve) * 2 <= len(stamps) and past_noon):
        return
    for k, stamp in enumerate(stamps):
        if "|24" not in stamp.style or not 1 <= stamp.hour <= 12:
            continue
        near = [_minutes(stamps[j]) for j in twelve if abs(j - k) <= 2]
        if not near:
            continue
        morning = (stamp.hour % 12) * 60 + stamp.minute
        readings = (morning, morning + 720)
        best = min(readings, key=lambda m: sum(min(abs(m - n), 1440 - abs(m - n)) for n in near))
        stamp.hour, stamp.style = best // 60, stamp.style.replace("|24", "|ap", 1)


def _in_time_order(lines: list[Line], starts: list[int], dominant: str) -> list[int]:
    """Drop stamps that break the page's time order: `10am: ...` and `3.30pm: ...` diary lines
    inside a post are prose, not posts. The posts are the longest run of stamps in the page's
    direction (a jump of more than half a day is a midnight), the page's own stamp form
    counting more than others; a run that would drop over half of them is not trusted."""
    if not 3 <= len(starts) <= _ORDER_CHECK_LIMIT:
        return starts
    keys = [_minutes(_stamp(lines[i])) for i in starts]
    falls = sum(a > b for a, b in zip(keys, keys[1:]) if abs(a - b) < 720)
    rises = sum(a < b for a, b in zip(keys, keys[1:]) if abs(a - b) < 720)
    sign = -1 if falls > rises else 1
    unwrapped = [keys[0] * sign]
    for key in keys[1:]:
        value = key * sign
        while value - unwrapped[-1] < -720:
            value += 1440
        unwrapped.append(value)
    weights = [1.0 if _stamp(lines[i]).style == dominant else 0.4 for i in starts]
    best = weights[:]
    back = [-1] * len(starts)
    for k in range(len(starts)):
        for j in range(k):
            if unwrapped[j] <= unwrapped[k] and best[j] + weights[k] > best[k]:
                best[k], back[k] = best[j] + weights[k], j
    k = max(range(len(starts)), key=lambda n: best[n])
    chain = []
    while k >= 0:
        chain.append(starts[k])
        k = back[k]
    return sorted(chain) if len(chain) * 2 >= len(starts) else starts


_ORDER_CHECK_LIMIT = 300  # the check is quadratic; pages this long are machine-made and in order


def _stamp(line: Line) -> Stamp:
    """The stamp of a line whose kind is "stamp" or "lead"."""
    if line.stamp is None:
        raise ValueError(f"not a stamp line: {line.text!r}")
    return line.stamp


def _minutes(stamp: Stamp) -> int:
    return stamp.hour * 60 + stamp.minute


def _is_head(lines: list[Line], i: int) -> bool:
    return i < 12 and not any(line.kind == "text" and len(line.text) > 60 for line in lines[:i])


def _closing_spans(lines: list[Line], stamps: list[int]) -> list[tuple[int, int, int | None]]:
    """(first line, end, stamp line) of each post on a page whose stamps close their posts.

    A post runs from its headline (the first headline block after the previous stamp; before
    the first stamp, the last one, as the page's head comes first) up to its stamp. On a page
    of bullets every bullet is a post, and a stamp belongs to the bullet above it. After the
    last stamp come posts whose stamp the copy cut off.
    """
    spans: list[tuple[int, int, int | None]] = []
    bullets = [i for i in range(len(lines)) if lines[i].kind == "bullet"]
    if sum(i - 1 in bullets for i in stamps) * 2 > len(stamps):
        first = next((b for b in bullets if b < stamps[0]), stamps[0])
        for b in (b for b in bullets if b >= first):
            nxt = next((n for n in bullets if n > b), len(lines))
            stamp = next((i for i in stamps if b < i < nxt), None)
            spans.append((b, stamp if stamp is not None else nxt, stamp))
        return spans
    previous = -1
    for k, stamp in enumerate(stamps):
        heads = [i for i in range(previous + 1, stamp) if _headline_block(lines, i)]
        start = (heads[-1] if k == 0 else heads[0]) if heads else previous + 1
        spans.append((start, stamp, stamp))
        previous = stamp
    tail = [i for i in range(previous + 1, len(lines)) if _headline_block(lines, i) and not lines[i].text.endswith("!")]
    for start, end in zip(tail, tail[1:] + [len(lines)]):
        spans.append((start, end, None))
    return spans


def _headed_spans(lines: list[Line], stamps: list[int]) -> list[tuple[int, int, int | None]] | None:
    """(first line, end, stamp line) of each post on a page that sets a headline of its own
    above most `05:53pm – text` posts; None when it does not."""
    heads = [
        i - 1 if lines[i].kind == "lead" and i > 0 and (k == 0 or i - 1 > stamps[k - 1])
        and lines[i - 1].kind == "text" and alone(lines, i - 1) and looks_like_headline(lines[i - 1].text)
        else i
        for k, i in enumerate(stamps)
    ]
    if sum(h != i for h, i in zip(heads, stamps)) * 2 <= len(stamps):
        return None
    spans: list[tuple[int, int, int | None]] = []
    for h, i, end in zip(heads, stamps, heads[1:] + [len(lines)]):
        # on such a page a headline block after a post's stamp heads a post of its own, one the
        # page left unstamped
        untimed = [j for j in range(i + 1, end) if _headline_block(lines, j)]
        for first, last in zip([h, *untimed], [*untimed, end]):
            spans.append((first, last, i if first == h else None))
    return spans


def _split_at_rules(lines: list[Line], spans: list[tuple[int, int, int | None]]) -> list[tuple[int, int, int | None]]:
    """A drawn line (`_____`) inside a post, with no stamp after it, starts an untimed post: a
    second wire story under one stamp."""
    split: list[tuple[int, int, int | None]] = []
    for start, end, stamp in spans:
        cuts = [
            i for i in range(start + 1, end)
            if RULE_RE.fullmatch(lines[i].text) and (nxt := _next_content(lines, i)) is not None and nxt < end
        ]
        for first, last in zip([start, *cuts], [*cuts, end]):
            split.append((first, last, stamp if first == start else first))
    return split


def _order_starts(lines: list[Line]) -> list[int]:
    """Pages without clock times: posts start at relative stamps (`36 min ago`: when the page was
    read is not known, so they give only the order), or on sport pages at lap or minute marks
    (`LAP 8/50`) and at a short capitalised call (`CRASH`) standing where those marks stand."""
    relative = [i for i, line in enumerate(lines) if len(line.text) <= 40 and RELATIVE_RE.match(line.text)]
    if len(relative) >= 2:
        return relative
    marks = [i for i, line in enumerate(lines) if ORDER_MARK_RE.fullmatch(line.text)]
    if len(marks) < 2:
        return []
    calls = [
        i for i in range(marks[0], len(lines))
        if lines[i].text.isupper() and len(lines[i].text.split()) <= 3 and not any(c.isdigit() for c in lines[i].text)
    ]
    return sorted(set(marks) | set(calls))


def _headline_starts(lines: list[Line], after: int, declared: int | None) -> list[int]:
    """Pages without times: posts start at numbered headlines or at headline blocks."""
    numbered = [
        i for i in range(after, len(lines))
        if lines[i].kind == "text" and alone(lines, i) and NUMBERED_RE.match(lines[i].text)
    ]
    if len(numbered) >= 2 and _consecutive([int(match.group("n")) for i in numbered if (match := NUMBERED_RE.match(lines[i].text))]):
        return numbered
    banners = [i for i in range(after, len(lines)) if lines[i].kind == "text" and BANNER_RE.fullmatch(lines[i].text)]
    if len(banners) >= 2:
        return banners
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
    if line.kind != "text" or not alone(lines, i) or not looks_like_headline(line.text) or byline_name(line.text):
        return False
    nxt = _next_content(lines, i)
    return nxt is not None and lines[nxt].kind in ("text", "bullet", "credit", "caption", "duration")


def _next_content(lines: list[Line], i: int) -> int | None:
    for j in range(i + 1, min(len(lines), i + 20)):
        if lines[j].kind != "furniture":
            return j
    return None


def _next_text_length(lines: list[Line], i: int) -> int:
    j = _next_content(lines, i)
    return len(lines[j].text) if j is not None else 0


# --- posts ---------------------------------------------------------------------------------

def _post(lines: list[Line], start: int, end: int, headline_mode: bool) -> ParsedPost:
    first = lines[start]
    headline = author = None
    body = list(range(start + 1, end))
    paragraphs: list[list[str]] = []
    if headline_mode:
        numbered = NUMBERED_RE.match(first.text) or BANNER_RE.fullmatch(first.text)
        headline = numbered.group("text") if numbered else first.text
        inner = parse_leading_stamp(headline)
        if inner is not None:  # `1. 09:10 Minister: ...`
            first.stamp, headline = inner, inner.rest
        if RELATIVE_RE.match(headline) and body and looks_like_headline(lines[body[0]].text):
            headline, body = lines[body[0]].text, body[1:]  # `36 min ago` above the headline
        if body and lines[body[0]].kind == "lead":  # the headline above a `05:53pm – text` post
            paragraphs.append([_stamp(lines[body[0]]).rest])
            body = body[1:]
    elif first.kind == "lead":
        paragraphs.append([_stamp(first).rest])
    opening = next((j for j in body if lines[j].kind not in ("furniture", "credit", "caption")), None)
    if opening is not None and (name := byline_name(lines[opening].text)) is not None:
        author, body = name, [j for j in body if j != opening]
    if first.kind == "stamp" and first.stamp is not None and first.stamp.rest:
        headline = first.stamp.rest  # `Ferry back in portpublished at 18:46 ...`
    if first.kind == "stamp" and author is None:
        author, body = _author(lines, body)
        opens = body and (alone(lines, body[0]) or lines[body[0]].block == first.block)
        if headline is None and author is None and len(body) >= 2 and opens and looks_like_headline(lines[body[0]].text):
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
        if line.kind in ("furniture", "count", "keyhead", "heading", "stamp") or j == skip:
            continue  # a stamp inside a post is its `Updated at ...` note
        if line.block != block or not paragraphs:
            paragraphs.append([])
            block = line.block
        if line.kind == "caption":
            media.append(Media(kind="image", caption=line.text, credit=line.credit))
        elif line.kind == "credit":
            caption = None
            if paragraphs[-1] and lines[j - 1].block == line.block:
                caption = paragraphs[-1].pop()  # the line above a credit, in the same block
            elif j + 1 < len(lines) and lines[j + 1].block == line.block and lines[j + 1].kind == "text":
                caption, skip = lines[j + 1].text, j + 1  # or the line below it
            media.append(Media(kind="image", caption=caption, credit=credit_of(line.text)))
        elif line.kind == "duration":
            media.append(video_from(line.text, paragraphs[-1].pop() if paragraphs[-1] else None))
        elif _lone_name(lines, j):  # `Ankara` on a line of its own: what a photo shows
            media.append(Media(kind="image", caption=line.text))
        elif inline := inline_credit(line.text):
            media.append(Media(kind="image", caption=inline.group("caption").strip(), credit=inline.group("credit").strip()))
        else:
            paragraphs[-1].append(line.text)
    paragraphs[:] = [p for p in paragraphs if p]
    return media


def _lone_name(lines: list[Line], j: int) -> bool:
    text = lines[j].text
    return len(text) <= 30 and text.isalpha() and text.istitle() and alone(lines, j)


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
    url: str | None = None,
) -> ParsedPage:
    """Split plain page text into posts. Raises ParseError when no post can be found.

    The hints come from an HTML page's metadata; `outlet` (the user's choice) beats them all.
    `url`, where the page was published, tells its outlet's country by its domain.
    `headings` are the texts of an HTML page's heading elements: one that ends a post right
    before the next post's time stamp is that next post's headline.
    """
    marker, text = split_date_marker(text)  # `date 2019-06 ...`: the day the page was copied
    lines = split_lines(text)
    if not lines:
        raise ParseError("the page has no text")
    classify(lines)
    starts, datelines = _stamp_starts(lines)
    headline_mode = not starts
    if headline_mode:
        starts = _order_starts(lines)
    if headline_mode and not starts:
        starts = _headline_starts(lines, head_floor(lines, datelines, title_hint), declared_count(lines))
    if not starts:
        raise ParseError("no posts found: the text has neither time stamps nor headline blocks")
    spans: list[tuple[int, int, int | None]] = [(start, end, start) for start, end in zip(starts, starts[1:] + [len(lines)])]
    if not headline_mode and sum(lines[i].closing for i in starts) * 2 > len(starts):
        spans = _closing_spans(lines, starts)
    elif not headline_mode:
        spans = _headed_spans(lines, starts) or _split_at_rules(lines, spans)
    head_end = spans[0][0]
    head = read_head(lines, head_end, [d for d in datelines if d < head_end], title_hint)
    if not head.title:
        head.title = title_hint
    credits: list[str] = []
    posts, clocks = [], []
    heading, section = head.heading, 0
    for start, end, stamped in spans:
        post = _post(lines, start, end, headline_mode or start != stamped)
        if lines[start].kind == "bullet" and post.headline:  # a bullet post is all text
            bullet = BULLET_RE.match(post.headline)
            first = bullet.group("text") if bullet else post.headline
            post.text, post.headline = "\n\n".join(filter(None, [first, post.text])), None
        stamp = lines[stamped].stamp if stamped is not None else None
        clocks.append(PostClock(stamp, heading, section) if stamp else None)
        posts.append(post)
        credits.extend(m.credit for m in post.media if m.credit)
        for j in range(start + 1, end):  # a date heading inside sets the day of the next posts
            if lines[j].kind == "heading":
                heading, section = lines[j].date, section + 1
    credits.extend(m.credit for m in head.media if m.credit)
    credits.extend(inline.group("credit") for line in lines[:head_end] if (inline := inline_credit(line.text)))
    page_outlet = outlet or outlet_hint or head.title_outlet or outlet_from_credits(credits)
    head_text = "\n".join(line.text for line in lines[:head_end])
    zone, zone_source = _page_zone(text, head, page_outlet, tz, url, head_text)
    timed = [c for c in clocks if c is not None]
    if timed and all(c.stamp.zone is not None for c in timed):
        zone_source = "stamp"
    head_day = _head_date(lines[:head_end])
    known_year = head_day.year if head_day is not None and head_day.year else marker[0] if marker else None
    year, year_assumed = _year(date, head, clocks, published_hint, known_year)
    published = _published(head, zone, year) or published_hint
    first_day = _day(head.dateline, year) or (published_hint.date() if published_hint else None)
    if first_day is None and head_day is not None:
        first_day = head_day.on(year)
    updated_day = _day(head.updated, year) or _updated_note_day(lines[:head_end], year)
    last_day = updated_day or date
    if first_day is None and last_day is None:
        last_day = _mentioned_date(text, marker)
    # a date the user gives is the newest posts' (the page may be cut off before its first),
    # unless date headings date the posts
    given_end = date is not None and not any(c.heading is not None for c in timed)
    times, order = resolve(
        clocks, zone=zone, year=year, start=first_day, end=last_day or datetime.now(UTC).date(),
        end_first=updated_day is not None or given_end,
    )
    if first_day is None and last_day is None and _in_future(times):
        # Nothing dates the page, so its newest posts were taken to be today's; a page read now
        # holds no posts from hours ahead, so they are yesterday's.
        yesterday = datetime.now(UTC).date() - timedelta(days=1)
        times, order = resolve(clocks, zone=zone, year=year, start=None, end=yesterday)
    for post, when in zip(posts, times):
        post.time = when
    # `18 July` with no year anywhere: the day is read, the year assumed
    date_source = "assumed" if year_assumed else _date_source(timed, first_day or (last_day if last_day != date else None), date)
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
        zone_source=zone_source,
        date_source=date_source,
    )


def _date_source(timed: list[PostClock], page_day: date | None, given: date | None) -> str:
    if timed and all(c.stamp.date is not None for c in timed):
        return "stamp"
    if page_day is not None or any(c.heading is not None for c in timed):
        return "page"
    return "option" if given is not None else "assumed"


FUTURE_SLACK = timedelta(hours=1)  # clocks and zones may be a little off


def _in_future(times: list[datetime | None]) -> bool:
    known = [t for t in times if t is not None]
    return bool(known) and max(known) > datetime.now(UTC) + FUTURE_SLACK


def _move_trailing_headings(posts: list[ParsedPost], headings: set[str]) -> None:
    for post, following in zip(posts, posts[1:]):
        last = post.text.rsplit("\n\n", 1)[-1]
        if following.headline is None and last in headings and last != post.text:
            following.headline = last
            post.text = post.text[: -len(last)].rstrip()


def _page_zone(
    text: str, head: Head, outlet: str | None, tz: str | None, url: str | None, head_text: str
) -> tuple[tzinfo | None, str]:
    """The zone of the page's unzoned times and where it came from: what the page states, then
    the outlet's home zone (its name or domain), then --tz, then the zone its prose writes after
    times (`at 3 p.m. ET`), then the page's language, then the first place its head names (a
    dateline's city, a masthead's `Madison, WI`, a country)."""
    declared = find_zone_declaration(text[:STATEMENT_REACH])
    if declared is not None:
        return declared, "page"
    for stamp in (head.dateline, head.updated):
        if stamp is not None and stamp.zone is not None:
            return stamp.zone, "page"
    if (home := outlet_zone(outlet, url)) is not None:
        return home, "outlet"
    if (option := zone_by_iana(tz)) is not None:
        return option, "option"
    if (written := zone_in_prose(text[:STATEMENT_REACH])) is not None:
        return written, "page"
    if (spoken := language_zone(language_of(text))) is not None:
        return spoken, "outlet"
    if (place := place_zone(head_text)) is not None:
        return place, "outlet"
    return None, "assumed"


def _updated_note_day(head_lines: list[Line], year: int) -> date | None:
    """The day of an `Updated ...` note in the page's head that gives a date but no clock."""
    for line in head_lines:
        if line.kind == "text" and len(line.text) <= 160 and (day := updated_date_in(line.text)) is not None:
            return day.on(year)
    return None


def _head_date(head_lines: list[Line]) -> DayMonth | None:
    """The first date the page's head writes out, a full one (with its year) first."""
    found = [
        d for line in head_lines if line.kind != "stamp"  # datelines and `Updated ...` notes are read apart
        for d in dates_in(line.text if len(line.text) <= 100 else line.text[:40])
    ]
    return next((d for d in found if d.year), found[0] if found else None)


def _mentioned_date(text: str, marker: tuple[int, int | None, int | None] | None) -> date | None:
    """A page without a dateline is dated by the latest full date its text writes (a caption's,
    an embedded post's), or else by the date it was copied on."""
    copied_in = marker[0] if marker is not None else None  # a day without its year is of the copy's year
    days = [d.on(d.year or copied_in or 0) for d in dates_in(text) if d.year or copied_in]
    if marker is not None and marker[1] is not None:
        days = [d for d in days if d is not None and (d.year, d.month) == marker[:2]]
    known = [d for d in days if d is not None]
    if known:
        return max(known)
    if marker is not None and marker[1] is not None and marker[2] is not None:
        return _safe_day(*marker)
    return None


def _safe_day(year: int, month: int | None, day: int | None) -> date | None:
    try:
        return date(year, month or 1, day or 1)
    except ValueError:
        return None


def _year(
    given: date | None, head: Head, clocks: list[PostClock | None], published: datetime | None, known: int | None
) -> tuple[int, bool]:
    """The year of the page's dates, and whether it was assumed (the page writes none)."""
    for stamp in (head.dateline, head.updated):
        if stamp is not None and isinstance(stamp.date, DayMonth) and stamp.date.year:
            return stamp.date.year, False
    for clock in clocks:
        if clock is not None and clock.stamp.date is not None and clock.stamp.date.year:
            return clock.stamp.date.year, False
    if head.heading is not None and head.heading.year:
        return head.heading.year, False
    if published is not None:
        return published.year, False
    if known is not None and given is None:
        return known, False
    near = (given or datetime.now(UTC).date()).year
    headings = [c.heading for c in clocks if c is not None and c.heading is not None]
    weekday_year = next((y for h in headings[:1] if (y := h.likely_year(near)) is not None), None)
    return weekday_year or near, weekday_year is None and given is None


def _published(head: Head, zone: tzinfo | None, year: int) -> datetime | None:
    stamp = head.dateline
    day = _day(stamp, year)
    if stamp is None or day is None:
        return None
    return to_utc(datetime.combine(day, stamp.clock, tzinfo=stamp.zone or zone or UTC), None)


def _day(stamp: Stamp | None, year: int) -> date | None:
    if stamp is None or stamp.date is None:
        return None
    return stamp.date.on(year) if isinstance(stamp.date, DayMonth) else stamp.date
