"""Sources of other outlets' coverage attached to an event (JSON API)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from pydantic import Field

from livedesk.newsroom import follow
from livedesk.newsroom.roles import WRITERS, Actor, require
from livedesk.web.auth import required_actor
from livedesk.web.deps import newsroom_of
from livedesk.web.responses import etag_json
from livedesk.web.schemas import Strict

router = APIRouter(prefix="/api")


class SourceIn(Strict):
    url: str | None = Field(None, max_length=2000, description="a live page or feed to poll")
    text: str | None = Field(None, max_length=900_000, description="page text pasted from a browser, parsed once")
    outlet: str | None = Field(None, max_length=200, description="the outlet's name; else read from the page")
    timezone: str | None = Field(None, max_length=64, description="IANA zone for times the page leaves unzoned")
    poll_interval: int | None = Field(None, le=86_400, description="seconds between polls (at least 15, default 60)")


@router.post("/events/{slug}/sources", status_code=201, summary="Follow another outlet's coverage")
def add_source(request: Request, slug: str, body: SourceIn, actor: Actor = Depends(required_actor)) -> JSONResponse:
    data = body.model_dump(exclude_none=True)
    source = follow.add_source(newsroom_of(request), slug, data, actor)
    return JSONResponse(source, status_code=201)


@router.get("/events/{slug}/sources", summary="Sources of an event with their polling status")
def list_sources(request: Request, slug: str, actor: Actor = Depends(required_actor)) -> Response:
    require(actor, WRITERS)  # a reader's token is not shown URLs and fetch errors
    return etag_json(request, {"sources": follow.list_sources(newsroom_of(request), slug)})


@router.delete("/events/{slug}/sources/{source_id}", status_code=204, summary="Stop following a source (its posts stay)")
def remove_source(request: Request, slug: str, source_id: int = PathParam(ge=1, le=2**31 - 1),
                  actor: Actor = Depends(required_actor)) -> Response:
    follow.remove_source(newsroom_of(request), slug, source_id, actor)
    return Response(status_code=204)
