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

#: What changed after each earlier scoring engine (scoring.ENGINE_CHANGES), for the result
#: check: why a result it stored differs from today's in those figures
ENGINE_CHANGE_LABELS = {
    "evalplatform-scoring/1": N_("Since evalplatform-scoring/2 the margin of error of a "
                                 "satisfaction rate over several questions counts the people "
                                 "who answered, not their answers (one person's answers are "
                                 "not independent), so it is wider; each rate also gives its "
                                 "respondents. Since evalplatform-scoring/3 a satisfaction "
                                 "rate of 0 % or 100 % has a margin of error (the half-width "
                                 "of its Wilson interval) instead of ±0. The scores, grade and "
                                 "payment are computed as before."),
    "evalplatform-scoring/2": N_("Since evalplatform-scoring/3 a satisfaction rate of 0 % or "
                                 "100 % (everyone satisfied, or no one) has a margin of error, "
                                 "the half-width of its Wilson interval over the people who "
                                 "answered, instead of ±0, which claimed an exact rate. The "
                                 "scores, grade and payment are computed as before."),
}

INPUT_SOURCE_LABELS = {  # the collectors of a scoring package (services/evaluation_inputs)
    "scoresheets": N_("Scoresheets"),
    "survey": N_("Satisfaction survey"),
    "demo": N_("Demo data"),
}

#: What each audited action is called (services call ``audit.record`` with these codes;
#: a test walks the code base and fails on a code without a label). The code itself stays
#: on the audit pages, small, for auditors.
ACTION_LABELS = {
    "acceptance.record": N_("Acceptance recorded"),
    "acceptance.reaccept": N_("Re-acceptance after rectification recorded"),
    "appeal.file": N_("Appeal filed"),
    "appeal.open": N_("Appeal set open"),
    "appeal.upheld": N_("Appeal decided: the result stands"),
    "appeal.reopened": N_("Appeal decided: re-scoring"),
    "appeal.withdrawn": N_("Appeal withdrawn by the supplier"),
    "catalogue.create": N_("Catalogue entry added"),
    "catalogue.update": N_("Catalogue entry changed"),
    "catalogue.import": N_("Catalogue imported from Excel"),
    "catalogue.issue": N_("Catalogue issue recorded"),
    "catalogue.publish": N_("Catalogue publication recorded"),
    "catalogue.seed": N_("Standard catalogue loaded"),
    "complaint.record": N_("Complaint recorded"),
    "contract.publish": N_("Contract publication recorded"),
    "contract.record": N_("Contract recorded"),
    "contract.scheme": N_("Indicator scheme given to the contract"),
    "contract.signed_copy": N_("Signed copy of the contract uploaded"),
    "contract.termination_review": N_("Contract termination reviewed"),
    "contract.terms": N_("Contract settlement terms set"),
    "evaluation.create": N_("Evaluation scheduled"),
    "evaluation.draft": N_("Evaluation back to draft"),
    "evaluation.collecting": N_("Evaluation collecting"),
    "evaluation.scoring": N_("Evaluation in scoring"),
    "evaluation.computed": N_("Evaluation result computed"),
    "evaluation.published": N_("Evaluation result publicised"),
    "evaluation.final": N_("Evaluation result final"),
    "evaluation.report": N_("Evaluation report uploaded"),
    "evaluation.report_withdrawn": N_("Evaluation report withdrawn"),
    "evaluation.report_filed": N_("Evaluation report filed"),
    "evaluation.self_evaluation": N_("Self-evaluation handed in"),
    "expert.create": N_("Expert added to the pool"),
    "expert.relationship": N_("Expert's interest declared"),
    "expert.update": N_("Expert's details changed"),
    "holidays.load": N_("Holiday calendar loaded"),
    "negative_list.override": N_("Negative-list exception recorded"),
    "negative_list.terms": N_("Negative-list keywords changed"),
    "organisation.create": N_("Organisation created"),
    "organisation.update": N_("Organisation's details corrected"),
    "panel.decline": N_("Panel member declined"),
    "panel.recuse": N_("Panel member recused"),
    "panel.draw": N_("Expert panel drawn"),
    "panel.firm": N_("Third-party firm engaged"),
    "panel.firm_removed": N_("Third-party firm removed"),
    "project.approve": N_("Project approved"),
    "project.contracted": N_("Project contracted"),
    "project.ex_ante": N_("Ex-ante assessment uploaded"),
    "project.register": N_("Project registered"),
    "project.resubmit": N_("Project resubmitted"),
    "project.revise": N_("Project corrected"),
    "project.return": N_("Project returned"),
    "result.compute": N_("Result computed"),
    "result.final": N_("Result made final"),
    "result.publish": N_("Result publicised"),
    "scheme.check": N_("Scheme checked"),
    "scheme.copy": N_("Scheme copied"),
    "scheme.create": N_("Scheme created"),
    "scheme.freeze": N_("Scheme frozen"),
    "scheme.node.add": N_("Indicator added"),
    "scheme.node.ahp": N_("Indicator weights set by AHP"),
    "scheme.node.weights": N_("Indicator weights set from past results"),
    "scheme.node.delete": N_("Indicator deleted"),
    "scheme.node.move": N_("Indicator moved"),
    "scheme.node.rule": N_("Scoring rule set"),
    "scheme.node.update": N_("Indicator changed"),
    "scheme.part.add": N_("Scheme part added"),
    "scheme.part.delete": N_("Scheme part deleted"),
    "scheme.part.update": N_("Scheme part changed"),
    "scheme.settings": N_("Scheme settings changed"),
    "scheme.version": N_("New scheme version"),
    "scoresheet.create": N_("Scoresheet created"),
    "scoresheet.evidence": N_("Scoresheet evidence uploaded"),
    "scoresheet.reopen": N_("Scoresheet reopened"),
    "scoresheet.reopen_request": N_("Scoresheet reopening requested"),
    "scoresheet.submit": N_("Scoresheet submitted"),
    "settlement.approve": N_("Settlement approved"),
    "settlement.pay": N_("Payment recorded"),
    "settlement.propose": N_("Settlement proposed"),
    "settlement.return": N_("Settlement returned"),
    "settlement.withdraw": N_("Settlement approval withdrawn"),
    "standing.settings": N_("Performance credit settings changed"),
    "supplier.profile": N_("Supplier details changed"),
    "supplier.register": N_("Supplier registered"),
    "survey.close": N_("Survey closed"),
    "survey.create": N_("Survey created"),
    "survey.invitations": N_("Invitation codes issued"),
    "survey.open": N_("Survey opened"),
    "survey.population": N_("Survey population set"),
    "survey.questionnaire.edit": N_("Questionnaire edited"),
    "survey.questionnaire.publish": N_("Questionnaire published"),
    "survey.questionnaire.version": N_("New questionnaire version"),
    "survey.site": N_("Service site added"),
    "survey.site.active": N_("Service site link reopened"),
    "survey.site.stop": N_("Service site link stopped"),
    "user.activate": N_("User activated"),
    "user.create": N_("User created"),
    "user.deactivate": N_("User deactivated"),
    "user.login": N_("Signed in"),
    "user.logout": N_("Signed out"),
    "user.password": N_("Password changed"),
    "user.password_reset": N_("Password reset by the administrator"),
    "user.update": N_("User's details corrected"),
}

