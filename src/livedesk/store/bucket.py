"""Uploaded photos' renditions as objects in an S3-compatible bucket, for a site that names one
(the database keeps them otherwise: store/media.py). The same `Blob`s go in and come out; each
object carries its size and type, so the bucket alone describes an upload.

An upload's renditions are written in order, widest JPEG last: that last object standing is what
says the upload is whole. A write that fails takes back those written before it, so a failed
upload leaves nothing behind that a post could point to. Every failure to reach the bucket is
`Unavailable`; a missing object is None.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from livedesk.errors import Unavailable
from livedesk.store.media import Blob

CACHE_CONTROL = "public, max-age=31536000, immutable"


class Bucket:
    """One bucket of an S3-compatible service, reached with boto3 (the `s3` extra)."""

    def __init__(self, url: str, name: str, *, region: str = "us-east-1", prefix: str = "",
                 access_key: str | None = None, secret_key: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:  # pragma: no cover - the extra is part of the test install
            raise Unavailable("photos in a bucket need boto3: pip install 'livedesk[s3]'") from None
        self.name, self.prefix = name, prefix
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=url, region_name=region, aws_access_key_id=access_key, aws_secret_access_key=secret_key,
            config=Config(s3={"addressing_style": "path"}, connect_timeout=3, read_timeout=15,
                          retries={"max_attempts": 2, "mode": "standard"}),
        )

    def key(self, name: str) -> str:
        return self.prefix + name

    def put_blobs(self, blobs: list[Blob]) -> None:
        """Writes every blob, in the order given; on a failure, deletes those written, then raises."""
        written: list[str] = []
        try:
            for blob in blobs:
                self.client.put_object(
                    Bucket=self.name, Key=self.key(blob.name), Body=blob.data, ContentType=blob.content_type,
                    CacheControl=CACHE_CONTROL,
                    Metadata={"upload-id": blob.upload_id, "width": str(blob.width), "height": str(blob.height)},
                )
                written.append(blob.name)
        except Exception as exc:
            if not _bucket_error(exc):
                raise
            self._take_back(written)
            raise Unavailable(f"the photo bucket refused a write ({_said(exc)})") from exc

    def _take_back(self, names: list[str]) -> None:
        for name in names:
            try:
                self.client.delete_object(Bucket=self.name, Key=self.key(name))
            except Exception as exc:
                if not _bucket_error(exc):
                    raise
                # an object that stays is whole and named by its content; no post points to it

    def has(self, name: str) -> bool:
        with _reaching("cannot be reached"):
            return self._object(name, "head_object") is not None

    def get_blob(self, name: str) -> Blob | None:
        with _reaching("cannot be reached"):
            answer = self._object(name, "get_object")
            data = answer["Body"].read() if answer is not None else b""
        if answer is None:
            return None
        about = answer.get("Metadata") or {}
        return Blob(name, str(about.get("upload-id") or name.split("-")[0]), int(about.get("width") or 0),
                    int(about.get("height") or 0), str(answer.get("ContentType") or "application/octet-stream"), data)

    def _object(self, name: str, call: str) -> dict[str, Any] | None:
        """The answer to a HEAD or GET of one object; None when the bucket has no such object."""
        from botocore.exceptions import ClientError

        try:
            answer: dict[str, Any] = getattr(self.client, call)(Bucket=self.name, Key=self.key(name))
            return answer
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def blobs_of(self, upload_ids: list[str]) -> list[Blob]:
        """Every rendition of these uploads that the bucket holds, by name."""
        found = []
        for upload_id in upload_ids:
            with _reaching("cannot be reached"):
                pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=self.key(upload_id + "-"))
                names = [item["Key"][len(self.prefix):] for page in pages for item in page.get("Contents") or []]
            for name in sorted(names):
                blob = self.get_blob(name)
                if blob is not None:
                    found.append(blob)
        return sorted(found, key=lambda b: b.name)


def _bucket_error(exc: Exception) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError))


@contextmanager
def _reaching(what: str) -> Iterator[None]:
    """Turns the client's failures to reach the bucket into `Unavailable`."""
    try:
        yield
    except Exception as exc:
        if not _bucket_error(exc):
            raise
        raise Unavailable(f"the photo bucket {what} ({_said(exc)})") from exc


def _said(exc: Exception) -> str:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', '?')}: {error.get('Message', '')}".strip(": ")[:200]
    return str(exc)[:200]
