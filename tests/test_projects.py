"""Catalogue, negative list, projects, suppliers and contracts: each rule refuses clearly."""

import re
from datetime import date

import pytest
from sqlmodel import func, select

from evalplatform.models import (
    AuditEntry,
    CatalogueEntry,
    Contract,
    Instalment,
    Organisation,
    Project,
    ProjectStatus,
)
from evalplatform.services import catalogue, contracts, projects
from evalplatform.services.audit import Actor
from evalplatform.services.credit_code import check_character
from evalplatform.services.errors import Conflict, ValidationFailed
from tests.conftest import csrf_from

PDF = b"%PDF-1.7\n% signed copy\n"


def code_for(n: int) -> str:
    first17 = "52330199MJ" + f"{n:07d}"
    return first17 + check_character(first17)


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def world(db, make_user, make_org):
    catalogue.seed(db)
    dept = make_org("purchasing_department", name="临江市民政局")
    other = make_org("purchasing_department", name="临江市城市管理局")
    purchaser = make_user("purchaser", organisation=dept)
    finance = make_user("finance")
    return {"dept": dept, "other": other, "purchaser": purchaser, "finance": finance,
            "p_actor": Actor(purchaser.id, purchaser.username),
            "f_actor": Actor(finance.id, finance.username)}


def entry(db, code: str) -> CatalogueEntry:
    return db.exec(select(CatalogueEntry).where(CatalogueEntry.code == code)).one()


def project_values(db, **changes):
    values = {"name": "居家养老上门服务项目", "catalogue_entry_id": str(entry(db, "A0501").id),
              "content": "为辖区失能、半失能老人提供助餐、助洁、助浴上门服务",
              "recipients": "辖区 60 周岁以上失能半失能老人", "year": "2026",
              "budget": "1,200,000.00", "budget_line": "2026年养老服务专项资金",
              "procurement_method": "public_tender", "target_quantity": "服务 800 人",
              "target_satisfaction": "满意度不低于 90%"}
    values.update(changes)
    return values


def register(db, world, **changes):
    return projects.register(db, world["p_actor"], department_id=world["dept"].id,
                             values=project_values(db, **changes))


# ---------------------------------------------------------------- catalogue


def test_the_seeded_catalogue_has_six_categories_and_three_levels(db, world):
    level1 = db.exec(select(CatalogueEntry).where(CatalogueEntry.level == 1)).all()
    assert [e.name for e in level1] == ["基本公共服务", "社会管理性服务", "行业管理与协调服务",
                                         "技术性服务", "政府履职所需辅助性服务", "其他服务事项"]
    item = entry(db, "A0501")
    assert [e.code for e in catalogue.entry_path(db, item)] == ["A", "A05", "A0501"]
    assert item.name == "居家养老上门服务"


def test_finance_adds_and_edits_an_entry_with_an_audit_entry(db, world):
    new = catalogue.save_entry(db, world["f_actor"], code="A0504", name="老年人能力评估")
    assert new.level == 3 and new.parent_id == entry(db, "A05").id
    catalogue.save_entry(db, world["f_actor"], entry_id=new.id, code="A0504",
                         name="老年人能力综合评估", active=False)
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity_type == "catalogue_entry")
                      ).all()
    assert actions == ["catalogue.create", "catalogue.update"]


@pytest.mark.parametrize("code, field", [("A9901", "code"), ("a05x", "code"), ("A0501", "code"),
                                         ("G", "code")])  # level 1 is the six national ones
def test_a_bad_catalogue_code_is_refused_and_nothing_added(db, world, code, field):
    before = count(db, CatalogueEntry)
    with pytest.raises(ValidationFailed) as caught:
        catalogue.save_entry(db, world["f_actor"], code=code, name="测试")
    assert field in caught.value.errors
    assert count(db, CatalogueEntry) == before


def test_the_catalogue_is_due_ten_working_days_after_issue(db, world):
    issue = catalogue.record_issue(db, world["f_actor"], year="2025", issued_on="2025-09-26")
    view = catalogue.issue_view(issue, today=date(2025, 10, 20))
    # 28 Sep, 29, 30, then 9, 10, 11 (Saturday worked), 13, 14, 15, 16 October.
    assert view.deadline == date(2025, 10, 16)
    assert view.late_days == 4
    catalogue.record_publication(db, world["f_actor"], issue.id, "2025-10-15")
    assert catalogue.issue_view(issue, today=date(2025, 10, 20)).late_days == 0


def test_a_catalogue_not_published_in_time_is_late_on_finances_home_and_due_list(
        db, world, client):
    """The 10 working days are finance's own statutory deadline: an issue still unpublished
    after them is shown where the other late items are, not only on the catalogue page."""
    from tests.conftest import login

    catalogue.record_issue(db, world["f_actor"], year="2025", issued_on="2025-09-26")
    late = catalogue.late_issues(db, date(2025, 10, 20))
    assert [(v.issue.year, v.deadline, v.late_days) for v in late] == [
        (2025, date(2025, 10, 16), 4)]
    assert catalogue.late_issues(db, date(2025, 10, 16)) == []  # the last day: not late yet
    login(client, world["finance"].username)
    home = client.get("/").text
    assert "目录未按时公开" in home and "2025 年度目录应于" in home and "已逾期" in home
    due = client.get("/due").text
    assert 'id="late-catalogue"' in due and "2025-10-16" in due
    catalogue.record_publication(db, world["f_actor"], late[0].issue.id, "2025-10-20")
    assert catalogue.late_issues(db, date(2026, 1, 5)) == []  # published (late): done
    assert 'id="late-catalogue"' not in client.get("/due").text


def test_a_catalogue_publication_date_in_the_future_is_refused(db, world):
    issue = catalogue.record_issue(db, world["f_actor"], year="2025", issued_on="2025-09-26")
    with pytest.raises(ValidationFailed) as caught:
        catalogue.record_publication(db, world["f_actor"], issue.id, "2099-01-05")
    assert "不能晚于今天" in caught.value.errors["published_on"]
    db.refresh(issue)
    assert issue.published_on is None


