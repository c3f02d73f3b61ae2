"""The fictional demo story that `livedesk demo` serves.

`story.toml` holds our own outlet's event (posts, key points, ticker posts);
`outlets/` holds other fictional outlets' coverage of the same story, one file
per outlet in its own format, listed in `outlets/outlets.toml`.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

_HERE = files(__name__)


class DemoStoryError(ValueError):
    """The bundled demo files are malformed."""


def load_story() -> dict[str, Any]:
    """The demo event as a dict, with `start` and each post's `time` as aware UTC datetimes."""
    story = _read_toml("story.toml")
    start = story.get("start")
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise DemoStoryError("story.toml: `start` must be a datetime with a UTC offset")
    story["start"] = start.astimezone(UTC)
    for post in story.get("posts", []):
        offset = post.get("minutes_offset")
        if not isinstance(offset, int | float):
            raise DemoStoryError(f"story.toml: post {post.get('key')!r} has no minutes_offset")
        post["time"] = story["start"] + timedelta(minutes=offset)
    return story


def load_outlets() -> list[dict[str, Any]]:
    """The other outlets' entries from outlets/outlets.toml (slug, name, file, format, ...)."""
    return _read_toml("outlets/outlets.toml")["outlet"]


def outlet_pages() -> list[tuple[str, str, bytes]]:
    """(outlet name, file name, content) for each other outlet's coverage file."""
    pages = []
    for outlet in load_outlets():
        resource = _HERE / "outlets" / outlet["file"]
        if not resource.is_file():
            raise DemoStoryError(f"outlets.toml names a missing file: {outlet['file']}")
        pages.append((outlet["name"], outlet["file"], resource.read_bytes()))
    return pages


def _read_toml(name: str) -> dict[str, Any]:
    resource = _HERE.joinpath(*name.split("/"))
    try:
        return tomllib.loads(resource.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DemoStoryError(f"{name}: {exc}") from None