#: What each kind of audited object is called (the ``entity_type`` services pass to
#: ``audit.record``; a test walks the code base and fails on one without a label). The type
#: itself stays on the audit pages, small, for auditors.
ENTITY_LABELS = {
    "acceptance": N_("Acceptance"),
    "appeal": N_("Appeal"),
    "catalogue": N_("Catalogue"),
    "catalogue_entry": N_("Catalogue entry"),
    "catalogue_issue": N_("Catalogue issue"),
    "contract": N_("Contract"),
    "evaluation": N_("Evaluation"),
    "evaluation_result": N_("Evaluation result"),
    "expert": N_("Expert"),
    "holiday_schedule": N_("Holiday calendar"),
    "indicator_scheme": N_("Indicator scheme"),
    "negative_list_entry": N_("Negative-list entry"),
    "negative_list_override": N_("Negative-list exception"),
    "organisation": N_("Organisation (unit)"),
    "project": N_("Project"),
    "scoresheet": N_("Scoresheet"),
    "settlement": N_("Settlement"),
    "standing_settings": N_("Performance credit settings"),
    "supplier_complaint": N_("Complaint about a supplier"),
    "survey": N_("Satisfaction survey"),
    "user": N_("User account"),
}

#: Reasons the platform records by itself in the audit log (a result made final when its
#: appeal window closed), in the reader's language; a reason a person typed is shown as typed.
SYSTEM_REASON_LABELS = {
    "appeal window closed": N_("the appeal window closed without an open appeal"),
    "schedule": N_("its schedule ended"),  # a survey closed by the clock
    "organiser": N_("closed by the organiser"),
}

