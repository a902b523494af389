"""Evaluations: the contract's scheme, scheduling, the list, the evaluation page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session, select

from evalplatform.db import form_integer, form_version, get_session
from evalplatform.i18n import _
from evalplatform.models import EvaluationStage, EvaluationStatus, IndicatorScheme, Organisation, Role
from evalplatform.services import contracts, evaluations, projects, report_filing, schemes
from evalplatform.services.errors import DomainError, ValidationFailed
from evalplatform.web import evaluation_panels
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute)


def _owns_contract(principal: Principal, session: Session, params: dict) -> bool:
    try:
        contract = contracts.get(session, int(params.get("contract_id")))
    except (DomainError, TypeError, ValueError):
        return False
    return projects.belongs_to(session, contract.project_id, principal.organisation_id)


contract_purchaser = require(Role.purchaser, owns=_owns_contract)
evaluation_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                            Role.evaluator, owns=evaluations.owns_evaluation)
evaluation_organiser = require(Role.finance, Role.purchaser, owns=evaluations.owns_evaluation)
anyone_with_evaluations = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                                  Role.evaluator)


@router.get("/evaluations")
def evaluation_list(request: Request, status: str = "", stage: str = "", q: str = "",
                    sort: str | None = None, page: PageNumber = 1,
                    session: Session = Depends(get_session),
                    principal: Principal = Depends(anyone_with_evaluations)):
    scope: dict = {}
    if principal.role == Role.purchaser:
        scope["organisation_id"] = principal.organisation_id
    elif principal.role == Role.supplier:
        scope["supplier_id"] = principal.organisation_id or -1
    elif principal.role == Role.evaluator:
        scope["evaluation_ids"] = evaluations.assigned_ids(session, principal)
    result = evaluations.page(session, status=status, stage=stage, q=q, sort=sort,
                              page_number=page, **scope)
    context = {"page": result, "filters": {"status": status, "stage": stage, "q": q},
               "statuses": list(EvaluationStatus), "stages": list(EvaluationStage)}
    template = "evaluations/_table.html" if request.headers.get("hx-request") else \
        "evaluations/list.html"
    return render(request, template, context)


def _new_context(session: Session, contract_id: int, values=None, errors=None) -> dict:
    contract = contracts.get(session, contract_id)
    project = projects.get(session, contract.project_id)
    return {"contract": contract, "project": project,
            "scheme": session.get(IndicatorScheme, contract.scheme_id) if contract.scheme_id
            else None,
            "existing": evaluations.for_contract(session, contract.id),
            "term_end": evaluations.term_end(contract),
            "values": values or {"stage": "interim"}, "errors": errors or {}}


@router.get("/contracts/{contract_id}/evaluations/new")
def evaluation_new(request: Request, contract_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(contract_purchaser)):
    return render(request, "evaluations/new.html", _new_context(session, contract_id))


@router.post("/contracts/{contract_id}/evaluations")
async def evaluation_create(request: Request, contract_id: int,
                            session: Session = Depends(get_session),
                            principal: Principal = Depends(contract_purchaser)):
    form = dict(await request.form())
    try:
        evaluation = evaluations.create(session, principal.actor, contract_id, form)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "evaluations/new.html",
                      _new_context(session, contract_id, form, exc.errors), status_code=422)
    flash(request, _("Evaluation scheduled; the contract's scheme is now frozen for it."))
    return redirect(request, f"/evaluations/{evaluation.id}")


@router.post("/contracts/{contract_id}/scheme")
async def contract_scheme(request: Request, contract_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(contract_purchaser)):
    form = await request.form()
    try:
        source_id = form_integer(form.get("source_id")) or 0
        scheme = evaluations.assign_scheme(session, principal, contract_id, source_id)
    except (ValueError, DomainError) as exc:
        session.rollback()
        message = exc.message if isinstance(exc, DomainError) else _("Choose a scheme.")
        flash(request, message, "error")
        return redirect(request, f"/contracts/{contract_id}")
    flash(request, _("The contract now has its own copy of the scheme; adapt it before the "
                     "first evaluation starts."))
    return redirect(request, f"/schemes/{scheme.id}")


def schemes_to_copy(session: Session, principal) -> list[IndicatorScheme]:
    """Templates and the department's valid schemes, for the contract's scheme choice."""
    found = session.exec(select(IndicatorScheme).where(IndicatorScheme.valid)
                         .order_by(IndicatorScheme.is_template.desc(), IndicatorScheme.name)).all()
    return [s for s in found if schemes.can_see(principal, s)]


@router.get("/evaluations/{evaluation_id}")
def evaluation_page(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(evaluation_reader)):
    return render_evaluation_page(request, session, principal, evaluation_id)


def render_evaluation_page(request: Request, session: Session, principal, evaluation_id: int,
                           status_code: int = 200):
    """The evaluation's page with its panels; a panel's refused form is re-shown with a 422
    (the panel reads what was typed from ``request.state``)."""
    evaluation = evaluations.get(session, evaluation_id)
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    scheme = session.get(IndicatorScheme, evaluation.scheme_id)
    return render(request, "evaluations/detail.html", {
        "evaluation": evaluation, "contract": contract, "project": project, "scheme": scheme,
        "supplier": session.get(Organisation, contract.supplier_id),
        "department": session.get(Organisation, project.department_id),
        "window": evaluations.window_state(evaluation),
        "organiser": principal.role in (Role.finance, Role.purchaser),
        "next_status": evaluations.NEXT_STATUS.get(evaluation.status),
        "panels": evaluation_panels.panels_for(request, session, principal, evaluation)},
        status_code=status_code)


@router.post("/evaluations/{evaluation_id}/advance")
async def evaluation_advance(request: Request, evaluation_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(evaluation_organiser)):
    """The organiser opens collection or closes it; later steps belong to the result."""
    form = await request.form()
    to = str(form.get("to") or "")
    try:
        version = form_version(form.get("version"))
        evaluations.organiser_step(session, principal.actor, evaluation_id, to,
                                   expected_version=version)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}")
    flash(request, _("The evaluation is now: %(status)s.",
                     status=evaluations.status_label(EvaluationStatus(to))))
    return redirect(request, f"/evaluations/{evaluation_id}")


# ---------------------------------------------------------------- the report's filing (备案)


@evaluation_panels.panel(order=65, template="evaluations/_report_filing_panel.html")
def report_filing_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """For a ¥5,000,000 project's ex-post evaluation: the report filed with finance, or to file."""
    if principal is None or principal.role not in (Role.finance, Role.purchaser, Role.auditor):
        return None
    filing = report_filing.filing_of(session, principal, evaluation)
    if not filing.required:
        return None
    project = evaluations.project_of(session, evaluation)
    return {"evaluation": evaluation, "filing": filing, "project": project}


@router.post("/evaluations/{evaluation_id}/report-filing")
async def report_filing_record(request: Request, evaluation_id: int,
                               session: Session = Depends(get_session),
                               principal: Principal = Depends(evaluation_organiser)):
    """The purchasing department files the report with the ex-ante assessment."""
    try:
        evaluation = report_filing.file_report(session, principal, evaluation_id)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}#report-filing")
    flash(request, _("The evaluation report is filed with the ex-ante assessment (%(date)s).",
                     date=evaluation.report_filed_on.isoformat()))
    return redirect(request, f"/evaluations/{evaluation_id}#report-filing")
