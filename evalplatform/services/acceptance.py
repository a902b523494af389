"""Acceptance (验收) of a public service, with its recipients' participation and opinion.

A public service is accepted with the participation of the people who received it (服务对象
参与验收): the record says when, the conclusion, how many recipients took part and how, and
their opinion in a summary — with a link to the satisfaction survey where there is one. The
acceptance is published together with the evaluation's result (公示): the public notice
shows the project, the department, the supplier, the result and the acceptance, and no
personal data; a text holding a mobile number or an identity-card number is refused.

The payment period of a small or medium supplier runs from the acceptance date
(see :mod:`evalplatform.services.settlements`). Once the evaluation's result is published
the acceptance can no longer be changed: nothing published is ever silently changed. One
step stays open: a service that failed its acceptance (验收不合格) is rectified and accepted
again (整改后复验); the re-acceptance is recorded over the failed one, which the audit log keeps
(action ``acceptance.reaccept``, with the failed record's date, conclusion and opinion), and the
payment period runs from the re-acceptance.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from evalplatform.i18n import N_, _
from evalplatform.models import (
    Acceptance,
    AcceptanceConclusion,
    AuditEntry,
    Contract,
    Evaluation,
    EvaluationResult,
    EvaluationStatus,
    Organisation,
    Project,
    Role,
)
from evalplatform.services import audit, evaluations, projects
from evalplatform.services.clock import now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

MAX_OPINION = 4000
MAX_PARTICIPATION = 2000
MAX_URL = 500
MAX_PARTICIPANTS = 10_000_000
PUBLISHED_STATUSES = (EvaluationStatus.published, EvaluationStatus.final)

CONCLUSION_LABELS = {
    AcceptanceConclusion.accepted: N_("Accepted"),
    AcceptanceConclusion.rejected: N_("Not accepted"),
}

#: Personal data the public notice must never carry.
MOBILE_RE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_CARD_RE = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
URL_RE = re.compile(r"^(https?://[^\s<>\"']+|/[^\s<>\"']*)$")


def personal_data_in(text: str) -> str | None:
    """What kind of personal data the text holds, if any."""
    if MOBILE_RE.search(text):
        return _("a mobile phone number")
    if ID_CARD_RE.search(text):
        return _("an identity-card number")
    return None


def for_evaluation(session: Session, evaluation_id: int) -> Acceptance | None:
    return session.exec(select(Acceptance).where(Acceptance.evaluation_id == evaluation_id)).first()


def published_result(session: Session, evaluation: Evaluation) -> EvaluationResult | None:
    """The evaluation's current published result, if the evaluation is published or final."""
    if evaluation.status not in PUBLISHED_STATUSES:
        return None
    return session.exec(
        select(EvaluationResult)
        .where(EvaluationResult.evaluation_id == evaluation.id,
               col(EvaluationResult.superseded).is_(False),
               col(EvaluationResult.published_at).is_not(None))
        .order_by(col(EvaluationResult.version).desc())).first()


def stage(session: Session, evaluation: Evaluation, existing: Acceptance | None) -> str:
    """What may be recorded now: ``open`` (a first acceptance, or a correction before
    publication), ``reaccept`` (a published failed acceptance awaits its re-acceptance after
    rectification) or ``locked`` (a published passed acceptance)."""
    if existing is None or published_result(session, evaluation) is None:
        return "open"
    return "reaccept" if existing.conclusion == AcceptanceConclusion.rejected else "locked"


