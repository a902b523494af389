"""Organisations (机构) and users (用户)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, DateTime, false
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class OrganisationKind(StrEnum):
    """机构类型."""

    finance_bureau = "finance_bureau"  # 财政部门
    purchasing_department = "purchasing_department"  # 购买主体
    supplier = "supplier"  # 承接主体
    third_party_firm = "third_party_firm"  # 第三方评价机构
    oversight_body = "oversight_body"  # 纪检监察 / 审计机关


class Role(StrEnum):
    """用户角色 (DESIGN.md: the people and what they do)."""

    finance = "finance"
    purchaser = "purchaser"
    evaluator = "evaluator"
    supplier = "supplier"
    auditor = "auditor"
    admin = "admin"


#: Which organisation kinds a user of each role may belong to (None: no organisation).
ROLE_ORGANISATION_KINDS: dict[Role, set[OrganisationKind | None]] = {
    Role.finance: {OrganisationKind.finance_bureau},
    Role.purchaser: {OrganisationKind.purchasing_department},
    Role.evaluator: {OrganisationKind.third_party_firm, None},  # a firm's staff or a lone expert
    Role.supplier: {OrganisationKind.supplier},
    Role.auditor: {OrganisationKind.oversight_body, OrganisationKind.finance_bureau},
    Role.admin: {None},
}


class Organisation(SQLModel, table=True):
    """机构: a finance bureau, a purchasing department, a supplier or a third-party firm."""

    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, unique=True, index=True)
    kind: OrganisationKind = Field(
        sa_type=SAEnum(OrganisationKind, native_enum=False, length=40), index=True
    )
    credit_code: str | None = Field(default=None, max_length=18, unique=True)  # 统一社会信用代码
    active: bool = True
    created_at: datetime = timestamp_field()


class User(SQLModel, table=True):
    """用户: one person with one role, usually in one organisation."""

    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    display_name: str = Field(max_length=100)
    role: Role = Field(sa_type=SAEnum(Role, native_enum=False, length=20), index=True)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    active: bool = True
    password_hash: str = Field(max_length=255)
    # Bumped on logout, deactivation and password change: every older session cookie dies.
    session_epoch: int = 0
    # Set when the administrator resets the password: until the user chooses a new one, every
    # page but the password form and signing out sends them there (web.access).
    must_change_password: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    created_at: datetime = timestamp_field()
    last_login_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