@pytest.mark.parametrize("entry_id", ["abc", "1.5", "2147483648", "99999999999999999999"])
def test_an_edited_entry_id_on_the_catalogue_form_names_no_entry(db, world, client, entry_id):
    """The hidden id edited into a word or a number no INTEGER holds names nothing (404),
    instead of failing in int() or in PostgreSQL (500); nothing is saved."""
    from tests.conftest import login

    login(client, world["finance"].username)
    token = csrf_from(client, "/catalogue")
    before = count(db, CatalogueEntry)
    response = client.post("/catalogue", data={"entry_id": entry_id, "code": "A0599",
                                               "name": "试点", "csrf_token": token})
    assert response.status_code == 404
    assert count(db, CatalogueEntry) == before


def test_a_long_refusal_is_cut_short_in_the_flash_that_carries_it():
    from types import SimpleNamespace

    from evalplatform.web.templating import FLASH_KEY, MAX_FLASH, flash

    request = SimpleNamespace(session={})
    for n in range(8):
        flash(request, "部" * 3000 + str(n), "error")
    kept = request.session[FLASH_KEY]
    assert len(kept) == 5 and all(len(text) == MAX_FLASH for _kind, text in kept)
    assert kept[-1][1].endswith("…")


def test_a_refused_catalogue_publication_is_named_on_its_form(db, world, client):
    from tests.conftest import login

    issue = catalogue.record_issue(db, world["f_actor"], year="2025", issued_on="2025-09-26")
    login(client, world["finance"].username)
    token = csrf_from(client, "/catalogue")
    for typed, said in (("2025-09-20", "目录不能早于印发日期（2025-09-26）公开"),
                        ("2099-01-05", "公开日期不能晚于今天"), ("20.10.2025", "YYYY-MM-DD")):
        response = client.post(f"/catalogue/issues/{issue.id}/published",
                                data={"published_on": typed, "csrf_token": token})
        assert response.status_code == 422
        page = response.text
        assert "指导性目录" in page and 'id="issues"' in page  # the catalogue page, not a bare one
        field = page[page.index(f'id="pub-{issue.id}"'):]
        assert 'aria-invalid="true"' in field[:300] and f'value="{typed}"' in field[:300]
        assert f'<label for="pub-{issue.id}">公开日期</label>' in page  # shown, not only read out
        error = page[page.index(f'id="e-pub-{issue.id}"'):]
        assert said in error[:300], typed
    db.refresh(issue)
    assert issue.published_on is None


# ---------------------------------------------------------------- negative list and projects


def test_a_project_below_the_threshold_is_ready_and_one_above_waits_for_finance(db, world):
    small = register(db, world, name="社区老年助餐服务", budget="300000")
    assert small.status == ProjectStatus.ready and small.budget_fen == 30_000_000
    big = register(db, world)
    assert big.status == ProjectStatus.awaiting_approval
    assert big.budget_fen == 120_000_000


@pytest.mark.parametrize("changes, field, words", [
    ({"budget_line": ""}, "budget_line", "无预算不购买"),
    ({"budget": ""}, "budget", "无预算不购买"),
    ({"budget": "12.345"}, "budget", "两位小数"),
    ({"procurement_method": "lottery"}, "procurement_method", "采购方式"),
    ({"catalogue_entry_id": "0"}, "catalogue_entry_id", "目录"),
])
def test_a_project_breaking_a_rule_is_refused_naming_the_field(db, world, changes, field, words):
    with pytest.raises(ValidationFailed) as caught:
        register(db, world, **changes)
    assert words in caught.value.errors[field]
    assert count(db, Project) == 0


def test_a_project_matching_the_negative_list_is_refused_naming_the_entry(db, world):
    with pytest.raises(ValidationFailed) as caught:
        register(db, world, name="社区工作人员劳务派遣项目")
    assert "购人、购岗" in caught.value.errors["name"]
    assert "劳务派遣" in caught.value.errors["name"]
    with pytest.raises(ValidationFailed) as caught:
        register(db, world, content="养老服务中心改扩建及运营")
    assert "工程" in caught.value.errors["content"]
    assert count(db, Project) == 0


def test_finance_records_an_explained_exception_and_the_project_is_accepted(db, world):
    staffing = next(e for e in catalogue.list_negative(db) if "购人" in e.name)
    with pytest.raises(ValidationFailed) as caught:
        catalogue.record_override(db, world["f_actor"], entry_id=str(staffing.id),
                                  department_id=str(world["dept"].id),
                                  project_name="社区工作人员劳务派遣项目", reason="短")
    assert "reason" in caught.value.errors
    catalogue.record_override(db, world["f_actor"], entry_id=str(staffing.id),
                              department_id=str(world["dept"].id),
                              project_name="社区工作人员劳务派遣项目",
                              reason="经市政府常务会议研究同意，作为试点保留一年")
    project = register(db, world, name="社区工作人员劳务派遣项目")
    assert project.id is not None
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "negative_list.override")).one()


def test_approval_of_a_project_of_five_million_needs_the_ex_ante_document(db, world, client):
    project = register(db, world, budget="5000000")
    with pytest.raises(ValidationFailed) as caught:
        projects.approve(db, world["f_actor"], project.id)
    assert "事前绩效评估" in caught.value.errors["ex_ante"]
    db.refresh(project)
    assert project.status == ProjectStatus.awaiting_approval
    with pytest.raises(ValidationFailed) as caught:
        projects.upload_ex_ante(db, world["p_actor"], project.id, b"GIF89a", "x.pdf")
    assert "ex_ante" in caught.value.errors
    projects.upload_ex_ante(db, world["p_actor"], project.id, PDF, "事前绩效评估报告.pdf")
    assert projects.approve(db, world["f_actor"], project.id).status == ProjectStatus.approved
    from tests.conftest import login

    login(client, world["finance"].username)
    download = client.get(f"/projects/{project.id}/ex-ante")  # under the name it came with
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-disposition"].endswith(
        "filename*=UTF-8''%E4%BA%8B%E5%89%8D%E7%BB%A9%E6%95%88%E8%AF%84%E4%BC%B0%E6%8A%A5%E5%91%8A.pdf")


