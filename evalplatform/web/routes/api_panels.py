"""The JSON API of the expert pool (专家库) and an evaluation's panel (专家抽取): the same
services and access rules as the pool's and the panel's pages.

Finance and auditors read the pool. The panel is read by those its page admits — finance,
auditors and the purchasing department of the evaluation — and managed by its organiser
(finance or that department): the random draw, a further draw for seats left empty, declines
and recusals, third-party firms. An expert seated on the panel declines their own seat. The
names on a panel stay confidential until the result is final (DESIGN.md): they are given to
the organiser, finance and auditors only (``panel.names_visible``), and are null for anyone
else. Every change is audited as on the page: panel.draw, panel.decline, panel.recuse,
panel.firm, panel.firm_removed."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.labels import MEMBER_STATUS_LABELS
from evalplatform.models import Evaluation, EvaluationStatus, MemberStatus, PanelFirm
from evalplatform.services import evaluations, experts, paging, panel
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import Moment, RowId, WholeNumber, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.experts import (
    panel_members,
    panel_organisers,
    panel_readers,
    pool_readers,
)

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["evaluations"],
                   responses=error_responses(401, 403, 422))

#: The longest list of specialities a draw takes (the catalogue has far fewer sectors).
MAX_SPECIALITIES = 100


# ---------------------------------------------------------------- the pool


class ExpertOut(BaseModel):
    id: int
    name: str
    employer: str = Field(description="工作单位")
    title: str = Field(description="Professional title (职称)")
    specialities: list[str] = Field(description="Catalogue sector codes the expert judges, "
                                                "e.g. [\"D02\"]")
    speciality_names: list[str] = Field(description="The same sectors by name, in order")
    account_linked: bool = Field(description="The expert signs in with an evaluator account to "
                                             "score")
    active: bool = Field(description="May be drawn; an inactive expert stays in the pool's "
                                     "history")
    created_at: Moment


class ExpertPage(BaseModel):
    items: list[ExpertOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


def _expert_out(expert, names: dict[str, str]) -> ExpertOut:
    return ExpertOut(id=expert.id, name=expert.name, employer=expert.employer,
                     title=expert.title, specialities=list(expert.specialities),
                     speciality_names=[names.get(c, c) for c in expert.specialities],
                     account_linked=expert.user_id is not None, active=expert.active,
                     created_at=expert.created_at)


@router.get("/experts", summary="List the expert pool (专家库)", response_model=ExpertPage)
def list_experts(q: str = Query("", description="Words in the name, employer or title"),
                 speciality: str = Query("", description="A catalogue sector code (e.g. D02): "
                                         "only experts who judge it"),
                 active: bool | None = Query(None, description="true: only experts who may be "
                                             "drawn; false: only inactive ones; all when "
                                             "omitted"),
                 sort: str | None = Query(None, description="name, employer or created_at; a "
                                          "leading - sorts descending; by name when omitted"),
                 page: ApiPage = 1, per_page: ApiPerPage = 20,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(pool_readers)):
    """The expert pool as its page lists it, for finance (who keeps it) and auditors; anyone
    else is refused (403). A speciality that is not a catalogue sector, an unknown sort or a
    page past the last is refused (422) naming the parameter."""
    names = experts.sector_names(session)
    if speciality.strip() and speciality.strip() not in names:
        raise ValidationFailed({"speciality": _("Not a catalogue sector: %(codes)s.",
                                                codes=speciality.strip())})
    result = experts.page(session, q=q, speciality=speciality.strip(),
                          active="" if active is None else "1" if active else "0", sort=sort,
                          page_number=page, per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return ExpertPage(items=[_expert_out(e, names) for e in result.items], total=result.total,
                      page=result.page, pages=result.pages, per_page=result.per_page,
                      sort=paging.applied_sort(result))


# ---------------------------------------------------------------- an evaluation's panel


class PanelMemberOut(BaseModel):
    id: int = Field(description="The member's id (send it to …/members/{member_id}/step-down)")
    code: str = Field(description="The scorer code on sheets and in the scoring package, "
                                  "e.g. E03")
    position: int = Field(description="Order drawn, across all rounds")
    draw_round: int = Field(description="The round of the draw that drew the member")
    status: MemberStatus = Field(description="seated, alternate (候补), declined (拒绝) or "
                                             "recused (回避)")
    status_label: str
    expert_id: int | None = Field(description="Null where the names are confidential to the "
                                              "caller")
    name: str | None = Field(description="Null where the names are confidential to the caller "
                                         "(until the result is final)")
    employer: str | None
    title: str | None
    specialities: list[str] | None
    reason: str = Field(description="Why the member declined or was recused; empty otherwise")
    replaces_id: int | None = Field(description="The member whose vacated seat this alternate "
                                                "took")
    changed_at: Moment | None = Field(description="When the member's status last changed")


class AvoidedOut(BaseModel):
    expert_id: int | None
    name: str | None = Field(description="Null where the names are confidential to the caller")
    reasons: list[str] = Field(description="Why the expert had to be avoided (回避), in the "
                                           "reader's language")


class PanelDrawOut(BaseModel):
    id: int
    round: int = Field(description="1 for the panel's draw; later rounds fill seats left empty "
                                   "(补充抽取)")
    size: int = Field(description="Seats drawn in this round")
    alternates: int = Field(description="Alternates drawn in this round")
    specialities: list[str] = Field(description="The sectors required")
    seed: str = Field(description="The random seed (256 bits, hex): the draw is replayed from "
                                  "it and the candidates")
    algorithm: str
    candidates: int = Field(description="How many experts were eligible")
    avoided: list[AvoidedOut]
    reason: str = Field(description="Why a further draw was needed")
    drawn_at: Moment


class PanelFirmOut(BaseModel):
    id: int = Field(description="The assignment's id (send it to …/firms/{assignment_id}/remove)")
    organisation_id: int
    name: str
    code: str = Field(description="The firm's scorer code, F1, F2 … in order of assignment")
    active: bool = Field(description="false once the assignment was withdrawn")
    removed_reason: str
    assigned_at: Moment


class PanelOut(BaseModel):
    evaluation_id: int
    evaluation_status: EvaluationStatus
    open: bool = Field(description="The panel may still change (the evaluation is draft, "
                                   "collecting or scoring)")
    may_manage: bool = Field(description="The caller is the organiser (finance or the "
                                         "purchasing department): draws, records declines and "
                                         "recusals, assigns firms")
    names_visible: bool = Field(description="The caller sees the members' names (the organiser, "
                                            "finance and auditors; everyone once the result is "
                                            "final)")
    minimum_size: int = Field(description="3; 5 for a tendered project; 7 for a contract of "
                                          "¥10,000,000 or more")
    planned_size: int = Field(description="Seats of the first draw; 0 before it")
    vacancies: int = Field(description="Seats left empty with no alternate left: draw again")
    default_specialities: list[str] = Field(description="The sectors a draw requires when it "
                                                        "names none, as the page's form offers "
                                                        "them")
    members: list[PanelMemberOut]
    draws: list[PanelDrawOut]
    firms: list[PanelFirmOut]


def _default_specialities(session: Session, evaluation: Evaluation,
                          draws: list) -> list[str]:
    """The page's preselection: the first draw's sectors, else the project's sector."""
    return list(draws[0].specialities) if draws else panel.default_specialities(session,
                                                                                evaluation)


