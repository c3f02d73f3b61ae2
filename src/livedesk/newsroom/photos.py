"""Photos uploaded from an editor's machine: checked to be a real image within size and pixel
limits, cleaned (orientation applied, EXIF and GPS dropped by re-encoding the pixels) and made
into renditions about 480, 960 and 1600 px wide, in WebP and JPEG, stored in the database, or in
the site's S3-compatible bucket when it names one: either way every node reads the same renditions,
with no shared disk."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy.exc import IntegrityError

from livedesk.errors import Invalid
from livedesk.newsroom.roles import WRITERS, Actor, require
from livedesk.store import media as media_store
from livedesk.store.db import run_read, run_write

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

MAX_UPLOAD_BYTES = 25_000_000
MAX_PIXELS = 40_000_000  # a 12-megapixel camera photo is well inside; a 100-megapixel one is not
MAX_SIDE = 12_000
WIDTHS = (480, 960, 1600)
FORMATS = {"JPEG", "PNG", "WEBP", "GIF"}  # raster formats only: never SVG or anything that runs
ENCODINGS = (("webp", "image/webp", {"quality": 80, "method": 4}),
             ("jpg", "image/jpeg", {"quality": 82, "optimize": True, "progressive": True}))


class TooLarge(Invalid):
    """An upload over the byte or pixel limits (HTTP 413)."""


@dataclass
class Photo:
    upload_id: str
    width: int  # of the widest rendition
    height: int
    widths: list[int]
    blobs: list[media_store.Blob]


def rendition_widths(width: int) -> list[int]:
    """The renditions' widths for a photo `width` px wide: never upscaled, at least one."""
    widths = [w for w in WIDTHS if w < width]
    return widths if min(width, WIDTHS[-1]) in widths else [*widths, min(width, WIDTHS[-1])]


def process(data: bytes) -> Photo:
    """Renditions of an uploaded photo; `Invalid` (or `TooLarge`) when it is not one we take."""
    if not data:
        raise Invalid("the upload is empty")
    if len(data) > MAX_UPLOAD_BYTES:
        raise TooLarge(f"the photo is {len(data)} bytes; the limit is {MAX_UPLOAD_BYTES}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=sorted(FORMATS))
            if image.width * image.height > MAX_PIXELS or max(image.size) > MAX_SIDE:
                raise TooLarge(f"the photo is {image.width}×{image.height} px; the limit is "
                               f"{MAX_PIXELS // 1_000_000} megapixels and {MAX_SIDE} px a side")
            image.load()  # decodes every pixel: a truncated or forged file fails here
            image = ImageOps.exif_transpose(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"the photo has far more pixels than the limit of {MAX_PIXELS // 1_000_000} megapixels") from None
    except UnidentifiedImageError:
        raise Invalid("the upload is not a photo in JPEG, PNG, WebP or GIF") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid("the photo's file is damaged or incomplete") from None
    image = _flat_rgb(image)
    upload_id = hashlib.blake2b(data, digest_size=12).hexdigest()
    blobs = []
    for width in rendition_widths(image.width):
        height = max(1, round(image.height * width / image.width))
        resized = image if width == image.width else image.resize((width, height), Image.Resampling.LANCZOS)
        for ext, content_type, options in ENCODINGS:
            out = io.BytesIO()
            resized.save(out, format="WEBP" if ext == "webp" else "JPEG", **options)  # no exif: metadata is dropped
            blobs.append(media_store.Blob(rendition_name(upload_id, width, ext), upload_id, width, height, content_type,
                                          out.getvalue()))
    widest = blobs[-1]
    return Photo(upload_id, widest.width, widest.height, sorted({b.width for b in blobs}), blobs)


def _flat_rgb(image: Image.Image) -> Image.Image:
    """RGB pixels; transparency is laid on white, as JPEG has none."""
    if image.mode in ("RGBA", "LA", "P", "PA"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def rendition_name(upload_id: str, width: int, ext: str = "jpg") -> str:
    """The stored name of one rendition; the widest JPEG's is the media item's URL, and the last
    one written to a bucket."""
    return f"{upload_id}-{width}.{ext}"


def media_item(photo_id: str, width: int, height: int, widths: list[int]) -> dict:
    """The post media item of an upload: its JPEG as the plain URL, for feeds and embeds."""
    return {"kind": "image", "url": f"/media/{rendition_name(photo_id, max(widths))}", "upload": photo_id,
            "width": width, "height": height, "widths": widths}


def upload(room: Newsroom, data: bytes, actor: Actor) -> dict:
    """Store an uploaded photo's renditions (once per distinct file); its media item.
    `Unavailable` when the bucket fails, with none of the renditions left in it."""
    require(actor, WRITERS)
    photo = process(data)
    keep(room, photo.blobs, actor.id)
    return media_item(photo.upload_id, photo.width, photo.height, photo.widths)


def keep(room: Newsroom, blobs: list[media_store.Blob], created_by: int | None = None) -> None:
    """Store renditions, in the bucket or the database; an upload already stored is left as it is."""
    uploads: dict[str, list[media_store.Blob]] = {}
    for blob in blobs:
        uploads.setdefault(blob.upload_id, []).append(blob)
    if room.bucket is not None:
        for same in uploads.values():
            same = sorted(same, key=_written_order)
            if not room.bucket.has(same[-1].name):  # the last one written stands for the whole upload
                room.bucket.put_blobs(same)
        return

    def work(conn) -> None:
        fresh = [b for upload_id, same in uploads.items() if not media_store.has_upload(conn, upload_id) for b in same]
        media_store.insert_blobs(conn, fresh, created_by, datetime.now(UTC))

    try:
        run_write(room.engine, work)
    except IntegrityError:
        pass  # the same file, uploaded at the same moment by another request, is stored already


def check_stored(room: Newsroom, media: list[dict]) -> None:
    """A post names only photos stored here: `Invalid` for an upload that is not (one whose upload
    failed, or an id made up), so that no post goes out pointing to a photo nobody can load."""
    for item in media:
        if not item.get("upload"):
            continue
        upload_id = str(item["upload"])
        if room.bucket is not None:
            stored = room.bucket.has(rendition_name(upload_id, max(item["widths"])))
        else:
            stored = run_read(room.engine, lambda conn: media_store.has_upload(conn, upload_id))
        if not stored:
            raise Invalid(f"no uploaded photo {upload_id}: upload it again (POST /api/media)")


def _written_order(blob: media_store.Blob) -> tuple[int, bool]:
    """Narrowest first, the widest JPEG (the media item's own URL) last."""
    return blob.width, blob.name.endswith(".jpg")


def rendition(room: Newsroom, name: str) -> media_store.Blob | None:
    """One stored rendition by name, from wherever this site keeps them."""
    if room.bucket is not None:
        return room.bucket.get_blob(name)
    return run_read(room.engine, lambda conn: media_store.get_blob(conn, name))


def renditions_of(room: Newsroom, upload_ids: list[str]) -> list[media_store.Blob]:
    """Every stored rendition of these uploads."""
    if room.bucket is not None:
        return room.bucket.blobs_of(upload_ids)
    return run_read(room.engine, lambda conn: media_store.blobs_of(conn, upload_ids))
