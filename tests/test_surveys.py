"""Satisfaction surveys: the questionnaire, opening and closing, codes, open links, paper,
anonymity, frozen versions, and what the survey gives the evaluation's result."""

from __future__ import annotations

import asyncio
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import event, inspect, text
from sqlmodel import Session, func, select

import scoring
from evalplatform.db import WriteGroups
from evalplatform.models import (
    AuditEntry,
    EvaluationStatus,
    Invitation,
    Questionnaire,
    SurveyResponse,
    ThrottleCounter,
)
from evalplatform.services import evaluation_inputs, evaluations
from evalplatform.services import surveys_app as app_service
from evalplatform.services.errors import Conflict, NotFound, Throttled, ValidationFailed
from surveys import invitations
from surveys import questionnaire as qn
from surveys.models import Channel, QuestionnaireStatus
from tests.builders import contracted_world, schedule
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey, form, window


@pytest.fixture
def world(db, make_user, make_org):
    return contracted_world(db, make_user, make_org)


def count(db, model, *where) -> int:
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def actions(db) -> list[str]:
    return list(db.exec(select(AuditEntry.action).where(AuditEntry.action.like("survey.%"))
                        .order_by(AuditEntry.seq)))


def codes(db, evaluation, n=3) -> list[str]:
    batch = app_service.issue_invitations(db, evaluation_principal(db, evaluation), evaluation.id,
                                          str(n), "一号楼")
    return [i.code for i in invitations.codes_of(db, batch.id)]


_PRINCIPALS: dict = {}


def evaluation_principal(db, evaluation):
    return _PRINCIPALS[evaluation.id]


@pytest.fixture
def survey_eval(db, world):
    evaluation = evaluation_with_survey(db, world)
    _PRINCIPALS[evaluation.id] = world.purchaser_principal
    return evaluation


# ---------------------------------------------------------------- questionnaire and opening


def test_the_street_cleaning_template_maps_its_scale_questions_to_the_schemes_survey_leaves(
        db, world):
    evaluation = evaluation_with_survey(db, world, opened=False)
    survey = app_service.survey_of(db, evaluation)
    doc = app_service.working(db, survey).document
    assert [(q["id"], q["leaf"]) for q in qn.scale_questions(doc)] == [
        ("Q1", "B1"), ("Q2", "B2"), ("Q3", "B2")]
    assert {q["type"] for q in qn.questions(doc)} == {"scale", "yes_no", "single", "multiple",
                                                       "text"}
    assert qn.problems(doc, app_service.leaves(db, evaluation)) == {}
    assert actions(db) == ["survey.create"]


def test_the_elderly_care_template_fits_the_elderly_care_scheme(db, make_user, make_org):
    world = contracted_world(db, make_user, make_org, template="居家养老")
    evaluation = evaluation_with_survey(db, world, template="elderly_care", opened=False)
    doc = app_service.working(db, app_service.survey_of(db, evaluation)).document
    leaf = app_service.leaves(db, evaluation)[0]
    assert [q["leaf"] for q in qn.scale_questions(doc)] == [leaf.id] * 3
    assert {q["type"] for q in qn.questions(doc)} == set(qn.TYPES)


def test_opening_with_an_unmapped_indicator_is_refused_naming_it_and_nothing_changes(db, world):
    evaluation = evaluation_with_survey(db, world, opened=False)
    app_service.edit(db, world.purchaser_principal, evaluation.id, "delete",
                     lambda doc, _l: qn.delete_question(doc, "Q1"))
    with pytest.raises(ValidationFailed) as caught:
        app_service.open_survey(db, world.purchaser_principal, evaluation.id)
    assert "B1" in caught.value.errors["leaf:B1"]
    db.refresh(evaluation)
    survey = app_service.survey_of(db, evaluation)
    assert survey.opened_at is None and evaluation.status == EvaluationStatus.draft
    assert "survey.open" not in actions(db)


def test_opening_starts_collection_and_is_audited(db, world, survey_eval):
    db.refresh(survey_eval)
    assert survey_eval.status == EvaluationStatus.collecting
    survey = app_service.survey_of(db, survey_eval)
    assert app_service.state(survey, survey_eval) == "open"
    assert app_service.current(db, survey).status == QuestionnaireStatus.current
    assert actions(db) == ["survey.create", "survey.open"]


def test_a_malformed_question_edit_is_refused_naming_the_field(db, world):
    evaluation = evaluation_with_survey(db, world, opened=False)
    values = {"label_zh": "", "label_en": "x", "leaf": "B1", "opt-0-name": "a", "opt-0-zh": "好",
              "opt-0-score": "120", "opt-0-satisfied": "1", "opt-1-name": "b", "opt-1-zh": "差",
              "opt-1-score": "0"}
    before = app_service.working(db, app_service.survey_of(db, evaluation)).document
    with pytest.raises(ValidationFailed) as caught:
        app_service.edit(db, world.purchaser_principal, evaluation.id, "question",
                         lambda doc, leaves: qn.update_question(doc, "Q1", values, leaves,
                                                                option_rows=4))
    assert set(caught.value.errors) == {"Q1.label", "Q1.options"}
    db.expire_all()
    assert app_service.working(db, app_service.survey_of(db, evaluation)).document == before


