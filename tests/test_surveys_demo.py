"""The demo's elderly-care and street-cleaning evaluations come with surveys and answers."""

from sqlmodel import select

import scoring
from evalplatform.models import Evaluation
from evalplatform.services import audit, demo, evaluation_inputs, evaluations
from evalplatform.services import surveys_app as app_service


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
    assert found == 3  # home care twice, street cleaning once (the toilets stay without)
    assert audit.verify(db).ok