def record(session: Session, principal, evaluation_id: int, values: dict,
           today: date | None = None) -> Acceptance:
    """The purchasing department records (or corrects, before publication) the acceptance."""
    evaluation = evaluations.get(session, evaluation_id)
    contract = evaluations.contract_of(session, evaluation)
    project = session.get(Project, contract.project_id)
    if principal.role != Role.purchaser or principal.organisation_id != project.department_id:
        raise PermissionDenied(_("Only the purchasing department records the acceptance of its "
                                 "service."))
    existing = for_evaluation(session, evaluation.id)
    now_open = stage(session, evaluation, existing)
    if now_open == "locked":
        raise Conflict(_("The acceptance was published with the result; it can no longer be "
                         "changed."))
    reaccepting = now_open == "reaccept"  # the failed acceptance stays in the audit log
    today = today or projects.today()
    errors: dict[str, str] = {}
    text = str(values.get("accepted_on") or "").strip()
    try:
        accepted_on = date.fromisoformat(text)
    except ValueError:
        accepted_on = None
        errors["accepted_on"] = _("Enter the acceptance date as YYYY-MM-DD.")
    if accepted_on is not None:
        if accepted_on > today:
            errors["accepted_on"] = _("The acceptance date cannot be in the future.")
        elif accepted_on < evaluation.period_start:
            errors["accepted_on"] = _(
                "The acceptance cannot come before the period it accepts begins (%(date)s).",
                date=evaluation.period_start.isoformat())
    try:
        conclusion = AcceptanceConclusion(str(values.get("conclusion") or ""))
    except ValueError:
        conclusion = None
        errors["conclusion"] = _("Choose the conclusion: accepted or not accepted.")
    try:
        participants = int(str(values.get("participants") or "0").strip() or "0")
        if not 0 <= participants <= MAX_PARTICIPANTS:
            raise ValueError
    except ValueError:
        participants = None
        errors["participants"] = _("Enter how many recipients took part, as a whole number.")
    if participants == 0 and "participants" not in errors:
        errors["participants"] = _(
            "A public service is accepted with its recipients' participation: enter how many "
            "took part.")
    participation = str(values.get("participation") or "").strip()
    opinion = str(values.get("opinion") or "").strip()
    if not opinion:
        errors["opinion"] = _("Summarise the recipients' opinion.")
    elif len(opinion) > MAX_OPINION:
        errors["opinion"] = _("At most %(n)s characters.", n=MAX_OPINION)
    if len(participation) > MAX_PARTICIPATION:
        errors["participation"] = _("At most %(n)s characters.", n=MAX_PARTICIPATION)
    for name, content in (("participation", participation), ("opinion", opinion)):
        found = personal_data_in(content)
        if found and name not in errors:
            errors[name] = _("The acceptance is published: remove %(what)s (no personal data).",
                             what=found)
    survey_url = str(values.get("survey_url") or "").strip()
    if survey_url and (len(survey_url) > MAX_URL or not URL_RE.match(survey_url)):
        errors["survey_url"] = _("Enter the survey's address starting with https://, http:// "
                                 "or /, or leave it empty.")
    if reaccepting:
        failed_on = existing.accepted_on
        if conclusion is not None and conclusion != AcceptanceConclusion.accepted:
            errors["conclusion"] = _(
                "The service failed its acceptance on %(date)s and that record is published: "
                "record here only the re-acceptance after rectification, with the conclusion "
                "accepted.", date=failed_on.isoformat())
        if accepted_on is not None and accepted_on <= failed_on and "accepted_on" not in errors:
            errors["accepted_on"] = _(
                "A re-acceptance comes after the failed acceptance of %(date)s.",
                date=failed_on.isoformat())
    if errors:
        raise ValidationFailed(errors)
    failed = None
    if reaccepting:
        failed = {"accepted_on": existing.accepted_on, "conclusion": existing.conclusion.value,
                  "opinion": existing.opinion}
    acceptance = existing or Acceptance(evaluation_id=evaluation.id, contract_id=contract.id,
                                        accepted_on=accepted_on, conclusion=conclusion,
                                        opinion=opinion)
    acceptance.accepted_on = accepted_on
    acceptance.conclusion = conclusion
    acceptance.participants = participants
    acceptance.participation = participation
    acceptance.opinion = opinion
    acceptance.survey_url = survey_url
    acceptance.recorded_by = principal.actor.id
    acceptance.recorded_at = now()
    session.add(acceptance)
    session.flush()
    details = {
        "evaluation": evaluation.id, "accepted_on": accepted_on, "conclusion": conclusion.value,
        "participants": participants, "participation": participation, "opinion": opinion,
        "survey_url": survey_url, "corrected": existing is not None and not reaccepting}
    if reaccepting:
        details["failed"] = failed
    from evalplatform.services import settlements  # settlements read acceptances

    # a payment recorded before this acceptance was known: its period runs from this date
    recounted = settlements.recount_paid(session, evaluation.id)
    if recounted:
        details["payments"] = recounted
    audit.record(session, principal.actor,
                 "acceptance.reaccept" if reaccepting else "acceptance.record", "acceptance",
                 acceptance.id, details)
    session.commit()
    session.refresh(acceptance)
    return acceptance