def test_a_purchaser_of_another_department_cannot_touch_the_survey(db, world, make_user,
                                                                   make_org, survey_eval):
    from tests.builders import PurchaserPrincipal

    other = make_user("purchaser")
    stranger = PurchaserPrincipal(evaluations.Actor(other.id, other.username), other.role,
                                  other.organisation_id)
    with pytest.raises(Exception) as caught:
        app_service.close_survey(db, stranger, survey_eval.id)
    assert caught.value.__class__.__name__ == "PermissionDenied"
    assert app_service.survey_of(db, survey_eval).closed_at is None


# ---------------------------------------------------------------- codes


def test_codes_are_short_unambiguous_unique_and_read_back_leniently(db, survey_eval):
    found = codes(db, survey_eval, 200)
    assert len(set(found)) == 200
    assert all(len(c) == 8 and set(c) <= set(invitations.ALPHABET) for c in found)
    assert not set("01OIL") & set("".join(found))
    code = found[0]
    typed = f" {code[:4].lower()}-{code[4:]} "
    assert invitations.normalise(typed) == code
    assert invitations.normalise("ABCD-EFG0") is None  # 0 is never in a code
    svg = invitations.qr_svg(f"https://example.org/s/{code}")
    assert svg.startswith("<svg") and "path" in svg
    # sized by the page's style, the drawing scales with it: a viewBox and no size of its own
    assert 'viewBox="0 0 ' in svg and not re.search(r"<svg[^>]* (width|height)=", svg)


def test_a_code_is_used_once_by_the_submission_and_the_second_is_refused_kindly(db, survey_eval):
    code = codes(db, survey_eval, 1)[0]
    found, invitation = app_service.target_for_code(db, code, "10.0.0.1")  # opening the link
    assert found.accepting and not invitation.used
    app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    with pytest.raises(Conflict) as caught:
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    assert "已经使用过" in caught.value.message
    assert count(db, SurveyResponse) == 1
    response = db.exec(select(SurveyResponse)).one()
    assert response.channel == Channel.closed
    assert response.answers == STREET_ANSWERS


def test_an_unanswered_required_question_is_named_and_nothing_is_stored(db, survey_eval):
    code = codes(db, survey_eval, 1)[0]
    answers = dict(STREET_ANSWERS)
    del answers["Q2"]
    answers["Q5"] = "midnight"
    with pytest.raises(ValidationFailed) as caught:
        app_service.submit_with_code(db, code, form(**answers), "10.0.0.1")
    assert set(caught.value.errors) == {"Q2", "Q5"}
    assert count(db, SurveyResponse) == 0
    assert not db.exec(select(Invitation)).one().used


def test_a_submission_reads_once_and_writes_once(db, engine, backend, survey_eval, monkeypatch):
    """The hot path: one SELECT (the frozen version's document comes from the process's
    cache after the first read) and one write, a single statement on PostgreSQL, where both
    run on the driver's own cursor with no transaction statements around them."""
    first, second, third = codes(db, survey_eval, 3)
    app_service.submit_with_code(db, first, form(**STREET_ANSWERS), "10.0.0.1")  # freezes v1
    app_service.submit_with_code(db, second, form(**STREET_ANSWERS), "10.0.0.1")  # caches it
    statements: list[str] = []
    in_transaction: list[bool] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement.split()[0].upper())

    with monkeypatch.context() as patch:
        if backend == "postgresql":  # what reaches the driver, whoever sends it
            import psycopg

            real_execute = psycopg.Cursor.execute

            def execute(cursor, query, *args, **kwargs):
                seen(None, cursor, str(query))
                in_transaction.append(not cursor.connection.autocommit)  # BEGIN … COMMIT?
                return real_execute(cursor, query, *args, **kwargs)

            patch.setattr(psycopg.Cursor, "execute", execute)
        else:
            event.listen(engine, "before_cursor_execute", seen)
        try:
            with Session(engine) as session:  # as the respondent's handler calls it
                app_service.submit_with_code(session, third,
                                             form(**{**STREET_ANSWERS, "Q1": "na"}), "10.0.0.1")
                with pytest.raises(Conflict):
                    app_service.submit_with_code(session, third, form(**STREET_ANSWERS),
                                                 "10.0.0.1")
        finally:
            if backend != "postgresql":
                event.remove(engine, "before_cursor_execute", seen)
    write = ["WITH"] if backend == "postgresql" else ["UPDATE", "INSERT"]
    assert statements == ["SELECT", *write, "SELECT"]  # the used code: one SELECT, refused
    assert not any(in_transaction)
    assert count(db, SurveyResponse) == 3
    assert count(db, Invitation, Invitation.used) == 3
    db.expire_all()
    assert sorted(r.answers["Q1"] for r in db.exec(select(SurveyResponse))) == [
        "na", "satisfied", "satisfied"]


class _Recorder:
    """The first word of each statement that reaches PostgreSQL's driver while ``on``."""

    def __init__(self, monkeypatch, backend):
        self.on, self.sent = False, []
        if backend == "postgresql":
            import psycopg

            real_execute = psycopg.Cursor.execute

            def execute(cursor, query, *args, **kwargs):
                if self.on:
                    self.sent.append(str(query).split()[0].upper())
                return real_execute(cursor, query, *args, **kwargs)

            monkeypatch.setattr(psycopg.Cursor, "execute", execute)


