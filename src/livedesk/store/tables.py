"""The database schema (SQLAlchemy Core). Alembic migrations create it."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)

from livedesk.model import EventStatus


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, hands back aware UTC, on every engine."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

outlets = Table(
    "outlets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(80), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("timezone", String(64)),
    Column("own", Boolean, nullable=False, default=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("slug", String(120), nullable=False, unique=True),
    Column("title", String(300), nullable=False),
    Column("standfirst", Text, nullable=False, default=""),
    Column("lead_media", JSON),
    Column("status", String(16), nullable=False, default=EventStatus.live.value),
    Column("coverage_start", UTCDateTime),
    Column("coverage_end", UTCDateTime),
    Column("topics", JSON, nullable=False, default=list),
    Column("links", JSON, nullable=False, default=list),
    Column("key_points", JSON, nullable=False, default=list),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("kind", String(16), nullable=False, server_default="api"),  # api | session (the desk's)
    Column("last_used_at", UTCDateTime),  # sessions: idle expiry counts from here
    Column("label", String(200)),  # sessions: the browser and address that signed in
    Index("ix_tokens_user_kind", "user_id", "kind"),
)

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id"), nullable=False, index=True),
    Column("outlet_id", Integer, ForeignKey("outlets.id")),
    Column("url", Text),
    Column("text", Text),
    Column("timezone", String(64)),
    Column("poll_interval_s", Integer, nullable=False, default=60),
    Column("etag", String(300)),
    Column("last_modified", String(100)),
    Column("last_fetch_at", UTCDateTime),
    Column("last_error", Text),
    Column("reading_warning", Text),  # the zone or date its page left to be assumed, and the fix
    Column("error_count", Integer, nullable=False, default=0),
    Column("next_poll_at", UTCDateTime),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

posts = Table(
    "posts",
    metadata,
    Column("num", Integer, primary_key=True),  # full-text index row id
    Column("id", String(24), nullable=False, unique=True),  # the public, stable id
    Column("event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("outlet_id", Integer, ForeignKey("outlets.id"), nullable=False),
    Column("source_id", Integer, ForeignKey("sources.id")),
    Column("anchor", String(200)),  # the source's own identity for an ingested post
    Column("published_at", UTCDateTime, nullable=False),
    Column("time_known", Boolean, nullable=False, default=True),
    Column("position", Integer),  # order in its source page, for ingested posts
    Column("updated_at", UTCDateTime, nullable=False),
    Column("headline", Text),
    Column("body_md", Text, nullable=False, default=""),
    Column("body_html", Text, nullable=False, default=""),
    Column("search_text", Text, nullable=False, default=""),
    Column("media", JSON, nullable=False, default=list),
    Column("authors", JSON, nullable=False, default=list),
    Column("topics", JSON, nullable=False, default=list),
    Column("pinned", Boolean, nullable=False, default=False),
    Column("key_event", Boolean, nullable=False, default=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False, default=1),
    Column("corrected_at", UTCDateTime),
    Column("correction_note", Text),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_posts_event_status_time", "event_id", "status", "published_at", "id"),
    Index("ix_posts_status_time", "status", "published_at"),
    # pinned posts only (migration 0015); `posts._pinned_nums` names it on SQLite, whose planner
    # would rather walk all of an event's posts by the index above
    Index("ix_posts_pinned", "event_id", "published_at", sqlite_where=text("pinned = 1"), postgresql_where=text("pinned")),
    # each source's posts with their page positions, read whole by `developments.position_sums`
    Index("ix_posts_source_positions", "source_id", "status", "num", "position"),
    UniqueConstraint("source_id", "anchor", name="uq_posts_source_anchor"),
)

# Topics of each post, one row each, so that a topic filter uses an index on every engine.
post_topics = Table(
    "post_topics",
    metadata,
    Column("post_id", String(24), ForeignKey("posts.id"), primary_key=True),
    Column("topic", String(80), primary_key=True, index=True),
)

post_versions = Table(
    "post_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("post_id", String(24), ForeignKey("posts.id"), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("headline", Text),
    Column("body_md", Text, nullable=False),
    Column("body_html", Text, nullable=False),
    Column("media", JSON, nullable=False),
    Column("replaced_at", UTCDateTime, nullable=False),
    Column("note", Text),  # the correction note given with the edit that replaced it
)

# Posts per event and status, and published posts per event and topic: kept by triggers
# (migration 0013), so that an event page counts without reading all of the event's posts.
event_post_counts = Table(
    "event_post_counts",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("total", Integer, nullable=False),
)

event_topic_counts = Table(
    "event_topic_counts",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
    Column("topic", String(80), primary_key=True),
    Column("total", Integer, nullable=False),
)

# Every change readers see, in commit order; the stream sends these and catch-up replays them.
changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("post_id", String(24)),
    Column("payload", Text, nullable=False),  # JSON, as sent
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_changes_event_id", "event_id", "id"),
)

# One row per named counter; taking the next value locks the row until commit,
# so change ids commit in the order they were taken, on every engine.
counters = Table(
    "counters",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Integer, nullable=False),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("scope", String(300), primary_key=True),  # user and route
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

developments = Table(
    "developments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id"), nullable=False, index=True, unique=True),
    # the alignment's summary: the highest post number it has seen (last_num), the posts it holds,
    # and which live alignment wrote its rows last (writer); the rows are in the next two tables
    Column("data", JSON, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# An event's alignment, one row per development and one per aligned post, so that a new post
# rewrites only the rows it changed.
alignment_developments = Table(
    "alignment_developments",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("first_time", UTCDateTime),
    Column("data", JSON, nullable=False),  # the development as align/report.py writes it
)

alignment_posts = Table(
    "alignment_posts",
    metadata,
    Column("event_id", Integer, ForeignKey("events.id"), primary_key=True),
    Column("post_id", String(24), primary_key=True),
    Column("development_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False),  # its place in the alignment's list of posts
    Column("outlet", String(200), nullable=False),
    Column("time", UTCDateTime),  # stated, or inferred by the alignment
    Column("time_inferred", Boolean, nullable=False),
    Column("time_uncertainty_s", Integer),
    Column("headline", Text),
    Index("ix_alignment_posts_development", "event_id", "development_id"),
)

# Server-wide secrets (the CSRF key), made once and shared by every node on the database.
media_blobs = Table(
    "media_blobs",  # uploaded photos' renditions, kept in the database so every node can serve them
    metadata,
    Column("name", String(64), primary_key=True),  # "<upload id>-<width>.<jpg|webp>"
    Column("upload_id", String(24), nullable=False, index=True),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("content_type", String(40), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_by", Integer, ForeignKey("users.id")),
    Column("created_at", UTCDateTime, nullable=False),
)

site_secrets = Table(
    "site_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Sign-in tries per user name (or token use) and address in the current minute: taking a try
# counts it in one statement, so concurrent tries can never pass the limit together.
login_tries = Table(
    "login_tries",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("window_start", UTCDateTime, nullable=False),
    Column("count", Integer, nullable=False),
)

# Sentence vectors of post texts (align/semantic.py), so a text is embedded once per model.
embeddings = Table(
    "embeddings",
    metadata,
    Column("text_key", String(64), primary_key=True),  # semantic.text_key of the text
    Column("model", String(40), primary_key=True),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)

# WebSub, this site as the hub: who asked for which of our feeds to be pushed to them, until when.
websub_subscribers = Table(
    "websub_subscribers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("topic", String(300), nullable=False),  # the feed's path: /e/SLUG/atom.xml, /rss.xml, ...
    Column("topic_url", Text, nullable=False),  # the topic as the subscriber named it
    Column("callback", String(2000), nullable=False),
    Column("secret", String(200)),  # signs each delivery (X-Hub-Signature) when given
    Column("lease_seconds", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("topic", "callback"),
)

# Pushes owed to subscribers: made once per batch of changes (whichever node takes the cursor
# in counters first), then leased to one node at a time; retried with backoff, then dropped.
websub_deliveries = Table(
    "websub_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subscriber_id", Integer, ForeignKey("websub_subscribers.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("change_id", Integer, nullable=False),  # the newest change it carries
    Column("attempts", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False, index=True),
    Column("lease_owner", String(80)),
    Column("lease_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

# WebSub, this site as a subscriber: a followed source whose feed declares a hub.
websub_follows = Table(
    "websub_follows",
    metadata,
    Column("source_id", Integer, ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
    Column("hub", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("token", String(40), nullable=False, unique=True),  # names the callback: /websub/callback/TOKEN
    Column("secret", String(80), nullable=False),
    Column("state", String(16), nullable=False),  # requested | active | denied | failed
    Column("lease_seconds", Integer),
    Column("expires_at", UTCDateTime),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("last_push_at", UTCDateTime),
    Column("last_error", Text),
)

__all__ = [
    "alignment_developments",
    "alignment_posts",
    "changes",
    "counters",
    "developments",
    "embeddings",
    "event_post_counts",
    "event_topic_counts",
    "events",
    "idempotency_keys",
    "login_tries",
    "media_blobs",
    "metadata",
    "outlets",
    "post_topics",
    "post_versions",
    "posts",
    "site_secrets",
    "sources",
    "tokens",
    "users",
    "websub_deliveries",
    "websub_follows",
    "websub_subscribers",
]
