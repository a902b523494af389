"""Indicator schemes (指标体系): list, editor, AHP, Excel import and export."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import Role
from evalplatform.services import scheme_excel, scheme_weights, schemes
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute, prefix="/schemes")
readers = require(Role.finance, Role.purchaser, Role.auditor)
creators = require(Role.finance, Role.purchaser)
read_one = require(Role.finance, Role.purchaser, Role.auditor, owns=schemes.owns_scheme)
edit_one = require(Role.finance, Role.purchaser, owns=schemes.owns_scheme)


def _editor_context(principal, scheme, errors=None, open_node: str = "",
                    child: dict | None = None, typed: dict | None = None) -> dict:
    doc = scheme.document
    return {
        "scheme": scheme,
        "doc": doc,
        "can_edit": schemes.can_edit(principal, scheme),
        "problems": schemes.problems(doc),
        "errors": errors or {},
        "open_node": open_node,
        # what was typed into a refused "add a sub-indicator" form: {"parent", "name", "points"}
        "child": child or {},
        # what was typed into a refused part or rule form: {"part": id, ...} / {"rule": id, ...}
        "typed": typed or {},
        "S": schemes,
    }


def _editor(request, session, principal, scheme_id, errors=None, open_node="", status=200,
            child=None, typed=None):
    scheme = schemes.get(session, scheme_id)
    template = "schemes/_editor.html" if request.headers.get("hx-request") \
        else "schemes/editor.html"
    return render(request, template,
                  _editor_context(principal, scheme, errors, open_node, child, typed),
                  status_code=status)


@router.get("")
def scheme_list(request: Request, q: str = "", kind: str = "", sort: str = "-updated_at",
                page: PageNumber = 1, session: Session = Depends(get_session),
                principal: Principal = Depends(readers)):
    result = schemes.page_schemes(session, principal, q=q, kind=kind, sort=sort, page=page)
    template = "schemes/_table.html" if request.headers.get("hx-request") else "schemes/list.html"
    return render(request, template, {"page": result, "q": q, "kind": kind})


@router.post("")
def create_scheme(request: Request, name: str = Form(""), service_area: str = Form(""),
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(creators)):
    try:
        scheme = schemes.create(session, principal, name=name, service_area=service_area)
    except ValidationFailed as exc:
        return render(request, "schemes/_new_form.html",
                      {"values": {"name": name, "service_area": service_area},
                       "errors": exc.errors}, status_code=422)
    flash(request, _("Scheme %(name)s created.", name=scheme.name))
    return redirect(request, f"/schemes/{scheme.id}")


@router.get("/import")
def import_form(request: Request, principal: Principal = Depends(creators)):
    return render(request, "schemes/import.html", {"values": {}, "errors": {}})


@router.post("/import")
async def import_scheme(request: Request, file: UploadFile = File(None), name: str = Form(""),
                        service_area: str = Form(""), session: Session = Depends(get_session),
                        principal: Principal = Depends(creators)):
    data = await file.read() if file is not None else b""
    try:
        scheme = scheme_excel.import_scheme(session, principal, data, name=name,
                                            service_area=service_area)
    except ValidationFailed as exc:
        return render(request, "schemes/import.html",
                      {"values": {"name": name, "service_area": service_area},
                       "errors": exc.errors}, status_code=422)
    flash(request, _("Scheme %(name)s imported.", name=scheme.name))
    return redirect(request, f"/schemes/{scheme.id}")


@router.get("/{scheme_id}")
def editor(request: Request, scheme_id: int, session: Session = Depends(get_session),
           principal: Principal = Depends(read_one)):
    return _editor(request, session, principal, scheme_id)


@router.get("/{scheme_id}/export.xlsx")
def export(scheme_id: int, session: Session = Depends(get_session),
           principal: Principal = Depends(read_one)):
    scheme = schemes.get(session, scheme_id)
    return Response(
        scheme_excel.export_workbook(scheme),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="scheme-{scheme.id}.xlsx"'})


@router.post("/{scheme_id}/copy")
def copy_scheme(request: Request, scheme_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(edit_one)):
    source = schemes.get(session, scheme_id)
    scheme = schemes.copy_scheme(session, principal, scheme_id,
                                 name=_("%(name)s (copy)", name=source.name))
    flash(request, _("Scheme %(name)s created.", name=scheme.name))
    return redirect(request, f"/schemes/{scheme.id}")


@router.post("/{scheme_id}/version")
def new_version(request: Request, scheme_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(edit_one)):
    scheme = schemes.copy_scheme(session, principal, scheme_id, new_version=True)
    flash(request, _("Version %(v)s created.", v=scheme.version))
    return redirect(request, f"/schemes/{scheme.id}")


def _edit(request, session, principal, scheme_id, action, open_node="", typed=None):
    """Run one edit; re-render the editor, with the refusal in place on a bad input and what
    was typed (``typed``) kept in its form."""
    try:
        action()
    except ValidationFailed as exc:
        return _editor(request, session, principal, scheme_id, exc.errors, open_node, 422,
                       typed=typed)
    return _editor(request, session, principal, scheme_id, None, open_node)


@router.post("/{scheme_id}/check")
def check(request: Request, scheme_id: int, session: Session = Depends(get_session),
          principal: Principal = Depends(edit_one)):
    try:
        schemes.check(session, principal, scheme_id)
    except ValidationFailed as exc:
        return _editor(request, session, principal, scheme_id, exc.errors, status=422)
    flash(request, _("The scheme keeps every rule and is saved."))
    return redirect(request, f"/schemes/{scheme_id}")


@router.post("/{scheme_id}/settings")
def settings(request: Request, scheme_id: int, name: str = Form(""),
             service_area: str = Form(""), description: str = Form(""),
             missing: str = Form(""), grades: str = Form(""),
             session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id, lambda: schemes.update_settings(
        session, principal, scheme_id, name=name, service_area=service_area,
        description=description, missing=missing, grades=grades), typed={
        "settings": True, "name": name, "service_area": service_area,
        "description": description, "missing": missing, "grades": grades})


@router.post("/{scheme_id}/parts")
def add_part(request: Request, scheme_id: int, party: str = Form(""),
             session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id,
                 lambda: schemes.add_part(session, principal, scheme_id, party=party))


@router.post("/{scheme_id}/parts/{part_id}")
def update_part(request: Request, scheme_id: int, part_id: str, name: str = Form(""),
                party: str = Form(""), weight: str = Form(""), combine: str = Form(""),
                national_frame: str = Form(""), frame_reason: str = Form(""),
                session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    def action():
        try:
            schemes.update_part(session, principal, scheme_id, part_id, name=name, party=party,
                                weight=weight, combine=combine,
                                national_frame=bool(national_frame), frame_reason=frame_reason)
        except ValidationFailed as exc:
            raise ValidationFailed({f"part-{part_id}-{k}": v for k, v in exc.errors.items()}) \
                from None
    return _edit(request, session, principal, scheme_id, action, typed={
        "part": part_id, "name": name, "party": party, "weight": weight, "combine": combine,
        "national_frame": bool(national_frame), "frame_reason": frame_reason})


@router.post("/{scheme_id}/parts/{part_id}/delete")
def delete_part(request: Request, scheme_id: int, part_id: str,
                session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id,
                 lambda: schemes.delete_part(session, principal, scheme_id, part_id))


@router.post("/{scheme_id}/nodes/{node_id}")
def update_node(request: Request, scheme_id: int, node_id: str, name: str = Form(""),
                points: str = Form(""), dimension: str = Form(""),
                session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id, lambda: schemes.update_node(
        session, principal, scheme_id, node_id, name=name, points=points, dimension=dimension),
        typed={"node": node_id, "name": name, "points": points, "dimension": dimension})


@router.post("/{scheme_id}/nodes/{node_id}/children")
def add_child(request: Request, scheme_id: int, node_id: str, name: str = Form(""),
              points: str = Form(""), session: Session = Depends(get_session),
              principal: Principal = Depends(edit_one)):
    """Add a sub-indicator; a refused one re-shows its form, open, with what was typed and each
    error beside its field (keyed ``<parent>-child-name`` / ``<parent>-child-points``, apart
    from the parent's own fields)."""
    try:
        schemes.add_child(session, principal, scheme_id, node_id, name=name, points=points)
    except ValidationFailed as exc:
        errors = {}
        for key, message in exc.errors.items():
            field = key.removeprefix(f"{node_id}-")
            errors[f"{node_id}-child-{field}" if field in ("name", "points") else key] = message
        return _editor(request, session, principal, scheme_id, errors, status=422,
                       child={"parent": node_id, "name": name, "points": points})
    return _editor(request, session, principal, scheme_id)


@router.post("/{scheme_id}/nodes/{node_id}/move")
def move_node(request: Request, scheme_id: int, node_id: str, direction: str = Form(""),
              session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id, lambda: schemes.move_node(
        session, principal, scheme_id, node_id, direction))


@router.post("/{scheme_id}/nodes/{node_id}/delete")
def delete_node(request: Request, scheme_id: int, node_id: str,
                session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id,
                 lambda: schemes.delete_node(session, principal, scheme_id, node_id))


@router.post("/{scheme_id}/nodes/{node_id}/rule")
def set_rule(request: Request, scheme_id: int, node_id: str, rule_type: str = Form(""),
             params: str = Form(""), criteria: str = Form(""),
             session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return _edit(request, session, principal, scheme_id, lambda: schemes.set_rule(
        session, principal, scheme_id, node_id, rule_type=rule_type, params=params,
        criteria=criteria), open_node=node_id, typed={
        "rule": node_id, "rule_type": rule_type, "params": params, "criteria": criteria})


# ---------------------------------------------------------------- AHP


def _upper(form) -> dict[tuple[int, int], str]:
    upper = {}
    for key, value in form.items():
        if key.startswith("a_"):
            try:
                _a, i, j = key.split("_")
                upper[(int(i), int(j))] = str(value)
            except ValueError:
                continue
    return upper


def _ahp_context(session, scheme_id, node_id, upper, outcome=None, errors=None,
                 method="ahp", share=scheme_weights.DEFAULT_SHARE):
    scheme = schemes.get(session, scheme_id)
    node = schemes.locate(scheme.document, node_id).node
    return {"scheme": scheme, "node": node, "children": node.get("children") or [],
            "upper": upper, "outcome": outcome, "errors": errors or {},
            "method": method if method in scheme_weights.METHODS else "ahp", "share": share,
            "breaks": []}


@router.get("/{scheme_id}/nodes/{node_id}/ahp")
def ahp_page(request: Request, scheme_id: int, node_id: str,
             session: Session = Depends(get_session), principal: Principal = Depends(edit_one)):
    return render(request, "schemes/ahp.html", _ahp_context(session, scheme_id, node_id, {}))


@router.post("/{scheme_id}/nodes/{node_id}/ahp")
async def ahp_calculate(request: Request, scheme_id: int, node_id: str,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(edit_one)):
    """Weigh a node's children by AHP, the entropy method over past results, or both combined:
    calculate, then accept to set their points."""
    form = await request.form()
    upper = _upper(form)
    method = str(form.get("method") or "ahp")
    share = str(form.get("share", scheme_weights.DEFAULT_SHARE))
    accept = form.get("accept") == "1"
    template = "schemes/_ahp_form.html" if request.headers.get("hx-request") else "schemes/ahp.html"
    try:
        if accept:
            scheme_weights.accept(session, principal, scheme_id, node_id, method, upper, share)
            flash(request, _("The AHP weights set the points of the children.")
                  if method == "ahp" else _("The weights set the points of the children."))
            return redirect(request, f"/schemes/{scheme_id}")
        outcome = scheme_weights.run(session, scheme_id, node_id, method, upper, share)
    except ValidationFailed as exc:
        return render(request, template, _ahp_context(session, scheme_id, node_id, upper,
                                                      errors=exc.errors, method=method,
                                                      share=share), status_code=422)
    context = _ahp_context(session, scheme_id, node_id, upper, outcome, method=method,
                           share=share)
    context["breaks"] = scheme_weights.problems_after(session, scheme_id, node_id,
                                                      outcome.points)
    return render(request, template, context)
