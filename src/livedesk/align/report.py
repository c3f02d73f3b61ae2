"""The alignment as plain JSON: the shape `livedesk align --json` prints."""

from __future__ import annotations

from datetime import UTC
from typing import TYPE_CHECKING, Any

from livedesk.model import AlignedPost, AlignPost, InferredTime

if TYPE_CHECKING:  # the web pages word the lead without loading SciPy
    from livedesk.align.cluster import Alignment


def alignment_to_json(posts: list[AlignPost], result: Alignment) -> dict[str, Any]:
    return {
        "posts": [post_to_json(p, result.inferred) for p in posts],
        "developments": [d.to_json() for d in result.developments],
        "exclusives": result.exclusives,
        "shares": {o: round(s, 4) for o, s in result.shares.items()},
        "key_point_suggestions": result.key_point_suggestions,
    }


def aligned_post(p: AlignPost, inferred: dict[str, InferredTime]) -> AlignedPost:
    """One post of the alignment (without its text), with the time inferred for it if it states none."""
    guess = inferred.get(p.id) if p.time is None else None
    when = p.time or (guess.time if guess else None)
    return AlignedPost(id=p.id, outlet=p.outlet, time=when.astimezone(UTC) if when else None,
                       time_inferred=guess is not None, time_uncertainty_s=round(guess.plus_minus_s) if guess else None,
                       headline=p.headline)


def post_to_json(p: AlignPost, inferred: dict[str, InferredTime]) -> dict[str, Any]:
    """One post of the alignment with its text, and the time inferred for it if it states none."""
    return {**aligned_post(p, inferred).to_json(), "text": p.text}


def lead_text(d: dict[str, Any]) -> str:
    """The first reporter's lead over the next outlet in words, from a development as JSON,
    with what it rests on.

    '12 min ahead of CNN, both times stated'; 'about 40 min ahead of CNN (± 15 min), CNN's
    time inferred'; or why no lead is claimed.
    """
    contested, runner_up, pm = d.get("first_contested_by"), d.get("runner_up"), d.get("lead_uncertainty_s") or 0.0
    basis = d.get("lead_basis")
    if contested and d["first_reported_by"]:
        why = basis or f"{_names(contested)}: inferred time (± {_minutes(pm)})"
        return f"as far as the stated times tell; {why}: may be earlier"
    if contested:
        return f"no lead claimed: {basis}" if basis else ""
    if d["lead_seconds"] is None:
        if not (runner_up and pm):
            return ""
        return f"ahead of {runner_up} by less than the ± {_minutes(pm)} of an inferred time" + (f", {basis}" if basis else "")
    ahead = f"ahead of {runner_up}" if runner_up else "ahead"  # alignments stored before runner_up was kept
    said = f"{_minutes(d['lead_seconds'])} {ahead}" if not pm else f"about {_minutes(d['lead_seconds'])} {ahead} (± {_minutes(pm)})"
    return f"{said}, {basis}" if basis else said


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return "under a minute" if minutes < 1 else span_text(minutes)


def span_text(minutes: int) -> str:
    """'40 min', or '2.5 h' from 90 minutes on."""
    return f"{minutes} min" if minutes < 90 else f"{minutes / 60:.1f} h".replace(".0 h", " h")


def _names(outlets: list[str]) -> str:
    return outlets[0] if len(outlets) == 1 else ", ".join(outlets[:-1]) + " or " + outlets[-1]
