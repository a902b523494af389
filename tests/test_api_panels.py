"""The expert pool and an evaluation's panel through the JSON API: the panel page's readers
and organisers, its draw, declines, recusals and firms through the same services, with the
same refusals and audit entries; the names confidential to everyone else."""

from __future__ import annotations

import json

import pytest
from sqlmodel import func, select

from evalplatform.models import (
    AuditEntry,
    EvaluationStatus,
    MemberStatus,
    PanelDraw,
    PanelFirm,
    PanelMember,
)
from evalplatform.services import evaluations, experts, panel
from tests.conftest import login
from tests.test_scoresheets_world import expert_pool, hashing_once, panel_world, principal


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def sign_in(client, user) -> dict:
    client.cookies.clear()
    assert login(client, user.username).status_code == 303
    return {"x-csrf-token": client.get("/api/me").json()["csrf_token"]}


def audited(db, action: str) -> list[dict]:
    return [json.loads(e.change) for e in db.exec(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq))]


def statuses(db, evaluation_id: int) -> list[tuple[int, str]]:
    db.expire_all()
    return [(m.id, m.status.value) for m in panel.members(db, evaluation_id)]


@pytest.fixture
def undrawn(db, make_user, make_org):
    """An evaluation collecting, its pool of six street-cleaning (D02) experts, no panel yet."""
    return panel_world(db, make_user, make_org, pool_size=6, draw=False)


@pytest.fixture
def drawn(db, make_user, make_org):
    """Three seated experts and two alternates."""
    return panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=2)


def path(pw, rest: str = "") -> str:
    return f"/api/evaluations/{pw.evaluation.id}/panel{rest}"


# ---------------------------------------------------------------- the draw


def test_the_organiser_draws_the_panel_and_reads_it_with_the_names(client, db, undrawn,
                                                                   make_user):
    headers = sign_in(client, undrawn.purchaser)
    before = client.get(path(undrawn))
    assert before.status_code == 200, before.text
    assert before.json()["members"] == [] and before.json()["draws"] == []
    assert (before.json()["may_manage"], before.json()["open"], before.json()["minimum_size"]) \
        == (True, True, 3)
    drawn = client.post(path(undrawn, "/draw"), headers=headers,
                        json={"size": 3, "alternates": 2, "specialities": ["D02"]})
    assert drawn.status_code == 201, drawn.text
    assert drawn.headers["location"] == path(undrawn)
    body = drawn.json()
    assert [m["status"] for m in body["members"]] == ["seated"] * 3 + ["alternate"] * 2
    assert [m["code"] for m in body["members"]] == ["E01", "E02", "E03", "E04", "E05"]
    names = {e.id: e.name for e in undrawn.pool}
    assert all(m["name"] == names[m["expert_id"]] for m in body["members"])
    assert body["members"][0]["status_label"] == "在席"
    record = db.exec(select(PanelDraw)).one()
    assert (count(db, PanelMember), record.size, record.alternate_count) == (5, 3, 2)
    assert [m["expert_id"] for m in body["members"]] == record.seats + record.alternates
    assert body["draws"][0]["seed"] == record.seed and body["draws"][0]["candidates"] == 6
    [entry] = audited(db, "panel.draw")
    assert entry["seed"] == record.seed and entry["seats"] == record.seats
    assert panel.replay(db, record.id).ok
    # finance and auditors read it with the names too; only the organiser manages it
    for reader, manages in ((undrawn.world.finance, True), (make_user("auditor"), False)):
        sign_in(client, reader)
        read = client.get(path(undrawn)).json()
        assert read["may_manage"] is manages and read["names_visible"] is True
        assert [m["name"] for m in read["members"]] == [m["name"] for m in body["members"]]


def test_a_draw_without_size_or_specialities_takes_what_the_pages_form_offers(
        client, db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=0, draw=False)
    sector = panel.default_specialities(db, pw.evaluation)
    assert sector  # the project's catalogue sector
    with hashing_once():
        expert_pool(db, pw.world, 5, sector=sector[0])
    headers = sign_in(client, pw.purchaser)
    assert client.get(path(pw)).json()["default_specialities"] == sector
    drawn = client.post(path(pw, "/draw"), headers=headers, json={})
    assert drawn.status_code == 201, drawn.text
    record = db.exec(select(PanelDraw)).one()
    # the minimum size, two alternates and the project's sector, as the form is filled in
    assert (record.size, record.alternate_count, record.specialities) == (3, 2, sector)


