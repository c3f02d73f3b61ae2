"""Clock strings, zone names and date headings -> aware UTC datetimes.

Live pages write times in many ways (`13:37:41 25.04.2019`, `9.05am BST`, `0915`, `21:05:`),
declare their zone in words (`all times are UK time`, `times in GMT+2`) and set the day with
headings (`Tuesday March 3`, `Dienstag, 3. März`). This module reads those pieces; `resolve`
then gives every post its date, crossing midnight in the page's own direction.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from dateparser.languages import default_loader

# --- zones -------------------------------------------------------------------------------

_FIXED_HOURS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "WEST": 1, "CET": 1, "MEZ": 1, "CEST": 2,
    "MESZ": 2, "EET": 2, "EEST": 3, "IST": 5.5, "HKT": 8, "SGT": 8, "JST": 9,
    "KST": 9, "AEST": 10, "AEDT": 11, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7,
    "MDT": -6, "PST": -8, "PDT": -7,
}
# Abbreviations that stand for a region whose offset changes with the season.
_REGION_ABBREVIATIONS = {
    "ET": "America/New_York", "CT": "America/Chicago", "MT": "America/Denver",
    "PT": "America/Los_Angeles", "MSK": "Europe/Moscow", "МСК": "Europe/Moscow",
    "TSİ": "Europe/Istanbul", "TSI": "Europe/Istanbul", "GREENWICH MEAN TIME": "UTC",
    "BRITISH SUMMER TIME": "Europe/London", "HORÁRIO DE BRASÍLIA": "America/Sao_Paulo",
}
# "<place> time", as pages write it.
_PLACE_ZONES = {
    "uk": "Europe/London", "british": "Europe/London", "london": "Europe/London",
    "moscow": "Europe/Moscow", "kyiv": "Europe/Kyiv", "kiev": "Europe/Kyiv",
    "paris": "Europe/Paris", "berlin": "Europe/Berlin", "brussels": "Europe/Brussels",
    "central european": "Europe/Berlin", "eastern european": "Europe/Athens",
    "eastern": "America/New_York", "us eastern": "America/New_York", "central": "America/Chicago",
    "pacific": "America/Los_Angeles", "tokyo": "Asia/Tokyo", "seoul": "Asia/Seoul",
    "beijing": "Asia/Shanghai", "hong kong": "Asia/Hong_Kong", "sydney": "Australia/Sydney",
    "india": "Asia/Kolkata", "tel aviv": "Asia/Jerusalem", "jerusalem": "Asia/Jerusalem",
    "brasília": "America/Sao_Paulo", "brasilia": "America/Sao_Paulo", "madrid": "Europe/Madrid",
    "rome": "Europe/Rome", "roma": "Europe/Rome", "istanbul": "Europe/Istanbul", "warsaw": "Europe/Warsaw",
    "mexico city": "America/Mexico_City", "méxico": "America/Mexico_City", "buenos aires": "America/Argentina/Buenos_Aires",
    "new york": "America/New_York", "washington": "America/New_York", "los angeles": "America/Los_Angeles",
    "auckland": "Pacific/Auckland", "new zealand": "Pacific/Auckland", "singapore": "Asia/Singapore",
}
ZONE_TOKEN = r"(?-i:(?:UTC|GMT)\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|[A-Z]{2,5})"
_OFFSET_RE = re.compile(r"(?:UTC|GMT)\s*([+\-−])\s*([0-9]{1,2})(?::?([0-9]{2}))?", re.I)


def _fixed(hours: float) -> tzinfo:
    return UTC if hours == 0 else timezone(timedelta(hours=hours))


def zone_from_name(name: str) -> tzinfo | None:
    """`BST`, `UTC+3`, `GMT-5:30`, `UK time`, `Europe/Berlin` -> a tzinfo, or None."""
    text = name.strip().strip("()").strip()
    if not text or len(text) > 40:
        return None
    offset = _OFFSET_RE.fullmatch(text)
    if offset:
        sign = -1 if offset.group(1) in "-−" else 1
        hours, minutes = int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 14 or minutes > 59:
            return None
        return _fixed(sign * (hours + minutes / 60))
    upper = text.upper()
    if upper in _FIXED_HOURS:
        return _fixed(_FIXED_HOURS[upper])
    if upper in _REGION_ABBREVIATIONS:
        return ZoneInfo(_REGION_ABBREVIATIONS[upper])
    place = re.sub(r"\s+time$", "", text.lower()).strip()
    if place in _PLACE_ZONES:
        return ZoneInfo(_PLACE_ZONES[place])
    if "/" in text and re.fullmatch(r"[A-Za-z_]+(?:/[A-Za-z_+\-]+){1,2}", text):
        try:
            return ZoneInfo(text)
        except (ValueError, OSError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            return None
    return None


def zone_by_iana(name: str | None) -> tzinfo | None:
    """An IANA zone name (`Europe/Moscow`) or any name zone_from_name knows; None if unknown."""
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return zone_from_name(name)


_DECLARATION_RES = [
    re.compile(
        r"\b(?:all\s+)?times?\s+(?:(?:are|is)(?:\s+in)?|in|shown\s+in|given\s+in|listed\s+in|quoted\s+in)\s+"
        r"(?:the\s+)?(?:local\s+)?(?P<zone>(?:UTC|GMT)\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|[A-Za-z][\w/ ]{1,30})",
        re.I,
    ),
    # `(all times GMT+1)`, `All times BST`
    re.compile(r"\ball\s+times\s+(?P<zone>(?:UTC|GMT)\s*[+\-−]\s*[0-9]{1,2}(?::?[0-9]{2})?|[A-Z]{2,5}\b)", re.I),
    re.compile(r"\b(?:alle\s+)?zeit(?:en|angaben)\s+(?:in\s+)?(?P<zone>[A-Za-z][\w+\-: ]{1,12})", re.I),
    # `Thursday, July 29 (Tokyo time)`, `horário de Brasília`, `heure de Paris`, `ora di Roma`
    re.compile(r"\((?P<zone>[^\W\d_][\w ]{1,20}?\s+time)\)", re.I),
    re.compile(r"\b(?:hor[aá]rio|hora|heure|ora)\s+(?:de|di)\s+(?P<zone>[^\W\d_]+)", re.I),
]


STATEMENT_REACH = 20_000  # a page states its zone near its top, not thousands of posts down
_ABBREVIATIONS = sorted((a for a in [*_FIXED_HOURS, *_REGION_ABBREVIATIONS] if a.isalpha() and a.isupper() and len(a) >= 2),
                        key=len, reverse=True)
_TIME_IN_ZONE_RE = re.compile(
    r"(?<![0-9])[0-9]{1,2}(?:[:.][0-5][0-9]\s*(?:[ap]\.?\s?m\b\.?)?|\s*[ap]\.?\s?m\b\.?)\s*(?P<zone>"
    + "|".join(_ABBREVIATIONS) + r")\b"
)


def zone_in_prose(text: str) -> tzinfo | None:
    """The zone a page's prose writes after its times most often (`at 3 p.m. ET`), or None."""
    counts = Counter(match.group("zone") for match in _TIME_IN_ZONE_RE.finditer(text))
    return zone_from_name(counts.most_common(1)[0][0]) if counts else None


