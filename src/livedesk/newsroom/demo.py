"""`livedesk demo`: the fictional harbour summit, stored once, then its next chapter told live."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, date, datetime, timedelta

import anyio

from livedesk.demo import load_outlets, load_story, outlet_pages
from livedesk.ingest.page import read_page
from livedesk.model import EventStatus, Role
from livedesk.newsroom import follow, publish
from livedesk.newsroom.roles import Actor
from livedesk.newsroom.room import Newsroom
from livedesk.store import events as event_store
from livedesk.store import posts as post_store
from livedesk.store.db import run_read

log = logging.getLogger("livedesk.demo")

TICK_SECONDS = 6.0
SLOW_TICK_SECONDS = 40.0
FAST_POSTS = 8  # the next chapter's first posts come every TICK_SECONDS, the rest every SLOW_TICK_SECONDS


def _actor(story: dict) -> Actor:
    return Actor(None, story["outlet"]["name"], Role.admin)


def _post_data(item: dict) -> dict:
    media = [{"kind": "image", **image} for image in item.get("images", [])]
    if item.get("video"):
        media.append({"kind": "video", **item["video"]})
    return {
        "body": item["body"].strip(),
        "headline": item.get("headline"),
        "media": media,
        "authors": item.get("authors") or [],
        "topics": item.get("topics") or [],
        "pinned": bool(item.get("pinned")),
        "key_event": bool(item.get("key_event")),
    }


def seed(room: Newsroom) -> str:
    """Store the demo event unless it is there; returns its slug.

    The story's clock is moved so that its last post was written minutes ago; the
    other outlets' last reports, a few minutes later than ours, then still lie in the past.
    """
    story = load_story()
    slug = story["slug"]
    if run_read(room.engine, lambda conn: event_store.get_event(conn, slug)) is not None:
        return slug
    actor = _actor(story)
    last = max(p["time"] for p in story["posts"])
    shift = datetime.now(UTC) - timedelta(minutes=10) - last
    publish.create_event(
        room,
        {
            "slug": slug,
            "title": story["title"],
            "standfirst": story["standfirst"],
            "lead_media": {"kind": "image", **story["lead_image"]},
            "coverage_start": story["start"] + shift,
            "topics": story.get("topics", []),
            "links": story.get("related", []),
        },
        actor,
    )
    ids: dict[str, str] = {}
    for item in story["posts"]:
        data = _post_data(item)
        data["published_at"] = item["time"] + shift
        correction = item.get("correction")
        if correction:
            data["body"] = correction["original_body"].strip()
        post = publish.create_post(room, slug, data, actor)
        ids[item["key"]] = post.id
        if correction:
            publish.edit_post(room, slug, post.id, {"body": item["body"].strip()}, actor, correction=correction["note"])
    key_points = [{"text": k["text"], "post_id": ids.get(k.get("post"))} for k in story.get("key_points", [])]
    publish.update_event(room, slug, {"key_points": key_points}, actor)
    _follow_outlets(room, slug, actor, story["start"].date(), shift)
    return slug


def _follow_outlets(room: Newsroom, slug: str, actor: Actor, day: date, shift: timedelta) -> None:
    """Attach the other outlets' pages as pasted sources, their clocks moved like the story's.

    `day` is the story's date, for pages that give clock times only.
    """
    zones = {outlet["name"]: outlet.get("timezone") for outlet in load_outlets()}
    for name, _file, content in outlet_pages():
        text = content.decode("utf-8")
        data = {"text": text, "outlet": name, "timezone": zones.get(name)}
        source = follow.add_source(room, slug, data, actor, ingest=False)
        page = read_page(text, outlet=name, tz=zones.get(name), date=day)
        for post in page.posts:
            post.time = post.time + shift if post.time else None
        page.published = page.published + shift if page.published else None
        follow.store_page(room, source["id"], page)


def _chapter_left(room: Newsroom, story: dict) -> list[dict]:
    """The next chapter's posts not yet published; none once the coverage has ended."""
    def read(conn):
        event = event_store.get_event(conn, story["slug"])
        if event is None or event.status == EventStatus.ended:
            return None
        rows, _next = post_store.list_posts(conn, event.id, limit=10_000)
        return {row.body_md.strip() for row in rows}

    told = run_read(room.engine, read)
    if told is None:
        return []
    return [item for item in story.get("next_chapter", []) if item["body"].strip() not in told]


def _pause(told: int) -> float:
    """Quick at first, so a visitor sees live posts arrive, then at a newsroom's pace."""
    return TICK_SECONDS if told < FAST_POSTS else SLOW_TICK_SECONDS


async def ticker(room: Newsroom) -> None:
    """Tells the story's next chapter a post at a time, each once; after its last post, which signs
    off, the coverage ends. A demo started again goes on where it stopped."""
    story = load_story()
    actor = _actor(story)
    left = await anyio.to_thread.run_sync(lambda: _chapter_left(room, story))
    told = len(story.get("next_chapter", [])) - len(left)
    for item in left:
        await asyncio.sleep(_pause(told))
        try:
            await anyio.to_thread.run_sync(lambda: publish.create_post(room, story["slug"], _post_data(item), actor))
        except Exception:
            log.exception("demo post failed; going on with the next one")
        told += 1
    if left:
        await anyio.to_thread.run_sync(lambda: publish.update_event(room, story["slug"], {"status": EventStatus.ended}, actor))