#: The names of the details most audit entries carry; others show their key.
CHANGE_FIELD_LABELS = {
    "name": N_("Name"),
    "year": N_("Year"),
    "budget_fen": N_("Budget"),
    "budget_line": N_("Budget line"),
    "amount_fen": N_("Amount"),
    "method": N_("Procurement method"),
    "catalogue": N_("Catalogue entry"),
    "status": N_("Status"),
    "reason": N_("Reason"),
    "note": N_("Note"),
    "published_on": N_("Published on"),
    "issued_on": N_("Issued on"),
    "signed_on": N_("Signed on"),
    "term_months": N_("Term (months)"),
    "supplier": N_("Supplier"),
    "project_id": N_("Project"),
    "project_name": N_("Project name"),
    "contract": N_("Contract"),
    "contract_id": N_("Contract"),
    "evaluation": N_("Evaluation"),
    "stage": N_("Stage"),
    "grade": N_("Grade"),
    "total": N_("Total score"),
    "username": N_("Username"),
    "display_name": N_("Display name"),
    "role": N_("Role"),
    "organisation": N_("Organisation"),
    "organisation_id": N_("Organisation"),
    "credit_code": N_("Unified social credit code"),
    "kind": N_("Kind"),
    "supplier_kind": N_("Supplier kind"),
    "small_medium": N_("Small or medium enterprise"),
    "filename": N_("File name"),
    "size": N_("Size (bytes)"),
    "deduction_fen": N_("Deduction"),
    "payable_fen": N_("Payable"),
    "interest_fen": N_("Interest"),
    "instalment_fen": N_("Instalment"),
    "paid_on": N_("Paid on"),
    "voucher_no": N_("Voucher number"),
    "due_on": N_("Due on"),
    "deadline": N_("Deadline"),
    "appeal_deadline": N_("Appeal deadline"),
    "opens_at": N_("Opens at"),
    "closes_at": N_("Closes at"),
    "decision": N_("Decision"),
    "active": N_("Active"),
    "accepted_on": N_("Accepted on"),
    "conclusion": N_("Conclusion"),
    "version": N_("Version"),
    "weight": N_("Weight"),
    "points": N_("Points"),
    "instalments": N_("Instalments"),
    "department": N_("Department"),
    "interest_per_day": N_("Interest per day"),
    "termination_threshold": N_("Termination threshold"),
    "entries": N_("Entries"),
    "created": N_("Entries added"),
    "updated": N_("Entries changed"),
    "unchanged": N_("Entries unchanged"),
    "expert": N_("Expert"),
    "firm": N_("Third-party firm"),
    "result": N_("Result"),
    # indicator schemes: how the points of a node's children were weighted
    "node": N_("Indicator"),
    "cr": N_("Consistency ratio (CR)"),
    "weighting": N_("Weighting method"),
    "share": N_("AHP's share (α)"),
    "evaluations": N_("Evaluations whose published results were the data"),
    # settlements and contracts, as finance reads their entries
    "late_days": N_("Days late"),
    "basis": N_("Basis"),
    "ratio": N_("Ratio"),
    "rule": N_("Payment rule"),
    "payment_rule": N_("Payment rule"),
    "instalment": N_("Instalment number"),
    "seq": N_("Instalment number"),
    "due": N_("Payable when"),
    "linked": N_("Linked to performance"),
    "percent": N_("Share"),
    "min_score": N_("Minimum score"),
    "again": N_("Proposed again"),
    "payment_days": N_("Payment period (days)"),
    "signed_copy": N_("Signed copy"),
    "stable_continuous": N_("Stable and continuous service"),
    "bands": N_("Grade bands"),
    "scheme": N_("Indicator scheme"),
    "opinion": N_("Acceptance opinion"),
    "participants": N_("Participants"),
    "participation": N_("Participation"),
    "survey_url": N_("Survey link"),
    "corrected": N_("Corrected"),
    # corrections of users and organisations, and password resets
    "before": N_("Before"),
    "after": N_("After"),
    "generated": N_("Generated by the platform"),
    "must_change_password": N_("Must set a new password"),
    "after_reset": N_("After a reset by the administrator"),
    # expert panels (专家抽取): what an auditor needs to replay a draw
    "draw": N_("Draw number"),
    "round": N_("Round"),
    "algorithm": N_("Draw method"),
    "seed": N_("Random seed"),
    "candidates": N_("Candidates"),
    "excluded": N_("Experts avoided"),
    "seats": N_("Experts drawn"),
    "alternates": N_("Number of alternates"),
    "alternate_ids": N_("Alternates drawn"),
    "assignment": N_("Assignment"),
    "employer": N_("Employer"),
    "specialities": N_("Specialities"),
    "relationship": N_("Relationship"),
    "started_on": N_("Relationship from"),
    "ended_on": N_("Relationship until"),
    "user_id": N_("Account"),
    # surveys
    "batch": N_("Invitation batch"),
    "label": N_("Label"),
    "issued": N_("Codes issued"),
    "used": N_("Codes used"),
    "closed": N_("Answers with a code"),
    "open": N_("Answers by open link"),
    "paper": N_("Answers on paper"),
    "questions": N_("Questions"),
    "questionnaire_version": N_("Questionnaire version"),
    "site": N_("Service site"),
    "device_limit": N_("Answers per phone"),
    "template": N_("Template"),
    # scoresheets, self-evaluations and results
    "part": N_("Evaluation part"),
    "scorer": N_("Scorer"),
    "scores": N_("Scores"),
    "late": N_("Submitted late"),
    "claimed_total": N_("Self-assessed total"),
    "summary": N_("Content summary"),
    "file": N_("File"),
    "sha256": N_("SHA-256"),
    "period": N_("Evaluation period"),
    "missing": N_("Missing scores"),
    "final_ready": N_("Complete (can become final)"),
    "scheme_digest": N_("Scheme fingerprint"),
    "working_days": N_("Appeal window (working days)"),
    "today": N_("Date"),
    "received_on": N_("Received on"),
    "negative_list": N_("Negative list entries"),
    # inside a detail: a candidate expert of a draw and why one was avoided
    "id": N_("ID"),
    "reasons": N_("Reasons for avoidance"),
    "code": N_("Code"),
    "party": N_("Party"),
    # a panel member who declined or was recused, and who took the seat
    "member": N_("Panel member"),
    "position": N_("Position on the panel"),
    "seated_instead": N_("Alternate seated instead"),
    # a sheet's scores, each indicator's by what the scorer gave: points, a tier, a
    # measured value with its source, or "not applicable" with the reason
    "tier": N_("Tier"),
    "na": N_("Reason not applicable"),
    "value": N_("Measured value"),
    "source": N_("Source"),
    "leaf": N_("Indicator"),
    "leaves": N_("Indicators"),
    "requested": N_("What to look at again"),
    "scores_before": N_("Scores before reopening"),
    # appeals (申诉) and the reopening they lead to
    "appeal": N_("Appeal"),
    "evidence": N_("Evidence"),
    # indicator schemes: parts, indicators and their rules
    "parent": N_("Parent indicator"),
    "direction": N_("Direction"),
    "valid": N_("Passes every check"),
    "grades": N_("Grades"),
    "min": N_("Lower bound"),
    "type": N_("Kind"),
    "tiers": N_("Tiers and coefficients"),
    "coefficient": N_("Coefficient"),
    "target": N_("Target"),
    "unit": N_("Unit"),
    "scale": N_("Scale"),
    "satisfied": N_("Answers counted as satisfied"),
    # a settlement's payment rule, linear
    "linear": N_("Linear rule"),
    "floor": N_("Floor score (linear rule)"),
    "floor_score": N_("Floor score (linear rule)"),
    "full": N_("Score paid in full"),
    # the questionnaire editor
    "action": N_("Edit made"),
    "question": N_("Question"),
    "population": N_("People served"),
    # a correction: each field changed, before and after
    "from": N_("Before"),
    "previous": N_("Before"),
    "to": N_("After"),
    "changes": N_("Fields corrected"),
    "content": N_("Service content"),
    "recipients": N_("Service recipients"),
    "catalogue_entry_id": N_("Catalogue entry"),
    "procurement_method": N_("Procurement method"),
    "target_quantity": N_("Quantity target"),
    "target_quality": N_("Quality target"),
    "target_timeliness": N_("Timeliness target"),
    "target_cost": N_("Cost target"),
    "target_benefit": N_("Benefit target"),
    "target_satisfaction": N_("Satisfaction target"),
    "description": N_("Description"),
    "contact": N_("Contact details"),
    # the negative list and the exceptions a registration relied on
    "entry": N_("Negative-list entry"),
    "term": N_("Matched keyword"),
    "override": N_("Negative-list exception"),
    "negative_list_overrides": N_("Negative-list exceptions applied"),
    "created_codes": N_("Codes added"),
    "updated_codes": N_("Codes changed"),
    # files filed, and what a withdrawn approval had said
    "filed_on": N_("Filed on"),
    "replaces": N_("Replaces the copy (SHA-256)"),
    "result_version": N_("Result version"),
    "ex_ante_sha256": N_("Ex-ante assessment (SHA-256)"),
    "approved_by": N_("Approved by (account)"),
    "approved_at": N_("Approved at"),
    "failed": N_("The failed acceptance before"),
    "payments": N_("Payments counted again"),
    # the holiday calendar and the performance-credit rules
    "off": N_("Days off"),
    "worked": N_("Weekend days worked"),
    "bar_grade": N_("Grade that bars"),
    "bar_below": N_("A total below this bars too"),
    "bar_years": N_("Barred until the end of the year this many years later"),
    "warn_consecutive": N_("Results in a row below the threshold that warn"),
    "default_threshold": N_("Default threshold of a contract"),
    "preferred_grade": N_("Grade that marks preferred"),
    "lookback_years": N_("Recent results: final within this many years"),
    "results": N_("Results reviewed"),
}

