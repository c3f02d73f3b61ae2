"""Cards for other sites' posts and videos pasted by URL: made from the link alone, filled from
the provider's oEmbed endpoint through the guarded fetch where fetching is allowed, with the
thumbnail copied here (as an uploaded photo) so that readers load nothing from the provider."""

from __future__ import annotations

import ipaddress
import json
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from livedesk.errors import Invalid, Unavailable
from livedesk.ingest import FetchError
from livedesk.ingest.embeds import CARD_PROVIDERS, card_from_url, card_with_oembed, oembed_url
from livedesk.ingest.fetch import address_allowed, fetch
from livedesk.markup import clean_url
from livedesk.newsroom import photos
from livedesk.newsroom.roles import WRITERS, Actor, require

if TYPE_CHECKING:
    from livedesk.newsroom.room import Newsroom

log = logging.getLogger("livedesk.cards")

OEMBED_MAX_BYTES = 256 * 1024
FETCH_TIMEOUT_S = 5.0


def checked_card(url: str, room: Newsroom) -> dict:
    """The card a link makes from itself; `Invalid` for a link that is not a provider's post."""
    try:
        url = clean_url(url)
    except ValueError:
        raise Invalid("give the http(s) address of the post or video") from None
    parts = urlsplit(url)
    if url.startswith("/") or parts.username or parts.password:
        raise Invalid("give the plain http(s) address of the post or video")
    try:
        literal = ipaddress.ip_address((parts.hostname or "").strip("[]"))
    except ValueError:
        literal = None
    if literal is not None and not address_allowed(literal, room.settings.fetch_allow_private):
        raise Invalid("an embed's address may not be a private or local one")
    card = card_from_url(url)
    if card is None:
        raise Invalid("not a link to a post or video on " + ", ".join(CARD_PROVIDERS))
    return card


def embed_card(room: Newsroom, url: str, actor: Actor) -> dict:
    """A media item (kind video or embed) for a link to another site's post or video."""
    require(actor, WRITERS)
    card = checked_card(url, room)
    if not room.settings.oembed:
        return card
    endpoint = oembed_url(card)
    allowed = room.settings.fetch_allow_private
    if endpoint:
        try:
            answer = fetch(endpoint, allow_private=allowed, timeout=FETCH_TIMEOUT_S, max_bytes=OEMBED_MAX_BYTES)
            card = card_with_oembed(card, json.loads(answer.content))
        except (FetchError, ValueError) as exc:
            log.info("oEmbed for %s: %s; the card keeps what its link says", card["url"], exc)
    thumbnail = card.pop("thumbnail_source", None)
    if thumbnail:
        try:
            picture = fetch(thumbnail, allow_private=allowed, timeout=FETCH_TIMEOUT_S, max_bytes=photos.MAX_UPLOAD_BYTES)
            item = photos.upload(room, picture.content, actor)
            card["thumbnail"] = f"/media/{photos.rendition_name(item['upload'], item['widths'][0])}"
        except (FetchError, Invalid, Unavailable) as exc:
            log.info("thumbnail for %s: %s; the card goes without one", card["url"], exc)
    return card
