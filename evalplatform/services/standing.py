"""Supplier standing (承接主体履约信用): from recent final results, by explained rules.

Like an ERP supplier scorecard, but every standing says why. The rules, each a setting with
its default (finance may change them; every change is audited):

* **Barred (禁止承接)** — a final result graded 差 (or with a total below 60) bars the
  supplier from new contracts until the end of the next year (31 December of the year after
  the result became final). Contract registration honours it and names the reason.
* **Warned (警示)** — two results in a row of one contract below the contract's threshold
  (80 by default, a contract term) flag that contract for termination review (终止审查)
  and warn about the supplier. Finance or the purchasing department records the review's
  decision (continue with measures, or terminate) with its reasons. The supplier is warned
  too when its latest results in a row, of different contracts, are each below its own
  contract's threshold (no single contract to review then).
* **Preferred (优选)** — the supplier's latest recent final result is 优, and nothing above
  applies.

"Recent" means final within the last three years. Only final results count — never a
provisional one still under publication or appeal — but a published result whose appeal window
closed with no appeal open counts from the day it became final, whether or not the lazy
finalisation (``results.finalise_due``) has marked it yet. A standing is computed from the stored
final results each time it is read, so it can never drift from them; the results themselves
are versioned and never changed. Substantiated complaints (有效投诉) are recorded here too and
count against a supplier in selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import func
from sqlmodel import Session, col, select

from evalplatform.i18n import N_, _
from evalplatform.models import (
    Contract,
    Evaluation,
    EvaluationResult,
    EvaluationStatus,
    Organisation,
    OrganisationKind,
    Project,
    ReviewDecision,
    Role,
    StandingSettings,
    SupplierComplaint,
    TerminationReview,
)
from evalplatform.services import audit, dashboard, projects, schemes
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

LEVELS = ("barred", "warned", "preferred", "normal", "unrated")
LEVEL_LABELS = {
    "barred": N_("Barred from new contracts"),
    "warned": N_("Warned"),
    "preferred": N_("Preferred"),
    "normal": N_("In good standing"),
    "unrated": N_("No recent final result"),
}
MAX_SUMMARY = 2000
DECISION_LABELS = {
    ReviewDecision.continue_: N_("Continue the contract, with measures"),
    ReviewDecision.terminate: N_("Terminate the contract"),
}


# ---------------------------------------------------------------- the rules' settings


@dataclass(frozen=True)
class Rules:
    bar_grade: str = "差"
    bar_below: Decimal = Decimal("60")
    bar_years: int = 1
    warn_consecutive: int = 2
    default_threshold: Decimal = Decimal("80")
    preferred_grade: str = "优"
    lookback_years: int = 3
    recorded: bool = False  # False: the defaults


def settings(session: Session) -> Rules:
    row = session.exec(select(StandingSettings).order_by(StandingSettings.id)).first()
    if row is None:
        return Rules()
    return Rules(row.bar_grade, Decimal(row.bar_below), row.bar_years, row.warn_consecutive,
                 Decimal(row.default_threshold), row.preferred_grade, row.lookback_years, True)


def _points(text, errors: dict, name: str) -> Decimal | None:
    try:
        value = Decimal(str(text or "").strip())
        if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(
                Decimal("0.01")):
            raise InvalidOperation
        return value
    except InvalidOperation:
        errors[name] = _("Enter points between 0 and 100 (at most two decimals).")
        return None


def _whole(text, low: int, high: int, errors: dict, name: str) -> int | None:
    try:
        value = int(str(text or "").strip())
        if not low <= value <= high:
            raise ValueError
        return value
    except ValueError:
        errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        return None


#: The rules' grade fields, with their labels (as on the rules form).
GRADE_FIELDS = {"bar_grade": N_("Grade that bars"),
                "preferred_grade": N_("Grade that marks preferred")}


def update_settings(session: Session, principal, values: dict) -> Rules:
    """Finance sets the numbers of the standing rules."""
    if principal.role != Role.finance:
        raise PermissionDenied(_("Only finance sets the standing rules."))
    errors: dict[str, str] = {}
    grades = {}
    known = schemes.grade_names(session)
    for name, label in GRADE_FIELDS.items():
        grades[name] = str(values.get(name) or "").strip()
        if not grades[name] or len(grades[name]) > 20:
            errors[name] = _("Enter a grade name, e.g. 差 or 优.")
        elif grades[name] not in known:  # no result would ever match: the rule would lapse
            errors[name] = _(
                "%(field)s: no result is graded %(grade)s; enter one of the grades the schemes "
                "use: %(grades)s.", field=label, grade=grades[name], grades="、".join(known))
    bar_below = _points(values.get("bar_below"), errors, "bar_below")
    threshold = _points(values.get("default_threshold"), errors, "default_threshold")
    bar_years = _whole(values.get("bar_years"), 0, 5, errors, "bar_years")
    consecutive = _whole(values.get("warn_consecutive"), 2, 5, errors, "warn_consecutive")
    lookback = _whole(values.get("lookback_years"), 1, 10, errors, "lookback_years")
    if errors:
        raise ValidationFailed(errors)
    row = session.exec(select(StandingSettings).order_by(StandingSettings.id)).first() \
        or StandingSettings()
    row.bar_grade, row.preferred_grade = grades["bar_grade"], grades["preferred_grade"]
    row.bar_below, row.default_threshold = str(bar_below), str(threshold)
    row.bar_years, row.warn_consecutive, row.lookback_years = bar_years, consecutive, lookback
    row.updated_by, row.updated_at = principal.actor.id, now()
    session.add(row)
    session.flush()
    audit.record(session, principal.actor, "standing.settings", "standing_settings", row.id, {
        "bar_grade": row.bar_grade, "bar_below": row.bar_below, "bar_years": bar_years,
        "warn_consecutive": consecutive, "default_threshold": row.default_threshold,
        "preferred_grade": row.preferred_grade, "lookback_years": lookback})
    session.commit()
    return settings(session)


# ---------------------------------------------------------------- final results


@dataclass
class FinalResult:
    result: EvaluationResult
    evaluation: Evaluation
    contract: Contract
    project: Project
    total: Decimal
    grade: str
    final_on: date
    satisfaction: Decimal | None  # the service recipients' part, where the scheme has one


SURVEY_RULES = ("survey_rate", "survey_mean")


def _satisfaction(result: EvaluationResult) -> Decimal | None:
    """The service recipients' satisfaction in a result, 0–100: their part's score where the
    scheme has a part for them, else the score rate of the survey indicators (a one-part
    scheme scoring a satisfaction survey among its indicators), else None."""
    data = result.result or {}
    scores = []
    for part in data.get("parts") or []:
        if part.get("party") == "recipient" and part.get("score") not in (None, ""):
            try:
                scores.append(Decimal(str(part["score"])))
            except InvalidOperation:
                continue
    if scores:
        return sum(scores) / len(scores)
    scored = points = Decimal(0)
    for node in (data.get("nodes") or {}).values():
        if node.get("rule") in SURVEY_RULES and node.get("score") not in (None, ""):
            try:
                scored += Decimal(str(node["score"]))
                points += Decimal(str(node.get("applicable") or node["points"]))
            except (InvalidOperation, KeyError):
                continue
    return scored / points * 100 if points else None


def final_results(session: Session, supplier_id: int | None = None, *,
                  closed_by: date | None = None) -> list[FinalResult]:
    """Every final result (current version), oldest first by when it became final.

    With ``closed_by`` (a day, usually today) it also holds each published result whose
    appeal window closed before that day with no appeal open: final by the rules, though
    ``results.finalise_due`` — run lazily when a result's page loads, or from the command
    line — has not marked it yet. Its day is the one it became final on
    (``results.final_since``). The standing rules read results so: a bar must not wait for
    someone to open a results page."""
    statement = (_results_of(supplier_id)
                 .where(Evaluation.status == EvaluationStatus.final,
                        col(EvaluationResult.final_at).is_not(None))
                 .order_by(EvaluationResult.final_at, EvaluationResult.id))
    rows = [(result, evaluation, contract, project, as_utc(result.final_at))
            for result, evaluation, contract, project in session.exec(statement)]
    if closed_by is not None:
        rows.extend(_due(session, supplier_id, closed_by))
    latest: dict[int, FinalResult] = {}
    for result, evaluation, contract, project, final_at in rows:
        known = latest.get(evaluation.id)
        if known is not None and known.result.version > result.version:
            continue
        latest[evaluation.id] = FinalResult(
            result, evaluation, contract, project, Decimal(result.total), result.grade,
            final_at.astimezone(projects.LOCAL_TZ).date(), _satisfaction(result))
    return sorted(latest.values(), key=lambda r: (r.final_on, r.result.id))


def _results_of(supplier_id: int | None):
    """The current (not superseded) results with their evaluation, contract and project, of
    one supplier or of all."""
    statement = (select(EvaluationResult, Evaluation, Contract, Project)
                 .join(Evaluation, EvaluationResult.evaluation_id == Evaluation.id)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .where(col(EvaluationResult.superseded).is_(False)))
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    return statement


def _due(session: Session, supplier_id: int | None, day: date) -> list[tuple]:
    """The published results final by the rules before ``day`` but not marked final yet (the
    same choice as ``results.finalise_due``), each with the moment it became final."""
    from evalplatform.models import Appeal, AppealStatus
    from evalplatform.services import results

    statement = _results_of(supplier_id).where(
        Evaluation.status == EvaluationStatus.published,
        col(EvaluationResult.published_at).is_not(None),
        col(EvaluationResult.final_at).is_(None),
        col(EvaluationResult.appeal_deadline) < day,
        col(Evaluation.id).not_in(select(Appeal.evaluation_id).where(
            Appeal.status == AppealStatus.open)))
    return [(result, evaluation, contract, project,
             results.final_since(session, evaluation.id, result))
            for result, evaluation, contract, project in session.exec(statement)]


def since(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# ---------------------------------------------------------------- the rules


@dataclass
class Bar:
    """禁止承接: the result that bars the supplier and until when."""

    supplier_id: int
    until: date
    cause: FinalResult
    reason: str


@dataclass
class Flag:
    """终止审查: a contract with results in a row below its threshold."""

    contract: Contract
    project: Project
    results: list[FinalResult]
    threshold: Decimal
    running: bool
    reason: str  # for those whose business the flag is: names the threshold (a contract term)
    public_reason: str = ""  # for any other reader: the published results only
    review: TerminationReview | None = None  # the decision on this flag, once taken

    @property
    def decision_label(self) -> str:
        return str(DECISION_LABELS[self.review.decision]) if self.review else ""

    @property
    def awaiting_review(self) -> bool:
        """A decision is still to be taken: the contract runs and no review decided the flag."""
        return self.running and self.review is None


def _barring(rules: Rules, result: FinalResult) -> bool:
    return result.grade == rules.bar_grade or result.total < rules.bar_below


def bars(rules: Rules, results: list[FinalResult], day: date) -> list[Bar]:
    """The bars in force on ``day``: results that became final by then and bar until after."""
    found = []
    for r in results:
        if not _barring(rules, r):
            continue
        until = date(r.final_on.year + rules.bar_years, 12, 31)
        if r.final_on <= day <= until:
            found.append(Bar(r.contract.supplier_id, until, r, _(
                "%(project)s · %(title)s: %(total)s points (%(grade)s), final on %(date)s. A "
                "%(bar_grade)s result or a total below %(below)s bars the supplier from new "
                "contracts until the end of %(year)s.", project=r.project.name,
                title=r.evaluation.title, total=r.total, grade=r.grade,
                date=r.final_on.isoformat(), bar_grade=rules.bar_grade, below=rules.bar_below,
                year=until.year)))
    return found


def bar_on(session: Session, supplier_id: int, day: date) -> Bar | None:
    """Whether the supplier is barred from a new contract on ``day``, and why (the longest)."""
    found = bars(settings(session), final_results(session, supplier_id,
                                                  closed_by=projects.today()), day)
    return max(found, key=lambda b: (b.until, b.cause.final_on)) if found else None


def warning_for(session: Session, supplier_id: int, reader) -> str | None:
    """What a purchaser who has just contracted a warned supplier should know (警示), in the
    words ``reader`` may read; None when the supplier is not warned. A warning does not bar."""
    supplier = session.get(Organisation, supplier_id)
    if supplier is None:
        return None
    found = standing_of(session, supplier, reader=reader)
    if found.level != "warned":
        return None
    return _("%(supplier)s is warned: %(reasons)s Watch this contract's monitoring closely.",
             supplier=supplier.name, reasons=" ".join(found.reasons))


def refusal(session: Session, bar: Bar) -> str:
    supplier = session.get(Organisation, bar.supplier_id)
    return _("%(supplier)s is barred from new contracts until %(until)s: %(reason)s",
             supplier=supplier.name, until=bar.until.isoformat(), reason=bar.reason)


#: ``threshold_of``'s ``terms`` when it is to read the contract's terms itself
_READ_TERMS = None


def threshold_of(session: Session, contract: Contract, rules: Rules,
                 terms: dict | None = _READ_TERMS) -> Decimal:
    """The contract's termination threshold: its terms' own, else the rules' default.
    ``terms`` (contract id → its terms, every one there is among those asked about) is given
    by a caller that read many contracts' at once."""
    from evalplatform.models import ContractTerms

    row = session.get(ContractTerms, contract.id) if terms is None else terms.get(contract.id)
    return Decimal(row.termination_threshold) if row is not None else rules.default_threshold


