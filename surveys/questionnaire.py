"""Questionnaires (问卷): the document format, its rules and the edits the editor makes.

A questionnaire is a JSON document::

    {"title": {"zh-CN": "…", "en": "…"}, "intro": {"zh-CN": "…", "en": "…"},
     "questions": [
       {"id": "Q1", "type": "scale", "label": {"zh-CN": "…", "en": "…"},
        "hint": {"zh-CN": "", "en": ""}, "required": true, "leaf": "B1", "list": "scale5",
        "options": [{"name": "very_satisfied", "label": {"zh-CN": "很满意", "en": "…"},
                     "score": 100, "satisfied": true}, …,
                    {"name": "na", "label": {"zh-CN": "不了解/不适用", …}, "score": null}]},
       {"id": "Q4", "type": "yes_no", …}, {"id": "Q5", "type": "rating", …},
       {"id": "Q6", "type": "single", "options": […]}, {"id": "Q7", "type": "multiple", …},
       {"id": "Q8", "type": "text", …}]}

Question types: ``scale`` (满意度量表; options with scores, an option without a score such
as 不了解/不适用 counts as no answer), ``yes_no`` (是/否), ``rating`` (0–10), ``single`` and
``multiple`` choice, ``text``. Every scale question maps (``leaf``) to a survey leaf
(``survey_mean`` / ``survey_rate``) of the evaluation's indicator scheme; its options'
scores become that leaf's scale and its "satisfied" options the leaf's satisfied set.

Two levels of checking: :func:`question_errors` refuses an edit that makes a question
malformed (nothing is saved); :func:`problems` lists what still keeps a well-formed draft
from being opened (an unmapped scale question, a survey leaf without a question, …).
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from surveys.errors import InvalidInput
from surveys.i18n import N_, _

LANGS = ("zh-CN", "en")
TYPES = ("scale", "yes_no", "rating", "single", "multiple", "text")
TYPE_LABELS = {
    "scale": N_("Satisfaction scale"),
    "yes_no": N_("Yes / no"),
    "rating": N_("Rating 0–10"),
    "single": N_("Single choice"),
    "multiple": N_("Multiple choice"),
    "text": N_("Short text"),
}
SURVEY_RULES = ("survey_mean", "survey_rate")
ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
MAX_LABEL = 300
MAX_HINT = 500
MAX_TEXT_ANSWER = 1000
MAX_QUESTIONS = 100
MAX_OPTIONS = 30
RATING_RANGE = range(0, 11)


def _opt(name: str, zh: str, en: str, score: int | None = None, satisfied: bool = False) -> dict:
    option: dict = {"name": name, "label": {"zh-CN": zh, "en": en}}
    if score is not None or name == "na":
        option["score"] = score
        option["satisfied"] = satisfied
    return option


NOT_APPLICABLE = ("na", "不了解/不适用", "Don't know / not applicable")

#: Scale presets (量表): 5 levels 100/80/60/40/0 and 4 levels 100/80/60/0, each with 不了解/不适用.
SCALES: dict[str, list[dict]] = {
    "scale5": [
        _opt("very_satisfied", "很满意", "Very satisfied", 100, True),
        _opt("satisfied", "满意", "Satisfied", 80, True),
        _opt("neutral", "一般", "Neither satisfied nor dissatisfied", 60),
        _opt("dissatisfied", "不满意", "Dissatisfied", 40),
        _opt("very_dissatisfied", "很不满意", "Very dissatisfied", 0),
        _opt(*NOT_APPLICABLE, None),
    ],
    "scale4": [
        _opt("satisfied", "满意", "Satisfied", 100, True),
        _opt("fairly_satisfied", "较满意", "Fairly satisfied", 80, True),
        _opt("neutral", "一般", "So-so", 60),
        _opt("dissatisfied", "不满意", "Dissatisfied", 0),
        _opt(*NOT_APPLICABLE, None),
    ],
}
SCALE_LABELS = {"scale5": N_("Five levels: 很满意 … 很不满意 (100/80/60/40/0)"),
                "scale4": N_("Four levels: 满意 / 较满意 / 一般 / 不满意 (100/80/60/0)")}
YES_NO = [_opt("yes", "是", "Yes"), _opt("no", "否", "No")]
for _option in YES_NO:
    _option.pop("score", None)


# ---------------------------------------------------------------- reading


def lang_key(language: str) -> str:
    """The application's language code (``zh_CN``) as a document key (``zh-CN``)."""
    return "zh-CN" if language.replace("_", "-").lower().startswith("zh") else "en"


