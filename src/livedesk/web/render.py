"""The site's one Jinja environment: its filters and globals, and rendering a page or an error page."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from livedesk.markup import html_to_text, strip_markup
from livedesk.web.deps import over_https
from livedesk.web.player import player_path, player_shape

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"
HTML = "text/html; charset=utf-8"
CRITICAL_CSS = (STATIC / "critical.css").read_text()


# ---- filters -------------------------------------------------------------------------

def _parse(iso: str | datetime | None) -> datetime | None:
    if iso is None or isinstance(iso, datetime):
        return iso
    return datetime.fromisoformat(iso)


def clock(iso: str | datetime | None) -> str:
    """14:05 UTC (reader.js turns it into the reader's own zone)."""
    moment = _parse(iso)
    return moment.strftime("%H:%M UTC") if moment else ""


def stamp(iso: str | datetime | None) -> str:
    """A time for a `datetime` attribute: whole seconds, as HTML's valid date strings want."""
    moment = _parse(iso)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z") if moment else ""


def day(iso: str | datetime | None) -> str:
    moment = _parse(iso)
    return f"{moment.day} {moment:%b %Y}" if moment else ""


def duration(seconds: int | None) -> str:
    if not seconds:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def playable(url: str | None) -> bool:
    return bool(url) and str(url).lower().split("?")[0].endswith((".mp4", ".webm", ".ogv", ".ogg", ".m4v"))


def post_title(post: dict[str, Any], limit: int = 90) -> str:
    """The headline, or the start of the text for posts without one, or the time of a post
    with neither (a photo alone): Atom requires a title."""
    headline = strip_markup(post.get("headline") or "")
    if headline:
        return headline
    text = strip_markup(html_to_text(post.get("body_html") or ""))
    if not text:
        when = _parse(post.get("published_at") or None)
        return f"Update at {when.astimezone(UTC):%H:%M} UTC" if when else "Update"
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


_SCRIPT_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026",
                   0x2028: "\\u2028", 0x2029: "\\u2029"}


def script_json(data: Any) -> Markup:
    """JSON that is safe inside a <script> element: no `</script>` breakout, no HTML entities."""
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_ESCAPES))


# ---- globals -------------------------------------------------------------------------

def _static_versions() -> dict[str, str]:
    return {p.name: hashlib.blake2b(p.read_bytes(), digest_size=5).hexdigest() for p in STATIC.glob("*.*")}


_VERSIONS = _static_versions()


def static_url(name: str) -> str:
    """A static file's URL with its content hash, so browsers may keep it."""
    version = _VERSIONS.get(name) or _static_versions().get(name, "0")
    return f"/static/{name}?v={version}"


def query(params: dict[str, Any], **changes: Any) -> str:
    """The current query string with some parameters changed (None drops one)."""
    merged = {**params, **changes}
    return "?" + urlencode({k: v for k, v in merged.items() if v not in (None, "")})


env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(), trim_blocks=True,
                  lstrip_blocks=True)
env.globals.update(critical_css=Markup(CRITICAL_CSS), static_url=static_url, query=query)
env.filters.update(clock=clock, day=day, stamp=stamp, duration=duration, playable=playable, player=player_path,
                   player_shape=player_shape, title=post_title,
                   script_json=script_json)


_HOST = re.compile(r"(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d{1,5})?|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?")


def public_base(settings: Any, scope: dict) -> str:
    """The site's address for absolute links: the `public_url` setting, else this request's own.

    The scheme is https when the request came so, or a trusted proxy (`trusted_proxies`) says it
    did; a Host that is no host name falls back to the address the server listens on.
    """
    if settings.public_url:
        return str(settings.public_url).rstrip("/")
    host = b""
    for name, value in scope.get("headers") or ():
        if name == b"host":
            host = value  # the last one, as a dict of the headers would keep
    server = scope.get("server")
    return _base(host, over_https(scope, settings.trusted_proxies), tuple(server) if server else None)


@lru_cache(maxsize=256)  # asked for every cached page, mostly with the same few Host headers
def _base(host_header: bytes, https: bool, server: tuple | None) -> str:
    host = host_header.decode("latin-1")
    if not _HOST.fullmatch(host):
        address, port = server or ("127.0.0.1", 80)
        host = f"{address}:{port}"
    return f"{'https' if https else 'http'}://{host}"


def render(request: Request, name: str, /, **context: Any) -> str:
    """A template rendered with the site's name and public address."""
    settings = request.app.state.settings
    return env.get_template(name).render(site_name=settings.site_name, base_url=public_base(settings, request.scope),
                                         event_zone=settings.time_zone, **context)


def error_page(request: Request, status: int, message: str) -> Response:
    body = render(request, "error.html", status=status, message=message)
    return Response(body, status_code=status, media_type=HTML)
