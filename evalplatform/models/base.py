"""Shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlmodel import Field


def utcnow() -> datetime:
    return datetime.now(UTC)


def timestamp_field(**kwargs) -> datetime:
    """A timezone-aware timestamp column (stored in UTC)."""
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kwargs)
