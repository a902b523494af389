"""The JSON API of scoresheets (评分表): what a third-party evaluation firm's own tools, or an
expert's, read and deliver by program instead of typing into the sheet's page.

The same services and access rules as the sheet pages (``routes.scoresheets``): the purchaser
fills its own part, a seated expert or an assigned firm the third-party part, each only the
leaves of its part; an evaluator reaches only the evaluations it is assigned to and sees only
its own sheets (someone else's sheet, an evaluation not assigned: 404); a supplier or an
administrator is refused (403). Every scoring rule stays in ``services.scoresheets``: points
from 0 to the leaf's maximum with a reason (扣分理由) below it, one of the leaf's tiers with a
reason below the top one, not applicable (不适用) with a reason, a measured value with its
source; a submitted sheet is locked (only finance reopens it); submission runs the avoidance
check (回避) again. Their refusals are the pages' own, in the reader's language, each keyed
by the leaf it concerns.

A draft sent here is saved whole or not at all (the page keeps the valid part of a draft as one
types; a program sends its sheet at once). A rate (a leaf whose unit is 比例 / 比率 / ratio) is
entered and read in percent, as on the page (95 for 95 %).
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import Organisation, PanelMember, Role, SheetKind, SheetStatus
from evalplatform.services import evaluations, experts, paging, panel, scoresheets
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.ratios import plain
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, NumberOrText, Version, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["scoresheets"],
                   responses=error_responses(401, 403, 404, 422))

#: as the pages: the progress table and the sheet for finance, the purchaser and auditors, and
#: an assigned evaluator's own sheets; starting and filling for the scorers
list_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                       owns=evaluations.owns_evaluation)
sheet_readers = require(Role.finance, Role.purchaser, Role.auditor, Role.evaluator,
                        owns=scoresheets.owns_sheet)
scorers = require(Role.purchaser, Role.evaluator, owns=evaluations.owns_evaluation)
sheet_scorers = require(Role.purchaser, Role.evaluator, owns=scoresheets.owns_sheet)


# ---------------------------------------------------------------- what the API answers


class SheetSummary(BaseModel):
    id: int
    evaluation_id: int
    part_id: str = Field(description="The scheme's part the sheet scores, e.g. C")
    part_name: str
    kind: SheetKind = Field(description="expert (a panel expert), firm (a third-party firm), "
                                        "occasion (the purchaser, one per monitoring occasion) "
                                        "or data (the part's measured values)")
    scorer: str = Field(description="The scorer's code on the evaluation (专家1, a firm's "
                                    "code), the occasion's name, or DATA")
    scorer_name: str | None = Field(description="The expert's or firm's name, when the reader "
                                                "may see the panel's names; null otherwise")
    label: str
    status: SheetStatus = Field(description="draft (still filled) or submitted (locked)")
    version: int = Field(description="Changes at every save; send it back with the next "
                                     "draft or the submission")
    updated_at: Moment
    submitted_at: Moment | None


class SheetPage(BaseModel):
    items: list[SheetSummary]
    total: int
    page: int
    pages: int
    per_page: int


class TierOut(BaseModel):
    name: str
    coefficient: str = Field(description="The share of the leaf's points the tier earns")


class EntryOut(BaseModel):
    points: str | None = Field(None, description="A points leaf: the points given")
    tier: str | None = Field(None, description="A tiered leaf: the tier chosen")
    value: str | None = Field(None, description="A data leaf: the measured value, a rate in "
                                                "percent (95 for 95 %)")
    reason: str | None = Field(None, description="The reason for a deduction (扣分理由)")
    na: str | None = Field(None, description="Declared not applicable (不适用): its reason")
    source: str | None = Field(None, description="A data leaf: where the figure comes from")


class LeafOut(BaseModel):
    id: str
    name: str
    path: list[str] = Field(description="The names of the groups above the leaf")
    points: str = Field(description="The leaf's maximum points")
    rule_type: str = Field(description="points, tiers, ratio_ge, ratio_le or thresholds")
    enter: Literal["points", "tier", "value"] = Field(
        description="What to send for it: points (0 to the maximum, at most two decimals), "
                    "tier (one of tiers' names) or value (the measured value in unit)")
    tiers: list[TierOut] = Field(description="A tiered leaf's tiers, top first as the scheme "
                                             "lists them")
    unit: str = Field(description="A data leaf's unit as the scheme names it")
    in_percent: bool = Field(description="A rate: its value is entered and read in percent "
                                         "(95 for 95 %), from 0 to 1000")
    criteria: str = Field(description="The scoring criteria (评分标准)")
    entry: EntryOut | None = Field(description="What is entered; null when nothing is")
    to_do: str | None = Field(description="A draft: what submission still needs for this leaf, "
                                          "in the reader's language")
    note: str | None = Field(description="A draft: an entry worth a second look (a rate that "
                                         "looks typed as a fraction of one)")


class SubtotalOut(BaseModel):
    leaves: int = Field(description="The sheet's leaves")
    entered: int = Field(description="Leaves with points or a tier")
    not_applicable: int = Field(description="Leaves declared not applicable (不适用)")
    scored: str = Field(description="The points of the leaves entered (a tier as the leaf's "
                                    "maximum × its coefficient), a decimal string")
    scored_max: str = Field(description="The maxima of the leaves entered, a decimal string")


class SheetDetail(SheetSummary):
    editable: bool = Field(description="Whether the caller may save or submit it now")
    subtotal: SubtotalOut | None = Field(
        description="本表小计: what the sheet adds up to so far, for its scorer to check; null "
                    "for a sheet of measured values, whose points come from their rules")
    leaves: list[LeafOut]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    points: NumberOrText | None = Field(
        None, description="A points leaf: 0 to its maximum, at most two decimals, as a number "
                          "or text (true and false are refused)",
        examples=[12.5])
    tier: str | None = Field(None, description="A tiered leaf: the name of one of its tiers",
                             examples=["达成"])
    value: NumberOrText | None = Field(
        None, description="A data leaf: the measured value in its unit, as a number or text; "
                          "a rate in percent (95 or \"95%\" for 95 %)")
    reason: str | None = Field(None, description="The reason for a deduction (扣分理由): "
                                                 "required below the maximum or the top tier")
    na: str | None = Field(None, description="Declare the leaf not applicable (不适用) with "
                                             "this reason (required to submit)")
    source: str | None = Field(None, description="A data leaf: the source of the figure, e.g. "
                                                 "the service ledger (required to submit)")


class SheetStartIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part: str = Field(description="The part to score, e.g. C", examples=["C"])
    kind: SheetKind = Field(description="expert or firm (the third-party part), occasion (the "
                                        "purchaser's part), data (a part's measured values)")
    label: str = Field("", description="An occasion sheet: the occasion's name, at most 40 "
                                       "characters, e.g. 2026 第二季度", examples=["2026 第二季度"])


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = Field(description="The sheet's version as read; if it was saved elsewhere "
                                         "since, the request is refused (409) and nothing changes")
    entries: dict[str, EntryIn] = Field(
        description="Leaf id → its entry: one of points, tier or value (or na with its "
                    "reason), a reason, a source. The draft replaces the sheet's entries: a "
                    "leaf left out is emptied")


class SubmitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Version = Field(description="The sheet's version as read (409 if changed since)")
    entries: dict[str, EntryIn] | None = Field(
        None, description="As for a draft; left out, the saved draft is submitted as it is")


# ---------------------------------------------------------------- helpers


def _scorer_name(session: Session, principal: Principal, evaluation, sheet) -> str | None:
    if sheet.kind == SheetKind.expert and panel.names_visible(session, principal, evaluation):
        return experts.get(session, session.get(PanelMember, sheet.member_id).expert_id).name
    if sheet.kind == SheetKind.firm:
        return session.get(Organisation, sheet.firm_id).name
    return None


def _summary(session: Session, principal: Principal, evaluation, doc: dict, sheet) -> dict:
    part = scoresheets.part_of(doc, sheet.part_id)
    return {"id": sheet.id, "evaluation_id": evaluation.id, "part_id": sheet.part_id,
            "part_name": part.get("name", sheet.part_id), "kind": sheet.kind,
            "scorer": sheet.scorer_key,
            "scorer_name": _scorer_name(session, principal, evaluation, sheet),
            "label": sheet.label, "status": sheet.status, "version": sheet.version,
            "updated_at": sheet.updated_at, "submitted_at": sheet.submitted_at}


def _enter(sheet, leaf: scoresheets.Leaf) -> str:
    if sheet.kind == SheetKind.data:
        return "value"
    return "tier" if leaf.rule_type == "tiers" else "points"


def _detail(session: Session, principal: Principal, evaluation_id: int, sheet_id: int
            ) -> SheetDetail:
    evaluation = evaluations.get(session, evaluation_id)
    sheet = scoresheets.get(session, evaluation.id, sheet_id)
    doc = evaluations.scheme_document(session, evaluation)
    part = scoresheets.part_of(doc, sheet.part_id)
    leaves = scoresheets.sheet_leaves(part, sheet.kind)
    editable = (sheet.status == SheetStatus.draft and evaluation.status in scoresheets.FILLING
                and scoresheets.can_edit(session, principal, sheet, evaluation))
    typed = scoresheets.form_values(sheet, leaves)  # a rate in percent, as it is typed
    shown = scoresheets.parse_form(doc, part, sheet.kind, typed) if editable else None
    out = []
    for leaf in leaves:
        stored = (sheet.scores or {}).get(leaf.id)
        entry = None
        if stored is not None:
            if "na" in stored:
                entry = EntryOut(na=stored["na"])
            else:
                value = typed.get(f"value-{leaf.id}") or None
                entry = EntryOut(reason=stored.get("reason"), source=stored.get("source"),
                                 **{_enter(sheet, leaf): value})
        out.append(LeafOut(
            id=leaf.id, name=leaf.name, path=list(leaf.path), points=str(leaf.points),
            rule_type=leaf.rule_type, enter=_enter(sheet, leaf),
            tiers=[TierOut(name=t["name"], coefficient=str(t["coefficient"]))
                   for t in leaf.tiers],
            unit=leaf.unit, in_percent=leaf.is_ratio, criteria=leaf.criteria, entry=entry,
            to_do=shown.pending.get(leaf.id) if shown else None,
            note=shown.notes.get(leaf.id) if shown else None))
    found = scoresheets.subtotal(leaves, sheet.scores or {}, sheet.kind)
    subtotal = None if found is None else SubtotalOut(
        leaves=found.leaves, entered=found.entered, not_applicable=found.not_applicable,
        scored=plain(found.scored), scored_max=plain(found.scored_max))
    return SheetDetail(**_summary(session, principal, evaluation, doc, sheet),
                       editable=editable, subtotal=subtotal, leaves=out)


def _form(entries: dict[str, EntryIn]) -> dict[str, str]:
    """The entries as the page's form fields (``value-<leaf>``, ``reason-<leaf>``,
    ``na-<leaf>``, ``na_reason-<leaf>``, ``source-<leaf>``), which the service reads."""
    form: dict[str, str] = {}
    twice: dict[str, str] = {}
    for leaf_id, entry in entries.items():
        given = [v for v in (entry.points, entry.tier, entry.value) if v is not None]
        if len(given) > 1:
            twice[leaf_id] = _("Send one of points, tier or value for an indicator.")
            continue
        if given:
            form[f"value-{leaf_id}"] = str(given[0])
        if entry.reason is not None:
            form[f"reason-{leaf_id}"] = entry.reason
        if entry.source is not None:
            form[f"source-{leaf_id}"] = entry.source
        if entry.na is not None:
            form[f"na-{leaf_id}"] = "1"
            form[f"na_reason-{leaf_id}"] = entry.na
    if twice:
        raise ValidationFailed(twice)
    return form


# ---------------------------------------------------------------- the operations


@router.get("/evaluations/{evaluation_id}/sheets",
            summary="List an evaluation's score sheets (评分表列表)", response_model=SheetPage)
def list_sheets(evaluation_id: int, page: ApiPage = 1, per_page: ApiPerPage = 20,
                session: Session = Depends(get_session),
                principal: Principal = Depends(list_readers)):
    """The evaluation's sheets the caller may see, by part, kind and scorer: all of them for
    finance, auditors and the purchasing department (as the progress table), an evaluator's
    own only. Started sheets only: the progress page also lists who has not started."""
    evaluation = evaluations.get(session, evaluation_id)
    doc = evaluations.scheme_document(session, evaluation)
    visible = [s for s in scoresheets.sheets_of(session, evaluation.id)
               if scoresheets.can_view(session, principal, s, evaluation)]
    found = paging.paginate_items(visible, page=page, per_page=per_page)
    problems = paging.list_problems(found, sort=None, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return SheetPage(items=[SheetSummary(**_summary(session, principal, evaluation, doc, s))
                            for s in found.items],
                     total=found.total, page=found.page, pages=found.pages,
                     per_page=found.per_page)


@router.get("/evaluations/{evaluation_id}/sheets/{sheet_id}",
            summary="A score sheet (评分表)", response_model=SheetDetail)
def get_sheet(evaluation_id: int, sheet_id: int, session: Session = Depends(get_session),
              principal: Principal = Depends(sheet_readers)):
    """One sheet: its part, scorer, status and version, and each leaf of its part with its
    points, rule, what to enter, its criteria and what is entered; for a draft its scorer
    may fill, what submission still needs per leaf."""
    return _detail(session, principal, evaluation_id, sheet_id)


@router.post("/evaluations/{evaluation_id}/sheets",
             summary="Start a score sheet (开始评分)", response_model=SheetDetail,
             status_code=201,
             responses={200: {"model": SheetDetail,
                              "description": "The caller's sheet for that part existed already: "
                                             "it, unchanged"},
                        **error_responses(409)})
def start_sheet(evaluation_id: int, body: SheetStartIn, response: Response,
                session: Session = Depends(get_session),
                principal: Principal = Depends(scorers)):
    """Start the caller's sheet for a part, as the evaluation page's button does: 201 with
    its Location; if the caller's sheet for that part exists already, 200 with it. Audited
    as scoresheet.create. Send the session's CSRF token (``GET /api/me``) in the X-CSRF-Token
    header."""
    before = {s.id for s in scoresheets.sheets_of(session, evaluation_id)}
    sheet = scoresheets.start(session, principal, evaluation_id, body.part, body.kind.value,
                              body.label)
    if sheet.id in before:
        response.status_code = 200
    response.headers["Location"] = f"/api/evaluations/{evaluation_id}/sheets/{sheet.id}"
    return _detail(session, principal, evaluation_id, sheet.id)


@router.put("/evaluations/{evaluation_id}/sheets/{sheet_id}/draft",
            summary="Save a score sheet's draft (保存草稿)",
            response_model=SheetDetail, responses=error_responses(409))
def save_sheet_draft(evaluation_id: int, sheet_id: int, body: DraftIn,
                     session: Session = Depends(get_session),
                     principal: Principal = Depends(sheet_scorers)):
    """Save the caller's draft sheet whole: a missing value or reason is allowed in a draft
    (each leaf's ``to_do`` says what submission will need); a refused entry (points out of
    range, an unknown tier, a leaf not on this sheet) refuses the draft with 422, ``errors``
    keyed by the leaf, and nothing is saved. A submitted sheet, or a version saved elsewhere
    since, is refused with 409. Not audited (a draft decides nothing), as on the page."""
    scoresheets.save_draft(session, principal, evaluation_id, sheet_id, _form(body.entries),
                           body.version, whole=True)
    return _detail(session, principal, evaluation_id, sheet_id)


@router.post("/evaluations/{evaluation_id}/sheets/{sheet_id}/submit",
             summary="Submit a score sheet (提交评分表)",
             response_model=SheetDetail, responses=error_responses(409))
def submit_sheet(evaluation_id: int, sheet_id: int, body: SubmitIn,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(sheet_scorers)):
    """Check the whole sheet and lock it, as the page's submit button: every leaf entered,
    a reason wherever points or a tier fall below the top, not applicable with its reason
    (422, ``errors`` keyed by the leaf, nothing changes). Refused with 409 when already
    submitted, when the version changed, or when the expert must now be avoided (回避).
    Audited as scoresheet.submit, with the scores."""
    if body.entries is None:
        evaluation = evaluations.get(session, evaluation_id)
        sheet = scoresheets.get(session, evaluation.id, sheet_id)
        doc = evaluations.scheme_document(session, evaluation)
        leaves = scoresheets.sheet_leaves(scoresheets.part_of(doc, sheet.part_id), sheet.kind)
        form = scoresheets.form_values(sheet, leaves)
    else:
        form = _form(body.entries)
    scoresheets.submit(session, principal, evaluation_id, sheet_id, form, body.version)
    return _detail(session, principal, evaluation_id, sheet_id)
