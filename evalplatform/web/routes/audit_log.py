"""The audit log, for auditors (and finance and the administrator): read-only."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.models import Role
from evalplatform.services import audit
from evalplatform.web.access import Principal, require
from evalplatform.web.templating import render

router = APIRouter()
readers = require(Role.auditor, Role.finance, Role.admin)


@router.get("/audit")
def audit_log(
    request: Request,
    sort: str = "-seq",
    page: int = 1,
    action: str = "",
    entity_type: str = "",
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    result = audit.page_entries(session, sort=sort, page=page, action=action,
                                entity_type=entity_type)
    if request.headers.get("hx-request"):
        return render(request, "_audit_table.html", {"page": result})
    return render(request, "audit.html", {"page": result, "action": action,
                                          "entity_type": entity_type,
                                          "activity": audit.activity_by_day(session)})


@router.get("/audit/verify")
def audit_verify(
    request: Request,
    session: Session = Depends(get_session),
    principal: Principal = Depends(readers),
):
    return render(request, "_audit_verify.html", {"verification": audit.verify(session)})
