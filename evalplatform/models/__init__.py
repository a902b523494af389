"""The database tables. Every table module is imported here so that Alembic sees it."""

from evalplatform.models.accounts import Organisation, OrganisationKind, Role, User
from evalplatform.models.audit import AuditEntry, AuditHead
from evalplatform.models.catalogue import (
    CatalogueEntry,
    CatalogueIssue,
    NegativeKind,
    NegativeListEntry,
    NegativeListOverride,
)
from evalplatform.models.evaluations import (
    Evaluation,
    EvaluationStage,
    EvaluationStatus,
)
from evalplatform.models.projects import (
    Contract,
    DueCondition,
    Instalment,
    ProcurementMethod,
    Project,
    ProjectStatus,
    SupplierKind,
    SupplierProfile,
)
from evalplatform.models.results import EvaluationResult
from evalplatform.models.schemes import IndicatorScheme
from evalplatform.models.throttle import ThrottleCounter
from surveys.models import (  # the survey tables live with the surveys package
    Invitation,
    InvitationBatch,
    Questionnaire,
    Survey,
    SurveyResponse,
    SurveySite,
)

__all__ = [
    "AuditEntry",
    "AuditHead",
    "IndicatorScheme",
    "Invitation",
    "InvitationBatch",
    "Questionnaire",
    "Survey",
    "SurveyResponse",
    "SurveySite",
    "CatalogueEntry",
    "CatalogueIssue",
    "Contract",
    "DueCondition",
    "Evaluation",
    "EvaluationResult",
    "EvaluationStage",
    "EvaluationStatus",
    "Instalment",
    "NegativeKind",
    "NegativeListEntry",
    "NegativeListOverride",
    "ProcurementMethod",
    "Project",
    "ProjectStatus",
    "SupplierKind",
    "SupplierProfile",
    "Organisation",
    "OrganisationKind",
    "Role",
    "ThrottleCounter",
    "User",
]
