"""The demo city's past year (2025): final results, acceptance, settlements and standing.

Three contracts of 2025 have been evaluated and their results are final, so the settlement,
payment and standing pages have something real to show:

* 福康居家养老服务中心 — elderly care: interim 良, final 优 (preferred). Its instalments were
  settled: on signing and interim paid on time; the final instalment approved but still
  unpaid weeks after the acceptance, so it is overdue and owes interest.
* 洁城环境服务有限公司 — street cleaning: two results in a row below 80 (warned; the
  contract is flagged for termination review), one substantiated complaint; its final
  instalment (80 % of it, for a 中) waits for finance's approval.
* 安康养老服务有限公司 — elderly meals: a 差 result, final in January 2026, bars it until
  the end of 2027; the service was not accepted, so its final instalment falls due never.

The first instalments of the 2026 contracts were paid on time. The results are computed by
the scoring engine from demo inputs written for each level (as the results capability would
from sheets and answers) and stored as final versions; every other step goes through the
services people use. Dates of past decisions are set to the days they happened in the
story. A 2026 project is approved so that selection can rank the candidates for it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlmodel import Session, col, select

import scoring
from evalplatform.models import (
    CatalogueEntry,
    Contract,
    DueCondition,
    EvaluationResult,
    IndicatorScheme,
    Organisation,
    Project,
    ProjectStatus,
    Role,
    Settlement,
    User,
)
from evalplatform.services import (
    acceptance,
    contracts,
    demo_projects,
    evaluation_inputs,
    evaluations,
    projects,
    results,
    schemes,
    settlements,
    standing,
)
from evalplatform.services.audit import Actor
from evalplatform.services.clock import LOCAL_TZ
from evalplatform.services.workdays import add_working_days

CITY = "临江市"
NEW_SUPPLIER = f"{CITY}安康养老服务有限公司"


@dataclass(frozen=True)
class _Principal:
    actor: Actor
    role: Role
    organisation_id: int | None

    @property
    def id(self) -> int:
        return self.actor.id


def _principal(user: User) -> _Principal:
    return _Principal(Actor(user.id, user.username), Role(user.role), user.organisation_id)


def _moment(day: date, hour: int = 10) -> datetime:
    """A local working-hours moment of ``day``, in UTC."""
    return datetime.combine(day, time(hour - 8, 0), tzinfo=UTC)


# ---------------------------------------------------------------- demo inputs


def _leaves(node: dict):
    if schemes.is_leaf(node):
        yield node
    for child in node.get("children") or []:
        yield from _leaves(child)


def demo_inputs(doc: dict, level: float, seed: int) -> evaluation_inputs.Contribution:
    """Sheets, data and answers that make every leaf score about ``level`` of its points."""
    rnd = random.Random(seed)

    def near() -> float:
        return min(1.0, max(0.0, level + rnd.uniform(-0.05, 0.05)))

    sheets, data, questions = [], {}, {}
    for part in doc["parts"]:
        leaves = list(_leaves(part["tree"]))
        scored = [leaf for leaf in leaves if leaf["rule"]["type"] in ("points", "tiers")]
        count = 5 if part["party"] == "third_party" else 2
        for k in range(count if scored else 0):
            scores = {}
            for leaf in scored:
                rule, most = leaf["rule"], Decimal(str(leaf["points"]))
                if rule["type"] == "points":
                    value = (most * Decimal(str(near())) * 2).quantize(Decimal(1)) / 2
                    scores[leaf["id"]] = str(value) if value >= most else {
                        "points": str(value), "reason": "抽查发现部分记录不全（演示数据）"}
                else:
                    target = near()
                    tier = min(rule["tiers"],
                               key=lambda t, target=target: abs(float(t["coefficient"]) - target))
                    scores[leaf["id"]] = tier["name"] if float(tier["coefficient"]) >= 1 else {
                        "tier": tier["name"], "reason": "个别环节未达到要求（演示数据）"}
            scorer = f"E{k + 1:02d}" if part["party"] == "third_party" else f"2025Q{k + 2}"
            sheets.append({"part": part["id"], "scorer": scorer, "scores": scores})
        for leaf in leaves:
            rule = leaf["rule"]
            if rule["type"] == "ratio_ge":
                data[leaf["id"]] = str((Decimal(rule["target"]) * Decimal(str(near())))
                                       .quantize(Decimal("0.0001")))
            elif rule["type"] == "ratio_le":
                data[leaf["id"]] = str((Decimal(rule["target"]) / Decimal(str(max(near(), 0.3))))
                                       .quantize(Decimal("0.01")))
            elif rule["type"] == "thresholds":
                most = float(leaf["points"])
                band = min(rule["bands"], key=lambda b: abs(float(b["points"]) / most - level))
                data[leaf["id"]] = band["min"]
            elif rule["type"] in ("survey_mean", "survey_rate"):
                for question in rule["questions"]:
                    questions[question] = rule["scale"]
    responses = []
    # one person's answers hang together, as real answers do (pleased with the service,
    # pleased on most questions): a question takes the person's first draw 7 times in 10,
    # so each question keeps the level's shares and the scale a plausible reliability
    together = random.Random(seed + 1)
    for _respondent in range(60):
        answer = {}
        first = None
        for question in questions:
            u = rnd.random()
            if first is None:
                first = u
            elif together.random() < 0.7:
                u = first
            answer[question] = ("满意" if u < level * 0.6 else "较满意" if u < level
                                else "一般" if u < level + (1 - level) * 0.7 else "不满意")
        responses.append(answer)
    return evaluation_inputs.Contribution("demo", sheets=sheets, data=data, responses=responses,
                                          population=1200 if responses else None)


def _final_result(session: Session, world: dict, evaluation, level: float, seed: int,
                  published_on: date, final_on: date) -> EvaluationResult:
    """Compute the evaluation's result from demo inputs and make it final on ``final_on``."""
    doc = evaluations.scheme_document(session, evaluation)
    package = evaluation_inputs.build_package(doc, [demo_inputs(doc, level, seed)],
                                              package_id=f"demo-{evaluation.id}",
                                              payment=results.payment_for(session, evaluation))
    computed = scoring.evaluate(package)
    for status in ("collecting", "scoring", "computed", "published", "final"):
        evaluations.advance(session, world["finance"].actor, evaluation.id, status)
    deadline = add_working_days(published_on, results.appeal_working_days())
    # final once the appeal window has closed: the day after its last day, at the earliest
    closed = datetime.combine(deadline + timedelta(days=1), time(), tzinfo=LOCAL_TZ)
    result = EvaluationResult(
        evaluation_id=evaluation.id, version=1, total=str(computed.total), grade=computed.grade,
        final_ready=computed.final_ready, package=package, result=computed.as_dict(),
        computed_by=world["finance"].id, computed_at=_moment(published_on, 9),
        published_at=_moment(published_on), published_by=world["finance"].id,
        appeal_deadline=deadline, final_at=max(_moment(final_on), closed.astimezone(UTC)))
    session.add(result)
    session.commit()
    return result


