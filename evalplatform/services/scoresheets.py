"""Scoresheets (评分表): the purchaser and the third party score an evaluation online.

Each scorer sees only the leaves of their part of the frozen scheme: a panel expert
(评审专家) or a third-party firm (第三方评价机构) the third-party part, the purchaser
(购买主体) its own part, one sheet per monitoring occasion (e.g. each quarter). A leaf scored
by points takes 0..max, a reason (扣分理由) below max; a tiered leaf takes one of its tiers,
a reason below the top tier; any leaf may be declared not applicable (不适用) with a reason.
The data leaves (ratio_ge / ratio_le / thresholds) take a measured value and its source on
the part's data sheet (客观数据).

Drafts are stored on the server as they are typed (not audited: a draft decides nothing);
submitting checks the whole sheet and locks it; only finance reopens a submitted sheet, with
a recorded reason. Submission re-runs the avoidance check (回避) for an expert. The
supplier's self-evaluation (自评) is kept beside the sheets and never scored.

The third party hands in its evaluation report (第三方评价报告) as a file; a wrong one is
withdrawn (撤回) with a reason by whoever handed it in, while a report may still be handed in
(:func:`withdraw_report`): the file is kept and marked withdrawn, never deleted, shown struck
through with its reason, and no longer counted as the report; the next upload replaces it.

The sheets combine by the part's rule in ``scoring`` (never here): :func:`consolidate`
scores a package of one part's sheets for the organiser, with the panel's agreement and the
leaves where the scorers differ most; the ``scoresheets`` collector gives the result's
package its sheets and data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

import scoring
from evalplatform.i18n import _, current_language, ngettext, percent
from evalplatform.models import (
    AuditEntry,
    Evaluation,
    EvaluationResult,
    EvaluationStatus,
    Expert,
    FilePurpose,
    MemberStatus,
    Organisation,
    PanelFirm,
    PanelMember,
    Role,
    Scoresheet,
    ScoringFile,
    SelfEvaluation,
    SheetKind,
    SheetStatus,
    User,
)
from evalplatform.services import (
    audit,
    dashboard,
    evaluation_inputs,
    evaluations,
    experts,
    files,
    panel,
    projects,
)
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.ratios import (
    decimal_text,
    likely_fraction,
    percent_to_ratio,
    plain,
    ratio_as_percent,
    read_as,
)

SHEET_RULES = ("points", "tiers")
DATA_RULES = ("ratio_ge", "ratio_le", "thresholds")
#: Sheets are filled while the evaluation collects and scores.
FILLING = (EvaluationStatus.collecting, EvaluationStatus.scoring)
DATA_KEY = "DATA"
UPLOAD_KINDS = (files.PDF, files.DOCX)


# ---------------------------------------------------------------- the scheme's leaves


@dataclass(frozen=True)
class Leaf:
    """A leaf indicator as a scorer sees it: its points, rule and criteria (评分标准)."""

    id: str
    name: str
    points: Decimal
    rule: dict
    criteria: str
    path: tuple[str, ...]  # the names of the groups above it

    @property
    def rule_type(self) -> str:
        return self.rule.get("type", "")

    @property
    def label(self) -> str:
        """Its number and name, as a list names it (C2.2 应急保障)."""
        return f"{self.id} {self.name}"

    def with_unit(self, value) -> str:
        """A target or band bound of this leaf as the trace writes it (24 小时), a rate as the
        reader's language writes a percentage (95% in Chinese, 95 % in English)."""
        if self.is_ratio:
            number = decimal_text(str(value))
            if number is not None:
                return percent(plain(number.scaleb(2)))
        return scoring.with_unit(value, self.rule.get("unit"))

    @property
    def unit(self) -> str:
        return (self.rule.get("unit") or "").strip()

    @property
    def is_ratio(self) -> bool:
        """Its measured value is a fraction of one (0.95) in the package and the engine; people
        type it and read it in percent (95), see :func:`_parse_datum` and :func:`form_values`."""
        return self.unit in scoring.RATIO_UNITS

    def bands_text(self) -> str:
        """A thresholds leaf's bands as the reader's language lists them: '≥ 95 分 → 30；
        ≥ 90 分 → 25' in Chinese, '≥ 95 分 → 30; ≥ 90 分 → 25' in English."""
        separator = "；" if current_language().startswith("zh") else "; "
        return separator.join(f"≥ {self.with_unit(b.get('min'))} → {b.get('points')}"
                              for b in self.rule.get("bands") or [])

    @property
    def scale(self) -> Decimal:
        """The size of the figures this leaf expects: its target, or its top band's bound
        (0 when it has neither)."""
        bounds = [self.rule.get("target")] + [b.get("min") for b in self.rule.get("bands") or []]
        numbers = [n for n in (decimal_text(str(b)) for b in bounds if b not in (None, "")) if n]
        return max(numbers, default=Decimal(0))

    @property
    def tiers(self) -> list[dict]:
        return self.rule.get("tiers") or []

    def coefficient(self, tier: str) -> Decimal | None:
        found = next((t for t in self.tiers if t.get("name") == tier), None)
        return Decimal(str(found["coefficient"])) if found else None

    @property
    def top_coefficient(self) -> Decimal:
        return max((Decimal(str(t["coefficient"])) for t in self.tiers), default=Decimal(1))


def parts(doc: dict) -> list[dict]:
    return list(doc.get("parts") or [])


def part_of(doc: dict, part_id: str) -> dict:
    part = next((p for p in parts(doc) if p["id"] == part_id), None)
    if part is None:
        raise NotFound(_("The scheme has no part %(part)s.", part=part_id))
    return part


def leaves_of(part: dict, rules: tuple[str, ...] | None = None) -> list[Leaf]:
    """The part's leaves in scheme order (depth first), those with a rule in ``rules``."""
    found: list[Leaf] = []

    def walk(node: dict, path: tuple[str, ...]) -> None:
        children = node.get("children")
        if children is None:
            rule = node.get("rule") or {}
            if rules is None or rule.get("type") in rules:
                found.append(Leaf(node["id"], node.get("name", ""), Decimal(str(node["points"])),
                                  rule, node.get("criteria", ""), path))
            return
        for child in children:
            walk(child, (*path, node.get("name", "")) if node is not part["tree"] else path)

    walk(part["tree"], ())
    return found


def sheet_leaves(part: dict, kind: SheetKind) -> list[Leaf]:
    return leaves_of(part, DATA_RULES if kind == SheetKind.data else SHEET_RULES)


def _find_leaf(doc: dict, leaf_id: str) -> tuple[dict, Leaf] | None:
    for part in parts(doc):
        for leaf in leaves_of(part):
            if leaf.id == leaf_id:
                return part, leaf
    return None


# ---------------------------------------------------------------- who fills which sheet


def _purchaser_of(session: Session, principal, evaluation: Evaluation) -> bool:
    return (principal.role == Role.purchaser and principal.organisation_id is not None
            and evaluations.project_of(session, evaluation).department_id
            == principal.organisation_id)


def _data_by_third_party(part: dict) -> bool:
    return part.get("party") == "third_party"


def slot_for(session: Session, principal, evaluation: Evaluation, part: dict, kind: SheetKind
             ) -> tuple[PanelMember | None, PanelFirm | None]:
    """The seat or firm through which the principal fills this kind of sheet for the part;
    raises PermissionDenied when the principal may not."""
    third = part.get("party") == "third_party"
    seat = panel.seat_of(session, principal, evaluation.id)
    firm = panel.firm_of(session, principal, evaluation.id)
    allowed = False
    if kind == SheetKind.expert:
        allowed = third and seat is not None
    elif kind == SheetKind.firm:
        allowed = third and firm is not None
    elif kind == SheetKind.occasion:
        allowed = part.get("party") == "purchaser" and _purchaser_of(session, principal, evaluation)
    elif kind == SheetKind.data:
        if _data_by_third_party(part):
            has_firm = bool(panel.firms(session, evaluation.id))
            allowed = firm is not None or (seat is not None and not has_firm)
        else:
            allowed = _purchaser_of(session, principal, evaluation)
    if not allowed:
        raise PermissionDenied(_("You are not assigned to score this part of the evaluation."))
    return (seat if kind in (SheetKind.expert, SheetKind.data) else None,
            firm if kind in (SheetKind.firm, SheetKind.data) else None)


