"""Public disclosure of each year's budget for purchased services (政府购买服务预算公开).

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

from evalplatform.models import CatalogueEntry, ProcurementMethod, Project
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
