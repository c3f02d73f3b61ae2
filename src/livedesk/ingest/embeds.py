"""Embedded posts and players (a tweet, an Instagram post, a YouTube video) -> Media.

A live post is sometimes nothing but an embed; kept as media, it does not come out empty.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

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


# ---- players: what a card shows in the page once the reader clicks ------------------------

_YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_YOUTUBE_PATH = re.compile(r"^/(?:shorts|embed|live|v)/([A-Za-z0-9_-]{11})/?$")
_FACEBOOK_PATH = re.compile(r"^/[A-Za-z0-9.]{1,80}/(posts|videos)/[A-Za-z0-9]{1,40}/?$")
# provider: (its links' path, with the ids its player needs; the player's address; "video" or "post")
_PLAYERS = {
    "Vimeo": (re.compile(r"^/(?:video/)?(\d{1,12})/?$"), "https://player.vimeo.com/video/{0}?autoplay=1&dnt=1", "video"),
    "Dailymotion": (re.compile(r"^/video/(x[a-z0-9]{2,12})(?:_[^/]*)?/?$"),
                    "https://www.dailymotion.com/embed/video/{0}?autoplay=1", "video"),
    "TikTok": (re.compile(r"^/@[A-Za-z0-9_.]{1,30}/video/(\d{1,20})/?$"), "https://www.tiktok.com/embed/v2/{0}", "post"),
    "X": (re.compile(r"^/[A-Za-z0-9_]{1,15}/status/(\d{1,20})/?$"),
          "https://platform.twitter.com/embed/Tweet.html?id={0}&dnt=true", "post"),
    "Instagram": (re.compile(r"^/(?:[A-Za-z0-9_.]{1,30}/)?(p|reel)/([A-Za-z0-9_-]{5,40})/?$"),
                  "https://www.instagram.com/{0}/{1}/embed/", "post"),
    # Bluesky's embed names the author's DID: a link with a handle only leads out
    "Bluesky": (re.compile(r"^/profile/(did:plc:[a-z2-7]{24})/post/([a-z2-7]{10,16})/?$"),
                "https://embed.bsky.app/embed/{0}/app.bsky.feed.post/{1}", "post"),
}


def player_frame(url: str) -> tuple[str, str, str] | None:
    """(the provider, its player's address, "video" or "post") for a link to a video or post that
    plays in a frame of the provider's own, or None where the link only leads out (Mastodon's
    servers are anyone's). Only the providers' fixed player hosts are named here, with ids taken
    out of the link, never the link itself: a player shows that provider's post or video and
    nothing else. YouTube's is its no-cookie host."""
    found = card_provider(url)
    if found is None and _platform(url) == ("video", "Dailymotion"):
        found = ("video", "Dailymotion")
    if found is None:
        return None
    name, parts = found[1], urlsplit(url)
    if name == "YouTube":
        match = _YOUTUBE_PATH.match(parts.path)
        video = match.group(1) if match else parts.path.strip("/") if _host(url) == "youtu.be" else (
            parse_qs(parts.query).get("v") or [""])[0]
        return (name, f"https://www.youtube-nocookie.com/embed/{video}?autoplay=1", "video") if _YOUTUBE_ID.match(video) else None
    if name == "Facebook":
        match = _FACEBOOK_PATH.match(parts.path)
        plugin = "video" if match and match.group(1) == "videos" else "post"
        canonical = quote(f"https://www.facebook.com{parts.path}", safe="")
        return (name, f"https://www.facebook.com/plugins/{plugin}.php?href={canonical}", plugin) if match else None
    if name in _PLAYERS:
        pattern, address, shape = _PLAYERS[name]
        match = pattern.match(parts.path)
        return (name, address.format(*match.groups()), shape) if match else None
    return None
