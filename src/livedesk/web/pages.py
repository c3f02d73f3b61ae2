"""The reader's pages: an event's live page, its embed and post cards, the home page, topics and the
API explorer. They work without JavaScript, and the event and site pages go through the page cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import fastapi_offline
from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import Connection

from livedesk.model import EventStatus, PostStatus
from livedesk.newsroom import NotFound
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.store.posts import BadCursor
from livedesk.web.aligned import from_alignment, inferred_times
from livedesk.web.deps import engine_of, event_or_404
from livedesk.web.jsonld import absolute, live_blog_jsonld
from livedesk.web.page_cache import cached_page
from livedesk.web.partners import partners_of
from livedesk.web.render import HTML, error_page, public_base, render
from livedesk.web.responses import etag_response

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"  # Swagger UI's files, served from here
PAGE_SIZE = 20

router = APIRouter(include_in_schema=False)


def _read(request: Request, work):
    return run_read(engine_of(request), work)


# ---- the event page --------------------------------------------------------------------

def list_filters(params) -> dict:
    """The reader's list choices from the query string, checked leniently."""
    order = "oldest" if params.get("order") == "oldest" else "newest"
    outlets = "own" if params.get("outlets") == "own" else "all"
    topic = (params.get("topic") or "").strip().lower()[:80] or None
    q = (params.get("q") or "").strip()[:200] or None
    # the next page starts after the cursor's post: older ones when newest come first, newer ones when
    # oldest do (`after=`)
    cursor = (params.get("after" if order == "oldest" else "before") or "").strip()[:200] or None
    return {"order": order, "outlets": outlets, "topic": topic, "q": q, "cursor": cursor}


def cursor_param(filters: dict) -> str:
    """The query parameter that carries the next page's cursor in this order."""
    return "after" if filters["order"] == "oldest" else "before"