def test_a_decision_a_colleague_made_meanwhile_leads_back_to_the_project(db, world, client):
    """Two finance officers open the same project; the first approves, the second, still on
    the old page, returns it: told why on the project's page, not on a dead-end error page."""
    from tests.conftest import login

    project = register(db, world, budget="2000000")
    login(client, world["finance"].username)
    token = csrf_from(client, f"/projects/{project.id}")
    projects.approve(db, world["f_actor"], project.id)  # the colleague, meanwhile
    late = client.post(f"/projects/{project.id}/return",
                       data={"reason": "绩效目标不够具体，请细化", "csrf_token": token})
    assert late.status_code == 303 and late.headers["location"] == f"/projects/{project.id}"
    page = client.get(f"/projects/{project.id}").text
    assert "只有待审批的项目才能退回" in page and "财政已批准" in page
    again = client.post(f"/projects/{project.id}/approve", data={"csrf_token": token})
    assert again.status_code == 303 and again.headers["location"] == f"/projects/{project.id}"
    db.refresh(project)
    assert project.status == ProjectStatus.approved


def test_finance_returns_a_project_with_a_reason_and_the_department_resubmits(db, world):
    project = register(db, world)
    with pytest.raises(ValidationFailed) as caught:
        projects.return_to_department(db, world["f_actor"], project.id, "")
    assert "reason" in caught.value.errors
    projects.return_to_department(db, world["f_actor"], project.id, "绩效目标不够具体，请细化")
    db.refresh(project)
    assert project.status == ProjectStatus.returned
    assert projects.resubmit(db, world["p_actor"], project.id).status \
        == ProjectStatus.awaiting_approval
    history = [e.action for e in projects.history(db, project)]
    assert history == ["project.register", "project.return", "project.resubmit"]


def principal_of(user, organisation_id=None):
    from evalplatform.models import Role
    from tests.builders import PurchaserPrincipal

    return PurchaserPrincipal(Actor(user.id, user.username), Role(user.role),
                              organisation_id if organisation_id is not None
                              else user.organisation_id)


def test_the_department_corrects_a_returned_project_then_resubmits_it(db, world):
    project = register(db, world, target_quantity="服务 800 人")
    projects.return_to_department(db, world["f_actor"], project.id, "绩效目标不够具体，请细化")
    revised = projects.revise(db, principal_of(world["purchaser"]), project.id, project_values(
        db, target_quantity="全年上门服务 800 人、不少于 9,600 人次", budget="1,150,000.00"))
    assert revised.status == ProjectStatus.returned
    assert revised.target_quantity == "全年上门服务 800 人、不少于 9,600 人次"
    assert revised.budget_fen == 115_000_000
    assert projects.resubmit(db, world["p_actor"], project.id).status \
        == ProjectStatus.awaiting_approval
    history = projects.history(db, project)
    assert [e.action for e in history] == ["project.register", "project.return",
                                           "project.revise", "project.resubmit"]
    change = history[2].change
    assert "target_quantity" in change and "9,600" in change and "115000000" in change
    assert "recipients" not in change  # only what changed


def test_a_correction_breaking_a_rule_is_refused_naming_the_field_and_changes_nothing(db, world):
    project = register(db, world)
    projects.return_to_department(db, world["f_actor"], project.id, "预算依据不足，请补充")
    mine = principal_of(world["purchaser"])
    with pytest.raises(ValidationFailed) as caught:
        projects.revise(db, mine, project.id, project_values(db, budget_line="", budget="12.345"))
    assert "无预算不购买" in caught.value.errors["budget_line"]
    assert "两位小数" in caught.value.errors["budget"]
    with pytest.raises(ValidationFailed) as caught:
        projects.revise(db, mine, project.id, project_values(db, name="社区工作人员劳务派遣项目"))
    assert "购人、购岗" in caught.value.errors["name"]
    db.refresh(project)
    assert project.name == "居家养老上门服务项目" and project.budget_fen == 120_000_000
    assert [e.action for e in projects.history(db, project)] == ["project.register",
                                                                  "project.return"]


def test_only_the_owning_purchaser_corrects_and_only_while_returned(db, world, make_user):
    from evalplatform.services.errors import PermissionDenied

    project = register(db, world)
    with pytest.raises(Conflict) as caught:  # awaiting approval: finance has it
        projects.revise(db, principal_of(world["purchaser"]), project.id,
                        project_values(db, name="居家养老上门服务（修订）"))
    assert "退回" in caught.value.message
    projects.return_to_department(db, world["f_actor"], project.id, "绩效目标不够具体，请细化")
    stranger = make_user("purchaser", organisation=world["other"])
    for principal in (principal_of(stranger), principal_of(world["finance"])):
        with pytest.raises(PermissionDenied):
            projects.revise(db, principal, project.id,
                            project_values(db, name="居家养老上门服务（修订）"))
    db.refresh(project)
    assert project.name == "居家养老上门服务项目"


# ---------------------------------------------------------------- suppliers


def test_a_supplier_is_registered_with_a_valid_credit_code(db, world):
    org = contracts.register_supplier(db, world["f_actor"], name="临江市福康居家养老服务中心",
                                      credit_code=code_for(1), supplier_kind="social_organisation",
                                      small_medium=True)
    assert org.kind == "supplier"


