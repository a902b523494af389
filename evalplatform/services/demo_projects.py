"""The demo city's year of purchased services: catalogue, suppliers, projects and contracts.

Loaded by :func:`evalplatform.services.demo.load` through the same services people use, so
every record has its audit entries. The catalogue and negative list are seeded here (the
demo loader is where they are seeded; a production install seeds them with
``catalogue.seed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session, col, select

from evalplatform.models import CatalogueEntry, IndicatorScheme, Organisation, Role, User
from evalplatform.services import catalogue, contracts, projects
from evalplatform.services.audit import Actor

CITY = "临江市"
YEAR = 2026
DEMO_PDF = b"%PDF-1.4\n% demo document of the Linjiang demo city\n%%EOF\n"

SUPPLIER_PROFILES = {
    f"{CITY}福康居家养老服务中心": ("social_organisation", True, "孙慧芳", "0571-8800 1201"),
    f"{CITY}洁城环境服务有限公司": ("enterprise", True, "吴志刚", "0571-8800 1202"),
    f"{CITY}启航职业技能培训学校": ("social_organisation", True, "郑晓燕", "0571-8800 1203"),
    f"{CITY}同心社会工作服务中心": ("social_organisation", True, "何文博", "0571-8800 1204"),
}

# department user, name, catalogue code, content, recipients, budget (yuan), method, targets,
# then: None (registered only) or (supplier, amount, signed_on, term, published_on, schedule)
PROJECTS = [
    ("minzheng", "2026年居家养老上门服务", "A0501",
     "为全市失能、半失能及高龄独居老人提供助餐、助洁、助浴、助医等上门服务",
     "全市 60 周岁以上失能、半失能及高龄独居老人约 1,200 人", "1860000", "public_tender",
     ("服务 1,200 人，每人每月不少于 8 小时", "服务规范执行率 100%", "接单后 24 小时内上门",
      "人均服务成本不高于 1,550 元/年", "老人居家生活质量改善", "服务对象满意度不低于 90%"),
     ("福康居家养老服务中心", "1780000", "2026-02-27", 12, "2026-03-03",
      [("30%", "on_signing", False), ("30%", "after_interim", True), ("40%", "after_final", True)])),
    ("minzheng", "社区老年助餐服务", "A0502", "在 12 个社区助餐点提供老年人午餐配送及堂食服务",
     "12 个社区 70 周岁以上老年人", "680000", "competitive_consultation",
     ("日均供餐 600 份", "食品安全事故为零", "11:30 前送达", "每餐补贴不高于 6 元",
      "老年人就餐便利度提升", "满意度不低于 85%"),
     ("福康居家养老服务中心", "668000", "2026-03-16", 12, "2026-03-17",
      [("50%", "on_signing", False), ("50%", "after_final", True)])),
    ("minzheng", "困难家庭社会工作服务", "B0101", "为低保、低边家庭提供个案帮扶、资源链接和小组活动",
     "全市低保、低边家庭 300 户", "1250000", "competitive_consultation",
     ("个案 300 户，小组活动 24 场", "个案结案率不低于 80%", "按季度完成走访",
      "户均服务成本不高于 4,000 元", "困难家庭自我发展能力提升", "满意度不低于 90%"),
     ("同心社会工作服务中心", "1200000", "2026-04-10", 12, None,
      [("40%", "on_signing", False), ("60%", "after_final", True)])),
    ("minzheng", "残疾人托养服务", "A0701", "为重度残疾人提供日间照料和托养服务",
     "全市重度残疾人 80 人", "1500000", "public_tender",
     ("托养 80 人", "安全责任事故为零", "全年服务不少于 250 天", "人均不高于 1.9 万元",
      "家庭照护负担减轻", "满意度不低于 90%"), None),
    ("chengguan", "中心城区道路清扫保洁", "D0201",
     "中心城区 126 条道路、约 320 万平方米的机械化清扫和人工保洁",
     "中心城区居民及过往群众", "6800000", "public_tender",
     ("保洁面积 320 万平方米", "道路洁净度达标率不低于 95%", "每日 6:00 前完成首轮清扫",
      "单位面积成本不高于 2.1 元/平方米", "市容环境明显改善", "市民满意度不低于 85%"),
     ("洁城环境服务有限公司", "6650000", "2026-03-02", 12, "2026-03-10",
      [("20%", "on_signing", False), ("40%", "after_interim", True), ("40%", "after_final", True)])),
    ("chengguan", "公共厕所管理服务", "D0202", "城区 86 座公共厕所的日常保洁、维护和管理",
     "城区居民和游客", "960000", "competitive_negotiation",
     ("管理公厕 86 座", "公厕星级达标率 100%", "每日开放不少于 16 小时", "单座成本不高于 1.1 万元",
      "如厕环境改善", "满意度不低于 85%"),
     ("洁城环境服务有限公司", "940000", "2026-04-20", 12, "2026-04-22",
      [("50%", "on_signing", False), ("50%", "after_final", True)])),
    ("chengguan", "生活垃圾分类指导", "D0203", "在 40 个小区开展垃圾分类宣传、桶边督导和积分管理",
     "40 个试点小区居民", "1100000", "competitive_consultation",
     ("覆盖 40 个小区", "分类准确率不低于 80%", "每日早晚各 2 小时桶边督导",
      "每小区不高于 2.75 万元", "居民分类习惯养成", "满意度不低于 85%"), None),
    ("renshe", "就业技能培训", "A0201", "面向失业人员和农村转移劳动力开展电工、育婴员、电商等职业技能培训",
     "失业人员和农村转移劳动力 1,500 人次", "2300000", "public_tender",
     ("培训 1,500 人次", "取证率不低于 70%", "全年分 4 期完成", "人均培训成本不高于 1,500 元",
      "培训后就业率不低于 60%", "学员满意度不低于 90%"),
     ("启航职业技能培训学校", "2250000", "2026-03-20", 12, "2026-03-26",
      [("30%", "on_signing", False), ("30%", "after_interim", True), ("40%", "after_final", True)])),
    ("renshe", "创业指导服务", "A0202", "为高校毕业生和返乡人员提供创业咨询、项目诊断和跟踪服务",
     "高校毕业生和返乡创业人员 400 人", "450000", "price_inquiry",
     ("服务 400 人", "创业计划书完成率 90%", "咨询 3 个工作日内响应", "人均不高于 1,125 元",
      "新增创业实体 60 家", "满意度不低于 90%"),
     ("启航职业技能培训学校", "436000", "2026-05-08", 10, "2026-05-11",
      [("100%", "after_final", True)])),
    ("renshe", "职业介绍与招聘对接", "A0203", "组织线上线下招聘会 24 场并提供岗位匹配服务",
     "求职人员和用人单位", "380000", "competitive_consultation",
     ("招聘会 24 场", "岗位信息准确率 100%", "每月至少 2 场", "单场成本不高于 1.6 万元",
      "达成就业意向 2,000 人", "满意度不低于 85%"), None),
]


def _entry(session: Session, code: str) -> CatalogueEntry:
    return session.exec(select(CatalogueEntry).where(CatalogueEntry.code == code)).one()


def date_registration(session: Session, project, signed_on: str) -> None:
    """Put a demo project's registration a month before its contract's signing (and finance's
    approval of it three weeks before), as the story has it: the demo is loaded today, but the
    half-year report counts each project as it stood on the period's last day."""
    signed = date.fromisoformat(signed_on)
    project.created_at = datetime.combine(signed - timedelta(days=30), time(1, 30), tzinfo=UTC)
    if project.decided_at is not None:
        project.decided_at = datetime.combine(signed - timedelta(days=21), time(6, 0),
                                              tzinfo=UTC)
    session.add(project)
    session.commit()


