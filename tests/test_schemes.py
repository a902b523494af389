"""Indicator schemes (指标体系): the rules of a scheme, editing, freezing, access, Excel, AHP."""

from __future__ import annotations

import copy
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import select

from evalplatform.i18n import language
from evalplatform.models import IndicatorScheme
from evalplatform.services import scheme_excel, scheme_templates, schemes
from evalplatform.services.errors import Conflict, PermissionDenied, ValidationFailed
from evalplatform.web.access import Principal
from tests.conftest import csrf_from


def principal_of(user, role=None):
    return Principal(id=user.id, username=user.username, display_name=user.display_name,
                     role=role or user.role, organisation_id=user.organisation_id,
                     organisation_name=None, organisation_kind=None)


@pytest.fixture
def finance(make_user):
    return principal_of(make_user("finance"))


@pytest.fixture
def cleaning(db, finance):
    """An editable copy of the street-cleaning template."""
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    return schemes.copy_scheme(db, finance, template.id)


def stored(db, scheme_id):
    db.expire_all()
    return copy.deepcopy(db.get(IndicatorScheme, scheme_id).document)


def refused(call, *names) -> dict:
    with language("zh_CN"), pytest.raises(ValidationFailed) as info:
        call()
    text = " ".join(info.value.errors.values())
    for name in names:
        assert name in text, text
    return info.value.errors


# ---------------------------------------------------------------- templates


def test_built_in_templates_keep_every_rule_and_load_once(db):
    created = scheme_templates.ensure_templates(db)
    assert {s.service_area for s in created} == {"居家养老", "市容环卫"}
    assert all(s.is_template and s.valid for s in created)
    assert scheme_templates.ensure_templates(db) == []
    care = next(s for s in created if s.service_area == "居家养老").document
    tree = care["parts"][0]["tree"]
    assert [c["name"] for c in tree["children"]] == ["决策", "过程", "产出", "效益"]
    benefit = tree["children"][3]
    assert "满意度" in [c["name"] for c in benefit["children"]]
    clean = next(s for s in created if s.service_area == "市容环卫").document
    assert [p["weight"] for p in clean["parts"]] == ["0.40", "0.30", "0.30"]


def test_demo_loads_the_templates(db):
    from evalplatform.services import demo

    demo.load(db)
    count = db.exec(select(func.count()).select_from(IndicatorScheme).where(
        IndicatorScheme.is_template == True)).one()  # noqa: E712
    assert count == 2


# ---------------------------------------------------------------- the rules, each refused


def test_children_that_do_not_add_up_are_refused_naming_the_node(db, finance, cleaning):
    updated = schemes.update_node(db, finance, cleaning.id, "A1.1", name="道路保洁达标率",
                                  points="25")
    assert not updated.valid  # a draft may disagree while editing ...
    before = stored(db, cleaning.id)
    errors = refused(lambda: schemes.check(db, finance, cleaning.id), "合同履约", "A1", "55")
    assert "A1" in errors
    assert stored(db, cleaning.id) == before  # ... but saving it is refused and changes nothing


def test_part_weights_must_add_up_to_exactly_one(db, finance, cleaning):
    schemes.update_part(db, finance, cleaning.id, "A", name="购买主体评价", party="purchaser",
                        weight="0.45", combine="mean", national_frame=False, frame_reason="")
    refused(lambda: schemes.check(db, finance, cleaning.id), "1.05", "1.00")


def test_a_bad_weight_is_refused_and_nothing_changes(db, finance, cleaning):
    before = stored(db, cleaning.id)
    refused(lambda: schemes.update_part(db, finance, cleaning.id, "B", name="x",
                                        party="recipient", weight="1.5", combine="mean",
                                        national_frame=False, frame_reason=""), "权重")
    assert stored(db, cleaning.id) == before


def test_national_frame_needs_60_points_for_output_and_benefit_unless_a_reason(db, finance):
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "居家养老")).one()
    scheme = schemes.copy_scheme(db, finance, template.id)
    # move 10 points from 产出 (A3, 35) to 过程 (A2, 20): 产出 + 效益 = 55
    schemes.update_node(db, finance, scheme.id, "A3.1.1", name="服务人次完成率", points="0.01")
    schemes.update_node(db, finance, scheme.id, "A3.1.1", name="服务人次完成率", points="1")
    schemes.update_node(db, finance, scheme.id, "A3.1", name="产出数量", points="6")
    schemes.update_node(db, finance, scheme.id, "A3", name="产出", points="26")
    schemes.update_node(db, finance, scheme.id, "A2.2.2", name="台账资料完整性", points="15")
    schemes.update_node(db, finance, scheme.id, "A2.2", name="组织实施", points="19")
    schemes.update_node(db, finance, scheme.id, "A2", name="过程", points="29")
    refused(lambda: schemes.check(db, finance, scheme.id), "第三方评价", "56", "60")
    schemes.update_part(db, finance, scheme.id, "A", name="第三方评价", party="third_party",
                        weight="1", combine="trimmed_mean", national_frame=True,
                        frame_reason="本项目以过程管理为重点，经专家论证")
    assert schemes.check(db, finance, scheme.id).valid


