"""The currency tool: reference exchange rates (ECB-style XML or CSV, euro based), conversion, and its page."""

from __future__ import annotations

import csv
import io
import time
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from xml.etree import ElementTree

from fastapi import APIRouter, Request, Response

from livedesk.ingest import FetchError
from livedesk.ingest.fetch import Networks, fetch
from livedesk.web.render import HTML, error_page, render

router = APIRouter(include_in_schema=False)

SAMPLE = Path(__file__).parent / "rates-sample.xml"
CACHE_SECONDS = 600
MAX_AMOUNT = Decimal("1e15")


class RatesError(ValueError):
    """The rates file or URL cannot be read or understood."""


class ConversionError(ValueError):
    """The reader's amount or currency is not usable; the message says why."""


@dataclass(frozen=True)
class Rates:
    day: date
    per_euro: dict[str, Decimal]  # units of each currency for one euro; EUR itself is 1

    @property
    def currencies(self) -> list[str]:
        return sorted(self.per_euro)


@dataclass(frozen=True)
class Conversion:
    amount: Decimal
    source: str
    target: str
    result: Decimal
    rate: Decimal  # target units for one source unit
    inverse: Decimal  # source units for one target unit


def parse_rates(content: bytes) -> Rates:
    text = content.decode("utf-8-sig", errors="replace").lstrip()
    return _parse_xml(content) if text.startswith("<") else _parse_csv(text)


def _parse_xml(content: bytes) -> Rates:
    """The ECB daily file: <Cube time="YYYY-MM-DD"><Cube currency="USD" rate="1.08"/>...</Cube>."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError as exc:
        raise RatesError(f"the rates XML is not well formed ({exc})") from None
    for cube in root.iter():
        if cube.tag.endswith("Cube") and cube.get("time"):
            pairs = [(c.get("currency"), c.get("rate")) for c in cube if c.get("currency")]
            return _rates(cube.get("time"), pairs)
    raise RatesError("the rates XML has no <Cube time=...> with rates in it")


def _parse_csv(text: str) -> Rates:
    """The ECB CSV: a header row `Date, USD, JPY, ...` and one row of values."""
    rows = [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text)) if any(c.strip() for c in row)]
    if len(rows) < 2 or rows[0][0].lower() != "date":
        raise RatesError("the rates CSV needs a header row starting with Date, and a row of rates")
    header, values = rows[0], rows[1]
    return _rates(values[0], [(name, value) for name, value in zip(header[1:], values[1:]) if name])


def _rates(when: str, pairs: list[tuple[str, str]]) -> Rates:
    day = _date(when)
    per_euro = {"EUR": Decimal(1)}
    for name, value in pairs:
        try:
            rate = Decimal(value)
        except (InvalidOperation, TypeError):
            continue  # ECB files mark missing rates with N/A
        if rate > 0 and name and len(name.strip()) == 3:
            per_euro[name.strip().upper()] = rate
    if len(per_euro) < 2:
        raise RatesError("the rates file holds no usable rates")
    return Rates(day, per_euro)


def _date(value: str) -> date:
    for form in ("%Y-%m-%d", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(value.strip(), form).date()
        except ValueError:
            pass
    raise RatesError(f"the rates date {value!r} is not a date")


RatesCache = dict[str, tuple[float, Rates]]  # where -> (when read, rates)


def load_rates(path_or_url: str | None, allow_private: Networks = (), cache: RatesCache | None = None) -> Rates:
    """The configured rates (the shipped sample when none are configured), kept in `cache` for
    ten minutes."""
    cache = {} if cache is None else cache
    where = path_or_url or str(SAMPLE)
    hit = cache.get(where)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    if where.lower().startswith(("http://", "https://")):
        try:
            content = fetch(where, allow_private=allow_private).content
        except FetchError as exc:
            raise RatesError(str(exc)) from None
    else:
        try:
            content = Path(where).read_bytes()
        except OSError as exc:
            raise RatesError(f"cannot read {where}: {exc.strerror or exc}") from None
    rates = parse_rates(content)
    cache[where] = (time.monotonic(), rates)
    return rates


def parse_amount(text: str) -> Decimal:
    cleaned = text.strip().replace(" ", "").replace("_", "")
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")  # 12,50
    else:
        cleaned = cleaned.replace(",", "")  # 1,234.50
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ConversionError(f"“{text}” is not an amount. Type a number, like 12.50.") from None
    if not amount.is_finite() or amount < 0:
        raise ConversionError(f"“{text}” is not an amount. Type a number of zero or more, like 12.50.")
    if amount > MAX_AMOUNT:
        raise ConversionError("That amount is too large to convert.")
    return amount


def convert(rates: Rates, amount_text: str, source: str, target: str) -> Conversion:
    amount = parse_amount(amount_text)
    for code in (source, target):
        if code not in rates.per_euro:
            raise ConversionError(f"“{code}” is not a currency in the rates of {rates.day.isoformat()}. "
                                  f"Choose one of: {', '.join(rates.currencies)}.")
    rate = rates.per_euro[target] / rates.per_euro[source]
    return Conversion(amount, source, target, (amount * rate).quantize(Decimal("0.01")),
                      rate.quantize(Decimal("0.000001")), (1 / rate).quantize(Decimal("0.000001")))


def _rates_cache(request: Request) -> RatesCache:
    """The app's rates, as read last."""
    state = request.app.state
    if getattr(state, "rates_cache", None) is None:
        state.rates_cache = {}
    cache: RatesCache = state.rates_cache
    return cache


@router.get("/tools/currency")
def currency_page(request: Request) -> Response:
    params = request.query_params
    settings = request.app.state.settings
    amount_text = (params.get("amount") or "").strip()[:40]
    source = (params.get("from") or "EUR").strip().upper()[:8]
    target = (params.get("to") or "USD").strip().upper()[:8]
    error = result = None
    try:
        rates = load_rates(settings.rates_path, settings.fetch_allow_private, _rates_cache(request))
    except RatesError as exc:
        return error_page(request, 503, f"The exchange rates cannot be read: {exc}")
    if amount_text:
        try:
            result = convert(rates, amount_text, source, target)
        except ConversionError as exc:
            error = str(exc)
    body = render(request, "currency.html", rates=rates, amount=amount_text, source=source, target=target,
                  result=result, error=error)
    return Response(body, status_code=422 if error else 200, media_type=HTML)
