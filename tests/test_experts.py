"""The expert pool (专家库), avoidance (回避), the panel draw (专家抽取) and its replay."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from evalplatform.models import (
    AuditEntry,
    Contract,
    Expert,
    ExpertRelationship,
    MemberStatus,
    PanelDraw,
    PanelFirm,
    PanelMember,
    ProcurementMethod,
    Project,
)
from evalplatform.services import evaluations, experts, panel
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world, schedule
from tests.test_scoresheets_world import (
    expert_pool,
    hashing_once,
    lone_evaluator,
    panel_world,
    principal,
)


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


@pytest.fixture
def world(db, make_user, make_org):
    with hashing_once():
        return contracted_world(db, make_user, make_org)


# ---------------------------------------------------------------- the pool


def test_finance_adds_an_expert_with_specialities_and_an_account(db, world):
    user = lone_evaluator(db, "林国华")
    expert = experts.save(db, world.f_actor, {
        "name": "林国华", "employer": "临江大学", "title": "教授", "phone": "13800000000",
        "specialities": ["D02", "E02"], "user_id": str(user.id)})
    assert expert.specialities == ["D02", "E02"] and expert.user_id == user.id and expert.active
    assert experts.for_user(db, user.id).id == expert.id
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "expert.create")).one()
    assert json.loads(entry.change)["specialities"] == ["D02", "E02"]


@pytest.mark.parametrize("changes, field", [
    ({"name": ""}, "name"),
    ({"specialities": []}, "specialities"),
    ({"specialities": ["Z99"]}, "specialities"),
    ({"phone": "", "email": ""}, "phone"),
    ({"email": "not-an-address"}, "email"),
])
def test_a_bad_expert_is_refused_naming_the_field(db, world, changes, field):
    values = {"name": "林国华", "phone": "13800000000", "specialities": ["D02"]}
    values.update(changes)
    with pytest.raises(ValidationFailed) as caught:
        experts.save(db, world.f_actor, values)
    assert field in caught.value.errors
    assert count(db, Expert) == 0


def test_an_account_links_to_one_expert_only_and_only_an_evaluators(db, world, make_user):
    user = lone_evaluator(db, "林国华")
    experts.save(db, world.f_actor, {"name": "甲", "phone": "13800001111", "specialities": ["D02"],
                                     "user_id": str(user.id)})
    with pytest.raises(ValidationFailed) as caught:
        experts.save(db, world.f_actor, {"name": "乙", "phone": "13800001111", "specialities": ["D02"],
                                         "user_id": str(user.id)})
    assert "user_id" in caught.value.errors
    with pytest.raises(ValidationFailed):
        experts.save(db, world.f_actor, {"name": "丙", "phone": "13800001111", "specialities": ["D02"],
                                         "user_id": str(world.purchaser.id)})
    assert count(db, Expert) == 1


def test_a_relationship_names_a_supplier_or_department_and_its_dates_in_order(db, world):
    expert = expert_pool(db, world, 1)[0]
    with pytest.raises(ValidationFailed) as caught:
        experts.add_relationship(db, world.f_actor, expert.id, {
            "organisation_id": str(world.supplier.id), "kind": "employed",
            "started_on": "2024-01-01", "ended_on": "2023-01-01"})
    assert "ended_on" in caught.value.errors
    with pytest.raises(ValidationFailed) as caught:
        experts.add_relationship(db, world.f_actor, expert.id, {
            "organisation_id": str(world.finance.organisation_id), "kind": "employed"})
    assert "organisation_id" in caught.value.errors
    assert count(db, ExpertRelationship) == 0


# ---------------------------------------------------------------- avoidance


def test_avoidance_reasons_cover_the_supplier_the_department_and_three_years(db, world):
    from datetime import date

    a, b, c, d, e = expert_pool(db, world, 5)
    evaluation = schedule(db, world)
    experts.add_relationship(db, world.f_actor, a.id, {
        "organisation_id": str(world.supplier.id), "kind": "employed",
        "started_on": "2020-01-01", "ended_on": "2024-03-31"})
    experts.add_relationship(db, world.f_actor, b.id, {
        "organisation_id": str(world.supplier.id), "kind": "director_supervisor",
        "ended_on": "2022-12-31"})  # more than three years before the day
    experts.add_relationship(db, world.f_actor, c.id, {
        "organisation_id": str(world.supplier.id), "kind": "relative_of_legal_rep"})
    experts.add_relationship(db, world.f_actor, d.id, {
        "organisation_id": str(world.department.id), "kind": "employed"})
    e.employer = world.supplier.name
    db.add(e)
    db.commit()
    day = date(2026, 6, 1)
    ra, rb, rc, rd, re = (experts.avoidance_reasons(db, x, evaluation, day)
                          for x in (a, b, c, d, e))
    assert [r["code"] for r in ra] == ["relationship"]
    assert rb == []
    assert rc[0]["kind"] == "relative_of_legal_rep"
    assert rd[0]["party"] == "purchaser"
    assert re[0]["code"] == "employer"
    text = experts.reason_text(ra[0])
    assert "任职或受雇" in text and world.supplier.name in text and "2024-03-31" in text


def test_the_avoidance_period_is_a_setting(db, world, monkeypatch):
    """Five years where a place sets five: a directorship ended at the end of 2022 still keeps
    the expert off a panel in June 2026, which the default three years does not."""
    from datetime import date

    from evalplatform.settings import get_settings

    expert = expert_pool(db, world, 1)[0]
    evaluation = schedule(db, world)
    experts.add_relationship(db, world.f_actor, expert.id, {
        "organisation_id": str(world.supplier.id), "kind": "director_supervisor",
        "ended_on": "2022-12-31"})
    assert experts.avoidance_reasons(db, expert, evaluation, date(2026, 6, 1)) == []
    monkeypatch.setenv("EVAL_AVOIDANCE_YEARS", "5")
    get_settings.cache_clear()
    try:
        [reason] = experts.avoidance_reasons(db, expert, evaluation, date(2026, 6, 1))
        assert reason["kind"] == "director_supervisor"
    finally:
        monkeypatch.delenv("EVAL_AVOIDANCE_YEARS")
        get_settings.cache_clear()


def test_staff_of_the_purchaser_never_sit_on_its_panel(db, world):
    expert = expert_pool(db, world, 1)[0]
    experts.add_relationship(db, world.f_actor, expert.id, {
        "organisation_id": str(world.department.id), "kind": "employed",
        "started_on": "2019-01-01"})
    evaluation = schedule(db, world)
    assert experts.avoidance_reasons(db, expert, evaluation, evaluations.local_date(
        evaluation.opens_at))[0]["party"] == "purchaser"


# ---------------------------------------------------------------- the draw


def test_a_draw_seats_the_panel_stores_seed_and_candidates_and_is_audited(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=2)
    draw = db.exec(select(PanelDraw)).one()
    assert len(draw.seed) == 64 and draw.algorithm == panel.ALGORITHM
    assert [c["id"] for c in draw.candidates] == sorted(e.id for e in pw.pool)
    assert len(draw.seats) == 3 and len(draw.alternates) == 2
    assert not set(draw.seats) & set(draw.alternates)
    seated = pw.seated(db)
    assert [m.expert_id for m in seated] == draw.seats
    assert [m.position for m in panel.members(db, pw.evaluation.id)] == [1, 2, 3, 4, 5]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "panel.draw")).one()
    logged = json.loads(entry.change)
    assert logged["seed"] == draw.seed and logged["seats"] == draw.seats


def test_the_panel_is_listed_with_its_experts_and_accounts_in_three_statements(
        db, make_user, make_org):
    """The evaluation page's panel: members, their experts and their accounts are read one
    kind at a time, not once per member."""
    from tests.conftest import statements_of

    pw = panel_world(db, make_user, make_org, pool_size=8, seats=5, alternates=2)
    evaluation_id = pw.evaluation.id
    db.expire_all()
    rows, statements = statements_of(db, lambda: panel.member_rows(db, evaluation_id))
    assert statements == 3
    assert [r.member.position for r in rows] == [1, 2, 3, 4, 5, 6, 7]
    assert all(r.expert.id == r.member.expert_id for r in rows)
    assert all(r.user is not None and r.user.id == r.expert.user_id for r in rows)
    assert [r.code for r in rows] == [f"E0{k}" for k in range(1, 8)]


def test_the_seats_follow_the_seeds_sha256_ranks():
    candidates = [{"id": i, "specialities": ["D02"]} for i in range(1, 9)]
    seed = "ab" * 32
    seats, alternates = panel.select_panel(seed, candidates, 3, 2, [])
    ranked = sorted(range(1, 9), key=lambda i: panel.rank_key(seed, i))
    assert seats == ranked[:3] and alternates == ranked[3:5]
    # the same seed always gives the same panel; another seed another order
    assert panel.select_panel(seed, list(reversed(candidates)), 3, 2, []) == (seats, alternates)


def test_each_required_speciality_gets_a_seat_when_someone_has_it():
    candidates = [{"id": i, "specialities": ["D02"]} for i in range(1, 8)]
    candidates.append({"id": 99, "specialities": ["E02"]})
    for n in range(20):
        seed = f"{n:064x}"
        seats, _alts = panel.select_panel(seed, candidates, 3, 1, ["D02", "E02"])
        assert 99 in seats


def test_a_replayed_draw_gives_the_same_panel_and_a_tampered_one_is_caught(db, make_user,
                                                                           make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)
    draw = db.exec(select(PanelDraw)).one()
    replayed = panel.replay(db, draw.id)
    assert replayed.ok and replayed.seats == draw.seats and replayed.alternates == draw.alternates
    assert [pair[0] for pair in replayed.order][:3] == draw.seats  # no speciality reordering
    # someone edits the stored panel afterwards: the replay no longer matches
    others = [c["id"] for c in draw.candidates if c["id"] not in draw.seats + draw.alternates]
    draw.seats = [others[0], *draw.seats[1:]]
    db.add(draw)
    db.commit()
    tampered = panel.replay(db, draw.id)
    assert not tampered.ok
    assert [ok for _label, ok in tampered.checks][0] is False
    assert pw.evaluation.id == draw.evaluation_id


def test_an_avoided_expert_is_never_drawn_and_the_reason_is_recorded(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=4, draw=False)
    avoided = pw.pool[0]
    experts.add_relationship(db, pw.world.f_actor, avoided.id, {
        "organisation_id": str(pw.world.supplier.id), "kind": "recent_work",
        "started_on": "2025-01-01"})
    panel.draw(db, principal(db, pw.purchaser), pw.evaluation.id,
               {"size": "3", "alternates": "0", "specialities": ["D02"]})
    draw = db.exec(select(PanelDraw)).one()
    assert avoided.id not in draw.seats + [c["id"] for c in draw.candidates]
    assert draw.excluded[0]["id"] == avoided.id
    assert draw.excluded[0]["reasons"][0]["kind"] == "recent_work"


@pytest.mark.parametrize("values, field", [
    ({"size": "4"}, "size"),  # even
    ({"size": "1"}, "size"),  # below 3
    ({"size": "x"}, "size"),
    ({"size": "3", "alternates": "-1"}, "alternates"),
    ({"size": "3", "specialities": ["Z99"]}, "specialities"),
    ({"size": "3", "specialities": ["A05"]}, "specialities"),  # nobody in the pool has it
    ({"size": "5", "alternates": "2"}, "size"),  # only 6 eligible
])
def test_a_bad_draw_is_refused_and_nothing_is_drawn(db, make_user, make_org, values, field):
    pw = panel_world(db, make_user, make_org, pool_size=6, draw=False)
    values = {"alternates": "0", "specialities": ["D02"], **values}
    with pytest.raises(ValidationFailed) as caught:
        panel.draw(db, principal(db, pw.purchaser), pw.evaluation.id, values)
    assert field in caught.value.errors
    assert count(db, PanelDraw) == 0 and count(db, PanelMember) == 0
    assert db.exec(select(AuditEntry).where(AuditEntry.action == "panel.draw")).first() is None


def test_a_tendered_project_needs_five_and_a_large_contract_seven(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=8, draw=False)
    project = db.get(Project, pw.world.project.id)
    project.procurement_method = ProcurementMethod.public_tender
    db.add(project)
    db.commit()
    assert panel.minimum_size(db, pw.evaluation) == 5
    with pytest.raises(ValidationFailed) as caught:
        panel.draw(db, principal(db, pw.purchaser), pw.evaluation.id,
                   {"size": "3", "specialities": ["D02"]})
    assert "5" in caught.value.errors["size"]
    contract = db.get(Contract, pw.world.contract.id)
    contract.amount_fen = 10_000_000_00
    db.add(contract)
    db.commit()
    assert panel.minimum_size(db, pw.evaluation) == 7
    assert count(db, PanelDraw) == 0


def test_only_the_organiser_or_finance_draws(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, draw=False)
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    for user in (stranger, make_user("auditor"), make_user("supplier")):
        with pytest.raises(PermissionDenied):
            panel.draw(db, principal(db, user), pw.evaluation.id,
                       {"size": "3", "specialities": ["D02"]})
    panel.draw(db, principal(db, pw.world.finance), pw.evaluation.id,
               {"size": "3", "specialities": ["D02"]})
    assert count(db, PanelDraw) == 1


def test_a_second_draw_only_fills_vacancies_and_needs_a_reason(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=0)
    organiser = principal(db, pw.purchaser)
    with pytest.raises(Conflict):
        panel.draw(db, organiser, pw.evaluation.id, {"reason": "补抽"})
    leaving = pw.seated(db)[0]
    assert panel.step_down(db, organiser, pw.evaluation.id, leaving.id, "出差") is None
    assert panel.vacancies(db, pw.evaluation.id) == 1
    with pytest.raises(ValidationFailed):
        panel.draw(db, organiser, pw.evaluation.id, {"reason": " ", "specialities": ["D02"]})
    second = panel.draw(db, organiser, pw.evaluation.id,
                        {"reason": "候补不足，补充抽取", "alternates": "1", "specialities": ["D02"]})
    assert second.round == 2 and second.size == 1
    assert leaving.expert_id not in [c["id"] for c in second.candidates]
    assert len(pw.seated(db)) == 3 and panel.replay(db, second.id).ok


# ---------------------------------------------------------------- declines and recusals


def test_a_declining_expert_is_replaced_by_the_first_alternate(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=2)
    member = pw.seated(db)[1]
    first_alternate = pw.alternates(db)[0]
    me = pw.expert_principal(db, member)
    with pytest.raises(ValidationFailed):
        panel.step_down(db, me, pw.evaluation.id, member.id, "")
    seated = panel.step_down(db, me, pw.evaluation.id, member.id, "时间冲突")
    assert seated.id == first_alternate.id and seated.replaces_id == member.id
    db.refresh(member)
    assert member.status == MemberStatus.declined and member.reason == "时间冲突"
    assert len(pw.seated(db)) == 3
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "panel.decline")).one()
    assert json.loads(entry.change)["seated_instead"] == first_alternate.expert_id
    # the expert who declined no longer sees the evaluation; the alternate does
    assert not evaluations.can_see(db, me, pw.evaluation)
    assert evaluations.can_see(db, pw.expert_principal(db, seated), pw.evaluation)


def test_an_expert_cannot_decline_someone_elses_seat(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org)
    a, b = pw.seated(db)[:2]
    with pytest.raises(PermissionDenied):
        panel.step_down(db, pw.expert_principal(db, a), pw.evaluation.id, b.id, "不想去")
    db.refresh(b)
    assert b.status == MemberStatus.seated


# ---------------------------------------------------------------- who sees what


def test_evaluators_see_exactly_their_assignments(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)
    seated = pw.seated(db)
    alternate = pw.alternates(db)[0]
    assert evaluations.assigned_ids(db, pw.expert_principal(db, seated[0])) == [pw.evaluation.id]
    assert evaluations.assigned_ids(db, pw.expert_principal(db, alternate)) == []
    firm = make_org("third_party_firm", name="正衡评价")
    staff = make_user("evaluator", organisation=firm)
    assert evaluations.assigned_ids(db, principal(db, staff)) == []
    panel.assign_firm(db, principal(db, pw.purchaser), pw.evaluation.id, firm.id)
    assert evaluations.assigned_ids(db, principal(db, staff)) == [pw.evaluation.id]
    with pytest.raises(ValidationFailed):
        panel.assign_firm(db, principal(db, pw.purchaser), pw.evaluation.id, firm.id)
    with pytest.raises(ValidationFailed):
        panel.assign_firm(db, principal(db, pw.purchaser), pw.evaluation.id, pw.world.supplier.id)
    assert count(db, PanelFirm) == 1


def test_panel_names_are_for_the_organiser_finance_and_auditors_until_final(db, make_user,
                                                                            make_org):
    from evalplatform.models import EvaluationStatus

    pw = panel_world(db, make_user, make_org)
    member = pw.seated(db)[0]
    assert panel.names_visible(db, principal(db, pw.purchaser), pw.evaluation)
    assert panel.names_visible(db, principal(db, pw.world.finance), pw.evaluation)
    assert panel.names_visible(db, principal(db, make_user("auditor")), pw.evaluation)
    assert not panel.names_visible(db, principal(db, pw.world.supplier_user), pw.evaluation)
    assert not panel.names_visible(db, pw.expert_principal(db, member), pw.evaluation)
    pw.evaluation.status = EvaluationStatus.final
    assert panel.names_visible(db, principal(db, pw.world.supplier_user), pw.evaluation)


def test_the_pool_filters_by_speciality_name_and_status(db, world):
    a, b = expert_pool(db, world, 2, accounts_too=False)
    c = experts.save(db, world.f_actor, {"name": "罗雅琴", "employer": "临江人力资源研究院",
                                         "phone": "13800001111", "specialities": ["A02", "E02"]})
    assert [e.id for e in experts.page(db, speciality="E02").items] == [c.id]
    assert {e.id for e in experts.page(db, speciality="D02").items} == {a.id, b.id}
    assert [e.id for e in experts.page(db, q="人力资源").items] == [c.id]
    experts.save(db, world.f_actor, {"name": c.name, "employer": c.employer, "phone": "13800001111",
                                     "specialities": c.specialities, "active": ""},
                 expert_id=c.id)
    assert [e.id for e in experts.page(db, active="0").items] == [c.id]
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "expert.update")).one()
    assert json.loads(entry.change)["active"] == [True, False]


# ---------------------------------------------------------------- lengths


def _filled(field: str, n: int) -> str:
    """``n`` characters for ``field``: an e-mail address still has its @, a phone is digits."""
    if field == "phone":
        return "1" * n
    return "专" * (n - len("@x.cn")) + "@x.cn" if field == "email" else "专" * n


@pytest.mark.parametrize("field, limit", [
    ("name", 100), ("employer", 200), ("title", 100), ("phone", 40), ("email", 200),
    ("note", 10_000),
])
def test_each_particular_fills_its_column_and_one_more_character_is_refused(db, world, field,
                                                                            limit):
    values = {"name": "林国华", "phone": "13800000000", "specialities": ["D02"]}
    with pytest.raises(ValidationFailed) as caught:
        experts.save(db, world.f_actor, {**values, field: _filled(field, limit + 1)})
    assert list(caught.value.errors) == [field] and str(limit) in caught.value.errors[field]
    assert count(db, Expert) == 0
    expert = experts.save(db, world.f_actor, {**values, field: _filled(field, limit)})
    with pytest.raises(ValidationFailed):
        experts.save(db, world.f_actor, {**values, field: _filled(field, limit + 1)},
                     expert_id=expert.id)
    db.expire_all()
    assert getattr(db.get(Expert, expert.id), field) == _filled(field, limit)


def test_a_relationships_note_is_at_most_ten_thousand_characters(db, world):
    expert = expert_pool(db, world, 1)[0]
    values = {"organisation_id": str(world.supplier.id), "kind": "employed"}
    with pytest.raises(ValidationFailed) as caught:
        experts.add_relationship(db, world.f_actor, expert.id, {**values, "note": "注" * 10_001})
    assert caught.value.errors == {"note": "备注：最多 10000 个字符。"}
    assert count(db, ExpertRelationship) == 0
    relationship = experts.add_relationship(db, world.f_actor, expert.id,
                                            {**values, "note": "注" * 10_000})
    assert len(relationship.note) == 10_000


# ---------------------------------------------------------------- the avoidance period's edges


@pytest.mark.parametrize("ended, on, avoided", [
    ("2023-12-07", "2026-12-06", True),   # ended 2 years and 364 days ago
    ("2023-12-06", "2026-12-06", True),   # three years ago to the day: still within
    ("2023-12-05", "2026-12-06", False),  # 3 years and 1 day ago
    # leap days: a tie that ended on 28 Feb 2025 is three years old on 28 Feb 2028, so on
    # 29 Feb 2028 it is three years and a day old (counting back from 29 Feb gave 28 Feb)
    ("2025-02-28", "2028-02-28", True),
    ("2025-02-28", "2028-02-29", False),
    ("2025-03-01", "2028-02-29", True),
    # one that ended on 29 Feb 2024 has its third anniversary on 28 Feb 2027
    ("2024-02-29", "2027-02-28", True),
    ("2024-02-29", "2027-03-01", False),
])
def test_the_avoidance_period_counts_whole_years_from_the_day_the_tie_ended(db, world, ended,
                                                                          on, avoided):
    from datetime import date

    expert = expert_pool(db, world, 1)[0]
    evaluation = schedule(db, world)
    experts.add_relationship(db, world.f_actor, expert.id, {
        "organisation_id": str(world.supplier.id), "kind": "employed",
        "started_on": "2015-01-01", "ended_on": ended})
    reasons = experts.avoidance_reasons(db, expert, evaluation, date.fromisoformat(on))
    assert bool(reasons) is avoided


def test_an_avoidance_reason_names_the_period_in_force_not_always_three_years(db, world,
                                                                              monkeypatch):
    from datetime import date

    from evalplatform.settings import get_settings

    expert = expert_pool(db, world, 1)[0]
    evaluation = schedule(db, world)
    experts.add_relationship(db, world.f_actor, expert.id, {
        "organisation_id": str(world.supplier.id), "kind": "director_supervisor",
        "ended_on": "2022-12-31"})
    monkeypatch.setenv("EVAL_AVOIDANCE_YEARS", "5")
    get_settings.cache_clear()
    try:
        [reason] = experts.avoidance_reasons(db, expert, evaluation, date(2026, 6, 1))
    finally:
        monkeypatch.delenv("EVAL_AVOIDANCE_YEARS")
        get_settings.cache_clear()
    assert reason["years"] == 5
    text = experts.reason_text(reason)
    assert "5" in text and "2022-12-31" in text and "三年" not in text and "three" not in text


# ---------------------------------------------------------------- further draws and a small pool


def test_a_further_draw_needs_no_speciality_a_seated_member_already_has(db, make_user, make_org):
    """The further draw keeps the first draw's specialities ticked; the seated members still
    cover 市容环卫 (D02), so an expert in 绩效评价 (E02) alone may fill the empty seat."""
    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    organiser = principal(db, pw.purchaser)
    newcomer = expert_pool(db, pw.world, 1, sector="E02")[0]
    leaving = pw.seated(db)[0]
    panel.step_down(db, organiser, pw.evaluation.id, leaving.id, "出差")
    second = panel.draw(db, organiser, pw.evaluation.id,
                        {"reason": "候补不足", "alternates": "0", "specialities": ["D02", "E02"]})
    assert second.seats == [newcomer.id]
    assert len(pw.seated(db)) == 3 and panel.replay(db, second.id).ok


def test_a_pool_too_small_says_how_many_were_avoided_and_why(db, make_user, make_org):
    from evalplatform.i18n import language

    pw = panel_world(db, make_user, make_org, pool_size=6, draw=False)
    for expert in pw.pool[:2]:
        experts.add_relationship(db, pw.world.f_actor, expert.id, {
            "organisation_id": str(pw.world.supplier.id), "kind": "employed"})
    with language("en"), pytest.raises(ValidationFailed) as caught:
        panel.draw(db, principal(db, pw.purchaser), pw.evaluation.id,
                   {"size": "5", "alternates": "0", "specialities": ["D02"]})
    message = caught.value.errors["size"]
    assert message.startswith("Only 4 experts are eligible")
    assert "2 must be avoided" in message and "within 3 years" in message
    assert count(db, PanelDraw) == 0


def test_a_further_draw_that_the_pool_cannot_fill_is_refused_at_a_field_it_shows(
        db, make_user, make_org):
    """A further draw has no size field: its refusal stands at the alternates, not at "size"
    where the page could not show it."""
    pw = panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)
    organiser = principal(db, pw.purchaser)
    panel.step_down(db, organiser, pw.evaluation.id, pw.seated(db)[0].id, "出差")
    with pytest.raises(ValidationFailed) as caught:
        panel.draw(db, organiser, pw.evaluation.id,
                   {"reason": "补抽", "alternates": "0", "specialities": ["D02"]})
    assert list(caught.value.errors) == ["alternates"]
    assert count(db, PanelDraw) == 1