@pytest.mark.parametrize("rule_type,params,names", [
    ("ratio_ge", "target=0", ["道路保洁达标率", "目标值"]),
    ("survey_rate", "questions=Q1; scale=满意度五级; satisfied=很好; target=90",
     ["道路保洁达标率", "很好"]),
    ("survey_rate", "questions=Q1; satisfied=满意; target=120", ["道路保洁达标率", "100"]),
    ("thresholds", "bands=95:30, 0:0", ["道路保洁达标率", "30", "20"]),
    ("thresholds", "bands=0:5, 95:20", ["道路保洁达标率", "从高到低"]),
    ("tiers", "tiers=达成:1.2, 未达成:0", ["道路保洁达标率", "达成", "0 到 1"]),
    ("survey_mean", "questions=Q1; scale=五分制", ["道路保洁达标率", "五分制"]),
    ("ratio_ge", "goal=0.9", ["goal"]),
    ("tiers", "tiers=达成", ["名称:系数"]),
])
def test_a_bad_rule_is_refused_naming_the_indicator_and_nothing_changes(
        db, finance, cleaning, rule_type, params, names):
    before = stored(db, cleaning.id)
    errors = refused(lambda: schemes.set_rule(db, finance, cleaning.id, "A1.1",
                                              rule_type=rule_type, params=params, criteria=""),
                     *names)
    assert all(key.startswith("A1.1") for key in errors)
    assert stored(db, cleaning.id) == before


def test_a_good_rule_is_stored_with_its_criteria(db, finance, cleaning):
    schemes.set_rule(db, finance, cleaning.id, "A1.1", rule_type="survey_rate",
                     params="questions=Q7，Q8; satisfied=满意、较满意; target=90",
                     criteria="满意率达到 90% 得满分")
    leaf = schemes.locate(stored(db, cleaning.id), "A1.1").node
    assert leaf["rule"] == {"type": "survey_rate", "target": "90", "questions": ["Q7", "Q8"],
                            "scale": "满意度五级", "satisfied": ["满意", "较满意"]}
    assert leaf["criteria"] == "满意率达到 90% 得满分"


def test_points_must_be_a_number_above_zero(db, finance, cleaning):
    before = stored(db, cleaning.id)
    refused(lambda: schemes.update_node(db, finance, cleaning.id, "A1.1", name="x",
                                        points="很多"), "分值")
    refused(lambda: schemes.update_node(db, finance, cleaning.id, "A1.1", name="",
                                        points="5"), "名称")
    refused(lambda: schemes.add_child(db, finance, cleaning.id, "A1", name="新指标",
                                      points="-1"), "分值")
    assert stored(db, cleaning.id) == before


def test_the_tree_is_at_most_three_levels_deep(db, finance, cleaning):
    schemes.add_child(db, finance, cleaning.id, "A1.1", name="细项", points="20")
    refused(lambda: schemes.add_child(db, finance, cleaning.id, "A1.1.1", name="更细",
                                      points="1"), "A1.1.1")


def test_grades_go_down_and_end_at_zero(db, finance, cleaning):
    before = stored(db, cleaning.id)
    for grades in ("优=90; 良=95; 差=0", "优=90; 良=80", "优 90"):
        refused(lambda g=grades: schemes.update_settings(
            db, finance, cleaning.id, name="x", service_area="", description="",
            missing="block", grades=g), "等级")
    refused(lambda: schemes.update_settings(db, finance, cleaning.id, name="x", service_area="",
                                            description="", missing="guess",
                                            grades="优=90; 差=0"), "缺失")
    assert stored(db, cleaning.id) == before
    schemes.update_settings(db, finance, cleaning.id, name="新名称", service_area="环卫",
                            description="", missing="redistribute",
                            grades="优秀=85; 合格=60; 不合格=0")
    doc = stored(db, cleaning.id)
    assert doc["missing"] == "redistribute" and doc["grades"][0] == {"name": "优秀", "min": "85"}