def text(value: dict | str | None, language: str = "zh-CN") -> str:
    """A bilingual text in the language, falling back to Chinese, then English."""
    if isinstance(value, str):
        return value
    value = value or {}
    key = lang_key(language)
    return value.get(key) or value.get("zh-CN") or value.get("en") or ""


def questions(doc: dict) -> list[dict]:
    return list(doc.get("questions") or [])


def minutes_to_answer(doc: dict) -> int:
    """About how many minutes the questionnaire takes, as slips and posters promise it: some
    15 seconds a question to choose, a minute for a question to write in, whole minutes, at
    least 1."""
    seconds = sum(60 if q.get("type") == "text" else 15 for q in questions(doc))
    return max(1, math.ceil(seconds / 60))


def question(doc: dict, question_id: str) -> dict:
    for item in questions(doc):
        if item.get("id") == question_id:
            return item
    raise InvalidInput({"question": _("There is no question %(id)s.", id=question_id)})


def options(q: dict) -> list[dict]:
    """The question's options (yes/no has its fixed two)."""
    if q.get("type") == "yes_no":
        return YES_NO
    if q.get("type") == "rating":
        return [{"name": str(n), "label": {"zh-CN": str(n), "en": str(n)}} for n in RATING_RANGE]
    return list(q.get("options") or [])


def is_scored(option: dict) -> bool:
    return option.get("score") is not None


def scale_of(q: dict) -> dict[str, int | None]:
    """The scale a scale question gives its survey leaf: Chinese label → score (or None)."""
    return {text(o["label"], "zh-CN"): o.get("score") for o in options(q)}


def satisfied_of(q: dict) -> list[str]:
    return [text(o["label"], "zh-CN") for o in options(q) if is_scored(o) and o.get("satisfied")]


def scale_questions(doc: dict) -> list[dict]:
    return [q for q in questions(doc) if q.get("type") == "scale"]


# ---------------------------------------------------------------- the scheme's survey leaves


@dataclass(frozen=True)
class SurveyLeaf:
    """A survey leaf (满意度指标) of the indicator scheme, which scale questions map to."""

    id: str
    name: str
    rule: str  # survey_mean | survey_rate
    points: str
    part: str
    placeholders: tuple[str, ...] = field(default=())  # the scheme's question ids (Q1, …)

    @property
    def label(self) -> str:
        return f"{self.id} {self.name}"


def survey_leaves(scheme: dict) -> list[SurveyLeaf]:
    """The survey leaves of a scheme document (scoring's ``scheme`` format), in order."""
    found: list[SurveyLeaf] = []
    for part in scheme.get("parts") or []:
        stack = [part.get("tree") or {}]
        while stack:
            node = stack.pop(0)
            rule = node.get("rule") or {}
            if rule.get("type") in SURVEY_RULES:
                found.append(SurveyLeaf(str(node.get("id")), str(node.get("name", "")),
                                        rule["type"], str(node.get("points", "")),
                                        str(part.get("name", "")),
                                        tuple(str(q) for q in rule.get("questions") or [])))
            stack[0:0] = list(node.get("children") or [])
    return found


def map_to_leaves(doc: dict, leaves: list[SurveyLeaf]) -> dict:
    """Map every unmapped scale question to a survey leaf: the leaf whose placeholder
    questions name the question's id, else the only survey leaf there is."""
    doc = copy.deepcopy(doc)
    ids = {leaf.id for leaf in leaves}
    for q in scale_questions(doc):
        if q.get("leaf") in ids:
            continue
        named = [leaf.id for leaf in leaves if q["id"] in leaf.placeholders]
        q["leaf"] = named[0] if named else (leaves[0].id if len(leaves) == 1 else "")
    return doc


