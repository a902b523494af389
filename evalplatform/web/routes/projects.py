"""Catalogue, negative list, projects, suppliers, contracts and the due-and-late list."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

from evalplatform.db import form_integer, get_session
from evalplatform.i18n import _
from evalplatform.labels import (
    DUE_CONDITION_LABELS,
    METHOD_LABELS,
    STATUS_LABELS,
    SUPPLIER_KIND_LABELS,
)
from evalplatform.models import (
    DueCondition,
    IndicatorScheme,
    Organisation,
    ProcurementMethod,
    ProjectStatus,
    Role,
    SupplierKind,
)
from evalplatform.services import (
    accounts,
    catalogue,
    catalogue_excel,
    contracts,
    evaluations,
    files,
    projects,
    standing,
)
from evalplatform.services.errors import Conflict, NotFound, ValidationFailed
from evalplatform.services.paging import paginate_items
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.templating import attachment, flash, redirect, render

router = APIRouter(route_class=FormRoute)

def _sees_all(principal: Principal) -> bool:
    return principal.role in (Role.finance, Role.auditor)


def _owns_project(principal: Principal, session: Session, params: dict) -> bool:
    return _sees_all(principal) or projects.belongs_to(
        session, params.get("project_id"), principal.organisation_id)


owns_project = _owns_project  # for the JSON API: the same ownership rule as the pages


def _owns_contract(principal: Principal, session: Session, params: dict) -> bool:
    """A purchaser's own department's contract, a supplier's own; finance and auditors all."""
    if _sees_all(principal):
        return True
    try:
        contract = contracts.get(session, int(params.get("contract_id")))
    except (NotFound, TypeError, ValueError):
        return False
    return contracts.can_see(session, principal, contract)


readers = require(Role.finance, Role.purchaser, Role.auditor)
finance_only = require(Role.finance)
project_reader = require(Role.finance, Role.purchaser, Role.auditor, owns=_owns_project)
project_purchaser = require(Role.purchaser, owns=_owns_project)
#: who reads contracts: the supplier too, its own (it signed them; its pay follows them)
contract_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier)
contract_reader = require(Role.finance, Role.purchaser, Role.auditor, Role.supplier,
                          owns=_owns_contract)
contract_purchaser = require(Role.purchaser, owns=_owns_contract)


def _template(request: Request, partial: str, full: str) -> str:
    return partial if request.headers.get("hx-request") else full


# ---------------------------------------------------------------- catalogue


def _catalogue_context(session: Session, values=None, errors=None, issue_values=None,
                       issue_errors=None, import_errors=None, publication=None) -> dict:
    """``publication``: (issue id, date as typed, errors) of a refused publication date."""
    return {"entries": catalogue.list_entries(session),
            "issues": catalogue.list_issues(session, projects.today()),
            "values": values or {}, "errors": errors or {},
            "issue_values": issue_values or {}, "issue_errors": issue_errors or {},
            "import_errors": import_errors or {},
            "publication": publication or (None, "", {})}


@router.get("/catalogue")
def catalogue_page(request: Request, session: Session = Depends(get_session),
                   principal: Principal = Depends(readers)):
    return render(request, "catalogue/index.html", _catalogue_context(session))


