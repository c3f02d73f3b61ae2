"""What an event's stored alignment adds to the posts a page shows: the time inferred for an
untimed post, and "In other media" links to the aligned posts of other outlets."""

from __future__ import annotations

from sqlalchemy import Connection

from livedesk.model import AlignedPost, iso
from livedesk.store import developments as development_store
from livedesk.store import events as event_store


def _inferred_times(by_id: dict[str, AlignedPost], posts: list[dict]) -> None:
    """Untimed posts get the time their event's alignment inferred and its ± (`time_about_s`), or
    `time_about_s` None where none was inferred. `by_id`: the posts as the alignment holds them."""
    for post in posts:
        if post["time_known"]:
            continue
        post["time_about_s"] = None
        guess = by_id.get(post["id"])
        if guess and guess.time_inferred and guess.time:
            post["published_at"], post["time_about_s"] = iso(guess.time), guess.time_uncertainty_s or 0


def inferred_times(conn: Connection, posts: list[dict]) -> None:
    """`_inferred_times` for posts of any events (home, topics, search)."""
    for slug in {p["event"] for p in posts if not p["time_known"]}:
        event = event_store.get_event(conn, slug)
        mine = [p for p in posts if p["event"] == slug]
        untimed = {p["id"] for p in mine if not p["time_known"]}
        _inferred_times(development_store.aligned_posts_of(conn, event.id, untimed) if event else {}, mine)


def from_alignment(conn: Connection, event_id: int, posts: list[dict]) -> dict[str, list[dict]]:
    """Read the event's stored alignment for these posts (API dicts): only their rows, their
    developments' and those developments' other posts.

    Returns "In other media" for each post: the aligned posts of other outlets than its own and
    the site's, {post_id: [{outlet, headline, url}]}. An untimed post gets the time the alignment
    inferred for it, as `published_at` with `time_about_s` (its ± in seconds), or `time_about_s`
    None when no time could be inferred.
    """
    wanted = {p["id"] for p in posts}
    mine = development_store.aligned_posts_of(conn, event_id, wanted) if wanted else {}
    _inferred_times(mine, posts)
    shared = [d for d in development_store.developments_of(conn, event_id, {p.development for p in mine.values()})
              if len(d.outlets) >= 2]
    if not shared:
        return {}
    by_id = {**development_store.aligned_posts_of(conn, event_id, {o for d in shared for o in d.post_ids} - wanted), **mine}
    slug = event_store.event_slug(conn, event_id)
    own = event_store.own_outlet_names(conn)
    out: dict[str, list[dict]] = {}
    for dev in shared:
        for pid in wanted.intersection(dev.post_ids):
            mine_outlet = by_id[pid].outlet if pid in by_id else None
            others = [
                {"outlet": by_id[o].outlet, "headline": by_id[o].headline or dev.label, "url": f"/e/{slug}/p/{o}"}
                for o in dev.post_ids
                if o in by_id and by_id[o].outlet != mine_outlet and by_id[o].outlet not in own
            ]
            if others:
                out[pid] = others
    return out
