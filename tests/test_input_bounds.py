"""Input bounds across the lists and forms: a search box takes ``%`` and ``_`` as the
characters typed (not as LIKE wildcards that match every row), and a text one character past
its column's length is refused naming the field, on SQLite as on PostgreSQL (where it was a
server error)."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from evalplatform.models import Expert, IndicatorScheme, Organisation, Project, User
from evalplatform.services import (
    accounts,
    contracts,
    evaluations,
    experts,
    paging,
    projects,
    results,
    schemes,
)
from evalplatform.services.projects import ProjectFilters
from tests.conftest import login
from tests.project_world import project_world
from tests.results_feed import (  # noqa: F401  (feed_fixture, world_fixture: fixtures)
    feed_fixture,
    principal,
    published,
    world_fixture,
)

# ---------------------------------------------------------------- the pattern


@pytest.mark.parametrize("typed, pattern", [
    ("清扫", "%清扫%"),
    (" 100% ", "%100\\%%"),
    ("a_b", "%a\\_b%"),
    ("C:\\temp", "%C:\\\\temp%"),
    ("\\%_", "%\\\\\\%\\_%"),
])
def test_a_search_pattern_escapes_the_wildcards_and_the_escape_character(typed, pattern):
    assert paging.contains(typed) == pattern


# ---------------------------------------------------------------- every list's search box


def _plant_project_name(db, world, marker: str) -> None:
    project = db.get(Project, world.project.id)
    project.name = f"主城区道路清扫{marker}保洁项目"
    db.add(project)
    db.commit()


def _plant_display_name(db, world, marker: str) -> None:
    user = db.get(User, world.purchaser.id)
    user.display_name = f"采购{marker}专员"
    db.add(user)
    db.commit()


def _plant_organisation_name(db, world, marker: str) -> None:
    organisation = db.get(Organisation, world.department.id)
    organisation.name = f"临江市城市{marker}管理局"
    db.add(organisation)
    db.commit()


def _plant_expert_name(db, world, marker: str) -> None:
    expert = db.exec(select(Expert).order_by(Expert.id)).first()
    expert.name = f"林{marker}国华"
    db.add(expert)
    db.commit()


def _plant_scheme_name(db, world, marker: str) -> None:
    scheme = db.get(IndicatorScheme, world.scheme.id)
    scheme.name = f"道路清扫{marker}评价指标"
    db.add(scheme)
    db.commit()


#: list → (the rows a search finds: [(id, [the texts it searches])], how a marker is planted)
LISTS = {
    "projects": (lambda db, world, q: [
        (p.id, [p.name, p.content]) for p, _d, _c in projects.page(
            db, organisation_id=None, filters=ProjectFilters(q=q), per_page=200).items],
        _plant_project_name),
    "contracts": (lambda db, world, q: [
        (r.contract.id, [r.project.name, r.supplier.name])
        for r in contracts.page(db, q=q, per_page=200).items], _plant_project_name),
    "evaluations": (lambda db, world, q: [
        (r.evaluation.id, [r.evaluation.title, r.project.name])
        for r in evaluations.page(db, q=q, per_page=200).items], _plant_project_name),
    "results": (lambda db, world, q: [
        (r.result.id, [r.project.name, r.supplier.name, r.department.name])
        for r in results.public_page(db, q=q, per_page=200).items], _plant_project_name),
    "users": (lambda db, world, q: [
        (u.id, [u.username, u.display_name])
        for u, _o in accounts.page_users(db, q=q, per_page=200).items], _plant_display_name),
    "organisations": (lambda db, world, q: [
        (o.id, [o.name, o.credit_code])
        for o in accounts.page_organisations(db, q=q, per_page=200).items],
        _plant_organisation_name),
    "experts": (lambda db, world, q: [
        (e.id, [e.name, e.employer, e.title]) for e in experts.page(db, q=q).items],
        _plant_expert_name),
    "schemes": (lambda db, world, q: [
        (s.id, [s.name, s.service_area])
        for s in schemes.page_schemes(db, principal(world.finance), q=q).items],
        _plant_scheme_name),
}


@pytest.mark.parametrize("listed", list(LISTS))
def test_a_search_for_a_wildcard_finds_only_what_contains_it(db, world, feed, listed):
    """``q=%`` and ``q=_`` listed every row; each now finds only the rows whose searched
    texts contain that very character (a row with ``%`` in it, then one with ``_``)."""
    published(db, world, feed)
    for n, name in enumerate(["林国华", "王一鸣"]):
        experts.save(db, world.f_actor, {"name": name, "employer": "临江大学", "title": "教授",
                                         "phone": f"1380000000{n}", "specialities": ["D02"]})
    rows, plant = LISTS[listed]
    for marker in ("%", "_"):
        plant(db, world, marker)
        every = dict(rows(db, world, ""))
        assert len(every) >= 1
        for q in ("%", "_", "\\", "清扫%保洁", "城市_管理"):
            expected = {i for i, texts in every.items()
                        if any(q.lower() in (text or "").lower() for text in texts)}
            found = {i for i, _texts in rows(db, world, q)}
            assert found == expected, (listed, marker, q)
        other = "_" if marker == "%" else "%"
        assert {i for i, _texts in rows(db, world, marker)} != set()  # the planted row
        assert {i for i, _texts in rows(db, world, other)} != set(every)  # not every row


# ---------------------------------------------------------------- the JSON API


NEW = {"name": "社区心理健康服务", "catalogue_code": "A0501", "content": "为社区居民提供心理咨询",
       "recipients": "全市 60 岁以上居民", "year": 2026, "budget_yuan": "1500000.00",
       "procurement_method": "public_tender"}


def test_the_api_refuses_a_budget_line_past_its_column_and_registers_nothing(client, db,
                                                                            make_user, make_org):
    """``POST /api/projects`` with a 300-character budget line answered 201 on SQLite and 500
    on PostgreSQL (varchar(200)); it is refused under the field's API name."""
    world = project_world(db, make_user, make_org)
    client.cookies.clear()
    assert login(client, world.civil_purchaser.username).status_code == 303
    headers = {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}
    before = db.exec(select(func.count()).select_from(Project)).one()
    for length in (201, 300):
        refused = client.post("/api/projects", headers=headers,
                              json={**NEW, "budget_line": "预" * length})
        assert refused.status_code == 422, refused.text
        assert set(refused.json()["errors"]) == {"budget_line"}
        assert "200" in refused.json()["errors"]["budget_line"]
    assert db.exec(select(func.count()).select_from(Project)).one() == before
    created = client.post("/api/projects", headers=headers,
                          json={**NEW, "budget_line": "预" * 200})
    assert created.status_code == 201, created.text
    assert created.json()["budget_line"] == "预" * 200


