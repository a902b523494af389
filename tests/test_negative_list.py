"""The negative list (负面清单) end to end: a refused registration, finance's explained exception
(负面清单例外), the project accepted and showing the exception that allowed it."""

import json
import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import func, select

from evalplatform.models import AuditEntry, CatalogueEntry, NegativeListOverride, Project
from evalplatform.services import catalogue, projects
from evalplatform.services.audit import Actor
from evalplatform.services.errors import ValidationFailed
from tests.conftest import csrf_from, login

NAME = "社区工作人员劳务派遣项目"
REASON = "经市政府常务会议研究同意，作为社区治理试点保留一年"


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture
def world(db, make_user, make_org):
    catalogue.seed(db)
    dept = make_org("purchasing_department", name="临江市民政局")
    other = make_org("purchasing_department", name="临江市城市管理局")
    return {"dept": dept, "other": other,
            "purchaser": make_user("purchaser", organisation=dept, display_name="张丽"),
            "other_purchaser": make_user("purchaser", organisation=other, display_name="李强"),
            "finance": make_user("finance", display_name="王建国"),
            "staffing": next(e for e in catalogue.list_negative(db) if "购人" in e.name)}


def values(db, **changes) -> dict:
    entry = db.exec(select(CatalogueEntry).where(CatalogueEntry.code == "B0201")).one()
    data = {"name": NAME, "catalogue_entry_id": str(entry.id),
            "content": "为 12 个社区配备网格员，协助开展社区治理",
            "recipients": "12 个社区居民", "year": "2026", "budget": "600000",
            "budget_line": "2026年社区治理专项", "procurement_method": "competitive_consultation"}
    data.update(changes)
    return data


def sign_in(client, user) -> str:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return csrf_from(client, "/")


def record(db, world, *, department=None, name=NAME, reason=REASON):
    finance = world["finance"]
    return catalogue.record_override(
        db, Actor(finance.id, finance.username), entry_id=str(world["staffing"].id),
        department_id=str((department or world["dept"]).id), project_name=name, reason=reason)


def register(db, user, department, **changes):
    return projects.register(db, Actor(user.id, user.username), department_id=department.id,
                             values=values(db, **changes))


# ---------------------------------------------------------------- the rules, in the services


def test_a_matching_project_is_refused_naming_the_entry_and_nothing_is_stored(db, world):
    before = count(db, AuditEntry)
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"])
    errors = caught.value.errors
    assert "“购买主体的人员聘用、劳务派遣和公益性岗位（购人、购岗）”" in errors["name"]
    assert "劳务派遣" in errors["name"]
    assert "财政部门" in errors["negative_list"] and "例外" in errors["negative_list"]
    assert "临江市民政局" in errors["negative_list"] and NAME in errors["negative_list"]
    assert count(db, Project) == 0 and count(db, AuditEntry) == before


@pytest.mark.parametrize("changes, field", [
    ({"name": "社区网格化服务", "content": "社区网格员劳务派遣"}, "content"),
    ({"name": "社区网格化服务", "content": "委托社会组织开展社区网格服务",
      "catalogue_entry_id": "new"}, "catalogue_entry_id"),
])
def test_content_and_category_are_matched_too(db, world, changes, field):
    changes = dict(changes)  # the parameters are shared by both database runs
    if changes.get("catalogue_entry_id") == "new":  # a category whose name hits the list
        entry = catalogue.save_entry(db, Actor(world["finance"].id, "f"), code="B0202",
                                     name="公益性岗位开发")
        changes["catalogue_entry_id"] = str(entry.id)
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], **changes)
    assert "购人、购岗" in caught.value.errors[field]
    assert count(db, Project) == 0


def test_an_exception_is_audited_with_its_reason(db, world):
    override = record(db, world)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "negative_list.override")).one()
    change = json.loads(entry.change)
    assert change == {"entry": world["staffing"].name, "department": "临江市民政局",
                      "project_name": NAME, "reason": REASON}
    assert entry.actor_id == world["finance"].id and entry.entity_id == str(override.id)


