"""An event as one file: export it from one newsroom, import it into another (either engine).

The archive is a zip holding `event.json`: the event, its posts with their earlier versions and
topics, media (kept as the posts hold them: URL, kind, caption, credit), key points, sources,
developments, and the outlets and users these name (see store/archive.py); beside it, the
renditions of photos uploaded to its posts (`media/NAME`, described in `media.json`). It is written
beside its target and renamed into place, so a failed export leaves no half-written file.
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from livedesk.errors import Invalid, NotFound
from livedesk.newsroom import photos
from livedesk.newsroom.room import Newsroom
from livedesk.store import archive as archive_store
from livedesk.store import changes
from livedesk.store import events as event_store
from livedesk.store import media as media_store
from livedesk.store.db import run_read, run_write

MEMBER = "event.json"
MAX_ARCHIVE_JSON = 2_000_000_000  # bytes of event.json an import reads at most
PHOTOS = "media.json"
MAX_RENDITION = 30_000_000  # bytes of one photo rendition an import reads at most
_RENDITION = re.compile(r"^[0-9a-f]{24}-\d{1,5}\.(?:jpg|webp)$")
_UPLOAD_IN = re.compile(r"/media/([0-9a-f]{24})-\d{1,5}\.jpg$")


def export_event(room: Newsroom, slug: str, target: Path) -> dict[str, int]:
    """Write the event `slug` to the archive `target`; counts of what it holds."""
    dump = run_read(room.engine, lambda conn: archive_store.read_event(conn, slug))
    if dump is None:
        raise NotFound(f"no event {slug!r}")
    blobs = photos.renditions_of(room, sorted(_uploads(dump)))
    partial = target.with_name(target.name + ".partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(MEMBER, json.dumps(dump, ensure_ascii=False, sort_keys=True))
            if blobs:
                described = {b.name: {"upload_id": b.upload_id, "width": b.width, "height": b.height,
                                      "content_type": b.content_type} for b in blobs}
                archive.writestr(PHOTOS, json.dumps(described, sort_keys=True))
                for blob in blobs:
                    archive.writestr(f"media/{blob.name}", blob.data, compress_type=zipfile.ZIP_STORED)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return _counts(dump)


def import_event(room: Newsroom, source: Path) -> tuple[str, dict[str, int]]:
    """Load an archive made by `export_event` into this newsroom, in one transaction: the event's
    slug and counts. Invalid, with nothing stored, for a file that is no such archive or an
    event whose slug (or a post id) this newsroom has already."""
    dump = read_archive(source)
    slug = dump["event"]["slug"]
    blobs = read_photos(source)

    if room.bucket is not None:  # before the event: a bucket that fails leaves the newsroom as it was
        photos.keep(room, blobs)

    def store(conn):
        event_id = archive_store.write_event(conn, dump)
        if room.bucket is None:
            fresh = [b for b in blobs if not media_store.has_upload(conn, b.upload_id)]
            media_store.insert_blobs(conn, fresh, None, datetime.now(UTC))
        event = event_store.require_event(conn, slug).to_json(event_store.count_published(conn, event_id))
        return changes.append_change(conn, event_id, "event.updated", event)

    room.broker.announce(run_write(room.engine, store))
    return slug, _counts(dump)


def read_archive(source: Path) -> dict:
    try:
        with zipfile.ZipFile(source) as archive:
            info = archive.getinfo(MEMBER)
            if info.file_size > MAX_ARCHIVE_JSON:
                raise Invalid(f"{source}: {MEMBER} is too large")
            dump = json.loads(archive.read(info))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid(f"{source} is not an event archive made by `livedesk event export`") from None
    if not isinstance(dump, dict) or not isinstance(dump.get("event"), dict):
        raise Invalid(f"{source} is not an event archive made by `livedesk event export`")
    return dump


def _uploads(dump: dict) -> set[str]:
    """Ids of the photos uploaded to the event's posts (now or in earlier versions), and of cards' thumbnails."""
    found = set()
    for row in dump["posts"] + dump["post_versions"]:
        for item in row.get("media") or []:
            if isinstance(item, dict) and item.get("upload"):
                found.add(str(item["upload"]))
            thumbnail = _UPLOAD_IN.search(str(item.get("thumbnail") or "")) if isinstance(item, dict) else None
            if thumbnail:
                found.add(thumbnail.group(1))
    return found


def read_photos(source: Path) -> list[media_store.Blob]:
    """The photo renditions an archive carries (none in one made before it carried them)."""
    try:
        with zipfile.ZipFile(source) as archive:
            if PHOTOS not in archive.namelist():
                return []
            described = json.loads(archive.read(PHOTOS))
            blobs = []
            for name, about in described.items():
                info = archive.getinfo(f"media/{name}")
                if not _RENDITION.match(name) or info.file_size > MAX_RENDITION or not name.startswith(about["upload_id"]):
                    raise Invalid(f"{source}: photo {name[:80]!r} is not one `livedesk event export` writes")
                blobs.append(media_store.Blob(name, about["upload_id"], int(about["width"]), int(about["height"]),
                                              "image/webp" if name.endswith(".webp") else "image/jpeg",
                                              archive.read(info)))
            return blobs
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, Invalid):
            raise
        raise Invalid(f"{source}: its photos are damaged") from None


def _counts(dump: dict) -> dict[str, int]:
    return {name: len(dump[name]) for name in ("posts", "post_versions", "sources", "developments")} | {
        "key_points": len(dump["event"].get("key_points") or []),
        "media": sum(len(p.get("media") or []) for p in dump["posts"]),
    }
