"""The demo city (临江市): organisations and users for every role, loaded into an empty database.

Passwords are random and printed once by ``evalplatform demo``; set ``EVAL_DEMO_PASSWORD``
to give every demo user the same known password (for scripted trials only).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from evalplatform.models import OrganisationKind, Role, User
from evalplatform.services import accounts
from evalplatform.services.audit import SYSTEM
from evalplatform.services.credit_code import check_character

CITY = "临江市"
REGION = "330199"  # a fictional county-level code of a coastal province


def credit_code(registry: str, org_code8: str) -> str:
    """A well-formed 统一社会信用代码: registry (2), region (6), organisation code (9), check."""
    body = org_code8 + "0"  # the organisation code's own check digit is not validated here
    first17 = registry + REGION + body
    return first17 + check_character(first17)


ORGANISATIONS = [
    # name, kind, credit code (None for government bodies registered without one)
    (f"{CITY}财政局", OrganisationKind.finance_bureau, credit_code("11", "00000101")),
    (f"{CITY}民政局", OrganisationKind.purchasing_department, credit_code("11", "00000102")),
    (f"{CITY}城市管理局", OrganisationKind.purchasing_department, credit_code("11", "00000103")),
    (f"{CITY}人力资源和社会保障局", OrganisationKind.purchasing_department,
     credit_code("11", "00000104")),
    (f"{CITY}审计局", OrganisationKind.oversight_body, credit_code("11", "00000105")),
    (f"{CITY}福康居家养老服务中心", OrganisationKind.supplier, credit_code("52", "MJ000201")),
    (f"{CITY}洁城环境服务有限公司", OrganisationKind.supplier, credit_code("91", "MA000202")),
    (f"{CITY}启航职业技能培训学校", OrganisationKind.supplier, credit_code("52", "MJ000203")),
    (f"{CITY}同心社会工作服务中心", OrganisationKind.supplier, credit_code("52", "MJ000204")),
    ("浙临正衡绩效评价咨询有限公司", OrganisationKind.third_party_firm, credit_code("91", "MA000301")),
]

USERS = [
    # username, name, role, organisation (index into ORGANISATIONS or None)
    ("admin", "平台管理员", Role.admin, None),
    ("caizheng", "王建国", Role.finance, 0),
    ("caizheng2", "李敏", Role.finance, 0),
    ("minzheng", "张丽", Role.purchaser, 1),
    ("chengguan", "刘强", Role.purchaser, 2),
    ("renshe", "陈静", Role.purchaser, 3),
    ("shenji", "周涛", Role.auditor, 4),
    ("fukang", "孙慧芳", Role.supplier, 5),
    ("jiecheng", "吴志刚", Role.supplier, 6),
    ("qihang", "郑晓燕", Role.supplier, 7),
    ("tongxin", "何文博", Role.supplier, 8),
    ("pingjia", "赵磊", Role.evaluator, 9),
    ("pingjia2", "钱雪", Role.evaluator, 9),
]


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: Role
    organisation: str | None
    password: str


def _password() -> str:
    fixed = os.environ.get("EVAL_DEMO_PASSWORD")
    if fixed:
        return fixed
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def load(session: Session) -> list[DemoAccount]:
    """Create the demo city's organisations and users; returns the accounts with passwords."""
    orgs = [
        accounts.create_organisation(session, SYSTEM, name=name, kind=kind, credit_code=code)
        for name, kind, code in ORGANISATIONS
    ]
    created: list[DemoAccount] = []
    users = {}
    for username, name, role, org_index in USERS:
        org = orgs[org_index] if org_index is not None else None
        password = _password()
        users[username] = accounts.create_user(
            session, SYSTEM, username=username, display_name=name, role=role,
            organisation_id=org.id if org else None, password=password,
        )
        created.append(DemoAccount(username, name, role, org.name if org else None, password))
    from evalplatform.services import demo_projects
    from evalplatform.services.scheme_templates import ensure_templates

    ensure_templates(session)  # the built-in indicator scheme templates
    demo_projects.load(session, {o.name: o for o in orgs}, users)
    from evalplatform.services import demo_scoresheets

    for user, password in demo_scoresheets.load(session, {o.name: o for o in orgs}, users,
                                                 _password):
        created.append(DemoAccount(user.username, user.display_name, user.role, None, password))
    from evalplatform.services import demo_surveys

    demo_surveys.load(session, users)  # questionnaires and a few hundred answers
    # results use what the capabilities above stored, then settle the past year
    from evalplatform.services import demo_results

    demo_results.load(session, users)
    from evalplatform.services import demo_settlements

    demo_settlements.load(session, {o.name: o for o in orgs}, users)  # the past year's results
    return created