# ---------------------------------------------------------------- the story


def _entry(session: Session, code: str) -> CatalogueEntry:
    return session.exec(select(CatalogueEntry).where(CatalogueEntry.code == code)).one()


def _template(session: Session, area: str) -> IndicatorScheme:
    return session.exec(select(IndicatorScheme).where(
        col(IndicatorScheme.is_template).is_(True), IndicatorScheme.service_area == area)).one()


def _contract(session: Session, world: dict, purchaser: _Principal, *, name: str, code: str,
              content: str, budget: str, supplier: Organisation, amount: str, signed_on: str,
              published_on: str, schedule: list, area: str):
    project = projects.register(session, purchaser.actor,
                                department_id=purchaser.organisation_id, values={
                                    "name": name, "catalogue_entry_id": str(_entry(session, code).id),
                                    "content": content, "recipients": "全市服务对象",
                                    "year": signed_on[:4], "budget": budget,
                                    "budget_line": f"2025年政府购买服务预算·{name}",
                                    "procurement_method": "competitive_consultation"})
    if projects.needs_approval(project.budget_fen):
        projects.approve(session, world["finance"].actor, project.id)
    demo_projects.date_registration(session, project, signed_on)
    contract = contracts.record_contract(
        session, purchaser.actor, project.id,
        {"supplier_id": str(supplier.id), "amount": amount, "signed_on": signed_on,
         "term_months": "12", "content": content, "performance_targets": "见项目绩效目标",
         "settlement_method": "按付款计划分期支付，绩效挂钩部分按评价结果结算",
         "payment_rule": "bands"},
        [contracts.InstalmentInput(share, due, linked) for share, due, linked in schedule])
    contracts.record_publication(session, purchaser.actor, contract.id, published_on)
    evaluations.assign_scheme(session, purchaser, contract.id, _template(session, area).id)
    session.refresh(contract)
    return project, contract


