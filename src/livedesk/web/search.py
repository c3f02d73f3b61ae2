"""The search page: posts across events, with facets and the query's words marked in snippets."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Request, Response
from markupsafe import Markup, escape

from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.aligned import inferred_times
from livedesk.web.deps import engine_of
from livedesk.web.page_cache import PageError, cached_page
from livedesk.web.render import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 20


_WORD = re.compile(r"\w+", re.UNICODE)


def _whole_words(text: str, start: int, width: int) -> str:
    """`width` characters of `text` from `start`, ended at a space rather than inside a word."""
    piece = text[start : start + width]
    if start + width < len(text) and not text[start + width].isspace():
        space = piece.rfind(" ")
        if space > width // 2:
            piece = piece[:space]
    return piece.rstrip()


def highlight(text: str, q: str, *, width: int = 260) -> Markup:
    """A snippet of `text` around the first match, escaped, with the query's words in <mark>.

    Every piece of text is escaped on its own before marks are put around the matches.
    """
    words = [w.lower() for w in _WORD.findall(q)]
    if not words or not text:
        return Markup(escape(_whole_words(text, 0, width))) + Markup(" …" if width < len(text) else "")
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)
    first = pattern.search(text)
    start = max(0, (first.start() if first else 0) - width // 3)
    if start:
        start = text.find(" ", start) + 1 or start
    piece = _whole_words(text, start, width)
    out, at = [], 0
    for match in pattern.finditer(piece):
        out.append(escape(piece[at : match.start()]))
        out.append(Markup("<mark>") + escape(match.group(0)) + Markup("</mark>"))
        at = match.end()
    out.append(escape(piece[at:]))
    prefix = "… " if start else ""
    suffix = " …" if start + width < len(text) else ""
    return Markup(prefix) + Markup("").join(out) + Markup(suffix)


def _day_param(value: str | None) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise PageError(400, f"“{value}” is not a date; use the form 2026-05-14.") from None
    if day == date.max:
        raise PageError(400, f"{value} is the last day a date can name; pick an earlier one.")
    return day


@router.get("/search")
async def search_page(request: Request) -> Response:
    params = request.query_params
    q = (params.get("q") or "").strip()[:200]
    chosen = {k: (params.get(k) or "").strip()[:120] or None for k in ("event", "outlet", "topic", "day")}
    page_text = params.get("page") or "1"
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) <= 1000 else 1

    def build(since: int) -> str:
        the_day = _day_param(chosen["day"])
        since_at = datetime.combine(the_day, time(), tzinfo=UTC) if the_day else None
        until_at = since_at + timedelta(days=1) if since_at else None

        def read(conn):
            if not q:
                return {"results": [], "total": 0, "capped": False, "facets": None, "titles": {}}
            event_id = None
            if chosen["event"]:
                row = event_store.get_event(conn, chosen["event"])
                if row is None:
                    return {"results": [], "total": 0, "capped": False, "facets": None, "titles": {}}
                event_id = row.id
            filters = dict(event_id=event_id, outlet_slug=chosen["outlet"], topic=chosen["topic"],
                           since=since_at, until=until_at)
            found = post_store.search_posts(conn, q, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=True, **filters)
            results = [{**r.to_json(), "snippet": highlight(r.search_text or "", q),
                        "title_marked": highlight(r.headline or "", q, width=300) if r.headline else None}
                       for r in found.rows]
            inferred_times(conn, results)
            return {"results": results, "total": found.total, "capped": found.capped, "facets": found.facets,
                    "titles": event_store.event_titles(conn)}

        found = run_read(engine_of(request), read)
        params_now = {"q": q, **chosen}
        pages = (found["total"] + PAGE_SIZE - 1) // PAGE_SIZE
        return render(request, "search.html", q=q, chosen=chosen, params=params_now, page=page, pages=pages, **found)

    return await cached_page(request, build)
