"""Syndication out: RSS 2.0, Atom and JSON Feed 1.1 per event and site-wide."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from feedgen.feed import FeedGenerator
from lxml import etree
from sqlalchemy import Engine

from livedesk.config import Settings
from livedesk.markup import html_to_text, strip_markup
from livedesk.newsroom import NotFound, websub_hub
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.deps import engine_of
from livedesk.web.jsonld import absolute, images, post_url
from livedesk.web.render import post_title, public_base
from livedesk.web.responses import etag_response, json_bytes

router = APIRouter()

FEED_SIZE = 50
ATOM = "http://www.w3.org/2005/Atom"


# ---- the feeds ----------------------------------------------------------------------

def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _feed_data(engine: Engine, settings: Settings, base: str, slug: str | None) -> tuple[dict, list[dict]]:
    """The channel (title, link, description, updated) and its latest posts."""

    def read(conn):
        if slug is None:
            rows, _ = post_store.latest_posts(conn, limit=FEED_SIZE)
            channel = {"title": f"{settings.site_name}: all news", "link": base + "/",
                       "description": f"The latest posts of every event on {settings.site_name}", "id": base + "/"}
        else:
            event = event_store.require_event(conn, slug)
            rows, _ = post_store.list_posts(conn, event.id, limit=FEED_SIZE)
            rows.sort(key=lambda r: (r.published_at, r.id), reverse=True)  # pinned posts are not first in a feed
            title = strip_markup(event.title) or slug
            channel = {"title": title, "link": f"{base}/e/{slug}", "id": f"{base}/e/{slug}",
                       "description": strip_markup(event.standfirst or "") or title}
            channel["updated"] = event.updated_at
        return channel, [r.to_json() for r in rows]

    channel, posts = run_read(engine, read)
    newest = max((_when(p["updated_at"]) for p in posts), default=None)
    channel["updated"] = max(filter(None, [channel.get("updated"), newest]), default=datetime.now(UTC))
    channel["base"] = base
    return channel, posts


def _generator(channel: dict, posts: list[dict], self_url: str, hub: str | None) -> FeedGenerator:
    gen = FeedGenerator()
    gen.id(channel["id"])
    gen.title(channel["title"])
    gen.subtitle(channel["description"])
    gen.link(href=channel["link"], rel="alternate")
    gen.link(href=self_url, rel="self")
    if hub:
        gen.link(href=hub, rel="hub")
    gen.language("en")
    gen.updated(channel["updated"])
    for post in reversed(posts):  # feedgen puts the last added entry first
        entry = gen.add_entry()
        link = post_url(channel["base"], post)
        entry.id(link)
        entry.guid(link, permalink=True)
        entry.title(post_title(post))
        entry.link(href=link)
        entry.published(_when(post["published_at"]))
        entry.updated(_when(post.get("corrected_at") or post["updated_at"]))
        entry.description(post.get("body_html") or post_title(post))
        entry.content(post.get("body_html") or "", type="html")
        for name in post.get("authors") or []:
            entry.author(name=name)
        for topic in post.get("topics") or []:
            entry.category(term=topic)
    return gen


def _rss_with_hub(document: bytes, hub: str | None) -> bytes:
    """feedgen's RSS names only its self link; the hub goes beside it as another atom:link."""
    if not hub:
        return document
    root = etree.fromstring(document)
    channel = root.find("channel")
    if channel is None:
        return document
    link = etree.Element(f"{{{ATOM}}}link", href=hub, rel="hub")
    channel.insert(3, link)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _json_feed(channel: dict, posts: list[dict], self_url: str, hub: str | None) -> dict:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    items = []
    for post in posts:
        item = {
            "id": post["id"],
            "url": post_url(channel["base"], post),
            "title": post_title(post),
            "content_html": post.get("body_html") or "",
            "content_text": html_to_text(post.get("body_html") or ""),
            "date_published": post["published_at"],
            "date_modified": post.get("corrected_at") or post["updated_at"],
            "tags": post.get("topics") or [],
        }
        if post.get("authors"):
            item["authors"] = [{"name": name} for name in post["authors"]]
        pictures = images(post)
        if pictures:
            item["image"] = absolute(channel["base"], pictures[0]["url"])
        items.append(item)
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": channel["title"],
        "home_page_url": channel["link"],
        "feed_url": self_url,
        "description": channel["description"],
        "language": "en",
        "items": items,
    }
    if hub:
        feed["hubs"] = [{"type": "WebSub", "url": hub}]
    return feed


