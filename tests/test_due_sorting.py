"""The two payment and deadline lists sort by their column headings and keep the sort across
pages; without a sort (or with one they do not know) they keep their own order."""

import re
from datetime import date

import pytest
from sqlmodel import select

from evalplatform.models import Instalment
from evalplatform.services import paging, projects
from tests.builders import contracted_world
from tests.conftest import login


@pytest.fixture
def worlds(db, make_user, make_org, monkeypatch):
    """Two departments' contracts: the first signed earlier, the second's first instalment
    smaller, so that due date and amount order them differently."""
    monkeypatch.setattr(projects, "today", lambda: date(2026, 12, 4))
    first = contracted_world(db, make_user, make_org, n=1, signed_on="2026-01-05")
    second = contracted_world(db, make_user, make_org, n=2, signed_on="2026-02-10")
    signing = db.exec(select(Instalment).where(Instalment.contract_id == second.contract.id,
                                               Instalment.seq == 1)).one()
    signing.amount_fen = 10_000_000  # ¥100,000, below the first contract's ¥234,000
    db.add(signing)
    db.commit()
    return first, second


def projects_in_order(html: str) -> list[int]:
    """The world numbers of the table's rows, top to bottom."""
    table = html.split('id="due-table"')[1].split("</tbody>")[0]
    return [int(n) for n in re.findall(r"主城区道路清扫保洁服务项目(\d)</a>", table)]


def test_sort_items_keeps_the_default_order_for_an_unknown_key_and_puts_blanks_last():
    rows = [{"n": 1, "v": 3}, {"n": 2, "v": None}, {"n": 3, "v": 1}, {"n": 4, "v": 3}]
    keys = {"v": lambda r: r["v"]}
    for unknown in ("", None, "bogus", "-bogus"):
        items, key, descending = paging.sort_items(rows, keys, unknown)
        assert [r["n"] for r in items] == [1, 2, 3, 4] and (key, descending) == ("", False)
    assert [r["n"] for r in paging.sort_items(rows, keys, "v")[0]] == [3, 1, 4, 2]
    assert [r["n"] for r in paging.sort_items(rows, keys, "-v")[0]] == [1, 4, 3, 2]


def test_the_payment_due_list_sorts_by_its_headings_and_keeps_the_sort_across_pages(
        client, db, worlds):
    first, _second = worlds
    login(client, first.finance.username)
    default = client.get("/settlements/due").text
    assert projects_in_order(default) == [1, 2]  # overdue first, the longest overdue first
    assert 'aria-sort' not in default.split('id="due-table"')[1]
    for sort, expected in (("due", [1, 2]), ("-due", [2, 1]), ("amount", [2, 1]),
                           ("-amount", [1, 2]), ("late", [2, 1]), ("-late", [1, 2]),
                           ("interest", [2, 1]), ("-interest", [1, 2]),
                           ("supplier", [1, 2]), ("-supplier", [2, 1]),
                           ("bogus", [1, 2]), ("-", [1, 2])):
        page = client.get(f"/settlements/due?sort={sort}")
        assert page.status_code == 200, sort
        assert projects_in_order(page.text) == expected, sort
    # the headings link to their sort; the active one toggles and says so
    page = client.get("/settlements/due?sort=amount").text
    table = page.split('id="due-table"')[1]
    assert 'aria-sort="ascending"' in table and "sort=-amount" in table
    for key in ("due", "late", "interest", "supplier", "project"):
        assert f"sort={key}" in table, key
    # paging keeps the sort, and so does the htmx swap of the table
    one = client.get("/settlements/due?sort=-due&per_page=1").text
    assert projects_in_order(one) == [2]
    pager = one.split('class="pager"')[1]
    assert "sort=-due" in pager and "page=2" in pager
    two = client.get("/settlements/due?sort=-due&per_page=1&page=2",
                     headers={"HX-Request": "true"})
    assert "<html" not in two.text and projects_in_order(two.text) == [1]
    # the switch to every instalment keeps the sort too
    switch = re.search(r'<a href="(/settlements/due\?[^"]*show=all[^"]*)"', one).group(1)
    assert "sort=-due" in switch and not re.search(r"[?;]page=", switch)


