"""Supplier standing (履约信用): barred, warned, preferred — each with its reason; complaints."""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import func, select

from evalplatform.i18n import language
from evalplatform.models import Contract, StandingSettings, SupplierComplaint
from evalplatform.services import catalogue, contracts, projects, settlements, standing
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world
from tests.conftest import login, statements_of
from tests.settlement_builders import final_evaluation, principal


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def new_project(db, world, name="2027年道路保洁服务"):
    leaf = next(e for e in catalogue.list_entries(db) if e.level == 3)
    return projects.register(db, world.p_actor, department_id=world.department.id, values={
        "name": name, "catalogue_entry_id": str(leaf.id), "content": "道路清扫保洁",
        "recipients": "主城区居民", "year": "2027", "budget": "600,000.00",
        "budget_line": "城市维护费", "procurement_method": "competitive_consultation"})


def contract_values(world, signed_on):
    return {"supplier_id": str(world.supplier.id), "amount": "580000.00", "signed_on": signed_on,
            "term_months": "12", "content": "道路清扫保洁", "performance_targets": "保洁达标率 95%",
            "payment_rule": "bands"}


def record(db, world, project, signed_on):
    return contracts.record_contract(db, world.p_actor, project.id,
                                     contract_values(world, signed_on),
                                     [contracts.InstalmentInput("100%", "on_signing", False)])


def test_a_poor_result_bars_the_supplier_until_the_end_of_next_year(db, world):
    final_evaluation(db, world, "58.20", "差", final_on=date(2026, 7, 20))
    bar = standing.bar_on(db, world.supplier.id, date(2026, 8, 1))
    assert bar is not None and bar.until == date(2027, 12, 31)
    assert standing.bar_on(db, world.supplier.id, date(2026, 7, 19)) is None  # not final yet
    assert standing.bar_on(db, world.supplier.id, date(2028, 1, 1)) is None
    found = standing.standing_of(db, world.supplier, date(2026, 8, 1))
    assert found.level == "barred" and "58.20" in found.reasons[0]


def test_contract_registration_refuses_a_barred_supplier_naming_the_reason(db, world,
                                                                           monkeypatch):
    final_evaluation(db, world, "58.20", "差", final_on=date(2026, 7, 20))
    project = new_project(db, world)
    monkeypatch.setattr(projects, "today", lambda: date(2026, 9, 1))
    with language("en"), pytest.raises(ValidationFailed) as caught:
        record(db, world, project, "2026-09-01")
    message = caught.value.errors["supplier_id"]
    assert world.supplier.name in message and "2027-12-31" in message
    assert "58.20" in message and world.project.name in message
    # Nor by dating the contract before the result that bars the supplier became final.
    with pytest.raises(ValidationFailed) as caught:
        record(db, world, project, "2026-07-01")
    assert "2027-12-31" in caught.value.errors["supplier_id"]
    # Nor is the bar passed by dating the contract after it ends.
    with pytest.raises(ValidationFailed) as caught:
        record(db, world, project, "2028-01-02")
    assert "signed_on" in caught.value.errors
    assert contracts.for_project(db, project.id) is None
    db.refresh(project)
    assert project.status != "contracted"
    monkeypatch.setattr(projects, "today", lambda: date(2028, 1, 2))
    assert record(db, world, project, "2028-01-02").supplier_id == world.supplier.id


def test_a_total_below_60_bars_even_with_another_grade_name(db, world):
    final_evaluation(db, world, "59.99", "中", final_on=date(2026, 7, 20))
    assert standing.bar_on(db, world.supplier.id, date(2026, 8, 1)) is not None


def test_two_results_in_a_row_below_the_threshold_flag_the_contract_and_warn(db, world):
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    assert standing.standing_of(db, world.supplier, date(2026, 8, 1)).level == "normal"
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    found = standing.standing_of(db, world.supplier, date(2026, 8, 1))
    assert found.level == "warned" and len(found.flags) == 1
    flag = found.flags[0]
    assert flag.running and flag.threshold == 80 and flag.contract.id == world.contract.id
    assert "78.00" in flag.reason and "79.99" in flag.reason


def second_contract(db, world):
    """The same supplier's contract for another project of the department, with the scheme."""
    import dataclasses

    from evalplatform.services import evaluations

    project = new_project(db, world, "2026年背街小巷保洁服务")
    contract = record(db, world, project, "2026-02-01")
    other = dataclasses.replace(world, project=project, contract=contract)
    evaluations.assign_scheme(db, world.purchaser_principal, contract.id,
                              world.scheme.id)
    return other


