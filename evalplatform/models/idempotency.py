"""Idempotency keys (幂等键) of the JSON API, kept in the database so that they hold across
processes (``services.idempotency``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class IdempotencyKey(SQLModel, table=True):
    """幂等键: one ``Idempotency-Key`` a signed-in user sent with a POST or PATCH under /api,
    the request it came with (method, path, SHA-256 of the body) and, once that request has
    run, its answer, which a retry with the same key gets again instead of running it twice.

    The row is written first with ``status_code`` None (进行中, still running), under the
    unique (user, key) constraint, so that two processes that receive the same retry cannot
    both run it; it is kept until ``expires_at``.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_key_user_key"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id")
    key: str = Field(max_length=255)
    method: str = Field(max_length=10)
    #: the path with its query string, as the request named it
    path: str = Field(sa_type=Text)
    #: SHA-256 of the request's body, 64 hex digits
    fingerprint: str = Field(max_length=64)
    #: the answer's status; None while the first request with the key still runs
    status_code: int | None = None
    #: the answer's headers that a replay repeats (content-type, location), lower-case names
    response_headers: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    response_body: bytes = Field(default=b"", sa_type=LargeBinary)
    created_at: datetime = timestamp_field()
    expires_at: datetime = Field(sa_type=DateTime(timezone=True), index=True)
