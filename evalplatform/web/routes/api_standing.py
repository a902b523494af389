"""The JSON API of suppliers' standing (承接主体选择): the same service and visibility as the
standing pages — finance, auditors and purchasers see every supplier, a supplier only its own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import paging, standing
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.settlements import everyone, standing_reader

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["standing"],
                   responses=error_responses(401, 403, 422))


class StandingOut(BaseModel):
    supplier_id: int
    supplier: str
    level: str = Field(description="barred, warned, preferred, normal or unrated")
    level_label: str
    reasons: list[str] = Field(description="Why, in words, as the standing pages show them")
    barred_until: str | None = Field(None, description="ISO date, while barred")


class StandingPage(BaseModel):
    items: list[StandingOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field("", description="Always empty: the list's own order, barred first")


def _out(found: standing.Standing) -> StandingOut:
    return StandingOut(supplier_id=found.supplier.id, supplier=found.supplier.name,
                       level=found.level, level_label=found.level_label,
                       reasons=[str(r) for r in found.reasons],
                       barred_until=found.bar.until.isoformat() if found.bar else None)


@router.get("/standing", summary="Suppliers' standing (承接主体信用)", response_model=StandingPage)
def list_standings(level: str = Query("", description="barred, warned, preferred, normal "
                                      "or unrated"),
                   page: ApiPage = 1, per_page: ApiPerPage = 20,
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(everyone)):
    """Every supplier's standing the caller may see (a supplier: only its own), barred first;
    an unknown level is refused (422) naming the parameter and its values."""
    problems = standing.filter_problems(level)
    if problems:
        raise ValidationFailed(problems)
    if principal.role == Role.supplier:
        found = [standing.standing_of(session, standing.get_supplier(
            session, principal.organisation_id or -1), reader=principal)]
    else:
        found = standing.all_standings(session, reader=principal)
    found = [s for s in found if not level or s.level == level]
    result = paging.paginate_items(found, page=page, per_page=per_page)
    problems = paging.list_problems(result, sort=None, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return StandingPage(items=[_out(s) for s in result.items], total=result.total,
                        page=result.page, pages=result.pages, per_page=result.per_page)


@router.get("/standing/{supplier_id}",
            summary="A supplier's standing and its reasons (信用详情)", response_model=StandingOut,
            responses=error_responses(404))
def get_standing(supplier_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(standing_reader)):
    """A supplier's standing (承接主体信用) from its recent final results — barred, warned,
    preferred, normal or unrated — with the reasons in words and, while barred, until when.
    A supplier reads its own standing only."""
    supplier = standing.get_supplier(session, supplier_id)
    return _out(standing.standing_of(session, supplier, reader=principal))