@pytest.mark.parametrize("kind, code_ok, field, words", [
    ("public_welfare_1", True, "supplier_kind", "公益一类事业单位"),
    ("funded_mass_organisation", True, "supplier_kind", "群团组织"),
    ("enterprise", False, "credit_code", "校验"),
])
def test_a_supplier_breaking_a_rule_is_refused(db, world, kind, code_ok, field, words):
    before = count(db, Organisation)
    code = code_for(2) if code_ok else code_for(2)[:-1] + ("0" if code_for(2)[-1] != "0" else "1")
    with pytest.raises(ValidationFailed) as caught:
        contracts.register_supplier(db, world["f_actor"], name="某单位", credit_code=code,
                                    supplier_kind=kind, small_medium=False)
    assert words in caught.value.errors[field]
    assert count(db, Organisation) == before


@pytest.mark.parametrize("phone, accepted", [
    ("0571-8800 1205", True), ("13800001234", True), ("0571-87654321 转 8001", True),
    ("+86 138 0000 1234", True), ("abc", False), ("123", False), ("电话见合同", False)])
def test_a_suppliers_contact_phone_is_a_telephone_number(db, world, phone, accepted):
    def register():
        return contracts.register_supplier(
            db, world["f_actor"], name="临江市同心社会工作服务中心", credit_code=code_for(3),
            supplier_kind="social_organisation", small_medium=True, contact_name="何文博",
            contact_phone=phone)
    if accepted:
        assert register().kind == "supplier"
        return
    before = count(db, Organisation)
    with pytest.raises(ValidationFailed) as caught:
        register()
    assert list(caught.value.errors) == ["contact_phone"]
    assert "13800001234" in caught.value.errors["contact_phone"]
    assert count(db, Organisation) == before


# ---------------------------------------------------------------- contracts


@pytest.fixture
def supplier(db, world):
    return contracts.register_supplier(db, world["f_actor"], name="临江市福康居家养老服务中心",
                                       credit_code=code_for(3), supplier_kind="social_organisation",
                                       small_medium=True)


def approved_before_signing(db, world, project):
    """Finance's approval, dated (as the story has it) before the contracts these tests sign in
    September 2025: a contract signed before its project's approval is refused."""
    from datetime import UTC, datetime

    approved = projects.approve(db, world["f_actor"], project.id)
    approved.decided_at = datetime(2025, 9, 1, 2, 0, tzinfo=UTC)
    db.add(approved)
    db.commit()
    return approved


def contract_values(supplier, **changes):
    values = {"supplier_id": str(supplier.id), "amount": "1000000.01", "signed_on": "2025-09-30",
              "term_months": "12", "content": "居家养老上门服务", "performance_targets": "服务 800 人",
              "payment_rule": "bands"}
    values.update(changes)
    return values


THIRDS = [contracts.InstalmentInput("30%", "on_signing", False),
          contracts.InstalmentInput("30%", "after_interim", True),
          contracts.InstalmentInput("40%", "after_final", True)]


def test_percentages_become_fen_half_up_and_the_last_takes_the_remainder():
    planned = contracts.plan_instalments(100_000_001, THIRDS)
    assert [p.amount_fen for p in planned] == [30_000_000, 30_000_000, 40_000_001]
    assert sum(p.amount_fen for p in planned) == 100_000_001
    thirds = [contracts.InstalmentInput("33.33%", "on_signing", False)] * 2 + \
        [contracts.InstalmentInput("33.34%", "after_final", True)]
    planned = contracts.plan_instalments(100, thirds)  # ¥1.00
    assert [p.amount_fen for p in planned] == [33, 33, 34]


def test_instalments_that_do_not_add_up_are_refused():
    with pytest.raises(ValidationFailed) as caught:
        contracts.plan_instalments(100_000, [contracts.InstalmentInput("30%", "on_signing", False),
                                             contracts.InstalmentInput("60%", "after_final", True)])
    assert "instalments" in caught.value.errors


def test_instalments_off_by_a_fraction_of_a_fen_show_the_exact_sum():
    # ¥90,000 + 30 % + 40 % of ¥299,999.99 is ¥299,999.993: rounded, the message would say
    # that ¥299,999.99 is not ¥299,999.99.
    with pytest.raises(ValidationFailed) as caught:
        contracts.plan_instalments(29_999_999, [
            contracts.InstalmentInput("90000", "on_signing", False),
            contracts.InstalmentInput("30%", "after_interim", True),
            contracts.InstalmentInput("40%", "after_final", True)])
    message = caught.value.errors["instalments"]
    assert "¥299,999.993" in message and "¥299,999.99" in message.replace("¥299,999.993", "")


def test_a_contract_of_an_approved_project_with_its_schedule(db, world, supplier):
    project = register(db, world)
    approved_before_signing(db, world, project)
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier), THIRDS, (PDF, "合同.pdf"))
    assert contract.payment_days == 30  # the small/medium default
    assert contract.payment_rule["bands"][1] == {"grade": "良", "min_score": "80", "ratio": "0.95"}
    amounts = [i.amount_fen for i in contracts.instalments_of(db, contract.id)]
    assert amounts == [30_000_000, 30_000_000, 40_000_001]
    db.refresh(project)
    assert project.status == ProjectStatus.contracted
    # Signed Tuesday 30 September 2025: publication due 10 October (National Day off).
    deadline = contracts.publication_deadline(contract, today=date(2025, 10, 14))
    assert deadline.due == date(2025, 10, 10) and deadline.late_days == 4


def test_a_later_scan_of_the_signed_copy_keeps_the_day_it_was_filed(db, world, supplier,
                                                                     monkeypatch):
    project = register(db, world)
    approved_before_signing(db, world, project)
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier), THIRDS, (PDF, "合同.pdf"))
    filed_on, first = contract.signed_copy_filed_on, contract.signed_copy_sha256
    assert filed_on == projects.today()
    monkeypatch.setattr(projects, "today", lambda: date(2099, 1, 1))  # uploaded much later
    again = contracts.file_signed_copy(db, world["p_actor"], contract.id,
                                       PDF + b"% clearer scan\n", "合同（清晰版）.pdf")
    assert again.signed_copy_sha256 != first and again.signed_copy_filename == "合同（清晰版）.pdf"
    assert again.signed_copy_filed_on == filed_on  # the filing did not become late