def find_zone_declaration(text: str) -> tzinfo | None:
    """The zone a page declares in words: `All times are UK time`, `times in GMT+2`, ..."""
    for pattern in _DECLARATION_RES:
        for match in pattern.finditer(text):
            words = re.split(r"[.,;()\n]", match.group("zone"))[0].strip().split()
            # try the longest prefix first: "UK time and ..." -> "UK time"
            for end in range(min(len(words), 4), 0, -1):
                zone = zone_from_name(" ".join(words[:end]))
                if zone is not None:
                    return zone
    return None


# --- dates -------------------------------------------------------------------------------

_MONTH_NAMES = {
    1: "january jan januar janvier janv enero ene gennaio gen janeiro januari январь января янв",
    2: "february feb februar février fevrier févr fevr febrero febbraio fevereiro februari февраль февраля фев",
    3: "march mar märz maerz mars marzo março marco maart март марта",
    4: "april apr avril abril aprile апрель апреля апр",
    5: "may mai mayo maggio maio mei май мая",
    6: "june jun juni juin junio giugno junho июнь июня",
    7: "july jul juli juillet julio luglio julho июль июля",
    8: "august aug août aout agosto augustus август августа авг",
    9: "september sep sept septembre septiembre settembre setembro сентябрь сентября сен",
    10: "october oct oktober octobre octubre ottobre outubro okt октябрь октября",
    11: "november nov novembre noviembre novembro ноябрь ноября ноя",
    12: "december dec dezember décembre decembre déc diciembre dicembre dezembro dez декабрь декабря дек",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}
