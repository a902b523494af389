"""Satisfaction surveys: the organiser's pages under /evaluations/{id}/survey, and the
respondents' pages /s (invitation codes) and /o (service sites' open links)."""

from __future__ import annotations

import json
import secrets

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from evalplatform.db import get_session, run_in_session
from evalplatform.i18n import LANGUAGES, _, current_language, set_language
from evalplatform.models import Role
from evalplatform.services import evaluations
from evalplatform.services import surveys_app as app_service
from evalplatform.services.errors import Conflict, DomainError, NotFound, Throttled, ValidationFailed
from evalplatform.web import evaluation_panels
from evalplatform.web.access import Principal, anyone, require
from evalplatform.web.forms import FormRoute, UrlencodedFormRoute
from evalplatform.web.lean import LeanRoutes
from evalplatform.web.params import PageNumber
from evalplatform.web.templating import flash, redirect, render
from surveys import invitations, tabulation, templates, xlsform
from surveys import questionnaire as qn
from surveys.errors import InvalidInput

router = APIRouter(route_class=FormRoute)
#: The respondents' pages (/s, /o), mounted before every other router: they carry the
#: traffic of a survey (thousands of answers at once), and routes are matched in order.
#: Their forms are read by the standard library's parser (``web.forms``).
respondents = APIRouter(route_class=UrlencodedFormRoute)
#: The respondents' submissions, the requests that arrive by the thousand: lean routes
#: (``web.lean``), matched before every router.
submissions = LeanRoutes()
readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                  owns=evaluations.owns_evaluation)
organisers = require(Role.finance, Role.purchaser, owns=evaluations.owns_evaluation)

DEVICE_COOKIE = "sv_device"
#: The session key holding a questionnaire's answers across a language button's redirect.
KEPT_ANSWERS = "survey_kept"
#: The most (JSON characters) kept in the session cookie, which a browser drops above 4 kB.
KEPT_ANSWERS_MAX = 2000
OPTION_ROWS_EXTRA = 2


def _lang() -> str:
    return qn.lang_key(current_language())


def _base(evaluation_id: int) -> str:
    return f"/evaluations/{evaluation_id}/survey"


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _context(request: Request, session: Session, principal, evaluation_id: int, **extra) -> dict:
    evaluation = evaluations.get(session, evaluation_id)
    survey = app_service.survey_of(session, evaluation)
    app_service.close_if_due(session, survey, evaluation)
    context = {"evaluation": evaluation, "survey": survey,
               "state": app_service.state(survey, evaluation),
               "can_manage": app_service.can_manage(session, principal, evaluation),
               "base": _base(evaluation_id), "qn": qn, "lang": _lang(),
               "max_device_limit": invitations.MAX_DEVICE_LIMIT}
    if survey is not None:
        context["counts"] = app_service.counts(session, survey)
        context["working"] = app_service.working(session, survey)
        context["current"] = app_service.current(session, survey)
        context["versions"] = app_service.versions(session, survey)
        context["leaves"] = app_service.leaves(session, evaluation)
        context["problems"] = qn.problems(context["working"].document, context["leaves"])
    context.update(extra)
    return context


# ---------------------------------------------------------------- the evaluation page's panel


@evaluation_panels.panel(order=20, template="surveys/_evaluation_panel.html")
def survey_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """Organisers see the state, counts and links; auditors and assigned evaluators read it;
    a supplier sees only the closed survey's aggregate figures."""
    survey = app_service.survey_of(session, evaluation)
    current_state = app_service.state(survey, evaluation)
    if principal.role == Role.supplier:
        if survey is None or current_state != "closed":
            return None
        tab = app_service.tabulate(session, evaluation, current_language())
        return {"supplier_view": True, "survey": survey, "state": current_state, "tab": tab,
                "base": _base(evaluation.id)}
    if principal.role not in app_service.READERS:
        return None
    context = {"supplier_view": False, "survey": survey, "state": current_state,
               "can_manage": app_service.can_manage(session, principal, evaluation),
               "base": _base(evaluation.id), "evaluation": evaluation}
    if survey is not None:
        context["counts"] = app_service.counts(session, survey)
        context["working"] = app_service.working(session, survey)
    return context


