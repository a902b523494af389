"""The published budget for purchased services (预算公开): public, per year, exactly the
disclosed fields, nothing personal."""

import re
from html import unescape

import pytest

from evalplatform.services import disclosure
from tests.conftest import login
from tests.project_world import project_world


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def rows(text: str) -> list[str]:
    body = text[text.index("<tbody>"):text.index("</tbody>")]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_anyone_reads_the_budget_without_signing_in(client, world):
    response = client.get("/disclosure/budget?year=2026")
    assert response.status_code == 200
    text = unescape(response.text)
    assert "2026 年政府购买服务预算" in text
    listed = rows(text)
    # approved (streets), contracted (care) and registered below ¥1,000,000 (meals, green);
    # not awaiting approval, not returned (toilets), not another year (social)
    names = [re.search(r'data-label="项目">([^<]+)<', r).group(1) for r in listed]
    assert names == ["居家养老上门服务", "社区老年助餐服务", "中心城区道路清扫保洁", "城市绿化养护"]
    assert "公共厕所管理" not in text and "困难家庭社会工作服务" not in text
    assert "共 4 个项目，合计 ¥9,790,000.00" in text
    # approval alone lists a project (streets has no contract): the rule must not read as
    # approval and a signed contract both
    assert "项目经财政审批同意或已签订合同的，即予列入；100 万元以下的项目登记后即予列入。" in text


def test_each_line_has_exactly_the_published_fields(client, world):
    text = unescape(client.get("/disclosure/budget?year=2026").text)
    care = rows(text)[0]
    labels = re.findall(r'data-label="([^"]+)"', care)
    assert labels == ["项目", "类别", "服务内容", "服务对象", "采购方式", "预算金额"]
    assert "基本公共服务 › 养老 › 居家养老上门服务" in care
    assert "居家养老上门服务的服务内容" in care and "居家养老上门服务的服务对象" in care
    assert "公开招标" in care and "¥1,860,000.00" in care


def test_nothing_personal_or_internal_is_published(client, world):
    text = unescape(client.get("/disclosure/budget?year=2026").text)
    for secret in ["张丽", "赵敏", "王建国", world.civil_purchaser.username,
                   world.finance.username, "专项资金",  # budget lines
                   "临江市福康居家养老服务中心",  # the supplier
                   "临江市民政局", "临江市城市管理局",  # departments are not among the fields
                   "1800000.01", "¥1,800,000.01"]:  # the contract amount
        assert secret not in text, secret
    assert "退出" not in text  # not signed in: no account menu


def test_another_year_and_the_default_year(client, world):
    text = unescape(client.get("/disclosure/budget?year=2025").text)
    assert "共 0 个项目" in text and "该年度尚无公开的预算" in text  # 2025's only project waits
    default = unescape(client.get("/disclosure/budget").text)
    assert "2026 年政府购买服务预算" in default  # the latest year with a published project
    assert '<option value="2026" selected>' in default
    nonsense = client.get("/disclosure/budget?year=abc")
    assert nonsense.status_code == 200 and "2026 年政府购买服务预算" in unescape(nonsense.text)


def test_the_budget_is_paged_and_sorted(db, world):
    first = disclosure.budget(db, 2026, sort="-amount", per_page=3)
    second = disclosure.budget(db, 2026, sort="-amount", page_number=2, per_page=3)
    assert [line.name for line in first.page.items + second.page.items] == [
        "中心城区道路清扫保洁", "居家养老上门服务", "社区老年助餐服务", "城市绿化养护"]
    assert first.page.pages == 2 and first.count == 4
    assert first.total_fen == 979_000_000
    assert disclosure.years(db) == [2026]


def test_the_page_pages_through_links(client, world):
    text = unescape(client.get("/disclosure/budget?year=2026&sort=amount&per_page=2").text)
    assert len(rows(text)) == 4  # the page itself fixes its page size
    response = client.get("/disclosure/budget?year=2026&sort=-amount",
                          headers={"HX-Request": "true"})
    assert "<html" not in response.text and 'id="budget-table"' in response.text


def test_signed_in_users_see_it_too_and_the_login_page_links_it(client, world):
    assert 'href="/disclosure/budget"' in client.get("/login").text
    assert login(client, world.civil_purchaser.username).status_code == 303
    assert client.get("/disclosure/budget?year=2026").status_code == 200