def test_editing_moves_renames_and_deletes(db, finance, cleaning):
    schemes.move_node(db, finance, cleaning.id, "A1.2", "up")
    names = [c["name"] for c in schemes.locate(stored(db, cleaning.id), "A1").node["children"]]
    assert names[:2] == ["垃圾日产日清率", "道路保洁达标率"]
    refused(lambda: schemes.move_node(db, finance, cleaning.id, "A1.1", "up"), "A1.1")
    schemes.delete_node(db, finance, cleaning.id, "A1.1")
    doc = stored(db, cleaning.id)
    assert [c["name"] for c in schemes.locate(doc, "A1").node["children"]] == [
        "道路保洁达标率", "作业人员到岗率"]
    assert "A1" in schemes.problems(doc)  # 35 of 50 now


# ---------------------------------------------------------------- freeze and versions


def test_a_frozen_scheme_cannot_be_edited_and_a_new_version_copies_it(db, finance, cleaning):
    from evalplatform.services.audit import SYSTEM

    schemes.freeze(db, SYSTEM, cleaning.id)
    with pytest.raises(Conflict):
        schemes.update_node(db, finance, cleaning.id, "A1.1", name="x", points="20")
    version = schemes.copy_scheme(db, finance, cleaning.id, new_version=True)
    assert (version.version, version.based_on_id, version.frozen) == (2, cleaning.id, False)
    assert version.document == stored(db, cleaning.id)


def test_an_invalid_scheme_cannot_be_frozen(db, finance, cleaning):
    from evalplatform.services.audit import SYSTEM

    schemes.update_node(db, finance, cleaning.id, "A1.1", name="x", points="21")
    refused(lambda: schemes.freeze(db, SYSTEM, cleaning.id), "A1")
    db.expire_all()
    assert not db.get(IndicatorScheme, cleaning.id).frozen


# ---------------------------------------------------------------- AHP


def test_allocation_rounds_to_cents_and_gives_the_remainder_to_the_largest():
    weights = [Decimal("0.3333333"), Decimal("0.3333333"), Decimal("0.3333334")]
    assert schemes.allocate(weights, Decimal(50)) == [Decimal("16.67"), Decimal("16.67"),
                                                      Decimal("16.66")]
    points = schemes.allocate([Decimal("0.6"), Decimal("0.3"), Decimal("0.1")], Decimal(20))
    assert sum(points) == 20 and points == [Decimal("12.00"), Decimal("6.00"), Decimal("2.00")]


def test_the_matrix_takes_saaty_judgements_and_fills_the_reciprocals():
    matrix = schemes.ahp_matrix(3, {(0, 1): "3", (0, 2): "5", (1, 2): "1/2"})
    assert matrix[1][0] == schemes.Fraction(1, 3) and matrix[2][1] == 2
    with language("zh_CN"), pytest.raises(ValidationFailed) as info:
        schemes.ahp_matrix(3, {(0, 1): "10", (0, 2): "5", (1, 2): "0"})
    assert set(info.value.errors) == {"a_0_1", "a_1_2"}


class _FakeAHP:
    """Stands in for scoring.ahp while the engine is on another branch."""

    def __init__(self, weights, cr):
        self.weights, self.cr, self.ci, self.lambda_max = weights, cr, cr * 0.58, 3.0
        self.consistent = cr < 0.10


def test_accepting_ahp_weights_sets_the_childrens_points(db, finance, cleaning, monkeypatch):
    monkeypatch.setattr(schemes, "_engine_ahp", lambda m: _FakeAHP([0.5, 0.3, 0.2], 0.02))
    schemes.accept_ahp(db, finance, cleaning.id, "A1", {(0, 1): "2", (0, 2): "3",
                                                        (1, 2): "2"})
    children = schemes.locate(stored(db, cleaning.id), "A1").node["children"]
    assert [c["points"] for c in children] == ["25", "15", "10"]


def test_inconsistent_judgements_are_refused(db, finance, cleaning, monkeypatch):
    monkeypatch.setattr(schemes, "_engine_ahp", lambda m: _FakeAHP([0.5, 0.3, 0.2], 0.25))
    before = stored(db, cleaning.id)
    refused(lambda: schemes.accept_ahp(db, finance, cleaning.id, "A1",
                                       {(0, 1): "9", (0, 2): "1/9", (1, 2): "9"}), "CR", "0.10")
    assert stored(db, cleaning.id) == before


