"""Domain types shared by every layer.

Plain dataclasses: ingest/ and align/ produce and consume them without a database,
store/ maps them to rows, web/ turns them into JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


class Role(str, Enum):
    admin = "admin"
    editor = "editor"
    contributor = "contributor"
    reader = "reader"


class PostStatus(str, Enum):
    draft = "draft"
    pending = "pending"  # a contributor's post waiting for an editor
    scheduled = "scheduled"
    published = "published"
    deleted = "deleted"


class EventStatus(str, Enum):
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


@dataclass
class Outlet:
    slug: str
    name: str
    timezone: str | None = None  # IANA zone the outlet usually writes its times in
    own: bool = False  # the site's own outlet


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


@dataclass
class InferredTime:
    time: datetime  # aware UTC
    plus_minus_s: float  # half-width of the uncertainty