def _member_out(row: panel.MemberRow, rounds: dict[int, int], visible: bool) -> PanelMemberOut:
    m, e = row.member, row.expert
    return PanelMemberOut(
        id=m.id, code=row.code, position=m.position, draw_round=rounds.get(m.draw_id, 0),
        status=m.status, status_label=str(MEMBER_STATUS_LABELS[m.status]),
        expert_id=e.id if visible else None, name=e.name if visible else None,
        employer=e.employer if visible else None, title=e.title if visible else None,
        specialities=list(e.specialities) if visible else None, reason=m.reason,
        replaces_id=m.replaces_id, changed_at=m.changed_at)


def _firm_out(assignment: PanelFirm, name: str, code: str) -> PanelFirmOut:
    return PanelFirmOut(id=assignment.id, organisation_id=assignment.organisation_id, name=name,
                        code=code, active=assignment.active,
                        removed_reason=assignment.removed_reason,
                        assigned_at=assignment.assigned_at)


def _panel(session: Session, principal: Principal, evaluation_id: int) -> PanelOut:
    evaluation = evaluations.get(session, evaluation_id)
    visible = panel.names_visible(session, principal, evaluation)
    draws = panel.draws(session, evaluation.id)
    rounds = {d.id: d.round for d in draws}
    firms = panel.firms(session, evaluation.id, active_only=False)
    return PanelOut(
        evaluation_id=evaluation.id, evaluation_status=evaluation.status,
        open=evaluation.status in panel.OPEN_STATUSES,
        may_manage=panel.is_organiser(session, principal, evaluation),
        names_visible=visible, minimum_size=panel.minimum_size(session, evaluation),
        planned_size=draws[0].size if draws else 0,
        vacancies=panel.vacancies(session, evaluation.id),
        default_specialities=_default_specialities(session, evaluation, draws),
        members=[_member_out(r, rounds, visible)
                 for r in panel.member_rows(session, evaluation.id)],
        draws=[PanelDrawOut(
            id=d.id, round=d.round, size=d.size, alternates=d.alternate_count,
            specialities=list(d.specialities), seed=d.seed, algorithm=d.algorithm,
            candidates=len(d.candidates), reason=d.reason, drawn_at=d.drawn_at,
            avoided=[AvoidedOut(expert_id=a["id"] if visible else None,
                                name=a.get("name") if visible else None,
                                reasons=[experts.reason_text(r) for r in a["reasons"]])
                     for a in d.excluded]) for d in draws],
        firms=[_firm_out(a, o.name, f"F{k}") for k, (a, o) in enumerate(firms, start=1)])


