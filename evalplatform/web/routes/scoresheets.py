"""Scoresheets (评分表): the scoring forms, drafts as one types, submission, reopening, files,
the supplier's self-evaluation, the organiser's progress and consolidation, and the panels
these put on the evaluation page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlmodel import Session

import scoring
from evalplatform.db import form_version, get_session
from evalplatform.i18n import _
from evalplatform.models import (
    FilePurpose,
    MemberStatus,
    Organisation,
    PanelMember,
    Role,
    SheetKind,
    SheetStatus,
)
from evalplatform.services import evaluations, experts, files, panel, results, scoresheets
from evalplatform.services.errors import DomainError, ValidationFailed
from evalplatform.web import evaluation_panels
from evalplatform.web.access import Principal, require
from evalplatform.web.forms import FormRoute
from evalplatform.web.routes.evaluations import render_evaluation_page
from evalplatform.web.templating import (
    attachment,
    flash,
    flash_error,
    local_time,
    redirect,
    render,
)

router = APIRouter(route_class=FormRoute)

scorers = require(Role.purchaser, Role.evaluator, owns=evaluations.owns_evaluation)
sheet_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                        owns=scoresheets.owns_sheet)
sheet_scorers = require(Role.purchaser, Role.evaluator, owns=scoresheets.owns_sheet)
sheet_finance = require(Role.finance, owns=scoresheets.owns_sheet)
sheet_organisers = require(Role.finance, Role.purchaser, owns=scoresheets.owns_sheet)
#: who may ask for a submitted sheet to be reopened: the organiser, or its own scorer (the
#: service tells which)
sheet_requesters = require(Role.purchaser, Role.evaluator, owns=scoresheets.owns_sheet)
third_parties = require(Role.evaluator, owns=evaluations.owns_evaluation)
suppliers = require(Role.supplier, owns=evaluations.owns_evaluation)
file_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator, Role.supplier,
                       owns=evaluations.owns_evaluation)
organisers = require(Role.finance, Role.purchaser, Role.auditor, owns=evaluations.owns_evaluation)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _upload(request: Request) -> tuple[dict, bytes, str]:
    form = await request.form()
    upload = form.get("file")
    data = await upload.read() if hasattr(upload, "read") else b""
    return dict(form), data, getattr(upload, "filename", "") or ""


def _version(form: dict) -> int | None:
    return form_version(form.get("version"))


# ---------------------------------------------------------------- starting a sheet


@router.post("/evaluations/{evaluation_id}/sheets")
async def sheet_start(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                      principal: Principal = Depends(scorers)):
    form = await request.form()
    try:
        sheet = scoresheets.start(session, principal, evaluation_id, str(form.get("part") or ""),
                                  str(form.get("kind") or ""), str(form.get("label") or ""))
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}")
    return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet.id}")


# ---------------------------------------------------------------- the form


def _sheet_context(session: Session, principal: Principal, evaluation_id: int, sheet_id: int,
                   values: dict | None = None, errors: dict | None = None) -> dict:
    evaluation = evaluations.get(session, evaluation_id)
    sheet = scoresheets.get(session, evaluation.id, sheet_id)
    doc = evaluations.scheme_document(session, evaluation)
    part = scoresheets.part_of(doc, sheet.part_id)
    editable = (sheet.status == SheetStatus.draft and evaluation.status in scoresheets.FILLING
                and scoresheets.can_edit(session, principal, sheet, evaluation))
    leaves = scoresheets.sheet_leaves(part, sheet.kind)
    stored_values = scoresheets.form_values(sheet, leaves)
    pending, notes, scores, kept, faults = {}, {}, sheet.scores or {}, [], {}
    if editable:
        shown = scoresheets.parse_form(doc, part, sheet.kind, values or stored_values)
        pending, notes = shown.pending, shown.notes
        scores, kept = _as_a_draft_keeps(shown, sheet.scores or {}, leaves)
        faults = _faults(leaves, sheet.kind, values or stored_values, errors or {}, shown)
    contract = evaluations.contract_of(session, evaluation)
    project = evaluations.project_of(session, evaluation)
    own_evaluation = None
    if sheet.kind != SheetKind.data:
        own_evaluation = scoresheets.self_evaluation_of(session, evaluation.id)
    scorer_name = None
    if sheet.kind == SheetKind.expert and panel.names_visible(session, principal, evaluation):
        member = session.get(PanelMember, sheet.member_id)
        scorer_name = experts.get(session, member.expert_id).name
    elif sheet.kind == SheetKind.firm:
        scorer_name = session.get(Organisation, sheet.firm_id).name
    return {
        "evaluation": evaluation, "sheet": sheet, "part": part, "contract": contract,
        "project": project, "leaves": leaves,
        "values": values or stored_values, "errors": errors or {}, "pending": pending,
        "notes": notes, "subtotal": scoresheets.subtotal(leaves, scores, sheet.kind),
        "subtotal_kept": len(kept), "faults": faults,
        "editable": editable, "scorer_name": scorer_name, "errors_note": None,
        "conflict": None, "max_reason": scoresheets.MAX_REASON,
        "evidence": scoresheets.leaf_files(session, sheet),
        "self_evaluation": own_evaluation,
        "reopening": scoresheets.last_reopening(session, sheet),
        "self_files": scoresheets.files_of(session, evaluation.id, FilePurpose.self_evaluation)
        if own_evaluation else [],
        "late": evaluations.window_state(evaluation) == "after",
        "can_reopen": principal.role == Role.finance and sheet.status == SheetStatus.submitted
        and evaluation.status in scoresheets.FILLING,
        "can_request": panel.is_organiser(session, principal, evaluation)
        and principal.role == Role.purchaser and sheet.status == SheetStatus.submitted
        and scoresheets.second_look_open(evaluation),
        "can_ask_back": scoresheets.may_ask_back(session, principal, sheet, evaluation),
        "requested_by": results.user_name(session, sheet.reopen_requested_by)
        if sheet.reopen_request else "",
    }


def _as_a_draft_keeps(shown: scoresheets.ParsedSheet, stored: dict, leaves: list
                     ) -> tuple[dict, list[str]]:
    """The scores the subtotal adds up for a form on the screen, as a draft saves them: each
    refused indicator with its last saved entry (and the ids of those so counted), so the
    page's subtotal is the one the saved draft holds, after a refused submission too."""
    scores, kept = dict(shown.scores), []
    for leaf in leaves:
        if leaf.id in shown.errors:
            scores.pop(leaf.id, None)
            if leaf.id in stored:
                scores[leaf.id] = stored[leaf.id]
                kept.append(leaf.id)
    return scores, kept


