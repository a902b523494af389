"""The expert pool (评审专家库) and the panels drawn from it (专家抽取).

Finance keeps the pool; an organiser draws a panel for an evaluation from it. A draw stores
its seed and its candidate list so that anyone can replay it and get the same panel; the
members it drew, their declines (拒绝) and recusals (回避), and the alternates (候补) who took
their places are all kept. A third-party firm (第三方评价机构) may be assigned to an
evaluation instead of, or as well as, a panel.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, DateTime, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class Expert(SQLModel, table=True):
    """评审专家: one person in the pool, with the catalogue sectors they can judge."""

    __tablename__ = "expert"
    __table_args__ = (UniqueConstraint("user_id", name="uq_expert_user"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, index=True)
    employer: str = Field(default="", max_length=200)  # 工作单位
    title: str = Field(default="", max_length=100)  # 职称
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    #: 专业领域: level-2 catalogue codes (sectors), e.g. ["D02", "E02"]
    specialities: list[str] = Field(default_factory=list, sa_type=JSON)
    #: the evaluator account the expert signs in with to score (optional)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    active: bool = True
    note: str = Field(default="", sa_type=Text)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()


class RelationshipKind(StrEnum):
    """关联关系: what ties an expert to an organisation (each is a reason to avoid, 回避)."""

    employed = "employed"  # 任职或受雇
    director_supervisor = "director_supervisor"  # 担任董事、监事
    controlling = "controlling"  # 控股或实际控制
    relative_of_legal_rep = "relative_of_legal_rep"  # 法定代表人的近亲属
    recent_work = "recent_work"  # 近期为其提供服务
    other = "other"  # 其他利害关系


class ExpertRelationship(SQLModel, table=True):
    """专家关联关系: a recorded tie to a supplier or a purchasing department."""

    __tablename__ = "expert_relationship"

    id: int | None = Field(default=None, primary_key=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    kind: RelationshipKind = Field(sa_type=SAEnum(RelationshipKind, native_enum=False, length=40))
    started_on: date | None = None
    ended_on: date | None = None  # None: still holds
    note: str = Field(default="", sa_type=Text)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    recorded_at: datetime = timestamp_field()


class PanelDraw(SQLModel, table=True):
    """专家抽取记录: one random draw for an evaluation, replayable from its seed.

    ``candidates`` is the ordered list the draw chose from (``[{"id", "specialities"}]``,
    a snapshot), ``excluded`` the experts avoided with their reasons, ``seats`` and
    ``alternates`` the expert ids it drew in order. A later round (补充抽取) fills seats
    that declines left empty when no alternate remained.
    """

    __tablename__ = "panel_draw"
    __table_args__ = (UniqueConstraint("evaluation_id", "round", name="uq_panel_draw_round"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    round: int = 1
    size: int  # seats drawn in this round
    alternate_count: int = 0
    specialities: list[str] = Field(default_factory=list, sa_type=JSON)
    seed: str = Field(max_length=64)
    algorithm: str = Field(max_length=40)
    candidates: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    excluded: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    seats: list[int] = Field(default_factory=list, sa_type=JSON)
    alternates: list[int] = Field(default_factory=list, sa_type=JSON)
    reason: str = Field(default="", sa_type=Text)
    drawn_by: int | None = Field(default=None, foreign_key="app_user.id")
    drawn_at: datetime = timestamp_field()


class MemberStatus(StrEnum):
    """专家组成员状态."""

    seated = "seated"  # 在席: scores the evaluation
    alternate = "alternate"  # 候补: waits for a seat
    declined = "declined"  # 拒绝: declined the invitation
    recused = "recused"  # 回避: withdrawn for a conflict found after the draw


class PanelMember(SQLModel, table=True):
    """专家组成员: an expert a draw chose, seated or waiting as an alternate."""

    __tablename__ = "panel_member"
    __table_args__ = (
        UniqueConstraint("evaluation_id", "expert_id", name="uq_panel_member_expert"),
        UniqueConstraint("evaluation_id", "position", name="uq_panel_member_position"),
    )

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    draw_id: int = Field(foreign_key="panel_draw.id", index=True)
    expert_id: int = Field(foreign_key="expert.id", index=True)
    position: int  # order drawn across all rounds; the scorer code is E + position
    status: MemberStatus = Field(sa_type=SAEnum(MemberStatus, native_enum=False, length=20))
    replaces_id: int | None = Field(default=None, foreign_key="panel_member.id")
    reason: str = Field(default="", sa_type=Text)  # why declined or recused
    changed_by: int | None = Field(default=None, foreign_key="app_user.id")
    changed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = timestamp_field()


class PanelFirm(SQLModel, table=True):
    """第三方评价机构委托: a firm assigned to score an evaluation's third-party part."""

    __tablename__ = "panel_firm"
    __table_args__ = (UniqueConstraint("evaluation_id", "organisation_id", name="uq_panel_firm"),)

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="evaluation.id", index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    active: bool = True
    removed_reason: str = Field(default="", sa_type=Text)
    assigned_by: int | None = Field(default=None, foreign_key="app_user.id")
    assigned_at: datetime = timestamp_field()
