"""Responses with a strong ETag, answered with 304 when the client holds the same body."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from fastapi import Request, Response


def header_lines(headers: list[tuple[bytes, bytes]]) -> bytes:
    """Headers as they go on the wire: one `name: value` line each."""
    return b"".join(name + b": " + value + b"\r\n" for name, value in headers)


def not_modified(tag: str, if_none_match: str) -> bool:
    """The client's If-None-Match names this ETag (a weak one counts)."""
    return tag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]


def etag_response(request: Request, body: bytes, media_type: str, *, prefix: str = "") -> Response:
    """`body` with a strong ETag (`prefix` before its hash); answers a matching If-None-Match with 304."""
    tag = '"' + prefix + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if not_modified(tag, request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def etag_json(request: Request, data: Any, *, prefix: str = "") -> Response:
    """JSON with a strong ETag; answers If-None-Match with 304."""
    return etag_response(request, json_bytes(data), "application/json", prefix=prefix)


# A post's ETag starts with the version of its text: "v3-<hash>". An edit sends it back in
# If-Match, and the server reads the version it started from out of it.
_POST_TAG = re.compile(r'^"v(\d{1,9})(?:-[0-9a-f]*)?"$')


def post_tag_prefix(post: dict) -> str:
    return f"v{post['version']}-"


def post_etag(post: dict) -> str:
    return '"' + post_tag_prefix(post) + hashlib.blake2b(json_bytes(post), digest_size=12).hexdigest() + '"'


def version_from_if_match(if_match: str | None) -> int | None:
    """The post version an If-Match names; None for no header or `*`, 0 for a tag that is no post's."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = [_POST_TAG.match(t.strip()) for t in if_match.split(",")]
    versions = [int(m.group(1)) for m in found if m]
    return versions[0] if versions else 0