# ---------------------------------------------------------------- rules


def _text_errors(errors: dict, key: str, value: dict, *, what: str, required: bool,
                 limit: int) -> None:
    """``what`` names the field in the message (题目, 说明文字, 标题, 开头语)."""
    zh = (value or {}).get("zh-CN", "")
    if required and not zh.strip():
        errors[key] = _("%(what)s: the Chinese text is required.", what=what)
    elif any(len((value or {}).get(lang, "")) > limit for lang in LANGS):
        errors[key] = _("%(what)s: at most %(n)s characters in each language.", what=what,
                        n=limit)


def question_errors(q: dict, leaves: list[SurveyLeaf] | None = None) -> dict[str, str]:
    """What makes one question malformed, keyed ``<id>.<field>``; empty when it is sound."""
    errors: dict[str, str] = {}
    qid = str(q.get("id") or "")
    key = qid or "?"
    if not ID_RE.match(qid):
        errors[f"{key}.id"] = _("A question id starts with a letter and has at most 32 letters, "
                                "digits or underscores (e.g. Q1).")
    kind = q.get("type")
    if kind not in TYPES:
        errors[f"{key}.type"] = _("Unknown question type %(type)s.", type=kind)
        return errors
    _text_errors(errors, f"{key}.label", q.get("label"), what=_("Question text"), required=True,
                 limit=MAX_LABEL)
    _text_errors(errors, f"{key}.hint", q.get("hint"), what=_("Help text"), required=False,
                 limit=MAX_HINT)
    if kind in ("scale", "single", "multiple"):
        opts = q.get("options") or []
        if len(opts) < 2:
            errors[f"{key}.options"] = _("A question needs at least two options.")
        elif len(opts) > MAX_OPTIONS:
            errors[f"{key}.options"] = _("At most %(n)s options.", n=MAX_OPTIONS)
        names, labels = set(), set()
        for index, option in enumerate(opts, start=1):
            name = str(option.get("name") or "")
            label = text(option.get("label"), "zh-CN").strip()
            if not NAME_RE.match(name):
                errors[f"{key}.options"] = _("Option %(n)s: a name has 1 to 40 letters, digits, "
                                             "'-' or '_'.", n=index)
            elif name in names:
                errors[f"{key}.options"] = _("Option %(n)s: the name %(name)s is used twice.",
                                             n=index, name=name)
            elif not label:
                errors[f"{key}.options"] = _("Option %(n)s: the Chinese text is required.", n=index)
            elif label in labels:
                errors[f"{key}.options"] = _("Option %(n)s: the text %(label)s is used twice.",
                                             n=index, label=label)
            elif len(label) > MAX_LABEL:
                errors[f"{key}.options"] = _("Option %(n)s: at most %(limit)s characters.",
                                             n=index, limit=MAX_LABEL)
            names.add(name)
            labels.add(label)
            score = option.get("score")
            if kind == "scale" and score is not None and (
                    isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100):
                errors[f"{key}.options"] = _("Option %(n)s: a score is a whole number from 0 to "
                                             "100, or empty for 不了解/不适用.", n=index)
            if kind != "scale" and (score is not None or option.get("satisfied")):
                errors[f"{key}.options"] = _("Only a satisfaction scale gives its options scores.")
        if kind == "scale" and f"{key}.options" not in errors:
            scored = [o for o in opts if is_scored(o)]
            if len(scored) < 2:
                errors[f"{key}.options"] = _("A scale needs at least two options with a score.")
            elif not any(o.get("satisfied") for o in scored):
                errors[f"{key}.options"] = _("Mark the options that count as satisfied (e.g. "
                                             "很满意 and 满意).")
            elif any(o.get("satisfied") and not is_scored(o) for o in opts):
                errors[f"{key}.options"] = _("An option without a score cannot count as "
                                             "satisfied.")
    if kind == "scale" and leaves is not None and q.get("leaf") and \
            q["leaf"] not in {leaf.id for leaf in leaves}:
        errors[f"{key}.leaf"] = _("%(leaf)s is not a survey indicator of the evaluation's "
                                  "scheme.", leaf=q["leaf"])
    if kind != "scale" and q.get("leaf"):
        errors[f"{key}.leaf"] = _("Only a satisfaction scale maps to a survey indicator.")
    return errors