#: Details named by the kind of record: an evaluation's "from" is the status it left.
ENTITY_CHANGE_FIELD_LABELS = {
    ("evaluation", "from"): N_("Previous status"),
    ("contract", "from"): N_("Previous indicator scheme"),
    ("indicator_scheme", "from"): N_("Copied from scheme"),
    ("survey", "total"): N_("Answers in all"),
    ("survey", "from"): N_("Copied from version"),
    ("survey", "type"): N_("Question type"),
    ("expert", "title"): N_("Professional title"),
    # a user's organisation by its number, beside its name (a correction records both)
    ("user", "organisation_id"): N_("Organisation number"),
    ("indicator_scheme", "rule"): N_("Scoring rule"),
    ("indicator_scheme", "type"): N_("Kind of rule"),
    ("indicator_scheme", "party"): N_("Evaluating party"),
    ("indicator_scheme", "bands"): N_("Bands of a measured value"),
}

#: Details named by the action: a "size" is a file's bytes, a panel's seats or a batch's codes.
#: How the points of an indicator's children were weighted (``services.scheme_weights``).
WEIGHTING_LABELS = {
    "ahp": N_("AHP"),
    "entropy": N_("Entropy method"),
    "combined": N_("Combined: AHP and the entropy method"),
}

ACTION_CHANGE_FIELD_LABELS = {
    ("panel.draw", "size"): N_("Panel size"),
    ("survey.invitations", "size"): N_("Codes in the batch"),
    # a scheme's "missing" is its rule for missing scores (缺失处理); a result's, how many
    ("result.compute", "missing"): N_("Scores still missing"),
    ("survey.create", "questions"): N_("Number of questions"),
    ("survey.open", "questions"): N_("Number of questions"),
    # a contract's publication recorded again with another day: the day it replaced
    ("contract.publish", "previous"): N_("Publication date replaced"),
    # the indicators an appeal disputes, and those a decision reopens for rescoring
    ("appeal.file", "leaves"): N_("Disputed indicators"),
    ("appeal.upheld", "leaves"): N_("Indicators to reopen"),
    ("appeal.reopened", "leaves"): N_("Indicators to reopen"),
    ("evaluation.scoring", "leaves"): N_("Indicators to reopen"),
}

