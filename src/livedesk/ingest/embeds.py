"""Embedded posts and players (a tweet, an Instagram post, a YouTube video) -> Media.

A live post is sometimes nothing but an embed; kept as media, it does not come out empty.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
