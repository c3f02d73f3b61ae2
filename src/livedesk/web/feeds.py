"""Syndication out: RSS 2.0, Atom and JSON Feed 1.1 per event and site-wide."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from feedgen.feed import FeedGenerator

from livedesk.markup import html_to_text, strip_markup
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.deps import engine_of
from livedesk.web.jsonld import absolute, images, post_url
from livedesk.web.render import post_title, public_base
from livedesk.web.responses import etag_json, etag_response

router = APIRouter()

FEED_SIZE = 50


# ---- the feeds ----------------------------------------------------------------------

def _when(iso: str | None) -> datetime | None:
    return datetime.fromisoformat(iso) if iso else None


def _feed_data(request: Request, slug: str | None) -> tuple[dict, list[dict]]:
    """The channel (title, link, description, updated) and its latest posts."""
    settings = request.app.state.settings
    base = public_base(settings, request.scope)

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

    channel, posts = run_read(engine_of(request), read)
    newest = max((_when(p["updated_at"]) for p in posts), default=None)
    channel["updated"] = max(filter(None, [channel.get("updated"), newest]), default=datetime.now(UTC))
    channel["base"] = base
    return channel, posts


def _generator(channel: dict, posts: list[dict], self_url: str) -> FeedGenerator:
    gen = FeedGenerator()
    gen.id(channel["id"])
    gen.title(channel["title"])
    gen.subtitle(channel["description"])
    gen.link(href=channel["link"], rel="alternate")
    gen.link(href=self_url, rel="self")
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


def rss(request: Request, slug: str | None) -> Response:
    channel, posts = _feed_data(request, slug)
    gen = _generator(channel, posts, str(request.url))
    return etag_response(request, gen.rss_str(pretty=False), "application/rss+xml; charset=utf-8")


def atom(request: Request, slug: str | None) -> Response:
    channel, posts = _feed_data(request, slug)
    gen = _generator(channel, posts, str(request.url))
    return etag_response(request, gen.atom_str(pretty=False), "application/atom+xml; charset=utf-8")


def json_feed(request: Request, slug: str | None) -> Response:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1)."""
    channel, posts = _feed_data(request, slug)
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
        "feed_url": str(request.url),
        "description": channel["description"],
        "language": "en",
        "items": items,
    }
    response = etag_json(request, feed)
    if response.status_code == 200:
        response.headers["content-type"] = "application/feed+json; charset=utf-8"
    return response


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
