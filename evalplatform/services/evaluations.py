"""Evaluations (评价): scheduling them on a contract, their status, the monitoring rule.

An evaluation belongs to a contract, has a stage (事中 interim / 事后 final), the period it
judges, a schedule (opens, closes) and a status that moves forward one step at a time:
draft → collecting → scoring → computed → published → final. Creating one freezes the
contract's indicator scheme (考核标准), so the evaluation always scores by the scheme it
started on; a changed scheme is a new version for later evaluations.

Each contract needs at least one monitoring round (事中监控, an interim evaluation) in every
contract year; :func:`monitoring_gaps` finds the years without one for the late list.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from evalplatform.i18n import _
from evalplatform.models import (
    Contract,
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
    IndicatorScheme,
    Organisation,
    Project,
    Role,
)
from evalplatform.services import audit, dashboard, projects, schemes, years
from evalplatform.services.audit import Actor
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.paging import DEFAULT_PER_PAGE, Page, any_contains, paginate

LOCAL_TZ = projects.LOCAL_TZ

#: Forward moves; ``reopen`` may also take computed or published back to scoring.
NEXT_STATUS = {
    EvaluationStatus.draft: EvaluationStatus.collecting,
    EvaluationStatus.collecting: EvaluationStatus.scoring,
    EvaluationStatus.scoring: EvaluationStatus.computed,
    EvaluationStatus.computed: EvaluationStatus.published,
    EvaluationStatus.published: EvaluationStatus.final,
}
REOPENABLE = {EvaluationStatus.computed, EvaluationStatus.published}


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(contract: Contract) -> date:
    """The last day of the contract's term."""
    return add_months(contract.signed_on, contract.term_months) - timedelta(days=1)


def local_date(moment: datetime) -> date:
    return as_utc(moment).astimezone(LOCAL_TZ).date()


def _parse_date(value, field: str, errors: dict) -> date | None:
    text = str(value or "").strip()
    if not text:
        errors[field] = _("This date is required.")
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None
    if not years.within(day):
        errors[field] = years.day_problem()
        return None
    return day


def _parse_moment(value, field: str, errors: dict, *, end_of_day: bool = False) -> datetime | None:
    """A local date or date-time (``2026-05-01`` or ``2026-05-01T09:00``), stored in UTC."""
    text = str(value or "").strip()
    if not text:
        errors[field] = _("This date is required.")
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime.combine(day, time(23, 59, 59) if end_of_day else time(0, 0))
        else:
            moment = datetime.fromisoformat(text)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD or a time as YYYY-MM-DDTHH:MM.")
        return None
    if not years.within(moment.date()):
        errors[field] = years.day_problem()
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return as_utc(moment)


def get(session: Session, evaluation_id: int) -> Evaluation:
    evaluation = session.get(Evaluation, evaluation_id)
    if evaluation is None:
        raise NotFound(_("This evaluation does not exist."))
    return evaluation


def contract_of(session: Session, evaluation: Evaluation) -> Contract:
    return session.get(Contract, evaluation.contract_id)


def project_of(session: Session, evaluation: Evaluation) -> Project:
    return session.get(Project, contract_of(session, evaluation).project_id)


def scheme_document(session: Session, evaluation: Evaluation) -> dict:
    """The frozen scheme the evaluation scores by, in the scoring package's format."""
    return session.get(IndicatorScheme, evaluation.scheme_id).document


def belongs_to(session: Session, evaluation_id, organisation_id: int | None) -> bool:
    """Whether the evaluation's project belongs to the purchasing department."""
    try:
        evaluation = session.get(Evaluation, int(evaluation_id))
    except (TypeError, ValueError):
        return False
    if evaluation is None or organisation_id is None:
        return False
    return projects.belongs_to(session, project_of(session, evaluation).id, organisation_id)


def supplier_of(session: Session, evaluation: Evaluation) -> int:
    return contract_of(session, evaluation).supplier_id


#: Rules that say whether an evaluator (a panel expert, a third-party firm's staff) is
#: assigned to an evaluation; the scoresheets capability registers its own.
AssignmentCheck = Callable[[Session, Any, Evaluation], bool]
_ASSIGNMENT_CHECKS: list[AssignmentCheck] = []


def assignment_check(function: AssignmentCheck) -> AssignmentCheck:
    _ASSIGNMENT_CHECKS.append(function)
    return function


def assigned_ids(session: Session, principal) -> list[int]:
    """The evaluations an evaluator is assigned to, by every registered rule."""
    return [e.id for e in session.exec(select(Evaluation))
            if any(check(session, principal, e) for check in _ASSIGNMENT_CHECKS)]