KINDS = {"rss.xml": "application/rss+xml; charset=utf-8", "atom.xml": "application/atom+xml; charset=utf-8",
         "feed.json": "application/feed+json; charset=utf-8"}


def feed_document(engine: Engine, settings: Settings, base: str, slug: str | None, kind: str) -> tuple[bytes, str]:
    """One feed (`kind`: rss.xml, atom.xml or feed.json) of an event or, without `slug`, of the
    site, as its bytes and content type. Its self link is its canonical address under `base`,
    which is the topic WebSub subscribers name; it declares the site's hub."""
    self_url = f"{base}/e/{slug}/{kind}" if slug else f"{base}/{kind}"
    hub = websub_hub.hub_url(settings, base)
    channel, posts = _feed_data(engine, settings, base, slug)
    if kind == "feed.json":
        return json_bytes(_json_feed(channel, posts, self_url, hub)), KINDS[kind]
    gen = _generator(channel, posts, self_url, hub)
    if kind == "atom.xml":
        return gen.atom_str(pretty=False), KINDS[kind]
    return _rss_with_hub(gen.rss_str(pretty=False), hub), KINDS[kind]


def topic_renderer(engine: Engine, settings: Settings) -> Callable[[str], tuple[bytes, str]]:
    """What the hub pushes for a topic URL: the feed as a reader would get it now (links under
    the site's public address, else the topic's own)."""

    def render(topic_url: str) -> tuple[bytes, str]:
        parts = urlsplit(topic_url)
        base = str(settings.public_url).rstrip("/") if settings.public_url else f"{parts.scheme}://{parts.netloc}"
        topic = websub_hub.parse_topic(parts.path)
        if topic is None:
            raise NotFound(f"{topic_url} is no feed of this site")
        return feed_document(engine, settings, base, topic.slug, topic.kind)

    return render


def _serve(request: Request, slug: str | None, kind: str) -> Response:
    settings = request.app.state.settings
    base = public_base(settings, request.scope)
    body, media_type = feed_document(engine_of(request), settings, base, slug, kind)
    response = etag_response(request, body, media_type)
    hub = websub_hub.hub_url(settings, base)
    if hub:
        self_url = f"{base}/e/{slug}/{kind}" if slug else f"{base}/{kind}"
        response.headers["Link"] = f'<{hub}>; rel="hub", <{self_url}>; rel="self"'
    return response


def rss(request: Request, slug: str | None) -> Response:
    return _serve(request, slug, "rss.xml")


def atom(request: Request, slug: str | None) -> Response:
    return _serve(request, slug, "atom.xml")


def json_feed(request: Request, slug: str | None) -> Response:
    return _serve(request, slug, "feed.json")


@router.get("/rss.xml", include_in_schema=False)
def site_rss(request: Request) -> Response:
    return rss(request, None)


@router.get("/atom.xml", include_in_schema=False)
def site_atom(request: Request) -> Response:
    return atom(request, None)


@router.get("/feed.json", include_in_schema=False)
def site_json(request: Request) -> Response:
    return json_feed(request, None)


@router.get("/e/{slug}/rss.xml", include_in_schema=False)
def event_rss(request: Request, slug: str) -> Response:
    return rss(request, slug)


@router.get("/e/{slug}/atom.xml", include_in_schema=False)
def event_atom(request: Request, slug: str) -> Response:
    return atom(request, slug)


@router.get("/e/{slug}/feed.json", include_in_schema=False)
def event_json(request: Request, slug: str) -> Response:
    return json_feed(request, slug)
