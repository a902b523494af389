"""Evaluations: scheduled on a contract, frozen scheme, status steps, the monitoring rule."""

import re
from datetime import date

import pytest
from sqlmodel import func, select

from evalplatform.models import AuditEntry, Evaluation, EvaluationStatus, IndicatorScheme
from evalplatform.services import evaluation_inputs, evaluations, schemes
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.builders import contracted_world, schedule


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


def test_the_contract_gets_its_own_editable_copy_of_a_template(db, world):
    assert world.contract.scheme_id == world.scheme.id
    assert not world.scheme.is_template and not world.scheme.frozen
    assert world.scheme.organisation_id == world.department.id
    assert world.scheme.name == f"{world.project.name} · 指标体系"  # named in Chinese by default
    assert [p["party"] for p in world.scheme.document["parts"]] == [
        "purchaser", "recipient", "third_party"]


def test_scheduling_an_evaluation_freezes_the_contracts_scheme(db, world):
    evaluation = schedule(db, world)
    assert evaluation.status == EvaluationStatus.draft
    assert evaluation.scheme_id == world.scheme.id
    db.refresh(world.scheme)
    assert world.scheme.frozen
    with pytest.raises(Conflict):
        schemes.update_settings(db, world.purchaser_principal, world.scheme.id,
                                name="改名", service_area="", description="", grades="",
                                missing="block")
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity_type == "evaluation")).all()
    assert actions == ["evaluation.create"]


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"stage": "midway"}, "stage"),
    ({"period_start": "2025-12-31"}, "period_start"),  # before signing
    ({"period_end": "2027-01-05"}, "period_end"),  # after the 12-month term
    ({"period_start": "2026-06-01", "period_end": "2026-05-01"}, "period_end"),
    ({"opens_at": "2026-07-01", "closes_at": "2026-06-30"}, "closes_at"),
    ({"opens_at": "2026/07/01"}, "opens_at"),
])
def test_a_bad_schedule_is_refused_naming_the_field_and_nothing_changes(db, world, changes, field):
    values = {"title": "终期评价", "stage": "final", "period_start": "2026-01-05",
              "period_end": "2026-12-31", "opens_at": "2026-06-01", "closes_at": "2026-12-31"}
    values.update(changes)
    with pytest.raises(ValidationFailed) as caught:
        evaluations.create(db, world.p_actor, world.contract.id, values)
    assert field in caught.value.errors
    assert count(db, Evaluation) == 0
    db.refresh(world.scheme)
    assert not world.scheme.frozen


def test_two_final_evaluations_of_the_same_period_are_refused(db, world):
    schedule(db, world)
    with pytest.raises(ValidationFailed) as caught:
        schedule(db, world, start="2026-06-01", end="2026-12-31")
    assert "period_start" in caught.value.errors
    assert count(db, Evaluation) == 1


def test_a_contract_without_a_scheme_cannot_be_evaluated(db, world):
    world.contract.scheme_id = None
    db.add(world.contract)
    db.commit()
    with pytest.raises(ValidationFailed) as caught:
        schedule(db, world)
    assert "scheme" in caught.value.errors


def test_only_the_purchasing_department_sets_the_contracts_scheme(db, world, make_user, make_org):
    from evalplatform.services.audit import Actor
    from tests.builders import PurchaserPrincipal

    stranger = make_user("purchaser", organisation=make_org("purchasing_department", name="别的局"))
    principal = PurchaserPrincipal(Actor(stranger.id, stranger.username), stranger.role,
                                   stranger.organisation_id)
    with pytest.raises(PermissionDenied):
        evaluations.assign_scheme(db, principal, world.contract.id, world.scheme.id)


def test_status_moves_one_step_at_a_time_and_reopens_only_with_a_reason(db, world):
    evaluation = schedule(db, world)
    with pytest.raises(Conflict):
        evaluations.advance(db, world.p_actor, evaluation.id, "scoring")  # skips collecting
    for status in ["collecting", "scoring", "computed", "published"]:
        evaluation = evaluations.advance(db, world.p_actor, evaluation.id, status)
    assert evaluation.status == EvaluationStatus.published and evaluation.version == 5
    with pytest.raises(ValidationFailed):
        evaluations.reopen(db, world.f_actor, evaluation.id, "  ")
    evaluation = evaluations.reopen(db, world.f_actor, evaluation.id, "专家复核 C32")
    assert evaluation.status == EvaluationStatus.scoring


def test_each_status_step_is_audited_with_the_status_it_left(db, world):
    import json

    evaluation = schedule(db, world)
    for status in ["collecting", "scoring", "computed", "published"]:
        evaluation = evaluations.advance(db, world.p_actor, evaluation.id, status)
    evaluations.reopen(db, world.f_actor, evaluation.id, "专家复核 C32")
    steps = [(e.action, json.loads(e.change)["from"]) for e in db.exec(
        select(AuditEntry).where(AuditEntry.entity_type == "evaluation",
                                 AuditEntry.entity_id == str(evaluation.id),
                                 AuditEntry.action != "evaluation.create")
        .order_by(AuditEntry.seq))]
    assert steps == [("evaluation.collecting", "draft"), ("evaluation.scoring", "collecting"),
                     ("evaluation.computed", "scoring"), ("evaluation.published", "computed"),
                     ("evaluation.scoring", "published")]