def _faults(leaves: list, kind: SheetKind, values: dict, errors: dict,
            shown: scoresheets.ParsedSheet) -> dict[str, str]:
    """For each indicator with a message, the field it is about: ``value`` (missing or
    refused points, tier or measured value), ``reason`` (a deduction without its reason),
    ``source`` (a measured value without its source) or ``na_reason`` (不适用 without why)."""
    faults = {}
    for leaf in leaves:
        if not errors.get(leaf.id):
            continue
        if leaf.id in shown.error_fields:  # a text over its limit
            faults[leaf.id] = shown.error_fields[leaf.id]
            continue
        typed = str(values.get(f"value-{leaf.id}") or "").strip()
        if str(values.get(f"na-{leaf.id}") or "").strip() in ("1", "on", "true"):
            faults[leaf.id] = "na_reason"
        elif leaf.id in shown.errors or not typed:
            faults[leaf.id] = "value"
        else:
            faults[leaf.id] = "source" if kind == SheetKind.data else "reason"
    return faults


@router.get("/evaluations/{evaluation_id}/sheets/{sheet_id}")
def sheet_page(request: Request, evaluation_id: int, sheet_id: int,
               session: Session = Depends(get_session),
               principal: Principal = Depends(sheet_readers)):
    return render(request, "scoresheets/sheet.html",
                  _sheet_context(session, principal, evaluation_id, sheet_id))


