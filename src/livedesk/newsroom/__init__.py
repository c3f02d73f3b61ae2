"""The one place where things happen to stored coverage."""


class NotFound(LookupError):
    """An event or post that does not exist (or that this user may not see)."""


class Invalid(ValueError):
    """Input that breaks a rule; the message says which."""


class Forbidden(PermissionError):
    """The user's role does not allow this."""