def _totals(results: list[FinalResult]) -> str:
    """The results a flag rests on, e.g. "2025年第三季度监控评价 77.19、2025年度终期绩效评价 78.70"
    (listed with the reader's list separator: ", " in English, "、" in Chinese)."""
    return _(", ").join(f"{r.evaluation.title} {r.total}" for r in results)


def flags(session: Session, rules: Rules, results: list[FinalResult], today: date,
          terms: dict | None = _READ_TERMS) -> list[Flag]:
    """Contracts whose latest results, ``warn_consecutive`` in a row, are below the threshold
    (``terms``: see ``threshold_of``)."""
    from evalplatform.services.evaluations import term_end

    by_contract: dict[int, list[FinalResult]] = {}
    for r in results:
        by_contract.setdefault(r.contract.id, []).append(r)
    found = []
    for rows in by_contract.values():
        rows.sort(key=lambda r: (r.evaluation.period_end, r.evaluation.id))
        tail = rows[-rules.warn_consecutive:]
        contract = tail[-1].contract
        if len(tail) < rules.warn_consecutive:
            continue
        threshold = threshold_of(session, contract, rules, terms)
        if any(r.total >= threshold for r in tail):
            continue
        running = term_end(contract) >= today
        if running:
            reason = _("%(project)s: %(n)s results in a row below the contract's threshold of "
                       "%(threshold)s (%(totals)s); the contract is flagged for termination "
                       "review.", project=tail[-1].project.name, n=len(tail),
                       threshold=threshold,
                       totals=_totals(tail))
        else:  # nothing left to terminate: no review to decide, the warning stands
            reason = _("%(project)s: %(n)s results in a row below the contract's threshold of "
                       "%(threshold)s (%(totals)s). The contract ended on %(end)s, so there is "
                       "no termination to review; the warning stands for the supplier.",
                       project=tail[-1].project.name, n=len(tail), threshold=threshold,
                       totals=_totals(tail),
                       end=term_end(contract).isoformat())
        # The results are published (公示); the threshold, the flag and its review are not.
        public_reason = _("%(project)s: %(n)s final results in a row below the threshold of "
                          "its contract (%(totals)s); the supplier is warned.",
                          project=tail[-1].project.name, n=len(tail),
                          totals=_totals(tail))
        review = session.exec(select(TerminationReview).where(
            TerminationReview.contract_id == contract.id,
            TerminationReview.result_id == tail[-1].result.id)).first()
        found.append(Flag(contract, tail[-1].project, tail, threshold, running, reason,
                          public_reason, review))
    return found