@pytest.mark.parametrize("second_total, level", [("78.00", "warned"), ("80.00", "normal")])
def test_two_results_in_a_row_below_the_threshold_across_contracts_warn(db, world,
                                                                         second_total, level):
    """No single contract has two low results, so none is flagged for termination review,
    but the supplier's two latest results are each below its contract's threshold."""
    final_evaluation(db, world, "75.00", "中", final_on=date(2026, 3, 1))
    final_evaluation(db, second_contract(db, world), second_total, "中" if level == "warned"
                     else "良", start="2026-02-01", final_on=date(2026, 6, 1))
    found = standing.standing_of(db, world.supplier, date(2026, 8, 1))
    assert found.level == level and found.flags == []
    if level == "warned":
        assert "75.00" in found.reasons[0] and "78.00" in found.reasons[0]


def test_the_contracts_own_threshold_decides_the_flag(db, world):
    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.05", termination_threshold="85")
    final_evaluation(db, world, "82.00", "良", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "84.00", "良", final_on=date(2026, 7, 20))
    assert standing.standing_of(db, world.supplier, date(2026, 8, 1)).level == "warned"


def test_a_recovered_result_clears_the_flag(db, world):
    final_evaluation(db, world, "75.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "86.00", "良", final_on=date(2026, 7, 20))
    assert standing.standing_of(db, world.supplier, date(2026, 8, 1)).flags == []


def test_an_excellent_latest_result_marks_the_supplier_preferred(db, world):
    final_evaluation(db, world, "92.40", "优", final_on=date(2026, 7, 20))
    found = standing.standing_of(db, world.supplier, date(2026, 8, 1))
    assert found.level == "preferred" and "92.40" in found.reasons[0]
    later = standing.standing_of(db, world.supplier, date(2030, 8, 1))  # no longer recent
    assert later.level == "unrated"


def test_finance_changes_the_rules_and_the_standing_follows(db, world):
    final_evaluation(db, world, "58.20", "差", final_on=date(2026, 7, 20))
    values = {"bar_grade": "差", "bar_below": "60", "bar_years": "2", "warn_consecutive": "2",
              "default_threshold": "80", "preferred_grade": "优", "lookback_years": "3"}
    with pytest.raises(PermissionDenied):
        standing.update_settings(db, principal(world.purchaser), values)
    rules = standing.update_settings(db, principal(world.finance), values)
    assert rules.recorded and rules.bar_years == 2
    assert standing.bar_on(db, world.supplier.id, date(2026, 8, 1)).until == date(2028, 12, 31)


def test_bad_rules_are_refused_and_nothing_changes(db, world):
    good = {"bar_grade": "差", "bar_below": "60", "bar_years": "1", "warn_consecutive": "2",
            "default_threshold": "80", "preferred_grade": "优", "lookback_years": "3"}
    for changes, field in [({"bar_below": "101"}, "bar_below"), ({"bar_years": "9"}, "bar_years"),
                           ({"warn_consecutive": "1"}, "warn_consecutive"),
                           ({"bar_grade": ""}, "bar_grade"), ({"lookback_years": "x"},
                                                              "lookback_years"),
                           ({"default_threshold": "80.123"}, "default_threshold")]:
        with pytest.raises(ValidationFailed) as caught:
            standing.update_settings(db, principal(world.finance), {**good, **changes})
        assert field in caught.value.errors
        assert db.exec(select(func.count()).select_from(StandingSettings)).one() == 0


def test_a_grade_name_no_result_has_is_refused_naming_the_field_and_the_grades(db, world,
                                                                             client):
    good = {"bar_grade": "差", "bar_below": "60", "bar_years": "1", "warn_consecutive": "2",
            "default_threshold": "80", "preferred_grade": "优", "lookback_years": "3"}
    for field, label in (("bar_grade", "禁止承接的等级"), ("preferred_grade", "列为优选的等级")):
        with pytest.raises(ValidationFailed) as caught:
            standing.update_settings(db, principal(world.finance), {**good, field: "极差"})
        message = caught.value.errors[field]
        assert label in message and "极差" in message and "优、良、中、差" in message
        assert db.exec(select(func.count()).select_from(StandingSettings)).one() == 0
    # a grade a scheme defines is a grade a result can have
    scheme = world.scheme
    scheme.document = {**scheme.document,
                       "grades": [*scheme.document["grades"][:-1], {"name": "不合格", "min": "0"}]}
    db.add(scheme)
    db.commit()
    assert standing.update_settings(db, principal(world.finance),
                                    {**good, "bar_grade": "不合格"}).bar_grade == "不合格"
    login(client, world.finance.username)
    from tests.conftest import csrf_from

    token = csrf_from(client, "/standing")
    page = client.post("/standing/settings", data={**good, "csrf_token": token,
                                                   "bar_grade": "极差"})
    assert page.status_code == 422 and "禁止承接的等级：没有任何评价结果" in page.text
    assert "极差" in page.text and "优、良、中、差、不合格" in page.text
    assert standing.settings(db).bar_grade == "不合格"


def test_complaints_are_recorded_by_the_department_or_finance_without_personal_data(
        db, world, make_user, make_org):
    purchaser = principal(world.purchaser)
    standing.record_complaint(db, purchaser, world.contract.id, received_on="2026-03-02",
                              summary="两次未按时清运，经现场核实属实", today=date(2026, 11, 1))
    for bad, field in (({"received_on": "2025-12-01"}, "received_on"),
                       ({"received_on": "2026-12-01"}, "received_on"),
                       ({"summary": ""}, "summary"),
                       ({"summary": "投诉人 13912345678"}, "summary")):
        arguments = {"received_on": "2026-03-02", "summary": "属实", **bad}
        with pytest.raises(ValidationFailed) as caught:
            standing.record_complaint(db, purchaser, world.contract.id, today=date(2026, 11, 1),
                                      **arguments)
        assert field in caught.value.errors
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    with pytest.raises(PermissionDenied):
        standing.record_complaint(db, principal(stranger), world.contract.id,
                                  received_on="2026-03-02", summary="x", today=date(2026, 11, 1))
    assert db.exec(select(func.count()).select_from(SupplierComplaint)).one() == 1
    assert standing.standing_of(db, world.supplier, date(2026, 11, 1)).complaints == 1


# ---------------------------------------------------------------- pages


def test_finance_sees_every_standing_and_a_supplier_only_its_own(client, db, world, make_user):
    final_evaluation(db, world, "58.20", "差", final_on=date(2026, 7, 20))
    login(client, world.finance.username)
    page = client.get("/standing")
    assert page.status_code == 200 and world.supplier.name in page.text
    assert "58.20" in page.text
    client.cookies.clear()
    login(client, world.supplier_user.username)
    mine = client.get("/standing")
    assert mine.status_code == 200 and "2027-12-31" in mine.text
    assert client.get(f"/standing/{world.supplier.id}").status_code == 200
    stranger = make_user("supplier")
    assert client.get(f"/standing/{stranger.organisation_id}").status_code == 404
    assert client.post("/standing/settings", data={}).status_code in (403, 400)


def test_the_contract_settlement_page_lists_the_flag_threshold_and_records_a_complaint(
        client, db, world):
    from tests.conftest import csrf_from

    login(client, world.purchaser.username)
    url = f"/contracts/{world.contract.id}/settlements"
    token = csrf_from(client, url)
    bad = client.post(f"/contracts/{world.contract.id}/complaints",
                      data={"csrf_token": token, "received_on": "", "summary": ""})
    assert bad.status_code == 422 and 'id="e-summary"' in bad.text
    good = client.post(f"/contracts/{world.contract.id}/complaints",
                       data={"csrf_token": token, "received_on": "2026-03-02",
                             "summary": "未按时清运，核实属实"})
    assert good.status_code == 303
    assert "未按时清运" in client.get(url).text
    assert db.get(Contract, world.contract.id) is not None


def test_a_flagged_contract_gets_its_termination_review_decided_once(db, world, make_user,
                                                                       make_org):
    from evalplatform.models import TerminationReview

    with pytest.raises(Conflict) as caught:  # nothing to review yet
        standing.review(db, principal(world.finance), world.contract.id, decision="continue",
                        reason="x", today=date(2026, 8, 1))
    assert "未列入终止审查" in caught.value.message
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    with pytest.raises(PermissionDenied):
        standing.review(db, principal(stranger), world.contract.id, decision="terminate",
                        reason="x", today=date(2026, 8, 1))
    with pytest.raises(ValidationFailed) as caught:
        standing.review(db, principal(world.purchaser), world.contract.id, decision="maybe",
                        reason=" ", today=date(2026, 8, 1))
    assert set(caught.value.errors) == {"decision", "review_reason"}
    assert db.exec(select(func.count()).select_from(TerminationReview)).one() == 0
    standing.review(db, principal(world.purchaser), world.contract.id, decision="continue",
                    reason="约谈承接主体，限期整改保洁质量，下季度复查", today=date(2026, 8, 1))
    flag = standing.flag_of(db, db.get(Contract, world.contract.id), date(2026, 8, 1))
    assert flag.review is not None and flag.review.decision == "continue"
    with pytest.raises(Conflict):  # decided once
        standing.review(db, principal(world.finance), world.contract.id, decision="terminate",
                        reason="再议", today=date(2026, 8, 1))
    assert db.exec(select(func.count()).select_from(TerminationReview)).one() == 1
    assert standing.standing_of(db, world.supplier, date(2026, 8, 1)).level == "warned"


def test_the_review_form_on_the_contract_page(client, db, world):
    from tests.conftest import csrf_from

    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    login(client, world.finance.username)
    url = f"/contracts/{world.contract.id}/settlements"
    token = csrf_from(client, url)
    bad = client.post(f"/contracts/{world.contract.id}/termination-review",
                      data={"csrf_token": token, "decision": "", "review_reason": ""})
    assert bad.status_code == 422 and 'id="e-review_reason"' in bad.text
    good = client.post(f"/contracts/{world.contract.id}/termination-review",
                       data={"csrf_token": token, "decision": "terminate",
                             "review_reason": "连续两次低于约定分数且整改无效"})
    assert good.status_code == 303
    assert 'data-testid="review-decision"><strong>终止合同' in client.get(url).text
    assert "已审查：终止合同" in client.get("/standing").text


def test_the_standing_pages_link_only_to_what_the_reader_can_open(client, db, world, make_user,
                                                                   make_org):
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    contract_url = f"/contracts/{world.contract.id}/settlements"
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    login(client, stranger.username)
    page = client.get("/standing")
    assert page.status_code == 200
    assert 'id="flags"' not in page.text  # another department's flag is not listed
    assert contract_url not in page.text  # nor linked: that page is not the stranger's
    assert client.get(contract_url).status_code in (403, 404)
    detail = client.get(f"/standing/{world.supplier.id}")
    assert detail.status_code == 200 and "/evaluations/" not in detail.text
    client.cookies.clear()
    login(client, world.purchaser.username)
    own = client.get("/standing").text.split('id="flags"')[1]
    assert f'href="{contract_url}#review"' in own
    assert client.get(contract_url).status_code == 200
    evaluation_links = client.get(f"/standing/{world.supplier.id}").text.count(
        'href="/evaluations/')
    assert evaluation_links == 2  # its own department's evaluations are linked


def test_the_rules_form_offers_the_grades_a_result_can_have_to_pick_from(db, world, client):
    from tests.conftest import csrf_from

    scheme = world.scheme
    scheme.document = {**scheme.document,
                       "grades": [*scheme.document["grades"][:-1], {"name": "不合格", "min": "0"}]}
    db.add(scheme)
    db.commit()
    login(client, world.finance.username)
    page = client.get("/standing").text
    form = page.split('id="rules-form"')[1].split("</form>")[0]
    for name, current in (("bar_grade", "差"), ("preferred_grade", "优")):
        picker = form.split(f'<select id="f-{name}" name="{name}"')[1].split("</select>")[0]
        # a pick among the grades, not a text box to mistype in; the rule's grade chosen
        assert [g for g in ("优", "良", "中", "差", "不合格")
                if f'<option value="{g}"' in picker] == ["优", "良", "中", "差", "不合格"]
        assert f'<option value="{current}" selected>' in picker
        assert f'name="{name}" type="text"' not in form
    token = csrf_from(client, "/standing")
    saved = client.post("/standing/settings", data={
        "csrf_token": token, "bar_grade": "不合格", "bar_below": "60", "bar_years": "1",
        "warn_consecutive": "2", "default_threshold": "80", "preferred_grade": "良",
        "lookback_years": "3"})
    assert saved.status_code == 303
    again = client.get("/standing").text
    assert '<option value="不合格" selected>' in again and '<option value="良" selected>' in again
    assert standing.settings(db).bar_grade == "不合格"


def test_a_purchaser_reads_termination_flags_only_of_its_own_departments_contracts(
        client, db, world, make_user, make_org):
    """Two purchasers of different departments: the flag, its threshold and its review are the
    owning department's business; the other sees the supplier warned, from published results."""
    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.05", termination_threshold="85")
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    standing.review(db, principal(world.purchaser), world.contract.id, decision="terminate",
                    reason="整改无效，提请终止", today=projects.today())
    other = make_user("purchaser", organisation=make_org("purchasing_department",
                                                         name="临江市民政局"))
    # the rule, in the service
    mine = standing.standing_of(db, world.supplier, reader=principal(world.purchaser))
    theirs = standing.standing_of(db, world.supplier, reader=principal(other))
    assert mine.level == theirs.level == "warned"
    assert len(mine.flags) == 1 and theirs.flags == []
    assert "85" in mine.reasons[0] and "85" not in theirs.reasons[0]
    assert "78.00" in theirs.reasons[0] and "79.99" in theirs.reasons[0]  # published results
    for reader in (world.finance, make_user("auditor"), world.supplier_user):
        assert len(standing.standing_of(db, world.supplier, reader=principal(reader)).flags) == 1
    # the pages
    login(client, other.username)
    for url in ("/standing", f"/standing/{world.supplier.id}"):
        page = client.get(url).text
        assert world.supplier.name in page and "警示" in page and "79.99" in page
        assert "约定的 85" not in page  # the contract's threshold
        assert 'id="flags"' not in page and "已审查" not in page and "终止合同" not in page
        assert "整改无效" not in page and mine.reasons[0] not in page
    client.cookies.clear()
    login(client, world.purchaser.username)
    own = client.get("/standing").text
    flags = own.split('id="flags"')[1]
    assert world.project.name in flags and "已审查：终止合同" in flags and "约定的 85" in flags
    assert mine.reasons[0] in own
    assert "约定的 85" in client.get(f"/standing/{world.supplier.id}").text


def test_complaint_summaries_on_a_standing_page_are_the_departments_own(client, db, world,
                                                                         make_user, make_org):
    """The count weighs in selection for everyone; what was complained of and how it was
    verified is read by the department that recorded it, finance, auditors and the supplier."""
    standing.record_complaint(db, principal(world.purchaser), world.contract.id,
                              received_on="2026-03-02", summary="两次未按时清运，经现场核实属实")
    other = make_user("purchaser", organisation=make_org("purchasing_department"))
    url = f"/standing/{world.supplier.id}"
    for user, shown in ((other, False), (world.purchaser, True), (world.finance, True),
                        (make_user("auditor"), True), (world.supplier_user, True)):
        client.cookies.clear()
        login(client, user.username)
        page = client.get(url).text
        assert ("两次未按时清运" in page) is shown, user.role
        assert "年有效投诉：1 次" in page  # the count, for everyone


def test_a_flag_on_a_contract_that_has_ended_awaits_no_review(client, db, world, monkeypatch):
    """Two low results of a contract whose term is over: the supplier stays warned, but there
    is nothing left to terminate, so no review waits for a decision and none is taken."""
    from evalplatform.models import TerminationReview

    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    during, after = date(2026, 8, 1), date(2027, 2, 1)  # the term ends on 2027-01-04
    assert standing.flag_of(db, world.contract, during).awaiting_review
    found = standing.standing_of(db, world.supplier, after)
    assert found.level == "warned" and not found.flags[0].awaiting_review
    assert "2027-01-04" in found.reasons[0] and "列入终止审查" not in found.reasons[0]
    with pytest.raises(Conflict) as caught:
        standing.review(db, principal(world.finance), world.contract.id, decision="terminate",
                        reason="终止", today=after)
    assert "2027-01-04" in caught.value.message
    assert db.exec(select(func.count()).select_from(TerminationReview)).one() == 0
    monkeypatch.setattr(projects, "today", lambda: after)
    login(client, world.finance.username)
    flags = client.get("/standing").text.split('id="flags"')[1]
    assert "合同已履行完毕，无需作出审查结论" in flags and "待作出审查结论" not in flags
    assert "0 份合同的终止审查待作出结论" in client.get("/").text
    contract_page = client.get(f"/contracts/{world.contract.id}/settlements").text
    review = contract_page.split('id="review"')[1].split("</section>")[0]
    assert 'data-testid="review-ended"' in review and "termination-review" not in review


def test_a_flag_on_the_standing_page_names_its_project_once(client, db, world):
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    login(client, world.purchaser.username)
    page = client.get("/standing").text
    item = page.split(f'data-testid="flag-{world.contract.id}"')[1].split("</li>")[0]
    # not "项目: 项目：连续 2 次…", the name twice with an English colon between
    assert item.count(world.project.name) == 1 and f"{world.project.name}:" not in item
    assert f'href="/contracts/{world.contract.id}/settlements#review"' in item


def test_the_purchasing_departments_home_says_a_termination_review_waits(client, db, world,
                                                                          make_user, make_org):
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.99", "中", final_on=date(2026, 7, 20))
    login(client, world.purchaser.username)
    cards = client.get("/").text.split('data-testid="home-cards"')[1].split("</ul>")[0]
    card = cards.split('<a href="/standing#flags">')[1].split("</a>")[0]
    assert "终止审查待作出结论" in card and '<span class="card-value">1</span>' in card
    other = make_user("purchaser", organisation=make_org("purchasing_department"))
    client.cookies.clear()
    login(client, other.username)
    assert "/standing#flags" not in client.get("/").text  # not the other department's business
    standing.review(db, principal(world.purchaser), world.contract.id, decision="continue",
                    reason="限期整改", today=projects.today())
    client.cookies.clear()
    login(client, world.purchaser.username)
    assert "/standing#flags" not in client.get("/").text  # decided: nothing waits


def test_the_standing_chart_draws_each_results_own_contract_threshold(client, db, world):
    import json
    import re

    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.05", termination_threshold="85")
    final_evaluation(db, world, "82.00", "良", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "88.00", "良", final_on=date(2026, 7, 20))
    login(client, world.finance.username)
    page = client.get(f"/standing/{world.supplier.id}").text
    chart = json.loads(re.search(r"data-chart='([^']*)'", page).group(1).replace("&#39;", "'"))
    total, threshold = chart["series"]
    assert total["data"] == [82.0, 88.0]
    # the contract's own threshold (85), not the platform's default (80), and no default line
    assert threshold["data"] == [85.0, 85.0] and threshold["name"] == "合同考核阈值"
    assert [m["yAxis"] for m in total["markLine"]["data"]] == [60.0]  # the bar only
    assert total["markLine"]["lineStyle"]["type"] == "solid"  # "the dashed line" is one line
    assert threshold["lineStyle"]["type"] == "dashed"
    assert threshold["symbol"] != "none"  # a lone result's threshold is a mark, not nothing
    assert chart["xAxis"]["data"] == ["2026-07-10", "2026-07-20"]  # when each became final
    rows = page.split('id="results-table"')[1]
    assert rows.count('data-label="合同考核阈值" class="num">85</td>') == 2


def _chart_and_rows(page: str):
    import json
    import re

    chart = json.loads(re.search(r"data-chart='([^']*)'", page).group(1).replace("&#39;", "'"))
    return chart, page.split('id="results-table"')[1]


def test_the_chart_draws_the_default_threshold_the_rules_set_and_says_it_is_the_default(
        client, db, world):
    """Where a contract sets no threshold, its results are held to the standing rules' default
    (finance sets it; 75 here, not 80): the chart draws that, the table marks it as the
    default and the legend says which threshold the dashed line is."""
    standing.update_settings(db, principal(world.finance), {
        "bar_grade": "差", "bar_below": "60", "bar_years": "1", "warn_consecutive": "2",
        "default_threshold": "75", "preferred_grade": "优", "lookback_years": "3"})
    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "77.00", "中", final_on=date(2026, 7, 20))
    login(client, world.finance.username)
    page = client.get(f"/standing/{world.supplier.id}").text
    chart, rows = _chart_and_rows(page)
    assert chart["series"][1]["data"] == [75.0, 75.0]
    assert rows.count('data-label="合同考核阈值" class="num">75（默认）</td>') == 2
    assert "履约信用规则的默认值 75 分" in page and "连续 2 次低于该线" in page
    assert standing.standing_of(db, world.supplier).level == "normal"  # 78, 77: not below 75


