"""Translation catalogues (Babel .po files) and the current request's language.

Message ids are English; ``translations/<locale>/LC_MESSAGES/messages.po`` holds every
language, zh_CN first. The catalogues are compiled in memory at start-up, so no build
artefact is committed. The current language lives in a context variable that the locale
middleware sets per request, so services can raise translated errors without knowing the
request.
"""

from __future__ import annotations

import contextvars
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DEFAULT_LANGUAGE = "zh_CN"
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}

_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def normalise_language(value: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """Map 'zh-CN', 'zh', 'en-US', … to a supported catalogue name."""
    if not value:
        return default
    value = value.replace("-", "_")
    if value in LANGUAGES:
        return value
    lang = value.split("_")[0].lower()
    if lang == "zh":
        return "zh_CN"
    if lang == "en":
        return "en"
    return default


#: How much of an Accept-Language header is read: a header is a few dozen characters; a longer
#: one is cut here rather than parsed at length.
_ACCEPT_MAX_CHARS = 2000
_ACCEPT_MAX_RANGES = 50
_LANGUAGE_RANGE = re.compile(r"^(\*|[a-z]{1,8}(-[a-z0-9]{1,8})*)$")
_QVALUE = re.compile(r"^(\d+(\.\d*)?|\.\d+)$")


def accepted_ranges(header: str | None) -> list[str]:
    """The language ranges of an Accept-Language header, the most wanted first: by q-value, then
    in the order written; lower case, "_" read as "-". A range refused (``q=0``) or malformed (a
    q-value that is not a number from 0 to 1, a tag that is not letters and digits joined by
    "-") is left out, the rest still read: ``"en-US,en;q=0.9, zh;q=oops"`` → ``["en-us", "en"]``.
    """
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "")[:_ACCEPT_MAX_CHARS].split(",")
                                    [:_ACCEPT_MAX_RANGES]):
        tag, *parameters = (piece.strip() for piece in part.split(";"))
        tag = tag.lower().replace("_", "-")
        if not _LANGUAGE_RANGE.match(tag):
            continue
        quality = 1.0
        for parameter in parameters:
            name, _equals, value = (p.strip() for p in parameter.partition("="))
            if name.lower() == "q":
                quality = float(value) if _QVALUE.match(value) else -1.0
                break
        if 0 < quality <= 1:
            ranked.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(ranked)]


def catalogue_language(tag: str) -> str | None:
    """The catalogue of a language tag: any Chinese (zh, zh-CN, zh-Hans, zh-TW…) → zh_CN, any
    English → en; None for a language the platform does not speak."""
    primary = tag.replace("_", "-").split("-")[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def language_from_accept(header: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    """The catalogue an Accept-Language header asks for: its most wanted range the platform
    speaks; ``default`` when it asks for any language (``*``) before one of those, or names none
    of them, or is absent or unreadable."""
    for tag in accepted_ranges(header):
        if tag == "*":
            return default
        language = catalogue_language(tag)
        if language:
            return language
    return default


def content_language(language: str) -> str:
    """A catalogue name as a Content-Language value (a BCP 47 tag): zh_CN → zh-CN."""
    return language.replace("_", "-")


@lru_cache
def translations(language: str) -> NullTranslations:
    po_path = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as fh:
        catalog = read_po(fh, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def current_language() -> str:
    return _current.get()


def set_language(language: str) -> contextvars.Token:
    return _current.set(normalise_language(language))


@contextmanager
def language(lang: str) -> Iterator[None]:
    token = set_language(lang)
    try:
        yield
    finally:
        _current.reset(token)


def gettext(message: str, **variables) -> str:
    text = translations(current_language()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def percent(number) -> str:
    """A number of percent as the language writes it: '95%' in Chinese (no space, as Chinese
    typography has it), '95 %' in English."""
    return gettext("%(number)s %%", number=number)


def size_text(size: int) -> str:
    """A number of bytes as a reader says it: '1 MB', '1.5 MB', '512 KB', '0.5 KB'… '800 bytes'
    (one decimal when it is not whole)."""
    def count(unit: int):
        rounded = round(size / unit, 1)
        return int(rounded) if rounded == int(rounded) else rounded

    if size >= 1024 * 1024:
        return _("%(count)s MB", count=count(1024 * 1024))
    if size >= 1024:
        return _("%(count)s KB", count=count(1024))
    return _("%(count)s bytes", count=size)


class LazyString:
    """A message translated when it is shown, for module-level labels (enum names, menus)."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message

    def __str__(self) -> str:
        return gettext(self.message)

    def __html__(self) -> str:  # Jinja2 autoescape: plain text, escaped by the caller
        from markupsafe import escape

        return str(escape(str(self)))

    def __repr__(self) -> str:
        return f"LazyString({self.message!r})"

    def __eq__(self, other) -> bool:
        return str(self) == str(other)

    def __hash__(self) -> int:
        return hash(self.message)


def lazy_gettext(message: str) -> LazyString:
    return LazyString(message)


N_ = lazy_gettext
