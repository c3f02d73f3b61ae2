"""The JSON API of coverage compared across outlets: developments, the compare view, and
accepting a key-point suggestion."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from pydantic import Field

from livedesk.newsroom import publish
from livedesk.newsroom.roles import Actor
from livedesk.web.auth import required_actor
from livedesk.web.compare_view import developments_view, event_view
from livedesk.web.deps import newsroom_of
from livedesk.web.responses import etag_json
from livedesk.web.schemas import Strict

router = APIRouter(prefix="/api")


class AcceptIn(Strict):
    development_id: str | None = Field(None, max_length=200)
    text: str | None = Field(None, max_length=500)


@router.get("/events/{slug}/developments", summary="The event's developments across outlets", tags=["compare"])
def get_developments(request: Request, slug: str) -> Response:
    _event, alignment = newsroom_of(request).developments.current(slug)
    return etag_json(request, developments_view(slug, alignment.to_json()))


@router.get("/events/{slug}/compare", summary="Outlets compared, and the merged timeline", tags=["compare"])
def get_compare(request: Request, slug: str) -> Response:
    return etag_json(request, event_view(newsroom_of(request), slug)[3])


@router.post("/events/{slug}/keypoints/accept", summary="Add a key-point suggestion to the event's key points", tags=["compare"])
def accept_key_point(request: Request, slug: str, body: AcceptIn, actor: Actor = Depends(required_actor)) -> dict:
    event, post_count = publish.accept_suggestion(newsroom_of(request), slug, body.development_id, body.text, actor)
    return event.to_json(post_count)