@router.get("/catalogue/export.xlsx")
def catalogue_export(session: Session = Depends(get_session),
                     principal: Principal = Depends(readers)):
    filename = f"catalogue-{projects.today().isoformat()}.xlsx"
    return Response(catalogue_excel.export_workbook(session), media_type=catalogue_excel.MEDIA_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.post("/catalogue/import")
async def catalogue_import(request: Request, session: Session = Depends(get_session),
                           principal: Principal = Depends(finance_only)):
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if hasattr(upload, "read") else b""
    try:
        result = catalogue_excel.import_workbook(session, principal.actor, data,
                                                 getattr(upload, "filename", "") or "")
    except ValidationFailed as exc:
        return render(request, "catalogue/index.html",
                      _catalogue_context(session, import_errors=exc.errors), status_code=422)
    flash(request, _("Catalogue imported: %(created)s added, %(updated)s updated, %(unchanged)s "
                     "unchanged.", created=len(result.created), updated=len(result.updated),
                     unchanged=result.unchanged))
    return redirect(request, "/catalogue")


@router.get("/catalogue/{entry_id}/edit")
def catalogue_edit(request: Request, entry_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(finance_only)):
    entry = catalogue.get_entry(session, entry_id)
    values = {"code": entry.code, "name": entry.name, "description": entry.description,
              "active": entry.active}
    return render(request, "catalogue/edit.html",
                  {"entry": entry, "values": values, "errors": {}})


@router.post("/catalogue")
async def catalogue_save(request: Request, session: Session = Depends(get_session),
                         principal: Principal = Depends(finance_only)):
    form = await request.form()
    typed_id = str(form.get("entry_id") or "").strip()
    entry_id = form_integer(typed_id)
    if typed_id and entry_id is None:  # a hidden field edited into something no row has
        raise NotFound(_("No such catalogue entry."))
    values = {k: form.get(k, "") for k in ("code", "name", "description")}
    values["active"] = form.get("active", "") == "1" or not entry_id
    try:
        entry = catalogue.save_entry(session, principal.actor, entry_id=entry_id, **values)
    except ValidationFailed as exc:
        if entry_id:
            return render(request, _template(request, "catalogue/_entry_form.html",
                                             "catalogue/edit.html"),
                          {"entry": catalogue.get_entry(session, entry_id), "values": values,
                           "errors": exc.errors}, status_code=422)
        return render(request, _template(request, "catalogue/_entry_form.html",
                                         "catalogue/index.html"),
                      {**_catalogue_context(session, values, exc.errors), "entry": None},
                      status_code=422)
    flash(request, _("Catalogue entry %(code)s %(name)s saved.", code=entry.code, name=entry.name))
    return redirect(request, "/catalogue")


@router.post("/catalogue/issues")
async def catalogue_issue(request: Request, session: Session = Depends(get_session),
                          principal: Principal = Depends(finance_only)):
    form = await request.form()
    values = {"year": form.get("year", ""), "issued_on": form.get("issued_on", "")}
    try:
        issue = catalogue.record_issue(session, principal.actor, **values)
    except ValidationFailed as exc:
        return render(request, "catalogue/index.html",
                      _catalogue_context(session, issue_values=values, issue_errors=exc.errors),
                      status_code=422)
    flash(request, _("The catalogue of %(year)s is recorded as issued.", year=issue.year))
    return redirect(request, "/catalogue")


@router.post("/catalogue/issues/{issue_id}/published")
async def catalogue_published(request: Request, issue_id: int,
                              session: Session = Depends(get_session),
                              principal: Principal = Depends(finance_only)):
    form = await request.form()
    typed = form.get("published_on", "")
    try:
        catalogue.record_publication(session, principal.actor, issue_id, typed)
    except ValidationFailed as exc:  # the catalogue page again, the date refused at its field
        return render(request, "catalogue/index.html",
                      _catalogue_context(session, publication=(issue_id, typed, exc.errors)),
                      status_code=422)
    flash(request, _("Publication date recorded."))
    return redirect(request, "/catalogue")


# ---------------------------------------------------------------- negative list


def _negative_context(session: Session, values=None, errors=None, terms_entry_id=None,
                      terms_value="", terms_errors=None) -> dict:
    entries = catalogue.list_negative(session)
    return {"entries": entries, "entry_options": [(e.id, e.name) for e in entries],
            "overrides": catalogue.list_overrides(session),
            "department_options": [(d.id, d.name) for d in projects.departments(session)],
            "values": values or {}, "errors": errors or {},
            # the entry whose terms form was refused: it stays open with what was typed
            "terms_entry_id": terms_entry_id, "terms_value": terms_value,
            "terms_errors": terms_errors or {}}


@router.get("/negative-list")
def negative_list(request: Request, session: Session = Depends(get_session),
                  principal: Principal = Depends(readers)):
    # A link may prefill the exception form (entry, department and the refused project's name).
    values = {k: request.query_params.get(k, "") for k in ("entry_id", "department_id",
                                                            "project_name")}
    return render(request, "catalogue/negative_list.html", _negative_context(session, values))


@router.post("/negative-list/{entry_id}/terms")
async def negative_terms(request: Request, entry_id: int, session: Session = Depends(get_session),
                         principal: Principal = Depends(finance_only)):
    form = await request.form()
    typed = str(form.get("match_terms", ""))
    try:
        entry = catalogue.save_negative_terms(session, principal.actor, entry_id, typed)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "catalogue/negative_list.html",
                      _negative_context(session, terms_entry_id=entry_id, terms_value=typed,
                                        terms_errors=exc.errors), status_code=422)
    flash(request, _("Match terms of %(name)s saved.", name=entry.name))
    return redirect(request, f"/negative-list#negative-{entry.id}")


