"""Mixing answers (surveys.mixing): once mixed, nothing the database keeps — not the
transaction that wrote a row, nor its place in the table — ties an answer to its code.

On PostgreSQL a code's use and its answers commit in one transaction and so carry the same
``xmin``; rows lie in the order they were written (``ctid``, SQLite's ``rowid``). These
tests read those hidden columns the way someone with the database in hand would.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from evalplatform.models import AuditEntry, SurveyResponse
from evalplatform.services import evaluations
from evalplatform.services import surveys_app as app_service
from evalplatform.services.errors import Conflict
from surveys import invitations, mixing
from tests.builders import contracted_world
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey, form
from tests.test_audit import cli_env  # noqa: F401 - a fixture


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


@pytest.fixture
def survey_eval(db, world):
    return evaluation_with_survey(db, world)


def issue(db, world, evaluation, n: int) -> list[str]:
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, str(n), "")
    return [i.code for i in invitations.codes_of(db, batch.id)]


def answer(session, code: str, marker: int) -> None:
    """Submit a complete answer whose comment (Q7) carries ``marker``, to find it again."""
    app_service.submit_with_code(session, code, form(**STREET_ANSWERS, Q7=f"答卷{marker}"),
                                 "10.0.0.7")


def in_table_order(engine) -> list[int]:
    """The markers of the stored answers in the order the rows lie in the table."""
    place = "ctid" if engine.dialect.name == "postgresql" else "rowid"
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT answers FROM survey_response ORDER BY {place}"))
        return [int(_answers(a)["Q7"].removeprefix("答卷")) for (a,) in rows]


def _answers(value):
    return value if isinstance(value, dict) else json.loads(value)


def joined_by_transaction(engine) -> list[tuple[str, str]]:
    """PostgreSQL: each (code, comment) whose invitation and answer one transaction wrote."""
    with engine.connect() as connection:
        return [(code, _answers(a)["Q7"]) for code, a in connection.execute(text(
            "SELECT i.code, r.answers FROM invitation i JOIN survey_response r ON i.xmin = r.xmin"))]


def unmixed(engine) -> int:
    with Session(engine) as session:
        return mixing.unmixed(session)


def test_once_mixed_no_answer_shares_a_transaction_or_its_place_with_its_code(
        db, engine, world, survey_eval, backend):
    codes = issue(db, world, survey_eval, 12)
    for i, code in enumerate(codes):
        answer(db, code, i)
    # what mixing is for: unmixed, the database itself ties every answer to its code
    assert in_table_order(engine) == list(range(12))
    if backend == "postgresql":
        assert sorted(joined_by_transaction(engine)) == sorted(
            (code, f"答卷{i}") for i, code in enumerate(codes))

    done = app_service.mix_answers(engine)

    assert (done.answers, done.surveys) == (12, 1) and unmixed(engine) == 0
    assert sorted(in_table_order(engine)) == list(range(12))
    assert in_table_order(engine) != list(range(12))  # a random order (1 chance in 12! not)
    if backend == "postgresql":
        assert joined_by_transaction(engine) == []
        with engine.connect() as connection:
            written_by = connection.execute(text(
                "SELECT DISTINCT xmin::text FROM survey_response")).scalars().all()
        assert len(written_by) == 1  # all twelve by the one mixing transaction


def test_once_mixed_an_open_link_answer_shares_no_transaction_with_its_addresss_counter(
        db, engine, world, survey_eval, backend):
    if backend != "postgresql":
        pytest.skip("the writing transaction is kept with each row by PostgreSQL")
    site = app_service.add_site(db, world.purchaser_principal, survey_eval.id, "社区服务站", "1")
    for i in range(5):
        assert app_service.submit_open(
            db, site.token, form(**STREET_ANSWERS, Q7=f"答卷{i}"), address=f"10.3.0.{i}",
            device=f"phone-{i}", submission_key=f"{i:032x}") == "stored"
    joined = ("SELECT count(*) FROM throttle_counter t JOIN survey_response r "
              "ON t.xmin = r.xmin")
    with engine.connect() as connection:
        assert connection.execute(text(joined)).scalar() == 10  # an address's and a phone's
    assert app_service.mix_answers(engine).answers == 5
    with engine.connect() as connection:
        assert connection.execute(text(joined)).scalar() == 0


def test_answers_wait_until_five_of_a_survey_can_be_mixed_together(db, engine, world, survey_eval):
    codes = issue(db, world, survey_eval, 6)
    for i, code in enumerate(codes[:4]):
        answer(db, code, i)
    assert app_service.mix_answers(engine) == mixing.Mixed(0, 0)
    assert unmixed(engine) == 4
    answer(db, codes[4], 4)
    assert app_service.mix_answers(engine) == mixing.Mixed(5, 1)
    answer(db, codes[5], 5)  # a sixth waits for four more, or for the close
    assert app_service.mix_answers(engine) == mixing.Mixed(0, 0) and unmixed(engine) == 1


def test_closing_the_survey_mixes_the_last_few_with_all_the_others(
        db, engine, world, survey_eval, backend):
    codes = issue(db, world, survey_eval, 7)
    for i, code in enumerate(codes[:5]):
        answer(db, code, i)
    app_service.mix_answers(engine)
    for i, code in enumerate(codes[5:], start=5):
        answer(db, code, i)
    assert unmixed(engine) == 2

    app_service.close_survey(db, world.purchaser_principal, survey_eval.id)

    assert unmixed(engine) == 0 and sorted(in_table_order(engine)) == list(range(7))
    if backend == "postgresql":
        assert joined_by_transaction(engine) == []
        with engine.connect() as connection:
            assert connection.execute(text(
                "SELECT count(DISTINCT xmin::text) FROM survey_response")).scalar() == 1


def test_the_mixer_closes_a_survey_whose_window_ended_unnoticed_and_mixes_it(
        db, engine, world, survey_eval, monkeypatch):
    codes = issue(db, world, survey_eval, 2)
    for i, code in enumerate(codes):
        answer(db, code, i)
    after = evaluations.as_utc(survey_eval.closes_at) + evaluations.timedelta(minutes=1)
    monkeypatch.setattr(evaluations, "now", lambda: after)
    monkeypatch.setattr(app_service, "now", lambda: after)

    assert app_service.mix_answers(engine) == mixing.Mixed(2, 1)

    survey = app_service.survey_of(db, survey_eval)
    db.refresh(survey)
    assert survey.close_reason == "schedule" and unmixed(engine) == 0
    assert db.exec(select(func.count()).select_from(AuditEntry)
                   .where(AuditEntry.action == "survey.close")).one() == 1
    assert app_service.mix_answers(engine) == mixing.Mixed(0, 0)  # nothing waits any more


def test_closes_at_the_same_moment_record_one_close(db, engine, world, survey_eval, monkeypatch):
    for i, code in enumerate(issue(db, world, survey_eval, 3)):
        answer(db, code, i)
    after = evaluations.as_utc(survey_eval.closes_at) + evaluations.timedelta(minutes=1)
    monkeypatch.setattr(evaluations, "now", lambda: after)
    monkeypatch.setattr(app_service, "now", lambda: after)
    start = threading.Barrier(4)

    def page_view() -> bool:  # a page of the survey, opened as its window has ended
        with Session(engine) as session:
            evaluation = session.get(type(survey_eval), survey_eval.id)
            survey = app_service.survey_of(session, evaluation)
            start.wait()
            return app_service.close_if_due(session, survey, evaluation)

    def mixer() -> int:
        start.wait()
        return app_service.mix_answers(engine).answers

    with ThreadPoolExecutor(4) as pool:
        views = [pool.submit(page_view) for _ in range(3)]
        mixed = pool.submit(mixer)
        closed = [v.result() for v in views]
        mixed.result()
    assert closed.count(True) <= 1
    assert db.exec(select(func.count()).select_from(AuditEntry)
                   .where(AuditEntry.action == "survey.close")).one() == 1
    assert unmixed(engine) == 0


def test_mixing_changes_nothing_the_organiser_sees(db, engine, world, survey_eval):
    for i, code in enumerate(issue(db, world, survey_eval, 9)):
        q1 = ["satisfied", "fairly_satisfied", "neutral", "dissatisfied"][i % 4]
        app_service.submit_with_code(db, code, form(**{**STREET_ANSWERS, "Q1": q1,
                                                        "Q7": f"意见{i}"}), "10.0.0.7")
    before = (app_service.tabulate(db, survey_eval, "zh_CN"),
              app_service.export(db, survey_eval, "zh_CN", fmt="csv", codes=True)[0],
              app_service.contribution(db, survey_eval))
    with engine.connect() as connection:
        rows_before = sorted(connection.execute(text(
            "SELECT id, survey_id, questionnaire_id, channel, site_id, answered_on, answers, "
            "submission_key FROM survey_response")).all(), key=lambda r: r[0])

    assert app_service.mix_answers(engine).answers == 9

    db.expire_all()
    assert (app_service.tabulate(db, survey_eval, "zh_CN"),
            app_service.export(db, survey_eval, "zh_CN", fmt="csv", codes=True)[0],
            app_service.contribution(db, survey_eval)) == before
    with engine.connect() as connection:
        rows_after = sorted(connection.execute(text(
            "SELECT id, survey_id, questionnaire_id, channel, site_id, answered_on, answers, "
            "submission_key FROM survey_response")).all(), key=lambda r: r[0])
    assert rows_after == rows_before


def test_mixers_and_respondents_at_once_lose_and_double_nothing(db, engine, world, survey_eval):
    codes = issue(db, world, survey_eval, 60)
    stop = threading.Event()
    rounds: list[mixing.Mixed] = []

    def mixer():
        while not stop.is_set():
            rounds.append(app_service.mix_answers(engine))

    def respondent(start: int):
        with Session(engine) as session:
            for i in range(start, len(codes), 4):
                answer(session, codes[i], i)

    with ThreadPoolExecutor(6) as pool:
        mixers = [pool.submit(mixer) for _ in range(2)]
        for done in [pool.submit(respondent, start) for start in range(4)]:
            done.result()
        stop.set()
        for done in mixers:
            done.result()

    assert sum(r.answers for r in rounds) > 0  # rounds mixed while answers came in
    app_service.mix_answers(engine)
    assert unmixed(engine) < mixing.MIX_AT  # all but at most four, before the close
    app_service.close_survey(db, world.purchaser_principal, survey_eval.id)
    assert sorted(in_table_order(engine)) == list(range(60)) and unmixed(engine) == 0
    assert db.exec(select(func.count(func.distinct(SurveyResponse.id)))).one() == 60
    with pytest.raises(Conflict):  # every code is used once and stays used
        answer(db, codes[0], 0)


def test_each_worker_mixes_every_few_seconds(settings, engine, db, world, survey_eval):
    from fastapi.testclient import TestClient

    from evalplatform.web.app import create_app

    for i, code in enumerate(issue(db, world, survey_eval, 5)):
        answer(db, code, i)
    app = create_app(settings=settings.model_copy(update={"mix_seconds": 0.1}), engine=engine)
    with TestClient(app):
        deadline = time.monotonic() + 10
        while unmixed(engine) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert unmixed(engine) == 0


def test_no_mixer_runs_in_a_worker_told_so(settings, engine, db, world, survey_eval):
    from fastapi.testclient import TestClient

    from evalplatform.web.app import create_app

    for i, code in enumerate(issue(db, world, survey_eval, 5)):
        answer(db, code, i)
    app = create_app(settings=settings.model_copy(update={"mix_seconds": 0}), engine=engine)
    with TestClient(app):
        time.sleep(0.5)
    assert unmixed(engine) == 5


def test_the_command_line_mixes_what_waits(db, engine, world, survey_eval, cli_env):  # noqa: F811
    from evalplatform.cli import app

    for i, code in enumerate(issue(db, world, survey_eval, 5)):
        answer(db, code, i)
    result = CliRunner().invoke(app, ["mix-answers"])
    assert result.exit_code == 0, result.output
    assert "mixed 5 answers of 1 surveys" in result.output and unmixed(engine) == 0


def test_mix_due_refuses_a_group_smaller_than_one(db):
    with pytest.raises(ValueError, match="at_least"):
        mixing.mix_due(db, at_least=0)



def test_the_waiting_answers_are_found_by_their_own_index(engine, db):
    """Every round asks for the waiting answers: by the partial index, not by reading every
    answer. A database uses a partial index only for the condition it was made with, so the
    condition SQLAlchemy writes for ``WAITING`` must be the index's, on each database."""
    table = SurveyResponse.__table__
    written = str(mixing.WAITING.compile(engine)).replace(f"{table.name}.", "")
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            kept = connection.execute(text(
                "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE c.relname = 'ix_survey_response_unmixed'")).scalar_one()
            assert kept.strip("()") == written == "NOT mixed"
        else:
            made = connection.execute(text(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_survey_response_unmixed'"
            )).scalar_one()
            assert made.endswith(f"WHERE {written}"), made
            count = select(func.count()).select_from(table).where(mixing.WAITING)
            plan = connection.execute(text("EXPLAIN QUERY PLAN " + str(count.compile(engine))))
            assert "ix_survey_response_unmixed" in " ".join(r[3] for r in plan)
