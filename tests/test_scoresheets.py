"""Scoresheets (评分表): forms per part, drafts, submission, reopening, data, files, progress,
the package's inputs and the panel's consolidation through ``scoring``."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

import scoring
from evalplatform.models import (
    AuditEntry,
    Evaluation,
    EvaluationStatus,
    Scoresheet,
    ScoringFile,
    SelfEvaluation,
    SheetKind,
    SheetStatus,
)
from evalplatform.services import evaluation_inputs, evaluations, experts, panel, scoresheets
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests.test_scoresheets_world import panel_world, principal

PDF = b"%PDF-1.7\n% report\n"

# The street-cleaning scheme (tests/builders.py): third-party part C, purchaser part A.
EXPERT_LEAVES = ["C1.2", "C1.3", "C2.1", "C2.2"]  # tiers 15, points 15, tiers 20, points 20
FULL_MARKS = {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"}


@pytest.fixture
def pw(db, make_user, make_org):
    return panel_world(db, make_user, make_org, pool_size=6, seats=3, alternates=1)


def expert_sheet(db, pw, member):
    return scoresheets.start(db, pw.expert_principal(db, member), pw.evaluation.id, "C", "expert")


def fill(db, pw, member, form: dict, submit: bool = True) -> Scoresheet:
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, form)
    if submit:
        sheet = scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    return sheet


def stored(db, sheet_id) -> Scoresheet:
    db.expire_all()
    return db.get(Scoresheet, sheet_id)


# ---------------------------------------------------------------- what each scorer sees


def test_an_expert_sees_only_the_third_party_leaves_with_points_and_criteria(db, pw):
    member = pw.seated(db)[0]
    slots = scoresheets.my_slots(db, pw.expert_principal(db, member), pw.evaluation)
    assert [(s.part["id"], s.kind) for s in slots] == [("C", SheetKind.expert),
                                                       ("C", SheetKind.data)]
    leaves = scoresheets.sheet_leaves(pw.part(db, "third_party"), SheetKind.expert)
    assert [leaf.id for leaf in leaves] == EXPERT_LEAVES
    assert leaves[1].points == 15 and "扣 1 分" in leaves[1].criteria
    assert leaves[0].path == ("作业质量",)
    data = scoresheets.sheet_leaves(pw.part(db, "third_party"), SheetKind.data)
    assert [leaf.id for leaf in data] == ["C1.1"]


def test_the_purchaser_fills_its_own_part_per_occasion_but_not_the_experts(db, pw):
    purchaser = principal(db, pw.purchaser)
    slots = scoresheets.my_slots(db, purchaser, pw.evaluation)
    assert {(s.part["id"], s.kind) for s in slots} == {("A", SheetKind.data),
                                                       ("A", SheetKind.occasion)}
    q1 = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", "第一季度")
    assert q1.scorer_key == "第一季度" and q1.kind == SheetKind.occasion
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", "第一季度")
    assert "label" in caught.value.errors
    with pytest.raises(PermissionDenied):
        scoresheets.start(db, purchaser, pw.evaluation.id, "C", "expert")
    with pytest.raises(PermissionDenied):
        scoresheets.start(db, pw.expert_principal(db, pw.seated(db)[0]), pw.evaluation.id, "A",
                          "occasion", "第二季度")


def test_an_unassigned_evaluator_cannot_score(db, pw, make_user):
    stranger = principal(db, make_user("evaluator"))
    with pytest.raises(PermissionDenied):
        scoresheets.start(db, stranger, pw.evaluation.id, "C", "expert")
    alternate = pw.alternates(db)[0]
    with pytest.raises(PermissionDenied):
        scoresheets.start(db, pw.expert_principal(db, alternate), pw.evaluation.id, "C", "expert")
    sheet = expert_sheet(db, pw, pw.seated(db)[0])
    with pytest.raises(PermissionDenied):
        scoresheets.save_draft(db, stranger, pw.evaluation.id, sheet.id, FULL_MARKS)
    other_member = pw.seated(db)[1]
    with pytest.raises(PermissionDenied):
        scoresheets.save_draft(db, pw.expert_principal(db, other_member), pw.evaluation.id,
                               sheet.id, FULL_MARKS)
    assert stored(db, sheet.id).scores == {}


# ---------------------------------------------------------------- drafts


def test_a_draft_keeps_what_was_typed_and_lists_what_submission_still_needs(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    version = sheet.version
    saved, parsed = scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id,
                                           {"value-C1.3": "12", "value-C1.2": "达成"},
                                           expected_version=version)
    assert saved.scores == {"C1.3": {"points": "12"}, "C1.2": {"tier": "达成"}}
    assert saved.version == version + 1 and saved.status == SheetStatus.draft
    assert set(parsed.pending) == {"C1.3", "C2.1", "C2.2"}  # a reason, and two missing leaves
    assert "扣分理由" in parsed.pending["C1.3"]
    assert scoresheets.form_values(saved)["value-C1.3"] == "12"
    # drafts are not audit entries (only creation, submission and reopening are)
    actions = db.exec(select(AuditEntry.action).where(AuditEntry.entity_type == "scoresheet")).all()
    assert actions == ["scoresheet.create"]


@pytest.mark.parametrize("form, leaf", [
    ({"value-C1.3": "16"}, "C1.3"),  # above the maximum 15
    ({"value-C1.3": "-1"}, "C1.3"),
    ({"value-C1.3": "12.345"}, "C1.3"),
    ({"value-C1.3": "十二"}, "C1.3"),
    ({"value-C1.2": "优秀"}, "C1.2"),  # not one of the tiers
])
def test_a_refused_value_in_a_draft_keeps_its_last_entry_and_the_rest_is_saved(db, pw, form,
                                                                                leaf):
    # one mistyped figure does not hold back the other indicators of a draft
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id,
                           {"value-C2.2": "20", "value-C1.3": "12", "value-C1.2": "达成"})
    before = stored(db, sheet.id)
    version, kept = before.version, before.scores[leaf]
    saved, parsed = scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {
        "value-C1.3": "12", "value-C1.2": "达成", **form,
        "value-C2.2": "19", "reason-C2.2": "应急预案未按季度演练"})
    assert set(parsed.errors) == {leaf} and leaf not in parsed.pending
    after = stored(db, sheet.id)
    assert after.version == version + 1
    assert after.scores[leaf] == kept  # the refused indicator is as it was
    assert after.scores["C2.2"] == {"points": "19", "reason": "应急预案未按季度演练"}
    # submission still needs every indicator valid
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.submit(db, who, pw.evaluation.id, sheet.id, {
            **form, "value-C2.2": "19", "reason-C2.2": "应急预案未按季度演练"})
    assert leaf in caught.value.errors
    assert stored(db, sheet.id).status == SheetStatus.draft


@pytest.mark.parametrize("form, leaf", [
    ({"value-A2.2": "8"}, "A2.2"),  # the purchaser's leaf
    ({"value-C1.1": "92"}, "C1.1"),  # a data leaf is not on a scorer's sheet
    ({"value-B1": "50"}, "B1"),  # a survey leaf
    ({"value-Z9": "5"}, "Z9"),  # not in the scheme
])
def test_refused_input_is_named_and_saves_nothing(db, pw, form, leaf):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {"value-C2.2": "20"})
    before = stored(db, sheet.id)
    version, scores = before.version, dict(before.scores)
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {**form, "value-C2.2": "19"})
    assert leaf in caught.value.errors
    after = stored(db, sheet.id)
    assert after.version == version and after.scores == scores


def test_the_refusal_of_a_leaf_of_another_source_says_whose_it_is(db, pw):
    member = pw.seated(db)[0]
    sheet = expert_sheet(db, pw, member)
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.save_draft(db, pw.expert_principal(db, member), pw.evaluation.id, sheet.id,
                               {"value-A2.2": "8"})
    assert "购买主体评价" in caught.value.errors["A2.2"]


def test_a_stale_draft_loses_and_changes_nothing(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    stale = sheet.version
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {"value-C2.2": "20"},
                           expected_version=stale)
    with pytest.raises(Conflict):
        scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {"value-C2.2": "10"},
                               expected_version=stale)
    assert stored(db, sheet.id).scores == {"C2.2": {"points": "20"}}


# ---------------------------------------------------------------- submission


def test_a_complete_sheet_submits_and_locks(db, pw):
    member = pw.seated(db)[0]
    form = {**FULL_MARKS, "value-C1.3": "13", "reason-C1.3": "两处收集点满溢",
            "na-C2.1": "1", "na_reason-C2.1": "本期无作业计划调整"}
    sheet = fill(db, pw, member, form)
    assert sheet.status == SheetStatus.submitted and sheet.submitted_at is not None
    assert sheet.scores["C2.1"] == {"na": "本期无作业计划调整"}
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "scoresheet.submit")).one()
    assert json.loads(entry.change)["scores"]["C1.3"] == {"points": "13",
                                                          "reason": "两处收集点满溢"}
    who = pw.expert_principal(db, member)
    with pytest.raises(Conflict):  # submitting twice
        scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    with pytest.raises(Conflict):  # a locked sheet takes no draft
        scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, FULL_MARKS)
    assert stored(db, sheet.id).scores["C1.3"]["points"] == "13"


@pytest.mark.parametrize("changes, leaf", [
    ({"value-C1.3": "12"}, "C1.3"),  # below max without a reason (扣分理由)
    ({"value-C2.1": "部分达成"}, "C2.1"),  # a lower tier without a reason
    ({"value-C2.2": ""}, "C2.2"),  # missing
    ({"na-C1.2": "1", "na_reason-C1.2": ""}, "C1.2"),  # not applicable without a reason
])
def test_an_incomplete_sheet_is_not_submitted(db, pw, changes, leaf):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    form = {**FULL_MARKS, **changes}
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, form)
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.submit(db, who, pw.evaluation.id, sheet.id, form)
    assert leaf in caught.value.errors
    assert stored(db, sheet.id).status == SheetStatus.draft
    assert not db.exec(select(AuditEntry).where(AuditEntry.action == "scoresheet.submit")).all()


def test_a_conflict_found_after_the_draw_stops_the_submission(db, pw):
    member = pw.seated(db)[0]
    experts.add_relationship(db, pw.world.f_actor, member.expert_id, {
        "organisation_id": str(pw.world.supplier.id), "kind": "recent_work",
        "started_on": "2025-06-01"})
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, FULL_MARKS)
    with pytest.raises(Conflict) as caught:
        scoresheets.submit(db, who, pw.evaluation.id, sheet.id, FULL_MARKS)
    assert pw.world.supplier.name in caught.value.message
    assert stored(db, sheet.id).status == SheetStatus.draft
    # the organiser recuses the expert; the alternate takes the seat
    seated = panel.step_down(db, principal(db, pw.purchaser), pw.evaluation.id, member.id,
                             "与承接主体存在业务往来", recuse=True)
    assert seated is not None and seated.status.value == "seated"


def test_sheets_are_filled_only_while_the_evaluation_collects_or_scores(db, make_user, make_org):
    from tests.test_scoresheets_world import panel_world as build

    pw = build(db, make_user, make_org)
    member = pw.seated(db)[0]
    sheet = expert_sheet(db, pw, member)
    evaluations.advance(db, pw.world.p_actor, pw.evaluation.id, "scoring")
    evaluations.advance(db, pw.world.p_actor, pw.evaluation.id, "computed")
    with pytest.raises(Conflict):
        scoresheets.save_draft(db, pw.expert_principal(db, member), pw.evaluation.id, sheet.id,
                               FULL_MARKS)
    assert stored(db, sheet.id).scores == {}


# ---------------------------------------------------------------- reopening


def test_only_finance_reopens_a_submitted_sheet_with_a_reason(db, pw):
    member = pw.seated(db)[0]
    sheet = fill(db, pw, member, FULL_MARKS)
    organiser = principal(db, pw.purchaser)
    with pytest.raises(PermissionDenied):
        scoresheets.reopen(db, organiser, pw.evaluation.id, sheet.id, "请复核")
    with pytest.raises(PermissionDenied):
        scoresheets.reopen(db, pw.expert_principal(db, member), pw.evaluation.id, sheet.id, "x")
    finance = principal(db, pw.world.finance)
    with pytest.raises(ValidationFailed):
        scoresheets.reopen(db, finance, pw.evaluation.id, sheet.id, "  ")
    assert stored(db, sheet.id).status == SheetStatus.submitted
    scoresheets.request_reopen(db, organiser, pw.evaluation.id, sheet.id, "C2.2 分差过大，请复核")
    assert stored(db, sheet.id).reopen_request == "C2.2 分差过大，请复核"
    sheet = scoresheets.reopen(db, finance, pw.evaluation.id, sheet.id, "组织方申请复核 C2.2")
    assert sheet.status == SheetStatus.draft and sheet.reopen_count == 1
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "scoresheet.reopen")).one()
    change = json.loads(entry.change)
    assert change["reason"] == "组织方申请复核 C2.2" and change["requested"].startswith("C2.2")
    # the expert edits and submits again
    fill(db, pw, member, {**FULL_MARKS, "value-C2.2": "18", "reason-C2.2": "应急演练记录不全"})
    assert stored(db, sheet.id).scores["C2.2"] == {"points": "18", "reason": "应急演练记录不全"}


def test_a_draft_cannot_be_reopened(db, pw):
    member = pw.seated(db)[0]
    sheet = expert_sheet(db, pw, member)
    with pytest.raises(Conflict):
        scoresheets.reopen(db, principal(db, pw.world.finance), pw.evaluation.id, sheet.id, "x")


# ---------------------------------------------------------------- the package's inputs


def _three_expert_sheets(db, pw):
    a, b, c = pw.seated(db)
    fill(db, pw, a, {**FULL_MARKS, "value-C1.3": "12", "reason-C1.3": "三处满溢"})
    fill(db, pw, b, {"value-C1.2": "部分达成", "reason-C1.2": "两座公厕有异味",
                     "value-C1.3": "15", "value-C2.1": "部分达成", "reason-C2.1": "夜间频次不足",
                     "value-C2.2": "15", "reason-C2.2": "未演练"})
    fill(db, pw, c, {**FULL_MARKS, "na-C1.3": "1", "na_reason-C1.3": "抽查期间未开放",
                     "value-C2.2": "18", "reason-C2.2": "预案未更新"})
    who = pw.expert_principal(db, a)
    data = scoresheets.start(db, who, pw.evaluation.id, "C", "data")
    form = {"value-C1.1": "92", "source-C1.1": "2026 年 11 月路段抽查记录"}
    scoresheets.save_draft(db, who, pw.evaluation.id, data.id, form)
    scoresheets.submit(db, who, pw.evaluation.id, data.id, form)
    return a, b, c


def test_the_package_built_from_submitted_sheets_gives_the_hand_checked_part_score(db, pw):
    _three_expert_sheets(db, pw)
    draft_member = pw.alternates(db)  # an alternate has no sheet; a draft does not count either
    assert draft_member
    package = evaluation_inputs.build_package(
        evaluations.scheme_document(db, pw.evaluation),
        evaluation_inputs.collect(db, pw.evaluation))
    sheets = [s for s in package["inputs"]["sheets"] if s["part"] == "C"]
    assert sorted(s["scorer"] for s in sheets) == sorted(
        panel.scorer_code(m) for m in pw.seated(db))
    assert package["inputs"]["data"]["C1.1"] == {"value": "92", "source": "2026 年 11 月路段抽查记录"}
    result = scoring.evaluate(package)
    part = next(p for p in result.parts if p.id == "C")
    # by hand: C1.1 92 → band ≥ 90 → 25; C1.2 (15 + 10.5 + 15) / 3 = 13.5;
    # C1.3 one n/a of three stays applicable: (12 + 15) / 2 = 13.5; C2.1 (20 + 14 + 20) / 3 = 18;
    # C2.2 (20 + 15 + 18) / 3 = 17.6667; 25 + 13.5 + 13.5 + 18 + 17.6667 = 87.6667 of 100
    assert part.score == pytest.approx(25 + 13.5 + 13.5 + 18 + 53 / 3)
    assert result.nodes["C1.3"].score == pytest.approx(13.5)


def test_the_purchasers_quarterly_sheets_and_data_make_its_part(db, pw):
    purchaser = principal(db, pw.purchaser)
    for label, form in (("第一季度", {"value-A2.1": "达成", "value-A2.2": "8",
                                      "reason-A2.2": "一次未配备防护"}),
                        ("第二季度", {"value-A2.1": "部分达成", "reason-A2.1": "缺整改记录",
                                      "value-A2.2": "10"})):
        sheet = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "occasion", label)
        scoresheets.submit(db, purchaser, pw.evaluation.id, sheet.id, form)
    data = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "data")
    values = {"A1.1": "95", "A1.2": "90%", "A1.3": "98", "A2.3": "80", "A3.1": "100",
              "A3.2": "30"}  # the rates (比例) in percent, the hours as they are
    form = {f"value-{k}": v for k, v in values.items()} | {
        f"source-{k}": "城管巡查台账" for k in values}
    with pytest.raises(ValidationFailed) as caught:  # a value without its source
        scoresheets.submit(db, purchaser, pw.evaluation.id, data.id,
                           {**form, "source-A3.2": ""})
    assert "A3.2" in caught.value.errors
    scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, form)
    [part] = [p for p in scoresheets.consolidate(db, pw.evaluation) if p.part["id"] == "A"]
    # 20 + 15 × 0.9 + 15 + (10 + 7) / 2 + (8 + 10) / 2 + 10 + 12 + 8 × 24 / 30 = 94.4
    assert part.score == pytest.approx(94.4)
    assert [line.sheet.scorer_key for line in part.sheets] == ["第一季度", "第二季度"]


def test_a_recused_experts_sheet_no_longer_counts(db, pw):
    a, _b, _c = _three_expert_sheets(db, pw)
    panel.step_down(db, principal(db, pw.purchaser), pw.evaluation.id, a.id, "发现关联关系",
                    recuse=True)
    contribution = scoresheets.contribution(db, pw.evaluation)
    assert panel.scorer_code(a) not in [s["scorer"] for s in contribution.sheets]
    assert len(contribution.sheets) == 2


def _close_and_compute(db, pw):
    from evalplatform.services import results

    organiser = principal(db, pw.purchaser)
    evaluations.organiser_step(db, pw.world.p_actor, pw.evaluation.id, "scoring")
    return results.compute(db, organiser, pw.evaluation.id)


def test_no_result_is_computed_while_a_seated_expert_has_not_submitted(db, pw):
    a, _b, _c = _three_expert_sheets(db, pw)
    panel.step_down(db, principal(db, pw.purchaser), pw.evaluation.id, a.id, "发现关联关系",
                    recuse=True)
    [alternate] = [m for m in pw.seated(db) if m.replaces_id == a.id]
    with pytest.raises(Conflict) as caught:  # two sheets would pass for the panel of three
        _close_and_compute(db, pw)
    assert panel.scorer_code(alternate) in str(caught.value)
    from evalplatform.services import results

    assert results.versions(db, pw.evaluation.id) == []  # nothing was computed
    fill(db, pw, alternate, FULL_MARKS)
    result = results.compute(db, principal(db, pw.purchaser), pw.evaluation.id)
    sheets = [s for s in result.package["inputs"]["sheets"] if s["part"] == "C"]
    assert len(sheets) == 3


def test_no_result_is_computed_with_an_empty_seat(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=4, seats=3, alternates=0)
    first, *rest = pw.seated(db)
    for member in rest:
        fill(db, pw, member, FULL_MARKS)
    panel.step_down(db, pw.expert_principal(db, first), pw.evaluation.id, first.id, "出差")
    assert panel.vacancies(db, pw.evaluation.id) == 1
    with pytest.raises(Conflict) as caught:  # an even panel of two is no panel of three
        _close_and_compute(db, pw)
    assert "1" in str(caught.value) and "3" in str(caught.value)


def test_an_expert_who_submitted_cannot_decline_any_more(db, pw):
    member = pw.seated(db)[0]
    fill(db, pw, member, FULL_MARKS)
    with pytest.raises(Conflict):
        panel.step_down(db, pw.expert_principal(db, member), pw.evaluation.id, member.id, "x")


# ---------------------------------------------------------------- consolidation


def test_five_sheets_combine_by_trimmed_mean_with_agreement_and_spread(db, make_user, make_org):
    pw = panel_world(db, make_user, make_org, pool_size=6, seats=5, alternates=0)
    forms = [
        {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "达成", "value-C2.2": "20"},
        {"value-C1.2": "达成", "value-C1.3": "14", "reason-C1.3": "一处满溢", "value-C2.1": "达成",
         "value-C2.2": "18", "reason-C2.2": "演练记录不全"},
        {"value-C1.2": "部分达成", "reason-C1.2": "异味", "value-C1.3": "13", "reason-C1.3": "两处",
         "value-C2.1": "达成", "value-C2.2": "17", "reason-C2.2": "演练少"},
        {"value-C1.2": "部分达成", "reason-C1.2": "异味", "value-C1.3": "12", "reason-C1.3": "三处",
         "value-C2.1": "部分达成", "reason-C2.1": "频次不足", "value-C2.2": "16", "reason-C2.2": "x"},
        {"value-C1.2": "未达成", "reason-C1.2": "脏乱", "value-C1.3": "5", "reason-C1.3": "十处",
         "value-C2.1": "未达成", "reason-C2.1": "无计划", "value-C2.2": "6", "reason-C2.2": "无预案"},
    ]
    members = pw.seated(db)
    for member, form in zip(members, forms, strict=True):
        fill(db, pw, member, form)
    [part] = [p for p in scoresheets.consolidate(db, pw.evaluation) if p.part["id"] == "C"]
    chosen = [line.sheet.scorer_key for line in part.sheets if line.chosen]
    assert sorted(chosen) == sorted(panel.scorer_code(m) for m in members[1:4])
    assert part.kendall_w is not None and part.icc is not None
    # widest spread as a share of the maximum: C1.2 (15 − 4.5) / 15, C2.1 and C2.2 14 / 20, all
    # 0.7, before C1.3 (15 − 5) / 15
    assert [s.leaf.id for s in part.spread] == ["C1.2", "C2.1", "C2.2"]
    assert part.spread[0].share == pytest.approx(0.7) and part.spread[0].low == 4.5
    assert not part.few_for_trim
    # the figures are scoring's own
    package = evaluation_inputs.build_package(
        evaluations.scheme_document(db, pw.evaluation), [scoresheets.contribution(db,
                                                                                  pw.evaluation)])
    quality = next(q for q in scoring.evaluate(package).quality.panels if q.part == "C")
    assert part.kendall_w.statistic == quality.kendall_w.statistic
    assert part.missing == ["C1.1 道路保洁质量抽查"]  # no measured datum yet


def test_disagreeing_experts_get_the_weak_agreement_warning(db, pw):
    a, b, c = pw.seated(db)
    fill(db, pw, a, {"value-C1.2": "达成", "value-C1.3": "15", "value-C2.1": "未达成",
                     "reason-C2.1": "x", "value-C2.2": "0", "reason-C2.2": "x"})
    fill(db, pw, b, {"value-C1.2": "未达成", "reason-C1.2": "x", "value-C1.3": "0",
                     "reason-C1.3": "x", "value-C2.1": "达成", "value-C2.2": "20"})
    fill(db, pw, c, {"value-C1.2": "部分达成", "reason-C1.2": "x", "value-C1.3": "15",
                     "value-C2.1": "达成", "value-C2.2": "0", "reason-C2.2": "x"})
    [part] = [p for p in scoresheets.consolidate(db, pw.evaluation) if p.part["id"] == "C"]
    assert part.weak_w or part.weak_icc
    assert part.few_for_trim  # trimmed mean needs five sheets


# ---------------------------------------------------------------- progress


def test_progress_lists_who_scored_who_did_not_and_flags_the_late(db, pw):
    a = pw.seated(db)[0]
    fill(db, pw, a, FULL_MARKS)
    expert_sheet(db, pw, pw.seated(db)[1])
    progress = scoresheets.progress(db, pw.evaluation)
    experts_rows = [r for r in progress.rows if r.kind == SheetKind.expert]
    assert [r.state for r in experts_rows] == ["submitted", "draft", "not_started"]
    assert all(not r.late for r in progress.rows)  # due at the end of 2026
    assert {r.kind for r in progress.reminders} == {SheetKind.expert, SheetKind.occasion,
                                                    SheetKind.data}
    assert experts_rows[2].contact.startswith("138")
    evaluation = db.get(Evaluation, pw.evaluation.id)
    evaluation.closes_at = evaluations.now() - timedelta(days=1)
    db.add(evaluation)
    db.commit()
    progress = scoresheets.progress(db, evaluation)
    late = [r for r in progress.rows if r.kind == SheetKind.expert]
    assert [r.late for r in late] == [False, True, True] and progress.overdue
    # once a result is computed, a sheet never handed in is absent, no longer late: no
    # "past due" badge and no reminder list on a published evaluation
    evaluation.status = EvaluationStatus.published
    db.add(evaluation)
    db.commit()
    progress = scoresheets.progress(db, evaluation)
    assert not progress.overdue and progress.reminders == []
    assert not any(r.late for r in progress.rows)
    assert [r.state for r in progress.rows if r.kind == SheetKind.expert] == \
        ["submitted", "draft", "not_started"]  # who scored is still shown


# ---------------------------------------------------------------- files and the self-evaluation


def test_the_third_party_hands_in_its_report_checked_by_its_bytes(db, pw, make_user):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    with pytest.raises(ValidationFailed):
        scoresheets.upload_report(db, who, pw.evaluation.id, b"\x89PNG\r\n\x1a\n...", "报告.pdf")
    with pytest.raises(PermissionDenied):
        scoresheets.upload_report(db, principal(db, make_user("evaluator")), pw.evaluation.id, PDF,
                                  "报告.pdf")
    record = scoresheets.upload_report(db, who, pw.evaluation.id, PDF, "第三方评价报告.pdf")
    assert record.file_kind == "pdf" and record.member_id == member.id
    assert scoresheets.readable_file(db, principal(db, pw.world.finance), pw.evaluation.id,
                                     record.id).id == record.id
    from evalplatform.services.errors import NotFound

    with pytest.raises(NotFound):
        scoresheets.readable_file(db, principal(db, pw.world.supplier_user), pw.evaluation.id,
                                  record.id)


def test_evidence_attaches_to_a_leaf_of_a_draft_sheet(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    with pytest.raises(ValidationFailed):
        scoresheets.add_evidence(db, who, pw.evaluation.id, sheet.id, "A2.2", PDF, "a.pdf")
    record = scoresheets.add_evidence(db, who, pw.evaluation.id, sheet.id, "C1.3", PDF, "照片.pdf")
    assert scoresheets.leaf_files(db, sheet)["C1.3"][0].id == record.id
    fill(db, pw, member, FULL_MARKS)
    with pytest.raises(Conflict):
        scoresheets.add_evidence(db, who, pw.evaluation.id, sheet.id, "C1.3", PDF, "b.pdf")


def test_the_supplier_records_its_self_evaluation_beside_the_sheets(db, pw, make_user):
    supplier = principal(db, pw.world.supplier_user)
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.save_self_evaluation(db, supplier, pw.evaluation.id,
                                         {"summary": "全年完成", "claimed_total": "101"})
    assert "claimed_total" in caught.value.errors
    with pytest.raises(ValidationFailed):
        scoresheets.save_self_evaluation(db, supplier, pw.evaluation.id, {"summary": "全年完成"},
                                         (b"just text", "自评.pdf"))
    other = principal(db, make_user("supplier"))
    with pytest.raises(PermissionDenied):
        scoresheets.save_self_evaluation(db, other, pw.evaluation.id, {"summary": "x"})
    assert db.exec(select(SelfEvaluation)).first() is None
    record = scoresheets.save_self_evaluation(
        db, supplier, pw.evaluation.id, {"summary": "全年保洁 120 条道路", "claimed_total": "95.5"},
        (PDF, "自评报告.pdf"))
    assert record.claimed_total == "95.5"
    assert db.exec(select(ScoringFile)).one().purpose.value == "self_evaluation"
    # never scored: the package has no trace of it
    assert "95.5" not in json.dumps(scoresheets.contribution(db, pw.evaluation).sheets)


def test_a_final_evaluation_is_the_only_way_names_reach_others(db, pw):
    pw.evaluation.status = EvaluationStatus.final
    assert panel.names_visible(db, principal(db, pw.world.supplier_user), pw.evaluation)


def _purchaser_data(db, pw, **typed):
    """The purchaser's data sheet submitted with the rates (比例) typed as given."""
    purchaser = principal(db, pw.purchaser)
    data = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "data")
    values = {"A1.1": "95", "A1.2": "90", "A1.3": "98", "A2.3": "80", "A3.1": "100",
              "A3.2": "30"} | {k.replace("_", "."): v for k, v in typed.items()}
    form = {f"value-{k}": v for k, v in values.items()} | {
        f"source-{k}": "城管巡查台账" for k in values}
    return purchaser, data, form


