"""The "Partner news" block: latest items of the operator's partner feeds, read in the background.

Feeds are read through the ingest layer and kept for a few minutes. A feed that fails shows
nothing; it never slows down or breaks a page.
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import Request

from livedesk.ingest import FetchError, ParseError
from livedesk.ingest.fetch import Networks, read_source
from livedesk.markup import clean_text

log = logging.getLogger("livedesk.partners")

REFRESH_S = 300.0
FIRST_WAIT_S = 1.5  # the first page waits this long for the first read, then goes on without
PER_FEED = 3
MAX_ITEMS = 8


class PartnerNews:
    def __init__(self, feeds: str, refresh_s: float = REFRESH_S, *, allow_private: Networks = ()) -> None:
        self.sources = [f.strip() for f in feeds.split(",") if f.strip()]
        self.allow_private = allow_private  # the settings' fetch_allow_private
        self.refresh_s = refresh_s
        self.generation = 0  # goes up when the items change, so cached pages are rebuilt
        self._items: list[dict] = []
        self._read_at: float | None = None
        self._lock = threading.Lock()
        self._reading: threading.Thread | None = None

    def items(self) -> list[dict]:
        """What we have now; starts a refresh when the items are old."""
        if not self.sources:
            return []
        stale = self._read_at is None or time.monotonic() - self._read_at > self.refresh_s
        if stale:
            with self._lock:
                if self._reading is None or not self._reading.is_alive():
                    self._reading = threading.Thread(target=self._refresh, daemon=True, name="partner-news")
                    self._reading.start()
                reading = self._reading
            if self._read_at is None:
                reading.join(FIRST_WAIT_S)
        return self._items

    def _refresh(self) -> None:
        items: list[dict] = []
        for source in self.sources:
            try:
                page = read_source(source, allow_private=self.allow_private)
            except (FetchError, ParseError) as exc:
                log.warning("partner feed %s: %s", source, exc)
                continue
            except Exception:
                log.exception("partner feed %s could not be read", source)
                continue
            for post in page.posts[:PER_FEED]:
                link = post.anchor if post.anchor and post.anchor.startswith(("http://", "https://")) else None
                title = clean_text(post.headline or post.text[:120]) or ""
                if title:
                    items.append({"outlet": page.outlet or page.title or "", "title": title, "url": link,
                                  "time": post.time.isoformat() if post.time else None})
        items.sort(key=lambda i: i["time"] or "", reverse=True)
        items = items[:MAX_ITEMS]
        if items != self._items:
            self._items = items
            self.generation += 1
        self._read_at = time.monotonic()


def partners_of(request: Request) -> PartnerNews:
    """The app's partner news, made on first use from its settings."""
    state = request.app.state
    news: PartnerNews | None = getattr(state, "partner_news", None)
    if news is None:
        settings = state.settings
        news = state.partner_news = PartnerNews(settings.partner_feeds, allow_private=settings.fetch_allow_private)
    return news
