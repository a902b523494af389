"""The guiding catalogue (指导性目录) as an Excel workbook: export, and import all or nothing.

One sheet, one row per entry: code, level, parent code, name, description, active. Finance
staff export it, edit it in Excel and import it back: an entry whose code is new is added,
one whose code exists is updated (name, description, active), and nothing is deleted —
withdrawing an entry is ``active = 否``. A bad workbook is refused as a whole, every fault
named by sheet, row and column, and nothing is changed. The import leaves one audit entry
with its counts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session, select

from evalplatform import i18n
from evalplatform.i18n import N_, _
from evalplatform.models import CatalogueEntry
from evalplatform.services import audit, catalogue, files
from evalplatform.services.audit import Actor
from evalplatform.services.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_DESCRIPTION = 2000
MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

COLUMNS = [
    ("code", N_("Code")),
    ("level", N_("Level")),
    ("parent", N_("Parent code")),
    ("name", N_("Name")),
    ("description", N_("Description")),
    ("active", N_("Active (yes/no)")),
]
COLUMN = {key: get_column_letter(i + 1) for i, (key, _label) in enumerate(COLUMNS)}
HEADER = dict(COLUMNS)

YES, NO = N_("Yes"), N_("No")
_TRUE_WORDS = {"1", "true", "y", "yes", "是", "有效", "正常", "启用"}
_FALSE_WORDS = {"0", "false", "n", "no", "否", "无效", "停用", "已停用"}


def _words(label) -> set[str]:
    words = set()
    for language in i18n.LANGUAGES:
        with i18n.language(language):
            words.add(str(label).strip().lower())
    return words


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


# ---------------------------------------------------------------- export


def export_workbook(session: Session) -> bytes:
    """The whole catalogue, withdrawn entries included, ordered by code."""
    entries = catalogue.list_entries(session)
    code_of = {e.id: e.code for e in entries}
    book = Workbook()
    sheet = book.active
    sheet.title = _("Catalogue")
    sheet.append([str(label) for _key, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for entry in entries:
        sheet.append([entry.code, entry.level, code_of.get(entry.parent_id, ""), entry.name,
                      entry.description, str(YES if entry.active else NO)])
    for key, width in (("code", 10), ("level", 8), ("parent", 12), ("name", 30),
                       ("description", 60), ("active", 14)):
        sheet.column_dimensions[COLUMN[key]].width = width
    for row in sheet.iter_rows(min_row=2):
        row[4].alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- import


@dataclass
class CatalogueRow:
    """One good row of the workbook."""

    row: int
    code: str
    level: int
    name: str
    description: str
    active: bool


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


class _Faults:
    def __init__(self, sheet: str):
        self.sheet = sheet
        self.errors: dict[str, str] = {}

    def add(self, row: int, key: str, problem: str) -> None:
        column = COLUMN[key]
        self.errors.setdefault(f"{self.sheet}!{column}{row}", _(
            "Sheet %(sheet)s, row %(row)s, column %(column)s (%(header)s): %(problem)s",
            sheet=self.sheet, row=row, column=column, header=str(HEADER[key]), problem=problem))


def _active(text: str) -> bool | None:
    word = text.strip().lower()
    if not word or word in _TRUE_WORDS or word in _words(YES):
        return True
    if word in _FALSE_WORDS or word in _words(NO):
        return False
    return None


def read_workbook(session: Session, data: bytes) -> list[CatalogueRow]:
    """The workbook's rows, checked; raise ValidationFailed naming every bad cell."""
    if not data:
        raise ValidationFailed({"file": _("Choose an Excel workbook (.xlsx) to import.")})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("The workbook is larger than 5 MB.")})
    problem = files.workbook_problem(data)
    if problem:
        raise ValidationFailed({"file": problem})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        raw_rows = list(sheet.iter_rows(min_row=2, values_only=True))
    except Exception:  # noqa: BLE001 - any unreadable file is the same refusal
        raise ValidationFailed({"file": _("This file is not an Excel workbook (.xlsx).")}) \
            from None
    if len(raw_rows) > MAX_ROWS:
        raise ValidationFailed({"file": _("The workbook has more than %(n)s rows.", n=MAX_ROWS)})
    faults = _Faults(sheet.title)
    known = {e.code for e in catalogue.list_entries(session)}
    rows: list[CatalogueRow] = []
    seen: dict[str, int] = {}
    parents: list[tuple[int, str]] = []  # (row, parent code) to check once all codes are read
    for row_number, raw in enumerate(raw_rows, start=2):
        values = {key: _cell(raw[i] if raw is not None and i < len(raw) else None)
                  for i, (key, _label) in enumerate(COLUMNS)}
        if not any(values.values()):
            continue
        ok = True
        code = values["code"].upper()
        level = 0
        if not code:
            faults.add(row_number, "code", _("the code is required."))
            ok = False
        elif not catalogue.CODE_RE.match(code):
            faults.add(row_number, "code", _(
                "The code is a capital letter, then two digits for level 2 and two more for "
                "level 3 (e.g. A, A05, A0501)."))
            ok = False
        elif catalogue.level1_problem(code):
            faults.add(row_number, "code", catalogue.level1_problem(code))
            ok = False
        elif code in seen:
            faults.add(row_number, "code", _("the code %(code)s is already on row %(row)s.",
                                             code=code, row=seen[code]))
            ok = False
        else:
            seen[code] = row_number
            level = {1: 1, 3: 2, 5: 3}[len(code)]
            if values["level"] and values["level"] != str(level):
                faults.add(row_number, "level", _(
                    "the code %(code)s is of level %(level)s, not %(given)s.", code=code,
                    level=level, given=values["level"]))
                ok = False
            parent = values["parent"].upper()
            expected = code[:-2] if level > 1 else ""
            if parent and parent != expected:
                faults.add(row_number, "parent", _(
                    "the parent of %(code)s is %(parent)s (its code without the last two "
                    "digits), not %(given)s.", code=code, parent=expected or "—",
                    given=values["parent"]))
                ok = False
            elif expected:
                parents.append((row_number, expected))
        name = values["name"]
        if not name:
            faults.add(row_number, "name", _("Name is required."))
            ok = False
        elif len(name) > 200:
            faults.add(row_number, "name", _("Name must be at most 200 characters."))
            ok = False
        if len(values["description"]) > MAX_DESCRIPTION:
            faults.add(row_number, "description", _("at most %(n)s characters.",
                                                    n=MAX_DESCRIPTION))
            ok = False
        active = _active(values["active"])
        if active is None:
            faults.add(row_number, "active", _("write %(yes)s or %(no)s.", yes=str(YES),
                                               no=str(NO)))
            ok = False
        if ok:
            rows.append(CatalogueRow(row_number, code, level, name, values["description"],
                                     active))
    for row_number, parent in parents:
        if parent not in known and parent not in seen:
            faults.add(row_number, "parent", _(
                "the parent entry %(code)s is neither in the catalogue nor in the workbook.",
                code=parent))
    if not rows and not faults.errors:
        faults.errors["file"] = _("The workbook lists no catalogue entries.")
    if faults.errors:
        raise ValidationFailed(faults.errors)
    return rows


