"""Settlement (结算): from a final result to the money an instalment pays.

Rules (DESIGN.md, Money):

* A performance-linked instalment is paid at the ratio its evaluation's *final* result earns
  under the contract's payment rule (``scoring.apply_payment``: Decimal, half-up to the fen,
  payable + deduction = instalment exactly). The interim instalment takes an interim
  evaluation, the final instalment the final evaluation. An instalment that is not
  performance-linked settles at 100 % when it falls due (on signing: at once; after an
  evaluation: once that evaluation is final).
* No settlement for an evaluation that is not final (published and its appeal window
  closed). The settlements of a contract never add up to more than the contract amount
  (未购买不支付), nor those of a project to more than its budget (无预算不购买).
* The purchaser proposes, finance approves or returns with reasons; the two are different
  people (不相容岗位分离): finance may not decide on a settlement it proposed itself, in
  any round. Decisions update the row only at the version the decider saw (optimistic
  locking), so two approvals at the same moment cannot both succeed.
* Payment due dates (保障中小企业款项支付): a small or medium supplier is paid within the
  contract's payment period from acceptance (30 days by default, never above 60); an
  overdue payment owes interest at the contract's rate, 0.05 % a day by default, in fen,
  half-up.

Results are read only through the ``EvaluationResult`` table (see :func:`final_result`).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

import scoring
from evalplatform.i18n import LANGUAGES, N_, _, language, percent
from evalplatform.models import (
    Acceptance,
    AcceptanceConclusion,
    AuditEntry,
    Contract,
    ContractTerms,
    DueCondition,
    Evaluation,
    EvaluationResult,
    EvaluationStage,
    EvaluationStatus,
    IndicatorScheme,
    Instalment,
    Organisation,
    Project,
    Role,
    Settlement,
    SettlementBasis,
    SettlementStatus,
    SupplierProfile,
)
from evalplatform.services import audit, contracts, dashboard, projects, schemes
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.paging import DEFAULT_PER_PAGE, Page, paginate
from evalplatform.services.workdays import period_end
from evalplatform.settings import get_settings
from scoring import parse_payment_rule

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
DEFAULT_INTEREST_PER_DAY = Decimal("0.05")  # percent a day: 万分之五
MAX_INTEREST_PER_DAY = Decimal("1")
DEFAULT_THRESHOLD = Decimal("80")
SME_DAYS_DEFAULT = contracts.SME_PAYMENT_DAYS_DEFAULT
SME_DAYS_MAX = contracts.SME_PAYMENT_DAYS_MAX
MAX_TEXT = 2000
MAX_VOUCHER = 60

#: Which evaluation stage an instalment's due condition waits for.
STAGE_OF = {DueCondition.after_interim: EvaluationStage.interim,
            DueCondition.after_final: EvaluationStage.final}

STATUS_LABELS = {
    SettlementStatus.proposed: N_("Awaiting finance approval"),
    SettlementStatus.returned: N_("Returned to the purchaser"),
    SettlementStatus.approved: N_("Approved, awaiting payment"),
    SettlementStatus.paid: N_("Paid"),
}
BASIS_LABELS = {
    SettlementBasis.performance: N_("Linked to performance"),
    SettlementBasis.fixed: N_("Not linked: 100 % when due"),
}
PAYMENT_STATE_LABELS = {
    "waiting": N_("Not due yet: waits for its start"),
    # failed acceptance (验收不合格): no payment period starts, so nothing falls due or
    # owes interest; the acceptance can be corrected until the result is published
    "not_accepted": N_("Service not accepted: no payment period runs"),
    "due": N_("Within payment period"),  # not "Due": that msgid is a column heading
    "overdue": N_("Overdue"),
    "paid": N_("Paid on time"),
    "paid_late": N_("Paid late"),
    # the whole instalment is deducted (e.g. 差 pays 0 %): nothing falls due or owes interest
    "nothing_due": N_("Nothing to pay: the instalment is deducted in full"),
}
#: Settlements that count against the contract and the budget (a returned one does not).
ACTIVE = (SettlementStatus.proposed, SettlementStatus.approved, SettlementStatus.paid)


def yuan(fen: int) -> Decimal:
    return (Decimal(fen) / HUNDRED).quantize(CENT)


def to_fen(amount: Decimal) -> int:
    return int((amount * HUNDRED).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def money_text(fen: int | None) -> str:
    return "" if fen is None else f"¥{yuan(fen):,.2f}"


def percent_text(ratio: Decimal | str | float, places: int | None = None) -> str:
    """0.95 → '95%' ('95 %' in English), '0.8735' → '87.35%'; with ``places``, that many
    decimals (0.6667, 1 → '66.7%'). The one way a percentage is written (pages use it as the
    ``percent`` filter)."""
    number = Decimal(str(ratio)) * HUNDRED
    if places is not None:  # half-up, as every figure is rounded (a format spec rounds half-even)
        number = number.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return percent(f"{number.normalize():f}" if places is None else f"{number:f}")


# ---------------------------------------------------------------- results (read only)


def final_result(session: Session, evaluation: Evaluation) -> EvaluationResult | None:
    """The evaluation's final result: the current (not superseded) version that became final.

    ``None`` unless the evaluation itself is final (published and its appeal window closed).
    """
    if evaluation is None or evaluation.status != EvaluationStatus.final:
        return None
    return session.exec(
        select(EvaluationResult)
        .where(EvaluationResult.evaluation_id == evaluation.id,
               col(EvaluationResult.superseded).is_(False),
               col(EvaluationResult.final_at).is_not(None))
        .order_by(col(EvaluationResult.version).desc())).first()


# ---------------------------------------------------------------- the payment rule


def scoring_rule(contract: Contract) -> dict:
    """The contract's payment rule in the scoring engine's format."""
    rule = contract.payment_rule or {}
    if rule.get("kind") == "linear":
        return {"linear": {"floor": str(rule.get("floor_score", "60")), "full": "100"}}
    bands = rule.get("bands") or contracts.DEFAULT_BANDS
    ordered = sorted(bands, key=lambda b: Decimal(str(b["min_score"])), reverse=True)
    return {"bands": [{"min": str(b["min_score"]), "ratio": str(b["ratio"])} for b in ordered]}


#: Joins the parts of a rule or a trace ("; " in English, "；" in Chinese).
SEPARATOR = N_("; ")


def grades_of(session: Session, scheme_id: int | None) -> list[dict]:
    """The grades (name, lower bound) of a scheme; the standard grades without one."""
    scheme = session.get(IndicatorScheme, scheme_id) if scheme_id else None
    return ((scheme.document or {}).get("grades") if scheme else None) or schemes.DEFAULT_GRADES


def settlement_grades(session: Session, settlement: Settlement) -> list[dict]:
    """The grades a settlement's rule is read against: its evaluation's scheme's, else the
    contract's."""
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    if evaluation is not None:
        return grades_of(session, evaluation.scheme_id)
    return grades_of(session, session.get(Contract, settlement.contract_id).scheme_id)


def _grade_at(bound: Decimal, grades: list[dict] | None) -> str | None:
    """The grade whose lower bound is ``bound``, if a grade starts there."""
    for grade in grades or []:
        try:
            if Decimal(str(grade["min"])) == bound:
                return str(grade["name"])
        except (KeyError, InvalidOperation):
            continue
    return None


def band_label(minimum: str, grades: list[dict] | None) -> str:
    """'score ≥ 80 (良)' where a grade starts at the band's bound, else 'score ≥ 70'."""
    grade = _grade_at(Decimal(minimum), grades)
    if grade:
        return _("score ≥ %(min)s (%(grade)s)", min=minimum, grade=grade)
    return _("score ≥ %(min)s", min=minimum)


def rule_text(rule: dict, grades: list[dict] | None = None) -> str:
    """The rule in words, each band naming the grade that starts at its bound, e.g.
    '得分 ≥ 90（优）→ 支付 100 %；得分 ≥ 80（良）→ 支付 95 %；…'."""
    if not rule:
        return _("Not linked to performance: 100 %.")
    if "linear" in rule:
        floor = rule["linear"]["floor"]
        return _("Linear: ratio = total ÷ 100 from %(floor)s points up, nothing below "
                 "%(floor)s.", floor=floor)
    parts = [_("%(band)s → %(ratio)s", band=band_label(b["min"], grades),
               ratio=percent_text(Decimal(b["ratio"]))) for b in rule["bands"]]
    lowest = rule["bands"][-1]["min"]
    if Decimal(lowest) > 0:
        parts.append(_("below %(min)s: nothing", min=lowest))
    return str(SEPARATOR).join(parts)


