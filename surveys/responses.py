"""Answers (答卷): reading a submitted form, and storing it once, anonymously.

:func:`parse_answers` turns the respondent's form into ``{question id: value}`` (an option
name, a list of names, a number 0–10 or a text) and refuses a form that leaves a required
question open or names an option that does not exist, naming each question. The store
functions flush and leave the commit to the caller, so that a code's use, a response and
any counters commit together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Integer, String, Text, any_, bindparam, cast, column, exists, insert, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Session, col, func, select

from surveys import invitations
from surveys.errors import CodeUsed, DuplicateSubmission, InvalidInput
from surveys.i18n import _
from surveys.models import Channel, Invitation, Questionnaire, SurveyResponse
from surveys.questionnaire import MAX_TEXT_ANSWER, RATING_RANGE, options, questions

GetList = Callable[[str], list[str]]
#: Runs a write statement with its values and gives the number of rows it wrote: an
#: SQLAlchemy connection's ``execute`` or, on a hot path, the driver's own cursor.
Write = Callable[[Any, dict], int]


#: Control characters a person does not type (NUL, which PostgreSQL's text refuses; others that
#: an Excel export refuses), dropped from answers; tab and line breaks stay.
_UNTYPED = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))


def _printable(value) -> str:
    return str(value).translate(_UNTYPED).strip()


def parse_answers(doc: dict, getlist: GetList) -> dict:
    """The answers in a form (``getlist(name)`` gives a field's values); InvalidInput names
    every question that is required and unanswered or answered with something unknown."""
    answers: dict = {}
    errors: dict[str, str] = {}
    for q in questions(doc):
        qid, kind = q["id"], q["type"]
        raw = [text for text in (_printable(v) for v in getlist(qid)) if text]
        names = {o["name"] for o in options(q)}
        if kind == "multiple":
            if any(v not in names for v in raw):
                errors[qid] = _("Choose among the options shown.")
            elif raw:
                answers[qid] = [o["name"] for o in options(q) if o["name"] in raw]
        elif kind == "text":
            value = " ".join(raw)
            if len(value) > MAX_TEXT_ANSWER:
                errors[qid] = _("Please write at most %(n)s characters.", n=MAX_TEXT_ANSWER)
            elif value:
                answers[qid] = value
        elif len(set(raw)) > 1:  # one answer to a one-answer question, never the last of two
            errors[qid] = _("Choose one option only.")
        elif raw:
            value = raw[-1]
            if kind == "rating":
                if not (value.isascii() and value.isdigit() and len(value) <= 2) \
                        or int(value) not in RATING_RANGE:
                    errors[qid] = _("Choose a number from 0 to 10.")
                else:
                    answers[qid] = int(value)
            elif value not in names:
                errors[qid] = _("Choose one of the options shown.")
            else:
                answers[qid] = value
        if qid not in answers and qid not in errors and q.get("required"):
            errors[qid] = _("Please answer this question.")
    if errors:
        raise InvalidInput(errors)
    return answers


def new_response_id() -> str:
    """A random id: the order of ids says nothing about the order of answers."""
    return secrets.token_hex(16)


def freeze(session: Session, questionnaire_id: int) -> None:
    """The first answer freezes its questionnaire version (a no-op after that)."""
    session.connection().execute(update(Questionnaire)
                                 .where(Questionnaire.id == questionnaire_id,
                                        col(Questionnaire.frozen).is_(False))
                                 .values(frozen=True))


def submitted(session: Session, submission_key: str) -> bool:
    """Whether a form with this submission key was stored already."""
    return session.exec(select(func.count()).select_from(SurveyResponse)
                        .where(SurveyResponse.submission_key == submission_key)).one() > 0


def record(session: Session, *, survey_id: int, questionnaire_id: int, channel: Channel,
           answers: dict, day: date, site_id: int | None = None,
           submission_key: str | None = None, frozen: bool = False) -> str:
    """Store one response and return its id (one INSERT, no ORM object: this is the hot
    path). With a ``submission_key`` seen before, nothing is stored and
    :class:`DuplicateSubmission` is raised; a race between two equal keys ends in the
    database's unique constraint, which the caller treats the same way. ``frozen`` says the
    questionnaire version is known to be frozen already (skips the freezing UPDATE)."""
    if submission_key is not None and submitted(session, submission_key):
        raise DuplicateSubmission(_("Your answers were already received. Thank you!"))
    response_id = new_response_id()
    session.connection().execute(insert(SurveyResponse).values(
        id=response_id, survey_id=survey_id, questionnaire_id=questionnaire_id,
        channel=Channel(channel), site_id=site_id, answered_on=day, answers=answers,
        submission_key=submission_key))
    if not frozen:
        freeze(session, questionnaire_id)
    return response_id


def _use_and_record(invitation, *, freeze: bool):
    """The write of :func:`use_and_record`, for the invitation that the SQL expression
    ``invitation`` names (a bound id, or a caller's subquery that gives an id or NULL)."""
    table = SurveyResponse.__table__
    used = (update(Invitation)
            .where(Invitation.id == invitation, col(Invitation.used).is_(False))
            .values(used=True).returning(Invitation.survey_id).cte("used_code"))
    statement = insert(SurveyResponse).from_select(
        ["id", "survey_id", "questionnaire_id", "channel", "answered_on", "answers"],
        select(bindparam("response", type_=table.c.id.type), used.c.survey_id,
               bindparam("questionnaire", type_=table.c.questionnaire_id.type),
               bindparam("channel", type_=table.c.channel.type),
               bindparam("day", type_=table.c.answered_on.type),
               bindparam("answers", type_=table.c.answers.type)).select_from(used))
    if freeze:
        statement = statement.add_cte(
            update(Questionnaire)
            .where(Questionnaire.id == bindparam("questionnaire"),
                   col(Questionnaire.frozen).is_(False), exists(select(used.c.survey_id)))
            .values(frozen=True).cte("frozen_version"))
    return statement.execution_options(preserve_rowcount=True)


@cache
def use_and_record(*, freeze: bool):
    """PostgreSQL: use the code, store the answer and (``freeze``) freeze the version in one
    statement; built once, so that a submission compiles nothing (rowcount 0: code used)."""
    return _use_and_record(bindparam("invitation"), freeze=freeze)


def use_and_record_checked(invitation):
    """The same write for a version known to be frozen, for the invitation that the scalar
    subquery ``invitation`` gives: a caller folds its own checks into that subquery (NULL
    when one fails), so that checking and writing are one statement (rowcount 0: nothing
    written, the code unused). Build it once (e.g. in a ``functools.cache`` function)."""
    return _use_and_record(invitation, freeze=False)


def submitted_rows():
    """PostgreSQL: the rows of a grouped submission (:func:`use_and_record_many`), a table
    made from four array parameters of equal length — ``codes`` (the normalised codes),
    ``responses`` (the new responses' ids), ``answers`` (their answers as JSON text) and
    ``keys`` (the throttle keys of their addresses) — with ``n``, each row's place."""
    return func.unnest(
        bindparam("codes", type_=ARRAY(String)), bindparam("responses", type_=ARRAY(String)),
        bindparam("answers", type_=ARRAY(Text)), bindparam("keys", type_=ARRAY(String)),
    ).table_valued(column("code", String), column("response", String), column("answers", Text),
                   column("key", String), with_ordinality="n").render_derived(name="submitted")


def use_and_record_many(chosen):
    """PostgreSQL: the write of :func:`use_and_record_checked` for many codes of one
    questionnaire version at once, in one statement. ``chosen`` selects, from
    :func:`submitted_rows`, the rows that pass the caller's checks as ``(id, response,
    answers)`` with the invitation's id, at most one row per invitation; each of their
    codes that is still unused is used and its answers stored, and the statement returns
    the ids of the responses stored (a row missing from them: nothing written for it, its
    code unused by it). Build it once (e.g. in a ``functools.cache`` function)."""
    table = SurveyResponse.__table__
    chosen = chosen.cte("chosen")
    # the chosen ids as one array: found by the primary key's index, not by a join that the
    # planner may make a scan of the whole table
    used = (update(Invitation)
            .where(Invitation.id == any_(cast(select(func.array_agg(chosen.c.id))
                                              .scalar_subquery(), ARRAY(Integer))),
                   col(Invitation.used).is_(False))
            .values(used=True).returning(Invitation.id, Invitation.survey_id).cte("used_code"))
    return insert(SurveyResponse).from_select(
        ["id", "survey_id", "questionnaire_id", "channel", "answered_on", "answers"],
        select(chosen.c.response, used.c.survey_id,
               bindparam("questionnaire", type_=table.c.questionnaire_id.type),
               bindparam("channel", type_=table.c.channel.type),
               bindparam("day", type_=table.c.answered_on.type),
               cast(chosen.c.answers, table.c.answers.type))
        .select_from(used.join(chosen, chosen.c.id == used.c.id))
    ).returning(SurveyResponse.id)


def _code_used() -> CodeUsed:
    return CodeUsed(_("This invitation code has already been used; its answers were received. "
                      "Thank you!"))


def record_with_code(session: Session, invitation: Invitation, *, questionnaire_id: int,
                     answers: dict, day: date, channel: Channel = Channel.closed,
                     frozen: bool = False) -> str:
    """Use the invitation up and store its answers: one response per code, ever.

    The response keeps no trace of the code; the invitation keeps only ``used``. On
    PostgreSQL the code's use, the answer and the version's freezing are one statement (a
    data-modifying ``WITH``), so they commit together even on a connection in autocommit
    mode, in one round trip; elsewhere they are two or three statements of the caller's
    transaction. ``invitation`` needs only ``id`` and ``survey_id``.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return use_code_and_record(
            lambda statement, values: connection.execute(statement, values).rowcount,
            invitation.id, questionnaire_id=questionnaire_id, answers=answers, day=day,
            channel=channel, frozen=frozen)
    if not invitations.use(session, invitation.id):
        raise _code_used()
    return record(session, survey_id=invitation.survey_id, questionnaire_id=questionnaire_id,
                  channel=channel, answers=answers, day=day, frozen=frozen)


def use_code_and_record(write: Write, invitation_id: int, *, questionnaire_id: int,
                        answers: dict, day: date, channel: Channel, frozen: bool) -> str:
    """PostgreSQL: use the code, store its answers and (unless ``frozen``) freeze the version
    in one statement (:func:`use_and_record`), run by ``write``; CodeUsed when the code was
    used already (by a double tap, a second tab or a retry), and then nothing is stored."""
    response_id = new_response_id()
    stored = write(use_and_record(freeze=not frozen), {
        "invitation": invitation_id, **_response_values(response_id, questionnaire_id, answers,
                                                        day, channel)})
    if stored != 1:
        raise _code_used()
    return response_id


def record_if(write: Write, statement, checks: dict, *, questionnaire_id: int, answers: dict,
              day: date, channel: Channel) -> str | None:
    """Run ``statement`` (made by :func:`use_and_record_checked`) with the values of its
    checks and of the response; the new response's id, or None when a check let nothing
    through (nothing stored, the code unused)."""
    response_id = new_response_id()
    stored = write(statement, {**checks, **_response_values(response_id, questionnaire_id,
                                                            answers, day, channel)})
    return response_id if stored == 1 else None


def _response_values(response_id: str, questionnaire_id: int, answers: dict, day: date,
                     channel: Channel) -> dict:
    return {"response": response_id, "questionnaire": questionnaire_id,
            "channel": Channel(channel), "day": day, "answers": answers}


#: Documents of frozen questionnaire versions, by (database, id), with the version's
#: ``created_at``: a frozen version never changes again, so every process may keep its
#: document instead of reading and decoding it for each answer. Bounded; an entry is used
#: only for the same ``created_at`` (another database's version with the same id is not it).
_FROZEN_DOCUMENTS: dict[tuple, tuple] = {}
_FROZEN_DOCUMENTS_MAX = 256


def version_document(session: Session, questionnaire_id: int, *, frozen: bool,
                     created_at=None) -> dict:
    """The document of a questionnaire version; a frozen one's from the process's cache when
    it has read it before (the caller must not change it)."""
    key = (session.get_bind().url, questionnaire_id)
    if frozen:
        found = _FROZEN_DOCUMENTS.get(key)
        if found is not None and found[0] == created_at:
            return found[1]
    document = session.connection().execute(
        select(Questionnaire.document).where(Questionnaire.id == questionnaire_id)).scalar_one()
    if frozen:
        if len(_FROZEN_DOCUMENTS) >= _FROZEN_DOCUMENTS_MAX:
            _FROZEN_DOCUMENTS.clear()
        _FROZEN_DOCUMENTS[key] = (created_at, document)
    return document


def frozen_document(database_url, questionnaire_id: int) -> tuple | None:
    """``(created_at, document)`` of a frozen version this process has read from that
    database, or None (the caller checks ``created_at`` against the database)."""
    return _FROZEN_DOCUMENTS.get((database_url, questionnaire_id))


def counts(session: Session, survey_id: int) -> dict[str, int]:
    """Responses by channel (closed, open, paper) and in all."""
    rows = session.exec(select(SurveyResponse.channel, func.count())
                        .where(SurveyResponse.survey_id == survey_id)
                        .group_by(SurveyResponse.channel)).all()
    found = {c.value: 0 for c in Channel}
    for channel, n in rows:
        found[Channel(channel).value] = int(n)
    found["total"] = sum(found[c.value] for c in Channel)
    return found


def invitation_counts(session: Session, survey_id: int) -> dict[str, int]:
    issued = session.exec(select(func.count()).select_from(Invitation)
                          .where(Invitation.survey_id == survey_id)).one()
    used = session.exec(select(func.count()).select_from(Invitation)
                        .where(Invitation.survey_id == survey_id,
                               col(Invitation.used).is_(True))).one()
    return {"issued": int(issued), "used": int(used)}


def all_of(session: Session, survey_id: int) -> list[SurveyResponse]:
    """Every response of the survey, in the order of their random ids (no time order)."""
    return list(session.exec(select(SurveyResponse).where(SurveyResponse.survey_id == survey_id)
                             .order_by(SurveyResponse.id)))
