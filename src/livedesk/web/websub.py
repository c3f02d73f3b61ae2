"""WebSub's routes: the hub this site is for its own feeds (/websub), the callback other outlets'
hubs push to (/websub/callback/TOKEN), and the editors' list of subscriptions.

The hub and the callback are the W3C protocol's own endpoints: any site may call them, so they
take no token; what guards them is the protocol (verification of intent, the subscription's
secret, a callback no one else knows) and the private-address guard on every callback.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from livedesk.newsroom import follow, websub_follow, websub_hub
from livedesk.newsroom.roles import EDITORS, Actor, require
from livedesk.web.auth import required_actor
from livedesk.web.deps import newsroom_of
from livedesk.web.render import public_base
from livedesk.web.responses import etag_json

router = APIRouter(tags=["websub"])

_HUB_DOC = """WebSub hub (W3C): subscribe to or unsubscribe from one of this site's feeds
(`/e/SLUG/atom.xml`, `rss.xml`, `feed.json`, or the site-wide `/atom.xml` ...). Answers 202, then
verifies intent with a GET to the callback carrying `hub.challenge`. A callback on a private
address is refused with 422. Needs no token: the protocol is open to any site."""


@router.post("/websub", status_code=202, summary="WebSub hub: subscribe to a feed", description=_HUB_DOC,
             response_class=PlainTextResponse)
def hub(
    request: Request,
    background: BackgroundTasks,
    mode: Annotated[str, Form(alias="hub.mode", description="subscribe or unsubscribe")],
    topic: Annotated[str, Form(alias="hub.topic", description="the feed's URL (its rel=self)")],
    callback: Annotated[str, Form(alias="hub.callback", description="where to verify and push")],
    lease_seconds: Annotated[str | None, Form(alias="hub.lease_seconds", description="how long to push")] = None,
    secret: Annotated[str | None, Form(alias="hub.secret", description="signs pushes (X-Hub-Signature)")] = None,
) -> PlainTextResponse:
    room = newsroom_of(request)
    form = {"hub.mode": mode, "hub.topic": topic, "hub.callback": callback}
    if lease_seconds is not None:
        form["hub.lease_seconds"] = lease_seconds
    if secret is not None:
        form["hub.secret"] = secret
    asked = websub_hub.read_request(room, form, public_base(request.app.state.settings, request.scope))
    background.add_task(websub_hub.verify, room, asked)
    return PlainTextResponse(f"{asked.mode} accepted; the callback will be asked to confirm", status_code=202)


@router.get("/websub/callback/{token}", summary="WebSub subscriber: a hub verifies a subscription",
            response_class=PlainTextResponse)
def verify_intent(
    request: Request,
    token: str,
    mode: Annotated[str, Query(alias="hub.mode", max_length=20)],
    topic: Annotated[str, Query(alias="hub.topic", max_length=2000)],
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=500)] = "",
    lease_seconds: Annotated[str | None, Query(alias="hub.lease_seconds", max_length=12)] = None,
    reason: Annotated[str | None, Query(alias="hub.reason", max_length=2000)] = None,
) -> PlainTextResponse:
    echo = websub_follow.verify_intent(newsroom_of(request), token, mode, topic, challenge, lease_seconds, reason)
    return PlainTextResponse(echo)


@router.post("/websub/callback/{token}", status_code=202, summary="WebSub subscriber: a hub pushes a feed",
             openapi_extra={"requestBody": {"description": "the feed as the hub sends it, signed with "
                                            "X-Hub-Signature", "content": {"*/*": {}}}})
async def take_push(request: Request, token: str) -> Response:
    body = await request.body()
    room = newsroom_of(request)
    content_type, signature = request.headers.get("content-type"), request.headers.get("x-hub-signature")
    try:
        await anyio.to_thread.run_sync(follow.take_push, room, token, body, content_type, signature)
    except websub_follow.Gone as gone:
        return JSONResponse({"error": str(gone)}, status_code=410)
    return Response(status_code=202)


@router.get("/api/websub/subscriptions", summary="Who this site's hub pushes feeds to (editors)")
def subscriptions(request: Request, actor: Actor = Depends(required_actor)) -> Response:
    require(actor, EDITORS)
    return etag_json(request, {"subscriptions": websub_hub.list_subscriptions(newsroom_of(request))})