def _in_a_loop(coroutine):
    """Run ``coroutine`` in an event loop of its own thread (the suite's main thread may
    already run a loop)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def _submitted(engine, code, answers, address, grouped: bool) -> None:
    """A submission made as the respondent's handler makes it: ``grouped``, first as a row
    of a grouped write (``stored_together``), then, if that stored nothing, by
    ``submit_with_code`` without its one-statement attempt; else ``submit_with_code``."""
    if grouped:
        with ThreadPoolExecutor(2) as threads:
            groups = WriteGroups(lambda: threads)
            if _in_a_loop(app_service.stored_together(groups, engine, code, form(**answers),
                                                      address)):
                return
        with Session(engine) as session:
            app_service.submit_with_code(session, code, form(**answers), address,
                                         checked_in_one=False)
        return
    with Session(engine) as session:
        app_service.submit_with_code(session, code, form(**answers), address)


def _outcome(db, code, answers, address="10.0.0.1", recorder: _Recorder | None = None,
             grouped: bool = False):
    """What a submission gives, made as the respondent's handler makes it (a session of its
    own; ``grouped``: see :func:`_submitted`): ("stored", the versions answered) or (error
    class, message, fields named); the ``recorder`` records the submission's statements."""
    db.commit()
    before = count(db, SurveyResponse)
    try:
        if recorder is not None:
            recorder.on = True
        _submitted(db.get_bind(), code, answers, address, grouped)
    except (Conflict, Throttled, ValidationFailed, NotFound) as exc:
        if recorder is not None:
            recorder.on = False
        db.rollback()
        assert count(db, SurveyResponse) == before  # a refusal stores nothing
        return type(exc).__name__, exc.message, sorted(getattr(exc, "errors", {}) or {})
    if recorder is not None:
        recorder.on = False
    db.expire_all()
    newest = set(db.exec(select(SurveyResponse.questionnaire_id)).all())
    assert count(db, SurveyResponse) == before + 1
    return "stored", sorted(newest)


def _after_the_window(db, evaluation, monkeypatch):
    after = evaluations.as_utc(evaluation.closes_at) + evaluations.timedelta(minutes=1)
    monkeypatch.setattr(evaluations, "now", lambda: after)
    monkeypatch.setattr(app_service, "now", lambda: after)


def _before_the_window(db, evaluation, monkeypatch):
    before = evaluations.as_utc(evaluation.opens_at) - evaluations.timedelta(minutes=1)
    monkeypatch.setattr(evaluations, "now", lambda: before)
    monkeypatch.setattr(app_service, "now", lambda: before)


def _locked_out(db, _evaluation, _monkeypatch):
    for _ in range(app_service.CODE_FAILURES):
        with pytest.raises(NotFound):
            app_service.target_for_code(db, "ABCD-EFGH", "10.0.0.1")


def _not_collecting(db, evaluation, _monkeypatch):
    evaluation.status = EvaluationStatus.scoring
    db.add(evaluation)
    db.commit()


def _closed_early(db, evaluation, _monkeypatch):
    app_service.close_survey(db, _PRINCIPALS[evaluation.id], evaluation.id)


def _stale_cache(_db, _evaluation, _monkeypatch):
    from surveys import responses

    for key, (created_at, document) in list(responses._FROZEN_DOCUMENTS.items()):
        responses._FROZEN_DOCUMENTS[key] = (created_at - evaluations.timedelta(days=1), document)


@pytest.mark.parametrize("situation, answers, expected", [
    (None, STREET_ANSWERS, "stored"),
    (_closed_early, STREET_ANSWERS, "Conflict"),
    (_after_the_window, STREET_ANSWERS, "Conflict"),
    (_before_the_window, STREET_ANSWERS, "Conflict"),
    (_not_collecting, STREET_ANSWERS, "Conflict"),
    (_locked_out, STREET_ANSWERS, "Throttled"),
    (_stale_cache, STREET_ANSWERS, "stored"),
    (None, {**STREET_ANSWERS, "Q2": "", "Q5": "midnight"}, "ValidationFailed"),
], ids=["open", "closed-early", "after-the-window", "before-the-window", "not-collecting",
        "locked-out",
        "stale-cache", "invalid-answers"])