def test_a_ratio_is_typed_in_percent_and_stored_as_the_exact_fraction(db, pw):
    """道路保洁达标率 (unit 比例) is typed in percent, as people think of it: 95 is 95 %,
    stored as the fraction 0.95 the engine reads; 8 is 8 % (not 800 %), 97.46% is 0.9746;
    the hours of 投诉处理平均时长 are as typed."""
    purchaser, data, form = _purchaser_data(db, pw, A1_1="95", A1_2="8", A1_3="97.46%",
                                            A2_3="120 ％", A3_1="1,000")
    scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, form)
    scores = stored(db, data.id).scores
    assert {k: scores[k]["value"] for k in ("A1.1", "A1.2", "A1.3", "A2.3", "A3.1", "A3.2")} == {
        "A1.1": "0.95", "A1.2": "0.08", "A1.3": "0.9746", "A2.3": "1.2", "A3.1": "10",
        "A3.2": "30"}
    assert scoresheets.contribution(db, pw.evaluation).data["A1.3"]["value"] == "0.9746"


def test_a_percentage_above_1000_is_refused_naming_the_field(db, pw):
    """A rate may pass 100 %, not 1,000 %: 1001 is refused at its field, which the message
    names with what is allowed; nothing is saved."""
    purchaser, data, form = _purchaser_data(db, pw, A1_1="1001")
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, form)
    assert list(caught.value.errors) == ["A1.1"]
    message = caught.value.errors["A1.1"]
    assert "道路保洁达标率" in message and "0 到 1000%" in message and "95" in message
    for bad in ("-5", "九五", "95%%", "0.95.1"):
        _purchaser, _data, form = _purchaser_data(db, pw, A1_1=bad)
        with pytest.raises(ValidationFailed) as caught:
            scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, form)
        assert list(caught.value.errors) == ["A1.1"], bad
    assert stored(db, data.id).scores == {} and stored(db, data.id).status == SheetStatus.draft
    # a draft keeps the other figures and the refused one's last saved entry
    scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, {**form, "value-A1.1": "96"})
    _sheet, parsed = scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id,
                                            {**form, "value-A1.1": "1001", "value-A1.2": "91"})
    assert list(parsed.errors) == ["A1.1"]
    scores = stored(db, data.id).scores
    assert scores["A1.1"]["value"] == "0.96" and scores["A1.2"]["value"] == "0.91"


