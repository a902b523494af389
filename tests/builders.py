"""Builders shared by the tests of evaluations and what fills them (surveys, sheets, results).

``contracted_world`` makes a purchasing department with its purchaser, finance, a supplier
with its user, an approved project, its signed contract with three instalments and the
street-cleaning template (three parties) as the contract's scheme. ``schedule`` then adds
an evaluation on that contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import select

from evalplatform.models import Contract, Evaluation, IndicatorScheme, Organisation, Project, User
from evalplatform.services import catalogue, contracts, evaluations, projects, scheme_templates
from evalplatform.services.audit import Actor
from evalplatform.services.credit_code import check_character
from evalplatform.services.schemes import SystemPrincipal

PDF = b"%PDF-1.7\n% signed copy\n"
STREET_CLEANING = "市容环卫"


def credit_code(n: int) -> str:
    first17 = "52330199MJ" + f"{n:07d}"
    return first17 + check_character(first17)


@dataclass
class PurchaserPrincipal:
    actor: Actor
    role: object
    organisation_id: int


@dataclass
class World:
    department: Organisation
    purchaser: User
    finance: User
    supplier: Organisation
    supplier_user: User
    project: Project
    contract: Contract
    scheme: IndicatorScheme

    @property
    def p_actor(self) -> Actor:
        return Actor(self.purchaser.id, self.purchaser.username)

    @property
    def f_actor(self) -> Actor:
        return Actor(self.finance.id, self.finance.username)

    @property
    def purchaser_principal(self) -> PurchaserPrincipal:
        return PurchaserPrincipal(self.p_actor, self.purchaser.role, self.department.id)


def contracted_world(db, make_user, make_org, *, template: str = STREET_CLEANING,
                     signed_on: str = "2026-01-05", n: int = 1) -> World:
    """An approved project with a signed 12-month contract whose scheme copies ``template``."""
    if not catalogue.list_entries(db):
        catalogue.seed(db)
    scheme_templates.ensure_templates(db)
    department = make_org("purchasing_department", name=f"临江市城市管理局{n}")
    purchaser = make_user("purchaser", organisation=department)
    finance = make_user("finance")
    supplier = contracts.register_supplier(
        db, Actor(finance.id, finance.username), name=f"临江市洁美环境服务有限公司{n}",
        credit_code=credit_code(100 + n), supplier_kind="enterprise", small_medium=True)
    supplier_user = make_user("supplier", organisation=db.get(Organisation, supplier.id))
    p_actor = Actor(purchaser.id, purchaser.username)
    entry = catalogue.list_entries(db)
    leaf = next(e for e in entry if e.level == 3)
    project = projects.register(db, p_actor, department_id=department.id, values={
        "name": f"主城区道路清扫保洁服务项目{n}", "catalogue_entry_id": str(leaf.id),
        "content": "主城区 120 条道路的清扫保洁与垃圾清运", "recipients": "主城区居民",
        "year": signed_on[:4], "budget": "800,000.00", "budget_line": "城市维护费",
        "procurement_method": "competitive_consultation"})
    contract = contracts.record_contract(
        db, p_actor, project.id,
        {"supplier_id": str(supplier.id), "amount": "780000.00", "signed_on": signed_on,
         "term_months": "12", "content": "道路清扫保洁", "performance_targets": "保洁达标率 95%",
         "payment_rule": "bands"},
        [contracts.InstalmentInput("30%", "on_signing", False),
         contracts.InstalmentInput("30%", "after_interim", True),
         contracts.InstalmentInput("40%", "after_final", True)],
        (PDF, "合同.pdf"))
    # registered a month before the signing, as a contract follows its project (the half-year
    # report counts a project as it stood on the period's last day)
    project.created_at = datetime.combine(date.fromisoformat(signed_on) - timedelta(days=30),
                                          time(2, 0), tzinfo=UTC)
    db.add(project)
    db.commit()
    world = World(department, purchaser, finance, db.get(Organisation, supplier.id), supplier_user,
                  project, contract, None)
    source = next(s for s in db.exec(select(IndicatorScheme).where(IndicatorScheme.is_template))
                  if s.service_area == template or template in s.name)
    world.scheme = evaluations.assign_scheme(db, world.purchaser_principal, contract.id, source.id)
    db.refresh(contract)
    return world


def schedule(db, world: World, *, stage: str = "final", start: str = "2026-01-05",
             end: str = "2026-12-31", opens: str = "2026-06-01", closes: str = "2026-12-31",
             title: str = "") -> Evaluation:
    return evaluations.create(db, world.p_actor, world.contract.id, {
        "title": title or ("2026 年度终期绩效评价" if stage == "final" else "2026 年第二季度监控"),
        "stage": stage, "period_start": start, "period_end": end, "opens_at": opens,
        "closes_at": closes})


def today() -> date:
    return projects.today()


__all__ = ["SystemPrincipal", "World", "contracted_world", "schedule"]
