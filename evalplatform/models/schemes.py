"""Indicator schemes (指标体系): the parts, trees, rules and grades an evaluation scores by."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Text
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class IndicatorScheme(SQLModel, table=True):
    """指标体系: one scheme as a JSON document in the scoring package's ``scheme`` format.

    A template (模板) is read-only to purchasers and copied into editable schemes. Once an
    evaluation starts on a scheme it is frozen (冻结) and never edited again; a new version
    copies it (``based_on_id``).
    """

    __tablename__ = "indicator_scheme"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    service_area: str = Field(default="", max_length=100)  # 服务领域, e.g. 居家养老
    description: str = Field(default="", sa_type=Text)
    version: int = 1
    based_on_id: int | None = Field(default=None, foreign_key="indicator_scheme.id")
    is_template: bool = Field(default=False, index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    frozen: bool = False
    frozen_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    valid: bool = False  # the document passed every rule when last saved
    document: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()
    updated_at: datetime = timestamp_field()
