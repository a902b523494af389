"""Test sources for the results tests: collectors that feed an evaluation's package the way
the survey and scoresheet capabilities do, and the hand-computed street-cleaning case.

Kept out of the test modules so that one registry entry and one ``FEED`` serve them all
(a test module is imported twice when another imports it).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from sqlmodel import func, select

from evalplatform.models import Evaluation, EvaluationResult, Role
from evalplatform.services import evaluation_inputs, evaluations, results
from evalplatform.services.audit import Actor
from tests.builders import contracted_world, schedule

# ---------------------------------------------------------------- test collectors

#: evaluation id → what the test sources contribute (cleared after every test)
FEED: dict[int, dict] = {}


@evaluation_inputs.collector("test-scoresheets")
def _test_sheets(session, evaluation):
    fed = FEED.get(evaluation.id)
    if not fed:
        return None
    return evaluation_inputs.Contribution(
        "test-scoresheets", sheets=copy.deepcopy(fed.get("sheets", [])),
        data=copy.deepcopy(fed.get("data", {})),
        notes=["购买主体月度考核表 2 份，第三方专家评分表 5 份"])


@evaluation_inputs.collector("test-survey")
def _test_survey(session, evaluation):
    fed = FEED.get(evaluation.id)
    if not fed or not fed.get("responses"):
        return None
    return evaluation_inputs.Contribution(
        "test-survey", responses=copy.deepcopy(fed["responses"]), population=fed.get("population"),
        notes=["满意度问卷（线上）有效答卷 10 份"])


@pytest.fixture(name="feed")
def feed_fixture():
    FEED.clear()
    yield FEED
    FEED.clear()


@dataclass
class P:
    """A principal as the services see it."""

    actor: Actor
    role: Role
    organisation_id: int | None


def principal(user) -> P:
    return P(Actor(user.id, user.username), Role(user.role), user.organisation_id)


# ---------------------------------------------------------------- the hand-computed case
#
# Street cleaning (市容环卫), parts A 购买主体 0.40, B 服务对象 0.30, C 第三方 0.30.
#
# A (mean of two monthly sheets M1, M2, and measured data):
#   A1.1 20 × min(0.95 / 0.95, 1) = 20      A1.2 15 × 0.90 / 1 = 13.5
#   A1.3 15 × min(0.98 / 0.98, 1) = 15      A2.1 tiers (达成 10 + 部分达成 7) / 2 = 8.5
#   A2.2 points (10 + 8) / 2 = 9            A2.3 10 × min(0.8 / 0.8, 1) = 10
#   A3.1 12 × 0.75 / 1 = 9                  A3.2 8 × 24 / 32 = 6
#   A = 91
# B (10 respondents): B1 Q1 8 of 10 satisfied = 80 % vs target 90 % → 60 × 80 / 90 = 53.3333
#                     B2 Q2 all 满意 (100), Q3 all 较满意 (80) → mean 90 → 40 × 0.9 = 36
#   B = 89.3333
# C (trimmed mean of five experts; C1.1 measured 92 → band ≥ 90 → 25 on every sheet):
#   sheet totals E1 95, E2 92, E3 85.5, E4 76.5, E5 63.5 → E1 and E5 dropped
#   C1.2 (15 + 10.5 + 10.5) / 3 = 12    C1.3 (14 + 13 + 12) / 3 = 13
#   C2.1 (20 + 20 + 14) / 3 = 18        C2.2 (18 + 17 + 15) / 3 = 16.6667
#   C = 25 + 12 + 13 + 18 + 16.6667 = 84.6667
# Total = 0.4 × 91 + 0.3 × 89.3333 + 0.3 × 84.6667 = 36.4 + 26.8 + 25.4 = 88.60 → 良
# Payment: the final instalment 40 % of ¥780,000 = ¥312,000 × 95 % (band ≥ 80) = ¥296,400.

HAND_TOTAL = "88.60"


def hand_inputs() -> dict:
    expert = [
        ("E1", "达成", 15, "达成", 20), ("E2", "达成", 14, "达成", 18),
        ("E3", "部分达成", 13, "达成", 17), ("E4", "部分达成", 12, "部分达成", 15),
        ("E5", "未达成", 10, "部分达成", 10),
    ]
    sheets = [
        {"part": "A", "scorer": "2026-05", "scores": {"A2.1": "达成", "A2.2": 10}},
        {"part": "A", "scorer": "2026-06", "scores": {
            "A2.1": {"tier": "部分达成", "reason": "6 月巡查记录缺 3 天"},
            "A2.2": {"points": 8, "reason": "作业人员未穿反光背心"}}},
    ] + [{"part": "C", "scorer": s, "scores": {"C1.2": t1, "C1.3": p1, "C2.1": t2, "C2.2": p2}}
         for s, t1, p1, t2, p2 in expert]
    data = {"A1.1": "0.95", "A1.2": {"value": "0.90", "source": "清运台账"}, "A1.3": "0.98",
            "A2.3": "0.8", "A3.1": "0.75", "A3.2": {"value": 32, "source": "12345 热线"},
            "C1.1": {"value": "92", "source": "第三方抽查 40 个路段"}}
    q1 = ["满意"] * 5 + ["较满意"] * 3 + ["一般", "不满意"]
    responses = [{"Q1": q1[i], "Q2": "满意", "Q3": "较满意"} for i in range(10)]
    return {"sheets": sheets, "data": data, "responses": responses, "population": 5000}


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch):
    """Today is Friday 9 Oct 2026 (Beijing) for the services, inside the appeal window of a
    publication on Monday 28 Sep 2026 (deadline Saturday 10 Oct, a 调休 working day);
    ``clock.set(day)`` moves it."""

    class Clock:
        def set(self, day: date):
            moment = datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)
            monkeypatch.setattr("evalplatform.services.results.now", lambda: moment)
            monkeypatch.setattr("evalplatform.services.projects.today", lambda: day)

    clock = Clock()
    clock.set(date(2026, 10, 9))
    return clock


@pytest.fixture(name="world")
def world_fixture(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def ready(db, world, **schedule_args) -> Evaluation:
    """An evaluation whose collection is closed (status ``scoring``)."""
    evaluation = schedule(db, world, **schedule_args)
    evaluations.advance(db, world.p_actor, evaluation.id, "collecting")
    return evaluations.advance(db, world.p_actor, evaluation.id, "scoring")


def fed(db, world, feed, inputs=None, **schedule_args) -> Evaluation:
    evaluation = ready(db, world, **schedule_args)
    feed[evaluation.id] = inputs or hand_inputs()
    return evaluation


def count(db, model) -> int:
    return db.exec(select(func.count()).select_from(model)).one()


PUBLISHED_AT = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # Monday 28 Sep 2026, 10:00 in Beijing




def published(db, world, feed, inputs=None, **schedule_args
              ) -> tuple[Evaluation, EvaluationResult]:
    """Computed by finance and published on Monday 28 Sep 2026 (appeal deadline 10 Oct)."""
    evaluation = fed(db, world, feed, inputs, **schedule_args)
    results.compute(db, principal(world.finance), evaluation.id)
    result = results.publish(db, principal(world.finance), evaluation.id, at=PUBLISHED_AT)
    db.refresh(evaluation)
    return evaluation, result


# ---------------------------------------------------------------- for a live server (browser tests)
#
# A browser test's server runs in its own process, so it cannot see ``FEED``. Started with
# ``uvicorn tests.results_feed:create_app --factory`` and ``EVAL_TEST_FEED_FILE`` set, its
# collector reads the same kind of inputs from that JSON file ({evaluation id: inputs}).

FEED_FILE_ENV = "EVAL_TEST_FEED_FILE"


@evaluation_inputs.collector("test-feed-file")
def _file_feed(session, evaluation):
    import json
    import os
    from pathlib import Path

    path = os.environ.get(FEED_FILE_ENV)
    if not path or not Path(path).exists():
        return None
    fed_inputs = json.loads(Path(path).read_text(encoding="utf-8")).get(str(evaluation.id))
    if not fed_inputs:
        return None
    return evaluation_inputs.Contribution(
        "test-feed-file", sheets=fed_inputs.get("sheets", []), data=fed_inputs.get("data", {}),
        responses=fed_inputs.get("responses", []), population=fed_inputs.get("population"))


def create_app():
    """The application with the file-fed test collector registered (importing this module)."""
    from evalplatform.web.app import create_app as make

    return make()
