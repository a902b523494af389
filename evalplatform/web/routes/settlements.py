"""Settlement, payment due dates, acceptance, supplier standing and selection pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from evalplatform.db import form_integer, form_version, get_session
from evalplatform.i18n import _
from evalplatform.models import (
    AcceptanceConclusion,
    Contract,
    Evaluation,
    EvaluationStage,
    Instalment,
    Organisation,
    Role,
    Settlement,
    SettlementStatus,
    User,
)
from evalplatform.services import (
    acceptance,
    accounts,
    contracts,
    evaluations,
    half_year,
    projects,
    schemes,
    selection,
    settlements,
    standing,
)
from evalplatform.services.errors import DomainError, NotFound, ValidationFailed
from evalplatform.services.paging import paginate_items
from evalplatform.web import evaluation_panels
from evalplatform.web.access import Principal, public, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _owns_contract(principal: Principal, session: Session, params: dict) -> bool:
    contract = session.get(Contract, form_integer(params.get("contract_id")) or -1)
    return settlements.can_see_contract(session, principal, contract)


def _owns_settlement(principal: Principal, session: Session, params: dict) -> bool:
    found = session.get(Settlement, form_integer(params.get("settlement_id")) or -1)
    return found is not None and settlements.can_see(session, principal, found)


owns_settlement = _owns_settlement  # for the JSON API: the same ownership rule as the pages


def _owns_supplier(principal: Principal, session: Session, params: dict) -> bool:
    if principal.role == Role.supplier:
        return principal.organisation_id is not None and \
            form_integer(params.get("supplier_id")) == principal.organisation_id
    return True


def _owns_project(principal: Principal, session: Session, params: dict) -> bool:
    if principal.role in (Role.finance, Role.auditor):
        return True
    return projects.belongs_to(session, params.get("project_id"), principal.organisation_id)


everyone = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier)
settlement_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                            owns=_owns_settlement)
settlement_decider = require(Role.finance, owns=_owns_settlement)
contract_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                          owns=_owns_contract)
contract_purchaser = require(Role.purchaser, owns=_owns_contract)
contract_recorder = require(Role.purchaser, Role.finance, owns=_owns_contract)
evaluation_purchaser = require(Role.purchaser, owns=evaluations.owns_evaluation)
standing_reader = require(Role.finance, Role.auditor, Role.purchaser, Role.supplier,
                          owns=_owns_supplier)
project_selector = require(Role.purchaser, Role.finance, Role.auditor, owns=_owns_project)


def list_scope(principal: Principal) -> dict:
    """Whose settlements a reader's lists hold: a purchaser its department's, a supplier its
    own, finance and auditors all (the page and the API alike)."""
    if principal.role == Role.purchaser:
        return {"organisation_id": principal.organisation_id}
    if principal.role == Role.supplier:
        return {"supplier_id": principal.organisation_id or -1}
    return {}


def _labels() -> dict:
    return {"STATUS": settlements.STATUS_LABELS, "BASIS": settlements.BASIS_LABELS,
            "CONCLUSION": acceptance.CONCLUSION_LABELS, "LEVEL": standing.LEVEL_LABELS,
            "ratio_text": settlements.percent_text}


# ---------------------------------------------------------------- lists


@router.get("/settlements")
def settlement_list(request: Request, status: str = "", sort: str | None = None, page: PageNumber = 1,
                    per_page: str = "20", session: Session = Depends(get_session),
                    principal: Principal = Depends(everyone)):
    result = settlements.page(session, status=status, sort=sort, page_number=page,
                              per_page=per_page, **list_scope(principal))
    today = projects.today()
    context = {"page": result, "status": status, "statuses": list(SettlementStatus),
               "ready": settlements.ready_to_propose(session, principal.organisation_id)
               if principal.role == Role.purchaser and principal.organisation_id else [],
               "period": {"start": today.replace(day=1).isoformat(), "end": today.isoformat()},
               **_labels()}
    template = "settlements/_table.html" if request.headers.get("hx-request") else \
        "settlements/list.html"
    return render(request, template, context)


@router.get("/settlements/due")
def payment_due(request: Request, show: str = "open", sort: str = "", page: str = "1",
                per_page: str = "20", session: Session = Depends(get_session),
                principal: Principal = Depends(everyone)):
    rows = settlements.payments(session, **list_scope(principal))
    if show != "all":  # what needs attention: due, overdue, paid late, or final but not accepted
        rows = [r for r in rows if r.state in ("overdue", "due", "paid_late")
                or (r.state in ("waiting", "not_accepted") and r.payable_fen is not None)]
    overdue = [r for r in rows if r.state == "overdue"]
    swap = bool(request.headers.get("hx-request"))
    template = "settlements/_due_table.html" if swap else "settlements/due.html"
    return render(request, template, {
        "page": paginate_items(rows, page=page, per_page=per_page, sort=sort,
                               sort_keys=settlements.PAYMENT_SORTS), "show": show,
        "oob": swap,
        "today": projects.today(),
        "overdue_count": len(overdue),
        "interest_total": sum(r.interest_fen or 0 for r in overdue), **_labels()})


@router.get("/settlements/export.xlsx")
def settlement_export(request: Request, start: str = "", end: str = "",
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(require(Role.finance, Role.auditor,
                                                             Role.purchaser))):
    try:
        first, last = settlements.parse_period(start, end)
    except ValidationFailed as exc:  # back to the list, whose form holds the two dates
        labels = {"start": _("Start date"), "end": _("End date")}
        flash(request, _("; ").join(_("%(field)s: %(problem)s", field=labels.get(k, k),
                                      problem=v) for k, v in exc.errors.items()), "error")
        return redirect(request, "/settlements")
    scope = principal.organisation_id if principal.role == Role.purchaser else None
    data = settlements.period_workbook(session, first, last, organisation_id=scope)
    name = f"settlements-{first.isoformat()}-{last.isoformat()}.xlsx"
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


reporters = require(Role.finance, Role.auditor, Role.purchaser)


def _report(session: Session, principal: Principal, year: str, half: str):
    period = half_year.parse(year, half, projects.today())
    scope = principal.organisation_id if principal.role == Role.purchaser else None
    return half_year.build(session, period, organisation_id=scope)


@router.get("/reports/half-year")
def half_year_report(request: Request, year: str = "", half: str = "",
                     session: Session = Depends(get_session),
                     principal: Principal = Depends(reporters)):
    try:
        report = _report(session, principal, year, half)
    except ValidationFailed as exc:
        report = half_year.build(session, half_year.latest_closed(projects.today()),
                                 organisation_id=principal.organisation_id
                                 if principal.role == Role.purchaser else None)
        return render(request, "settlements/half_year.html",
                      {"report": report, "errors": exc.errors,
                       "values": {"year": year, "half": half}}, status_code=422)
    return render(request, "settlements/half_year.html", {
        "report": report, "errors": {},
        "values": {"year": str(report.period.year), "half": str(report.period.half)}})


@router.get("/reports/half-year.xlsx")
def half_year_workbook(year: str = "", half: str = "", session: Session = Depends(get_session),
                       principal: Principal = Depends(reporters)):
    report = _report(session, principal, year, half)
    name = f"half-year-{report.period.year}-H{report.period.half}.xlsx"
    return Response(half_year.workbook(report), media_type=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- one contract


def _contract_context(session: Session, principal: Principal, contract_id: int,
                      errors: dict | None = None, values: dict | None = None,
                      target: int | None = None) -> dict:
    contract = contracts.get(session, contract_id)
    project = projects.get(session, contract.project_id)
    paying = {r.instalment.id: r for r in settlements.payments(session, contract_id=contract.id)}
    rows = []
    for item in contracts.instalments_of(session, contract.id):
        existing = settlements.for_instalment(session, item.id)
        active = existing is not None and existing.status != SettlementStatus.returned
        sheet = None if active else settlements.build_sheet(session, item)
        evaluation = None
        if active and existing.evaluation_id:
            evaluation = session.get(Evaluation, existing.evaluation_id)
        elif sheet is not None:
            evaluation = sheet.evaluation
        rows.append({"instalment": item, "settlement": existing, "sheet": sheet,
                     "due": settlements.due_for(session, contract, item, evaluation),
                     "payment": paying.get(item.id)})
    from evalplatform.labels import DUE_CONDITION_LABELS

    return {"contract": contract, "project": project,
            "supplier": session.get(Organisation, contract.supplier_id),
            "rows": rows, "rule": settlements.rule_text(settlements.scoring_rule(contract),
                                          settlements.grades_of(session, contract.scheme_id)),
            "terms": settlements.terms_of(session, contract.id),
            "terms_fixed": settlements.terms_fixed(session, contract),
            "period": settlements.payment_period(session, contract),
            "complaints": standing.complaints_of(session, contract_id=contract.id),
            "flag": standing.flag_of(session, contract),
            "decision_options": [(d.value, str(label))
                                 for d, label in standing.DECISION_LABELS.items()],
            "due_labels": DUE_CONDITION_LABELS,
            "errors": errors or {}, "values": values or {}, "target": target,
            "can_propose": principal.role == Role.purchaser,
            "can_record_complaint": principal.role in (Role.purchaser, Role.finance),
            **_labels()}


@router.get("/contracts/{contract_id}/settlements")
def contract_settlements(request: Request, contract_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(contract_reader)):
    settlements.finalise_results(session, contract_id)
    return render(request, "settlements/contract.html",
                  _contract_context(session, principal, contract_id))


@router.post("/contracts/{contract_id}/settlements")
async def settlement_propose(request: Request, contract_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(contract_purchaser)):
    form = await request.form()
    instalment_id = form_integer(form.get("instalment_id"))
    instalment = session.get(Instalment, instalment_id or -1)
    if instalment is None or instalment.contract_id != contract_id:
        raise NotFound(_("No such instalment."))
    try:
        settlement = settlements.propose(session, principal, instalment.id,
                                         evaluation_id=form_integer(form.get("evaluation_id")),
                                         note=str(form.get("note") or ""))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/contract.html",
                      _contract_context(session, principal, contract_id, exc.errors,
                                        dict(form), instalment.id), status_code=422)
    flash(request, _("Settlement of instalment %(seq)s proposed; finance decides on it.",
                     seq=instalment.seq))
    return redirect(request, f"/settlements/{settlement.id}")


@router.post("/contracts/{contract_id}/terms")
async def contract_terms(request: Request, contract_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(contract_purchaser)):
    form = await request.form()
    try:
        settlements.set_terms(session, principal, contract_id,
                              interest_per_day=str(form.get("interest_per_day") or ""),
                              termination_threshold=str(form.get("termination_threshold") or ""))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/contract.html",
                      _contract_context(session, principal, contract_id, exc.errors, dict(form)),
                      status_code=422)
    flash(request, _("The contract's payment terms are recorded."))
    return redirect(request, f"/contracts/{contract_id}/settlements")


@router.post("/contracts/{contract_id}/complaints")
async def complaint_record(request: Request, contract_id: int,
                           session: Session = Depends(get_session),
                           principal: Principal = Depends(contract_recorder)):
    form = await request.form()
    try:
        standing.record_complaint(session, principal, contract_id,
                                  received_on=str(form.get("received_on") or ""),
                                  summary=str(form.get("summary") or ""))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/contract.html",
                      _contract_context(session, principal, contract_id, exc.errors, dict(form)),
                      status_code=422)
    flash(request, _("Complaint recorded; it counts in the supplier's record."))
    return redirect(request, f"/contracts/{contract_id}/settlements#complaints")


@router.post("/contracts/{contract_id}/termination-review")
async def termination_review(request: Request, contract_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(contract_recorder)):
    form = await request.form()
    try:
        standing.review(session, principal, contract_id, decision=str(form.get("decision") or ""),
                        reason=str(form.get("review_reason") or ""))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/contract.html",
                      _contract_context(session, principal, contract_id, exc.errors, dict(form)),
                      status_code=422)
    flash(request, _("The termination review's decision is recorded."))
    return redirect(request, f"/contracts/{contract_id}/settlements#review")


# ---------------------------------------------------------------- one settlement


def _settlement_context(session: Session, principal: Principal, settlement_id: int,
                        errors: dict | None = None, values: dict | None = None) -> dict:
    settlement = settlements.get(session, settlement_id)
    contract = session.get(Contract, settlement.contract_id)
    project = projects.get(session, contract.project_id)
    instalment = session.get(Instalment, settlement.instalment_id)
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    users = {}
    for user_id in (settlement.proposed_by, settlement.decided_by, settlement.paid_recorded_by):
        if user_id:
            users[user_id] = session.get(User, user_id)
    chart = {
        "tooltip": {"trigger": "item"},
        "legend": {"bottom": 0},
        "series": [{"type": "pie", "radius": ["45%", "70%"],
                    "data": [{"name": _("Payable amount"),
                              "value": float(settlements.yuan(settlement.payable_fen)),
                              "itemStyle": {"color": "#2f6f4e"}},
                             {"name": _("Deduction"),
                              "value": float(settlements.yuan(settlement.deduction_fen)),
                              "itemStyle": {"color": "#a4161a"}}]}]}
    today = projects.today()
    payment = settlements.payment_of(session, settlement, today=today)
    due, rate = payment.due, payment.interest_per_day
    history = settlements.history(session, settlement)
    return {"settlement": settlement, "contract": contract, "project": project,
            "instalment": instalment, "evaluation": evaluation,
            "overdue_days": payment.overdue_days,
            "interest_so_far": payment.interest_fen if payment.overdue_days else 0,
            "department": session.get(Organisation, project.department_id),
            "supplier": session.get(Organisation, contract.supplier_id),
            "users": users, "history": history,
            "actor_names": accounts.display_names(session, history),
            "proposers": settlements.proposers(session, settlement),
            "rule": settlements.rule_text(settlement.payment_rule,
                                          settlements.settlement_grades(session, settlement)),
            "explanation": settlements.explanation_in_reader_language(session, settlement),
            "due": due, "rate": rate, "chart": chart, "today": today,
            "approval_refusal": settlements.approval_refusal(session, settlement)
            if settlement.status == SettlementStatus.proposed else None,
            "payment_refusal": settlements.payment_refusal(session, settlement)
            if settlement.status == SettlementStatus.approved else None,
            "errors": errors or {}, "values": values or {}, **_labels()}


@router.get("/settlements/{settlement_id}")
def settlement_page(request: Request, settlement_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(settlement_reader)):
    return render(request, "settlements/detail.html",
                  _settlement_context(session, principal, settlement_id))


@router.get("/settlements/{settlement_id}/sheet.xlsx")
def settlement_sheet(settlement_id: int, session: Session = Depends(get_session),
                     principal: Principal = Depends(settlement_reader)):
    settlement = settlements.get(session, settlement_id)
    data = settlements.sheet_workbook(session, settlement)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f'attachment; filename="settlement-JS-{settlement.id:06d}.xlsx"'})


async def _decide(request: Request, session: Session, principal: Principal, settlement_id: int,
                  action) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        message = action(values, form_version(form.get("version")))
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/detail.html",
                      _settlement_context(session, principal, settlement_id, exc.errors, values),
                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/settlements/{settlement_id}")
    flash(request, message)
    return redirect(request, f"/settlements/{settlement_id}")


@router.post("/settlements/{settlement_id}/approve")
async def settlement_approve(request: Request, settlement_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(settlement_decider)):
    def action(values, version):
        settlements.approve(session, principal, settlement_id, expected_version=version)
        return _("Settlement approved; record the payment when it is made.")

    return await _decide(request, session, principal, settlement_id, action)


@router.post("/settlements/{settlement_id}/return")
async def settlement_return(request: Request, settlement_id: int,
                            session: Session = Depends(get_session),
                            principal: Principal = Depends(settlement_decider)):
    def action(values, version):
        settlements.return_to_purchaser(session, principal, settlement_id,
                                        values.get("reason", ""), expected_version=version)
        return _("Settlement returned to the purchaser with your reasons.")

    return await _decide(request, session, principal, settlement_id, action)


@router.post("/settlements/{settlement_id}/withdraw")
async def settlement_withdraw(request: Request, settlement_id: int,
                              session: Session = Depends(get_session),
                              principal: Principal = Depends(settlement_decider)):
    def action(values, version):
        settlements.withdraw_approval(session, principal, settlement_id,
                                      values.get("reason", ""), expected_version=version)
        return _("Approval withdrawn; the settlement is back with the purchaser with your "
                 "reasons.")

    return await _decide(request, session, principal, settlement_id, action)


@router.post("/settlements/{settlement_id}/payment")
async def settlement_payment(request: Request, settlement_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(settlement_decider)):
    def action(values, version):
        settlements.record_payment(session, principal, settlement_id,
                                   voucher_no=values.get("voucher_no", ""),
                                   paid_on=values.get("paid_on", ""), expected_version=version)
        return _("Payment recorded.")

    return await _decide(request, session, principal, settlement_id, action)


# ---------------------------------------------------------------- acceptance


def _acceptance_context(session: Session, evaluation_id: int, values: dict | None = None,
                        errors: dict | None = None) -> dict:
    evaluation = evaluations.get(session, evaluation_id)
    existing = acceptance.for_evaluation(session, evaluation.id)
    now_open = acceptance.stage(session, evaluation, existing)
    reaccept = now_open == "reaccept"
    if values is None:
        values = {"accepted_on": projects.today().isoformat(), "conclusion": "accepted"}
        if existing is not None and not reaccept:
            values = {"accepted_on": existing.accepted_on.isoformat(),
                      "conclusion": existing.conclusion.value,
                      "participants": str(existing.participants),
                      "participation": existing.participation, "opinion": existing.opinion,
                      "survey_url": existing.survey_url}
    return {"evaluation": evaluation, "project": evaluations.project_of(session, evaluation),
            "existing": existing,
            "locked": now_open == "locked", "reaccept": reaccept,
            "conclusion_options": [(c.value, str(acceptance.CONCLUSION_LABELS[c]))
                                   for c in AcceptanceConclusion],
            "values": values, "errors": errors or {}}


@router.get("/evaluations/{evaluation_id}/acceptance")
def acceptance_form(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(evaluation_purchaser)):
    return render(request, "settlements/acceptance.html",
                  _acceptance_context(session, evaluation_id))


@router.post("/evaluations/{evaluation_id}/acceptance")
async def acceptance_record(request: Request, evaluation_id: int,
                            session: Session = Depends(get_session),
                            principal: Principal = Depends(evaluation_purchaser)):
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        acceptance.record(session, principal, evaluation_id, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "settlements/acceptance.html",
                      _acceptance_context(session, evaluation_id, values, exc.errors),
                      status_code=422)
    flash(request, _("Acceptance recorded; it is published with the evaluation's result."))
    return redirect(request, f"/evaluations/{evaluation_id}")


@router.get("/acceptances")
def acceptance_notices(request: Request, page: PageNumber = 1,
                       session: Session = Depends(get_session), principal=Depends(public)):
    notices = paginate_items(acceptance.published(session), page=page)
    template = "settlements/_notices_table.html" if request.headers.get("hx-request") \
        else "settlements/notices.html"
    return render(request, template, {"notices": notices, **_labels()})


@router.get("/acceptances/{acceptance_id}")
def acceptance_notice(request: Request, acceptance_id: int,
                      session: Session = Depends(get_session), principal=Depends(public)):
    return render(request, "settlements/notice.html",
                  {"notice": acceptance.notice(session, acceptance_id), **_labels()})


@evaluation_panels.panel(order=70, template="settlements/_evaluation_panel.html")
def settlement_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """The evaluation's acceptance and the instalments it settles."""
    if principal is None or principal.role == Role.evaluator:
        return None
    contract = evaluations.contract_of(session, evaluation)
    wanted = {EvaluationStage.interim: "after_interim", EvaluationStage.final: "after_final"}
    instalments = [i for i in contracts.instalments_of(session, contract.id)
                   if i.due_condition == wanted[evaluation.stage]]
    rows = [{"instalment": i, "settlement": settlements.for_instalment(session, i.id),
             "not_accepted": settlements.failed_acceptance(session, i, evaluation)}
            for i in instalments]
    return {"evaluation": evaluation, "contract": contract, "rows": rows,
            "acceptance": acceptance.for_evaluation(session, evaluation.id),
            "final": settlements.final_result(session, evaluation),
            "can_record": principal.role == Role.purchaser, **_labels()}