def test_a_saved_ratio_fills_the_form_in_percent(db, pw):
    """The form shows a stored fraction as the percentage it was typed as (0.9746 → 97.46),
    so saving the form again changes nothing; other units are shown as stored."""
    purchaser, data, form = _purchaser_data(db, pw, A1_1="97.46")
    scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, form)
    sheet = stored(db, data.id)
    assert sheet.scores["A1.1"]["value"] == "0.9746"
    leaves = scoresheets.sheet_leaves(scoresheets.part_of(
        evaluations.scheme_document(db, pw.evaluation), "A"), SheetKind.data)
    shown = scoresheets.form_values(sheet, leaves)
    assert shown["value-A1.1"] == "97.46" and shown["value-A3.1"] == "100"
    assert shown["value-A3.2"] == "30"
    scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, shown)
    assert stored(db, data.id).scores == sheet.scores


def test_a_rate_of_1_percent_or_less_is_taken_and_said_back(db, pw):
    """Someone used to the old form types 0.95 (or 1) for 95 % (or 100 %): it is taken as
    typed, 0.95 %, since such a rate can be real, but said back beside the field ("读作
    0.95%。如果您指的是 95%，请填 95。") without holding back the draft or the submission. 1.5, 0
    and the hours are not questioned."""
    purchaser, data, form = _purchaser_data(db, pw, A1_1="0.95", A1_2="1", A1_3="1.5",
                                            A2_3="0")
    _sheet, parsed = scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, form)
    assert sorted(parsed.notes) == ["A1.1", "A1.2"] and not parsed.errors
    assert parsed.notes["A1.1"] == "读作 0.95%。如果您指的是 95%，请填 95。"
    assert parsed.notes["A1.2"] == "读作 1%。如果您指的是 100%，请填 100。"
    scoresheets.submit(db, purchaser, pw.evaluation.id, data.id, form)
    scores = stored(db, data.id).scores
    assert scores["A1.1"]["value"] == "0.0095" and scores["A1.2"]["value"] == "0.01"