def explain(total: Decimal, grade: str | None, rule: dict, grades: list[dict] | None,
            amount_fen: int, ratio: Decimal, payable_fen: int, deduction_fen: int) -> str:
    """The trace of a performance-linked settlement in words a finance officer can check by
    hand: which band or formula gave the ratio, then the amounts (exact, to the fen)."""
    parsed = parse_payment_rule(rule)
    total = Decimal(total)
    shown = _("%(total)s (%(grade)s)", total=total, grade=grade) if grade else str(total)
    if "bands" in parsed:
        band = next((b for b in rule["bands"] if total >= Decimal(str(b["min"]))), None)
        if band is None:
            how = _("Total %(total)s is below the lowest band (%(min)s points): nothing is "
                    "paid", total=shown, min=rule["bands"][-1]["min"])
        else:
            how = _("Total %(total)s falls in the band %(band)s: %(ratio)s is paid",
                    total=shown, band=band_label(band["min"], grades),
                    ratio=percent_text(ratio))
    else:
        floor, full, floor_ratio, explicit = parsed["linear"]
        if total < floor:
            how = _("Total %(total)s is below the floor of %(floor)s points: nothing is paid",
                    total=shown, floor=floor)
        elif total >= full:
            how = _("Total %(total)s reaches %(full)s points: 100 %% is paid", total=shown,
                    full=full)
        else:
            formula = (f"{floor_ratio} + (1 − {floor_ratio}) × ({total} − {floor}) ÷ "
                       f"({full} − {floor})") if explicit else f"{total} ÷ {full}"
            how = _("Total %(total)s, linear rule: ratio = %(formula)s = %(ratio)s (rounded "
                    "half-up to 0.01 %%)", total=shown, formula=formula,
                    ratio=percent_text(ratio))
    amounts = _("payable = %(amount)s × %(ratio)s = %(payable)s, deduction = %(amount)s − "
                "%(payable)s = %(deduction)s.", amount=money_text(amount_fen),
                ratio=percent_text(ratio), payable=money_text(payable_fen),
                deduction=money_text(deduction_fen))
    return str(SEPARATOR).join([how, amounts])


FIXED_EXPLANATION = N_("Not linked to performance: paid in full (100 %) when due.")


def _explained(settlement: Settlement, grades: list[dict] | None) -> str:
    """The explanation of a stored settlement, made again from its stored figures in the
    current language."""
    if settlement.basis == SettlementBasis.fixed or settlement.total is None:
        return str(FIXED_EXPLANATION)
    return explain(Decimal(settlement.total), settlement.grade, settlement.payment_rule, grades,
                   settlement.instalment_amount_fen, Decimal(settlement.ratio),
                   settlement.payable_fen, settlement.deduction_fen)


def explanation_in_reader_language(session: Session, settlement: Settlement) -> str:
    """How a stored settlement's ratio and amounts were computed, in the reader's language.

    The stored words are in the language of the person who proposed it. They are made again
    from the settlement's stored figures (total, grade, rule, amounts) in the reader's
    language only where, made again in some language, they equal the stored words word for
    word: then nothing but the language differs. Words stored by an older wording keep
    their stored text."""
    stored = settlement.explanation
    try:
        grades = settlement_grades(session, settlement)
        fresh = _explained(settlement, grades)
        if fresh == stored:
            return stored
        for lang in LANGUAGES:
            with language(lang):
                if _explained(settlement, grades) == stored:
                    return fresh
    except (KeyError, TypeError, ValueError, InvalidOperation):
        pass  # a rule or figure this version no longer reads: the stored words stand
    return stored


# ---------------------------------------------------------------- the settlement sheet


@dataclass
class Sheet:
    """结算单: what an instalment pays now, or why it cannot be settled yet."""

    contract: Contract
    project: Project
    instalment: Instalment
    basis: SettlementBasis
    rule: dict
    evaluation: Evaluation | None = None
    result: EvaluationResult | None = None
    total: Decimal | None = None
    grade: str | None = None
    ratio: Decimal | None = None
    payable_fen: int | None = None
    deduction_fen: int | None = None
    explanation: str = ""
    problem: str | None = None
    #: Why the figures cannot be proposed: the service failed its acceptance (验收不合格).
    not_accepted: str | None = None
    candidates: list[Evaluation] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.problem is None and self.not_accepted is None

    @property
    def amount_fen(self) -> int:
        return self.instalment.amount_fen

    @property
    def ratio_text(self) -> str:
        return percent_text(self.ratio) if self.ratio is not None else ""


def _used_evaluations(session: Session, contract_id: int, instalment_id: int) -> set[int]:
    """Evaluations another instalment of the contract has already been settled on."""
    return {s.evaluation_id for s in session.exec(select(Settlement).where(
        Settlement.contract_id == contract_id, Settlement.instalment_id != instalment_id,
        col(Settlement.status).in_(ACTIVE), col(Settlement.evaluation_id).is_not(None)))}


def _stage_label(stage: EvaluationStage) -> str:
    from evalplatform.labels import EVALUATION_STAGE_LABELS

    return str(EVALUATION_STAGE_LABELS[stage])


class _SheetReads:
    """What :func:`build_sheet` reads of a contract, asked of the database as it goes: one
    instalment's sheet. :class:`_PaymentReads` answers the same questions from what it read of
    many contracts at once."""

    def __init__(self, session: Session):
        self.session = session

    def used(self, contract_id: int, instalment_id: int) -> set[int]:
        return _used_evaluations(self.session, contract_id, instalment_id)

    def of_stage(self, contract_id: int, stage: EvaluationStage) -> list[Evaluation]:
        return list(self.session.exec(select(Evaluation).where(
            Evaluation.contract_id == contract_id, Evaluation.stage == stage)
            .order_by(Evaluation.period_start, Evaluation.id)))

    def final_result(self, evaluation: Evaluation) -> EvaluationResult | None:
        return final_result(self.session, evaluation)

    def acceptance(self, evaluation_id: int) -> Acceptance | None:
        return acceptance_of(self.session, evaluation_id)


def build_sheet(session: Session, instalment: Instalment, evaluation_id: int | None = None,
                *, reads: _SheetReads | None = None) -> Sheet:
    """Compute the instalment's settlement sheet from its evaluation's final result (``reads``:
    what a caller read of many contracts at once, :class:`_PaymentReads`)."""
    reads = reads or _SheetReads(session)
    contract = session.get(Contract, instalment.contract_id)
    project = session.get(Project, contract.project_id)
    linked = instalment.performance_linked
    rule = scoring_rule(contract) if linked else {}
    sheet = Sheet(contract, project, instalment,
                  SettlementBasis.performance if linked else SettlementBasis.fixed, rule)
    stage = STAGE_OF.get(instalment.due_condition)
    if stage is None:  # due on signing
        if linked:
            sheet.problem = _("An instalment due on signing cannot depend on an evaluation; "
                              "the contract's payment schedule needs correcting.")
            return sheet
        return _fixed(sheet)
    used = reads.used(contract.id, instalment.id)
    of_stage = reads.of_stage(contract.id, stage)
    sheet.candidates = [e for e in of_stage
                        if e.id not in used and reads.final_result(e) is not None]
    if evaluation_id:
        evaluation = next((e for e in of_stage if e.id == evaluation_id), None)
        if evaluation is None:
            sheet.problem = _("Choose a %(stage)s evaluation of this contract.",
                              stage=_stage_label(stage))
            return sheet
        if evaluation.id in used:
            sheet.problem = _("%(title)s has already been used to settle another instalment.",
                              title=evaluation.title)
            return sheet
    elif sheet.candidates:
        evaluation = sheet.candidates[0]
    else:
        sheet.problem = _(
            "No %(stage)s evaluation of this contract is final yet: no settlement before its "
            "result is final (published and its appeal window closed).", stage=_stage_label(stage))
        return sheet
    sheet.evaluation = evaluation
    result = reads.final_result(evaluation)
    if result is None:
        from evalplatform.services import evaluations

        sheet.problem = _(
            "No settlement for an evaluation that is not final: %(title)s is %(status)s.",
            title=evaluation.title, status=evaluations.status_label(evaluation.status))
        return sheet
    if not result.final_ready:
        sheet.problem = _("The result of %(title)s is incomplete (missing scores block it); it "
                          "cannot be settled.", title=evaluation.title)
        return sheet
    sheet.result = result
    sheet.total = Decimal(result.total)
    sheet.grade = result.grade
    if not linked:
        return _fixed(sheet)
    paid = scoring.apply_payment(sheet.total, rule, yuan(instalment.amount_fen))
    sheet.ratio = paid.ratio
    sheet.payable_fen = to_fen(paid.payable)
    sheet.deduction_fen = to_fen(paid.deduction)
    sheet.explanation = explain(sheet.total, sheet.grade, rule,
                                grades_of(session, evaluation.scheme_id), instalment.amount_fen,
                                sheet.ratio, sheet.payable_fen, sheet.deduction_fen)
    assert sheet.payable_fen + sheet.deduction_fen == instalment.amount_fen
    # the figures stay (the due list shows what waits), but nothing is proposed on them
    sheet.not_accepted = failed_acceptance(session, instalment, evaluation,
                                           found=reads.acceptance(evaluation.id))
    return sheet


_READ_IT = object()  # failed_acceptance's ``found`` when it is to read the acceptance itself


