"""Throttles and rate limits kept in the database, so they hold across processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class ThrottleCounter(SQLModel, table=True):
    """限流计数: failures or hits for one key (e.g. ``login:<username>``) in a time window."""

    __tablename__ = "throttle_counter"

    key: str = Field(primary_key=True, max_length=200)
    window_start: datetime = Field(sa_type=DateTime(timezone=True))
    count: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
