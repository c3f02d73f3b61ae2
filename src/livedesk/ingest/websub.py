"""WebSub discovery and signatures (W3C WebSub): where a fetched feed says it is pushed from, and
whether a push is signed with the secret we gave. Pure: no network, no database."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from dataclasses import dataclass
from urllib.parse import urljoin

import feedparser
from lxml import etree
from lxml import html as lxml_html

SIGNATURE_HEADER = "X-Hub-Signature"
_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}


@dataclass(frozen=True)
class HubLink:
    hub: str
    topic: str  # the feed's self URL: what to subscribe to


def discover(content: bytes, content_type: str | None, links: dict[str, str], url: str) -> HubLink | None:
    """The hub and topic a fetched document declares: the HTTP Link header first (as the
    recommendation says), else the feed's own links (Atom/RSS link rel=hub, JSON Feed `hubs`, an
    HTML page's link rel=hub). The topic is rel=self, else the URL fetched."""
    hub, topic = links.get("hub"), links.get("self")
    if not hub:
        hub, own_topic = _from_body(content, content_type or "")
        topic = topic or own_topic
    if not hub or not hub.lower().startswith(("http://", "https://")):
        return None
    return HubLink(urljoin(url, hub), urljoin(url, topic or url))


def _from_body(content: bytes, content_type: str) -> tuple[str | None, str | None]:
    head = content[:2048].lstrip()
    if "json" in content_type or head.startswith(b"{"):
        return _from_json_feed(content)
    if "html" in content_type and b"<rss" not in head and b"<feed" not in head:
        return _from_html(content)
    feed = feedparser.parse(io.BytesIO(content))
    found = {link.get("rel"): link.get("href") for link in feed.feed.get("links", []) if link.get("href")}
    return found.get("hub"), found.get("self")


def _from_json_feed(content: bytes) -> tuple[str | None, str | None]:
    try:
        data = json.loads(content)
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    hubs = [h for h in data.get("hubs") or [] if isinstance(h, dict) and str(h.get("type", "")).lower() == "websub"]
    hub = hubs[0].get("url") if hubs else None
    own = data.get("feed_url")
    return (hub if isinstance(hub, str) else None), (own if isinstance(own, str) else None)


def _from_html(content: bytes) -> tuple[str | None, str | None]:
    try:
        tree = lxml_html.fromstring(content)
    except (ValueError, etree.ParserError):
        return None, None
    found: dict[str, str] = {}
    for link in tree.iter("link"):
        for rel in (link.get("rel") or "").lower().split():
            if link.get("href"):
                found.setdefault(rel, link.get("href") or "")
    return found.get("hub"), found.get("self")


def sign(secret: str, body: bytes) -> str:
    """The X-Hub-Signature value for `body`: sha256=HEX."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` (method=HEX) is `body`'s HMAC with `secret` by a method WebSub names."""
    method, _, given = (header or "").partition("=")
    algorithm = _ALGORITHMS.get(method.strip().lower())
    if algorithm is None or not given:
        return False
    return hmac.compare_digest(hmac.new(secret.encode(), body, algorithm).hexdigest(), given.strip().lower())
