"""The audit log (全程留痕): an append-only hash chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class AuditEntry(SQLModel, table=True):
    """审计日志条目: who did what to which entity, chained to the previous entry by hash."""

    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    seq: int = Field(unique=True, index=True)
    at: datetime = timestamp_field()
    actor_id: int | None = Field(default=None, index=True)
    actor_name: str = Field(max_length=100)
    action: str = Field(max_length=80, index=True)
    entity_type: str = Field(max_length=60, index=True)
    entity_id: str = Field(max_length=60, index=True)
    change: str = Field(sa_type=Text)  # canonical JSON
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The chain's head: one row, locked by every append so that appends are serialised."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
