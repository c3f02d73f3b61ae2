"""Live-blog HTML without JSON-LD -> a ParsedPage.

trafilatura takes the main content; its blocks (paragraphs, headings, list items) become the
blank-line separated blocks that text.py splits into posts. trafilatura drops some headings
of short posts, so the page's own block structure is read too, and the reading with more
posts (then more headlines) wins. `<time>` elements are turned into
paragraphs first, because trafilatura drops them and they are exactly where posts begin.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime

import lxml.etree
import lxml.html
import trafilatura

from livedesk.ingest import ParseError
from livedesk.ingest.outlet import split_title
from livedesk.ingest.text import read_text
from livedesk.ingest.times import parse_iso
from livedesk.model import ParsedPage, ParsedPost

_XML_BLOCKS = {"doc", "main", "div", "p", "head", "item", "list", "quote", "row", "cell", "table", "code"}
_HTML_BLOCKS = {
    "html", "body", "main", "article", "section", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6",
    "li", "ul", "ol", "blockquote", "figure", "figcaption", "header", "time", "table", "tr", "td",
}
_HTML_SKIP = {"script", "style", "noscript", "nav", "footer", "aside", "form", "button", "svg", "template"}


def _meta(tree, *names: str) -> str | None:
    for name in names:
        for node in tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content'):
            if node.strip():
                return node.strip()
    return None


_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADING_TAGS = {"head", "h1", "h2", "h3", "h4", "h5", "h6"}


def _blocks(root, block_tags: set[str], skip: set[str]) -> tuple[str, set[str]]:
    """Text of an element tree, one blank line between block elements, and the texts of its
    headings. `<br>`/`<lb>` break lines."""
    blocks: list[str] = []
    headings: set[str] = set()
    current: list[str] = []

    def flush() -> None:
        text = "".join(current).strip()
        if text:
            blocks.append(text)
        current.clear()

    stack = [(root, False)]
    while stack:  # iterative walk: deep trees cannot exhaust the recursion limit
        element, closing = stack.pop()
        tag = element.tag if isinstance(element.tag, str) else ""
        if closing:
            if tag in _HEADING_TAGS:
                headings.add(" ".join("".join(current).split()))
            if tag in block_tags:
                flush()
            if element.tail:
                current.append(element.tail)
            continue
        if tag in skip or not tag:
            if element.tail:
                current.append(element.tail)
            continue
        if tag in block_tags:
            flush()
        if tag in ("br", "lb"):
            current.append("\n")
        if tag == "item":
            current.append("• ")
        if element.text:
            current.append(element.text)
        stack.append((element, True))
        stack.extend((child, False) for child in list(element)[::-1])  # lxml indexes children in O(n)
    flush()
    return "\n\n".join(blocks), headings


def _drop_site_headers(tree) -> None:
    """A `<header>` without a heading is the site's bar (sign in, menu), not the article's."""
    for header in list(tree.iter("header")):
        if not header.xpath(".//h1|.//h2") and header.getparent() is not None:
            header.drop_tree()


MAX_TRAFILATURA_ELEMENTS = 100_000  # a 10,000-post live page has about 60,000


def _times_as_paragraphs(tree) -> None:
    """`<time>` -> a paragraph with a stamp text.py reads. A machine-readable `datetime` with a
    clock time wins over the visible text (`4.20pm`, `2 hours ago`): it has the date and zone."""
    for node in tree.iter("time"):
        text = _stamp_text(node.get("datetime", "")) or node.text_content().strip()
        for child in list(node):
            node.remove(child)
        node.tag, node.text = "p", text
        for attribute in list(node.attrib):
            del node.attrib[attribute]


def _stamp_text(value: str) -> str | None:
    """`2026-06-06T16:20:00+01:00` -> `16:20:00 06.06.2026 UTC+01:00`."""
    if "T" not in value and " " not in value.strip():
        return None  # a date alone says nothing about the clock
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if not 1900 < moment.year < 2200:
        return None
    stamp = moment.strftime("%H:%M:%S %d.%m.%Y")
    offset = moment.strftime("%z")  # "+0100", or "" for a zone-less value
    return f"{stamp} UTC{offset[:3]}:{offset[3:]}" if offset else stamp


def read_html(
    page: str, *, outlet: str | None = None, tz: str | None = None, date: date | None = None
) -> ParsedPage:
    page = _NOT_XML_RE.sub("", page)  # lxml refuses control characters and lone surrogates
    try:
        tree = lxml.html.document_fromstring(page)
    except (lxml.etree.ParserError, ValueError) as error:
        raise ParseError(f"unreadable HTML: {error}") from None
    h1 = tree.find(".//h1")
    title = _meta(tree, "og:title") or (h1.text_content().strip() if h1 is not None else None)
    title = title or (tree.findtext(".//title") or "").strip() or None
    site = _meta(tree, "og:site_name") or split_title(tree.findtext(".//title") or "")[1]
    published = parse_iso(_meta(tree, "article:published_time") or "", None)
    _times_as_paragraphs(tree)
    _drop_site_headers(tree)
    options = dict(outlet=outlet, tz=tz, date=date, title_hint=title, outlet_hint=site, published_hint=published)
    body = tree.find("body")
    # trafilatura slows down faster than linearly on huge trees: past a limit, the page's own blocks only
    huge = sum(1 for _ in tree.iter()) > MAX_TRAFILATURA_ELEMENTS
    sources = [None if huge else _main_text(tree), _blocks(body if body is not None else tree, _HTML_BLOCKS, _HTML_SKIP)]
    readings = []
    for source in sources:
        if source is None or not source[0].strip():
            continue
        try:
            readings.append(read_text(source[0], headings=source[1], **options))
        except ParseError:
            continue
    if not readings:
        raise ParseError("no posts found in the HTML page")
    # trafilatura's reading unless the page's own blocks show more posts or headlines
    best = max(readings, key=lambda page: (len(page.posts), sum(p.headline is not None for p in page.posts)))
    _give_anchors(best.posts, tree)
    return best


def _give_anchors(posts: list[ParsedPost], tree) -> None:
    """A post's anchor is the `id` of the element around its headline or first paragraph,
    when that element holds this post alone: re-polling then knows the post by its own id."""
    owners: dict[str, str] = {}
    for element in tree.iter("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote"):
        owner = next((a.get("id") for a in element.iterancestors() if a.get("id")), None)
        if owner:
            owners.setdefault(" ".join(element.text_content().split()), owner)
    found = [owners.get(p.headline or "") or owners.get(p.text.split("\n", 1)[0]) for p in posts]
    shared = {anchor for anchor, count in Counter(found).items() if count > 1}
    for post, anchor in zip(posts, found):
        if anchor and anchor not in shared and post.anchor is None:
            post.anchor = anchor


def _main_text(tree) -> tuple[str, set[str]] | None:
    """trafilatura's main content as blocks of text, or None when it finds none."""
    markup = lxml.html.tostring(tree, encoding="unicode")
    try:
        extracted = trafilatura.extract(
            markup, output_format="xml", favor_recall=True, include_comments=False,
            include_tables=False, include_images=True, deduplicate=False, with_metadata=False,
        )
    except lxml.etree.LxmlError:  # trafilatura can write XML it cannot read back; the blocks still can
        return None
    if not extracted:
        return None
    try:
        root = lxml.etree.fromstring(extracted.encode(), lxml.etree.XMLParser(huge_tree=True, recover=True))
    except lxml.etree.XMLSyntaxError:
        return None
    return _blocks(root, _XML_BLOCKS, {"comments", "graphic"}) if root is not None else None
