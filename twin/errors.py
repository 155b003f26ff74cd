"""Errors a person can act on.

Every failure that reaches the command line or the operator is a :class:`TwinError`: one line
saying what is wrong and one saying what to do, never a traceback. Library exceptions are caught
at the border where their meaning is known and re-raised as one of these.
"""

from __future__ import annotations


class TwinError(Exception):
    """A failure with a message for a person and, where there is one, the fix."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} — {self.hint}"


class ServiceError(TwinError):
    """An embedded or external service (database, broker) that cannot be used."""


class NotFoundError(TwinError):
    """An id that names nothing the caller may see; the API answers 404 with the id."""


class ValidationError(TwinError):
    """Input that breaks a rule of the model; the API answers 422 naming the field and the rule."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.rule = message


class ForbiddenError(TwinError):
    """A visible object the caller's roles do not let them change; the API answers 403."""