# ---------------------------------------------------------------- the survey's home


@router.get("/evaluations/{evaluation_id}/survey")
def survey_home(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(readers)):
    return render(request, "surveys/home.html",
                  _home_context(request, session, principal, evaluation_id))


def _home_context(request: Request, session: Session, principal: Principal, evaluation_id: int,
                  *, errors: dict | None = None, values: dict | None = None) -> dict:
    context = _context(request, session, principal, evaluation_id)
    context.update(errors=errors or {}, values=values or {})
    if context["survey"] is None:
        area = app_service.scheme_service_area(session, context["evaluation"])
        context.update({"templates": templates.TEMPLATES, "suggested": templates.suggested(area),
                        "from_scheme": templates.FROM_SCHEME,
                        "leaves": app_service.leaves(session, context["evaluation"])})
    else:
        context["sites"] = app_service.sites(session, context["survey"])
        context["batches"] = app_service.batches(session, context["survey"])
        context["origin"] = str(request.base_url).rstrip("/")  # a link to copy and send whole
    return context


@router.post("/evaluations/{evaluation_id}/survey")
def survey_create(request: Request, evaluation_id: int, template: str = Form(""),
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(organisers)):
    try:
        app_service.create(session, principal, evaluation_id, template)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, _base(evaluation_id))
    flash(request, _("The questionnaire was created from the template; check it, then open the "
                     "survey."))
    return redirect(request, f"{_base(evaluation_id)}/questionnaire")


def _action(request: Request, session: Session, evaluation_id: int, action, done: str,
            target: str | None = None, *, form: tuple[Principal, dict] | None = None):
    """Run a form's action and go back to the survey's page (or ``target``) with ``done``.
    Refused, a form of the survey's own page (``form``: the principal and what was typed)
    comes back (422) with the field named and what was typed kept; any other, a message."""
    try:
        action()
    except ValidationFailed as exc:
        session.rollback()
        if form is not None:
            principal, values = form
            return render(request, "surveys/home.html",
                          _home_context(request, session, principal, evaluation_id,
                                        errors=exc.errors, values=values), status_code=422)
        flash(request, "; ".join(exc.errors.values()), "error")
        return redirect(request, target or _base(evaluation_id))
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, target or _base(evaluation_id))
    flash(request, done)
    return redirect(request, target or _base(evaluation_id))


@router.post("/evaluations/{evaluation_id}/survey/open")
def survey_open(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.open_survey(session, principal, evaluation_id),
                   _("The survey is open; it takes answers within the evaluation's schedule."))


@router.post("/evaluations/{evaluation_id}/survey/close")
def survey_close(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.close_survey(session, principal, evaluation_id),
                   _("The survey is closed; its counts are recorded in the audit log."))


@router.post("/evaluations/{evaluation_id}/survey/population")
def survey_population(request: Request, evaluation_id: int, population: str = Form(""),
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.set_population(session, principal, evaluation_id, population),
                   _("The number of people served is saved."))


# ---------------------------------------------------------------- the questionnaire editor


def _editor(request: Request, session: Session, principal, evaluation_id: int, *, errors=None,
            open_question: str = "", status: int = 200, typed_document: dict | None = None):
    """The editor; after a refused form, ``typed_document`` is the questionnaire as that form
    would have made it, so that the form comes back with what was typed (nothing is saved)."""
    context = _context(request, session, principal, evaluation_id, errors=errors or {},
                       open_question=open_question, extra_rows=OPTION_ROWS_EXTRA,
                       scale_labels=qn.SCALE_LABELS, type_labels=qn.TYPE_LABELS,
                       typed_document=typed_document)
    if context["survey"] is None:
        raise NotFound(_("This evaluation has no survey yet."))
    context["can_edit"] = context["can_manage"] and not context["working"].frozen
    template = "surveys/_editor.html" if request.headers.get("hx-request") else "surveys/editor.html"
    return render(request, template, context, status_code=status)