@router.post("/negative-list/overrides")
async def negative_override(request: Request, session: Session = Depends(get_session),
                            principal: Principal = Depends(finance_only)):
    form = await request.form()
    values = {k: form.get(k, "") for k in ("entry_id", "department_id", "project_name", "reason")}
    try:
        catalogue.record_override(session, principal.actor, **values)
    except ValidationFailed as exc:
        return render(request, "catalogue/negative_list.html",
                      _negative_context(session, values, exc.errors), status_code=422)
    flash(request, _("Exception recorded for %(name)s.", name=values["project_name"].strip()))
    return redirect(request, "/negative-list")


# ---------------------------------------------------------------- projects


FILTER_KEYS = ("year", "department_id", "catalogue", "method", "status", "min_yuan", "max_yuan",
               "q")


@router.get("/projects")
def project_list(request: Request, sort: str = "-created_at", page: str = "1",
                 per_page: str = "20", session: Session = Depends(get_session),
                 principal: Principal = Depends(readers)):
    filters = projects.ProjectFilters(**{k: request.query_params.get(k, "") for k in FILTER_KEYS})
    scope = None if _sees_all(principal) else principal.organisation_id
    result = projects.page(session, organisation_id=scope, filters=filters, sort=sort,
                           page_number=page, per_page=per_page)
    context = {"page": result, "filters": filters, "filter_errors": filters.problems(),
               "years": projects.years(session),
               "departments": projects.departments(session) if scope is None else [],
               "level1": [e for e in catalogue.list_entries(session) if e.level <= 2],
               "methods": list(ProcurementMethod), "statuses": list(ProjectStatus)}
    return render(request, _template(request, "projects/_table.html", "projects/list.html"),
                  context)


def _project_form_context(session: Session, values: dict, errors: dict) -> dict:
    return {"values": values, "errors": errors,
            "entry_options": [(e.id, f"{e.code} {e.name}")
                              for e in catalogue.selectable_entries(session)],
            "method_options": [(m.value, str(METHOD_LABELS[m])) for m in ProcurementMethod],
            "targets": projects.TARGET_FIELDS}


@router.get("/projects/new")
def project_new(request: Request, session: Session = Depends(get_session),
                principal: Principal = Depends(require(Role.purchaser))):
    values = {"year": str(projects.today().year)}
    return render(request, "projects/new.html", _project_form_context(session, values, {}))


@router.post("/projects")
async def project_create(request: Request, session: Session = Depends(get_session),
                         principal: Principal = Depends(require(Role.purchaser))):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        project = projects.register(session, principal.actor,
                                    department_id=principal.organisation_id, values=values)
    except ValidationFailed as exc:
        return render(request, _template(request, "projects/_form.html", "projects/new.html"),
                      _project_form_context(session, values, exc.errors), status_code=422)
    flash(request, _("Project %(name)s registered.", name=project.name))
    return redirect(request, f"/projects/{project.id}")


def _project_context(session: Session, project_id: int, errors=None, principal=None,
                     typed_reason: str = "") -> dict:
    project = projects.get(session, project_id)
    contract = contracts.for_project(session, project.id)
    entry = catalogue.get_entry(session, project.catalogue_entry_id)
    history = projects.history(session, project)
    return {"project": project, "contract": contract,
            "department": session.get(Organisation, project.department_id),
            "entry_path": catalogue.entry_path(session, entry),
            "history": history, "actor_names": accounts.display_names(session, history),
            "exceptions": projects.negative_list_exceptions(session, project),
            "needs_approval": projects.needs_approval(project.budget_fen),
            "needs_ex_ante": projects.needs_ex_ante(project.budget_fen),
            "awardable": projects.is_awardable(project),
            "can_revise": principal is not None and projects.can_revise(principal, project),
            "targets": projects.TARGET_FIELDS, "errors": errors or {},
            "typed_reason": typed_reason}


@router.get("/projects/{project_id}")
def project_page(request: Request, project_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(project_reader)):
    return render(request, "projects/detail.html",
                  _project_context(session, project_id, principal=principal))