# ---------------------------------------------------------------- two people on one sheet


def _colleague(db, pw, make_user, name="王芳"):
    """A second purchaser of the purchasing department, who fills the same occasion sheets."""
    return principal(db, make_user("purchaser", organisation=pw.world.department,
                                   display_name=name))


def test_a_stale_save_names_the_colleague_who_saved_since_and_when(db, pw, make_user):
    me, colleague = principal(db, pw.purchaser), _colleague(db, pw, make_user)
    sheet = scoresheets.start(db, me, pw.evaluation.id, "A", "occasion", "第一季度")
    loaded = sheet.version
    saved, _parsed = scoresheets.save_draft(db, colleague, pw.evaluation.id, sheet.id,
                                            {"value-A2.2": "8", "reason-A2.2": "一次未配备防护"},
                                            expected_version=loaded)
    for act in (lambda form: scoresheets.save_draft(db, me, pw.evaluation.id, sheet.id, form,
                                                    expected_version=loaded),
                lambda form: scoresheets.submit(db, me, pw.evaluation.id, sheet.id, form,
                                                expected_version=loaded)):
        with pytest.raises(scoresheets.SheetChanged) as caught:
            act({"value-A2.1": "达成", "value-A2.2": "10"})
        assert caught.value.version == loaded + 1 and caught.value.status_code == 409
        when = scoresheets._local(saved.updated_at)
        assert "王芳" in caught.value.saved and when in caught.value.saved
        assert caught.value.saved in caught.value.message
    after = stored(db, sheet.id)
    assert after.status == SheetStatus.draft
    assert after.scores == {"A2.2": {"points": "8", "reason": "一次未配备防护"}}


