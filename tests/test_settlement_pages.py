"""The settlement pages: who sees what, proposing and deciding through the forms, exports."""

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from evalplatform.models import Settlement, SettlementStatus
from evalplatform.services import settlements
from tests.builders import contracted_world
from tests.conftest import CSRF_RE, login
from tests.settlement_builders import approved_on_signing, final_evaluation, instalment, principal


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def sign_in(client, user):
    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def token(page) -> str:
    return CSRF_RE.search(page.text).group(1)


def test_the_purchaser_proposes_from_the_contract_page_and_finance_approves(client, db, world):
    final_evaluation(db, world, "86.35", "良")
    sign_in(client, world.purchaser)
    url = f"/contracts/{world.contract.id}/settlements"
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-testid="sheet-payable-3">¥296,400.00' in page.text
    assert "得分 ≥ 90（优） → 支付 100%；得分 ≥ 80（良） → 支付 95%" in page.text
    assert "¥312,000.00 × 95% = ¥296,400.00" in page.text  # the trace of the sheet
    response = client.post(url, data={"csrf_token": token(page),
                                      "instalment_id": str(instalment(db, world, 3).id),
                                      "note": "请审核"})
    assert response.status_code == 303
    settlement = db.exec(select(Settlement)).one()
    assert response.headers["location"] == f"/settlements/{settlement.id}"
    # the terms are fixed (a final result): the page says so instead of a form that refuses
    fixed = client.get(url).text
    assert f'action="/contracts/{world.contract.id}/terms"' not in fixed
    assert 'id="terms-fixed"' in fixed and "合同条款不得再改" in fixed
    detail = client.get(response.headers["location"])
    assert 'id="approve"' not in detail.text  # a purchaser does not decide
    sign_in(client, world.finance)
    detail = client.get(f"/settlements/{settlement.id}")
    assert 'data-testid="settlement-payable"><strong>¥296,400.00' in detail.text
    assert 'data-testid="settlement-ratio">95%</dd>' in detail.text  # no space in Chinese
    approve = client.post(f"/settlements/{settlement.id}/approve",
                          data={"csrf_token": token(detail), "version": "1"})
    assert approve.status_code == 303
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved
    again = client.post(f"/settlements/{settlement.id}/approve",
                        data={"csrf_token": token(detail), "version": "1"})
    assert again.status_code == 303  # told why, nothing changed
    flashed = client.get(f"/settlements/{settlement.id}").text
    assert "flash-error" in flashed
    db.refresh(settlement)
    assert settlement.version == 2


def test_a_settlement_that_is_not_ready_is_refused_on_the_page(client, db, world):
    sign_in(client, world.purchaser)
    url = f"/contracts/{world.contract.id}/settlements"
    page = client.get(url)
    assert f'action="/contracts/{world.contract.id}/terms"' in page.text  # not fixed yet
    assert 'id="terms-fixed"' not in page.text
    refused = client.post(url, data={"csrf_token": token(page),
                                     "instalment_id": str(instalment(db, world, 3).id)})
    assert refused.status_code == 422
    assert db.exec(select(Settlement)).first() is None


def test_returning_needs_reasons_and_paying_needs_a_voucher(client, db, world):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    sign_in(client, world.finance)
    detail = client.get(f"/settlements/{settlement.id}")
    bad = client.post(f"/settlements/{settlement.id}/return",
                      data={"csrf_token": token(detail), "version": "1", "reason": ""})
    assert bad.status_code == 422 and 'id="e-reason"' in bad.text
    client.post(f"/settlements/{settlement.id}/approve",
                data={"csrf_token": token(detail), "version": "1"})
    detail = client.get(f"/settlements/{settlement.id}")
    assert 'id="record-payment"' in detail.text
    bad = client.post(f"/settlements/{settlement.id}/payment",
                      data={"csrf_token": token(detail), "version": "2", "voucher_no": "",
                            "paid_on": settlements.projects.today().isoformat()})
    assert bad.status_code == 422 and 'id="e-voucher_no"' in bad.text
    good = client.post(f"/settlements/{settlement.id}/payment",
                       data={"csrf_token": token(detail), "version": "2",
                             "voucher_no": "GK-2026-000777",
                             "paid_on": settlements.projects.today().isoformat()})
    assert good.status_code == 303
    paid = client.get(f"/settlements/{settlement.id}").text
    assert "GK-2026-000777" in paid


def test_finance_closes_an_instalment_deducted_in_full_without_a_voucher(client, db, world):
    final_evaluation(db, world, "59.99", "差")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    sign_in(client, world.finance)
    detail = client.get(f"/settlements/{settlement.id}")
    assert 'id="nothing-to-pay"' in detail.text and 'name="voucher_no"' not in detail.text
    assert "结清" in detail.text or "关闭" in detail.text
    closed = client.post(f"/settlements/{settlement.id}/payment",
                         data={"csrf_token": token(detail), "version": "2",
                               "paid_on": settlements.projects.today().isoformat()})
    assert closed.status_code == 303
    page = client.get(f"/settlements/{settlement.id}").text
    assert "无需支付" in page and "凭证号 None" not in page


