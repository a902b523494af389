"""The audit log, for auditors (and finance and the administrator): read-only; and the
re-scoring of every stored result from its package, for those who may read results."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import audit, result_check
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.routes import evaluations, experts, projects, results, schemes, settlements
from evalplatform.web.templating import render

router = APIRouter(route_class=FormRoute)
readers = require(Role.auditor, Role.finance, Role.admin)
result_checkers = require(*result_check.CHECKERS)
SHOWN_DIFFERENCES = 100  # the rest are counted; the command line lists them all

#: The page that shows each kind of audited object, with that page's own access decision:
#: the log links an object only for a reader the decision lets in.
OBJECT_PAGES = {
    "project": ("/projects/{project_id}", projects.project_reader),
    "contract": ("/contracts/{contract_id}", projects.contract_reader),
    "evaluation": ("/evaluations/{evaluation_id}", evaluations.evaluation_reader),
    "indicator_scheme": ("/schemes/{scheme_id}", schemes.read_one),
    "expert": ("/experts/{expert_id}", experts.pool_readers),
    "appeal": ("/appeals/{appeal_id}", results.appeal_reader),
    "settlement": ("/settlements/{settlement_id}", settlements.settlement_reader),
}


def _objects(session: Session, principal: Principal, entries) -> dict:
    """Each entry's object as the table shows it: its name where it has one, and the link to
    its page where the reader may open it."""
    shown = {}
    names = audit.entity_names(session, entries)
    held = audit.load_objects(session, [key for key in names if key[0] in OBJECT_PAGES])
    for (kind, object_id), name in names.items():
        href = None
        if kind in OBJECT_PAGES:
            path, access = OBJECT_PAGES[kind]
            parameter = path.rsplit("{", 1)[1].rstrip("}")
            if access.admits(principal, session, {parameter: object_id}):
                href = path.replace("{" + parameter + "}", object_id)
        shown[(kind, object_id)] = {"name": name, "href": href}
    del held  # read once for the access checks above
    return shown


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
    objects = _objects(session, principal, result.items)
    if request.headers.get("hx-request"):
        return render(request, "_audit_table.html", {"page": result, "objects": objects})
    return render(request, "audit.html", {"page": result, "objects": objects,
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
        "shown_upgrades": SHOWN_DIFFERENCES,
        "titles": result_check.evaluation_titles(session, report)})