def can_see(session: Session, principal, evaluation: Evaluation) -> bool:
    """Finance and auditors see all; a purchaser its department's; a supplier its own
    contract's; an evaluator only the evaluations it is assigned to."""
    if principal.role in (Role.finance, Role.auditor):
        return True
    if principal.role == Role.purchaser:
        return project_of(session, evaluation).department_id == principal.organisation_id
    if principal.role == Role.supplier:
        return (principal.organisation_id is not None
                and supplier_of(session, evaluation) == principal.organisation_id)
    if principal.role == Role.evaluator:
        return any(check(session, principal, evaluation) for check in _ASSIGNMENT_CHECKS)
    return False


def owns_evaluation(principal, session: Session, path_params: dict) -> bool:
    """The ownership rule of every evaluation route (``require(..., owns=owns_evaluation)``)."""
    try:
        evaluation = session.get(Evaluation, int(path_params["evaluation_id"]))
    except (KeyError, TypeError, ValueError):
        return False
    return evaluation is not None and can_see(session, principal, evaluation)


# ---------------------------------------------------------------- the contract's scheme


def assign_scheme(session: Session, principal, contract_id: int, source_scheme_id: int
                  ) -> IndicatorScheme:
    """Give the contract its assessment standard (考核标准): a copy of a template or scheme.

    The copy belongs to the purchasing department and may be adapted until an evaluation
    starts on it. The source must be one the department may copy and complete, and a scheme
    the contract has that no evaluation froze yet is adapted, not replaced
    (``schemes.check_contract_choice``), whichever form or call asks.
    """
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("This contract does not exist."))
    project = session.get(Project, contract.project_id)
    if principal.role != Role.purchaser or principal.organisation_id != project.department_id:
        raise PermissionDenied(_("Only the purchasing department sets its contract's scheme."))
    schemes.check_contract_choice(session, principal, contract.scheme_id, source_scheme_id)
    scheme = schemes.copy_scheme(session, principal, source_scheme_id,
                                 name=_("%(project)s · indicator scheme", project=project.name))
    contract.scheme_id = scheme.id
    session.add(contract)
    audit.record(session, principal.actor, "contract.scheme", "contract", contract.id,
                 {"scheme": scheme.id, "from": source_scheme_id})
    session.commit()
    return scheme


# ---------------------------------------------------------------- create


