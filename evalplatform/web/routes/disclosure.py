"""Public disclosure pages (信息公开): no sign-in needed, nothing personal shown."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.services import disclosure, projects
from evalplatform.web.access import public
from evalplatform.web.forms import FormRoute
from evalplatform.web.templating import render

router = APIRouter(route_class=FormRoute)


@router.get("/disclosure")
def index(request: Request, _access=Depends(public)):
    """What the platform publishes, for anyone: budgets, the catalogue, results."""
    return render(request, "disclosure/index.html", {})


@router.get("/disclosure/catalogue")
def catalogue(request: Request, session: Session = Depends(get_session),
              _access=Depends(public)):
    return render(request, "disclosure/catalogue.html",
                  {"disclosed": disclosure.catalogue(session)})


@router.get("/disclosure/budget")
def budget(request: Request, year: str = "", sort: str = "category", page: str = "1",
           session: Session = Depends(get_session), _access=Depends(public)):
    years = disclosure.years(session)
    chosen = int(year) if year.isascii() and year.isdigit() and 2000 <= int(year) <= 2100 \
        else (years[0] if years else projects.today().year)
    result = disclosure.budget(session, chosen, sort=sort, page_number=page)
    template = "disclosure/_budget_table.html" if request.headers.get("hx-request") \
        else "disclosure/budget.html"
    return render(request, template, {"budget": result, "page": result.page, "years": years,
                                      "year": chosen})