def test_a_stale_save_in_another_window_says_it_was_you_and_names_no_stranger(db, pw, make_user):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    loaded = sheet.version
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {"value-C2.2": "20"}, loaded)
    with pytest.raises(scoresheets.SheetChanged) as caught:
        scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {"value-C2.2": "10"}, loaded)
    mine = caught.value.saved
    assert mine == scoresheets._saved_by(db, who, stored(db, sheet.id))
    assert scoresheets._local(stored(db, sheet.id).updated_at) in mine
    # someone outside the principal's organisation (here: the sheet's expert, seen by a stranger
    # to it) is not named
    other = principal(db, make_user("purchaser", organisation=pw.world.department))
    assert scoresheets._saved_by(db, other, stored(db, sheet.id)) != mine
    assert pw.user_of(db, member).display_name not in scoresheets._saved_by(
        db, other, stored(db, sheet.id))


def test_a_save_on_a_sheet_submitted_since_says_it_is_locked(db, pw, make_user):
    me, colleague = principal(db, pw.purchaser), _colleague(db, pw, make_user)
    sheet = scoresheets.start(db, me, pw.evaluation.id, "A", "occasion", "第一季度")
    loaded = sheet.version
    form = {"value-A2.1": "达成", "value-A2.2": "10"}
    scoresheets.submit(db, colleague, pw.evaluation.id, sheet.id, form, loaded)
    with pytest.raises(Conflict) as caught:
        scoresheets._store(db, me, stored(db, sheet.id), loaded, {"scores": {}})
    assert not isinstance(caught.value, scoresheets.SheetChanged)