def failed_acceptance(session: Session, instalment: Instalment,
                      evaluation: Evaluation | None, *, found: object = _READ_IT) -> str | None:
    """Why a performance-linked instalment cannot be paid on ``evaluation``: the service it
    pays for failed its acceptance (验收不合格). Payment follows a passed acceptance (验收合格后
    支付); a failed one is rectified and accepted again first. An instalment not linked to
    performance (e.g. 30 % on signing) does not wait for an acceptance."""
    if not instalment.performance_linked or evaluation is None:
        return None
    if found is _READ_IT:
        found = acceptance_of(session, evaluation.id)
    if found is None or found.conclusion != AcceptanceConclusion.rejected:
        return None
    return _("The service of %(title)s failed its acceptance on %(date)s: payment follows a "
             "passed acceptance. Have the supplier rectify the service and accept it again; "
             "the settlement is proposed once it is accepted.", title=evaluation.title,
             date=found.accepted_on.isoformat())


def _fixed(sheet: Sheet) -> Sheet:
    sheet.ratio = Decimal("1")
    sheet.payable_fen = sheet.instalment.amount_fen
    sheet.deduction_fen = 0
    sheet.explanation = str(FIXED_EXPLANATION)
    return sheet


# ---------------------------------------------------------------- lookups


def get(session: Session, settlement_id: int) -> Settlement:
    settlement = session.get(Settlement, settlement_id)
    if settlement is None:
        raise NotFound(_("No such settlement."))
    return settlement


def for_instalment(session: Session, instalment_id: int) -> Settlement | None:
    return session.exec(select(Settlement).where(Settlement.instalment_id == instalment_id)).first()


def for_contract(session: Session, contract_id: int) -> list[Settlement]:
    return list(session.exec(select(Settlement).where(Settlement.contract_id == contract_id)
                             .order_by(Settlement.id)))


def can_see(session: Session, principal, settlement: Settlement) -> bool:
    """The settlement's contract's rule; finance and auditors, who see every contract, are
    let in without reading it (a settlement always has its contract)."""
    if principal.role in (Role.finance, Role.auditor):
        return True
    return can_see_contract(session, principal, session.get(Contract, settlement.contract_id))


def can_see_contract(session: Session, principal, contract: Contract | None) -> bool:
    """Finance and auditors see all; a purchaser its department's; a supplier its own (the
    contract's own rule, :func:`contracts.can_see`)."""
    return contracts.can_see(session, principal, contract)


def history(session: Session, settlement: Settlement) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(
        AuditEntry.entity_type == "settlement", AuditEntry.entity_id == str(settlement.id))
        .order_by(AuditEntry.seq)))


# ---------------------------------------------------------------- limits


def _settled_sum(session: Session, statement, exclude_id: int | None) -> int:
    statement = statement.where(col(Settlement.status).in_(ACTIVE))
    if exclude_id is not None:
        statement = statement.where(Settlement.id != exclude_id)
    return int(session.exec(statement).one() or 0)


def check_limits(session: Session, contract: Contract, project: Project, payable_fen: int,
                 exclude_id: int | None = None) -> None:
    """未购买不支付 / 无预算不购买: never beyond the contract, never beyond the budget."""
    on_contract = _settled_sum(session, select(func.sum(Settlement.payable_fen)).where(
        Settlement.contract_id == contract.id), exclude_id) + payable_fen
    if on_contract > contract.amount_fen:
        raise ValidationFailed({"amount": _(
            "No payment beyond the contract: the settlements of this contract would add up to "
            "%(sum)s, more than the contract amount %(amount)s.",
            sum=money_text(on_contract), amount=money_text(contract.amount_fen))})
    on_project = _settled_sum(session, select(func.sum(Settlement.payable_fen))
                              .join(Contract, Settlement.contract_id == Contract.id)
                              .where(Contract.project_id == project.id), exclude_id) + payable_fen
    if on_project > project.budget_fen:
        raise ValidationFailed({"amount": _(
            "No payment beyond the budget: the settlements of project %(project)s would add up "
            "to %(sum)s, more than its budget %(budget)s.", project=project.name,
            sum=money_text(on_project), budget=money_text(project.budget_fen))})


# ---------------------------------------------------------------- workflow


def _clean(value) -> str:
    return str(value or "").strip()


def _lock_contract(session: Session, contract_id: int) -> Contract:
    """Lock the contract's row (PostgreSQL) so proposals on one contract queue up."""
    contract = session.exec(select(Contract).where(Contract.id == contract_id)
                            .with_for_update()).first()
    if contract is None:
        raise NotFound(_("No such contract."))
    return contract


def propose(session: Session, principal, instalment_id: int, *, evaluation_id: int | None = None,
            note: str = "") -> Settlement:
    """The purchaser proposes the settlement of one instalment (提出结算). The contract's
    results whose appeal window has closed are made final first: the settlement reads the final
    result, whether or not anyone has opened it since the window closed."""
    instalment = session.get(Instalment, instalment_id)
    if instalment is None:
        raise NotFound(_("No such instalment."))
    project = session.get(Project, session.get(Contract, instalment.contract_id).project_id)
    if principal.role != Role.purchaser or principal.organisation_id != project.department_id:
        raise PermissionDenied(_("Only the purchasing department proposes the settlements of "
                                 "its contracts."))
    finalise_results(session, instalment.contract_id)
    contract = _lock_contract(session, instalment.contract_id)
    existing = for_instalment(session, instalment.id)
    if existing is not None and existing.status != SettlementStatus.returned:
        raise Conflict(_("Instalment %(seq)s already has a settlement (%(status)s).",
                         seq=instalment.seq, status=STATUS_LABELS[existing.status]))
    note = _clean(note)
    if len(note) > MAX_TEXT:
        raise ValidationFailed({"note": _("At most %(n)s characters.", n=MAX_TEXT)})
    sheet = build_sheet(session, instalment, evaluation_id)
    if sheet.problem:
        raise ValidationFailed({"evaluation_id": sheet.problem})
    if sheet.not_accepted:
        raise ValidationFailed({"acceptance": sheet.not_accepted})
    check_limits(session, contract, project, sheet.payable_fen,
                 existing.id if existing is not None else None)
    values = dict(
        contract_id=contract.id, instalment_id=instalment.id,
        evaluation_id=sheet.evaluation.id if sheet.evaluation else None,
        result_id=sheet.result.id if sheet.result else None, basis=sheet.basis,
        contract_amount_fen=contract.amount_fen, instalment_amount_fen=instalment.amount_fen,
        total=str(sheet.total) if sheet.total is not None else None, grade=sheet.grade,
        payment_rule=sheet.rule, ratio=str(sheet.ratio), payable_fen=sheet.payable_fen,
        deduction_fen=sheet.deduction_fen, explanation=sheet.explanation,
        status=SettlementStatus.proposed, note=note, proposed_by=principal.actor.id,
        proposed_at=now(), decided_by=None, decided_at=None)
    if existing is None:
        settlement = Settlement(**values)
        session.add(settlement)
        try:
            session.flush()
        except IntegrityError:
            session.rollback()
            raise Conflict(_("Someone proposed this instalment's settlement a moment ago; "
                             "reload the page.")) from None
    else:
        settlement = existing
        moved = session.execute(update(Settlement).where(
            Settlement.id == existing.id, Settlement.version == existing.version,
            Settlement.status == SettlementStatus.returned).values(
            **values, version=existing.version + 1))
        if moved.rowcount != 1:
            session.rollback()
            raise Conflict(_("Someone else changed this settlement a moment ago; reload the "
                             "page."))
    audit.record(session, principal.actor, "settlement.propose", "settlement", settlement.id, {
        "contract": contract.id, "instalment": instalment.seq, "basis": sheet.basis.value,
        "evaluation": values["evaluation_id"], "result": values["result_id"],
        "total": values["total"], "grade": sheet.grade, "ratio": values["ratio"],
        "rule": sheet.rule, "instalment_fen": instalment.amount_fen,
        "payable_fen": sheet.payable_fen, "deduction_fen": sheet.deduction_fen, "note": note,
        "again": existing is not None})
    session.commit()
    session.refresh(settlement)
    return settlement


def proposers(session: Session, settlement: Settlement) -> set[int]:
    """Everyone who proposed this settlement, in any round (from the audit trail)."""
    ids = {settlement.proposed_by}
    ids.update(e.actor_id for e in history(session, settlement)
               if e.action == "settlement.propose" and e.actor_id is not None)
    return ids


def _finance_not_proposer(session: Session, principal, settlement: Settlement) -> None:
    if principal.role != Role.finance:
        raise PermissionDenied(_("Only finance approves or returns settlements."))
    if principal.actor.id in proposers(session, settlement):
        raise PermissionDenied(_(
            "Incompatible duties (不相容岗位分离): you proposed this settlement, so someone else "
            "in finance must decide on it."))


def _decider(session: Session, principal, settlement: Settlement) -> None:
    _finance_not_proposer(session, principal, settlement)
    if settlement.status != SettlementStatus.proposed:
        raise Conflict(_("Only a proposed settlement can be approved or returned; this one is: "
                         "%(status)s.", status=STATUS_LABELS[settlement.status]))


