"""Errors a service raises; their message is safe to show to the user."""

from __future__ import annotations

import math
from datetime import datetime

from clipgen.db import KeepsWork
from clipgen.models.types import utcnow


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

    @property
    def retry_after(self) -> int:
        """Whole seconds until `retry_at` (at least 1), for a Retry-After header."""
        return max(1, math.ceil((self.retry_at - utcnow()).total_seconds()))


class ReauthRequired(ServiceError):
    """A money action needs the password typed again in this session (it was typed too
    long ago); nothing was changed, and the same call succeeds once it is."""

    def __init__(
        self, message: str = "For your security, enter your password again to continue."
    ) -> None:
        super().__init__(message)
