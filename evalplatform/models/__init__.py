"""The database tables. Every table module is imported here so that Alembic sees it."""

from evalplatform.models.accounts import Organisation, OrganisationKind, Role, User
from evalplatform.models.appeals import Appeal, AppealStatus
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
from evalplatform.models.experts import (
    Expert,
    ExpertRelationship,
    MemberStatus,
    PanelDraw,
    PanelFirm,
    PanelMember,
    RelationshipKind,
)
from evalplatform.models.idempotency import IdempotencyKey
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
from evalplatform.models.scoresheets import (
    FilePurpose,
    Scoresheet,
    ScoringFile,
    SelfEvaluation,
    SheetKind,
    SheetStatus,
)
from evalplatform.models.settlements import (
    Acceptance,
    AcceptanceConclusion,
    ContractTerms,
    ReviewDecision,
    Settlement,
    SettlementBasis,
    SettlementStatus,
    StandingSettings,
    SupplierComplaint,
    TerminationReview,
)
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
    "Appeal",
    "AppealStatus",
    "Acceptance",
    "AcceptanceConclusion",
    "ContractTerms",
    "ReviewDecision",
    "Settlement",
    "SettlementBasis",
    "SettlementStatus",
    "StandingSettings",
    "SupplierComplaint",
    "TerminationReview",
    "AuditEntry",
    "AuditHead",
    "IdempotencyKey",
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
    "Expert",
    "ExpertRelationship",
    "FilePurpose",
    "Instalment",
    "MemberStatus",
    "NegativeKind",
    "NegativeListEntry",
    "NegativeListOverride",
    "PanelDraw",
    "PanelFirm",
    "PanelMember",
    "ProcurementMethod",
    "Project",
    "ProjectStatus",
    "RelationshipKind",
    "Scoresheet",
    "ScoringFile",
    "SelfEvaluation",
    "SheetKind",
    "SheetStatus",
    "SupplierKind",
    "SupplierProfile",
    "Organisation",
    "OrganisationKind",
    "Role",
    "ThrottleCounter",
    "User",
]