@pytest.mark.parametrize("grouped", [False, True], ids=["alone", "grouped"])
def test_a_form_naming_its_version_is_stored_in_one_statement_or_told_the_same_as_without(
        db, backend, survey_eval, monkeypatch, situation, answers, expected, grouped):
    """The respondent's page names the version it shows (``version_id``). On PostgreSQL a
    form whose version this process has cached is checked and stored in one statement —
    alone, or as a row of a grouped write (``stored_together``, what the respondent's
    handler does); the statement writes nothing unless the survey takes answers now, so
    every other case ends exactly as a form without ``version_id`` does (same refusal, same
    message, nothing stored, the code unused)."""
    first, second, with_version, without_version = codes(db, survey_eval, 4)
    app_service.submit_with_code(db, first, form(**STREET_ANSWERS), "10.0.0.2")  # freezes v1
    app_service.submit_with_code(db, second, form(**STREET_ANSWERS), "10.0.0.2")  # caches it
    version = app_service.current(db, app_service.survey_of(db, survey_eval)).id
    if situation is not None:
        situation(db, survey_eval, monkeypatch)
    recorder = _Recorder(monkeypatch, backend)
    named = _outcome(db, with_version, {**answers, "version_id": str(version)}, recorder=recorder,
                     grouped=grouped)
    if expected == "stored" and situation is None and backend == "postgresql":
        assert recorder.sent == ["WITH"]  # checked and stored in one statement
    plain = _outcome(db, without_version, answers)
    assert named[0] == expected
    assert named == plain
    db.expire_all()
    used = {i.code: i.used for i in db.exec(select(Invitation))}
    assert used[with_version] is used[without_version] is (expected == "stored")


def test_one_grouped_write_stores_each_form_that_passes_its_checks_and_nothing_else(
        db, backend, survey_eval):
    """A grouped write (PostgreSQL) takes the forms of several respondents in one
    statement: each fresh code's answers are stored, once, as the same JSON text as a form
    stored alone; a code sent twice in the write counts once (its first form), and a used
    code, an unknown code and a locked-out address store nothing and leave their codes as
    they were. The other forms of the write are not held back by them."""
    if backend != "postgresql":
        pytest.skip("grouped writes are PostgreSQL's (SQLite takes the forms one by one)")
    warm, alone, a, b, used, locked = codes(db, survey_eval, 6)
    app_service.submit_with_code(db, warm, form(**STREET_ANSWERS), "10.0.0.2")  # freezes v1
    app_service.submit_with_code(db, alone, form(**STREET_ANSWERS), "10.0.0.2")  # caches it
    app_service.submit_with_code(db, used, form(**STREET_ANSWERS), "10.0.0.2")
    for _ in range(app_service.CODE_FAILURES):  # locks 10.0.0.9 out
        with pytest.raises(NotFound):
            app_service.target_for_code(db, "ABCD-EFGH", "10.0.0.9")
    db.commit()
    version = app_service.current(db, app_service.survey_of(db, survey_eval))
    engine = db.get_bind()
    answers = json.dumps({"Q1": "satisfied", "Q2": "fairly_satisfied", "Q3": "neutral",
                          "Q4": "no", "Q5": "morning"})
    key = app_service.address_key("code", "10.0.0.1", "all")
    rows = [(a, "a" * 32, answers, key), (b, "b" * 32, answers, key),
            (a, "c" * 32, answers, key), (used, "d" * 32, answers, key),
            ("ZZZZ-ZZZZ", "e" * 32, answers, key),
            (locked, "f" * 32, answers, app_service.address_key("code", "10.0.0.9", "all"))]
    stored = app_service._write_grouped(engine, version.id, version.created_at, Channel.closed,
                                        rows)
    assert stored == [True, True, False, False, False, False]
    db.expire_all()
    used_now = {i.code: i.used for i in db.exec(select(Invitation))}
    assert used_now == {warm: True, alone: True, a: True, b: True, used: True, locked: False}
    texts = dict(db.connection().execute(text(
        "SELECT id, answers::text FROM survey_response")).all())
    assert len(texts) == 5 and {"a" * 32, "b" * 32} <= set(texts)
    assert texts["a" * 32] == texts["b" * 32] == next(
        t for i, t in texts.items() if i not in ("a" * 32, "b" * 32))  # as stored alone
    assert {r.answered_on for r in db.exec(select(SurveyResponse))} == {app_service.local_day()}


def test_forms_sent_at_the_same_moment_share_writes_and_each_is_stored_once(db, backend,
                                                                             survey_eval):
    """Many respondents at once (the handler's ``stored_together``): the forms that queue
    while a write is in flight go together in the next one, so there are fewer writes than
    forms; every form of a fresh code is stored once, and a code sent twice is stored once
    and then refused as used, with the same message as always."""
    fresh = codes(db, survey_eval, 42)
    warm, rest = fresh[:2], fresh[2:]
    for code in warm:  # freezes and caches the version
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.2")
    version = str(app_service.current(db, app_service.survey_of(db, survey_eval)).id)
    db.commit()
    engine = db.get_bind()
    sent = rest + rest[:5]  # five codes twice

    async def everyone(groups):
        async def one(code):
            try:
                if await app_service.stored_together(
                        groups, engine, code, form(**STREET_ANSWERS, version_id=version),
                        "10.0.0.1"):
                    return "stored"
                await asyncio.to_thread(_submitted, engine, code,
                                        {**STREET_ANSWERS, "version_id": version},
                                        "10.0.0.1", False)
                return "stored"
            except Conflict as exc:
                return exc.message
        return await asyncio.gather(*(one(code) for code in sent))

    with ThreadPoolExecutor(4) as threads:
        groups = WriteGroups(lambda: threads)
        outcomes = _in_a_loop(everyone(groups))
    assert outcomes.count("stored") == len(rest)
    assert set(outcomes) - {"stored"} == {app_service._used().message}
    db.expire_all()
    assert count(db, SurveyResponse) == len(fresh)
    assert all(db.exec(select(Invitation.used)).all())
    if backend == "postgresql":
        assert groups.rows == len(sent) and groups.writes < len(sent) // 2
    else:
        assert groups.writes == 0  # SQLite: each form by itself