def load(session: Session, orgs: dict[str, Organisation], users: dict[str, User]) -> None:
    def actor(username: str) -> Actor:
        return Actor(users[username].id, username)

    finance = actor("caizheng")
    catalogue.seed(session, finance)
    issue = catalogue.record_issue(session, finance, year=str(YEAR), issued_on=f"{YEAR}-01-09")
    catalogue.record_publication(session, finance, issue.id, f"{YEAR}-01-21")
    for name, (kind, sme, contact, phone) in SUPPLIER_PROFILES.items():
        contracts.add_profile(session, finance, orgs[name].id, supplier_kind=kind,
                              small_medium=sme, contact_name=contact, contact_phone=phone)
    target_keys = [key for key, _label in projects.TARGET_FIELDS]
    for username, name, code, content, recipients, budget, method, targets, award in PROJECTS:
        purchaser = actor(username)
        values = {"name": name, "catalogue_entry_id": str(_entry(session, code).id),
                  "content": content, "recipients": recipients, "year": str(YEAR),
                  "budget": budget, "budget_line": f"{YEAR}年政府购买服务预算·{name}",
                  "procurement_method": method, **dict(zip(target_keys, targets, strict=True))}
        project = projects.register(session, purchaser,
                                    department_id=users[username].organisation_id, values=values)
        if projects.needs_ex_ante(project.budget_fen):
            projects.upload_ex_ante(session, purchaser, project.id, DEMO_PDF,
                                    f"{name}事前绩效评估报告.pdf")
        if award is None:
            continue
        if projects.needs_approval(project.budget_fen):
            projects.approve(session, finance, project.id)
        supplier, amount, signed_on, term, published_on, schedule = award
        date_registration(session, project, signed_on)
        rows = [contracts.InstalmentInput(share, due, linked) for share, due, linked in schedule]
        contract = contracts.record_contract(
            session, purchaser, project.id,
            {"supplier_id": str(orgs[f"{CITY}{supplier}"].id), "amount": amount,
             "signed_on": signed_on, "term_months": str(term), "content": content,
             "quantity": targets[0], "quality": targets[1],
             "price_terms": f"总价包干，合同金额 {amount} 元",
             "settlement_method": "按付款计划分期支付，绩效挂钩部分按评价结果结算",
             "performance_targets": "；".join(targets),
             "breach_terms": "未达到质量目标的，按合同约定扣减服务费",
             "payment_rule": "bands"}, rows)
        if published_on:
            contracts.record_publication(session, purchaser, contract.id, published_on)
        _evaluate(session, purchaser, users[username].organisation_id, contract, code, name)


