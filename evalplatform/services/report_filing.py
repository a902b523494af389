"""Filing the evaluation report (评价报告备案) of a project of ¥5,000,000 or more.

Such a project files its contract copy within 15 days of signing (contracts.py) and, after
its ex-post evaluation (事后评价), the evaluation report with its ex-ante performance
assessment (事前绩效评估) with finance. The platform holds both: the report is the one it
makes of the final result (``/evaluations/{id}/result/report``, also in Word), the ex-ante
assessment the document uploaded with the project. Filing records that the purchasing
department handed them in, on which day, and which version of the result the report is of;
until then the due-and-late list shows the filing as waiting. The rules name no number of
days for it, so it is never counted late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from evalplatform.i18n import _
from evalplatform.models import (
    Contract,
    Evaluation,
    EvaluationResult,
    EvaluationStage,
    EvaluationStatus,
    Organisation,
    Project,
    Role,
    User,
)
from evalplatform.services import audit, evaluations, projects
from evalplatform.services.errors import Conflict, PermissionDenied


def required(project: Project, evaluation: Evaluation) -> bool:
    """The evaluation's report is to be filed: an ex-post evaluation of a ¥5,000,000 project."""
    return evaluation.stage == EvaluationStage.final and projects.needs_ex_ante(project.budget_fen)


def waiting(project: Project, evaluation: Evaluation) -> bool:
    """Filing is due now: required, the result is final and the report is not filed yet."""
    return (required(project, evaluation) and evaluation.status == EvaluationStatus.final
            and evaluation.report_filed_on is None)


@dataclass(frozen=True)
class Filing:
    """What the evaluation page shows of the filing."""

    required: bool
    waiting: bool
    filed_on: date | None
    filed_by: str
    version: int | None
    ex_ante_filename: str | None
    may_file: bool


def filing_of(session: Session, principal, evaluation: Evaluation) -> Filing:
    project = evaluations.project_of(session, evaluation)
    user = session.get(User, evaluation.report_filed_by) if evaluation.report_filed_by else None
    return Filing(required(project, evaluation), waiting(project, evaluation),
                  evaluation.report_filed_on, user.display_name if user else "",
                  evaluation.report_filed_version, project.ex_ante_filename,
                  may_file=waiting(project, evaluation) and _files(principal, project))


def _files(principal, project: Project) -> bool:
    return principal.role == Role.purchaser and principal.organisation_id == project.department_id


def file_report(session: Session, principal, evaluation_id: int) -> Evaluation:
    """The purchasing department files the final result's report with the ex-ante assessment."""
    from evalplatform.services import results  # results build on evaluations

    evaluation = evaluations.get(session, evaluation_id)
    project = evaluations.project_of(session, evaluation)
    if not _files(principal, project):
        raise PermissionDenied(_("Only the purchasing department files its evaluation report."))
    if not required(project, evaluation):
        raise Conflict(_("Only the ex-post evaluation of a project of ¥5,000,000 or more files "
                         "its report with finance."))
    if evaluation.report_filed_on is not None:
        raise Conflict(_("The report was filed on %(date)s already.",
                         date=evaluation.report_filed_on.isoformat()))
    if evaluation.status != EvaluationStatus.final:
        raise Conflict(_("The report is filed once the result is final (published, and its "
                         "appeal window closed); this evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    if not project.ex_ante_sha256:
        raise Conflict(_("The project has no ex-ante assessment to file with the report: upload "
                         "it on the project's page first."))
    result = results.current(session, evaluation.id)
    evaluation.report_filed_on = projects.today()
    evaluation.report_filed_by = principal.actor.id
    evaluation.report_filed_version = result.version if result else None
    session.add(evaluation)
    audit.record(session, principal.actor, "evaluation.report_filed", "evaluation", evaluation.id,
                 {"filed_on": evaluation.report_filed_on, "result_version":
                  evaluation.report_filed_version, "ex_ante_sha256": project.ex_ante_sha256})
    session.commit()
    session.refresh(evaluation)
    return evaluation


@dataclass(frozen=True)
class Waiting:
    """A final ex-post evaluation whose report is still to be filed, for the due list."""

    evaluation: Evaluation
    contract: Contract
    project: Project
    department: Organisation
    final_on: date


def waiting_on(session: Session, *, organisation_id: int | None, today: date) -> list[Waiting]:
    """The reports to file on ``today``: of results final by then and not filed by then (on a
    past day, the half-year report's last, a report filed later was still to be filed)."""
    statement = (select(Evaluation, Contract, Project, Organisation, EvaluationResult)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(Organisation, Project.department_id == Organisation.id)
                 .join(EvaluationResult, EvaluationResult.evaluation_id == Evaluation.id)
                 .where(Evaluation.stage == EvaluationStage.final,
                        Evaluation.status == EvaluationStatus.final,
                        Project.budget_fen >= projects.EX_ANTE_THRESHOLD_FEN,
                        col(EvaluationResult.superseded).is_(False),
                        col(EvaluationResult.final_at).is_not(None))
                 .order_by(Evaluation.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    found = []
    for evaluation, contract, project, department, result in session.exec(statement):
        final_on = evaluations.local_date(result.final_at)
        filed = evaluation.report_filed_on
        if final_on <= today and (filed is None or filed > today):
            found.append(Waiting(evaluation, contract, project, department, final_on))
    return found
