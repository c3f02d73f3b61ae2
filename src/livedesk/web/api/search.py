"""The JSON API's search across events."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter, Query, Request, Response

from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read
from livedesk.web.deps import engine_of
from livedesk.web.responses import etag_json
from livedesk.web.schemas import LAST_DAY

router = APIRouter(prefix="/api")


@router.get(
    "/search",
    summary="Search posts across events",
    description=f"Ranks the newest {post_store.SEARCH_WINDOW:,} matching posts and counts no further: "
    f"`total_capped` is true when more match, and `total` is then {post_store.SEARCH_WINDOW:,}.",
)
def search(
    request: Request,
    q: str = Query(min_length=1, max_length=200),
    event: str | None = Query(None, max_length=120),
    outlet: str | None = Query(None, max_length=80),
    topic: str | None = Query(None, max_length=80),
    day: date | None = Query(None, le=LAST_DAY, description="only posts of this UTC day"),
    page: int = Query(1, ge=1, le=1000),
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    since = datetime.combine(day, time(), tzinfo=UTC) if day else None
    until = since + timedelta(days=1) if since else None

    def read(conn):
        event_id = event_store.require_event(conn, event).id if event else None
        found = post_store.search_posts(
            conn, q, limit=limit, offset=(page - 1) * limit, event_id=event_id, outlet_slug=outlet,
            topic=topic, since=since, until=until,
        )
        return {"results": [r.to_json() for r in found.rows], "total": found.total,
                "total_capped": found.capped, "page": page}

    return etag_json(request, run_read(engine_of(request), read))
