"""Names of domain values as people read them, translated when displayed."""

from evalplatform.i18n import N_
from evalplatform.models import (
    DueCondition,
    EvaluationStage,
    EvaluationStatus,
    FilePurpose,
    MemberStatus,
    NegativeKind,
    OrganisationKind,
    ProcurementMethod,
    ProjectStatus,
    RelationshipKind,
    Role,
    SheetKind,
    SheetStatus,
    SupplierKind,
)

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

METHOD_LABELS = {
    ProcurementMethod.public_tender: N_("Public tender"),
    ProcurementMethod.invited_tender: N_("Invited tender"),
    ProcurementMethod.competitive_negotiation: N_("Competitive negotiation"),
    ProcurementMethod.competitive_consultation: N_("Competitive consultation"),
    ProcurementMethod.price_inquiry: N_("Price inquiry"),
    ProcurementMethod.single_source: N_("Single source"),
}

STATUS_LABELS = {
    ProjectStatus.ready: N_("Registered, procurement may start"),
    ProjectStatus.awaiting_approval: N_("Awaiting finance approval"),
    ProjectStatus.returned: N_("Returned by finance"),
    ProjectStatus.approved: N_("Approved by finance"),
    ProjectStatus.contracted: N_("Contracted"),
}

SUPPLIER_KIND_LABELS = {
    SupplierKind.social_organisation: N_("Social organisation"),
    SupplierKind.enterprise: N_("Enterprise"),
    SupplierKind.public_welfare_2: N_("Public-welfare class II institution"),
    SupplierKind.other: N_("Other"),
    SupplierKind.public_welfare_1: N_("Public-welfare class I institution"),
    SupplierKind.funded_mass_organisation: N_("Mass organisation funded by the budget"),
}

DUE_CONDITION_LABELS = {
    DueCondition.on_signing: N_("On signing"),
    DueCondition.after_interim: N_("After the interim evaluation"),
    DueCondition.after_final: N_("After the final evaluation"),
}

NEGATIVE_KIND_LABELS = {
    NegativeKind.outside_duties: N_("Services outside the government's duties"),
    NegativeKind.direct_duties: N_("Duties the government must perform itself"),
    NegativeKind.goods_and_works: N_("Goods and works, or works bundled with services"),
    NegativeKind.financing: N_("Financing"),
    NegativeKind.staffing: N_("The purchaser's own staffing (recruitment, dispatch, posts)"),
    NegativeKind.prohibited_by_law: N_("Anything else the law bars"),
}

EVALUATION_STAGE_LABELS = {
    EvaluationStage.interim: N_("Interim (monitoring)"),
    EvaluationStage.final: N_("Final"),
}

EVALUATION_STATUS_LABELS = {
    EvaluationStatus.draft: N_("Draft"),
    EvaluationStatus.collecting: N_("Collecting"),
    EvaluationStatus.scoring: N_("Scoring"),
    EvaluationStatus.computed: N_("Computed"),
    EvaluationStatus.published: N_("Publicised"),
    EvaluationStatus.final: N_("Final result"),
}

RELATIONSHIP_KIND_LABELS = {
    RelationshipKind.employed: N_("Employed by"),
    RelationshipKind.director_supervisor: N_("Director or supervisor of"),
    RelationshipKind.controlling: N_("Controls or holds a controlling stake in"),
    RelationshipKind.relative_of_legal_rep: N_("Close relative of the legal representative of"),
    RelationshipKind.recent_work: N_("Worked for"),
    RelationshipKind.other: N_("Other interest in"),
}

MEMBER_STATUS_LABELS = {
    MemberStatus.seated: N_("Seated"),
    MemberStatus.alternate: N_("Alternate"),
    MemberStatus.declined: N_("Declined"),
    MemberStatus.recused: N_("Recused (avoided)"),
}

SHEET_KIND_LABELS = {
    SheetKind.expert: N_("Panel expert"),
    SheetKind.firm: N_("Third-party firm"),
    SheetKind.occasion: N_("Purchaser, per occasion"),
    SheetKind.data: N_("Measured data"),
}

SHEET_STATUS_LABELS = {
    SheetStatus.draft: N_("Draft"),
    SheetStatus.submitted: N_("Submitted"),
}

FILE_PURPOSE_LABELS = {
    FilePurpose.evidence: N_("Evidence"),
    FilePurpose.report: N_("Evaluation report"),
    FilePurpose.self_evaluation: N_("Self-evaluation"),
}

RESULT_FIGURE_LABELS = {  # the figures of a result (services/result_check.FIGURES)
    "scheme_digest": N_("Scheme (its digest)"),
    "total": N_("Total score"),
    "exact_total": N_("Unrounded total"),
    "grade": N_("Grade"),
    "final_ready": N_("Ready to be final"),
    "missing": N_("Scores still missing"),
    "parts": N_("Part scores"),
    "nodes": N_("Indicator scores"),
    "quality": N_("Quality evidence"),
    "payment": N_("Payment"),
    "package": N_("Scoring package"),
}

INPUT_SOURCE_LABELS = {  # the collectors of a scoring package (services/evaluation_inputs)
    "scoresheets": N_("Scoresheets"),
    "survey": N_("Satisfaction survey"),
    "demo": N_("Demo data"),
}

#: Everything templates need to name domain values, under one global.
DOMAIN_LABELS = {
    "method": METHOD_LABELS,
    "status": STATUS_LABELS,
    "supplier_kind": SUPPLIER_KIND_LABELS,
    "due_condition": DUE_CONDITION_LABELS,
    "negative_kind": NEGATIVE_KIND_LABELS,
    "evaluation_stage": EVALUATION_STAGE_LABELS,
    "evaluation_status": EVALUATION_STATUS_LABELS,
    "relationship_kind": RELATIONSHIP_KIND_LABELS,
    "member_status": MEMBER_STATUS_LABELS,
    "sheet_kind": SHEET_KIND_LABELS,
    "sheet_status": SHEET_STATUS_LABELS,
    "file_purpose": FILE_PURPOSE_LABELS,
    "result_figure": RESULT_FIGURE_LABELS,
    "input_source": INPUT_SOURCE_LABELS,
}
