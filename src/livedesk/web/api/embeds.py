"""Cards for other sites' posts and videos, made from a pasted link."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from livedesk.newsroom import cards
from livedesk.newsroom.roles import Actor
from livedesk.web.auth import required_actor
from livedesk.web.deps import newsroom_of
from livedesk.web.schemas import Strict

router = APIRouter(prefix="/api")


class EmbedIn(Strict):
    url: str = Field(..., max_length=2000)


@router.post(
    "/embeds", summary="A card for a link to a post or video elsewhere",
    description="YouTube, Vimeo, X, Instagram, TikTok, Bluesky, Mastodon or Facebook. The answer is the media "
                "item to put in a post's `media`: provider, author, title or text, and a thumbnail copied to "
                "this site. Readers load nothing from the provider until they click: then the card plays in a "
                "frame of GET /embed/player/{provider} (for providers with a player), or they follow its link.",
    responses={422: {"description": "not a link to a post or video of those providers"}},
)
async def make_card(request: Request, body: EmbedIn, actor: Actor = Depends(required_actor)) -> dict:
    return await run_in_threadpool(cards.embed_card, newsroom_of(request), body.url, actor)