@router.post("/projects/{project_id}/approve")
def project_approve(request: Request, project_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(finance_only)):
    try:
        projects.approve(session, principal.actor, project_id)
    except ValidationFailed as exc:
        return render(request, "projects/detail.html",
                      _project_context(session, project_id, exc.errors, principal),
                      status_code=422)
    except Conflict as exc:  # decided meanwhile (by a colleague): the project as it is now
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/projects/{project_id}")
    flash(request, _("Project approved; procurement may start."))
    return redirect(request, f"/projects/{project_id}")


@router.post("/projects/{project_id}/return")
async def project_return(request: Request, project_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(finance_only)):
    form = await request.form()
    try:
        projects.return_to_department(session, principal.actor, project_id,
                                      form.get("reason", ""))
    except ValidationFailed as exc:  # the reason comes back as typed, to complete it
        return render(request, "projects/detail.html",
                      _project_context(session, project_id, exc.errors, principal,
                                       typed_reason=str(form.get("reason", ""))),
                      status_code=422)
    except Conflict as exc:  # decided meanwhile (by a colleague): the project as it is now
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/projects/{project_id}")
    flash(request, _("Project returned to the department."))
    return redirect(request, f"/projects/{project_id}")


def _revise_context(session: Session, project, values: dict, errors: dict) -> dict:
    return {**_project_form_context(session, values, errors), "project": project,
            "form_action": f"/projects/{project.id}/edit",
            "submit_label": _("Save the corrections")}


@router.get("/projects/{project_id}/edit")
def project_edit(request: Request, project_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(project_purchaser)):
    project = projects.get(session, project_id)
    if not projects.can_revise(principal, project):
        raise Conflict(_("Only a project finance returned can be corrected (now: %(status)s).",
                         status=STATUS_LABELS[project.status]))
    return render(request, "projects/edit.html",
                  _revise_context(session, project, projects.form_values(project), {}))


@router.post("/projects/{project_id}/edit")
async def project_revise(request: Request, project_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(project_purchaser)):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        project = projects.revise(session, principal, project_id, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, _template(request, "projects/_form.html", "projects/edit.html"),
                      _revise_context(session, projects.get(session, project_id), values,
                                      exc.errors), status_code=422)
    flash(request, _("Corrections to %(name)s saved; resubmit the project when it is ready.",
                     name=project.name))
    return redirect(request, f"/projects/{project.id}")


@router.post("/projects/{project_id}/resubmit")
def project_resubmit(request: Request, project_id: int, session: Session = Depends(get_session),
                     principal: Principal = Depends(project_purchaser)):
    try:
        projects.resubmit(session, principal.actor, project_id)
    except ValidationFailed as exc:  # the ex-ante assessment first: its upload form is named
        return render(request, "projects/detail.html",
                      _project_context(session, project_id, exc.errors, principal),
                      status_code=422)
    flash(request, _("Project resubmitted for approval."))
    return redirect(request, f"/projects/{project_id}")


@router.post("/projects/{project_id}/ex-ante")
async def project_ex_ante(request: Request, project_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(project_purchaser)):
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if hasattr(upload, "read") else b""
    filename = getattr(upload, "filename", "") or ""
    try:
        projects.upload_ex_ante(session, principal.actor, project_id, data, filename)
    except ValidationFailed as exc:
        return render(request, "projects/detail.html",
                      _project_context(session, project_id, exc.errors, principal),
                      status_code=422)
    flash(request, _("Ex-ante performance assessment uploaded."))
    return redirect(request, f"/projects/{project_id}")


@router.get("/projects/{project_id}/ex-ante")
def project_ex_ante_file(project_id: int, session: Session = Depends(get_session),
                         principal: Principal = Depends(project_reader)):
    project = projects.get(session, project_id)
    if not project.ex_ante_sha256:
        raise NotFound(_("No such file."))
    data = files.read(project.ex_ante_sha256)
    return Response(data, media_type=files.MEDIA_TYPES[files.detect_kind(data)],
                    headers={"Content-Disposition": attachment(
                        project.ex_ante_filename or f"ex-ante-{project.id}")})


# ---------------------------------------------------------------- suppliers


def _suppliers_context(session: Session, values=None, errors=None) -> dict:
    return {"suppliers": contracts.list_suppliers(session),
            "kind_options_supplier": [(k.value, str(SUPPLIER_KIND_LABELS[k])) for k in SupplierKind],
            "values": values or {}, "errors": errors or {}}


@router.get("/suppliers")
def supplier_list(request: Request, session: Session = Depends(get_session),
                  principal: Principal = Depends(readers)):
    return render(request, "suppliers/list.html", _suppliers_context(session))