def _status_context(session: Session, evaluation_id: int, sheet_id: int, leaves_errors: dict,
                    pending: dict, message: str, ok: bool, notes: dict | None = None,
                    typed: dict | None = None) -> dict:
    """The status line and each leaf's messages after a draft is saved (or refused), and the
    sheet's subtotal as stored (a refused entry keeps its last saved one). With ``typed`` (a
    form that was not saved at all), each leaf's messages are those of what is typed."""
    evaluation = evaluations.get(session, evaluation_id)
    sheet = scoresheets.get(session, evaluation.id, sheet_id)
    doc = evaluations.scheme_document(session, evaluation)
    part = scoresheets.part_of(doc, sheet.part_id)
    leaves = scoresheets.sheet_leaves(part, sheet.kind)
    stored = sheet.scores or {}
    if typed is not None:
        shown = scoresheets.parse_form(doc, part, sheet.kind, typed)
        leaves_errors, pending, notes = shown.errors, shown.pending, shown.notes
    return {"sheet": sheet, "leaves": leaves, "errors": leaves_errors, "pending": pending,
            "message": message, "ok": ok, "notes": notes or {},
            "subtotal": scoresheets.subtotal(leaves, stored, sheet.kind),
            "subtotal_kept": sum(1 for leaf in leaves
                                 if leaf.id in leaves_errors and leaf.id in stored)}


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/draft")
async def sheet_draft(request: Request, evaluation_id: int, sheet_id: int,
                      session: Session = Depends(get_session),
                      principal: Principal = Depends(sheet_scorers)):
    """Save as one types (htmx: answers the status line and each leaf's messages).

    Form fields ``value-<leaf>``, ``source-<leaf>``, ``reason-<leaf>``, ``na-<leaf>``,
    ``na_reason-<leaf>``. The measured value of a rate (a leaf whose unit is 比例 / 比率 /
    ratio) is typed in percent, 95 or 95% for 95 %, from 0 to 1000; it is stored and sent
    to the scoring engine as the fraction of one (0.95). Other measured values are taken in
    their unit as typed."""
    form = dict(await request.form())
    try:
        sheet, parsed = scoresheets.save_draft(session, principal, evaluation_id, sheet_id, form,
                                               _version(form))
    except scoresheets.SheetChanged as exc:
        session.rollback()
        if not _is_htmx(request):
            return _conflict_page(request, session, principal, evaluation_id, sheet_id, form, exc)
        # saving as one types never overwrites a newer version: the form keeps the version it
        # was loaded with (so each later keystroke is refused the same way) until the scorer
        # saves the draft with the button, and chooses on the page that shows the differences
        context = _status_context(session, evaluation_id, sheet_id, {}, {}, _(
            "Not saved: %(saved)s Click “Save draft” to see where it differs from your "
            "entries and choose which to keep.", saved=exc.saved), False, typed=form)
        context["version"] = _version(form)
        return render(request, "scoresheets/_draft_status.html", context, status_code=422)
    except ValidationFailed as exc:
        session.rollback()
        if not _is_htmx(request):
            context = _sheet_context(session, principal, evaluation_id, sheet_id, form,
                                     exc.errors)
            context["errors_note"] = _("Not saved: correct the marked indicators.")
            return render(request, "scoresheets/sheet.html", context, status_code=422)
        return render(request, "scoresheets/_draft_status.html", _status_context(
            session, evaluation_id, sheet_id, exc.errors, {},
            _("Not saved: correct the marked indicators."), False), status_code=422)
    except DomainError as exc:
        session.rollback()
        if not _is_htmx(request):
            flash(request, exc.message, "error")
            return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
        return render(request, "scoresheets/_draft_status.html", _status_context(
            session, evaluation_id, sheet_id, {}, {}, exc.message, False), status_code=422)
    if parsed.errors:  # saved, but for the refused indicators, which keep their last entry
        if not _is_htmx(request):
            context = _sheet_context(session, principal, evaluation_id, sheet_id, form,
                                     parsed.errors)
            context["errors_note"] = _("Draft saved, except the marked indicators: correct "
                                       "them (they keep their last saved entry).")
            return render(request, "scoresheets/sheet.html", context)
        return render(request, "scoresheets/_draft_status.html", _status_context(
            session, evaluation_id, sheet_id, parsed.errors, parsed.pending,
            _("Draft saved at %(time)s, except the marked indicators: correct them (they keep "
              "their last saved entry).", time=local_time(sheet.updated_at, "%H:%M:%S")),
            False, parsed.notes))
    if not _is_htmx(request):
        flash(request, _("Draft saved."))
        return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
    return render(request, "scoresheets/_draft_status.html", _status_context(
        session, evaluation_id, sheet_id, {}, parsed.pending,
        _("Draft saved at %(time)s.", time=local_time(sheet.updated_at, "%H:%M:%S")), True,
        parsed.notes))


