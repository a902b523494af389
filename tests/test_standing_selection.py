"""Selection (承接主体选择): eligible candidates ranked by TOPSIS, barred ones with the reason."""

import re
from datetime import date

import numpy as np
import pytest

import scoring
from evalplatform.services import contracts, selection, standing
from evalplatform.services.errors import Conflict, ValidationFailed
from tests.builders import contracted_world
from tests.conftest import login
from tests.settlement_builders import final_evaluation, principal
from tests.test_standing import new_project


@pytest.fixture(name="field")
def field_fixture(db, make_user, make_org):
    """Three suppliers with a record each, and a new project of the first department."""
    good = contracted_world(db, make_user, make_org, n=1)
    poor = contracted_world(db, make_user, make_org, n=2)
    fresh = contracted_world(db, make_user, make_org, n=3)
    final_evaluation(db, good, "84.00", "良", stage="interim", final_on=date(2026, 7, 10),
                     recipient="80.0000")
    final_evaluation(db, good, "92.00", "优", final_on=date(2026, 7, 20), recipient="95.0000")
    final_evaluation(db, poor, "55.00", "差", final_on=date(2026, 7, 20))
    project = new_project(db, good)
    return good, poor, fresh, project


TODAY = date(2026, 11, 1)


def test_candidates_are_ranked_by_topsis_and_the_barred_listed_with_the_reason(db, field):
    good, poor, fresh, project = field
    ranking = selection.rank(db, project.id, today=TODAY)
    names = [c.supplier.name for c in ranking.candidates]
    assert names == [good.supplier.name, fresh.supplier.name]
    assert [(s.name, bar.until) for s, bar in ranking.barred] == [
        (poor.supplier.name, date(2027, 12, 31))]
    assert "55.00" in ranking.barred[0][1].reason
    # the same numbers through scoring.topsis give the same closeness
    matrix = [[c.used[k] for k in selection.KEYS] for c in ranking.candidates]
    weights = [ranking.weights[k] for k in selection.KEYS]
    expected = scoring.topsis(matrix, weights, [c.benefit for c in selection.CRITERIA])
    assert np.allclose([c.closeness for c in ranking.candidates], expected.closeness)
    best = ranking.candidates[0]
    assert best.values["score"] == 88 and best.values["trend"] == 108  # 100 + (92 − 84)
    assert best.values["satisfaction"] == 87.5
    newcomer = ranking.candidates[1]
    assert {"score", "satisfaction", "trend"} <= newcomer.neutral
    assert newcomer.used["score"] == 88.0  # the candidates' mean: neutral


def test_typed_weights_are_normalised_and_a_bad_weight_is_refused(db, field):
    *_, project = field
    ranking = selection.rank(db, project.id, today=TODAY, values={
        "w_score": "2", "w_satisfaction": "1", "w_trend": "1", "w_price": "0",
        "w_complaints": "0"})
    assert ranking.weights["score"] == pytest.approx(0.5)
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY, values={"w_price": "-1"})
    assert "w_price" in caught.value.errors
    with pytest.raises(ValidationFailed):
        selection.rank(db, project.id, today=TODAY, values={f"w_{k}": "0"
                                                             for k in selection.KEYS})


def test_each_weight_error_names_the_criterion_and_the_rule(db, field):
    *_, project = field
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY,
                       values={"w_price": "-1", "w_trend": "", "w_score": "很重要"})
    errors = caught.value.errors
    assert "价格" in errors["w_price"] and "“-1”" in errors["w_price"]
    assert "0 或以上" in errors["w_price"]
    assert "趋势" in errors["w_trend"] and "0 或以上" in errors["w_trend"]
    assert "历史得分" in errors["w_score"] and "“很重要”" in errors["w_score"]
    assert "w_satisfaction" not in errors
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY, values={f"w_{k}": "0"
                                                             for k in selection.KEYS})
    assert set(caught.value.errors) == {"weights"}
    assert "历史得分" in caught.value.errors["weights"]
    assert "至少" in caught.value.errors["weights"]
    consistent = {(i, j): "1" for i in range(5) for j in range(i + 1, 5)}
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, method="ahp", today=TODAY,
                       upper={**consistent, (0, 3): "10"})
    assert set(caught.value.errors) == {"a_0_3"}
    assert "历史得分" in caught.value.errors["a_0_3"] and "价格" in caught.value.errors["a_0_3"]
    assert "“10”" in caught.value.errors["a_0_3"]