def test_the_copy_filing_period_ending_on_national_day_runs_to_the_next_working_day():
    from types import SimpleNamespace

    project = SimpleNamespace(budget_fen=500_000_000)  # ¥5,000,000: the copy is filed
    contract = SimpleNamespace(signed_on=date(2026, 9, 16), signed_copy_filed_on=date(2026, 10, 8))
    deadline = contracts.copy_filing_deadline(contract, project, today=date(2026, 10, 20))
    assert deadline.due == date(2026, 10, 8) and deadline.late_days == 0  # 15th day: 1 October
    contract.signed_copy_filed_on = date(2026, 10, 9)
    assert contracts.copy_filing_deadline(contract, project, date(2026, 10, 20)).late_days == 1


def test_a_contract_signed_before_the_projects_approval_is_refused(db, world, supplier):
    """Procurement starts only after finance's approval: a signing date typed before it (to
    pass the rule, or by a slip) is refused naming the approval day; on that day it is taken."""
    project = register(db, world)
    approved_before_signing(db, world, project)  # approved on 1 September 2025
    with pytest.raises(ValidationFailed) as caught:
        contracts.record_contract(db, world["p_actor"], project.id,
                                  contract_values(supplier, signed_on="2025-08-29"), THIRDS)
    assert "2025-09-01" in caught.value.errors["signed_on"]
    assert count(db, Contract) == 0
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier, signed_on="2025-09-01"), THIRDS)
    assert contract.signed_on == date(2025, 9, 1)


def test_no_contract_before_finance_approval(db, world, supplier):
    project = register(db, world)
    with pytest.raises(ValidationFailed) as caught:
        contracts.record_contract(db, world["p_actor"], project.id, contract_values(supplier),
                                  THIRDS)
    assert "审批" in caught.value.errors["project"]
    assert count(db, Contract) == 0


@pytest.mark.parametrize("changes, field, words", [
    ({"amount": "1200000.01"}, "amount", "不得超过"),
    ({"term_months": "24"}, "term_months", "12"),
    ({"term_months": "40", "stable_continuous": "1"}, "term_months", "36"),
    ({"payment_days": "90"}, "payment_days", "60"),
    ({"signed_on": "yesterday"}, "signed_on", "YYYY-MM-DD"),
    ({"signed_on": "2099-01-01"}, "signed_on", "不能晚于今天"),
    ({"signed_on": "1901-01-01"}, "signed_on", "1901"),  # a 2026 budget's contract
    ({"performance_targets": ""}, "performance_targets", "绩效目标"),
])
def test_a_contract_breaking_a_rule_is_refused_naming_the_field(db, world, supplier, changes,
                                                                field, words):
    project = register(db, world)
    approved_before_signing(db, world, project)
    with pytest.raises(ValidationFailed) as caught:
        contracts.record_contract(db, world["p_actor"], project.id,
                                  contract_values(supplier, **changes), THIRDS)
    assert words in caught.value.errors[field]
    assert count(db, Contract) == 0 and count(db, Instalment) == 0
    db.refresh(project)
    assert project.status == ProjectStatus.approved


def test_a_stable_service_may_run_36_months(db, world, supplier):
    project = register(db, world)
    approved_before_signing(db, world, project)
    contract = contracts.record_contract(
        db, world["p_actor"], project.id,
        contract_values(supplier, term_months="36", stable_continuous="1"), THIRDS)
    assert contract.term_months == 36
    with pytest.raises(Conflict):
        contracts.record_contract(db, world["p_actor"], project.id, contract_values(supplier),
                                  THIRDS)


def test_the_due_and_late_list_shows_what_waits_and_how_late(db, world, supplier):
    waiting = register(db, world, name="就业技能培训", budget="2000000")
    big = register(db, world, name="城市道路清扫保洁", budget="6000000")
    projects.upload_ex_ante(db, world["p_actor"], big.id, PDF, "事前评估.pdf")
    approved_before_signing(db, world, big)
    contract = contracts.record_contract(db, world["p_actor"], big.id,
                                         contract_values(supplier, amount="6000000"), THIRDS)
    due = contracts.due_and_late(db, organisation_id=None, today=date(2025, 10, 20))
    kinds = {(i.kind, i.project.id): i for i in due.items}
    assert ("approval", waiting.id) in kinds
    copy = kinds[("copy", big.id)]
    assert copy.due == date(2025, 10, 15) and copy.late_days == 5
    publication = kinds[("publication", big.id)]
    assert publication.due == date(2025, 10, 10) and publication.late_days == 10
    # The other department sees none of it.
    assert contracts.due_and_late(db, organisation_id=world["other"].id,
                                  today=date(2025, 10, 20)).items == []
    contracts.record_publication(db, world["p_actor"], contract.id, "2025-10-09")
    due = contracts.due_and_late(db, organisation_id=None, today=date(2025, 10, 20))
    assert ("publication", big.id) not in {(i.kind, i.project.id) for i in due.items}