# ---------------------------------------------------------------- the catalogue (目录公开)


def test_the_catalogue_is_public_once_an_issue_of_it_is_published(client, db, world):
    from sqlmodel import select

    from evalplatform.models import CatalogueEntry, NegativeListEntry
    from evalplatform.services import catalogue
    from evalplatform.services.audit import Actor

    text = unescape(client.get("/disclosure/catalogue").text)
    assert "指导性目录尚未公开。" in text and 'id="catalogue"' not in text
    finance = Actor(world.finance.id, world.finance.username)
    issue = catalogue.record_issue(db, finance, year="2026", issued_on="2026-01-09")
    catalogue.record_publication(db, finance, issue.id, "2026-01-21")
    # a withdrawn sector takes its local entries with it; a withdrawn local entry goes alone
    entries = {e.code: e for e in db.exec(select(CatalogueEntry))}
    entries["A02"].active = False  # 就业, with 就业技能培训 under it
    entries["A0502"].active = False  # 社区老年助餐服务
    db.add_all([entries["A02"], entries["A0502"]])
    db.commit()

    response = client.get("/disclosure/catalogue")  # signed out
    assert response.status_code == 200
    text = unescape(response.text)
    assert "2026 年度指导性目录，2026-01-09 印发，2026-01-21 公开" in text
    listed = re.findall(r"<code>([A-Z0-9]+)</code>", text)
    assert listed[:3] == ["A", "A01", "A0101"] and "A0501" in listed
    assert not {"A02", "A0201", "A0502"} & set(listed)
    negative = db.exec(select(NegativeListEntry)).all()
    assert all(e.name in text for e in negative)
    # the terms finance matches projects with are a working tool, not part of the list
    assert not any(term in text for e in negative for term in e.terms if term not in e.name
                   and term not in e.description)


def test_signed_out_visitors_find_what_is_public(client, world):
    index = client.get("/disclosure")
    assert index.status_code == 200
    for href in ("/disclosure/budget", "/disclosure/catalogue", "/results"):
        assert f'href="{href}"' in index.text.split('id="disclosures"')[1]
    login_page = client.get("/login").text
    assert 'class="public-nav"' in login_page and 'href="/disclosure"' in login_page
    assert login(client, world.civil_purchaser.username).status_code == 303
    assert 'class="public-nav"' not in client.get("/").text  # signed in: the menu instead


def test_the_budget_total_takes_the_english_singular_for_one_project(client, db, world):
    from sqlmodel import select

    from evalplatform.models import CatalogueEntry
    from evalplatform.services import projects
    from evalplatform.services.audit import Actor
    from tests.conftest import csrf_from

    purchaser = world.civil_purchaser
    entry = db.exec(select(CatalogueEntry).where(CatalogueEntry.code == "A0502")).one()
    projects.register(db, Actor(purchaser.id, purchaser.username),
                      department_id=purchaser.organisation_id, values={
                          "name": "2027 年社区老年助餐服务", "catalogue_entry_id": str(entry.id),
                          "content": "助餐", "recipients": "辖区老人", "year": "2027",
                          "budget": "300000", "budget_line": "2027年专项资金",
                          "procurement_method": "price_inquiry"})
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/login")})
    one = unescape(client.get("/disclosure/budget?year=2027").text)
    assert "1 project, ¥300,000.00 in total." in one and "1 projects" not in one
    four = unescape(client.get("/disclosure/budget?year=2026").text)
    assert "4 projects, ¥9,790,000.00 in total." in four


def test_an_entry_and_its_description_stay_one_block_on_a_phone(client, db, world):
    """At 375 px a stacked cell lays its children side by side: the negative-list entry's name
    and its description were squeezed into columns a few characters wide."""
    from evalplatform.services import catalogue
    from evalplatform.services.audit import Actor

    finance = Actor(world.finance.id, world.finance.username)
    issue = catalogue.record_issue(db, finance, year="2026", issued_on="2026-01-09")
    catalogue.record_publication(db, finance, issue.id, "2026-01-21")
    text = client.get("/disclosure/catalogue").text
    described = re.findall(r'<td data-label="[^"]+"[^>]*>(.*?)</td>', text, re.S)
    described = [cell for cell in described if 'class="hint"' in cell]
    assert described and all(cell.startswith("<div>") and cell.endswith("</div>")
                             for cell in described)
