"""Embedded posts and players (a tweet, an Instagram post, a YouTube video) -> Media.

A live post is sometimes nothing but an embed; kept as media, it does not come out empty.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

import lxml.etree
import lxml.html

from livedesk.model import Media

# Hosts whose embeds are videos; other embedded posts (tweets, Instagram, ...) are kind "embed".
_VIDEO_HOSTS = {
    "youtube.com": "YouTube", "youtube-nocookie.com": "YouTube", "youtu.be": "YouTube",
    "vimeo.com": "Vimeo", "dailymotion.com": "Dailymotion", "tiktok.com": "TikTok",
}
_POST_HOSTS = {
    "twitter.com": "X", "x.com": "X", "instagram.com": "Instagram", "facebook.com": "Facebook",
    "threads.net": "Threads", "bsky.app": "Bluesky", "t.me": "Telegram", "reddit.com": "Reddit",
}
# Class names publishers' embed codes use on their blockquote or div.
EMBED_CLASSES = ("twitter-tweet", "instagram-media", "tiktok-embed", "fb-post", "fb-video", "bluesky-embed", "reddit-embed")
EMBEDS = lxml.etree.XPath("|".join(
    [".//iframe[@src]"] + [f'.//*[contains(concat(" ", normalize-space(@class), " "), " {name} ")]' for name in EMBED_CLASSES]
))


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _platform(url: str) -> tuple[str, str] | None:
    """("video" or "embed", the platform's name) for a URL on a known host, else None."""
    if urlsplit(url).scheme not in ("http", "https"):
        return None
    host = _host(url)
    for table, kind in ((_VIDEO_HOSTS, "video"), (_POST_HOSTS, "embed")):
        for domain, name in table.items():
            if host == domain or host.endswith("." + domain):
                return kind, name
    return None


def _permalink(element: lxml.html.HtmlElement) -> str | None:
    """The embedded post's own address: a data attribute, else its last link to the platform."""
    for attribute in ("src", "data-instgrm-permalink", "data-href", "cite", "data-url"):
        value = (element.get(attribute) or "").strip()
        if value.startswith(("http://", "https://", "//")):
            return "https:" + value if value.startswith("//") else value
    links = [str(href) for href in element.xpath(".//a/@href") if _platform(str(href))]
    return links[-1] if links else None


def embed_media(element: lxml.html.HtmlElement) -> Media | None:
    """The Media an embed element stands for, or None when it points nowhere known."""
    url = _permalink(element)
    platform = _platform(url) if url else None
    if url is None or platform is None:
        return None
    kind, name = platform
    title = (element.get("title") or "").strip() or None
    if kind == "video":
        return Media(kind="video", url=url, title=title, source=name)
    words = " ".join(" ".join(p.text_content().split()) for p in element.iter("p")) or None
    return Media(kind="embed", url=url, caption=words, source=name)


def take_embeds(root: lxml.html.HtmlElement) -> list[Media]:
    """The embeds under `root` as media, in order, removed from the tree."""
    media = []
    for element in EMBEDS(root):
        found = embed_media(element)
        if found is not None and element.getparent() is not None:
            media.append(found)
            element.drop_tree()
    return media


def split_embeds(fragment: str) -> tuple[str, list[Media]]:
    """An HTML fragment (a JSON-LD articleBody) without its embeds, and the embeds as media."""
    if "<" not in fragment or not any(mark in fragment for mark in ("<iframe", "<blockquote", "<div")):
        return fragment, []
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (ValueError, lxml.etree.LxmlError):
        return fragment, []
    media = take_embeds(root)
    if not media:
        return fragment, []
    rest = (root.text or "") + "".join(lxml.html.tostring(child, encoding="unicode") for child in root)
    return rest, media


# ---- cards: a post of another site, pasted by URL into the desk ----------------------------

# Providers whose oEmbed endpoint answers without an app token. Instagram's and Facebook's need
# one, so their cards come from the URL alone.
_OEMBED = {
    "YouTube": "https://www.youtube.com/oembed?format=json&url=",
    "Vimeo": "https://vimeo.com/api/oembed.json?url=",
    "X": "https://publish.twitter.com/oembed?omit_script=1&dnt=1&url=",
    "TikTok": "https://www.tiktok.com/oembed?url=",
    "Bluesky": "https://embed.bsky.app/oembed?format=json&url=",
}
# A Mastodon status lives on any server: /@user/12345 (or /@user@server/12345 seen elsewhere).
_MASTODON_PATH = re.compile(r"^/@([A-Za-z0-9_.]{1,64}(?:@[A-Za-z0-9.-]{1,200})?)/(\d{1,20})/?$")
# Where a provider's URL names the author.
_AUTHOR_PATHS = {
    "X": re.compile(r"^/([A-Za-z0-9_]{1,15})/status/\d+"),
    "Instagram": re.compile(r"^/([A-Za-z0-9_.]{1,30})/(?:p|reel)/"),
    "TikTok": re.compile(r"^/@([A-Za-z0-9_.]{1,30})/video/\d+"),
    "Bluesky": re.compile(r"^/profile/([A-Za-z0-9.:-]{1,253})/post/[a-z0-9]+"),
}
CARD_PROVIDERS = ("YouTube", "Vimeo", "X", "Instagram", "TikTok", "Bluesky", "Mastodon", "Facebook")


def card_provider(url: str) -> tuple[str, str] | None:
    """("video" or "embed", provider) for a link the desk makes a card of, else None."""
    found = _platform(url)
    if found is not None and found[1] in CARD_PROVIDERS:
        return found
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.hostname and _MASTODON_PATH.match(parts.path):
        return "embed", "Mastodon"
    return None


def card_from_url(url: str) -> dict[str, Any] | None:
    """A card from the link alone: kind, URL, provider, and the author where the URL names one."""
    found = card_provider(url)
    if found is None:
        return None
    kind, name = found
    card: dict[str, Any] = {"kind": kind, "url": url, "source": name}
    path = urlsplit(url).path
    pattern = _MASTODON_PATH if name == "Mastodon" else _AUTHOR_PATHS.get(name)
    author = pattern.match(path) if pattern else None
    if author:
        card["author"] = "@" + author.group(1)
    return card


def oembed_url(card: dict[str, Any]) -> str | None:
    """The provider's oEmbed endpoint for a card's link, if it has one that needs no token."""
    if card["source"] == "Mastodon":
        parts = urlsplit(card["url"])
        return f"{parts.scheme}://{parts.netloc}/api/oembed?url={quote(card['url'], safe='')}"
    endpoint = _OEMBED.get(card["source"])
    return endpoint + quote(card["url"], safe="") if endpoint else None


def _plain(value: Any, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    text = value
    if "<" in value:
        try:
            text = lxml.html.fragment_fromstring(value, create_parent="div").text_content()
        except (ValueError, lxml.etree.LxmlError):
            return None
    text = " ".join(text.split())
    return text[:limit] or None


def card_with_oembed(card: dict[str, Any], answer: Any) -> dict[str, Any]:
    """The card filled from an oEmbed answer: author, title, the post's text, its thumbnail's URL.
    Only plain text is kept; the provider's HTML and scripts never are."""
    if not isinstance(answer, dict):
        return card
    filled = dict(card)
    for key, field, limit in (("author", "author_name", 300), ("title", "title", 500), ("caption", "html", 2000)):
        value = _plain(answer.get(field), limit)
        if value:
            filled[key] = value
    thumbnail = answer.get("thumbnail_url")
    if isinstance(thumbnail, str) and thumbnail.startswith(("https://", "http://")) and len(thumbnail) < 2000:
        filled["thumbnail_source"] = thumbnail
    return filled
