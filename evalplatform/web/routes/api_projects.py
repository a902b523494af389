"""The JSON API of projects, contracts and the due-and-late list (购买服务项目 API).

The same services and the same access rules as the pages: finance and auditors see every
department's projects, a purchaser only its own (another department's project is "not
found"); suppliers and evaluators are refused. Amounts are given twice: integer fen, exact,
and a yuan string with two decimals ("1200000.00") — never a float; an amount sent in is a
yuan string too, and a JSON number is refused.

A purchaser registers its department's projects and records their contracts; finance approves
or returns a project of ¥1,000,000 or more — through the services the pages use, with the same
rules, refusals (each field named) and audit entries.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, select

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import (
    CatalogueEntry,
    DueCondition,
    Organisation,
    ProcurementMethod,
    ProjectStatus,
    Role,
)
from evalplatform.services import catalogue, contracts, paging, projects
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.money import fen_to_yuan_text
from evalplatform.web.access import Principal, require
from evalplatform.web.api_schema import Moment, RowId, WholeNumber, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.projects import (
    contract_purchaser,
    finance_only,
    owns_project,
    project_purchaser,
)

#: Tagged route by route: the contract's two operations are listed under "contracts".
router = APIRouter(route_class=FormRoute, prefix="/api",
                   responses=error_responses(401, 403, 422))

readers = require(Role.finance, Role.purchaser, Role.auditor)
project_reader = require(Role.finance, Role.purchaser, Role.auditor, owns=owns_project)


def _scope(principal: Principal) -> int | None:
    """None: every department (finance, auditor); else the purchaser's own department."""
    return None if principal.role in (Role.finance, Role.auditor) else principal.organisation_id


class ProjectSummary(BaseModel):
    id: int
    name: str
    department_id: int
    department_name: str
    catalogue_code: str
    catalogue_name: str
    year: int
    budget_fen: int = Field(description="Budget in fen (分), exact")
    budget_yuan: str = Field(description="Budget in yuan with two decimals, e.g. 1200000.00")
    procurement_method: ProcurementMethod
    status: ProjectStatus
    created_at: Moment


class ProjectPage(BaseModel):
    items: list[ProjectSummary]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str


class InstalmentOut(BaseModel):
    id: int = Field(description="The instalment's id: send it as instalment_id to propose its "
                                "settlement (POST /api/contracts/{id}/settlements)")
    seq: int
    amount_fen: int
    amount_yuan: str
    percent: str | None = Field(description="The share as typed, e.g. 30, when given as one")
    due_condition: DueCondition
    performance_linked: bool


class ContractOut(BaseModel):
    id: int
    supplier_id: int
    supplier_name: str
    amount_fen: int
    amount_yuan: str
    signed_on: date
    term_months: int
    stable_continuous: bool
    payment_days: int | None
    payment_rule: dict
    scheme_id: int | None
    published_on: date | None
    publication_due: date | None
    signed_copy_filed_on: date | None
    instalments: list[InstalmentOut]


class NegativeListExceptionOut(BaseModel):
    entry: str
    matched_term: str
    reason: str
    recorded_by: str
    recorded_at: Moment


class ProjectDetail(ProjectSummary):
    catalogue_path: list[str] = Field(description="Codes and names from level 1 down")
    content: str
    recipients: str
    budget_line: str
    performance_targets: dict[str, str]
    ex_ante_filed: bool
    return_reason: str | None
    decided_at: Moment | None
    negative_list_exceptions: list[NegativeListExceptionOut]
    contract: ContractOut | None


class DueItemOut(BaseModel):
    kind: str = Field(description="approval | ex_ante | copy | publication | monitoring | report "
                      "(the evaluation report of a ¥5,000,000 project to file) | evaluation "
                      "(its window closed and no result is computed yet)")
    label: str
    project_id: int
    project_name: str
    department_id: int
    department_name: str
    contract_id: int | None
    due: date | None
    late_days: int
    note: str
    url: str


