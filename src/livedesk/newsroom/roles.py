"""Who may do what in the newsroom: the acting user, and the roles each kind of write needs.

Accounts are stored by store/accounts.py; web/auth.py finds the actor of a request."""

from __future__ import annotations

from dataclasses import dataclass

from livedesk.errors import Forbidden
from livedesk.model import Role

EDITORS = (Role.admin, Role.editor)
WRITERS = (Role.admin, Role.editor, Role.contributor)


@dataclass(frozen=True)
class Actor:
    id: int | None
    name: str
    role: str


def require(actor: Actor, roles: tuple[str, ...]) -> None:
    if actor.role not in roles:
        raise Forbidden(f"a {actor.role} may not do this; it needs one of: {', '.join(roles)}")