def test_a_weight_error_stands_at_its_field_on_the_page(client, db, field):
    good, poor, fresh, project = field
    login(client, good.purchaser.username)
    page = client.get(f"/projects/{project.id}/selection",
                      params={"w_price": "-1", f"quote_{fresh.supplier.id}": "三十万"})
    assert page.status_code == 422
    at_field = page.text.split('id="e-w_price"', 1)[1].split("</p>", 1)[0]
    assert "价格" in at_field and "-1" in at_field
    assert 'id="e-quote_' in page.text  # every problem at once, the quote's too
    page = client.get(f"/projects/{project.id}/selection", params={"method": "ahp", "a_0_3": "10"})
    assert page.status_code == 422 and '<details id="ahp" open>' in page.text
    assert "历史得分" in page.text.split('id="e-a_0_3"', 1)[1].split("</p>", 1)[0]


def test_ahp_weights_need_consistent_judgements(db, field):
    *_, project = field
    consistent = {(0, 1): "2", (0, 2): "4", (0, 3): "2", (0, 4): "4", (1, 2): "2", (1, 3): "1",
                  (1, 4): "2", (2, 3): "1/2", (2, 4): "1", (3, 4): "2"}
    ranking = selection.rank(db, project.id, method="ahp", upper=consistent, today=TODAY)
    assert ranking.ahp.cr < 0.1 and max(ranking.weights, key=ranking.weights.get) == "score"
    assert sum(ranking.weights.values()) == pytest.approx(1)
    contradictory = {**consistent, (0, 1): "1/9", (1, 2): "9", (0, 2): "9"}
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, method="ahp", upper=contradictory, today=TODAY)
    assert "CR" in caught.value.errors["matrix"]


def test_entropy_weights_come_from_how_much_the_candidates_differ(db, field):
    good, poor, fresh, project = field
    # Only the trend differs: a newcomer counts as steady (100), where the good supplier rose
    # from 84 to 92 (100 + 92 − 84 = 108); the other figures of a newcomer are the mean.
    alike = selection.rank(db, project.id, method="entropy", today=TODAY)
    assert alike.weights["trend"] == pytest.approx(1)
    newcomer = next(c for c in alike.candidates if c.supplier.id == fresh.supplier.id)
    assert "trend" in newcomer.neutral and newcomer.used["trend"] == 100
    assert alike.candidates[0].supplier.id == good.supplier.id
    standing.record_complaint(db, principal(good.purchaser), good.contract.id,
                              received_on="2026-03-02", summary="未按时清运，核实属实",
                              today=TODAY)
    quote = {f"quote_{fresh.supplier.id}": "540000"}
    ranking = selection.rank(db, project.id, method="entropy", values=quote, today=TODAY)
    expected = scoring.entropy_weights([[c.used[k] for k in selection.KEYS]
                                        for c in ranking.candidates],
                                       benefit=[c.benefit for c in selection.CRITERIA])
    assert [ranking.weights[k] for k in selection.KEYS] == pytest.approx(list(expected.weights))
    assert ranking.weights["score"] == 0  # alike on the score: no information
    assert ranking.weights["complaints"] > 0 and ranking.weights["price"] > 0
    assert ranking.candidates[0].supplier.id == fresh.supplier.id  # cheaper, no complaint
    assert all(0 <= e <= 1 and str(e) != "-0.0" for e in ranking.entropy.values())
    assert ranking.entropy["complaints"] == pytest.approx(0, abs=1e-12)  # one complaint: all told
    assert len(ranking.candidates) == 2
    assert any("只有两个候选者" in note for note in ranking.notes)  # it cannot tell by how much


CONSISTENT = {(0, 1): "2", (0, 2): "4", (0, 3): "2", (0, 4): "4", (1, 2): "2", (1, 3): "1",
              (1, 4): "2", (2, 3): "1/2", (2, 4): "1", (3, 4): "2"}


