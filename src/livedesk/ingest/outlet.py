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


# A country domain says where an outlet is at home; only countries with one zone (or one that
# nearly all of its news is written in) are listed.
DOMAIN_ZONES = {
    "uk": "Europe/London", "ie": "Europe/Dublin", "de": "Europe/Berlin", "at": "Europe/Vienna",
    "ch": "Europe/Zurich", "fr": "Europe/Paris", "be": "Europe/Brussels", "nl": "Europe/Amsterdam",
    "lu": "Europe/Luxembourg", "it": "Europe/Rome", "es": "Europe/Madrid", "pt": "Europe/Lisbon",
    "pl": "Europe/Warsaw", "cz": "Europe/Prague", "sk": "Europe/Bratislava", "hu": "Europe/Budapest",
    "dk": "Europe/Copenhagen", "se": "Europe/Stockholm", "no": "Europe/Oslo", "fi": "Europe/Helsinki",
    "gr": "Europe/Athens", "ro": "Europe/Bucharest", "bg": "Europe/Sofia", "ua": "Europe/Kyiv",
    "tr": "Europe/Istanbul", "il": "Asia/Jerusalem", "in": "Asia/Kolkata", "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul", "cn": "Asia/Shanghai", "hk": "Asia/Hong_Kong", "sg": "Asia/Singapore",
    "my": "Asia/Kuala_Lumpur", "ph": "Asia/Manila", "th": "Asia/Bangkok", "nz": "Pacific/Auckland",
    "ar": "America/Argentina/Buenos_Aires", "cl": "America/Santiago", "co": "America/Bogota",
    "pe": "America/Lima", "uy": "America/Montevideo", "za": "Africa/Johannesburg",
}
# The zone most news in a language is written in, for languages spoken mostly in one zone.
LANGUAGE_ZONES = {
    "de": "Europe/Berlin", "fr": "Europe/Paris", "it": "Europe/Rome", "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw", "tr": "Europe/Istanbul", "ru": "Europe/Moscow", "cs": "Europe/Prague",
    "uk": "Europe/Kyiv", "ja": "Asia/Tokyo", "ko": "Asia/Seoul",
}
_DOMAIN_RE = re.compile(r"\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com?\.)?(?P<tld>[a-z]{2})\b", re.I)


def outlet_zone(outlet: str | None, url: str | None = None) -> tzinfo | None:
    """The zone an outlet writes its times in: a known outlet's, or its country domain's."""
    if outlet and (known := KNOWN_ZONES.get(outlet.strip().lower())):
        return zone_by_iana(known)
    for name in (url, outlet):
        match = _DOMAIN_RE.search(name or "")
        if match and match.group("tld").lower() in DOMAIN_ZONES:
            return zone_by_iana(DOMAIN_ZONES[match.group("tld").lower()])
    return None


def language_zone(language: str | None) -> tzinfo | None:
    return zone_by_iana(LANGUAGE_ZONES.get(language or ""))
