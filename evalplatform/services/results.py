"""Results (评价结果): computing, explaining, publishing (公示) and finalising a result.

When the sheets are in and the survey is closed (the evaluation is ``scoring``), finance or
the purchasing department computes the result: every registered source contributes
(services/evaluation_inputs.py), the contributions and the frozen scheme make one scoring
package, ``scoring.evaluate`` scores it, and the package and the engine's answer are kept
together as a new :class:`EvaluationResult` version. Nothing here computes a score itself.

A result that a missing score blocks (``final_ready`` false, under the scheme's ``block``
policy) may be computed and read but not published. A computed, final-ready result is
published (公示); the supplier may appeal within a number of working days on the Chinese
calendar (``Settings.appeal_working_days``, default 5). When that window has closed and no
appeal is open, :func:`finalise_due` makes the result final (已确定); it runs lazily when
pages load and from ``evalplatform results finalise``. An appeal its supplier withdrew (撤回)
is neither open nor decided: it holds nothing back.

Recomputing after a reasoned reopening adds a version and marks the earlier ones
superseded; a published version is never changed, only followed by a later publication.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Numeric, and_, cast, func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

import scoring
from evalplatform.i18n import DEFAULT_LANGUAGE, N_, _, current_language, percent, translations
from evalplatform.models import (
    Appeal,
    AppealStatus,
    AuditEntry,
    Contract,
    DueCondition,
    Evaluation,
    EvaluationResult,
    EvaluationStage,
    EvaluationStatus,
    Instalment,
    Organisation,
    Project,
    Role,
    User,
)
from evalplatform.services import audit, dashboard, evaluation_inputs, evaluations, projects
from evalplatform.services.audit import SYSTEM
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from evalplatform.services.money import fen_to_yuan_text
from evalplatform.services.paging import Page, any_contains, paginate
from evalplatform.services.schemes import (
    COMBINE_LABELS,
    MISSING_LABELS,
    PARTY_LABELS,
    RULE_LABELS,
    SURVEY_RULES,
)
from evalplatform.services.workdays import add_working_days
from evalplatform.settings import get_settings

CENT = Decimal("0.01")

MISSING_SOURCE_LABELS = {
    "sheet": N_("the sheet of scorer %(scorer)s does not score it"),
    "sheets": N_("no sheet of this part scores it"),
    "data": N_("no measured value was supplied"),
    "responses": N_("no survey answer was counted"),
    "part": N_("the part has nothing to score"),
}
MISSING_EFFECT_LABELS = {
    "block": N_("blocks publication until it is supplied"),
    "zero": N_("counted as 0 points"),
    "redistribute": N_("left out; its points are redistributed over the rest"),
}
NODE_STATUS_LABELS = {
    "scored": N_("scored"),
    "partial": N_("partly not applicable"),
    "na": N_("not applicable"),
    "missing": N_("missing"),
}
STATE_LABELS = {
    "computed": N_("Computed, not published"),
    "blocked": N_("Computed, blocked by missing scores"),
    "appeal_window": N_("Published, open to appeal"),
    "appeal_pending": N_("Published, an appeal is being decided"),
    "appeal_upheld": N_("Published; the appeal was dismissed, final when the appeal window "
                        "closes"),
    "appeal_withdrawn": N_("Published; the appeal was withdrawn, final when the appeal window "
                           "closes"),
    "under_review": N_("Published, under review after a reopening"),
    "final": N_("Final, the appeal window closed"),
    "superseded": N_("Replaced by a later version"),
}


# ---------------------------------------------------------------- reading versions


def appeal_working_days() -> int:
    return get_settings().appeal_working_days


def versions(session: Session, evaluation_id: int) -> list[EvaluationResult]:
    """Every computed version of the evaluation's result, oldest first."""
    return list(session.exec(select(EvaluationResult)
                             .where(EvaluationResult.evaluation_id == evaluation_id)
                             .order_by(EvaluationResult.version)))


def current(session: Session, evaluation_id: int) -> EvaluationResult | None:
    """The latest version, or None before the first computation."""
    return session.exec(select(EvaluationResult)
                        .where(EvaluationResult.evaluation_id == evaluation_id)
                        .order_by(col(EvaluationResult.version).desc())).first()


def latest_published(session: Session, evaluation_id: int) -> EvaluationResult | None:
    return session.exec(select(EvaluationResult).where(
        EvaluationResult.evaluation_id == evaluation_id,
        col(EvaluationResult.published_at).is_not(None))
        .order_by(col(EvaluationResult.version).desc())).first()


def get_result(session: Session, result_id: int) -> EvaluationResult:
    result = session.get(EvaluationResult, result_id)
    if result is None:
        raise NotFound(_("This result does not exist."))
    return result


def visible_versions(session: Session, principal, evaluation: Evaluation) -> list[EvaluationResult]:
    """The versions the principal may read: a supplier sees only what was published."""
    found = versions(session, evaluation.id)
    if principal.role == Role.supplier:
        return [r for r in found if r.published_at is not None]
    if principal.role in (Role.finance, Role.purchaser, Role.auditor):
        return found
    return []


