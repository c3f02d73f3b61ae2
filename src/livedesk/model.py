"""Domain types shared by every layer.

Plain dataclasses: ingest/ and align/ produce and consume them without a database,
store/ maps rows to them (Event, Post, Source), and each stored type says how it reads
as JSON (`to_json`), the shape the API answers and the change log records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    admin = "admin"
    editor = "editor"
    contributor = "contributor"
    reader = "reader"


class PostStatus(StrEnum):
    draft = "draft"
    pending = "pending"  # a contributor's post waiting for an editor
    scheduled = "scheduled"
    published = "published"
    deleted = "deleted"


class EventStatus(StrEnum):
    live = "live"
    ended = "ended"


@dataclass
class Media:
    """An image or a video attached to a post or an event."""

    kind: str  # "image" | "video"
    url: str | None = None
    alt: str | None = None
    caption: str | None = None
    credit: str | None = None
    title: str | None = None  # video
    duration_s: int | None = None  # video
    source: str | None = None  # video: who made it

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Media:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass
class KeyPoint:
    text: str
    post_id: str | None = None


@dataclass
class Link:
    url: str
    title: str


@dataclass(frozen=True)
class User:
    """A newsroom account: its desk password and tokens are kept by store/accounts.py."""

    id: int
    name: str
    role: Role
    created_at: datetime


@dataclass(frozen=True)
class TokenUser:
    """The user a live token belongs to, and that token: an API token or a desk session."""

    user: User
    token_id: int
    token_kind: str  # "api" | "session"
    last_used_at: datetime | None


@dataclass(frozen=True)
class DeskSession:
    """One of a user's live desk sessions, as their sessions page lists them."""

    id: int
    created_at: datetime
    last_used_at: datetime
    label: str | None


@dataclass(frozen=True)
class StoredResponse:
    """The response first given to a request with an idempotency key, replayed to its repeats."""

    status: int
    body: str


@dataclass
class Outlet:
    slug: str
    name: str
    timezone: str | None = None  # IANA zone the outlet usually writes its times in
    own: bool = False  # the site's own outlet
    id: int | None = None  # its row, once stored


def iso(value: datetime | None) -> str | None:
    """An aware time as the API writes it: ISO 8601 with a Z."""
    return value.isoformat().replace("+00:00", "Z") if value else None