def test_another_departments_purchaser_sees_the_results_but_not_the_contracts_threshold(
        client, db, world, make_user, make_org):
    """A threshold is a contract term, kept from other departments as the flag's is."""
    settlements.set_terms(db, principal(world.purchaser), world.contract.id,
                          interest_per_day="0.05", termination_threshold="85")
    final_evaluation(db, world, "82.00", "良", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "88.00", "良", final_on=date(2026, 7, 20))
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    login(client, stranger.username)
    page = client.get(f"/standing/{world.supplier.id}").text
    chart, rows = _chart_and_rows(page)
    assert chart["series"][0]["data"] == [82.0, 88.0]  # the published results
    assert chart["series"][1]["data"] == [None, None] and "85" not in rows
    assert rows.count('data-label="合同考核阈值" class="num">—</td>') == 2
    assert "其他部门合同的分数线属于合同条款，不予显示。" in page
    client.cookies.clear()
    login(client, world.purchaser.username)  # the owning department reads its term
    chart, rows = _chart_and_rows(client.get(f"/standing/{world.supplier.id}").text)
    assert chart["series"][1]["data"] == [85.0, 85.0]


def test_every_suppliers_standing_is_read_in_as_many_statements_however_many_suppliers(
        db, make_user, make_org):
    """The standing page and the finance home read every supplier's results, complaints and
    contract terms once, not once per supplier."""
    def statements() -> int:
        found, count = statements_of(db, lambda: standing.all_standings(db, date(2026, 11, 1)))
        assert found
        return count

    world = contracted_world(db, make_user, make_org, n=1)
    final_evaluation(db, world, "92.00", "优")
    db.expire_all()
    one = statements()
    for n, total in ((2, "55.00"), (3, "84.00"), (4, "91.00")):
        final_evaluation(db, contracted_world(db, make_user, make_org, n=n), total, "良")
    db.expire_all()
    assert len(standing.all_standings(db, date(2026, 11, 1))) >= 4
    db.expire_all()
    assert statements() == one


