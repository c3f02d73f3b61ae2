"""Which outlet a page belongs to, and the zone that outlet usually writes its times in."""

from __future__ import annotations

import re
from collections import Counter
from datetime import tzinfo

from livedesk.ingest.times import zone_by_iana

# Outlets whose live pages give bare clock times in their home zone.
KNOWN_ZONES = {
    "tass": "Europe/Moscow",
    "ria novosti": "Europe/Moscow",
    "interfax": "Europe/Moscow",
    "cnn": "America/New_York",
    "bbc": "Europe/London",
    "bbc news": "Europe/London",
    "the guardian": "Europe/London",
    "guardian": "Europe/London",
    "sky news": "Europe/London",
    "reuters": "UTC",
    "dw": "Europe/Berlin",
    "der spiegel": "Europe/Berlin",
    "le monde": "Europe/Paris",
    "france 24": "Europe/Paris",
    "kyiv independent": "Europe/Kyiv",
    "al jazeera": "Asia/Qatar",
    "nhk": "Asia/Tokyo",
    "yonhap": "Asia/Seoul",
    "abc news": "America/New_York",
    "nbc news": "America/New_York",
}

_TITLE_SUFFIX_RE = re.compile(r"^(?P<title>.+?)\s+[|–—-]\s+(?P<outlet>[^|–—\-]{2,40})$")
_TITLE_PREFIX_RE = re.compile(
    r"^(?:live(?:\s+updates?|\s+blog|\s+news)?|as\s+it\s+happened|breaking)\s*[:|–—-]\s*", re.I
)


def split_title(line: str) -> tuple[str, str | None]:
    """`Live updates: Bridge reopens | Courier` -> ("Bridge reopens", "Courier")."""
    match = _TITLE_SUFFIX_RE.match(line.strip())
    title, outlet = (match.group("title"), match.group("outlet").strip()) if match else (line.strip(), None)
    return _TITLE_PREFIX_RE.sub("", title).strip(), outlet


def outlet_from_credits(credits: list[str]) -> str | None:
    """The agency most credits name after a slash (`© Jane Roe/Agency`), if most of them do."""
    agencies = Counter(c.rsplit("/", 1)[1].strip() for c in credits if "/" in c)
    if not agencies:
        return None
    agency, count = agencies.most_common(1)[0]
    return agency if count * 2 > len(credits) and 1 < len(agency) <= 40 else None


def outlet_zone(outlet: str | None) -> tzinfo | None:
    if not outlet:
        return None
    return zone_by_iana(KNOWN_ZONES.get(outlet.strip().lower()))