def document_errors(doc: dict, leaves: list[SurveyLeaf] | None = None) -> dict[str, str]:
    """Every malformed part of a document (settings and questions)."""
    errors: dict[str, str] = {}
    _text_errors(errors, "title", doc.get("title"), what=_("Title"), required=True,
                 limit=MAX_LABEL)
    _text_errors(errors, "intro", doc.get("intro"), what=_("Introduction"), required=False,
                 limit=2000)
    items = questions(doc)
    if len(items) > MAX_QUESTIONS:
        errors["questions"] = _("At most %(n)s questions.", n=MAX_QUESTIONS)
    seen: set[str] = set()
    for q in items:
        if q.get("id") in seen:
            errors[f"{q.get('id')}.id"] = _("The question id %(id)s is used twice.", id=q.get("id"))
        seen.add(q.get("id"))
        errors.update(question_errors(q, leaves))
    return errors


def problems(doc: dict, leaves: list[SurveyLeaf]) -> dict[str, str]:
    """What keeps the questionnaire from being opened; empty when it can be."""
    found = document_errors(doc, leaves)
    items = questions(doc)
    if not items:
        found["questions"] = _("The questionnaire has no question yet.")
    seen_labels: dict[str, str] = {}
    for q in items:
        label = q.get("label") or {}
        if any(label.get(lang) == PLACEHOLDER_LABEL[lang] for lang in LANGS):
            # a new question's text, never rewritten: residents would read "新题目"
            found.setdefault(f"{q['id']}.label", _(
                "Write the question: it still reads as a new question's placeholder."))
        zh = str(label.get("zh-CN") or "").strip()
        if zh and zh in seen_labels:  # two questions residents cannot tell apart
            found.setdefault(f"{q['id']}.label", _(
                "The question reads word for word as %(other)s: say what each one asks.",
                other=seen_labels[zh]))
        seen_labels.setdefault(zh, q["id"])
    by_leaf: dict[str, list[dict]] = {}
    for q in scale_questions(doc):
        if not q.get("leaf"):
            found.setdefault(f"{q['id']}.leaf", _("Map this scale question to a survey indicator "
                                                  "of the scheme."))
        else:
            by_leaf.setdefault(q["leaf"], []).append(q)
    for leaf in leaves:
        mapped = by_leaf.get(leaf.id, [])
        if not mapped:
            found[f"leaf:{leaf.id}"] = _("No scale question is mapped to the survey indicator "
                                         "%(leaf)s; its score would be missing.", leaf=leaf.label)
            continue
        first = mapped[0]
        for other in mapped[1:]:
            if scale_of(other) != scale_of(first) or satisfied_of(other) != satisfied_of(first):
                found.setdefault(f"{other['id']}.options", _(
                    "Questions mapped to %(leaf)s must have the same options, scores and "
                    "satisfied options as %(first)s.", leaf=leaf.label, first=first["id"]))
    return found


def compatibility_errors(answered: dict, new: dict) -> dict[str, str]:
    """Rules for a new version while an earlier one (``answered``) has answers: each scored
    question keeps its id, options, scores and indicator, so earlier answers still count the
    same; a question kept by id keeps its type."""
    errors: dict[str, str] = {}
    new_by_id = {q["id"]: q for q in questions(new)}
    for old in questions(answered):
        now = new_by_id.get(old["id"])
        if old.get("type") == "scale" and old.get("leaf"):
            same = now is not None and now.get("type") == "scale" and now.get("leaf") == old["leaf"] \
                and [(o["name"], o.get("score"), bool(o.get("satisfied"))) for o in options(old)] \
                == [(o["name"], o.get("score"), bool(o.get("satisfied"))) for o in options(now)]
            if not same:
                errors[f"{old['id']}.options"] = _(
                    "Question %(id)s has answers in an earlier version: keep it with the same "
                    "options, scores and indicator (wording may change).", id=old["id"])
        elif now is not None and now.get("type") != old.get("type"):
            errors[f"{old['id']}.type"] = _("Question %(id)s has answers in an earlier version: "
                                            "its type cannot change.", id=old["id"])
    return errors