def test_a_form_with_a_malformed_or_foreign_version_id_is_stored_all_the_same(
        db, survey_eval, make_user, make_org):
    """``version_id`` comes from the respondent's browser: whatever it says, it only picks a
    cached document to check against first; the answers are stored once, for the current
    version of the code's own survey."""
    elsewhere = contracted_world(db, make_user, make_org, n=2)
    other = evaluation_with_survey(db, elsewhere)  # another department's survey
    _PRINCIPALS[other.id] = elsewhere.purchaser_principal
    warm = codes(db, other, 2) + codes(db, survey_eval, 2)
    for code in warm:  # both versions frozen and cached
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.2")
    foreign = app_service.current(db, app_service.survey_of(db, other)).id
    own = app_service.current(db, app_service.survey_of(db, survey_eval)).id
    junk = ["abc", "-1", "9" * 5000, "١٢", "", str(foreign)]
    for value, code in zip(junk, codes(db, survey_eval, len(junk)), strict=True):
        assert _outcome(db, code, {**STREET_ANSWERS, "version_id": value}) == (
            "stored", sorted({foreign, own}))
    db.expire_all()
    mine = db.exec(select(func.count()).select_from(SurveyResponse).where(
        SurveyResponse.questionnaire_id == own)).one()
    assert mine == 2 + len(junk)


def test_a_form_naming_a_retired_version_is_checked_against_the_current_one(db, world,
                                                                           survey_eval):
    """A page opened before a new version was published still sends the old version's id:
    its answers are checked against, and stored for, the current version."""
    code, late = codes(db, survey_eval, 2)
    app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    old = app_service.current(db, app_service.survey_of(db, survey_eval)).id
    app_service.new_version(db, world.purchaser_principal, survey_eval.id)
    app_service.edit(db, world.purchaser_principal, survey_eval.id, "delete",
                     lambda doc, _l: qn.delete_question(doc, "Q7"))
    app_service.publish(db, world.purchaser_principal, survey_eval.id)
    new = app_service.current(db, app_service.survey_of(db, survey_eval)).id
    app_service.submit_with_code(db, late, form(**STREET_ANSWERS, version_id=str(old)),
                                 "10.0.0.1")
    stored = sorted(db.exec(select(SurveyResponse.questionnaire_id)).all())
    assert stored == sorted([old, new])


def test_not_applicable_satisfies_a_required_scale_question(db, survey_eval):
    code = codes(db, survey_eval, 1)[0]
    app_service.submit_with_code(db, code, form(**{**STREET_ANSWERS, "Q2": "na"}), "10.0.0.1")
    assert count(db, SurveyResponse) == 1


def test_wrong_codes_are_rate_limited_per_address(db, survey_eval):
    for _ in range(app_service.CODE_FAILURES):
        with pytest.raises(NotFound):
            app_service.target_for_code(db, "ABCD-EFGH", "10.9.9.9")
    with pytest.raises(Throttled):
        app_service.target_for_code(db, "ABCD-EFGH", "10.9.9.9")
    real = codes(db, survey_eval, 1)[0]
    with pytest.raises(Throttled):  # locked out: even a right code says nothing now
        app_service.target_for_code(db, real, "10.9.9.9")
    app_service.target_for_code(db, real, "10.9.9.8")  # another address is not affected


def test_the_stored_data_cannot_join_an_answer_to_its_code(db, engine, survey_eval):
    """Every column of every survey table, read raw: the response row holds nothing of its
    invitation (no id, no code, no time), and the invitation holds only ``used``. (What the
    database keeps beside the columns, the writing transaction and the row's place, is
    unlinked by mixing: tests/test_surveys_mixing.py.)"""
    used_codes = codes(db, survey_eval, 3)
    for code, q1 in zip(used_codes[:2], ["satisfied", "dissatisfied"], strict=True):
        app_service.submit_with_code(db, code, form(**{**STREET_ANSWERS, "Q1": q1}), "10.0.0.7")
    columns = {c["name"] for c in inspect(engine).get_columns("survey_response")}
    assert columns == {"id", "survey_id", "questionnaire_id", "channel", "site_id", "answered_on",
                       "answers", "submission_key", "mixed"}
    assert {c["name"] for c in inspect(engine).get_columns("invitation")} == {
        "id", "survey_id", "batch_id", "code", "used"}
    with engine.connect() as connection:
        invitation_rows = [dict(r._mapping) for r in connection.execute(text(
            "SELECT * FROM invitation"))]
        response_rows = [dict(r._mapping) for r in connection.execute(text(
            "SELECT * FROM survey_response"))]
    assert len(response_rows) == 2
    invitation_values = {str(v) for row in invitation_rows for k, v in row.items()
                         if k not in ("survey_id", "used")}
    for row in response_rows:
        assert len(row["id"]) == 32 and not row["id"].isdigit()  # random, says no order
        assert row["submission_key"] is None
        assert "T" not in str(row["answered_on"]) and ":" not in str(row["answered_on"])  # a day
        flat = json.dumps(row, default=str)
        assert not any(value in flat for value in invitation_values if len(value) > 2)
    # the two used invitations and the unused one differ only in ``used``: nothing orders them
    assert sorted(r["used"] in (True, 1) for r in invitation_rows) == [False, True, True]
    assert not any("answer" in k or "_at" in k for k in invitation_rows[0])