def can_edit(session: Session, principal, sheet: Scoresheet, evaluation: Evaluation) -> bool:
    doc = evaluations.scheme_document(session, evaluation)
    try:
        seat, firm = slot_for(session, principal, evaluation, part_of(doc, sheet.part_id),
                              sheet.kind)
    except (PermissionDenied, NotFound):
        return False
    if sheet.kind == SheetKind.expert:
        return seat is not None and seat.id == sheet.member_id
    if sheet.kind == SheetKind.firm:
        return firm is not None and firm.organisation_id == sheet.firm_id
    return True


def can_view(session: Session, principal, sheet: Scoresheet, evaluation: Evaluation) -> bool:
    if principal.role in (Role.finance, Role.auditor) or _purchaser_of(session, principal,
                                                                        evaluation):
        return True
    return can_edit(session, principal, sheet, evaluation)


def get(session: Session, evaluation_id: int, sheet_id: int) -> Scoresheet:
    sheet = session.get(Scoresheet, sheet_id)
    if sheet is None or sheet.evaluation_id != evaluation_id:
        raise NotFound(_("This scoresheet does not exist."))
    return sheet


def owns_sheet(principal, session: Session, params: dict) -> bool:
    """Route ownership rule: the sheet is on the path's evaluation and the principal may see it."""
    try:
        evaluation = evaluations.get(session, int(params["evaluation_id"]))
        sheet = get(session, evaluation.id, int(params["sheet_id"]))
    except (KeyError, TypeError, ValueError, NotFound):
        return False
    return evaluations.can_see(session, principal, evaluation) and can_view(
        session, principal, sheet, evaluation)


def sheets_of(session: Session, evaluation_id: int) -> list[Scoresheet]:
    return list(session.exec(select(Scoresheet).where(Scoresheet.evaluation_id == evaluation_id)
                             .order_by(Scoresheet.part_id, Scoresheet.kind, Scoresheet.scorer_key)))


def _find(session: Session, evaluation_id: int, part_id: str, key: str) -> Scoresheet | None:
    return session.exec(select(Scoresheet).where(
        Scoresheet.evaluation_id == evaluation_id, Scoresheet.part_id == part_id,
        Scoresheet.scorer_key == key)).first()


def _require_filling(evaluation: Evaluation) -> None:
    if evaluation.status not in FILLING:
        raise Conflict(_("Sheets are filled while the evaluation collects and scores; it is "
                         "%(status)s.", status=evaluations.status_label(evaluation.status)))


def start(session: Session, principal, evaluation_id: int, part_id: str, kind: str,
          label: str = "") -> Scoresheet:
    """Open the principal's sheet for a part (the existing one, or a new draft)."""
    evaluation = evaluations.get(session, evaluation_id)
    try:
        kind = SheetKind(kind)
    except ValueError as exc:
        raise ValidationFailed({"kind": _("Choose a kind of sheet.")}) from exc
    doc = evaluations.scheme_document(session, evaluation)
    part = part_of(doc, part_id)
    seat, firm = slot_for(session, principal, evaluation, part, kind)
    _require_filling(evaluation)
    if not sheet_leaves(part, kind):
        raise ValidationFailed({"part": _("This part has no indicators to enter on such a sheet.")})
    label = label.strip()
    if kind == SheetKind.expert:
        key = panel.scorer_code(seat)
    elif kind == SheetKind.firm:
        key = panel.firm_code(session, firm)
    elif kind == SheetKind.data:
        key = DATA_KEY
    else:
        if not label:
            raise ValidationFailed({"label": _("Name the occasion, e.g. 2026 第二季度.")})
        if len(label) > 40:
            raise ValidationFailed({"label": _("The occasion's name must be at most 40 "
                                               "characters.")})
        if label == DATA_KEY or _find(session, evaluation.id, part_id, label) is not None:
            raise ValidationFailed({"label": _("This part already has a sheet named %(label)s.",
                                               label=label)})
        key = label
    existing = _find(session, evaluation.id, part_id, key)
    if existing is not None:
        return existing
    sheet = Scoresheet(evaluation_id=evaluation.id, part_id=part_id, kind=kind, scorer_key=key,
                       label=label if kind == SheetKind.occasion else key,
                       member_id=seat.id if kind == SheetKind.expert else None,
                       firm_id=firm.organisation_id if kind == SheetKind.firm else None,
                       created_by=principal.actor.id, updated_by=principal.actor.id)
    session.add(sheet)
    session.flush()
    audit.record(session, principal.actor, "scoresheet.create", "scoresheet", sheet.id,
                 {"evaluation": evaluation.id, "part": part_id, "kind": kind.value,
                  "scorer": key})
    session.commit()
    session.refresh(sheet)
    return sheet


# ---------------------------------------------------------------- reading a filled form


FIELD_PREFIXES = ("value", "reason", "na", "na_reason", "source")

#: The longest reason for a deduction (扣分理由), reason why a leaf does not apply (不适用理由)
#: or source of a measured value (数据来源), in characters: a scorer's note, not a report
#: (the report is uploaded as a file).
MAX_REASON = 2_000
#: The longest summary of the supplier's self-evaluation (自评), in characters: it is shown on
#: every scorer's sheet; a longer account goes in the self-evaluation report (a file).
MAX_SELF_SUMMARY = 10_000


