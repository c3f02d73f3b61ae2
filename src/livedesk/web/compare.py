"""Coverage compared across outlets, as pages: the merged timeline and the compare page, whose
"Add to key points" button takes a desk session."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData

from livedesk.newsroom import NotFound, publish
from livedesk.store.db import run_read
from livedesk.web import desk
from livedesk.web.auth import Session, csrf_token, current_session
from livedesk.web.compare_view import development_card, event_view
from livedesk.web.coverage_svg import coverage_picture
from livedesk.web.deps import event_or_404, newsroom_of
from livedesk.web.render import error_page, render

router = APIRouter()

TIMELINE_LIMIT = 2000  # posts on the timeline page; the API gives them all


def _page(request: Request, name: str, **context) -> HTMLResponse:
    html = render(request, name, **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _event_dict(event) -> dict:
    return {"slug": event.slug, "title": event.title, "status": event.status, "key_points": event.key_points or []}


@router.get("/e/{slug}/timeline", response_class=HTMLResponse, include_in_schema=False)
def timeline_page(request: Request, slug: str) -> Response:
    return _html(request, slug, _timeline)


def _html(request: Request, slug: str, build) -> Response:
    """A page built from the event's compare view, or the site's 404 page."""
    room = newsroom_of(request)
    try:
        run_read(room.engine, lambda conn: event_or_404(conn, slug))
    except NotFound as exc:
        return error_page(request, 404, str(exc))
    event, data, rows, view = event_view(room, slug)
    return build(request, event, data, rows, view)


def _timeline(request: Request, event, _data: dict, _rows: dict, view: dict) -> Response:
    color = {o["outlet"]: o["color"] for o in view["outlets"]}
    shown = view["timeline"][-TIMELINE_LIMIT:]
    return _page(request, "compare/timeline.html", event=_event_dict(event), view=view, items=shown, color=color)


@router.get("/e/{slug}/compare", response_class=HTMLResponse, include_in_schema=False)
def compare_page(request: Request, slug: str) -> Response:
    return _html(request, slug, _compare)


def _compare(request: Request, event, data: dict, rows: dict, view: dict) -> Response:
    slug = event.slug
    by_id = {p["id"]: p for p in data["posts"]}
    shared = [development_card(slug, d, by_id, rows) for d in data["developments"] if len(d["outlets"]) > 1]
    shared.sort(key=lambda d: (-len(d["outlets"]), d["first_time"] or ""))
    exclusive = {o["outlet"]: [development_card(slug, d, by_id, rows) for d in data["developments"] if d["id"] in set(o["exclusives"])]
                 for o in view["outlets"]}
    signed = current_session(request)
    editor = signed if signed is not None and signed.is_editor else None
    return _page(
        request, "compare/compare.html", event=_event_dict(event), view=view, picture=coverage_picture(view, data),
        shared=shared, exclusive=exclusive, color={o["outlet"]: o["color"] for o in view["outlets"]},
        csrf=csrf_token(request, editor.token) if editor else "", editor=editor,
        accepted={p["text"] for p in (event.key_points or [])}, done=request.query_params.get("done"),
    )


@router.post("/e/{slug}/compare/key-points", include_in_schema=False)
def accept_from_page(request: Request, slug: str, posted: tuple[Session, FormData] = Depends(desk.desk_form)) -> Response:
    """The compare page's "Add to key points" button (a desk session with its CSRF token)."""
    signed, form = posted
    development_id = str(form.get("development_id") or "").strip() or None
    desk.newsroom_call(lambda: publish.accept_suggestion(newsroom_of(request), slug, development_id, None, signed.actor))
    return desk.done(f"/e/{slug}/compare", "keypoint", "#suggestions")