def _edit(request: Request, session: Session, principal, evaluation_id: int, action: str,
          change, detail: dict | None = None, open_question: str = ""):
    typed: dict = {}

    def keeping_what_was_typed(doc, found):
        try:
            return change(doc, found)
        except InvalidInput as refused:
            typed["document"] = refused.typed
            raise

    try:
        app_service.edit(session, principal, evaluation_id, action, keeping_what_was_typed,
                         detail)
    except ValidationFailed as exc:
        session.rollback()
        return _editor(request, session, principal, evaluation_id, errors=exc.errors,
                       open_question=open_question, status=422,
                       typed_document=typed.get("document"))
    except Conflict as exc:
        session.rollback()
        return _editor(request, session, principal, evaluation_id, errors={"form": exc.message},
                       open_question=open_question, status=409)
    return _editor(request, session, principal, evaluation_id, open_question=open_question)


@router.get("/evaluations/{evaluation_id}/survey/questionnaire")
def questionnaire_editor(request: Request, evaluation_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(readers)):
    return _editor(request, session, principal, evaluation_id)


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/settings")
async def questionnaire_settings(request: Request, evaluation_id: int,
                                 session: Session = Depends(get_session),
                                 principal: Principal = Depends(organisers)):
    values = dict(await request.form())
    return _edit(request, session, principal, evaluation_id, "settings",
                 lambda doc, _leaves: qn.update_settings(doc, values))


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/questions")
def question_add(request: Request, evaluation_id: int, type: str = Form(""),
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    added: dict = {}

    def change(doc, found):
        new_doc, qid = qn.add_question(doc, type, found)
        added["id"] = qid
        return new_doc

    try:
        app_service.edit(session, principal, evaluation_id, "add", change, {"type": type})
    except (ValidationFailed, Conflict) as exc:
        session.rollback()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"form": exc.message}
        return _editor(request, session, principal, evaluation_id, errors=errors, status=422)
    return _editor(request, session, principal, evaluation_id, open_question=added["id"])


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/questions/{question_id}")
async def question_update(request: Request, evaluation_id: int, question_id: str,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(organisers)):
    form = await request.form()
    values = dict(form)
    rows_text = str(values.get("option_rows", ""))
    rows = int(rows_text) if rows_text.isascii() and rows_text.isdigit() and len(rows_text) <= 3 \
        else 0
    return _edit(request, session, principal, evaluation_id, "question",
                 lambda doc, found: qn.update_question(doc, question_id, values, found,
                                                       option_rows=min(rows, qn.MAX_OPTIONS + 5)),
                 {"question": question_id}, open_question=question_id)


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/questions/{question_id}/scale")
def question_scale(request: Request, evaluation_id: int, question_id: str,
                   preset: str = Form(""), session: Session = Depends(get_session),
                   principal: Principal = Depends(organisers)):
    return _edit(request, session, principal, evaluation_id, "scale",
                 lambda doc, _found: qn.apply_scale(doc, question_id, preset),
                 {"question": question_id, "scale": preset}, open_question=question_id)


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/questions/{question_id}/move")
def question_move(request: Request, evaluation_id: int, question_id: str,
                  direction: str = Form("up"), session: Session = Depends(get_session),
                  principal: Principal = Depends(organisers)):
    return _edit(request, session, principal, evaluation_id, "move",
                 lambda doc, _found: qn.move_question(doc, question_id, direction),
                 {"question": question_id, "direction": direction})


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/questions/{question_id}/delete")
def question_delete(request: Request, evaluation_id: int, question_id: str,
                    session: Session = Depends(get_session),
                    principal: Principal = Depends(organisers)):
    return _edit(request, session, principal, evaluation_id, "delete",
                 lambda doc, _found: qn.delete_question(doc, question_id),
                 {"question": question_id})


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/version")
def questionnaire_version(request: Request, evaluation_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.new_version(session, principal, evaluation_id),
                   _("A new draft version was created; publish it when it is ready."),
                   target=f"{_base(evaluation_id)}/questionnaire")


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/publish")
def questionnaire_publish(request: Request, evaluation_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.publish(session, principal, evaluation_id),
                   _("The new version is published; respondents now answer it."),
                   target=f"{_base(evaluation_id)}/questionnaire")


