"""Uploaded photos' renditions, stored as rows so that every node serves them without a shared disk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select

from livedesk.store.tables import media_blobs


@dataclass
class Blob:
    name: str
    upload_id: str
    width: int
    height: int
    content_type: str
    data: bytes


def has_upload(conn: Connection, upload_id: str) -> bool:
    return conn.execute(select(media_blobs.c.name).where(media_blobs.c.upload_id == upload_id).limit(1)).first() is not None


def upload_sizes(conn: Connection, upload_id: str) -> list[tuple[int, int]]:
    """(width, height) of an upload's renditions, narrowest first."""
    rows = conn.execute(
        select(media_blobs.c.width, media_blobs.c.height).where(media_blobs.c.upload_id == upload_id).distinct()
    )
    return sorted((r.width, r.height) for r in rows)


def insert_blobs(conn: Connection, blobs: list[Blob], created_by: int | None, when: datetime) -> None:
    if not blobs:
        return
    conn.execute(insert(media_blobs), [
        {"name": b.name, "upload_id": b.upload_id, "width": b.width, "height": b.height,
         "content_type": b.content_type, "data": b.data, "created_by": created_by, "created_at": when}
        for b in blobs
    ])


def get_blob(conn: Connection, name: str) -> Blob | None:
    row = conn.execute(select(media_blobs).where(media_blobs.c.name == name)).first()
    if row is None:
        return None
    return Blob(row.name, row.upload_id, row.width, row.height, row.content_type, bytes(row.data))


def blobs_of(conn: Connection, upload_ids: list[str]) -> list[Blob]:
    """Every rendition of these uploads."""
    if not upload_ids:
        return []
    rows = conn.execute(select(media_blobs).where(media_blobs.c.upload_id.in_(upload_ids)).order_by(media_blobs.c.name))
    return [Blob(r.name, r.upload_id, r.width, r.height, r.content_type, bytes(r.data)) for r in rows]
