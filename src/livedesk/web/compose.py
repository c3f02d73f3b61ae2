"""The desk's compose form and a post's data, both ways: media, quotes, durations, local times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from livedesk.newsroom import Invalid

COMPOSE_FIELDS = (
    "headline", "topics", "key_event", "image_url", "image_upload", "image_alt", "image_caption", "image_credit",
    "embed_url", "video_url", "video_title", "video_duration", "video_source", "quote_text", "quote_speaker",
    "scheduled_at", "tz", "draft_id",
)


# The JSON API's limits, for the same fields typed into the form.
LIMITS = {
    "headline": 500, "image_url": 2000, "image_alt": 1000, "image_caption": 2000, "image_credit": 300,
    "embed_url": 2000, "video_url": 2000, "video_title": 500, "video_source": 300, "quote_speaker": 300, "correction": 1000,
}
MAX_TOPICS, MAX_TOPIC_CHARS = 20, 80


def check_lengths(values: dict) -> None:
    for name, limit in LIMITS.items():
        if len(values.get(name) or "") > limit:
            raise Invalid(f"{name.replace('_', ' ')} is over {limit} characters")


def post_from_form(values: dict) -> dict:
    """The newsroom's post data from the compose form's fields."""
    check_lengths(values)
    body = values.get("body", "").strip()
    if values.get("quote_text"):
        body = (body + "\n\n" if body else "") + quote_block(values["quote_text"], values.get("quote_speaker", ""))
    media = []
    if values.get("image_url") or values.get("image_upload"):
        media.append({
            "kind": "image", "url": values.get("image_url") or None, "alt": values.get("image_alt") or None,
            "caption": values.get("image_caption") or None, "credit": values.get("image_credit") or None,
            **upload_from_field(values.get("image_upload") or ""),
        })
    if values.get("video_url"):
        media.append({
            "kind": "video", "url": values["video_url"], "title": values.get("video_title") or None,
            "duration_s": parse_duration(values.get("video_duration", "")), "source": values.get("video_source") or None,
        })
    topics = [t.strip() for t in values.get("topics", "").split(",") if t.strip()]
    if len(topics) > MAX_TOPICS or any(len(t) > MAX_TOPIC_CHARS for t in topics):
        raise Invalid(f"give at most {MAX_TOPICS} topics of at most {MAX_TOPIC_CHARS} characters each")
    return {
        "headline": values.get("headline") or None, "body": body, "media": media, "topics": topics,
        "key_event": values.get("key_event") == "on",
    }


# An uploaded photo in the form: "<upload id>:<width>:<height>:<renditions' widths>".
UPLOAD_FIELD = re.compile(r"^([0-9a-f]{24}):(\d{1,5}):(\d{1,5}):(\d{1,4}(?:,\d{1,4}){0,2})$")


def upload_from_field(text: str) -> dict:
    if not text:
        return {}
    found = UPLOAD_FIELD.match(text)
    if not found:
        raise Invalid("the uploaded photo's field is damaged; upload the photo again")
    return {"upload": found[1], "width": int(found[2]), "height": int(found[3]),
            "widths": [int(w) for w in found[4].split(",")]}


def upload_field(item: dict) -> str:
    if not item.get("upload"):
        return ""
    return f"{item['upload']}:{item['width']}:{item['height']}:{','.join(str(w) for w in item['widths'])}"


def quote_block(text: str, speaker: str) -> str:
    """A quote as Markdown: a blockquote with an attribution line."""
    lines = [f"> {line}".rstrip() for line in text.strip().splitlines()]
    if speaker.strip():
        lines += [">", f"> — {speaker.strip()}"]
    return "\n".join(lines)


def parse_duration(text: str) -> int | None:
    """'95', '1:35' or '1:01:35' -> seconds."""
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"\d{1,6}(:\d{1,2}){0,2}", text):
        raise Invalid(f"video duration {text!r} is not seconds or m:ss")
    seconds = 0
    for part in text.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds


def format_duration(seconds: int | None) -> str:
    """Seconds -> 'm:ss' or 'h:mm:ss', as the form takes it."""
    if not seconds:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def local_to_utc(local: str, zone: str) -> datetime:
    """A datetime-local value in the editor's zone (an IANA name; UTC if none) -> aware UTC."""
    try:
        moment = datetime.fromisoformat(local)
    except ValueError as exc:
        raise Invalid("pick a date and time to schedule the post") from exc
    try:
        tz = ZoneInfo(zone) if zone else UTC
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise Invalid(f"unknown time zone {zone[:80]!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise Invalid("pick a time between the years 1 and 9999") from exc


def form_from_post(post: dict) -> dict:
    """The compose form's fields for a stored post."""
    form = {
        "headline": post.get("headline") or "", "body": post.get("body") or "",
        "topics": ", ".join(post.get("topics") or []), "key_event": "on" if post.get("key_event") else "",
        "version": str(post.get("version") or ""),
    }
    for item in post.get("media") or []:
        if (item.get("kind") == "embed" or item.get("author") or item.get("thumbnail")) and "embed_url" not in form:
            form["embed_url"] = item.get("url") or ""  # a card: made again from its link when saved
        elif item.get("kind") == "video" and "video_url" not in form:
            form.update(video_url=item.get("url") or "", video_title=item.get("title") or "",
                        video_duration=format_duration(item.get("duration_s")), video_source=item.get("source") or "")
        elif item.get("kind") == "image" and "image_url" not in form:
            form.update(image_url=item.get("url") or "", image_upload=upload_field(item), image_alt=item.get("alt") or "",
                        image_caption=item.get("caption") or "", image_credit=item.get("credit") or "")
    return form
