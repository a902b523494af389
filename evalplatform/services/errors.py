"""Errors that services raise; the web layer turns them into pages and JSON."""

from __future__ import annotations


class DomainError(Exception):
    """A rule refused the request. ``message`` is already in the user's language."""

    status_code = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ValidationFailed(DomainError):
    """One or more fields broke a rule; ``errors`` maps field name → message."""

    status_code = 422

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(DomainError):
    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class Conflict(DomainError):
    """The state changed under the request (e.g. someone else acted first)."""

    status_code = 409


class Throttled(DomainError):
    status_code = 429