_WEEKDAY_NAMES = [  # Monday first; short forms and the accusative Russian ones too
    "monday mon montag lundi lunes lunedì lunedi segunda maandag понедельник",
    "tuesday tue tues dienstag mardi martes martedì martedi terça terca dinsdag вторник",
    "wednesday wed mittwoch mercredi miércoles miercoles mercoledì mercoledi quarta woensdag среда среду",
    "thursday thu thur thurs donnerstag jeudi jueves giovedì giovedi quinta donderdag четверг",
    "friday fri freitag vendredi viernes venerdì venerdi sexta vrijdag пятница пятницу",
    "saturday sat samstag samedi sábado sabado zaterdag суббота субботу",
    "sunday sun sonntag dimanche domingo domenica zondag воскресенье",
]
WEEKDAYS = {name: number for number, names in enumerate(_WEEKDAY_NAMES) for name in names.split()}
# dateparser's locale data adds the month and day names of the other languages pages are read in
# (`23 Haziran`, `11 stycznia`); short forms (`out`, `set`, `ago`) are too often words of their own.
_DAY_KEYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_KEYS = ("january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december")
for _language in ("en", "de", "fr", "es", "it", "pt", "nl", "pl", "tr", "ru"):
    _info = default_loader.get_locale(_language).info
    for _number, _key in enumerate(_MONTH_KEYS, start=1):
        MONTHS.update((_name.lower(), _number) for _name in _info.get(_key, []) if len(_name) >= 4 and _name.isalpha())
    for _number, _key in enumerate(_DAY_KEYS):
        WEEKDAYS.update((_name.lower(), _number) for _name in _info.get(_key, []) if len(_name) >= 4 and _name.isalpha())
_DATE_FILLERS = {"of", "de", "del", "le", "the", "den", "am", "года", "г", "год", "on", "à", "a", "at", "um", "alle", "às", "en"}
_NUMERIC_DATE_RE = re.compile(
    r"(?<![0-9.:/])(?:(?P<iy>[0-9]{4})-(?P<im>[0-9]{1,2})-(?P<id>[0-9]{1,2})"
    r"|(?P<a>[0-9]{1,2})(?P<sep>[./])(?P<b>[0-9]{1,2})(?P=sep)(?P<y>[0-9]{4}|(?<=/[0-9]/)[0-9]{2}|(?<=/[0-9]{2}/)[0-9]{2}))(?![0-9:])"
)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class DayMonth:
    """A date as a heading writes it: the year may be missing."""

    month: int
    day: int
    year: int | None = None
    weekday: int | None = None  # 0 = Monday, when the heading names the day

    def on(self, year: int) -> date | None:
        return _safe_date(self.year or year, self.month, self.day)

    def likely_year(self, near: int) -> int | None:
        """The year closest to `near` in which this day falls on the weekday the heading names."""
        if self.year or self.weekday is None:
            return self.year
        for offset in (0, -1, -2, -3, -4, -5, -6, 1, 2, 3, 4, 5, 6):  # pages are read after they are written
            day = _safe_date(near + offset, self.month, self.day)
            if day is not None and day.weekday() == self.weekday:
                return near + offset
        return None


def parse_date_text(text: str) -> DayMonth | None:
    """`Tuesday March 3`, `3. März 2026`, `mardi 3 mars`, `3 марта`, `2026-03-03` -> DayMonth."""
    text = text.strip()
    if not text or len(text) > 60:
        return None
    numeric = _NUMERIC_DATE_RE.fullmatch(text)
    if numeric:
        found = _numeric_date(numeric)
        return DayMonth(found.month, found.day, found.year) if found else None
    tokens = re.findall(r"[^\W\d_]+|[0-9]+", text.lower())
    if re.search(r"[^\w\s,.\-–]", text):
        return None
    month = day = year = weekday = None
    for token in tokens:
        if token.isascii() and token.isdigit():
            if len(token) == 4 and year is None:
                year = int(token)
            elif len(token) <= 2 and day is None and 1 <= int(token) <= 31:
                day = int(token)
            else:
                return None
        elif token in MONTHS and month is None:
            month = MONTHS[token]
        elif token in WEEKDAYS and weekday is None:
            weekday = WEEKDAYS[token]
        elif token in _DATE_FILLERS or token in {"st", "nd", "rd", "th", "feira"}:
            continue
        else:
            return None
    if month is None or day is None:
        return None
    if _safe_date(year or 2000, month, day) is None:  # 2000 is a leap year: Feb 29 passes
        return None
    return DayMonth(month, day, year, weekday)