class DueListOut(BaseModel):
    today: date
    late: int = Field(description="How many of all the items (not only this page's) are late")
    items: list[DueItemOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field("", description="The sort applied; empty for the list's own order")


def _summary(project, department: Organisation, entry: CatalogueEntry) -> dict:
    return {"id": project.id, "name": project.name, "department_id": department.id,
            "department_name": department.name, "catalogue_code": entry.code,
            "catalogue_name": entry.name, "year": project.year, "budget_fen": project.budget_fen,
            "budget_yuan": fen_to_yuan_text(project.budget_fen),
            "procurement_method": project.procurement_method, "status": project.status,
            "created_at": project.created_at}


@router.get("/projects", summary="List projects (项目列表)", tags=["projects"], response_model=ProjectPage)
def list_projects(
    year: str = Query("", description="Budget year, e.g. 2026"),
    department_id: str = Query("", description="Purchasing department (finance and auditors)"),
    category: str = Query("", description="Catalogue code or its prefix: A, A05, A0501"),
    method: str = Query("", description="Procurement method, e.g. public_tender"),
    status: str = Query("", description="Project status, e.g. awaiting_approval"),
    min_yuan: str = Query("", description="Budget at least this many yuan"),
    max_yuan: str = Query("", description="Budget at most this many yuan"),
    q: str = Query("", description="Words in the name or content"),
    sort: str = Query("-created_at", description="name, department, catalogue, year, budget, "
                      "method, status or created_at; a leading - sorts descending"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 20,
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    """Projects, filtered and sorted as on the project list, a page at a time: a purchaser
    sees its own department's, finance and auditors every department's. A filter that is not
    understood is refused (422) naming the parameter."""
    filters = projects.ProjectFilters(year=year, department_id=department_id, catalogue=category,
                                      method=method, status=status, min_yuan=min_yuan,
                                      max_yuan=max_yuan, q=q)
    problems = filters.problems()
    if problems:
        raise ValidationFailed({("category" if k == "catalogue" else k): v
                                for k, v in problems.items()})
    result = projects.page(session, organisation_id=_scope(principal), filters=filters,
                           sort=sort, page_number=page, per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return ProjectPage(items=[ProjectSummary(**_summary(p, d, e)) for p, d, e in result.items],
                       total=result.total, page=result.page, pages=result.pages,
                       per_page=result.per_page,
                       sort=("-" if result.descending else "") + result.sort)


def _contract_out(session: Session, contract) -> ContractOut:
    supplier = session.get(Organisation, contract.supplier_id)
    publication = contracts.publication_deadline(contract, projects.today())
    return ContractOut(
        id=contract.id, supplier_id=contract.supplier_id,
        supplier_name=supplier.name if supplier else "", amount_fen=contract.amount_fen,
        amount_yuan=fen_to_yuan_text(contract.amount_fen), signed_on=contract.signed_on,
        term_months=contract.term_months, stable_continuous=contract.stable_continuous,
        payment_days=contract.payment_days, payment_rule=contract.payment_rule or {},
        scheme_id=contract.scheme_id, published_on=contract.published_on,
        publication_due=publication.due, signed_copy_filed_on=contract.signed_copy_filed_on,
        instalments=[InstalmentOut(id=i.id, seq=i.seq, amount_fen=i.amount_fen,
                                   amount_yuan=fen_to_yuan_text(i.amount_fen), percent=i.percent,
                                   due_condition=i.due_condition,
                                   performance_linked=i.performance_linked)
                     for i in contracts.instalments_of(session, contract.id)])


@router.get("/projects/{project_id}",
            summary="A project with its contract (项目详情)", tags=["projects"], response_model=ProjectDetail,
            responses=error_responses(404))
def get_project(project_id: int, session: Session = Depends(get_session),
                principal: Principal = Depends(project_reader)):
    """One project as its page shows it — budget, catalogue entry, procurement method,
    status, approval — with its contract and instalments once recorded. A purchaser reads its
    own department's projects only (404 for another's)."""
    project = projects.get(session, project_id)
    department = session.get(Organisation, project.department_id)
    entry = catalogue.get_entry(session, project.catalogue_entry_id)
    contract = contracts.for_project(session, project.id)
    return ProjectDetail(
        **_summary(project, department, entry),
        catalogue_path=[f"{e.code} {e.name}" for e in catalogue.entry_path(session, entry)],
        content=project.content, recipients=project.recipients, budget_line=project.budget_line,
        performance_targets={key.removeprefix("target_"): getattr(project, key)
                             for key, _label in projects.TARGET_FIELDS},
        ex_ante_filed=bool(project.ex_ante_sha256), return_reason=project.return_reason,
        decided_at=project.decided_at,
        negative_list_exceptions=[
            NegativeListExceptionOut(entry=a.match.entry.name, matched_term=a.match.term,
                                     reason=a.override.reason, recorded_by=a.recorded_by,
                                     recorded_at=a.override.created_at)
            for a in projects.negative_list_exceptions(session, project)],
        contract=_contract_out(session, contract) if contract else None)


@router.get("/due", summary="What is due or late (到期与逾期)", tags=["projects"], response_model=DueListOut)
def list_due(sort: str = Query("", description="project, department, due or late, as on the page; a "
                               "leading - sorts descending; empty keeps the list's own order"),
             page: ApiPage = 1, per_page: ApiPerPage = 20,
             session: Session = Depends(get_session), principal: Principal = Depends(readers)):
    """What is due or late in the caller's projects (finance approval, the ex-ante assessment,
    the contract copy, publication…), paged as every list; ``late`` counts the late ones of the
    whole list. An unknown sort, or a page past the last, is refused (422)."""
    problems = paging.sort_problems(sort, contracts.DUE_SORTS)
    if problems:
        raise ValidationFailed(problems)
    today = projects.today()
    result = contracts.due_and_late(session, organisation_id=_scope(principal), today=today)
    found = paging.paginate_items(result.items, page=page, per_page=per_page, sort=sort,
                                  sort_keys=contracts.DUE_SORTS)
    problems = paging.list_problems(found, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return DueListOut(
        today=today, late=len(result.late), total=found.total, page=found.page,
        pages=found.pages, per_page=found.per_page,
        sort=("-" if found.descending else "") + found.sort, items=[
            DueItemOut(kind=i.kind, label=str(i.label), project_id=i.project.id,
                       project_name=i.project.name, department_id=i.department.id,
                       department_name=i.department.name,
                       contract_id=i.contract.id if i.contract else None, due=i.due,
                       late_days=i.late_days, note=str(i.note), url=i.url)
            for i in found.items])


# ---------------------------------------------------------------- writes


#: The service's names of a project's fields → the names a program sends.
PROJECT_FIELDS = {"budget": "budget_yuan", "catalogue_entry_id": "catalogue_code",
                  **{key: f"performance_targets.{key.removeprefix('target_')}"
                     for key, _label in projects.TARGET_FIELDS}}
TARGET_KEYS = [key.removeprefix("target_") for key, _label in projects.TARGET_FIELDS]


def _named(exc: ValidationFailed, names: dict[str, str]) -> ValidationFailed:
    """The service's refusal with each field under the name the program sent it by."""
    return ValidationFailed({names.get(key, key): message for key, message in exc.errors.items()})


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    name: str = Field(description="The project's name, at most 200 characters")
    catalogue_code: str = Field(description="A level-2 or level-3 entry of the guiding "
                                            "catalogue (指导性目录), e.g. A0701")
    content: str = Field(description="The service content")
    recipients: str = Field(description="Who receives the service")
    year: WholeNumber = Field(description="Budget year, e.g. 2026")
    budget_line: str = Field(description="The budget line that funds it (无预算不购买)")
    budget_yuan: str = Field(description="The budget in yuan as a decimal string, e.g. "
                                         "\"1200000.00\"; a JSON number is refused")
    procurement_method: str = Field(description="One of " + ", ".join(
        m.value for m in ProcurementMethod))
    performance_targets: dict[str, str] = Field(
        default_factory=dict, description="绩效目标 by kind: " + ", ".join(TARGET_KEYS))

    def values(self, session: Session) -> dict:
        """The project as the registration form gives it to ``projects.register``."""
        entry = session.exec(select(CatalogueEntry)
                             .where(CatalogueEntry.code == self.catalogue_code.strip())).first()
        unknown = sorted(set(self.performance_targets) - set(TARGET_KEYS))
        if unknown:
            raise ValidationFailed({f"performance_targets.{unknown[0]}": _(
                "Not a kind of performance target; the kinds are %(kinds)s.",
                kinds=", ".join(TARGET_KEYS))})
        return {"name": self.name, "catalogue_entry_id": str(entry.id) if entry else "",
                "content": self.content, "recipients": self.recipients, "year": str(self.year),
                "budget_line": self.budget_line, "budget": self.budget_yuan,
                "procurement_method": self.procurement_method,
                **{f"target_{k}": v for k, v in self.performance_targets.items()}}


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(description="Why finance returns the project to the department")


@router.post("/projects", summary="Register a project (登记项目)", tags=["projects"],
             response_model=ProjectDetail, status_code=201,
             responses=error_responses(409))
def register_project(body: ProjectIn, response: Response, session: Session = Depends(get_session),
                     principal: Principal = Depends(require(Role.purchaser))):
    """Register a project of the purchaser's own department (登记项目), as the page's form does:
    no budget line, no project; a project matching the negative list is refused naming the
    entry; ¥1,000,000 or more awaits finance's approval (status awaiting_approval), less is
    ready. Answers 201 with the project and its address in Location. Audited as
    project.register."""
    try:
        project = projects.register(session, principal.actor,
                                    department_id=principal.organisation_id,
                                    values=body.values(session))
    except ValidationFailed as exc:
        raise _named(exc, PROJECT_FIELDS) from None
    response.headers["location"] = f"/api/projects/{project.id}"
    return get_project(project.id, session, principal)


@router.post("/projects/{project_id}/approve",
             summary="Approve a project (审批项目)", tags=["projects"], response_model=ProjectDetail,
             responses=error_responses(404, 409))
def approve_project(project_id: int, session: Session = Depends(get_session),
                    principal: Principal = Depends(finance_only)):
    """Finance approves a project awaiting approval (¥1,000,000 or more): procurement may
    start. Another state is refused (409). Audited as project.approve."""
    projects.approve(session, principal.actor, project_id)
    return get_project(project_id, session, principal)


@router.post("/projects/{project_id}/return",
             summary="Return a project for changes (退回项目)", tags=["projects"],
             response_model=ProjectDetail,
             responses=error_responses(404, 409))
def return_project(project_id: int, body: ReturnIn, session: Session = Depends(get_session),
                   principal: Principal = Depends(finance_only)):
    """Finance returns a project awaiting approval to its department with the reason (退回);
    the department corrects it and resubmits. A reason is required (422). Audited as
    project.return."""
    projects.return_to_department(session, principal.actor, project_id, body.reason)
    return get_project(project_id, session, principal)


@router.post("/projects/{project_id}/resubmit",
             summary="Resubmit a returned project (重新提交项目)", tags=["projects"],
             response_model=ProjectDetail,
             responses=error_responses(404, 409))
def resubmit_project(project_id: int, session: Session = Depends(get_session),
                     principal: Principal = Depends(project_purchaser)):
    """The purchaser resubmits a returned project for approval. Audited as project.resubmit."""
    projects.resubmit(session, principal.actor, project_id)
    return get_project(project_id, session, principal)


class InstalmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    share: str = Field(description="A percentage of the amount (\"30%\") or a yuan amount "
                                   "(\"360000.00\"); the instalments add up to the amount "
                                   "exactly")
    due_condition: DueCondition
    performance_linked: bool = Field(False, description="Paid at the ratio its evaluation "
                                                        "earns under the payment rule")


#: The service's names of a contract's fields → the names a program sends.
CONTRACT_FIELDS = {"amount": "amount_yuan"}


class ContractIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    supplier_id: RowId = Field(description="A registered, eligible supplier")
    amount_yuan: str = Field(description="The contract amount in yuan as a decimal string, at "
                                         "most the project's budget; a JSON number is refused")
    signed_on: str = Field(description="The signing date, YYYY-MM-DD, not in the future")
    term_months: WholeNumber = Field(description="At most 12, or 36 for a stable, continuous "
                                                 "service")
    stable_continuous: bool = False
    content: str
    quantity: str = ""
    quality: str = ""
    price_terms: str = ""
    settlement_method: str = ""
    performance_targets: str = Field(description="绩效目标 and assessment standard (考核标准)")
    breach_terms: str = ""
    payment_days: WholeNumber | None = Field(None, description="For a small or medium "
                                                               "supplier: days from acceptance "
                                                               "to payment, 30 by default, at "
                                                               "most 60")
    payment_rule: str = Field("bands", description="bands (the default table, or the one in "
                                                   "bands) or linear")
    bands: str = Field("", description="For the band rule, the contract's own table: lower "
                                       "bound: share, highest first, the lowest starting at 0, "
                                       "e.g. \"优 90: 100%, 良 80: 95%, 70: 90%, 60: 80%, 0: 0%\"; "
                                       "empty: the default table (优 ≥90 100 %, 良 ≥80 95 %, "
                                       "中 ≥60 80 %, 差 0 %)", max_length=500)
    floor_score: str = Field("", description="For the linear rule: the score below which "
                                             "nothing is paid, 0 to 100")
    instalments: list[InstalmentIn] = Field(description="The payment schedule, in order (e.g. "
                                                        "30 % on signing, 30 % after the "
                                                        "interim evaluation, 40 % after the "
                                                        "final one)")

    def values(self) -> dict:
        data = self.model_dump(exclude={"instalments", "amount_yuan", "stable_continuous",
                                        "payment_days", "supplier_id", "term_months"})
        return {**data, "amount": self.amount_yuan, "supplier_id": str(self.supplier_id),
                "term_months": str(self.term_months),
                "payment_days": "" if self.payment_days is None else str(self.payment_days),
                **({"stable_continuous": "1"} if self.stable_continuous else {})}


@router.post("/projects/{project_id}/contract",
             summary="Record the contract of a project (登记合同)", tags=["contracts"],
             response_model=ContractOut, status_code=201,
             responses=error_responses(404, 409))
def record_contract(project_id: int, body: ContractIn, response: Response,
                    session: Session = Depends(get_session),
                    principal: Principal = Depends(project_purchaser)):
    """Record the contract of the department's approved (or ready) project with its payment
    schedule, as the page's form does: the amount within the budget, the term, a barred
    supplier refused, the instalments adding up to the amount to the fen. One contract per
    project (409 if one was recorded meanwhile). Answers 201 with the contract and its address
    in Location. Audited as contract.record."""
    rows = [contracts.InstalmentInput(i.share, i.due_condition.value, i.performance_linked)
            for i in body.instalments]
    try:
        contract = contracts.record_contract(session, principal.actor, project_id,
                                             body.values(), rows)
    except ValidationFailed as exc:
        raise _named(exc, CONTRACT_FIELDS) from None
    response.headers["location"] = f"/api/contracts/{contract.id}"
    return _contract_out(session, contract)


class PublicationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    published_on: str = Field(description="The day the contract was published, YYYY-MM-DD: "
                                          "within 2 working days of signing")


@router.post("/contracts/{contract_id}/published",
             summary="Record a contract's publication (合同公开)", tags=["contracts"],
             response_model=ContractOut,
             responses=error_responses(404))
def record_contract_publication(contract_id: int, body: PublicationIn,
                                session: Session = Depends(get_session),
                                principal: Principal = Depends(contract_purchaser)):
    """Record the day the contract was published (合同公开), as the contract page does: not
    before its signing, not in the future. Sent again with another day, it corrects the day
    recorded; the audit entry (contract.publish) keeps the day it replaced as ``previous``."""
    contract = contracts.record_publication(session, principal.actor, contract_id,
                                            body.published_on)
    return _contract_out(session, contract)