def test_the_due_and_late_list_sorts_by_its_headings_and_keeps_the_sort_across_pages(
        client, db, worlds):
    """Each contract is unpublished (late) and has a contract year without monitoring (due
    at its end, not late yet)."""
    first, _second = worlds
    login(client, first.finance.username)

    def rows(html: str) -> list[tuple[int, str]]:
        table = html.split('id="due-table"')[1].split("</tbody>")[0]
        return [(int(n), due) for n, due in re.findall(
            r'项目">主城区道路清扫保洁服务项目(\d)</td>.*?data-label="截止日期">(\S+?)[ <]',
            table, re.S)]

    published_1, published_2 = (1, "2026-01-07"), (2, "2026-02-12")
    monitoring_1, monitoring_2 = (1, "2027-01-04"), (2, "2027-02-09")
    default = [published_1, published_2, monitoring_1, monitoring_2]  # the latest first
    assert rows(client.get("/due").text) == default
    for sort, expected in (("due", [published_1, published_2, monitoring_1, monitoring_2]),
                           ("-due", [monitoring_2, monitoring_1, published_2, published_1]),
                           ("late", [monitoring_1, monitoring_2, published_2, published_1]),
                           ("department", [published_1, monitoring_1, published_2,
                                           monitoring_2]),
                           ("-project", [published_2, monitoring_2, published_1,
                                         monitoring_1]),
                           ("bogus", default)):
        assert rows(client.get(f"/due?sort={sort}").text) == expected, sort
    one = client.get("/due?sort=-due&per_page=3").text
    assert rows(one) == [monitoring_2, monitoring_1, published_2]
    assert "sort=-due" in one.split('class="pager"')[1]
    two = client.get("/due?sort=-due&per_page=3&page=2", headers={"HX-Request": "true"}).text
    assert "<html" not in two and rows(two) == [published_1]


def test_the_late_items_card_says_it_counts_late_monitoring_rounds_too(client, db, worlds):
    """The card counts the late monitoring rounds too, and says so."""
    first, _second = worlds
    login(client, first.finance.username)
    home = client.get("/").text
    card = home.split('data-testid="home-cards"')[1].split('<a href="/due?show=late">')[1] \
        .split("</a>")[0]
    assert "超期未备案、未公开的合同和未开展的事中监控" in card
    # the card leads to the late items only, which is its count; one step back to them all
    late = client.get("/due?show=late").text
    table = late.split('id="due-table"')[1].split("</tbody>")[0]
    assert table.count("主城区道路清扫保洁服务项目") == 2 and "逾期" in table
    assert "2027-01-04" not in table  # a monitoring round not yet due is not late
    assert '<a href="/due">显示全部到期事项</a>' in late
    assert "只看逾期事项（2 项）" in client.get("/due").text


@pytest.mark.parametrize("today, path, english, chinese", [
    (date(2026, 1, 8), "/due", "1 day late", "逾期 1 天"),  # published by 2026-01-07
    (date(2026, 2, 5), "/settlements/due", "× 1 day", "× 1 天"),  # paid by 2026-02-04
    (date(2026, 2, 5), "/settlements/due", "1 overdue payment;", "逾期未付 1 笔"),
    (date(2026, 2, 6), "/settlements/due", "× 2 days", "× 2 天"),
])
def test_the_due_lists_count_days_and_payments_in_good_english_and_chinese(
        client, db, make_user, make_org, monkeypatch, today, path, english, chinese):
    from tests.conftest import csrf_from

    world = contracted_world(db, make_user, make_org, signed_on="2026-01-05")
    monkeypatch.setattr(projects, "today", lambda: today)
    login(client, world.finance.username)
    assert chinese in client.get(path).text
    client.post("/language", data={"language": "en", "next": "/",
                                   "csrf_token": csrf_from(client, "/")})
    page = client.get(path).text
    assert english in page and "1 days" not in page and "1 overdue payments" not in page


def test_an_instalment_waiting_for_acceptance_names_the_evaluation_in_quotes(client, db,
                                                                             make_user, make_org):
    from tests.settlement_builders import final_evaluation

    world = contracted_world(db, make_user, make_org, signed_on="2026-01-05")
    final_evaluation(db, world, "85.00", "良")  # final, not yet accepted
    login(client, world.finance.username)
    table = client.get("/settlements/due").text.split('id="due-table"')[1]
    # not "等待 2026 年度终期绩效评价 的验收。", the title loose between spaces
    assert "等待“2026 年度终期绩效评价”验收。" in table


def test_a_suppliers_home_says_when_a_payment_to_it_is_overdue(client, db, make_user,
                                                               make_org, monkeypatch):
    world = contracted_world(db, make_user, make_org, signed_on="2026-01-05")
    other = contracted_world(db, make_user, make_org, n=2, signed_on="2026-01-20")
    monkeypatch.setattr(projects, "today", lambda: date(2026, 2, 6))  # due 2026-02-04
    login(client, world.supplier_user.username)
    cards = client.get("/").text.split('data-testid="home-cards"')[1].split("</ul>")[0]
    card = cards.split('<a href="/settlements/due">')[1].split("</a>")[0]
    # ¥234,000 × 0.05 % × 2 days = ¥234.00
    assert "逾期未付给您的款项" in card and "1</span>" in card and "¥234.00" in card
    client.cookies.clear()
    login(client, other.supplier_user.username)  # its first instalment is due 2026-02-19
    assert '<a href="/settlements/due">' not in client.get("/").text