def test_the_settlements_history_names_people_not_their_login_names(client, db, world):
    """The supplier reads who proposed and approved by name; government staff's login names
    are no one else's business (they were shown in the history)."""
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    sign_in(client, world.supplier_user)
    page = client.get(f"/settlements/{settlement.id}").text
    history = page[page.index('id="history"'):]
    assert world.purchaser.display_name in history and world.finance.display_name in history
    assert world.purchaser.username not in page and world.finance.username not in page


def test_who_may_see_and_decide(client, db, world, make_user, make_org):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    url = f"/settlements/{settlement.id}"
    for user, status in [
        (world.purchaser, 200), (world.finance, 200), (world.supplier_user, 200),
        (make_user("auditor"), 200),
        (make_user("purchaser", organisation=make_org("purchasing_department", name="别的局")), 404),
        (make_user("supplier"), 404), (make_user("evaluator"), 403), (make_user("admin"), 403),
    ]:
        sign_in(client, user)
        assert client.get(url).status_code == status, user.role
        assert client.get(f"/contracts/{world.contract.id}/settlements").status_code == status
    sign_in(client, world.supplier_user)
    page = client.get("/settlements")
    assert page.status_code == 200 and world.project.name in page.text
    denied = client.post(f"{url}/approve", data={"csrf_token": token(page), "version": "1"})
    assert denied.status_code == 403
    sign_in(client, make_user("supplier"))
    assert world.project.name not in client.get("/settlements").text


