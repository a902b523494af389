"""Results, publication (公示) and appeals (申诉): the pages, the downloads, the public list.

Thin handlers: they parse the request, call services/results.py or services/appeals.py and
render. The public pages (``/results``) need no sign-in and show no personal data.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import form_version, get_session
from evalplatform.i18n import _
from evalplatform.models import AppealStatus, EvaluationStatus, Organisation, Role
from evalplatform.services import (
    appeals,
    evaluation_report,
    evaluations,
    files,
    paging,
    projects,
    results,
    schemes,
)
from evalplatform.services.errors import DomainError, NotFound, ValidationFailed
from evalplatform.web import evaluation_panels
from evalplatform.web.access import Principal, public, require
from evalplatform.web.api_schema import Moment, Problem, Version, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage, PageNumber
from evalplatform.web.templating import attachment, flash, flash_error, redirect, render

router = APIRouter(route_class=FormRoute)
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

result_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                        owns=evaluations.owns_evaluation)
result_organiser = require(Role.finance, Role.purchaser, owns=evaluations.owns_evaluation)
evaluation_supplier = require(Role.supplier, owns=evaluations.owns_evaluation)
appeal_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                        owns=appeals.owns_appeal)
appeal_decider = require(Role.finance, owns=appeals.owns_appeal)
appeal_withdrawer = require(Role.supplier, owns=appeals.owns_appeal)
appeal_lister = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier)


def _is_htmx(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


def _int_or_none(value) -> int | None:
    try:
        return int(value) if str(value or "").strip() else None
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- the evaluation page's panel


@evaluation_panels.panel(order=60, template="results/_evaluation_panel.html")
def result_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    if principal.role not in (Role.finance, Role.purchaser, Role.auditor, Role.supplier):
        return None
    results.finalise_quietly(session, [evaluation.id])
    found = results.visible_versions(session, principal, evaluation)
    latest = found[-1] if found else None
    state = results.state(session, latest, evaluation) if latest else None
    return {
        "evaluation": evaluation, "result": latest, "count": len(found), "state": state,
        "state_label": results.state_label(state) if state else "",
        "missing": results.explain(latest).missing if latest and not latest.final_ready else [],
        "organiser": results.may_organise(session, principal, evaluation),
        "can_reopen": principal.role == Role.finance or (
            evaluation.status == EvaluationStatus.computed
            and results.may_organise(session, principal, evaluation)),
        "window": appeals.window(session, evaluation) if principal.role == Role.supplier else None,
        "appeal_days": results.appeal_working_days(),
    }


# ---------------------------------------------------------------- the result page


def _result_context(session: Session, principal: Principal, evaluation, result) -> dict:
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    state = results.state(session, result, evaluation)
    visible_appeals = [a for a in appeals.for_evaluation(session, evaluation.id)
                       if appeals.can_see(session, principal, a)]
    return {
        "evaluation": evaluation, "contract": contract, "project": project,
        "supplier": session.get(Organisation, contract.supplier_id),
        "department": session.get(Organisation, project.department_id),
        "result": result, "view": results.explain(result),
        "versions": results.visible_versions(session, principal, evaluation),
        "state": state, "state_label": results.state_label(state),
        "computed_by": results.user_name(session, result.computed_by),
        "published_by": results.user_name(session, result.published_by)
        if result.published_by else "",
        "is_current": not result.superseded,
        "organiser": results.may_organise(session, principal, evaluation),
        "can_reopen": principal.role == Role.finance or (
            evaluation.status == EvaluationStatus.computed
            and results.may_organise(session, principal, evaluation)),
        "appeals": visible_appeals,
        "appeal_labels": appeals.STATUS_LABELS,
        "withdrawable": {a.id for a in visible_appeals if appeals.may_withdraw(principal, a)},
        "withdrawn_by": {a.id: results.user_name(session, a.withdrawn_by)
                         for a in visible_appeals if a.withdrawn_by},
        "window": appeals.window(session, evaluation) if principal.role == Role.supplier else None,
        "appeal_days": results.appeal_working_days(),
    }


@router.get("/evaluations/{evaluation_id}/result")
def result_page(request: Request, evaluation_id: int, version: str = "",
                session: Session = Depends(get_session),
                principal: Principal = Depends(result_reader)):
    results.finalise_quietly(session, [evaluation_id])
    evaluation = evaluations.get(session, evaluation_id)
    result = results.version_for(session, principal, evaluation, _int_or_none(version))
    return render(request, "results/detail.html",
                  _result_context(session, principal, evaluation, result))


def _stored_json(session: Session, principal: Principal, evaluation_id: int, version: str,
                 part: str) -> Response:
    """One stored part of a result version (``package`` or ``result``) as a JSON download."""
    evaluation = evaluations.get(session, evaluation_id)
    result = results.version_for(session, principal, evaluation, _int_or_none(version))
    body = json.dumps(getattr(result, part), ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": attachment(f"evaluation-{evaluation.id}-v{result.version}"
                                           f".{part}.json")})


#: What the result page's JSON downloads answer, for the OpenAPI document. They are downloads
#: beside the pages, not under /api: refused as the pages refuse, in JSON only for a request
#: that accepts it (``app.wants_json``), as a program sends ``Accept: application/json``.
_AS_JSON = ("; in JSON for a request with Accept: application/json, else the page's HTML error "
            "page")
DOWNLOAD_RESPONSES = {
    200: {"description": "The stored JSON, as an attachment (Content-Disposition names the "
                         "file: evaluation-<id>-v<version>.<part>.json)",
          "content": {"application/json": {"schema": {"type": "object"}}}},
    303: {"description": "Not signed in, and the request does not accept JSON (a browser): "
                         "sent to the sign-in page, /login?next=…"},
    401: {"model": Problem, "description": "Not signed in, and the request sends Accept: "
                                           "application/json"},
    403: {"model": Problem, "description": "A role the result page refuses (an evaluator, the "
                                           "administrator)" + _AS_JSON},
    404: {"model": Problem, "description": "No such evaluation or version, or not the caller's "
                                           "(another supplier's or department's)" + _AS_JSON},
    **error_responses(422),
}


@router.get("/evaluations/{evaluation_id}/result/package.json",
            summary="The evaluation package a result was computed from (评分包)", tags=["results"],
            responses=DOWNLOAD_RESPONSES)
def get_result_package(evaluation_id: int, version: str = "", session: Session = Depends(get_session),
                       principal: Principal = Depends(result_reader)):
    """The exact scoring package of a version: ``python -m scoring evaluate`` reproduces it.

    In the engine's units (scoring/README.md): a measured rate, a leaf whose unit is 比例 /
    比率 / ratio, is a fraction of one in ``inputs.data`` (0.95 for 95 %), though the data
    forms take it and pages show it in percent.

    A download beside the result page, not under /api: a refusal is JSON only for a request
    that sends ``Accept: application/json`` (see the responses). ``version``: a version
    number; left out, or not one, the latest the caller may read."""
    return _stored_json(session, principal, evaluation_id, version, "package")


@router.get("/evaluations/{evaluation_id}/result/result.json",
            summary="A result as the scoring engine gave it (结果 JSON)", tags=["results"],
            responses=DOWNLOAD_RESPONSES)
def get_result_json(evaluation_id: int, version: str = "", session: Session = Depends(get_session),
                    principal: Principal = Depends(result_reader)):
    """The engine's answer for a version, as stored (compare with your own run).

    A download beside the result page, not under /api: a refusal is JSON only for a request
    that sends ``Accept: application/json`` (see the responses). ``version``: a version
    number; left out, or not one, the latest the caller may read."""
    return _stored_json(session, principal, evaluation_id, version, "result")


@router.get("/evaluations/{evaluation_id}/result/report")
def result_report(request: Request, evaluation_id: int, version: str = "",
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(result_reader)):
    """The evaluation report, print-friendly (the Word download holds the same)."""
    evaluation = evaluations.get(session, evaluation_id)
    result = results.version_for(session, principal, evaluation, _int_or_none(version))
    return render(request, "results/report.html", {
        "evaluation": evaluation, "result": result,
        "report": evaluation_report.build(session, principal, evaluation, result)})


@router.get("/evaluations/{evaluation_id}/result/report.docx")
def result_report_docx(evaluation_id: int, version: str = "",
                       session: Session = Depends(get_session),
                       principal: Principal = Depends(result_reader)):
    """The evaluation report as a Word document."""
    evaluation = evaluations.get(session, evaluation_id)
    result = results.version_for(session, principal, evaluation, _int_or_none(version))
    report = evaluation_report.build(session, principal, evaluation, result)
    return Response(evaluation_report.docx(report), media_type=DOCX, headers={
        "Content-Disposition": attachment(report.filename)})


@router.post("/evaluations/{evaluation_id}/result/compute")
async def result_compute(request: Request, evaluation_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(result_organiser)):
    form = await request.form()
    try:
        result = results.compute(session, principal, evaluation_id,
                                 expected_version=_int_or_none(form.get("version")))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}")
    if result.final_ready:
        flash(request, _("Version %(version)s computed: total %(total)s, grade %(grade)s.",
                         version=result.version, total=result.total, grade=result.grade))
    else:
        flash(request, _("Version %(version)s computed, but missing scores block it: it can be "
                         "read, not published.", version=result.version), "warning")
    return redirect(request, f"/evaluations/{evaluation_id}/result")


@router.post("/evaluations/{evaluation_id}/result/publish")
async def result_publish(request: Request, evaluation_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(result_organiser)):
    form = await request.form()
    try:
        result = results.publish(session, principal, evaluation_id,
                                 expected_version=_int_or_none(form.get("version")))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/result")
    flash(request, _("Published. The supplier may appeal until %(day)s.",
                     day=result.appeal_deadline.isoformat()))
    return redirect(request, f"/evaluations/{evaluation_id}/result")


@router.post("/evaluations/{evaluation_id}/result/reopen")
async def result_reopen(request: Request, evaluation_id: int,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(result_organiser)):
    form = await request.form()
    try:
        results.reopen(session, principal, evaluation_id, str(form.get("reason") or ""),
                       expected_version=_int_or_none(form.get("version")))
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}/result")
    flash(request, _("Reopened for scoring. The next computation makes a new version; the "
                     "earlier ones stay readable."))
    return redirect(request, f"/evaluations/{evaluation_id}")


# ---------------------------------------------------------------- appeals


def _appeal_form_context(session: Session, evaluation, values=None, errors=None) -> dict:
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    state = appeals.window(session, evaluation)
    return {"evaluation": evaluation, "project": project, "window": state,
            "leaves": appeals.leaves_of(state.result) if state.result else [],
            "values": values or {"leaves": []}, "errors": errors or {},
            "max_files": appeals.MAX_EVIDENCE_FILES, "min_reasons": appeals.MIN_REASONS}


@router.get("/evaluations/{evaluation_id}/appeal")
def appeal_new(request: Request, evaluation_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(evaluation_supplier)):
    results.finalise_quietly(session, [evaluation_id])
    evaluation = evaluations.get(session, evaluation_id)
    return render(request, "results/appeal_new.html", _appeal_form_context(session, evaluation))


@router.post("/evaluations/{evaluation_id}/appeal")
async def appeal_file(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                      principal: Principal = Depends(evaluation_supplier)):
    form = await request.form()
    evidence = []
    for upload in form.getlist("evidence"):
        if hasattr(upload, "read") and getattr(upload, "filename", ""):
            evidence.append((await upload.read(), upload.filename))
    values = {"reasons": str(form.get("reasons") or ""),
              "leaves": [str(v) for v in form.getlist("leaves")]}
    try:
        appeal = appeals.file(session, principal, evaluation_id, reasons=values["reasons"],
                              leaves=values["leaves"], evidence=evidence)
    except ValidationFailed as exc:
        session.rollback()
        evaluation = evaluations.get(session, evaluation_id)
        values["unsent"] = appeals.unsent_evidence(evidence)  # a file box comes back empty
        return render(request, "results/appeal_new.html",
                      _appeal_form_context(session, evaluation, values, exc.errors),
                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/result")
    flash(request, _("Appeal no. %(id)s filed. The result cannot become final until finance "
                     "decides it.", id=appeal.id))
    return redirect(request, f"/appeals/{appeal.id}")


@router.get("/appeals")
def appeal_list(request: Request, status: str = "", sort: str | None = None, page: PageNumber = 1,
                session: Session = Depends(get_session),
                principal: Principal = Depends(appeal_lister)):
    results.finalise_quietly(session)
    found = appeals.page(session, principal, status=status, sort=sort, page_number=page)
    context = {"page": found, "filters": {"status": status}, "statuses": list(AppealStatus),
               "labels": appeals.STATUS_LABELS,
               "appealable": appeals.appealable(session, principal.organisation_id)
               if principal.role == Role.supplier and principal.organisation_id else []}
    template = "results/_appeals_table.html" if _is_htmx(request) else "results/appeals.html"
    return render(request, template, context)


def _appeal_context(session: Session, principal, appeal, errors=None, values=None) -> dict:
    evaluation = evaluations.get(session, appeal.evaluation_id)
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    result = results.get_result(session, appeal.result_id)
    names = dict(appeals.leaves_of(result))
    return {"appeal": appeal, "evaluation": evaluation, "project": project, "result": result,
            "supplier": session.get(Organisation, appeal.supplier_id),
            "department": session.get(Organisation, project.department_id),
            "leaves": appeals.leaves_of(result), "names": names,
            "status_label": appeals.status_label(appeal.status),
            "filed_by": results.user_name(session, appeal.filed_by),
            "decided_by": results.user_name(session, appeal.decided_by)
            if appeal.decided_by else "",
            "withdrawn_by": results.user_name(session, appeal.withdrawn_by)
            if appeal.withdrawn_by else "",
            "may_withdraw": appeals.may_withdraw(principal, appeal),
            "errors": errors or {},
            "values": values or {"outcome": "", "decision": "", "leaves": list(appeal.leaves)}}


@router.get("/appeals/{appeal_id}")
def appeal_page(request: Request, appeal_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(appeal_reader)):
    appeal = appeals.get(session, appeal_id)
    return render(request, "results/appeal.html", _appeal_context(session, principal, appeal))


@router.get("/appeals/{appeal_id}/evidence/{sha256}")
def appeal_evidence(appeal_id: int, sha256: str, session: Session = Depends(get_session),
                    principal: Principal = Depends(appeal_reader)):
    appeal = appeals.get(session, appeal_id)
    item = next((e for e in appeal.evidence if e.get("sha256") == sha256), None)
    if item is None:
        raise NotFound(_("No such file."))
    data = files.read(sha256)
    return Response(data, media_type=files.MEDIA_TYPES.get(item.get("kind"), "application/octet-stream"),
                    headers={"Content-Disposition": attachment(item.get("filename") or sha256)})


@router.post("/appeals/{appeal_id}/decide")
async def appeal_decide(request: Request, appeal_id: int, session: Session = Depends(get_session),
                        principal: Principal = Depends(appeal_decider)):
    form = await request.form()
    values = {"outcome": str(form.get("outcome") or ""),
              "decision": str(form.get("decision") or ""),
              "leaves": [str(v) for v in form.getlist("leaves")]}
    try:
        appeal = appeals.decide(session, principal, appeal_id, outcome=values["outcome"],
                                decision=values["decision"], leaves=values["leaves"],
                                expected_version=_int_or_none(form.get("version")))
    except ValidationFailed as exc:
        session.rollback()
        appeal = appeals.get(session, appeal_id)
        return render(request, "results/appeal.html",
                      _appeal_context(session, principal, appeal, exc.errors, values),
                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/appeals/{appeal_id}")
    if appeal.status == AppealStatus.reopened:
        flash(request, _("The named indicators are reopened; the evaluation is back in scoring."))
    else:
        flash(request, _("The result is upheld; it becomes final once the appeal window has "
                         "closed."))
    return redirect(request, f"/appeals/{appeal_id}")


@router.post("/appeals/{appeal_id}/withdraw")
async def appeal_withdraw(request: Request, appeal_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(appeal_withdrawer)):
    """The supplier withdraws its open appeal (撤回申诉), confirmed on the page: final for the
    publication."""
    form = await request.form()
    try:
        appeal = appeals.withdraw(session, principal, appeal_id,
                                  expected_version=form_version(form.get("version")))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/appeals/{appeal_id}")
    flash(request, _("Appeal no. %(id)s withdrawn. It cannot be filed again against this "
                     "publication; the result becomes final once the appeal window has closed.",
                     id=appeal.id))
    return redirect(request, f"/appeals/{appeal_id}")


# ---------------------------------------------------------------- the public pages (公示)


@router.get("/results")
def public_list(request: Request, q: str = "", grade: str = "", sort: str | None = None,
                page: PageNumber = 1, session: Session = Depends(get_session),
                principal=Depends(public)):
    results.finalise_quietly(session)
    found = results.public_page(session, q=q, grade=grade, sort=sort, page_number=page)
    context = {"page": found, "filters": {"q": q, "grade": grade},
               "grades": results.published_grades(session), "state_labels": results.STATE_LABELS}
    template = "results/_public_table.html" if _is_htmx(request) else "results/public_list.html"
    return render(request, template, context)


@router.get("/results/{result_id}")
def public_result(request: Request, result_id: int, session: Session = Depends(get_session),
                  principal=Depends(public)):
    row = results.public_detail(session, result_id)
    results.finalise_quietly(session, [row.evaluation.id])
    row = results.public_detail(session, result_id)
    return render(request, "results/public_detail.html", {
        "row": row, "parts": results.public_parts(row.result),
        "state_label": results.state_label(row.state),
        "later": results.later_publication(session, row.result)})


# ---------------------------------------------------------------- JSON


class PublicPartOut(BaseModel):
    name: str
    party: str = Field(description="The evaluating party, in the reader's language")
    weight: str
    score: str
    weighted: str


class PublicResultOut(BaseModel):
    id: int
    evaluation: str
    project: str
    department: str
    supplier: str
    total: str = Field(description="Two decimals, e.g. 86.35")
    grade: str
    published_on: date
    appeal_deadline: date
    state: str = Field(description="Where the result stands: appeal_window, appeal_pending, "
                                   "appeal_upheld, appeal_withdrawn, under_review or final")
    parts: list[PublicPartOut]


class PublicResultPage(BaseModel):
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")
    items: list[PublicResultOut]


class ResultOut(BaseModel):
    evaluation: int
    version: int
    total: str = Field(description="Two decimals, e.g. 86.35")
    grade: str
    final_ready: bool = Field(description="No missing score blocks the result")
    state: str = Field(description="Where this version stands: "
                                   + ", ".join(results.STATE_LABELS))
    computed_at: Moment
    published_at: Moment | None
    appeal_deadline: date | None
    final_at: Moment | None
    superseded: bool
    reason: str = Field(description="Why this version was computed again; empty for the first")
    result: dict[str, Any] = Field(description="The engine's result as stored: total, grade, "
                                               "parts, nodes, trace and warnings")


@router.get("/api/results", summary="List published results (公示结果列表)", tags=["results"],
            response_model=PublicResultPage,
            responses=error_responses(422))
def list_public_results(q: str = Query("", description="Words in the project, supplier or "
                                       "department"),
                        grade: str = Query("", description="A grade as published, e.g. 优"),
                        sort: str | None = Query(None, description="published, project, "
                                                 "supplier, department, total or deadline; a "
                                                 "leading - sorts descending; latest first "
                                                 "when omitted"),
                        page: ApiPage = 1,
                        per_page: ApiPerPage = 20,
                        session: Session = Depends(get_session), principal=Depends(public)):
    """Published results (公示), the latest publication of each evaluation; no personal data.
    A grade that is neither a standard one nor one a published result carries is refused
    (422) naming the grades, as any unknown filter."""
    problems = _grade_problems(session, grade)
    if problems:
        raise ValidationFailed(problems)
    results.finalise_quietly(session)
    found = results.public_page(session, q=q, grade=grade, sort=sort, page_number=page,
                                per_page=per_page)
    problems = paging.list_problems(found, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return {"total": found.total, "page": found.page, "pages": found.pages,
            "per_page": found.per_page, "sort": paging.applied_sort(found), "items": [{
        "id": row.result.id, "evaluation": row.evaluation.title, "project": row.project.name,
        "department": row.department.name, "supplier": row.supplier.name,
        "total": row.result.total, "grade": row.result.grade,
        "published_on": evaluations.local_date(row.result.published_at).isoformat(),
        "appeal_deadline": row.result.appeal_deadline.isoformat(),
        "state": row.state, "parts": results.public_parts(row.result)} for row in found.items]}


def _grade_problems(session: Session, grade: str) -> dict[str, str]:
    """The grade filter → why it cannot be applied: a grade is one of the standard four or
    one a published result carries (a scheme may name its own). The page lists those and
    forgives any other; the API refuses it, as a program asking for a mistyped grade must
    not be handed an empty list as if none had it."""
    known = [g["name"] for g in schemes.DEFAULT_GRADES]
    known += [g for g in results.published_grades(session) if g not in known]
    if grade.strip() and grade.strip() not in known:
        return {"grade": _("Choose one of the grades: %(choices)s.", choices=", ".join(known))}
    return {}


class ResultStepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: Version | None = Field(
        None, description="The evaluation's version as read (``version`` of GET "
                          "/api/evaluations/{id}); if someone changed the evaluation since, the "
                          "step is refused (409) instead of taken on what the caller did not see")


def _result_out(session: Session, evaluation, result) -> dict:
    return {"evaluation": evaluation.id, "version": result.version, "total": result.total,
            "grade": result.grade, "final_ready": result.final_ready,
            "state": results.state(session, result, evaluation),
            "computed_at": result.computed_at, "published_at": result.published_at,
            "appeal_deadline": result.appeal_deadline, "final_at": result.final_at,
            "superseded": result.superseded, "reason": result.reason, "result": result.result}


@router.post("/api/evaluations/{evaluation_id}/result/compute",
             summary="Compute an evaluation's result (计算结果)", tags=["results"],
             response_model=ResultOut, status_code=201,
             responses=error_responses(401, 403, 404, 409, 422))
def compute_result(evaluation_id: int, response: Response,
                   body: Annotated[ResultStepIn, Body(default_factory=ResultStepIn)],
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(result_organiser)):
    """Compute a new version of the result from the stored sheets, answers and data, as the
    evaluation page's button does (finance or the purchasing department): refused with 409
    while collection is open or on a changed evaluation. The body is optional: without it no
    version is checked. Answers 201 with the version, its address in Location. Audited as
    result.compute."""
    result = results.compute(session, principal, evaluation_id,
                             expected_version=body.expected_version)
    response.headers["location"] = \
        f"/api/evaluations/{evaluation_id}/result?version={result.version}"
    return _result_out(session, evaluations.get(session, evaluation_id), result)


@router.post("/api/evaluations/{evaluation_id}/result/publish",
             summary="Publish a result (公示结果)", tags=["results"],
             response_model=ResultOut, responses=error_responses(401, 403, 404, 409, 422))
def publish_result(evaluation_id: int,
                   body: Annotated[ResultStepIn, Body(default_factory=ResultStepIn)],
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(result_organiser)):
    """Publish (公示) the current version, as the result page's button does: the appeal window
    opens from the publication day. Refused with 409 when there is no computed result, when
    missing scores block it, or on a changed evaluation. The body is optional: without it no
    version is checked. Audited as result.publish."""
    result = results.publish(session, principal, evaluation_id,
                             expected_version=body.expected_version)
    return _result_out(session, evaluations.get(session, evaluation_id), result)


@router.get("/api/evaluations/{evaluation_id}/result",
            summary="An evaluation's current result (评价结果)", tags=["results"], response_model=ResultOut,
            responses=error_responses(401, 403, 404, 422))
def get_result(evaluation_id: int,
               version: int | None = Query(None, ge=1, description="A version, from 1; the "
                                           "latest one the caller may read when omitted"),
               session: Session = Depends(get_session),
               principal: Principal = Depends(result_reader)):
    """A version of the result as the engine gave it, with its publication state (final once
    its appeal window has closed with no appeal open, as the result page says). A version
    that is not a whole number from 1 is refused (422 naming it), not read as the latest."""
    results.finalise_quietly(session, [evaluation_id])
    evaluation = evaluations.get(session, evaluation_id)
    return _result_out(session, evaluation, results.version_for(session, principal, evaluation,
                                                                version))