@router.post("/suppliers")
async def supplier_create(request: Request, session: Session = Depends(get_session),
                          principal: Principal = Depends(require(Role.finance, Role.purchaser))):
    form = await request.form()
    values = {k: form.get(k, "") for k in ("name", "credit_code", "supplier_kind",
                                           "contact_name", "contact_phone")}
    values["small_medium"] = form.get("small_medium") == "1"
    try:
        org = contracts.register_supplier(session, principal.actor, **values)
    except ValidationFailed as exc:
        return render(request, _template(request, "suppliers/_form.html", "suppliers/list.html"),
                      _suppliers_context(session, values, exc.errors), status_code=422)
    flash(request, _("Supplier %(name)s registered.", name=org.name))
    return redirect(request, "/suppliers")


# ---------------------------------------------------------------- contracts

INSTALMENT_ROWS = 4


def _contract_form_context(session: Session, project_id: int, values: dict, errors: dict) -> dict:
    project = projects.get(session, project_id)
    return {"project": project, "values": values, "errors": errors,
            "supplier_options": [
                (o.id, o.name if until is None else _(
                    "%(name)s (barred from new contracts until %(until)s)", name=o.name,
                    until=until.isoformat()))
                for o, until in contracts.supplier_choices(session)],
            "condition_options": [(c.value, str(DUE_CONDITION_LABELS[c])) for c in DueCondition],
            "rows": range(1, INSTALMENT_ROWS + 1)}


@router.get("/projects/{project_id}/contract/new")
def contract_new(request: Request, project_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(project_purchaser)):
    project = projects.get(session, project_id)
    values = {"share_1": "100%", "due_1": "on_signing", "payment_rule": "bands",
              "content": project.content}
    return render(request, "contracts/new.html",
                  _contract_form_context(session, project_id, values, {}))


@router.post("/projects/{project_id}/contract")
async def contract_create(request: Request, project_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(project_purchaser)):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    rows = [contracts.InstalmentInput(values.get(f"share_{i}", ""), values.get(f"due_{i}", ""),
                                      values.get(f"linked_{i}") == "1")
            for i in range(1, INSTALMENT_ROWS + 1)]
    upload = form.get("signed_copy")
    copy = None
    if hasattr(upload, "read") and getattr(upload, "filename", ""):
        copy = (await upload.read(), upload.filename)
    try:
        contract = contracts.record_contract(session, principal.actor, project_id, values, rows,
                                             copy)
    except ValidationFailed as exc:
        return render(request, _template(request, "contracts/_form.html", "contracts/new.html"),
                      _contract_form_context(session, project_id, values, exc.errors),
                      status_code=422)
    except Conflict as exc:  # a colleague recorded the project's contract meanwhile
        session.rollback()
        # htmx swaps no 409 (base.html's htmx-config): the form says it, or the click did nothing
        htmx = request.headers.get("hx-request") == "true"
        return render(request, _template(request, "contracts/_form.html", "contracts/new.html"),
                      _contract_form_context(session, project_id, values,
                                             {"project": exc.message}),
                      status_code=422 if htmx else 409)
    flash(request, _("Contract recorded with its payment schedule."))
    if warning := standing.warning_for(session, contract.supplier_id, principal):
        flash(request, warning, "warning")
    return redirect(request, f"/contracts/{contract.id}")


CONTRACT_FILTER_KEYS = ("year", "department_id", "publication", "q")


@router.get("/contracts")
def contract_list(request: Request, sort: str = "", page: str = "1", per_page: str = "20",
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(contract_readers)):
    """The contracts the reader may see (合同): finance and auditors all, a purchaser its
    department's, a supplier its own."""
    filters = contracts.ContractFilters(**{k: request.query_params.get(k, "")
                                           for k in CONTRACT_FILTER_KEYS})
    scope = contracts.list_scope(principal)
    result = contracts.page(session, **scope, **filters.applied(), sort=sort,
                            page_number=page, per_page=per_page)
    today = projects.today()
    context = {"page": result, "filters": filters, "filter_errors": filters.problems(),
               "years": projects.years(session),
               "departments": projects.departments(session) if not scope else [],
               "publications": {row.contract.id: contracts.publication_deadline(row.contract,
                                                                               today)
                                for row in result.items}}
    return render(request, _template(request, "contracts/_table.html", "contracts/list.html"),
                  context)


