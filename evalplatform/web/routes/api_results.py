"""The JSON API of one evaluation result by its id: the public page's published figures
(公示) for anyone, and for a reader of the evaluation's result page (its roles and ownership)
also the stored result and scoring package, as that page's downloads give them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.services import evaluations, results
from evalplatform.web.access import public
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.routes.results import PublicPartOut, result_reader

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["results"],
                   responses=error_responses(404, 422))


class ResultDetailOut(BaseModel):
    id: int
    evaluation_id: int
    evaluation: str
    stage: str
    period_start: date
    period_end: date
    project: str
    department: str
    supplier: str
    version: int
    total: str = Field(description="Two decimals, e.g. 86.35")
    grade: str
    published_on: date | None = Field(description="None for a version not published (only "
                                                  "its readers see it)")
    appeal_deadline: date | None
    final_on: date | None
    state: str = Field(description="Where the result stands: " + ", ".join(results.STATE_LABELS))
    parts: list[PublicPartOut]
    later_publication: int | None = Field(description="The id of a later publication that "
                                                      "replaces this one")
    result: dict[str, Any] | None = Field(None, description="The engine's stored result "
                                          "(nodes, trace, warnings); only for a reader of the "
                                          "evaluation's result page")
    package: dict[str, Any] | None = Field(None, description="The exact scoring package; only "
                                           "for a reader of the evaluation's result page")


@router.get("/results/{result_id}", summary="A published result (公示结果详情)",
            response_model=ResultDetailOut)
def get_public_result(result_id: int, session: Session = Depends(get_session),
                      principal=Depends(public)):
    """A published result as the public page shows it, no personal data; an unpublished one
    is 404 to the public. A signed-in reader of the evaluation's result page also gets the
    stored result and package, and any version that page shows them."""
    evaluation_id = results.evaluation_id_of(session, result_id)
    full = evaluation_id is not None and principal is not None and result_reader.admits(
        principal, session, {"evaluation_id": evaluation_id})
    if evaluation_id is not None:
        results.finalise_quietly(session, [evaluation_id])
    row = (results.readable_detail(session, principal, result_id) if full
           else results.public_detail(session, result_id))
    r = row.result
    later = results.later_publication(session, r)
    return {
        "id": r.id, "evaluation_id": row.evaluation.id, "evaluation": row.evaluation.title,
        "stage": row.evaluation.stage.value, "period_start": row.evaluation.period_start,
        "period_end": row.evaluation.period_end, "project": row.project.name,
        "department": row.department.name, "supplier": row.supplier.name,
        "version": r.version, "total": r.total, "grade": r.grade,
        "published_on": evaluations.local_date(r.published_at) if r.published_at else None,
        "appeal_deadline": r.appeal_deadline,
        "final_on": evaluations.local_date(r.final_at) if r.final_at else None,
        "state": row.state, "parts": results.public_parts(r),
        "later_publication": later.id if later else None,
        "result": r.result if full else None, "package": r.package if full else None}
