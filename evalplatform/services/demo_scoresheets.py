"""The demo city's expert pool (专家库) and one evaluation scored by a drawn panel.

Loaded by :func:`evalplatform.services.demo.load` after the projects, through the same
services people use: finance adds twelve experts across sectors (two with relationships that
make them be avoided for the street-cleaning supplier or its department), the city
management bureau schedules a mid-year evaluation of its street cleaning, opens it, draws a
panel of five with two alternates and entrusts the third-party firm as well; the seated
experts get sign-in accounts (their passwords are printed with the others), three of them
submit their sheets, a fourth keeps a draft; the bureau scores its quarter and enters its
measured data; the firm enters the third-party data and hands in its report; the supplier
hands in its self-evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlmodel import Session, select

from evalplatform.models import Expert, Organisation, Project, Role, User
from evalplatform.services import (
    accounts,
    contracts,
    evaluations,
    experts,
    panel,
    projects,
    scoresheets,
)
from evalplatform.services.audit import Actor

CITY = "临江市"
REPORT_PDF = b"%PDF-1.4\n% demo third-party evaluation report\n%%EOF\n"

#: name, employer, title, specialities (level-2 catalogue codes)
POOL = [
    ("林国华", "临江大学环境学院", "教授", ["D02", "D01"]),
    ("陈思远", "临江市环境卫生科学研究所", "高级工程师", ["D02"]),
    ("黄晓梅", "临江职业技术学院", "副教授", ["D02", "D03"]),
    ("周建平", "浙江省市政工程设计院", "高级工程师", ["D02", "D03"]),
    ("吴立新", "临江财经学院", "教授", ["E02", "E01"]),
    ("郑文涛", "临江正信会计师事务所", "注册会计师", ["E02"]),
    ("孙静怡", "临江市社会科学院", "研究员", ["E02", "B01"]),
    ("马骏", "临江大学土木学院", "高级工程师", ["D02"]),
    ("朱丽娟", "临江市城市管理局", "高级经济师", ["D02", "E02"]),
    ("胡海涛", "临江医学院", "教授", ["A05", "A04", "E02"]),
    ("高志明", "临江市养老服务指导中心", "高级社会工作师", ["A05", "B01"]),
    ("罗雅琴", "临江人力资源研究院", "研究员", ["A02", "A03"]),
]


@dataclass(frozen=True)
class _Principal:
    """The minimum of a signed-in user the services need."""

    id: int
    username: str
    role: Role
    organisation_id: int | None

    @property
    def actor(self) -> Actor:
        return Actor(self.id, self.username)


def _principal(user: User) -> _Principal:
    return _Principal(user.id, user.username, user.role, user.organisation_id)


@dataclass(frozen=True)
class Finding:
    """What a demo scorer found on one indicator, in the words its sheet cites (扣分理由).

    A points indicator loses what the finding costs under the indicator's criteria; a tiers
    indicator gets the tier the finding earns. An indicator a scorer found nothing on is
    scored in full, with no reason."""

    text: str
    lost: Decimal = Decimal(0)
    tier: str = ""


#: What each demo scorer found, by indicator name, priced by the street-cleaning scheme's
#: criteria: 垃圾收集点管理 loses 1 point a full or littered collection point, 应急保障能力
#: 5 points an item missing (a drilled plan, a timely response to extreme weather), 安全生产
#: 2 points for protective gear not worn; 公厕保洁质量, 作业计划执行 and 台账资料 are 部分达成
#: when the finding shows a shortfall. The points on every sheet follow from its findings.
FINDINGS = {
    "E01": {"垃圾收集点管理": Finding("抽查 20 个收集点，发现 1 处满溢、散落", Decimal(1))},
    "E02": {"公厕保洁质量": Finding("抽查的 12 座公厕中 2 座有异味", tier="部分达成"),
            "垃圾收集点管理": Finding("抽查 20 个收集点，发现 3 处满溢、散落", Decimal(3)),
            "作业计划执行": Finding("夜间作业频次低于作业计划，记录有漏记", tier="部分达成"),
            "应急保障能力": Finding("应急预案未按季度演练", Decimal(5))},
    "E03": {"垃圾收集点管理": Finding("抽查 20 个收集点，发现 2 处满溢、散落", Decimal(2)),
            "应急保障能力": Finding("应急预案未按季度演练", Decimal(5))},
    "E04": {"公厕保洁质量": Finding("抽查的 12 座公厕中 2 座有异味", tier="部分达成"),
            "垃圾收集点管理": Finding("抽查 20 个收集点，发现 3 处满溢、散落", Decimal(3)),
            "作业计划执行": Finding("夜间作业频次低于作业计划，记录有漏记", tier="部分达成"),
            "应急保障能力": Finding("应急预案未按季度演练；6 月暴雨后积水点 4 小时后才处置",
                                Decimal(10))},
    "bureau": {"台账资料": Finding("台账缺少整改闭环记录", tier="部分达成"),
               "安全生产": Finding("6 月巡查发现作业人员未配备反光背心", Decimal(2))},
}


def _form(leaves, findings: dict[str, Finding]) -> dict:
    """A scorer's sheet from its findings: full marks where it found nothing, otherwise the
    points or tier its finding earns, with the finding as the reason."""
    form: dict[str, str] = {}
    for leaf in leaves:
        found = findings.get(leaf.name)
        if leaf.rule_type == "tiers":
            best = max(leaf.tiers, key=lambda t: Decimal(str(t["coefficient"])))["name"]
            form[f"value-{leaf.id}"] = found.tier if found and found.tier else best
        else:
            points = leaf.points - (found.lost if found else Decimal(0))
            form[f"value-{leaf.id}"] = scoresheets.plain(max(points, Decimal(0)))
        if found:
            form[f"reason-{leaf.id}"] = found.text
    return form


def load(session: Session, orgs: dict[str, Organisation], users: dict[str, User],
         password) -> list[tuple[User, str]]:
    """Build the pool and the scored evaluation; returns the experts' accounts and passwords."""
    finance = Actor(users["caizheng"].id, "caizheng")
    pool = [experts.save(session, finance, {
        "name": name, "employer": employer, "title": title,
        "phone": f"1390571{n:04d}", "email": f"expert{n}@linjiang.example.cn",
        "specialities": codes}) for n, (name, employer, title, codes) in enumerate(POOL, 1)]
    supplier = orgs[f"{CITY}洁城环境服务有限公司"]
    bureau = orgs[f"{CITY}城市管理局"]
    by_name = {e.name: e for e in pool}
    experts.add_relationship(session, finance, by_name["马骏"].id, {
        "organisation_id": str(supplier.id), "kind": "employed", "started_on": "2019-03-01",
        "ended_on": "2025-06-30", "note": "曾任该公司技术总监"})
    experts.add_relationship(session, finance, by_name["朱丽娟"].id, {
        "organisation_id": str(bureau.id), "kind": "employed", "started_on": "2008-07-01",
        "note": "购买主体在职人员"})

    purchaser_user = users["chengguan"]
    purchaser = _principal(purchaser_user)
    project = session.exec(select(Project).where(Project.name == "中心城区道路清扫保洁",
                                                 Project.department_id == bureau.id)).one()
    contract = contracts.for_project(session, project.id)
    today = projects.today()
    evaluation = evaluations.create(session, purchaser.actor, contract.id, {
        "title": "中心城区道路清扫保洁 · 年中绩效评价（专家评审）", "stage": "interim",
        "period_start": contract.signed_on.isoformat(),
        "period_end": (contract.signed_on + timedelta(days=182)).isoformat(),
        "opens_at": (today - timedelta(days=10)).isoformat(),
        "closes_at": (today + timedelta(days=20)).isoformat(),
        "note": "由专家组和第三方评价机构共同评价第三方部分"})
    evaluations.open_now(session, purchaser.actor, evaluation.id)
    panel.draw(session, purchaser, evaluation.id,
               {"size": "5", "alternates": "2", "specialities": ["D02", "E02"]})
    firm = orgs["浙临正衡绩效评价咨询有限公司"]
    panel.assign_firm(session, purchaser, evaluation.id, firm.id)

    # The seated experts get their own sign-in accounts, linked to their pool entries.
    created: list[tuple[User, str]] = []
    seated = [m for m in panel.members(session, evaluation.id)
              if m.status.value == "seated"]
    for n, member in enumerate(seated, 1):
        expert = session.get(Expert, member.expert_id)
        secret = password()
        user = accounts.create_user(session, finance, username=f"zhuanjia{n}",
                                    display_name=expert.name, role="evaluator",
                                    organisation_id=None, password=secret)
        experts.save(session, finance, {
            "name": expert.name, "employer": expert.employer, "title": expert.title,
            "phone": expert.phone, "email": expert.email, "specialities": expert.specialities,
            "user_id": str(user.id), "active": True, "note": expert.note}, expert_id=expert.id)
        created.append((user, secret))

    doc = evaluations.scheme_document(session, evaluation)
    third = next(p for p in doc["parts"] if p["party"] == "third_party")
    # Three experts submit, the fourth keeps a draft, the fifth has not started.
    for index, scorer in enumerate(("E01", "E02", "E03", "E04")):
        who = _principal(created[index][0])
        sheet = scoresheets.start(session, who, evaluation.id, third["id"], "expert")
        form = _form(scoresheets.sheet_leaves(third, scoresheets.SheetKind.expert),
                     FINDINGS[scorer])
        scoresheets.save_draft(session, who, evaluation.id, sheet.id, form)
        if index < 3:
            scoresheets.submit(session, who, evaluation.id, sheet.id, form)

    # The firm enters the third-party part's measured data and hands in its report.
    staff = _principal(users["pingjia"])
    data_leaves = scoresheets.sheet_leaves(third, scoresheets.SheetKind.data)
    if data_leaves:
        sheet = scoresheets.start(session, staff, evaluation.id, third["id"], "data")
        form = {}
        for leaf in data_leaves:
            form[f"value-{leaf.id}"] = "93.5"
            form[f"source-{leaf.id}"] = "第三方随机抽查 40 个路段的平均分（2026 年 8 月）"
        scoresheets.submit(session, staff, evaluation.id, sheet.id, form)
    scoresheets.upload_report(session, staff, evaluation.id, REPORT_PDF,
                              "中心城区道路清扫保洁年中第三方评价报告.pdf")

    # The bureau scores its quarter and enters its own measured data.
    own = next(p for p in doc["parts"] if p["party"] == "purchaser")
    sheet = scoresheets.start(session, purchaser, evaluation.id, own["id"], "occasion",
                              "2026 年第二季度")
    form = _form(scoresheets.sheet_leaves(own, scoresheets.SheetKind.occasion),
                 FINDINGS["bureau"])
    scoresheets.submit(session, purchaser, evaluation.id, sheet.id, form)
    # typed as the form asks: a rate (unit 比例) in percent, 97 for 97 %
    measured = {"ratio_ge": "97", "ratio_le": "20", "thresholds": "1"}
    data = scoresheets.start(session, purchaser, evaluation.id, own["id"], "data")
    form = {}
    for leaf in scoresheets.sheet_leaves(own, scoresheets.SheetKind.data):
        form[f"value-{leaf.id}"] = measured.get(leaf.rule_type, "1")
        form[f"source-{leaf.id}"] = "城市管理局日常巡查台账（2026 年 3—8 月）"
    scoresheets.submit(session, purchaser, evaluation.id, data.id, form)

    scoresheets.save_self_evaluation(session, _principal(users["jiecheng"]), evaluation.id, {
        "summary": "上半年完成 126 条道路日常清扫保洁，机械化作业率 83%，处理市民投诉 41 件，"
                   "均在 24 小时内反馈。", "claimed_total": "95"})
    return created