@pytest.mark.parametrize("changes, field", [
    ({"reason": "领导同意"}, "reason"),
    ({"project_name": "  "}, "project_name"),
    ({"entry_id": "999"}, "entry_id"),
    ({"department_id": "finance"}, "department_id"),
])
def test_an_exception_without_its_facts_is_refused_and_nothing_recorded(db, world, changes, field):
    finance = world["finance"]
    data = {"entry_id": str(world["staffing"].id), "department_id": str(world["dept"].id),
            "project_name": NAME, "reason": REASON, **changes}
    if data["department_id"] == "finance":
        data["department_id"] = str(finance.organisation_id)  # not a purchasing department
    with pytest.raises(ValidationFailed) as caught:
        catalogue.record_override(db, Actor(finance.id, finance.username), **data)
    assert field in caught.value.errors
    assert count(db, NegativeListOverride) == 0
    assert count(db, AuditEntry, AuditEntry.action == "negative_list.override") == 0


def test_the_same_exception_is_not_recorded_twice(db, world):
    record(db, world)
    with pytest.raises(ValidationFailed) as caught:
        record(db, world)
    assert "已经登记" in caught.value.errors["project_name"]
    assert count(db, NegativeListOverride) == 1


def test_with_the_exception_the_project_is_accepted_and_says_why(db, world):
    override = record(db, world)
    project = register(db, world["purchaser"], world["dept"], name=f"  {NAME} ")
    assert project.name == NAME
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "project.register")).one()
    assert json.loads(entry.change)["negative_list_overrides"] == [
        {"override": override.id, "entry": world["staffing"].name, "term": "劳务派遣"}]
    [applied] = projects.negative_list_exceptions(db, project)
    assert applied.override.reason == REASON and applied.recorded_by == "王建国"


def test_an_exception_for_another_department_or_name_does_not_help(db, world):
    record(db, world, department=world["other"])
    record(db, world, name="社区工作人员劳务派遣项目（试点）")
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"])
    assert "购人、购岗" in caught.value.errors["name"]
    assert count(db, Project) == 0


def test_an_exception_covers_only_its_entry(db, world):
    record(db, world)
    with pytest.raises(ValidationFailed) as caught:  # also works, not only staffing
        register(db, world["purchaser"], world["dept"], content="社区网格员劳务派遣及办公用房装修")
    assert "工程" in caught.value.errors["content"]
    assert "购人、购岗" not in caught.value.errors["negative_list"]
    assert count(db, Project) == 0


# ---------------------------------------------------------------- end to end, through the pages


def test_refusal_exception_and_registration_through_the_pages(client, db, world):
    # 1. The purchaser is refused; the form names the entry and says finance may make an exception.
    token = sign_in(client, world["purchaser"])
    response = client.post("/projects", data={**values(db), "csrf_token": token},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    text = unescape(response.text)
    notice = text[text.index('id="negative-list-refusal"'):]
    notice = notice[:notice.index("</div>")]
    assert "购人、购岗" in notice and "财政部门" in notice and "例外" in notice
    assert count(db, Project) == 0
    link = re.search(r'id="negative-list-link" href="([^"]+)"', text).group(1)
    query = parse_qs(urlparse(link).query)
    assert query == {"department_id": [str(world["dept"].id)], "project_name": [NAME]}
    # The purchaser may read the list but not record an exception.
    page = client.get(link).text
    assert "override-form" not in page
    assert client.post("/negative-list/overrides", data={
        "entry_id": str(world["staffing"].id), "department_id": str(world["dept"].id),
        "project_name": NAME, "reason": REASON, "csrf_token": token}).status_code == 403
    assert count(db, NegativeListOverride) == 0

    # 2. Finance opens the link: the form has the department and the name; a short reason is
    # refused, a real one recorded.
    token = sign_in(client, world["finance"])
    page = unescape(client.get(link).text)
    assert f'value="{NAME}"' in page
    assert re.search(rf'<option value="{world["dept"].id}"\s+selected>', page)
    form = {"entry_id": str(world["staffing"].id), "department_id": str(world["dept"].id),
            "project_name": NAME, "csrf_token": token}
    response = client.post("/negative-list/overrides", data={**form, "reason": "同意"})
    assert response.status_code == 422 and "10 个字" in response.text
    assert count(db, NegativeListOverride) == 0
    response = client.post("/negative-list/overrides", data={**form, "reason": REASON})
    assert response.status_code == 303
    assert count(db, AuditEntry, AuditEntry.action == "negative_list.override") == 1

    # 3. The purchaser registers the same project: accepted.
    token = sign_in(client, world["purchaser"])
    response = client.post("/projects", data={**values(db), "csrf_token": token})
    assert response.status_code == 303
    project = db.exec(select(Project)).one()

    # 4. The project page shows the exception that allowed it.
    page = unescape(client.get(f"/projects/{project.id}").text)
    section = page[page.index('id="negative-list-exceptions"'):]
    assert "负面清单例外" in section and REASON in section and "王建国" in section
    assert "购人、购岗" in section

    # 5. The negative-list page links the exception to the registered project.
    page = client.get("/negative-list").text
    assert f'href="/projects/{project.id}"' in page

    # 6. The other department, same name: still refused.
    token = sign_in(client, world["other_purchaser"])
    response = client.post("/projects", data={**values(db), "csrf_token": token})
    assert response.status_code == 422 and "购人、购岗" in unescape(response.text)
    assert count(db, Project) == 1


def test_a_project_without_an_exception_shows_no_exception_section(client, db, world):
    project = register(db, world["purchaser"], world["dept"], name="社区网格化服务",
                       content="委托社会组织开展社区网格服务")
    sign_in(client, world["finance"])
    assert 'id="negative-list-exceptions"' not in client.get(f"/projects/{project.id}").text


@pytest.mark.parametrize("name", ["社区工作人员劳务 派遣项目", "社区工作人员劳务\u3000派遣项目",
                                  "社区工作人员劳务\u200b派遣项目", "社区工作人员劳务\n派遣项目"])
def test_a_space_or_an_invisible_character_inside_a_term_does_not_slip_past_it(db, world, name):
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name=name)
    assert "劳务派遣" in caught.value.errors["name"]
    assert count(db, Project) == 0


