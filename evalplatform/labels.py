"""Names of domain values as people read them, translated when displayed."""

from evalplatform.i18n import N_
from evalplatform.models import OrganisationKind, Role

# Labels shown to people; translated when displayed.

ROLE_LABELS = {
    Role.finance: N_("Finance"),
    Role.purchaser: N_("Purchaser"),
    Role.evaluator: N_("Evaluator"),
    Role.supplier: N_("Supplier"),
    Role.auditor: N_("Auditor"),
    Role.admin: N_("Administrator"),
}

ORGANISATION_KIND_LABELS = {
    OrganisationKind.finance_bureau: N_("Finance bureau"),
    OrganisationKind.purchasing_department: N_("Purchasing department"),
    OrganisationKind.supplier: N_("Supplier"),
    OrganisationKind.third_party_firm: N_("Third-party evaluation firm"),
    OrganisationKind.oversight_body: N_("Oversight body"),
}