def test_the_differences_are_the_leaves_where_what_is_typed_is_not_what_is_stored(db, pw):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    sheet, _parsed = scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {
        "value-C1.2": "达成", "value-C1.3": "12", "reason-C1.3": "一处满溢",
        "na-C2.1": "1", "na_reason-C2.1": "本期无此项", "value-C2.2": "20"})
    leaves = scoresheets.sheet_leaves(pw.part(db, "third_party"), SheetKind.expert)
    same = {"value-C1.2": "达成", "value-C1.3": "12.00", "reason-C1.3": " 一处满溢 ",
            "na-C2.1": "on", "na_reason-C2.1": "本期无此项", "value-C2.2": "20"}
    assert scoresheets.differences(sheet, leaves, same) == []  # 12 and 12.00 are one figure
    typed = {**same, "reason-C1.3": "两处满溢", "na-C2.1": "", "value-C2.2": ""}
    assert scoresheets.differences(sheet, leaves, typed) == ["C1.3", "C2.1", "C2.2"]


def test_a_rate_typed_with_its_sign_is_the_stored_rate(db, pw):
    purchaser = principal(db, pw.purchaser)
    data = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "data")
    data, _parsed = scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, {
        "value-A1.2": "90", "source-A1.2": "台账"})
    leaves = scoresheets.sheet_leaves(pw.part(db, "purchaser"), SheetKind.data)
    assert "A1.2" not in scoresheets.differences(data, leaves, {"value-A1.2": "90%",
                                                                 "source-A1.2": "台账"})
    assert "A1.2" in scoresheets.differences(data, leaves, {"value-A1.2": "0.9",
                                                             "source-A1.2": "台账"})


