"""Indicator schemes (指标体系): create, copy, edit the tree, check, freeze, version.

A scheme is stored as one JSON document in the scoring package's ``scheme`` format:
``{"name", "grades": [{"name", "min"}], "missing", "scales": {...}, "parts": [{"id", "name",
"party", "weight": "0.40", "combine", "frame"?: {"kind": "national", "reason"?}, "tree":
{"id", "name", "points", "children": [...]}}]}``; a leaf has ``"rule": {"type": ..., params}``
and ``"criteria"`` (评分标准). Node ids are positional (A, A1, A1.2, A1.2.3) and renumbered
after every change of structure, so a workbook round trip gives the same document.

While editing, the document may break the rules (a running sum that does not match yet);
every change re-checks it and the editor shows what is wrong, naming the node. A scheme is
``valid`` only when every rule holds; only a valid scheme can be frozen for an evaluation.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from sqlalchemy import or_
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, col, select

from evalplatform.i18n import N_, _, percent
from evalplatform.models import IndicatorScheme, Role
from evalplatform.services import audit, ratios
from evalplatform.services.audit import Actor
from evalplatform.services.clock import now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.paging import DEFAULT_PER_PAGE, Page, any_contains, paginate

# The scoring engine validates schemes and derives AHP weights; no code outside scoring/
# computes a weight or a statistic.
from scoring import PackageError as _EnginePackageError
from scoring import ahp as _engine_ahp
from scoring import validate_scheme as _engine_validate_scheme

PARTIES = ("purchaser", "recipient", "third_party")
COMBINES = ("mean", "median", "trimmed_mean")
MISSING_POLICIES = ("block", "zero", "redistribute")
RULE_TYPES = ("points", "tiers", "ratio_ge", "ratio_le", "thresholds", "survey_mean",
              "survey_rate")
SURVEY_RULES = ("survey_mean", "survey_rate")
DIMENSIONS = ("决策", "过程", "产出", "效益")
MAX_DEPTH = 3  # level 1, 2, 3 indicators under a part's root
MAX_AHP = 15  # Saaty's random index table
#: The longest a typed text may be: a name its column's length (200; a grade's 20, the column a
#: result keeps its grade in), a part's name as an indicator's, a rule's parameters a few lines,
#: a description, a criterion or a reason a generous page of writing.
MAX_NAME = 200
MAX_SERVICE_AREA = 100
MAX_GRADE_NAME = 20
MAX_PARAMS = 2_000
MAX_TEXT = 10_000

PARTY_LABELS = {"purchaser": N_("Purchaser"), "recipient": N_("Service recipients"),
                "third_party": N_("Third party")}
COMBINE_LABELS = {"mean": N_("Mean"), "median": N_("Median"),
                  "trimmed_mean": N_("Trimmed mean (drop highest and lowest)")}
MISSING_LABELS = {"block": N_("Block the result"), "zero": N_("Score zero"),
                  "redistribute": N_("Redistribute the points")}
RULE_LABELS = {
    "points": N_("Points typed by a scorer"),
    "tiers": N_("Tiers"),
    "ratio_ge": N_("Ratio, higher is better"),
    "ratio_le": N_("Ratio, lower is better"),
    "thresholds": N_("Bands of a measured value"),
    "survey_mean": N_("Survey mean"),
    "survey_rate": N_("Survey satisfaction rate"),
}
RULE_HINTS = {
    "points": "",
    "tiers": "tiers=达成:1.0, 部分达成:0.7, 未达成:0.3",
    "ratio_ge": "target=95%; unit=比例",
    "ratio_le": "target=48; unit=小时",
    "thresholds": "bands=95:10, 90:8, 80:5, 0:0",
    "survey_mean": "questions=Q1, Q2; scale=满意度五级",
    "survey_rate": "questions=Q1; scale=满意度五级; satisfied=满意, 较满意; target=90",
}

DEFAULT_GRADES = [{"name": "优", "min": "90"}, {"name": "良", "min": "80"},
                  {"name": "中", "min": "60"}, {"name": "差", "min": "0"}]
DEFAULT_SCALE = "满意度五级"
DEFAULT_SCALES = {DEFAULT_SCALE: {"满意": 100, "较满意": 80, "一般": 60, "不满意": 0,
                                  "不了解": None}}
HUNDRED = Decimal(100)
ONE = Decimal(1)
CENT = Decimal("0.01")


# ---------------------------------------------------------------- numbers and text


def decimal_or_none(value: Any) -> Decimal | None:
    """A finite decimal from a string or number, below 10¹⁵ in size (``ratios.within_reach``),
    else None (never through binary floats)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip().replace("，", "").replace(",", "")
    if text.endswith("%"):
        number = decimal_or_none(text[:-1])
        return None if number is None else number / 100
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if ratios.typed_within_reach(number) else None


def plain(number: Decimal) -> str:
    """A decimal written plainly: 18, 0.7, 12.5."""
    text = format(number.normalize(), "f")
    return "0" if text in ("-0", "") else text


def weight_text(number: Decimal) -> str:
    """A part weight with at least two decimals: 0.40, 0.333."""
    return format(number.quantize(CENT), "f") if number == number.quantize(CENT) \
        else plain(number)