def test_the_due_list_puts_the_late_first_then_the_soonest_deadline_then_the_undated(
        db, world, supplier):
    """Not yet late, the deadline that comes first is listed first, whatever the order the
    projects were registered in; what has no date (an approval waiting) comes last."""
    waiting = register(db, world, name="就业技能培训", budget="2000000")
    later = register(db, world, name="社区老年助餐服务", budget="900000")
    sooner = register(db, world, name="城市道路清扫保洁", budget="900000")
    # 2025: 1–8 October off, Saturday 11 October worked (调休).
    contracts.record_contract(db, world["p_actor"], later.id, contract_values(
        supplier, amount="900000", signed_on="2025-10-09"), THIRDS)  # due Sat 11 October
    contracts.record_contract(db, world["p_actor"], sooner.id, contract_values(
        supplier, amount="900000", signed_on="2025-10-08"), THIRDS)  # due Fri 10 October
    due = contracts.due_and_late(db, organisation_id=None, today=date(2025, 10, 9))
    order = [(i.kind, i.project.id, i.due) for i in due.items]
    assert order == [("publication", sooner.id, date(2025, 10, 10)),
                     ("publication", later.id, date(2025, 10, 11)),
                     ("monitoring", sooner.id, date(2026, 10, 7)),
                     ("monitoring", later.id, date(2026, 10, 8)),
                     ("approval", waiting.id, None)]
    due = contracts.due_and_late(db, organisation_id=None, today=date(2025, 10, 14))
    assert [(i.project.id, i.late_days) for i in due.items if i.kind == "publication"] == [
        (sooner.id, 4), (later.id, 3)]


# ---------------------------------------------------------------- pages


def test_a_purchaser_sees_only_its_own_departments_projects(client, db, world, make_user, login_as):
    mine = register(db, world)
    theirs = projects.register(db, world["p_actor"], department_id=world["other"].id,
                               values=project_values(db, name="城市道路清扫保洁"))
    login_as(world["purchaser"])
    page = client.get("/projects").text
    assert mine.name in page and theirs.name not in page
    assert client.get(f"/projects/{theirs.id}").status_code == 404
    assert client.get(f"/projects/{mine.id}").status_code == 200


def test_a_projects_history_names_each_step_in_words_with_money_as_money(client, db, world,
                                                                         login_as):
    project = register(db, world)
    login_as(world["purchaser"])
    page = client.get(f"/projects/{project.id}").text
    history = page[page.index('id="history"'):]
    assert '<span class="action-name">项目登记</span> <code class="action-code">project.register' \
        in history
    assert "<dt>预算</dt><dd>¥1,200,000.00</dd>" in history
    assert "<dt>名称</dt><dd>居家养老上门服务项目</dd>" in history
    assert "budget_fen" not in history.split('title="')[0]


def test_finance_and_auditor_see_all_and_the_auditor_changes_nothing(client, db, world, make_user,
                                                                     login_as):
    project = register(db, world)
    auditor = make_user("auditor")
    login_as(auditor)
    assert project.name in client.get("/projects").text
    token = csrf_from(client, "/projects")
    assert client.post(f"/projects/{project.id}/approve",
                       data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    login_as(world["finance"])
    response = client.get("/projects?status=awaiting_approval&min_yuan=1000000&sort=-budget")
    assert project.name in response.text
    assert project.name not in client.get("/projects?max_yuan=100").text


def test_the_registration_form_shows_the_refusal_in_chinese(client, db, world, login_as):
    login_as(world["purchaser"])
    token = csrf_from(client, "/projects/new")
    data = {**project_values(db, budget_line=""), "csrf_token": token}
    response = client.post("/projects", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "无预算不购买" in response.text
    assert count(db, Project) == 0
    data["budget_line"] = "2026年养老服务专项资金"
    response = client.post("/projects", data=data)
    assert response.status_code == 303
    project = db.exec(select(Project)).one()
    page = client.get(response.headers["location"]).text
    assert "待财政审批" in page and "project.register" in page
    assert project.department_id == world["dept"].id


def test_the_purchaser_corrects_a_returned_project_on_its_edit_page(client, db, world, make_user,
                                                                    login_as):
    project = register(db, world)
    login_as(world["purchaser"])
    page = client.get(f"/projects/{project.id}").text
    assert f"/projects/{project.id}/edit" not in page  # awaiting approval: no correcting
    assert client.get(f"/projects/{project.id}/edit").status_code == 409
    projects.return_to_department(db, world["f_actor"], project.id, "绩效目标不够具体，请细化")
    page = client.get(f"/projects/{project.id}").text
    assert f'href="/projects/{project.id}/edit"' in page and "修改项目" in page
    form = client.get(f"/projects/{project.id}/edit")
    assert form.status_code == 200
    assert "绩效目标不够具体，请细化" in form.text and 'value="1200000.00"' in form.text
    token = csrf_from(client, f"/projects/{project.id}/edit")
    data = {**project_values(db, budget="abc", target_quantity="全年服务 800 人、9,600 人次"),
            "csrf_token": token}
    response = client.post(f"/projects/{project.id}/edit", data=data,
                           headers={"HX-Request": "true"})
    assert response.status_code == 422 and "无预算不购买" in response.text
    assert 'id="project-form"' in response.text
    data["budget"] = "1,150,000.00"
    response = client.post(f"/projects/{project.id}/edit", data=data)
    assert response.status_code == 303
    page = client.get(f"/projects/{project.id}").text
    assert "全年服务 800 人、9,600 人次" in page and "project.revise" in page
    assert "财政已退回" in page  # it stays returned until resubmitted
    client.post(f"/projects/{project.id}/resubmit", data={"csrf_token": token})
    db.refresh(project)
    assert project.status == ProjectStatus.awaiting_approval and project.budget_fen == 115_000_000
    # Another department's purchaser does not find it; finance may not correct it.
    projects.return_to_department(db, world["f_actor"], project.id, "请再次核实预算金额")
    client.cookies.clear()
    login_as(make_user("purchaser", organisation=world["other"]))
    token = csrf_from(client, "/projects")
    assert client.get(f"/projects/{project.id}/edit").status_code == 404
    assert client.post(f"/projects/{project.id}/edit",
                       data={**data, "csrf_token": token}).status_code == 404
    client.cookies.clear()
    login_as(world["finance"])
    token = csrf_from(client, "/projects")
    assert client.get(f"/projects/{project.id}/edit").status_code == 403
    assert client.post(f"/projects/{project.id}/edit",
                       data={**data, "name": "改名", "csrf_token": token}).status_code == 403
    db.refresh(project)
    assert project.name == "居家养老上门服务项目"


def test_every_new_page_renders_for_finance(client, db, world, supplier, login_as):
    project = register(db, world)
    approved_before_signing(db, world, project)
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier), THIRDS)
    login_as(world["finance"])
    for path in ["/catalogue", f"/catalogue/{entry(db, 'A05').id}/edit", "/negative-list",
                 "/projects", f"/projects/{project.id}", "/suppliers", f"/contracts/{contract.id}",
                 "/due", "/"]:
        response = client.get(path)
        assert response.status_code == 200, path
    assert "居家养老上门服务" in client.get("/catalogue").text
    home = client.get("/").text
    assert "待审批项目" in home and "逾期事项" in home