def run_below(session: Session, rules: Rules, results: list[FinalResult],
              terms: dict | None = _READ_TERMS) -> list[FinalResult]:
    """The supplier's latest ``warn_consecutive`` final results (in the order they became
    final) when each is below its own contract's threshold, else nothing."""
    tail = results[-rules.warn_consecutive:]
    if len(tail) < rules.warn_consecutive or any(
            r.total >= threshold_of(session, r.contract, rules, terms) for r in tail):
        return []
    return tail


def sees_flag(reader, flag: Flag) -> bool:
    """Whether ``reader`` may read a termination flag (终止审查) in full: the contract's
    threshold, that it awaits review, and the review's decision and reasons.

    The flag and its review are the business of the purchasing department that owns the
    contract, and of finance; auditors read everything; a supplier reads its own contracts'.
    Any other reader (a purchaser of another department) learns only that the supplier is
    warned, from the published results (``Flag.public_reason``), as selection needs."""
    return sees_terms(reader, flag.contract, flag.project)


def sees_terms(reader, contract: Contract, project: Project) -> bool:
    """Whether ``reader`` may read the contract's terms, its termination threshold among them:
    finance and auditors, the purchasing department that owns it, the supplier that holds it."""
    if reader.role in (Role.finance, Role.auditor):
        return True
    if reader.role == Role.purchaser:
        return reader.organisation_id is not None and \
            reader.organisation_id == project.department_id
    if reader.role == Role.supplier:
        return reader.organisation_id is not None and \
            reader.organisation_id == contract.supplier_id
    return False