@router.get("/evaluations/{evaluation_id}/survey/questionnaire.xlsx")
def questionnaire_export(evaluation_id: int, session: Session = Depends(get_session),
                         principal: Principal = Depends(readers)):
    evaluation = evaluations.get(session, evaluation_id)
    version = app_service.working_version(session, evaluation)
    return Response(
        xlsform.export_workbook(version.document, version.version),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition":
                 f'attachment; filename="questionnaire-{evaluation_id}-v{version.version}.xlsx"'})


@router.post("/evaluations/{evaluation_id}/survey/questionnaire/import")
async def questionnaire_import(request: Request, evaluation_id: int, file: UploadFile = File(None),
                               session: Session = Depends(get_session),
                               principal: Principal = Depends(organisers)):
    data = await file.read() if file is not None else b""
    try:
        await run_in_threadpool(app_service.import_workbook, session, principal, evaluation_id,
                                data)
    except ValidationFailed as exc:
        session.rollback()
        return _editor(request, session, principal, evaluation_id,
                       errors={"import": "", **{f"import:{k}": v for k, v in exc.errors.items()}},
                       status=422)
    except Conflict as exc:
        session.rollback()
        return _editor(request, session, principal, evaluation_id, errors={"form": exc.message},
                       status=409)
    flash(request, _("The questionnaire was imported; check it before opening the survey."))
    return redirect(request, f"{_base(evaluation_id)}/questionnaire")


@router.get("/evaluations/{evaluation_id}/survey/preview")
def questionnaire_preview(request: Request, evaluation_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(readers)):
    """Exactly the respondent's page, with the form disabled."""
    evaluation = evaluations.get(session, evaluation_id)
    version = app_service.working_version(session, evaluation)
    return render(request, "surveys/respond.html", _respondent_context(
        version.document, action="", store_key="", preview=True,
        back=f"{_base(evaluation_id)}/questionnaire"))


# ---------------------------------------------------------------- invitations and sites


@router.post("/evaluations/{evaluation_id}/survey/invitations")
def invitations_issue(request: Request, evaluation_id: int, size: str = Form(""),
                      label: str = Form(""), session: Session = Depends(get_session),
                      principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.issue_invitations(session, principal, evaluation_id, size,
                                                         label),
                   _("The invitation codes are ready; print their slips."),
                   form=(principal, {"size": size, "label": label}))


@router.get("/evaluations/{evaluation_id}/survey/invitations/{batch_id}/sheet")
def invitations_sheet(request: Request, evaluation_id: int, batch_id: int, part: PageNumber = 1,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(organisers)):
    """A printable A4 sheet of slips: code, QR code and the address to type it in; a large
    batch prints in parts of ``app_service.SLIPS_PER_PART``."""
    evaluation = evaluations.get(session, evaluation_id)
    found = app_service.batch(session, evaluation, batch_id)
    document = app_service.shown_document(session, evaluation)
    origin = str(request.base_url).rstrip("/")
    shown = app_service.slip_part(session, found, part)
    slips = [{"code": invitations.display(i.code), "used": i.used,
              "qr": invitations.qr_svg(f"{origin}/s/{i.code}",
                                       title=invitations.display(i.code))}
             for i in shown.codes]
    return render(request, "surveys/slips.html", {
        "evaluation": evaluation, "batch": found, "slips": slips, "shown": shown,
        "origin": origin, "title": qn.text(document.get("title"), _lang()),
        "minutes": qn.minutes_to_answer(document), "base": _base(evaluation_id)})


