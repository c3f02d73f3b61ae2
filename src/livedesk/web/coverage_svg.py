"""The coverage picture's geometry (an SVG drawn by templates/compare/picture.html): a lane per
outlet, a mark per post with its time's uncertainty, lines joining the posts of a development."""

from __future__ import annotations

from datetime import datetime
from math import ceil

SVG_LIMIT = 1500  # marks in the picture: the newest ones

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