def _contract_context(session: Session, contract_id: int, errors=None, principal=None) -> dict:
    from evalplatform.web.routes.evaluations import schemes_to_copy
    from evalplatform.web.routes.schemes import read_one as scheme_reader

    contract = contracts.get(session, contract_id)
    project = projects.get(session, contract.project_id)
    today = projects.today()
    scheme = session.get(IndicatorScheme, contract.scheme_id) if contract.scheme_id else None
    return {"contract": contract, "project": project, "scheme": scheme,
            # a name links only to a page the reader may open (a supplier reads neither the
            # project's page nor the indicator scheme's editor)
            "project_openable": project_reader.admits(principal, session,
                                                      {"project_id": project.id}),
            "scheme_openable": scheme is not None and scheme_reader.admits(
                principal, session, {"scheme_id": scheme.id}),
            "evaluations": evaluations.for_contract(session, contract.id),
            "schemes_to_copy": schemes_to_copy(session, principal)
            if principal is not None and principal.role == Role.purchaser else [],
            "supplier": session.get(Organisation, contract.supplier_id),
            "instalments": contracts.instalments_of(session, contract.id),
            "publication": contracts.publication_deadline(contract, today),
            "copy": contracts.copy_filing_deadline(contract, project, today),
            "today": today, "errors": errors or {}}


@router.get("/contracts/{contract_id}")
def contract_page(request: Request, contract_id: int, session: Session = Depends(get_session),
                  principal: Principal = Depends(contract_reader)):
    return render(request, "contracts/detail.html",
                  _contract_context(session, contract_id, principal=principal))


@router.post("/contracts/{contract_id}/published")
async def contract_published(request: Request, contract_id: int,
                             session: Session = Depends(get_session),
                             principal: Principal = Depends(contract_purchaser)):
    form = await request.form()
    typed = str(form.get("published_on", ""))
    try:
        contracts.record_publication(session, principal.actor, contract_id, typed)
    except ValidationFailed as exc:  # the contract page again, the typed date kept at its field
        context = _contract_context(session, contract_id, exc.errors, principal)
        context["published_on"] = typed
        return render(request, "contracts/detail.html", context, status_code=422)
    flash(request, _("Publication date recorded."))
    return redirect(request, f"/contracts/{contract_id}")


@router.post("/contracts/{contract_id}/signed-copy")
async def contract_signed_copy(request: Request, contract_id: int,
                               session: Session = Depends(get_session),
                               principal: Principal = Depends(contract_purchaser)):
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if hasattr(upload, "read") else b""
    try:
        contracts.file_signed_copy(session, principal.actor, contract_id, data,
                                   getattr(upload, "filename", "") or "")
    except ValidationFailed as exc:
        return render(request, "contracts/detail.html",
                      _contract_context(session, contract_id, exc.errors, principal),
                      status_code=422)
    flash(request, _("Signed copy filed."))
    return redirect(request, f"/contracts/{contract_id}")


@router.get("/contracts/{contract_id}/signed-copy")
def contract_signed_copy_file(contract_id: int, session: Session = Depends(get_session),
                              principal: Principal = Depends(contract_reader)):
    contract = contracts.get(session, contract_id)
    if not contract.signed_copy_sha256:
        raise NotFound(_("No such file."))
    return Response(files.read(contract.signed_copy_sha256), media_type="application/pdf",
                    headers={"Content-Disposition": attachment(
                        contract.signed_copy_filename or f"contract-{contract.id}.pdf")})


# ---------------------------------------------------------------- due and late


@router.get("/due")
def due_list(request: Request, sort: str = "", page: str = "1", per_page: str = "20",
             show: str = "", session: Session = Depends(get_session),
             principal: Principal = Depends(readers)):
    """Everything due or late; ``show=late`` only what is past its deadline (the home card's
    count)."""
    scope = None if _sees_all(principal) else principal.organisation_id
    due = contracts.due_and_late(session, organisation_id=scope, today=projects.today())
    show = "late" if show == "late" else ""
    items = due.late if show else due.items
    return render(request, _template(request, "projects/_due_table.html", "projects/due.html"),
                  {"page": paginate_items(items, page=page, per_page=per_page, sort=sort,
                                          sort_keys=contracts.DUE_SORTS),
                   "today": projects.today(), "show": show, "late_count": len(due.late),
                   "late_catalogue": catalogue.late_issues(session, projects.today())
                   if principal.role in (Role.finance, Role.auditor) else []})