# ---------------------------------------------------------------- the length of a text


@pytest.mark.parametrize("field,label", [("reason", "扣分理由"), ("na_reason", "不适用理由")])
def test_a_scorers_text_over_the_limit_refuses_its_leaf_naming_the_field(db, pw, field, label):
    member = pw.seated(db)[0]
    who = pw.expert_principal(db, member)
    sheet = expert_sheet(db, pw, member)
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id,
                           {"value-C1.3": "12", "reason-C1.3": "一处满溢"})
    longest = "满" * scoresheets.MAX_REASON
    form = {"value-C1.3": "13", f"{field}-C1.3": longest + "溢", "value-C2.2": "20"}
    if field == "na_reason":
        form["na-C1.3"] = "1"
    sheet, parsed = scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, form)
    message = parsed.errors["C1.3"]
    assert label in message and str(scoresheets.MAX_REASON) in message
    assert str(scoresheets.MAX_REASON + 1) in message  # how long it is, to know how much to cut
    assert parsed.error_fields == {"C1.3": field}
    after = stored(db, sheet.id).scores
    assert after["C1.3"] == {"points": "12", "reason": "一处满溢"}  # its last saved entry
    assert after["C2.2"] == {"points": "20"}  # the rest is saved
    # at the limit it is taken
    scoresheets.save_draft(db, who, pw.evaluation.id, sheet.id, {**form, f"{field}-C1.3": longest})
    assert longest in json.dumps(stored(db, sheet.id).scores["C1.3"], ensure_ascii=False)
    # and a submission is refused the same way
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.submit(db, who, pw.evaluation.id, sheet.id,
                           {**FULL_MARKS, f"{field}-C1.3": longest + "溢"})
    assert label in caught.value.errors["C1.3"]