_MONTH_ALTERNATION = "|".join(sorted(MONTHS, key=len, reverse=True))
_DATE_IN_TEXT_RE = re.compile(
    rf"(?<![\w.])(?:(?P<d1>[0-9]{{1,2}})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?(?P<m1>{_MONTH_ALTERNATION})\b\.?"
    rf"(?:,?\s+(?:de\s+)?(?P<y1>(?:19|20)[0-9]{{2}}))?"
    rf"|(?P<m2>{_MONTH_ALTERNATION})\.?\s+(?P<d2>[0-9]{{1,2}})(?:st|nd|rd|th)?\b(?!:)(?:,?\s+(?P<y2>(?:19|20)[0-9]{{2}}))?)",
    re.I,
)
_DATE_MARKER_RE = re.compile(r"^\s*date\s+(?P<y>(?:19|20)[0-9]{2})(?:-(?P<m>[0-9]{2}))?(?:-(?P<d>[0-9]{2}))?\b")


def dates_in(text: str) -> list[DayMonth]:
    """Every date written out in a text: `Monday 20 June 2011`, `Sept. 1, 2005`, `22.09.2013`."""
    found: list[tuple[int, DayMonth]] = []
    for match in _DATE_IN_TEXT_RE.finditer(text):
        day = int(match.group("d1") or match.group("d2"))
        month = MONTHS[(match.group("m1") or match.group("m2")).lower()]
        year = match.group("y1") or match.group("y2")
        if 1 <= day <= 31 and _safe_date(int(year) if year else 2000, month, day) is not None:
            found.append((match.start(), DayMonth(month, day, int(year) if year else None)))
    for match in _NUMERIC_DATE_RE.finditer(text):
        numeric = _numeric_date(match)
        if numeric is not None:
            found.append((match.start(), DayMonth(numeric.month, numeric.day, numeric.year)))
    return [d for _, d in sorted(found, key=lambda pair: pair[0])]


def split_date_marker(text: str) -> tuple[tuple[int, int | None, int | None] | None, str]:
    """A page copied with its crawl date first, `date 2019-06 ...`: ((y, m, d), the rest)."""
    match = _DATE_MARKER_RE.match(text)
    if match is None:
        return None, text
    month, day = match.group("m"), match.group("d")
    marker = int(match.group("y")), int(month) if month else None, int(day) if day else None
    return marker, text[match.end():]


def _numeric_date(match: re.Match[str]) -> date | None:
    if match.group("iy"):
        return _safe_date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))
    first, second, year = int(match.group("a")), int(match.group("b")), int(match.group("y"))
    if year < 100:  # `10/29/12`
        year += 2000
    if match.group("sep") == "/" and first <= 12 < second:  # US order, 4/25/2019
        first, second = second, first
    return _safe_date(year, second, first)


# --- stamps ------------------------------------------------------------------------------

@dataclass
class Stamp:
    """A time as a post writes it. `style` tells stamps of one page's posts from a dateline."""

    hour: int
    minute: int
    second: int = 0
    date: date | DayMonth | None = None
    zone: tzinfo | None = None
    rest: str = ""  # the paragraph's text after a leading stamp
    style: str = ""  # how the stamp is written; "updated|..." for `Updated 10:41 GMT` notes

    @property
    def clock(self) -> time:
        return time(self.hour, self.minute, self.second)


