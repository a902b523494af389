"""From plan to payment on real inputs, on SQLite and on PostgreSQL, every figure by hand.

A street-cleaning contract of ¥780,000 with three instalments (30 % on signing, 30 % after
the interim evaluation, 40 % after the final one, the last two linked to performance). Its
final evaluation is filled the way people fill it: the purchaser's yearly check sheet and its
measured data, a panel of five experts drawn from the pool each submitting a sheet (one of
them also the measured sample), and ten residents answering the survey with invitation
codes. Finance computes, publishes; the supplier appeals; finance upholds the result; the
window closes and the result is final; the purchaser records the acceptance and proposes
the settlements; another person in finance approves; the payment is recorded, late.

The hand computation (street-cleaning scheme, parts A 0.40, B 0.30, C 0.30):

A (purchaser, mean of one sheet, and measured data)
    A1.1 20 × min(0.95 / 0.95, 1) = 20       A1.2 15 × 0.90 / 1 = 13.5
    A1.3 15 × min(0.98 / 0.98, 1) = 15       A2.1 部分达成: 10 × 0.7 = 7
    A2.2 8 points                             A2.3 10 × 0.72 / 0.8 = 9
    A3.1 12 × 0.75 / 1 = 9                    A3.2 8 × 24 / 32 = 6
    A = 87.5
B (10 residents) B1: Q1 has 6 满意 + 2 较满意 = 8 of 10 satisfied = 80 % against the
    target 90 % → 60 × 80 / 90 = 53.3333…;  B2: Q2 5 × 100 + 5 × 80, Q3 10 × 80 → mean
    of the 20 answers 85 → 40 × 0.85 = 34;  B = 87.3333…
C (trimmed mean of five experts; C1.1 measured 92 → band ≥ 90 → 25)
    expert (C1.2 tier, C1.3, C2.1 tier, C2.2)   sheet total
    E1 达成 15, 14, 达成 20, 18                   25 + 67   = 92
    E2 达成 15, 13, 部分达成 14, 17               25 + 59   = 84
    E3 部分达成 10.5, 12, 达成 20, 16             25 + 58.5 = 83.5
    E4 达成 15, 15, 达成 20, 20                   25 + 70   = 95   highest, dropped
    E5 部分达成 10.5, 10, 部分达成 14, 15         25 + 49.5 = 74.5 lowest, dropped
    C1.2 (15 + 15 + 10.5) / 3 = 13.5   C1.3 (14 + 13 + 12) / 3 = 13
    C2.1 (20 + 14 + 20) / 3 = 18       C2.2 (18 + 17 + 16) / 3 = 17
    C = 25 + 13.5 + 13 + 18 + 17 = 86.5
Total = 0.4 × 87.5 + 0.3 × 87.3333… + 0.3 × 86.5 = 35 + 26.2 + 25.95 = 87.15 → 良
Final instalment: 40 % of ¥780,000 = ¥312,000 × 95 % (band ≥ 80) = ¥296,400, deduction
¥15,600. On-signing instalment: 30 % = ¥234,000 at 100 %.
"""

from __future__ import annotations

import io
import math
from datetime import date, timedelta
from fractions import Fraction
from statistics import variance

import pytest
from docx import Document
from sqlmodel import select

from evalplatform.models import AppealStatus, EvaluationStatus, Instalment, SettlementStatus
from evalplatform.services import (
    acceptance,
    appeals,
    evaluation_report,
    projects,
    results,
    settlements,
)
from tests.chain_world import (
    APPEALED_ON,
    COMMENT,
    COMPUTED_AT,
    EXPERTS,
    FINAL_ON,
    POINTS,
    POPULATION,
    PUBLISHED_AT,
    RESIDENTS,
    SCALE,
    TIER,
    UPHELD,
    answer_survey,
    appeal,
    close_collection,
    fill_sheets,
    new_chain,
)
from tests.conftest import login
from tests.test_scoresheets_world import principal

Z95 = 1.959963984540054


# ---------------------------------------------------------------- hand statistics


def ranks(values: list[Fraction]) -> list[Fraction]:
    """Average ranks, 1 = smallest, ties sharing the mean of their places."""
    order = sorted(values)
    return [Fraction(sum(i + 1 for i, v in enumerate(order) if v == x),
                     order.count(x)) for x in values]


