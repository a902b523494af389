"""The JSON API of contracts (购买服务合同): what a procurement system reads.

The same services and access rules as the contract pages: finance and auditors see every
contract, a purchaser its own department's, a supplier (承接主体) the contracts it signed —
another department's or another supplier's contract is "not found", 404; evaluators and
administrators are refused (403), as the pages refuse them. A supplier reads the same fields
as the others: nothing in a contract is kept from the organisation that signed it. Amounts
are given twice: integer fen, exact, and a yuan string with two decimals — never a float.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import (
    EvaluationStage,
    EvaluationStatus,
    IndicatorScheme,
    Organisation,
)
from evalplatform.services import contracts, evaluations, paging, projects, settlements
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.money import fen_to_yuan_text
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.api_projects import ContractOut, _contract_out
from evalplatform.web.routes.projects import contract_reader, contract_readers

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["contracts"],
                   responses=error_responses(401, 403, 422))


class ContractSummary(BaseModel):
    id: int
    project_id: int
    project_name: str
    year: int = Field(description="The project's budget year")
    department_id: int
    department_name: str
    supplier_id: int
    supplier_name: str
    amount_fen: int = Field(description="Contract amount in fen (分), exact")
    amount_yuan: str = Field(description="Contract amount in yuan, e.g. 780000.00")
    signed_on: date
    term_months: int
    published_on: date | None


class ContractPage(BaseModel):
    items: list[ContractSummary]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str


class ContractTermsOut(BaseModel):
    content: str = Field(description="Service content")
    quantity: str
    quality: str
    price_terms: str
    settlement_method: str
    performance_targets: str = Field(description="Performance targets and assessment standard")
    breach_terms: str = Field(description="Breach liability")
    interest_per_day: str = Field(description="Late-payment interest, percent a day, e.g. 0.05")
    termination_threshold: str = Field(description="Points below which a termination review "
                                                   "is due")
    settlement_terms_recorded: bool = Field(description="False: the two figures above are the "
                                                        "defaults")
    payment_period_days: int | None = Field(description="Days to pay a small or medium "
                                                        "supplier; null: the contract's own "
                                                        "terms apply")


class DeadlineOut(BaseModel):
    due: date | None
    done_on: date | None
    late_days: int


class EvaluationBrief(BaseModel):
    id: int
    title: str
    stage: EvaluationStage
    status: EvaluationStatus
    period_start: date
    period_end: date


class ContractDetail(ContractOut):
    project_id: int
    project_name: str
    year: int
    department_id: int
    department_name: str
    payment_rule_text: str = Field(description="The payment rule in words, in the reader's "
                                               "language")
    terms: ContractTermsOut
    scheme_name: str | None
    publication: DeadlineOut = Field(description="Publication, due 2 working days after "
                                                 "signing")
    signed_copy_filing: DeadlineOut | None = Field(description="Filing of the signed copy, for "
                                                               "projects of ¥5,000,000 or more")
    evaluations: list[EvaluationBrief]


def _summary(row: contracts.ContractRow) -> ContractSummary:
    c = row.contract
    return ContractSummary(
        id=c.id, project_id=row.project.id, project_name=row.project.name,
        year=row.project.year, department_id=row.department.id,
        department_name=row.department.name, supplier_id=row.supplier.id,
        supplier_name=row.supplier.name, amount_fen=c.amount_fen,
        amount_yuan=fen_to_yuan_text(c.amount_fen), signed_on=c.signed_on,
        term_months=c.term_months, published_on=c.published_on)


def _deadline(deadline: contracts.Deadline | None) -> DeadlineOut | None:
    if deadline is None:
        return None
    return DeadlineOut(due=deadline.due, done_on=deadline.done_on, late_days=deadline.late_days)


@router.get("/contracts", summary="List contracts (合同列表)", response_model=ContractPage)
def list_contracts(
    department_id: int | None = Query(None, description="Purchasing department (finance and "
                                      "auditors; a purchaser sees its own only)"),
    supplier_id: int | None = Query(None, description="Supplier organisation (a supplier sees "
                                    "its own only)"),
    year: int | None = Query(None, description="The project's budget year, e.g. 2026"),
    published: bool | None = Query(None, description="true: published contracts only; false: "
                                   "those not published yet"),
    q: str = Query("", description="Words in the project's or the supplier's name"),
    sort: str | None = Query(None, description="signed_on, amount, project, department, "
                             "supplier, term or published_on; a leading - sorts descending; "
                             "newest signing first when omitted"),
    page: ApiPage = 1,
    per_page: ApiPerPage = 20,
    session: Session = Depends(get_session),
    principal: Principal = Depends(contract_readers),
):
    """The contracts the caller may see, paged: finance and auditors all, a purchaser its
    department's, a supplier its own; the filters narrow that, never widen it."""
    result = contracts.page(session, **contracts.list_scope(principal),
                            department_id=department_id, supplier_id=supplier_id, year=year,
                            published=published, q=q, sort=sort, page_number=page,
                            per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return ContractPage(items=[_summary(r) for r in result.items], total=result.total,
                        page=result.page, pages=result.pages, per_page=result.per_page,
                        sort=("-" if result.descending else "") + result.sort)


@router.get("/contracts/{contract_id}",
            summary="A contract with its instalments and deadlines (合同详情)", response_model=ContractDetail,
            responses=error_responses(404))
def get_contract(contract_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(contract_reader)):
    """One contract as its page shows it: terms, payment rule, instalments, supplier, project,
    assessment standard, publication and filing deadlines, evaluations. A supplier reads the
    contracts it signed; another supplier's, like another department's, is not found (404)."""
    contract = contracts.get(session, contract_id)
    project = projects.get(session, contract.project_id)
    department = session.get(Organisation, project.department_id)
    scheme = session.get(IndicatorScheme, contract.scheme_id) if contract.scheme_id else None
    terms = settlements.terms_of(session, contract.id)
    today = projects.today()
    return ContractDetail(
        **_contract_out(session, contract).model_dump(),
        project_id=project.id, project_name=project.name, year=project.year,
        department_id=department.id, department_name=department.name,
        payment_rule_text=settlements.rule_text(settlements.scoring_rule(contract),
                                                settlements.grades_of(session,
                                                                      contract.scheme_id)),
        terms=ContractTermsOut(
            content=contract.content, quantity=contract.quantity, quality=contract.quality,
            price_terms=contract.price_terms, settlement_method=contract.settlement_method,
            performance_targets=contract.performance_targets,
            breach_terms=contract.breach_terms,
            interest_per_day=f"{terms.interest_per_day.normalize():f}",
            termination_threshold=f"{terms.termination_threshold.normalize():f}",
            settlement_terms_recorded=terms.recorded,
            payment_period_days=settlements.payment_period(session, contract)),
        scheme_name=scheme.name if scheme else None,
        publication=_deadline(contracts.publication_deadline(contract, today)),
        signed_copy_filing=_deadline(contracts.copy_filing_deadline(contract, project, today)),
        evaluations=[EvaluationBrief(id=e.id, title=e.title, stage=e.stage, status=e.status,
                                     period_start=e.period_start, period_end=e.period_end)
                     for e in evaluations.for_contract(session, contract.id)])
