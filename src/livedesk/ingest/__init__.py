"""Outside coverage -> posts: fetch a page, recognise its format, split it into timed posts.

Pure except for fetch.py, which does the network I/O.
"""

from __future__ import annotations


class ParseError(ValueError):
    """The input cannot be read as a live page; the message is one readable line."""


class FetchError(ValueError):
    """The page could not be fetched; the message is one readable line."""