def kendall_w_by_hand(table: list[list[Fraction]]) -> Fraction:
    """Rows objects, columns raters: W = 12 S / (m² (n³ − n) − m Σ T), ties corrected."""
    n, m = len(table), len(table[0])
    by_rater = [ranks([row[j] for row in table]) for j in range(m)]
    sums = [sum(by_rater[j][i] for j in range(m)) for i in range(n)]
    mean = Fraction(sum(sums), n)
    s = sum((r - mean) ** 2 for r in sums)
    ties = sum(t ** 3 - t for col in by_rater for t in (col.count(v) for v in set(col)))
    return 12 * s / (m * m * (n ** 3 - n) - m * ties)


def icc2k_by_hand(table: list[list[Fraction]]) -> Fraction:
    """Two-way random, average of k raters (Shrout & Fleiss ICC(2,k))."""
    n, k = len(table), len(table[0])
    grand = sum(sum(row) for row in table) / (n * k)
    row_means = [sum(row) / k for row in table]
    col_means = [sum(row[j] for row in table) / n for j in range(k)]
    ssr = k * sum((r - grand) ** 2 for r in row_means)
    ssc = n * sum((c - grand) ** 2 for c in col_means)
    sst = sum((x - grand) ** 2 for row in table for x in row)
    msr, msc = ssr / (n - 1), ssc / (k - 1)
    mse = (sst - ssr - ssc) / ((n - 1) * (k - 1))
    return (msr - mse) / (msr + (msc - mse) / n)


def alpha_by_hand(rows: list[tuple[int, ...]]) -> float:
    k = len(rows[0])
    items = [variance([r[i] for r in rows]) for i in range(k)]
    return k / (k - 1) * (1 - sum(items) / variance([sum(r) for r in rows]))


# ---------------------------------------------------------------- the chain