def test_the_contracts_settlement_page_says_an_instalment_is_overdue_with_its_interest(
        client, db, make_user, make_org, monkeypatch):
    world = contracted_world(db, make_user, make_org, signed_on="2026-01-05")
    monkeypatch.setattr(projects, "today", lambda: date(2026, 2, 6))  # due 2026-02-04
    for user in (world.supplier_user, world.finance, world.purchaser):
        client.cookies.clear()
        login(client, user.username)
        page = client.get(f"/contracts/{world.contract.id}/settlements").text
        first = page.split('data-testid="instalment-1"')[1].split("</article>")[0]
        assert "应于 2026-02-04 前付款" in first
        assert "逾期 2 天；应付逾期利息 ¥234.00" in first, user.role
        second = page.split('data-testid="instalment-2"')[1].split("</article>")[0]
        assert "逾期" not in second  # not due yet: it waits for its evaluation


def test_the_switch_between_the_due_lists_has_no_bare_question_mark_and_follows_an_htmx_sort(
        client, db, worlds):
    first, _second = worlds
    login(client, first.finance.username)
    back = client.get("/settlements/due?show=all").text
    assert '<a href="/settlements/due">' in back and 'href="/settlements/due?"' not in back
    # a sort swapped in by htmx brings the switch along (out of band), carrying the new sort
    swapped = client.get("/settlements/due?sort=-amount&page=1",
                         headers={"HX-Request": "true"}).text
    switch = re.search(r'<p id="due-show" hx-swap-oob="true"><a href="([^"]*)"', swapped)
    assert switch and "sort=-amount" in switch.group(1) and "show=all" in switch.group(1)
    assert "page=" not in switch.group(1)
    swapped = client.get("/settlements/due?show=all&sort=due",
                         headers={"HX-Request": "true"}).text
    assert re.search(r'<p id="due-show" hx-swap-oob="true"><a href="/settlements/due\?sort=due">',
                     swapped)
    # the full page has the switch once, in place, not out of band
    full = client.get("/settlements/due?sort=due").text
    assert full.count('id="due-show"') == 1 and "hx-swap-oob" not in full


def test_an_auditors_home_offers_what_is_worth_a_look_not_what_to_act_on(
        client, db, make_user, worlds):
    """The auditor changes nothing: its cards are not things it must handle; the other roles'
    home still says what needs their attention."""
    first, _second = worlds
    login(client, make_user("auditor").username)
    home = client.get("/").text
    assert '<p class="lead">值得关注的事项：</p>' in home and "需要您处理" not in home
    for user in (first.finance, first.purchaser):
        client.cookies.clear()
        login(client, user.username)
        assert '<p class="lead">需要您处理的事项：</p>' in client.get("/").text, user.role


@pytest.mark.parametrize("url, table, key", [
    ("/settlements/due", "due-table", "project"), ("/due", "due-table", "project"),
    ("/settlements", "settlements-table", "project"), ("/projects", "projects-table", "name"),
    ("/disclosure/budget", "budget-table", "name"), ("/audit", "audit-table", "seq")])
def test_each_sorted_list_finance_reads_offers_its_headings_sorts_for_the_phone(
        client, db, worlds, url, table, key):
    """On a phone the headings fold away with the table; the sort choice above the cards
    offers each heading's sort both ways, keeps the other parameters, and marks the one
    applied."""
    first, _second = worlds
    login(client, first.finance.username)
    page = client.get(f"{url}?sort=-{key}&per_page=5").text
    wrap = page.split(f'id="{table}"')[1]
    headings = set(re.findall(r'<th scope="col"[^>]*>\s*<a href="[^"]*sort=-?([a-z_]+)', wrap))
    choice = wrap.split('class="sort-choice"')[1].split("</form>")[0]
    offered = re.findall(r'<option value="(-?[a-z_]*)"', choice)
    assert headings and set(offered) == {""} | headings | {f"-{k}" for k in headings}, url
    assert f'<option value="-{key}" selected>' in choice, url
    assert '<input type="hidden" name="per_page" value="5">' in choice
    assert 'name="sort"' in choice and 'name="page"' not in choice
