"""The demo's elderly-care and street-cleaning evaluations come with surveys and answers."""

import re

from sqlmodel import select

import scoring
from evalplatform.models import Contract, Evaluation, Project
from evalplatform.services import audit, demo, demo_surveys, evaluation_inputs, evaluations
from evalplatform.services import surveys_app as app_service
from surveys import questionnaire as qn
from surveys.models import InvitationBatch
from tests.conftest import PASSWORD, login
from tests.test_scoresheets_world import hashing_once


def test_the_demo_surveys_have_a_few_hundred_answers_that_score_the_survey_leaves(db):
    demo.load(db)
    found = 0
    for evaluation in db.exec(select(Evaluation)).all():
        survey = app_service.survey_of(db, evaluation)
        if survey is None:
            continue
        found += 1
        tab = app_service.tabulate(db, evaluation, "zh_CN")
        assert tab.responses >= 80
        assert set(tab.by_channel) == {"closed", "open", "paper"} and all(tab.by_channel.values())
        assert 0.6 < tab.rate.estimate < 0.95
        assert tab.alpha is not None and tab.alpha.statistic > 0.7
        package = evaluation_inputs.build_package(evaluations.scheme_document(db, evaluation),
                                                  evaluation_inputs.collect(db, evaluation))
        result = scoring.evaluate(package)
        for leaf in app_service.leaves(db, evaluation):
            assert result.nodes[leaf.id].status == "scored"
    # home care twice, street cleaning in its first round and in the round open today (the
    # toilets stay without)
    assert found == 4
    assert audit.verify(db).ok


def test_the_demo_keeps_a_survey_open_today_for_a_visitor_to_answer(client, db):
    demo.load(db)
    live = demo_surveys.live(db)
    assert live is not None and live.title == "中心城区道路清扫保洁 · 年中绩效评价（专家评审）"
    form = client.get(f"/s/{live.code}")
    assert form.status_code == 200 and "道路清扫保洁服务市民满意度调查" in form.text
    assert "已经使用" not in form.text
    site = client.get(live.open_link)
    assert site.status_code == 200 and "道路清扫保洁服务市民满意度调查" in site.text


#: The survey title that fits each demo project's own service.
TITLES = {"2026年居家养老上门服务": "居家养老上门服务满意度调查",
          "社区老年助餐服务": "社区老年助餐服务满意度调查",
          "中心城区道路清扫保洁": "道路清扫保洁服务市民满意度调查"}


def test_each_demo_surveys_printed_slips_carry_its_own_services_title(client, db, monkeypatch):
    # the community meal service shares the home-care scheme but not its name: its slips,
    # questionnaire and questions speak of meals
    monkeypatch.setenv("EVAL_DEMO_PASSWORD", PASSWORD)
    with hashing_once():
        demo.load(db)
    seen = {}
    for evaluation in db.exec(select(Evaluation).order_by(Evaluation.id)).all():
        survey = app_service.survey_of(db, evaluation)
        if survey is None:
            continue
        project = db.get(Project, db.get(Contract, evaluation.contract_id).project_id)
        document = app_service.shown_document(db, evaluation)
        assert qn.document_errors(document, app_service.leaves(db, evaluation)) == {}
        batch = db.exec(select(InvitationBatch).where(InvitationBatch.survey_id == survey.id)
                        ).first()
        client.cookies.clear()  # the organiser: the purchaser of the project's department
        organiser = "chengguan" if "道路" in project.name else "minzheng"
        assert login(client, organiser).status_code == 303
        sheet = client.get(f"/evaluations/{evaluation.id}/survey/invitations/{batch.id}/sheet")
        titles = set(re.findall(r'<p class="slip-title">(.*?)</p>', sheet.text))
        assert titles == {TITLES[project.name]}, project.name
        seen[project.name] = TITLES[project.name]
        if project.name == "社区老年助餐服务":
            words = " ".join(qn.text(q["label"], "zh-CN") for q in qn.questions(document))
            assert "上门" not in words and "助餐" in words
            assert "居家养老上门服务" not in qn.text(document["intro"], "zh-CN")
    assert seen == TITLES