def version_for(session: Session, principal, evaluation: Evaluation,
                version: int | None) -> EvaluationResult:
    """One readable version (the latest readable one when ``version`` is None)."""
    found = visible_versions(session, principal, evaluation)
    if not found:
        raise NotFound(_("This evaluation has no result you can read yet."))
    if version is None:
        return found[-1]
    for result in found:
        if result.version == version:
            return result
    raise NotFound(_("This evaluation has no result version %(version)s you can read.",
                     version=version))


def open_appeal(session: Session, evaluation_id: int) -> Appeal | None:
    return session.exec(select(Appeal).where(Appeal.evaluation_id == evaluation_id,
                                             Appeal.status == AppealStatus.open)).first()


def state(session: Session, result: EvaluationResult, evaluation: Evaluation,
          today: date | None = None) -> str:
    """Where the version stands, as a key of :data:`STATE_LABELS`."""
    today = today or projects.today()
    if result.final_at is not None:
        return "final"
    if result.published_at is None:
        if result.superseded:
            return "superseded"
        return "computed" if result.final_ready else "blocked"
    later = session.exec(select(EvaluationResult.id).where(
        EvaluationResult.evaluation_id == result.evaluation_id,
        EvaluationResult.version > result.version,
        col(EvaluationResult.published_at).is_not(None))).first()
    if later is not None:
        return "superseded"
    if evaluation.status != EvaluationStatus.published or result.superseded:
        return "under_review"
    if open_appeal(session, evaluation.id) is not None or (
            result.appeal_deadline is not None and today > result.appeal_deadline):
        return "appeal_pending"
    spent = session.exec(select(Appeal.status).where(Appeal.result_id == result.id)).first()
    if spent == AppealStatus.upheld:
        return "appeal_upheld"  # one appeal per publication: this one is spent
    if spent == AppealStatus.withdrawn:
        return "appeal_withdrawn"  # withdrawing is final for the publication
    return "appeal_window"


def state_label(key: str) -> str:
    return str(STATE_LABELS[key])


# ---------------------------------------------------------------- who may act


def _is_organiser(session: Session, principal, evaluation: Evaluation) -> bool:
    if principal.role == Role.finance:
        return True
    return principal.role == Role.purchaser and evaluations.can_see(session, principal, evaluation)


def _require_organiser(session: Session, principal, evaluation: Evaluation) -> None:
    if not _is_organiser(session, principal, evaluation):
        raise PermissionDenied(_("Only finance or the purchasing department computes and "
                                 "publishes this evaluation's result."))


def may_organise(session: Session, principal, evaluation: Evaluation) -> bool:
    return _is_organiser(session, principal, evaluation)


def _check_version(evaluation: Evaluation, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != evaluation.version:
        raise Conflict(_("Someone else changed this evaluation a moment ago; reload and try "
                         "again."))


# ---------------------------------------------------------------- computing


def _scoring_rule(contract_rule: dict) -> dict | None:
    """The contract's payment rule (services/contracts.py) in the scoring package's format."""
    kind = (contract_rule or {}).get("kind")
    if kind == "bands":
        bands = [{"min": str(b["min_score"]), "ratio": str(b["ratio"])}
                 for b in contract_rule.get("bands", [])]
        return {"bands": bands} if bands else None
    if kind == "linear":
        return {"linear": {"floor": str(contract_rule.get("floor_score", "0"))}}
    return None


def payment_for(session: Session, evaluation: Evaluation) -> dict | None:
    """The performance-linked instalment this evaluation decides, with the contract's rule.

    Included in the package so the result shows the payment ratio it earns; the settlement
    itself applies it once the result is final.
    """
    contract = evaluations.contract_of(session, evaluation)
    condition = (DueCondition.after_interim if evaluation.stage == EvaluationStage.interim
                 else DueCondition.after_final)
    instalment = session.exec(select(Instalment).where(
        Instalment.contract_id == contract.id, Instalment.due_condition == condition,
        col(Instalment.performance_linked).is_(True)).order_by(Instalment.seq)).first()
    rule = _scoring_rule(contract.payment_rule)
    if instalment is None or rule is None:
        return None
    return {"amount": fen_to_yuan_text(instalment.amount_fen), "rule": rule}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"not JSON data: {type(value).__name__}")


def _last_reopen_reason(session: Session, evaluation_id: int) -> str:
    entry = session.exec(select(AuditEntry).where(
        AuditEntry.entity_type == "evaluation", AuditEntry.entity_id == str(evaluation_id),
        AuditEntry.action == f"evaluation.{EvaluationStatus.scoring.value}")
        .order_by(col(AuditEntry.seq).desc())).first()
    if entry is None:
        return ""
    return str(json.loads(entry.change).get("reason", ""))


def build(session: Session, evaluation: Evaluation, contributions: list | None = None, *,
          version: int = 1) -> dict:
    """The scoring package of the evaluation as it stands (plain JSON data)."""
    found = evaluation_inputs.collect(session, evaluation) if contributions is None else contributions
    package = evaluation_inputs.build_package(
        evaluations.scheme_document(session, evaluation), found,
        package_id=f"evaluation-{evaluation.id}-v{version}",
        payment=payment_for(session, evaluation))
    package["meta"] = {
        "evaluation": evaluation.id, "version": version, "title": evaluation.title,
        "stage": evaluation.stage.value,
        "period": [evaluation.period_start.isoformat(), evaluation.period_end.isoformat()],
        "sources": [{"source": c.source, "sheets": len(c.sheets), "data": len(c.data),
                     "responses": len(c.responses), "notes": list(c.notes)} for c in found],
    }
    # what is stored is exactly what is scored: plain JSON, decimals as strings
    return json.loads(json.dumps(package, default=_plain, ensure_ascii=False))


