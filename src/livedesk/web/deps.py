"""What a request handler takes from the running app: the newsroom and its engine."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import Engine

from livedesk.newsroom.room import Newsroom


def newsroom_of(request: Request) -> Newsroom:
    room: Newsroom = request.app.state.newsroom
    return room


def engine_of(request: Request) -> Engine:
    return newsroom_of(request).engine
