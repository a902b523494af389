"""The survey tables (满意度调查的数据表).

They live in the application's database and refer to its ``evaluation`` and ``app_user``
tables by name only, so this package imports nothing of the application; the application
imports this module in its ``models`` package so that its migrations see these tables.

Anonymity (匿名) is a property of these tables: a :class:`SurveyResponse` has a random id,
the day it was given (never a time), its channel and, for open links, the service site;
nothing in it names its invitation, its address or its device, and an :class:`Invitation`
only says *that* it was used, never when or by which answer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, UniqueConstraint, false, text
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _timestamp(**kwargs) -> Any:
    return Field(default_factory=_utcnow, sa_type=DateTime(timezone=True), **kwargs)


class QuestionnaireStatus(StrEnum):
    """问卷版本状态: a draft is edited, the current one is answered, a retired one was."""

    draft = "draft"
    current = "current"
    retired = "retired"


class Channel(StrEnum):
    """答卷渠道: how an answer came in."""

    closed = "closed"  # with a single-use invitation code (邀请码)
    open = "open"  # through a service site's open link (开放链接)
    paper = "paper"  # a paper questionnaire typed in by staff (纸质录入)


class Survey(SQLModel, table=True):
    """满意度调查: the survey of one evaluation's service recipients (服务对象).

    It is open for answers while the organiser has opened it, has not closed it, the
    evaluation is collecting and its schedule's window is open. ``population`` is the
    number of people served (服务对象总数), for the sample size and the margin of error.
    """

    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("evaluation_id", name="uq_survey_evaluation"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id")
    population: int | None = None
    opened_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    closed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    close_reason: str = Field(default="", max_length=20)  # "organiser" or "schedule"
    created_at: datetime = _timestamp()


class Questionnaire(SQLModel, table=True):
    """问卷 (one version): the questions as a JSON document (see ``surveys.questionnaire``).

    A version that has answers is frozen (冻结) and never changes again; a change is a new
    version, which becomes current when the organiser publishes it.
    """

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("survey_id", "version", name="uq_questionnaire_version"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    version: int = 1
    status: QuestionnaireStatus = Field(
        default=QuestionnaireStatus.draft,
        sa_type=SAEnum(QuestionnaireStatus, native_enum=False, length=10))
    frozen: bool = False
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class InvitationBatch(SQLModel, table=True):
    """邀请码批次: codes generated together, e.g. for one neighbourhood's door-to-door round."""

    __tablename__ = "invitation_batch"

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    label: str = Field(default="", max_length=100)
    size: int
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = _timestamp()


class Invitation(SQLModel, table=True):
    """邀请码: a single-use code; it records only that it was used (never when, nor by what)."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("code", name="uq_invitation_code"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    batch_id: int = Field(foreign_key="invitation_batch.id", index=True)
    code: str = Field(max_length=12)
    used: bool = False


class SurveySite(SQLModel, table=True):
    """服务点: a place with one open link and QR code (e.g. a community care station)."""

    __tablename__ = "survey_site"
    __table_args__ = (UniqueConstraint("token", name="uq_survey_site_token"),)

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    name: str = Field(max_length=100)
    token: str = Field(max_length=24)
    device_limit: int = 1  # answers one device may give at this site
    active: bool = True
    created_at: datetime = _timestamp()


class SurveyResponse(SQLModel, table=True):
    """答卷: one respondent's answers, anonymous by construction.

    ``id`` is random (its order says nothing); ``answered_on`` is the local day only;
    ``submission_key`` is the random key of the submitted form, so that a double tap or
    a retry of an open-link form stores one answer (a code's single use does that for
    invitations). Nothing here names an invitation, an address or a device. ``mixed``
    says that the answer has been rewritten with others of its survey since it came in,
    so that neither the transaction that wrote it nor its place in the table ties it to
    the code or address it came with (``surveys.mixing``).
    """

    __tablename__ = "survey_response"
    __table_args__ = (
        UniqueConstraint("submission_key", name="uq_response_submission_key"),
        # the few answers waiting to be mixed, found without reading the mixed ones; each
        # condition as SQLAlchemy writes ``surveys.mixing.WAITING`` for that database
        Index("ix_survey_response_unmixed", "survey_id", postgresql_where=text("NOT mixed"),
              sqlite_where=text("mixed = 0")),
    )

    id: str = Field(primary_key=True, max_length=32)
    survey_id: int = Field(foreign_key="survey.id", index=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", index=True)
    channel: Channel = Field(sa_type=SAEnum(Channel, native_enum=False, length=10))
    site_id: int | None = Field(default=None, foreign_key="survey_site.id")
    answered_on: date
    answers: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    submission_key: str | None = Field(default=None, max_length=64)
    # the database's default, not SQLAlchemy's: the one-statement writes leave it out
    mixed: bool = Field(default=False, sa_column=Column(Boolean, nullable=False,
                                                        server_default=false()))


__all__ = ["Channel", "Invitation", "InvitationBatch", "Questionnaire", "QuestionnaireStatus",
           "Survey", "SurveyResponse", "SurveySite"]