def compute(session: Session, principal, evaluation_id: int, *,
            expected_version: int | None = None, contributions: list | None = None,
            at: datetime | None = None) -> EvaluationResult:
    """Compute a new version of the result and move the evaluation to ``computed``.

    ``contributions`` replaces the registered collectors (the demo loader uses it when no
    source has stored anything); normally every collector is asked. ``at`` is the moment
    recorded as the computation's (now, unless the demo loader tells a story in the past).
    """
    evaluation = evaluations.get(session, evaluation_id)
    _require_organiser(session, principal, evaluation)
    if evaluation.status in (EvaluationStatus.draft, EvaluationStatus.collecting):
        raise Conflict(_("Close collection first: the result is computed once the sheets are "
                         "in and the survey is closed."))
    if evaluation.status != EvaluationStatus.scoring:
        raise Conflict(_("This evaluation already has a result; reopen it with a reason to "
                         "compute a new version."))
    _check_version(evaluation, expected_version)
    if contributions is None:
        # registers the collector of the demo city's generated inputs (demo results that are
        # reopened are computed again from them); scoresheets registers the sheets' collector
        from evalplatform.services import demo_results, scoresheets  # noqa: F401

        gaps = scoresheets.panel_gaps(session, evaluation)
        if gaps:
            raise Conflict(_("The panel is not complete, so no result is computed: %(gaps)s",
                             gaps=" ".join(gaps[:8]) + ("…" if len(gaps) > 8 else "")))
    previous = versions(session, evaluation.id)
    number = previous[-1].version + 1 if previous else 1
    package = build(session, evaluation, contributions, version=number)
    try:
        outcome = scoring.evaluate(package)
    except scoring.PackageError as exc:
        raise ValidationFailed({"package": _(
            "The collected scores do not make a valid scoring package (%(path)s): %(problem)s",
            path=exc.path, problem=exc.message)}) from None
    data = outcome.as_dict()
    for old in previous:
        if not old.superseded:
            old.superseded = True
            session.add(old)
    result = EvaluationResult(
        evaluation_id=evaluation.id, version=number,
        total="" if outcome.total is None else str(outcome.total),
        grade=outcome.grade or "", final_ready=bool(outcome.final_ready), package=package,
        result=data, reason=_last_reopen_reason(session, evaluation.id) if previous else "",
        computed_by=principal.actor.id, computed_at=at or now())
    session.add(result)
    session.flush()
    audit.record(session, principal.actor, "result.compute", "evaluation_result", result.id, {
        "evaluation": evaluation.id, "version": number, "total": result.total,
        "grade": result.grade, "final_ready": result.final_ready,
        "missing": len(data.get("missing", [])), "scheme_digest": data.get("scheme_digest"),
        "reason": result.reason})
    try:
        evaluations.advance(session, principal.actor, evaluation.id, EvaluationStatus.computed,
                            expected_version=evaluation.version,
                            change={"result": result.id, "version": number})
    except DomainError:
        session.rollback()
        raise
    session.refresh(result)
    return result


# ---------------------------------------------------------------- publication and reopening


def missing_summary(result: EvaluationResult) -> list[str]:
    """What blocks the result, one line each, in words."""
    view = explain(result)
    return [f"{m.where}: {m.what}" for m in view.missing]