@router.post("/evaluations/{evaluation_id}/survey/sites")
def sites_add(request: Request, evaluation_id: int, name: str = Form(""),
              device_limit: str = Form("1"), session: Session = Depends(get_session),
              principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.add_site(session, principal, evaluation_id, name,
                                                device_limit),
                   _("The service site has its open link and QR code."),
                   form=(principal, {"name": name, "device_limit": device_limit}))


@router.post("/evaluations/{evaluation_id}/survey/sites/{site_id}/active")
def sites_active(request: Request, evaluation_id: int, site_id: int, active: str = Form(""),
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    return _action(request, session, evaluation_id,
                   lambda: app_service.set_site_active(session, principal, evaluation_id, site_id,
                                                       active == "1"),
                   _("The service site's link is updated."))


@router.get("/evaluations/{evaluation_id}/survey/sites/{site_id}/poster")
def sites_poster(request: Request, evaluation_id: int, site_id: int,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    """A printable A4 poster with the site's QR code and link."""
    evaluation = evaluations.get(session, evaluation_id)
    site = app_service.site_of(session, evaluation, site_id)
    document = app_service.shown_document(session, evaluation)
    url = f"{str(request.base_url).rstrip('/')}/o/{site.token}"
    return render(request, "surveys/poster.html", {
        "evaluation": evaluation, "site": site, "url": url, "base": _base(evaluation_id),
        "qr": invitations.qr_svg(url, title=site.name),
        "title": qn.text(document.get("title"), _lang()),
        "minutes": qn.minutes_to_answer(document)})


# ---------------------------------------------------------------- paper entry


def _paper(request, session, principal, evaluation_id, *, values=None, errors=None, status=200):
    context = _context(request, session, principal, evaluation_id)
    if context["survey"] is None or context["current"] is None:
        raise Conflict(_("Open the survey before entering paper questionnaires."))
    context.update({"doc": context["current"].document, "values": values or {},
                    "errors": errors or {}})
    return render(request, "surveys/paper.html", context, status_code=status)


@router.get("/evaluations/{evaluation_id}/survey/paper")
def paper_form(request: Request, evaluation_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(organisers)):
    return _paper(request, session, principal, evaluation_id)


@router.post("/evaluations/{evaluation_id}/survey/paper")
async def paper_enter(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                      principal: Principal = Depends(organisers)):
    form = await request.form()
    code = str(form.get("code") or "")
    try:
        await run_in_threadpool(app_service.enter_paper, session, principal, evaluation_id, code,
                                form.getlist)
    except ValidationFailed as exc:
        session.rollback()
        return _paper(request, session, principal, evaluation_id, values=_form_values(form),
                      errors=exc.errors, status=422)
    except DomainError as exc:
        session.rollback()
        return _paper(request, session, principal, evaluation_id, values=_form_values(form),
                      errors={"form": exc.message}, status=409)
    flash(request, _("Paper questionnaire %(code)s entered (marked as paper-entered).",
                     code=invitations.display(invitations.normalise(code) or code)))
    return redirect(request, f"{_base(evaluation_id)}/paper")


# ---------------------------------------------------------------- results


@router.get("/evaluations/{evaluation_id}/survey/results")
def survey_results(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                   principal: Principal = Depends(readers)):
    context = _context(request, session, principal, evaluation_id)
    if context["survey"] is None:
        raise NotFound(_("This evaluation has no survey yet."))
    tab = app_service.tabulate(session, context["evaluation"], current_language())
    context.update({"tab": tab, "chart": tabulation.chart, "rates_chart": tabulation.rates_chart(tab),
                    "channel_labels": tabulation.CHANNEL_LABELS, "min_group": tabulation.MIN_GROUP})
    return render(request, "surveys/results.html", context)


@router.get("/evaluations/{evaluation_id}/survey/responses.{fmt}")
def survey_export(evaluation_id: int, fmt: str, codes: int = 0,
                  session: Session = Depends(get_session),
                  principal: Principal = Depends(readers)):
    if fmt not in ("csv", "xlsx"):
        raise NotFound(_("This page does not exist."))
    evaluation = evaluations.get(session, evaluation_id)
    data, media, name = app_service.export(session, evaluation, current_language(), fmt=fmt,
                                           codes=bool(codes))
    return Response(data, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# ---------------------------------------------------------------- respondents


def _respondent_context(doc: dict, *, action: str, store_key: str, values=None, errors=None,
                        preview: bool = False, back: str = "", extra_fields: dict | None = None,
                        site_name: str = "") -> dict:
    return {"doc": doc, "lang": _lang(), "qn": qn, "action": action, "store_key": store_key,
            "values": values or {}, "errors": errors or {}, "preview": preview, "back": back,
            "extra_fields": extra_fields or {}, "site_name": site_name}


def _form_values(form) -> dict:
    return {key: form.getlist(key) for key in form.keys()}


def _questionnaire(request: Request, context: dict, status_code: int = 200) -> Response:
    """A respondent's questionnaire page, never kept by the browser: Back after sending
    fetches a fresh, empty form (and, with the form's autocomplete off, the answers just sent
    are not filled into it again to be sent twice, nor shown to the next person on a shared
    device)."""
    response = render(request, "surveys/respond.html", context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _message(request: Request, message: str, *, status: int = 200, title: str = "",
             clear_key: str = "") -> Response:
    return render(request, "surveys/message.html",
                  {"message": message, "title": title or _("Satisfaction survey"),
                   "clear_key": clear_key}, status_code=status)


@respondents.get("/s")
async def code_entry(request: Request, code: str = "", _access=Depends(anyone)):
    """Where a paper slip sends people: type the code from the slip."""
    if code.strip():
        normal = invitations.normalise(code)
        if normal:
            return RedirectResponse(f"/s/{normal}", status_code=303)
        return render(request, "surveys/code.html",
                      {"code": code, "error": invitations.problem(code)}, status_code=422)
    if "code" in request.query_params:  # 继续 was tapped with the box empty
        return render(request, "surveys/code.html",
                      {"code": "", "error": invitations.problem("")}, status_code=422)
    return render(request, "surveys/code.html", {"code": "", "error": ""})


# The respondents' handlers are async and call the service through ``run_in_session``: one
# hop to a worker thread per request, with its own session, and no look-up of a signed-in
# user (``anyone``). What a page shows is read inside that call, as plain values.


def _code_page(session: Session, code: str, address: str | None) -> dict:
    try:
        found, invitation = app_service.target_for_code(session, code, address)
    except (NotFound, Throttled) as exc:
        return {"refused": exc}
    return {"code": invitation.code, "used": invitation.used, "accepting": found.accepting,
            "message": found.message,
            "document": found.questionnaire.document if found.accepting else None,
            "version_id": found.questionnaire.id if found.accepting else None}


def _used_message_text() -> str:
    return _("This invitation code has already been used; its answers were received. Thank you!")


def _used_message(request: Request, code: str) -> Response:
    return _message(request, _used_message_text(), clear_key=f"code:{code}")


async def _code_questionnaire(request: Request, code: str, values: dict | None = None
                              ) -> Response:
    """The questionnaire behind a code (with ``values`` chosen so far), or why not."""
    page = await run_in_session(request, _code_page, code, _address(request))
    if isinstance(page.get("refused"), NotFound):  # mistyped: the box again, to correct it
        normal = invitations.normalise(code)
        return render(request, "surveys/code.html", {
            "code": invitations.display(normal) if normal else code,
            "error": page["refused"].message}, status_code=404)
    if "refused" in page:
        return _message(request, page["refused"].message, status=page["refused"].status_code)
    if page["used"]:
        return _used_message(request, page["code"])
    if not page["accepting"]:
        return _message(request, page["message"])
    return _questionnaire(request, _respondent_context(
        page["document"], action=f"/s/{page['code']}", store_key=f"code:{page['code']}",
        values=values, extra_fields={"version_id": page["version_id"]}))


@respondents.get("/s/{code}")
async def respond_with_code(request: Request, code: str, _access=Depends(anyone)):
    """The questionnaire behind an invitation link. Opening it uses nothing up (link
    previews open links too): only the submitting POST uses the code."""
    kept = _kept_answers(request, f"/s/{invitations.normalise(code) or code}")
    return await _code_questionnaire(request, code, values=kept.get("values"))


@submissions.post("/s/{code}")
async def submit_with_code(request: Request, code: str) -> Response:
    form = await request.form()
    normal = invitations.normalise(code) or code
    state = request.app.state
    try:
        if not await app_service.stored_together(state.write_groups, state.engine, code,
                                                 form.getlist, _address(request)):
            await run_in_session(request, app_service.submit_with_code, code, form.getlist,
                                 _address(request), checked_in_one=False)
    except ValidationFailed as exc:
        page = await run_in_session(request, _code_page, code, _address(request))
        if not page.get("document"):  # closed or locked out a moment ago: say that instead
            return _message(request, page["refused"].message if "refused" in page
                            else page["message"] or _used_message_text())
        return _questionnaire(request, _respondent_context(
            page["document"], action=f"/s/{normal}", store_key=f"code:{normal}",
            values=_form_values(form), errors=exc.errors,
            extra_fields={"version_id": page["version_id"]}), status_code=422)
    except DomainError as exc:
        return _message(request, exc.message, status=exc.status_code,
                        clear_key=f"code:{normal}" if isinstance(exc, Conflict) else "")
    return RedirectResponse(f"/s/{normal}/done", status_code=303)


def _answers_kept(form) -> dict:
    """The answers in a form sent by a language button (not the form's own fields)."""
    return {k: v for k, v in _form_values(form).items()
            if k not in ("csrf_token", "language", "submission_key", "version_id", "website")}


def _switch_language(request: Request, form) -> None:
    """The language a language button asked for, for this page and the session's next ones."""
    chosen = str(form.get("language") or "")
    if chosen in LANGUAGES:
        request.session["lang"] = chosen
        set_language(chosen)  # this response already (the middleware resets it afterwards)


def _keep_answers(request: Request, page_key: str, values: dict, **extra: str) -> bool:
    """Keep a questionnaire's answers in the session for the page the language button
    redirects to (its next GET takes them); False when they are too long for the cookie."""
    kept = {"page": page_key, "values": values, **extra}
    if len(json.dumps(kept)) > KEPT_ANSWERS_MAX:
        return False
    request.session[KEPT_ANSWERS] = kept
    return True


def _kept_answers(request: Request, page_key: str) -> dict:
    """The answers a language button kept for this page (once), else nothing."""
    kept = request.session.pop(KEPT_ANSWERS, None) if KEPT_ANSWERS in request.session else None
    return kept if isinstance(kept, dict) and kept.get("page") == page_key else {}


@respondents.post("/s/{code}/language")
async def language_with_code(request: Request, code: str, _access=Depends(anyone)):
    """A language button of the questionnaire: the same page in the other language with the
    answers chosen so far, without JavaScript too. Nothing is stored, the code is not used.
    The answer is a redirect to the questionnaire's own address (a reload does not offer to
    send the form again), the answers kept in the session for it; answers too long for the
    session cookie are shown here instead, so that none is lost."""
    form = await request.form()
    _switch_language(request, form)
    normal = invitations.normalise(code) or code
    if _keep_answers(request, f"/s/{normal}", _answers_kept(form)):
        return RedirectResponse(f"/s/{normal}", status_code=303)
    return await _code_questionnaire(request, code, values=_answers_kept(form))


@respondents.get("/s/{code}/done")
async def done_with_code(request: Request, code: str, _access=Depends(anyone)):
    normal = invitations.normalise(code) or ""
    return _message(request, _("Thank you! Your answers have been received. They are anonymous "
                               "and help improve the service."), title=_("Thank you"),
                    clear_key=f"code:{normal}")


def _submission_key(given) -> str:
    """The open form's submission key as sent back (a double tap stores one answer), else a
    new one."""
    key = str(given or "")
    if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
        key = secrets.token_hex(16)
    return key


def _device(request: Request) -> tuple[str, bool]:
    device = request.cookies.get(DEVICE_COOKIE, "")
    if len(device) == 32 and all(c in "0123456789abcdef" for c in device):
        return device, False
    return secrets.token_hex(16), True


def _site_page(session: Session, token: str, device: str | None = None) -> dict:
    try:
        found, site = app_service.target_for_site(session, token, device)
    except NotFound as exc:
        return {"refused": exc}
    return {"token": site.token, "name": site.name, "accepting": found.accepting,
            "message": found.message,
            "document": found.questionnaire.document if found.accepting else None}


@respondents.get("/o/{token}")
async def respond_open(request: Request, token: str, _access=Depends(anyone)):
    page = await run_in_session(request, _site_page, token, request.cookies.get(DEVICE_COOKIE))
    if "refused" in page:
        return _message(request, page["refused"].message, status=404)
    if not page["accepting"]:
        return _message(request, page["message"])
    kept = _kept_answers(request, f"/o/{token}")
    response = _questionnaire(request, _respondent_context(
        page["document"], action=f"/o/{page['token']}", store_key=f"site:{page['token']}",
        values=kept.get("values"),
        extra_fields={"submission_key": _submission_key(kept.get("submission_key"))},
        site_name=page["name"]))
    device, fresh = _device(request)
    if fresh:
        response.set_cookie(DEVICE_COOKIE, device, max_age=400 * 24 * 3600, httponly=True,
                            samesite="lax", path="/o/")
    return response


@submissions.post("/o/{token}")
async def submit_open(request: Request, token: str) -> Response:
    form = await request.form()
    device = request.cookies.get(DEVICE_COOKIE) or None
    key = str(form.get("submission_key") or "")
    try:
        await run_in_session(request, app_service.submit_open, token, form.getlist,
                             address=_address(request), device=device, submission_key=key,
                             honeypot=str(form.get("website") or ""))
    except ValidationFailed as exc:
        page = await run_in_session(request, _site_page, token)
        if not page.get("document"):  # closed a moment ago: say that instead
            return _message(request, page["refused"].message if "refused" in page
                            else page["message"])
        return _questionnaire(request, _respondent_context(
            page["document"], action=f"/o/{page['token']}",
            store_key=f"site:{page['token']}", values=_form_values(form), errors=exc.errors,
            extra_fields={"submission_key": key or secrets.token_hex(16)},
            site_name=page["name"]), status_code=422)
    except DomainError as exc:
        return _message(request, exc.message, status=exc.status_code)
    return RedirectResponse(f"/o/{token}/done", status_code=303)


@respondents.post("/o/{token}/language")
async def language_open(request: Request, token: str, _access=Depends(anyone)):
    """A language button of a service site's questionnaire (see ``language_with_code``); the
    form's submission key is kept, so a later double tap still stores one answer."""
    form = await request.form()
    _switch_language(request, form)
    key = _submission_key(form.get("submission_key"))
    if _keep_answers(request, f"/o/{token}", _answers_kept(form), submission_key=key):
        return RedirectResponse(f"/o/{token}", status_code=303)
    page = await run_in_session(request, _site_page, token, request.cookies.get(DEVICE_COOKIE))
    if "refused" in page:
        return _message(request, page["refused"].message, status=404)
    if not page["accepting"]:
        return _message(request, page["message"])
    return _questionnaire(request, _respondent_context(
        page["document"], action=f"/o/{page['token']}", store_key=f"site:{page['token']}",
        values=_answers_kept(form), extra_fields={"submission_key": key},
        site_name=page["name"]))


@respondents.get("/o/{token}/done")
async def done_open(request: Request, token: str, _access=Depends(anyone)):
    return _message(request, _("Thank you! Your answers have been received. They are anonymous "
                               "and help improve the service."), title=_("Thank you"),
                    clear_key=f"site:{token}")
