"""The JSON API of the guiding catalogue (指导性目录), its issues and the negative list (负面清单).

The same services and the same readers as the catalogue's and the negative list's pages:
finance staff, purchasers and auditors read them (a purchaser needs them to register a project);
suppliers, evaluators and the administrator are refused (403). What the public reads without
signing in is the published catalogue's page (/disclosure/catalogue): entries in force, the
negative list without its match terms. Reading changes nothing and is not audited.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _, ngettext
from evalplatform.labels import NEGATIVE_KIND_LABELS
from evalplatform.models import NegativeKind
from evalplatform.services import catalogue, paging, projects
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.projects import readers

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["catalogue"],
                   responses=error_responses(401, 403, 422))


class CatalogueEntryOut(BaseModel):
    id: int
    code: str = Field(description="A capital letter for level 1 (A–F), two digits more for "
                                  "level 2 (A05), two more for level 3 (A0501)")
    name: str
    level: int = Field(description="1 (the six national categories), 2 (by sector) or 3 "
                                   "(local)")
    parent_id: int | None = Field(description="The entry one level up; none for level 1")
    parent_code: str | None = Field(description="Its code, e.g. A05 for A0501")
    description: str
    active: bool = Field(description="False: withdrawn; a new project may not name it")


class CataloguePage(BaseModel):
    items: list[CatalogueEntryOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field("", description="Always empty: the catalogue's own order, by code")


class CatalogueIssueOut(BaseModel):
    id: int
    year: int
    issued_on: date
    publish_by: date | None = Field(
        description="The last day to publish it: 10 working days after its issue (Chinese "
                    "holiday calendar, adjusted working weekends included); none where the "
                    "calendar of that year is not recorded (publish_by_problem says so)")
    publish_by_problem: str | None = Field(description="Why there is no publish_by")
    published_on: date | None
    late_days: int = Field(description="Calendar days past publish_by: to the publication, or "
                                       "to today while unpublished; 0 when on time")
    status: str = Field(description="late (published late, or still not published after "
                                    "publish_by), published, or unpublished (not yet due)")
    status_label: str = Field(description="The status as the catalogue page shows it")


class CatalogueIssueList(BaseModel):
    items: list[CatalogueIssueOut] = Field(description="Newest year first")


class NegativeEntryOut(BaseModel):
    id: int
    kind: NegativeKind
    kind_label: str
    name: str
    description: str
    terms: list[str] = Field(description="The match terms: a project whose name, content or "
                                         "category contains one is refused, naming the entry; "
                                         "parts joined by + must all appear (工程+打包)")
    active: bool = Field(description="False: the entry refuses nothing")


class NegativeList(BaseModel):
    items: list[NegativeEntryOut]


def level_problems(level: int | None) -> dict[str, str]:
    """``level`` is 1, 2 or 3 (or not given); else refused naming the parameter."""
    if level is None or level in (1, 2, 3):
        return {}
    return {"level": _("%(field)s must be one of: %(choices)s.", field="level",
                       choices="1, 2, 3")}


@router.get("/catalogue", summary="The guiding catalogue (指导性目录)", response_model=CataloguePage)
def list_catalogue(level: int | None = Query(None, description="1, 2 or 3: only that level"),
                   q: str = Query("", description="Words in the code or the name"),
                   page: ApiPage = 1, per_page: ApiPerPage = 20,
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(readers)):
    """The catalogue's entries by code, as the catalogue page lists them — withdrawn ones too,
    marked inactive — filtered by level and by words in the code or name, paged. Finance staff,
    purchasers and auditors may read it; any other role is refused (403). A level other than
    1, 2 or 3, or a page past the last, is refused (422) naming the parameter."""
    problems = level_problems(level)
    if problems:
        raise ValidationFailed(problems)
    entries = catalogue.list_entries(session)
    codes = {e.id: e.code for e in entries}
    words = q.strip().casefold()
    found = [e for e in entries if (level is None or e.level == level)
             and (not words or words in e.code.casefold() or words in e.name.casefold())]
    result = paging.paginate_items(found, page=page, per_page=per_page)
    problems = paging.list_problems(result, sort=None, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return CataloguePage(
        items=[CatalogueEntryOut(id=e.id, code=e.code, name=e.name, level=e.level,
                                 parent_id=e.parent_id, parent_code=codes.get(e.parent_id),
                                 description=e.description, active=e.active)
               for e in result.items],
        total=result.total, page=result.page, pages=result.pages, per_page=result.per_page)


def _issue_out(view: catalogue.IssueView) -> CatalogueIssueOut:
    issue = view.issue
    if view.late_days:
        status, label = "late", ngettext("%(num)s day late", "%(num)s days late", view.late_days)
    elif issue.published_on:
        status, label = "published", _("Published")
    else:
        status, label = "unpublished", _("Not yet published")
    return CatalogueIssueOut(id=issue.id, year=issue.year, issued_on=issue.issued_on,
                             publish_by=view.deadline, publish_by_problem=view.deadline_problem,
                             published_on=issue.published_on, late_days=view.late_days,
                             status=status, status_label=label)


@router.get("/catalogue/issues", summary="The catalogue's issues and their publication "
            "(目录印发与公开)", response_model=CatalogueIssueList)
def list_catalogue_issues(session: Session = Depends(get_session),
                          principal: Principal = Depends(readers)):
    """Each year's issue of the catalogue, newest first: when it was issued, the last day to
    publish it (10 working days later), when it was published and how many days late, as the
    catalogue page shows them. Finance staff, purchasers and auditors may read them; any other
    role is refused (403)."""
    return CatalogueIssueList(items=[_issue_out(v) for v in
                                     catalogue.list_issues(session, projects.today())])


@router.get("/negative-list", summary="The negative list (负面清单)", response_model=NegativeList)
def list_negative_entries(session: Session = Depends(get_session),
                          principal: Principal = Depends(readers)):
    """The negative list's entries — what may not be bought as a service — each with its kind
    and the match terms that refuse a project, as the negative list page shows them. Finance
    staff, purchasers and auditors may read it; any other role is refused (403)."""
    return NegativeList(items=[
        NegativeEntryOut(id=e.id, kind=e.kind, kind_label=str(NEGATIVE_KIND_LABELS[e.kind]),
                         name=e.name, description=e.description, terms=e.terms, active=e.active)
        for e in catalogue.list_negative(session)])
