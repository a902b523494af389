"""The expert pool (专家库) and an evaluation's panel (专家抽取): draw, declines, firms, replay."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.labels import RELATIONSHIP_KIND_LABELS
from evalplatform.models import Expert, RelationshipKind, Role, User
from evalplatform.services import evaluations, experts, panel, projects
from evalplatform.services.errors import DomainError, ValidationFailed
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render

router = APIRouter(route_class=FormRoute)

pool_readers = require(Role.finance, Role.auditor)
pool_keeper = require(Role.finance)
panel_readers = require(Role.finance, Role.purchaser, Role.auditor, owns=evaluations.owns_evaluation)
panel_organisers = require(Role.finance, Role.purchaser, owns=evaluations.owns_evaluation)
panel_members = require(Role.finance, Role.purchaser, Role.evaluator,
                        owns=evaluations.owns_evaluation)


def _partial(request: Request, partial: str, full: str) -> str:
    return partial if request.headers.get("hx-request") else full


# ---------------------------------------------------------------- the pool


@router.get("/experts")
def expert_list(request: Request, q: str = "", speciality: str = "", active: str = "",
                sort: str | None = None, page: PageNumber = 1, session: Session = Depends(get_session),
                principal: Principal = Depends(pool_readers)):
    result = experts.page(session, q=q, speciality=speciality, active=active, sort=sort,
                          page_number=page)
    return render(request, _partial(request, "experts/_table.html", "experts/list.html"), {
        "page": result, "filters": {"q": q, "speciality": speciality, "active": active},
        "sectors": experts.sector_names(session)})


def _form_context(session: Session, expert: Expert | None, values: dict, errors: dict) -> dict:
    return {"expert": expert, "values": values, "errors": errors,
            "sectors": experts.sectors(session),
            "user_options": [(str(u.id), _("%(value)s (%(note)s)", value=u.display_name,
                                                        note=u.username))
                             for u in experts.linkable_users(session, expert)]}


def _values_of(expert: Expert) -> dict:
    return {"name": expert.name, "employer": expert.employer, "title": expert.title,
            "phone": expert.phone, "email": expert.email, "specialities": expert.specialities,
            "user_id": str(expert.user_id or ""), "active": expert.active, "note": expert.note}


async def _posted(request: Request) -> dict:
    form = await request.form()
    values = {k: form.get(k, "") for k in ("name", "employer", "title", "phone", "email",
                                           "user_id", "note", "active")}
    values["specialities"] = form.getlist("specialities")
    return values


@router.get("/experts/new")
def expert_new(request: Request, session: Session = Depends(get_session),
               principal: Principal = Depends(pool_keeper)):
    return render(request, "experts/new.html", _form_context(session, None, {}, {}))


@router.post("/experts")
async def expert_create(request: Request, session: Session = Depends(get_session),
                        principal: Principal = Depends(pool_keeper)):
    values = await _posted(request)
    try:
        expert = experts.save(session, principal.actor, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "experts/new.html",
                      _form_context(session, None, values, exc.errors), status_code=422)
    flash(request, _("Expert %(name)s added to the pool.", name=expert.name))
    return redirect(request, f"/experts/{expert.id}")


def _detail_context(session: Session, expert: Expert, values=None, errors=None,
                    rel_values=None, rel_errors=None) -> dict:
    return {**_form_context(session, expert, values or _values_of(expert), errors or {}),
            "user": session.get(User, expert.user_id) if expert.user_id else None,
            "relationships": experts.relationships(session, expert.id),
            "organisation_options": [(str(o.id), o.name)
                                     for o in experts.related_organisations(session)],
            "kind_options": [(k.value, str(RELATIONSHIP_KIND_LABELS[k])) for k in RelationshipKind],
            "rel_values": rel_values or {}, "rel_errors": rel_errors or {},
            "panels": experts.panels_of(session, expert.id),
            "sector_names": experts.sector_names(session),
            "avoidance_years": experts.avoidance_years()}


@router.get("/experts/{expert_id}")
def expert_detail(request: Request, expert_id: int, session: Session = Depends(get_session),
                  principal: Principal = Depends(pool_readers)):
    return render(request, "experts/detail.html",
                  _detail_context(session, experts.get(session, expert_id)))


@router.post("/experts/{expert_id}")
async def expert_update(request: Request, expert_id: int, session: Session = Depends(get_session),
                        principal: Principal = Depends(pool_keeper)):
    values = await _posted(request)
    try:
        experts.save(session, principal.actor, values, expert_id=expert_id)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "experts/detail.html",
                      _detail_context(session, experts.get(session, expert_id), values,
                                      exc.errors), status_code=422)
    flash(request, _("Expert saved."))
    return redirect(request, f"/experts/{expert_id}")


@router.post("/experts/{expert_id}/relationships")
async def expert_relationship(request: Request, expert_id: int,
                              session: Session = Depends(get_session),
                              principal: Principal = Depends(pool_keeper)):
    form = await request.form()
    values = {k: form.get(k, "") for k in ("organisation_id", "kind", "started_on", "ended_on",
                                           "note")}
    try:
        experts.add_relationship(session, principal.actor, expert_id, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "experts/detail.html",
                      _detail_context(session, experts.get(session, expert_id),
                                      rel_values=values, rel_errors=exc.errors), status_code=422)
    flash(request, _("Relationship recorded; it will be checked at every draw and submission."))
    return redirect(request, f"/experts/{expert_id}")


# ---------------------------------------------------------------- an evaluation's panel


def _panel_context(session: Session, principal: Principal, evaluation_id: int, values=None,
                   errors=None) -> dict:
    evaluation = evaluations.get(session, evaluation_id)
    draws = panel.draws(session, evaluation.id)
    return {
        "evaluation": evaluation,
        "project": evaluations.project_of(session, evaluation),
        "organiser": panel.is_organiser(session, principal, evaluation),
        "open": evaluation.status in panel.OPEN_STATUSES,
        "minimum": panel.minimum_size(session, evaluation),
        "draws": draws,
        "rows": panel.member_rows(session, evaluation.id),
        "vacancies": panel.vacancies(session, evaluation.id),
        "firms": panel.firms(session, evaluation.id, active_only=False),
        "firm_options": [(str(o.id), o.name) for o in panel.available_firms(session)
                         if o.id not in {a.organisation_id for a, _o in panel.firms(
                             session, evaluation.id)}],
        "sectors": experts.sectors(session),
        "sector_names": experts.sector_names(session),
        "reason_text": experts.reason_text,
        "values": values or {"size": str(panel.minimum_size(session, evaluation)),
                             "alternates": "2",
                             "specialities": draws[0].specialities if draws
                             else panel.default_specialities(session, evaluation)},
        "errors": errors or {},
    }


@router.get("/evaluations/{evaluation_id}/panel")
def panel_page(request: Request, evaluation_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(panel_readers)):
    return render(request, "experts/panel.html", _panel_context(session, principal, evaluation_id))


@router.post("/evaluations/{evaluation_id}/panel/draw")
async def panel_draw(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                     principal: Principal = Depends(panel_organisers)):
    form = await request.form()
    values = {"size": form.get("size", ""), "alternates": form.get("alternates", ""),
              "reason": form.get("reason", ""), "specialities": form.getlist("specialities")}
    try:
        record = panel.draw(session, principal, evaluation_id, values)
    except ValidationFailed as exc:
        session.rollback()
        return render(request, "experts/panel.html",
                      _panel_context(session, principal, evaluation_id, values, exc.errors),
                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/panel")
    flash(request, _("Panel drawn (round %(round)s): %(seats)s seats and %(alt)s alternates.",
                     round=record.round, seats=record.size, alt=record.alternate_count))
    return redirect(request, f"/evaluations/{evaluation_id}/panel")


@router.post("/evaluations/{evaluation_id}/panel/members/{member_id}/step-down")
async def panel_step_down(request: Request, evaluation_id: int, member_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(panel_members)):
    form = await request.form()
    recuse = form.get("recuse") == "1"
    back = f"/evaluations/{evaluation_id}" if principal.role == Role.evaluator else \
        f"/evaluations/{evaluation_id}/panel"
    try:
        seated = panel.step_down(session, principal, evaluation_id, member_id,
                                 str(form.get("reason") or ""), recuse=recuse)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, back)
    if principal.role == Role.evaluator:
        flash(request, _("Your decline is recorded; an alternate takes your seat.")
              if seated is not None else
              _("Your decline is recorded; no alternate is left, so the organiser will draw "
                "again to fill your seat."))
        return redirect(request, "/evaluations")
    if seated is None:
        flash(request, _("Recorded. No alternate is left: draw again to fill the seat."), "warning")
    else:
        flash(request, _("Recorded; the next alternate now has the seat."))
    return redirect(request, back)


@router.post("/evaluations/{evaluation_id}/panel/firms")
async def panel_firm(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                     principal: Principal = Depends(panel_organisers)):
    form = await request.form()
    try:
        panel.assign_firm(session, principal, evaluation_id, form.get("organisation_id"))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/panel")
    flash(request, _("The firm is assigned; its evaluators now see this evaluation."))
    return redirect(request, f"/evaluations/{evaluation_id}/panel")


@router.post("/evaluations/{evaluation_id}/panel/firms/{assignment_id}/remove")
async def panel_firm_remove(request: Request, evaluation_id: int, assignment_id: int,
                            session: Session = Depends(get_session),
                            principal: Principal = Depends(panel_organisers)):
    form = await request.form()
    try:
        panel.remove_firm(session, principal, evaluation_id, assignment_id,
                          str(form.get("reason") or ""))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/panel")
    flash(request, _("The firm's assignment is withdrawn."))
    return redirect(request, f"/evaluations/{evaluation_id}/panel")


@router.get("/evaluations/{evaluation_id}/panel/draws/{draw_id}/replay")
def panel_replay(request: Request, evaluation_id: int, draw_id: int,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(panel_readers)):
    result = panel.replay(session, draw_id)
    if result.draw.evaluation_id != evaluation_id:
        from evalplatform.services.errors import NotFound

        raise NotFound(_("This draw does not exist."))
    evaluation = evaluations.get(session, evaluation_id)
    names = {c["id"]: experts.get(session, c["id"]).name for c in result.draw.candidates}
    return render(request, "experts/replay.html", {
        "evaluation": evaluation, "project": projects.get(
            session, evaluations.contract_of(session, evaluation).project_id),
        "replay": result, "names": names, "sector_names": experts.sector_names(session),
        "reason_text": experts.reason_text})
