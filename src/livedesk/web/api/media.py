"""Photos: uploaded by the desk, served to readers with long cache headers from this site's own
addresses, whether the database or a bucket holds them.

With a bucket, a node reads the rendition from it and answers with it (no redirect): the pages,
feeds and JSON-LD keep one address per photo wherever it is stored, the reader's browser talks
to this site alone (the CSP and the readers' privacy stay as they are), and the bucket may stay
private. Renditions never change, so a cache in front of the site asks for each one once."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from livedesk.newsroom import NotFound, photos
from livedesk.newsroom.roles import Actor
from livedesk.web.auth import required_actor
from livedesk.web.deps import newsroom_of

router = APIRouter()

BLOB_NAME = re.compile(r"^[0-9a-f]{24}-\d{1,5}\.(jpg|webp)$")


@router.post(
    "/api/media", status_code=201, summary="Upload a photo",
    description="A JPEG, PNG, WebP or GIF of at most 25 MB and 40 megapixels. The answer is the media item to "
                "put in a post's `media`, with its renditions' widths; add alt text before publishing.",
    responses={413: {"description": "over the byte or pixel limits"}, 422: {"description": "not a photo we take"},
               503: {"description": "the photo bucket cannot be reached; nothing was stored"}},
)
async def upload_photo(request: Request, file: UploadFile = File(...), actor: Actor = Depends(required_actor)) -> JSONResponse:
    data = await file.read(photos.MAX_UPLOAD_BYTES + 1)
    item = await run_in_threadpool(lambda: photos.upload(newsroom_of(request), data, actor))
    return JSONResponse(item, status_code=201)


@router.get("/media/{name}", summary="One rendition of an uploaded photo", tags=["media"],
            responses={404: {"description": "no such rendition"}, 503: {"description": "the photo bucket cannot be reached"}})
def photo_file(request: Request, name: str) -> Response:
    if not BLOB_NAME.match(name):
        raise NotFound(f"no photo {name!r}")
    tag = f'"{name}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": tag}
    if request.headers.get("if-none-match") == tag:  # named by its content: what the reader has is current
        return Response(status_code=304, headers=headers)
    blob = photos.rendition(newsroom_of(request), name)
    if blob is None:
        raise NotFound(f"no photo {name!r}")
    return Response(blob.data, media_type=blob.content_type, headers=headers)
