"""Keep the translation catalogues in step with the code (``make messages``).

Extracts every message from the Python code and the templates, adds new ones to each
language's ``messages.po`` and drops obsolete ones. The application's messages are written
in English: English gets its msgid as translation, the Chinese ones are written by people.
The scoring engine's sentences (its traces and warnings, ``scoring.Text`` templates) are
written in Chinese: Chinese gets its msgid as translation, the English ones are written by
people. The test suite fails while any translation is missing.
"""

from __future__ import annotations

import copy
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from evalplatform.i18n import LANGUAGES, TRANSLATIONS_DIR
from evalplatform.settings import PROJECT_DIR

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "lazy_gettext": None}
METHOD_MAP = [
    ("evalplatform/**.py", "python"),
    ("surveys/**.py", "python"),
    ("templates/**.html", "jinja2"),
]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
#: The scoring engine marks its templates with ``Text("…", **values)`` and ``N_("…")``.
ENGINE_METHOD_MAP = [("scoring/**.py", "python")]
ENGINE_KEYWORDS = {"Text": None, "N_": None}
ENGINE_DIR = "scoring/"


def written_in_chinese(message) -> bool:
    """A message whose source is Chinese: one the engine writes (found in ``scoring/``),
    translated into English. Every other message is written in English, even where it names
    a Chinese term (扣分理由)."""
    return any(filename.replace("\\", "/").startswith(ENGINE_DIR)
               for filename, _line in message.locations)


def extract() -> Catalog:
    catalog = Catalog(project="evalplatform", charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PROJECT_DIR), METHOD_MAP, OPTIONS, keywords=KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PROJECT_DIR), ENGINE_METHOD_MAP, keywords=ENGINE_KEYWORDS
    ):
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def po_path(language: str) -> Path:
    return TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="evalplatform", charset="utf-8")
    with path.open("rb") as fh:
        return read_po(fh, locale=language)


def untranslated(message) -> bool:
    """No translation, or (a plural message) a form of it without one: gettext would fall
    back to the English msgid on the translated page."""
    if isinstance(message.string, (tuple, list)):
        return not all(message.string)
    return not message.string


def update() -> dict[str, int]:
    """Merge the extracted messages into every catalogue; returns untranslated counts."""
    template = extract()
    missing: dict[str, int] = {}
    for language in LANGUAGES:
        catalog = load(language)
        # update() adopts the template's new messages as they are: a copy for each language
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        source = "zh_CN" if language == "zh_CN" else "en"
        for message in catalog:
            if not message.id or not untranslated(message):
                continue
            if (source == "zh_CN") == written_in_chinese(message):
                message.string = message.id  # a plural's (singular, plural) as its two forms
        missing[language] = sum(1 for m in catalog if m.id and untranslated(m))
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, sort_output=True, omit_header=False)
    return missing


if __name__ == "__main__":
    for language, count in update().items():
        print(f"{language}: {count} untranslated")