def test_combined_weights_take_a_share_of_ahp_and_the_rest_of_the_entropy_method(db, field):
    good, poor, fresh, project = field
    standing.record_complaint(db, principal(good.purchaser), good.contract.id,
                              received_on="2026-03-02", summary="未按时清运，核实属实",
                              today=TODAY)
    quote = {f"quote_{fresh.supplier.id}": "540000"}
    ahp = selection.rank(db, project.id, method="ahp", upper=CONSISTENT, values=quote,
                         today=TODAY)
    entropy = selection.rank(db, project.id, method="entropy", values=quote, today=TODAY)
    combined = selection.rank(db, project.id, method="combined", upper=CONSISTENT,
                              values={**quote, "share": "0.7"}, today=TODAY)
    for key in selection.KEYS:
        assert combined.subjective[key] == pytest.approx(ahp.weights[key], abs=1e-15)
        assert combined.objective[key] == pytest.approx(entropy.weights[key], abs=1e-15)
        assert combined.weights[key] == pytest.approx(
            0.7 * ahp.weights[key] + 0.3 * entropy.weights[key], abs=1e-15)
    assert str(combined.share) == "0.7" and combined.ahp.cr < 0.1
    assert combined.entropy == entropy.entropy
    # the score, on which the candidates are alike, keeps only the judgement's share
    assert combined.weights["score"] == pytest.approx(0.7 * ahp.weights["score"])
    halves = selection.rank(db, project.id, method="combined", upper=CONSISTENT, values=quote,
                            today=TODAY)
    assert str(halves.share) == selection.DEFAULT_SHARE == "0.5"


@pytest.mark.parametrize("share", ["1.5", "-0.1", "一半", "NaN", ""])
def test_a_share_outside_0_to_1_is_refused_naming_the_field(db, field, share):
    *_, project = field
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, method="combined", upper=CONSISTENT,
                       values={"share": share}, today=TODAY)
    assert set(caught.value.errors) == {"share"}
    assert "0 到 1" in caught.value.errors["share"]


def test_the_combined_weights_are_shown_side_by_side_on_the_page(client, db, field):
    good, poor, fresh, project = field
    standing.record_complaint(db, principal(good.purchaser), good.contract.id,
                              received_on="2026-03-02", summary="未按时清运，核实属实",
                              today=TODAY)
    login(client, good.purchaser.username)
    params = {"method": "combined", "share": "0.6", f"quote_{fresh.supplier.id}": "540000",
              **{f"a_{i}_{j}": v for (i, j), v in CONSISTENT.items()}}
    page = client.get(f"/projects/{project.id}/selection", params=params)
    assert page.status_code == 200, page.text
    table = page.text.split('id="combined-weights"', 1)[1].split("</table>", 1)[0]
    assert "层次分析法" in table and "熵权法" in table and "组合" in table
    assert "组合权重 = 0.6 × 层次分析法 + 0.4 × 熵权法" in page.text
    refused = client.get(f"/projects/{project.id}/selection", params={**params, "share": "2"})
    assert refused.status_code == 422
    assert "2" in refused.text.split('id="e-share"', 1)[1].split("</p>", 1)[0]


def test_a_quote_replaces_the_price_level(db, field):
    good, poor, fresh, project = field
    ranking = selection.rank(db, project.id, today=TODAY,
                             values={f"quote_{fresh.supplier.id}": "300000"})
    newcomer = next(c for c in ranking.candidates if c.supplier.id == fresh.supplier.id)
    assert newcomer.values["price"] == 50  # ¥300,000 of a ¥600,000 budget
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY,
                       values={f"quote_{fresh.supplier.id}": "三十万"})
    message = caught.value.errors[f"quote_{fresh.supplier.id}"]
    assert fresh.supplier.name in message and "金额" in message


