"""On a phone a table turns into cards, each cell named by its ``data-label``: that name must
be the name of its column, in the same words (the cards of the public results said 分值,
"points available", above each total score, and 已公开 above a publication date)."""

import re
from pathlib import Path

from evalplatform.settings import PROJECT_DIR

MESSAGE = r"""_\(\s*(?:"((?:[^"\\]|\\.)+)"|'((?:[^'\\]|\\.)+)')"""


def column_names_and_card_labels(html: str):
    """Per table with a header: (the messages naming its columns, those naming its cells)."""
    for table in re.findall(r"<table.*?</table>", html, re.S):
        head = re.search(r"<thead.*?</thead>", table, re.S)
        if not head:
            continue
        names = {(a or b).replace("\\'", "'") for a, b in re.findall(MESSAGE, head.group(0))}
        labels = {(a or b).replace("\\'", "'")
                  for a, b in re.findall(r'data-label="\{\{\s*' + MESSAGE, table)}
        yield names, labels


def test_the_checker_finds_a_card_label_that_is_no_column():
    html = """<table><thead><tr><th>{{ _("Total score") }}</th>
              {{ sort_header(request, page, "on", _('Contract\\'s threshold')) }}</tr></thead>
              <tr><td data-label="{{ _('Score') }}"></td>
              <td data-label="{{ _('Contract\\'s threshold') }}"></td></tr></table>"""
    [(names, labels)] = column_names_and_card_labels(html)
    assert labels - names == {"Score"}


def test_every_card_label_names_its_column():
    wrong = {}
    for path in sorted(Path(PROJECT_DIR, "templates").rglob("*.html")):
        for names, labels in column_names_and_card_labels(path.read_text(encoding="utf-8")):
            if labels - names:
                wrong[str(path.relative_to(PROJECT_DIR))] = sorted(labels - names)
    assert wrong == {}


EMPTY_HEADER = re.compile(r"<th\b[^>]*>\s*</th>")


def test_no_column_heading_is_empty():
    """A screen reader announces each cell with its column's heading: an action column or a
    matrix's corner cell says what it is, in words hidden from the eye (axe-core's
    empty-table-header)."""
    assert EMPTY_HEADER.search('<tr><th scope="col"></th></tr>')
    assert not EMPTY_HEADER.search('<th scope="col"><span class="visually-hidden">x</span></th>')
    empty = [str(path.relative_to(PROJECT_DIR))
             for path in sorted((PROJECT_DIR / "templates").rglob("*.html"))
             if EMPTY_HEADER.search(path.read_text(encoding="utf-8"))]
    assert empty == []
