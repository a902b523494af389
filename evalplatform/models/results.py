"""Results (评价结果): each computation of an evaluation is a version, kept for ever."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class EvaluationResult(SQLModel, table=True):
    """评价结果: one computed version of an evaluation's result.

    ``package`` is exactly the scoring package it was computed from and ``result`` the
    engine's answer as JSON, so anyone can reproduce it with ``python -m scoring evaluate``.
    A recomputation after a reasoned reopening adds a version; earlier versions are never
    changed. ``total`` is the rounded total as a decimal string (e.g. "87.35").
    """

    __tablename__ = "evaluation_result"
    __table_args__ = (UniqueConstraint("evaluation_id", "version", name="uq_result_version"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    version: int
    total: str = Field(max_length=12)
    grade: str = Field(max_length=20)
    final_ready: bool = False  # no missing score blocks it
    package: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    result: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    reason: str = Field(default="", sa_type=Text)  # why it was recomputed
    computed_by: int | None = Field(default=None, foreign_key="app_user.id")
    computed_at: datetime = timestamp_field()
    published_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    published_by: int | None = Field(default=None, foreign_key="app_user.id")
    appeal_deadline: date | None = None  # last day to appeal (working days after publication)
    final_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    superseded: bool = False  # a later version replaced it
