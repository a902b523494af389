"""In a real Chromium: a finance officer opens a final result that real sheets, a panel of five
and the residents' answers made, reads why a leaf lost points, opens the report, approves the
settlement the purchaser proposed, and downloads the Excel sheet and the Word report."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import select

from evalplatform.models import Instalment, Settlement, SettlementStatus
from evalplatform.services import settlements
from tests.chain_world import new_chain, to_final
from tests.conftest import answering_yes, browser_login
from tests.test_scoresheets_world import principal

pytestmark = pytest.mark.browser


def downloaded(page, selector: str) -> tuple[str, bytes]:
    with page.expect_download() as info:
        page.click(selector)
    download = info.value
    with open(download.path(), "rb") as handle:
        return download.suggested_filename, handle.read()


def test_finance_reads_why_a_leaf_lost_points_approves_and_downloads(page, db, make_user,
                                                                    make_org, viewport):
    world, evaluation = new_chain(db, make_user, make_org)
    to_final(db, world, evaluation)
    final = db.exec(select(Instalment).where(Instalment.contract_id == world.contract.id,
                                             Instalment.seq == 3)).one()
    proposed = settlements.propose(db, principal(db, world.purchaser), final.id,
                                   evaluation_id=evaluation.id, note="终期评价结果已确定")

    browser_login(page, world.finance.username)
    page.goto(f"/evaluations/{evaluation.id}/result")
    assert page.get_by_test_id("result-state").inner_text() == "已确定（申诉期已过）"
    assert page.get_by_test_id("result-total").inner_text() == "87.15"
    assert page.get_by_test_id("result-grade").inner_text() == "良"
    # why A2.2 (安全生产) lost two points: the purchaser's sheet and its reason
    leaf = page.locator("#node-A2\\.2")
    assert "8.00" in leaf.inner_text() and "未穿反光背心" in leaf.inner_text()
    assert "lost" in (leaf.get_attribute("class") or "")
    page.locator("#chart-indicators svg").wait_for()

    page.click("#open-report")
    page.wait_for_url("**/result/report?version=1")
    deduction = page.locator("#deduction-A2\\.2").inner_text()
    assert "扣 2.00 分" in deduction and "未穿反光背心" in deduction
    assert "¥296,400.00" in page.locator("#report-payment").inner_text()
    assert "评价组" in page.locator("#report-panels").inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0

    page.goto(f"/settlements/{proposed.id}")
    assert page.get_by_test_id("settlement-status").inner_text() == "待财政审批"
    answering_yes(page).click("#approve")
    page.wait_for_load_state()
    assert page.get_by_test_id("settlement-status").inner_text() == "已审核，待支付"

    name, body = downloaded(page, "#download-sheet")
    assert name.endswith(".xlsx")
    rows = {row[0]: row[1] for row in load_workbook(io.BytesIO(body)).active.iter_rows(
        values_only=True)}
    assert (rows["应付金额"], rows["扣减金额"], rows["支付比例"]) == (296400, 15600, 0.95)
    assert str(rows["总分"]) == "87.15" and rows["等级"] == "良"
    assert rows["状态"] == "已审核，待支付"

    name, body = downloaded(page, "#download-report")
    assert name.endswith(".docx") and "绩效评价报告" in name
    document = Document(io.BytesIO(body))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "总分 87.15 · 等级 良" in text and "未穿反光背心" in text
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert world.supplier.name in cells and "¥296,400.00" in cells

    settlement = db.exec(select(Settlement).where(Settlement.id == proposed.id)).one()
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved
    assert settlement.decided_by == world.finance.id
