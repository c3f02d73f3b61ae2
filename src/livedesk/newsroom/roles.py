"""Who may do what in the newsroom: the acting user, and the roles each kind of write needs.

Accounts are stored by store/accounts.py; web/auth.py finds the actor of a request."""

from __future__ import annotations

from dataclasses import dataclass

from livedesk.errors import Forbidden, NotFound
from livedesk.model import Post, PostStatus, Role

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


def unpublished_author(actor: Actor | None) -> int | None:
    """Whose unpublished posts (drafts, scheduled, pending) `actor` may read: everyone's for an
    editor (None), only their own for a contributor; NotFound for readers and the public."""
    if actor is None or actor.role not in WRITERS:
        raise NotFound("only the desk may read unpublished posts")
    return None if actor.role in EDITORS else actor.id


def may_read(actor: Actor | None, post: Post) -> bool:
    """Anyone reads a published post; an unpublished one only its contributor or an editor."""
    if post.status == PostStatus.deleted:
        return False
    if post.visible:
        return True
    if actor is None or actor.role not in WRITERS:
        return False
    return actor.role in EDITORS or post.created_by == actor.id