@router.get("/evaluations/{evaluation_id}/panel", summary="An evaluation's panel (评审专家组)",
            response_model=PanelOut, responses=error_responses(404))
def get_panel(evaluation_id: int, session: Session = Depends(get_session),
              principal: Principal = Depends(panel_readers)):
    """The panel as its page shows it: the members drawn (seated, alternates, declined,
    recused, each with the reason), the draws with their seeds and the experts avoided, and the
    third-party firms assigned. Finance and auditors read every panel, a purchaser its
    department's evaluations' (another's is 404); suppliers and evaluators are refused (403):
    the list is confidential until the result is final."""
    return _panel(session, principal, evaluation_id)


class DrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    size: WholeNumber | None = Field(
        None, description="Experts on the panel: odd, at least minimum_size, at most "
                          f"{panel.MAX_PANEL}; the minimum when omitted. A further draw takes "
                          "none: it fills the seats left empty")
    alternates: WholeNumber = Field(2, description=f"Alternates (候补), 0 to "
                                                   f"{panel.MAX_ALTERNATES}; 2 when omitted, as "
                                                   f"the page's form offers")
    specialities: list[str] | None = Field(
        None, max_length=MAX_SPECIALITIES,
        description="Catalogue sector codes required, each given a seat when someone has it; "
                    "[] for none; the panel's default_specialities when omitted")
    reason: str = Field("", description="Why a further draw is needed (required for it)")


@router.post("/evaluations/{evaluation_id}/panel/draw",
             summary="Draw the panel at random (随机抽取专家)", response_model=PanelOut,
             status_code=201, responses=error_responses(404, 409))
def draw_panel(evaluation_id: int, body: DrawIn, response: Response,
               session: Session = Depends(get_session),
               principal: Principal = Depends(panel_organisers)):
    """The organiser — finance or the purchasing department — draws the panel from the pool
    at random, as the panel page's form does: the experts who must be avoided (回避) are left
    out with the reason, each required sector gets a seat, the seed comes from a
    cryptographic source and is kept so that anyone can replay the draw. Once drawn, a further
    draw (a later round, with a reason) only fills seats that declines left empty. Auditors,
    suppliers and evaluators are refused (403), another department's evaluation is 404; a
    panel that can no longer change, or one whose seats are all filled, 409; a bad size, number
    of alternates, sector or a pool too small, 422 naming the field. Answers 201 with the
    panel, its address in Location. Audited as panel.draw, with the seed, the candidates and
    the experts avoided."""
    evaluation = evaluations.get(session, evaluation_id)
    earlier = panel.draws(session, evaluation.id)
    size = body.size
    if size is None and not earlier:
        size = panel.minimum_size(session, evaluation)
    specialities = body.specialities if body.specialities is not None else \
        _default_specialities(session, evaluation, earlier)
    panel.draw(session, principal, evaluation.id, {
        "size": size, "alternates": body.alternates, "specialities": specialities,
        "reason": body.reason})
    response.headers["location"] = f"/api/evaluations/{evaluation_id}/panel"
    return _panel(session, principal, evaluation_id)


class StepDownIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the expert declines or is recused (required)")
    recuse: bool = Field(False, description="true: a recusal (回避) the organiser records, also "
                                            "after the expert submitted a sheet (the sheet then "
                                            "no longer counts); false: a decline (拒绝)")


