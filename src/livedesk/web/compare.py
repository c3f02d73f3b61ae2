"""Coverage compared across outlets: the developments API, the merged timeline and the compare page.

Everything here reads the alignment that `newsroom.developments` stores per event; a read
first lets it catch up with posts published since (the site's own posts among them).
"""

from __future__ import annotations

from datetime import datetime
from math import ceil

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import Field
from starlette.datastructures import FormData

from livedesk.align.report import lead_text, span_text
from livedesk.model import Event
from livedesk.newsroom import Invalid, NotFound, publish
from livedesk.newsroom.publish import Actor
from livedesk.store import developments as development_store
from livedesk.store.db import run_read
from livedesk.store.developments import PostSummary
from livedesk.web import desk
from livedesk.web.auth import csrf_token, required_actor
from livedesk.web.deps import engine_of, newsroom_of
from livedesk.web.render import error_page, render
from livedesk.web.responses import etag_json
from livedesk.web.schemas import Strict

router = APIRouter()

PALETTE = ["#0b4f9c", "#b3261e", "#1b7f4b", "#8a4fbf", "#c26a00", "#00838f", "#6d4c41", "#ad1457"]
TIMELINE_LIMIT = 2000  # posts on the timeline page; the API gives them all
SVG_LIMIT = 1500  # marks in the picture: the newest ones


# ---- reading ----------------------------------------------------------------------------------

def _current(request: Request, slug: str) -> tuple[Event, dict]:
    return newsroom_of(request).developments.current(slug)


def _post_rows(request: Request, event_id: int) -> dict[str, PostSummary]:
    return run_read(engine_of(request), lambda conn: development_store.post_summaries(conn, event_id))


def snippet(headline: str | None, text: str | None, limit: int = 140) -> str:
    if headline:
        return headline
    words = " ".join((text or "").split())
    return words if len(words) <= limit else words[: limit - 1].rsplit(" ", 1)[0] + "…"


def about(iso: str | None, plus_minus_s: float | None) -> str:
    """'10:55 UTC', or 'about 10:55 UTC ± 20 min' for an inferred time."""
    if not iso:
        return "time unknown"
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    if plus_minus_s is None:
        return moment.strftime("%H:%M UTC")
    minutes = max(5, 5 * round(plus_minus_s / 300))
    return f"about {moment:%H:%M} UTC ± {span_text(minutes)}"


def developments_view(slug: str, data: dict) -> dict:
    """The API's developments: each with its posts (outlet, time, inferred or not) and links."""
    by_id = {p["id"]: p for p in data["posts"]}
    out = []
    for dev in data["developments"]:
        members = [by_id[pid] for pid in dev["post_ids"] if pid in by_id]
        out.append({
            **dev,
            "exclusive": len(dev["outlets"]) == 1,
            "posts": [_post_view(slug, p) for p in members],
        })
    return {
        "event": slug,
        "updated_at": data.get("updated_at"),
        "developments": out,
        "exclusives": data["exclusives"],
        "shares": data["shares"],
        "key_point_suggestions": data["key_point_suggestions"],
    }


def _post_view(slug: str, p: dict) -> dict:
    return {
        "id": p["id"],
        "outlet": p["outlet"],
        "time": p["time"],
        "time_inferred": p["time_inferred"],
        "time_uncertainty_s": p["time_uncertainty_s"],
        "time_label": about(p["time"], p["time_uncertainty_s"] if p["time_inferred"] else None),
        "url": f"/e/{slug}/p/{p['id']}",
    }