def from_iso(text: str | None) -> datetime | None:
    """A time as `iso` writes it, read back."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


@dataclass
class Event:
    """A live blog: its posts hang off it by `id`; readers find it by `slug`."""

    id: int
    slug: str
    title: str
    standfirst: str
    lead_media: dict[str, Any] | None
    status: EventStatus
    coverage_start: datetime | None
    coverage_end: datetime | None
    topics: list[str]
    links: list[dict[str, Any]]
    key_points: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime

    def to_json(self, post_count: int | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "slug": self.slug,
            "title": self.title,
            "standfirst": self.standfirst,
            "lead_media": self.lead_media,
            "status": str(self.status),
            "coverage_start": iso(self.coverage_start),
            "coverage_end": iso(self.coverage_end),
            "topics": self.topics or [],
            "links": self.links or [],
            "key_points": self.key_points or [],
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }
        if post_count is not None:
            data["post_count"] = post_count
        return data


@dataclass
class Post:
    """A stored post, the site's own or another outlet's, with its outlet and event named."""

    num: int
    id: str
    event_id: int
    outlet_id: int
    source_id: int | None
    anchor: str | None
    published_at: datetime
    time_known: bool
    position: int | None
    updated_at: datetime
    headline: str | None
    body_md: str
    body_html: str
    search_text: str
    media: list[dict[str, Any]]
    authors: list[str]
    topics: list[str]
    pinned: bool
    key_event: bool
    status: PostStatus
    version: int
    corrected_at: datetime | None
    correction_note: str | None
    created_by: int | None
    created_at: datetime
    outlet_slug: str
    outlet_name: str
    outlet_own: bool
    event_slug: str

    @property
    def visible(self) -> bool:
        return self.status == PostStatus.published

    def to_json(self, history: list[PostVersion] | None = None) -> dict[str, Any]:
        """The post as the API shows it; with its earlier versions under "history" when given."""
        data: dict[str, Any] = {
            "id": self.id,
            "event": self.event_slug,
            "outlet": {"slug": self.outlet_slug, "name": self.outlet_name, "own": bool(self.outlet_own)},
            "published_at": iso(self.published_at),
            "time_known": bool(self.time_known),
            "updated_at": iso(self.updated_at),
            "headline": self.headline,
            "body": self.body_md,
            "body_html": self.body_html,
            "media": self.media or [],
            "authors": self.authors or [],
            "topics": self.topics or [],
            "pinned": bool(self.pinned),
            "key_event": bool(self.key_event),
            "status": str(self.status),
            "version": self.version,
            "corrected_at": iso(self.corrected_at),
            "correction_note": self.correction_note,
        }
        if history is not None:
            data["history"] = [version.to_json() for version in history]
        return data


@dataclass
class PostVersion:
    """An earlier version of a post, kept when an edit replaced it."""

    id: int
    post_id: str
    version: int
    headline: str | None
    body_md: str
    body_html: str
    media: list[dict[str, Any]]
    replaced_at: datetime
    note: str | None  # the correction note given with the edit that replaced it

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "headline": self.headline,
            "body": self.body_md,
            "body_html": self.body_html,
            "media": self.media,
            "replaced_at": iso(self.replaced_at),
            "note": self.note,
        }


@dataclass
class Source:
    """Another outlet's coverage attached to an event: a URL that is polled, or pasted text."""

    id: int
    event_id: int
    outlet_id: int | None
    url: str | None
    text: str | None
    timezone: str | None
    poll_interval_s: int
    etag: str | None
    last_modified: str | None
    last_fetch_at: datetime | None
    last_error: str | None
    error_count: int
    next_poll_at: datetime | None
    lease_owner: str | None
    lease_until: datetime | None
    created_at: datetime
    reading_warning: str | None = None  # the zone or date its page left to be assumed, and the fix
    outlet_slug: str | None = None
    outlet_name: str | None = None
    outlet_timezone: str | None = None
    post_count: int = 0

    def to_json(self, event_slug: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "event": event_slug,
            "kind": "url" if self.url else "text",
            "url": self.url,
            "outlet": {"slug": self.outlet_slug, "name": self.outlet_name} if self.outlet_slug else None,
            "timezone": self.timezone,
            "poll_interval": self.poll_interval_s,
            "post_count": self.post_count,
            "last_fetch_at": iso(self.last_fetch_at),
            "last_error": self.last_error,
            "reading_warning": self.reading_warning,
            "error_count": self.error_count,
            "next_poll_at": iso(self.next_poll_at),
            "created_at": iso(self.created_at),
        }


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log: what readers' streams send and catch-up replays, in id order."""

    id: int
    event_id: int
    kind: str  # "post.created", "post.updated", "event.updated" ...
    post_id: str | None
    payload: str  # its JSON, as sent
    created_at: datetime


@dataclass
class ParsedPost:
    """One post read from another outlet's page, in page order."""

    text: str
    time: datetime | None = None  # aware UTC, or None when the page gives no time
    headline: str | None = None
    author: str | None = None
    media: list[Media] = field(default_factory=list)
    anchor: str | None = None  # the source's own id for the post, when it has one
    updated: datetime | None = None  # aware UTC


@dataclass
class ParsedPage:
    """What a reader in ingest/ makes of one outlet's live page."""

    posts: list[ParsedPost]
    title: str | None = None
    outlet: str | None = None
    published: datetime | None = None  # aware UTC
    standfirst: str | None = None
    key_points: list[str] = field(default_factory=list)
    declared_post_count: int | None = None
    media: list[Media] = field(default_factory=list)  # page-level lead image / video
    order: str = "newest"  # "newest" | "oldest": the page's post order
    # Where the zone and the date of the page's times came from: "stamp" (each post's own
    # stamp says it), "page" (a statement, dateline or heading), "outlet" (its home zone, from
    # name, domain or language), "option" (--tz / --date) or "assumed" (UTC, today).
    zone_source: str = "stamp"
    date_source: str = "stamp"


@dataclass
class AlignPost:
    """A post as align/ sees it: one outlet's report, maybe without a time."""

    id: str
    outlet: str
    text: str
    headline: str | None = None
    time: datetime | None = None  # aware UTC
    position: int = 0  # index in its own page's order (0 = first shown)
    page_order: str = "newest"  # the order of the page it came from
    date_assumed: bool = False  # the page gave a clock time but no date: the day may be wrong
    zone_assumed: bool = False  # the page's time zone was guessed: the hour may be wrong


@dataclass
class Quote:
    outlet: str
    post_id: str
    text: str
    speaker: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"outlet": self.outlet, "post_id": self.post_id, "text": self.text, "speaker": self.speaker}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Quote:
        return cls(outlet=data["outlet"], post_id=data["post_id"], text=data["text"], speaker=data.get("speaker"))


