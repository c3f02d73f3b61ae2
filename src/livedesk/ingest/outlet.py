"""Which outlet a page belongs to, and the zone that outlet usually writes its times in."""

from __future__ import annotations

import re
from collections import Counter
from datetime import tzinfo

from livedesk.ingest.times import parse_date_text, zone_by_iana

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
    if outlet is not None and parse_date_text(outlet) is not None:  # `Politics live - Monday 20 June`
        title, outlet = line.strip(), None
    return _TITLE_PREFIX_RE.sub("", title).strip(), outlet


_STAFF_CREDIT_RE = re.compile(r"\bfor\s+(?:the\s+)?(?P<outlet>[A-Z][\w&'’ -]{1,40})$")


def outlet_from_credits(credits: list[str]) -> str | None:
    """The agency most credits name after a slash (`© Jane Roe/Agency`), or the outlet a staff
    photographer works for (`Jane Roe for the Courier`), if most of them do."""
    named = [c.rsplit("/", 1)[1] if "/" in c else (m.group("outlet") if (m := _STAFF_CREDIT_RE.search(c)) else "") for c in credits]
    agencies = Counter(n.strip() for n in named if n.strip())
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


# Places a page names near its top, for pages that state no zone: countries that keep one zone
# (or one that nearly all of their news is written in), in the languages of the pages read, US
# states, and large cities. A US city is known by its state, as datelines write it (`Dayton, OH`).
_COUNTRIES = {
    "Europe/London": "United Kingdom, Britain, Great Britain, England, Scotland, Wales, Northern Ireland, Großbritannien, "
    "Grande-Bretagne, Reino Unido, Regno Unito",
    "Europe/Dublin": "Ireland, Irland, Irlande, Irlanda",
    "Europe/Paris": "France, Frankreich, Francia, França",
    "Europe/Berlin": "Germany, Deutschland, Allemagne, Alemania, Germania, Alemanha",
    "Europe/Rome": "Italy, Italien, Italie, Italia, Itália",
    "Europe/Madrid": "Spain, Spanien, Espagne, España, Spagna, Espanha",
    "Europe/Lisbon": "Portugal, Portogallo",
    "Europe/Amsterdam": "Netherlands, Nederland, Niederlande, Pays-Bas, Países Bajos, Paesi Bassi",
    "Europe/Brussels": "Belgium, België, Belgique, Belgien, Bélgica, Belgio",
    "Europe/Zurich": "Switzerland, Schweiz, Suisse, Suiza, Svizzera",
    "Europe/Vienna": "Austria, Österreich, Autriche",
    "Europe/Warsaw": "Poland, Polska, Polen, Pologne, Polonia",
    "Europe/Athens": "Greece, Griechenland, Grèce, Grecia",
    "Europe/Istanbul": "Turkey, Türkiye, Türkei, Turquie, Turquía, Turchia",
    "Europe/Kyiv": "Ukraine, Ucrania, Ucraina",
    "Asia/Jerusalem": "Israel",
    "Asia/Kolkata": "India, Indien, Inde",
    "Asia/Tokyo": "Japan, Japon, Japón, Giappone",
    "Asia/Shanghai": "China, Chine, Cina",
    "Asia/Seoul": "South Korea, Südkorea, Corée du Sud, Corea del Sur",
    "Asia/Manila": "Philippines, Filipinas",
    "Asia/Bangkok": "Thailand, Thaïlande, Tailandia",
    "Asia/Singapore": "Singapore, Singapur, Singapour",
    "Asia/Kuala_Lumpur": "Malaysia, Malasia",
    "Pacific/Auckland": "New Zealand, Neuseeland, Nouvelle-Zélande, Nueva Zelanda",
    "America/Argentina/Buenos_Aires": "Argentina, Argentinien, Argentine, República Argentina",
    "America/Santiago": "Chile, Chili",
    "America/Bogota": "Colombia, Kolumbien, Colombie",
    "America/Lima": "Peru, Perú, Pérou",
    "America/Caracas": "Venezuela",
    "America/Montevideo": "Uruguay",
    "America/Mexico_City": "Mexico, México, Mexiko, Ciudad de México",
    "America/Havana": "Cuba, Kuba",
    "Africa/Cairo": "Egypt, Ägypten, Égypte, Egipto",
    "Africa/Johannesburg": "South Africa, Südafrika, Afrique du Sud, Sudáfrica",
    "Africa/Lagos": "Nigeria",
    "Africa/Nairobi": "Kenya, Kenia",
}
_US_STATES = {
    "America/New_York": "CT Connecticut, DE Delaware, DC District of Columbia, GA Georgia, ME Maine, MD Maryland, "
    "MA Massachusetts, MI Michigan, NH New Hampshire, NJ New Jersey, NY New York, NC North Carolina, OH Ohio, "
    "PA Pennsylvania, RI Rhode Island, SC South Carolina, VT Vermont, VA Virginia, WV West Virginia, FL Florida",
    "America/Indiana/Indianapolis": "IN Indiana",
    "America/Kentucky/Louisville": "KY Kentucky",
    "America/Chicago": "AL Alabama, AR Arkansas, IL Illinois, IA Iowa, KS Kansas, LA Louisiana, MN Minnesota, "
    "MS Mississippi, MO Missouri, NE Nebraska, ND North Dakota, OK Oklahoma, SD South Dakota, TN Tennessee, "
    "TX Texas, WI Wisconsin",
    "America/Denver": "CO Colorado, ID Idaho, MT Montana, NM New Mexico, UT Utah, WY Wyoming",
    "America/Phoenix": "AZ Arizona",
    "America/Los_Angeles": "CA California, NV Nevada, OR Oregon, WA Washington State",
    "America/Anchorage": "AK Alaska",
    "Pacific/Honolulu": "HI Hawaii",
}
_CITIES = {
    "Europe/London": "London, Manchester, Birmingham, Glasgow, Edinburgh, Cardiff, Belfast",
    "America/New_York": "New York City, Washington, D.C., Boston, Philadelphia, Atlanta, Miami, Detroit, Pittsburgh",
    "America/Chicago": "Chicago, Houston, Dallas, New Orleans, Minneapolis, St. Louis",
    "America/Denver": "Denver",
    "America/Los_Angeles": "Los Angeles, San Francisco, Sacramento, San Diego, Seattle, Portland, Las Vegas",
    "America/Toronto": "Toronto, Ottawa, Montreal, Montréal",
    "America/Vancouver": "Vancouver",
    "America/Sao_Paulo": "São Paulo, Rio de Janeiro, Brasília",
    "Australia/Sydney": "Sydney, Melbourne, Canberra",
    "Europe/Moscow": "Moscow, Moskau, Moscou, Moscú, Москва",
}


def _place_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for tables in (_COUNTRIES, _CITIES):
        for zone, names in tables.items():
            for name in names.split(", "):
                table[name] = table[name.upper()] = zone
    for zone, states in _US_STATES.items():
        for state in states.split(", "):
            code, name = state.split(" ", 1)
            table[name] = table[name.upper()] = table[f", {code}"] = zone
    return table


_PLACES = _place_table()
_PLACE_RE = re.compile(
    r"(?<![\w-])(?:" + "|".join(re.escape(p) for p in sorted(_PLACES, key=len, reverse=True) if not p.startswith(","))
    + r")(?![\w-])|(?<=[A-Za-z]), (?:" + "|".join(p[2:] for p in _PLACES if p.startswith(","))
    + r")\b(?=\s*(?:$|[|,.;:()\-–—]|\s[a-z]))",
    re.M,
)


def place_zone(text: str) -> tzinfo | None:
    """The zone of the first place a text names: `Madison, WI`, `SACRAMENTO`, `en México`."""
    match = _PLACE_RE.search(text)
    if match is None:
        return None
    found = match.group(0)
    return zone_by_iana(_PLACES[found if found in _PLACES else found.rstrip()])