def _move(session: Session, settlement: Settlement, expected_version: int | None,
          from_status: SettlementStatus, **values) -> None:
    version = settlement.version if expected_version is None else expected_version
    moved = session.execute(update(Settlement).where(
        Settlement.id == settlement.id, Settlement.version == version,
        Settlement.status == from_status).values(**values, version=version + 1))
    if moved.rowcount != 1:
        session.rollback()
        raise Conflict(_("Someone else decided on this settlement a moment ago; reload the page "
                         "to see what changed."))


def _result_moved(session: Session, settlement: Settlement) -> Evaluation | None:
    """The settlement's evaluation when the result it was computed from is no longer that
    evaluation's final result (a re-evaluation replaced it, or the evaluation is not final)."""
    if settlement.evaluation_id is None:
        return None
    evaluation = session.get(Evaluation, settlement.evaluation_id)
    result = final_result(session, evaluation)
    if result is None or (settlement.result_id is not None and result.id != settlement.result_id):
        return evaluation
    return None


def _still_final(session: Session, settlement: Settlement) -> None:
    evaluation = _result_moved(session, settlement)
    if evaluation is not None:
        raise Conflict(_("The result this settlement was computed from is no longer the final "
                         "result of %(title)s; return the settlement so that it is proposed "
                         "again.", title=evaluation.title))


def _failed_acceptance_of(session: Session, settlement: Settlement) -> str | None:
    """``failed_acceptance`` of the settlement's instalment and evaluation, as they are now."""
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    return failed_acceptance(session, session.get(Instalment, settlement.instalment_id),
                             evaluation)


def approval_refusal(session: Session, settlement: Settlement) -> str | None:
    """Why finance cannot approve this settlement: its service failed the acceptance recorded
    after it was proposed."""
    failed = _failed_acceptance_of(session, settlement)
    if failed is None:
        return None
    return _("%(reason)s This settlement cannot be approved: return it to the purchaser.",
             reason=failed)


def payment_refusal(session: Session, settlement: Settlement) -> str | None:
    """Why finance cannot pay this approved settlement: the ground moved after the approval,
    the result it was computed from is no longer final or the service failed its acceptance.
    The approval is withdrawn and the settlement proposed again on what holds now."""
    moved = _result_moved(session, settlement)
    if moved is not None:
        return _("The result this settlement was computed from is no longer the final result "
                 "of %(title)s, so it cannot be paid: withdraw the approval so that the "
                 "purchaser proposes it again.", title=moved.title)
    failed = _failed_acceptance_of(session, settlement)
    if failed is None:
        return None
    return _("%(reason)s This settlement cannot be paid: withdraw the approval.", reason=failed)


def approve(session: Session, principal, settlement_id: int, *,
            expected_version: int | None = None) -> Settlement:
    """Finance approves a proposed settlement (财政审核通过)."""
    settlement = get(session, settlement_id)
    _decider(session, principal, settlement)
    _still_final(session, settlement)
    refusal = approval_refusal(session, settlement)
    if refusal:
        raise Conflict(refusal)
    contract = session.get(Contract, settlement.contract_id)
    check_limits(session, contract, session.get(Project, contract.project_id),
                 settlement.payable_fen, settlement.id)
    _move(session, settlement, expected_version, SettlementStatus.proposed,
          status=SettlementStatus.approved, decided_by=principal.actor.id, decided_at=now(),
          return_reason="")
    audit.record(session, principal.actor, "settlement.approve", "settlement", settlement.id, {
        "payable_fen": settlement.payable_fen, "version": settlement.version + 1})
    session.commit()
    session.refresh(settlement)
    return settlement


def return_to_purchaser(session: Session, principal, settlement_id: int, reason: str, *,
                        expected_version: int | None = None) -> Settlement:
    """Finance returns a proposal with its reasons (退回)."""
    settlement = get(session, settlement_id)
    _decider(session, principal, settlement)
    reason = _clean(reason)
    if not reason:
        raise ValidationFailed({"reason": _("State why the settlement is returned.")})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _("At most %(n)s characters.", n=MAX_TEXT)})
    _move(session, settlement, expected_version, SettlementStatus.proposed,
          status=SettlementStatus.returned, decided_by=principal.actor.id, decided_at=now(),
          return_reason=reason)
    audit.record(session, principal.actor, "settlement.return", "settlement", settlement.id,
                 {"reason": reason})
    session.commit()
    session.refresh(settlement)
    return settlement


def withdraw_approval(session: Session, principal, settlement_id: int, reason: str, *,
                      expected_version: int | None = None) -> Settlement:
    """Finance withdraws its approval of a settlement not yet paid (撤回审核): the ground moved
    after the approval (a re-evaluation replaced the final result, the service failed its
    acceptance) or finance found a mistake. The settlement goes back to the purchaser with the
    reasons, like a return, and is proposed again. A paid settlement is never withdrawn. The
    same separation of duties as a decision: not by anyone who proposed it."""
    settlement = get(session, settlement_id)
    _finance_not_proposer(session, principal, settlement)
    if settlement.status != SettlementStatus.approved:
        raise Conflict(_("Only an approved settlement that is not paid yet can have its approval "
                         "withdrawn; this one is: %(status)s.",
                         status=STATUS_LABELS[settlement.status]))
    reason = _clean(reason)
    if not reason:
        raise ValidationFailed({"reason": _("State why the approval is withdrawn.")})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _("At most %(n)s characters.", n=MAX_TEXT)})
    approved_by, approved_at = settlement.decided_by, settlement.decided_at
    _move(session, settlement, expected_version, SettlementStatus.approved,
          status=SettlementStatus.returned, decided_by=principal.actor.id, decided_at=now(),
          return_reason=reason)
    audit.record(session, principal.actor, "settlement.withdraw", "settlement", settlement.id, {
        "reason": reason, "approved_by": approved_by,
        "approved_at": as_utc(approved_at).isoformat() if approved_at else None,
        # the approval's figures: a report of a period it stood in still counts them
        "grade": settlement.grade, "instalment_fen": settlement.instalment_amount_fen,
        "payable_fen": settlement.payable_fen, "deduction_fen": settlement.deduction_fen})
    session.commit()
    session.refresh(settlement)
    return settlement


def record_payment(session: Session, principal, settlement_id: int, *, voucher_no: str,
                   paid_on: str, expected_version: int | None = None,
                   today: date | None = None) -> Settlement:
    """Finance records the payment with its voucher number and date (支付凭证). A settlement
    whose payable amount is ¥0 (the instalment deducted in full) has no payment and so no
    voucher: recording it closes the settlement on that date, the voucher number left empty."""
    settlement = get(session, settlement_id)
    if principal.role != Role.finance:
        raise PermissionDenied(_("Only finance records payments."))
    if settlement.status != SettlementStatus.approved:
        raise Conflict(_("Only an approved settlement can be paid; this one is: %(status)s.",
                         status=STATUS_LABELS[settlement.status]))
    refusal = payment_refusal(session, settlement)
    if refusal:
        raise Conflict(refusal)
    today = today or projects.today()
    errors: dict[str, str] = {}
    voucher = _clean(voucher_no) or None
    if not voucher:
        if settlement.payable_fen != 0:
            errors["voucher_no"] = _("Enter the payment voucher number.")
    elif len(voucher) > MAX_VOUCHER:
        errors["voucher_no"] = _("At most %(n)s characters.", n=MAX_VOUCHER)
    elif session.exec(select(Settlement).where(Settlement.voucher_no == voucher)).first():
        errors["voucher_no"] = _("Voucher %(voucher)s is already recorded for another payment.",
                                 voucher=voucher)
    try:
        day = date.fromisoformat(_clean(paid_on))
    except ValueError:
        day = None
        errors["paid_on"] = _("Enter the payment date as YYYY-MM-DD.")
    approved_on = as_utc(settlement.decided_at).astimezone(projects.LOCAL_TZ).date()
    if day is not None and day > today:
        errors["paid_on"] = _("The payment date cannot be in the future.")
    elif day is not None and day < approved_on:
        errors["paid_on"] = _("The payment date cannot be before the approval (%(date)s).",
                              date=approved_on.isoformat())
    if errors:
        raise ValidationFailed(errors)
    contract = session.get(Contract, settlement.contract_id)
    instalment = session.get(Instalment, settlement.instalment_id)
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    due = due_for(session, contract, instalment, evaluation)
    late = max(0, (day - due.due_on).days) if due.due_on else 0
    interest = interest_owed(settlement.payable_fen, terms_of(session, contract.id).interest_per_day,
                             late) if due.due_on else None
    try:
        _move(session, settlement, expected_version, SettlementStatus.approved,
              status=SettlementStatus.paid, voucher_no=voucher, paid_on=day,
              paid_recorded_by=principal.actor.id, due_on=due.due_on,
              late_days=late if due.due_on else None, interest_fen=interest)
        audit.record(session, principal.actor, "settlement.pay", "settlement", settlement.id, {
            "voucher_no": voucher, "paid_on": day, "payable_fen": settlement.payable_fen,
            "due_on": due.due_on, "late_days": late, "interest_fen": interest})
        session.commit()
    except IntegrityError:
        session.rollback()
        raise ValidationFailed({"voucher_no": _(
            "Voucher %(voucher)s is already recorded for another payment.", voucher=voucher)}
        ) from None
    session.refresh(settlement)
    return settlement


