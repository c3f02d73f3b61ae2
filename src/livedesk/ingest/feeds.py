"""RSS 2.0 and Atom (through feedparser) and JSON Feed -> a ParsedPage."""

from __future__ import annotations

import io
import re
import time
from calendar import timegm
from datetime import UTC, date, datetime, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from livedesk.ingest import ParseError
from livedesk.ingest.embeds import split_embeds
from livedesk.ingest.markup import fragment_text
from livedesk.ingest.outlet import outlet_zone, split_title
from livedesk.ingest.times import order_of, parse_iso, to_utc, zone_by_iana
from livedesk.model import Media, ParsedPage, ParsedPost


def _utc(parsed: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time -> aware datetime."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(timegm(parsed), UTC)
    except (OverflowError, ValueError, OSError):
        return None


_ZONED_RE = re.compile(r"(?:[+-][0-9]{2}:?[0-9]{2}|Z|\b[A-Z]{1,5})\s*$")


def _when(node: dict[str, Any], key: str, zone: tzinfo | None) -> datetime | None:
    """feedparser takes a date without a zone as UTC (or cannot read it); such a date is read
    in the page's zone instead."""
    raw = dict.get(node, key)
    if isinstance(raw, str) and raw.strip() and not _ZONED_RE.search(raw.strip()):
        local = _naive(raw.strip())
        if local is not None:
            return to_utc(local, zone)
    return _utc(dict.get(node, f"{key}_parsed"))


def _naive(raw: str) -> datetime | None:
    try:
        return parsedate_to_datetime(raw).replace(tzinfo=None)
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=None)
    except ValueError:
        return None


def _author(author: str | None) -> str | None:
    """RSS writes `desk@example.org (Jane Roe)`: keep the name."""
    if not author:
        return None
    match = re.fullmatch(r"\S+@\S+\s*\((?P<name>[^)]+)\)", author.strip())
    return match.group("name").strip() if match else author.strip()


def _entry_media(entry: dict[str, Any]) -> list[Media]:
    media = []
    links = [link for link in entry.get("links", []) if link.get("rel") == "enclosure"]
    for item in links + list(entry.get("media_content", [])):
        kind = (item.get("type") or item.get("medium") or "").split("/")[0]
        if kind in ("image", "video") and item.get("href", item.get("url")):
            media.append(Media(kind=kind, url=item.get("href", item.get("url"))))
    credit = entry.get("media_credit", {})
    if media and isinstance(credit, dict) and credit.get("content"):
        media[0].credit = credit["content"]
    return media


def read_feed(
    content: bytes, *, outlet: str | None = None, tz: str | None = None, date: date | None = None
) -> ParsedPage:
    """An RSS or Atom document. Raises ParseError when feedparser finds no entries."""
    feed = feedparser.parse(io.BytesIO(content))
    if not feed.entries:
        raise ParseError("the feed has no entries")
    info = feed.feed
    title, title_outlet = split_title(fragment_text(info.get("title")))
    page_outlet = outlet or title_outlet or info.get("publisher") or None
    zone = outlet_zone(page_outlet) or zone_by_iana(tz)
    posts = []
    for entry in feed.entries:
        body = entry.get("content", [{}])[0].get("value") if entry.get("content") else entry.get("summary")
        body, embeds = split_embeds(body) if isinstance(body, str) else (None, [])
        posts.append(ParsedPost(
            text=fragment_text(body),
            headline=fragment_text(entry.get("title")) or None,
            time=_when(entry, "published", zone) or _when(entry, "updated", zone),
            updated=_when(entry, "updated", zone),
            author=_author(entry.get("author")),
            media=_entry_media(entry) + embeds,
            anchor=entry.get("id") or entry.get("link") or None,
        ))
    return ParsedPage(
        posts=posts,
        title=title or None,
        outlet=page_outlet,
        published=_when(info, "published", zone),
        standfirst=fragment_text(info.get("subtitle")) or None,
        order=order_of([p.time for p in posts]),
    )


def read_json_feed(
    data: dict[str, Any], *, outlet: str | None = None, tz: str | None = None, date: date | None = None
) -> ParsedPage:
    """A JSON Feed (version 1 or 1.1) that is already decoded from JSON."""
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ParseError("the JSON feed has no items")
    page_outlet = outlet or _author_name(data)
    zone = outlet_zone(page_outlet) or zone_by_iana(tz)
    posts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        body = item.get("content_html") or item.get("content_text") or item.get("summary")
        body, embeds = split_embeds(body) if isinstance(body, str) else (None, [])
        image = item.get("image") or item.get("banner_image")
        posts.append(ParsedPost(
            text=fragment_text(body),
            headline=item.get("title") if isinstance(item.get("title"), str) else None,
            time=parse_iso(str(item.get("date_published") or ""), zone),
            updated=parse_iso(str(item.get("date_modified") or ""), zone),
            author=_author_name(item),
            media=([Media(kind="image", url=image)] if isinstance(image, str) else []) + embeds,
            anchor=str(item["id"]) if isinstance(item.get("id"), (str, int)) else None,
        ))
    if not posts:
        raise ParseError("the JSON feed has no readable items")
    title = data.get("title") if isinstance(data.get("title"), str) else None
    return ParsedPage(
        posts=posts,
        title=title,
        outlet=page_outlet,
        standfirst=data.get("description") if isinstance(data.get("description"), str) else None,
        order=order_of([p.time for p in posts]),
    )


def _author_name(node: dict[str, Any]) -> str | None:
    authors = node.get("authors") or ([node["author"]] if isinstance(node.get("author"), dict) else [])
    if not isinstance(authors, list):
        return None
    names = [str(a["name"]) for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)]
    return ", ".join(names) or None
