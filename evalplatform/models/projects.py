"""Purchased-service projects (购买服务项目), suppliers (承接主体) and contracts (合同)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, DateTime, Text
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class ProcurementMethod(StrEnum):
    """采购方式."""

    public_tender = "public_tender"  # 公开招标
    invited_tender = "invited_tender"  # 邀请招标
    competitive_negotiation = "competitive_negotiation"  # 竞争性谈判
    competitive_consultation = "competitive_consultation"  # 竞争性磋商
    price_inquiry = "price_inquiry"  # 询价
    single_source = "single_source"  # 单一来源


class ProjectStatus(StrEnum):
    """项目状态."""

    ready = "ready"  # 已登记，可以采购 (below the approval threshold)
    awaiting_approval = "awaiting_approval"  # 待财政审批
    returned = "returned"  # 财政退回
    approved = "approved"  # 财政已批准
    contracted = "contracted"  # 已签订合同


class Project(SQLModel, table=True):
    """购买服务项目: one service a department buys in one budget year."""

    __tablename__ = "project"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    department_id: int = Field(foreign_key="organisation.id", index=True)
    catalogue_entry_id: int = Field(foreign_key="catalogue_entry.id", index=True)
    content: str = Field(sa_type=Text)
    recipients: str = Field(max_length=500)
    year: int = Field(index=True)
    budget_fen: int = Field(sa_type=BigInteger)
    budget_line: str = Field(max_length=200)
    procurement_method: ProcurementMethod = Field(
        sa_type=SAEnum(ProcurementMethod, native_enum=False, length=40))
    target_quantity: str = Field(default="", sa_type=Text)
    target_quality: str = Field(default="", sa_type=Text)
    target_timeliness: str = Field(default="", sa_type=Text)
    target_cost: str = Field(default="", sa_type=Text)
    target_benefit: str = Field(default="", sa_type=Text)
    target_satisfaction: str = Field(default="", sa_type=Text)
    status: ProjectStatus = Field(
        sa_type=SAEnum(ProjectStatus, native_enum=False, length=40), index=True)
    ex_ante_sha256: str | None = Field(default=None, max_length=64)
    ex_ante_filename: str | None = Field(default=None, max_length=200)
    ex_ante_uploaded_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    return_reason: str | None = Field(default=None, sa_type=Text)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()


class SupplierKind(StrEnum):
    """承接主体类型 (the last two may not supply)."""

    social_organisation = "social_organisation"  # 社会组织
    enterprise = "enterprise"  # 企业
    public_welfare_2 = "public_welfare_2"  # 公益二类事业单位
    other = "other"  # 其他
    public_welfare_1 = "public_welfare_1"  # 公益一类事业单位 (refused)
    funded_mass_organisation = "funded_mass_organisation"  # 财政拨款保障的群团组织 (refused)


class SupplierProfile(SQLModel, table=True):
    """承接主体档案: the supplier organisation's kind, size and contact."""

    __tablename__ = "supplier_profile"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    supplier_kind: SupplierKind = Field(sa_type=SAEnum(SupplierKind, native_enum=False, length=40))
    small_medium: bool = False
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=40)
    created_at: datetime = timestamp_field()


class Contract(SQLModel, table=True):
    """购买服务合同: one per awarded project."""

    __tablename__ = "contract"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", unique=True)
    supplier_id: int = Field(foreign_key="organisation.id", index=True)
    amount_fen: int = Field(sa_type=BigInteger)
    signed_on: date
    term_months: int
    stable_continuous: bool = False  # 服务稳定持续且预算有保障: term up to 36 months
    content: str = Field(sa_type=Text)
    quantity: str = Field(default="", sa_type=Text)
    quality: str = Field(default="", sa_type=Text)
    price_terms: str = Field(default="", sa_type=Text)
    settlement_method: str = Field(default="", sa_type=Text)
    performance_targets: str = Field(default="", sa_type=Text)
    breach_terms: str = Field(default="", sa_type=Text)
    payment_days: int | None = None  # for a small or medium supplier: days after acceptance
    payment_rule: dict = Field(default_factory=dict, sa_type=JSON)
    #: 考核标准: the indicator scheme the contract is assessed by (the contract's own copy)
    scheme_id: int | None = Field(default=None, foreign_key="indicator_scheme.id")
    signed_copy_sha256: str | None = Field(default=None, max_length=64)
    signed_copy_filename: str | None = Field(default=None, max_length=200)
    signed_copy_filed_on: date | None = None
    published_on: date | None = None
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()


class DueCondition(StrEnum):
    """付款条件."""

    on_signing = "on_signing"  # 合同签订后
    after_interim = "after_interim"  # 中期评价后
    after_final = "after_final"  # 终期评价后


class Instalment(SQLModel, table=True):
    """付款计划的一期."""

    __tablename__ = "instalment"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    seq: int
    amount_fen: int = Field(sa_type=BigInteger)
    percent: str | None = Field(default=None, max_length=12)  # as typed, e.g. "30"
    due_condition: DueCondition = Field(sa_type=SAEnum(DueCondition, native_enum=False, length=40))
    performance_linked: bool = False
