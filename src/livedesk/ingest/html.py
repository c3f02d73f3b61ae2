"""Live-blog HTML without JSON-LD -> a ParsedPage.

Microdata (`itemprop="liveBlogUpdate"`) is read first: each update's own scope holds its exact
time, headline and body. Otherwise trafilatura takes the main content; its blocks (paragraphs,
headings, list items) become the blank-line separated blocks that text.py splits into posts.
trafilatura drops some headings of short posts, so the page's own block structure is read
too, and the reading with more posts (then more headlines) wins. Before that, the markup is
made to say what it means in text: `<time>` elements (also in an entry's `<aside>`) become
paragraphs, because trafilatura drops them and they are exactly where posts begin; a heading
`12.31 Uhr: Headline` becomes a stamp and a heading; embedded posts and players become
placeholders that turn back into media on their post.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime
from datetime import date as Date

import dateparser
import htmldate
import lxml.etree
import lxml.html
import trafilatura
from lxml.html import HtmlElement

from livedesk.ingest import ParseError
from livedesk.ingest.embeds import EMBED_CLASSES, EMBEDS, embed_media, take_embeds
from livedesk.ingest.jsonld import iso_zone
from livedesk.ingest.lines import is_furniture
from livedesk.ingest.outlet import split_title
from livedesk.ingest.text import read_text
from livedesk.ingest.times import (
    RELATIVE_RE,
    STATEMENT_REACH,
    find_zone_declaration,
    order_of,
    parse_iso,
    parse_stamp_line,
)
from livedesk.model import Media, ParsedPage, ParsedPost

_XML_BLOCKS = {"doc", "main", "div", "p", "head", "item", "list", "quote", "row", "cell", "table", "code"}
_HTML_BLOCKS = {
    "html", "body", "main", "article", "section", "div", "p", "h1", "h2", "h3", "h4", "h5", "h6",
    "li", "ul", "ol", "blockquote", "figure", "figcaption", "header", "time", "table", "tr", "td",
}
_HTML_SKIP = {"script", "style", "noscript", "nav", "footer", "aside", "form", "button", "svg", "template"}


def _meta(tree: HtmlElement, *names: str) -> str | None:
    for name in names:
        for node in tree.xpath(f'//meta[@property="{name}" or @name="{name}"]/@content'):
            if node.strip():
                return str(node).strip()
    return None


def _page_day(tree: HtmlElement) -> date | None:
    """The day the page was last updated, as its head's meta tags and JSON-LD say. (Its body's
    `<time>` elements date their own posts.)"""
    head = tree.find("head")
    if head is None:
        return None
    markup = f"<html>{lxml.html.tostring(head, encoding='unicode')}<body></body></html>"
    found = htmldate.find_date(markup, extensive_search=False, original_date=False)
    return Date.fromisoformat(found) if found else None


_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_HEADING_TAGS = {"head", "h1", "h2", "h3", "h4", "h5", "h6"}


def _blocks(root: lxml.etree._Element, block_tags: set[str], skip: set[str]) -> tuple[str, set[str]]:
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


def _drop_site_headers(tree: HtmlElement) -> None:
    """A `<header>` without a heading is the site's bar (sign in, menu), not the article's."""
    for header in list(tree.iter("header")):
        if not header.xpath(".//h1|.//h2") and header.getparent() is not None:
            header.drop_tree()


MAX_TRAFILATURA_ELEMENTS = 100_000  # a 10,000-post live page has about 60,000


def _times_as_paragraphs(tree: HtmlElement) -> None:
    """`<time>` -> a paragraph with a stamp text.py reads. A machine-readable `datetime` with a
    clock time wins over the visible text (`4.20pm`, `2 hours ago`): it has the date and zone.
    A short `<aside>` holding a `<time>` is an entry's meta line, not the site's sidebar."""
    for aside in list(tree.iter("aside")):
        times = aside.findall(".//time")
        parent = aside.getparent()
        if times and parent is not None and len(aside.text_content()) < 120:
            meta = lxml.html.Element("div")
            meta.extend(times)  # without the meta line's share links and buttons
            meta.tail = aside.tail
            parent.replace(aside, meta)
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


_RELATIVE_SETTINGS = {"TIMEZONE": "UTC", "RETURN_AS_TIMEZONE_AWARE": False, "PREFER_DATES_FROM": "past"}


def _relative_as_stamps(tree: HtmlElement, now: datetime, language: str | None) -> None:
    """An element that says only `3 min ago` -> a stamp paragraph, counted back from `now`
    (when the page was read), so that it starts its post instead of passing for a headline."""
    for element in tree.iter("span", "div", "p", "time", "small", "li", "em", "strong"):
        if len(element) or not element.text or (element.tag == "time" and _stamp_text(element.get("datetime", ""))):
            continue
        text = " ".join(element.text.split())
        if len(text) > 40 or not RELATIVE_RE.match(text):
            continue
        base = {**_RELATIVE_SETTINGS, "RELATIVE_BASE": now.astimezone(UTC).replace(tzinfo=None)}
        moment = dateparser.parse(text, settings=base, languages=[language] if language else None)
        if moment is not None:
            element.tag, element.text = "p", _stamp_text(moment.replace(second=0, microsecond=0).isoformat() + "+00:00")


_STAMP_SEPARATOR_RE = re.compile(r"\s*(?::|\s[-–—|])\s+")


def _split_stamped_headings(tree: HtmlElement) -> None:
    """`<h2>12.31 Uhr: Bahnstrecke gesperrt</h2>` -> a stamp paragraph and the heading's rest."""
    for heading in tree.iter("h2", "h3", "h4", "h5", "h6"):
        text = " ".join(heading.text_content().split())
        for separator in _STAMP_SEPARATOR_RE.finditer(text[:40]):
            if parse_stamp_line(text[: separator.start()]) is None:
                continue
            stamp = lxml.html.Element("p")
            stamp.text = text[: separator.start()]
            heading.addprevious(stamp)
            for child in list(heading):
                heading.remove(child)
            heading.text = text[separator.end():]
            break