def failed_before(session: Session, acceptance: Acceptance) -> dict | None:
    """The failed acceptance a re-acceptance followed (整改后复验), from the audit log:
    its date (``accepted_on``), conclusion and opinion; None for a first acceptance."""
    entry = session.exec(select(AuditEntry).where(
        AuditEntry.entity_type == "acceptance", AuditEntry.entity_id == str(acceptance.id),
        AuditEntry.action == "acceptance.reaccept").order_by(col(AuditEntry.seq).desc())).first()
    if entry is None:
        return None
    return json.loads(entry.change).get("failed")


# ---------------------------------------------------------------- the public notice


@dataclass
class Notice:
    """验收及评价结果公示: what the public sees, and nothing personal."""

    acceptance: Acceptance
    evaluation: Evaluation
    result: EvaluationResult
    project: Project
    department: Organisation
    supplier: Organisation
    failed: dict | None = None  # the failed acceptance a re-acceptance followed (复验)

    @property
    def conclusion_label(self) -> str:
        return str(CONCLUSION_LABELS[self.acceptance.conclusion])


def _notice(session: Session, acceptance: Acceptance) -> Notice | None:
    evaluation = session.get(Evaluation, acceptance.evaluation_id)
    result = published_result(session, evaluation)
    if result is None:
        return None
    contract = session.get(Contract, acceptance.contract_id)
    project = session.get(Project, contract.project_id)
    return Notice(acceptance, evaluation, result, project,
                  session.get(Organisation, project.department_id),
                  session.get(Organisation, contract.supplier_id),
                  failed_before(session, acceptance))


def published(session: Session) -> list[Notice]:
    """Every acceptance whose evaluation's result is published, newest publication first:
    each kind of record read once for all of them (the public list grows every year)."""
    rows = session.exec(
        select(Acceptance, Evaluation, Contract, Project)
        .join(Evaluation, Acceptance.evaluation_id == Evaluation.id)
        .join(Contract, Acceptance.contract_id == Contract.id)
        .join(Project, Contract.project_id == Project.id)
        .where(col(Evaluation.status).in_(PUBLISHED_STATUSES))).all()
    if not rows:
        return []
    current: dict[int, EvaluationResult] = {}
    for result in session.exec(select(EvaluationResult).where(
            col(EvaluationResult.evaluation_id).in_([e.id for _a, e, _c, _p in rows]),
            col(EvaluationResult.superseded).is_(False),
            col(EvaluationResult.published_at).is_not(None))):
        known = current.get(result.evaluation_id)
        if known is None or result.version > known.version:
            current[result.evaluation_id] = result
    wanted = {p.department_id for _a, _e, _c, p in rows} | {c.supplier_id for _a, _e, c, _p in rows}
    organisations = {o.id: o for o in session.exec(select(Organisation).where(
        col(Organisation.id).in_(sorted(wanted))))}
    failed: dict[str, dict | None] = {}
    for entry in session.exec(select(AuditEntry).where(
            AuditEntry.entity_type == "acceptance", AuditEntry.action == "acceptance.reaccept",
            col(AuditEntry.entity_id).in_([str(a.id) for a, _e, _c, _p in rows]))
            .order_by(AuditEntry.seq)):
        failed[entry.entity_id] = json.loads(entry.change).get("failed")  # the latest wins
    notices = [Notice(a, e, current[e.id], p, organisations[p.department_id],
                      organisations[c.supplier_id], failed.get(str(a.id)))
               for a, e, c, p in rows if e.id in current]
    notices.sort(key=lambda n: (n.result.published_at, n.acceptance.id), reverse=True)
    return notices


def notice(session: Session, acceptance_id: int) -> Notice:
    acceptance = session.get(Acceptance, acceptance_id)
    found = _notice(session, acceptance) if acceptance is not None else None
    if found is None:
        raise NotFound(_("No such acceptance notice."))
    return found