def test_a_quote_above_the_projects_budget_is_refused_naming_both(db, field):
    """A quote above the budget was ranked (at 133 % of it, say), though no contract at that
    price could ever be recorded for the project."""
    from evalplatform.i18n import language

    good, poor, fresh, project = field
    with language("en"), pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY,
                       values={f"quote_{fresh.supplier.id}": "600000.01"})
    message = caught.value.errors[f"quote_{fresh.supplier.id}"]
    assert fresh.supplier.name in message and "¥600,000.01" in message
    assert "budget of ¥600,000.00" in message
    ranking = selection.rank(db, project.id, today=TODAY,
                             values={f"quote_{fresh.supplier.id}": "600000"})
    newcomer = next(c for c in ranking.candidates if c.supplier.id == fresh.supplier.id)
    assert newcomer.values["price"] == 100  # the whole budget: allowed


def test_a_quote_for_a_barred_supplier_is_refused_naming_it_and_the_bar(db, field):
    good, poor, fresh, project = field
    with pytest.raises(ValidationFailed) as caught:
        selection.rank(db, project.id, today=TODAY,
                       values={f"quote_{poor.supplier.id}": "300000"})
    message = caught.value.errors[f"quote_{poor.supplier.id}"]
    assert poor.supplier.name in message and "2027-12-31" in message and "55.00" in message


def test_a_refused_quote_keeps_the_quotes_open_with_the_error_at_its_field(client, db, field):
    good, poor, fresh, project = field
    login(client, good.purchaser.username)
    page = client.get(f"/projects/{project.id}/selection").text
    assert '<details id="quotes">' in page  # nothing typed: closed
    bad = client.get(f"/projects/{project.id}/selection",
                     params={f"quote_{fresh.supplier.id}": "三十万",
                             f"quote_{poor.supplier.id}": "300000"})
    assert bad.status_code == 422
    assert '<details id="quotes" open>' in bad.text
    for supplier in (fresh.supplier, poor.supplier):
        at_field = bad.text.split(f'id="e-quote_{supplier.id}"', 1)[1].split("</p>", 1)[0]
        assert supplier.name in at_field
    assert 'value="三十万"' in bad.text  # what was typed stays to be corrected


def test_selection_is_for_a_project_still_awaiting_its_contract(db, field):
    good, *_ = field
    with pytest.raises(Conflict):
        selection.rank(db, good.project.id, today=TODAY)
    assert good.project.id not in [p.id for p in selection.awaiting_contract(db)]


def test_the_selection_page_draws_the_closeness_chart(client, db, field):
    good, poor, fresh, project = field
    login(client, good.purchaser.username)
    page = client.get(f"/projects/{project.id}/selection")
    assert page.status_code == 200
    assert 'data-chart=' in page.text and good.supplier.name in page.text
    assert f'data-testid="barred-{poor.supplier.id}"' in page.text
    bad = client.get(f"/projects/{project.id}/selection?method=ahp&a_0_1=1/9&a_1_2=9&a_0_2=9")
    assert bad.status_code == 422 and "CR" in bad.text
    client.cookies.clear()
    login(client, poor.purchaser.username)  # another department's project
    assert client.get(f"/projects/{project.id}/selection").status_code == 404
    assert contracts.for_project(db, project.id) is None
    assert principal(good.purchaser).organisation_id == good.department.id


def test_the_ahp_matrix_shows_each_reciprocal_once(client, db, field):
    """The lower triangle read 1/1/3 for a judgement of 1/3 and 1/1 for 1."""
    good, *_, project = field
    login(client, good.purchaser.username)
    page = client.get(f"/projects/{project.id}/selection",
                      params={"method": "ahp", "a_0_1": "1/3", "a_0_2": "3"}).text
    cells = {k: v for k, v in re.findall(
        r'<span class="reciprocal" data-testid="(a_\d_\d)">([^<]*)</span>', page)}
    assert cells["a_1_0"] == "3" and cells["a_2_0"] == "1/3" and cells["a_3_0"] == "1"