def test_satisfaction_is_the_recipients_part_else_the_survey_indicators_score_rate():
    from evalplatform.models import EvaluationResult

    with_part = EvaluationResult(result={"parts": [
        {"id": "P", "party": "purchaser", "score": "90"},
        {"id": "R", "party": "recipient", "score": "84.5"}]})
    assert standing._satisfaction(with_part) == Decimal("84.5")
    one_part = EvaluationResult(result={"parts": [{"id": "P", "party": "purchaser",
                                                   "score": "88"}], "nodes": {
        "B1": {"rule": "survey_rate", "points": "10", "applicable": "10", "score": "9.89"},
        "B2": {"rule": "survey_mean", "points": "10", "applicable": "10", "score": "8.11"},
        "A1": {"rule": "points", "points": "80", "applicable": "80", "score": "70"}}})
    assert standing._satisfaction(one_part) == Decimal("90")  # (9.89 + 8.11) / 20 × 100
    assert standing._satisfaction(EvaluationResult(result={"parts": [], "nodes": {}})) is None


# ---------------------------------------------------------------- results final by the rules


def published_evaluation(db, world, total: str, grade: str, published_on: date):
    """A result published on ``published_on`` (its last day to appeal), not marked final: the
    lazy finalisation (``results.finalise_due``) has not run since its window closed."""
    from tests.builders import schedule
    from tests.settlement_builders import add_result, to_status

    evaluation = to_status(db, world, schedule(db, world), "published")
    add_result(db, evaluation, total, grade, final_on=None, published_on=published_on)
    return evaluation