def test_the_due_and_late_page_pages_like_the_other_tables(client, db, world, login_as):
    for name in ("就业技能培训", "社区矫正辅助服务", "城市道路清扫保洁"):
        register(db, world, name=name, budget="2000000")  # each awaits finance approval
    login_as(world["finance"])
    first = client.get("/due?per_page=2")
    assert first.status_code == 200
    table = first.text.split('id="due-table"')[1]
    assert table.count("<tr") == 3  # the heading and two of the three items
    assert "第 1–2 条，共 3 条" in table and 'rel="next"' in table and "page=2" in table
    second = client.get("/due?per_page=2&page=2", headers={"HX-Request": "true"})
    assert second.status_code == 200 and "<html" not in second.text  # htmx swaps the table
    assert second.text.count("<tr") == 2 and "第 3–3 条，共 3 条" in second.text
    assert 'rel="prev"' in second.text


@pytest.fixture
def login_as(client):
    from tests.conftest import login

    def _login(user):
        response = login(client, user.username)
        assert response.status_code == 303
    return _login


def test_the_contract_form_renders_for_the_purchaser(client, db, world, supplier, login_as):
    project = register(db, world, budget="300000")
    login_as(world["purchaser"])
    response = client.get(f"/projects/{project.id}/contract/new")
    assert response.status_code == 200
    assert supplier.name in response.text and "付款计划" in response.text


def test_a_second_contract_of_a_project_is_refused_on_the_form(client, db, world, supplier,
                                                                login_as):
    """Two colleagues fill the form; the second one's click says why nothing was recorded."""
    project = register(db, world, budget="300000")
    login_as(world["purchaser"])
    token = csrf_from(client, f"/projects/{project.id}/contract/new")
    contracts.record_contract(db, world["p_actor"], project.id,
                              contract_values(supplier, amount="300000"), THIRDS)
    data = {**contract_values(supplier, amount="300000"), "share_1": "100%",
            "due_1": "on_signing", "csrf_token": token}
    response = client.post(f"/projects/{project.id}/contract", data=data,
                           headers={"HX-Request": "true"})
    assert response.status_code == 422  # htmx swaps it in
    assert 'id="contract-form"' in response.text and "已有合同" in response.text
    response = client.post(f"/projects/{project.id}/contract", data=data)
    assert response.status_code == 409 and "已有合同" in response.text
    assert count(db, Contract) == 1


def test_the_contracts_percentages_are_written_as_the_readers_language_writes_them(
        client, db, world, supplier, login_as):
    """The payment rule's bands and the instalments' shares: 95% in Chinese, 95 % in English."""
    project = register(db, world)
    approved_before_signing(db, world, project)
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier), THIRDS)
    login_as(world["purchaser"])
    page = f"/contracts/{contract.id}"

    def shown() -> tuple[str, list[str]]:
        text = client.get(page).text
        rule = re.search(r"<dd>([^<]*≥[^<]*)</dd>", text).group(1)
        shares = re.findall(r'<td data-label="#">\d</td><td data-label="[^"]*">([^<]*)</td>', text)
        return rule, shares

    rule, shares = shown()
    assert "≥80：95%；" in rule and "95 %" not in rule and ": " not in rule
    assert shares == ["30%", "30%", "40%"]
    token = csrf_from(client, page)
    client.post("/language", data={"language": "en", "next": page, "csrf_token": token})
    rule, shares = shown()
    assert "≥80: 95 %; " in rule and "；" not in rule and "：" not in rule
    assert shares == ["30 %", "30 %", "40 %"]


# ---------------------------------------------------------------- lengths


@pytest.mark.parametrize("field, limit, label", [
    ("name", 200, "名称"),
    ("recipients", 500, "500"),
    ("budget_line", 200, "预算科目"),
    ("content", 10_000, "服务内容"),
    ("target_quantity", 10_000, "数量目标"),
    ("target_satisfaction", 10_000, "满意度目标"),
])
def test_a_particular_one_character_too_long_is_refused_naming_it_and_nothing_is_stored(
        db, world, field, limit, label):
    """A 300-character budget line was stored by SQLite and failed PostgreSQL's varchar(200)
    with a server error; each typed particular now has its length, checked in characters."""
    with pytest.raises(ValidationFailed) as caught:
        register(db, world, **{field: "甲" * (limit + 1)})
    assert list(caught.value.errors) == [field]
    assert label in caught.value.errors[field] and str(limit) in caught.value.errors[field]
    assert count(db, Project) == 0
    project = register(db, world, **{field: "甲" * limit})
    db.expire_all()
    assert getattr(db.get(Project, project.id), field) == "甲" * limit


def test_a_correction_one_character_too_long_is_refused_and_changes_nothing(db, world):
    project = register(db, world)
    projects.return_to_department(db, world["f_actor"], project.id, "预算依据不足，请补充")
    mine = principal_of(world["purchaser"])
    with pytest.raises(ValidationFailed) as caught:
        projects.revise(db, mine, project.id, project_values(db, budget_line="乙" * 201))
    assert "预算科目" in caught.value.errors["budget_line"]
    db.expire_all()
    assert db.get(Project, project.id).budget_line == "2026年养老服务专项资金"
    revised = projects.revise(db, mine, project.id, project_values(db, budget_line="乙" * 200))
    assert revised.budget_line == "乙" * 200


