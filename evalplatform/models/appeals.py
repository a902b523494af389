"""Appeals (申诉) against a published result."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class AppealStatus(StrEnum):
    """申诉状态."""

    open = "open"  # 待处理: finance has not decided yet; the result cannot become final
    upheld = "upheld"  # 维持原结果: the appeal is dismissed, the published result stands
    reopened = "reopened"  # 重新评分: named leaves are reopened, a new version will be published
    withdrawn = "withdrawn"  # 已撤回: the supplier withdrew it before finance decided


class Appeal(SQLModel, table=True):
    """申诉: the supplier's objection to one published version of a result, with evidence.

    One appeal per publication (a new publication after a reopening may be appealed again).
    ``evidence`` lists the uploaded files (by content hash, see services/files.py);
    ``leaves`` the indicators the supplier disputes; ``reopened_leaves`` the ones finance
    sent back to scoring.
    """

    __tablename__ = "appeal"
    __table_args__ = (UniqueConstraint("result_id", name="uq_appeal_result"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    result_id: int = Field(foreign_key="evaluation_result.id")
    supplier_id: int = Field(foreign_key="organisation.id", index=True)
    filed_by: int | None = Field(default=None, foreign_key="app_user.id")
    filed_at: datetime = timestamp_field()
    reasons: str = Field(sa_type=Text)
    leaves: list[str] = Field(default_factory=list, sa_type=JSON)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    status: AppealStatus = Field(
        default=AppealStatus.open, index=True,
        sa_type=SAEnum(AppealStatus, native_enum=False, length=20))
    decision: str = Field(default="", sa_type=Text)
    reopened_leaves: list[str] = Field(default_factory=list, sa_type=JSON)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    version: int = 1  # optimistic lock: two finance officers cannot both decide
    #: the supplier withdrew the appeal (撤回) while it was open: who and when
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    withdrawn_by: int | None = Field(default=None, foreign_key="app_user.id")