def test_a_result_whose_appeal_window_closed_bars_before_anyone_marks_it_final(
        db, world, monkeypatch):
    """The results were marked final only when a results page loaded (or by the command), and
    the standing read only marked ones: a 差 result whose window had closed let its supplier
    sign a new contract until someone happened to open a results page."""
    evaluation = published_evaluation(db, world, "55.00", "差", date(2026, 7, 10))
    # inside the window it is provisional: nothing counts yet
    assert standing.standing_of(db, world.supplier, date(2026, 7, 10)).level == "unrated"
    found = standing.standing_of(db, world.supplier, date(2026, 9, 1))
    assert found.level == "barred" and found.bar.until == date(2027, 12, 31)
    assert "2026-07-11" in found.reasons[0]  # final as its window closed, in China
    project = new_project(db, world)
    monkeypatch.setattr(projects, "today", lambda: date(2026, 9, 1))
    with pytest.raises(ValidationFailed) as caught:
        record(db, world, project, "2026-09-01")
    assert "2027-12-31" in caught.value.errors["supplier_id"]
    listed = standing.all_standings(db, date(2026, 9, 1))
    assert next(s for s in listed if s.supplier.id == world.supplier.id).level == "barred"
    db.refresh(evaluation)
    assert evaluation.status == "published"  # reading the standing writes nothing


