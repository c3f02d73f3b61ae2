"""Photos: uploaded by the desk, served to readers from the database with long cache headers."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from livedesk.newsroom import NotFound, photos
from livedesk.newsroom.roles import Actor
from livedesk.store import media as media_store
from livedesk.store.db import run_read
from livedesk.web.auth import required_actor
from livedesk.web.deps import engine_of, newsroom_of

router = APIRouter()

BLOB_NAME = re.compile(r"^[0-9a-f]{24}-\d{1,5}\.(jpg|webp)$")


@router.post(
    "/api/media", status_code=201, summary="Upload a photo",
    description="A JPEG, PNG, WebP or GIF of at most 25 MB and 40 megapixels. The answer is the media item to "
                "put in a post's `media`, with its renditions' widths; add alt text before publishing.",
    responses={413: {"description": "over the byte or pixel limits"}, 422: {"description": "not a photo we take"}},
)
async def upload_photo(request: Request, file: UploadFile = File(...), actor: Actor = Depends(required_actor)) -> JSONResponse:
    data = await file.read(photos.MAX_UPLOAD_BYTES + 1)
    item = await run_in_threadpool(lambda: photos.upload(newsroom_of(request), data, actor))
    return JSONResponse(item, status_code=201)


@router.get("/media/{name}", summary="One rendition of an uploaded photo", tags=["media"])
def photo_file(request: Request, name: str) -> Response:
    if not BLOB_NAME.match(name):
        raise NotFound(f"no photo {name!r}")
    blob = run_read(engine_of(request), lambda conn: media_store.get_blob(conn, name))
    if blob is None:
        raise NotFound(f"no photo {name!r}")
    tag = f'"{blob.name}"'
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "ETag": tag}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(blob.data, media_type=blob.content_type, headers=headers)
