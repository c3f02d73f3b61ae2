"""HTML fragments (a JSON-LD articleBody, a feed item's content) -> plain text paragraphs."""

from __future__ import annotations

import html
import re

import nh3

_BREAKS_RE = re.compile(r"<\s*(?:br\s*/?|/\s*(?:p|div|li|h[1-6]|blockquote|figcaption|tr))\s*>", re.I)


def fragment_text(fragment: str | None) -> str:
    """Tags removed, entities decoded, one blank line between paragraphs."""
    if not fragment:
        return ""
    if "<" in fragment:
        fragment = nh3.clean(_BREAKS_RE.sub("\n\n", fragment), tags=set())
    text = html.unescape(fragment).replace("\u00a0", " ")
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", text))
    return "\n\n".join(p for p in paragraphs if p)