def create(session: Session, actor: Actor, contract_id: int, values: dict) -> Evaluation:
    """Schedule an evaluation on the contract; freezes the contract's scheme."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("This contract does not exist."))
    errors: dict[str, str] = {}
    title = str(values.get("title") or "").strip()
    if not title:
        errors["title"] = _("A title is required.")
    elif len(title) > 200:
        errors["title"] = _("The title must be at most 200 characters.")
    try:
        stage = EvaluationStage(str(values.get("stage") or ""))
    except ValueError:
        errors["stage"] = _("Choose interim (monitoring) or final.")
        stage = None
    start = _parse_date(values.get("period_start"), "period_start", errors)
    end = _parse_date(values.get("period_end"), "period_end", errors)
    last_day = term_end(contract)
    if start and start < contract.signed_on:
        errors["period_start"] = _("The period cannot begin before the contract was signed "
                                   "(%(day)s).", day=contract.signed_on.isoformat())
    if start and end and end < start:
        errors["period_end"] = _("The period cannot end before it begins.")
    elif end and end > last_day:
        errors["period_end"] = _("The period cannot end after the contract's term "
                                 "(%(day)s).", day=last_day.isoformat())
    opens = _parse_moment(values.get("opens_at"), "opens_at", errors)
    closes = _parse_moment(values.get("closes_at"), "closes_at", errors, end_of_day=True)
    if opens and closes and closes <= opens:
        errors["closes_at"] = _("The evaluation must close after it opens.")
    if contract.scheme_id is None:
        errors["scheme"] = _("The contract has no indicator scheme yet: choose one on the "
                             "contract page first.")
    else:
        scheme = session.get(IndicatorScheme, contract.scheme_id)
        found = schemes.problems(scheme.document)
        if found:
            errors["scheme"] = _("The contract's indicator scheme is not complete: %(first)s",
                                 first=next(iter(found.values())))
    if stage == EvaluationStage.final and not errors:
        overlapping = session.exec(select(Evaluation).where(
            Evaluation.contract_id == contract.id, Evaluation.stage == EvaluationStage.final,
            Evaluation.period_start <= end, Evaluation.period_end >= start)).first()
        if overlapping is not None:
            errors["period_start"] = _("A final evaluation of this contract already covers "
                                       "part of this period: %(title)s.", title=overlapping.title)
    if errors:
        raise ValidationFailed(errors)
    schemes.freeze(session, actor, contract.scheme_id)
    evaluation = Evaluation(contract_id=contract.id, scheme_id=contract.scheme_id, stage=stage,
                            title=title, period_start=start, period_end=end, opens_at=opens,
                            closes_at=closes, note=str(values.get("note") or "").strip(),
                            created_by=actor.id)
    session.add(evaluation)
    session.flush()
    audit.record(session, actor, "evaluation.create", "evaluation", evaluation.id,
                 {"contract": contract.id, "scheme": contract.scheme_id, "stage": stage.value,
                  "period": [start.isoformat(), end.isoformat()]})
    session.commit()
    session.refresh(evaluation)
    return evaluation


# ---------------------------------------------------------------- status


def _move(session: Session, actor: Actor, evaluation: Evaluation, to: EvaluationStatus,
          expected_version: int | None, change: dict) -> Evaluation:
    version = evaluation.version if expected_version is None else expected_version
    left = evaluation.status.value  # the update below synchronises the loaded object
    moved = session.execute(
        update(Evaluation)
        .where(Evaluation.id == evaluation.id, Evaluation.version == version)
        .values(status=to, version=version + 1, status_changed_at=now()))
    if moved.rowcount != 1:
        session.rollback()
        raise Conflict(_("Someone else changed this evaluation a moment ago; reload and try "
                         "again."))
    audit.record(session, actor, f"evaluation.{to.value}", "evaluation", evaluation.id,
                 {"from": left, **change})
    session.commit()
    session.refresh(evaluation)
    return evaluation


def advance(session: Session, actor: Actor, evaluation_id: int, to: EvaluationStatus | str,
            *, expected_version: int | None = None, change: dict | None = None) -> Evaluation:
    """Move the evaluation one step on; anything else is refused with the reason.

    The services that own each step (the survey, the scoresheets, the result) call this in
    their own rules; ``expected_version`` makes two concurrent moves fail cleanly.
    """
    evaluation = get(session, evaluation_id)
    to = EvaluationStatus(to)
    if NEXT_STATUS.get(evaluation.status) != to:
        raise Conflict(_("An evaluation that is %(now)s cannot become %(to)s.",
                         now=status_label(evaluation.status), to=status_label(to)))
    return _move(session, actor, evaluation, to, expected_version, change or {})


def reopen(session: Session, actor: Actor, evaluation_id: int, reason: str, *,
           expected_version: int | None = None, change: dict | None = None) -> Evaluation:
    """A reasoned reopening: a computed or published evaluation goes back to scoring."""
    evaluation = get(session, evaluation_id)
    if not reason.strip():
        raise ValidationFailed({"reason": _("A reason is required to reopen an evaluation.")})
    if evaluation.status not in REOPENABLE:
        raise Conflict(_("Only a computed or published evaluation can be reopened."))
    return _move(session, actor, evaluation, EvaluationStatus.scoring, expected_version,
                 {"reason": reason.strip(), **(change or {})})


def open_now(session: Session, actor: Actor, evaluation_id: int) -> Evaluation:
    """Start collecting (the organiser opens the evaluation)."""
    return advance(session, actor, evaluation_id, EvaluationStatus.collecting)


#: The steps the organiser takes by hand; computing and publishing belong to the result.
ORGANISER_STEPS = (EvaluationStatus.collecting, EvaluationStatus.scoring)


def organiser_step(session: Session, actor: Actor, evaluation_id: int, to: str, *,
                   expected_version: int | None = None) -> Evaluation:
    """The organiser opens collection or closes it."""
    if to not in ORGANISER_STEPS:
        raise Conflict(_("That step is taken by computing or publishing the result."))
    return advance(session, actor, evaluation_id, to, expected_version=expected_version)


def status_label(status: EvaluationStatus) -> str:
    from evalplatform.labels import EVALUATION_STATUS_LABELS

    return _(EVALUATION_STATUS_LABELS[status])


def window_state(evaluation: Evaluation, moment: datetime | None = None) -> str:
    """``before``, ``open`` or ``after`` the schedule's window."""
    moment = moment or now()
    if moment < as_utc(evaluation.opens_at):
        return "before"
    if moment > as_utc(evaluation.closes_at):
        return "after"
    return "open"


# ---------------------------------------------------------------- lists


@dataclass
class EvaluationRow:
    evaluation: Evaluation
    contract: Contract
    project: Project
    department: Organisation
    supplier: Organisation


#: The list's filter for the evaluations under way (进行中): collecting answers or scores, as
#: the home page's card counts them.
UNDER_WAY = "under_way"
UNDER_WAY_STATUSES = (EvaluationStatus.collecting, EvaluationStatus.scoring)