@pytest.mark.parametrize("field, value", [("opens_at", "0001-01-01"), ("closes_at", "9999-12-31"),
                                          ("period_start", "0001-01-01"),
                                          ("opens_at", "0001-01-01T00:00")])
def test_a_date_outside_the_platforms_years_is_refused_naming_the_field(db, make_user, make_org,
                                                                         field, value):
    from evalplatform.services import evaluations
    from evalplatform.services.errors import ValidationFailed
    from tests.builders import contracted_world

    world = contracted_world(db, make_user, make_org)
    values = {"title": "2026 年度终期绩效评价", "stage": "final", "period_start": "2026-01-05",
              "period_end": "2026-12-31", "opens_at": "2026-06-01", "closes_at": "2026-12-31",
              field: value}
    with pytest.raises(ValidationFailed) as caught:
        evaluations.create(db, world.p_actor, world.contract.id, values)
    assert field in caught.value.errors and "2100" in caught.value.errors[field]


def test_a_catalogue_issued_in_the_year_9999_is_refused(db, make_user):
    from evalplatform.services import catalogue
    from evalplatform.services.audit import Actor
    from evalplatform.services.errors import ValidationFailed

    finance = make_user("finance")
    with pytest.raises(ValidationFailed) as caught:
        catalogue.record_issue(db, Actor(finance.id, finance.username), year="2026",
                               issued_on="9999-12-31")
    assert "2100" in caught.value.errors["issued_on"]