def test_from_the_sheets_to_the_payment_every_figure_as_by_hand(db, client, make_user,
                                                                 make_org):
    world, evaluation = new_chain(db, make_user, make_org)
    fill_sheets(db, world, evaluation)
    answer_survey(db, world, evaluation)
    purchaser = principal(db, world.purchaser)
    finance = principal(db, world.finance)

    # collection closes: the survey is closed and the evaluation goes to scoring
    close_collection(db, world, evaluation)
    result = results.compute(db, finance, evaluation.id, at=COMPUTED_AT)

    # ------------------------------------------------ the result, node by node
    a = Fraction(20) + Fraction(27, 2) + 15 + 7 + 8 + 9 + 9 + 6
    b1 = 60 * Fraction(8, 10) / Fraction(9, 10)
    b2 = 40 * Fraction(5 * 100 + 5 * 80 + 10 * 80, 20) / 100
    chosen = [0, 1, 2]  # E1, E2, E3 after dropping E4 (95) and E5 (74.5)
    leaf_c = {}
    for i, leaf in enumerate(("C1.2", "C1.3", "C2.1", "C2.2")):
        scores = [TIER[e[i]] * POINTS[leaf] if leaf in ("C1.2", "C2.1") else Fraction(e[i])
                  for e in (EXPERTS[k] for k in chosen)]
        leaf_c[leaf] = sum(scores) / 3
    c = 25 + sum(leaf_c.values())
    assert (a, b1 + b2, c) == (Fraction(175, 2), Fraction(262, 3), Fraction(173, 2))
    total = Fraction(4, 10) * a + Fraction(3, 10) * (b1 + b2) + Fraction(3, 10) * c
    assert total == Fraction(8715, 100)

    assert result.final_ready and (result.total, result.grade) == ("87.15", "良")
    data = result.result
    parts = {p["id"]: p for p in data["parts"]}
    assert parts["A"]["score"] == "87.5000" and parts["A"]["weighted"] == "35.0000"
    assert parts["B"]["score"] == "87.3333" and parts["B"]["weighted"] == "26.2000"
    assert parts["C"]["score"] == "86.5000" and parts["C"]["weighted"] == "25.9500"
    chosen_codes = [s["scorer"] for s in parts["C"]["sheets"] if s["chosen"]]
    totals = sorted(float(s["total"]) for s in parts["C"]["sheets"])
    assert totals == [74.5, 83.5, 84, 92, 95] and len(chosen_codes) == 3
    nodes = data["nodes"]

    def node(leaf):
        return Fraction(nodes[leaf]["score"]).limit_denominator(1000)

    assert node("A1.2") == Fraction(27, 2) and node("A2.1") == 7 and node("A2.3") == 9
    assert node("A3.2") == 6 and node("B1") == b1 and node("B2") == 34
    assert node("C1.1") == 25 and node("C1.2") == Fraction(27, 2) and node("C2.2") == 17

    # ------------------------------------------------ the quality figures
    quality = data["quality"]
    assert (quality["responses"], quality["answered"], quality["population"]) == (10, 10, 5000)
    margin = Z95 * math.sqrt(0.8 * 0.2 / 10) * math.sqrt((POPULATION - 10) / (POPULATION - 1))
    assert quality["margin"] == pytest.approx(margin, abs=1e-12)
    n0 = Z95 ** 2 * 0.25 / 0.05 ** 2
    assert quality["sample_needed"] == math.ceil(n0 / (1 + (n0 - 1) / POPULATION))
    alpha = alpha_by_hand([tuple(SCALE[x] for x in r) for r in RESIDENTS])
    assert quality["alpha"]["statistic"] == pytest.approx(alpha, abs=1e-12)
    assert quality["alpha"]["n"] == 10
    rates = [[TIER[e[0]], Fraction(e[1]) / 15, TIER[e[2]], Fraction(e[3]) / 20]
             for e in EXPERTS]  # raters × leaves
    table = [list(col) for col in zip(*rates, strict=True)]  # leaves × raters
    third = next(p for p in quality["panels"] if p["part"] == "C")
    assert third["sheets"] == 5 and third["leaves"] == 4
    assert third["kendall_w"]["statistic"] == pytest.approx(float(kendall_w_by_hand(table)),
                                                            abs=1e-12)
    assert third["icc"]["kind"] == "ICC2k"
    assert third["icc"]["statistic"] == pytest.approx(float(icc2k_by_hand(table)), abs=1e-9)
    assert data["payment"]["ratio"] == "0.95" and data["payment"]["payable"] == "296400.00"
    assert data["payment"]["deduction"] == "15600.00"
    assert COMMENT not in str(result.package)  # free text never enters the package

    # ------------------------------------------------ publication, appeal, final
    published = results.publish(db, finance, evaluation.id, at=PUBLISHED_AT)
    assert published.appeal_deadline == date(2026, 10, 10)
    filed = appeal(db, world, evaluation)
    assert filed.supplier_id == world.supplier.id and filed.leaves == ["A2.2"]
    assert APPEALED_ON <= published.appeal_deadline
    assert results.finalise_due(db, FINAL_ON) == []  # an open appeal holds the result back
    decided = appeals.decide(db, finance, filed.id, outcome="uphold", decision=UPHELD)
    assert decided.status == AppealStatus.upheld
    assert [r.id for r in results.finalise_due(db, FINAL_ON)] == [result.id]
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.final

    # ------------------------------------------------ acceptance and settlement
    today = projects.today()
    accepted_on = today - timedelta(days=36)  # 30 days to pay: due 6 days ago
    acceptance.record(db, purchaser, evaluation.id, {
        "accepted_on": accepted_on.isoformat(), "conclusion": "accepted", "participants": "10",
        "participation": "居民代表 3 人参加现场验收；满意度问卷 10 份",
        "opinion": "居民认为道路保洁及时，个别路段垃圾桶周边仍需加强。",
        "survey_url": ""}, today=today)
    instalments = db.exec(select(Instalment).where(Instalment.contract_id == world.contract.id)
                          .order_by(Instalment.seq)).all()
    assert [i.amount_fen for i in instalments] == [23_400_000, 23_400_000, 31_200_000]
    signing, interim, final = instalments
    assert not settlements.build_sheet(db, interim).ready  # no interim evaluation is final

    second_finance = principal(db, make_user("finance"))
    proposed = settlements.propose(db, purchaser, final.id, evaluation_id=evaluation.id)
    assert (proposed.total, proposed.grade, proposed.ratio) == ("87.15", "良", "0.95")
    assert (proposed.payable_fen, proposed.deduction_fen) == (29_640_000, 1_560_000)
    assert proposed.payable_fen + proposed.deduction_fen == final.amount_fen
    approved = settlements.approve(db, second_finance, proposed.id)
    assert approved.status == SettlementStatus.approved
    fixed = settlements.approve(db, second_finance,
                                settlements.propose(db, purchaser, signing.id).id)
    assert (fixed.ratio, fixed.payable_fen, fixed.deduction_fen) == ("1", 23_400_000, 0)
    assert fixed.payable_fen + approved.payable_fen <= world.contract.amount_fen

    paid = settlements.record_payment(db, finance, approved.id, voucher_no="GK2026-118",
                                      paid_on=today.isoformat())
    assert paid.status == SettlementStatus.paid and paid.due_on == accepted_on + timedelta(30)
    assert paid.late_days == 6
    # interest: ¥296,400 × 0.05 % a day × 6 days = ¥889.20
    assert paid.interest_fen == 88_920

    # ------------------------------------------------ the report says the same
    report = evaluation_report.build(db, finance, evaluation, result)
    assert (report.total, report.grade) == ("87.15", "良")
    lost = {d.id: d for d in report.deductions}
    assert lost["A2.2"].lost == "2.00" and "未穿反光背心" in " ".join(lost["A2.2"].reasons)
    assert lost["A2.1"].lost == "3.00" and "缺 3 天" in " ".join(lost["A2.1"].reasons)
    assert "C2.2" in lost and "B1" in lost and "A1.1" not in lost
    assert [row[0] for row in report.settlements] == [f"JS-{paid.id:06d}"]
    assert report.settlements[0][5] == "¥15,600.00" and "GK2026-118" in report.settlements[0][7]
    assert report.appeals[0][2] == str(appeals.STATUS_LABELS[AppealStatus.upheld])
    document = Document(io.BytesIO(evaluation_report.docx(report)))
    text = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells)
    for expected in ("87.15", "良", "未穿反光背心", "¥296,400.00", "¥15,600.00", "GK2026-118",
                     f"{third['kendall_w']['statistic']:.3f}", world.supplier.name):
        assert expected in text, expected
    assert COMMENT not in text

    client.cookies.clear()
    assert login(client, world.finance.username).status_code == 303
    page = client.get(f"/evaluations/{evaluation.id}/result/report")
    assert page.status_code == 200 and "87.15" in page.text and "GK2026-118" in page.text
    download = client.get(f"/evaluations/{evaluation.id}/result/report.docx")
    assert download.status_code == 200
    assert download.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml")
    assert Document(io.BytesIO(download.content)).tables