def _too_long(label, text: str, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label
    and saying how long the text is, so that the writer knows how much to cut."""
    return _("%(field)s: %(problem)s", field=str(label),
             problem=_("At most %(n)s characters; this text has %(count)s.", n=limit,
                       count=len(text)))


def _text_labels() -> dict[str, str]:
    """The label of each free-text field of a leaf, as the form shows it."""
    return {"reason": _("Reason for a deduction (扣分理由)"), "na_reason": _("Why not applicable"),
            "source": _("Source")}


@dataclass
class ParsedSheet:
    scores: dict[str, dict] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # refused input: nothing is saved
    pending: dict[str, str] = field(default_factory=dict)  # allowed in a draft, not on submit
    notes: dict[str, str] = field(default_factory=dict)  # taken, but worth a second look
    #: for a refused leaf whose fault is in one of its texts, that field (``reason``,
    #: ``na_reason`` or ``source``), so that the form marks it and not the value
    error_fields: dict[str, str] = field(default_factory=dict)


def parse_form(doc: dict, part: dict, kind: SheetKind, form: dict) -> ParsedSheet:
    """Read the sheet's fields (``value-<leaf>``, ``reason-<leaf>``, ``na-<leaf>``,
    ``na_reason-<leaf>``, ``source-<leaf>``) into stored scores."""
    parsed = ParsedSheet()
    leaves = sheet_leaves(part, kind)
    own = {leaf.id for leaf in leaves}
    for key in form:
        prefix, _sep, leaf_id = str(key).partition("-")
        if prefix in FIELD_PREFIXES and leaf_id and leaf_id not in own and str(form[key]).strip():
            found = _find_leaf(doc, leaf_id)
            if found is None:
                parsed.errors[leaf_id] = _("%(leaf)s is not an indicator of this scheme.",
                                           leaf=leaf_id)
            else:
                other_part, leaf = found
                parsed.errors[leaf_id] = _(
                    "%(leaf)s %(name)s is not on this sheet: it belongs to %(part)s and is "
                    "scored by its rule %(rule)s.", leaf=leaf.id, name=leaf.name,
                    part=other_part.get("name", other_part["id"]), rule=leaf.rule_type)
    labels = _text_labels()
    for leaf in leaves:
        def text(prefix: str, leaf: Leaf = leaf) -> str:
            return str(form.get(f"{prefix}-{leaf.id}") or "").strip()

        # a text over its limit refuses the leaf (it keeps its last saved entry in a draft);
        # the form keeps the text as typed, so that the scorer shortens it
        too_long = next((name for name in ("na_reason", "reason", "source")
                         if len(text(name)) > MAX_REASON), None)
        if too_long is not None:
            parsed.errors[leaf.id] = _too_long(labels[too_long], text(too_long), MAX_REASON)
            parsed.error_fields[leaf.id] = too_long
            continue
        if text("na") in ("1", "on", "true"):
            reason = text("na_reason")
            parsed.scores[leaf.id] = {"na": reason}
            if not reason:
                parsed.pending[leaf.id] = _("Give the reason why this indicator does not apply.")
            continue
        raw, reason = text("value"), text("reason")
        if kind == SheetKind.data:
            _parse_datum(leaf, raw, text("source"), parsed)
        elif leaf.rule_type == "tiers":
            _parse_tier(leaf, raw, reason, parsed)
        else:
            _parse_points(leaf, raw, reason, parsed)
    return parsed


@dataclass(frozen=True)
class SheetSubtotal:
    """本表小计: what a scorer's sheet adds up to so far, for the scorer to check before
    submitting. Only for sheets of points and tiers (a measured value's points come from its
    rule, in the result). ``scored`` is the points of the leaves entered (a tier as max × its
    coefficient), out of ``scored_max``, the maxima of those leaves."""

    leaves: int  # the sheet's leaves
    entered: int  # with points or a tier
    not_applicable: int
    scored: Decimal
    scored_max: Decimal


def subtotal(leaves: list[Leaf], scores: dict, kind: SheetKind) -> SheetSubtotal | None:
    """The subtotal of a points-and-tiers sheet (``scores`` as stored or as just parsed);
    None for a sheet of measured values."""
    if kind == SheetKind.data:
        return None
    entered = not_applicable = 0
    scored = scored_max = Decimal(0)
    for leaf in leaves:
        entry = scores.get(leaf.id) or {}
        if "na" in entry:
            not_applicable += 1
            continue
        if "tier" in entry:
            coefficient = leaf.coefficient(entry["tier"])
            points = None if coefficient is None else leaf.points * coefficient
        else:
            points = decimal_text(str(entry.get("points", "")))
        if points is None:
            continue
        entered += 1
        scored += points
        scored_max += leaf.points
    return SheetSubtotal(len(leaves), entered, not_applicable, scored, scored_max)


def _parse_points(leaf: Leaf, raw: str, reason: str, parsed: ParsedSheet) -> None:
    if not raw:
        if reason:
            parsed.scores[leaf.id] = {"reason": reason}
        parsed.pending[leaf.id] = _("Enter the points.")
        return
    value = decimal_text(raw)
    if value is None or value.as_tuple().exponent < -2:
        parsed.errors[leaf.id] = _("Enter points as a number with at most two decimals, e.g. "
                                   "12.5.")
        return
    if not Decimal(0) <= value <= leaf.points:
        parsed.errors[leaf.id] = _("The points must be between 0 and the maximum %(max)s.",
                                   max=plain(leaf.points))
        return
    entry = {"points": plain(value)}
    if reason:
        entry["reason"] = reason
    parsed.scores[leaf.id] = entry
    if value < leaf.points and not reason:
        parsed.pending[leaf.id] = _("A score below the maximum of %(max)s needs a reason for "
                                    "the deduction (扣分理由).", max=plain(leaf.points))


def _parse_tier(leaf: Leaf, raw: str, reason: str, parsed: ParsedSheet) -> None:
    if not raw:
        if reason:
            parsed.scores[leaf.id] = {"reason": reason}
        parsed.pending[leaf.id] = _("Choose a tier.")
        return
    coefficient = leaf.coefficient(raw)
    if coefficient is None:
        parsed.errors[leaf.id] = _("Choose one of the tiers: %(tiers)s.",
                                   tiers=" / ".join(t["name"] for t in leaf.tiers))
        return
    entry = {"tier": raw}
    if reason:
        entry["reason"] = reason
    parsed.scores[leaf.id] = entry
    if coefficient < leaf.top_coefficient and not reason:
        parsed.pending[leaf.id] = _("A tier below the top one needs a reason for the deduction "
                                    "(扣分理由).")


#: The most a measured ratio may be (10 = 1,000 %): a rate such as 完成率 may pass 100 %, but
#: not by this much. A ratio is typed in percent, so the form refuses a figure above 1,000.
RATIO_CEILING = Decimal(10)
PERCENT_CEILING = RATIO_CEILING.scaleb(2)
#: A rate typed as 1 % or less (``ratios.likely_fraction``) where the leaf's target (or top
#: band) is above 10 % is said back to the scorer: it may be a fraction of one (0.95) typed for
#: a percentage (95).
LIKELY_FRACTION_SCALE = Decimal("0.1")


def _parse_datum(leaf: Leaf, raw: str, source: str, parsed: ParsedSheet) -> None:
    if not raw:
        if source:
            parsed.scores[leaf.id] = {"source": source}
        parsed.pending[leaf.id] = _("Enter the measured value.")
        return
    if leaf.is_ratio:
        # typed in percent (95 for 95 %) and kept as the fraction of one the engine reads
        value = percent_to_ratio(raw)
        if value is None or value < 0 or value > RATIO_CEILING:
            parsed.errors[leaf.id] = _(
                "%(field)s is typed in percent: enter a number from 0 to %(ceiling)s, e.g. 95 "
                "for %(example)s (the %% sign may be left out).", field=leaf.name,
                ceiling=percent(plain(PERCENT_CEILING)), example=percent(95))
            return
    else:
        value = decimal_text(raw)
        if value is None or value < 0:
            parsed.errors[leaf.id] = _("Enter the measured value as a number of 0 or more.")
            return
    entry = {"value": plain(value)}
    if source:
        entry["source"] = source
    parsed.scores[leaf.id] = entry
    if leaf.is_ratio and likely_fraction(value) and leaf.scale > LIKELY_FRACTION_SCALE:
        # 0.95 or 1 typed as a fraction of one, as the form once asked: taken as typed
        # (a rate of 0.95 % can be real), but said back so that a slip shows
        parsed.notes[leaf.id] = read_as(value)
    if not source:
        parsed.pending[leaf.id] = _("Name the source of this figure, e.g. the service ledger.")


def form_values(sheet: Scoresheet | None, leaves: list[Leaf] | None = None) -> dict[str, str]:
    """The stored scores as form fields, to fill the form again; a ratio among ``leaves``
    (the sheet's) in percent, as it is typed (stored 0.9746 → 97.46)."""
    values: dict[str, str] = {}
    ratios = {leaf.id for leaf in leaves or () if leaf.is_ratio}
    for leaf_id, entry in ((sheet.scores if sheet else {}) or {}).items():
        if "na" in entry:
            values[f"na-{leaf_id}"] = "1"
            values[f"na_reason-{leaf_id}"] = entry["na"]
            # what a draft kept of the leaf's other fields while it is not applicable, as typed
            for name, text in (entry.get("set_aside") or {}).items():
                if name in SET_ASIDE_FIELDS:
                    values[f"{name}-{leaf_id}"] = str(text)
            continue
        value = entry.get("points", entry.get("tier", entry.get("value", "")))
        if leaf_id in ratios and "value" in entry:
            value = ratio_as_percent(value)
        values[f"value-{leaf_id}"] = str(value)
        values[f"reason-{leaf_id}"] = entry.get("reason", "")
        values[f"source-{leaf_id}"] = entry.get("source", "")
    return values


# ---------------------------------------------------------------- drafts, submission, reopening


def _editable(session: Session, principal, evaluation_id: int, sheet_id: int
              ) -> tuple[Evaluation, Scoresheet]:
    evaluation = evaluations.get(session, evaluation_id)
    sheet = get(session, evaluation.id, sheet_id)
    if not can_edit(session, principal, sheet, evaluation):
        raise PermissionDenied(_("This is not your sheet to fill."))
    if sheet.status == SheetStatus.submitted:
        raise Conflict(_("This sheet was submitted on %(at)s and is locked; only finance can "
                         "reopen it.", at=_local(sheet.submitted_at)))
    _require_filling(evaluation)
    return evaluation, sheet


def _local(moment) -> str:
    return as_utc(moment).astimezone(evaluations.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


class SheetChanged(Conflict):
    """A draft or submission refused because the sheet was saved since its form was loaded
    (版本冲突): by a colleague of the same firm or department, or by the same scorer in
    another window. ``saved`` says who saved it and when, in the reader's language;
    ``version`` is the stored version. Nothing was saved."""

    def __init__(self, saved: str, version: int):
        super().__init__(_("%(saved)s Nothing was saved, so as not to overwrite it: reload the "
                           "sheet and try again.", saved=saved))
        self.saved = saved
        self.version = version


def _saved_by(session: Session, principal, sheet: Scoresheet) -> str:
    """Who saved the stored version of the sheet and when: the principal (in another window),
    a colleague of the principal's organisation by name, or else someone unnamed (an expert's
    name is not shown to another scorer)."""
    at = _local(sheet.updated_at)
    if sheet.updated_by is not None and sheet.updated_by == principal.actor.id:
        return _("You saved a newer version of this sheet in another window at %(time)s.",
                 time=at)
    saver = session.get(User, sheet.updated_by) if sheet.updated_by is not None else None
    if saver is not None and saver.organisation_id is not None \
            and saver.organisation_id == principal.organisation_id:
        return _("%(name)s saved a newer version of this sheet at %(time)s.",
                 name=saver.display_name, time=at)
    return _("A newer version of this sheet was saved at %(time)s, by a colleague or in "
             "another window.", time=at)


def _store(session: Session, principal, sheet: Scoresheet, expected_version: int | None,
           values: dict) -> None:
    version = sheet.version if expected_version is None else expected_version
    changed = session.execute(update(Scoresheet).where(
        Scoresheet.id == sheet.id, Scoresheet.version == version,
        Scoresheet.status == SheetStatus.draft).values(version=version + 1, **values))
    if changed.rowcount != 1:
        session.rollback()
        session.refresh(sheet)  # as stored now
        if sheet.status == SheetStatus.submitted:
            raise Conflict(_("This sheet was submitted on %(at)s and is locked; only finance "
                             "can reopen it.", at=_local(sheet.submitted_at)))
        raise SheetChanged(_saved_by(session, principal, sheet), sheet.version)


def _same_figure(leaf: Leaf, kind: SheetKind, typed: str, stored: str) -> bool:
    """Whether a typed value and a stored one (as :func:`form_values` gives it) are the same
    entry: figures as numbers (12 and 12.00; a rate 95 and 95%), a tier by its name."""
    if typed == stored:
        return True
    if not typed or not stored:
        return False
    if kind == SheetKind.data and leaf.is_ratio:
        a, b = percent_to_ratio(typed), percent_to_ratio(stored)
    else:
        a, b = decimal_text(typed), decimal_text(stored)
    return a is not None and b is not None and a == b


def differences(sheet: Scoresheet, leaves: list[Leaf], form: dict) -> list[str]:
    """The leaves (ids, in sheet order) where what is typed in ``form`` differs from the stored
    sheet: what a refused save (:class:`SheetChanged`) would have replaced. A leaf differs by
    its 不适用 tick, its value, reason or source (kept beside a 不适用 in a draft too) and, when
    not applicable, its reason why; texts are compared trimmed."""
    stored = form_values(sheet, leaves)
    found = []
    for leaf in leaves:
        def typed(name: str, leaf: Leaf = leaf) -> str:
            return str(form.get(f"{name}-{leaf.id}") or "").strip()

        def kept(name: str, leaf: Leaf = leaf) -> str:
            return str(stored.get(f"{name}-{leaf.id}") or "").strip()

        na = typed("na") in ("1", "on", "true")
        same = (na == (kept("na") == "1")
                and _same_figure(leaf, sheet.kind, typed("value"), kept("value"))
                and typed("reason") == kept("reason") and typed("source") == kept("source")
                and (not na or typed("na_reason") == kept("na_reason")))
        if not same:
            found.append(leaf.id)
    return found


#: The fields of a leaf declared not applicable that a draft keeps beside the n/a, as typed.
SET_ASIDE_FIELDS = ("value", "reason", "source")


def _with_set_aside(entry: dict, form: dict, leaf_id: str) -> dict:
    """A draft's not-applicable entry with what was typed into the leaf's other fields kept
    beside it (``{"na": reason, "set_aside": {"value": "12", "reason": "…"}}``), so that
    unticking 不适用 brings them back. Only :func:`form_values` reads ``set_aside``: the
    subtotal, the package (:func:`package_score`) and submission see the n/a alone."""
    if "na" not in entry:
        return entry
    typed = {name: str(form.get(f"{name}-{leaf_id}") or "").strip() for name in SET_ASIDE_FIELDS}
    typed = {name: text for name, text in typed.items() if text}
    return {"na": entry["na"], "set_aside": typed} if typed else {"na": entry["na"]}


def save_draft(session: Session, principal, evaluation_id: int, sheet_id: int, form: dict,
               expected_version: int | None = None, *, whole: bool = False
               ) -> tuple[Scoresheet, ParsedSheet]:
    """Keep the sheet as typed; a missing reason or value is allowed in a draft.

    An indicator whose input is refused (a number out of range, an unknown tier) keeps its
    last saved entry and is named in ``parsed.errors``; the sheet's other indicators are
    saved, so one mistyped figure does not hold back the rest of a draft (submission still
    needs every indicator valid). A field of an indicator that is not on this sheet (another
    part's, a data or survey indicator, an unknown one) saves nothing.

    ``whole=True`` (the JSON API, whose caller sends the sheet at once and is answered at
    once) saves all or nothing: any refused indicator refuses the whole draft."""
    evaluation, sheet = _editable(session, principal, evaluation_id, sheet_id)
    doc = evaluations.scheme_document(session, evaluation)
    part = part_of(doc, sheet.part_id)
    parsed = parse_form(doc, part, sheet.kind, form)
    own = {leaf.id for leaf in sheet_leaves(part, sheet.kind)}
    if set(parsed.errors) - own or (whole and parsed.errors):
        raise ValidationFailed(parsed.errors)
    kept = sheet.scores or {}
    for leaf_id in parsed.errors:  # refused: the last saved entry stays
        parsed.pending.pop(leaf_id, None)
        if leaf_id in kept:
            parsed.scores[leaf_id] = kept[leaf_id]
    scores = {leaf_id: _with_set_aside(entry, form, leaf_id)
              for leaf_id, entry in parsed.scores.items()}
    _store(session, principal, sheet, expected_version, {
        "scores": scores, "updated_by": principal.actor.id, "updated_at": now()})
    session.commit()
    session.refresh(sheet)
    return sheet, parsed


def submit(session: Session, principal, evaluation_id: int, sheet_id: int, form: dict,
           expected_version: int | None = None) -> Scoresheet:
    """Check the whole sheet, run the avoidance check again for an expert, and lock it."""
    evaluation, sheet = _editable(session, principal, evaluation_id, sheet_id)
    seat = panel.seat_of(session, principal, evaluation.id)
    if seat is not None and sheet.kind in (SheetKind.expert, SheetKind.data):
        expert = session.get(Expert, seat.expert_id)
        reasons = experts.avoidance_reasons(session, expert, evaluation, projects.today())
        if reasons:
            raise Conflict(_("You must be avoided for this evaluation (%(reasons)s), so the "
                             "sheet cannot be submitted. Please tell the organiser.",
                             reasons="; ".join(experts.reason_text(r) for r in reasons)))
    doc = evaluations.scheme_document(session, evaluation)
    parsed = parse_form(doc, part_of(doc, sheet.part_id), sheet.kind, form)
    if parsed.errors or parsed.pending:
        raise ValidationFailed({**parsed.pending, **parsed.errors})
    moment = now()
    _store(session, principal, sheet, expected_version, {
        "scores": parsed.scores, "status": SheetStatus.submitted, "updated_by": principal.actor.id,
        "updated_at": moment, "submitted_by": principal.actor.id, "submitted_at": moment,
        "reopen_request": "", "reopen_requested_by": None})
    late = moment > as_utc(evaluation.closes_at)
    audit.record(session, principal.actor, "scoresheet.submit", "scoresheet", sheet.id,
                 {"evaluation": evaluation.id, "part": sheet.part_id, "scorer": sheet.scorer_key,
                  "kind": sheet.kind.value, "scores": parsed.scores, "late": late})
    session.commit()
    session.refresh(sheet)
    return sheet


def reopen(session: Session, principal, evaluation_id: int, sheet_id: int, reason: str
           ) -> Scoresheet:
    """Finance unlocks a submitted sheet, with a reason that is recorded (复核)."""
    evaluation = evaluations.get(session, evaluation_id)
    sheet = get(session, evaluation.id, sheet_id)
    if principal.role != Role.finance:
        raise PermissionDenied(_("Only finance reopens a submitted sheet."))
    if sheet.status != SheetStatus.submitted:
        raise Conflict(_("Only a submitted sheet can be reopened."))
    if evaluation.status not in FILLING:
        raise Conflict(_("The evaluation is %(status)s: reopen the evaluation itself before one "
                         "of its sheets.", status=evaluations.status_label(evaluation.status)))
    if not reason.strip():
        raise ValidationFailed({"reason": _("A reason is required to reopen a sheet.")})
    _reopen_sheet(session, principal.actor, evaluation, sheet, reason.strip())
    session.commit()
    session.refresh(sheet)
    return sheet


def _reopen_sheet(session: Session, actor, evaluation: Evaluation, sheet: Scoresheet,
                  reason: str, leaves: list[str] | None = None) -> None:
    """Unlock a submitted sheet, its reason (and the leaves to score again) recorded where the
    scorer reads them (:func:`last_reopening`); the caller's transaction, not committed."""
    before = dict(sheet.scores)
    sheet.status = SheetStatus.draft
    sheet.version += 1
    sheet.reopen_count += 1
    sheet.submitted_at = None
    sheet.submitted_by = None
    request = sheet.reopen_request
    sheet.reopen_request, sheet.reopen_requested_by = "", None
    session.add(sheet)
    audit.record(session, actor, "scoresheet.reopen", "scoresheet", sheet.id,
                 {"evaluation": evaluation.id, "scorer": sheet.scorer_key, "reason": reason,
                  "requested": request, "leaves": leaves or [], "scores_before": before})


def reopen_for_appeal(session: Session, actor, evaluation_id: int, leaves: list[str],
                      reason: str) -> list[Scoresheet]:
    """An appeal decided by reopening indicators (申诉复核): every submitted sheet that scores
    one of ``leaves`` goes back to its scorer as a draft, with the decision as its reason and
    the leaves named, so the scorers have something to do and know what. Leaves scored from
    the survey are on no sheet. The caller's transaction, not committed."""
    evaluation = evaluations.get(session, evaluation_id)
    doc = evaluations.scheme_document(session, evaluation)
    reopened = []
    for sheet in session.exec(select(Scoresheet).where(
            Scoresheet.evaluation_id == evaluation.id,
            Scoresheet.status == SheetStatus.submitted).order_by(Scoresheet.id)):
        scored = {leaf.id for leaf in sheet_leaves(part_of(doc, sheet.part_id), sheet.kind)}
        named = [leaf for leaf in leaves if leaf in scored]
        if named:
            _reopen_sheet(session, actor, evaluation, sheet, reason, named)
            reopened.append(sheet)
    return reopened


@dataclass(frozen=True)
class Reopening:
    """Why a sheet came back to its scorer (退回重评): when, the reason, the organiser's
    request it answered, and the leaves to score again (on an appeal)."""

    at: Any
    reason: str
    requested: str
    leaves: list[str]


def last_reopening(session: Session, sheet: Scoresheet) -> Reopening | None:
    """The latest reopening of a sheet that is a draft again, from the audit trail; none for a
    sheet never submitted or submitted again since."""
    if sheet.status != SheetStatus.draft or not sheet.reopen_count:
        return None
    entry = session.exec(select(AuditEntry).where(
        AuditEntry.entity_type == "scoresheet", AuditEntry.entity_id == str(sheet.id),
        AuditEntry.action == "scoresheet.reopen").order_by(col(AuditEntry.seq).desc())).first()
    if entry is None:
        return None
    change = json.loads(entry.change or "{}")
    return Reopening(entry.at, change.get("reason", ""), change.get("requested", ""),
                     list(change.get("leaves") or []))


def second_look_open(evaluation: Evaluation) -> bool:
    """Whether the organiser may still ask for a sheet to be reopened: while the sheets are
    filled, and once computed (the organiser can reopen a computed result itself); a
    published or final result is reopened by finance or questioned by appeal."""
    return evaluation.status in (*FILLING, EvaluationStatus.computed)


def may_ask_back(session: Session, principal, sheet: Scoresheet, evaluation: Evaluation) -> bool:
    """Whether the sheet's own scorer (not the organiser, who asks for a second look) may ask
    finance for the submitted sheet back (:func:`request_reopen`): once, while a second look
    may still be asked for."""
    return (sheet.status == SheetStatus.submitted and not sheet.reopen_request
            and principal.role in (Role.evaluator, Role.purchaser)
            and second_look_open(evaluation)
            and can_edit(session, principal, sheet, evaluation)
            and not panel.is_organiser(session, principal, evaluation))


def request_reopen(session: Session, principal, evaluation_id: int, sheet_id: int, reason: str
                   ) -> Scoresheet:
    """The organiser asks finance for a second look at a submitted sheet (复核申请), or the
    sheet's own scorer asks for it back, having found a mistake after submitting it; finance
    decides (:func:`reopen`)."""
    evaluation = evaluations.get(session, evaluation_id)
    sheet = get(session, evaluation.id, sheet_id)
    if not (panel.is_organiser(session, principal, evaluation)
            or can_edit(session, principal, sheet, evaluation)):
        raise PermissionDenied(_("Only the organiser or the sheet's own scorer asks for a sheet "
                                 "to be reopened."))
    if sheet.status != SheetStatus.submitted:
        raise Conflict(_("Only a submitted sheet can be reopened."))
    if not second_look_open(evaluation):
        raise Conflict(_("A second look at a sheet is asked for while the evaluation collects, "
                         "scores or is computed; it is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    if not reason.strip():
        raise ValidationFailed({"reason": _("Say what the scorer should look at again.")})
    sheet.reopen_request = reason.strip()
    sheet.reopen_requested_by = principal.actor.id
    session.add(sheet)
    audit.record(session, principal.actor, "scoresheet.reopen_request", "scoresheet", sheet.id,
                 {"evaluation": evaluation.id, "scorer": sheet.scorer_key,
                  "reason": reason.strip()})
    session.commit()
    session.refresh(sheet)
    return sheet


# ---------------------------------------------------------------- files


def _store_upload(data: bytes, filename: str) -> files.StoredFile:
    return files.store(data, filename, field="file", allowed=UPLOAD_KINDS)


def upload_acceptable(data: bytes) -> bool:
    """Whether a report or evidence upload would be taken (its kind and size)."""
    return files.acceptable(data, UPLOAD_KINDS)


def add_evidence(session: Session, principal, evaluation_id: int, sheet_id: int, leaf_id: str,
                 data: bytes, filename: str) -> ScoringFile:
    """Attach an evidence file (佐证材料) to a draft sheet, for one leaf or the whole sheet."""
    evaluation, sheet = _editable(session, principal, evaluation_id, sheet_id)
    doc = evaluations.scheme_document(session, evaluation)
    leaf_id = (leaf_id or "").strip() or None
    if leaf_id and leaf_id not in {x.id for x in sheet_leaves(part_of(doc, sheet.part_id),
                                                              sheet.kind)}:
        raise ValidationFailed({"leaf_id": _("Choose an indicator of this sheet.")})
    stored = _store_upload(data, filename)
    record = ScoringFile(evaluation_id=evaluation.id, purpose=FilePurpose.evidence,
                         sheet_id=sheet.id, leaf_id=leaf_id, member_id=sheet.member_id,
                         organisation_id=sheet.firm_id, sha256=stored.sha256,
                         filename=stored.filename, file_kind=stored.kind, size=stored.size,
                         uploaded_by=principal.actor.id)
    session.add(record)
    session.flush()
    audit.record(session, principal.actor, "scoresheet.evidence", "scoresheet", sheet.id,
                 {"file": record.id, "leaf": leaf_id, "sha256": stored.sha256,
                  "filename": stored.filename})
    session.commit()
    session.refresh(record)
    return record


#: A report is handed in, and withdrawn, while the evaluation collects, scores or is computed.
REPORT_OPEN = (*FILLING, EvaluationStatus.computed)


def report_open(evaluation: Evaluation) -> bool:
    return evaluation.status in REPORT_OPEN


def upload_report(session: Session, principal, evaluation_id: int, data: bytes, filename: str
                  ) -> ScoringFile:
    """The third party's evaluation report (第三方评价报告), PDF or DOCX by its bytes. After a
    withdrawal (:func:`withdraw_report`) the next upload is the replacement."""
    evaluation = evaluations.get(session, evaluation_id)
    seat = panel.seat_of(session, principal, evaluation.id)
    firm = panel.firm_of(session, principal, evaluation.id)
    if seat is None and firm is None:
        raise PermissionDenied(_("Only the assigned third party hands in the evaluation report."))
    if not report_open(evaluation):
        raise Conflict(_("The report is handed in while the evaluation collects, scores or is "
                         "computed; it is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    stored = _store_upload(data, filename)
    record = ScoringFile(evaluation_id=evaluation.id, purpose=FilePurpose.report,
                         organisation_id=firm.organisation_id if firm else None,
                         member_id=seat.id if seat and not firm else None, sha256=stored.sha256,
                         filename=stored.filename, file_kind=stored.kind, size=stored.size,
                         uploaded_by=principal.actor.id)
    session.add(record)
    session.flush()
    audit.record(session, principal.actor, "evaluation.report", "evaluation", evaluation.id,
                 {"file": record.id, "sha256": stored.sha256, "filename": stored.filename})
    session.commit()
    session.refresh(record)
    return record


def handed_in_by(session: Session, principal, record: ScoringFile) -> bool:
    """Whether the principal is the third party that handed the report in: its firm (any of
    the firm's staff) or its panel seat, as :func:`upload_report` recorded it."""
    seat = panel.seat_of(session, principal, record.evaluation_id)
    firm = panel.firm_of(session, principal, record.evaluation_id)
    return (firm is not None and record.organisation_id is not None
            and firm.organisation_id == record.organisation_id) or (
        seat is not None and record.member_id is not None and seat.id == record.member_id)


def withdraw_report(session: Session, principal, evaluation_id: int, file_id: int, reason: str
                    ) -> ScoringFile:
    """The third party withdraws a report it handed in by mistake (撤回评价报告).

    Only the firm or panel seat that handed it in, only while a report may be handed in (the
    evaluation collects, scores or is computed), with a reason (``reason``, at most
    :data:`MAX_REASON` characters). The file is kept, never deleted: it is marked withdrawn with
    who, when and why, shown so to the evaluation's readers and no longer counted as the
    report; uploading a new report replaces it. Audited as ``evaluation.report_withdrawn``.
    """
    evaluation = evaluations.get(session, evaluation_id)
    record = session.get(ScoringFile, file_id)
    if record is None or record.evaluation_id != evaluation.id \
            or record.purpose != FilePurpose.report:
        raise NotFound(_("This evaluation has no such report."))
    if not handed_in_by(session, principal, record):
        raise PermissionDenied(_("Only the third party that handed in a report withdraws it."))
    if record.withdrawn_at is not None:
        raise Conflict(_("This report was already withdrawn on %(day)s.",
                         day=_local_day(record.withdrawn_at)))
    if not report_open(evaluation):
        raise Conflict(_("A report is withdrawn while the evaluation collects, scores or is "
                         "computed; it is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed({"reason": _(
            "%(field)s: %(problem)s", field=_("Reason for withdrawing the report"),
            problem=_("Required: the readers of the evaluation see why it was withdrawn."))})
    if len(text) > MAX_REASON:
        raise ValidationFailed({"reason": _too_long(_("Reason for withdrawing the report"), text,
                                                    MAX_REASON)})
    moved = session.execute(
        update(ScoringFile).where(ScoringFile.id == record.id,
                                  col(ScoringFile.withdrawn_at).is_(None))
        .values(withdrawn_at=now(), withdrawn_by=principal.actor.id, withdrawal_reason=text))
    if moved.rowcount != 1:  # withdrawn a moment ago by a colleague of the firm
        session.rollback()
        raise Conflict(_("This report was withdrawn a moment ago; reload the page."))
    audit.record(session, principal.actor, "evaluation.report_withdrawn", "evaluation",
                 evaluation.id, {"file": record.id, "sha256": record.sha256,
                                 "filename": record.filename, "reason": text})
    session.commit()
    session.refresh(record)
    return record


def _local_day(moment) -> str:
    return as_utc(moment).astimezone(projects.LOCAL_TZ).date().isoformat() if moment else ""


@dataclass
class ReportRow:
    """A handed-in report as the pages list it: the file, who handed it in, and, once
    withdrawn, who withdrew it (when and why are on the file)."""

    file: ScoringFile
    uploaded_by: str
    withdrawn_by: str

    @property
    def withdrawn(self) -> bool:
        return self.file.withdrawn_at is not None


def report_rows(session: Session, evaluation_id: int) -> list[ReportRow]:
    """Every report handed in for the evaluation, the current ones first (oldest first), then
    the withdrawn ones, kept and shown struck through."""
    records = files_of(session, evaluation_id, FilePurpose.report)
    ids = {r.uploaded_by for r in records} | {r.withdrawn_by for r in records}
    names = {u.id: u.display_name for u in session.exec(
        select(User).where(col(User.id).in_([i for i in ids if i is not None] or [-1])))}
    rows = [ReportRow(r, names.get(r.uploaded_by, ""), names.get(r.withdrawn_by, ""))
            for r in records]
    return [r for r in rows if not r.withdrawn] + [r for r in rows if r.withdrawn]


def current_reports(session: Session, evaluation_id: int) -> list[ScoringFile]:
    """The reports that count as the evaluation's report: handed in and not withdrawn."""
    return [r for r in files_of(session, evaluation_id, FilePurpose.report)
            if r.withdrawn_at is None]


def files_of(session: Session, evaluation_id: int, purpose: FilePurpose | None = None, *,
             sheet_id: int | None = None) -> list[ScoringFile]:
    statement = select(ScoringFile).where(ScoringFile.evaluation_id == evaluation_id)
    if purpose is not None:
        statement = statement.where(ScoringFile.purpose == purpose)
    if sheet_id is not None:
        statement = statement.where(ScoringFile.sheet_id == sheet_id)
    return list(session.exec(statement.order_by(ScoringFile.uploaded_at, ScoringFile.id)))


def _third_party_of(session: Session, principal, evaluation: Evaluation) -> bool:
    return (panel.seat_of(session, principal, evaluation.id) is not None
            or panel.firm_of(session, principal, evaluation.id) is not None)


def readable_file(session: Session, principal, evaluation_id: int, file_id: int) -> ScoringFile:
    """A file of the evaluation the principal may download (else NotFound)."""
    evaluation = evaluations.get(session, evaluation_id)
    record = session.get(ScoringFile, file_id)
    if record is None or record.evaluation_id != evaluation.id:
        raise NotFound(_("No such file."))
    insider = principal.role in (Role.finance, Role.auditor) or _purchaser_of(
        session, principal, evaluation)
    allowed = insider
    if record.purpose == FilePurpose.evidence and not allowed:
        sheet = session.get(Scoresheet, record.sheet_id)
        allowed = sheet is not None and can_edit(session, principal, sheet, evaluation)
    elif record.purpose == FilePurpose.report and not allowed:
        seat = panel.seat_of(session, principal, evaluation.id)
        firm = panel.firm_of(session, principal, evaluation.id)
        allowed = (firm is not None and firm.organisation_id == record.organisation_id) or (
            seat is not None and seat.id == record.member_id)
    elif record.purpose == FilePurpose.self_evaluation and not allowed:
        allowed = (principal.role == Role.supplier
                   and principal.organisation_id == evaluations.supplier_of(session, evaluation)
                   ) or _third_party_of(session, principal, evaluation)
    if not allowed:
        raise NotFound(_("No such file."))
    return record


# ---------------------------------------------------------------- the supplier's self-evaluation


def self_evaluation_of(session: Session, evaluation_id: int) -> SelfEvaluation | None:
    return session.exec(select(SelfEvaluation).where(
        SelfEvaluation.evaluation_id == evaluation_id)).first()


def self_evaluation_closed(session: Session, evaluation: Evaluation) -> bool:
    """Whether a result of the evaluation was ever published: scoring reopened afterwards (on
    an appeal) does not reopen the self-evaluation, which the scorers would read as written
    before they scored, not after the supplier saw its marks."""
    return session.exec(select(EvaluationResult.id).where(
        EvaluationResult.evaluation_id == evaluation.id,
        col(EvaluationResult.published_at).is_not(None))).first() is not None


def save_self_evaluation(session: Session, principal, evaluation_id: int, values: dict,
                         upload: tuple[bytes, str] | None = None) -> SelfEvaluation:
    """The supplier's self-evaluation (自评): a summary, its own score, a report; never scored."""
    evaluation = evaluations.get(session, evaluation_id)
    supplier_id = evaluations.supplier_of(session, evaluation)
    if principal.role != Role.supplier or principal.organisation_id != supplier_id:
        raise PermissionDenied(_("Only the contracted supplier hands in its self-evaluation."))
    if evaluation.status not in FILLING:
        raise Conflict(_("The self-evaluation is handed in while the evaluation collects and "
                         "scores; it is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    if self_evaluation_closed(session, evaluation):
        raise Conflict(_("A result of this evaluation has been published, so the "
                         "self-evaluation the scorers read is closed: what you have to say "
                         "about the result belongs in an appeal."))
    errors: dict[str, str] = {}
    summary = str(values.get("summary") or "").strip()
    if not summary:
        errors["summary"] = _("Summarise how the service went against its targets.")
    elif len(summary) > MAX_SELF_SUMMARY:
        errors["summary"] = _too_long(_("How the service went against its targets"), summary,
                                      MAX_SELF_SUMMARY)
    claimed = str(values.get("claimed_total") or "").strip()
    claimed_value = None
    if claimed:
        claimed_value = decimal_text(claimed)
        if claimed_value is None or not 0 <= claimed_value <= 100 \
                or claimed_value.as_tuple().exponent < -2:
            errors["claimed_total"] = _("Your own score is a number from 0 to 100 with at most "
                                        "two decimals.")
    stored = None
    if upload is not None and upload[0]:
        try:
            stored = _store_upload(*upload)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    record = self_evaluation_of(session, evaluation.id) or SelfEvaluation(
        evaluation_id=evaluation.id, organisation_id=supplier_id)
    record.summary = summary
    record.claimed_total = plain(claimed_value) if claimed_value is not None else None
    record.updated_by = principal.actor.id
    record.updated_at = now()
    session.add(record)
    session.flush()
    change: dict[str, Any] = {"summary": summary, "claimed_total": record.claimed_total}
    if stored is not None:
        upload_record = ScoringFile(evaluation_id=evaluation.id,
                                    purpose=FilePurpose.self_evaluation,
                                    organisation_id=supplier_id, sha256=stored.sha256,
                                    filename=stored.filename, file_kind=stored.kind,
                                    size=stored.size, uploaded_by=principal.actor.id)
        session.add(upload_record)
        change["file"] = {"sha256": stored.sha256, "filename": stored.filename}
    audit.record(session, principal.actor, "evaluation.self_evaluation", "evaluation",
                 evaluation.id, change)
    session.commit()
    session.refresh(record)
    return record


# ---------------------------------------------------------------- progress (for the organiser)


@dataclass
class ProgressRow:
    part: dict
    kind: SheetKind
    code: str
    who: str
    contact: str
    sheet: Scoresheet | None
    late: bool  # not submitted and the due date has passed
    submitted_late: bool

    @property
    def state(self) -> str:
        if self.sheet is None:
            return "not_started"
        return self.sheet.status.value


@dataclass
class Progress:
    due: Any
    overdue: bool
    rows: list[ProgressRow]
    awaiting: bool = True  # the evaluation still waits for sheets

    @property
    def submitted(self) -> int:
        return sum(1 for r in self.rows if r.state == "submitted")

    @property
    def reminders(self) -> list[ProgressRow]:
        if not self.awaiting:
            return []
        return [r for r in self.rows if r.state != "submitted"]


def _firm_contact(session: Session, organisation_id: int) -> str:
    users = session.exec(select(User).where(User.organisation_id == organisation_id,
                                            User.role == Role.evaluator,
                                            col(User.active).is_(True))).all()
    return "、".join(u.display_name for u in users)


def progress(session: Session, evaluation: Evaluation) -> Progress:
    """Who has scored, who has not, against the due date (the evaluation's closing time).
    Lateness and reminders concern an evaluation that still waits for its sheets; once its
    result is computed, a sheet not handed in is no longer late, only absent."""
    doc = evaluations.scheme_document(session, evaluation)
    due = as_utc(evaluation.closes_at)
    moment = now()
    awaiting = evaluation.status in FILLING
    overdue = awaiting and moment > due
    sheets = {(s.part_id, s.scorer_key): s for s in sheets_of(session, evaluation.id)}
    rows: list[ProgressRow] = []

    def add(part, kind, code, who, contact):
        sheet = sheets.get((part["id"], code))
        submitted = sheet is not None and sheet.status == SheetStatus.submitted
        rows.append(ProgressRow(part, kind, code, who, contact, sheet,
                                late=overdue and not submitted,
                                submitted_late=submitted and as_utc(sheet.submitted_at) > due))

    seated = [r for r in panel.member_rows(session, evaluation.id)
              if r.member.status == MemberStatus.seated]
    assigned = panel.firms(session, evaluation.id)
    department = session.get(Organisation, evaluations.project_of(session, evaluation)
                             .department_id)
    for part in parts(doc):
        third = part.get("party") == "third_party"
        if leaves_of(part, SHEET_RULES):
            if third:
                for row in seated:
                    add(part, SheetKind.expert, row.code, row.expert.name,
                        " / ".join(x for x in (row.expert.phone, row.expert.email) if x))
                for assignment, organisation in assigned:
                    add(part, SheetKind.firm, panel.firm_code(session, assignment),
                        organisation.name, _firm_contact(session, organisation.id))
            elif part.get("party") == "purchaser":
                occasions = [s for s in sheets.values()
                             if s.part_id == part["id"] and s.kind == SheetKind.occasion]
                for sheet in sorted(occasions, key=lambda s: s.id):
                    add(part, SheetKind.occasion, sheet.scorer_key,
                        f"{department.name} · {sheet.label}", "")
                if not occasions:
                    add(part, SheetKind.occasion, "", department.name, "")
        if leaves_of(part, DATA_RULES):
            if third:
                who = "、".join(o.name for _a, o in assigned) or _("the expert panel")
            else:
                who = department.name
            add(part, SheetKind.data, DATA_KEY, who, "")
    return Progress(due, overdue, rows, awaiting)


def panel_gaps(session: Session, evaluation: Evaluation) -> list[str]:
    """Why the panel cannot yet give a result, one line each: an empty seat (a member left and
    no alternate was there to take it, so the panel is below the size it was drawn at), or a
    seated expert or an assigned firm whose sheet of a part is not submitted. A panel is
    odd-sized and at least its minimum only when every seat it was drawn with scores."""
    found = []
    empty = panel.vacancies(session, evaluation.id)
    if empty:
        found.append(ngettext(
            "The panel has %(num)s empty seat of the %(size)s it was drawn with, and no "
            "alternate is left: draw again to fill it.",
            "The panel has %(num)s empty seats of the %(size)s it was drawn with, and no "
            "alternate is left: draw again to fill them.", empty,
            size=panel.planned_size(session, evaluation.id)))
    for row in progress(session, evaluation).rows:
        if row.kind in (SheetKind.expert, SheetKind.firm) and row.state != "submitted":
            found.append(_("%(part)s: %(scorer)s (%(who)s) has not submitted a sheet; wait for "
                           "it, or record that the expert declines or is recused so that an "
                           "alternate takes the seat.", part=row.part.get("name") or row.part["id"],
                           scorer=row.code, who=row.who))
    return found


# ---------------------------------------------------------------- the package's inputs


def _counted(session: Session, sheet: Scoresheet) -> bool:
    """A submitted sheet counts unless its expert left the panel or its firm was withdrawn."""
    if sheet.status != SheetStatus.submitted:
        return False
    if sheet.kind == SheetKind.expert:
        member = session.get(PanelMember, sheet.member_id)
        return member is not None and member.status == MemberStatus.seated
    if sheet.kind == SheetKind.firm:
        assignment = session.exec(select(PanelFirm).where(
            PanelFirm.evaluation_id == sheet.evaluation_id,
            PanelFirm.organisation_id == sheet.firm_id)).first()
        return assignment is not None and assignment.active
    return True


def package_score(entry: dict) -> Any:
    """A stored score in the scoring package's format."""
    if "na" in entry:
        return {"na": entry["na"]}
    if "tier" in entry:
        return {"tier": entry["tier"], "reason": entry["reason"]} if entry.get("reason") \
            else entry["tier"]
    if entry.get("reason"):
        return {"points": entry["points"], "reason": entry["reason"]}
    return entry["points"]


def package_datum(entry: dict) -> Any:
    if "na" in entry:
        return {"na": entry["na"]}
    return {"value": entry["value"], "source": entry.get("source", "")}


def contribution(session: Session, evaluation: Evaluation) -> evaluation_inputs.Contribution:
    """The submitted sheets and measured data, as the scoring package wants them."""
    found = evaluation_inputs.Contribution("scoresheets")
    for sheet in sheets_of(session, evaluation.id):
        if not _counted(session, sheet):
            continue
        if sheet.kind == SheetKind.data:
            found.data.update({leaf: package_datum(entry) for leaf, entry in sheet.scores.items()})
        else:
            found.sheets.append({"part": sheet.part_id, "scorer": sheet.scorer_key,
                                 "scores": {leaf: package_score(entry)
                                            for leaf, entry in sheet.scores.items()}})
    if found.sheets or found.data:
        found.notes.append(_("%(sheets)s submitted scoresheets and %(data)s measured values.",
                             sheets=len(found.sheets), data=len(found.data)))
    return found


@evaluation_inputs.collector("scoresheets")
def _collect(session: Session, evaluation: Evaluation) -> evaluation_inputs.Contribution | None:
    found = contribution(session, evaluation)
    return found if found.sheets or found.data else None


# ---------------------------------------------------------------- consolidation (for the organiser)


@dataclass
class LeafSpread:
    leaf: Leaf
    low: float
    high: float

    @property
    def spread(self) -> float:
        return self.high - self.low

    @property
    def share(self) -> float:
        return self.spread / float(self.leaf.points) if self.leaf.points else 0.0


@dataclass
class SheetLine:
    sheet: Scoresheet
    total: float | None
    chosen: bool


@dataclass
class PartConsolidation:
    """A part's sheets combined by its rule (计分 by ``scoring``) and the panel's agreement."""

    part: dict
    sheets: list[SheetLine] = field(default_factory=list)
    score: float | None = None
    kendall_w: Any = None
    icc: Any = None
    panel_note: str | None = None
    spread: list[LeafSpread] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def weak_w(self) -> bool:
        return self.kendall_w is not None and self.kendall_w.statistic < \
            scoring.THRESHOLDS["kendall_w"]

    @property
    def weak_icc(self) -> bool:
        return self.icc is not None and self.icc.statistic < scoring.THRESHOLDS["icc"]

    @property
    def few_for_trim(self) -> bool:
        return self.part.get("combine") == "trimmed_mean" and 0 < len(self.sheets) < 5


SPREAD_LISTED = 3


def consolidate(session: Session, evaluation: Evaluation) -> list[PartConsolidation]:
    """Each scored part's submitted sheets combined by ``scoring.evaluate`` on a package that
    holds only this source's inputs; Kendall's W and ICC come from the same result."""
    doc = evaluations.scheme_document(session, evaluation)
    inputs = contribution(session, evaluation)
    by_key = {(s.part_id, s.scorer_key): s for s in sheets_of(session, evaluation.id)}
    out = []
    for part in parts(doc):
        leaves = leaves_of(part, SHEET_RULES)
        data_ids = {leaf.id for leaf in leaves_of(part, DATA_RULES)}
        if not leaves and not data_ids:
            continue
        result = PartConsolidation(part)
        out.append(result)
        own_sheets = [s for s in inputs.sheets if s["part"] == part["id"]]
        own_data = {k: v for k, v in inputs.data.items() if k in data_ids}
        if not own_sheets and not own_data:
            continue
        package = evaluation_inputs.build_package(doc, [evaluation_inputs.Contribution(
            "scoresheets", sheets=own_sheets, data=own_data)], package_id=f"sheets-{part['id']}")
        try:
            scored = scoring.evaluate(package)
        except scoring.PackageError as exc:
            result.error = exc.message
            continue
        part_score = next(p for p in scored.parts if p.id == part["id"])
        result.score = part_score.score
        for use in part_score.sheets:
            result.sheets.append(SheetLine(by_key[(part["id"], use.scorer)], use.total,
                                           use.chosen))
        quality = next((q for q in scored.quality.panels if q.part == part["id"]), None)
        if quality is not None:
            result.kendall_w, result.icc, result.panel_note = (quality.kendall_w, quality.icc,
                                                               quality.note)
        spreads = []
        for index, leaf in enumerate(leaves):
            values = [use.scores[index] for use in part_score.sheets
                      if use.scores[index] is not None]
            if len(values) >= 2 and max(values) > min(values):
                spreads.append(LeafSpread(leaf, min(values), max(values)))
        spreads.sort(key=lambda s: (-s.share, s.leaf.id))
        result.spread = spreads[:SPREAD_LISTED]
        names = {leaf.id: leaf.name for leaf in leaves_of(part)}
        for missing in scored.missing:
            if missing.part == part["id"] and missing.source in ("sheet", "sheets", "data"):
                result.missing.append(" ".join(x for x in (
                    missing.scorer or "", missing.leaf or "", names.get(missing.leaf or "", ""))
                    if x))
    return out


# ---------------------------------------------------------------- what a principal fills


@dataclass
class MySlot:
    part: dict
    kind: SheetKind
    sheet: Scoresheet | None


def my_slots(session: Session, principal, evaluation: Evaluation) -> list[MySlot]:
    """The sheets the principal fills on this evaluation (existing or still to start)."""
    doc = evaluations.scheme_document(session, evaluation)
    existing = sheets_of(session, evaluation.id)
    slots = []
    for part in parts(doc):
        for kind in (SheetKind.expert, SheetKind.firm, SheetKind.data):
            if not sheet_leaves(part, kind):
                continue
            try:
                seat, firm = slot_for(session, principal, evaluation, part, kind)
            except PermissionDenied:
                continue
            if kind == SheetKind.expert:
                key = panel.scorer_code(seat)
            elif kind == SheetKind.firm:
                key = panel.firm_code(session, firm)
            else:
                key = DATA_KEY
            sheet = next((s for s in existing if s.part_id == part["id"] and s.scorer_key == key),
                         None)
            slots.append(MySlot(part, kind, sheet))
        if sheet_leaves(part, SheetKind.occasion) and part.get("party") == "purchaser" \
                and _purchaser_of(session, principal, evaluation):
            for sheet in existing:
                if sheet.part_id == part["id"] and sheet.kind == SheetKind.occasion:
                    slots.append(MySlot(part, SheetKind.occasion, sheet))
            slots.append(MySlot(part, SheetKind.occasion, None))  # a new occasion
    return slots


def to_fill(session: Session, principal, evaluation: Evaluation) -> int:
    """How many of the principal's sheets on this evaluation are still to submit: each one not
    started or in draft; a purchaser part with no occasion sheet yet counts once."""
    if evaluation.status not in FILLING:
        return 0
    count = 0
    slots = my_slots(session, principal, evaluation)
    for slot in slots:
        if slot.sheet is not None:
            if slot.sheet.status == SheetStatus.draft:
                count += 1
        elif slot.kind != SheetKind.occasion:
            count += 1
        elif not any(other.sheet is not None and other.kind == SheetKind.occasion
                     and other.part["id"] == slot.part["id"] for other in slots):
            count += 1
    return count


#: A card of sheets to fill is urgent from this many days before the due date.
DUE_SOON_DAYS = 3


@dashboard.provider
def _reopen_requests_card(session: Session, role: Role, _organisation_id: int | None
                          ) -> list[dashboard.Card]:
    """Finance's home page: submitted sheets someone asked to have reopened (复核申请), which
    wait for finance's decision."""
    if role != Role.finance:
        return []
    asked = session.exec(select(Scoresheet).where(
        Scoresheet.status == SheetStatus.submitted, Scoresheet.reopen_request != "")
        .order_by(Scoresheet.id)).all()
    if not asked:
        return []
    return [dashboard.Card(_("Sheets asked to be reopened"), str(len(asked)),
                           _("Read the reason on the sheet, then reopen it or leave it"),
                           f"/evaluations/{asked[0].evaluation_id}/sheets/{asked[0].id}",
                           urgent=True)]


@dashboard.personal_provider
def _sheets_card(session: Session, principal) -> list[dashboard.Card]:
    """The scorer's home page: sheets still to submit (待填写的评分表) and the earliest due
    date, for an expert or firm on a panel and for the purchasing department."""
    if principal.role not in (Role.evaluator, Role.purchaser):
        return []
    waiting = []
    for evaluation in session.exec(select(Evaluation).where(
            col(Evaluation.status).in_(FILLING)).order_by(Evaluation.closes_at, Evaluation.id)):
        if not evaluations.can_see(session, principal, evaluation):
            continue
        count = to_fill(session, principal, evaluation)
        if count:
            waiting.append((evaluation, count))
    if not waiting:
        return []
    first = waiting[0][0]
    due = as_utc(first.closes_at)
    moment = now()
    if due < moment:
        detail = _("Overdue: the earliest was due %(due)s.", due=_local(due))
    else:
        detail = _("The earliest is due %(due)s.", due=_local(due))
    url = f"/evaluations/{first.id}" if len(waiting) == 1 else "/evaluations"
    return [dashboard.Card(_("Scoresheets to fill"), str(sum(n for _e, n in waiting)), detail,
                           url, urgent=(due - moment).days < DUE_SOON_DAYS)]


def leaf_files(session: Session, sheet: Scoresheet) -> dict[str | None, list[ScoringFile]]:
    grouped: dict[str | None, list[ScoringFile]] = {}
    for record in files_of(session, sheet.evaluation_id, FilePurpose.evidence, sheet_id=sheet.id):
        grouped.setdefault(record.leaf_id, []).append(record)
    return grouped