def _keep_as_draft(session: Session, principal: Principal, evaluation_id: int, sheet_id: int,
                   form: dict) -> scoresheets.SheetChanged | None:
    """A refused submission keeps what was typed as the draft, as saving it would (the
    indicators refused keep their last entry), so that nothing typed is lost; unless a newer
    version was saved since the form was loaded, which is returned and not overwritten."""
    try:
        scoresheets.save_draft(session, principal, evaluation_id, sheet_id, form, _version(form))
    except scoresheets.SheetChanged as exc:
        session.rollback()
        return exc
    except DomainError:
        session.rollback()
    return None


def _conflict_page(request: Request, session: Session, principal: Principal, evaluation_id: int,
                   sheet_id: int, form: dict, exc: scoresheets.SheetChanged,
                   errors: dict | None = None):
    """The sheet again after a draft or submission was refused because a newer version was
    saved since the form was loaded (a colleague, or another window), with nothing lost: the
    form holds what was typed, says who saved the newer version and when, marks each
    indicator where the two differ with the saved entry beside it, and carries the saved
    version, so that saving again deliberately keeps what is typed (autosave waits for that
    choice); a link loads the saved version instead."""
    context = _sheet_context(session, principal, evaluation_id, sheet_id, form, errors)
    if not context["editable"]:  # no longer the principal's to fill: as any other refusal
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
    sheet, leaves = context["sheet"], context["leaves"]
    context["conflict"] = {"saved": exc.saved,
                           "leaves": scoresheets.differences(sheet, leaves, form),
                           "stored": scoresheets.form_values(sheet, leaves)}
    return render(request, "scoresheets/sheet.html", context, status_code=409)


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/submit")
async def sheet_submit(request: Request, evaluation_id: int, sheet_id: int,
                       session: Session = Depends(get_session),
                       principal: Principal = Depends(sheet_scorers)):
    """Check the whole sheet and lock it; the fields as for the draft (a rate in percent)."""
    form = dict(await request.form())
    try:
        scoresheets.submit(session, principal, evaluation_id, sheet_id, form, _version(form))
    except scoresheets.SheetChanged as exc:
        session.rollback()
        return _conflict_page(request, session, principal, evaluation_id, sheet_id, form, exc)
    except ValidationFailed as exc:
        session.rollback()
        changed = _keep_as_draft(session, principal, evaluation_id, sheet_id, form)
        if changed is not None:
            return _conflict_page(request, session, principal, evaluation_id, sheet_id, form,
                                  changed, exc.errors)
        context = _sheet_context(session, principal, evaluation_id, sheet_id, form, exc.errors)
        # the address bar shows the sheet, not this POST: a reload reads the saved draft
        context["page_url"] = f"/evaluations/{evaluation_id}/sheets/{sheet_id}"
        return render(request, "scoresheets/sheet.html", context, status_code=422)
    except DomainError as exc:
        session.rollback()
        flash(request, exc.message, "error")
        return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
    flash(request, _("Sheet submitted; it is now locked."))
    return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/evidence")
async def sheet_evidence(request: Request, evaluation_id: int, sheet_id: int,
                         session: Session = Depends(get_session),
                         principal: Principal = Depends(sheet_scorers)):
    form, data, filename = await _upload(request)
    try:
        scoresheets.add_evidence(session, principal, evaluation_id, sheet_id,
                                 str(form.get("leaf_id") or ""), data, filename)
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
    flash(request, _("Evidence attached."))
    return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/reopen")
async def sheet_reopen(request: Request, evaluation_id: int, sheet_id: int,
                       session: Session = Depends(get_session),
                       principal: Principal = Depends(sheet_finance)):
    form = await request.form()
    try:
        scoresheets.reopen(session, principal, evaluation_id, sheet_id,
                           str(form.get("reason") or ""))
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")
    flash(request, _("The sheet is reopened; its scorer can change it and submit again."))
    return redirect(request, f"/evaluations/{evaluation_id}/sheets/{sheet_id}")


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/reopen-request")
async def sheet_reopen_request(request: Request, evaluation_id: int, sheet_id: int,
                               session: Session = Depends(get_session),
                               principal: Principal = Depends(sheet_requesters)):
    """The organiser asks for a second look (back to the scoring page), or the sheet's own
    scorer asks for its sheet back (back to the sheet)."""
    form = await request.form()
    back = f"/evaluations/{evaluation_id}/sheets/{sheet_id}" if form.get("from") == "sheet" \
        else f"/evaluations/{evaluation_id}/scoring"
    try:
        scoresheets.request_reopen(session, principal, evaluation_id, sheet_id,
                                   str(form.get("reason") or ""))
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, back)
    flash(request, _("Finance is asked to reopen the sheet for a second look."))
    return redirect(request, back)


