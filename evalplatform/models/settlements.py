"""Settlement (结算), acceptance (验收), contract payment terms and supplier standing (履约信用).

Money is integer fen; ratios and scores are decimal strings exactly as the scoring engine
gave them, so a settlement sheet can be checked by hand years later.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class SettlementStatus(StrEnum):
    """结算状态: the purchaser proposes, finance approves or returns, the payment is recorded."""

    proposed = "proposed"  # 已提出, 待财政审核
    returned = "returned"  # 财政退回 (with reasons); the purchaser may propose again
    approved = "approved"  # 财政已审核, 待支付
    paid = "paid"  # 已支付 (voucher number and date recorded)


class SettlementBasis(StrEnum):
    """结算依据."""

    performance = "performance"  # 绩效挂钩: the ratio the final result earns
    fixed = "fixed"  # 不挂钩: 100 % when due


class Settlement(SQLModel, table=True):
    """结算单: one instalment's settlement, with every figure of its sheet frozen when proposed.

    ``version`` is the optimistic lock: every decision updates the row only where the
    version is the one the decider saw, so two approvals at the same moment cannot both
    succeed.
    """

    __tablename__ = "settlement"
    __table_args__ = (
        UniqueConstraint("instalment_id", name="uq_settlement_instalment"),
        UniqueConstraint("voucher_no", name="uq_settlement_voucher"),
    )

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    instalment_id: int = Field(foreign_key="instalment.id")
    evaluation_id: int | None = Field(default=None, foreign_key="evaluation.id", index=True)
    result_id: int | None = Field(default=None, foreign_key="evaluation_result.id")
    basis: SettlementBasis = Field(sa_type=SAEnum(SettlementBasis, native_enum=False, length=20))
    contract_amount_fen: int = Field(sa_type=BigInteger)
    instalment_amount_fen: int = Field(sa_type=BigInteger)
    total: str | None = Field(default=None, max_length=12)  # the result's rounded total
    grade: str | None = Field(default=None, max_length=20)
    payment_rule: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # as applied
    ratio: str = Field(max_length=12)  # e.g. "0.95"
    payable_fen: int = Field(sa_type=BigInteger)
    deduction_fen: int = Field(sa_type=BigInteger)
    explanation: str = Field(default="", sa_type=Text)  # the engine's words for the ratio
    status: SettlementStatus = Field(
        default=SettlementStatus.proposed, index=True,
        sa_type=SAEnum(SettlementStatus, native_enum=False, length=20))
    note: str = Field(default="", sa_type=Text)  # the purchaser's note on the proposal
    proposed_by: int = Field(foreign_key="app_user.id")
    proposed_at: datetime = timestamp_field()
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    return_reason: str = Field(default="", sa_type=Text)
    voucher_no: str | None = Field(default=None, max_length=60)  # 支付凭证号
    paid_on: date | None = None
    paid_recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    due_on: date | None = None  # the payment's due date as it stood when it was paid
    late_days: int | None = None  # days paid after the due date
    interest_fen: int | None = Field(default=None, sa_type=BigInteger)  # 逾期利息 owed then
    version: int = 1


class ContractTerms(SQLModel, table=True):
    """合同结算条款: the contract's late-payment interest and its termination threshold.

    Without a row the defaults apply: 0.05 % a day (万分之五) and 80 points.
    """

    __tablename__ = "contract_terms"

    contract_id: int = Field(foreign_key="contract.id", primary_key=True)
    interest_per_day: str = Field(default="0.05", max_length=12)  # percent a day
    termination_threshold: str = Field(default="80", max_length=12)  # points
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = timestamp_field()


class AcceptanceConclusion(StrEnum):
    """验收结论."""

    accepted = "accepted"  # 验收合格
    rejected = "rejected"  # 验收不合格


class Acceptance(SQLModel, table=True):
    """验收: a public service accepted with its recipients' participation and opinion.

    Published with the evaluation's result (a public notice without personal data); the
    payment period of a small or medium supplier runs from its date.
    """

    __tablename__ = "acceptance"
    __table_args__ = (UniqueConstraint("evaluation_id", name="uq_acceptance_evaluation"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id")
    contract_id: int = Field(foreign_key="contract.id", index=True)
    accepted_on: date
    conclusion: AcceptanceConclusion = Field(
        sa_type=SAEnum(AcceptanceConclusion, native_enum=False, length=20))
    participants: int = 0  # recipients who took part
    participation: str = Field(default="", sa_type=Text)  # how they took part
    opinion: str = Field(sa_type=Text)  # their opinion, summarised
    survey_url: str = Field(default="", max_length=500)  # the satisfaction survey, if any
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = timestamp_field()


class StandingSettings(SQLModel, table=True):
    """承接主体信用规则设置: the numbers of the standing rules (one row; defaults without it)."""

    __tablename__ = "standing_settings"

    id: int | None = Field(default=None, primary_key=True)
    bar_grade: str = Field(default="差", max_length=20)
    bar_below: str = Field(default="60", max_length=12)  # a total below this bars too
    bar_years: int = 1  # barred until the end of the year this many years after the result
    warn_consecutive: int = 2  # this many results in a row below the contract's threshold
    default_threshold: str = Field(default="80", max_length=12)
    preferred_grade: str = Field(default="优", max_length=20)
    lookback_years: int = 3  # "recent" results: final within this many years
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = timestamp_field()


class SupplierComplaint(SQLModel, table=True):
    """有效投诉: a substantiated complaint about a supplier's service, recorded by the
    purchasing department or finance; counts against the supplier in selection."""

    __tablename__ = "supplier_complaint"

    id: int | None = Field(default=None, primary_key=True)
    supplier_id: int = Field(foreign_key="organisation.id", index=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    received_on: date
    summary: str = Field(sa_type=Text)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = timestamp_field()


class ReviewDecision(StrEnum):
    """终止审查结论."""

    continue_ = "continue"  # 继续履行 (with the measures stated in the reason)
    terminate = "terminate"  # 终止合同


class TerminationReview(SQLModel, table=True):
    """终止审查: the decision on a contract flagged by results in a row below its threshold."""

    __tablename__ = "termination_review"

    id: int | None = Field(default=None, primary_key=True)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    result_id: int = Field(foreign_key="evaluation_result.id")  # the latest flagged result
    decision: ReviewDecision = Field(sa_type=SAEnum(ReviewDecision, native_enum=False, length=20))
    reason: str = Field(sa_type=Text)
    decided_by: int | None = Field(default=None, foreign_key="app_user.id")
    decided_at: datetime = timestamp_field()


__all__ = ["Acceptance", "AcceptanceConclusion", "ContractTerms", "Settlement", "SettlementBasis",
           "SettlementStatus", "StandingSettings", "SupplierComplaint", "ReviewDecision",
           "TerminationReview"]
