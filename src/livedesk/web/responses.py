"""Responses with a strong ETag, answered with 304 when the client holds the same body."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi import Request, Response


def not_modified(tag: str, if_none_match: str) -> bool:
    """The client's If-None-Match names this ETag (a weak one counts)."""
    return tag in [t.strip().removeprefix("W/") for t in if_none_match.split(",")]


def etag_response(request: Request, body: bytes, media_type: str) -> Response:
    """`body` with a strong ETag; answers a matching If-None-Match with 304."""
    tag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    headers = {"ETag": tag, "Cache-Control": "no-cache"}
    if not_modified(tag, request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def etag_json(request: Request, data: Any) -> Response:
    """JSON with a strong ETag; answers If-None-Match with 304."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    return etag_response(request, body, "application/json")
