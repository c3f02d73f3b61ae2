"""The player a card turns into when the reader clicks it: a page of this site holding one frame
of the provider's own player (YouTube's no-cookie host, Vimeo's player, X's post frame ...).

The reader's page and its CSP stay as they are: they frame only this site. This small page is
what names the provider, in a CSP of its own that lets in that one player's origin and nothing
else, so nothing from the provider loads before the click, and only the player after it.
"""

from __future__ import annotations

import hashlib
from base64 import b64encode
from html import escape
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

from livedesk.ingest.embeds import player_frame
from livedesk.newsroom import NotFound

router = APIRouter()

PREFIX = "/embed/player/"
STYLE = "html,body{margin:0;height:100%;background:#111}iframe{display:block;border:0;width:100%;height:100%}"
_STYLE_HASH = "'sha256-" + b64encode(hashlib.sha256(STYLE.encode()).digest()).decode() + "'"


def player_path(url: str | None) -> str | None:
    """This site's player address for a card's link, or None where the link only leads out."""
    found = player_frame(url) if url else None
    if found is None:
        return None
    return f"{PREFIX}{found[0].lower()}?url={quote(str(url), safe='')}"


def player_shape(url: str | None) -> str:
    """"video" (wide) or "post" (tall): the frame's shape in the reader's page."""
    found = player_frame(url) if url else None
    return found[2] if found else "video"


@router.get(
    PREFIX + "{provider}", summary="A provider's player for a card, once a reader clicks it", tags=["embeds"],
    response_class=HTMLResponse,
    responses={200: {"description": "a page framing the provider's player, under a CSP that allows that player alone"},
               404: {"description": "no player for this link: not a post or video of a provider that has one"}},
)
def player(provider: str, url: str = Query(..., max_length=2000, description="the card's link")) -> HTMLResponse:
    found = player_frame(url)
    if found is None or found[0].lower() != provider:
        raise NotFound("no player for this link")
    name, src, _shape = found
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(src))
    page = (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(name)} player</title>'
            f'<meta name="robots" content="noindex"><style>{STYLE}</style></head><body>'
            f'<iframe src="{escape(src)}" title="{escape(name)} player" allow="autoplay; encrypted-media; fullscreen; '
            f'picture-in-picture" allowfullscreen referrerpolicy="strict-origin-when-cross-origin"></iframe></body></html>')
    csp = (f"default-src 'none'; frame-src {origin}; style-src {_STYLE_HASH}; base-uri 'none'; form-action 'none'; "
           "frame-ancestors *")  # where this site's embed may go, the player it holds goes too
    return HTMLResponse(page, headers={"Content-Security-Policy": csp, "Cache-Control": "public, max-age=86400"})
