"""What goes wrong with a request, in the words every floor uses (web/ maps them to HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livedesk.model import Post, PostVersion


class NotFound(LookupError):
    """An event or post that does not exist (or that this user may not see)."""


class Invalid(ValueError):
    """Input that breaks a rule; the message says which."""


class Forbidden(PermissionError):
    """The user's role does not allow this."""


class Stale(Exception):
    """An edit that started from an older version of a post than the stored one."""

    def __init__(self, message: str, current: Post, history: list[PostVersion]) -> None:
        super().__init__(message)
        self.current = current  # the post as it is stored now, for the editor to compare
        self.history = history  # its earlier versions


class Unavailable(Exception):
    """A store this needs (the photo bucket) cannot be reached just now; nothing was changed."""