def test_a_return_reason_is_at_most_ten_thousand_characters(db, world):
    project = register(db, world)
    with pytest.raises(ValidationFailed) as caught:
        projects.return_to_department(db, world["f_actor"], project.id, "理" * 10_001)
    assert "退回理由" in caught.value.errors["reason"] and "10000" in caught.value.errors["reason"]
    db.expire_all()
    assert db.get(Project, project.id).status == ProjectStatus.awaiting_approval
    projects.return_to_department(db, world["f_actor"], project.id, "理" * 10_000)
    db.expire_all()
    assert db.get(Project, project.id).return_reason == "理" * 10_000


def test_a_refused_contract_publication_keeps_the_typed_date_at_its_field(client, db, world,
                                                                         supplier, login_as):
    project = register(db, world, budget="300000")
    contract = contracts.record_contract(db, world["p_actor"], project.id,
                                         contract_values(supplier, amount="300000"), THIRDS)
    login_as(world["purchaser"])
    token = csrf_from(client, f"/contracts/{contract.id}")
    for typed, said in (("2099-01-05", "公开日期不能晚于今天"),
                        ("2025-09-01", "合同不能早于签订日期（2025-09-30）公开")):
        response = client.post(f"/contracts/{contract.id}/published",
                               data={"published_on": typed, "csrf_token": token})
        assert response.status_code == 422
        field = re.search(r'<input id="f-published_on"[^>]*>', response.text).group(0)
        assert f'value="{typed}"' in field, typed
        assert 'aria-invalid="true"' in field and 'aria-describedby="e-published_on"' in field
        error = response.text[response.text.index('id="e-published_on"'):][:200]
        assert said in error, typed
    db.refresh(contract)
    assert contract.published_on is None
    # the page as first shown has the field empty
    page = client.get(f"/contracts/{contract.id}").text
    assert 'value=""' in re.search(r'<input id="f-published_on"[^>]*>', page).group(0)


def test_a_contracts_term_and_payment_period_take_the_english_plural(client, db, world, supplier,
                                                                      login_as):
    project = register(db, world, budget="300000")
    contract = contracts.record_contract(
        db, world["p_actor"], project.id,
        contract_values(supplier, amount="300000", term_months="1"), THIRDS)
    login_as(world["purchaser"])
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")})
    page = client.get(f"/contracts/{contract.id}").text
    assert "<dd>1 month</dd>" in page and "1 months" not in page
    assert "30 days after acceptance" in page
    listing = client.get("/contracts").text
    assert "1 month<" in listing and "1 months" not in listing


def test_finance_is_offered_approval_only_once_the_ex_ante_assessment_is_there(client, db, world,
                                                                                login_as):
    project = register(db, world, budget="6000000")
    login_as(world["finance"])
    page = client.get(f"/projects/{project.id}").text
    assert 'id="approve"' not in page and 'id="approve-waits"' in page
    assert "/return" in page  # returning it stays possible
    projects.upload_ex_ante(db, world["p_actor"], project.id, PDF, "事前绩效评估报告.pdf")
    page = client.get(f"/projects/{project.id}").text
    assert 'id="approve"' in page and 'id="approve-waits"' not in page


def test_a_mistyped_budget_is_a_format_error_and_a_missing_one_breaks_the_rule(db, world):
    """无预算不购买 is about having a budget, not about how the amount is typed."""
    for typed, words in (("12,3.456", "预算金额："), ("5 200 000", "预算金额："),
                         ("", "无预算不购买")):
        with pytest.raises(ValidationFailed) as caught:
            register(db, world, budget=typed)
        assert caught.value.errors["budget"].startswith(words), typed
        if typed:
            assert "无预算不购买" not in caught.value.errors["budget"]
    assert count(db, Project) == 0


def test_a_large_project_returned_for_its_ex_ante_report_goes_back_only_with_it(
        client, db, world, login_as):
    """Resubmitting a ¥5,000,000 project without the report finance needs to approve it would
    only send it round again: refused, naming the upload, and the status unchanged."""
    project = register(db, world, budget="5,000,000.00")
    projects.return_to_department(db, world["f_actor"], project.id, "请补充事前绩效评估报告")
    with pytest.raises(ValidationFailed) as caught:
        projects.resubmit(db, world["p_actor"], project.id)
    assert "事前绩效评估" in caught.value.errors["ex_ante"]
    db.expire_all()
    assert db.get(Project, project.id).status == ProjectStatus.returned
    login_as(world["purchaser"])
    page = client.get(f"/projects/{project.id}").text
    assert 'id="resubmit-waits"' in page
    token = csrf_from(client, f"/projects/{project.id}")
    refused = client.post(f"/projects/{project.id}/resubmit", data={"csrf_token": token})
    assert refused.status_code == 422 and 'id="e-ex_ante"' in refused.text
    projects.upload_ex_ante(db, world["p_actor"], project.id, b"%PDF-1.7\n%%EOF\n", "事前评估.pdf")
    assert projects.resubmit(db, world["p_actor"], project.id).status == \
        ProjectStatus.awaiting_approval


def test_a_refused_return_keeps_the_reason_typed(client, db, world, login_as):
    project = register(db, world)
    login_as(world["finance"])
    token = csrf_from(client, f"/projects/{project.id}")
    refused = client.post(f"/projects/{project.id}/return",
                          data={"reason": "补材料", "csrf_token": token})
    assert refused.status_code == 422
    assert '<textarea id="f-reason" name="reason" rows="2" aria-invalid="true" ' \
           'aria-describedby="e-reason">补材料</textarea>' in refused.text
    db.expire_all()
    assert db.get(Project, project.id).status == ProjectStatus.awaiting_approval