@pytest.mark.parametrize("name, words", [
    ("社区公益岗位人员补贴项目", "购人、购岗"),
    ("街道购买岗位服务项目", "购人、购岗"),
    ("街道编外用工服务项目", "购人、购岗"),
    ("以购买服务名义举借债务项目", "融资行为"),
    ("ＰＰＰ项目融资咨询", "融资行为"),  # full-width letters, and 融资
])
def test_the_default_list_catches_the_usual_other_wordings(db, world, name, words):
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name=name)
    assert words in caught.value.errors["name"]


def test_full_width_and_upper_case_letters_match_a_term_finance_typed(db, world):
    finance = Actor(world["finance"].id, world["finance"].username)
    entry = next(e for e in catalogue.list_negative(db) if e.name == "融资行为")
    catalogue.save_negative_terms(db, finance, entry.id, "\n".join([*entry.terms, "PPP"]))
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name="城市道路ｐｐｐ服务项目")
    assert "PPP" in caught.value.errors["name"]


# ---------------------------------------------------------------- the terms, and finance keeping them


def works(db) -> "catalogue.NegativeListEntry":
    return next(e for e in catalogue.list_negative(db) if "工程和服务打包" in e.name)


def test_a_bundle_of_works_and_services_is_refused_but_not_every_bundle_or_works(db, world):
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name="道路改造工程和服务打包",
                 content="道路改造及后续养护服务一并采购")
    assert "工程和服务打包" in caught.value.errors["name"]
    assert "工程+打包" in caught.value.errors["name"]
    # 打包 alone or 工程 alone is no bundle of works and services.
    register(db, world["purchaser"], world["dept"], name="生活垃圾打包清运服务",
             content="居民生活垃圾分类打包后集中清运")
    register(db, world["purchaser"], world["dept"], name="阳光工程社区社会工作服务",
             content="为困难家庭提供社会工作服务")
    assert count(db, Project) == 2


@pytest.mark.parametrize("name, content, entry", [
    ("办公设备购置", "购置打印机、办公桌椅", "货物"),
    ("信息化设备更新", "购买电脑200台", "货物"),
    ("市政道路维修工程", "对12条道路进行路面修补", "工程"),
    ("窗口服务人员", "为民政局招用临时工作人员5名，承担窗口受理工作", "购人"),
])
def test_goods_works_and_staff_in_everyday_words_are_refused(db, world, name, content, entry):
    """What QA bought past the first terms: equipment, computers, road repair works and
    temporary staff, each refused naming the entry of the negative list."""
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name=name, content=content)
    assert entry in " ".join(caught.value.errors.values())
    assert count(db, Project) == 0


