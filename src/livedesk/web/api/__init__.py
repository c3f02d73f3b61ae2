"""The JSON API (OpenAPI at /docs), one module per resource."""

from __future__ import annotations

from fastapi import APIRouter

from livedesk.web.api import developments, embeds, events, media, posts, search, sources, streams

router = APIRouter()
for part in (events, posts, search, streams, sources, developments, media, embeds):
    router.include_router(part.router)
