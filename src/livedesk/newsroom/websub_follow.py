"""WebSub (W3C recommendation), this site as a subscriber: pushes from other outlets' hubs.

When a poll finds that a source's feed declares a hub (`ingest/websub.discover`), and the site
knows its public address (`public_url`, for the callback), it asks that hub for the feed, with a
secret of its own and a callback only this subscription knows (/websub/callback/TOKEN). The hub
verifies with a GET the callback answers; its pushes are checked against the secret and go into
the same store as a poll (`follow.take_push`). While the lease holds, the source is still polled,
slowly (`websub_safety_poll_s`), in case a push is lost; the lease is renewed before it ends.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from livedesk.ingest import FetchError
from livedesk.ingest.fetch import send
from livedesk.ingest.websub import HubLink, signature_matches
from livedesk.newsroom import NotFound
from livedesk.newsroom.publish import now
from livedesk.store import websub as store
from livedesk.store.db import run_read, run_write

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

log = logging.getLogger("livedesk.websub")

RETRY_UNANSWERED_S = 60  # a request the hub never verified is made again after this long
RETRY_FAILED_S = 600  # and one the hub refused or never got, after this long


class Gone(LookupError):
    """A push to a callback no source uses any more (HTTP 410: the hub may drop it)."""


def callback_url(room: Newsroom, token: str) -> str:
    return f"{str(room.settings.public_url).rstrip('/')}/websub/callback/{token}"


def poll_interval(room: Newsroom, source_id: int, interval_s: int) -> int:
    """Seconds to the next poll: the source's own, or the slow safety net while a hub pushes."""
    follow = run_read(room.engine, lambda conn: store.get_follow(conn, source_id))
    if follow is not None and follow.expires_at is not None and follow.expires_at > now():
        return max(interval_s, room.settings.websub_safety_poll_s)
    return interval_s


def noticed(room: Newsroom, source_id: int, link: HubLink) -> None:
    """A poll found the source's hub: subscribe there unless that is done or under way. Never raises."""
    if not room.settings.public_url:
        return  # a hub could not call this site back
    follow = run_read(room.engine, lambda conn: store.get_follow(conn, source_id))
    if follow is not None and (follow.hub, follow.topic) == (link.hub, link.topic):
        return  # subscribed, asked, or refused: renewals and retries are `renew_due`'s
    subscribe(room, source_id, link.hub, link.topic)


def subscribe(room: Newsroom, source_id: int, hub: str, topic: str) -> bool:
    """Ask `hub` to push `topic` to this site; the callback and secret stay the source's. Never raises."""
    moment = now()

    def work(conn: Connection) -> store.Follow:
        old = store.get_follow(conn, source_id)
        values = {"source_id": source_id, "hub": hub, "topic": topic, "state": "requested", "requested_at": moment,
                  "token": old.token if old else secrets.token_urlsafe(24),
                  "secret": old.secret if old else secrets.token_hex(32), "last_error": None}
        if old is None or (old.hub, old.topic) != (hub, topic):
            values.update(lease_seconds=None, expires_at=None)
        store.save_follow(conn, values)
        found = store.get_follow(conn, source_id)
        assert found is not None
        return found

    follow = run_write(room.engine, work)  # saved first: a hub may verify before it answers
    form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": callback_url(room, follow.token),
            "hub.lease_seconds": str(room.settings.websub_lease_s), "hub.secret": follow.secret}
    try:
        answer = send("POST", hub, data=form, allow_private=room.settings.fetch_allow_private)
    except FetchError as error:
        _failed(room, source_id, moment, str(error))
        return False
    if not 200 <= answer.status < 300:
        said = answer.content.decode("utf-8", "replace").strip()[:300]
        _failed(room, source_id, moment, f"the hub answered HTTP {answer.status}" + (f": {said}" if said else ""))
        return False
    return True


def _failed(room: Newsroom, source_id: int, asked_at: datetime, error: str) -> None:
    log.info("websub: subscribing source %s failed: %s", source_id, error)

    def work(conn: Connection) -> None:
        follow = store.get_follow(conn, source_id)
        if follow is not None and follow.requested_at == asked_at and follow.state == "requested":
            store.update_follow(conn, source_id, {"state": "failed", "last_error": error[:2000]})

    run_write(room.engine, work)


def verify_intent(room: Newsroom, token: str, mode: str, topic: str, challenge: str, lease: str | None,
                  reason: str | None = None) -> str:
    """The hub's verification GET: the challenge to echo when this subscription is ours and was
    asked for; NotFound (HTTP 404) otherwise. A denial is recorded."""

    def work(conn: Connection) -> str:
        follow = store.follow_by_token(conn, token)
        if follow is None or follow.topic != topic:
            raise NotFound("no subscription to that topic here")
        if mode == "denied":
            store.update_follow(conn, follow.source_id, {"state": "denied", "last_error": (reason or "denied by the hub")[:2000]})
            return ""
        if mode != "subscribe" or follow.state not in ("requested", "active") or not challenge:
            raise NotFound(f"no {mode} of that topic was asked for")
        seconds = int(lease) if lease and lease.isdigit() else room.settings.websub_lease_s
        store.update_follow(conn, follow.source_id, {
            "state": "active", "lease_seconds": seconds, "expires_at": now() + timedelta(seconds=seconds), "last_error": None,
        })
        return challenge

    return run_write(room.engine, work)


def check_push(room: Newsroom, token: str, body: bytes, signature: str | None) -> store.Follow | None:
    """The subscription a push belongs to, when its signature is right; None (recorded on the
    subscription) when it is not, as the recommendation says such content is ignored. Gone when
    no subscription has this callback."""
    follow = run_read(room.engine, lambda conn: store.follow_by_token(conn, token))
    if follow is None:
        raise Gone("no subscription has this callback")
    if not signature_matches(follow.secret, body, signature):
        note = "a push without a valid X-Hub-Signature was ignored"
        run_write(room.engine, lambda conn: store.update_follow(conn, follow.source_id, {"last_error": note}))
        return None
    return follow


def pushed(room: Newsroom, source_id: int, error: str | None = None) -> None:
    values = {"last_push_at": now(), "last_error": error}
    run_write(room.engine, lambda conn: store.update_follow(conn, source_id, values))


def renew_due(room: Newsroom) -> int:
    """Renew leases that end soon, and ask again where a request went unanswered or failed."""
    moment = now()

    def due(follow: store.Follow) -> bool:
        if follow.state == "active" and follow.expires_at is not None:
            margin = max(room.settings.websub_tick_s * 3, (follow.lease_seconds or 0) * 0.1)
            return follow.expires_at - moment <= timedelta(seconds=margin)
        if follow.state == "requested":
            return moment - follow.requested_at > timedelta(seconds=RETRY_UNANSWERED_S)
        return follow.state == "failed" and moment - follow.requested_at > timedelta(seconds=RETRY_FAILED_S)

    candidates = [f for f in run_read(room.engine, store.all_follows) if due(f)]
    renewed = 0
    for follow in candidates:
        taken = run_write(room.engine, lambda conn, f=follow: store.take_follow(conn, f.source_id, f.requested_at, moment))
        if taken:  # this node asks; another that saw the same row finds it taken
            renewed += subscribe(room, follow.source_id, follow.hub, follow.topic)
    return renewed