def test_an_appeal_that_reopens_indicators_sends_their_sheets_back_to_the_scorers(
        db, client, make_user, make_org):
    """Finance reopens A2.2 and C2.2 on appeal: the purchaser's check sheet (which scores A2.2)
    and the five experts' sheets (C2.2) come back as drafts with the decision and the leaves
    named; the data sheets, which score neither, stay submitted. An expert's page says why."""
    from evalplatform.models import Expert, MemberStatus, Scoresheet, SheetKind, SheetStatus, User
    from evalplatform.services import panel

    world, evaluation = new_chain(db, make_user, make_org)
    fill_sheets(db, world, evaluation)
    answer_survey(db, world, evaluation)
    close_collection(db, world, evaluation)
    finance = principal(db, world.finance)
    results.compute(db, finance, evaluation.id, at=COMPUTED_AT)
    results.publish(db, finance, evaluation.id, at=PUBLISHED_AT)
    appeals.decide(db, finance, appeal(db, world, evaluation).id, outcome="reopen",
                   decision="8 月 12 日为暴雨停工日，请重新评定 A2.2 和 C2.2。",
                   leaves=["A2.2", "C2.2"])
    db.expire_all()
    sheets = db.exec(select(Scoresheet).where(Scoresheet.evaluation_id == evaluation.id)).all()
    back = {s.id for s in sheets if s.status == SheetStatus.draft}
    assert back == {s.id for s in sheets if s.kind in (SheetKind.occasion, SheetKind.expert)}
    assert len(back) == 6 and all(s.status == SheetStatus.submitted for s in sheets
                                  if s.kind == SheetKind.data)
    assert db.get(type(evaluation), evaluation.id).status == EvaluationStatus.scoring

    member = min((m for m in panel.members(db, evaluation.id)
                  if m.status == MemberStatus.seated), key=lambda m: m.id)
    expert_user = db.get(User, db.get(Expert, member.expert_id).user_id)
    mine = next(s for s in sheets if s.kind == SheetKind.expert and s.member_id == member.id)
    assert login(client, expert_user.username).status_code == 303
    page = client.get(f"/evaluations/{evaluation.id}/sheets/{mine.id}").text
    notice = page[page.index('id="reopened"'):page.index("</div>", page.index('id="reopened"'))]
    assert "第 1 号申诉：8 月 12 日为暴雨停工日" in notice
    assert "请重新评分：C2.2 应急保障能力。" in notice  # only its own leaf, not A2.2
    assert 'class="leaf score-again"' in page and page.count("score-again") == 1
    # the supplier, having seen its marks, does not rewrite the self-evaluation the scorers read
    from evalplatform.services import scoresheets
    from evalplatform.services.errors import Conflict

    with pytest.raises(Conflict) as caught:
        scoresheets.save_self_evaluation(db, principal(db, world.supplier_user), evaluation.id,
                                         {"summary": "看到公示分数后修改的自评", "claimed_total": "100"})
    assert "申诉" in caught.value.message
