"""Evaluations (评价): one scoring of one contract, on a frozen indicator scheme."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import DateTime, Text
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class EvaluationStage(StrEnum):
    """评价阶段: 事中 (interim, a monitoring round) or 事后 (final)."""

    interim = "interim"  # 事中监控 / 中期评价
    final = "final"  # 事后评价 / 终期评价


class EvaluationStatus(StrEnum):
    """The life of an evaluation; the surveys, scoresheets and results issues move it on."""

    draft = "draft"  # 草稿: scheduled, nothing collected
    collecting = "collecting"  # 采集中: the survey is open and sheets can be filled
    scoring = "scoring"  # 评分中: the survey closed, scorers finish their sheets
    computed = "computed"  # 已计算: a result exists, not yet published
    published = "published"  # 已公示: the appeal window runs
    final = "final"  # 已确定: the window closed without an open appeal


#: The order statuses move in; a status may only move to the next one, except that a
#: reasoned reopening may move ``computed`` or ``published`` back to ``scoring``.
STATUS_ORDER = list(EvaluationStatus)


class Evaluation(SQLModel, table=True):
    """绩效评价: belongs to a contract, scores it on a frozen copy of its scheme."""

    __tablename__ = "evaluation"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    scheme_id: int = Field(foreign_key="indicator_scheme.id", index=True)  # frozen
    stage: EvaluationStage = Field(sa_type=SAEnum(EvaluationStage, native_enum=False, length=20))
    title: str = Field(max_length=200)
    period_start: date
    period_end: date
    opens_at: datetime = Field(sa_type=DateTime(timezone=True))  # survey and sheets open
    closes_at: datetime = Field(sa_type=DateTime(timezone=True))  # survey closes, sheets due
    status: EvaluationStatus = Field(
        default=EvaluationStatus.draft, index=True,
        sa_type=SAEnum(EvaluationStatus, native_enum=False, length=20))
    status_changed_at: datetime = timestamp_field()
    note: str = Field(default="", sa_type=Text)
    version: int = 1  # optimistic lock: bumped on every status change
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()
    #: 报告备案: for a project of ¥5,000,000 or more, the day the purchasing department filed
    #: this ex-post evaluation's report, with the project's ex-ante assessment, with finance;
    #: who filed it and which version of the result the report was of
    report_filed_on: date | None = None
    report_filed_by: int | None = Field(default=None, foreign_key="app_user.id")
    report_filed_version: int | None = None
