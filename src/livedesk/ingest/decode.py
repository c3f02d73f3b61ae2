"""Bytes -> text: the charset a page declares, checked against what its bytes really are."""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

from livedesk.ingest import ParseError

_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
_META_RE = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_XML_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]+)""", re.I)
# Charsets that decode any bytes: a page served as one of them may really be UTF-8.
_SINGLE_BYTE = {"latin-1", "iso8859-1", "cp1252", "ascii", "iso8859-15", "cp1251"}


def charset_from_content_type(content_type: str | None) -> str | None:
    match = re.search(r"charset\s*=\s*[\"']?([\w.:\-]+)", content_type or "", re.I)
    return match.group(1) if match else None


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes, content_type: str | None = None) -> str | None:
    """The charset the server or the document itself declares (a BOM beats both)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    head = data[:4096]
    match = _XML_RE.match(head) or _META_RE.search(head)
    return _codec(charset_from_content_type(content_type)) or _codec(match.group(1).decode() if match else None)


def decode_bytes(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """(text, charset used). A declared single-byte charset loses to valid non-ASCII UTF-8."""
    declared = declared_charset(data, content_type)
    candidates = [declared] if declared else []
    if declared is None or declared in _SINGLE_BYTE:
        candidates.insert(0, "utf-8")
    for name in candidates:
        try:
            return data.decode(name), name
        except (UnicodeDecodeError, LookupError):
            continue
    guess = from_bytes(data[:200_000]).best()
    name = guess.encoding if guess is not None else "cp1252"
    return data.decode(name, errors="replace"), name


def ensure_text(text: str) -> str:
    """Refuse binary junk: text with many control characters or undecodable bytes."""
    sample = text[:100_000]
    bad = sum(1 for ch in sample if (ch < " " and ch not in "\t\n\r\f") or ch == "\ufffd")
    if sample and bad > len(sample) * 0.05:
        raise ParseError("the input looks like binary data, not a page")
    return text