# ---------------------------------------------------------------- the schedule


def test_a_survey_before_its_window_says_when_it_opens(db, world):
    evaluation = evaluation_with_survey(db, world, when=window(-5, 20))
    survey = app_service.survey_of(db, evaluation)
    assert app_service.state(survey, evaluation) == "scheduled"
    code = codes_for(db, world, evaluation)[0]
    with pytest.raises(Conflict) as caught:
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    assert "尚未开始" in caught.value.message
    assert count(db, SurveyResponse) == 0


def codes_for(db, world, evaluation, n=1):
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, str(n), "")
    return [i.code for i in invitations.codes_of(db, batch.id)]


def test_the_end_of_the_window_closes_the_survey_politely_and_audits_its_counts(
        db, world, survey_eval, monkeypatch):
    code, late = codes(db, survey_eval, 2)
    app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    after = evaluations.as_utc(survey_eval.closes_at) + evaluations.timedelta(minutes=1)
    monkeypatch.setattr(evaluations, "now", lambda: after)
    monkeypatch.setattr(app_service, "now", lambda: after)
    with pytest.raises(Conflict) as caught:
        app_service.submit_with_code(db, late, form(**STREET_ANSWERS), "10.0.0.1")
    assert "已经结束" in caught.value.message and "感谢" in caught.value.message
    survey = app_service.survey_of(db, survey_eval)
    assert survey.close_reason == "schedule"
    assert evaluations.as_utc(survey.closed_at) == evaluations.as_utc(survey_eval.closes_at)
    entry = db.exec(select(AuditEntry).where(AuditEntry.action == "survey.close")).one()
    change = json.loads(entry.change)
    assert (change["total"], change["closed"], change["issued"], change["used"]) == (1, 1, 2, 1)
    assert count(db, SurveyResponse) == 1


def test_the_organiser_closes_early_and_the_counts_are_audited(db, world, survey_eval):
    app_service.close_survey(db, world.purchaser_principal, survey_eval.id)
    survey = app_service.survey_of(db, survey_eval)
    assert app_service.state(survey, survey_eval) == "closed"
    with pytest.raises(Conflict):
        app_service.close_survey(db, world.purchaser_principal, survey_eval.id)
    assert actions(db)[-1] == "survey.close"


# ---------------------------------------------------------------- open links and paper


def test_an_open_link_limits_each_device_and_ignores_the_honeypot(db, world, survey_eval):
    site = app_service.add_site(db, world.purchaser_principal, survey_eval.id, "幸福社区服务站", "1")
    key = "a" * 32
    submit = lambda **kw: app_service.submit_open(  # noqa: E731
        db, site.token, form(**STREET_ANSWERS), address="10.1.1.1",
        **{"device": "d" * 32, "submission_key": key, **kw})
    assert submit() == "stored"
    assert submit() == "duplicate"  # the same form again: a double tap or a retry
    with pytest.raises(Conflict) as caught:
        submit(submission_key="b" * 32)  # a second questionnaire from the same phone
    assert "已在本服务点填写过" in caught.value.message
    assert submit(device="e" * 32, submission_key="c" * 32, honeypot="http://spam") == "ignored"
    assert submit(device="e" * 32, submission_key="c" * 32) == "stored"
    assert count(db, SurveyResponse) == 2
    stored = db.exec(select(SurveyResponse)).all()
    assert {r.channel for r in stored} == {Channel.open} and {r.site_id for r in stored} == {site.id}
    keys = [k for k in db.exec(select(ThrottleCounter.key))]
    assert not any("10.1.1.1" in k or "d" * 32 in k for k in keys)  # hashed, never in clear


def test_an_open_link_limits_each_address_per_hour(db, world, survey_eval, monkeypatch):
    monkeypatch.setattr(app_service, "ADDRESS_LIMIT", 3)
    site = app_service.add_site(db, world.purchaser_principal, survey_eval.id, "服务站", "5")
    for i in range(3):
        assert app_service.submit_open(db, site.token, form(**STREET_ANSWERS), address="10.2.2.2",
                                       device=f"{i:032x}", submission_key=f"{i + 100:032x}") == "stored"
    with pytest.raises(Throttled):
        app_service.submit_open(db, site.token, form(**STREET_ANSWERS), address="10.2.2.2",
                                device="f" * 32, submission_key="9" * 32)
    assert count(db, SurveyResponse) == 3


def test_a_stopped_site_takes_no_answers(db, world, survey_eval):
    site = app_service.add_site(db, world.purchaser_principal, survey_eval.id, "服务站", "1")
    app_service.set_site_active(db, world.purchaser_principal, survey_eval.id, site.id, False)
    with pytest.raises(Conflict):
        app_service.submit_open(db, site.token, form(**STREET_ANSWERS), address="10.0.0.1",
                                device=None, submission_key="")


