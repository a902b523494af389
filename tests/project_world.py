"""A small register of projects across two departments, years, categories, methods, statuses
and amounts, for the tests of the project list, the JSON API and the budget disclosure."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import select

from evalplatform.models import CatalogueEntry, Organisation, Project, User
from evalplatform.services import catalogue, contracts, projects
from evalplatform.services.audit import Actor
from evalplatform.services.credit_code import check_character

PDF = b"%PDF-1.7\n% document\n"

# key, department, name, year, catalogue code, method, budget (yuan), what happens next
PROJECTS = [
    ("care", "civil", "居家养老上门服务", 2026, "A0501", "public_tender", "1860000", "contract"),
    ("meals", "civil", "社区老年助餐服务", 2026, "A0502", "competitive_consultation", "680000", ""),
    ("social", "civil", "困难家庭社会工作服务", 2025, "B0101", "competitive_consultation",
     "1250000", ""),
    ("streets", "city", "中心城区道路清扫保洁", 2026, "D0201", "public_tender", "6800000",
     "approve"),
    ("green", "city", "城市绿化养护", 2026, "D0301", "price_inquiry", "450000", ""),
    ("toilets", "city", "公共厕所管理", 2026, "D0202", "single_source", "1100000", "return"),
]


@dataclass
class ProjectWorld:
    civil: Organisation  # 临江市民政局
    city: Organisation  # 临江市城市管理局
    civil_purchaser: User
    city_purchaser: User
    finance: User
    supplier: Organisation
    projects: dict[str, Project] = field(default_factory=dict)

    def ids(self, *keys: str) -> set[int]:
        return {self.projects[k].id for k in keys}


def project_world(db, make_user, make_org) -> ProjectWorld:
    catalogue.seed(db)
    civil = make_org("purchasing_department", name="临江市民政局")
    city = make_org("purchasing_department", name="临江市城市管理局")
    world = ProjectWorld(
        civil, city,
        make_user("purchaser", organisation=civil, display_name="张丽"),
        make_user("purchaser", organisation=city, display_name="赵敏"),
        make_user("finance", display_name="王建国"), None)
    f_actor = Actor(world.finance.id, world.finance.username)
    first17 = "52330199MJ0000301"
    world.supplier = contracts.register_supplier(
        db, f_actor, name="临江市福康居家养老服务中心", credit_code=first17 + check_character(first17),
        supplier_kind="social_organisation", small_medium=True)
    codes = {e.code: e for e in db.exec(select(CatalogueEntry))}
    for key, dept, name, year, code, method, budget, then in PROJECTS:
        purchaser = world.civil_purchaser if dept == "civil" else world.city_purchaser
        actor = Actor(purchaser.id, purchaser.username)
        project = projects.register(db, actor, department_id=purchaser.organisation_id, values={
            "name": name, "catalogue_entry_id": str(codes[code].id),
            "content": f"{name}的服务内容", "recipients": f"{name}的服务对象", "year": str(year),
            "budget": budget, "budget_line": f"{year}年专项资金（{name}）",
            "procurement_method": method})
        if then in ("approve", "contract"):
            if projects.needs_ex_ante(project.budget_fen):
                projects.upload_ex_ante(db, actor, project.id, PDF, "事前绩效评估.pdf")
            approved = projects.approve(db, f_actor, project.id)
            # approved (as the story has it) before the contract signed in February: a
            # contract signed before its project's approval is refused
            approved.decided_at = datetime(year - 1, 12, 1, 2, 0, tzinfo=UTC)
            db.add(approved)
            db.commit()
        if then == "contract":
            contracts.record_contract(
                db, actor, project.id,
                {"supplier_id": str(world.supplier.id), "amount": "1800000.01",
                 "signed_on": "2026-02-27", "term_months": "12", "content": "居家养老上门服务",
                 "performance_targets": "服务 1,200 人", "payment_rule": "bands"},
                [contracts.InstalmentInput("30%", "on_signing", False),
                 contracts.InstalmentInput("30%", "after_interim", True),
                 contracts.InstalmentInput("40%", "after_final", True)])
        if then == "return":
            projects.return_to_department(db, f_actor, project.id, "绩效目标不够具体，请细化")
        db.refresh(project)
        world.projects[key] = project
    return world