_CLOCK_RE = re.compile(
    r"(?<![0-9.:,])(?:(?P<h>[0-9]{1,2})(?:[:.]|h(?=[0-5][0-9])|\s*heures?\s+(?=[0-5][0-9])|:\s(?=[0-5][0-9]\s*[ap]\.?\s?m\b))"
    r"(?P<m>[0-5][0-9])"
    r"(?::(?P<s>[0-5][0-9]))?(?:\s*(?P<ap>[ap])\.?\s?m\b\.?)?"
    r"|(?P<h2>[0-9]{1,2})\s*(?:(?P<ap2>[ap])\.?\s?m\b\.?|heures?\b)"
    r"|12\s*(?P<half>midnight|noon)\b)(?![0-9:])",
    re.I,
)
# Marks around a stamp that opens a line: `+++ 16:40 ... +++`, `● 18:58 |`, `** 4:00 pm **`.
_DECOR = "+*●•·▪◦‣■►▶|"
_ZONE_WORDS = r"мск|TS[İI]|Greenwich Mean Time|British Summer Time"
# `11:54AM Pacific: ...`: a US region's name after a leading clock, where a separator follows it
_REGION_WORDS = r"(?:Pacific|Eastern|Central|Mountain)"
_LEAD_CLOCK = (
    r"[0-9]{1,2}(?:[:.]|h(?=[0-5][0-9]))[0-9]{2}(?::[0-9]{2})?(?:\s*[ap]\.?\s?m\b\.?)?"
    r"|[0-9]{1,2}:\s[0-5][0-9]\s*[ap]\.?\s?m\b\.?"  # `5: 30 am`
    r"|[0-9]{1,2},[0-9]{2}(?=\s*:)"  # `00,39:` (Italian pages)
    r"|[0-9]{1,2}\s*heures?(?:\s+[0-5][0-9])?"
    r"|[0-9]{1,2}\s*[ap]\.?\s?m\b\.?"
    r"|12\s*(?:midnight|noon)\b"  # `12midnight: ...`
)
_LEADING_RE = re.compile(
    rf"(?P<decor>[{re.escape(_DECOR)}]+\s*)?(?P<word>(?:update|aggiornamento|actualizaci[oó]n)\s*:?\s+)?"
    rf"(?:(?P<zone0>{_ZONE_WORDS}|(?-i:[A-Z]{{2,4}}))\s+)?"
    rf"(?P<clock>{_LEAD_CLOCK})(?:\s*(?:uhr|hs|hrs|ore|h)\b\.?)?"
    rf"(?:\s+(?P<zone>{_ZONE_WORDS}|{ZONE_TOKEN}|{_REGION_WORDS}(?=\s*[:–—|])))?"
    r"(?:\s*(?P<sep>[:–—|-]|[+*]{2,})\s*|(?P<space>\s+)|(?=[^\W\d_]))(?P<rest>\S.*)",
    re.I | re.S,
)
_DIGIT_RE = re.compile(r"[0-9]")
_LEADING_REACH = 48  # marks, an `Update` word, a date and a zone come before a leading clock
_LEADING_DATE_RE = re.compile(rf"(?:{_DATE_IN_TEXT_RE.pattern})\s*(?:-{{1,2}}|[,–—|])?\s*(?=[0-9])", re.I)
_HHMM_RE = re.compile(rf"(?P<hhmm>[01][0-9][0-5][0-9]|2[0-3][0-5][0-9])(?:\s+(?P<zone>{ZONE_TOKEN}))?\s*[:–—-]?\s+(?P<rest>\S.*)", re.S)
_DATELINE_WORDS = re.compile(
    r"^(?:last\s+)?(?:update[ds]?|published|posted|aktualisiert|veröffentlicht|mis\s+à\s+jour|màj\.?(?:\s+le)?|publié(?:\s+le)?"
    r"|aggiornat[oa]|pubblicat[oa]|actualizad[oa]|atualizad[oa]|publicad[oa]|bijgewerkt|gepubliceerd|zaktualizowano"
    r"|opublikowano|güncelleme|güncellendi|yayınlanma|обновлено|опубликовано)"
    r"(?:\s+at|\s+on|\s+am|\s+il|\s+el|\s+em|\s+op|\s+o)?\s*:?\s*",
    re.I,
)
def updated_date_in(line: str) -> DayMonth | None:
    """The date of an `Updated ...` note without a clock, alone or after a published note:
    `Pubblicato il 13 Ottobre 2026 - 08:11 | Aggiornato il 14 Ottobre 2026` -> 14 October."""
    for part in line.split("|"):
        note = _DATELINE_WORDS.match(part.strip().strip(_DECOR + " "))
        if note is not None and not PUBLISHED_WORDS.match(note.group(0)):
            found = dates_in(part[note.end():][:40])
            if found:
                return found[0]
    return None