def flag_of(session: Session, contract: Contract, today: date | None = None) -> Flag | None:
    """The contract's termination-review flag, if its latest results raise one."""
    today = today or projects.today()
    found = [f for f in flags(session, settings(session),
                              final_results(session, contract.supplier_id, closed_by=today),
                              today)
             if f.contract.id == contract.id]
    return found[0] if found else None


def review(session: Session, principal, contract_id: int, *, decision: str, reason: str,
           today: date | None = None) -> TerminationReview:
    """Record the decision of a termination review (终止审查结论) with its reasons."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("No such contract."))
    project = session.get(Project, contract.project_id)
    if not (principal.role == Role.finance or (principal.role == Role.purchaser
                                               and principal.organisation_id
                                               == project.department_id)):
        raise PermissionDenied(_("Only finance or the purchasing department decides a "
                                 "termination review."))
    flag = flag_of(session, contract, today)
    if flag is None:
        raise Conflict(_("This contract is not flagged for termination review."))
    if not flag.running:
        from evalplatform.services.evaluations import term_end

        raise Conflict(_("The contract ended on %(date)s: there is nothing to terminate, so no "
                         "review is decided; the warning stands for the supplier.",
                         date=term_end(contract).isoformat()))
    if flag.review is not None:
        raise Conflict(_("This flag was reviewed already: %(decision)s.",
                         decision=flag.decision_label))
    errors: dict[str, str] = {}
    try:
        chosen = ReviewDecision(str(decision or ""))
    except ValueError:
        chosen = None
        errors["decision"] = _("Choose: continue with measures, or terminate.")
    reason = str(reason or "").strip()
    if not reason:
        errors["review_reason"] = _("State the reasons of the decision.")
    elif len(reason) > MAX_SUMMARY:
        errors["review_reason"] = _("At most %(n)s characters.", n=MAX_SUMMARY)
    if errors:
        raise ValidationFailed(errors)
    record = TerminationReview(contract_id=contract.id, result_id=flag.results[-1].result.id,
                               decision=chosen, reason=reason, decided_by=principal.actor.id)
    session.add(record)
    session.flush()
    audit.record(session, principal.actor, "contract.termination_review", "contract",
                 contract.id, {"decision": chosen.value, "reason": reason,
                               "results": [r.result.id for r in flag.results]})
    session.commit()
    return record


@dataclass
class Standing:
    supplier: Organisation
    level: str
    reasons: list[str]
    bar: Bar | None
    flags: list[Flag]  # those the reader may read in full (see ``sees_flag``)
    history: list[FinalResult]  # every final result, oldest first
    recent: list[FinalResult]
    complaints: int
    rules: Rules
    notes: list[str] = field(default_factory=list)

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS[self.level])

    @property
    def latest(self) -> FinalResult | None:
        return self.recent[-1] if self.recent else None


def complaints_since(session: Session, supplier_id: int, start: date) -> int:
    return session.exec(select(func.count()).select_from(SupplierComplaint).where(
        SupplierComplaint.supplier_id == supplier_id,
        SupplierComplaint.received_on >= start)).one()


def standing_of(session: Session, supplier: Organisation, today: date | None = None,
                rules: Rules | None = None, reader=None, *,
                history: list[FinalResult] | None = None,
                complaints: int | None = None, terms: dict | None = _READ_TERMS) -> Standing:
    """The supplier's standing with its reasons. With a ``reader`` (the signed-in principal)
    it is the standing as that reader may see it: the level is the same for everyone, but a
    termination flag the reader has no business with is not listed and its reason names only
    the published results; without one (the platform's own rules) every flag is there.
    ``history`` (its final results), ``complaints`` (counted since the look-back's start)
    and ``terms`` (see ``threshold_of``) are given by a caller that read every supplier's at
    once (``all_standings``)."""
    today = today or projects.today()
    rules = rules or settings(session)
    history = final_results(session, supplier.id, closed_by=today) if history is None \
        else history
    start = since(today, rules.lookback_years)
    recent = [r for r in history if r.final_on >= start]
    active = bars(rules, history, today)
    bar = max(active, key=lambda b: (b.until, b.cause.final_on)) if active else None
    warned = [f for f in flags(session, rules, history, today, terms)
              if f.results[-1].final_on >= start]
    # results in a row below threshold across contracts: one contract's run is its flag's
    across = run_below(session, rules, recent, terms)
    if len({r.contract.id for r in across}) < 2:
        across = []
    reasons: list[str] = []
    if bar is not None:
        level = "barred"
        reasons.append(bar.reason)
    if warned or across:
        level = "warned" if bar is None else level
        reasons.extend(f.reason if reader is None or sees_flag(reader, f) else f.public_reason
                       for f in warned)
        if across:
            reasons.append(_("Its latest %(n)s final results in a row, of different contracts, "
                             "are each below the threshold of its contract (%(totals)s); the "
                             "supplier is warned.", n=len(across), totals=_totals(across)))
    latest = recent[-1] if recent else None
    if bar is None and not warned and not across:
        if latest is not None and latest.grade == rules.preferred_grade:
            level = "preferred"
            reasons.append(_("Its latest final result, %(project)s · %(title)s, is %(grade)s "
                             "(%(total)s points): preferred.", project=latest.project.name,
                             title=latest.evaluation.title, grade=latest.grade,
                             total=latest.total))
        elif latest is not None:
            level = "normal"
            reasons.append(_("Its latest final result, %(project)s · %(title)s: %(total)s points "
                             "(%(grade)s); no rule of the standing applies.",
                             project=latest.project.name, title=latest.evaluation.title,
                             total=latest.total, grade=latest.grade))
        else:
            level = "unrated"
            reasons.append(_("No final result in the last %(n)s years.", n=rules.lookback_years))
    shown = [f for f in warned if reader is None or sees_flag(reader, f)]
    if complaints is None:
        complaints = complaints_since(session, supplier.id, start)
    return Standing(supplier, level, reasons, bar, shown, history, recent, complaints, rules)


@dataclass(frozen=True)
class AppliedThreshold:
    """The termination threshold a contract's results are held to: the contract's own term, or
    the standing rules' default where the contract sets none."""

    value: Decimal
    by_contract: bool

    def __str__(self) -> str:
        return str(self.value) if self.by_contract else _(
            "%(value)s (%(note)s)", value=self.value, note=_("default"))


def contract_thresholds(session: Session, found: Standing,
                        reader=None) -> dict[int, AppliedThreshold]:
    """Contract id → the threshold applied to its results, for each contract of the supplier's
    history whose terms ``reader`` may read (``sees_terms``; every contract without a reader).
    A threshold is a contract term: another department's contracts are left out."""
    from evalplatform.models import ContractTerms

    thresholds: dict[int, AppliedThreshold] = {}
    for r in found.history:
        if r.contract.id in thresholds or (
                reader is not None and not sees_terms(reader, r.contract, r.project)):
            continue
        thresholds[r.contract.id] = AppliedThreshold(
            threshold_of(session, r.contract, found.rules),
            session.get(ContractTerms, r.contract.id) is not None)
    return thresholds


def history_chart(found: Standing, thresholds: dict[int, AppliedThreshold]) -> dict:
    """The ECharts options of a supplier's final results over time: each total against the
    bar (a total below it bars the supplier) and against the termination threshold applied to
    the contract that result belongs to (``contract_thresholds``), drawn as a step wherever
    the results change contract, and left out (a gap) where the reader may not read it."""
    dates = [r.final_on.isoformat() for r in found.history]
    return {
        "grid": {"left": 40, "right": 24, "top": 32, "bottom": 40},
        "tooltip": {"trigger": "axis"},
        "legend": {"top": 0},
        # one category per result, named by the day it became final (the table below names
        # its project and evaluation); two results final on one day stay two points
        "xAxis": {"type": "category", "data": dates, "axisLabel": {"hideOverlap": True}},
        "yAxis": {"type": "value", "min": 0, "max": 100},
        "series": [
            {"type": "line", "name": _("Total score"),
             "data": [float(r.total) for r in found.history],
             # the bar: a solid line, labelled, so that "the dashed line" is the threshold
             "markLine": {"silent": True, "symbol": "none",
                          "lineStyle": {"type": "solid", "color": "#a4161a", "width": 1},
                          "label": {"position": "insideEndTop", "formatter": "{b} {c}"},
                          "data": [{"yAxis": float(found.rules.bar_below),
                                    "name": _("Bar")}]},
             "itemStyle": {"color": "#a4161a"}},
            {"type": "line", "name": _("Contract's threshold"), "step": "middle",
             # a mark on each result too: with one result, a line alone would draw nothing
             "symbol": "rect", "symbolSize": 6,
             "lineStyle": {"type": "dashed", "color": "#6b4e00"},
             "itemStyle": {"color": "#6b4e00"},
             "data": [float(thresholds[r.contract.id].value) if r.contract.id in thresholds
                      else None for r in found.history]},
        ]}


def suppliers(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(
        Organisation.kind == OrganisationKind.supplier).order_by(Organisation.name)))


def all_standings(session: Session, today: date | None = None, reader=None) -> list[Standing]:
    """Every supplier's standing, as ``reader`` may see it (see ``standing_of``)."""
    from evalplatform.models import ContractTerms

    today = today or projects.today()
    rules = settings(session)
    # every supplier's results, complaints and contract terms in one statement each, not one
    # (or more) per supplier
    histories: dict[int, list[FinalResult]] = {}
    for result in final_results(session, closed_by=today):
        histories.setdefault(result.contract.supplier_id, []).append(result)
    terms = {t.contract_id: t for t in session.exec(select(ContractTerms).where(
        col(ContractTerms.contract_id).in_(
            {r.contract.id for rows in histories.values() for r in rows})))}
    start = since(today, rules.lookback_years)
    complaints = {supplier_id: count for supplier_id, count in session.exec(
        select(SupplierComplaint.supplier_id, func.count()).where(
            SupplierComplaint.received_on >= start).group_by(SupplierComplaint.supplier_id)
    ).all()}
    found = [standing_of(session, s, today, rules, reader, history=histories.get(s.id, []),
                         complaints=complaints.get(s.id, 0), terms=terms)
             for s in suppliers(session)]
    found.sort(key=lambda s: (LEVELS.index(s.level), s.supplier.name))
    return found


def filter_problems(level: str = "") -> dict[str, str]:
    """The JSON API's ``level`` filter → why it cannot be applied, in the reader's language
    (a program asking for ``level=bared`` must not be handed every supplier)."""
    if level and level not in LEVELS:
        return {"level": _("Choose one of the standing levels: %(choices)s.",
                           choices=", ".join(LEVELS))}
    return {}


def get_supplier(session: Session, supplier_id: int) -> Organisation:
    supplier = session.get(Organisation, supplier_id)
    if supplier is None or supplier.kind != OrganisationKind.supplier:
        raise NotFound(_("No such supplier."))
    return supplier


# ---------------------------------------------------------------- complaints


def record_complaint(session: Session, principal, contract_id: int, *, received_on: str,
                     summary: str, today: date | None = None) -> SupplierComplaint:
    """Record a substantiated complaint about the service of a contract (有效投诉)."""
    from evalplatform.services.acceptance import personal_data_in

    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("No such contract."))
    project = session.get(Project, contract.project_id)
    allowed = principal.role == Role.finance or (
        principal.role == Role.purchaser and principal.organisation_id == project.department_id)
    if not allowed:
        raise PermissionDenied(_("Only the purchasing department or finance records complaints "
                                 "about a contract's service."))
    today = today or projects.today()
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(str(received_on or "").strip())
        if day > today:
            errors["received_on"] = _("The date cannot be in the future.")
        elif day < contract.signed_on:
            errors["received_on"] = _("The complaint cannot come before the contract was signed "
                                      "(%(date)s).", date=contract.signed_on.isoformat())
    except ValueError:
        day = None
        errors["received_on"] = _("Enter the date as YYYY-MM-DD.")
    summary = str(summary or "").strip()
    if not summary:
        errors["summary"] = _("Summarise what the complaint was about and how it was verified.")
    elif len(summary) > MAX_SUMMARY:
        errors["summary"] = _("At most %(n)s characters.", n=MAX_SUMMARY)
    elif personal_data_in(summary):
        errors["summary"] = _("Leave out personal data: %(what)s.", what=personal_data_in(summary))
    if errors:
        raise ValidationFailed(errors)
    complaint = SupplierComplaint(supplier_id=contract.supplier_id, contract_id=contract.id,
                                  received_on=day, summary=summary, recorded_by=principal.actor.id)
    session.add(complaint)
    session.flush()
    audit.record(session, principal.actor, "complaint.record", "supplier_complaint", complaint.id,
                 {"contract": contract.id, "supplier": contract.supplier_id,
                  "received_on": day, "summary": summary})
    session.commit()
    return complaint