class StepDownOut(BaseModel):
    member: PanelMemberOut = Field(description="The member who left the panel")
    seated_instead: PanelMemberOut | None = Field(
        description="The first alternate, who now has the seat; null when the member was an "
                    "alternate or no alternate was left")
    vacancies: int = Field(description="Seats left empty with no alternate left: the organiser "
                                       "draws again")


@router.post("/evaluations/{evaluation_id}/panel/members/{member_id}/step-down",
             summary="Record a decline or recusal (专家拒绝或回避)", response_model=StepDownOut,
             responses=error_responses(404, 409))
def step_down_member(evaluation_id: int, member_id: int, body: StepDownIn,
                     session: Session = Depends(get_session),
                     principal: Principal = Depends(panel_members)):
    """A seated expert declines their own seat, or the organiser (finance or the purchasing
    department) records a member's decline or recusal, as the panel page's form does; the first
    alternate takes a vacated seat. An expert may not decline another's seat, nor record a
    recusal (403); a member who submitted a sheet can only be recused, a member already gone or
    a panel that can no longer change is 409; no reason, 422. Answers with the member, the
    alternate now seated and the seats left empty; names only to those who may read them.
    Audited as panel.decline or panel.recuse."""
    seated = panel.step_down(session, principal, evaluation_id, member_id, body.reason,
                             recuse=body.recuse)
    evaluation = evaluations.get(session, evaluation_id)
    visible = panel.names_visible(session, principal, evaluation)
    rounds = {d.id: d.round for d in panel.draws(session, evaluation_id)}
    rows = {r.member.id: r for r in panel.member_rows(session, evaluation_id)}
    return StepDownOut(member=_member_out(rows[member_id], rounds, visible),
                       seated_instead=_member_out(rows[seated.id], rounds, visible)
                       if seated is not None else None,
                       vacancies=panel.vacancies(session, evaluation_id))


class FirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    organisation_id: RowId = Field(description="An active third-party evaluation firm "
                                               "(第三方评价机构)")


class FirmRemovalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why the firm's assignment is withdrawn (required)")


def _firm(session: Session, evaluation_id: int, assignment_id: int) -> PanelFirmOut:
    firms = panel.firms(session, evaluation_id, active_only=False)
    k, (assignment, organisation) = next((k, pair) for k, pair in enumerate(firms, start=1)
                                         if pair[0].id == assignment_id)
    return _firm_out(assignment, organisation.name, f"F{k}")


@router.post("/evaluations/{evaluation_id}/panel/firms",
             summary="Assign a third-party firm (委托第三方评价机构)", response_model=PanelFirmOut,
             status_code=201,
             responses={200: {"model": PanelFirmOut,
                              "description": "The firm had been assigned and withdrawn before: "
                                             "its assignment, assigned again"},
                        **error_responses(404, 409)})
def assign_firm(evaluation_id: int, body: FirmIn, response: Response,
                session: Session = Depends(get_session),
                principal: Principal = Depends(panel_organisers)):
    """The organiser (finance or the purchasing department) entrusts a third-party firm with
    the third-party part, as the panel page's form does: its evaluator accounts then see the
    evaluation. Answers 201 with the assignment, or 200 when the firm's withdrawn assignment is
    renewed. A firm already assigned, or an organisation that is no active third-party firm,
    is 422 naming organisation_id; a panel that can no longer change, 409; anyone but the
    organiser, 403 (another department's evaluation 404). Audited as panel.firm."""
    before = {a.id for a, _o in panel.firms(session, evaluation_id, active_only=False)}
    assignment = panel.assign_firm(session, principal, evaluation_id, body.organisation_id)
    if assignment.id in before:
        response.status_code = 200
    response.headers["location"] = f"/api/evaluations/{evaluation_id}/panel"
    return _firm(session, evaluation_id, assignment.id)


@router.post("/evaluations/{evaluation_id}/panel/firms/{assignment_id}/remove",
             summary="Withdraw a firm's assignment (撤回第三方委托)", response_model=PanelFirmOut,
             responses=error_responses(404, 409))
def remove_firm(evaluation_id: int, assignment_id: int, body: FirmRemovalIn,
                session: Session = Depends(get_session),
                principal: Principal = Depends(panel_organisers)):
    """The organiser withdraws a firm's assignment with the reason, as the panel page's form
    does; its evaluators no longer see the evaluation. An assignment that is not this
    evaluation's or already withdrawn is 404; a panel that can no longer change, 409; no reason,
    422. Audited as panel.firm_removed."""
    panel.remove_firm(session, principal, evaluation_id, assignment_id, body.reason)
    return _firm(session, evaluation_id, assignment_id)