# ---------------------------------------------------------------- standing


def _settings_values(rules: standing.Rules) -> dict:
    return {"bar_grade": rules.bar_grade, "bar_below": str(rules.bar_below),
            "bar_years": str(rules.bar_years), "warn_consecutive": str(rules.warn_consecutive),
            "default_threshold": str(rules.default_threshold),
            "preferred_grade": rules.preferred_grade, "lookback_years": str(rules.lookback_years)}


def _standing_list_context(session: Session, principal: Principal, values=None,
                           errors=None) -> dict:
    rules = standing.settings(session)
    found = standing.all_standings(session, reader=principal)
    scope = principal.organisation_id if principal.role == Role.purchaser else None
    flags = [f for s in found for f in s.flags]
    return {"standings": found, "rules": rules, "flags": flags,
            # a flag links to its contract's settlement page only for a reader who can open it
            "openable": {f.contract.id for f in flags
                         if settlements.can_see_contract(session, principal, f.contract)},
            "awaiting": selection.awaiting_contract(session, scope)
            if principal.role in (Role.purchaser, Role.finance, Role.auditor) else [],
            "values": values or _settings_values(rules), "errors": errors or {},
            "grade_options": _grade_options(session, values or _settings_values(rules)),
            **_labels()}


def _grade_options(session: Session, values: dict) -> dict[str, list[tuple[str, str]]]:
    """The grades each grade rule may name (those a result can carry); a value outside them
    (a stored grade no scheme defines any more) stays shown, for the service to refuse."""
    known = schemes.grade_names(session)
    options = {}
    for name in standing.GRADE_FIELDS:
        current = str(values.get(name) or "").strip()
        names = known + ([current] if current and current not in known else [])
        options[name] = [(g, g) for g in names]
    return options