def publish(session: Session, principal, evaluation_id: int, *,
            expected_version: int | None = None, at: datetime | None = None
            ) -> EvaluationResult:
    """Publish (公示) the current version; the appeal window opens from the publication day."""
    evaluation = evaluations.get(session, evaluation_id)
    _require_organiser(session, principal, evaluation)
    if evaluation.status != EvaluationStatus.computed:
        raise Conflict(_("Only a computed result can be published; this evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    _check_version(evaluation, expected_version)
    result = current(session, evaluation.id)
    if result is None:
        raise Conflict(_("This evaluation has no result to publish yet."))
    if not result.final_ready or not result.total:
        lines = missing_summary(result)
        raise Conflict(_("A result blocked by missing scores cannot be published. Missing: "
                         "%(missing)s", missing="; ".join(lines[:8]) + ("…" if len(lines) > 8 else "")))
    moment = at or now()
    day = evaluations.local_date(moment)
    deadline = add_working_days(day, appeal_working_days())
    result.published_at = moment
    result.published_by = principal.actor.id
    result.appeal_deadline = deadline
    session.add(result)
    audit.record(session, principal.actor, "result.publish", "evaluation_result", result.id, {
        "evaluation": evaluation.id, "version": result.version, "total": result.total,
        "grade": result.grade, "appeal_deadline": deadline.isoformat(),
        "working_days": appeal_working_days()})
    try:
        evaluations.advance(session, principal.actor, evaluation.id, EvaluationStatus.published,
                            expected_version=evaluation.version,
                            change={"result": result.id, "appeal_deadline": deadline.isoformat()})
    except DomainError:
        session.rollback()
        raise
    session.refresh(result)
    return result


def reopen(session: Session, principal, evaluation_id: int, reason: str, *,
           expected_version: int | None = None, change: dict | None = None) -> Evaluation:
    """A reasoned reopening (重新评分): the evaluation goes back to scoring for a new version.

    Finance may reopen a computed or published result; the purchasing department only a
    computed one (a published one is reopened by finance, usually on an appeal).
    """
    evaluation = evaluations.get(session, evaluation_id)
    if not (principal.role == Role.finance or (
            evaluation.status == EvaluationStatus.computed
            and _is_organiser(session, principal, evaluation))):
        raise PermissionDenied(_("Only finance reopens a published result; the purchasing "
                                 "department may reopen a computed one."))
    if change is None and open_appeal(session, evaluation.id) is not None:
        raise Conflict(_("An appeal against this result is open: decide the appeal instead."))
    _check_version(evaluation, expected_version)
    result = current(session, evaluation.id)
    details = {"result": result.id if result else None,
               "version": result.version if result else None, **(change or {})}
    return evaluations.reopen(session, principal.actor, evaluation.id, reason,
                              expected_version=evaluation.version, change=details)


# ---------------------------------------------------------------- finalisation


def final_since(session: Session, evaluation_id: int, result: EvaluationResult) -> datetime:
    """When a result became final: as the appeal window closed (the day after its deadline
    begins, in China), or as its last appeal was decided or withdrawn by its supplier if that
    came later; not when :func:`finalise_due` happened to run, which may be days or months
    after."""
    closed = datetime.combine(result.appeal_deadline + timedelta(days=1), time(),
                              tzinfo=projects.LOCAL_TZ).astimezone(UTC)
    ended = [as_utc(a.decided_at or a.withdrawn_at) for a in session.exec(
        select(Appeal).where(Appeal.evaluation_id == evaluation_id,
                             col(Appeal.decided_at).is_not(None)
                             | col(Appeal.withdrawn_at).is_not(None)))]
    return max([closed, *ended])


def finalise_due(session: Session, today: date | None = None, *,
                 evaluation_ids: list[int] | None = None) -> list[EvaluationResult]:
    """Make final every published result whose appeal window closed before ``today`` without
    an open appeal (已确定). Safe to run from several processes at once: a concurrent
    finalisation of the same evaluation loses cleanly and is skipped."""
    today = today or projects.today()
    statement = (select(Evaluation, EvaluationResult)
                 .join(EvaluationResult, EvaluationResult.evaluation_id == Evaluation.id)
                 .where(Evaluation.status == EvaluationStatus.published,
                        col(EvaluationResult.superseded).is_(False),
                        col(EvaluationResult.published_at).is_not(None),
                        col(EvaluationResult.final_at).is_(None),
                        col(EvaluationResult.appeal_deadline) < today))
    if evaluation_ids is not None:
        statement = statement.where(col(Evaluation.id).in_(evaluation_ids or [-1]))
    due = list(session.exec(statement.order_by(Evaluation.id)))
    pending = {a.evaluation_id for a in session.exec(
        select(Appeal).where(Appeal.status == AppealStatus.open))}
    finalised = []
    for evaluation, result in due:
        if evaluation.id in pending:
            continue
        result.final_at = final_since(session, evaluation.id, result)
        session.add(result)
        audit.record(session, SYSTEM, "result.final", "evaluation_result", result.id, {
            "evaluation": evaluation.id, "version": result.version,
            "appeal_deadline": result.appeal_deadline.isoformat(), "today": today.isoformat()})
        try:
            evaluations.advance(session, SYSTEM, evaluation.id, EvaluationStatus.final,
                                expected_version=evaluation.version,
                                change={"result": result.id, "reason": "appeal window closed"})
        except DomainError:
            session.rollback()
            continue
        session.refresh(result)
        finalised.append(result)
    return finalised


def finalise_quietly(session: Session, evaluation_ids: list[int] | None = None) -> None:
    """The lazy run on page loads: never lets a calendar or race problem break the page."""
    try:
        finalise_due(session, evaluation_ids=evaluation_ids)
    except DomainError:
        session.rollback()


# ---------------------------------------------------------------- explaining a version


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def two_places(value) -> str:
    number = _decimal(value)
    return "—" if number is None else str(number.quantize(CENT, rounding=ROUND_HALF_UP))


def yuan(value) -> str:
    """A yuan amount as the engine writes it ("2660000.00") for people: "¥2,660,000.00"."""
    number = _decimal(value)
    return "—" if number is None else f"¥{number:,.2f}"


def _float(value) -> float:
    number = _decimal(value)
    return 0.0 if number is None else float(number)


def _scale_in_words(scale) -> str:
    """A survey scale: its name, or each answer with its value ('满意 100；…；不了解 不计')."""
    if not isinstance(scale, dict):
        return str(scale or "")
    return str(_("; ")).join(
        f"{answer} {value}" if value is not None else _("%(answer)s not counted", answer=answer)
        for answer, value in scale.items())


def rule_in_words(rule: dict) -> str:
    """A leaf's rule parameters as a reader checks them, in the reader's language: tiers with
    their coefficients, targets and bands with their units, the survey questions and scale.
    (The scheme editor's ``key=value`` syntax, ``schemes.format_params``, is for editing.)"""
    kind = rule.get("type")
    unit = rule.get("unit")
    sep = str(_("; "))
    if kind == "tiers":
        return _("Tier coefficients: %(tiers)s; points = max × coefficient.", tiers=sep.join(
            f"{t.get('name', '')} × {t.get('coefficient', '')}" for t in rule.get("tiers", [])))
    if kind == "ratio_ge" and rule.get("target") is not None:
        return _("Target %(target)s; points = max × min(measured ÷ target, 1).",
                 target=scoring.with_unit(rule["target"], unit))
    if kind == "ratio_le" and rule.get("target") is not None:
        return _("Target %(target)s at most; points = max × min(target ÷ measured, 1).",
                 target=scoring.with_unit(rule["target"], unit))
    if kind == "thresholds":
        return _("Bands: %(bands)s", bands=sep.join(
            f"≥ {scoring.with_unit(b['min'], unit)} → {b.get('points', '')}"
            for b in rule.get("bands", []) if b.get("min") is not None))
    if kind == "survey_mean":
        return _("Mean value of the answers to %(questions)s on the scale: %(scale)s.",
                 questions=sep.join(rule.get("questions", [])),
                 scale=_scale_in_words(rule.get("scale")))
    if kind == "survey_rate":
        return _("Share of the answers to %(questions)s that are %(satisfied)s, against a target "
                 "of %(target)s; scale: %(scale)s.", questions=sep.join(rule.get("questions", [])),
                 satisfied=sep.join(rule.get("satisfied", [])),
                 target=percent(rule.get("target", "")), scale=_scale_in_words(rule.get("scale")))
    return ""


@dataclass
class NodeRow:
    """A row of the indicator tree with everything needed to check it by hand."""

    id: str
    name: str
    depth: int
    part: str
    points: str
    applicable: str
    score: str
    status: str
    status_label: str
    rule: str | None
    rule_label: str
    params: str
    criteria: str
    value: Any
    trace: list[str]
    is_leaf: bool

    @property
    def lost(self) -> bool:
        return self.status in ("scored", "partial") and self.score != "—" and \
            _decimal(self.score) < _decimal(self.applicable or self.points)


@dataclass
class PartRow:
    id: str
    name: str
    party: str
    party_label: str
    weight: str
    score: str
    score_exact: str
    weighted: str
    combine_label: str
    sheets: list[dict]
    trace: list[str]


@dataclass
class MissingRow:
    where: str
    what: str
    effect: str


@dataclass
class ResultView:
    """A version of a result laid out for the page (from the stored JSON alone)."""

    total: str
    exact_total: str
    grade: str
    final_ready: bool
    missing_policy: str
    missing_policy_label: str
    missing: list[MissingRow]
    parts: list[PartRow]
    nodes: list[NodeRow]
    total_trace: list[str]
    grade_trace: list[str]
    payment: dict | None
    payment_trace: list[str]
    quality: dict
    quality_trace: list[str]
    warnings: list[str]
    sources: list[dict]
    scheme_name: str
    scheme_digest: str
    charts: dict = field(default_factory=dict)


def in_reader_language(result: EvaluationResult) -> dict:
    """The result JSON with the engine's sentences (trace, warnings, quality notes, payment
    basis) in the reader's language.

    The engine writes them in Chinese and the JSON keeps them so. For another language the
    stored package is scored again and its sentences rendered with the catalogue's
    translations, but only where the new sentences are the stored ones word for word, so
    a translation never describes other numbers than those stored (a result from an older
    engine simply stays in Chinese).
    """
    data = result.result or {}
    language = current_language()
    if language == DEFAULT_LANGUAGE or not result.package or not data.get("trace"):
        return data
    try:
        fresh = scoring.evaluate(result.package)
    except Exception:  # a package this engine no longer reads: the stored words stay
        return data
    stored = [(line.get("ref"), line.get("text")) for line in data["trace"]]
    if ([(line.ref, line.text) for line in fresh.trace] != stored
            or list(fresh.warnings) != list(data.get("warnings", []))):
        return data
    translate = translations(language).gettext

    def words(text):
        return scoring.render(text, translate)

    readable = {**data, "trace": [{"ref": line.ref, "text": words(line.text)}
                                  for line in fresh.trace],
                "warnings": [words(w) for w in fresh.warnings]}
    quality = data.get("quality")
    if quality:
        quality = {**quality}
        if fresh.quality.alpha_note and quality.get("alpha_note") == fresh.quality.alpha_note:
            quality["alpha_note"] = words(fresh.quality.alpha_note)
        notes = {p.part: p.note for p in fresh.quality.panels}
        quality["panels"] = [{**p, "note": words(notes[p.get("part")])}
                             if p.get("note") and notes.get(p.get("part")) == p["note"] else p
                             for p in quality.get("panels", [])]
        readable["quality"] = quality
    payment = data.get("payment")
    if payment and fresh.payment is not None and payment.get("basis") == fresh.payment.basis:
        readable["payment"] = {**payment, "basis": words(fresh.payment.basis)}
    return readable


def _trace_by_ref(data: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in data.get("trace", []):
        found.setdefault(line["ref"], []).append(line["text"])
    return found


def _walk(node: dict, depth: int, part_id: str, rows: list[dict]) -> None:
    rows.append({"node": node, "depth": depth, "part": part_id})
    for child in node.get("children") or []:
        _walk(child, depth + 1, part_id, rows)


def explain(result: EvaluationResult) -> ResultView:
    """Everything the result page shows, built from the version's package and result JSON."""
    package, data = result.package or {}, in_reader_language(result)
    scheme = package.get("scheme", {})
    traces = _trace_by_ref(data)
    nodes = data.get("nodes", {})
    names = {key: value.get("name", key) for key, value in nodes.items()}
    part_names = {p["id"]: p.get("name", p["id"]) for p in data.get("parts", [])}

    rows: list[NodeRow] = []
    for part in scheme.get("parts", []):
        tree = part.get("tree", {})
        walked: list[dict] = []
        _walk({**tree, "id": tree.get("id") or part["id"]}, 0, part["id"], walked)
        for item in walked:
            node = item["node"]
            found = nodes.get(node["id"], {})
            rule = node.get("rule")
            status = found.get("status", "missing")
            rows.append(NodeRow(
                id=node["id"], name=node.get("name", ""), depth=item["depth"], part=part["id"],
                points=two_places(node.get("points")),
                applicable=two_places(found.get("applicable", node.get("points"))),
                score=two_places(found.get("score")), status=status,
                status_label=str(NODE_STATUS_LABELS.get(status, status)),
                rule=rule.get("type") if rule else None,
                rule_label=str(RULE_LABELS.get(rule.get("type"), "")) if rule else "",
                params=rule_in_words(rule) if rule else "", criteria=node.get("criteria", ""),
                value=found.get("value"),
                trace=traces.get(node["id"], []) if item["depth"] else [],
                is_leaf=rule is not None))

    parts = [PartRow(
        id=p["id"], name=p.get("name", ""), party=p.get("party", ""),
        party_label=str(PARTY_LABELS.get(p.get("party"), p.get("party", ""))),
        weight=p.get("weight", ""), score=two_places(p.get("score")),
        score_exact=p.get("score") or "—", weighted=p.get("weighted") or "—",
        combine_label=str(COMBINE_LABELS.get(p.get("combine"), p.get("combine", ""))),
        sheets=p.get("sheets", []), trace=traces.get(p["id"], []))
        for p in data.get("parts", [])]

    policy = scheme.get("missing", "block")
    missing = []
    for item in data.get("missing", []):
        leaf = item.get("leaf")
        where = part_names.get(item["part"], item["part"])
        if leaf:
            where = f"{where} › {leaf} {names.get(leaf, '')}".strip()
        label = MISSING_SOURCE_LABELS.get(item["source"])
        what = str(label) % {"scorer": item.get("scorer") or ""} if label else item["source"]
        missing.append(MissingRow(where, what, str(MISSING_EFFECT_LABELS.get(policy, ""))))

    quality_trace = [text for ref, lines in traces.items() if ref.startswith("quality")
                     for text in lines]
    view = ResultView(
        total=result.total or "—", exact_total=str(data.get("exact_total") or "—"),
        grade=result.grade or "—", final_ready=result.final_ready, missing_policy=policy,
        missing_policy_label=str(MISSING_LABELS.get(policy, policy)), missing=missing,
        parts=parts, nodes=rows, total_trace=traces.get("total", []),
        grade_trace=traces.get("grade", []),
        payment=({key: yuan(value) if key in ("amount", "payable", "deduction") else value
                  for key, value in data["payment"].items()} if data.get("payment") else None),
        payment_trace=traces.get("payment", []), quality=data.get("quality") or {},
        quality_trace=quality_trace, warnings=list(data.get("warnings", [])),
        sources=(package.get("meta") or {}).get("sources", []),
        scheme_name=scheme.get("name", ""), scheme_digest=data.get("scheme_digest", ""))
    view.charts = charts(view, package)
    return view


def charts(view: ResultView, package: dict) -> dict:
    """ECharts options: the indicators, the party subtotals, the survey distribution."""
    found: dict[str, dict] = {}
    first_level = [n for n in view.nodes if n.depth == 1]
    if first_level:
        labels = [f"{n.id} {n.name}" for n in first_level][::-1]
        scored = [round(_float(n.score if n.score != "—" else 0), 2) for n in first_level][::-1]
        lost = [round(max(_float(n.applicable) - _float(n.score if n.score != "—" else 0), 0), 2)
                for n in first_level][::-1]
        found["indicators"] = {
            "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"top": 0},
            "xAxis": {"type": "value"},
            "yAxis": {"type": "category", "data": labels, "axisLabel": {"width": 160,
                                                                        "overflow": "truncate"}},
            "series": [
                {"type": "bar", "name": _("Points scored"), "stack": "points", "data": scored,
                 "itemStyle": {"color": "#1a7f37"}},
                {"type": "bar", "name": _("Points lost"), "stack": "points", "data": lost,
                 "itemStyle": {"color": "#cf222e"}},
            ],
        }
        found["indicators_height"] = max(240, 36 * len(first_level) + 60)
    scored_parts = [p for p in view.parts if p.score != "—"]
    if scored_parts:
        found["parts"] = {
            "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"top": 0},
            "xAxis": {"type": "category", "data": [_("%(value)s (%(note)s)", value=p.name, note=p.weight)
                                                for p in scored_parts]},
            "yAxis": {"type": "value", "max": 100},
            "series": [
                {"type": "bar", "name": _("Part score (of 100)"),
                 "data": [round(_float(p.score_exact), 2) for p in scored_parts],
                 "itemStyle": {"color": "#0a58ca"}},
                {"type": "bar", "name": _("Weighted contribution to the total"),
                 "data": [round(_float(p.weighted), 2) for p in scored_parts],
                 "itemStyle": {"color": "#a4161a"}},
            ],
        }
    survey = survey_distribution(package)
    if survey["questions"]:
        found["survey"] = {
            "grid": {"left": 8, "right": 24, "top": 32, "bottom": 8, "containLabel": True},
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "legend": {"top": 0},
            "xAxis": {"type": "value", "minInterval": 1},
            "yAxis": {"type": "category", "data": survey["questions"][::-1]},
            "series": [{"type": "bar", "stack": "answers", "name": option, "data": counts[::-1]}
                       for option, counts in survey["series"]],
        }
        found["survey_height"] = max(200, 40 * len(survey["questions"]) + 60)
        found["survey_table"] = survey
    return found


def survey_distribution(package: dict) -> dict:
    """Answers per option for every survey question of the scheme (counts only, no text)."""
    scheme = package.get("scheme", {})
    responses = (package.get("inputs") or {}).get("responses") or []
    scales = scheme.get("scales", {})
    questions: list[tuple[str, dict]] = []
    seen = set()
    for part in scheme.get("parts", []):
        walked: list[dict] = []
        _walk(part.get("tree", {}), 0, part.get("id", ""), walked)
        for item in walked:
            rule = item["node"].get("rule") or {}
            if rule.get("type") not in SURVEY_RULES:
                continue
            scale = rule.get("scale")
            scale = scales.get(scale, {}) if isinstance(scale, str) else (scale or {})
            for question in rule.get("questions", []):
                if question not in seen:
                    seen.add(question)
                    questions.append((question, scale))
    if not responses or not questions:
        return {"questions": [], "series": [], "options": [], "rows": []}
    options: list[str] = []
    for _question, scale in questions:
        for option in scale:
            if option not in options:
                options.append(option)
    rows = []
    for question, _scale in questions:
        counts = {option: 0 for option in options}
        unanswered = 0
        for response in responses:
            answer = response.get(question)
            if answer in counts:
                counts[answer] += 1
            else:
                unanswered += 1
        rows.append({"question": question, "counts": counts, "unanswered": unanswered})
    return {"questions": [r["question"] for r in rows], "options": options, "rows": rows,
            "series": [(option, [r["counts"][option] for r in rows]) for option in options]}


# ---------------------------------------------------------------- the public list (公示)


@dataclass
class PublicRow:
    result: EvaluationResult
    evaluation: Evaluation
    project: Project
    department: Organisation
    supplier: Organisation
    state: str = ""


def _published_statement():
    department = aliased(Organisation)
    supplier = aliased(Organisation)
    latest = (select(EvaluationResult.evaluation_id,
                     func.max(EvaluationResult.version).label("latest"))
              .where(col(EvaluationResult.published_at).is_not(None))
              .group_by(EvaluationResult.evaluation_id).subquery())
    statement = (select(EvaluationResult, Evaluation, Project, department, supplier)
                 .join(latest, and_(EvaluationResult.evaluation_id == latest.c.evaluation_id,
                                    EvaluationResult.version == latest.c.latest))
                 .join(Evaluation, EvaluationResult.evaluation_id == Evaluation.id)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(department, Project.department_id == department.id)
                 .join(supplier, Contract.supplier_id == supplier.id))
    return statement, department, supplier


def public_page(session: Session, *, q: str = "", grade: str = "", sort: str | None = None,
                page_number: int = 1, supplier_id: int | None = None, per_page: int | None = None,
                today: date | None = None) -> Page:
    """Published results, the latest publication of each evaluation, paged (no personal data)."""
    statement, department, supplier = _published_statement()
    if q.strip():
        statement = statement.where(any_contains(q, Project.name, supplier.name, department.name))
    if grade.strip():
        statement = statement.where(EvaluationResult.grade == grade.strip())
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    result = paginate(session, statement, sort_columns={
        "published": EvaluationResult.published_at, "project": Project.name,
        "supplier": supplier.name, "department": department.name,
        "total": cast(EvaluationResult.total, Numeric(8, 2)),
        "deadline": EvaluationResult.appeal_deadline}, sort=sort, default_sort="-published",
        page=page_number, **({"per_page": per_page} if per_page else {}))
    today = today or projects.today()
    result.items = [PublicRow(*row) for row in result.items]
    for row in result.items:
        row.state = state(session, row.result, row.evaluation, today)
    return result


def published_grades(session: Session) -> list[str]:
    """The grades that published results carry (schemes may name their own), for the filter."""
    found = session.exec(select(EvaluationResult.grade).where(
        col(EvaluationResult.published_at).is_not(None)).distinct()).all()
    usual = ["优", "良", "中", "差"]
    return [g for g in usual if g in found] + sorted(g for g in found if g not in usual)


def public_detail(session: Session, result_id: int) -> PublicRow:
    """One published version for the public page; an unpublished one does not exist here."""
    result = session.get(EvaluationResult, result_id)
    if result is None or result.published_at is None:
        raise NotFound(_("This result has not been published."))
    return _row(session, result, session.get(Evaluation, result.evaluation_id))


def _row(session: Session, result: EvaluationResult, evaluation: Evaluation) -> PublicRow:
    """A version with its evaluation, project, department, supplier and state."""
    contract = evaluations.contract_of(session, evaluation)
    project = session.get(Project, contract.project_id)
    row = PublicRow(result, evaluation, project, session.get(Organisation, project.department_id),
                    session.get(Organisation, contract.supplier_id))
    row.state = state(session, result, evaluation)
    return row


def evaluation_id_of(session: Session, result_id: int) -> int | None:
    """The evaluation a stored version belongs to (None when there is no such version)."""
    result = session.get(EvaluationResult, result_id)
    return result.evaluation_id if result is not None else None


def readable_detail(session: Session, principal, result_id: int) -> PublicRow:
    """One version for a reader of its evaluation's result page: any version that page lets
    the reader read (an unpublished one too, to those it shows it to), else not found."""
    result = session.get(EvaluationResult, result_id)
    evaluation = session.get(Evaluation, result.evaluation_id) if result else None
    if evaluation is None or result_id not in {
            r.id for r in visible_versions(session, principal, evaluation)}:
        raise NotFound(_("This result has not been published."))
    return _row(session, result, evaluation)


def public_parts(result: EvaluationResult) -> list[dict]:
    """The part scores as published: party, weight, score, weighted; nothing about people."""
    return [{"name": p.get("name", ""), "party": str(PARTY_LABELS.get(p.get("party"), "")),
             "weight": p.get("weight", ""), "score": two_places(p.get("score")),
             "weighted": two_places(p.get("weighted"))}
            for p in (result.result or {}).get("parts", [])]


def later_publication(session: Session, result: EvaluationResult) -> EvaluationResult | None:
    return session.exec(select(EvaluationResult).where(
        EvaluationResult.evaluation_id == result.evaluation_id,
        EvaluationResult.version > result.version,
        col(EvaluationResult.published_at).is_not(None))
        .order_by(col(EvaluationResult.version).desc())).first()


def user_name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id else None
    return user.display_name if user else _("the system")


# ---------------------------------------------------------------- home cards


def _computed_results(session: Session, department_id: int | None) -> tuple[list, list]:
    """The computed, unpublished evaluations (of the department, or all), split by their
    current result: those that may be published, and those a missing score blocks."""
    latest = (select(EvaluationResult.evaluation_id,
                     func.max(EvaluationResult.version).label("version"))
              .group_by(EvaluationResult.evaluation_id).subquery())
    statement = (select(Evaluation.id, EvaluationResult.final_ready)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(latest, latest.c.evaluation_id == Evaluation.id)
                 .join(EvaluationResult, and_(EvaluationResult.evaluation_id == Evaluation.id,
                                              EvaluationResult.version == latest.c.version))
                 .where(Evaluation.status == EvaluationStatus.computed)
                 .order_by(Evaluation.id))
    if department_id is not None:
        statement = statement.where(Project.department_id == department_id)
    rows = session.exec(statement).all()
    return [i for i, ready in rows if ready], [i for i, ready in rows if not ready]


def _one_or_list(evaluation_ids: list[int]) -> str:
    """Where a home card leads: the evaluation itself when it is the only one."""
    if len(evaluation_ids) == 1:
        return f"/evaluations/{evaluation_ids[0]}"
    return "/evaluations?status=computed"


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    if role in (Role.finance, Role.purchaser):
        scope = organisation_id if role == Role.purchaser else None
        ready = evaluations.page(session, organisation_id=scope, status="scoring").total
        publishable, blocked = _computed_results(session, scope)
        cards = [dashboard.Card(_("Evaluations ready to compute"), str(ready),
                                _("Sheets in and survey closed"), "/evaluations?status=scoring")]
        cards.append(dashboard.Card(_("Results to publish"), str(len(publishable)),
                                    _("Computed, waiting for publication"),
                                    _one_or_list(publishable)))
        if blocked:  # computed, but a missing score keeps them from being published
            cards.append(dashboard.Card(
                _("Results blocked by missing scores"), str(len(blocked)),
                _("They cannot be published until the missing scores are entered and the "
                  "result is computed again"), _one_or_list(blocked), urgent=True))
        return cards
    if role == Role.supplier and organisation_id is not None:
        open_window = [row for row in public_page(session, supplier_id=organisation_id).items
                       if row.state == "appeal_window"]
        if open_window:
            return [dashboard.Card(_("Results open to appeal"), str(len(open_window)),
                                   _("Read them and appeal before the deadline if needed"),
                                   "/appeals", urgent=True)]
    return []
