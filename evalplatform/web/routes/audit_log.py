"""The audit log, for auditors (and finance and the administrator): read-only; and the
re-scoring of every stored result from its package, for those who may read results."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import audit, result_check
from evalplatform.web.access import Principal, require
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import render

router = APIRouter()
readers = require(Role.auditor, Role.finance, Role.admin)
result_checkers = require(*result_check.CHECKERS)
SHOWN_DIFFERENCES = 100  # the rest are counted; the command line lists them all


@router.get("/audit")
def audit_log(
    request: Request,
    sort: str = "-seq",
    page: PageNumber = 1,
    action: str = "",
    entity_type: str = "",
    actor: str = "",
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    result = audit.page_entries(session, sort=sort, page=page, action=action,
                                entity_type=entity_type, actor=actor)
    if request.headers.get("hx-request"):
        return render(request, "_audit_table.html", {"page": result})
    return render(request, "audit.html", {"page": result,
                                          "filters": {"action": action,
                                                      "entity_type": entity_type,
                                                      "actor": actor.strip()},
                                          "choices": audit.filter_choices(session),
                                          "may_check_results":
                                              principal.role in result_check.CHECKERS,
                                          "activity": audit.activity_by_day(session)})


@router.get("/audit/verify")
def audit_verify(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    return render(request, "_audit_verify.html", {"verification": audit.verify(session)})


@router.get("/audit/results-check")
def results_check(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(result_checkers),
):
    report = result_check.check_all(session)
    return render(request, "_results_check.html", {
        "report": report, "shown": report.differences[:SHOWN_DIFFERENCES],
        "titles": result_check.evaluation_titles(session, report)})