def complaints_of(session: Session, *, supplier_id: int | None = None,
                  contract_id: int | None = None) -> list[SupplierComplaint]:
    statement = select(SupplierComplaint).order_by(col(SupplierComplaint.received_on).desc())
    if supplier_id is not None:
        statement = statement.where(SupplierComplaint.supplier_id == supplier_id)
    if contract_id is not None:
        statement = statement.where(SupplierComplaint.contract_id == contract_id)
    return list(session.exec(statement))


def complaints_seen_by(session: Session, reader, supplier_id: int) -> list[SupplierComplaint]:
    """The supplier's complaints whose summaries ``reader`` may read: all for finance and
    auditors, the supplier's own, a purchasing department only those about its own contracts.
    The count that weighs in selection stays everyone's (``Standing.complaints``)."""
    found = complaints_of(session, supplier_id=supplier_id)
    if reader.role in (Role.finance, Role.auditor):
        return found
    if reader.role == Role.supplier:
        return found if reader.organisation_id == supplier_id else []
    if reader.role == Role.purchaser and reader.organisation_id is not None:
        own = {c.id for c, p in session.exec(select(Contract, Project).join(
            Project, Contract.project_id == Project.id).where(
            Contract.supplier_id == supplier_id,
            Project.department_id == reader.organisation_id))}
        return [c for c in found if c.contract_id in own]
    return []