def filter_problems(status: str = "", stage: str = "") -> dict[str, str]:
    """Filter → why it cannot be applied, in the reader's language. The pages ignore an
    unknown filter (a stale link still lists); the JSON API refuses it, since a program that
    asked for ``status=finall`` must not be handed every evaluation as if it were final."""
    found: dict[str, str] = {}
    if status and status not in EvaluationStatus.__members__ and status != UNDER_WAY:
        found["status"] = _("Choose one of the evaluation statuses: %(choices)s.",
                            choices=", ".join([*EvaluationStatus.__members__, UNDER_WAY]))
    if stage and stage not in EvaluationStage.__members__:
        found["stage"] = _("Choose one of the evaluation stages: %(choices)s.",
                           choices=", ".join(EvaluationStage.__members__))
    return found


def page(session: Session, *, organisation_id: int | None = None, supplier_id: int | None = None,
         evaluation_ids: list[int] | None = None, status: str = "", stage: str = "",
         q: str = "", sort: str | None = None, page_number: int = 1,
         per_page: int = DEFAULT_PER_PAGE) -> Page:
    """Evaluations with their contract, project, department and supplier, paged."""
    from sqlalchemy.orm import aliased

    department = aliased(Organisation)
    supplier = aliased(Organisation)
    statement = (select(Evaluation, Contract, Project, department, supplier)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(department, Project.department_id == department.id)
                 .join(supplier, Contract.supplier_id == supplier.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    if evaluation_ids is not None:
        statement = statement.where(col(Evaluation.id).in_(evaluation_ids or [-1]))
    if status in EvaluationStatus.__members__:
        statement = statement.where(Evaluation.status == EvaluationStatus(status))
    elif status == UNDER_WAY:
        statement = statement.where(col(Evaluation.status).in_(UNDER_WAY_STATUSES))
    if stage in EvaluationStage.__members__:
        statement = statement.where(Evaluation.stage == EvaluationStage(stage))
    if q.strip():
        statement = statement.where(any_contains(q, Evaluation.title, Project.name))
    result = paginate(session, statement,
                      sort_columns={"title": Evaluation.title, "opens_at": Evaluation.opens_at,
                                    "closes_at": Evaluation.closes_at,
                                    "status": Evaluation.status, "project": Project.name},
                      sort=sort, default_sort="-opens_at", page=page_number,
                      per_page=per_page)
    result.items = [EvaluationRow(*row) for row in result.items]
    return result


def for_contract(session: Session, contract_id: int) -> list[Evaluation]:
    return list(session.exec(select(Evaluation).where(Evaluation.contract_id == contract_id)
                             .order_by(Evaluation.period_start, Evaluation.id)))


# ---------------------------------------------------------------- monitoring rule


@dataclass
class MonitoringGap:
    """A contract year (合同年度) without an interim evaluation (事中监控)."""

    contract: Contract
    project: Project
    department: Organisation
    year_start: date
    year_end: date
    late_days: int  # days since the contract year ended (0 while it still runs)


def contract_years(contract: Contract) -> list[tuple[date, date]]:
    """The contract's term cut into years from the signing date (the last may be shorter)."""
    years, start, last = [], contract.signed_on, term_end(contract)
    while start <= last:
        end = min(add_months(start, 12) - timedelta(days=1), last)
        years.append((start, end))
        start = end + timedelta(days=1)
    return years


def monitoring_gaps(session: Session, *, organisation_id: int | None, today: date
                    ) -> list[MonitoringGap]:
    """Contract years that began by ``today`` and have no interim evaluation overlapping them.

    On a past ``today`` (the half-year report's last day) a round created later did not exist
    yet: a contract year that had ended without one was late on that day, whatever came after."""
    statement = (select(Contract, Project, Organisation)
                 .join(Project, Contract.project_id == Project.id)
                 .join(Organisation, Project.department_id == Organisation.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    interim: dict[int, list[Evaluation]] = {}
    for evaluation in session.exec(select(Evaluation).where(
            Evaluation.stage == EvaluationStage.interim)):
        interim.setdefault(evaluation.contract_id, []).append(evaluation)
    gaps = []
    for contract, project, department in session.exec(statement.order_by(Contract.id)):
        for start, end in contract_years(contract):
            if start > today:
                break
            rounds = [e for e in interim.get(contract.id, [])
                      if e.period_start <= end and e.period_end >= start
                      and local_date(e.created_at) <= today]
            if not rounds:
                gaps.append(MonitoringGap(contract, project, department, start, end,
                                          max(0, (today - end).days)))
    return gaps


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    if role not in (Role.finance, Role.purchaser, Role.auditor):
        return []
    scope = organisation_id if role == Role.purchaser else None
    running = page(session, organisation_id=scope, status=UNDER_WAY).total
    return [dashboard.Card(_("Evaluations under way"), str(running),
                           _("Collecting answers or scores"),
                           f"/evaluations?status={UNDER_WAY}")]
