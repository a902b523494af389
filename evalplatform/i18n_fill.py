"""Fill missing translations of one catalogue from a Python dict file: a translator's helper.

    python -m evalplatform.i18n_fill zh_CN translations.py   # the file defines ZH = {...}
"""

from __future__ import annotations

import runpy
import sys

from babel.messages.pofile import write_po

from evalplatform.i18n_catalog import load, po_path


def fill(language: str, table: dict[str, str]) -> int:
    catalog = load(language)
    filled = 0
    for message in catalog:
        if message.id and not message.string and message.id in table:
            message.string = table[message.id]
            filled += 1
    with po_path(language).open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True)
    return filled


if __name__ == "__main__":
    language, path = sys.argv[1], sys.argv[2]
    table = next(v for k, v in runpy.run_path(path).items() if isinstance(v, dict) and k.isupper())
    print(f"{language}: filled {fill(language, table)}")