def test_ahp_with_the_real_engine(db, finance, cleaning):
    """The AHP page's figures come from the scoring engine itself."""
    outcome = schemes.run_ahp(db, cleaning.id, "A1", {(0, 1): "2", (0, 2): "2", (1, 2): "1"})
    assert outcome.consistent and outcome.cr < 0.10
    assert sum(outcome.points) == 50
    assert outcome.points[0] == max(outcome.points)
    refused(lambda: schemes.accept_ahp(db, finance, cleaning.id, "A1",
                                       {(0, 1): "9", (0, 2): "1/9", (1, 2): "9"}), "CR")


# ---------------------------------------------------------------- Excel


@pytest.mark.parametrize("area", ["居家养老", "市容环卫"])
def test_export_then_import_gives_the_same_document(db, finance, area):
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(IndicatorScheme.service_area == area)).one()
    with language("zh_CN"):
        data = scheme_excel.export_workbook(template)
    imported = scheme_excel.import_scheme(db, finance, data)
    assert imported.name == template.name
    assert imported.document == template.document
    with language("en"):  # a workbook exported in English reads back the same
        data = scheme_excel.export_workbook(template)
    assert scheme_excel.import_workbook(data)[1] == template.document


def _workbook_with(db, change) -> bytes:
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    with language("zh_CN"):
        book = load_workbook(io.BytesIO(scheme_excel.export_workbook(template)))
    change(book.worksheets[0])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_bad_workbook_names_sheet_row_and_column_and_stores_nothing(db, finance):
    def spoil(sheet):
        sheet["H7"] = "二十"
        sheet["I4"] = "猜测"
        sheet["J5"] = "target"

    data = _workbook_with(db, spoil)
    count = db.exec(select(func.count()).select_from(IndicatorScheme)).one()
    errors = refused(lambda: scheme_excel.import_scheme(db, finance, data),
                     "第 7 行 H 列（分值）：应为数字", "第 4 行 I 列（计分规则）", "第 5 行 J 列")
    assert len(errors) == 3
    assert db.exec(select(func.count()).select_from(IndicatorScheme)).one() == count


def test_a_workbook_whose_points_do_not_add_up_is_refused(db, finance):
    data = _workbook_with(db, lambda sheet: sheet.__setitem__("H2", 25))
    refused(lambda: scheme_excel.import_scheme(db, finance, data), "购买主体评价", "105")


def test_a_file_that_is_not_a_workbook_is_refused(db, finance):
    refused(lambda: scheme_excel.import_scheme(db, finance, b"name,points\n"), "Excel")
    from tests.test_catalogue_excel import zip_bomb

    refused(lambda: scheme_excel.import_scheme(db, finance, zip_bomb()), "50 MB")


# ---------------------------------------------------------------- access and pages


def test_purchasers_copy_templates_but_do_not_edit_them(db, make_user):
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme)).first()
    purchaser = principal_of(make_user("purchaser"))
    with pytest.raises(PermissionDenied):
        schemes.update_node(db, purchaser, template.id, "A1", name="x", points="15")
    copy_ = schemes.copy_scheme(db, purchaser, template.id)
    assert copy_.organisation_id == purchaser.organisation_id and not copy_.is_template
    schemes.update_node(db, purchaser, copy_.id, "A1.1", name="改名", points="6")


def test_each_role_reaches_only_what_it_may(client, signed_in, db, make_user, make_org):
    scheme_templates.ensure_templates(db)
    dept, other = make_org("purchasing_department"), make_org("purchasing_department")
    owner = principal_of(make_user("purchaser", organisation=dept))
    mine = schemes.create(db, owner, name="民政局自有指标体系")
    theirs = schemes.create(db, principal_of(make_user("purchaser", organisation=other)),
                            name="别家的指标体系")
    signed_in("purchaser", organisation=dept)
    listing = client.get("/schemes").text
    assert "民政局自有指标体系" in listing and "别家的指标体系" not in listing
    assert "居家养老" in listing
    assert client.get(f"/schemes/{theirs.id}").status_code == 404
    token = csrf_from(client, "/schemes")
    response = client.post(f"/schemes/{mine.id}/nodes/A/children",
                           data={"name": "服务质量", "points": "100", "csrf_token": token})
    assert response.status_code == 200
    client.cookies.clear()
    signed_in("auditor")
    assert client.get(f"/schemes/{theirs.id}").status_code == 200
    token = csrf_from(client, "/schemes")
    assert client.post(f"/schemes/{mine.id}/check",
                       data={"csrf_token": token}).status_code == 403
    client.cookies.clear()
    signed_in("supplier")
    assert client.get("/schemes").status_code == 403


