"""Coverage compared across outlets, as views: what the developments API, the compare page and the
merged timeline show of the alignment that `newsroom.developments` stores per event."""

from __future__ import annotations

from datetime import datetime

from livedesk.align.report import lead_text, span_text
from livedesk.model import Event
from livedesk.newsroom.room import Newsroom
from livedesk.store import developments as development_store
from livedesk.store.db import run_read
from livedesk.store.developments import PostSummary

PALETTE = ["#0b4f9c", "#b3261e", "#1b7f4b", "#8a4fbf", "#c26a00", "#00838f", "#6d4c41", "#ad1457"]


def post_rows(room: Newsroom, event_id: int) -> dict[str, PostSummary]:
    return run_read(room.engine, lambda conn: development_store.post_summaries(conn, event_id))


def event_view(room: Newsroom, slug: str) -> tuple[Event, dict, dict[str, PostSummary], dict]:
    """The event, its stored alignment, its posts' rows, and the compare view of them."""
    event, alignment = room.developments.current(slug)
    data = alignment.to_json()
    rows = post_rows(room, event.id)
    return event, data, rows, compare_view(slug, data, rows)


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
            "posts": [post_view(slug, p) for p in members],
        })
    return {
        "event": slug,
        "updated_at": data.get("updated_at"),
        "developments": out,
        "exclusives": data["exclusives"],
        "shares": data["shares"],
        "key_point_suggestions": data["key_point_suggestions"],
    }


def post_view(slug: str, p: dict) -> dict:
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
            **post_view(slug, p),
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


def development_card(slug: str, dev: dict, by_id: dict, rows: dict) -> dict:
    quotes: dict[str, list[dict]] = {}
    for q in dev["quotes"]:
        quotes.setdefault(q["outlet"], []).append(q)
    members = []
    for pid in dev["post_ids"]:
        p = by_id.get(pid)
        if p is None:
            continue
        row = rows.get(pid)
        members.append({**post_view(slug, p), "headline": snippet(p["headline"], row.search_text if row else None)})
    return {**dev, "lead": lead_text(dev), "quotes_by_outlet": quotes, "members": members}