def finalise_results(session: Session, contract_id: int | None = None) -> None:
    """Make final the results whose appeal window has closed (of one contract's evaluations,
    or all) before a settlement reads them, as the result pages do on load: a settlement
    waits for the final result (published and its appeal window closed), not for someone to
    open the result."""
    from evalplatform.services import results

    ids = None if contract_id is None else list(session.exec(
        select(Evaluation.id).where(Evaluation.contract_id == contract_id)))
    results.finalise_quietly(session, ids)


def recount_paid(session: Session, evaluation_id: int) -> list[dict]:
    """The payments already recorded on ``evaluation_id``'s settlements, counted again when its
    acceptance is recorded or corrected after them (the caller's transaction, not committed).

    The payment period runs from the acceptance; a payment recorded while none was known kept
    no due date, days late or interest. Counted again from its payment date, a payment made
    after the period now owes its interest (逾期利息), instead of reading "paid on time". Returns
    what changed (settlement, due date, days late, interest), for the acceptance's audit entry.
    """
    changed = []
    evaluation = session.get(Evaluation, evaluation_id)
    paid = session.exec(select(Settlement).where(
        Settlement.evaluation_id == evaluation_id, Settlement.status == SettlementStatus.paid)
        .order_by(Settlement.id)).all()
    for settlement in paid:
        if settlement.paid_on is None:
            continue  # no payment date recorded: nothing to count from
        contract = session.get(Contract, settlement.contract_id)
        due = due_for(session, contract, session.get(Instalment, settlement.instalment_id),
                      evaluation)
        late = max(0, (settlement.paid_on - due.due_on).days) if due.due_on else None
        interest = interest_owed(settlement.payable_fen,
                                 terms_of(session, contract.id).interest_per_day,
                                 late) if due.due_on else None
        if (due.due_on, late, interest) == (settlement.due_on, settlement.late_days,
                                            settlement.interest_fen):
            continue
        session.execute(update(Settlement).where(Settlement.id == settlement.id).values(
            due_on=due.due_on, late_days=late, interest_fen=interest,
            version=Settlement.version + 1))
        changed.append({"settlement": settlement.id, "paid_on": settlement.paid_on,
                        "due_on": due.due_on, "late_days": late, "interest_fen": interest})
    return changed


# ---------------------------------------------------------------- contract terms


@dataclass(frozen=True)
class Terms:
    interest_per_day: Decimal  # percent a day
    termination_threshold: Decimal
    recorded: bool  # False: the defaults


def terms_of(session: Session, contract_id: int) -> Terms:
    row = session.get(ContractTerms, contract_id)
    if row is None:
        from evalplatform.services import standing

        return Terms(DEFAULT_INTEREST_PER_DAY, standing.settings(session).default_threshold, False)
    return Terms(Decimal(row.interest_per_day), Decimal(row.termination_threshold), True)


def _interest_rate(row: ContractTerms | None) -> Decimal:
    """The late-payment interest of :func:`terms_of`, on the contract's terms row as read."""
    return Decimal(row.interest_per_day) if row is not None else DEFAULT_INTEREST_PER_DAY


def _decimal(text: str, low: Decimal, high: Decimal, places: int) -> Decimal | None:
    try:
        value = Decimal(_clean(text).rstrip("%").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or not low <= value <= high:
        return None
    if value != value.quantize(Decimal(1).scaleb(-places)):
        return None
    return value


def lpr_floor() -> Decimal:
    """The lowest late-payment interest a contract may agree, in percent a day: the one-year
    LPR (percent a year, a setting) over 365 days."""
    return Decimal(get_settings().lpr_one_year_percent) / 365


def terms_fixed(session: Session, contract: Contract) -> bool:
    """The contract's terms no longer change: a settlement is proposed or a result is final."""
    started = session.exec(select(Settlement).where(
        Settlement.contract_id == contract.id, col(Settlement.status).in_(ACTIVE))).first()
    return started is not None or any(
        final_result(session, e) is not None for e in session.exec(
            select(Evaluation).where(Evaluation.contract_id == contract.id)))


def set_terms(session: Session, principal, contract_id: int, *, interest_per_day: str,
              termination_threshold: str) -> ContractTerms:
    """Record the contract's late-interest rate and termination threshold (合同约定)."""
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("No such contract."))
    project = session.get(Project, contract.project_id)
    if principal.role != Role.purchaser or principal.organisation_id != project.department_id:
        raise PermissionDenied(_("Only the purchasing department records its contract's terms."))
    errors: dict[str, str] = {}
    rate = _decimal(interest_per_day, Decimal("0.0001"), MAX_INTEREST_PER_DAY, 4)
    if rate is None:
        errors["interest_per_day"] = _(
            "Enter the late-payment interest in percent a day, above 0 and at most 1, with up "
            "to 4 decimals (the default is 0.05).")
    elif rate < lpr_floor():
        errors["interest_per_day"] = _(
            "An agreed late-payment interest may not be below the one-year loan prime rate "
            "(LPR, %(lpr)s %% a year): enter at least %(least)s %% a day (保障中小企业款项支付条例 "
            "第十五条; without an agreed rate the default 0.05 %% a day applies).",
            lpr=get_settings().lpr_one_year_percent,
            least=lpr_floor().quantize(Decimal("0.0001"), rounding=ROUND_CEILING))
    threshold = _decimal(termination_threshold, Decimal(0), HUNDRED, 2)
    if threshold is None:
        errors["termination_threshold"] = _("Enter the threshold in points between 0 and 100.")
    if errors:
        raise ValidationFailed(errors)
    if terms_fixed(session, contract):
        raise Conflict(_("The contract's terms are fixed once one of its evaluations is final "
                         "or a settlement is proposed."))
    row = session.get(ContractTerms, contract.id) or ContractTerms(contract_id=contract.id)
    row.interest_per_day = str(rate)
    row.termination_threshold = str(threshold)
    row.updated_by = principal.actor.id
    row.updated_at = now()
    session.add(row)
    audit.record(session, principal.actor, "contract.terms", "contract", contract.id,
                 {"interest_per_day": str(rate), "termination_threshold": str(threshold)})
    session.commit()
    return row


# ---------------------------------------------------------------- due dates and interest


def interest_owed(payable_fen: int, percent_a_day: Decimal, days: int) -> int:
    """逾期利息 in fen: payable × rate × days, half-up to the fen."""
    if days <= 0 or payable_fen <= 0:
        return 0
    return int((Decimal(payable_fen) * percent_a_day / HUNDRED * days)
               .quantize(Decimal(1), rounding=ROUND_HALF_UP))


def payment_period(session: Session, contract: Contract) -> int | None:
    """Days to pay a small or medium supplier (30 by default, never above 60); None otherwise."""
    profile = None if contract.payment_days is not None \
        else session.get(SupplierProfile, contract.supplier_id)
    return _period(contract, profile)


def _period(contract: Contract, profile: SupplierProfile | None) -> int | None:
    """:func:`payment_period` on the supplier's profile as read."""
    if contract.payment_days is not None:
        return min(contract.payment_days, SME_DAYS_MAX)
    if profile is not None and profile.small_medium:
        return SME_DAYS_DEFAULT
    return None


@dataclass(frozen=True)
class Due:
    """When an instalment must be paid, and from what."""

    period_days: int | None
    starts_on: date | None
    start: str  # "signing" | "acceptance" | ""
    due_on: date | None
    note: str = ""
    not_accepted: bool = False  # the service failed its acceptance: the period never starts
    #: No acceptance is recorded: what that means for the proposal and the payment period,
    #: in full (the settlement pages and sheet); ``note`` is the short form for the lists.
    notice: str = ""


def acceptance_of(session: Session, evaluation_id: int | None) -> Acceptance | None:
    if evaluation_id is None:
        return None
    return session.exec(select(Acceptance).where(Acceptance.evaluation_id == evaluation_id)).first()


#: ``due_for``'s ``days`` when it is to read the payment period itself
_READ_EACH = object()