def test_a_result_under_an_open_appeal_does_not_count_however_late(db, world):
    from evalplatform.services import appeals

    evaluation = published_evaluation(db, world, "55.00", "差", date(2026, 7, 10))
    appeals.file(db, principal(world.supplier_user), evaluation.id,
                 reasons="6 月 12 日为暴雨停工日，已报备，扣分有误。", today=date(2026, 7, 10))
    assert standing.standing_of(db, world.supplier, date(2026, 9, 1)).level == "unrated"
    assert standing.bar_on(db, world.supplier.id, date(2026, 9, 1)) is None


def test_a_result_final_just_after_midnight_in_china_bars_until_the_end_of_the_next_year(
        db, world):
    """Final at 00:30 on 1 January 2027 in Beijing (16:30 on 31 December in UTC): it became
    final in 2027, so it bars until the end of 2028."""
    from datetime import UTC, datetime

    evaluation = final_evaluation(db, world, "55.00", "差", final_on=date(2026, 12, 31))
    from evalplatform.models import EvaluationResult

    result = db.exec(select(EvaluationResult).where(
        EvaluationResult.evaluation_id == evaluation.id)).one()
    result.final_at = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)
    db.add(result)
    db.commit()
    assert standing.bar_on(db, world.supplier.id, date(2026, 12, 31)) is None
    bar = standing.bar_on(db, world.supplier.id, date(2027, 1, 1))
    assert bar.until == date(2028, 12, 31) and bar.cause.final_on == date(2027, 1, 1)
    assert standing.bar_on(db, world.supplier.id, date(2029, 1, 1)) is None