PUBLISHED_WORDS = re.compile(
    r"(?:first\s+)?(?:published|posted|veröffentlicht|publié|pubblicat[oa]|publicad[oa]|gepubliceerd|opublikowano"
    r"|yayınlanma|опубликовано)(?!\w)",
    re.I,
)
# `** 10th update, Mon. August 29th, 4:00 pm CDT **`: the update's number is not part of its date.
_NTH_UPDATE_RE = re.compile(r"^[0-9]{1,4}(?:st|nd|rd|th|\.)?\s+update\b\s*[,:\-–—]?\s*", re.I)
# `10:26 p.m. EDT | Sept. 1, 2005 | permalink`: link words after a stamp.
LINK_TAIL_RE = re.compile(r"(?:\s*[|·]\s*(?:permalink|link|comments?|[0-9]+\s+comments?|share))+\s*$", re.I)
_ZONE_BEFORE_RE = re.compile(rf"^(?P<zone>{_ZONE_WORDS}|GMT|UTC)\s+(?=[0-9])", re.I)
_UNIT_WORDS = re.compile(r"^(?:uhr|h|hs|hrs|ore|local time|ч\.?)$", re.I)


def _clock_from(match: re.Match[str]) -> tuple[int, int, int] | None:
    if match.group("half"):
        return (0 if match.group("half").lower() == "midnight" else 12), 0, 0
    hour = int(match.group("h") or match.group("h2"))
    minute = int(match.group("m") or 0)
    second = int(match.group("s") or 0)
    ampm = (match.group("ap") or match.group("ap2") or "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "p" else 0)
    elif hour > 23:
        return None
    return hour, minute, second


def _half_day_named(match: re.Match[str]) -> bool:
    """Whether a clock says which half of the day it is in (`pm`, `12 midnight`)."""
    return bool(match.group("ap") or match.group("ap2") or match.group("half"))


def _style(match: re.Match[str], has_date: str, zone: bool) -> str:
    return "|".join((
        "s" if match.group("s") else "",
        ("ap" if _half_day_named(match) else "24") + ("" if match.group("m") else "h"),
        has_date,
        "z" if zone else "",
    ))


def parse_stamp_line(line: str) -> Stamp | None:
    """A line that is only a time, maybe with a date and a zone: `13:37:41 25.04.2019`,
    `9.05am BST`, `09:12 CET`, `April 25, 6:00 UTC+3`, `Updated 10:41 GMT, 4 March 2026`."""
    if len(line) > 100 or not re.search(r"[0-9]", line):
        return None
    text = LINK_TAIL_RE.sub("", line.strip().strip(_DECOR + "/ ")).strip().rstrip(":").rstrip()  # `UPDATE 1:06 p.m.:`
    if not text or len(text) > 60:
        return None
    updated = _DATELINE_WORDS.match(text) is not None
    text = _NTH_UPDATE_RE.sub("", _DATELINE_WORDS.sub("", text))
    zone_before = None
    if (before_match := _ZONE_BEFORE_RE.match(text)) is not None:
        zone_before = zone_from_name(before_match.group("zone"))
        text = text[before_match.end():]
    found_date: date | DayMonth | None = None
    date_kind = ""
    numeric = _NUMERIC_DATE_RE.search(text)
    if numeric:
        found_date = _numeric_date(numeric)
        if found_date is None:
            return None
        date_kind = "num"
        text = (text[: numeric.start()] + " " + text[numeric.end():]).strip()
    clock_match = _CLOCK_RE.search(text)
    if not clock_match:
        return None
    clock = _clock_from(clock_match)
    if clock is None:
        return None
    before = text[: clock_match.start()].strip(" ,|–—-·")
    after = text[clock_match.end():].strip(" ,|–—-·")
    zone = None
    zone_match = re.match(rf"\(?({_ZONE_WORDS}|{ZONE_TOKEN})\)?", after, re.I)
    if zone_match:
        zone = zone_from_name(zone_match.group(1))
        if zone is not None:
            after = after[zone_match.end():].strip(" ,|–—-·")
    if _UNIT_WORDS.match(after):
        after = ""
    leftover = " ".join(part for part in (before, after) if part)
    if leftover:
        if found_date is not None:
            return None
        found_date = parse_date_text(leftover)
        if found_date is None:
            return None
        date_kind = "text"
    zone = zone or zone_before
    style = _style(clock_match, date_kind, zone is not None)
    return Stamp(*clock, date=found_date, zone=zone, style=("updated|" if updated else "") + style)


_LEADING_WEEKDAY_RE = re.compile(r"(?P<day>[^\W\d_]{3,})\.?,?\s+(?=[0-9])")


def parse_leading_stamp(paragraph: str) -> Stamp | None:
    """A time that opens a paragraph: `9.40am: ...`, `3.15pm ...`, `21:05: ...`, `0915 ...`,
    `+++ 16.40 Uhr: ... +++`, `● 18:58 | ...`, `TSİ 23:00 - ...`, `21.12 мск ...`, `14h05 ...`,
    `20 heures 45 : ...`, `00,39: ...`, `Update 12:00: ...` and a time stuck to its text."""
    if _DIGIT_RE.search(paragraph, 0, _LEADING_REACH) is None:
        return None  # most lines of a page: no time where a leading stamp would stand
    match = _LEADING_RE.match(paragraph)
    if match:
        stamp = _leading_from(match)
        if stamp is not None:
            return stamp
    elif paragraph[:1].isalpha() and (dated := _LEADING_DATE_RE.match(paragraph)) is not None:
        # `April 29, 2011 -- 8:27 a.m. ET: ...`: the day's first post carries the date
        stamp = parse_leading_stamp(paragraph[dated.end():])
        days = dates_in(dated.group(0))
        if stamp is not None and days:
            stamp.date = days[0]
        return stamp
    elif (named := _LEADING_WEEKDAY_RE.match(paragraph)) is not None and named.group("day").lower() in WEEKDAYS:
        return parse_leading_stamp(paragraph[named.end():])  # `Dienstag, 13.57 Uhr: ...`
    match = _HHMM_RE.match(paragraph)
    if match:
        zone, rest = _zone_and_rest(match)
        hhmm = match.group("hhmm")
        if not _opens_sentence(rest):
            return None
        return Stamp(int(hhmm[:2]), int(hhmm[2:]), zone=zone, rest=rest,
                     style="hhmm")
    return None


def _leading_from(match: re.Match[str]) -> Stamp | None:
    clock_text = match.group("clock").replace(",", ":")
    clock_match = _CLOCK_RE.fullmatch(clock_text.strip())
    clock = _clock_from(clock_match) if clock_match else None
    if clock is None or clock_match is None:
        return None
    zone0 = match.group("zone0")
    zone_before = zone_from_name(zone0) if zone0 else None
    if zone0 and zone_before is None:
        return None  # `UN 10:30 ...`: a word, not a zone
    zone, rest = _zone_and_rest(match)
    zone = zone or zone_before
    rest = rest.rstrip(" +*").strip()
    if not rest:
        return None
    is_24h = not _half_day_named(clock_match)
    glued = not (match.group("sep") or match.group("space"))
    # `21:05 Text` may be prose; behind banner marks (`+++ 22:00 text`) it is a stamp
    banner = (match.group("decor") or "").strip() in ("+++", "***")
    spaced = is_24h and not match.group("sep") and zone is None and not banner
    if spaced and not _opens_sentence(rest):
        return None
    kind = "glued|" if glued else "spaced|" if spaced else "lead|"
    return Stamp(*clock, zone=zone, rest=rest, style=kind + _style(clock_match, "", zone is not None))


def _zone_and_rest(match: re.Match[str]) -> tuple[tzinfo | None, str]:
    """The zone after a leading clock; a word that only looks like one (`UN`) is text."""
    rest = match.group("rest").strip()
    if not match.group("zone"):
        return None, rest
    zone = zone_from_name(match.group("zone"))
    return (zone, rest) if zone is not None else (None, f"{match.group('zone')} {rest}")


def _opens_sentence(text: str) -> bool:
    first = text.lstrip("\"'“‘«„")[:1]
    return bool(first) and (first.isupper() or first.isdigit())


# A short text that counts back: `3 min ago`, `vor 5 Minuten`, `il y a 2 heures`, `hace 10 minutos`.
RELATIVE_RE = re.compile(
    r"^(?:\d+\s*\w+\.?\s+(?:ago|назад|önce|geleden|temu|fa)|(?:vor|il y a|hace|há)\s+\d+\s*\w+\.?)$", re.I
)


def parse_iso(value: object, zone: tzinfo | None) -> datetime | None:
    """An ISO-8601 date-time (as in JSON-LD) -> aware UTC; a zone-less value takes `zone`."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return to_utc(parsed, zone)


def order_of(times: list[datetime | None]) -> str:
    """"oldest" when a list of post times runs forward, else "newest" (live blogs' default)."""
    known = [t for t in times if t is not None]
    return "oldest" if len(known) >= 2 and known[0] < known[-1] else "newest"


def to_utc(value: datetime, zone: tzinfo | None) -> datetime | None:
    """Aware UTC; a naive value is read in `zone`. None when UTC would fall outside years 1-9999."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


# --- giving posts their dates -------------------------------------------------------------

_HALF_DAY = 12 * 3600


@dataclass
class PostClock:
    """What one post of a page says about its time, before dates are settled."""

    stamp: Stamp
    heading: DayMonth | None = None  # the date heading the post sits under
    section: int = 0  # which date heading (0 = none yet)


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def page_order(clocks: list[PostClock | None]) -> str:
    """"newest" when most neighbouring times go down the page, else "oldest"."""
    down = up = 0
    timed = [c for c in clocks if c is not None]
    for first, second in zip(timed, timed[1:]):
        if first.section != second.section:
            continue
        a, b = _seconds(first.stamp.clock), _seconds(second.stamp.clock)
        if isinstance(first.stamp.date, date) and isinstance(second.stamp.date, date):
            a += first.stamp.date.toordinal() * 86400
            b += second.stamp.date.toordinal() * 86400
        elif abs(a - b) > _HALF_DAY:
            continue  # a midnight: says nothing about the order
        down += a > b
        up += a < b
    return "newest" if down >= up else "oldest"


def resolve(
    clocks: list[PostClock | None],
    *,
    zone: tzinfo | None,
    year: int,
    start: date | None = None,
    end: date | None = None,
    end_first: bool = False,
) -> tuple[list[datetime | None], str]:
    """Give every timed post an aware UTC datetime; returns (times in page order, page order).

    `start` is the date of the page's first (oldest) post, e.g. its published dateline;
    `end` the date of its newest post, e.g. the user's --date. Walking the posts in time
    order, a clock that jumps back by more than half a day means the day changed.
    """
    order = page_order(clocks)
    indices = [i for i, c in enumerate(clocks) if c is not None]
    chronological = indices[::-1] if order == "newest" else indices
    days: dict[int, date] = {}
    if end_first and order == "newest":
        # the page's `Last updated` note dates its top post; its first post may be cut off below
        _walk(clocks, chronological[::-1], end, -1, year, days)
    _walk(clocks, chronological, start, +1, year, days)
    if len(days) < len(indices):
        _walk(clocks, chronological[::-1], end, -1, year, days)
    times: list[datetime | None] = []
    for i, clock in enumerate(clocks):
        if clock is None or i not in days:
            times.append(None)
            continue
        local = datetime.combine(days[i], clock.stamp.clock, tzinfo=clock.stamp.zone or zone or UTC)
        times.append(to_utc(local, None))
    return times, order


def _next_day(day: date, step: int) -> date | None:
    try:
        return day + timedelta(days=step)
    except OverflowError:  # past year 9999 or before year 1
        return None


def _walk(clocks: list[PostClock | None], indices: list[int], running: date | None, step: int, year: int,
          days: dict[int, date]) -> None:
    previous: int | None = None
    section = None
    for i in indices:
        clock = clocks[i]
        if clock is None:  # indices name posts with a clock
            continue
        seconds = _seconds(clock.stamp.clock)
        if i in days:  # dated by an earlier walk: carry its day on
            running, previous, section = days[i], seconds, clock.section
            continue
        if clock.section != section:
            section = clock.section
            if clock.heading is not None:  # a heading dates the first post of its day
                running, previous = clock.heading.on(year), None
        stamp_date = clock.stamp.date
        if isinstance(stamp_date, DayMonth):
            stamp_date = stamp_date.on(year)
        if stamp_date is not None:
            running = stamp_date
        elif running is not None and previous is not None and step * (previous - seconds) > _HALF_DAY:
            running = _next_day(running, step)
        if running is not None:
            days[i] = running
        previous = seconds
