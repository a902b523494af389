"""Messages of the surveys package, translated by whoever uses it (问卷模块的文字).

``surveys`` knows nothing of the application, so it cannot import its catalogue. Messages
are written in English with ``_()`` (extracted into the application's catalogue like any
other), and the application installs its translator once with :func:`set_translator`;
until then a message is shown in English with its variables filled in.
"""

from __future__ import annotations

from collections.abc import Callable

Translator = Callable[..., str]


def _english(message: str, **variables) -> str:
    return message % variables if variables else message


_translator: Translator = _english


def set_translator(function: Translator) -> None:
    """Install ``function(message, **variables) -> str`` (the application's gettext)."""
    global _translator
    _translator = function


def _(message: str, **variables) -> str:
    return _translator(message, **variables)


class LazyText:
    """A module-level message translated when shown (option labels, type names)."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return _(self.message)

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)


def N_(message: str) -> LazyText:
    return LazyText(message)