def test_finance_downloads_the_sheet_and_the_periods_settlements(client, db, world):
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    sign_in(client, world.finance)
    # the export's two dates are labelled as a pair (not a lone 起 beside 截止日期)
    listing = client.get("/settlements").text
    assert '<label for="f-start">起始日期</label>' in listing
    assert '<label for="f-end">截止日期</label>' in listing
    sheet = client.get(f"/settlements/{settlement.id}/sheet.xlsx")
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith(
        "application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert ("应付金额", 296400) in [(r[0], r[1]) for r in rows]
    today = settlements.projects.today().isoformat()
    period = client.get(f"/settlements/export.xlsx?start={today}&end={today}")
    assert period.status_code == 200
    rows = list(load_workbook(io.BytesIO(period.content)).active.iter_rows(values_only=True))
    assert rows[1][1] == world.project.name
    # when it falls due and how late, as the settlement's own page says (the treasury pays the
    # interest besides the payable amount)
    assert rows[0][-3:] == ("付款期限", "逾期天数", "应付逾期利息")
    payment = settlements.payment_of(db, settlement)
    due = rows[1][17].date() if rows[1][17] else None
    assert due == payment.due.due_on
    late = payment.paid_late_days or payment.overdue_days
    assert rows[1][18] == (late if payment.due.due_on else None)
    bad = client.get("/settlements/export.xlsx?start=2026-13-01&end=2026-01-01")
    assert bad.status_code == 303 and bad.headers["location"] == "/settlements"
    assert "起始日期：" in client.get("/settlements").text  # named by its label, not "start"
    bare = client.get("/settlements/export.xlsx")
    assert bare.status_code == 303
    listing = client.get("/settlements").text
    assert "起始日期：" in listing and "截止日期：" in listing


def test_the_home_page_shows_the_settlement_cards(client, db, world, make_user):
    final_evaluation(db, world, "86.35", "良")
    sign_in(client, world.purchaser)
    home = client.get("/")
    assert "待结算的付款期" in home.text or "Instalments to settle" in home.text
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    sign_in(client, world.finance)
    assert "待审核的结算" in client.get("/").text or "Settlements to approve" in \
        client.get("/").text


def test_the_home_page_puts_what_waits_before_what_is_at_zero(client, db, world):
    """A purchaser with one instalment to settle: that card comes before the cards whose count
    is 0, which are marked quiet (small) and keep their order among themselves."""
    final_evaluation(db, world, "86.35", "良")
    sign_in(client, world.purchaser)
    cards = re.findall(r'<li class="card([^"]*)">.*?<span class="card-title">([^<]+)</span>\s*'
                       r'<span class="card-value">([^<]+)</span>',
                       client.get("/").text.split('data-testid="home-cards"')[1], re.S)
    values = [value for _classes, _title, value in cards]
    assert "待结算的付款期" in [title for _c, title, _v in cards] and "0" in values
    first_zero = values.index("0")
    assert all(v != "0" for v in values[:first_zero]) and set(values[first_zero:]) == {"0"}
    assert all(("quiet" in classes) == (value == "0") for classes, _t, value in cards)


def test_the_contract_pages_parentheses_are_the_readers_languages(client, db, world):
    """Full-width （） around a figure's note in Chinese (默认, the score's grade, the
    instalment's share), ASCII ( ) in English."""
    final_evaluation(db, world, "86.35", "良")
    sign_in(client, world.purchaser)
    url = f"/contracts/{world.contract.id}/settlements"
    page = client.get(url).text
    assert "每日 0.05%（默认）" in page and " (默认)" not in page
    assert "86.35（良）" in page and "86.35 (良)" not in page
    assert "（30%）" in page or "（40%）" in page
    client.post("/language", data={"language": "en", "next": url,
                                   "csrf_token": token(client.get(url))})
    english = client.get(url).text
    assert "0.05 % a day (default)" in english and "86.35 (良)" in english
    assert "（" not in english


def test_the_settlement_sheet_in_excel_has_the_due_date_days_overdue_and_interest(
        client, db, world, monkeypatch):
    from datetime import date, datetime

    # The on-signing instalment (¥234,000) of a small supplier fell due on 4 February 2026,
    # 30 days after signing; on 9 September it is 217 days overdue at 0.05 % a day.
    monkeypatch.setattr("evalplatform.services.projects.today", lambda: date(2026, 9, 9))
    settlement = approved_on_signing(db, world)
    sign_in(client, world.finance)
    page = client.get(f"/settlements/{settlement.id}").text
    assert "已逾期 217 天；截至今日应付逾期利息 ¥25,389.00" in page

    def sheet():
        book = load_workbook(io.BytesIO(client.get(
            f"/settlements/{settlement.id}/sheet.xlsx").content)).active
        return {row[0].value: row[1] for row in book.iter_rows()}

    cells = sheet()
    assert cells["付款期限"].value == datetime(2026, 2, 4)
    assert cells["截至 2026-09-09 的逾期天数"].value == 217
    interest = cells["截至 2026-09-09 应付逾期利息"]
    assert interest.value == 25389 and interest.number_format == '"¥"#,##0.00'
    assert cells["应付金额"].value == 234000
    assert cells["应付金额"].number_format == '"¥"#,##0.00'
    # paid on 10 July: 156 days late, the interest fixed at payment (¥234,000 × 0.05 % × 156)
    settlements.record_payment(db, principal(world.finance), settlement.id,
                               voucher_no="GK-2026-0710", paid_on="2026-07-10")
    cells = sheet()
    assert cells["付款期限"].value == datetime(2026, 2, 4)
    assert cells["逾期支付天数"].value == 156
    assert cells["应付逾期利息"].value == 18252 and cells["应付逾期利息"].number_format == \
        '"¥"#,##0.00'


def test_the_contract_page_labels_take_the_languages_colon(client, db, world):
    """结算: 项目 and JS-000001 : carried an ASCII colon on the Chinese page."""
    final_evaluation(db, world, "86.35", "良")
    settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    sign_in(client, world.supplier_user)
    page = client.get(f"/contracts/{world.contract.id}/settlements").text
    # the supplier reads its contract too: the heading leads to it
    assert f'<h1>结算：<a href="/contracts/{world.contract.id}">{world.project.name}</a></h1>' \
        in page and "结算: " not in page
    assert re.search(r"JS-\d{6}</a>：", page) and not re.search(r"JS-\d{6}</a>:", page)


def test_finance_withdraws_an_approval_from_the_settlement_page(client, db, world, make_user):
    """撤回审核 on the page: only finance, not the proposer; reasons required; back to the
    purchaser, who sees the reasons and proposes again."""
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    url = f"/settlements/{settlement.id}"
    for user in (world.purchaser, world.supplier_user, make_user("auditor")):
        sign_in(client, user)
        page = client.get(url)
        assert page.status_code == 200 and 'id="withdraw-approval"' not in page.text
        denied = client.post(f"{url}/withdraw", data={"csrf_token": token(page), "version": "2",
                                                      "reason": "有误"})
        assert denied.status_code == 403, user.role
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved and settlement.version == 2
    other = make_user("finance")
    sign_in(client, other)
    page = client.get(url)
    assert 'id="withdraw-approval"' in page.text
    bad = client.post(f"{url}/withdraw", data={"csrf_token": token(page), "version": "2",
                                               "reason": " "})
    assert bad.status_code == 422 and 'id="e-reason"' in bad.text
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved
    good = client.post(f"{url}/withdraw", data={"csrf_token": token(page), "version": "2",
                                                "reason": "支付凭证对应的银行账户有误"})
    assert good.status_code == 303 and good.headers["location"] == url
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.returned and settlement.decided_by == other.id
    stale = client.post(f"{url}/withdraw", data={"csrf_token": token(page), "version": "2",
                                                 "reason": "再撤回"})
    assert stale.status_code == 303 and "flash-error" in client.get(url).text
    sign_in(client, world.purchaser)
    page = client.get(url).text
    assert "支付凭证对应的银行账户有误" in page and "撤回审核" in page  # reasons and history
    contract_page = client.get(f"/contracts/{world.contract.id}/settlements")
    proposed = client.post(f"/contracts/{world.contract.id}/settlements",
                           data={"csrf_token": token(contract_page),
                                 "instalment_id": str(instalment(db, world, 1).id)})
    assert proposed.status_code == 303
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.proposed


def test_the_proposer_moved_to_finance_sees_no_withdrawal_form(client, db, world):
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 1).id)
    settlements.approve(db, principal(world.finance), settlement.id)
    from evalplatform.models import User

    mover = db.get(User, world.purchaser.id)
    mover.role, mover.organisation_id = "finance", world.finance.organisation_id
    db.add(mover)
    db.commit()
    sign_in(client, mover)
    page = client.get(f"/settlements/{settlement.id}")
    assert 'id="withdraw-approval"' not in page.text and "不相容" in page.text
    refused = client.post(f"/settlements/{settlement.id}/withdraw",
                          data={"csrf_token": token(page), "version": "2", "reason": "有误"})
    assert refused.status_code == 303  # told why (incompatible duties), nothing changed
    assert "不相容岗位分离" in client.get(f"/settlements/{settlement.id}").text
    db.refresh(settlement)
    assert settlement.status == SettlementStatus.approved