def test_a_bad_draw_is_refused_naming_the_field_in_chinese_and_nothing_is_drawn(client, db,
                                                                                 undrawn):
    headers = sign_in(client, undrawn.purchaser)
    for body, field, words in [
        ({"size": 4, "specialities": ["D02"]}, "size", "专家组人数必须为奇数。"),
        ({"size": 3, "specialities": ["Z99"]}, "specialities", "不是目录中的行业：Z99。"),
        ({"size": 3, "alternates": "x", "specialities": ["D02"]}, "alternates",
         "alternates须为整数。"),
        ({"size": True, "specialities": ["D02"]}, "size", "size须为整数。"),
        ({"size": 3, "seats": 3}, "seats", None),
        ({"size": 5, "alternates": 2, "specialities": ["D02"]}, "size", None),  # 6 eligible
    ]:
        refused = client.post(path(undrawn, "/draw"), headers=headers, json=body)
        assert refused.status_code == 422, (body, refused.text)
        assert set(refused.json()["errors"]) == {field}, (body, refused.json())
        if words:
            assert refused.json()["errors"][field] == words
    assert count(db, PanelDraw) == 0 and count(db, PanelMember) == 0
    assert audited(db, "panel.draw") == []


def test_only_the_organiser_draws_and_only_the_pages_readers_read(client, db, undrawn,
                                                                  make_user, make_org):
    body = {"size": 3, "specialities": ["D02"]}
    for user in (make_user("auditor"), undrawn.world.supplier_user, make_user("evaluator")):
        headers = sign_in(client, user)
        refused = client.post(path(undrawn, "/draw"), headers=headers, json=body)
        assert refused.status_code == 403 and refused.json()["detail"] == "您的角色无权使用此接口。"
    for user in (undrawn.world.supplier_user, make_user("evaluator"), make_user("admin")):
        sign_in(client, user)
        assert client.get(path(undrawn)).status_code == 403
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    headers = sign_in(client, stranger)
    assert client.get(path(undrawn)).status_code == 404
    foreign = client.post(path(undrawn, "/draw"), headers=headers, json=body)
    assert foreign.status_code == 404 and foreign.json()["detail"] == "未找到，或您无权查看。"
    assert count(db, PanelDraw) == 0 and count(db, PanelMember) == 0


def test_a_seated_expert_is_refused_the_panel_whose_names_are_confidential(client, db, drawn):
    member = drawn.seated(db)[0]
    sign_in(client, drawn.user_of(db, member))
    assert client.get(f"/api/evaluations/{drawn.evaluation.id}").status_code == 200  # assigned
    assert client.get(path(drawn)).status_code == 403


def test_a_panel_that_can_no_longer_change_is_not_drawn_again(client, db, drawn):
    headers = sign_in(client, drawn.purchaser)
    filled = client.post(path(drawn, "/draw"), headers=headers, json={"reason": "再抽"})
    assert filled.status_code == 409
    assert filled.json()["detail"] == "专家组席位已满，无需补充抽取。"
    for step in (EvaluationStatus.scoring, EvaluationStatus.computed):
        evaluations.advance(db, drawn.world.p_actor, drawn.evaluation.id, step)
    closed = client.post(path(drawn, "/draw"), headers=headers, json={"reason": "再抽"})
    assert closed.status_code == 409
    assert closed.json()["detail"].startswith("专家组已不能变更")
    assert count(db, PanelDraw) == 1 and count(db, PanelMember) == 5


def test_a_further_draw_fills_the_empty_seats_with_a_reason_and_takes_no_size(
        client, db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=0)
    headers = sign_in(client, pw.purchaser)
    leaving = pw.seated(db)[0]
    gone = client.post(path(pw, f"/members/{leaving.id}/step-down"), headers=headers,
                       json={"reason": "出差"})
    assert gone.status_code == 200 and gone.json()["seated_instead"] is None
    assert gone.json()["vacancies"] == 1
    no_reason = client.post(path(pw, "/draw"), headers=headers,
                            json={"alternates": 0, "specialities": ["D02"]})
    assert no_reason.status_code == 422 and set(no_reason.json()["errors"]) == {"reason"}
    sized = client.post(path(pw, "/draw"), headers=headers,
                        json={"size": 3, "alternates": 0, "reason": "补抽", "specialities": ["D02"]})
    assert sized.status_code == 422 and set(sized.json()["errors"]) == {"size"}
    assert "1" in sized.json()["errors"]["size"]
    assert count(db, PanelDraw) == 1
    again = client.post(path(pw, "/draw"), headers=headers,
                        json={"alternates": 1, "reason": "候补不足，补充抽取"})
    assert again.status_code == 201, again.text
    second = again.json()["draws"][1]
    assert (second["round"], second["size"], second["reason"]) == (2, 1, "候补不足，补充抽取")
    db.expire_all()
    assert again.json()["vacancies"] == 0 and len(pw.seated(db)) == 3
    assert [d["round"] for d in audited(db, "panel.draw")] == [1, 2]


# ---------------------------------------------------------------- declines and recusals


