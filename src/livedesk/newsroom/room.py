"""The newsroom: settings, the store's engine and the broker, with the live alignments.

One is built where the process starts (the app's lifespan, or a CLI command) and handed
to everything that changes coverage: `publish`, `follow` and `developments` take it as
their first argument, so a post can be followed from a request to the broker by reading
the calls, with no hook registered anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from livedesk.broker import Broker, make_broker
from livedesk.config import Settings
from livedesk.newsroom.developments import Developments
from livedesk.store.bucket import Bucket
from livedesk.store.db import make_engine


@dataclass
class Newsroom:
    settings: Settings
    engine: Engine
    broker: Broker
    developments: Developments = field(init=False)
    bucket: Bucket | None = field(init=False)  # where photos' renditions go, if not the database

    def __post_init__(self) -> None:
        self.developments = Developments(self.engine, self.broker, semantic=self.settings.semantic == "auto")
        self.bucket = photo_bucket(self.settings)

    @classmethod
    def open(cls, settings: Settings, broker: Broker | None = None) -> Newsroom:
        """A newsroom on the settings' database, with their broker unless one is given."""
        return cls(settings, make_engine(settings.database_url), broker or make_broker(settings.broker_url))

    def close(self) -> None:
        """Finish aligning what is queued, then let go of the database."""
        self.developments.close()
        self.engine.dispose()


def photo_bucket(settings: Settings) -> Bucket | None:
    """The S3-compatible bucket the settings name for photos, or None: they go to the database."""
    if not settings.media_s3_url:
        return None
    secret = settings.media_s3_secret_key
    return Bucket(settings.media_s3_url, settings.media_s3_bucket, region=settings.media_s3_region,
                  prefix=settings.media_s3_prefix, access_key=settings.media_s3_access_key,
                  secret_key=secret.get_secret_value() if secret else None)