def compare_view(slug: str, data: dict, rows: dict[str, object]) -> dict:
    """Per outlet: exclusives, share, post count; the merged timeline; key-point suggestions."""
    dev_of = {pid: d for d in data["developments"] for pid in d["post_ids"]}
    counts: dict[str, int] = {}
    for p in data["posts"]:
        counts[p["outlet"]] = counts.get(p["outlet"], 0) + 1
    firsts: dict[str, int] = {}
    for d in data["developments"]:
        if len(d["outlets"]) > 1 and d["first_reported_by"]:
            firsts[d["first_reported_by"]] = firsts.get(d["first_reported_by"], 0) + 1
    own_names = {p["outlet"] for p in data["posts"] if p["id"] in rows and rows[p["id"]].own}
    names = sorted(counts, key=lambda o: (o not in own_names, -counts[o], o))
    outlet_list = [
        {
            "outlet": o,
            "own": o in own_names,
            "color": PALETTE[k % len(PALETTE)],
            "post_count": counts[o],
            "developments": sum(o in d["outlets"] for d in data["developments"]),
            "share": data["shares"].get(o, 0.0),
            "exclusives": data["exclusives"].get(o, []),
            "first_reports": firsts.get(o, 0),
        }
        for k, o in enumerate(names)
    ]
    timeline = []
    for p in sorted((p for p in data["posts"] if p["time"]), key=lambda p: (p["time"], p["outlet"], p["id"])):
        dev = dev_of.get(p["id"])
        row = rows.get(p["id"])
        timeline.append({
            **_post_view(slug, p),
            "headline": snippet(p["headline"], row.search_text if row else None),
            "development": dev["id"] if dev else None,
            "development_label": dev["label"] if dev else None,
            "shared_with": [o for o in dev["outlets"] if o != p["outlet"]] if dev else [],
        })
    return {
        "event": slug,
        "updated_at": data.get("updated_at"),
        "outlets": outlet_list,
        "development_count": len(data["developments"]),
        "timeline": timeline,
        "key_point_suggestions": data["key_point_suggestions"],
    }


# ---- the picture ------------------------------------------------------------------------------

WIDTH = 760
PAD_X = 16
AXIS_H = 30
LANE_H = 70
MARK_Y = 48  # the lane's line, below its name and the uncertainty bars


def coverage_picture(view: dict, data: dict) -> dict:
    """Geometry of the coverage picture: a lane per outlet, a mark per post, developments joined."""
    lanes = {o["outlet"]: k for k, o in enumerate(view["outlets"])}
    color = {o["outlet"]: o["color"] for o in view["outlets"]}
    placed = view["timeline"][-SVG_LIMIT:]
    if not placed:
        return {}
    times = [_epoch(p["time"]) for p in placed]
    margin = max((max(times) - min(times)) * 0.03, 300)
    start, end = min(times) - margin, max(times) + margin
    scale = (WIDTH - 2 * PAD_X) / (end - start)

    def x(t: float) -> float:  # an uncertainty bar may reach beyond the axis: it stops at the edge
        return round(min(max(PAD_X + (t - start) * scale, PAD_X), WIDTH - PAD_X), 1)

    devs = {d["id"]: d for d in data["developments"]}
    firsts = _first_marks(devs, placed)
    marks = []
    for p, t in zip(placed, times):
        dev = devs.get(p["development"])
        y = AXIS_H + lanes[p["outlet"]] * LANE_H + MARK_Y
        span = (p["time_uncertainty_s"] or 0) if p["time_inferred"] else 0
        marks.append({
            "id": p["id"], "x": x(t), "y": y, "color": color[p["outlet"]],
            "shared": bool(dev and len(dev["outlets"]) > 1), "first": p["id"] in firsts,
            "inferred": p["time_inferred"], "bar_x": x(t - span), "bar_w": round(x(t + span) - x(t - span), 1),
            "development": p["development"], "title": f"{p['outlet']} · {p['time_label']} · {p['headline']}",
        })
    _stack_bars([m for m in marks if m["inferred"]])
    at = {m["id"]: m for m in marks}
    joins = []
    for dev in devs.values():
        if len(dev["outlets"]) < 2:
            continue
        points = sorted((at[pid] for pid in dev["post_ids"] if pid in at), key=lambda m: (m["y"], m["x"]))
        for a, b in zip(points, points[1:]):
            if a["y"] != b["y"]:
                joins.append({"x1": a["x"], "y1": a["y"], "x2": b["x"], "y2": b["y"], "development": dev["id"]})
    height = AXIS_H + len(lanes) * LANE_H + 8
    return {
        "width": WIDTH, "height": height, "axis_y": AXIS_H - 6,
        "lanes": [{"outlet": o["outlet"], "color": o["color"], "y": AXIS_H + k * LANE_H, "label_y": AXIS_H + k * LANE_H + 18,
                   "line_y": AXIS_H + k * LANE_H + MARK_Y, "count": o["post_count"]} for k, o in enumerate(view["outlets"])],
        "ticks": [{"x": x(t), "label": datetime.utcfromtimestamp(t).strftime("%H:%M")} for t in _ticks(start, end)],
        "marks": marks,
        "joins": joins,
        "x0": PAD_X, "x1": WIDTH - PAD_X,
        "shown": len(placed), "total": len(view["timeline"]),
    }


