"""Pick the right reader for a page: JSON-LD in HTML, a feed, HTML, or plain page text."""

from __future__ import annotations

import json
import re
from datetime import date as Date
from datetime import tzinfo
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import lxml.etree

from livedesk.ingest import ParseError
from livedesk.ingest.decode import decode_bytes, ensure_text
from livedesk.ingest.feeds import read_feed, read_json_feed
from livedesk.ingest.html import distinct_times, page_language, read_html, times_in_doubt
from livedesk.ingest.jsonld import json_ld_blocks, parse_json_ld_document, read_json_ld
from livedesk.ingest.text import read_text
from livedesk.ingest.times import STATEMENT_REACH, find_zone_declaration, zone_by_iana
from livedesk.model import ParsedPage

_FEED_RE = re.compile(r"^(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.S | re.I)
_HTML_RE = re.compile(r"<(?:!doctype\s+html|html|head|body|article|main|div|p|h1|section)\b", re.I)
_LANG_RE = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z-]+)", re.I)
_META_RE = re.compile(r"<meta\s[^>]*(?:property|name)\s*=\s*[\"']og:(?:site_name|title)[\"'][^>]*>", re.I)


_SUFFIX_TYPES = {".rss": "application/rss+xml", ".atom": "application/atom+xml", ".html": "text/html", ".htm": "text/html"}


def sniff(text: str, content_type: str | None = None, url: str | None = None) -> str:
    """"json", "feed", "html" or "text", from the content first, then its type or URL."""
    head = text.lstrip("\ufeff \t\r\n")[:2048]
    if not content_type and url:
        content_type = _SUFFIX_TYPES.get(PurePosixPath(urlsplit(url).path).suffix.lower())
    kind = (content_type or "").split(";")[0].strip().lower()
    if head[:1] in "{[" and head:
        return "json"
    if _FEED_RE.match(head) or kind in ("application/rss+xml", "application/atom+xml"):
        return "feed"
    if kind in ("text/html", "application/xhtml+xml") or _HTML_RE.search(head):
        return "html"
    return "text"


def read_page(
    content: bytes | str,
    *,
    url: str | None = None,
    content_type: str | None = None,
    outlet: str | None = None,
    tz: str | None = None,
    date: Date | None = None,
) -> ParsedPage:
    """Read one outlet's live page into posts in page order, with aware UTC times.

    Raises ParseError for empty or binary input, an unknown `tz`, or a page without posts.
    """
    if tz is not None and zone_by_iana(tz) is None:
        raise ParseError(f"unknown time zone: {tz}")
    if isinstance(content, bytes):
        if not content.strip():
            raise ParseError("the page is empty")
        text, _charset = decode_bytes(content, content_type)
    else:
        text = content
    text = ensure_text(text)
    if not text.strip():
        raise ParseError("the page is empty")
    kind = sniff(text, content_type, url)
    try:
        if kind == "json":
            return _read_json(text, outlet=outlet, tz=tz, date=date)
        if kind == "feed":
            return read_feed(content if isinstance(content, bytes) else text.encode(), outlet=outlet, tz=tz, date=date)
        if kind == "html":
            return _read_html(text, outlet=outlet, tz=tz, date=date, url=url)
        return read_text(text, outlet=outlet, tz=tz, date=date, url=url)
    except (RecursionError, lxml.etree.LxmlError) as error:
        raise ParseError(f"unreadable {kind} page: {type(error).__name__}") from None


def _read_json(text: str, *, outlet: str | None, tz: str | None, date: Date | None) -> ParsedPage:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ParseError(f"not valid JSON: {error}") from None
    if isinstance(data, dict) and "jsonfeed" in str(data.get("version", "")):
        return read_json_feed(data, outlet=outlet, tz=tz, date=date)
    return parse_json_ld_document(text, outlet=outlet, tz=tz, date=date)


def _read_html(text: str, *, outlet: str | None, tz: str | None, date: Date | None, url: str | None) -> ParsedPage:
    blocks = json_ld_blocks(text)
    if blocks:
        hints = _og_hints(_META_RE.findall(text[:200_000]))
        lang = _LANG_RE.search(text[:20_000])
        page = read_json_ld(
            blocks, outlet=outlet, tz=tz, date=date, outlet_hint=hints.get("outlet_hint"), title_hint=hints.get("title_hint"),
            language=page_language(lang.group(1) if lang else None), stated_zone=_stated_zone(text), url=url,
        )
        if page is not None and times_in_doubt(page):
            # structured data wins only when the visible page does not plainly contradict it
            try:
                visible = read_html(text, outlet=outlet, tz=tz, date=date, url=url)
            except ParseError:
                return page
            return visible if distinct_times(visible) > distinct_times(page) else page
        if page is not None:
            return page
    return read_html(text, outlet=outlet, tz=tz, date=date, url=url)


_TAG_RE = re.compile(r"<script\b.*?</script>|<style\b.*?</style>|<[^>]*>", re.S | re.I)


def _stated_zone(html: str) -> tzinfo | None:
    """The zone a page's visible text states (`All times are BST`), read without its markup."""
    return find_zone_declaration(_TAG_RE.sub(" ", html[: STATEMENT_REACH * 10])[:STATEMENT_REACH])


def _og_hints(tags: list[str]) -> dict[str, str]:
    hints: dict[str, str] = {}
    for tag in tags:
        content = re.search(r"content\s*=\s*[\"']([^\"']*)[\"']", tag)
        if content and content.group(1).strip():
            hints.setdefault("outlet_hint" if "site_name" in tag else "title_hint", content.group(1).strip())
    return hints


def page_to_json(page: ParsedPage) -> dict[str, Any]:
    """The `livedesk parse --json` shape; times are ISO-8601 UTC strings or null."""
    return {
        "title": page.title,
        "outlet": page.outlet,
        "published": page.published.isoformat() if page.published else None,
        "standfirst": page.standfirst,
        "key_points": list(page.key_points),
        "declared_post_count": page.declared_post_count,
        "zone_source": page.zone_source,
        "date_source": page.date_source,
        "posts": [
            {
                "time": post.time.isoformat() if post.time else None,
                "headline": post.headline,
                "text": post.text,
                "author": post.author,
                "media": [m.to_dict() for m in post.media],
            }
            for post in page.posts
        ],
        "media": [m.to_dict() for m in page.media],
    }


def reading_warning(page: ParsedPage, *, pasted: bool) -> str | None:
    """One line for a followed source whose page left its zone or date to be assumed, with what
    fixes it. A polled page is read as it is published, so only a pasted one needs its date."""
    missing = []
    if page.zone_source == "assumed":
        missing.append("no time zone, so its times were read as UTC: add the source again with its timezone")
    if page.date_source == "assumed" and pasted:
        missing.append("no date, so its newest posts were dated today: paste it again with the line that gives its date")
    return f"The page says {'; and '.join(missing)}." if missing else None
