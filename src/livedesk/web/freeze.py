"""A finished event as static files, for an archive or a CDN: `livedesk event freeze`.

The pages are the app's own: the app runs in this process (its lifespan included, without
polling, partner news or a shared broker) and each page is asked of it over ASGI, as a browser
would ask a server.
Written under DIR as the site's paths, so DIR can be served as the site's root:

    e/SLUG/index.html            the event page, its "Show more" pages at e/SLUG/page/N/index.html
    e/SLUG/timeline/index.html   the merged timeline and the compare page, where the event has them
    e/SLUG/rss.xml, atom.xml, feed.json, liveblog.jsonld (the page's LiveBlogPosting JSON-LD)
    static/...                   the styles and images those pages use
    media/...                    the renditions of photos uploaded to its posts

A frozen page keeps no live parts: the script that follows the stream is left out, and each
"Show more" link points at the next written page.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import anyio
import httpx

from livedesk.config import Settings
from livedesk.errors import NotFound
from livedesk.web.app import create_app

_JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
_LIVE_SCRIPT = re.compile(r'<script src="/static/reader\.js[^"]*" defer></script>')
_NEXT = re.compile(r'<a href="([^"]*)"([^>]*) rel="next">')
_STATIC = re.compile(r'(?:href|src)="(/static/[^"?#]+)')
_MEDIA = re.compile(r"/media/[0-9a-f]{24}-\d{1,5}\.(?:jpg|webp)")  # uploaded photos' renditions
_CSS_URL = re.compile(r'url\(["\']?(/static/[^"\')?#]+)')


def freeze_event(settings: Settings, slug: str, target: Path) -> list[Path]:
    """Write the event `slug` under `target`; the files written. NotFound if there is none.
    Feeds and JSON-LD give absolute links at LIVEDESK_PUBLIC_URL (set it to where DIR is served)."""
    return anyio.run(_freeze, settings, slug, target)


async def _freeze(settings: Settings, slug: str, target: Path) -> list[Path]:
    quiet = settings.model_copy(update={
        "broker_url": "memory://", "poll_sources": False, "partner_feeds": "", "scheduler_interval_s": 86_400.0,
    })
    written: list[Path] = []

    def write(path: str, body: bytes) -> None:
        file = target / path.lstrip("/")
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(body)
        written.append(file)

    app = create_app(quiet)
    base = settings.public_url or "http://localhost"
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as client:
        first = await client.get(f"/e/{slug}")
        if first.status_code == 404:
            raise NotFound(f"no event {slug!r}")
        first.raise_for_status()
        found = _JSONLD.search(first.text)
        if found:
            write(f"/e/{slug}/liveblog.jsonld", json.dumps(json.loads(found.group(1)), ensure_ascii=False, indent=1).encode())
        pages = await _event_pages(client, slug, first.text)
        for number, html in enumerate(pages, start=1):
            write(f"/e/{slug}/index.html" if number == 1 else f"/e/{slug}/page/{number}/index.html", html.encode())
        for view in ("timeline", "compare"):
            response = await client.get(f"/e/{slug}/{view}")
            if response.status_code == 200:
                pages.append(_frozen(response.text))
                write(f"/e/{slug}/{view}/index.html", pages[-1].encode())
        for feed in ("rss.xml", "atom.xml", "feed.json"):
            response = await client.get(f"/e/{slug}/{feed}")
            response.raise_for_status()
            write(f"/e/{slug}/{feed}", response.content)
        for path in sorted(await _static_paths(client, pages)):
            write(path, (await client.get(path)).content)
    return written


async def _event_pages(client: httpx.AsyncClient, slug: str, first: str) -> list[str]:
    """The event page and every "Show more" page after it, each linking to the next one's file."""
    pages = [first]
    while True:
        found = _NEXT.search(pages[-1])
        if found is None:
            return [_frozen(page) for page in pages]
        href = found.group(1).replace("&amp;", "&")
        following = await client.get(f"/e/{slug}{href}" if href.startswith("?") else href)
        following.raise_for_status()
        link = f'<a href="/e/{slug}/page/{len(pages) + 1}/"{found.group(2)} rel="next">'
        pages[-1] = pages[-1][: found.start()] + link + pages[-1][found.end():]
        pages.append(following.text)


def _frozen(html: str) -> str:
    return _LIVE_SCRIPT.sub("", html)


async def _static_paths(client: httpx.AsyncClient, pages: list[str]) -> set[str]:
    """The site's static files and uploaded photos the pages use, and what their style sheets use."""
    paths = {path for page in pages for path in _STATIC.findall(page) + _MEDIA.findall(page)}
    for path in [p for p in paths if p.endswith(".css")]:
        paths.update(_CSS_URL.findall((await client.get(path)).text))
    return {urlsplit(path).path for path in paths}