@pytest.mark.parametrize("outcome", ["reopen", "uphold"])
def test_an_appeal_decides_which_result_the_standing_rests_on(db, world, outcome):
    """Computed and published for real (88.60); under rules where a total below 89 bars, the
    supplier appeals. Reopened and rescored to 89.20, the first result never counts and the
    supplier is not barred; upheld, the result counts from the day of the decision."""
    from datetime import UTC, datetime

    from evalplatform.services import appeals, results
    from tests.results_feed import FEED, published

    def decided_on(appeal, moment):  # the decision dated as the story goes, not by the clock
        decided = db.get(type(appeal), appeal.id)
        decided.decided_at = moment
        db.add(decided)
        db.commit()

    standing.update_settings(db, principal(world.finance), {
        "bar_grade": "差", "bar_below": "89", "bar_years": "1", "warn_consecutive": "2",
        "default_threshold": "80", "preferred_grade": "优", "lookback_years": "3"})
    try:
        evaluation, first = published(db, world, FEED)  # deadline Saturday 10 Oct 2026
        assert first.total == "88.60"
        appeal = appeals.file(db, principal(world.supplier_user), evaluation.id,
                              reasons="6 月 12 日为暴雨停工日，已报备，扣分有误。",
                              today=date(2026, 10, 9))
        # the window has closed, but the appeal holds the result back
        assert standing.standing_of(db, world.supplier, date(2026, 10, 20)).level == "unrated"
        if outcome == "uphold":
            appeals.decide(db, principal(world.finance), appeal.id, outcome="uphold",
                           decision="停工日已计入扣分说明，结果不变。")
            decided_on(appeal, datetime(2026, 10, 21, 2, 0, tzinfo=UTC))  # 21 Oct in China
            found = standing.standing_of(db, world.supplier, date(2026, 10, 22))
            assert found.level == "barred" and "88.60" in found.reasons[0]
            assert found.bar.cause.final_on == date(2026, 10, 21)
            return
        appeals.decide(db, principal(world.finance), appeal.id, outcome="reopen",
                       decision="暴雨停工已报备，请重新评 A2.1", leaves=["A2.1"])
        decided_on(appeal, datetime(2026, 10, 15, 2, 0, tzinfo=UTC))
        FEED[evaluation.id]["sheets"][1]["scores"]["A2.1"] = "达成"
        assert results.compute(db, principal(world.finance), evaluation.id).total == "89.20"
        results.publish(db, principal(world.finance), evaluation.id,
                        at=datetime(2026, 10, 19, 2, 0, tzinfo=UTC))  # deadline 26 Oct
        assert standing.standing_of(db, world.supplier, date(2026, 10, 26)).level == "unrated"
        found = standing.standing_of(db, world.supplier, date(2026, 10, 28))
        assert found.level == "normal" and found.bar is None
        assert [r.total for r in found.history] == [Decimal("89.20")]
        results.finalise_due(db, date(2026, 10, 28))  # marked final: the same standing
        assert standing.standing_of(db, world.supplier, date(2026, 10, 28)).history[0].final_on \
            == found.history[0].final_on == date(2026, 10, 27)
    finally:
        FEED.clear()