def test_a_stale_version_loses_and_changes_nothing(db, world):
    evaluation = schedule(db, world)
    stale = evaluation.version
    evaluations.advance(db, world.p_actor, evaluation.id, "collecting", expected_version=stale)
    evaluation = evaluations.advance(db, world.p_actor, evaluation.id, "scoring")
    with pytest.raises(Conflict):
        evaluations.reopen(db, world.f_actor, evaluation.id, "why", expected_version=stale)
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.scoring


def test_a_contract_year_without_a_monitoring_round_is_late_once_the_year_ends(db, world):
    gaps = evaluations.monitoring_gaps(db, organisation_id=None, today=date(2026, 3, 1))
    assert [(g.year_start, g.year_end, g.late_days) for g in gaps] == [
        (date(2026, 1, 5), date(2027, 1, 4), 0)]
    gaps = evaluations.monitoring_gaps(db, organisation_id=None, today=date(2027, 1, 14))
    assert gaps[0].late_days == 10
    schedule(db, world, stage="interim", start="2026-04-01", end="2026-06-30",
             opens="2026-07-01", closes="2026-07-15")
    assert evaluations.monitoring_gaps(db, organisation_id=None, today=date(2027, 1, 14)) == []
    # A final evaluation is not a monitoring round.


def test_a_36_month_contract_has_three_contract_years():
    from evalplatform.models import Contract

    contract = Contract(project_id=1, supplier_id=1, amount_fen=1, signed_on=date(2024, 2, 29),
                        term_months=36, content="")
    years = evaluations.contract_years(contract)
    assert years == [(date(2024, 2, 29), date(2025, 2, 27)), (date(2025, 2, 28), date(2026, 2, 27)),
                     (date(2026, 2, 28), date(2027, 2, 27))]


def test_the_package_takes_the_frozen_scheme_and_every_contribution(db, world):
    evaluation = schedule(db, world)
    doc = evaluations.scheme_document(db, evaluation)
    survey_leaf = next(c for c in doc["parts"][1]["tree"]["children"] if "rule" in c)
    contributions = [
        evaluation_inputs.Contribution("survey", responses=[{"S1": "满意"}],
                                       rules={survey_leaf["id"]: {"questions": ["S1"]}}),
        evaluation_inputs.Contribution("sheets", sheets=[{"part": "x", "scorer": "a", "scores": {}}]),
    ]
    package = evaluation_inputs.build_package(doc, contributions, package_id="e1")
    patched = next(c for c in package["scheme"]["parts"][1]["tree"]["children"]
                   if c["id"] == survey_leaf["id"])
    assert patched["rule"]["questions"] == ["S1"]
    assert package["inputs"]["responses"] == [{"S1": "满意"}]
    assert len(package["inputs"]["sheets"]) == 1
    # the frozen scheme itself is untouched
    assert db.get(IndicatorScheme, evaluation.scheme_id).document == doc
    assert survey_leaf["rule"]["questions"] != ["S1"]


# ---------------------------------------------------------------- pages


def sign_in(client, user):
    from tests.conftest import login

    client.cookies.clear()
    assert login(client, user.username).status_code == 303


def test_the_purchaser_schedules_an_evaluation_from_the_contract_page(client, db, world):
    sign_in(client, world.purchaser)
    page = client.get(f"/contracts/{world.contract.id}")
    assert page.status_code == 200 and "考核标准（指标体系）" in page.text
    form = client.get(f"/contracts/{world.contract.id}/evaluations/new")
    token = csrf_from_text(form.text)
    bad = client.post(f"/contracts/{world.contract.id}/evaluations", data={
        "csrf_token": token, "title": "终期评价", "stage": "final", "period_start": "2025-01-01",
        "period_end": "2026-12-31", "opens_at": "2026-06-01", "closes_at": "2026-12-31"})
    assert bad.status_code == 422 and "评价期间不能早于合同签订日" in bad.text
    assert count(db, Evaluation) == 0
    good = client.post(f"/contracts/{world.contract.id}/evaluations", data={
        "csrf_token": token, "title": "2026 年度终期绩效评价", "stage": "final",
        "period_start": "2026-01-05", "period_end": "2026-12-31", "opens_at": "2026-06-01",
        "closes_at": "2026-12-31"}, follow_redirects=False)
    assert good.status_code == 303
    detail = client.get(good.headers["location"])
    assert "2026 年度终期绩效评价" in detail.text and "草稿" in detail.text
    listing = client.get("/evaluations")
    assert "2026 年度终期绩效评价" in listing.text


