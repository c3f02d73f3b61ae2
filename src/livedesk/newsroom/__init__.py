"""The one place where things happen to stored coverage."""

from livedesk.errors import Forbidden, Invalid, NotFound, Stale

__all__ = ["Forbidden", "Invalid", "NotFound", "Stale"]