def test_the_satisfaction_on_the_standing_page_is_rounded_half_up(client, db, world):
    """Jinja's ``round`` on a decimal rounds half to even: 87.705 read 87.70 on the standing
    page while the selection page (and the engine) round half-up to 87.71."""
    final_evaluation(db, world, "88.00", "良", stage="interim", final_on=date(2026, 7, 20),
                     recipient="87.7050")
    final_evaluation(db, world, "86.00", "良", final_on=date(2026, 7, 21), recipient=None)
    login(client, world.finance.username)
    rows = client.get(f"/standing/{world.supplier.id}").text.split('id="results-table"')[1]
    assert 'data-label="满意度">87.71</td>' in rows
    assert 'data-label="满意度">—</td>' in rows  # no recipients' part: no figure


def test_the_supplier_list_leads_to_each_suppliers_standing(client, db, world):
    """A purchaser preparing a procurement starts from the supplier list, which named the
    suppliers without a way to their standing (an ERP's supplier shows its scorecard)."""
    final_evaluation(db, world, "55.00", "差", final_on=date(2026, 7, 20))
    login(client, world.purchaser.username)
    page = client.get("/suppliers").text
    assert f'<a href="/standing/{world.supplier.id}" title="承接主体履约信用">{world.supplier.name}</a>' \
        in page
    assert client.get(f"/standing/{world.supplier.id}").status_code == 200


def test_contracting_a_warned_supplier_on_the_page_says_so_without_refusing(client, db, world):
    """A warning does not bar: the contract is recorded, and the purchaser is told why the
    supplier is warned, to watch its monitoring."""
    from tests.conftest import csrf_from

    final_evaluation(db, world, "78.00", "中", stage="interim", final_on=date(2026, 7, 10))
    final_evaluation(db, world, "79.00", "中", final_on=date(2026, 7, 20))
    assert standing.standing_of(db, world.supplier).level == "warned"
    project = new_project(db, world)
    assert login(client, world.purchaser.username).status_code == 303
    token = csrf_from(client, f"/projects/{project.id}/contract/new")
    today = projects.today().isoformat()
    response = client.post(f"/projects/{project.id}/contract", data={
        **contract_values(world, today), "share_1": "100%", "due_1": "on_signing",
        "csrf_token": token})
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"]).text
    warning = page.split('flash-warning')[1].split("</div>")[0]
    assert world.supplier.name in warning and "78.00" in warning and "79.00" in warning