@router.get("/standing")
def standing_list(request: Request, session: Session = Depends(get_session),
                  principal: Principal = Depends(everyone)):
    if principal.role == Role.supplier:
        return standing_page(request, principal.organisation_id or -1, session, principal)
    return render(request, "standing/list.html",
                  _standing_list_context(session, principal))


@router.post("/standing/settings")
async def standing_settings(request: Request, session: Session = Depends(get_session),
                            principal: Principal = Depends(require(Role.finance))):
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        standing.update_settings(session, principal, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "standing/list.html",
                      _standing_list_context(session, principal, values, exc.errors),
                      status_code=422)
    flash(request, _("The standing rules are saved; every standing now follows them."))
    return redirect(request, "/standing")


@router.get("/standing/{supplier_id}")
def standing_page(request: Request, supplier_id: int, session: Session = Depends(get_session),
                  principal: Principal = Depends(standing_reader)):
    supplier = standing.get_supplier(session, supplier_id)
    found = standing.standing_of(session, supplier, reader=principal)
    thresholds = standing.contract_thresholds(session, found, principal)
    return render(request, "standing/detail.html", {
        "standing": found, "chart": standing.history_chart(found, thresholds),
        "thresholds": thresholds,
        "openable": {r.evaluation.id for r in found.history
                     if evaluations.can_see(session, principal, r.evaluation)},
        "complaints": standing.complaints_seen_by(session, principal, supplier.id),
        **_labels()})