def with_earlier(shown: dict, earlier: list[dict]) -> dict:
    """``shown`` with what earlier versions asked and it no longer does, so that answers given
    to them are still counted and exported (nothing accepted is lost): a question dropped
    since comes after the shown ones, as its last version worded it; an option dropped from a
    kept choice question comes after the shown options. ``earlier`` is oldest first; the
    shown version's wording wins for everything it still has."""
    merged = copy.deepcopy(shown)
    items = merged.setdefault("questions", [])
    by_id = {q["id"]: q for q in items}
    dropped: dict[str, dict] = {}
    for doc in reversed(earlier):  # the latest wording of a dropped question first
        for old in questions(doc):
            now = by_id.get(old["id"])
            if now is None:
                dropped.setdefault(old["id"], copy.deepcopy(old))
                continue
            if now.get("type") != old.get("type") or "options" not in now:
                continue
            names = {o["name"] for o in now["options"]}
            for option in old.get("options") or []:
                if option["name"] not in names:
                    now["options"].append(copy.deepcopy(option))
                    names.add(option["name"])
    order = [q["id"] for doc in earlier for q in questions(doc)]
    items.extend(sorted(dropped.values(), key=lambda q: order.index(q["id"])))
    return merged


# ---------------------------------------------------------------- edits


def _bilingual(values: dict, prefix: str) -> dict:
    return {"zh-CN": str(values.get(f"{prefix}_zh") or "").strip(),
            "en": str(values.get(f"{prefix}_en") or "").strip()}


def blank(title_zh: str = "满意度调查问卷", title_en: str = "Satisfaction survey") -> dict:
    return {"title": {"zh-CN": title_zh, "en": title_en}, "intro": {"zh-CN": "", "en": ""},
            "questions": []}


def update_settings(doc: dict, values: dict) -> dict:
    """Title and introduction (who runs the survey and why), in Chinese and English."""
    doc = copy.deepcopy(doc)
    doc["title"] = _bilingual(values, "title")
    doc["intro"] = _bilingual(values, "intro")
    errors = {k: v for k, v in document_errors(doc).items() if k in ("title", "intro")}
    if errors:
        raise InvalidInput(errors, typed=doc)
    return doc


def next_id(doc: dict) -> str:
    taken = {q.get("id") for q in questions(doc)}
    n = len(taken) + 1
    while f"Q{n}" in taken:
        n += 1
    return f"Q{n}"


#: A new question's text until the organiser writes it: publishing is refused while it stays.
PLACEHOLDER_LABEL = {"zh-CN": "新题目", "en": "New question"}


def new_question(kind: str, question_id: str, leaves: list[SurveyLeaf] | None = None) -> dict:
    if kind not in TYPES:
        raise InvalidInput({"type": _("Unknown question type %(type)s.", type=kind)})
    q: dict = {"id": question_id, "type": kind, "label": dict(PLACEHOLDER_LABEL),
               "hint": {"zh-CN": "", "en": ""}, "required": kind != "text"}
    if kind == "scale":
        q["options"] = copy.deepcopy(SCALES["scale5"])
        q["list"] = "scale5"
        q["leaf"] = leaves[0].id if leaves and len(leaves) == 1 else ""
    elif kind in ("single", "multiple"):
        q["options"] = [_opt("o1", "选项一", "Option 1"), _opt("o2", "选项二", "Option 2")]
        q["list"] = f"{question_id.lower()}_options"
    return q