def due_for(session: Session, contract: Contract, instalment: Instalment,
            evaluation: Evaluation | None, *, days: int | None | object = _READ_EACH,
            acceptances: dict[int, Acceptance] | None = None) -> Due:
    """When ``instalment`` falls due. ``days`` (the payment period) and ``acceptances`` (by
    evaluation, every one recorded among those asked about) are given by a caller that read
    them once for many instalments; otherwise they are read here."""
    if days is _READ_EACH:
        days = payment_period(session, contract)
    if days is None:
        return Due(None, None, "", None, _("Not a small or medium supplier: the contract's own "
                                           "payment terms apply."))
    if instalment.due_condition == DueCondition.on_signing:
        return Due(days, contract.signed_on, "signing",
                   period_end(contract.signed_on + timedelta(days=days)))
    if evaluation is None:
        return Due(days, None, "", None, _("Waits for its evaluation."))
    acceptance = acceptance_of(session, evaluation.id) if acceptances is None \
        else acceptances.get(evaluation.id)
    if acceptance is None:
        # Nothing blocks the proposal (an interim instalment is paid after its evaluation,
        # not after an acceptance), but the statutory period counts from the acceptance.
        return Due(days, None, "", None, _("Waits for the acceptance of %(title)s.",
                                           title=evaluation.title), notice=_(
            "No acceptance of %(title)s is recorded. The settlement can be proposed without "
            "it, but the payment period of %(n)s days runs from the date the service is "
            "accepted, so no due date is counted until the acceptance is recorded: record it "
            "on the evaluation's page.", title=evaluation.title, n=days))
    if acceptance.conclusion == AcceptanceConclusion.rejected:
        return Due(days, None, "", None, _("The service was not accepted: no payment falls "
                                           "due."), not_accepted=True)
    return Due(days, acceptance.accepted_on, "acceptance",
               period_end(acceptance.accepted_on + timedelta(days=days)))


@dataclass(frozen=True)
class SettlementPayment:
    """A settlement's payment as its page and its Excel sheet show it: when it falls due, how
    many days it is (or was paid) late and the interest owed for them (逾期利息)."""

    due: Due
    interest_per_day: Decimal  # percent a day
    overdue_days: int  # unpaid (proposed or approved): days past due up to ``as_of``
    paid_late_days: int  # paid: days it was paid late
    interest_fen: int  # owed for those days, in fen
    as_of: date


def payment_of(session: Session, settlement: Settlement, *, today: date | None = None
               ) -> SettlementPayment:
    today = today or projects.today()
    contract = session.get(Contract, settlement.contract_id)
    instalment = session.get(Instalment, settlement.instalment_id)
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    due = due_for(session, contract, instalment, evaluation)
    rate = terms_of(session, contract.id).interest_per_day
    if settlement.status == SettlementStatus.paid:
        return SettlementPayment(due, rate, 0, settlement.late_days or 0,
                                 settlement.interest_fen or 0, today)
    # nothing to pay (the whole instalment deducted) is never overdue
    unpaid = settlement.status in (SettlementStatus.proposed, SettlementStatus.approved) \
        and settlement.payable_fen > 0
    overdue = max(0, (today - due.due_on).days) if due.due_on and unpaid else 0
    return SettlementPayment(due, rate, overdue, 0,
                             interest_owed(settlement.payable_fen, rate, overdue), today)


@dataclass
class PaymentRow:
    contract: Contract
    project: Project
    supplier: Organisation
    department: Organisation
    instalment: Instalment
    settlement: Settlement | None
    evaluation: Evaluation | None
    payable_fen: int | None
    due: Due
    paid_on: date | None
    late_days: int
    interest_fen: int | None
    state: str
    interest_per_day: Decimal

    @property
    def state_label(self) -> str:
        return str(PAYMENT_STATE_LABELS[self.state])


@dataclass
class _PaymentReads(_SheetReads):
    """What :func:`payments` reads of many contracts, read in one statement each instead of
    one for every contract or instalment: their instalments, settlements, terms, suppliers'
    profiles, organisations, their evaluations with the final results and acceptances, and
    the schemes those evaluations are scored on — all an unsettled instalment's sheet asks."""

    instalments: dict[int, list[Instalment]]
    settlements: dict[int, Settlement]  # by instalment (at most one each)
    terms: dict[int, ContractTerms]
    profiles: dict[int, SupplierProfile]
    organisations: dict[int, Organisation]
    evaluations: dict[int, Evaluation]  # every evaluation of the contracts read
    acceptances: dict[int, Acceptance]  # by evaluation, for the evaluations read
    final_results: dict[int, EvaluationResult]  # by evaluation, for the final ones
    schemes: dict[int, IndicatorScheme]
    session: Session

    def used(self, contract_id: int, instalment_id: int) -> set[int]:
        return {s.evaluation_id for s in self.settlements.values()
                if s.contract_id == contract_id and s.instalment_id != instalment_id
                and s.status in ACTIVE and s.evaluation_id is not None}

    def of_stage(self, contract_id: int, stage: EvaluationStage) -> list[Evaluation]:
        return sorted((e for e in self.evaluations.values()
                       if e.contract_id == contract_id and e.stage == stage),
                      key=lambda e: (e.period_start, e.id))

    def final_result(self, evaluation: Evaluation) -> EvaluationResult | None:
        if evaluation is None or evaluation.status != EvaluationStatus.final:
            return None
        return self.final_results.get(evaluation.id)

    def acceptance(self, evaluation_id: int) -> Acceptance | None:
        return self.acceptances.get(evaluation_id)

    @classmethod
    def of(cls, session: Session, contracts_read: list[Contract]) -> _PaymentReads:
        ids = [c.id for c in contracts_read]
        if not ids:
            return cls({}, {}, {}, {}, {}, {}, {}, {}, {}, session)
        instalments: dict[int, list[Instalment]] = {}
        for instalment in session.exec(select(Instalment).where(col(Instalment.contract_id)
                                       .in_(ids)).order_by(Instalment.contract_id,
                                                           Instalment.seq)):
            instalments.setdefault(instalment.contract_id, []).append(instalment)
        settled = {s.instalment_id: s for s in session.exec(
            select(Settlement).where(col(Settlement.contract_id).in_(ids)))}
        terms = {t.contract_id: t for t in session.exec(
            select(ContractTerms).where(col(ContractTerms.contract_id).in_(ids)))}
        suppliers = {c.supplier_id for c in contracts_read}
        profiles = {p.organisation_id: p for p in session.exec(
            select(SupplierProfile).where(col(SupplierProfile.organisation_id).in_(suppliers)))}
        departments = set(session.exec(select(Project.department_id).where(
            col(Project.id).in_({c.project_id for c in contracts_read}))))
        organisations = {o.id: o for o in session.exec(select(Organisation).where(
            col(Organisation.id).in_(suppliers | departments)))}
        evaluation_ids = {s.evaluation_id for s in settled.values() if s.evaluation_id}
        evaluations = {e.id: e for e in session.exec(select(Evaluation).where(
            col(Evaluation.contract_id).in_(ids) | col(Evaluation.id).in_(evaluation_ids)))}
        acceptances: dict[int, Acceptance] = {}
        for row in session.exec(select(Acceptance).where(
                col(Acceptance.evaluation_id).in_(evaluations)).order_by(Acceptance.id)):
            acceptances.setdefault(row.evaluation_id, row)  # the first, as acceptance_of
        final_ids = [e.id for e in evaluations.values() if e.status == EvaluationStatus.final]
        final_results: dict[int, EvaluationResult] = {}
        for result in session.exec(select(EvaluationResult).where(
                col(EvaluationResult.evaluation_id).in_(final_ids),
                col(EvaluationResult.superseded).is_(False),
                col(EvaluationResult.final_at).is_not(None))
                .order_by(EvaluationResult.evaluation_id, col(EvaluationResult.version).desc())):
            final_results.setdefault(result.evaluation_id, result)  # the latest, as final_result
        # the schemes the results' grades are read from (``grades_of``), held here so that
        # the session's identity map (weak references) keeps them while the list is made
        schemes_read = {scheme.id: scheme for scheme in session.exec(select(IndicatorScheme).where(
            col(IndicatorScheme.id).in_({e.scheme_id for e in evaluations.values()})))}
        return cls(instalments, settled, terms, profiles, organisations, evaluations,
                   acceptances, final_results, schemes_read, session)

    def acceptances_of(self, session: Session, evaluation: Evaluation | None
                       ) -> dict[int, Acceptance] | None:
        """The acceptances read, where ``evaluation`` is among the evaluations read; None (read
        it one by one) for another, as an unsettled instalment's own evaluation."""
        if evaluation is None or evaluation.id in self.evaluations:
            return self.acceptances
        return None


