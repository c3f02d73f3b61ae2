"""WebSub (W3C recommendation), this site as the hub of its own feeds.

A subscriber POSTs hub.mode, hub.topic (one of our feeds), hub.callback, and optionally
hub.lease_seconds and hub.secret. A callback on a private address is refused at once, as
sources are (`fetch_allow_private` opens it). Intent is verified afterwards with a GET carrying a
challenge the callback must echo; only then is the subscription stored, until its lease ends.

After a post changes, whichever node first takes the `websub` cursor (a row of counters)
turns the new changes into one delivery per subscriber of the feeds they touch; deliveries
are then leased to one node at a time, so each is sent once however many nodes run. A delivery
POSTs the feed as it is then, with Link rel=hub and rel=self and, when the subscriber gave a
secret, X-Hub-Signature (HMAC-SHA256 of the body). A failed delivery is tried again after
`websub_retry_s`, doubled each time, and dropped after `websub_attempts` tries; a 410 Gone ends
the subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import anyio
import httpx
from sqlalchemy import Connection

from livedesk.config import Settings
from livedesk.ingest import FetchError
from livedesk.ingest.fetch import check_address, guarded_client, send
from livedesk.ingest.websub import SIGNATURE_HEADER, sign
from livedesk.newsroom import Invalid, NotFound
from livedesk.newsroom.publish import now
from livedesk.store import events as event_store
from livedesk.store import websub as store
from livedesk.store.db import run_read, run_write

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

log = logging.getLogger("livedesk.websub")

FEEDS = ("rss.xml", "atom.xml", "feed.json")
_TOPIC = re.compile(r"^/(?:e/(?P<slug>[^/]{1,200})/)?(?P<kind>rss\.xml|atom\.xml|feed\.json)$")
MAX_SECRET_BYTES = 200  # as the recommendation says
DELIVERY_TIMEOUT_S = 10.0
DELIVERY_LEASE_S = 60.0
BATCH = 500

Render = Callable[[str], tuple[bytes, str]]  # a topic URL -> (the feed's bytes, its content type)


@dataclass(frozen=True)
class Topic:
    slug: str | None  # None: the site-wide feed
    kind: str  # rss.xml | atom.xml | feed.json

    @property
    def path(self) -> str:
        return f"/e/{self.slug}/{self.kind}" if self.slug else f"/{self.kind}"


def parse_topic(path: str) -> Topic | None:
    found = _TOPIC.match(path)
    return Topic(found["slug"], found["kind"]) if found else None


def hub_url(settings: Settings, base: str) -> str | None:
    """The hub the feeds declare: this site's own (`self`), none (`off`), or another's URL."""
    hub = settings.websub_hub.strip()
    if hub.lower() in ("", "off", "0", "false", "no"):
        return None
    if hub.lower() == "self":
        return base + "/websub"
    return hub


def serves_hub(settings: Settings) -> bool:
    return settings.websub_hub.strip().lower() == "self"


# ---- subscription requests -----------------------------------------------------------------

@dataclass(frozen=True)
class HubRequest:
    mode: str  # subscribe | unsubscribe
    topic: Topic
    topic_url: str
    callback: str
    lease_seconds: int
    secret: str | None


def read_request(room: Newsroom, form: Mapping[str, str], base: str) -> HubRequest:
    """A subscriber's request checked: a feed of this site, an allowed callback, a lease within
    bounds. Raises Invalid (HTTP 4xx) with what is wrong; nothing is stored yet."""
    settings = room.settings
    if not serves_hub(settings):
        raise NotFound("this site is not a WebSub hub (LIVEDESK_WEBSUB_HUB is not `self`)")
    mode = (form.get("hub.mode") or "").strip()
    if mode not in ("subscribe", "unsubscribe"):
        raise Invalid("hub.mode must be subscribe or unsubscribe")
    topic_url, callback = (form.get("hub.topic") or "").strip(), (form.get("hub.callback") or "").strip()
    if not topic_url or not callback:
        raise Invalid("hub.topic and hub.callback are required")
    if len(topic_url) > 2000 or len(callback) > 2000:
        raise Invalid("hub.topic and hub.callback may be at most 2000 characters")
    parts = urlsplit(topic_url)
    topic = parse_topic(parts.path) if parts.scheme in ("http", "https") else None
    own = str(settings.public_url).rstrip("/") if settings.public_url else base
    if topic is None or (settings.public_url and not topic_url.startswith(own + "/")):
        raise Invalid(f"hub.topic is not a feed of this site (such as {own}/e/SLUG/atom.xml)")
    if topic.slug is not None and run_read(room.engine, lambda conn: event_store.get_event(conn, topic.slug)) is None:
        raise Invalid(f"hub.topic names no event of this site: {topic.slug!r}")
    secret = form.get("hub.secret")
    if secret is not None and (not secret or len(secret.encode()) >= MAX_SECRET_BYTES):
        raise Invalid(f"hub.secret must be 1 to {MAX_SECRET_BYTES - 1} bytes")
    lease = _lease(settings, form.get("hub.lease_seconds"))
    try:
        check_address(callback, settings.fetch_allow_private)
    except FetchError as error:
        raise Invalid(f"hub.callback {error}") from None
    return HubRequest(mode, topic, topic_url, callback, lease, secret)


def _lease(settings: Settings, asked: str | None) -> int:
    low, high = settings.websub_min_lease_s, max(settings.websub_min_lease_s, settings.websub_max_lease_s)
    if asked is None or not asked.strip():
        return high
    if not asked.strip().isdigit():
        raise Invalid("hub.lease_seconds must be a whole number of seconds")
    return max(low, min(high, int(asked)))


def verify(room: Newsroom, request: HubRequest) -> bool:
    """Ask the callback whether it wants this (verification of intent); when it echoes the
    challenge, store the subscription (or remove it). Never raises."""
    challenge = secrets.token_urlsafe(24)
    params = {"hub.mode": request.mode, "hub.topic": request.topic_url, "hub.challenge": challenge}
    if request.mode == "subscribe":
        params["hub.lease_seconds"] = str(request.lease_seconds)
    try:
        answer = send("GET", request.callback, params=params, allow_private=room.settings.fetch_allow_private,
                      timeout=DELIVERY_TIMEOUT_S)
    except FetchError as error:
        log.info("websub: %s not verified: %s", request.callback, error)
        return False
    if not 200 <= answer.status < 300 or answer.content.decode("utf-8", "replace").strip() != challenge:
        log.info("websub: %s did not confirm %s of %s", request.callback, request.mode, request.topic_url)
        return False

    def work(conn: Connection) -> None:
        if request.mode == "unsubscribe":
            store.remove_subscriber(conn, request.topic.path, request.callback)
            return
        moment = now()
        store.save_subscriber(conn, {
            "topic": request.topic.path, "topic_url": request.topic_url, "callback": request.callback,
            "secret": request.secret, "lease_seconds": request.lease_seconds,
            "expires_at": moment + timedelta(seconds=request.lease_seconds), "created_at": moment,
        })

    run_write(room.engine, work)
    return True


def list_subscriptions(room: Newsroom) -> list[dict]:
    """Every live subscription with the deliveries still owed (the secret is not shown)."""
    rows, owed = run_read(room.engine, lambda conn: (store.list_subscribers(conn), store.owed(conn)))
    return [{"id": s.id, "topic": s.topic_url, "callback": s.callback, "signed": s.secret is not None,
             "lease_seconds": s.lease_seconds, "expires_at": s.expires_at.isoformat(),
             "created_at": s.created_at.isoformat(), "owed": owed.get(s.id, {}).get("count", 0),
             "attempts": owed.get(s.id, {}).get("attempts", 0), "last_error": owed.get(s.id, {}).get("error")}
            for s in rows]


# ---- deliveries ----------------------------------------------------------------------------

def make_deliveries(room: Newsroom) -> int:
    """Turn the changes since the cursor into deliveries (or, when the feeds declare another
    site's hub, into publish pings to it); 0 when another node is doing it."""
    own_hub = serves_hub(room.settings)
    changed_topics: list[str] = []

    def work(conn: Connection) -> int:
        changed_topics.clear()
        cursor = store.take_cursor(conn)
        if cursor is None:
            return 0
        changed, last = store.changed_events(conn, cursor)
        if last == cursor:
            return 0
        owed = 0
        if changed:
            slugs = store.event_slugs(conn, list(changed))
            moment = now()
            for event_id, change_id in changed.items():
                topics = [f"/{kind}" for kind in FEEDS]
                if event_id in slugs:
                    topics += [Topic(slugs[event_id], kind).path for kind in FEEDS]
                changed_topics.extend(t for t in topics if t not in changed_topics)
                if own_hub:
                    live = [s.id for s in store.list_subscribers(conn, topics) if s.expires_at > moment]
                    store.owe(conn, live, change_id, moment)
                    owed += len(live)
        store.move_cursor(conn, last)
        return owed

    owed = run_write(room.engine, work)
    if not own_hub and changed_topics:
        ping_hub(room, changed_topics)
    return owed


def ping_hub(room: Newsroom, topics: list[str]) -> None:
    """Tell the other site's hub the feeds declare that these feeds changed (hub.mode=publish,
    as hubs take it); it fetches and pushes them itself. Best effort: never raises."""
    settings = room.settings
    if hub_url(settings, "") is None:
        return  # the feeds declare no hub
    if not settings.public_url:
        log.info("websub: LIVEDESK_PUBLIC_URL is unset, so the hub cannot be told which feeds changed")
        return
    base = str(settings.public_url).rstrip("/")
    hub = hub_url(settings, base) or ""
    for topic in topics:
        try:
            answer = send("POST", hub, data={"hub.mode": "publish", "hub.url": base + topic},
                          allow_private=settings.fetch_allow_private, timeout=DELIVERY_TIMEOUT_S)
        except FetchError as error:
            log.info("websub: could not tell %s that %s changed: %s", hub, topic, error)
            continue
        if not 200 <= answer.status < 300:
            log.info("websub: %s answered HTTP %s to the publish ping of %s", hub, answer.status, topic)


@dataclass
class _Outcome:
    delivery: store.Delivery
    ok: bool = False
    gone: bool = False
    error: str = ""


def claim_due(room: Newsroom, owner: str) -> list[store.Delivery]:
    """Lease to this node up to a batch of the deliveries due now."""
    moment = now()
    return run_write(room.engine, lambda conn: store.claim_deliveries(conn, owner, moment, BATCH, DELIVERY_LEASE_S))


def deliver(room: Newsroom, owner: str, claimed: list[store.Delivery], render: Render, pool: ThreadPoolExecutor,
            client: httpx.Client) -> None:
    """Send a batch of leased deliveries, each feed rendered once, and record how each went."""
    documents: dict[str, tuple[bytes, str] | None] = {}
    for delivery in claimed:
        url = delivery.subscriber.topic_url
        if url not in documents:
            try:
                documents[url] = render(url)
            except NotFound:
                documents[url] = None  # the event is gone: its subscribers are dropped below
    outcomes = list(pool.map(lambda d: _push(room, d, documents[d.subscriber.topic_url], client), claimed))
    _record(room, owner, outcomes)


def _push(room: Newsroom, delivery: store.Delivery, document: tuple[bytes, str] | None, client: httpx.Client) -> _Outcome:
    outcome = _Outcome(delivery)
    subscriber = delivery.subscriber
    if document is None:
        outcome.gone = True
        return outcome
    body, content_type = document
    parts = urlsplit(subscriber.topic_url)
    base = str(room.settings.public_url).rstrip("/") if room.settings.public_url else f"{parts.scheme}://{parts.netloc}"
    headers = {"Content-Type": content_type,
               "Link": f'<{hub_url(room.settings, base) or base + "/websub"}>; rel="hub", <{subscriber.topic_url}>; rel="self"'}
    if subscriber.secret:
        headers[SIGNATURE_HEADER] = sign(subscriber.secret, body)
    try:
        answer = send("POST", subscriber.callback, content=body, headers=headers, client=client)
    except FetchError as error:
        outcome.error = str(error)
        return outcome
    outcome.ok = 200 <= answer.status < 300
    outcome.gone = answer.status == 410
    outcome.error = "" if outcome.ok else f"the callback answered HTTP {answer.status}"
    return outcome


def _record(room: Newsroom, owner: str, outcomes: list[_Outcome]) -> None:
    settings = room.settings

    def work(conn: Connection) -> None:
        store.delivered(conn, [o.delivery.id for o in outcomes if o.ok], owner)
        for outcome in outcomes:
            delivery = outcome.delivery
            if outcome.gone:
                store.drop_subscriber(conn, delivery.subscriber_id)
            elif not outcome.ok:
                tries = delivery.attempts + 1
                if tries >= settings.websub_attempts:
                    log.warning("websub: dropped a delivery to %s after %d tries: %s",
                                delivery.subscriber.callback, tries, outcome.error)
                    store.delivered(conn, [delivery.id], owner)
                else:
                    wait = settings.websub_retry_s * 2 ** (tries - 1)
                    store.retry_later(conn, delivery.id, owner, now() + timedelta(seconds=wait), outcome.error)

    run_write(room.engine, work)


def expire(room: Newsroom) -> int:
    """Drop subscriptions whose lease has ended."""
    return run_write(room.engine, lambda conn: store.expire_subscribers(conn, now()))


# ---- the background job --------------------------------------------------------------------

MAX_BATCHES = 4  # batches a node sends at once


async def _send(room: Newsroom, owner: str, claimed: list[store.Delivery], render: Render, pool: ThreadPoolExecutor,
                 client: httpx.Client) -> None:
    try:
        await anyio.to_thread.run_sync(deliver, room, owner, claimed, render, pool, client)
    except Exception:  # noqa: BLE001 - their leases lapse and they are sent again
        log.exception("websub: a batch of deliveries failed")

async def run(room: Newsroom, render: Render, wake: asyncio.Event, owner: str,
              renew: Callable[[Newsroom], object] | None = None) -> None:
    """This node's share of the hub: make and send deliveries when woken (a change was announced)
    or every `websub_tick_s`, drop ended leases, and run `renew` (the subscriber end's renewals)."""
    tick = room.settings.websub_tick_s
    client = guarded_client(DELIVERY_TIMEOUT_S, room.settings.fetch_allow_private)
    sending: set[asyncio.Task] = set()  # batches on their way: a slow callback holds up only its own
    pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="websub")
    try:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), tick)
            wake.clear()
            try:
                todo = await anyio.to_thread.run_sync(lambda: run_read(room.engine, lambda c: store.waiting(c, now())))
                owed = await anyio.to_thread.run_sync(make_deliveries, room) if todo.changes else 0
                while (owed or todo.deliveries) and len(sending) < MAX_BATCHES:  # none owed, none due: no claim
                    claimed = await anyio.to_thread.run_sync(claim_due, room, owner)
                    if not claimed:
                        break
                    batch = asyncio.create_task(_send(room, owner, claimed, render, pool, client))
                    sending.add(batch)
                    batch.add_done_callback(sending.discard)
                if todo.expired:
                    await anyio.to_thread.run_sync(expire, room)
                if renew is not None:
                    await anyio.to_thread.run_sync(renew, room)
            except Exception:  # noqa: BLE001 - the database is away: try again next tick
                log.exception("websub: deliveries failed; trying again")
    finally:  # leased deliveries still on their way are sent again by a node once their lease ends
        for batch in sending:
            batch.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        client.close()