# ---------------------------------------------------------------- reports, self-evaluation, files


@router.post("/evaluations/{evaluation_id}/report")
async def report_upload(request: Request, evaluation_id: int,
                        session: Session = Depends(get_session),
                        principal: Principal = Depends(third_parties)):
    _form, data, filename = await _upload(request)
    try:
        scoresheets.upload_report(session, principal, evaluation_id, data, filename)
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}")
    flash(request, _("Evaluation report uploaded."))
    return redirect(request, f"/evaluations/{evaluation_id}")


@router.post("/evaluations/{evaluation_id}/reports/{file_id}/withdraw")
async def report_withdraw(request: Request, evaluation_id: int, file_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(third_parties)):
    """The third party withdraws a report it handed in (撤回评价报告), with a reason; the file
    is kept and shown struck through, and a new upload replaces it."""
    form = await request.form()
    reason = str(form.get("reason") or "")
    try:
        scoresheets.withdraw_report(session, principal, evaluation_id, file_id, reason)
    except ValidationFailed as exc:  # the form comes back open, with the reason as typed
        session.rollback()
        request.state.report_withdrawal_typed = {"file_id": file_id, "reason": reason,
                                                 "errors": exc.errors}
        return render_evaluation_page(request, session, principal, evaluation_id,
                                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}")
    flash(request, _("Report withdrawn. It is kept, shown struck through with your reason, and "
                     "no longer counts as the evaluation report; upload the corrected report to "
                     "replace it."))
    return redirect(request, f"/evaluations/{evaluation_id}")


@router.post("/evaluations/{evaluation_id}/self-evaluation")
async def self_evaluation(request: Request, evaluation_id: int,
                          session: Session = Depends(get_session),
                          principal: Principal = Depends(suppliers)):
    form, data, filename = await _upload(request)
    try:
        scoresheets.save_self_evaluation(session, principal, evaluation_id, form,
                                         (data, filename) if data else None)
    except ValidationFailed as exc:  # shown again with what was typed, each error at its field
        session.rollback()
        request.state.self_evaluation_typed = {
            "values": {k: str(form.get(k) or "") for k in ("summary", "claimed_total")},
            "errors": exc.errors,  # the file box comes back empty: an acceptable file is named
            "unsent": filename if data and scoresheets.upload_acceptable(data) else ""}
        return render_evaluation_page(request, session, principal, evaluation_id,
                                      status_code=422)
    except DomainError as exc:
        session.rollback()
        flash_error(request, exc)
        return redirect(request, f"/evaluations/{evaluation_id}")
    flash(request, _("Self-evaluation recorded. It is shown beside the scores and never scored."))
    return redirect(request, f"/evaluations/{evaluation_id}")


@router.get("/evaluations/{evaluation_id}/files/{file_id}")
def evaluation_file(evaluation_id: int, file_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(file_readers)):
    """An evaluation's file (a report, a self-evaluation file, a sheet's evidence), downloaded
    under the name it was uploaded with (a Chinese name kept, RFC 6266 / 5987)."""
    record = scoresheets.readable_file(session, principal, evaluation_id, file_id)
    return Response(files.read(record.sha256), media_type=files.MEDIA_TYPES[record.file_kind],
                    headers={"Content-Disposition": attachment(record.filename)})


# ---------------------------------------------------------------- progress and consolidation