def _too_long(field, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label."""
    return _("%(field)s: %(problem)s", field=str(field),
             problem=_("At most %(n)s characters.", n=limit))


def _split(text: str, seps: str) -> list[str]:
    return [p.strip() for p in re.split(f"[{seps}]", text or "") if p.strip()]


# ---------------------------------------------------------------- the document's tree


def blank_document(name: str = "") -> dict:
    doc = {"name": name, "grades": copy.deepcopy(DEFAULT_GRADES), "missing": "block",
           "scales": copy.deepcopy(DEFAULT_SCALES), "parts": []}
    add_part_to(doc, "purchaser", "1.00")
    return doc


def add_part_to(doc: dict, party: str, weight: str) -> dict:
    part = {"id": "", "name": str(PARTY_LABELS[party]), "party": party, "weight": weight,
            "combine": "mean", "tree": {"id": "", "name": str(PARTY_LABELS[party]),
                                        "points": "100", "children": []}}
    doc["parts"].append(part)
    renumber(doc)
    return part


def renumber(doc: dict) -> None:
    """Give every part and node its positional id (A, A1, A1.2, A1.2.3)."""
    for index, part in enumerate(doc.get("parts", [])):
        part_id = chr(ord("A") + index) if index < 26 else f"P{index + 1}"
        part["id"] = part_id
        part["tree"]["id"] = part_id

        def walk(node: dict, node_id: str, root_id: str) -> None:
            node["id"] = node_id
            for i, child in enumerate(node.get("children") or []):
                walk(child, f"{node_id}{i + 1}" if node_id == root_id else f"{node_id}.{i + 1}",
                     root_id)

        walk(part["tree"], part_id, part_id)


def normalise(doc: dict) -> dict:
    """Write every number of the document in one canonical form (in place; returns it)."""

    def number(value: Any, fmt=None) -> Any:
        parsed = decimal_or_none(value)
        return value if parsed is None else (fmt or plain)(parsed)

    for grade in doc.get("grades") or []:
        grade["min"] = number(grade.get("min"))
    for part in doc.get("parts") or []:
        part["weight"] = number(part.get("weight"), weight_text)
        stack = [part["tree"]]
        while stack:
            node = stack.pop()
            node["points"] = number(node.get("points"))
            stack.extend(node.get("children") or [])
            rule = node.get("rule") or {}
            for tier in rule.get("tiers") or []:
                tier["coefficient"] = number(tier.get("coefficient"))
            for band in rule.get("bands") or []:
                band["min"], band["points"] = number(band.get("min")), number(band.get("points"))
            if "target" in rule:
                rule["target"] = number(rule["target"])
    renumber(doc)
    return doc


def is_leaf(node: dict) -> bool:
    return "children" not in node


@dataclass
class Located:
    part_index: int
    node: dict
    parent: dict | None
    depth: int  # 0 for a part's root


def locate(doc: dict, node_id: str) -> Located:
    for index, part in enumerate(doc.get("parts", [])):
        stack = [(part["tree"], None, 0)]
        while stack:
            node, parent, depth = stack.pop()
            if node.get("id") == node_id:
                return Located(index, node, parent, depth)
            stack.extend((c, node, depth + 1) for c in node.get("children") or [])
    raise NotFound(_("This indicator is not in the scheme."))


def children_sum(node: dict) -> Decimal:
    total = Decimal(0)
    for child in node.get("children") or []:
        total += decimal_or_none(child.get("points")) or Decimal(0)
    return total


def node_label(node: dict) -> str:
    """An indicator as a message names it, in the reader's parentheses: “合同履约”（A1） in
    Chinese, “合同履约” (A1) in English."""
    return _("%(value)s (%(note)s)", value="“" + str(node.get("name") or "?") + "”",
             note=node.get("id"))


# ---------------------------------------------------------------- rules and their parameters


#: How a bare number (no % sign) for a rate is read: in percent (95 = 95 %), as the editor
#: and the current workbook write it; or, in a workbook of the old syntax (before rates were
#: typed in percent, see ``scheme_excel.FORMAT``), as the fraction of one itself (0.95).
PERCENT, FRACTION = "percent", "fraction"


def _percent_param(param: str, raw: str, *, rate: bool, bare: str = PERCENT) -> Decimal | None:
    """A target or band bound typed in percent (95 or 95%): for a rate (unit 比例), the
    fraction of one the engine reads (0.95, the decimal point moved, nothing rounded); for a
    survey target, the number of percent itself (90). A bare number of 1 or less is said back
    as a likely fraction unless written with its sign (0.5%). None if it is not a number."""
    number = ratios.percent_number(raw)
    if number is None:
        return None
    signed = ratios.has_percent_sign(raw)
    if rate and not signed and bare == FRACTION:  # the old syntax: 0.95 was 95 %
        if number > 1:
            raise ValidationFailed({"params": _(
                "Parameter %(param)s: this workbook was written before rates were typed in "
                "percent, when %(typed)s meant %(read)s. Write the percentage with its sign, "
                "e.g. %(explicit)s.", param=param, typed=plain(number),
                read=percent_text(number.scaleb(2)), explicit=plain(number) + "%")})
        return number
    ratio = number.scaleb(-2)
    if not signed and ratios.likely_fraction(ratio):
        raise ValidationFailed({"params": _(
            "Parameter %(param)s is typed in percent. %(read_as)s If you do mean %(read)s, "
            "write it with the %% sign: %(explicit)s.", param=param,
            read_as=ratios.read_as(ratio), read=percent_text(number),
            explicit=plain(number) + "%")})
    return ratio if rate else number


def percent_text(number: Decimal) -> str:
    """A number of percent as the reader's language writes it (95% / 95 %)."""
    return percent(plain(number))


def parse_params(rule_type: str, text: str, *, bare: str = PERCENT) -> dict:
    """``key=value; key=value`` → the rule's parameters; refusals name the parameter.

    Targets and band bounds of a rate (unit 比例, 比率 or ratio) are typed in percent (95 or
    95%) and kept as the fraction of one the engine reads (0.95); a survey rate's target is
    typed and kept in percent (90). ``bare`` says how a number without its % sign reads
    (``PERCENT``; ``FRACTION`` for a workbook of the old syntax)."""
    if rule_type not in RULE_TYPES:
        raise ValidationFailed({"rule_type": _("Choose one of the listed scoring rules.")})
    if len(text or "") > MAX_PARAMS:
        raise ValidationFailed({"params": _too_long(_("Rule parameters"), MAX_PARAMS)})
    pairs: dict[str, str] = {}
    for item in _split(text, ";；\n"):
        key, sep, value = item.replace("＝", "=").partition("=")
        if not sep or not key.strip():
            raise ValidationFailed({"params": _(
                "Write the parameters as key=value separated by semicolons, e.g. %(example)s.",
                example=RULE_HINTS.get(rule_type) or "target=0.9")})
        pairs[key.strip().lower()] = value.strip()
    allowed = {"points": set(), "tiers": {"tiers"}, "ratio_ge": {"target", "unit"},
               "ratio_le": {"target", "unit"}, "thresholds": {"bands", "unit"},
               "survey_mean": {"questions", "scale"},
               "survey_rate": {"questions", "scale", "satisfied", "target"}}[rule_type]
    unknown = sorted(set(pairs) - allowed)
    if unknown:
        raise ValidationFailed({"params": _(
            "Parameter %(name)s does not belong to this rule; it takes: %(allowed)s.",
            name=unknown[0], allowed=", ".join(sorted(allowed)) or "—")})
    params: dict[str, Any] = {}
    rate = rule_type in ("ratio_ge", "ratio_le", "thresholds") and ratios.is_ratio_unit(
        pairs.get("unit"))
    if rule_type == "tiers":
        tiers = []
        for item in _split(pairs.get("tiers", ""), ",，、"):
            name, sep, coefficient = item.replace("：", ":").rpartition(":")
            number = decimal_or_none(coefficient)
            if not sep or not name.strip() or number is None:
                raise ValidationFailed({"params": _(
                    "Tiers are written name:coefficient, e.g. %(example)s.",
                    example="达成:1.0, 部分达成:0.7, 未达成:0.3")})
            tiers.append({"name": name.strip(), "coefficient": plain(number)})
        params["tiers"] = tiers
    elif rule_type in ("ratio_ge", "ratio_le", "survey_rate"):
        if rate or rule_type == "survey_rate":
            target = _percent_param("target", pairs.get("target") or "", rate=rate, bare=bare)
        else:
            target = decimal_or_none(pairs.get("target"))
        if pairs.get("target") and target is None:
            raise ValidationFailed({"params": _("The target must be a number.")})
        params["target"] = plain(target) if target is not None else ""
    if rule_type == "thresholds":
        bands = []
        for item in _split(pairs.get("bands", ""), ",，、"):
            low, sep, points = item.replace("：", ":").partition(":")
            low_n = _percent_param("bands", low, rate=True, bare=bare) if rate \
                else decimal_or_none(low)
            points_n = decimal_or_none(points)
            if not sep or low_n is None or points_n is None:
                raise ValidationFailed({"params": _(
                    "Bands are written lower bound:points, highest first, e.g. %(example)s.",
                    example="95:10, 90:8, 0:0")})
            bands.append({"min": plain(low_n), "points": plain(points_n)})
        params["bands"] = bands
    if rule_type in ("ratio_ge", "ratio_le", "thresholds") and pairs.get("unit"):
        params["unit"] = pairs["unit"]
    if rule_type in SURVEY_RULES:
        params["questions"] = _split(pairs.get("questions", ""), ",，、")
        params["scale"] = pairs.get("scale") or DEFAULT_SCALE
    if rule_type == "survey_rate":
        params["satisfied"] = _split(pairs.get("satisfied", ""), ",，、")
    return params


def _as_percent(value: Any, rate: bool) -> str:
    """A stored target or bound as typed in percent, with its sign: a rate 0.95 → '95%', a
    survey target 90 → '90%'."""
    number = decimal_or_none(value)
    if number is None:
        return "" if value is None else str(value)
    return plain(number.scaleb(2) if rate else number) + "%"


def format_params(rule: dict) -> str:
    """The rule's parameters as ``key=value; ...`` (the inverse of :func:`parse_params`): a
    rate's target and bands, and a survey target, in percent with the sign (target=95%)."""
    kind = rule.get("type")
    rate = kind in ("ratio_ge", "ratio_le", "thresholds") and ratios.is_ratio_unit(
        rule.get("unit"))
    items: list[str] = []
    if kind == "tiers":
        items.append("tiers=" + ", ".join(f"{t['name']}:{t['coefficient']}"
                                          for t in rule.get("tiers", [])))
    if kind in SURVEY_RULES:
        items.append("questions=" + ", ".join(rule.get("questions", [])))
        items.append(f"scale={rule.get('scale', '')}")
    if kind == "survey_rate":
        items.append("satisfied=" + ", ".join(rule.get("satisfied", [])))
    if kind in ("ratio_ge", "ratio_le", "survey_rate"):
        target = rule.get("target", "")
        if rate or kind == "survey_rate":
            target = _as_percent(target, rate)
        items.append(f"target={target}")
    if kind == "thresholds":
        items.append("bands=" + ", ".join(
            f"{_as_percent(b['min'], True) if rate else b['min']}:{b['points']}"
            for b in rule.get("bands", [])))
    if kind in ("ratio_ge", "ratio_le", "thresholds") and rule.get("unit"):
        items.append(f"unit={rule['unit']}")
    return "; ".join(items)


def parse_grades(text: str) -> list[dict]:
    grades = []
    for item in _split(text, ";；,，\n"):
        name, sep, low = item.replace("≥", "=").replace("＝", "=").partition("=")
        number = decimal_or_none(low)
        if not sep or not name.strip() or number is None:
            raise ValidationFailed({"grades": _(
                "Write the grades as name=lower bound, highest first, e.g. %(example)s.",
                example="优=90; 良=80; 中=60; 差=0")})
        if problem := _grade_name_problem(name.strip()):
            raise ValidationFailed({"grades": problem})
        grades.append({"name": name.strip(), "min": plain(number)})
    return grades


def _grade_name_problem(name: str) -> str | None:
    """A grade's name is kept with every result graded by it, in a column of 20 characters."""
    if len(name) > MAX_GRADE_NAME:
        return _("“%(term)s” is too long: at most %(n)s characters.", term=name, n=MAX_GRADE_NAME)
    return None


def grade_names(session: Session) -> list[str]:
    """Every grade name a result can carry: the standard grades (优 良 中 差), then any other
    grade a scheme (template or contract scheme) defines, in the order first met."""
    names = [g["name"] for g in DEFAULT_GRADES]
    for document in session.exec(select(IndicatorScheme.document).order_by(IndicatorScheme.id)):
        for grade in (document or {}).get("grades") or []:
            name = str(grade.get("name") or "").strip()
            if name and name not in names:
                names.append(name)
    return names


def format_grades(grades: list[dict]) -> str:
    return "; ".join(f"{g['name']}={g['min']}" for g in grades)


# ---------------------------------------------------------------- the rules of a scheme


def _rule_problems(doc: dict, leaf: dict, points: Decimal | None) -> str | None:
    rule = leaf.get("rule")
    label = node_label(leaf)
    if not isinstance(rule, dict) or rule.get("type") not in RULE_TYPES:
        return _("Indicator %(node)s needs a scoring rule.", node=label)
    kind = rule["type"]
    if kind == "tiers":
        tiers = rule.get("tiers") or []
        if not tiers:
            return _("Indicator %(node)s: list its tiers with their coefficients.", node=label)
        names = [t.get("name") for t in tiers]
        if len(set(names)) != len(names):
            return _("Indicator %(node)s: a tier name appears twice.", node=label)
        for tier in tiers:
            c = decimal_or_none(tier.get("coefficient"))
            if c is None or not 0 <= c <= 1:
                return _("Indicator %(node)s: the coefficient of tier %(tier)s must be between 0 "
                         "and 1.", node=label, tier=tier.get("name"))
    if kind in ("ratio_ge", "ratio_le"):
        target = decimal_or_none(rule.get("target"))
        if target is None or target <= 0:
            return _("Indicator %(node)s: the target must be a number above 0.", node=label)
    if kind == "thresholds":
        bands = rule.get("bands") or []
        if not bands:
            return _("Indicator %(node)s: list its bands (lower bound:points).", node=label)
        previous = None
        for band in bands:
            low, pts = decimal_or_none(band.get("min")), decimal_or_none(band.get("points"))
            if low is None or pts is None:
                return _("Indicator %(node)s: every band needs a lower bound and points.",
                         node=label)
            if previous is not None and low >= previous:
                return _("Indicator %(node)s: list the bands from the highest lower bound down.",
                         node=label)
            if points is not None and not 0 <= pts <= points:
                return _("Indicator %(node)s: a band's points %(band)s must be between 0 and the "
                         "indicator's %(points)s.", node=label, band=plain(pts),
                         points=plain(points))
            previous = low
    if kind in SURVEY_RULES:
        if not rule.get("questions"):
            return _("Indicator %(node)s: name the survey questions it is scored from.",
                     node=label)
        if len(set(rule["questions"])) != len(rule["questions"]):
            return _("Indicator %(node)s: a question is listed twice.", node=label)
        scale = (doc.get("scales") or {}).get(rule.get("scale"))
        if scale is None:
            return _("Indicator %(node)s: the answer scale %(scale)s is not defined in the "
                     "scheme.", node=label, scale=rule.get("scale") or "—")
        if kind == "survey_rate":
            satisfied = rule.get("satisfied") or []
            if not satisfied:
                return _("Indicator %(node)s: name the answers that count as satisfied.",
                         node=label)
            for option in satisfied:
                if scale.get(option) is None:
                    return _("Indicator %(node)s: %(option)s is not a scored answer of the scale "
                             "%(scale)s.", node=label, option=option, scale=rule.get("scale"))
            target = decimal_or_none(rule.get("target"))
            if target is None or not 0 < target <= 100:
                return _("Indicator %(node)s: the target satisfaction rate is a percentage above 0 "
                         "and at most 100 (e.g. 90).", node=label)
    return None


def problems(doc: dict) -> dict[str, str]:
    """Every rule the document breaks, keyed by node id or field; empty when it is valid."""
    found: dict[str, str] = {}
    if doc.get("missing") not in MISSING_POLICIES:
        found["missing"] = _("Choose one of the listed missing-score policies.")
    grades = doc.get("grades") or []
    previous = None
    for grade in grades:
        low = decimal_or_none(grade.get("min"))
        if low is None or not 0 <= low <= 100 or (previous is not None and low >= previous):
            found["grades"] = _("Grades go from the highest lower bound down, each between 0 and "
                                "100.")
            break
        if problem := _grade_name_problem(str(grade.get("name") or "").strip()):
            found["grades"] = problem
            break
        previous = low
    if grades and "grades" not in found and previous != 0:
        found["grades"] = _("The lowest grade must start at 0 so that every total has a grade.")
    if not grades:
        found["grades"] = _("List at least one grade.")
    parts = doc.get("parts") or []
    if not parts:
        found["parts"] = _("A scheme needs at least one part.")
    weight_total = Decimal(0)
    for part in parts:
        key = f"part-{part.get('id')}"
        weight = decimal_or_none(part.get("weight"))
        if weight is None or not 0 < weight <= 1:
            found[f"{key}-weight"] = _("Part %(part)s: its weight must be above 0 and at most 1.",
                                       part=part.get("name"))
        else:
            weight_total += weight
        if part.get("party") not in PARTIES:
            found[f"{key}-party"] = _("Part %(part)s: choose the evaluating party.",
                                      part=part.get("name"))
        if part.get("combine") not in COMBINES:
            found[f"{key}-combine"] = _("Part %(part)s: choose how its sheets combine.",
                                        part=part.get("name"))
        root = part["tree"]
        if decimal_or_none(root.get("points")) != HUNDRED:
            found[root["id"]] = _("Part %(part)s: its tree is on 100 points.",
                                  part=part.get("name"))
        if not root.get("children"):
            found[root["id"]] = _("Part %(part)s has no indicators yet.", part=part.get("name"))
        _node_problems(doc, root, found, is_root=True)
        frame = part.get("frame")
        if frame and frame.get("kind") == "national":
            shares: dict[str, Decimal] = {}
            for child in root.get("children") or []:
                dimension = child.get("dimension") or next(
                    (d for d in DIMENSIONS if d in (child.get("name") or "")), None)
                if dimension not in DIMENSIONS:
                    found.setdefault(child["id"], _(
                        "Indicator %(node)s: on the national frame a level-1 indicator is one of "
                        "决策 / 过程 / 产出 / 效益.", node=node_label(child)))
                    continue
                shares[dimension] = shares.get(dimension, Decimal(0)) + (
                    decimal_or_none(child.get("points")) or Decimal(0))
            share = shares.get("产出", Decimal(0)) + shares.get("效益", Decimal(0))
            if share < 60 and not (frame.get("reason") or "").strip():
                found[f"{key}-frame"] = _(
                    "Part %(part)s follows the national frame: 产出 and 效益 carry %(share)s "
                    "points together, at least 60 unless you record why.",
                    part=part.get("name"), share=plain(share))
    if parts and weight_total != ONE and not any(k.endswith("-weight") for k in found):
        found["weights"] = _("The parts' weights add up to %(total)s; they must add up to "
                             "exactly 1.00.", total=weight_text(weight_total))
    if not found:
        try:
            _engine_validate_scheme(doc)
        except _EnginePackageError as exc:  # the engine is the final judge
            found["scheme"] = str(exc)
    return found


def _node_problems(doc: dict, node: dict, found: dict, is_root: bool = False) -> None:
    label = node_label(node)
    points = decimal_or_none(node.get("points"))
    if not (node.get("name") or "").strip():
        found.setdefault(node["id"], _("Indicator %(id)s needs a name.", id=node["id"]))
    if points is None or points <= 0:
        found.setdefault(node["id"], _("Indicator %(node)s: its points must be a number above 0.",
                                       node=label))
    if is_leaf(node):
        problem = _rule_problems(doc, node, points)
        if problem:
            found.setdefault(node["id"], problem)
        return
    total = children_sum(node)
    if node.get("children") and points is not None and total != points:
        found.setdefault(node["id"], _(
            "Indicator %(node)s has %(points)s points but its children add up to %(total)s.",
            node=label, points=plain(points), total=plain(total)))
    for child in node.get("children") or []:
        _node_problems(doc, child, found)


# ---------------------------------------------------------------- who may do what


@dataclass(frozen=True)
class SystemPrincipal:
    """The platform itself acting as finance (the demo loader, the CLI)."""

    actor: Actor = audit.SYSTEM
    role: Role = Role.finance
    organisation_id: int | None = None


def can_edit(principal, scheme: IndicatorScheme) -> bool:
    if scheme.frozen:
        return False
    if principal.role == Role.finance:
        return True
    return (principal.role == Role.purchaser and not scheme.is_template
            and scheme.organisation_id is not None
            and scheme.organisation_id == principal.organisation_id)


def can_see(principal, scheme: IndicatorScheme) -> bool:
    if principal.role in (Role.finance, Role.auditor):
        return True
    return principal.role == Role.purchaser and (
        scheme.is_template or (scheme.organisation_id is not None
                               and scheme.organisation_id == principal.organisation_id))


def owns_scheme(principal, session: Session, path_params: dict) -> bool:
    """The ownership rule of every scheme route (``require(..., owns=owns_scheme)``)."""
    try:
        scheme = session.get(IndicatorScheme, int(path_params["scheme_id"]))
    except (KeyError, ValueError):
        return False
    return scheme is not None and can_see(principal, scheme)


def get(session: Session, scheme_id: int) -> IndicatorScheme:
    scheme = session.get(IndicatorScheme, scheme_id)
    if scheme is None:
        raise NotFound(_("This indicator scheme does not exist."))
    return scheme


def editable(session: Session, principal, scheme_id: int) -> IndicatorScheme:
    """The scheme if ``principal`` may change it now; else refused (frozen, or not theirs)."""
    return _editable(session, principal, scheme_id)


def _editable(session: Session, principal, scheme_id: int) -> IndicatorScheme:
    scheme = get(session, scheme_id)
    if scheme.frozen:
        raise Conflict(_("This scheme is frozen: an evaluation uses it. Make a new version to "
                         "change it."))
    if not can_edit(principal, scheme):
        raise PermissionDenied(_("You may read this scheme but not change it."))
    return scheme


def page_schemes(session: Session, principal, *, q: str = "", kind: str = "", sort=None,
                 page=1, per_page=DEFAULT_PER_PAGE) -> Page:
    statement = select(IndicatorScheme)
    if principal.role == Role.purchaser:
        statement = statement.where(or_(
            col(IndicatorScheme.is_template).is_(True),
            IndicatorScheme.organisation_id == principal.organisation_id))
    if kind == "template":
        statement = statement.where(col(IndicatorScheme.is_template).is_(True))
    elif kind == "scheme":
        statement = statement.where(col(IndicatorScheme.is_template).is_(False))
    if q.strip():
        statement = statement.where(any_contains(q, IndicatorScheme.name,
                                                 IndicatorScheme.service_area))
    return paginate(session, statement,
                    sort_columns={"name": IndicatorScheme.name,
                                  "service_area": IndicatorScheme.service_area,
                                  "updated_at": IndicatorScheme.updated_at,
                                  "version": IndicatorScheme.version},
                    sort=sort, default_sort="-updated_at", page=page, per_page=per_page)


# ---------------------------------------------------------------- create, copy, freeze


def _check_header(name: str, service_area: str, description: str = "") -> dict[str, str]:
    errors = {}
    if not name.strip():
        errors["name"] = _("Name is required.")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = _("Name must be at most 200 characters.")
    if len(service_area.strip()) > MAX_SERVICE_AREA:
        errors["service_area"] = _("The service area must be at most 100 characters.")
    if len((description or "").strip()) > MAX_TEXT:
        errors["description"] = _too_long(_("Description"), MAX_TEXT)
    return errors


def _store(session: Session, actor: Actor, scheme: IndicatorScheme, action: str,
           change: dict) -> IndicatorScheme:
    normalise(scheme.document)
    scheme.document["name"] = scheme.name
    scheme.valid = not problems(scheme.document)
    scheme.updated_at = now()
    flag_modified(scheme, "document")  # the JSON document was changed in place
    session.add(scheme)
    session.flush()
    audit.record(session, actor, action, "indicator_scheme", scheme.id, change)
    session.commit()
    session.refresh(scheme)
    return scheme


def create(session: Session, principal, *, name: str, service_area: str = "",
           description: str = "", document: dict | None = None, is_template: bool = False,
           require_valid: bool = False) -> IndicatorScheme:
    """A new scheme, blank or from a document (an imported workbook, a built-in template)."""
    if principal.role not in (Role.finance, Role.purchaser):
        raise PermissionDenied(_("Only finance staff and purchasers create schemes."))
    if is_template and principal.role != Role.finance:
        raise PermissionDenied(_("Only finance staff keep templates."))
    errors = _check_header(name, service_area, description)
    if errors:
        raise ValidationFailed(errors)
    doc = copy.deepcopy(document) if document is not None else blank_document(name)
    normalise(doc)
    if require_valid:
        found = problems(doc)
        if found:
            raise ValidationFailed(found)
    scheme = IndicatorScheme(name=name.strip(), service_area=service_area.strip(),
                             description=description.strip(), is_template=is_template,
                             organisation_id=principal.organisation_id, document=doc,
                             created_by=principal.actor.id)
    return _store(session, principal.actor, scheme, "scheme.create",
                  {"name": scheme.name, "template": is_template})


def copy_scheme(session: Session, principal, source_id: int, *, name: str = "",
                new_version: bool = False) -> IndicatorScheme:
    """Copy a template or scheme into a new editable scheme of the principal's department."""
    if principal.role not in (Role.finance, Role.purchaser):
        raise PermissionDenied(_("Only finance staff and purchasers create schemes."))
    source = get(session, source_id)
    if not can_see(principal, source):
        raise NotFound(_("This indicator scheme does not exist."))
    if new_version and not source.frozen:
        raise Conflict(_("Only a frozen scheme needs a new version; edit this one directly."))
    if len(name.strip()) > MAX_NAME:  # refused, not cut: the name typed is the name kept
        raise ValidationFailed({"name": _("Name must be at most 200 characters.")})
    scheme = IndicatorScheme(
        name=name.strip() or source.name, service_area=source.service_area,
        description=source.description, is_template=False,
        version=source.version + 1 if new_version else 1, based_on_id=source.id,
        organisation_id=principal.organisation_id, document=copy.deepcopy(source.document),
        created_by=principal.actor.id)
    return _store(session, principal.actor, scheme,
                  "scheme.version" if new_version else "scheme.copy",
                  {"from": source.id, "name": scheme.name})


#: The list filter ``kind`` of :func:`page_schemes`: templates only, or the other schemes only.
LIST_KINDS = ("template", "scheme")


def check_contract_choice(session: Session, principal, current_scheme_id: int | None,
                          source_id: int) -> IndicatorScheme:
    """The scheme a contract's purchaser may copy as the contract's assessment standard (考核标准),
    as the contract page offers the choice: the source is a template or one of the department's
    schemes (one the principal may see) and complete (every rule kept: an evaluation could
    start on it); and the contract has no scheme yet, or its scheme has been frozen by an
    evaluation — a scheme still unfrozen is the contract's own to adapt, not to replace. Returns
    the source; refuses with ``source_id`` named (422) or with the contract's state (409).
    Changes nothing."""
    source = session.get(IndicatorScheme, source_id)
    if source is None or not can_see(principal, source):
        raise ValidationFailed({"source_id": _(
            "Choose a template or one of your department's schemes: there is no scheme %(id)s "
            "for you to copy.", id=source_id)})
    found = problems(source.document)
    if found:
        raise ValidationFailed({"source_id": _(
            "The scheme %(name)s does not keep every rule yet (%(first)s); choose a complete "
            "scheme, or complete this one first.", name=source.name,
            first=next(iter(found.values())))})
    current = session.get(IndicatorScheme, current_scheme_id) if current_scheme_id else None
    if current is not None and not current.frozen:
        raise Conflict(_(
            "The contract already has its scheme %(name)s, and no evaluation has started on it: "
            "adapt that scheme instead. Another scheme may be chosen once an evaluation has "
            "frozen it.", name=current.name))
    return source


def freeze(session: Session, actor: Actor, scheme_id: int) -> IndicatorScheme:
    """Freeze a scheme because an evaluation starts on it (for the evaluations capability)."""
    scheme = get(session, scheme_id)
    if scheme.frozen:
        return scheme
    found = problems(scheme.document)
    if found:
        raise ValidationFailed(found)
    scheme.frozen = True
    scheme.frozen_at = now()
    scheme.valid = True
    session.add(scheme)
    audit.record(session, actor, "scheme.freeze", "indicator_scheme", scheme.id, {})
    session.commit()
    session.refresh(scheme)
    return scheme


def check(session: Session, principal, scheme_id: int) -> IndicatorScheme:
    """Save: refuse, naming every offending node, unless the scheme keeps every rule."""
    scheme = _editable(session, principal, scheme_id)
    found = problems(scheme.document)
    if found:
        raise ValidationFailed(found)
    return _store(session, principal.actor, scheme, "scheme.check", {"valid": True})


# ---------------------------------------------------------------- editing


def update_settings(session: Session, principal, scheme_id: int, *, name: str,
                    service_area: str, description: str, missing: str,
                    grades: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    errors = _check_header(name, service_area, description)
    if missing not in MISSING_POLICIES:
        errors["missing"] = _("Choose one of the listed missing-score policies.")
    try:
        grade_list = parse_grades(grades)
        trial = {**scheme.document, "grades": grade_list, "missing": "block"}
        grade_problem = problems(trial).get("grades")
        if grade_problem:
            errors["grades"] = grade_problem
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    scheme.name, scheme.service_area = name.strip(), service_area.strip()
    scheme.description = description.strip()
    scheme.document["missing"] = missing
    scheme.document["grades"] = grade_list
    return _store(session, principal.actor, scheme, "scheme.settings",
                  {"name": scheme.name, "missing": missing, "grades": grade_list})


def _part(scheme: IndicatorScheme, part_id: str) -> dict:
    for part in scheme.document.get("parts", []):
        if part["id"] == part_id:
            return part
    raise NotFound(_("This part is not in the scheme."))


def add_part(session: Session, principal, scheme_id: int, *, party: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    if party not in PARTIES:
        raise ValidationFailed({"party": _("Choose the evaluating party.")})
    if any(p["party"] == party for p in scheme.document["parts"]):
        raise ValidationFailed({"party": _("The scheme already has a part for this party.")})
    add_part_to(scheme.document, party, "0.00")
    return _store(session, principal.actor, scheme, "scheme.part.add", {"party": party})


def update_part(session: Session, principal, scheme_id: int, part_id: str, *, name: str,
                party: str, weight: str, combine: str, national_frame: bool,
                frame_reason: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    part = _part(scheme, part_id)
    errors = {}
    if not name.strip():
        errors["name"] = _("Name is required.")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = _too_long(_("Part name"), MAX_NAME)
    if party not in PARTIES:
        errors["party"] = _("Choose the evaluating party.")
    elif any(p["party"] == party and p is not part for p in scheme.document["parts"]):
        errors["party"] = _("The scheme already has a part for this party.")
    number = decimal_or_none(weight)
    if number is None or not 0 < number <= 1:
        errors["weight"] = _("The weight is a decimal above 0 and at most 1, e.g. 0.40.")
    if combine not in COMBINES:
        errors["combine"] = _("Choose how its sheets combine.")
    if national_frame and len(frame_reason.strip()) > MAX_TEXT:
        errors["frame_reason"] = _too_long(
            _("Why 产出 and 效益 carry less than 60 points (if they do)"), MAX_TEXT)
    if errors:
        raise ValidationFailed(errors)
    part.update(name=name.strip(), party=party, weight=weight_text(number), combine=combine)
    part["tree"]["name"] = name.strip()
    if national_frame:
        part["frame"] = {"kind": "national"}
        if frame_reason.strip():
            part["frame"]["reason"] = frame_reason.strip()
    else:
        part.pop("frame", None)
    return _store(session, principal.actor, scheme, "scheme.part.update",
                  {"part": part_id, "weight": part["weight"], "party": party})


def delete_part(session: Session, principal, scheme_id: int, part_id: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    part = _part(scheme, part_id)
    if len(scheme.document["parts"]) == 1:
        raise ValidationFailed({"parts": _("A scheme needs at least one part.")})
    scheme.document["parts"].remove(part)
    return _store(session, principal.actor, scheme, "scheme.part.delete", {"part": part_id})


def _node_values(name: str, points: str, node: dict | None = None) -> tuple[str, Decimal]:
    errors = {}
    if not name.strip():
        errors["name"] = _("Name is required.")
    elif len(name.strip()) > MAX_NAME:
        errors["name"] = _("Name must be at most 200 characters.")
    number = decimal_or_none(points)
    if number is None or number <= 0:
        errors["points"] = _("Points must be a number above 0.")
    elif number != number.quantize(CENT):
        errors["points"] = _("Points have at most two decimals.")
    if errors:
        if node is not None:
            errors = {f"{node['id']}-{k}": v for k, v in errors.items()}
        raise ValidationFailed(errors)
    return name.strip(), number


def add_child(session: Session, principal, scheme_id: int, node_id: str, *, name: str,
              points: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    found = locate(scheme.document, node_id)
    if found.depth >= MAX_DEPTH:
        raise ValidationFailed({node_id: _("Indicator %(node)s is on level 3, the deepest level.",
                                           node=node_label(found.node))})
    name, number = _node_values(name, points, found.node)
    node = found.node
    if is_leaf(node):  # a leaf becomes a group: its rule and criteria go
        node.pop("rule", None)
        node.pop("criteria", None)
        node["children"] = []
    node["children"].append({"id": "", "name": name, "points": plain(number),
                             "rule": {"type": "points"}, "criteria": ""})
    return _store(session, principal.actor, scheme, "scheme.node.add",
                  {"parent": node_id, "name": name, "points": plain(number)})


def update_node(session: Session, principal, scheme_id: int, node_id: str, *, name: str,
                points: str, dimension: str = "") -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    found = locate(scheme.document, node_id)
    if found.depth == 0:
        raise ValidationFailed({node_id: _("A part's tree is always on 100 points; rename the part "
                                           "in its settings.")})
    name, number = _node_values(name, points, found.node)
    if dimension and (dimension not in DIMENSIONS or found.depth != 1):
        raise ValidationFailed({f"{node_id}-dimension": _(
            "Only a level-1 indicator has a dimension: 决策, 过程, 产出 or 效益.")})
    before = {"name": found.node["name"], "points": found.node["points"]}
    found.node.update(name=name, points=plain(number))
    if dimension:
        found.node["dimension"] = dimension
    else:
        found.node.pop("dimension", None)
    return _store(session, principal.actor, scheme, "scheme.node.update",
                  {"node": node_id, "before": before, "name": name, "points": plain(number)})


def move_node(session: Session, principal, scheme_id: int, node_id: str,
              direction: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    found = locate(scheme.document, node_id)
    if found.parent is None:
        raise ValidationFailed({node_id: _("A part's root does not move.")})
    siblings = found.parent["children"]
    index = siblings.index(found.node)
    target = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= target < len(siblings):
        raise ValidationFailed({node_id: _("Indicator %(node)s cannot move further that way.",
                                           node=node_label(found.node))})
    siblings[index], siblings[target] = siblings[target], siblings[index]
    return _store(session, principal.actor, scheme, "scheme.node.move",
                  {"node": node_id, "direction": direction})


def delete_node(session: Session, principal, scheme_id: int, node_id: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    found = locate(scheme.document, node_id)
    if found.parent is None:
        raise ValidationFailed({node_id: _("Delete the part instead of its root.")})
    found.parent["children"].remove(found.node)
    if not found.parent["children"] and found.parent is not scheme.document["parts"][
            found.part_index]["tree"]:
        found.parent.pop("children")  # an emptied group becomes a leaf again
        found.parent.update(rule={"type": "points"}, criteria="")
    return _store(session, principal.actor, scheme, "scheme.node.delete",
                  {"node": node_id, "name": found.node["name"]})


def set_rule(session: Session, principal, scheme_id: int, node_id: str, *, rule_type: str,
             params: str, criteria: str) -> IndicatorScheme:
    scheme = _editable(session, principal, scheme_id)
    found = locate(scheme.document, node_id)
    if not is_leaf(found.node):
        raise ValidationFailed({node_id: _("Only an indicator without children has a scoring "
                                           "rule.")})
    if len(criteria.strip()) > MAX_TEXT:
        raise ValidationFailed({f"{node_id}-criteria": _too_long(_("Scoring criteria"), MAX_TEXT)})
    try:
        rule = {"type": rule_type, **parse_params(rule_type, params)}
    except ValidationFailed as exc:  # the refusal names the indicator, as every rule check does
        raise ValidationFailed({f"{node_id}-{k}": _("Indicator %(node)s: %(problem)s",
                                                    node=node_label(found.node), problem=v)
                                for k, v in exc.errors.items()}) from None
    trial = copy.deepcopy(found.node)
    trial["rule"] = rule
    problem = _rule_problems(scheme.document, trial, decimal_or_none(found.node.get("points")))
    if problem:
        raise ValidationFailed({f"{node_id}-params": problem})
    found.node["rule"] = rule
    found.node["criteria"] = criteria.strip()
    return _store(session, principal.actor, scheme, "scheme.node.rule",
                  {"node": node_id, "rule": rule})


# ---------------------------------------------------------------- AHP (层次分析法)


def parse_judgement(value: str) -> Fraction | None:
    """A pairwise judgement on Saaty's 1–9 scale or its reciprocal (1/3)."""
    text = (value or "").strip()
    try:
        number = Fraction(text)
    except (ValueError, ZeroDivisionError):
        return None
    if number <= 0:
        return None
    whole = number if number >= 1 else 1 / number
    return number if whole.denominator == 1 and 1 <= whole <= 9 else None


@dataclass
class AHPOutcome:
    matrix: list[list[Fraction]]
    weights: list[Decimal]
    lambda_max: float | None
    ci: float
    cr: float
    consistent: bool
    points: list[Decimal]  # the children's points if accepted


def inconsistent(cr: float) -> ValidationFailed:
    """The refusal of AHP judgements whose consistency ratio is 0.10 or more."""
    return ValidationFailed({"matrix": _(
        "The judgements are not consistent enough: CR = %(cr)s, it must be below 0.10. "
        "Revise the comparisons.", cr=format(cr, ".4f"))})


def ahp_matrix(size: int, upper: dict[tuple[int, int], str]) -> list[list[Fraction]]:
    """The full matrix from its upper triangle; the lower triangle is the reciprocals."""
    errors = {}
    matrix = [[Fraction(1)] * size for _ in range(size)]
    for i in range(size):
        for j in range(i + 1, size):
            value = parse_judgement(upper.get((i, j), ""))
            if value is None:
                errors[f"a_{i}_{j}"] = _("Row %(row)s, column %(col)s: a judgement from 1 to 9 or "
                                         "its reciprocal (1/2 … 1/9).", row=i + 1, col=j + 1)
                continue
            matrix[i][j], matrix[j][i] = value, 1 / value
    if errors:
        raise ValidationFailed(errors)
    return matrix


def allocate(weights: list[Decimal], total: Decimal) -> list[Decimal]:
    """Points = weight × total, half-up to 2 decimals; the remainder goes to the largest."""
    points = [(w * total).quantize(CENT, rounding=ROUND_HALF_UP) for w in weights]
    largest = max(range(len(weights)), key=lambda k: weights[k])
    points[largest] += total - sum(points)
    return points


def run_ahp(session: Session, scheme_id: int, node_id: str,
            upper: dict[tuple[int, int], str]) -> AHPOutcome:
    scheme = get(session, scheme_id)
    found = locate(scheme.document, node_id)
    children = found.node.get("children") or []
    if len(children) < 2:
        raise ValidationFailed({node_id: _("AHP weighs two or more children; %(node)s has fewer.",
                                           node=node_label(found.node))})
    if len(children) > MAX_AHP:
        raise ValidationFailed({node_id: _("AHP weighs at most %(n)s children.", n=MAX_AHP)})
    matrix = ahp_matrix(len(children), upper)
    result = _engine_ahp([[float(v) for v in row] for row in matrix])
    weights = [Decimal(repr(float(w))) for w in result.weights]
    total = decimal_or_none(found.node.get("points")) or HUNDRED
    return AHPOutcome(matrix, weights, getattr(result, "lambda_max", None), float(result.ci),
                      float(result.cr), bool(result.consistent), allocate(weights, total))


def accept_ahp(session: Session, principal, scheme_id: int, node_id: str,
               upper: dict[tuple[int, int], str]) -> IndicatorScheme:
    _editable(session, principal, scheme_id)  # refused before any figure is worked out
    outcome = run_ahp(session, scheme_id, node_id, upper)
    if not outcome.consistent:
        raise inconsistent(outcome.cr)
    return set_children_points(session, principal, scheme_id, node_id, outcome.points,
                               "scheme.node.ahp", {"cr": round(outcome.cr, 6)})


def set_children_points(session: Session, principal, scheme_id: int, node_id: str,
                        points: list[Decimal], action: str, change: dict) -> IndicatorScheme:
    """Give a node's children the points its weights came to (AHP, entropy, combined), in
    order; audited as ``action`` with ``change``, the node and the points."""
    scheme = _editable(session, principal, scheme_id)
    give_children_points(scheme.document, node_id, points)
    return _store(session, principal.actor, scheme, action,
                  {"node": node_id, **change, "points": [plain(p) for p in points]})


def give_children_points(doc: dict, node_id: str, points: list[Decimal]) -> None:
    """Set the points of a node's children in ``doc``, in order; a child with children of its
    own has them rescaled to its new points in the proportions they had (half-up to 2
    decimals, the remainder to the largest), all the way down, so every inner node still
    adds up; a banded leaf's bands keep their share of its points."""
    children = locate(doc, node_id).node["children"]
    for child, child_points in zip(children, points, strict=True):
        _rescale(child, child_points)


def _rescale(node: dict, total: Decimal) -> None:
    old_total = decimal_or_none(node.get("points"))
    node["points"] = plain(total)
    children = node.get("children") or []
    rule = node.get("rule") or {}
    if not children and rule.get("type") == "thresholds" and old_total and old_total > 0:
        for band in rule.get("bands") or []:  # a band's points are a share of the leaf's
            band_points = decimal_or_none(band.get("points"))
            if band_points is not None:
                band["points"] = plain(min(total, (band_points * total / old_total)
                                           .quantize(CENT, rounding=ROUND_HALF_UP)))
    if not children:
        return
    old = [decimal_or_none(c.get("points")) or Decimal(0) for c in children]
    whole = sum(old)
    weights = [p / whole for p in old] if whole > 0 else [Decimal(1) / len(old)] * len(old)
    for child, child_points in zip(children, allocate(weights, total), strict=True):
        _rescale(child, child_points)
