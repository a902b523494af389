"""The JSON API of scoresheets: a third party delivers its scores by program through the same
services and access rules as the sheet pages."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select

from evalplatform.models import AuditEntry, Expert, Scoresheet, SheetStatus
from tests.conftest import csrf_from
from tests.test_scoresheets_web import sign_in
from tests.test_scoresheets_world import panel_world

# The street-cleaning scheme (tests/builders.py): third-party part C, purchaser part A.
EXPERT_LEAVES = ["C1.2", "C1.3", "C2.1", "C2.2"]  # tiers 15, points 15, tiers 20, points 20
FULL = {"C1.2": {"tier": "达成"}, "C1.3": {"points": 15}, "C2.1": {"tier": "达成"},
        "C2.2": {"points": 20}}


@pytest.fixture
def pw(db, make_user, make_org):
    return panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)


def _api(pw) -> str:
    return f"/api/evaluations/{pw.evaluation.id}/sheets"


def _stored(db, sheet_id: int) -> Scoresheet:
    db.expire_all()
    return db.get(Scoresheet, sheet_id)


def _start(client, pw, token, **body):
    return client.post(_api(pw), json=body, headers={"X-CSRF-Token": token})


def _leaf(sheet: dict, leaf_id: str) -> dict:
    return next(leaf for leaf in sheet["leaves"] if leaf["id"] == leaf_id)


def _submits(db) -> list[AuditEntry]:
    return list(db.exec(select(AuditEntry).where(AuditEntry.action == "scoresheet.submit")))


def test_an_expert_lists_starts_drafts_and_submits_its_sheet_over_the_api(client, db, pw):
    token = sign_in(client, pw.user_of(db, pw.seated(db)[0]))
    csrf = {"X-CSRF-Token": token}
    listing = client.get(_api(pw))
    assert listing.status_code == 200 and listing.json()["items"] == []

    started = _start(client, pw, token, part="C", kind="expert")
    assert started.status_code == 201, started.text
    sheet = started.json()
    url = f"{_api(pw)}/{sheet['id']}"
    assert started.headers["location"] == url
    assert [leaf["id"] for leaf in sheet["leaves"]] == EXPERT_LEAVES  # only its part's leaves
    assert sheet["status"] == "draft" and sheet["editable"] and sheet["kind"] == "expert"
    points = _leaf(sheet, "C1.3")
    assert (points["enter"], points["points"], points["entry"]) == ("points", "15", None)
    assert "扣 1 分" in points["criteria"]
    tiers = _leaf(sheet, "C1.2")
    assert tiers["enter"] == "tier" and "达成" in [t["name"] for t in tiers["tiers"]]
    again = _start(client, pw, token, part="C", kind="expert")  # the same sheet, not a second
    assert again.status_code == 200 and again.json()["id"] == sheet["id"]
    assert [s["id"] for s in client.get(_api(pw)).json()["items"]] == [sheet["id"]]

    # a body without the sheet's version names it as the sheet's, not a result's
    unversioned = client.post(f"{url}/submit", json={}, headers=csrf)
    assert unversioned.status_code == 422
    assert "读取时的版本号为必填项" in unversioned.text and "结果版本" not in unversioned.text
    # a deduction with its reason; a draft may still miss leaves, which it names
    draft = {"C1.3": {"points": 13, "reason": "两处收集点满溢"}, "C1.2": {"tier": "达成"}}
    saved = client.put(f"{url}/draft", json={"version": sheet["version"], "entries": draft},
                       headers=csrf)
    assert saved.status_code == 200, saved.text
    body = saved.json()
    version = body["version"]
    assert version == sheet["version"] + 1
    assert _leaf(body, "C1.3")["entry"] == {"points": "13", "reason": "两处收集点满溢",
                                            "tier": None, "value": None, "na": None,
                                            "source": None}
    assert _leaf(body, "C1.3")["to_do"] is None and _leaf(body, "C2.2")["to_do"]
    assert body["subtotal"] == {"leaves": 4, "entered": 2, "not_applicable": 0,
                                "scored": "28", "scored_max": "30"}  # 13 + 15 × 1.0
    assert _stored(db, sheet["id"]).scores["C1.3"] == {"points": "13", "reason": "两处收集点满溢"}

    # a refused draft changes nothing, not even its valid entries: each leaf's rule, named
    for entries, leaf, words in [
        ({**FULL, "C1.3": {"points": 16, "reason": "x"}}, "C1.3", "0 到满分 15"),
        ({**FULL, "C1.3": {"points": -1, "reason": "x"}}, "C1.3", "0 到满分 15"),
        ({**FULL, "C1.2": {"tier": "优秀"}}, "C1.2", "达成"),
        ({**FULL, "A2.2": {"points": 8}}, "A2.2", "A2.2"),  # another part's leaf
        ({**FULL, "C2.2": {"points": 20, "tier": "达成"}}, "C2.2", "points"),
    ]:
        refused = client.put(f"{url}/draft", json={"version": version, "entries": entries},
                             headers=csrf)
        assert refused.status_code == 422, refused.text
        assert set(refused.json()["errors"]) == {leaf}, refused.json()
        assert words in refused.json()["errors"][leaf]
        stored = _stored(db, sheet["id"])
        assert stored.version == version and "C2.2" not in stored.scores

    # a missing reason is kept in a draft, named as what submission needs, and refused there
    no_reason = {**FULL, "C1.3": {"points": 12}}
    saved = client.put(f"{url}/draft", json={"version": version, "entries": no_reason},
                       headers=csrf)
    assert saved.status_code == 200 and "扣分理由" in _leaf(saved.json(), "C1.3")["to_do"]
    version = saved.json()["version"]
    refused = client.post(f"{url}/submit", json={"version": version}, headers=csrf)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"C1.3"}
    assert "扣分理由" in refused.json()["errors"]["C1.3"]
    assert _stored(db, sheet["id"]).status == SheetStatus.draft and not _submits(db)

    # a stale version loses and changes nothing
    stale = client.put(f"{url}/draft", json={"version": version - 1, "entries": FULL},
                       headers=csrf)
    assert stale.status_code == 409 and stale.json()["detail"]
    assert _stored(db, sheet["id"]).scores["C1.3"] == {"points": "12"}

    final = {**FULL, "C1.3": {"points": 13, "reason": "两处收集点满溢"},
             "C2.1": {"na": "本期无作业计划调整"}}
    submitted = client.post(f"{url}/submit", json={"version": version, "entries": final},
                            headers=csrf)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "submitted" and not submitted.json()["editable"]
    assert _leaf(submitted.json(), "C2.1")["entry"]["na"] == "本期无作业计划调整"
    stored = _stored(db, sheet["id"])
    assert stored.status == SheetStatus.submitted
    assert stored.scores["C1.3"] == {"points": "13", "reason": "两处收集点满溢"}
    # locked: submitting again or drafting is refused and changes nothing
    version = submitted.json()["version"]
    again = client.post(f"{url}/submit", json={"version": version, "entries": FULL},
                        headers=csrf)
    assert again.status_code == 409 and "锁定" in again.json()["detail"]
    assert client.put(f"{url}/draft", json={"version": version, "entries": FULL},
                      headers=csrf).status_code == 409
    assert _stored(db, sheet["id"]).scores["C1.3"]["points"] == "13"
    assert len(_submits(db)) == 1


def test_the_refusals_read_in_english_after_switching(client, db, pw):
    token = sign_in(client, pw.user_of(db, pw.seated(db)[0]))
    client.post("/language", data={"language": "en", "csrf_token": token})
    sheet = _start(client, pw, token, part="C", kind="expert").json()
    refused = client.put(f"{_api(pw)}/{sheet['id']}/draft", headers={"X-CSRF-Token": token},
                         json={"version": sheet["version"], "entries": {"C1.3": {"points": 16}}})
    assert refused.json()["errors"] == {
        "C1.3": "The points must be between 0 and the maximum 15."}


def test_the_purchaser_fills_an_occasion_sheet_of_its_own_part(client, db, pw):
    token = sign_in(client, pw.purchaser)
    unnamed = _start(client, pw, token, part="A", kind="occasion")
    assert unnamed.status_code == 422 and set(unnamed.json()["errors"]) == {"label"}
    not_its_part = _start(client, pw, token, part="C", kind="expert")
    assert not_its_part.status_code == 403
    assert db.exec(select(Scoresheet)).first() is None
    started = _start(client, pw, token, part="A", kind="occasion", label="第一季度")
    assert started.status_code == 201, started.text
    sheet = started.json()
    assert sheet["scorer"] == "第一季度" and sheet["part_id"] == "A"
    assert sheet["leaves"] and all(leaf["id"].startswith("A") for leaf in sheet["leaves"])
    full = {}
    for leaf in sheet["leaves"]:
        if leaf["enter"] == "tier":
            top = max(leaf["tiers"], key=lambda t: float(t["coefficient"]))
            full[leaf["id"]] = {"tier": top["name"]}
        else:
            full[leaf["id"]] = {"points": leaf["points"]}
    url = f"{_api(pw)}/{sheet['id']}"
    saved = client.put(f"{url}/draft", json={"version": sheet["version"], "entries": full},
                       headers={"X-CSRF-Token": token})
    assert saved.status_code == 200 and not any(leaf["to_do"] for leaf in saved.json()["leaves"])
    assert saved.json()["subtotal"]["entered"] == len(sheet["leaves"])
    # the saved draft is submitted as it is when only the version is sent
    submitted = client.post(f"{url}/submit", json={"version": saved.json()["version"]},
                            headers={"X-CSRF-Token": token})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    assert _stored(db, sheet["id"]).scores == {
        leaf_id: {k: str(v) for k, v in entry.items()} for leaf_id, entry in full.items()}


def test_who_sees_which_sheet_as_on_the_pages(client, db, pw, make_user):
    first, second = pw.seated(db)[:2]
    token = sign_in(client, pw.user_of(db, first))
    mine = _start(client, pw, token, part="C", kind="expert").json()
    url = f"{_api(pw)}/{mine['id']}"
    page = f"/evaluations/{pw.evaluation.id}/sheets/{mine['id']}"

    token = sign_in(client, pw.user_of(db, second))  # another expert of the panel
    assert client.get(url).status_code == 404 == client.get(page).status_code
    assert client.put(f"{url}/draft", json={"version": mine["version"], "entries": FULL},
                      headers={"X-CSRF-Token": token}).status_code == 404
    theirs = _start(client, pw, token, part="C", kind="expert").json()
    assert [s["id"] for s in client.get(_api(pw)).json()["items"]] == [theirs["id"]]
    assert _stored(db, mine["id"]).scores == {}

    sign_in(client, make_user("evaluator"))  # an evaluator not assigned to this evaluation
    assert client.get(_api(pw)).status_code == 404
    assert client.get(url).status_code == 404 == client.get(page).status_code

    sign_in(client, pw.world.supplier_user)
    assert client.get(_api(pw)).status_code == 403
    assert client.get(url).status_code == 403 == client.get(page).status_code

    sign_in(client, pw.world.finance)  # the organiser sees every sheet and its expert's name
    listing = client.get(_api(pw)).json()
    assert {s["id"] for s in listing["items"]} == {mine["id"], theirs["id"]}
    assert listing["total"] == 2 and listing["pages"] == 1
    names = {db.get(Expert, m.expert_id).name for m in (first, second)}
    assert {s["scorer_name"] for s in listing["items"]} == names
    assert not client.get(url).json()["editable"]
    paged = client.get(f"{_api(pw)}?per_page=1&page=2").json()
    assert paged["items"][0]["id"] == listing["items"][1]["id"] and paged["pages"] == 2
    assert set(client.get(f"{_api(pw)}?page=3&per_page=1").json()["errors"]) == {"page"}


def test_signing_in_and_the_csrf_token_are_required(client, db, pw):
    url = f"{_api(pw)}"
    assert client.get(url).status_code == 401
    anonymous = {"X-CSRF-Token": csrf_from(client, "/login")}  # a session, but no one in it
    assert client.post(url, json={"part": "C", "kind": "expert"},
                       headers=anonymous).status_code == 401
    assert client.get(f"{url}/1").status_code == 401
    token = sign_in(client, pw.user_of(db, pw.seated(db)[0]))
    refused = client.post(url, json={"part": "C", "kind": "expert"})
    assert refused.status_code == 403 and refused.json()["detail"]
    assert db.exec(select(Scoresheet)).first() is None
    sheet = _start(client, pw, token, part="C", kind="expert").json()
    for wrong in ({}, {"X-CSRF-Token": "forged"}):
        assert client.put(f"{url}/{sheet['id']}/draft", headers=wrong,
                          json={"version": sheet["version"], "entries": FULL}).status_code == 403
        assert client.post(f"{url}/{sheet['id']}/submit", headers=wrong,
                           json={"version": sheet["version"], "entries": FULL}).status_code == 403
    stored = _stored(db, sheet["id"])
    assert stored.scores == {} and stored.status == SheetStatus.draft


def test_the_api_leaves_the_same_audit_entries_as_the_page(client, db, pw):
    """One expert scores through the page's forms, another through the API, with the same
    scores: the same audit trail (creation and submission, no draft)."""
    by_page, by_api = pw.seated(db)[:2]
    form = {"value-C1.2": "达成", "value-C1.3": "13", "reason-C1.3": "两处收集点满溢",
            "value-C2.1": "达成", "value-C2.2": "20"}
    token = sign_in(client, pw.user_of(db, by_page))
    started = client.post(f"/evaluations/{pw.evaluation.id}/sheets",
                          data={"part": "C", "kind": "expert", "csrf_token": token})
    page_sheet = int(started.headers["location"].rsplit("/", 1)[1])
    sheet_url = f"/evaluations/{pw.evaluation.id}/sheets/{page_sheet}"
    client.post(f"{sheet_url}/draft", data={**form, "csrf_token": token, "version": "1"})
    assert client.post(f"{sheet_url}/submit",
                       data={**form, "csrf_token": csrf_from(client, sheet_url),
                             "version": "2"}).status_code == 303

    token = sign_in(client, pw.user_of(db, by_api))
    entries = {**FULL, "C1.3": {"points": 13, "reason": "两处收集点满溢"}}
    sheet = _start(client, pw, token, part="C", kind="expert").json()
    url = f"{_api(pw)}/{sheet['id']}"
    saved = client.put(f"{url}/draft", json={"version": sheet["version"], "entries": entries},
                       headers={"X-CSRF-Token": token}).json()
    assert client.post(f"{url}/submit", json={"version": saved["version"]},
                       headers={"X-CSRF-Token": token}).status_code == 200

    def trail(sheet_id: int) -> list[tuple[str, int | None, dict]]:
        entries = db.exec(select(AuditEntry).where(AuditEntry.entity_type == "scoresheet",
                                                   AuditEntry.entity_id == str(sheet_id))
                          .order_by(AuditEntry.seq)).all()
        return [(e.action, e.actor_id, {k: v for k, v in json.loads(e.change).items()
                                        if k != "scorer"}) for e in entries]

    page_trail, api_trail = trail(page_sheet), trail(sheet["id"])
    assert [a for a, _who, _c in page_trail] == ["scoresheet.create", "scoresheet.submit"]
    assert [(a, c) for a, _who, c in api_trail] == [(a, c) for a, _who, c in page_trail]
    assert {who for _a, who, _c in api_trail} == {pw.user_of(db, by_api).id}


def test_a_rate_is_sent_and_read_in_percent_and_a_mistyped_key_is_refused(client, db, pw):
    token = sign_in(client, pw.purchaser)
    csrf = {"X-CSRF-Token": token}
    sheet = _start(client, pw, token, part="A", kind="data").json()
    rate = _leaf(sheet, "A1.2")
    assert rate["enter"] == "value" and rate["in_percent"]
    assert sheet["subtotal"] is None  # measured values take their points from their rules
    hours = _leaf(sheet, "A3.2")
    assert not hours["in_percent"] and hours["unit"] == "小时"
    url = f"{_api(pw)}/{sheet['id']}/draft"
    entries = {"A1.2": {"value": "97.46%", "source": "城管巡查台账"},
               "A3.2": {"value": 30, "source": "城管巡查台账"}}
    saved = client.put(url, json={"version": sheet["version"], "entries": entries},
                       headers=csrf)
    assert saved.status_code == 200, saved.text
    assert _leaf(saved.json(), "A1.2")["entry"]["value"] == "97.46"
    assert _stored(db, sheet["id"]).scores["A1.2"] == {"value": "0.9746",
                                                       "source": "城管巡查台账"}
    version = saved.json()["version"]
    for entries, field, words in [
        ({"A1.2": {"value": 1001}}, "A1.2", "按百分比填写：请填 0 到 1000% 之间的数"),
        ({"A1.2": {"valeu": 95}}, "entries.A1.2.valeu", "valeu"),
    ]:
        refused = client.put(url, json={"version": version, "entries": entries}, headers=csrf)
        assert refused.status_code == 422 and set(refused.json()["errors"]) == {field}
        assert words in refused.json()["errors"][field], refused.json()
    assert _stored(db, sheet["id"]).scores["A1.2"]["value"] == "0.9746"


def test_true_and_false_are_no_points_nor_values(client, db, pw):
    """A JSON boolean was read as 1 or 0 and stored as a point: it is refused naming the
    field, and the draft is not saved; numbers and text stay accepted."""
    token = sign_in(client, pw.purchaser)
    csrf = {"X-CSRF-Token": token, "Accept-Language": "en"}
    occasion = _start(client, pw, token, part="A", kind="occasion", label="第一季度").json()
    points_leaf = next(leaf for leaf in occasion["leaves"] if leaf["enter"] == "points")
    data = _start(client, pw, token, part="A", kind="data").json()
    for sheet, leaf, field in [(occasion, points_leaf["id"], "points"),
                               (data, "A3.2", "value")]:
        for flag in (True, False):
            refused = client.put(f"{_api(pw)}/{sheet['id']}/draft", headers=csrf, json={
                "version": sheet["version"], "entries": {leaf: {field: flag}}})
            assert refused.status_code == 422, refused.text
            name = f"entries.{leaf}.{field}"
            assert refused.json()["errors"] == {name: f"{name} must be a number."}
            assert _stored(db, sheet["id"]).scores == {}
    saved = client.put(f"{_api(pw)}/{data['id']}/draft", headers=csrf, json={
        "version": data["version"], "entries": {"A3.2": {"value": 30}}})
    assert saved.status_code == 200 and _stored(db, data["id"]).scores["A3.2"] == {"value": "30"}


@pytest.mark.parametrize("body, field", [
    ({"part": "C", "kind": "expert", "foo": 1}, "foo"),
    ({"part": "C", "kind": "expert", "label": "", "scorer": "专家1"}, "scorer"),
])
def test_starting_a_sheet_with_a_key_the_api_does_not_know_is_refused(client, db, pw, body,
                                                                      field):
    token = sign_in(client, pw.user_of(db, pw.seated(db)[0]))
    refused = _start(client, pw, token, **body)
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {field}
    assert db.exec(select(Scoresheet)).first() is None


def test_a_draft_or_submission_with_a_key_the_api_does_not_know_is_refused(client, db, pw):
    token = sign_in(client, pw.user_of(db, pw.seated(db)[0]))
    sheet = _start(client, pw, token, part="C", kind="expert").json()
    url = f"{_api(pw)}/{sheet['id']}"
    for method, path, body in [
            ("PUT", "draft", {"version": sheet["version"], "entries": FULL, "submit": True}),
            ("POST", "submit", {"version": sheet["version"], "entries": FULL, "force": True})]:
        refused = client.request(method, f"{url}/{path}", json=body,
                                 headers={"X-CSRF-Token": token})
        assert refused.status_code == 422, refused.text
        assert set(refused.json()["errors"]) == set(body) - {"version", "entries"}
    stored = _stored(db, sheet["id"])
    assert stored.scores == {} and stored.status == SheetStatus.draft
