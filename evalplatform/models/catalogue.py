"""The guiding catalogue (指导性目录), its issues, and the negative list (负面清单)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Enum as SAEnum
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from evalplatform.models.base import timestamp_field


class CatalogueEntry(SQLModel, table=True):
    """指导性目录条目: level 1 category (A), level 2 sector (A05) or level 3 item (A0501)."""

    __tablename__ = "catalogue_entry"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    name: str = Field(max_length=200)
    level: int
    parent_id: int | None = Field(default=None, foreign_key="catalogue_entry.id", index=True)
    description: str = Field(default="", sa_type=Text)
    active: bool = True
    created_at: datetime = timestamp_field()


class CatalogueIssue(SQLModel, table=True):
    """目录发布: the catalogue issued for a year, to be published within 10 working days."""

    __tablename__ = "catalogue_issue"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(unique=True)
    issued_on: date
    published_on: date | None = None
    created_at: datetime = timestamp_field()


class NegativeKind(StrEnum):
    """负面清单的六类."""

    outside_duties = "outside_duties"  # 不属于政府职责范围的服务事项
    direct_duties = "direct_duties"  # 应当由政府直接履职的事项
    goods_and_works = "goods_and_works"  # 货物和工程，及工程和服务打包
    financing = "financing"  # 融资行为
    staffing = "staffing"  # 购人、购岗
    prohibited_by_law = "prohibited_by_law"  # 法律、行政法规规定的其他不得购买的事项


class NegativeListEntry(SQLModel, table=True):
    """负面清单条目: a kind of thing that may not be bought, with the terms that reveal it."""

    __tablename__ = "negative_list_entry"

    id: int | None = Field(default=None, primary_key=True)
    kind: NegativeKind = Field(sa_type=SAEnum(NegativeKind, native_enum=False, length=40))
    name: str = Field(max_length=200, unique=True)
    description: str = Field(default="", sa_type=Text)
    match_terms: str = Field(default="", sa_type=Text)  # one term per line
    active: bool = True
    created_at: datetime = timestamp_field()

    @property
    def terms(self) -> list[str]:
        return [t.strip() for t in self.match_terms.replace("，", "\n").replace(",", "\n")
                .splitlines() if t.strip()]


class NegativeListOverride(SQLModel, table=True):
    """负面清单例外: finance explains why one department's named project may be registered."""

    __tablename__ = "negative_list_override"

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int = Field(foreign_key="negative_list_entry.id", index=True)
    department_id: int = Field(foreign_key="organisation.id", index=True)
    project_name: str = Field(max_length=200)
    reason: str = Field(sa_type=Text)
    recorded_by: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = timestamp_field()
