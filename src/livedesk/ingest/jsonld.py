"""schema.org LiveBlogPosting JSON-LD -> a ParsedPage.

Pages put it in one block, a list, an `@graph`, or spread it over several blocks; every
LiveBlogPosting found contributes its `liveBlogUpdate` entries, in the order written.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from datetime import date, datetime, tzinfo
from typing import Any

from livedesk.ingest import ParseError
from livedesk.ingest.embeds import split_embeds
from livedesk.ingest.markup import fragment_text
from livedesk.ingest.outlet import language_zone, outlet_zone
from livedesk.ingest.times import order_of, parse_iso, zone_by_iana
from livedesk.model import Media, ParsedPage, ParsedPost

_SCRIPT_RE = re.compile(
    r"<script\b[^>]*?type\s*=\s*[\"']?application/ld\+json[\"']?[^>]*>(?P<body>.*?)</script\s*>",
    re.I | re.S,
)
_DURATION_RE = re.compile(r"P(?:(?P<d>[0-9]+)D)?(?:T(?:(?P<h>[0-9]+)H)?(?:(?P<m>[0-9]+)M)?(?:(?P<s>[0-9]+(?:\.[0-9]+)?)S)?)?")
_MAX_DEPTH = 12


def json_ld_blocks(page: str) -> list[object]:
    """Every JSON-LD block of an HTML page that parses as JSON; broken blocks are skipped."""
    blocks = []
    for match in _SCRIPT_RE.finditer(page):
        body = match.group("body").strip()
        body = re.sub(r"^<!\[CDATA\[|\]\]>$|^<!--|-->$", "", body).strip()
        try:
            blocks.append(json.loads(body))
        except (ValueError, RecursionError):
            continue
    return blocks


def _types(node: dict[str, Any]) -> set[str]:
    kind = node.get("@type", [])
    kinds = kind if isinstance(kind, list) else [kind]
    return {k.rsplit("/", 1)[-1] for k in kinds if isinstance(k, str)}


def _live_blogs(node: object, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            yield from _live_blogs(item, depth + 1)
    elif isinstance(node, dict):
        if "LiveBlogPosting" in _types(node):
            yield node
            return
        for key in ("@graph", "mainEntity", "mainEntityOfPage", "hasPart"):
            if key in node:
                yield from _live_blogs(node[key], depth + 1)


def _listed(value: object) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return html.unescape(value).strip() or None  # `Winner&#39;s time`
    if isinstance(value, dict):
        return _text(value.get("name") or value.get("@value"))
    return None


def _names(value: object) -> str | None:
    names = [n for n in (_text(v) for v in _listed(value)) if n]
    return ", ".join(names) or None


def _media(node: dict[str, Any]) -> list[Media]:
    media = []
    for image in _listed(node.get("image")):
        if isinstance(image, str):
            media.append(Media(kind="image", url=image))
        elif isinstance(image, dict):
            media.append(Media(
                kind="image", url=_text(image.get("url") or image.get("contentUrl")),
                caption=_text(image.get("caption")), credit=_names(image.get("creditText") or image.get("author")),
                alt=_text(image.get("description")),
            ))
    for video in _listed(node.get("video")):
        if isinstance(video, dict):
            media.append(Media(
                kind="video", url=_text(video.get("contentUrl") or video.get("embedUrl") or video.get("url")),
                title=_text(video.get("name")), duration_s=iso_duration(video.get("duration")),
                source=_names(video.get("publisher") or video.get("author")),
            ))
    return media


def iso_duration(value: object) -> int | None:
    """`PT2M9S` -> 129."""
    if not isinstance(value, str):
        return None
    match = _DURATION_RE.fullmatch(value.strip())
    if not match or not any(match.groupdict().values()):
        return None
    parts = {k: float(v or 0) for k, v in match.groupdict().items()}
    return int(parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"])


def iso_zone(
    values: Sequence[object], outlet: str | None, tz: str | None, language: str | None,
    stated: tzinfo | None = None, url: str | None = None,
) -> tuple[tzinfo | None, str]:
    """The zone for a page's ISO times that carry no offset, and where it came from: "stamp"
    when every time has its own offset, else the zone the visible page states (`All times
    BST`), the outlet's home zone (its name or the page's domain), `tz`, the zone of the page's
    language (`<html lang="de">`, as an outlet's), or UTC "assumed"."""
    if all(_has_offset(v) for v in values if isinstance(v, str) and v.strip()):
        return None, "stamp"
    if stated is not None:
        return stated, "page"
    if (home := outlet_zone(outlet, url)) is not None:
        return home, "outlet"
    if (option := zone_by_iana(tz)) is not None:
        return option, "option"
    if (spoken := language_zone(language)) is not None:
        return spoken, "outlet"
    return None, "assumed"


def _has_offset(value: str) -> bool:
    try:
        return datetime.fromisoformat(value.strip()).tzinfo is not None
    except ValueError:
        return True  # not a time at all: it leaves the zone undecided


def _post(update: dict[str, Any], zone: tzinfo | None) -> ParsedPost:
    body = update.get("articleBody") or update.get("text") or update.get("description")
    body, embeds = split_embeds(body) if isinstance(body, str) else (None, [])
    return ParsedPost(
        text=fragment_text(body),
        time=parse_iso(str(update.get("datePublished") or ""), zone),
        updated=parse_iso(str(update.get("dateModified") or ""), zone),
        headline=_text(update.get("headline") or update.get("name")),
        author=_names(update.get("author")),
        media=_media(update) + embeds,
        anchor=_text(update.get("url")) or _text(update.get("@id")),
    )


def _drop_page_level(posts: list[ParsedPost], page_media: list[Media], page_people: set[str | None], title: str | None) -> None:
    """Some pages copy their lead image, their author or their title onto every update: those
    belong to the page, not to the post."""
    urls = {m.url for m in page_media if m.url}
    if len(posts) >= 2:
        shared = set.intersection(*({m.url for m in p.media if m.url} for p in posts))
        urls |= shared
    authors = {p.author for p in posts}
    for post in posts:
        post.media = [m for m in post.media if m.url not in urls]
        if len(authors) == 1 and post.author in page_people:
            post.author = None
        if post.headline and title and post.headline == title:
            post.headline = None


def read_json_ld(
    blocks: list[object],
    *,
    outlet: str | None = None,
    tz: str | None = None,
    date: date | None = None,
    outlet_hint: str | None = None,
    title_hint: str | None = None,
    language: str | None = None,
    stated_zone: tzinfo | None = None,
    url: str | None = None,
) -> ParsedPage | None:
    """The live blog in these JSON-LD blocks, or None when they hold none with updates.
    `language` is the page's (`<html lang>`): the zone of its times when nothing better says;
    `stated_zone` the zone its visible text states, `url` where it was published."""
    blogs = [blog for block in blocks for blog in _live_blogs(block)]
    if not blogs:
        return None
    first = blogs[0]
    page_outlet = outlet or _names(first.get("publisher")) or outlet_hint
    updates = [u for blog in blogs for u in _listed(blog.get("liveBlogUpdate")) if isinstance(u, dict)]
    zone, zone_source = iso_zone([u.get("datePublished") for u in updates], page_outlet, tz, language, stated_zone, url)
    posts: list[ParsedPost] = []
    seen: set[str] = set()
    for blog in blogs:
        for update in _listed(blog.get("liveBlogUpdate")):
            if not isinstance(update, dict):
                continue
            post = _post(update, zone)
            if post.anchor and post.anchor in seen:
                continue
            if post.anchor:
                seen.add(post.anchor)
            if post.text or post.headline or post.media:
                posts.append(post)
    if not posts:
        return None
    published = parse_iso(str(first.get("datePublished") or first.get("coverageStartTime") or ""), zone)
    title = _text(first.get("headline") or first.get("name")) or title_hint
    page_media = _media(first)
    _drop_page_level(posts, page_media, {_names(first.get("author")), _names(first.get("publisher"))}, title)
    return ParsedPage(
        posts=posts,
        title=title,
        outlet=page_outlet,
        published=published,
        standfirst=fragment_text(_text(first.get("description"))) or None,
        media=page_media,
        order=order_of([p.time for p in posts]),
        zone_source=zone_source,
    )


def parse_json_ld_document(text: str, *, outlet: str | None = None, tz: str | None = None, date: date | None = None) -> ParsedPage:
    """A file that is JSON-LD itself (not embedded in HTML)."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ParseError(f"not valid JSON: {error}") from None
    page = read_json_ld([data], outlet=outlet, tz=tz, date=date)
    if page is None:
        raise ParseError("the JSON holds no LiveBlogPosting with updates")
    return page