#: Codes a few details hold, named (the rest are named in ``DOMAIN_LABELS`` and the services'
#: own maps; ``web.templating`` picks the map by the detail, the record and the action).
DIRECTION_LABELS = {"up": N_("Move up"), "down": N_("Move down")}

#: What an edit of a questionnaire's working version did (``survey.questionnaire.edit``).
QUESTIONNAIRE_EDIT_LABELS = {
    "settings": N_("Questionnaire settings changed"),
    "add": N_("Question added"),
    "question": N_("Question changed"),
    "scale": N_("Answer scale set"),
    "move": N_("Question moved"),
    "delete": N_("Question deleted"),
    "import": N_("Questions imported from a workbook"),
}

#: A survey's first draft built from the scheme (the built-in templates are named in
#: ``surveys.templates.TEMPLATES``).
SURVEY_TEMPLATE_LABELS = {"from_scheme": N_("One scale question for each survey indicator of the scheme")}

#: A contract's payment rule (``services.contracts.payment_rule_from``).
PAYMENT_RULE_KIND_LABELS = {"bands": N_("Grade bands"), "linear": N_("Linear rule")}

#: An expert's phone and e-mail stay off the log: only that they changed.
CONTACT_CHANGE_LABELS = {"changed": N_("Changed")}

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
    "engine_change": ENGINE_CHANGE_LABELS,
    "input_source": INPUT_SOURCE_LABELS,
}