@router.get("/evaluations/{evaluation_id}/scoring")
def scoring_page(request: Request, evaluation_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(organisers)):
    evaluation = evaluations.get(session, evaluation_id)
    names = {row.code: row.expert.name for row in panel.member_rows(session, evaluation.id)}
    names.update({panel.firm_code(session, a): o.name for a, o in panel.firms(
        session, evaluation.id, active_only=False)})
    return render(request, "scoresheets/scoring.html", {
        "names": names,
        "evaluation": evaluation, "project": evaluations.project_of(session, evaluation),
        "progress": scoresheets.progress(session, evaluation),
        "parts": scoresheets.consolidate(session, evaluation),
        "self_evaluation": scoresheets.self_evaluation_of(session, evaluation.id),
        "self_files": scoresheets.files_of(session, evaluation.id, FilePurpose.self_evaluation),
        "reports": scoresheets.report_rows(session, evaluation.id),
        "thresholds": scoring.THRESHOLDS,
        "can_request": principal.role == Role.purchaser
        and scoresheets.second_look_open(evaluation),
        "can_reopen": principal.role == Role.finance
        and evaluation.status in scoresheets.FILLING})


# ---------------------------------------------------------------- the evaluation page's panels


@evaluation_panels.panel(order=30, template="scoresheets/_panel_organiser.html")
def organiser_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """Panel and sheets progress, for the organiser, finance and auditors."""
    if not (principal.role in (Role.finance, Role.auditor)
            or panel.is_organiser(session, principal, evaluation)):
        return None
    rows = panel.member_rows(session, evaluation.id)
    return {"evaluation": evaluation, "progress": scoresheets.progress(session, evaluation),
            "rows": rows, "seated": [r for r in rows if r.member.status == MemberStatus.seated],
            "vacancies": panel.vacancies(session, evaluation.id),
            "drawn": bool(panel.draws(session, evaluation.id)),
            "firms": panel.firms(session, evaluation.id),
            "reports": scoresheets.report_rows(session, evaluation.id),
            "self_evaluation": scoresheets.self_evaluation_of(session, evaluation.id)}


@evaluation_panels.panel(order=25, template="scoresheets/_panel_mine.html")
def my_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """"My sheets" for an assigned evaluator and for the purchaser."""
    if principal.role not in (Role.evaluator, Role.purchaser):
        return None
    slots = scoresheets.my_slots(session, principal, evaluation)
    seat = panel.seat_of(session, principal, evaluation.id)
    firm = panel.firm_of(session, principal, evaluation.id)
    if not slots and seat is None and firm is None:
        return None
    mine = []
    if seat is not None or firm is not None:
        mine = [row for row in scoresheets.report_rows(session, evaluation.id)
                if scoresheets.handed_in_by(session, principal, row.file)]
    typed = getattr(request.state, "report_withdrawal_typed", None) or {}
    return {"evaluation": evaluation, "slots": slots, "seat": seat, "firm": firm,
            "code": panel.scorer_code(seat) if seat else None,
            "filling": evaluation.status in scoresheets.FILLING,
            # a member who submitted can no longer decline (only the organiser recuses them)
            "submitted": seat is not None and panel.has_submitted(session, seat),
            "reports": mine, "third_party": seat is not None or firm is not None,
            "report_open": scoresheets.report_open(evaluation),
            "max_reason": scoresheets.MAX_REASON, "withdrawal": typed}


@evaluation_panels.panel(order=35, template="scoresheets/_panel_supplier.html")
def supplier_panel(request: Request, session: Session, principal, evaluation) -> dict | None:
    """The supplier's self-evaluation (自评); the panel's names once the result is final."""
    if principal.role != Role.supplier:
        return None
    names = []
    if panel.names_visible(session, principal, evaluation):
        names = [r.expert.name for r in panel.member_rows(session, evaluation.id)
                 if r.member.status == MemberStatus.seated]
        names += [o.name for _a, o in panel.firms(session, evaluation.id)]
    record = scoresheets.self_evaluation_of(session, evaluation.id)
    typed = getattr(request.state, "self_evaluation_typed", None) or {}
    shown = typed.get("values") or {
        "summary": record.summary if record else "",
        "claimed_total": (record.claimed_total or "") if record else ""}
    return {"evaluation": evaluation, "record": record, "max_summary": scoresheets.MAX_SELF_SUMMARY,
            "files": scoresheets.files_of(session, evaluation.id, FilePurpose.self_evaluation),
            "open": evaluation.status in scoresheets.FILLING
            and not scoresheets.self_evaluation_closed(session, evaluation), "names": names,
            "typed": shown, "errors": typed.get("errors") or {}, "unsent": typed.get("unsent")}