def test_staff_enter_a_paper_questionnaire_against_its_code(db, world, survey_eval):
    code = codes(db, survey_eval, 1)[0]
    with pytest.raises(ValidationFailed) as caught:
        app_service.enter_paper(db, world.purchaser_principal, survey_eval.id, "ZZZZ-ZZZZ",
                                form(**STREET_ANSWERS))
    assert "code" in caught.value.errors
    app_service.enter_paper(db, world.purchaser_principal, survey_eval.id, code.lower(),
                            form(**STREET_ANSWERS))
    response = db.exec(select(SurveyResponse)).one()
    assert response.channel == Channel.paper
    with pytest.raises(ValidationFailed):
        app_service.enter_paper(db, world.purchaser_principal, survey_eval.id, code,
                                form(**STREET_ANSWERS))
    assert count(db, SurveyResponse) == 1


# ---------------------------------------------------------------- versions


def test_a_version_with_answers_is_frozen_and_a_new_version_keeps_scored_questions(db, world,
                                                                                   survey_eval):
    code, second = codes(db, survey_eval, 2)
    app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    survey = app_service.survey_of(db, survey_eval)
    assert app_service.current(db, survey).frozen
    with pytest.raises(Conflict) as caught:
        app_service.edit(db, world.purchaser_principal, survey_eval.id, "delete",
                         lambda doc, _l: qn.delete_question(doc, "Q7"))
    assert "冻结" in caught.value.message
    draft = app_service.new_version(db, world.purchaser_principal, survey_eval.id)
    assert draft.version == 2 and draft.status == QuestionnaireStatus.draft
    app_service.edit(db, world.purchaser_principal, survey_eval.id, "scale",
                     lambda doc, _l: qn.apply_scale(doc, "Q2", "scale5"))
    with pytest.raises(ValidationFailed) as refused:
        app_service.publish(db, world.purchaser_principal, survey_eval.id)
    assert "Q2.options" in refused.value.errors
    app_service.edit(db, world.purchaser_principal, survey_eval.id, "scale",
                     lambda doc, _l: qn.apply_scale(doc, "Q2", "scale4"))
    app_service.edit(db, world.purchaser_principal, survey_eval.id, "delete",
                     lambda doc, _l: qn.delete_question(doc, "Q7"))
    app_service.publish(db, world.purchaser_principal, survey_eval.id)
    statuses = [(q.version, q.status, q.frozen) for q in app_service.versions(db, survey)]
    assert statuses == [(1, QuestionnaireStatus.retired, True),
                        (2, QuestionnaireStatus.current, False)]
    app_service.submit_with_code(db, second, form(**STREET_ANSWERS), "10.0.0.1")
    assert count(db, Questionnaire, Questionnaire.frozen) == 2


# ---------------------------------------------------------------- the evaluation's result


def test_the_collector_gives_scoring_the_answers_and_scores_the_survey_leaves(db, world,
                                                                             survey_eval):
    """Four responses, scored by scoring.evaluate from the package the registry builds;
    B1 (satisfaction rate, 60 points, target 90 %) and B2 (mean, 40 points) by hand."""
    given = [("satisfied", "satisfied", "fairly_satisfied"),
             ("fairly_satisfied", "neutral", "dissatisfied"),
             ("dissatisfied", "na", "satisfied"),
             ("satisfied", "fairly_satisfied", "na")]
    for code, (q1, q2, q3) in zip(codes(db, survey_eval, 4), given, strict=True):
        app_service.submit_with_code(db, code, form(**{**STREET_ANSWERS, "Q1": q1, "Q2": q2,
                                                       "Q3": q3}), "10.0.0.1")
    app_service.set_population(db, world.purchaser_principal, survey_eval.id, "1,200")
    contributions = evaluation_inputs.collect(db, survey_eval)
    survey_part = next(c for c in contributions if c.source == "survey")
    assert survey_part.population == 1200
    assert survey_part.rules["B1"] == {
        "questions": ["Q1"], "scale": {"满意": 100, "较满意": 80, "一般": 60, "不满意": 0,
                                       "不了解/不适用": None}, "satisfied": ["满意", "较满意"]}
    assert {"Q1": "不满意", "Q2": "不了解/不适用", "Q3": "满意"} in survey_part.responses
    assert len(survey_part.responses) == 4
    package = evaluation_inputs.build_package(evaluations.scheme_document(db, survey_eval),
                                              contributions)
    result = scoring.evaluate(package)
    # B1: 3 of 4 answers satisfied or better → 75 %; 60 × min(75 / 90, 1) = 50
    assert result.nodes["B1"].score == pytest.approx(60 * 0.75 / 0.90)
    assert result.nodes["B1"].n == 4 and result.nodes["B1"].hits == 3
    # B2: Q2 100, 60, 80 and Q3 80, 0, 100 (不了解 left out) → mean 70 → 40 × 0.70 = 28
    assert result.nodes["B2"].score == pytest.approx(28.0)
    assert result.nodes["B2"].n == 6
    assert result.quality.population == 1200
    # margin of error of B1: 1.96 × √(.75 × .25 / 4) × √((1200 − 4) / 1199)
    z = 1.959963984540054
    expected = z * math.sqrt(0.75 * 0.25 / 4) * math.sqrt((1200 - 4) / (1200 - 1))
    assert result.quality.rates[0].margin == pytest.approx(expected)
    assert any("4" in note for note in survey_part.notes)


