"""Scoresheets (评分表), the third party's measured data, reports and the self-evaluation.

A scoresheet is one scorer's (or one occasion's) scores for one part of the evaluation's
frozen scheme. A data sheet holds the measured values of a part's data leaves (客观数据,
with their sources). Drafts are kept on the server as they are typed; submitting locks a
sheet; only finance reopens one, with a recorded reason.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class SheetKind(StrEnum):
    """评分表类别: whose sheet it is."""

    expert = "expert"  # 评审专家 of a drawn panel
    firm = "firm"  # 第三方评价机构
    occasion = "occasion"  # 购买主体 per monitoring occasion (e.g. each quarter)
    data = "data"  # 客观数据: the measured values of a part's data leaves


class SheetStatus(StrEnum):
    draft = "draft"  # 草稿
    submitted = "submitted"  # 已提交 (locked)


class Scoresheet(SQLModel, table=True):
    """评分表: ``scores`` maps a leaf id to ``{"points"|"tier"|"value", "reason", "source"}``
    or ``{"na": reason}``; ``scorer_key`` is the scorer id the scoring package sees."""

    __tablename__ = "scoresheet"
    __table_args__ = (UniqueConstraint("evaluation_id", "part_id", "scorer_key",
                                       name="uq_scoresheet_scorer"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    part_id: str = Field(max_length=40)
    kind: SheetKind = Field(sa_type=SAEnum(SheetKind, native_enum=False, length=20))
    scorer_key: str = Field(max_length=40)
    label: str = Field(default="", max_length=100)  # e.g. the occasion: 第一季度
    member_id: int | None = Field(default=None, foreign_key="panel_member.id")
    firm_id: int | None = Field(default=None, foreign_key="organisation.id")
    scores: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    status: SheetStatus = Field(default=SheetStatus.draft,
                                sa_type=SAEnum(SheetStatus, native_enum=False, length=20))
    version: int = 1  # bumped on every save: two editors cannot overwrite each other
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = timestamp_field()
    submitted_by: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    reopen_request: str = Field(default="", sa_type=Text)  # the organiser asks for a second look
    reopen_requested_by: int | None = Field(default=None, foreign_key="app_user.id")
    reopen_count: int = 0


class FilePurpose(StrEnum):
    evidence = "evidence"  # 佐证材料 attached to a sheet
    report = "report"  # 第三方评价报告
    self_evaluation = "self_evaluation"  # 承接主体自评报告


class ScoringFile(SQLModel, table=True):
    """评价附件: an upload kept by its hash (services/files.py) and who handed it in."""

    __tablename__ = "scoring_file"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    purpose: FilePurpose = Field(sa_type=SAEnum(FilePurpose, native_enum=False, length=20))
    sheet_id: int | None = Field(default=None, foreign_key="scoresheet.id", index=True)
    leaf_id: str | None = Field(default=None, max_length=40)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    member_id: int | None = Field(default=None, foreign_key="panel_member.id")
    sha256: str = Field(max_length=64)
    filename: str = Field(max_length=200)
    file_kind: str = Field(max_length=10)
    size: int
    uploaded_by: int | None = Field(default=None, foreign_key="app_user.id")
    uploaded_at: datetime = timestamp_field()
    #: a report handed in by mistake, withdrawn (撤回) by its third party: kept, not shown
    #: as the report, with who withdrew it, when and why
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_by: int | None = Field(default=None, foreign_key="app_user.id")
    withdrawal_reason: str = Field(default="", sa_type=Text,
                                   sa_column_kwargs={"server_default": ""})


class SelfEvaluation(SQLModel, table=True):
    """承接主体自评: the supplier's own account, shown beside the sheets, never scored."""

    __tablename__ = "self_evaluation"
    __table_args__ = (UniqueConstraint("evaluation_id", name="uq_self_evaluation"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id")
    organisation_id: int = Field(foreign_key="organisation.id")
    summary: str = Field(default="", sa_type=Text)
    claimed_total: str | None = Field(default=None, max_length=12)  # the supplier's own score
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = timestamp_field()