def test_the_standing_and_selection_pages_punctuate_in_the_readers_language(client, db, field):
    """Lists and labels on a Chinese page: 、 and ：, not an English comma and colon."""
    good, poor, fresh, project = field
    final_evaluation(db, fresh, "78.00", "中", stage="interim", final_on=date(2026, 7, 10),
                     recipient="70.0000")
    final_evaluation(db, fresh, "79.00", "中", final_on=date(2026, 7, 20), recipient="72.0000")
    login(client, good.purchaser.username)
    listing = client.get("/standing").text
    assert "84.00（良）、92.00（优）" in listing
    assert "2026 年第二季度监控 78.00、2026 年度终期绩效评价 79.00" in listing  # a flag's reason
    page = client.get(f"/projects/{project.id}/selection",  # the lower quote: best on price
                      params={f"quote_{fresh.supplier.id}": "400000"}).text
    assert f"<h1>承接主体选择：{project.name}</h1>" in page
    assert "<h2>采用的权重：" in page and "<h2>采用的权重:" not in page
    barred = page.split(f'data-testid="barred-{poor.supplier.id}"')[1].split("</li>")[0]
    assert "禁止承接至 2027-12-31：" in barred
    why = re.findall(r'data-label="依据">(.*?)</td>', page)
    assert why and not any(", " in w or "; " in w for w in why)
    assert any("、" in w for w in why) and any("；" in w for w in why)


def test_the_ranking_writes_each_criterion_as_what_it_is(client, db, field):
    """Scores with two decimals rounded as the engine rounds, the price as a percentage of the
    budget, complaints as a count (a neutral mean with decimals)."""
    good, poor, fresh, project = field
    login(client, good.purchaser.username)
    page = client.get(f"/projects/{project.id}/selection",
                      params={f"quote_{fresh.supplier.id}": "400000"}).text

    def cells(supplier) -> dict[str, str]:
        row = page.split(f'data-testid="candidate-{supplier.id}"')[1].split("</tr>")[0]
        return {label: re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip()
                for label, text in re.findall(r'data-label="([^"]+)" class="num">(.*?)</td>',
                                              row, re.S)}

    newcomer, best = cells(fresh.supplier), cells(good.supplier)
    assert newcomer["价格"] == "66.67%"  # ¥400,000 of a ¥600,000 budget
    assert best["历史得分"] == "88.00" and best["趋势"] == "108.00" and best["满意度"] == "87.50"
    assert best["有效投诉"] == "0" and newcomer["有效投诉"] == "0"
    assert newcomer["历史得分"] == "88.00（中性值）"  # the candidates' mean, marked
    price = next(c for c in selection.rank(db, project.id, today=TODAY).candidates
                 if c.supplier.id == good.supplier.id).values["price"]
    assert best["价格"] == f"{price:.2f}%"


def test_a_neutral_figure_and_an_entropy_note_take_no_space_before_a_full_width_parenthesis(
        client, db, field):
    """Chinese typography: “88.00（中性值）”, not “88.00 （中性值）”; English keeps its space."""
    from tests.conftest import csrf_from
    from tests.test_punctuation import VisibleText

    good, poor, fresh, project = field
    standing.record_complaint(db, principal(good.purchaser), good.contract.id,
                              received_on="2026-03-02", summary="未按时清运，核实属实", today=TODAY)
    login(client, good.purchaser.username)

    def shown(params=None) -> str:
        response = client.get(f"/projects/{project.id}/selection", params=params or {})
        assert response.status_code == 200, response.text
        parser = VisibleText()
        parser.feed(response.text)
        return re.sub(r"\s+", " ", "".join(parser.texts))

    typed = shown()
    assert "88.00（中性值）" in typed
    entropy = shown({"method": "entropy", f"quote_{fresh.supplier.id}": "540000"})
    assert re.search(r"\d\.\d{4}（信息熵 ", entropy), entropy
    assert "-0.0000" not in entropy  # an entropy of 0, not a negative rounding error
    for text in (typed, entropy):
        assert not re.search(r"\s（", text), re.findall(r".{12}\s（.{6}", text)
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")})
    assert "88.00 (neutral)" in shown()


def test_the_contract_form_marks_a_barred_supplier_before_it_is_filled_in(client, db, field):
    """The supplier list says who is barred and until when; the others read as their names."""
    good, poor, fresh, project = field
    login(client, good.purchaser.username)
    form = client.get(f"/projects/{project.id}/contract/new").text
    options = dict(re.findall(r'<option value="(\d+)"[^>]*>([^<]*)</option>', form))
    assert options[str(poor.supplier.id)] == (
        f"{poor.supplier.name}（2027-12-31 前禁止承接新合同）")
    assert options[str(fresh.supplier.id)] == fresh.supplier.name