def _evaluation(session: Session, purchaser: _Principal, contract, stage: str, title: str,
                start: str, end: str, opens: str, closes: str):
    evaluation = evaluations.create(session, purchaser.actor, contract.id, {
        "title": title, "stage": stage, "period_start": start, "period_end": end,
        "opens_at": opens, "closes_at": closes})
    # The past year's rounds were scheduled when their period began, not when the demo loads:
    # a report on a past day counts only the rounds that existed on it.
    evaluation.created_at = _moment(date.fromisoformat(start), 9)
    session.add(evaluation)
    session.commit()
    session.refresh(evaluation)
    return evaluation


def _accept(session: Session, purchaser: _Principal, evaluation, day: str, participants: int,
            opinion: str, conclusion: str = "accepted") -> None:
    acceptance.record(session, purchaser, evaluation.id, {
        "accepted_on": day, "conclusion": conclusion, "participants": str(participants),
        "participation": f"服务对象代表 {min(participants, 8)} 人参加现场验收，"
                         f"满意度问卷有效回答 {participants} 份",
        "opinion": opinion}, today=date.fromisoformat(day))


def _settle(session: Session, world: dict, purchaser: _Principal, contract, seq: int, *,
            proposed_on: date, approved_on: date | None = None, paid_on: date | None = None,
            voucher: str = "") -> Settlement:
    instalment = next(i for i in contracts.instalments_of(session, contract.id) if i.seq == seq)
    settlement = settlements.propose(session, purchaser, instalment.id,
                                     note="评价结果已确定，申请按合同结算")
    settlement.proposed_at = _moment(proposed_on)
    session.add(settlement)
    session.commit()
    if approved_on is None:
        return settlement
    settlement = settlements.approve(session, world["finance"], settlement.id)
    settlement.decided_at = _moment(approved_on, 15)
    session.add(settlement)
    session.commit()
    if paid_on is not None:
        settlement = settlements.record_payment(session, world["finance2"], settlement.id,
                                                voucher_no=voucher, paid_on=paid_on.isoformat())
    return settlement


