"""Errors the surveys package raises; the application turns them into its own."""

from __future__ import annotations


class SurveyError(Exception):
    """A rule refused the request; ``message`` is in the user's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(SurveyError):
    """Fields broke rules: ``errors`` maps a field (or ``sheet!cell``) to its message."""

    def __init__(self, errors: dict[str, str], typed: dict | None = None):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
        #: the questionnaire as the refused form would have made it, to show the form again
        #: with what was typed (the editor's), or None
        self.typed = typed


class Frozen(SurveyError):
    """The questionnaire version has answers and can no longer change."""


class NotAccepting(SurveyError):
    """The survey does not take answers now (not open yet, or closed)."""


class CodeUnknown(SurveyError):
    """No invitation has this code."""


class CodeUsed(SurveyError):
    """The invitation was used already: its answers are in."""


class DuplicateSubmission(SurveyError):
    """The same form was submitted twice (a double tap or a retry): stored once."""