def test_a_source_over_the_limit_refuses_the_measured_value(db, pw):
    purchaser = principal(db, pw.purchaser)
    data = scoresheets.start(db, purchaser, pw.evaluation.id, "A", "data")
    _sheet, parsed = scoresheets.save_draft(db, purchaser, pw.evaluation.id, data.id, {
        "value-A1.1": "95", "source-A1.1": "账" * (scoresheets.MAX_REASON + 1),
        "value-A1.3": "98", "source-A1.3": "台账"})
    assert "数据来源" in parsed.errors["A1.1"] and parsed.error_fields == {"A1.1": "source"}
    assert set(stored(db, data.id).scores) == {"A1.3"}


def test_a_self_evaluation_summary_over_the_limit_is_refused_and_nothing_stored(db, pw):
    supplier = principal(db, pw.world.supplier_user)
    with pytest.raises(ValidationFailed) as caught:
        scoresheets.save_self_evaluation(db, supplier, pw.evaluation.id, {
            "summary": "好" * (scoresheets.MAX_SELF_SUMMARY + 1)})
    message = caught.value.errors["summary"]
    assert "绩效目标完成情况" in message and str(scoresheets.MAX_SELF_SUMMARY) in message
    assert db.exec(select(SelfEvaluation)).first() is None
    record = scoresheets.save_self_evaluation(db, supplier, pw.evaluation.id, {
        "summary": "好" * scoresheets.MAX_SELF_SUMMARY})
    assert len(record.summary) == scoresheets.MAX_SELF_SUMMARY