def test_no_survey_contributes_nothing(db, world):
    evaluation = schedule(db, world, **window())
    assert [c for c in evaluation_inputs.collect(db, evaluation) if c.source == "survey"] == []


@pytest.mark.parametrize("typed", ["²", "٣", "0" * 5000, "11", "-1", "3.5"])
def test_a_rating_that_is_no_number_from_0_to_10_is_named_not_a_server_error(typed):
    """"²" and "٣" are digits to str.isdigit but not to int, and thousands of digits are more
    than int reads: each was a 500 on the public answer form; now the question is named."""
    from surveys.responses import InvalidInput, parse_answers

    doc = {"questions": [{"id": "Q1", "type": "rating", "text": "推荐程度", "required": True}]}
    with pytest.raises(InvalidInput) as refused:
        parse_answers(doc, lambda name: [typed] if name == "Q1" else [])
    assert set(refused.value.errors) == {"Q1"}
    assert parse_answers(doc, lambda name: ["10"] if name == "Q1" else [])["Q1"] == 10


@pytest.mark.parametrize("typed", ["²", "0" * 5000])
def test_counts_typed_with_other_digits_are_refused_naming_the_field(db, world, survey_eval,
                                                                      typed):
    organiser = world.purchaser_principal
    with pytest.raises(ValidationFailed) as refused:
        app_service.set_population(db, organiser, survey_eval.id, typed)
    assert set(refused.value.errors) == {"population"}
    with pytest.raises(ValidationFailed):
        app_service.issue_invitations(db, organiser, survey_eval.id, typed, "入户")


def test_a_count_typed_with_a_chinese_input_methods_full_width_digits_is_read(db, world,
                                                                              survey_eval):
    """１２ from a Chinese input method is 12, not a refusal (the organiser sees no difference
    on the screen)."""
    batch = app_service.issue_invitations(db, world.purchaser_principal, survey_eval.id, "１２",
                                          "入户")
    assert batch.size == 12


def test_the_number_served_cannot_be_fewer_than_the_answers_received(db, world, survey_eval):
    """100 typed for 1,000 after 2 answers came in is refused, naming the count; answers that
    arrive after a number was set and outnumber it are flagged on the results instead of
    reading as a sufficient sample."""
    organiser = world.purchaser_principal
    batch = app_service.issue_invitations(db, organiser, survey_eval.id, "3", "")
    codes = [i.code for i in invitations.codes_of(db, batch.id)]
    app_service.set_population(db, organiser, survey_eval.id, "2")
    for code in codes[:2]:
        app_service.submit_with_code(db, code, form(**STREET_ANSWERS), "10.0.0.1")
    with pytest.raises(ValidationFailed) as refused:
        app_service.set_population(db, organiser, survey_eval.id, "1")
    assert refused.value.errors == {"population": "已收到 2 份答卷：服务对象总数不能少于此数。"}
    assert app_service.survey_of(db, survey_eval).population == 2  # nothing changed
    app_service.submit_with_code(db, codes[2], form(**STREET_ANSWERS), "10.0.0.1")
    tab = app_service.tabulate(db, survey_eval, "zh-CN")
    assert any("服务对象总数为 2，却已收到 3 份答卷" in w for w in tab.warnings)
    app_service.set_population(db, organiser, survey_eval.id, "3")  # as many as answered: fine
    assert not any("服务对象总数为" in w for w in app_service.tabulate(db, survey_eval,
                                                                   "zh-CN").warnings)


def test_a_service_counter_tablet_may_take_hundreds_of_answers_but_not_more(db, world,
                                                                          survey_eval):
    organiser = world.purchaser_principal
    site = app_service.add_site(db, organiser, survey_eval.id, "民政服务大厅平板", "500")
    assert site.device_limit == 500
    with pytest.raises(ValidationFailed) as refused:
        app_service.add_site(db, organiser, survey_eval.id, "另一台", "501")
    assert refused.value.errors == {"device_limit": "每部手机可答次数须为 1 到 500 之间的整数。"}


def test_a_code_typed_out_of_shape_is_a_typo_and_counts_no_guess(db, survey_eval):
    """Codes mistyped out of shape (too short, a letter the codes never use) say so and do
    not count against the address; a community's shared connection is not locked out by a
    few residents' typos."""
    from evalplatform.models import ThrottleCounter

    for typed in ("ABC", "ABCD-EFG", "ABCD-EFGI", "ABCD-EFG0"):
        with pytest.raises(NotFound):
            app_service.target_for_code(db, typed, "10.8.8.8")
    assert db.exec(select(ThrottleCounter)).all() == []
    with pytest.raises(NotFound):  # well-formed but unknown: a guess, counted
        app_service.target_for_code(db, "ABCD-EFGH", "10.8.8.8")
    assert [c.count for c in db.exec(select(ThrottleCounter)).all()] == [1]
