"""Errors a service raises; their message is safe to show to the user."""

from __future__ import annotations

from datetime import datetime

from clipgen.db import KeepsWork


class ServiceError(Exception):
    """A request the rules refuse; `str(error)` says why in the user's words."""


class InvalidInput(ServiceError):
    """The input is malformed or breaks a rule; nothing was changed."""


class NotAuthenticated(ServiceError):
    """No valid session: the caller must sign in."""

    def __init__(self, message: str = "Please sign in to continue.") -> None:
        super().__init__(message)


class PermissionDenied(ServiceError):
    """The caller is signed in but may not do this."""

    def __init__(self, message: str = "You do not have access to that.") -> None:
        super().__init__(message)


class NotFound(ServiceError):
    """The thing does not exist, or the caller may not know it exists."""


class RecordedRefusal(ServiceError, KeepsWork):
    """A refusal whose record must be kept (a failed sign-in counts towards a lockout).

    The unit of work commits what the service wrote before it, then lets it propagate;
    every other ServiceError rolls the unit of work back.
    """


class RateLimited(ServiceError):
    """Too many attempts; `retry_at` says when the caller may try again."""

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at
