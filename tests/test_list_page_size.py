"""Every list page honours ``per_page`` (1 to 200 rows, as ``paging.paginate`` clamps it) and
keeps it in its pager's links: the audit log, the settlements and the budget advice too."""

import re

import pytest
from sqlmodel import func, select

from evalplatform.models import AuditEntry
from evalplatform.services import audit, catalogue, projects, settlements
from evalplatform.services.audit import Actor
from tests.builders import contracted_world
from tests.conftest import login
from tests.settlement_builders import approved_on_signing, final_evaluation, instalment, principal

SHOWN = re.compile(r"第 (\d+)–(\d+) 条，共 (\d+) 条")


def shown(page: str) -> tuple[int, int, int]:
    """The pager's "first–last of total"."""
    return tuple(int(n) for n in SHOWN.search(page).groups())


def next_link(path: str, page: str) -> str:
    """The pager's next page (its links are query strings on the list's own path)."""
    query = re.search(r'href="([^"]*)"[^>]*rel="next"', page).group(1).replace("&amp;", "&")
    assert query.startswith("?")
    return path + query


def test_the_audit_log_pages_by_per_page_and_keeps_it(db, client, signed_in):
    for i in range(12):
        audit.record(db, Actor(7, "tester"), "thing.update", "thing", i, {})
    db.commit()
    signed_in("auditor")
    total = db.exec(select(func.count()).select_from(AuditEntry)).one()
    page = client.get("/audit", params={"per_page": "5", "entity_type": "thing"}).text
    assert shown(page) == (1, 5, 12)
    link = next_link("/audit", page)
    assert "per_page=5" in link and "entity_type=thing" in link
    assert shown(client.get(link).text) == (6, 10, 12)
    # a new filter keeps the page size: it travels with the filter form
    assert '<input type="hidden" name="per_page" value="5" form="audit-filters">' in page
    # the table alone (htmx) pages the same way
    table = client.get("/audit", params={"per_page": "3"}, headers={"hx-request": "true"}).text
    assert shown(table) == (1, 3, total)
    # clamped like every list: 1 to 200; a value that is no number reads as the default
    assert shown(client.get("/audit", params={"per_page": "0"}).text) == (1, 1, total)
    assert shown(client.get("/audit", params={"per_page": "x"}).text) == (1, min(50, total),
                                                                           total)


@pytest.fixture
def world(db, make_user, make_org):
    """Two settlements of one contract, and a second 2026 project of its department."""
    world = contracted_world(db, make_user, make_org)
    approved_on_signing(db, world)
    final_evaluation(db, world, "86.35", "良")
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    entry = next(e for e in catalogue.list_entries(db)
                 if e.level == 3 and e.id != world.project.catalogue_entry_id)
    projects.register(db, world.p_actor, department_id=world.department.id, values={
        "name": "公共厕所管理", "content": "公厕保洁", "recipients": "居民",
        "catalogue_entry_id": str(entry.id), "year": "2026", "budget": "300,000.00",
        "budget_line": "城市维护费", "procurement_method": "competitive_consultation"})
    return world


def test_the_settlements_page_by_per_page_and_keep_it(client, world):
    assert login(client, world.finance.username).status_code == 303
    assert shown(client.get("/settlements").text) == (1, 2, 2)
    page = client.get("/settlements", params={"per_page": "1"}).text
    assert shown(page) == (1, 1, 2)
    link = next_link("/settlements", page)
    assert "per_page=1" in link and shown(client.get(link).text) == (2, 2, 2)


def test_the_budget_advice_pages_by_per_page_and_keeps_it(client, world):
    assert login(client, world.finance.username).status_code == 303
    assert shown(client.get("/reports/budget", params={"year": "2026"}).text) == (1, 2, 2)
    page = client.get("/reports/budget", params={"year": "2026", "per_page": "1"}).text
    assert shown(page) == (1, 1, 2)
    link = next_link("/reports/budget", page)
    assert "per_page=1" in link and "year=2026" in link
    assert shown(client.get(link).text) == (2, 2, 2)

