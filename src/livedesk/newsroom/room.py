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
from livedesk.store.db import make_engine


@dataclass
class Newsroom:
    settings: Settings
    engine: Engine
    broker: Broker
    developments: Developments = field(init=False)

    def __post_init__(self) -> None:
        self.developments = Developments(self.engine, self.broker, semantic=self.settings.semantic == "auto")

    @classmethod
    def open(cls, settings: Settings, broker: Broker | None = None) -> Newsroom:
        """A newsroom on the settings' database, with their broker unless one is given."""
        return cls(settings, make_engine(settings.database_url), broker or make_broker(settings.broker_url))

    def close(self) -> None:
        """Finish aligning what is queued, then let go of the database."""
        self.developments.close()
        self.engine.dispose()