_EMBED_HINT_RE = re.compile(r"<iframe\b|" + "|".join(EMBED_CLASSES), re.I)
_EMBED_MARK = "\ue000"  # a private-use character: no page writes it


def _embeds_as_marks(tree: HtmlElement) -> list[Media]:
    """Each embed -> a paragraph `\ue000N\ue000`; N indexes the returned media."""
    found: list[Media] = []
    for element in EMBEDS(tree):
        media = embed_media(element)
        if media is None or element.getparent() is None:
            continue
        mark = lxml.html.Element("p")
        mark.text = f"{_EMBED_MARK}{len(found)}{_EMBED_MARK}"
        mark.tail = element.tail
        element.getparent().replace(element, mark)
        found.append(media)
    return found


_MARK_RE = re.compile(f"{_EMBED_MARK}([0-9]+){_EMBED_MARK}")


def _marks_to_media(page: ParsedPage, embeds: list[Media]) -> None:
    for post in page.posts:
        marks = [int(n) for n in _MARK_RE.findall(post.text)]
        if marks:
            post.media.extend(embeds[n] for n in marks if n < len(embeds))
            post.text = _strip_marks(post.text)
    if page.standfirst:
        page.standfirst = _strip_marks(page.standfirst) or None


def _strip_marks(text: str) -> str:
    paragraphs = (_MARK_RE.sub("", p).strip() for p in text.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def page_language(lang: str | None) -> str | None:
    """`de-DE` -> "de"."""
    code = (lang or "").strip().lower()[:2]
    return code if code.isalpha() and len(code) == 2 else None


def times_in_doubt(page: ParsedPage) -> bool:
    """Fewer distinct times than half the posts: markup that gives every update one time."""
    return len(page.posts) >= 2 and len({p.time for p in page.posts if p.time}) * 2 < len(page.posts)


def distinct_times(page: ParsedPage) -> int:
    return len({p.time for p in page.posts if p.time})


def read_html(
    page: str, *, outlet: str | None = None, tz: str | None = None, date: date | None = None, now: datetime | None = None,
    url: str | None = None,
) -> ParsedPage:
    """`now` is when the page was read: `3 min ago` counts back from it; `url` is where the page
    was published (its domain may tell the outlet's country)."""
    page = _NOT_XML_RE.sub("", page)  # lxml refuses control characters and lone surrogates
    try:
        tree = lxml.html.document_fromstring(page)
    except (lxml.etree.ParserError, ValueError) as error:
        raise ParseError(f"unreadable HTML: {error}") from None
    h1 = tree.find(".//h1")
    title = _meta(tree, "og:title") or (h1.text_content().strip() if isinstance(h1, HtmlElement) else None)
    title = title or (tree.findtext(".//title") or "").strip() or None
    site = _meta(tree, "og:site_name") or split_title(tree.findtext(".//title") or "")[1]
    published = parse_iso(_meta(tree, "article:published_time") or "", None)
    micro = _read_microdata(tree, outlet=outlet, outlet_hint=site, tz=tz, title_hint=title, url=url)
    if micro is not None and not times_in_doubt(micro):
        return micro
    # the page's own date beats the one the user gives for pages that say nothing
    page_day = _page_day(tree)
    date = page_day or date
    embeds = _embeds_as_marks(tree) if _EMBED_HINT_RE.search(page) else []
    _relative_as_stamps(tree, now or datetime.now(UTC), page_language(tree.get("lang")))
    _times_as_paragraphs(tree)
    _split_stamped_headings(tree)
    _drop_site_headers(tree)
    if isinstance(h1, HtmlElement) and title and " ".join(h1.text_content().split()) == title and h1.getparent() is not None:
        h1.drop_tree()  # the title is the page's, passed on as such: never a post's headline
    body = tree.find("body")
    # trafilatura slows down faster than linearly on huge trees: past a limit, the page's own blocks only
    huge = sum(1 for _ in tree.iter()) > MAX_TRAFILATURA_ELEMENTS
    sources = [None if huge else _main_text(tree), _blocks(body if body is not None else tree, _HTML_BLOCKS, _HTML_SKIP)]
    readings = []
    for source in sources:
        if source is None or not source[0].strip():
            continue
        try:
            readings.append(read_text(
                source[0], headings=source[1], outlet=outlet, tz=tz, date=date,
                title_hint=title, outlet_hint=site, published_hint=published, url=url,
            ))
        except ParseError:
            continue
    if not readings and micro is not None:
        return micro
    # trafilatura's reading unless the page's own blocks show more posts or headlines
    best = max(readings, key=lambda page: (
        len(page.posts), sum(p.headline is not None for p in page.posts), sum(bool(p.text) for p in page.posts)
    )) if readings else None
    timed = best is not None and sum(p.time is not None for p in best.posts) >= 2
    if best is None or (len(best.posts) <= 2 and not timed) or max(len(p.text) for p in best.posts) > LONG_POST:
        # stamps the text reader does not know: the page's repeated entry blocks still mark its posts
        entries = _entry_posts(body if body is not None else tree)
        if len(entries) >= 3 and (best is None or len(best.posts) * 2 < len(entries)):
            best = ParsedPage(posts=entries, title=title, outlet=outlet or site)
    if best is None:
        raise ParseError("no posts found in the HTML page")
    if micro is not None and distinct_times(micro) >= distinct_times(best):
        return micro
    if page_day is not None and best.date_source == "option":
        best.date_source = "page"
    _marks_to_media(best, embeds)
    _give_anchors(best.posts, tree)
    return best


def _paragraphs(root: HtmlElement) -> tuple[list[str], set[str]]:
    """The blocks of an element's text, furniture left out, and the texts of its headings."""
    text, headings = _blocks(root, _HTML_BLOCKS, _HTML_SKIP)
    paragraphs = (" ".join(p.split()) for p in text.split("\n\n"))
    return [p for p in paragraphs if p and not is_furniture(p)], headings


LONG_POST = 4000  # characters; longer, a "post" is more likely several entries run together
_INLINE_OR_PARAGRAPH = {"p", "span", "a", "em", "strong", "b", "i", "br", "img"}  # parts of an entry, never one


def _entry_posts(root: HtmlElement) -> list[ParsedPost]:
    """One untimed post per entry of the page's repeated block structure: the largest set of
    sibling elements with one tag and class that together hold most of the page's text."""
    best: list[HtmlElement] = []
    best_length = 0
    for parent in root.iter():
        children = [c for c in parent if isinstance(c.tag, str)]
        if len(children) < 3:
            continue
        (tag, kind), count = Counter((c.tag, c.get("class")) for c in children).most_common(1)[0]
        if count < 3 or tag in _INLINE_OR_PARAGRAPH:
            continue
        members = [c for c in children if (c.tag, c.get("class")) == (tag, kind)]
        length = sum(len(m.text_content()) for m in members)
        if length > best_length:
            best, best_length = members, length
    if best_length * 2 < len(root.text_content()):
        return []
    posts = []
    for entry in best:
        paragraphs, headings = _paragraphs(entry)
        headline = paragraphs.pop(0) if paragraphs and paragraphs[0] in headings else None
        if paragraphs or headline:
            posts.append(ParsedPost(text="\n\n".join(paragraphs), headline=headline, anchor=entry.get("id")))
    return posts


def _give_anchors(posts: list[ParsedPost], tree: HtmlElement) -> None:
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


def _main_text(tree: HtmlElement) -> tuple[str, set[str]] | None:
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


# --- microdata ---------------------------------------------------------------------------------

# Each item (an element with `itemscope`) and property name -> the elements carrying it, in order.
Props = dict[tuple[HtmlElement, str], list[HtmlElement]]
_ITEMPROPS = lxml.etree.XPath("//*[@itemprop]")
_HAS_UPDATES = lxml.etree.XPath('boolean(//*[contains(@itemprop, "liveBlogUpdate")])')


def _index_props(tree: HtmlElement) -> Props:
    """Every `itemprop` element under the item it belongs to: its nearest `itemscope` ancestor."""
    props: Props = {}
    for element in _ITEMPROPS(tree):
        owner = next((a for a in element.iterancestors() if a.get("itemscope") is not None), None)
        if owner is not None:
            for name in str(element.get("itemprop")).split():
                props.setdefault((owner, name), []).append(element)
    return props


def _value(element: HtmlElement) -> str:
    for attribute in ("content", "datetime"):
        if element.get(attribute):
            return str(element.get(attribute)).strip()
    if element.tag in ("a", "link"):
        return str(element.get("href") or "").strip()
    return " ".join(element.text_content().split())


def _prop(props: Props, scope: HtmlElement | None, name: str) -> str | None:
    for element in props.get((scope, name), []) if scope is not None else []:
        value = _value(element)
        if value:
            return value
    return None


def _person(props: Props, scope: HtmlElement | None, name: str) -> str | None:
    people = props.get((scope, name)) if scope is not None else None
    if not people:
        return None
    person = people[0]
    named = _prop(props, person, "name") if person.get("itemscope") is not None else None
    return named or _value(person) or None


def _body_of(props: Props, update: HtmlElement) -> tuple[str, list[Media]]:
    """An update's text, one blank line between its blocks, and its embeds and pictures."""
    bodies = props.get((update, "articleBody")) or props.get((update, "text"))
    root = bodies[0] if bodies else update
    media = take_embeds(root)
    for figure in root.xpath(".//figure[.//img[@src]]"):
        image = figure.xpath(".//img[@src]")[0]
        caption = " ".join("".join(figure.xpath(".//figcaption//text()")).split()) or None
        media.append(Media(kind="image", url=image.get("src"), alt=image.get("alt") or None, caption=caption))
        figure.drop_tree()
    if not bodies:  # the whole scope: leave out what is read as its own property
        for name in ("headline", "datePublished", "dateModified", "author"):
            for element in props.get((update, name), []):
                if element.getparent() is not None:
                    element.drop_tree()
    return "\n\n".join(_paragraphs(root)[0]), media


def _read_microdata(
    tree: HtmlElement, *, outlet: str | None, outlet_hint: str | None, tz: str | None, title_hint: str | None,
    url: str | None = None,
) -> ParsedPage | None:
    """The page's `itemprop="liveBlogUpdate"` items as posts, or None when it has none."""
    if not _HAS_UPDATES(tree):
        return None
    props = _index_props(tree)
    updates = [e for (_owner, name), found in props.items() if name == "liveBlogUpdate" for e in found]
    blogs = [owner for (owner, name) in props if name == "liveBlogUpdate"]
    blog = blogs[0] if blogs else None
    page_outlet = outlet or _person(props, blog, "publisher") or outlet_hint
    times = [_prop(props, update, "datePublished") for update in updates]
    stated = find_zone_declaration(tree.text_content()[:STATEMENT_REACH])
    zone, zone_source = iso_zone(times, page_outlet, tz, page_language(tree.get("lang")), stated, url)
    posts = []
    for update in updates:
        text, media = _body_of(props, update)
        post = ParsedPost(
            text=text,
            time=parse_iso(_prop(props, update, "datePublished") or "", zone),
            updated=parse_iso(_prop(props, update, "dateModified") or "", zone),
            headline=_prop(props, update, "headline"),
            author=_person(props, update, "author"),
            media=media,
            anchor=update.get("id") or update.get("itemid") or _prop(props, update, "url"),
        )
        if post.text or post.headline or post.media:
            posts.append(post)
    if not posts:
        return None
    start = _prop(props, blog, "coverageStartTime") or _prop(props, blog, "datePublished")
    return ParsedPage(
        posts=posts,
        title=_prop(props, blog, "headline") or title_hint,
        outlet=page_outlet,
        published=parse_iso(start or "", zone),
        standfirst=_prop(props, blog, "description"),
        order=order_of([p.time for p in posts]),
        zone_source=zone_source,
    )