def add_question(doc: dict, kind: str, leaves: list[SurveyLeaf] | None = None) -> tuple[dict, str]:
    doc = copy.deepcopy(doc)
    if len(questions(doc)) >= MAX_QUESTIONS:
        raise InvalidInput({"questions": _("At most %(n)s questions.", n=MAX_QUESTIONS)})
    qid = next_id(doc)
    doc.setdefault("questions", []).append(new_question(kind, qid, leaves))
    return doc, qid


def _parse_score(raw: str) -> int | None | str:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return raw  # kept as typed so that the rule names it


def parse_option_rows(values: dict, kind: str, rows: int) -> list[dict]:
    """Option rows ``opt-<i>-name / -zh / -en / -score / -satisfied`` of the question form;
    a row without a name and a text is left out (how an option is removed)."""
    found = []
    for i in range(rows):
        name = str(values.get(f"opt-{i}-name") or "").strip()
        zh = str(values.get(f"opt-{i}-zh") or "").strip()
        en = str(values.get(f"opt-{i}-en") or "").strip()
        if not name and not zh:
            continue
        option: dict = {"name": name or f"o{i + 1}", "label": {"zh-CN": zh, "en": en}}
        if kind == "scale":
            option["score"] = _parse_score(str(values.get(f"opt-{i}-score") or ""))
            option["satisfied"] = bool(values.get(f"opt-{i}-satisfied"))
        found.append(option)
    return found


def update_question(doc: dict, question_id: str, values: dict, leaves: list[SurveyLeaf],
                    *, option_rows: int = 0) -> dict:
    """Apply the question form (texts, required, indicator, options); refuse a malformed one."""
    doc = copy.deepcopy(doc)
    q = question(doc, question_id)
    q["label"] = _bilingual(values, "label")
    q["hint"] = _bilingual(values, "hint")
    q["required"] = bool(values.get("required"))
    if q["type"] == "scale":
        q["leaf"] = str(values.get("leaf") or "").strip()
    if q["type"] in ("scale", "single", "multiple") and option_rows:
        q["options"] = parse_option_rows(values, q["type"], option_rows)
        q["list"] = q.get("list") or f"{question_id.lower()}_options"
    errors = question_errors(q, leaves)
    if errors:
        raise InvalidInput(errors, typed=doc)
    return doc


def apply_scale(doc: dict, question_id: str, preset: str) -> dict:
    """Replace a scale question's options with a preset (five or four levels)."""
    doc = copy.deepcopy(doc)
    q = question(doc, question_id)
    if q["type"] != "scale" or preset not in SCALES:
        raise InvalidInput({f"{question_id}.options": _("Choose one of the listed scales.")})
    q["options"] = copy.deepcopy(SCALES[preset])
    q["list"] = preset
    return doc


def move_question(doc: dict, question_id: str, direction: str) -> dict:
    doc = copy.deepcopy(doc)
    items = doc.get("questions") or []
    index = next((i for i, q in enumerate(items) if q["id"] == question_id), None)
    if index is None:
        question(doc, question_id)  # raises
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    return doc


def delete_question(doc: dict, question_id: str) -> dict:
    doc = copy.deepcopy(doc)
    question(doc, question_id)
    doc["questions"] = [q for q in questions(doc) if q["id"] != question_id]
    return doc


def summary(doc: dict) -> dict[str, int]:
    counts = {kind: 0 for kind in TYPES}
    for q in questions(doc):
        counts[q.get("type", "text")] = counts.get(q.get("type", "text"), 0) + 1
    return counts


def option_label(q: dict, name, language: str) -> str:
    for option in options(q):
        if option["name"] == str(name):
            return text(option["label"], language)
    return str(name)


def answer_labels(q: dict, value, language: str, *, codes: bool = False) -> str:
    """An answer as a person reads it (or its option codes), for exports and lists."""
    if value is None:
        return ""
    if isinstance(value, list):
        parts: Iterable = value if codes else (option_label(q, v, language) for v in value)
        return "; ".join(str(p) for p in parts)
    if codes or q.get("type") in ("text", "rating"):
        return str(value)
    return option_label(q, value, language)