BAR_TIERS = 3


def _stack_bars(marks: list[dict]) -> None:
    """Give each uncertainty bar a tier above its lane, so that overlapping bars stay apart."""
    ends: dict[tuple[int, int], float] = {}  # (lane y, tier) -> where its last bar ends
    for m in sorted(marks, key=lambda m: m["bar_x"]):
        tiers = [(ends.get((m["y"], k), -1.0), k) for k in range(BAR_TIERS)]
        free = [k for end, k in tiers if end < m["bar_x"]]
        tier = free[0] if free else min(tiers)[1]
        ends[(m["y"], tier)] = m["bar_x"] + m["bar_w"]
        m["bar_y"] = m["y"] - 10 - 4 * tier


def _first_marks(devs: dict, placed: list[dict]) -> set[str]:
    """The earliest real-timed post of each shared development's first reporter."""
    out = set()
    by_dev: dict[str, list[dict]] = {}
    for p in placed:
        if p["development"]:
            by_dev.setdefault(p["development"], []).append(p)
    for dev_id, members in by_dev.items():
        dev = devs[dev_id]
        if len(dev["outlets"]) < 2 or not dev["first_reported_by"]:
            continue
        firsts = [p for p in members if p["outlet"] == dev["first_reported_by"] and not p["time_inferred"]]
        if firsts:
            out.add(min(firsts, key=lambda p: p["time"])["id"])
    return out


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


STEPS_MIN = [5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080]