def test_the_organiser_records_a_decline_and_the_first_alternate_takes_the_seat(client, db,
                                                                                drawn):
    headers = sign_in(client, drawn.purchaser)
    leaving, first_alternate = drawn.seated(db)[1], drawn.alternates(db)[0]
    done = client.post(path(drawn, f"/members/{leaving.id}/step-down"), headers=headers,
                       json={"reason": "时间冲突"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["member"]["id"], body["member"]["status"], body["member"]["reason"]) == (
        leaving.id, "declined", "时间冲突")
    assert body["seated_instead"]["id"] == first_alternate.id
    assert body["seated_instead"]["replaces_id"] == leaving.id
    assert body["seated_instead"]["name"]  # the organiser reads the names
    assert dict(statuses(db, drawn.evaluation.id))[first_alternate.id] == "seated"
    [entry] = audited(db, "panel.decline")
    assert (entry["member"], entry["reason"], entry["seated_instead"]) == (
        leaving.id, "时间冲突", first_alternate.expert_id)
    recused = drawn.seated(db)[0]
    done = client.post(path(drawn, f"/members/{recused.id}/step-down"), headers=headers,
                       json={"reason": "发现与承接主体有关联", "recuse": True})
    assert done.json()["member"]["status"] == "recused"
    assert [e["member"] for e in audited(db, "panel.recuse")] == [recused.id]
    again = client.post(path(drawn, f"/members/{recused.id}/step-down"), headers=headers,
                        json={"reason": "再次"})
    assert again.status_code == 409 and again.json()["detail"] == "该专家已退出专家组。"


def test_an_expert_declines_only_their_own_seat_and_never_reads_the_names(client, db, drawn):
    mine, other = drawn.seated(db)[:2]
    headers = sign_in(client, drawn.user_of(db, mine))
    before = statuses(db, drawn.evaluation.id)
    for member, body in ((other, {"reason": "不想去"}),
                         (mine, {"reason": "回避", "recuse": True})):
        refused = client.post(path(drawn, f"/members/{member.id}/step-down"), headers=headers,
                              json=body)
        assert refused.status_code == 403, refused.text
    blank = client.post(path(drawn, f"/members/{mine.id}/step-down"), headers=headers,
                        json={"reason": "  "})
    assert blank.status_code == 422 and blank.json()["errors"] == {"reason": "请填写理由。"}
    assert statuses(db, drawn.evaluation.id) == before
    assert audited(db, "panel.decline") == []
    done = client.post(path(drawn, f"/members/{mine.id}/step-down"), headers=headers,
                       json={"reason": "外出学习"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["member"]["status"] == "declined" and body["seated_instead"] is not None
    # the list stays confidential to the expert: codes, not names
    for member in (body["member"], body["seated_instead"]):
        assert (member["name"], member["expert_id"], member["employer"]) == (None, None, None)
    assert dict(statuses(db, drawn.evaluation.id))[mine.id] == "declined"


def test_a_step_down_of_someone_elses_member_is_not_found(client, db, drawn, make_user,
                                                          make_org):
    other = panel_world(db, make_user, make_org, n=2)
    foreign_member = other.seated(db)[0]
    headers = sign_in(client, drawn.purchaser)
    # another evaluation's member through one's own evaluation, and another department's panel
    assert client.post(path(drawn, f"/members/{foreign_member.id}/step-down"), headers=headers,
                       json={"reason": "x"}).status_code == 404
    assert client.post(path(other, f"/members/{foreign_member.id}/step-down"), headers=headers,
                       json={"reason": "x"}).status_code == 404
    assert db.get(PanelMember, foreign_member.id).status == MemberStatus.seated


# ---------------------------------------------------------------- firms


def test_the_organiser_assigns_and_withdraws_a_third_party_firm(client, db, drawn, make_user,
                                                                make_org):
    firm = make_org("third_party_firm", name="正衡绩效评价有限公司")
    staff = make_user("evaluator", organisation=firm)
    headers = sign_in(client, drawn.purchaser)
    assigned = client.post(path(drawn, "/firms"), headers=headers,
                           json={"organisation_id": firm.id})
    assert assigned.status_code == 201, assigned.text
    body = assigned.json()
    assert (body["organisation_id"], body["name"], body["code"], body["active"]) == (
        firm.id, "正衡绩效评价有限公司", "F1", True)
    assert evaluations.assigned_ids(db, principal(db, staff)) == [drawn.evaluation.id]
    assert [e["firm"] for e in audited(db, "panel.firm")] == [firm.id]
    twice = client.post(path(drawn, "/firms"), headers=headers, json={"organisation_id": firm.id})
    assert twice.status_code == 422 and twice.json()["errors"] == {
        "organisation_id": "已委托该机构。"}
    supplier = client.post(path(drawn, "/firms"), headers=headers,
                           json={"organisation_id": drawn.world.supplier.id})
    assert supplier.status_code == 422 and set(supplier.json()["errors"]) == {"organisation_id"}
    assert count(db, PanelFirm) == 1

    remove = path(drawn, f"/firms/{body['id']}/remove")
    blank = client.post(remove, headers=headers, json={"reason": ""})
    assert blank.status_code == 422 and set(blank.json()["errors"]) == {"reason"}
    assert db.get(PanelFirm, body["id"]).active
    removed = client.post(remove, headers=headers, json={"reason": "机构与承接主体存在关联"})
    assert removed.status_code == 200, removed.text
    assert (removed.json()["active"], removed.json()["removed_reason"]) == (
        False, "机构与承接主体存在关联")
    db.expire_all()
    assert not db.get(PanelFirm, body["id"]).active
    assert evaluations.assigned_ids(db, principal(db, staff)) == []
    assert audited(db, "panel.firm_removed")[0]["reason"] == "机构与承接主体存在关联"
    assert client.post(remove, headers=headers, json={"reason": "再撤"}).status_code == 404
    # the firm assigned again: its withdrawn assignment renewed (200), not a second one
    renewed = client.post(path(drawn, "/firms"), headers=headers,
                          json={"organisation_id": firm.id})
    assert renewed.status_code == 200 and renewed.json()["id"] == body["id"]
    assert count(db, PanelFirm) == 1
    firms = client.get(path(drawn)).json()["firms"]
    assert [(f["name"], f["active"]) for f in firms] == [("正衡绩效评价有限公司", True)]


def test_only_the_organiser_assigns_firms(client, db, drawn, make_user, make_org):
    firm = make_org("third_party_firm")
    assignment = panel.assign_firm(db, principal(db, drawn.purchaser), drawn.evaluation.id,
                                   firm.id)
    other_firm = make_org("third_party_firm")
    stranger = make_user("purchaser", organisation=make_org("purchasing_department"))
    for user, status in ((make_user("auditor"), 403), (drawn.world.supplier_user, 403),
                         (stranger, 404)):
        headers = sign_in(client, user)
        assert client.post(path(drawn, "/firms"), headers=headers,
                           json={"organisation_id": other_firm.id}).status_code == status
        assert client.post(path(drawn, f"/firms/{assignment.id}/remove"), headers=headers,
                           json={"reason": "x"}).status_code == status
    db.expire_all()
    assert count(db, PanelFirm) == 1 and db.get(PanelFirm, assignment.id).active


# ---------------------------------------------------------------- the pool


def test_finance_and_auditors_list_the_pool_paged_and_filtered(client, db, drawn, make_user):
    sign_in(client, drawn.world.finance)
    first = client.get("/api/experts?per_page=4")
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["total"], body["pages"], body["per_page"], body["sort"]) == (6, 2, 4, "name")
    assert len(body["items"]) == 4
    assert body["items"][0]["specialities"] == ["D02"] and body["items"][0]["account_linked"]
    assert body["items"][0]["speciality_names"] == [experts.sector_names(db)["D02"]]
    second = client.get("/api/experts?per_page=4&page=2").json()
    assert {e["id"] for e in body["items"] + second["items"]} == {e.id for e in drawn.pool}
    inactive = drawn.pool[0]
    inactive.active = False
    db.add(inactive)
    db.commit()
    assert [e["id"] for e in client.get("/api/experts?active=false").json()["items"]] == [
        inactive.id]
    assert client.get("/api/experts?active=true").json()["total"] == 5
    assert client.get("/api/experts?speciality=A02").json()["total"] == 0
    by_employer = client.get("/api/experts?sort=-employer").json()
    assert [e["employer"] for e in by_employer["items"]] == sorted(
        (e.employer for e in drawn.pool), reverse=True)
    assert by_employer["sort"] == "-employer"
    for query, field in (("speciality=Z99", "speciality"), ("sort=phone", "sort"),
                         ("page=3&per_page=4", "page"), ("per_page=0", "per_page"),
                         ("active=maybe", "active")):
        refused = client.get(f"/api/experts?{query}")
        assert refused.status_code == 422, query
        assert set(refused.json()["errors"]) == {field}, query
    assert client.get("/api/experts?speciality=Z99").json()["errors"]["speciality"] == \
        "不是目录中的行业：Z99。"
    sign_in(client, make_user("auditor"))
    assert client.get("/api/experts").json()["total"] == 6


@pytest.mark.parametrize("role", ["purchaser", "supplier", "evaluator", "admin"])
def test_the_pool_is_refused_to_those_its_page_refuses(client, signed_in, role):
    signed_in(role)
    refused = client.get("/api/experts")
    assert refused.status_code == 403 and refused.json()["detail"] == "您的角色无权使用此接口。"