def test_services_that_mention_equipment_or_repairs_are_not_refused(db, world):
    register(db, world["purchaser"], world["dept"], name="办公设备维护保养服务",
             content="对打印机、电脑等办公设备进行日常维护保养")
    register(db, world["purchaser"], world["dept"], name="居家养老上门维修服务",
             content="为独居老人提供水电小修等上门服务")
    assert count(db, Project) == 2


def test_finance_edits_an_entrys_terms_and_the_change_is_audited(db, world):
    finance = Actor(world["finance"].id, world["finance"].username)
    entry = works(db)
    before = entry.terms
    catalogue.save_negative_terms(db, finance, entry.id,
                                  "\n".join(before) + "\n工程 ＋ 捆绑\n装修\n")
    db.refresh(entry)
    assert entry.terms == [*before, "工程+捆绑"]  # normalised, the duplicate dropped
    change = json.loads(db.exec(select(AuditEntry).where(
        AuditEntry.action == "negative_list.terms")).one().change)
    assert change == {"entry": entry.name, "from": before, "to": [*before, "工程+捆绑"]}
    with pytest.raises(ValidationFailed) as caught:
        register(db, world["purchaser"], world["dept"], name="路灯改造工程与运维服务捆绑采购",
                 content="路灯改造及运维")
    assert "工程+捆绑" in caught.value.errors["name"]


@pytest.mark.parametrize("typed, words", [
    ("工程建设\n工", "至少 2 个字"),
    ("工程+", "空"),
    ("  \n ", "至少填写一个"),
    ("工程建设\n施工\n设备采购\n货物采购\n新建\n改扩建\n装修\n工程+打包\n"
     "购置\n购买+电脑\n维修工程\n修缮工程\n路面修补", "没有修改"),
], ids=["one_character", "empty_part", "no_term", "unchanged"])
def test_bad_terms_are_refused_naming_the_field_and_rule_and_nothing_changes(db, world, typed,
                                                                             words):
    finance = Actor(world["finance"].id, world["finance"].username)
    entry = works(db)
    before = entry.match_terms
    with pytest.raises(ValidationFailed) as caught:
        catalogue.save_negative_terms(db, finance, entry.id, typed)
    assert "匹配词" in caught.value.errors["match_terms"]
    assert words in caught.value.errors["match_terms"]
    db.refresh(entry)
    assert entry.match_terms == before
    assert count(db, AuditEntry, AuditEntry.action == "negative_list.terms") == 0


def test_only_finance_edits_the_terms_on_the_negative_list_page(client, db, world, make_user):
    entry = works(db)
    action = f"/negative-list/{entry.id}/terms"
    token = sign_in(client, world["finance"])
    page = client.get("/negative-list").text
    assert f'action="{action}"' in page and "编辑匹配词" in page
    response = client.post(action, data={"match_terms": "工程建设\n工", "csrf_token": token})
    assert response.status_code == 422
    text = unescape(response.text)
    at_field = text.split(f'id="e-match_terms-{entry.id}"', 1)[1].split("</p>", 1)[0]
    assert "匹配词" in at_field and "“工”" in at_field
    assert "<details class=\"terms-edit\" open>" in text  # the refused form stays open
    response = client.post(action, data={"match_terms": "工程建设\n工程+打包\n工程+捆绑",
                                          "csrf_token": token})
    assert response.status_code == 303
    page = client.get("/negative-list").text
    assert "工程建设、工程+打包、工程+捆绑" in page
    assert client.post("/negative-list/99999/terms",
                       data={"match_terms": "工程建设", "csrf_token": token}).status_code == 404
    for user in (world["purchaser"], make_user("auditor")):
        token = sign_in(client, user)
        assert f'action="{action}"' not in client.get("/negative-list").text
        assert client.post(action, data={"match_terms": "打包",
                                         "csrf_token": token}).status_code == 403
    db.refresh(entry)
    assert entry.terms == ["工程建设", "工程+打包", "工程+捆绑"]
