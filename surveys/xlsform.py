"""Questionnaires as Excel workbooks in the spirit of XLSForm (问卷的 Excel 导入导出).

Three sheets, as people who build surveys with ODK or Kobo know them:

``survey``
    ``type`` (``select_one LIST``, ``select_multiple LIST``, ``range``, ``text``), ``name``
    (the question id), ``label::zh-CN``, ``label::en``, ``hint::zh-CN``, ``hint::en``,
    ``required`` (yes / no), ``leaf`` (the survey indicator a scale question maps to) and
    ``parameters`` (``start=0 end=10 step=1`` for a 0–10 rating).
``choices``
    ``list_name``, ``name``, ``label::zh-CN``, ``label::en``, and for a satisfaction scale
    ``score`` (0–100; empty for 不了解/不适用) and ``satisfied`` (yes for the options that
    count as satisfied). A ``select_one`` whose list has scores is a satisfaction scale; the
    list ``yes_no`` (options ``yes`` and ``no``) is a yes/no question.
``settings``
    ``form_title``, ``form_title::en``, ``intro::zh-CN``, ``intro::en``, ``version``,
    ``default_language``.

A bad workbook is refused with every fault named by sheet, row and column, and nothing is
stored.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from surveys.errors import InvalidInput
from surveys.i18n import _
from surveys.questionnaire import SCALES, YES_NO, SurveyLeaf, document_errors, questions, text

MAX_BYTES = 5 * 1024 * 1024
#: What the workbook may unpack to: a 5 MB upload must not become gigabytes (zip bomb).
MAX_UNPACKED = 50 * 1024 * 1024
MAX_ROWS = 1000
#: Rows read at most: formatted but empty rows below the questions do not count as rows.
MAX_SCANNED_ROWS = 50 * MAX_ROWS
#: Column spellings XLSForm tools write for the same thing (pyxform accepts both).
COLUMN_ALIASES = {"list name": "list_name"}
#: XLSForm logic the platform does not run: importing it silently would ask every question
#: of everyone, unchecked, so a filled cell is refused.
LOGIC_COLUMNS = ("relevant", "constraint", "choice_filter", "calculation", "repeat_count",
                 "trigger")
SURVEY_COLUMNS = ["type", "name", "label::zh-CN", "label::en", "hint::zh-CN", "hint::en",
                  "required", "leaf", "parameters"]
CHOICE_COLUMNS = ["list_name", "name", "label::zh-CN", "label::en", "score", "satisfied"]
SETTING_COLUMNS = ["form_title", "form_title::en", "intro::zh-CN", "intro::en", "version",
                   "default_language"]
RATING_PARAMETERS = "start=0 end=10 step=1"
YES = {"yes", "true", "1", "是", "y", "true()"}
NO = {"no", "false", "0", "否", "n", "", "false()"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _append(sheet, values: list) -> None:
    """``sheet.append`` that never turns a text starting with "=" into a formula."""
    sheet.append(values)
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _language(suffix: str) -> str | None:
    """The document language of a column suffix: ``zh-CN``, ``zh``, ``Chinese (zh)``,
    ``中文``, ``English (en)``, ``en`` … (Kobo writes ``Name (code)``)."""
    suffix = suffix.strip().lower()
    found = re.search(r"\(([^)]*)\)\s*$", suffix)
    code = found.group(1).strip() if found else suffix
    if code.startswith("zh") or suffix.startswith(("chinese", "中文", "汉语", "简体")):
        return "zh-CN"
    if code == "en" or code.startswith("en-") or suffix.startswith(("english", "英文", "英语")):
        return "en"
    return None


# ---------------------------------------------------------------- export


def export_workbook(doc: dict, version: int = 1) -> bytes:
    workbook = Workbook()
    survey = workbook.active
    survey.title = "survey"
    choices = workbook.create_sheet("choices")
    settings = workbook.create_sheet("settings")
    for sheet, columns in ((survey, SURVEY_COLUMNS), (choices, CHOICE_COLUMNS),
                           (settings, SETTING_COLUMNS)):
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for i in range(1, len(columns) + 1):
            sheet.column_dimensions[get_column_letter(i)].width = 22
    lists: dict[str, list] = {}
    for q in questions(doc):
        kind = q["type"]
        parameters = ""
        if kind == "yes_no":
            list_name = "yes_no"
            lists.setdefault("yes_no", YES_NO)
            xls_type = "select_one yes_no"
        elif kind in ("scale", "single", "multiple"):
            list_name = q.get("list") or f"{q['id'].lower()}_options"
            if list_name in lists and lists[list_name] != q["options"]:
                list_name = f"{q['id'].lower()}_options"
            lists[list_name] = q["options"]
            xls_type = f"{'select_multiple' if kind == 'multiple' else 'select_one'} {list_name}"
        elif kind == "rating":
            xls_type, parameters = "range", RATING_PARAMETERS
        else:
            xls_type = "text"
        _append(survey, [xls_type, q["id"], text(q.get("label"), "zh-CN"),
                       (q.get("label") or {}).get("en", ""), (q.get("hint") or {}).get("zh-CN", ""),
                       (q.get("hint") or {}).get("en", ""), "yes" if q.get("required") else "no",
                       q.get("leaf", "") if kind == "scale" else "", parameters])
    for list_name, opts in lists.items():
        for option in opts:
            score = option.get("score")
            _append(choices, [list_name, option["name"], option["label"].get("zh-CN", ""),
                            option["label"].get("en", ""), "" if score is None else score,
                            "yes" if option.get("satisfied") else ""])
    _append(settings, [text(doc.get("title"), "zh-CN"), (doc.get("title") or {}).get("en", ""),
                     (doc.get("intro") or {}).get("zh-CN", ""), (doc.get("intro") or {}).get("en", ""),
                     version, "zh-CN"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- import


class _Sheet:
    """A sheet read as rows of {column: text}, remembering where each cell was."""

    def __init__(self, worksheet, name: str, errors: dict):
        self.name = name
        self.errors = errors
        self.header: list[str] = []  # lower case, aliases resolved: what columns are looked up by
        self.titles: list[str] = []  # as written: what messages show
        self.rows: list[tuple[int, tuple]] = []
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            if number == 1:
                self.titles = [_cell(v) for v in row]
                self.header = [COLUMN_ALIASES.get(t.lower(), t.lower()) for t in self.titles]
            elif any(_cell(v) for v in row):
                if len(self.rows) == MAX_ROWS:
                    self.fail(number, None, _("At most %(n)s rows.", n=MAX_ROWS))
                    break
                self.rows.append((number, row))
            elif number > MAX_SCANNED_ROWS:
                self.fail(number, None, _("At most %(n)s rows.", n=MAX_ROWS))
                break

    def column(self, name: str) -> int | None:
        name = name.lower()
        if name in self.header:
            return self.header.index(name)
        return None

    def value(self, row, name: str) -> str:
        index = self.column(name)
        if index is None or index >= len(row):
            return ""
        return _cell(row[index])

    def where(self, row_number: int, column: str | None) -> str:
        if column is None:
            return _("sheet %(sheet)s, row %(row)s", sheet=self.name, row=row_number)
        index = self.column(column)
        letter = get_column_letter(index + 1) if index is not None else "?"
        return _("sheet %(sheet)s, row %(row)s, column %(col)s (%(name)s)", sheet=self.name,
                 row=row_number, col=letter, name=column)

    def fail(self, row_number: int, column: str | None, message: str) -> None:
        key = f"{self.name}!{row_number}!{column or ''}"
        self.errors.setdefault(key, f"{self.where(row_number, column)}: {message}")


def _flag(sheet: _Sheet, row_number: int, column: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in YES:
        return True
    if value not in NO:
        sheet.fail(row_number, column, _("Write yes or no."))
    return False


def _label_column(sheet: _Sheet, base: str, language: str = "zh-CN") -> str:
    """The ``base`` column in the language: ``label::zh-CN``, ``label::Chinese (zh)``,
    ``label::中文`` …, else (Chinese only) a plain ``label`` column, as XLSForm allows."""
    prefix = f"{base.lower()}::"
    for name, title in zip(sheet.header, sheet.titles, strict=True):
        if name.startswith(prefix) and _language(name[len(prefix):]) == language:
            return title
    if language == "zh-CN" and sheet.column(base) is not None:
        return base
    return f"{base}::{language}"


def _read_choices(sheet: _Sheet) -> tuple[dict[str, list[dict]], dict[str, int]]:
    lists: dict[str, list[dict]] = {}
    first_row: dict[str, int] = {}
    zh = _label_column(sheet, "label")
    en = _label_column(sheet, "label", "en")
    for column in ("list_name", "name"):
        if sheet.column(column) is None:
            sheet.fail(1, None, _("The column %(name)s is missing.", name=column))
            return lists, first_row
    for number, row in sheet.rows:
        list_name = sheet.value(row, "list_name")
        if not list_name:
            sheet.fail(number, "list_name", _("A list name is required."))
            continue
        first_row.setdefault(list_name, number)
        option: dict = {"name": sheet.value(row, "name"),
                        "label": {"zh-CN": sheet.value(row, zh), "en": sheet.value(row, en)}}
        raw_score = sheet.value(row, "score")
        if raw_score:
            if re.fullmatch(r"\d{1,3}", raw_score) and int(raw_score) <= 100:
                option["score"] = int(raw_score)
            else:
                sheet.fail(number, "score", _("A score is a whole number from 0 to 100."))
                option["score"] = 0
        satisfied = _flag(sheet, number, "satisfied", sheet.value(row, "satisfied"))
        option["_satisfied"] = satisfied
        option["_row"] = number
        lists.setdefault(list_name, []).append(option)
    for options in lists.values():
        _preset_scores(options)
    return lists, first_row


#: Other ways questionnaires write the levels of the platform's satisfaction scales.
LEVEL_SYNONYMS = {"非常满意": "很满意", "十分满意": "很满意", "比较满意": "较满意",
                  "基本满意": "较满意", "非常不满意": "很不满意", "十分不满意": "很不满意"}
#: Options outside a scale's levels: an answer that scores nothing (as 不了解/不适用).
NO_OPINION = {"不了解", "不清楚", "说不清", "不知道", "不适用", "不了解/不适用", "无法评价"}


def _preset_scores(options: list[dict]) -> None:
    """A choice list without any score whose levels are those of a platform scale — 很满意 …
    很不满意, or 满意 / 较满意 / 一般 / 不满意, in the wordings questionnaires use — takes
    that scale's scores and satisfied levels (questionnaires made by other tools carry no
    score column); a 不了解 option scores nothing. Any other list is left as it is."""
    if any(o.get("score") is not None or o["_satisfied"] for o in options):
        return
    levels = [LEVEL_SYNONYMS.get(o["label"]["zh-CN"], o["label"]["zh-CN"]) for o in options]
    graded = [level for level in levels if level not in NO_OPINION]
    for preset in SCALES.values():
        scored = {o["label"]["zh-CN"]: o for o in preset if o.get("score") is not None}
        if sorted(graded) == sorted(scored) and len(graded) == len(scored):
            for option, level in zip(options, levels, strict=True):
                option["_preset"] = True  # scored by the platform, not by the file
                if level in scored:
                    option["score"] = scored[level]["score"]
                    option["_satisfied"] = bool(scored[level].get("satisfied"))
            return


def _finish_options(lists: dict[str, list[dict]], list_name: str, scale: bool) -> list[dict]:
    found = []
    for option in lists[list_name]:
        item = {"name": option["name"], "label": option["label"]}
        if scale:
            item["score"] = option.get("score")
            item["satisfied"] = option["_satisfied"]
        found.append(item)
    return found


def import_workbook(data: bytes, leaves: list[SurveyLeaf] | None = None) -> dict:
    """A questionnaire document from a workbook; InvalidInput names every fault's place."""
    if not data:
        raise InvalidInput({"file": _("Choose an Excel workbook (.xlsx) to import.")})
    if len(data) > MAX_BYTES:
        raise InvalidInput({"file": _("The workbook is larger than 5 MB.")})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise InvalidInput({"file": _("This file is not an Excel workbook (.xlsx).")}) from None
    if unpacked > MAX_UNPACKED:
        raise InvalidInput({"file": _("The workbook unpacks to more than %(n)s MB.",
                                      n=MAX_UNPACKED // (1024 * 1024))})
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable file gets the same answer
        raise InvalidInput({"file": _("This file is not an Excel workbook (.xlsx).")}) from None
    errors: dict[str, str] = {}
    names = {ws.title.lower(): ws for ws in workbook.worksheets}
    if "survey" not in names:
        raise InvalidInput({"file": _("The workbook has no sheet named survey.")})
    survey = _Sheet(names["survey"], "survey", errors)
    choices = _Sheet(names["choices"], "choices", errors) if "choices" in names else None
    lists, _rows = _read_choices(choices) if choices else ({}, {})
    missing = [column for column in ("type", "name") if survey.column(column) is None]
    for column in missing:
        survey.fail(1, None, _("The column %(name)s is missing.", name=column))
    if missing:
        raise InvalidInput(errors)
    label_zh = _label_column(survey, "label")
    hint_zh = _label_column(survey, "hint")
    label_en = _label_column(survey, "label", "en")
    hint_en = _label_column(survey, "hint", "en")
    doc: dict = {"title": {"zh-CN": "", "en": ""}, "intro": {"zh-CN": "", "en": ""},
                 "questions": []}
    row_of: dict[str, int] = {}
    for number, row in survey.rows:
        raw_type = re.sub(r"\s+", " ", survey.value(row, "type")).strip()
        qid = survey.value(row, "name")
        parts = raw_type.split(" ")
        kind_word = parts[0].lower() if parts else ""
        q: dict = {"id": qid, "label": {"zh-CN": survey.value(row, label_zh),
                                         "en": survey.value(row, label_en)},
                   "hint": {"zh-CN": survey.value(row, hint_zh), "en": survey.value(row, hint_en)},
                   "required": _flag(survey, number, "required", survey.value(row, "required"))}
        if qid and qid in row_of:
            survey.fail(number, "name", _("The question id %(id)s is used twice.", id=qid))
        if qid:
            row_of[qid] = number
        else:  # document_errors names a question without an id "?"
            row_of.setdefault("?", number)
        for column in LOGIC_COLUMNS:
            if survey.value(row, column):
                survey.fail(number, column, _(
                    "The platform does not run %(column)s (skip logic, checks, filters and "
                    "calculations): the question would be asked of everyone, unchecked. Empty "
                    "the cell or leave the question out.", column=column))
        if kind_word in ("select_one", "select_multiple"):
            if len(parts) != 2 or parts[1] not in lists:
                survey.fail(number, "type", _("The choice list %(list)s is not on the choices "
                                              "sheet.", list=parts[1] if len(parts) > 1 else ""))
                continue
            list_name = parts[1]
            scored = any(o.get("score") is not None for o in lists[list_name])
            names_in_list = [o["name"] for o in lists[list_name]]
            if kind_word == "select_multiple":
                q["type"] = "multiple"
            elif list_name == "yes_no" and sorted(names_in_list) == ["no", "yes"]:
                q["type"] = "yes_no"
            else:
                q["type"] = "scale" if scored else "single"
            if q["type"] != "yes_no":
                q["options"] = _finish_options(lists, list_name, q["type"] == "scale")
                q["list"] = list_name
            if q["type"] != "scale" and any(
                    (o.get("score") is not None or o["_satisfied"]) and not o.get("_preset")
                    for o in lists[list_name]):
                survey.fail(number, "type", _("Only a single-choice satisfaction scale has scores "
                                              "on its choices."))
        elif kind_word == "range":
            params = re.sub(r"\s+", " ", survey.value(row, "parameters").lower()).strip()
            if params and params not in (RATING_PARAMETERS, "start=0 end=10"):
                survey.fail(number, "parameters", _("Only 0–10 ratings are supported "
                                                    "(start=0 end=10 step=1)."))
            q["type"] = "rating"
        elif kind_word == "text" and len(parts) == 1:
            q["type"] = "text"
        else:
            survey.fail(number, "type", _("Unknown question type %(type)s (use select_one, "
                                          "select_multiple, range or text).", type=raw_type))
            continue
        leaf = survey.value(row, "leaf")
        if leaf:
            if q["type"] != "scale":
                survey.fail(number, "leaf", _("Only a satisfaction scale maps to a survey "
                                              "indicator."))
            q["leaf"] = leaf
        elif q["type"] == "scale":
            q["leaf"] = ""
        doc["questions"].append(q)
    if "settings" in names:
        settings = _Sheet(names["settings"], "settings", errors)
        if settings.rows:
            _number, row = settings.rows[0]
            doc["title"] = {"zh-CN": settings.value(row, _label_column(settings, "form_title")),
                            "en": settings.value(row, _label_column(settings, "form_title", "en"))}
            doc["intro"] = {"zh-CN": settings.value(row, _label_column(settings, "intro")),
                            "en": settings.value(row, _label_column(settings, "intro", "en"))}
    if not doc["title"]["zh-CN"]:
        doc["title"]["zh-CN"] = "满意度调查问卷"
    if not doc["questions"] and not errors:
        survey.fail(2, None, _("The survey sheet has no question."))
    for key, message in document_errors(doc, leaves).items():
        qid, _sep, what = key.partition(".")
        number = row_of.get(qid)
        if number is None:  # the title or the intro (settings), or the questions as a whole
            where = "settings" if qid in ("title", "intro") else "survey"
            sheet_name = _("sheet %(sheet)s", sheet=where)
            errors.setdefault(f"{where}!{key}", f"{sheet_name}: {message}")
            continue
        column = {"label": label_zh, "hint": hint_zh, "leaf": "leaf", "id": "name",
                  "type": "type", "options": "type"}.get(what, "type")
        if what == "options":
            q = next(q for q in doc["questions"] if q["id"] == qid)
            list_name = q.get("list", "")
            first = next((o["_row"] for o in lists.get(list_name, [])), None)
            if choices is not None and first is not None:
                choices.fail(first, "list_name", f"{list_name}: {message}")
                continue
        survey.fail(number, column, message)
    if errors:
        raise InvalidInput(errors)
    return doc