#: Which built-in template a demo contract is assessed by, by catalogue code prefix.
DEMO_TEMPLATES = {"A05": "居家养老", "D02": "市容环卫"}


@dataclass(frozen=True)
class _Purchaser:
    actor: Actor
    organisation_id: int
    role: Role = Role.purchaser


def _evaluate(session: Session, purchaser: Actor, department_id: int, contract, code: str,
              name: str) -> None:
    """Give the contract a copy of its template and schedule its first monitoring round."""
    from evalplatform.services import evaluations

    area = next((a for prefix, a in DEMO_TEMPLATES.items() if code.startswith(prefix)), None)
    if area is None:
        return
    template = session.exec(select(IndicatorScheme).where(
        col(IndicatorScheme.is_template).is_(True), IndicatorScheme.service_area == area)).first()
    if template is None:
        return
    evaluations.assign_scheme(session, _Purchaser(purchaser, department_id), contract.id,
                              template.id)
    start = contract.signed_on
    end = evaluations.add_months(start, 3) - timedelta(days=1)
    evaluations.create(session, purchaser, contract.id, {
        "title": f"{name} · 第一季度监控", "stage": "interim",
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "opens_at": (end + timedelta(days=1)).isoformat(),
        "closes_at": (end + timedelta(days=21)).isoformat()})