def import_workbook(session: Session, actor: Actor, data: bytes, filename: str = ""
                    ) -> ImportResult:
    """Add new codes, update existing ones, delete nothing; one audit entry with the counts."""
    rows = read_workbook(session, data)
    by_code = {e.code: e for e in session.exec(select(CatalogueEntry))}
    result = ImportResult()
    for row in sorted(rows, key=lambda r: (r.level, r.code)):
        entry = by_code.get(row.code)
        if entry is None:
            parent = by_code.get(row.code[:-2]) if row.level > 1 else None
            entry = CatalogueEntry(code=row.code, name=row.name, level=row.level,
                                   parent_id=parent.id if parent else None,
                                   description=row.description, active=row.active)
            session.add(entry)
            session.flush()
            by_code[row.code] = entry
            result.created.append(row.code)
        elif (entry.name, entry.description, entry.active) != (row.name, row.description,
                                                                 row.active):
            entry.name, entry.description, entry.active = row.name, row.description, row.active
            session.add(entry)
            result.updated.append(row.code)
        else:
            result.unchanged += 1
    audit.record(session, actor, "catalogue.import", "catalogue", "import", {
        "filename": filename, "created": len(result.created), "updated": len(result.updated),
        "unchanged": result.unchanged, "created_codes": result.created,
        "updated_codes": result.updated})
    session.commit()
    return result
