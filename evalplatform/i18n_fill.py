"""Fill missing translations of one catalogue from a Python dict file: a translator's helper.

    python -m evalplatform.i18n_fill zh_CN translations.py   # the file defines ZH = {...}

A plural message (ngettext) is keyed by its singular msgid; its value is one string for a
language of one form (Chinese), or a tuple of the forms.
"""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import write_po

from evalplatform.i18n_catalog import load, po_path, untranslated


def fill(language: str, table: dict[str, str]) -> int:
    catalog = load(language)
    filled = 0
    for message in catalog:
        if not message.id or not untranslated(message):
            continue
        if isinstance(message.id, (tuple, list)):  # plural: keyed by the singular
            value = table.get(message.id[0])
            if value is None:
                continue
            forms = catalog.num_plurals
            message.string = tuple(value) if isinstance(value, (tuple, list)) \
                else (value,) * forms
            filled += 1
        elif message.id in table:
            message.string = table[message.id]
            filled += 1
    with po_path(language).open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True)
    return filled


if __name__ == "__main__":
    language, path = sys.argv[1], sys.argv[2]
    table = next(v for k, v in runpy.run_path(path).items() if isinstance(v, dict) and k.isupper())
    print(f"{language}: filled {fill(language, table)}")