# ---------------------------------------------------------------- selection


@router.get("/projects/{project_id}/selection")
def selection_page(request: Request, project_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(project_selector)):
    params = dict(request.query_params)
    method = params.get("method", "typed")
    values = {**{f"w_{k}": v for k, v in selection.DEFAULT_WEIGHTS.items()},
              "share": selection.DEFAULT_SHARE, **params}
    upper = selection.upper_from(params)
    errors: dict[str, str] = {}
    ranking = None
    try:
        ranking = selection.rank(session, project_id, method=method, values=values, upper=upper)
    except ValidationFailed as exc:
        errors = exc.errors
    project = projects.get(session, project_id)
    suppliers = contracts.eligible_suppliers(session)
    quote_keys = [f"quote_{supplier.id}" for supplier, _profile in suppliers]
    return render(request, "standing/selection.html", {
        "project": project, "ranking": ranking, "method": method, "values": values,
        "upper": upper, "errors": errors, "criteria": selection.CRITERIA,
        "methods": selection.METHODS, "suppliers": suppliers,
        "ahp_errors": any(k == "matrix" or k.startswith("a_") for k in errors),
        "quotes_open": any(errors.get(k) or str(values.get(k) or "").strip()
                           for k in quote_keys),
        **_labels()}, status_code=422 if errors else 200)
