"""What each user must do next: the cards of the home page.

Each capability registers a provider that returns its cards for a role; the home page shows
whatever the providers return, most urgent first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from evalplatform.i18n import _
from evalplatform.models import AuditEntry, Organisation, Role, User


@dataclass(frozen=True)
class Card:
    title: str
    value: str
    detail: str = ""
    url: str | None = None
    urgent: bool = False

    @property
    def quiet(self) -> bool:
        """Nothing waits here (a count of 0): shown after the others, and small."""
        return self.value == "0"


@dataclass
class Board:
    role: Role
    cards: list[Card] = field(default_factory=list)

    @property
    def heading(self) -> str:
        """What the cards are to the reader: things to act on, except for an auditor, who
        changes nothing and reads them as things worth a look (值得关注的事项)."""
        if self.role == Role.auditor:
            return _("Worth a look:")
        return _("What needs your attention:")

    @property
    def empty(self) -> str:
        if self.role == Role.auditor:
            return _("Nothing stands out right now.")
        return _("Nothing is waiting for you right now.")


Provider = Callable[[Session, Role, int | None], list[Card]]
PROVIDERS: list[Provider] = []
#: Providers whose cards depend on the person, not only on the role and organisation (an
#: expert's own seats on panels): they get the signed-in principal.
PersonalProvider = Callable[[Session, Any], list[Card]]
PERSONAL_PROVIDERS: list[PersonalProvider] = []


def provider(fn: Provider) -> Provider:
    PROVIDERS.append(fn)
    return fn


def personal_provider(fn: PersonalProvider) -> PersonalProvider:
    PERSONAL_PROVIDERS.append(fn)
    return fn


def for_principal(session: Session, role: Role, organisation_id: int | None,
                  principal: Any = None) -> Board:
    cards: list[Card] = []
    for fn in PROVIDERS:
        cards.extend(fn(session, role, organisation_id))
    if principal is not None:
        for personal in PERSONAL_PROVIDERS:
            cards.extend(personal(session, principal))
    # what waits first, the urgent before the rest; the cards at 0 after them
    cards.sort(key=lambda c: (c.quiet, not c.urgent))
    return Board(role=role, cards=cards)


@provider
def _accounts(session: Session, role: Role, _org: int | None) -> list[Card]:
    if role != Role.admin:
        return []
    users = session.exec(select(func.count()).select_from(User)).one()
    inactive = session.exec(
        select(func.count()).select_from(User).where(User.active == False)  # noqa: E712
    ).one()
    orgs = session.exec(select(func.count()).select_from(Organisation)).one()
    return [
        Card(_("Users"), str(users), _("%(n)s deactivated", n=inactive), "/admin/users"),
        Card(_("Organisations"), str(orgs), "", "/admin/organisations"),
    ]


@provider
def _audit(session: Session, role: Role, _org: int | None) -> list[Card]:
    if role not in (Role.auditor, Role.admin, Role.finance):
        return []
    entries = session.exec(select(func.count()).select_from(AuditEntry)).one()
    return [Card(_("Audit log entries"), str(entries), _("Verify the chain from the audit log."),
                 "/audit")]