def _ticks(start: float, end: float, most: int = 7) -> list[float]:
    step = next((s * 60 for s in STEPS_MIN if (end - start) / (s * 60) <= most), STEPS_MIN[-1] * 60)
    first = ceil(start / step) * step
    return [first + k * step for k in range(int((end - first) // step) + 1)]


# ---- the API ----------------------------------------------------------------------------------

class AcceptIn(Strict):
    development_id: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=500)


@router.get("/api/events/{slug}/developments", summary="The event's developments across outlets", tags=["compare"])
def get_developments(request: Request, slug: str) -> Response:
    _event, data = _current(request, slug)
    return etag_json(request, developments_view(slug, data))


@router.get("/api/events/{slug}/compare", summary="Outlets compared, and the merged timeline", tags=["compare"])
def get_compare(request: Request, slug: str) -> Response:
    return etag_json(request, _event_view(request, slug)[3])


@router.post("/api/events/{slug}/keypoints/accept", summary="Add a key-point suggestion to the event's key points", tags=["compare"])
def accept_key_point(request: Request, slug: str, body: AcceptIn, actor: Actor = Depends(required_actor)) -> dict:
    return accept(request, slug, body.development_id, body.text, actor)


def accept(request: Request, slug: str, development_id: str | None, text: str | None, actor: Actor) -> dict:
    """Append a suggestion (by development id, or its text) to the key points; returns the event."""
    publish.require(actor, publish.EDITORS)
    if not development_id and not (text or "").strip():
        raise Invalid("give a development_id or the suggestion's text")
    event, data = _current(request, slug)
    suggestions = data["key_point_suggestions"]
    found = next((s for s in suggestions if s["development_id"] == development_id), None) if development_id else None
    if development_id and found is None:
        raise Invalid(f"no key-point suggestion for development {development_id!r}")
    point_text = found["text"] if found else " ".join(text.split())
    point = {"text": point_text, "post_id": _own_post(request, event.id, data, found["development_id"] if found else None)}
    points = [{"text": p["text"], "post_id": p.get("post_id")} for p in (event.key_points or [])]
    if all(p["text"] != point_text for p in points):
        points.append(point)
    return publish.update_event(newsroom_of(request), slug, {"key_points": points}, actor)


def _own_post(request: Request, event_id: int, data: dict, development_id: str | None) -> str | None:
    """The site's own post in the development, which the key point then links to."""
    dev = next((d for d in data["developments"] if d["id"] == development_id), None)
    if dev is None:
        return None
    rows = _post_rows(request, event_id)
    return next((pid for pid in dev["post_ids"] if pid in rows and rows[pid].own), None)


# ---- the pages --------------------------------------------------------------------------------

def _page(request: Request, name: str, **context) -> HTMLResponse:
    html = render(request, name, **context)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


def _event_view(request: Request, slug: str) -> tuple[object, dict, dict, dict]:
    """The event, its stored alignment, its posts' rows, and the compare view of them."""
    event, data = _current(request, slug)
    rows = _post_rows(request, event.id)
    return event, data, rows, compare_view(slug, data, rows)


def _event_dict(event) -> dict:
    return {"slug": event.slug, "title": event.title, "status": event.status, "key_points": event.key_points or []}


@router.get("/e/{slug}/timeline", response_class=HTMLResponse, include_in_schema=False)
def timeline_page(request: Request, slug: str) -> Response:
    return _html(request, slug, _timeline)


def _html(request: Request, slug: str, build) -> Response:
    """A page built from the event's compare view, or the site's 404 page."""
    try:
        event, data, rows, view = _event_view(request, slug)
    except NotFound as exc:
        return error_page(request, 404, str(exc))
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
    shared = [_dev_card(slug, d, by_id, rows) for d in data["developments"] if len(d["outlets"]) > 1]
    shared.sort(key=lambda d: (-len(d["outlets"]), d["first_time"] or ""))
    exclusive = {o["outlet"]: [_dev_card(slug, d, by_id, rows) for d in data["developments"] if d["id"] in set(o["exclusives"])]
                 for o in view["outlets"]}
    signed = desk.current_desk(request)
    editor = signed if signed is not None and signed.is_editor else None
    return _page(
        request, "compare/compare.html", event=_event_dict(event), view=view, picture=coverage_picture(view, data),
        shared=shared, exclusive=exclusive, color={o["outlet"]: o["color"] for o in view["outlets"]},
        csrf=csrf_token(request, editor.token) if editor else "", editor=editor,
        accepted={p["text"] for p in (event.key_points or [])}, done=request.query_params.get("done"),
    )


def _dev_card(slug: str, dev: dict, by_id: dict, rows: dict) -> dict:
    quotes: dict[str, list[dict]] = {}
    for q in dev["quotes"]:
        quotes.setdefault(q["outlet"], []).append(q)
    members = []
    for pid in dev["post_ids"]:
        p = by_id.get(pid)
        if p is None:
            continue
        row = rows.get(pid)
        members.append({**_post_view(slug, p), "headline": snippet(p["headline"], row.search_text if row else None)})
    return {**dev, "lead": lead_text(dev), "quotes_by_outlet": quotes, "members": members}


@router.post("/e/{slug}/compare/key-points", include_in_schema=False)
def accept_from_page(request: Request, slug: str, posted: tuple[desk.Desk, FormData] = Depends(desk.desk_form)) -> Response:
    """The compare page's "Add to key points" button (a desk session with its CSRF token)."""
    signed, form = posted
    development_id = str(form.get("development_id") or "").strip() or None
    desk._newsroom_call(lambda: accept(request, slug, development_id, None, signed.actor))
    return desk.done(f"/e/{slug}/compare", "keypoint", "#suggestions")