def test_a_stored_settlement_explains_itself_in_the_readers_language(client, db, world):
    """A settlement proposed in Chinese keeps its Chinese words; an English reader of its
    page, its Excel sheet and its API reads the same figures in English. Words of an older
    wording, which cannot be made again from the figures, are shown as stored."""
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    chinese = "总分 86.35（良），落在“得分 ≥ 80（良）”一档，支付比例 95%"
    assert settlement.explanation.startswith(chinese)
    sign_in(client, world.finance)
    url = f"/settlements/{settlement.id}"
    assert chinese in client.get(url).text
    client.post("/language", data={"language": "en", "next": url,
                                   "csrf_token": token(client.get(url))})
    english = "Total 86.35 (良) falls in the band score ≥ 80 (良): 95 % is paid"
    page = client.get(url).text
    assert english in page and chinese not in page
    assert client.get(f"/api/settlements/{settlement.id}").json()["explanation"].startswith(
        english)
    sheet = client.get(f"{url}/sheet.xlsx")
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert any(str(r[1]).startswith(english) for r in rows)
    db.refresh(settlement)
    assert settlement.explanation.startswith(chinese)  # reading changed nothing stored

    settlement.explanation = "按旧版说明：支付 95%。"  # words no longer made from the figures
    db.add(settlement)
    db.commit()
    assert "按旧版说明：支付 95%。" in client.get(url).text


# ---------------------------------------------------------------- QA: money (helper "money")


def test_a_result_whose_appeal_window_closed_is_settled_without_opening_its_result_first(
        client, db, world):
    """Published on 10 July 2026, its appeal window closed long ago with no appeal: the result
    is final (DESIGN: published and its appeal window closed). The contract's settlement page
    reads it so, as the result pages do, without someone having to open the result first."""
    from tests.builders import schedule
    from tests.settlement_builders import add_result, to_status

    evaluation = to_status(db, world, schedule(db, world), "published")
    add_result(db, evaluation, "86.35", "良", final_on=None, published_on=date(2026, 7, 10))
    sign_in(client, world.purchaser)
    page = client.get(f"/contracts/{world.contract.id}/settlements")
    assert 'id="propose-3"' in page.text
    assert 'data-testid="sheet-payable-3">¥296,400.00' in page.text
    db.refresh(evaluation)
    assert evaluation.status.value == "final"



def test_the_sheet_names_who_proposed_and_who_approved_and_prints_without_the_forms(
        client, db, world):
    """The two people of the two-person rule by name on the sheet finance files; printed, the
    decision forms and menus are left out."""
    final_evaluation(db, world, "86.35", "良")
    settlement = settlements.propose(db, principal(world.purchaser), instalment(db, world, 3).id)
    sign_in(client, world.finance)
    page = client.get(f"/settlements/{settlement.id}").text
    assert f'data-testid="proposed-by">{world.purchaser.display_name} · ' in page
    assert 'data-testid="decided-by"' not in page  # nobody decided yet
    assert '<section class="card no-print" id="decide">' in page and '<style media="print">' in page
    settlements.approve(db, principal(world.finance), settlement.id)
    page = client.get(f"/settlements/{settlement.id}").text
    assert f'data-testid="decided-by">{world.finance.display_name} · ' in page
    assert '<section class="card no-print" id="payment">' in page
