"""The third party withdraws a wrong evaluation report (撤回评价报告): only whoever handed it in
(its firm, or its panel seat), only while reports are handed in, with a reason. The file is
kept, never deleted, shown struck through with the reason to the evaluation's readers, and no
longer counts as the report; the next upload replaces it."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlmodel import Session, func, select

from evalplatform import i18n
from evalplatform.models import AuditEntry, EvaluationStatus, ScoringFile
from evalplatform.services import evaluations, files, panel, scoresheets
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tests.conftest import csrf_from, login
from tests.test_scoresheets_world import panel_world, principal

PDF = b"%PDF-1.7\n% the third party's report, first edition\n"
CORRECTED = b"%PDF-1.7\n% the third party's report, corrected\n"
REASON = "误传了上一年度的报告，更正后重新上传。"


@pytest.fixture
def pw(db, make_user, make_org):
    return panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)


@pytest.fixture
def firm(db, pw, make_user, make_org):
    """A third-party firm entrusted with the evaluation, and two of its staff."""
    organisation = make_org("third_party_firm", name="正衡绩效评价咨询")
    panel.assign_firm(db, principal(db, pw.purchaser), pw.evaluation.id, organisation.id)
    return [make_user("evaluator", organisation=organisation) for _ in range(2)]


def zh(message: str, **values) -> str:
    with i18n.language("zh_CN"):
        text = i18n.gettext(message)
        return html.escape(text % values if values else text, quote=False)


def withdrawals(db) -> list[AuditEntry]:
    return list(db.exec(select(AuditEntry)
                        .where(AuditEntry.action == "evaluation.report_withdrawn")))


def untouched(db, file_id: int) -> None:
    db.expire_all()
    record = db.get(ScoringFile, file_id)
    assert (record.withdrawn_at, record.withdrawn_by, record.withdrawal_reason) == (None, None, "")
    assert withdrawals(db) == []


def set_status(db, pw, status: EvaluationStatus) -> None:
    evaluation = db.get(type(pw.evaluation), pw.evaluation.id)
    evaluation.status = status
    db.add(evaluation)
    db.commit()


# ---------------------------------------------------------------- the rule


def test_the_firm_withdraws_its_report_which_is_kept_and_replaced_by_the_next(db, pw, firm):
    staff, colleague = firm
    report = scoresheets.upload_report(db, principal(db, staff), pw.evaluation.id, PDF,
                                       "2025年度评价报告.pdf")
    assert [r.id for r in scoresheets.current_reports(db, pw.evaluation.id)] == [report.id]
    withdrawn = scoresheets.withdraw_report(db, principal(db, colleague), pw.evaluation.id,
                                            report.id, f"  {REASON}  ")
    assert withdrawn.withdrawn_by == colleague.id and withdrawn.withdrawn_at is not None
    assert withdrawn.withdrawal_reason == REASON  # the blanks around it are not kept
    entry = withdrawals(db)[0]
    assert (entry.entity_type, entry.entity_id, entry.actor_id) == (
        "evaluation", str(pw.evaluation.id), colleague.id)
    assert json.loads(entry.change) == {"file": report.id, "sha256": report.sha256,
                                        "filename": "2025年度评价报告.pdf", "reason": REASON}
    # kept: the row and the bytes, still downloadable by finance; no longer the report
    assert db.exec(select(func.count()).select_from(ScoringFile)).one() == 1
    assert files.read(report.sha256) == PDF
    assert scoresheets.readable_file(db, principal(db, pw.world.finance), pw.evaluation.id,
                                     report.id).id == report.id
    assert scoresheets.current_reports(db, pw.evaluation.id) == []
    rows = scoresheets.report_rows(db, pw.evaluation.id)
    assert [(r.file.id, r.withdrawn, r.withdrawn_by) for r in rows] == [
        (report.id, True, colleague.display_name)]
    # the next upload is the replacement, listed first
    replacement = scoresheets.upload_report(db, principal(db, staff), pw.evaluation.id,
                                            CORRECTED, "2026年度评价报告.pdf")
    assert [r.id for r in scoresheets.current_reports(db, pw.evaluation.id)] == [replacement.id]
    assert [r.file.id for r in scoresheets.report_rows(db, pw.evaluation.id)] == [
        replacement.id, report.id]


def test_only_whoever_handed_the_report_in_withdraws_it(db, pw, firm, make_user):
    first, second = pw.seated(db)[:2]
    report = scoresheets.upload_report(db, pw.expert_principal(db, first), pw.evaluation.id,
                                       PDF, "评价报告.pdf")
    others = [pw.expert_principal(db, second), principal(db, firm[0]),
              principal(db, pw.purchaser), principal(db, pw.world.finance),
              principal(db, pw.world.supplier_user), principal(db, make_user("evaluator"))]
    for other in others:
        with pytest.raises(PermissionDenied):
            scoresheets.withdraw_report(db, other, pw.evaluation.id, report.id, REASON)
        untouched(db, report.id)
    done = scoresheets.withdraw_report(db, pw.expert_principal(db, first), pw.evaluation.id,
                                       report.id, REASON)
    assert done.withdrawn_by == pw.user_of(db, first).id


def test_only_a_report_of_the_evaluation_is_withdrawn(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = scoresheets.start(db, who, pw.evaluation.id, "C", "expert")
    evidence = scoresheets.add_evidence(db, who, pw.evaluation.id, sheet.id, "C1.3", PDF, "照片.pdf")
    for file_id in (evidence.id, 999_999):
        with pytest.raises(NotFound):
            scoresheets.withdraw_report(db, who, pw.evaluation.id, file_id, REASON)
    untouched(db, evidence.id)


@pytest.mark.parametrize("reason, accepted", [
    ("", False), ("   ", False), ("撤" * (scoresheets.MAX_REASON + 1), False),
    ("撤" * scoresheets.MAX_REASON, True)])
def test_a_reason_is_required_and_as_long_as_a_scorers_reasons_may_be(db, pw, reason, accepted):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    report = scoresheets.upload_report(db, who, pw.evaluation.id, PDF, "评价报告.pdf")
    if accepted:
        done = scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, reason)
        assert len(done.withdrawal_reason) == scoresheets.MAX_REASON
        return
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, reason)
    assert list(caught.value.errors) == ["reason"]
    with i18n.language("zh_CN"):
        assert i18n.gettext("Reason for withdrawing the report") in caught.value.errors["reason"]
    if reason.strip():
        assert str(scoresheets.MAX_REASON) in caught.value.errors["reason"]
    untouched(db, report.id)


def test_a_report_is_withdrawn_only_while_reports_are_handed_in(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    report = scoresheets.upload_report(db, who, pw.evaluation.id, PDF, "评价报告.pdf")
    for status in (EvaluationStatus.published, EvaluationStatus.final, EvaluationStatus.draft):
        set_status(db, pw, status)
        with pytest.raises(Conflict) as caught:
            scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, REASON)
        with i18n.language("zh_CN"):
            assert str(evaluations.status_label(status)) in caught.value.message
        untouched(db, report.id)
    set_status(db, pw, EvaluationStatus.computed)  # a report is still handed in then
    scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, REASON)
    with pytest.raises(Conflict):  # once
        scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, "再撤一次")
    db.expire_all()
    assert db.get(ScoringFile, report.id).withdrawal_reason == REASON
    assert len(withdrawals(db)) == 1


def test_two_colleagues_withdrawing_at_once_leave_one_withdrawal(db, pw, firm):
    staff, colleague = firm
    report = scoresheets.upload_report(db, principal(db, staff), pw.evaluation.id, PDF,
                                       "评价报告.pdf")
    with Session(db.get_bind(), expire_on_commit=False) as other:
        other.get(ScoringFile, report.id)  # the colleague's page was read before the withdrawal
        scoresheets.withdraw_report(db, principal(db, staff), pw.evaluation.id, report.id, REASON)
        with pytest.raises(Conflict):
            scoresheets.withdraw_report(other, principal(other, colleague), pw.evaluation.id,
                                        report.id, "另一个理由")
    db.expire_all()
    stored = db.get(ScoringFile, report.id)
    assert (stored.withdrawn_by, stored.withdrawal_reason) == (staff.id, REASON)
    assert len(withdrawals(db)) == 1


# ---------------------------------------------------------------- the pages


def sign_in(client, user) -> str:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return csrf_from(client, "/")


def test_the_third_party_withdraws_beside_its_report_and_uploads_the_replacement(client, db, pw):
    member = pw.seated(db)[0]
    report = scoresheets.upload_report(db, pw.expert_principal(db, member), pw.evaluation.id,
                                       PDF, "评价报告.pdf")
    token = sign_in(client, pw.user_of(db, member))
    url = f"/evaluations/{pw.evaluation.id}"
    page = client.get(url).text
    form = re.search(rf'<form [^>]*id="withdraw-report-{report.id}".*?</form>', page, re.S).group(0)
    assert f'action="{url}/reports/{report.id}/withdraw"' in form
    assert f'maxlength="{scoresheets.MAX_REASON}"' in form and "data-confirm=" in form
    refused = client.post(f"{url}/reports/{report.id}/withdraw",
                          data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    assert f'id="e-withdraw-reason-{report.id}"' in refused.text
    assert re.search(r'<details class="withdraw-report" open>', refused.text)
    too_long = "误" * (scoresheets.MAX_REASON + 1)
    refused = client.post(f"{url}/reports/{report.id}/withdraw",
                          data={"csrf_token": token, "reason": too_long})
    assert refused.status_code == 422 and f">{too_long}</textarea>" in refused.text
    untouched(db, report.id)
    done = client.post(f"{url}/reports/{report.id}/withdraw",
                       data={"csrf_token": token, "reason": REASON})
    assert done.status_code == 303 and done.headers["location"] == url
    db.expire_all()
    assert db.get(ScoringFile, report.id).withdrawal_reason == REASON
    page = client.get(url).text
    mine = re.search(rf'<p class="withdrawn" data-testid="my-report-{report.id}".*?</p>', page,
                     re.S).group(0)
    assert "<del>" in mine and "评价报告.pdf" in mine and REASON in mine
    assert f'id="withdraw-report-{report.id}"' not in page
    uploaded = client.post(f"{url}/report", data={"csrf_token": token},
                           files={"file": ("更正后的评价报告.pdf", CORRECTED, "application/pdf")})
    assert uploaded.status_code == 303
    replacement = scoresheets.current_reports(db, pw.evaluation.id)
    assert [r.filename for r in replacement] == ["更正后的评价报告.pdf"]
    assert f'id="withdraw-report-{replacement[0].id}"' in client.get(url).text


def test_insiders_read_the_withdrawn_report_struck_through_with_why_who_and_when(
        client, db, pw, make_user):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    report = scoresheets.upload_report(db, who, pw.evaluation.id, PDF, "评价报告.pdf")
    scoresheets.withdraw_report(db, who, pw.evaluation.id, report.id, REASON)
    db.expire_all()
    withdrawer = pw.user_of(db, member).display_name
    pages = {"finance": [""], "auditor": [""], "purchaser": ["", "/scoring"]}
    users = {"finance": pw.world.finance, "auditor": make_user("auditor"),
             "purchaser": pw.purchaser}
    for role, user in users.items():
        sign_in(client, user)
        for suffix in pages[role]:
            page = client.get(f"/evaluations/{pw.evaluation.id}{suffix}").text
            item = re.search(rf'<li class="withdrawn" data-testid="report-{report.id}"'
                             rf'.*?</li>', page, re.S)
            assert item, (role, suffix)
            assert "<del>" in item.group(0) and "评价报告.pdf" in item.group(0)
            assert REASON in item.group(0) and withdrawer in item.group(0)
            assert 'data-testid="no-current-report"' in page, (role, suffix)
        kept = client.get(f"/evaluations/{pw.evaluation.id}/files/{report.id}")
        assert kept.status_code == 200 and kept.content == PDF
    # the replacement counts: no longer "no report", listed before the withdrawn one
    scoresheets.upload_report(db, who, pw.evaluation.id, CORRECTED, "更正后的评价报告.pdf")
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert 'data-testid="no-current-report"' not in page
    assert page.index("更正后的评价报告.pdf") < page.index("<del>")


def test_only_the_third_party_reaches_the_withdrawal(client, db, pw, make_user):
    first, second = pw.seated(db)[:2]
    report = scoresheets.upload_report(db, pw.expert_principal(db, first), pw.evaluation.id,
                                       PDF, "评价报告.pdf")
    url = f"/evaluations/{pw.evaluation.id}/reports/{report.id}/withdraw"
    expected = {"finance": 403, "purchaser": 403, "supplier": 403, "auditor": 403,
                "unassigned evaluator": 404, "another expert": 303}
    users = {"finance": pw.world.finance, "purchaser": pw.purchaser,
             "supplier": pw.world.supplier_user, "auditor": make_user("auditor"),
             "unassigned evaluator": make_user("evaluator"),
             "another expert": pw.user_of(db, second)}
    for name, user in users.items():
        token = sign_in(client, user)
        answer = client.post(url, data={"csrf_token": token, "reason": REASON})
        assert answer.status_code == expected[name], name
        untouched(db, report.id)
    # the other expert is told why, and sees no withdrawal form for a report not its own
    page = client.get(f"/evaluations/{pw.evaluation.id}").text
    assert "flash-error" in page and f'id="withdraw-report-{report.id}"' not in page
    token = sign_in(client, pw.user_of(db, first))
    assert client.post(url, data={"reason": REASON}).status_code == 403  # no CSRF token
    untouched(db, report.id)
