"""Public disclosure (信息公开): each year's budget for purchased services (预算公开) and the
guiding catalogue with the negative list (指导性目录、负面清单).

DESIGN.md: each year's budget for purchased services is published with the project name,
category, content, recipients, procurement method and amount — and nothing else: no
department staff, no budget line, no supplier, no people. A project is disclosed once it
is settled for purchase: approved by finance, contracted, or registered below the approval
threshold (where no approval is needed). Projects awaiting approval or returned are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from evalplatform.models import (
    CatalogueEntry,
    CatalogueIssue,
    NegativeListEntry,
    ProcurementMethod,
    Project,
)
from evalplatform.services.paging import Page, paginate
from evalplatform.services.projects import CLEARED_FOR_PURCHASE

#: The same projects the half-year report counts under 本年度项目.
DISCLOSED_STATUSES = CLEARED_FOR_PURCHASE


@dataclass(frozen=True)
class BudgetLine:
    """One disclosed project: exactly the published fields."""

    name: str
    category: str  # the catalogue path, e.g. 基本公共服务 › 养老 › 居家养老上门服务
    category_code: str
    content: str
    recipients: str
    method: ProcurementMethod
    amount_fen: int


@dataclass(frozen=True)
class BudgetYear:
    year: int
    count: int
    total_fen: int
    page: Page  # items are BudgetLine


def _disclosed(statement):
    return statement.where(col(Project.status).in_(list(DISCLOSED_STATUSES)))


def years(session: Session) -> list[int]:
    """The years with at least one disclosed project, newest first."""
    rows = session.exec(_disclosed(select(Project.year).distinct()))
    return sorted(set(rows), reverse=True)


def budget(session: Session, year: int, *, sort: str | None = None, page_number=1,
           per_page=50) -> BudgetYear:
    """One year's disclosed purchased-service budget, paged."""
    statement = _disclosed(select(Project, CatalogueEntry)
                           .join(CatalogueEntry, Project.catalogue_entry_id == CatalogueEntry.id)
                           .where(Project.year == year))
    result = paginate(session, statement,
                      sort_columns={"category": CatalogueEntry.code, "name": Project.name,
                                    "amount": Project.budget_fen},
                      sort=sort, default_sort="category", page=page_number, per_page=per_page)
    entries = {e.id: e for e in session.exec(select(CatalogueEntry))}

    def path(entry: CatalogueEntry) -> str:
        names = [entry.name]
        while entry.parent_id is not None and entry.parent_id in entries:
            entry = entries[entry.parent_id]
            names.insert(0, entry.name)
        return " › ".join(names)

    result.items = [BudgetLine(p.name, path(e), e.code, p.content, p.recipients,
                               p.procurement_method, p.budget_fen) for p, e in result.items]
    count, total = session.exec(_disclosed(
        select(func.count(), func.coalesce(func.sum(Project.budget_fen), 0))
        .where(Project.year == year))).one()
    return BudgetYear(year, count, int(total), result)


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class CatalogueDisclosure:
    """The catalogue as the public reads it once an issue of it has been published: the
    latest published issue, the entries in force (active, under active parents), and the
    negative list's entries in force — their names and descriptions, not the terms the
    platform matches projects with (a working tool of finance, not part of the list)."""

    issue: CatalogueIssue | None  # the latest issue recorded as published; None: none yet
    entries: list[CatalogueEntry]
    negative: list[NegativeListEntry]


def catalogue(session: Session) -> CatalogueDisclosure:
    issue = session.exec(select(CatalogueIssue).where(col(CatalogueIssue.published_on).is_not(None))
                         .order_by(col(CatalogueIssue.year).desc())).first()
    if issue is None:
        return CatalogueDisclosure(None, [], [])
    every = list(session.exec(select(CatalogueEntry).order_by(CatalogueEntry.code)))
    by_id = {e.id: e for e in every}

    def in_force(entry: CatalogueEntry) -> bool:
        while entry is not None:
            if not entry.active:
                return False
            entry = by_id.get(entry.parent_id) if entry.parent_id is not None else None
        return True

    negative = list(session.exec(select(NegativeListEntry).where(
        NegativeListEntry.active == True).order_by(NegativeListEntry.id)))  # noqa: E712
    return CatalogueDisclosure(issue, [e for e in every if in_force(e)], negative)