def test_the_editor_shows_running_sums_and_highlights_a_mismatch(client, signed_in, db):
    user = signed_in("finance")
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    scheme = schemes.copy_scheme(db, principal_of(user), template.id)
    token = csrf_from(client, f"/schemes/{scheme.id}")
    response = client.post(f"/schemes/{scheme.id}/nodes/A1.1",
                           data={"name": "道路保洁达标率", "points": "30"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 200
    assert 'class="sum mismatch" id="sum-A1"' in response.text
    assert "合同履约" in response.text and "60" in response.text
    response = client.post(f"/schemes/{scheme.id}/check",
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 422 and "“合同履约”（A1）" in response.text
    response = client.post(f"/schemes/{scheme.id}/nodes/A1.1", data={"points": "abc",
                                                                      "name": "x"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 422 and "分值" in response.text


def test_the_rule_examples_make_the_indicator_they_show():
    """The editor's example for a higher-is-better ratio read 'target=0.95; unit=%': a leaf
    made from it has a target of 0.95 % (unit % is not a fraction of one), so its data form
    showed 目标 0.95% and 95 typed there earned full marks many times over. The example now
    makes a rate with a target of 95 %, typed in percent on the data form."""
    from evalplatform.services import scoresheets

    for rule_type in ("ratio_ge", "ratio_le"):
        rule = {"type": rule_type, **schemes.parse_params(rule_type, schemes.RULE_HINTS[rule_type])}
        leaf = scoresheets.Leaf("X1", "例", Decimal(10), rule, "", ())
        shown = leaf.with_unit(rule["target"])
        assert shown in ("95%", "48 小时"), (rule_type, shown)
        assert leaf.is_ratio == (rule_type == "ratio_ge")


def test_an_indicator_is_named_in_the_readers_parentheses():
    """“合同履约”（A1） in Chinese, “合同履约” (A1) in English, in every message naming it."""
    from evalplatform.i18n import language

    node = {"id": "A1", "name": "合同履约"}
    with language("zh_CN"):
        assert schemes.node_label(node) == "“合同履约”（A1）"
    with language("en"):
        assert schemes.node_label(node) == "“合同履约” (A1)"
        assert schemes._rule_problems({}, {"id": "A1.1", "name": "道路保洁"}, None) == \
            "Indicator “道路保洁” (A1.1) needs a scoring rule."


# ---------------------------------------------------------------- rates typed in percent


def _home_care(db):
    scheme_templates.ensure_templates(db)
    return db.exec(select(IndicatorScheme).where(IndicatorScheme.service_area == "居家养老")).one()


def test_the_editor_takes_a_rates_target_in_percent_stores_the_fraction_and_shows_percent(
        client, signed_in, db):
    """A rate's measured value is typed in percent on the data form (95 for 95 %); its target
    was typed as a fraction in the editor (0.95), so 95 there made a target of 9,500 %."""
    user = signed_in("finance")
    scheme = schemes.copy_scheme(db, principal_of(user), _home_care(db).id)
    token = csrf_from(client, f"/schemes/{scheme.id}")
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    response = client.post(f"/schemes/{scheme.id}/nodes/A3.1.2/rule", headers=headers, data={
        "rule_type": "ratio_ge", "params": "target=95; unit=比例", "criteria": "覆盖率"})
    assert response.status_code == 200
    rule = schemes.locate(stored(db, scheme.id), "A3.1.2").node["rule"]
    assert rule == {"type": "ratio_ge", "target": "0.95", "unit": "比例"}
    assert 'name="params" value="target=95%; unit=比例"' in response.text  # shown back in percent
    # 95% and 97.46 % too, exactly; a band's bounds likewise
    schemes.set_rule(db, principal_of(user), scheme.id, "A3.1.2", rule_type="ratio_le",
                     params="target=97.46 %; unit=比例", criteria="")
    assert schemes.locate(stored(db, scheme.id), "A3.1.2").node["rule"]["target"] == "0.9746"
    schemes.set_rule(db, principal_of(user), scheme.id, "A3.1.2", rule_type="thresholds",
                     params="bands=95:5, 90%:3, 0:0; unit=比例", criteria="")
    assert [b["min"] for b in schemes.locate(stored(db, scheme.id), "A3.1.2").node["rule"][
        "bands"]] == ["0.95", "0.9", "0"]
    # a survey target is a percentage as it always was: 90% is 90, not 0.9
    schemes.set_rule(db, principal_of(user), scheme.id, "A3.1.2", rule_type="survey_rate",
                     params="questions=Q1; satisfied=满意; target=90%", criteria="")
    assert schemes.locate(stored(db, scheme.id), "A3.1.2").node["rule"]["target"] == "90"


def test_a_rates_target_of_one_percent_or_less_is_said_back_as_a_likely_fraction(
        client, signed_in, db):
    user = signed_in("finance")
    scheme = schemes.copy_scheme(db, principal_of(user), _home_care(db).id)
    before = stored(db, scheme.id)
    token = csrf_from(client, f"/schemes/{scheme.id}")
    response = client.post(f"/schemes/{scheme.id}/nodes/A3.1.2/rule", data={
        "rule_type": "ratio_ge", "params": "target=0.95; unit=比例", "criteria": ""},
        headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 422
    assert "参数 target 按百分数填写。读作 0.95%。如果您指的是 95%，请填 95。" in response.text
    assert stored(db, scheme.id) == before
    refused(lambda: schemes.set_rule(db, principal_of(user), scheme.id, "A3.1.2",
                                     rule_type="thresholds", params="bands=1:5, 0.9:3, 0:0; "
                                     "unit=比例", criteria=""), "bands", "100%")
    assert stored(db, scheme.id) == before
    # written with its sign, a small rate is meant: a complaint rate of at most 0.5 %
    schemes.set_rule(db, principal_of(user), scheme.id, "A3.1.2", rule_type="ratio_le",
                     params="target=0.5%; unit=比例", criteria="")
    assert schemes.locate(stored(db, scheme.id), "A3.1.2").node["rule"]["target"] == "0.005"


def _cells(data: bytes) -> tuple[list[str], list[list]]:
    book = load_workbook(io.BytesIO(data))
    params = [str(row[9].value or "") for row in book.worksheets[0].iter_rows(min_row=2)]
    return params, [[c.value for c in row] for row in book.worksheets[1].iter_rows()]


def test_the_workbook_writes_rates_in_percent_and_reads_them_back_exactly(db, finance):
    template = _home_care(db)
    with language("zh_CN"):
        data = scheme_excel.export_workbook(template)
    params, settings = _cells(data)
    assert "target=95%; unit=比例" in params and "target=100%; unit=比例" in params
    assert "bands=95%:8, 90%:6, 80%:4, 0%:0; unit=比例" in params
    assert settings[0][:2] == ["表格格式", 2]
    assert scheme_excel.import_workbook(data)[1] == template.document
    # rows added by hand in the current format are in percent, like the editor
    book = load_workbook(io.BytesIO(data))
    row = next(r for r in book.worksheets[0].iter_rows(min_row=2)
               if r[9].value == "target=95%; unit=比例")
    row[9].value = "target=95; unit=比例"
    buffer = io.BytesIO()
    book.save(buffer)
    assert scheme_excel.import_workbook(buffer.getvalue())[1] == template.document


def _old_workbook(db, change=None) -> bytes:
    """The home-care template as the platform exported it before rates were typed in percent:
    no format row, a rate's target and bands as fractions of one."""
    template = _home_care(db)
    with language("zh_CN"):
        book = load_workbook(io.BytesIO(scheme_excel.export_workbook(template)))
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(min_row=2):
        text = str(row[9].value or "")
        if "unit=比例" in text:
            row[9].value = (text.replace("target=95%", "target=0.95")
                            .replace("target=100%", "target=1")
                            .replace("bands=95%:8, 90%:6, 80%:4, 0%:0",
                                     "bands=0.95:8, 0.9:6, 0.8:4, 0:0"))
    book.worksheets[1].delete_rows(1)
    if change:
        change(sheet)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_a_workbook_of_the_old_syntax_reads_its_fractions_or_names_the_ambiguous_cell(
        db, finance):
    assert scheme_excel.import_workbook(_old_workbook(db))[1] == _home_care(db).document

    def ambiguous(sheet):
        for row in sheet.iter_rows(min_row=2):
            if row[9].value == "target=0.95; unit=比例":
                row[9].value = "target=95; unit=比例"  # 9,500 % in the old syntax, or 95 %?
                return row[0].row

    rows = []
    data = _old_workbook(db, lambda sheet: rows.append(ambiguous(sheet)))
    count = db.exec(select(func.count()).select_from(IndicatorScheme)).one()
    refused(lambda: scheme_excel.import_scheme(db, finance, data),
            f"第 {rows[0]} 行 J 列（规则参数）", "target", "95%")
    assert db.exec(select(func.count()).select_from(IndicatorScheme)).one() == count


# ---------------------------------------------------------------- lengths


def count_schemes(db) -> int:
    return db.exec(select(func.count()).select_from(IndicatorScheme)).one()


def test_a_schemes_header_fills_its_columns_and_one_more_character_is_refused(db, finance):
    header = {"name": "名" * 200, "service_area": "域" * 100, "description": "述" * 10_000}
    for field, text in header.items():
        errors = refused(lambda f=field, t=text: schemes.create(
            db, finance, **{**header, f: t + t[0]}), str(len(text)))
        assert list(errors) == [field]
    assert count_schemes(db) == 0
    scheme = schemes.create(db, finance, **header)
    errors = refused(lambda: schemes.update_settings(
        db, finance, scheme.id, name="新名称", service_area="", description="述" * 10_001,
        missing="block", grades="优=90; 差=0"), "说明", "10000")
    assert list(errors) == ["description"]
    db.expire_all()
    kept = db.get(IndicatorScheme, scheme.id)
    assert (kept.name, kept.service_area, kept.description) == tuple(header.values())


def test_a_copys_name_too_long_is_refused_not_cut(db, finance, cleaning):
    before = count_schemes(db)
    errors = refused(lambda: schemes.copy_scheme(db, finance, cleaning.id, name="副" * 201), "200")
    assert list(errors) == ["name"] and count_schemes(db) == before
    assert schemes.copy_scheme(db, finance, cleaning.id, name="副" * 200).name == "副" * 200


def test_a_grade_name_fits_the_column_a_result_keeps_it_in(db, finance, cleaning):
    """A result keeps its grade in a column of 20 characters: a longer grade name would have
    made PostgreSQL refuse the result when it was computed."""
    before = stored(db, cleaning.id)
    errors = refused(lambda: schemes.update_settings(
        db, finance, cleaning.id, name="x", service_area="", description="", missing="block",
        grades="等" * 21 + "=90; 差=0"), "等" * 21, "20")
    assert list(errors) == ["grades"]
    assert stored(db, cleaning.id) == before
    doc = copy.deepcopy(before)
    doc["grades"][0]["name"] = "等" * 21
    assert "20" in schemes.problems(doc)["grades"]
    schemes.update_settings(db, finance, cleaning.id, name="x", service_area="",
                            description="", missing="block", grades="等" * 20 + "=90; 差=0")
    assert stored(db, cleaning.id)["grades"][0]["name"] == "等" * 20


def test_a_parts_name_and_reason_and_a_leafs_criteria_and_parameters_have_lengths(
        db, finance, cleaning):
    before = stored(db, cleaning.id)
    part = before["parts"][0]
    values = {"party": part["party"], "weight": part["weight"], "combine": part["combine"]}
    errors = refused(lambda: schemes.update_part(
        db, finance, cleaning.id, "A", name="部" * 201, national_frame=True,
        frame_reason="由" * 10_001, **values), "部分名称", "200", "10000")
    assert set(errors) == {"name", "frame_reason"}
    refused(lambda: schemes.set_rule(db, finance, cleaning.id, "A1.1", rule_type="points",
                                     params="", criteria="标" * 10_001), "评分标准", "10000")
    refused(lambda: schemes.set_rule(db, finance, cleaning.id, "A1.1", rule_type="ratio_ge",
                                     params="target=95%; unit=" + "率" * 2_000, criteria=""),
            "规则参数", "2000")
    assert stored(db, cleaning.id) == before
    schemes.update_part(db, finance, cleaning.id, "A", name="部" * 200, national_frame=True,
                        frame_reason="由" * 10_000, **values)
    schemes.set_rule(db, finance, cleaning.id, "A1.1", rule_type="points", params="",
                     criteria="标" * 10_000)
    after = stored(db, cleaning.id)
    assert after["parts"][0]["name"] == "部" * 200
    assert after["parts"][0]["frame"]["reason"] == "由" * 10_000
    assert schemes.locate(after, "A1.1").node["criteria"] == "标" * 10_000


def test_a_part_is_offered_only_for_a_party_the_scheme_has_no_part_for(client, signed_in, db):
    user = signed_in("finance")
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    scheme = schemes.copy_scheme(db, principal_of(user), template.id)
    recipients = next(p for p in scheme.document["parts"] if p["party"] == "recipient")
    scheme = schemes.delete_part(db, principal_of(user), scheme.id, recipients["id"])
    parties = {p["party"] for p in scheme.document["parts"]}
    assert parties == {"purchaser", "third_party"}
    page = client.get(f"/schemes/{scheme.id}").text
    form = page[page.index(f'hx-post="/schemes/{scheme.id}/parts"'):]
    offered = set(re.findall(r'<option value="(\w+)"', form[:form.find("</form>")]))
    assert offered == {"recipient"}  # the one party without a part


def test_a_rule_whose_parameters_do_not_parse_is_refused_naming_the_indicator(
        db, finance, cleaning):
    name = schemes.locate(cleaning.document, "A1.1").node["name"]
    for params in ("target=abc", "target"):
        errors = refused(lambda p=params: schemes.set_rule(
            db, finance, cleaning.id, "A1.1", rule_type="ratio_ge", params=p, criteria=""),
            f"“{name}”", "A1.1")
        assert all(key.startswith("A1.1-") for key in errors)


def test_a_refused_form_of_the_editor_keeps_what_was_typed(client, signed_in, db):
    user = signed_in("finance")
    scheme_templates.ensure_templates(db)
    template = db.exec(select(IndicatorScheme).where(
        IndicatorScheme.service_area == "市容环卫")).one()
    scheme = schemes.copy_scheme(db, principal_of(user), template.id)
    before = stored(db, scheme.id)
    token = csrf_from(client, f"/schemes/{scheme.id}")
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    response = client.post(f"/schemes/{scheme.id}/parts/A", headers=headers, data={
        "name": "购买主体评价", "party": "purchaser", "weight": "1/3", "combine": "median"})
    assert response.status_code == 422
    assert re.search(r'id="f-A-weight" name="weight" value="1/3"', response.text)
    part_form = response.text[response.text.index('id="f-A-combine"'):]
    assert re.search(r'value="median"\s+selected', part_form[:part_form.index("</select>")])
    response = client.post(f"/schemes/{scheme.id}/nodes/A1.1/rule", headers=headers, data={
        "rule_type": "ratio_le", "params": "target=abc; unit=小时", "criteria": "按月考核"})
    assert response.status_code == 422
    assert 'value="target=abc; unit=小时"' in response.text
    rule_form = response.text[response.text.index('id="f-A1.1-rule_type"'):]
    assert re.search(r'value="ratio_le"\s+selected', rule_form[:rule_form.index("</select>")])
    assert "按月考核</textarea>" in response.text
    response = client.post(f"/schemes/{scheme.id}/nodes/A1.1", headers=headers,
                           data={"name": "保洁达标", "points": "abc"})
    assert response.status_code == 422
    assert 'value="abc"' in response.text and 'value="保洁达标"' in response.text
    response = client.post(f"/schemes/{scheme.id}/settings", headers=headers, data={
        "name": "新名称", "grades": "优=90; 良=95", "missing": "block", "description": "说明文字"})
    assert response.status_code == 422
    assert 'value="优=90; 良=95"' in response.text and "说明文字</textarea>" in response.text
    assert stored(db, scheme.id) == before  # nothing refused was kept


def test_a_dimension_chosen_in_the_editor_survives_the_workbook(db, finance):
    scheme = schemes.create(db, finance, name="维度往返")
    schemes.update_part(db, finance, scheme.id, "A", name="购买主体", party="purchaser",
                        weight="1.00", combine="mean", national_frame=True, frame_reason="")
    for name, points, dimension in (("前期论证", "10", "决策"), ("组织管理", "20", "过程"),
                                    ("服务完成", "40", "产出"), ("群众获得感", "30", "效益")):
        scheme = schemes.add_child(db, finance, scheme.id, "A", name=name, points=points)
        node_id = scheme.document["parts"][0]["tree"]["children"][-1]["id"]
        scheme = schemes.update_node(db, finance, scheme.id, node_id, name=name, points=points,
                                     dimension=dimension)
    scheme = schemes.add_child(db, finance, scheme.id, "A3", name="服务人次", points="40")
    assert scheme.valid, schemes.problems(scheme.document)
    with language("zh_CN"):
        data = scheme_excel.export_workbook(scheme)
    name, document = scheme_excel.import_workbook(data)
    document["name"] = scheme.document["name"]
    assert document == scheme.document
    imported = scheme_excel.import_scheme(db, finance, data, name="维度往返（导入）")
    assert [c.get("dimension") for c in imported.document["parts"][0]["tree"]["children"]] == \
        ["决策", "过程", "产出", "效益"]