def load(session: Session, orgs: dict[str, Organisation], users: dict[str, User]) -> None:
    world = {"finance": _principal(users["caizheng"]), "finance2": _principal(users["caizheng2"])}
    minzheng, chengguan = _principal(users["minzheng"]), _principal(users["chengguan"])
    ankang = contracts.register_supplier(
        session, world["finance"].actor, name=NEW_SUPPLIER,
        credit_code=_credit_code("91", "MA000205"), supplier_kind="enterprise", small_medium=True,
        contact_name="冯建华", contact_phone="0571-8800 1205")

    # 福康: elderly care, 良 then 优 — preferred; the final instalment is paid late.
    _project, care = _contract(
        session, world, minzheng, name="2025年居家养老上门服务", code="A0501",
        content="为失能、半失能及高龄独居老人提供助餐、助洁、助浴等上门服务", budget="1500000",
        supplier=orgs[f"{CITY}福康居家养老服务中心"], amount="1460000", signed_on="2025-01-15",
        published_on="2025-01-16", area="居家养老",
        schedule=[("30%", "on_signing", False), ("30%", "after_interim", True),
                  ("40%", "after_final", True)])
    interim = _evaluation(session, minzheng, care, "interim", "2025年上半年监控评价",
                          "2025-01-15", "2025-06-30", "2025-07-01", "2025-07-10")
    final = _evaluation(session, minzheng, care, "final", "2025年度终期绩效评价",
                        "2025-01-15", "2026-01-14", "2026-01-05", "2026-01-16")
    _final_result(session, world, interim, 0.87, 11, date(2025, 7, 18), date(2025, 7, 25))
    _final_result(session, world, final, 0.95, 12, date(2026, 1, 26), date(2026, 2, 2))
    _accept(session, minzheng, interim, "2025-07-08", 48,
            "服务对象普遍认可上门服务的及时性，希望增加助浴服务频次。")
    _accept(session, minzheng, final, "2026-01-20", 62,
            "老人及家属对服务态度和质量总体满意，建议节假日保持服务不中断。")
    _settle(session, world, minzheng, care, 1, proposed_on=date(2025, 1, 20),
            approved_on=date(2025, 1, 22), paid_on=date(2025, 1, 27), voucher="LJGK-2025-000118")
    _settle(session, world, minzheng, care, 2, proposed_on=date(2025, 7, 28),
            approved_on=date(2025, 7, 30), paid_on=date(2025, 8, 4), voucher="LJGK-2025-000862")
    _settle(session, world, minzheng, care, 3, proposed_on=date(2026, 2, 5),
            approved_on=date(2026, 2, 9))  # approved, never paid: overdue since 19 February

    # 洁城: street cleaning, two results below 80 — warned, flagged; one complaint.
    _project, cleaning = _contract(
        session, world, chengguan, name="2025年老城区道路清扫保洁", code="D0201",
        content="老城区 58 条道路的清扫保洁与垃圾清运", budget="980000",
        supplier=orgs[f"{CITY}洁城环境服务有限公司"], amount="958000", signed_on="2025-02-10",
        published_on="2025-02-11", area="市容环卫",
        schedule=[("40%", "on_signing", False), ("60%", "after_final", True)])
    interim = _evaluation(session, chengguan, cleaning, "interim", "2025年第三季度监控评价",
                          "2025-02-10", "2025-09-30", "2025-10-08", "2025-10-20")
    final = _evaluation(session, chengguan, cleaning, "final", "2025年度终期绩效评价",
                        "2025-02-10", "2026-02-09", "2026-02-10", "2026-02-25")
    _final_result(session, world, interim, 0.76, 21, date(2025, 10, 27), date(2025, 11, 3))
    _final_result(session, world, final, 0.77, 22, date(2026, 3, 2), date(2026, 3, 9))
    standing.record_complaint(session, chengguan, cleaning.id, received_on="2025-08-14",
                              summary="解放路段连续两日垃圾未清运，经现场核实属实，已责令整改。",
                              today=date(2025, 8, 20))
    _settle(session, world, chengguan, cleaning, 1, proposed_on=date(2025, 2, 13),
            approved_on=date(2025, 2, 17), paid_on=date(2025, 2, 24), voucher="LJGK-2025-000203")
    _settle(session, world, chengguan, cleaning, 2, proposed_on=projects.today())  # waits

    # 安康: elderly meals, a 差 result — barred until the end of 2026.
    _project, meals = _contract(
        session, world, minzheng, name="2025年社区老年助餐服务", code="A0502",
        content="在 8 个社区助餐点提供老年人午餐配送及堂食服务", budget="520000",
        supplier=session.get(Organisation, ankang.id), amount="508000", signed_on="2025-03-03",
        published_on="2025-03-04", area="居家养老",
        schedule=[("50%", "on_signing", False), ("50%", "after_final", True)])
    final = _evaluation(session, minzheng, meals, "final", "2025年度终期绩效评价",
                        "2025-03-03", "2025-12-31", "2026-01-05", "2026-01-15")
    _final_result(session, world, final, 0.52, 31, date(2026, 1, 22), date(2026, 1, 29))
    _accept(session, minzheng, final, "2026-01-12", 40,
            "多数老人反映送餐不准时、饭菜偏凉，部分助餐点停供，验收不合格。", conclusion="rejected")
    _settle(session, world, minzheng, meals, 1, proposed_on=date(2025, 3, 6),
            approved_on=date(2025, 3, 10), paid_on=date(2025, 3, 14), voucher="LJGK-2025-000311")

    # The 2026 contracts' first instalments, paid within days of signing.
    purchasers = {p.organisation_id: p for p in (minzheng, chengguan, _principal(users["renshe"]))}
    for contract in session.exec(select(Contract).order_by(Contract.id)):
        if contract.signed_on.year != 2026:
            continue
        first = contracts.instalments_of(session, contract.id)[0]
        if first.due_condition != DueCondition.on_signing:
            continue
        project = session.get(Project, contract.project_id)
        day = contract.signed_on.toordinal()
        _settle(session, world, purchasers[project.department_id], contract, first.seq,
                proposed_on=date.fromordinal(day + 2), approved_on=date.fromordinal(day + 5),
                paid_on=date.fromordinal(day + 9), voucher=f"LJGK-2026-{contract.id:06d}")

    # A 2026 procurement that may now be contracted: selection ranks its candidates.
    waiting = session.exec(select(Project).where(Project.name == "残疾人托养服务")).first()
    if waiting is not None and waiting.status == ProjectStatus.awaiting_approval:
        projects.approve(session, world["finance"].actor, waiting.id)


def _credit_code(registry: str, org_code8: str) -> str:
    from evalplatform.services.demo import credit_code

    return credit_code(registry, org_code8)
