"""The audit log, for auditors (and finance and the administrator): read-only; and the
re-scoring of every stored result from its package, for those who may read results."""

from __future__ import annotations

import csv
import io
import itertools

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from evalplatform import i18n
from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import audit, result_check
from evalplatform.services.clock import LOCAL_TZ, now
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.routes import evaluations, experts, projects, results, schemes, settlements
from evalplatform.web.templating import change_items, render

router = APIRouter(route_class=FormRoute)
readers = require(Role.auditor, Role.finance, Role.admin)
result_checkers = require(*result_check.CHECKERS)
SHOWN_DIFFERENCES = 100  # the rest are counted; the command line lists them all
#: Entries on a page of the log unless ``per_page`` (1 to ``paging.MAX_PER_PAGE``) says otherwise.
PER_PAGE = 50

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


def _filters(request: Request) -> audit.AuditFilters:
    return audit.AuditFilters(**{key: request.query_params.get(key, "")
                                 for key in ("action", "entity_type", "actor", "since", "until")})


@router.get("/audit")
def audit_log(
    request: Request,
    sort: str = "-seq",
    page: PageNumber = 1,
    per_page: str = str(PER_PAGE),
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    filters = _filters(request)
    result = audit.page_entries(session, sort=sort, page=page, per_page=per_page,
                                filters=filters)
    objects = _objects(session, principal, result.items)
    context = {"page": result, "objects": objects, "filters": filters,
               "filter_errors": filters.problems()}
    if request.headers.get("hx-request"):
        return render(request, "_audit_table.html", context)
    return render(request, "audit.html", {**context,
                                          "choices": audit.filter_choices(session),
                                          "may_check_results":
                                              principal.role in result_check.CHECKERS,
                                          "activity": audit.activity_by_day(session)})


def change_text(entry) -> str:
    """An entry's change in words, as the log's page writes it ("name: value; …")."""
    chinese = i18n.current_language().startswith("zh")
    colon, separator = ("：", "；") if chinese else (": ", "; ")
    return separator.join(f"{name}{colon}{value}" if name else value
                          for name, value in change_items(entry.change, entry.entity_type,
                                                          entry.action))


@router.get("/audit.csv")
def audit_export(request: Request, principal: Principal = Depends(readers)):
    """The entries the filters keep, oldest first, as CSV (UTF-8 with a byte-order mark, for
    Excel), in the reader's language as the log's page shows them (China time, the actor's
    name, the action, the object and the change in words), with the columns the chain is
    checked with as stored: the moment in UTC, the stored change, both hashes and the payload
    each hash covers (``audit.export_rows``). Written as it is read, a thousand entries at a
    time, in a session of its own (the response outlives the request's), in the request's
    language. A filter that is not a day is refused, naming it: a file of the whole log is not
    what was asked for."""
    filters = _filters(request)
    problems = filters.problems()
    if problems:
        raise ValidationFailed(problems)
    engine = request.app.state.engine
    language = i18n.current_language()

    def chunks():
        yield "\ufeff".encode()
        with Session(engine) as session:
            rows = audit.export_rows(session, filters, details=change_text)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            while True:
                # each batch in the reader's language, whichever thread writes it
                with i18n.language(language):
                    batch = list(itertools.islice(rows, audit.EXPORT_BATCH))
                if not batch:
                    return
                writer.writerows(batch)
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()

    stamp = now().astimezone(LOCAL_TZ).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="audit-log-{stamp}.csv"'})


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
