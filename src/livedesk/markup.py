"""Markdown in, sanitised HTML out; plain text for search and alignment."""

from __future__ import annotations

import html
import re

import ada_url
import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "cite", "code", "del", "em", "figcaption", "figure",
    "h2", "h3", "h4", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small", "strong", "sub",
    "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "td": {"colspan"}, "th": {"colspan"}}
URL_SCHEMES = {"http", "https", "mailto"}

_SITE = "https://site.invalid"  # stands for this site when a site path is resolved
_ABSOLUTE = re.compile(r"https?://", re.IGNORECASE)

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# Control characters: no place in a post, and XML (feeds) cannot carry them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_html(raw: str) -> str:
    """Keep only harmless markup: an allowlist, safe URL schemes, rel=noopener on links.

    Cleaned again until nothing changes: a dropped tag may have held markup that parses anew
    without it (`<a><object><a>` leaves one link inside another, which a parser splits)."""
    text = strip_controls(raw)
    for _ in range(5):
        cleaned = nh3.clean(
            text,
            tags=ALLOWED_TAGS,
            attributes={**ALLOWED_ATTRIBUTES, "*": set()},  # "*": none on every tag (nh3 keeps lang and title)
            url_schemes=URL_SCHEMES,
            link_rel="noopener noreferrer nofollow",
            strip_comments=True,
        )
        if cleaned == text:
            break
        text = cleaned
    return cleaned


def render_markdown(text: str) -> str:
    return clean_html(_md.render(text))


def clean_text(text: str | None) -> str | None:
    """A one-line plain-text field (headline, caption, credit): tags are dropped.

    The result is plain text, escaped wherever it is rendered.
    """
    if text is None:
        return None
    return _SPACE.sub(" ", strip_controls(html.unescape(nh3.clean(text, tags=set())))).strip()


def strip_markup(text: str) -> str:
    """Plain text with no tag left in it, also none written as escaped text (`&lt;script&gt;`),
    for places that other programs may read as HTML: feed titles."""
    for _ in range(10):
        stripped = html.unescape(nh3.clean(text, tags=set()))
        if stripped == text:
            break
        text = stripped
    return _SPACE.sub(" ", text).strip()


def html_to_text(markup: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def clean_url(url: str) -> str:
    """An absolute http(s) URL, in any case, or a path on this site (`/static/p.jpg`), parsed
    as a browser would (WHATWG) and normalised. Anything that leaves the site in a browser's
    reading while looking like a path (`//evil.example`, `/\\evil.example`) raises ValueError.
    """
    url = url.strip()
    try:
        if url.startswith("/"):
            path = ada_url.URL(url, _SITE)
            if path.origin == _SITE:
                return str(path.pathname + path.search + path.hash)
        else:
            absolute = ada_url.URL(url)
            if absolute.protocol in ("http:", "https:") and absolute.host and _ABSOLUTE.match(url):
                return str(absolute.href)
    except ValueError:
        pass
    raise ValueError(f"not an http(s) URL or a path on this site: {url[:200]}")
