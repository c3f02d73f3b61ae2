"""What goes wrong with a request, in the words every floor uses (web/ maps them to HTTP)."""


class NotFound(LookupError):
    """An event or post that does not exist (or that this user may not see)."""


class Invalid(ValueError):
    """Input that breaks a rule; the message says which."""


class Forbidden(PermissionError):
    """The user's role does not allow this."""