def csrf_from_text(text: str) -> str:
    from tests.conftest import CSRF_RE

    return CSRF_RE.search(text).group(1)


def test_who_may_see_an_evaluation(client, db, world, make_user, make_org):
    """Outside its role a user is refused (403); someone else's evaluation does not exist (404)."""
    evaluation = schedule(db, world)
    url = f"/evaluations/{evaluation.id}"
    for user, status in [
        (world.purchaser, 200), (world.finance, 200), (world.supplier_user, 200),
        (make_user("auditor"), 200),
        (make_user("purchaser", organisation=make_org("purchasing_department", name="另一局")), 404),
        (make_user("supplier"), 404), (make_user("evaluator"), 404), (make_user("admin"), 403),
    ]:
        sign_in(client, user)
        assert client.get(url).status_code == status, user.role
    sign_in(client, make_user("supplier"))
    assert evaluation.title not in client.get("/evaluations").text


def test_the_organiser_opens_collection_and_a_supplier_cannot(client, db, world):
    evaluation = schedule(db, world)
    sign_in(client, world.supplier_user)
    page = client.get(f"/evaluations/{evaluation.id}")
    denied = client.post(f"/evaluations/{evaluation.id}/advance",
                         data={"csrf_token": csrf_from_text(page.text), "to": "collecting"})
    assert denied.status_code == 403
    sign_in(client, world.purchaser)
    page = client.get(f"/evaluations/{evaluation.id}")
    client.post(f"/evaluations/{evaluation.id}/advance",
                data={"csrf_token": csrf_from_text(page.text), "to": "collecting",
                      "version": str(evaluation.version)})
    db.refresh(evaluation)
    assert evaluation.status == EvaluationStatus.collecting
    # the steps: 草稿 done, 采集中 the current one, the rest still to come
    steps = re.search(r'<ol class="steps".*?</ol>', client.get(
        f"/evaluations/{evaluation.id}").text, re.S).group(0)
    assert re.findall(r'<li class="(\w*)"', steps) == ["done", "current", "", "", "", ""]
    assert re.search(r'<li class="current" aria-current="step">采集中</li>', steps)


def test_the_due_list_shows_a_contract_year_without_monitoring(client, db, world):
    from evalplatform.services import contracts

    due = contracts.due_and_late(db, organisation_id=world.department.id, today=date(2027, 2, 1))
    monitoring = [i for i in due.items if i.kind == "monitoring"]
    assert len(monitoring) == 1 and monitoring[0].late_days == 28


def test_the_api_lists_only_what_the_caller_may_see(client, db, world, make_user, make_org):
    evaluation = schedule(db, world)
    sign_in(client, world.purchaser)
    listing = client.get("/api/evaluations").json()
    assert [e["id"] for e in listing["items"]] == [evaluation.id]
    assert listing["items"][0]["status"] == "draft"
    assert client.get(f"/api/evaluations/{evaluation.id}").json()["title"] == evaluation.title
    sign_in(client, make_user("purchaser", organisation=make_org("purchasing_department", name="乙局")))
    assert client.get("/api/evaluations").json()["total"] == 0
    assert client.get(f"/api/evaluations/{evaluation.id}").status_code == 404
    client.cookies.clear()
    assert client.get("/api/evaluations").status_code == 401


def test_the_api_filters_by_status_and_stage_and_refuses_an_unknown_one(client, db, world):
    evaluation = schedule(db, world)
    sign_in(client, world.purchaser)
    assert client.get("/api/evaluations?status=draft").json()["total"] == 1
    assert client.get("/api/evaluations?status=final").json()["total"] == 0
    assert client.get(f"/api/evaluations?stage={evaluation.stage.value}").json()["total"] == 1
    # a misspelt filter is refused naming the parameter, not answered with every evaluation
    bad = client.get("/api/evaluations?status=finall&stage=yearly")
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert set(errors) == {"status", "stage"}
    assert "draft" in errors["status"] and "final" in errors["status"]
    assert "评价" in errors["stage"]


def test_the_home_card_of_evaluations_under_way_opens_the_list_of_just_those(client, db, world):
    """The card counts the evaluations collecting or scoring; its link lists exactly those."""
    from tests.conftest import login

    running = schedule(db, world)
    evaluations.organiser_step(db, world.purchaser_principal.actor, running.id, "collecting")
    idle = schedule(db, world, stage="interim", start="2026-02-01", end="2026-04-30",
                    title="第一季度监控")
    assert login(client, world.purchaser.username).status_code == 303
    home = client.get("/").text
    assert 'href="/evaluations?status=under_way"' in home
    listing = client.get("/evaluations", params={"status": "under_way"}).text
    assert running.title in listing and idle.title not in listing
    assert 'value="under_way" selected' in listing
    api = client.get("/api/evaluations", params={"status": "under_way"}).json()
    assert [e["id"] for e in api["items"]] == [running.id]
    assert client.get("/api/evaluations", params={"status": "going"}).status_code == 422
