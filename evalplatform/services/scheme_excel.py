"""Schemes as Excel workbooks, the format finance staff already use (指标体系表).

Sheet 1 has one row per scored indicator: part, its weight, party and combine rule; the
level 1/2/3 names; points; the rule and its parameters (``target=95%; unit=比例``, the
editor's syntax, ``schemes.format_params``); the scoring criteria (评分标准). The points of a
group are the sum of its rows. Sheet 2 (设置) holds the workbook's format, the grades, the
missing-score policy, the answer scales and the national frame of each part that follows it.
A bad workbook is refused with every fault named by sheet, row and column, and nothing is
stored.

Format 2 writes the target and bands of a rate (unit 比例) in percent, as the editor and the
data form type them (``target=95%``). A workbook without a format row was written before
(format 1, the old syntax): there a rate was written as a fraction of one (``target=0.95``),
and it is read so; a bare number above 1 there (``target=95``) could mean either and is
refused, naming its cell.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from evalplatform import i18n
from evalplatform.i18n import N_, _
from evalplatform.services import files, schemes
from evalplatform.services.errors import ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000

COLUMNS = [
    ("part", N_("Part")),
    ("weight", N_("Part weight")),
    ("party", N_("Evaluating party")),
    ("combine", N_("Sheets combine by")),
    ("level1", N_("Level 1 indicator")),
    ("level2", N_("Level 2 indicator")),
    ("level3", N_("Level 3 indicator")),
    ("points", N_("Points")),
    ("rule", N_("Scoring rule")),
    ("params", N_("Rule parameters")),
    ("criteria", N_("Scoring criteria")),
    # the level-1 indicator's dimension on the national frame (决策 / 过程 / 产出 / 效益) when
    # chosen in the editor rather than read from its name; a workbook without this column
    # reads a level-1 group's dimension from its name
    ("dimension", N_("Dimension")),
]
COLUMN = {key: get_column_letter(i + 1) for i, (key, _label) in enumerate(COLUMNS)}
HEADER = dict(COLUMNS)

SETTING_NAME = N_("Name")
SETTING_MISSING = N_("Missing scores")
SETTING_GRADES = N_("Grades")
SETTING_SCALE = N_("Scale")
SETTING_FRAME = N_("National frame")
SETTING_FORMAT = N_("Workbook format")
#: The workbook's format: 2 writes a rate's target and bands in percent (see the docstring).
FORMAT = 2


def _both_languages(label) -> set[str]:
    names = set()
    for language in i18n.LANGUAGES:
        with i18n.language(language):
            names.add(str(label).strip().lower())
    return names


def _code(labels: dict, value: Any) -> str | None:
    """A code from its code or its label in any language."""
    text = str(value or "").strip()
    if text in labels:
        return text
    for code, label in labels.items():
        if text.lower() in _both_languages(label):
            return code
    return None


def _cell(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


# ---------------------------------------------------------------- export


def export_workbook(scheme) -> bytes:
    doc = scheme.document
    book = Workbook()
    sheet = book.active
    sheet.title = _("Indicators")
    sheet.append([str(label) for _key, label in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for part in doc.get("parts", []):
        def rows(node: dict, names: list[str], part: dict = part,
                 top: dict | None = None) -> None:
            if schemes.is_leaf(node):
                rule = node.get("rule") or {}
                levels = (names + ["", "", ""])[:3]
                sheet.append([
                    part["name"], _number(part["weight"]),
                    str(schemes.PARTY_LABELS.get(part["party"], part["party"])),
                    str(schemes.COMBINE_LABELS.get(part["combine"], part["combine"])),
                    *levels, _number(node["points"]),
                    str(schemes.RULE_LABELS.get(rule.get("type"), rule.get("type", ""))),
                    schemes.format_params(rule), node.get("criteria", ""),
                    ((top or node).get("dimension") or ""),
                ])
                sheet.cell(sheet.max_row, 2).number_format = "0.00"
                return
            for child in node.get("children") or []:
                rows(child, names + [child["name"]], part, top or child)

        rows(part["tree"], [])
    for key, width in (("part", 16), ("party", 12), ("combine", 12), ("level1", 14),
                       ("level2", 18), ("level3", 20), ("rule", 14), ("params", 40),
                       ("criteria", 60)):
        sheet.column_dimensions[COLUMN[key]].width = width
    for row in sheet.iter_rows(min_row=2):
        row[list(COLUMN).index("criteria")].alignment = Alignment(wrap_text=True, vertical="top")

    settings = book.create_sheet(_("Settings"))
    settings.append([str(SETTING_FORMAT), FORMAT,
                     _("Rates (unit 比例) are written in percent: target=%(example)s is %(rate)s.",
                       example="95%", rate=i18n.percent(95))])
    settings.append([str(SETTING_NAME), doc.get("name", scheme.name)])
    settings.append([str(SETTING_MISSING),
                     str(schemes.MISSING_LABELS.get(doc.get("missing"), doc.get("missing")))])
    settings.append([str(SETTING_GRADES), schemes.format_grades(doc.get("grades", []))])
    for name, scale in (doc.get("scales") or {}).items():
        settings.append([f"{SETTING_SCALE}:{name}", "; ".join(
            f"{option}={'' if value is None else value}" for option, value in scale.items())])
    for part in doc.get("parts", []):
        frame = part.get("frame")
        if frame and frame.get("kind") == "national":
            settings.append([f"{SETTING_FRAME}:{part['name']}", frame.get("reason", "")])
    settings.column_dimensions["A"].width = 24
    settings.column_dimensions["B"].width = 60
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- import


class _Faults:
    def __init__(self):
        self.errors: dict[str, str] = {}

    def add(self, sheet: str, row: int, key: str, problem: str) -> None:
        column = COLUMN.get(key, key)
        header = str(HEADER[key]) if key in HEADER else ""
        location = f"{sheet}!{column}{row}"
        self.errors.setdefault(location, _(
            "Sheet %(sheet)s, row %(row)s, column %(column)s (%(header)s): %(problem)s",
            sheet=sheet, row=row, column=column, header=header, problem=problem))


def _read_settings(sheet, doc: dict, faults: _Faults) -> tuple[str, dict[str, str], int]:
    name, frames, version = "", {}, 1
    scale_keys = _both_languages(SETTING_SCALE)
    frame_keys = _both_languages(SETTING_FRAME)
    for row_number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
        key, value = _cell(row[0] if row else ""), _cell(row[1] if len(row) > 1 else "")
        head, _sep, tail = key.replace("：", ":").partition(":")
        head_l = head.strip().lower()
        if not key:
            continue
        if key.lower() in _both_languages(SETTING_NAME):
            name = value
        elif key.lower() in _both_languages(SETTING_FORMAT):
            if value not in {str(v) for v in range(1, FORMAT + 1)}:
                faults.add(sheet.title, row_number, "B", _(
                    "this platform reads workbook formats 1 to %(n)s; export the scheme again "
                    "to get a workbook it reads.", n=FORMAT))
            else:
                version = int(value)
        elif key.lower() in _both_languages(SETTING_MISSING):
            code = _code(schemes.MISSING_LABELS, value)
            if code is None:
                faults.add(sheet.title, row_number, "B", _("choose one of: %(options)s.",
                           options=", ".join(str(v) for v in schemes.MISSING_LABELS.values())))
            else:
                doc["missing"] = code
        elif key.lower() in _both_languages(SETTING_GRADES):
            try:
                doc["grades"] = schemes.parse_grades(value)
            except ValidationFailed as exc:
                faults.add(sheet.title, row_number, "B", exc.errors["grades"])
        elif head_l in scale_keys and tail.strip():
            scale: dict[str, Any] = {}
            for item in schemes._split(value, ";；"):
                option, sep, points = item.replace("＝", "=").partition("=")
                number = schemes.decimal_or_none(points)
                if not sep or not option.strip() or (points.strip() and number is None):
                    faults.add(sheet.title, row_number, "B", _(
                        "write the scale as answer=value; …, e.g. 满意=100; 一般=60; 不了解="))
                    break
                scale[option.strip()] = None if not points.strip() else _number(plain_text(number))
            doc["scales"][tail.strip()] = scale
        elif head_l in frame_keys and tail.strip():
            frames[tail.strip()] = value
        else:
            faults.add(sheet.title, row_number, "A", _("unknown setting %(key)s.", key=key))
    return name, frames, version


def plain_text(number: Decimal) -> str:
    return schemes.plain(number)


def import_workbook(data: bytes) -> tuple[str, dict]:
    """Read a workbook into (name, document); raise ValidationFailed naming every bad cell."""
    if not data:
        raise ValidationFailed({"file": _("Choose an Excel workbook (.xlsx) to import.")})
    if len(data) > MAX_BYTES:
        raise ValidationFailed({"file": _("The workbook is larger than 5 MB.")})
    problem = files.workbook_problem(data)
    if problem:
        raise ValidationFailed({"file": problem})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable file is the same refusal
        raise ValidationFailed({"file": _("This file is not an Excel workbook (.xlsx).")}) \
            from None
    faults = _Faults()
    doc = {"name": "", "grades": [dict(g) for g in schemes.DEFAULT_GRADES], "missing": "block",
           "scales": {k: dict(v) for k, v in schemes.DEFAULT_SCALES.items()}, "parts": []}
    sheets = book.worksheets
    name, frames, version = ("", {}, 1)
    if len(sheets) > 1:
        name, frames, version = _read_settings(sheets[1], doc, faults)
    bare = schemes.PERCENT if version >= 2 else schemes.FRACTION
    sheet = sheets[0]
    title = sheet.title
    parts: dict[str, dict] = {}
    node_rows: dict[int, int] = {}  # id(node) → row, to name rows in later faults
    header = next(sheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
    dimension_at = len(COLUMNS) - 1
    has_dimensions = len(header) > dimension_at and _cell(header[dimension_at]).lower() in \
        _both_languages(HEADER["dimension"])
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    if len(rows) > MAX_ROWS:
        raise ValidationFailed({"file": _("The workbook has more than %(n)s rows.", n=MAX_ROWS)})
    for row_number, raw in enumerate(rows, start=2):
        values = {key: _cell(raw[i] if i < len(raw) else None)
                  for i, (key, _label) in enumerate(COLUMNS)}
        if not any(values.values()):
            continue
        part_name = values["part"]
        if not part_name:
            faults.add(title, row_number, "part", _("name the part."))
            continue
        part = parts.get(part_name)
        if part is None:
            weight = schemes.decimal_or_none(values["weight"])
            party = _code(schemes.PARTY_LABELS, values["party"])
            combine = _code(schemes.COMBINE_LABELS, values["combine"] or "mean")
            if weight is None:
                faults.add(title, row_number, "weight", _("a number is expected."))
            if party is None:
                faults.add(title, row_number, "party", _("choose one of: %(options)s.",
                           options=", ".join(str(v) for v in schemes.PARTY_LABELS.values())))
            if combine is None:
                faults.add(title, row_number, "combine", _("choose one of: %(options)s.",
                           options=", ".join(str(v) for v in schemes.COMBINE_LABELS.values())))
            part = {"id": "", "name": part_name, "party": party or "",
                    "weight": schemes.weight_text(weight) if weight is not None else "",
                    "combine": combine or "mean",
                    "tree": {"id": "", "name": part_name, "points": "100", "children": []}}
            if part_name in frames:
                part["frame"] = {"kind": "national"}
                if frames[part_name]:
                    part["frame"]["reason"] = frames[part_name]
            parts[part_name] = part
            doc["parts"].append(part)
        levels = [values["level1"], values["level2"], values["level3"]]
        depth = max((i + 1 for i, v in enumerate(levels) if v), default=0)
        if depth == 0:
            faults.add(title, row_number, "level1", _("name the indicator."))
            continue
        gap = next((i for i in range(depth) if not levels[i]), None)
        if gap is not None:
            faults.add(title, row_number, f"level{gap + 1}",
                       _("a lower level needs the level above it."))
            continue
        points = schemes.decimal_or_none(values["points"])
        if points is None:
            faults.add(title, row_number, "points", _("a number is expected."))
            continue
        rule_type = _code(schemes.RULE_LABELS, values["rule"] or "points")
        if rule_type is None:
            faults.add(title, row_number, "rule", _("choose one of: %(options)s.",
                       options=", ".join(str(v) for v in schemes.RULE_LABELS.values())))
            continue
        try:
            params = schemes.parse_params(rule_type, values["params"], bare=bare)
        except ValidationFailed as exc:
            faults.add(title, row_number, "params", next(iter(exc.errors.values())))
            continue
        node = part["tree"]
        ok = True
        for level in range(depth):
            name_here = levels[level]
            children = node.setdefault("children", [])
            last = children[-1] if children else None
            is_last_level = level == depth - 1
            if last is not None and last["name"] == name_here and not is_last_level:
                if schemes.is_leaf(last):
                    faults.add(title, row_number, f"level{level + 1}", _(
                        "%(name)s is a scored indicator on row %(row)s and cannot also have "
                        "sub-indicators.", name=name_here, row=node_rows.get(id(last), "?")))
                    ok = False
                    break
                node = last
                continue
            if is_last_level:
                leaf = {"id": "", "name": name_here, "points": schemes.plain(points),
                        "rule": {"type": rule_type, **params}, "criteria": values["criteria"]}
                children.append(leaf)
                node_rows[id(leaf)] = row_number
            else:
                group = {"id": "", "name": name_here, "points": "0", "children": []}
                if part.get("frame") and level == 0 and not has_dimensions:
                    found = [d for d in schemes.DIMENSIONS if d in name_here]
                    if len(found) == 1:
                        group["dimension"] = found[0]
                children.append(group)
                node_rows[id(group)] = row_number
                node = group
        if not ok:
            continue
        top = part["tree"]["children"][-1]  # this row's level-1 indicator
        if has_dimensions and values["dimension"]:
            if values["dimension"] not in schemes.DIMENSIONS:
                faults.add(title, row_number, "dimension", _(
                    "choose one of: %(options)s.", options=", ".join(schemes.DIMENSIONS)))
            else:
                top.setdefault("dimension", values["dimension"])
    if not doc["parts"] and not faults.errors:
        faults.errors["file"] = _("The workbook lists no indicators.")
    if faults.errors:
        raise ValidationFailed(faults.errors)

    def sum_points(node: dict) -> Decimal:
        if schemes.is_leaf(node):
            return schemes.decimal_or_none(node["points"])
        total = sum((sum_points(c) for c in node["children"]), Decimal(0))
        if node is not None and node.get("name") is not None:
            node["points"] = schemes.plain(total)
        return total

    for part in doc["parts"]:
        for child in part["tree"]["children"]:
            sum_points(child)
        if part["tree"].get("children"):
            total = schemes.children_sum(part["tree"])
            if total != schemes.HUNDRED:
                first = node_rows.get(id(part["tree"]["children"][0]), 2)
                faults.add(title, first, "points", _(
                    "the indicators of part %(part)s add up to %(total)s points, not 100.",
                    part=part["name"], total=schemes.plain(total)))
    schemes.renumber(doc)
    if not faults.errors:
        found = schemes.problems(doc)
        for key, message in found.items():
            row = None
            try:
                row = node_rows.get(id(schemes.locate(doc, key).node))
            except Exception:  # noqa: BLE001 - a part-level key, not a node
                row = None
            location = f"{title}!{row}" if row else key
            faults.errors[location] = _("Sheet %(sheet)s, row %(row)s: %(problem)s", sheet=title,
                                        row=row, problem=message) if row else message
    if faults.errors:
        raise ValidationFailed(faults.errors)
    doc["name"] = name
    return name, schemes.normalise(doc)


def import_scheme(session, principal, data: bytes, *, name: str = "", service_area: str = ""):
    """Import a workbook as a new scheme of the principal's department; all or nothing."""
    if principal.role not in (schemes.Role.finance, schemes.Role.purchaser):
        raise schemes.PermissionDenied(_("Only finance staff and purchasers create schemes."))
    book_name, document = import_workbook(data)
    chosen = name.strip() or book_name
    document["name"] = chosen
    return schemes.create(session, principal, name=chosen, service_area=service_area,
                          document=document, require_valid=True)