def payments(session: Session, *, organisation_id: int | None = None,
             supplier_id: int | None = None, contract_id: int | None = None,
             today: date | None = None) -> list[PaymentRow]:
    """Every instalment of a small or medium supplier's contract with its due date; overdue
    ones first, with the interest owed up to today (or up to the day they were paid). On a
    past ``today`` an instalment paid later counts as unpaid. Read for the present (no
    ``today``), the results whose appeal window has closed are made final first, since an
    unsettled instalment's payable reads its final result."""
    if today is None:
        finalise_results(session, contract_id)
    today = today or projects.today()
    statement = (select(Contract, Project).join(Project, Contract.project_id == Project.id)
                 .order_by(Contract.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    if contract_id is not None:
        statement = statement.where(Contract.id == contract_id)
    rows: list[PaymentRow] = []
    found = list(session.exec(statement))
    read = _PaymentReads.of(session, [contract for contract, _project in found])
    for contract, project in found:
        days = _period(contract, read.profiles.get(contract.supplier_id))
        if days is None:
            continue
        rate = _interest_rate(read.terms.get(contract.id))
        supplier = read.organisations[contract.supplier_id]
        department = read.organisations[project.department_id]
        for instalment in read.instalments.get(contract.id, []):
            settlement = read.settlements.get(instalment.id)
            if settlement is not None and settlement.status != SettlementStatus.returned:
                evaluation = read.evaluations.get(settlement.evaluation_id)
                payable = settlement.payable_fen
            else:
                sheet = build_sheet(session, instalment, reads=read)
                evaluation, payable = sheet.evaluation, sheet.payable_fen
            due = due_for(session, contract, instalment, evaluation, days=days,
                          acceptances=read.acceptances_of(session, evaluation))
            # Paid after ``today`` (a past day asked for, as by the half-year report): it was
            # still unpaid on that day.
            paid = (settlement is not None and settlement.status == SettlementStatus.paid
                    and (settlement.paid_on is None or settlement.paid_on <= today))
            if paid:
                late = settlement.late_days or 0
                interest = settlement.interest_fen
                state = "paid_late" if late > 0 else "paid"
            elif due.due_on is None:
                late, interest = 0, None
                state = "not_accepted" if due.not_accepted else "waiting"
            elif payable == 0:
                late, interest, state = 0, None, "nothing_due"
            else:
                late = max(0, (today - due.due_on).days)
                interest = interest_owed(payable, rate, late) if payable is not None else None
                state = "overdue" if late > 0 else "due"
            rows.append(PaymentRow(contract, project, supplier, department, instalment,
                                   settlement, evaluation, payable, due,
                                   settlement.paid_on if paid else None, late, interest, state,
                                   rate))
    order = {"overdue": 0, "due": 1, "paid_late": 2, "not_accepted": 3, "waiting": 3,
             "nothing_due": 4, "paid": 4}
    rows.sort(key=lambda r: (order[r.state], -r.late_days, r.contract.id, r.instalment.seq))
    return rows


#: The orders a reader may choose on the payment-due list (``?sort=key``, ``-key`` descending,
#: see ``paging.sort_items``); without one it stays in the order of ``payments``: overdue first.
PAYMENT_SORTS = {
    "project": lambda r: r.project.name,
    "supplier": lambda r: r.supplier.name,
    "amount": lambda r: r.payable_fen,  # the payable amount
    "due": lambda r: r.due.due_on,
    "late": lambda r: r.late_days,
    "interest": lambda r: r.interest_fen,
}


# ---------------------------------------------------------------- lists


@dataclass
class SettlementRow:
    settlement: Settlement
    contract: Contract
    project: Project
    department: Organisation
    supplier: Organisation
    instalment: Instalment


def _joined():
    from sqlalchemy.orm import aliased

    department = aliased(Organisation)
    supplier = aliased(Organisation)
    return (select(Settlement, Contract, Project, department, supplier, Instalment)
            .join(Contract, Settlement.contract_id == Contract.id)
            .join(Project, Contract.project_id == Project.id)
            .join(department, Project.department_id == department.id)
            .join(supplier, Contract.supplier_id == supplier.id)
            .join(Instalment, Settlement.instalment_id == Instalment.id))


def filter_problems(status: str = "") -> dict[str, str]:
    """The settlement list's filter → why it cannot be applied, in the reader's language. The
    page ignores an unknown status (a stale link still lists); the JSON API refuses it rather
    than hand a payment system every settlement as if it had that status."""
    if status and status not in SettlementStatus.__members__:
        return {"status": _("Choose one of the settlement statuses: %(choices)s.",
                            choices=", ".join(SettlementStatus.__members__))}
    return {}


def page(session: Session, *, organisation_id: int | None = None, supplier_id: int | None = None,
         contract_id: int | None = None, settlement_ids: list[int] | None = None,
         status: str = "", sort: str | None = None, page_number: int = 1,
         per_page: int = DEFAULT_PER_PAGE) -> Page:
    statement = _joined()
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    if contract_id is not None:
        statement = statement.where(Settlement.contract_id == contract_id)
    if settlement_ids is not None:
        statement = statement.where(col(Settlement.id).in_(settlement_ids or [-1]))
    if status in SettlementStatus.__members__:
        statement = statement.where(Settlement.status == SettlementStatus(status))
    result = paginate(session, statement, sort_columns={
        "proposed_at": Settlement.proposed_at, "project": Project.name,
        "payable": Settlement.payable_fen, "status": Settlement.status},
        sort=sort, default_sort="-proposed_at", page=page_number, per_page=per_page)
    result.items = [SettlementRow(*row) for row in result.items]
    return result


# ---------------------------------------------------------------- Excel for the treasury


def _local_date(moment) -> date | None:
    return as_utc(moment).astimezone(projects.LOCAL_TZ).date() if moment else None


def _bold_header(sheet) -> None:
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def _save(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


#: Money in a workbook: a number in yuan (a Decimal from integer fen), shown with its ¥ sign.
YUAN_FORMAT = '"¥"#,##0.00'


def sheet_workbook(session: Session, settlement: Settlement, *, today: date | None = None
                   ) -> bytes:
    """One settlement sheet as an Excel workbook (结算单), with the payment's due date, the
    days overdue and the interest owed as the settlement page shows them."""
    contract = session.get(Contract, settlement.contract_id)
    project = session.get(Project, contract.project_id)
    instalment = session.get(Instalment, settlement.instalment_id)
    evaluation = session.get(Evaluation, settlement.evaluation_id) \
        if settlement.evaluation_id else None
    book = Workbook()
    sheet = book.active
    sheet.title = _("Settlement sheet")
    payment = payment_of(session, settlement, today=today)
    money_rows = {"contract", "instalment", "payable", "deduction", "interest"}
    rows = [
        ("no", _("Settlement no."), f"JS-{settlement.id:06d}"),
        ("project", _("Project"), project.name),
        ("department", _("Purchasing department"),
         session.get(Organisation, project.department_id).name),
        ("supplier", _("Supplier"), session.get(Organisation, contract.supplier_id).name),
        ("credit_code", _("Unified social credit code"),
         session.get(Organisation, contract.supplier_id).credit_code or ""),
        ("contract", _("Contract amount"), yuan(settlement.contract_amount_fen)),
        ("seq", _("Instalment"), instalment.seq),
        ("instalment", _("Instalment amount"), yuan(settlement.instalment_amount_fen)),
        ("basis", _("Basis"), str(BASIS_LABELS[settlement.basis])),
        ("evaluation", _("Evaluation"), evaluation.title if evaluation else ""),
        ("total", _("Total score"), Decimal(settlement.total) if settlement.total else ""),
        ("grade", _("Grade"), settlement.grade or ""),
        ("rule", _("Payment rule"), rule_text(settlement.payment_rule,
                                              settlement_grades(session, settlement))),
        ("ratio", _("Ratio"), Decimal(settlement.ratio)),
        ("payable", _("Payable amount"), yuan(settlement.payable_fen)),
        ("deduction", _("Deduction"), yuan(settlement.deduction_fen)),
        ("explanation", _("How it was computed"),
         explanation_in_reader_language(session, settlement)),
        ("status", _("Status"), str(STATUS_LABELS[settlement.status])),
        ("approved_on", _("Approved on"), _local_date(settlement.decided_at)
         if settlement.status in (SettlementStatus.approved, SettlementStatus.paid) else None),
        ("voucher", _("Voucher number"), settlement.voucher_no or ""),
        ("paid_on", _("Paid on"), settlement.paid_on),
        ("due_on", _("Payment due"),
         payment.due.due_on or payment.due.notice or payment.due.note),
    ]
    if settlement.status == SettlementStatus.paid:
        rows.append(("late_days", _("Days paid late"), payment.paid_late_days))
        rows.append(("interest", _("Late-payment interest owed"), yuan(payment.interest_fen)))
    else:
        rows.append(("late_days", _("Days overdue as of %(date)s", date=payment.as_of.isoformat()),
                     payment.overdue_days))
        rows.append(("interest", _("Interest owed so far, as of %(date)s",
                                   date=payment.as_of.isoformat()), yuan(payment.interest_fen)))
    for key, label, value in rows:
        sheet.append([label, value])
        cell = sheet.cell(sheet.max_row, 2)
        if key in money_rows:
            cell.number_format = YUAN_FORMAT
        elif key == "ratio":
            cell.number_format = "0.00%"
        elif key in ("approved_on", "paid_on") or (key == "due_on" and payment.due.due_on):
            cell.number_format = "yyyy-mm-dd"
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 26
    sheet.column_dimensions["B"].width = 70
    return _save(book)


PERIOD_COLUMNS = [
    N_("Settlement no."), N_("Project"), N_("Purchasing department"), N_("Supplier"),
    N_("Unified social credit code"), N_("Budget line"), N_("Instalment"), N_("Instalment amount"),
    N_("Total score"), N_("Grade"), N_("Ratio"), N_("Payable amount"), N_("Deduction"),
    N_("Status"), N_("Approved on"), N_("Voucher number"), N_("Paid on"), N_("Payment due"),
    N_("Days late"), N_("Late-payment interest owed"),
]


def parse_period(start: str, end: str) -> tuple[date, date]:
    errors: dict[str, str] = {}
    days = []
    for name, text in (("start", start), ("end", end)):
        try:
            days.append(date.fromisoformat(_clean(text)))
        except ValueError:
            errors[name] = _("Enter a date as YYYY-MM-DD.")
    if errors:
        raise ValidationFailed(errors)
    if days[1] < days[0]:
        raise ValidationFailed({"end": _("The period cannot end before it begins.")})
    return days[0], days[1]


def approved_in(session: Session, start: date, end: date, *, organisation_id: int | None = None
                ) -> list[SettlementRow]:
    """Settlements approved in the period (local dates, inclusive), paid or not."""
    statement = (_joined().where(col(Settlement.status).in_((SettlementStatus.approved,
                                                             SettlementStatus.paid)))
                 .order_by(Settlement.decided_at, Settlement.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    rows = [SettlementRow(*row) for row in session.exec(statement)]
    return [r for r in rows if start <= _local_date(r.settlement.decided_at) <= end]


@dataclass(frozen=True)
class Approval:
    """An approval's figures as they stood when it was given."""

    settlement_id: int
    approved_on: date
    grade: str | None
    instalment_fen: int
    payable_fen: int
    deduction_fen: int


def approvals_in(session: Session, start: date, end: date, *, as_of: date,
                 organisation_id: int | None = None) -> list[Approval]:
    """The approvals given in the period (local dates, inclusive) that still stood on
    ``as_of`` (its last day, or today while it runs): the settlements approved in it that are
    approved or paid now, and those whose approval was withdrawn only after ``as_of``, with
    the figures they were approved at (from the withdrawal's audit entry). An approval
    withdrawn by ``as_of`` does not count; a settlement approved again later counts in the
    period of its new approval."""
    found = [Approval(r.settlement.id, _local_date(r.settlement.decided_at), r.settlement.grade,
                      r.settlement.instalment_amount_fen, r.settlement.payable_fen,
                      r.settlement.deduction_fen)
             for r in approved_in(session, start, end, organisation_id=organisation_id)]
    withdrawals = list(session.exec(select(AuditEntry).where(
        AuditEntry.entity_type == "settlement", AuditEntry.action == "settlement.withdraw")
        .order_by(AuditEntry.seq)))
    in_scope = None
    if organisation_id is not None and withdrawals:
        in_scope = {s.id for s in session.exec(
            select(Settlement).join(Contract, Settlement.contract_id == Contract.id)
            .join(Project, Contract.project_id == Project.id)
            .where(Project.department_id == organisation_id))}
    for entry in withdrawals:
        change = json.loads(entry.change)
        approved_at = change.get("approved_at")
        if not approved_at or _local_date(entry.at) <= as_of:
            continue
        approved_on = _local_date(datetime.fromisoformat(approved_at))
        settlement_id = int(entry.entity_id)
        if not start <= approved_on <= end or (in_scope is not None
                                               and settlement_id not in in_scope):
            continue
        found.append(Approval(settlement_id, approved_on, change.get("grade"),
                              int(change["instalment_fen"]), int(change["payable_fen"]),
                              int(change["deduction_fen"])))
    return sorted(found, key=lambda a: (a.approved_on, a.settlement_id))


def paid_in(session: Session, start: date, end: date, *, organisation_id: int | None = None
            ) -> list[SettlementRow]:
    """Settlements paid in the period (the payment date, inclusive), whatever the supplier's
    size: a large supplier's payment has no statutory due date but is a payment all the same."""
    statement = (_joined().where(Settlement.status == SettlementStatus.paid,
                                 col(Settlement.paid_on) >= start, col(Settlement.paid_on) <= end)
                 .order_by(Settlement.paid_on, Settlement.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    return [SettlementRow(*row) for row in session.exec(statement)]


def period_workbook(session: Session, start: date, end: date, *,
                    organisation_id: int | None = None) -> bytes:
    """A period's approved settlements as one Excel sheet for the treasury system."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("Settlements")
    sheet.append([str(c) for c in PERIOD_COLUMNS])
    _bold_header(sheet)
    rows = approved_in(session, start, end, organisation_id=organisation_id)
    interest = Decimal(0)
    for r in rows:
        s = r.settlement
        # when it is due, and how late it is (paid late, or still unpaid today) with the
        # interest owed: what the treasury pays besides the payable amount
        payment = payment_of(session, s)
        late = payment.paid_late_days or payment.overdue_days
        interest += yuan(payment.interest_fen) if late else Decimal(0)
        sheet.append([
            f"JS-{s.id:06d}", r.project.name, r.department.name, r.supplier.name,
            r.supplier.credit_code or "", r.project.budget_line, r.instalment.seq,
            yuan(s.instalment_amount_fen), Decimal(s.total) if s.total else None, s.grade or "",
            Decimal(s.ratio), yuan(s.payable_fen), yuan(s.deduction_fen),
            str(STATUS_LABELS[s.status]), _local_date(s.decided_at), s.voucher_no or "",
            s.paid_on, payment.due.due_on, late if payment.due.due_on else None,
            yuan(payment.interest_fen) if late else None])
        row = sheet.max_row
        for column in (8, 12, 13, 20):
            sheet.cell(row, column).number_format = YUAN_FORMAT
        sheet.cell(row, 11).number_format = "0.00%"
        for column in (15, 17, 18):
            sheet.cell(row, column).number_format = "yyyy-mm-dd"
    if rows:
        sheet.append([_("Total")] + [None] * 6 + [
            sum((yuan(r.settlement.instalment_amount_fen) for r in rows), Decimal(0)),
            None, None, None, sum((yuan(r.settlement.payable_fen) for r in rows), Decimal(0)),
            sum((yuan(r.settlement.deduction_fen) for r in rows), Decimal(0))]
            + [None] * 6 + [interest])
        for column in (8, 12, 13, 20):
            sheet.cell(sheet.max_row, column).number_format = YUAN_FORMAT
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    for column, width in zip("ABCDEFGHIJKLMNOPQRST", (12, 30, 22, 26, 22, 26, 8, 14, 10, 8, 8, 14,
                                                       14, 16, 12, 20, 12, 12, 10, 16), strict=True):
        sheet.column_dimensions[column].width = width
    return _save(book)


# ---------------------------------------------------------------- home cards


def ready_to_propose(session: Session, organisation_id: int) -> list[Sheet]:
    """Instalments of the department's contracts that can be settled now and are not: their
    evaluation's result is final (the results whose appeal window has closed are made final
    first)."""
    finalise_results(session)
    ready = []
    for contract in session.exec(select(Contract).join(Project, Contract.project_id == Project.id)
                                 .where(Project.department_id == organisation_id)):
        for instalment in contracts.instalments_of(session, contract.id):
            existing = for_instalment(session, instalment.id)
            if existing is not None and existing.status != SettlementStatus.returned:
                continue
            sheet = build_sheet(session, instalment)
            if sheet.ready:
                ready.append(sheet)
    return ready


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    if role == Role.supplier and organisation_id is not None:
        # what is owed to the supplier past its due date, with the interest it may claim
        late = [r for r in payments(session, supplier_id=organisation_id)
                if r.state == "overdue"]
        if not late:
            return []
        return [dashboard.Card(_("Payments overdue to you"), str(len(late)), _(
            "Interest owed so far: %(amount)s", amount=money_text(
                sum(r.interest_fen or 0 for r in late))), "/settlements/due", urgent=True)]
    if role not in (Role.finance, Role.purchaser, Role.auditor):
        return []
    scope = organisation_id if role == Role.purchaser else None
    cards = []
    if role == Role.finance:
        waiting = session.exec(select(func.count()).select_from(Settlement).where(
            Settlement.status == SettlementStatus.proposed)).one()
        cards.append(dashboard.Card(_("Settlements to approve"), str(waiting),
                                    _("Proposed by purchasers, waiting for finance"),
                                    "/settlements?status=proposed", urgent=waiting > 0))
    if role == Role.purchaser and organisation_id is not None:
        ready = len(ready_to_propose(session, organisation_id))
        cards.append(dashboard.Card(_("Instalments to settle"), str(ready),
                                    _("Their evaluation is final; propose the settlement"),
                                    "/settlements", urgent=ready > 0))
    overdue = [r for r in payments(session, organisation_id=scope) if r.state == "overdue"]
    interest = sum(r.interest_fen or 0 for r in overdue)
    cards.append(dashboard.Card(_("Overdue payments"), str(len(overdue)),
                                _("Interest owed so far: %(amount)s", amount=money_text(interest)),
                                "/settlements/due", urgent=bool(overdue)))
    return cards
