"""Builders for the panel and scoresheet tests (no tests here): an expert pool, lone expert
accounts, principals for the services, an evaluation that is collecting with a drawn panel.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from unittest import mock

from sqlmodel import select

from evalplatform.models import Evaluation, Expert, MemberStatus, Organisation, PanelMember, User
from evalplatform.services import accounts, evaluations, experts, panel, scoresheets  # noqa: F401
from evalplatform.services.audit import SYSTEM
from evalplatform.web.access import Principal
from tests.builders import World, contracted_world, schedule
from tests.conftest import PASSWORD


def principal(db, user: User) -> Principal:
    organisation = db.get(Organisation, user.organisation_id) if user.organisation_id else None
    return Principal(user.id, user.username, user.display_name, user.role, user.organisation_id,
                     organisation.name if organisation else None,
                     organisation.kind if organisation else None)


@lru_cache
def _hashed(password: str) -> str:
    from evalplatform.security import hash_password

    return hash_password(password)


@contextmanager
def hashing_once():
    """Argon2 takes half a second a hash; the builders make many accounts with one password,
    so they hash it once (the hash is real: these accounts sign in as usual)."""
    with mock.patch.object(accounts, "hash_password", _hashed):
        yield


def lone_evaluator(db, name: str, username: str | None = None) -> User:
    """An expert's own evaluator account (no organisation)."""
    with hashing_once():
        return accounts.create_user(db, SYSTEM, username=username or f"zj{uuid.uuid4().hex[:8]}",
                                display_name=name, role="evaluator", organisation_id=None,
                                password=PASSWORD)


NAMES = ["林国华", "陈思远", "黄晓梅", "周建平", "吴立新", "郑文涛", "孙静怡", "马骏", "朱丽娟",
         "胡海涛", "高志明", "罗雅琴"]


def expert_pool(db, world: World, n: int = 6, *, sector: str = "D02", accounts_too: bool = True
                ) -> list[Expert]:
    pool = []
    for i in range(n):
        user = lone_evaluator(db, NAMES[i % len(NAMES)]) if accounts_too else None
        pool.append(experts.save(db, world.f_actor, {
            "name": NAMES[i % len(NAMES)], "employer": f"临江大学{i}", "title": "教授",
            "phone": f"1380000{i:04d}", "specialities": [sector],
            "user_id": str(user.id) if user else ""}))
    return pool


@dataclass
class PanelWorld:
    world: World
    evaluation: Evaluation
    pool: list[Expert]

    def seated(self, db) -> list[PanelMember]:
        return [m for m in panel.members(db, self.evaluation.id) if m.status == MemberStatus.seated]

    def alternates(self, db) -> list[PanelMember]:
        return [m for m in panel.members(db, self.evaluation.id)
                if m.status == MemberStatus.alternate]

    def user_of(self, db, member: PanelMember) -> User:
        return db.get(User, db.get(Expert, member.expert_id).user_id)

    def expert_principal(self, db, member: PanelMember) -> Principal:
        return principal(db, self.user_of(db, member))

    @property
    def purchaser(self):
        return self.world.purchaser

    def part(self, db, party: str) -> dict:
        doc = evaluations.scheme_document(db, self.evaluation)
        return next(p for p in doc["parts"] if p["party"] == party)


def panel_world(db, make_user, make_org, *, pool_size: int = 6, seats: int = 3,
                alternates: int = 1, stage: str = "final", draw: bool = True, n: int = 1,
                sector: str = "D02") -> PanelWorld:
    """A contracted world, an evaluation that is collecting and (unless ``draw`` is False) a
    drawn panel from a pool of experts of one sector (default street cleaning, 市容环卫 D02)."""
    with hashing_once():
        world = contracted_world(db, make_user, make_org, n=n)
    pool = expert_pool(db, world, pool_size, sector=sector)
    evaluation = schedule(db, world, stage=stage)
    evaluation = evaluations.open_now(db, world.p_actor, evaluation.id)
    if draw:
        panel.draw(db, principal(db, world.purchaser), evaluation.id,
                   {"size": str(seats), "alternates": str(alternates), "specialities": [sector]})
    db.refresh(evaluation)
    return PanelWorld(world, evaluation, pool)


def find_user(db, username: str) -> User:
    return db.exec(select(User).where(User.username == username)).one()
