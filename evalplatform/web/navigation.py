"""The navigation menu by role. Later capabilities add their entries here."""

from __future__ import annotations

from dataclasses import dataclass

from evalplatform.i18n import N_, LazyString
from evalplatform.models import Role

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class NavItem:
    label: LazyString
    url: str
    roles: frozenset[Role]


NAVIGATION: list[NavItem] = [
    NavItem(N_("Home"), "/", ALL_ROLES),
    NavItem(N_("Projects"), "/projects", frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Contracts"), "/contracts",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier})),
    NavItem(N_("Due and late"), "/due", frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Suppliers"), "/suppliers", frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Catalogue"), "/catalogue", frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Negative list"), "/negative-list",
            frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Evaluations"), "/evaluations",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier, Role.evaluator})),
    NavItem(N_("Appeals"), "/appeals",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier})),
    NavItem(N_("Published results"), "/results",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier, Role.evaluator})),
    NavItem(N_("Settlements"), "/settlements",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier})),
    NavItem(N_("Standing"), "/standing",
            frozenset({Role.finance, Role.purchaser, Role.auditor, Role.supplier})),
    NavItem(N_("Indicator schemes"), "/schemes",
            frozenset({Role.finance, Role.purchaser, Role.auditor})),
    NavItem(N_("Expert pool"), "/experts", frozenset({Role.finance, Role.auditor})),
    NavItem(N_("Audit log"), "/audit", frozenset({Role.auditor, Role.finance, Role.admin})),
    # the auditor reads accounts and the calendar, finance the calendar (web/routes/admin.py)
    NavItem(N_("Users"), "/admin/users", frozenset({Role.admin, Role.auditor})),
    NavItem(N_("Organisations"), "/admin/organisations", frozenset({Role.admin, Role.auditor})),
    NavItem(N_("Holidays"), "/admin/holidays", frozenset({Role.admin, Role.auditor, Role.finance})),
    NavItem(N_("My account"), "/account", ALL_ROLES),
]


def menu_for(role: Role) -> list[NavItem]:
    return [item for item in NAVIGATION if role in item.roles]
