"""The alignment as plain JSON: the shape `livedesk align --json` prints."""

from __future__ import annotations

from datetime import datetime, timezone

from livedesk.align.cluster import Alignment
from livedesk.model import AlignPost, Development


def iso(t: datetime | None) -> str | None:
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z") if t else None


def alignment_to_json(posts: list[AlignPost], result: Alignment) -> dict:
    return {
        "posts": [_post(p, result) for p in posts],
        "developments": [_development(d) for d in result.developments],
        "exclusives": result.exclusives,
        "shares": {o: round(s, 4) for o, s in result.shares.items()},
        "key_point_suggestions": result.key_point_suggestions,
    }


def _post(p: AlignPost, result: Alignment) -> dict:
    guess = result.inferred.get(p.id) if p.time is None else None
    return {
        "id": p.id,
        "outlet": p.outlet,
        "time": iso(p.time or (guess.time if guess else None)),
        "time_inferred": guess is not None,
        "time_uncertainty_s": round(guess.plus_minus_s) if guess else None,
        "headline": p.headline,
        "text": p.text,
    }


def _development(d: Development) -> dict:
    return {
        "id": d.id,
        "post_ids": d.post_ids,
        "outlets": d.outlets,
        "first_reported_by": d.first_reported_by,
        "first_time": iso(d.first_time),
        "lead_seconds": d.lead_seconds,
        "label": d.label,
        "quotes": [
            {"outlet": q.outlet, "post_id": q.post_id, "text": q.text, "speaker": q.speaker}
            for q in d.quotes
        ],
    }