# ---------------------------------------------------------------- home cards


@dataclass(frozen=True)
class _Reader:
    """Who reads, as ``sees_flag`` needs it (a home card knows the role and organisation)."""

    role: Role
    organisation_id: int | None


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    today = projects.today()
    if role == Role.supplier and organisation_id is not None:
        supplier = session.get(Organisation, organisation_id)
        if supplier is None or supplier.kind != OrganisationKind.supplier:
            return []
        mine = standing_of(session, supplier, today)
        return [dashboard.Card(_("My standing"), mine.level_label, mine.reasons[0],
                               "/standing", urgent=mine.level in ("barred", "warned"))]
    if role == Role.purchaser and organisation_id is not None:
        # the department decides the reviews of its own contracts: say when one waits
        own = [f for s in all_standings(session, today, _Reader(role, organisation_id))
               for f in s.flags if f.awaiting_review]
        if not own:
            return []
        return [dashboard.Card(_("Termination reviews to decide"), str(len(own)),
                               _("Contracts with results in a row below their threshold"),
                               "/standing#flags", urgent=True)]
    if role not in (Role.finance, Role.auditor):
        return []
    found = all_standings(session, today)
    barred = sum(1 for s in found if s.level == "barred")
    waiting = sum(1 for s in found for f in s.flags if f.awaiting_review)
    return [dashboard.Card(_("Suppliers barred or warned"),
                           f"{barred} / {sum(1 for s in found if s.level == 'warned')}",
                           _("%(n)s termination reviews to decide", n=waiting),
                           "/standing#flags", urgent=waiting > 0)]
