"""The database tables. Every table module is imported here so that Alembic sees it."""

from evalplatform.models.accounts import Organisation, OrganisationKind, Role, User
from evalplatform.models.audit import AuditEntry, AuditHead
from evalplatform.models.schemes import IndicatorScheme
from evalplatform.models.throttle import ThrottleCounter

__all__ = [
    "AuditEntry",
    "AuditHead",
    "IndicatorScheme",
    "Organisation",
    "OrganisationKind",
    "Role",
    "ThrottleCounter",
    "User",
]