@dataclass
class Development:
    """Posts of one or more outlets that report the same thing."""

    id: str
    post_ids: list[str]
    outlets: list[str]
    label: str
    first_reported_by: str | None = None
    first_time: datetime | None = None
    lead_seconds: float | None = None  # first reporter's lead over the next outlet
    runner_up: str | None = None  # that next outlet
    lead_uncertainty_s: float | None = None  # ± of the lead, or of the contest, where a time is inferred
    first_contested_by: list[str] = field(default_factory=list)  # outlets that may have been first
    lead_basis: str | None = None  # what the lead rests on: "both times stated", "CNN's time inferred"
    quotes: list[Quote] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The development as the alignment report writes it and the store keeps it."""
        return {
            "id": self.id,
            "post_ids": self.post_ids,
            "outlets": self.outlets,
            "first_reported_by": self.first_reported_by,
            "first_time": iso(self.first_time),
            "lead_seconds": self.lead_seconds,
            "runner_up": self.runner_up,
            "lead_uncertainty_s": round(self.lead_uncertainty_s) if self.lead_uncertainty_s is not None else None,
            "first_contested_by": self.first_contested_by,
            "lead_basis": self.lead_basis,
            "label": self.label,
            "quotes": [q.to_json() for q in self.quotes],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Development:
        """A development as `to_json` wrote it."""
        return cls(
            id=data["id"],
            post_ids=list(data.get("post_ids", [])),
            outlets=list(data.get("outlets", [])),
            label=data.get("label", ""),
            first_reported_by=data.get("first_reported_by"),
            first_time=from_iso(data.get("first_time")),
            lead_seconds=data.get("lead_seconds"),
            runner_up=data.get("runner_up"),
            lead_uncertainty_s=data.get("lead_uncertainty_s"),
            first_contested_by=list(data.get("first_contested_by", [])),
            lead_basis=data.get("lead_basis"),
            quotes=[Quote.from_json(q) for q in data.get("quotes", [])],
        )


@dataclass
class AlignedPost:
    """A post as an event's stored alignment holds it: its time (stated, or inferred with its ±)
    and the development it belongs to ("" for none)."""

    id: str
    outlet: str
    time: datetime | None
    time_inferred: bool
    time_uncertainty_s: int | None
    headline: str | None
    development: str = ""

    def to_json(self) -> dict[str, Any]:
        """The post as the alignment report writes it, without its text and development."""
        return {
            "id": self.id,
            "outlet": self.outlet,
            "time": iso(self.time),
            "time_inferred": self.time_inferred,
            "time_uncertainty_s": self.time_uncertainty_s,
            "headline": self.headline,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlignedPost:
        """A post as `to_json` wrote it."""
        return cls(id=data["id"], outlet=data.get("outlet") or "", time=from_iso(data.get("time")),
                   time_inferred=bool(data.get("time_inferred")), time_uncertainty_s=data.get("time_uncertainty_s"),
                   headline=data.get("headline"))


@dataclass
class AlignmentSummary:
    """What is kept of an event's stored alignment beside its rows: the last post number it has
    seen, how many posts it holds, when it was made, and the live alignment that stored it."""

    last_num: int = 0
    posts: int = 0
    updated_at: datetime | None = None
    writer: str | None = None


@dataclass
class StoredAlignment:
    """An event's stored alignment: its posts (in the order stored), its developments (earliest
    first), each outlet's exclusive developments and share of them, and the key-point
    suggestions worked out from it (none until asked for)."""

    posts: list[AlignedPost] = field(default_factory=list)
    developments: list[Development] = field(default_factory=list)
    exclusives: dict[str, list[str]] = field(default_factory=dict)
    shares: dict[str, float] = field(default_factory=dict)
    last_num: int = 0
    updated_at: datetime | None = None
    key_point_suggestions: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The shape `align.report` writes, its posts without their text."""
        return {
            "posts": [p.to_json() for p in self.posts],
            "developments": [d.to_json() for d in self.developments],
            "exclusives": self.exclusives,
            "shares": self.shares,
            "key_point_suggestions": self.key_point_suggestions,
            "last_num": self.last_num,
            "updated_at": iso(self.updated_at),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoredAlignment:
        """An alignment as `to_json` wrote it (an event's archive holds it so)."""
        return cls(
            posts=[AlignedPost.from_json(p) for p in data.get("posts", [])],
            developments=[Development.from_json(d) for d in data.get("developments", [])],
            exclusives=dict(data.get("exclusives", {})),
            shares=dict(data.get("shares", {})),
            last_num=data.get("last_num", 0),
            updated_at=from_iso(data.get("updated_at")),
            key_point_suggestions=list(data.get("key_point_suggestions", [])),
        )


@dataclass
class InferredTime:
    time: datetime  # aware UTC
    plus_minus_s: float  # half-width of the uncertainty