def _history(conn: Connection, post_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Earlier versions of these posts, newest first, as the post card shows them."""
    return {pid: [v.to_json() for v in found] for pid, found in post_store.versions_for(conn, post_ids).items()}


def read_posts(conn, event_id: int, filters: dict, *, limit: int = PAGE_SIZE) -> dict:
    """One page of posts with their history and other-media links, and the next cursor."""
    rows, cursor = post_store.list_posts(
        conn, event_id, order=filters["order"], limit=limit, topic=filters["topic"], **{cursor_param(filters): filters["cursor"]},
        q=filters["q"], outlet_own=True if filters["outlets"] == "own" else None,
    )
    posts = [r.to_json() for r in rows]
    history = _history(conn, [p["id"] for p in posts if p["version"] > 1 or p["corrected_at"]])
    other = from_alignment(conn, event_id, posts)
    return {"posts": posts, "history": history, "other_media": other, "next": cursor}


def _event_context(conn, slug: str, filters: dict, *, limit: int = PAGE_SIZE) -> dict:
    row = event_or_404(conn, slug)
    event = row.to_json(event_store.count_published(conn, row.id))
    listing = read_posts(conn, row.id, filters, limit=limit)
    topics = post_store.topic_counts(conn, row.id)
    return {"event": event, **listing, "topics": topics, "filters": filters}


def _live_config(event: dict, filters: dict, next_cursor: str | None, since: int, embed: bool = False) -> dict:
    slug = event["slug"]
    return {
        "slug": slug,
        "stream": f"/api/events/{slug}/stream",
        "since": since,
        "fragment": f"/e/{slug}/p/",
        "more": f"/e/{slug}/more",
        "filters": {k: v for k, v in filters.items() if k != "cursor"},
        "cursorParam": cursor_param(filters),
        "paged": bool(filters["cursor"]),
        "atEnd": next_cursor is None,
        "embed": embed,
    }


@router.get("/e/{slug}")
async def event_page(request: Request, slug: str) -> Response:
    filters = list_filters(request.query_params)

    def build(since: int) -> str:
        context = _read(request, lambda conn: _event_context(conn, slug, filters))
        settings = request.app.state.settings
        event = context["event"]
        base = public_base(settings, request.scope)
        context["jsonld"] = live_blog_jsonld(event, context["posts"], base, settings.site_name)
        context["live"] = _live_config(event, filters, context["next"], since)
        context["partners"] = partners_of(request).items()
        context["params"] = {k: v for k, v in filters.items() if k != "cursor" and v not in (None, "newest", "all")}
        lead = event.get("lead_media") or {}
        context["og_image"] = absolute(base, lead.get("url")) if lead.get("kind", "image") == "image" else None
        return render(request, "event.html", **context)

    return await cached_page(request, build)


@router.get("/embed/{slug}")
async def embed_page(request: Request, slug: str) -> Response:
    filters = list_filters({})

    def build(since: int) -> str:
        context = _read(request, lambda conn: _event_context(conn, slug, filters, limit=10))
        context["live"] = _live_config(context["event"], filters, context["next"], since, embed=True)
        return render(request, "embed.html", **context)

    return await cached_page(request, build)


@router.get("/e/{slug}/p/{post_id}")
def post_fragment(request: Request, slug: str, post_id: str) -> Response:
    """One post card, as the live page inserts it (`?fragment=1`); people are sent to the post on its page."""
    if request.query_params.get("fragment") != "1":
        return RedirectResponse(f"/e/{quote(slug)}#post-{quote(post_id)}", status_code=303)

    def read(conn):
        event = event_or_404(conn, slug)
        row = post_store.get_post(conn, event.id, post_id)
        if row is None or row.status != PostStatus.published:
            raise NotFound(f"no post {post_id!r} in this event")
        post = row.to_json()
        history = _history(conn, [post_id])
        return post, history, from_alignment(conn, event.id, [post])

    try:
        post, history, other = _read(request, read)
    except NotFound as exc:
        return error_page(request, 404, str(exc))
    body = render(request, "partials/post_fragment.html", post=post, history=history, other_media=other,
                  embed=request.query_params.get("embed") == "1")
    return etag_response(request, body.encode(), HTML)


@router.get("/e/{slug}/more")
def more_fragment(request: Request, slug: str) -> Response:
    """The next page of posts as list items (for "Show more" with JavaScript)."""
    filters = list_filters(request.query_params)

    def read(conn):
        event = event_or_404(conn, slug)
        return read_posts(conn, event.id, filters)

    try:
        listing = _read(request, read)
    except NotFound as exc:
        return error_page(request, 404, str(exc))
    except BadCursor as exc:
        return error_page(request, 400, str(exc))
    body = render(request, "partials/more.html", **listing)
    return etag_response(request, body.encode(), HTML)


# ---- site pages ------------------------------------------------------------------------

@router.get("/")
async def home(request: Request) -> Response:
    def build(since: int) -> str:
        def read(conn):
            rows = event_store.list_events(conn)
            live = [r.to_json(event_store.count_published(conn, r.id)) for r in rows if r.status == EventStatus.live]
            ended = [r.to_json() for r in rows if r.status != EventStatus.live][:10]
            latest, cursor = post_store.latest_posts(conn, limit=PAGE_SIZE, before=request.query_params.get("before"))
            posts = [r.to_json() for r in latest]
            inferred_times(conn, posts)
            return {"live_events": live, "ended_events": ended, "posts": posts,
                    "next": cursor, "titles": {r.slug: r.title for r in rows},
                    "topics": post_store.topic_counts(conn)[:30]}

        return render(request, "home.html", **_read(request, read), live={"since": since})

    return await cached_page(request, build)


@router.get("/topics")
async def topics_page(request: Request) -> Response:
    def build(since: int) -> str:
        return render(request, "topics.html", topics=_read(request, post_store.topic_counts))

    return await cached_page(request, build)


@router.get("/topics/{topic}")
async def topic_page(request: Request, topic: str) -> Response:
    topic = topic.strip().lower()

    def build(since: int) -> str:
        def read(conn):
            rows, cursor = post_store.latest_posts(conn, limit=PAGE_SIZE, topic=topic,
                                                   before=request.query_params.get("before"))
            posts = [r.to_json() for r in rows]
            inferred_times(conn, posts)
            return {"posts": posts, "next": cursor, "titles": event_store.event_titles(conn)}

        return render(request, "topic.html", topic=topic, **_read(request, read))

    return await cached_page(request, build)


@router.get("/docs")
def api_docs(request: Request) -> Response:
    """The API explorer (Swagger UI) from local files, under the site's CSP like every page."""
    return Response(render(request, "docs.html"), media_type=HTML)
