"""The chain from plan to payment on real inputs (no test collector): a street-cleaning
contract whose final evaluation is filled by the purchaser's sheet and data, a drawn panel of
five experts and ten residents answering the survey with invitation codes. The figures these
inputs give are computed by hand in ``tests/test_chain_end_to_end.py``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

from evalplatform.models import Expert, MemberStatus, User
from evalplatform.services import appeals, evaluations, panel, results, scoresheets
from evalplatform.services import surveys_app as survey_service
from surveys import invitations
from tests.builders import contracted_world, schedule
from tests.survey_helpers import form, window
from tests.test_scoresheets_world import expert_pool, hashing_once, principal

COMPUTED_AT = datetime(2026, 9, 25, 2, 0, tzinfo=UTC)
PUBLISHED_AT = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # Monday; deadline Sat 10 Oct (调休)
APPEALED_ON = date(2026, 10, 9)
FINAL_ON = date(2026, 10, 12)

PURCHASER_SHEET = {"value-A2.1": "部分达成", "reason-A2.1": "6 月巡查台账缺 3 天记录",
                   "value-A2.2": "8", "reason-A2.2": "8 月一次作业人员未穿反光背心"}
#: as typed in the data form: the rates (比例) in percent (95 for 0.95), the hours as they are
PURCHASER_DATA = {"A1.1": "95", "A1.2": "90", "A1.3": "98", "A2.3": "72",
                  "A3.1": "75", "A3.2": "32"}
EXPERTS = [  # C1.2 tier, C1.3 points, C2.1 tier, C2.2 points
    ("达成", "14", "达成", "18"),
    ("达成", "13", "部分达成", "17"),
    ("部分达成", "12", "达成", "16"),
    ("达成", "15", "达成", "20"),
    ("部分达成", "10", "部分达成", "15"),
]
TIER = {"达成": Fraction(1), "部分达成": Fraction(7, 10)}
POINTS = {"C1.2": 15, "C1.3": 15, "C2.1": 20, "C2.2": 20}
#: ten residents: (Q1, Q2, Q3) as option names of the four-level scale
RESIDENTS = [("satisfied", "satisfied", "fairly_satisfied")] * 5 + [
    ("satisfied", "fairly_satisfied", "fairly_satisfied"),
    ("fairly_satisfied", "fairly_satisfied", "fairly_satisfied"),
    ("fairly_satisfied", "fairly_satisfied", "fairly_satisfied"),
    ("neutral", "fairly_satisfied", "fairly_satisfied"),
    ("dissatisfied", "fairly_satisfied", "fairly_satisfied"),
]
SCALE = {"satisfied": 100, "fairly_satisfied": 80, "neutral": 60, "dissatisfied": 0}
POPULATION = 5000
COMMENT = "保洁员很辛苦，早上 6 点就在扫"


UPHELD = "检查记录显示当日已复工，维持原评价结果。"


def new_chain(db, make_user, make_org):
    """The contract, an evaluation collecting with its survey open and a panel of five drawn."""
    with hashing_once():
        world = contracted_world(db, make_user, make_org)
    expert_pool(db, world, 6)
    evaluation = schedule(db, world, **window(days_before=30, days_after=30))
    purchaser = principal(db, world.purchaser)
    survey_service.create(db, purchaser, evaluation.id, "street_cleaning")
    survey_service.open_survey(db, purchaser, evaluation.id)
    survey_service.set_population(db, purchaser, evaluation.id, str(POPULATION))
    panel.draw(db, purchaser, evaluation.id,
               {"size": "5", "alternates": "1", "specialities": ["D02"]})
    db.refresh(evaluation)
    return world, evaluation


def fill_sheets(db, world, evaluation) -> None:
    """The purchaser's yearly sheet and data; each expert's sheet, the first one's sample."""
    purchaser = principal(db, world.purchaser)
    sheet = scoresheets.start(db, purchaser, evaluation.id, "A", "occasion", "2026 年度考核")
    scoresheets.submit(db, purchaser, evaluation.id, sheet.id, PURCHASER_SHEET)
    data = scoresheets.start(db, purchaser, evaluation.id, "A", "data")
    scoresheets.submit(db, purchaser, evaluation.id, data.id, {
        **{f"value-{leaf}": value for leaf, value in PURCHASER_DATA.items()},
        **{f"source-{leaf}": "环卫作业监管平台台账" for leaf in PURCHASER_DATA}})
    seated = sorted((m for m in panel.members(db, evaluation.id)
                     if m.status == MemberStatus.seated), key=lambda m: m.id)
    assert len(seated) == 5
    for member, (t12, p13, t21, p22) in zip(seated, EXPERTS, strict=True):
        expert = principal(db, db.get(User, db.get(Expert, member.expert_id).user_id))
        sheet = scoresheets.start(db, expert, evaluation.id, "C", "expert")
        values = {"value-C1.2": t12, "value-C1.3": p13, "value-C2.1": t21, "value-C2.2": p22}
        reasons = {f"reason-{leaf}": "现场抽查发现问题，详见评分说明"
                   for leaf in ("C1.2", "C1.3", "C2.1", "C2.2")}
        scoresheets.submit(db, expert, evaluation.id, sheet.id, {**values, **reasons})
        if member is seated[0]:  # the panel's measured sample: one data sheet
            data = scoresheets.start(db, expert, evaluation.id, "C", "data")
            scoresheets.submit(db, expert, evaluation.id, data.id,
                               {"value-C1.1": "92", "source-C1.1": "第三方抽查 40 个路段"})


def answer_survey(db, world, evaluation) -> None:
    """Twelve invitation codes printed, ten residents answer (with a comment each)."""
    purchaser = principal(db, world.purchaser)
    batch = survey_service.issue_invitations(db, purchaser, evaluation.id, "12", "一号楼")
    codes = [i.code for i in invitations.codes_of(db, batch.id)]
    for n, ((q1, q2, q3), code) in enumerate(zip(RESIDENTS, codes, strict=False)):
        survey_service.submit_with_code(db, code, form(Q1=q1, Q2=q2, Q3=q3, Q4="no",
                                                       Q5="morning", Q7=COMMENT), f"10.0.{n}.1")


def close_collection(db, world, evaluation) -> None:
    survey_service.close_survey(db, principal(db, world.purchaser), evaluation.id)
    evaluations.organiser_step(db, world.p_actor, evaluation.id, "scoring")


def appeal(db, world, evaluation):
    return appeals.file(db, principal(db, world.supplier_user), evaluation.id, today=APPEALED_ON,
                        reasons="A2.2 扣分所依据的 8 月检查当天为暴雨停工日，不应扣分。",
                        leaves=["A2.2"], evidence=[])


def to_final(db, world, evaluation):
    """Collected, computed, published, appealed, upheld and final; returns the result."""
    fill_sheets(db, world, evaluation)
    answer_survey(db, world, evaluation)
    close_collection(db, world, evaluation)
    finance = principal(db, world.finance)
    result = results.compute(db, finance, evaluation.id, at=COMPUTED_AT)
    results.publish(db, finance, evaluation.id, at=PUBLISHED_AT)
    appeals.decide(db, finance, appeal(db, world, evaluation).id, outcome="uphold",
                   decision=UPHELD)
    assert [r.id for r in results.finalise_due(db, FINAL_ON)] == [result.id]
    return result

