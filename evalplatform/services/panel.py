"""Drawing an evaluation's expert panel (专家抽取), declines, recusals and third-party firms.

The draw (DESIGN.md): an odd number of experts, at least 3, at least 5 when the project was
bought by tender (公开招标 / 邀请招标), at least 7 for contracts of ¥10,000,000 or more; some
alternates (候补); the specialities required. Experts who must be avoided (回避) are left out
with the reason recorded. The random source is cryptographic: a 256-bit seed from
``secrets``. Each candidate's place in the order is SHA-256(seed ":" expert id) (lowest
first), so anyone holding the stored seed and candidate list can replay the draw by hand or
with :func:`replay` and get the same panel. The draw, each decline and each recusal are
audited, and the audit entry holds the seed and the candidates too.

The names on a panel are shown to the organiser (the purchasing department), finance and
auditors only, until the evaluation's result is final.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from evalplatform.db import row_named
from evalplatform.i18n import _
from evalplatform.models import (
    AuditEntry,
    Evaluation,
    EvaluationStatus,
    Expert,
    MemberStatus,
    Organisation,
    OrganisationKind,
    PanelDraw,
    PanelFirm,
    PanelMember,
    ProcurementMethod,
    Role,
    User,
)
from evalplatform.services import audit, evaluations, experts, projects
from evalplatform.services.clock import now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed

ALGORITHM = "sha256-rank/1"
TENDER_METHODS = (ProcurementMethod.public_tender, ProcurementMethod.invited_tender)
LARGE_CONTRACT_FEN = 10_000_000_00  # ¥10,000,000: at least seven experts
MAX_PANEL = 15
MAX_ALTERNATES = 10
#: While the panel may still change (drawn, declined, recused).
OPEN_STATUSES = (EvaluationStatus.draft, EvaluationStatus.collecting, EvaluationStatus.scoring)


# ---------------------------------------------------------------- who may do what


def is_organiser(session: Session, principal, evaluation: Evaluation) -> bool:
    """The organiser (组织方): finance, or a purchaser of the evaluation's department."""
    if principal.role == Role.finance:
        return True
    return (principal.role == Role.purchaser and principal.organisation_id is not None
            and evaluations.project_of(session, evaluation).department_id
            == principal.organisation_id)


def names_visible(session: Session, principal, evaluation: Evaluation) -> bool:
    """Panel names: organiser, finance and auditors; everyone who may see the evaluation once
    its result is final."""
    if principal.role in (Role.finance, Role.auditor) or is_organiser(session, principal,
                                                                       evaluation):
        return True
    return evaluation.status == EvaluationStatus.final


def _require_organiser(session: Session, principal, evaluation: Evaluation) -> None:
    if not is_organiser(session, principal, evaluation):
        raise PermissionDenied(_("Only the organiser or finance manages the panel."))


# ---------------------------------------------------------------- panel size


def minimum_size(session: Session, evaluation: Evaluation) -> int:
    """3; 5 for a tendered project; 7 for a contract of ¥10,000,000 or more."""
    contract = evaluations.contract_of(session, evaluation)
    project = projects.get(session, contract.project_id)
    if contract.amount_fen >= LARGE_CONTRACT_FEN:
        return 7
    if project.procurement_method in TENDER_METHODS:
        return 5
    return 3


def default_specialities(session: Session, evaluation: Evaluation) -> list[str]:
    project = evaluations.project_of(session, evaluation)
    code = experts.sector_of_entry(session, project.catalogue_entry_id)
    return [code] if code else []


# ---------------------------------------------------------------- the draw itself (pure)


def rank_key(seed: str, expert_id: int) -> str:
    """A candidate's place in the draw: SHA-256 of ``seed:id`` in hex (lower draws first)."""
    return hashlib.sha256(f"{seed}:{expert_id}".encode()).hexdigest()


def select_panel(seed: str, candidates: list[dict], seats: int, alternates: int,
                 required: list[str]) -> tuple[list[int], list[int]]:
    """The seats and alternates a seed gives over a candidate list (no database, no clock).

    Candidates are ordered by :func:`rank_key`. First each required speciality not yet on
    the panel takes the first candidate in that order who has it; the other seats then go
    down the order; the alternates are the next ones after the seats.
    """
    ordered = sorted(candidates, key=lambda c: (rank_key(seed, c["id"]), c["id"]))
    chosen: list[dict] = []
    for code in required:
        if len(chosen) >= seats or any(code in c["specialities"] for c in chosen):
            continue
        pick = next((c for c in ordered if c not in chosen and code in c["specialities"]), None)
        if pick is not None:
            chosen.append(pick)
    for candidate in ordered:
        if len(chosen) >= seats:
            break
        if candidate not in chosen:
            chosen.append(candidate)
    rest = [c for c in ordered if c not in chosen][:alternates]
    return [c["id"] for c in chosen], [c["id"] for c in rest]


# ---------------------------------------------------------------- drawing


def draws(session: Session, evaluation_id: int) -> list[PanelDraw]:
    return list(session.exec(select(PanelDraw).where(PanelDraw.evaluation_id == evaluation_id)
                             .order_by(PanelDraw.round)))


def members(session: Session, evaluation_id: int) -> list[PanelMember]:
    return list(session.exec(select(PanelMember).where(PanelMember.evaluation_id == evaluation_id)
                             .order_by(PanelMember.position)))


def planned_size(session: Session, evaluation_id: int) -> int:
    """The panel's size: the seats of the first draw (later rounds only fill vacancies)."""
    first = session.exec(select(PanelDraw).where(PanelDraw.evaluation_id == evaluation_id,
                                                 PanelDraw.round == 1)).first()
    return first.size if first else 0


def vacancies(session: Session, evaluation_id: int) -> int:
    seated = sum(1 for m in members(session, evaluation_id) if m.status == MemberStatus.seated)
    return max(0, planned_size(session, evaluation_id) - seated)


def _int(value, field: str, errors: dict) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        errors[field] = _("Enter a whole number.")
        return None


@dataclass
class Pool:
    """The pool sorted for one draw: who may be drawn and who may not, and why."""

    candidates: list[dict] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)  # avoided, with reasons
    inactive: int = 0
    other_speciality: int = 0
    already_drawn: int = 0


def sort_pool(session: Session, evaluation: Evaluation, required: list[str]) -> Pool:
    pool = Pool()
    drawn = {m.expert_id for m in members(session, evaluation.id)}
    today = projects.today()
    for expert in session.exec(select(Expert).order_by(Expert.id)):
        if not expert.active:
            pool.inactive += 1
            continue
        if expert.id in drawn:
            pool.already_drawn += 1
            continue
        reasons = experts.avoidance_reasons(session, expert, evaluation, today)
        if reasons:
            pool.excluded.append({"id": expert.id, "name": expert.name, "reasons": reasons})
            continue
        if required and not set(required) & set(expert.specialities):
            pool.other_speciality += 1
            continue
        pool.candidates.append({"id": expert.id, "specialities": sorted(expert.specialities)})
    return pool


def draw(session: Session, principal, evaluation_id: int, values: dict) -> PanelDraw:
    """Draw the panel (round 1), or fill the seats left empty (a later round, with a reason)."""
    evaluation = evaluations.get(session, evaluation_id)
    _require_organiser(session, principal, evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("The panel can no longer change: the evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    earlier = draws(session, evaluation.id)
    round_number = len(earlier) + 1
    errors: dict[str, str] = {}
    reason = str(values.get("reason") or "").strip()
    if earlier:
        size = vacancies(session, evaluation.id)
        if size == 0:
            raise Conflict(_("Every seat of the panel is filled; a further draw is not needed."))
        if not reason:
            errors["reason"] = _("Give the reason for a further draw.")
        asked = values.get("size")  # the page's form does not ask it again; the API may
        if asked is not None and str(asked).strip() not in ("", str(size)):
            errors["size"] = _("A further draw fills the seats left empty (%(n)s): leave the "
                               "number of experts out.", n=size)
    else:
        size = _int(values.get("size"), "size", errors)
        minimum = minimum_size(session, evaluation)
        if size is not None:
            if size % 2 == 0:
                errors["size"] = _("A panel has an odd number of experts.")
            elif size < minimum:
                errors["size"] = _("This evaluation needs at least %(n)s experts.", n=minimum)
            elif size > MAX_PANEL:
                errors["size"] = _("At most %(n)s experts.", n=MAX_PANEL)
    alternates = _int(values.get("alternates") or 0, "alternates", errors)
    if alternates is not None and not 0 <= alternates <= MAX_ALTERNATES:
        errors["alternates"] = _("Between 0 and %(n)s alternates.", n=MAX_ALTERNATES)
    raw = values.get("specialities") or []
    required = sorted({str(c).strip() for c in ([raw] if isinstance(raw, str) else raw)
                       if str(c).strip()})
    known = experts.sector_names(session)
    if unknown := [c for c in required if c not in known]:
        errors["specialities"] = _("Not a catalogue sector: %(codes)s.", codes=", ".join(unknown))
    if errors:
        raise ValidationFailed(errors)
    pool = sort_pool(session, evaluation, required)
    # A further draw need not bring a speciality a seated member already has.
    covered = {code for member in members(session, evaluation.id)
               if member.status == MemberStatus.seated
               for code in session.get(Expert, member.expert_id).specialities}
    lacking = [c for c in required if c not in covered
               and not any(c in cand["specialities"] for cand in pool.candidates)]
    if lacking:
        raise ValidationFailed({"specialities": _(
            "No eligible expert in the pool has the speciality %(names)s.",
            names="、".join(known[c] for c in lacking))})
    if len(pool.candidates) < size + alternates:
        raise ValidationFailed({"alternates" if earlier else "size": _(
            "Only %(n)s experts are eligible, fewer than the %(seats)s seats and %(alt)s "
            "alternates asked for. Of the rest of the pool, %(avoided)s must be avoided (staff of, "
            "or now or within %(years)s years tied to, the supplier or the purchasing "
            "department), %(other)s lack the specialities required, %(drawn)s were drawn "
            "before and %(inactive)s are inactive.", n=len(pool.candidates), seats=size,
            alt=alternates, avoided=len(pool.excluded), years=experts.avoidance_years(),
            other=pool.other_speciality, drawn=pool.already_drawn, inactive=pool.inactive)})
    seed = secrets.token_hex(32)
    seats, alternate_ids = select_panel(seed, pool.candidates, size, alternates, required)
    record = PanelDraw(evaluation_id=evaluation.id, round=round_number, size=size,
                       alternate_count=alternates, specialities=required, seed=seed,
                       algorithm=ALGORITHM, candidates=pool.candidates, excluded=pool.excluded,
                       seats=seats, alternates=alternate_ids, reason=reason,
                       drawn_by=principal.actor.id)
    session.add(record)
    session.flush()
    position = max((m.position for m in members(session, evaluation.id)), default=0)
    for ids, status in ((seats, MemberStatus.seated), (alternate_ids, MemberStatus.alternate)):
        for expert_id in ids:
            position += 1
            session.add(PanelMember(evaluation_id=evaluation.id, draw_id=record.id,
                                    expert_id=expert_id, position=position, status=status))
    audit.record(session, principal.actor, "panel.draw", "evaluation", evaluation.id,
                 {"draw": record.id, "round": round_number, "size": size,
                  "alternates": alternates, "specialities": required, "seed": seed,
                  "algorithm": ALGORITHM, "candidates": pool.candidates,
                  "excluded": [{"id": e["id"], "reasons": e["reasons"]} for e in pool.excluded],
                  "seats": seats, "alternate_ids": alternate_ids, "reason": reason})
    session.commit()
    session.refresh(record)
    return record


# ---------------------------------------------------------------- replay (for auditors)


@dataclass
class Replay:
    """The outcome of replaying a stored draw (复核抽取)."""

    draw: PanelDraw
    seats: list[int]
    alternates: list[int]
    order: list[tuple[int, str]]  # (expert id, rank key), in drawn order
    checks: list[tuple[str, bool]]

    @property
    def ok(self) -> bool:
        return all(passed for _label, passed in self.checks)


def replay(session: Session, draw_id: int) -> Replay:
    """Recompute the draw from its stored seed and candidates and check it against the panel
    recorded, and against the draw's entry in the hash-chained audit log."""
    record = session.get(PanelDraw, draw_id)
    if record is None:
        raise NotFound(_("This draw does not exist."))
    seats, alternates = select_panel(record.seed, record.candidates, record.size,
                                     record.alternate_count, record.specialities)
    order = sorted(((c["id"], rank_key(record.seed, c["id"])) for c in record.candidates),
                   key=lambda pair: (pair[1], pair[0]))
    entries = session.exec(select(AuditEntry).where(AuditEntry.action == "panel.draw",
                                                    AuditEntry.entity_id == str(record.evaluation_id))
                           ).all()
    entry = next((e for e in entries if json.loads(e.change).get("draw") == record.id), None)
    logged = json.loads(entry.change) if entry else {}
    drawn_members = [m for m in members(session, record.evaluation_id) if m.draw_id == record.id]
    checks = [
        (_("Replaying the seed over the candidates gives the seats recorded"),
         seats == record.seats),
        (_("… and the alternates recorded"), alternates == record.alternates),
        (_("The audit log holds this draw with the same seed, candidates and result"),
         entry is not None and entry.hash == audit.entry_hash(entry.prev_hash, entry)
         and logged.get("seed") == record.seed and logged.get("candidates") == record.candidates
         and logged.get("seats") == record.seats
         and logged.get("alternate_ids") == record.alternates),
        (_("The panel members are the experts drawn, in the order drawn"),
         [m.expert_id for m in drawn_members] == record.seats + record.alternates),
    ]
    return Replay(record, seats, alternates, order, checks)


# ---------------------------------------------------------------- declines and recusals


def _next_alternate(session: Session, evaluation_id: int) -> PanelMember | None:
    return session.exec(select(PanelMember).where(
        PanelMember.evaluation_id == evaluation_id, PanelMember.status == MemberStatus.alternate)
        .order_by(PanelMember.position)).first()


def member_of(session: Session, evaluation_id: int, member_id: int) -> PanelMember:
    member = session.get(PanelMember, member_id)
    if member is None or member.evaluation_id != evaluation_id:
        raise NotFound(_("This panel member does not exist."))
    return member


def has_submitted(session: Session, member: PanelMember) -> bool:
    """The member has submitted a sheet: they can no longer decline, only be recused."""
    from evalplatform.models import Scoresheet, SheetStatus

    return session.exec(select(Scoresheet).where(
        Scoresheet.member_id == member.id, Scoresheet.status == SheetStatus.submitted)
    ).first() is not None


def step_down(session: Session, principal, evaluation_id: int, member_id: int, reason: str, *,
              recuse: bool = False) -> PanelMember | None:
    """A member declines (拒绝) or is recused (回避); the first alternate takes the seat.

    The expert may decline their own seat; the organiser records a decline or a recusal.
    A member who submitted a sheet can no longer decline, only be recused (their sheet then
    no longer counts). Returns the alternate seated, or None when no alternate was left.
    """
    evaluation = evaluations.get(session, evaluation_id)
    member = member_of(session, evaluation_id, member_id)
    expert = session.get(Expert, member.expert_id)
    own = principal.role == Role.evaluator and expert.user_id == principal.id
    if recuse or not own:
        _require_organiser(session, principal, evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("The panel can no longer change: the evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    if member.status not in (MemberStatus.seated, MemberStatus.alternate):
        raise Conflict(_("This expert has already left the panel."))
    if not reason.strip():
        raise ValidationFailed({"reason": _("Give the reason.")})
    if has_submitted(session, member) and not recuse:
        raise Conflict(_("This expert has submitted a sheet; the organiser may only record a "
                         "recusal now."))
    was_seated = member.status == MemberStatus.seated
    member.status = MemberStatus.recused if recuse else MemberStatus.declined
    member.reason = reason.strip()
    member.changed_by = principal.actor.id
    member.changed_at = now()
    session.add(member)
    replacement = _next_alternate(session, evaluation_id) if was_seated else None
    if replacement is not None:
        replacement.status = MemberStatus.seated
        replacement.replaces_id = member.id
        replacement.changed_by = principal.actor.id
        replacement.changed_at = member.changed_at
        session.add(replacement)
    audit.record(session, principal.actor, "panel.recuse" if recuse else "panel.decline",
                 "evaluation", evaluation_id,
                 {"member": member.id, "expert": member.expert_id, "position": member.position,
                  "reason": member.reason, "seated_instead": replacement.expert_id
                  if replacement else None})
    session.commit()
    return replacement


# ---------------------------------------------------------------- third-party firms


def firms(session: Session, evaluation_id: int, *, active_only: bool = True
          ) -> list[tuple[PanelFirm, Organisation]]:
    statement = (select(PanelFirm, Organisation)
                 .join(Organisation, PanelFirm.organisation_id == Organisation.id)
                 .where(PanelFirm.evaluation_id == evaluation_id).order_by(PanelFirm.id))
    if active_only:
        statement = statement.where(col(PanelFirm.active).is_(True))
    return list(session.exec(statement))


def firm_code(session: Session, assignment: PanelFirm) -> str:
    """The firm's scorer code: F1, F2 … in order of assignment."""
    ids = [f.id for f, _o in firms(session, assignment.evaluation_id, active_only=False)]
    return f"F{ids.index(assignment.id) + 1}"


def available_firms(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(
        Organisation.kind == OrganisationKind.third_party_firm, col(Organisation.active).is_(True))
        .order_by(Organisation.name)))


def assign_firm(session: Session, principal, evaluation_id: int, organisation_id) -> PanelFirm:
    """Entrust a third-party firm (第三方评价机构) with the third-party part."""
    evaluation = evaluations.get(session, evaluation_id)
    _require_organiser(session, principal, evaluation)
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("The panel can no longer change: the evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    organisation = row_named(session, Organisation, organisation_id)
    if organisation is None or organisation.kind != OrganisationKind.third_party_firm \
            or not organisation.active:
        raise ValidationFailed({"organisation_id": _("Choose an active third-party evaluation "
                                                     "firm.")})
    existing = session.exec(select(PanelFirm).where(
        PanelFirm.evaluation_id == evaluation.id,
        PanelFirm.organisation_id == organisation.id)).first()
    if existing is not None and existing.active:
        raise ValidationFailed({"organisation_id": _("This firm is already assigned.")})
    if existing is not None:
        existing.active, existing.removed_reason = True, ""
        assignment = existing
    else:
        assignment = PanelFirm(evaluation_id=evaluation.id, organisation_id=organisation.id,
                               assigned_by=principal.actor.id)
    session.add(assignment)
    session.flush()
    audit.record(session, principal.actor, "panel.firm", "evaluation", evaluation.id,
                 {"firm": organisation.id, "assignment": assignment.id})
    session.commit()
    session.refresh(assignment)
    return assignment


def remove_firm(session: Session, principal, evaluation_id: int, assignment_id: int, reason: str
                ) -> PanelFirm:
    evaluation = evaluations.get(session, evaluation_id)
    _require_organiser(session, principal, evaluation)
    assignment = session.get(PanelFirm, assignment_id)
    if assignment is None or assignment.evaluation_id != evaluation.id or not assignment.active:
        raise NotFound(_("This firm is not assigned to the evaluation."))
    if evaluation.status not in OPEN_STATUSES:
        raise Conflict(_("The panel can no longer change: the evaluation is %(status)s.",
                         status=evaluations.status_label(evaluation.status)))
    if not reason.strip():
        raise ValidationFailed({"reason": _("Give the reason.")})
    assignment.active, assignment.removed_reason = False, reason.strip()
    session.add(assignment)
    audit.record(session, principal.actor, "panel.firm_removed", "evaluation", evaluation.id,
                 {"firm": assignment.organisation_id, "reason": reason.strip()})
    session.commit()
    return assignment


# ---------------------------------------------------------------- assignments


def seat_of(session: Session, principal, evaluation_id: int) -> PanelMember | None:
    """The principal's seat on the evaluation's panel (seated members only)."""
    if principal.role != Role.evaluator:
        return None
    expert = experts.for_user(session, principal.id)
    if expert is None:
        return None
    return session.exec(select(PanelMember).where(
        PanelMember.evaluation_id == evaluation_id, PanelMember.expert_id == expert.id,
        PanelMember.status == MemberStatus.seated)).first()


def firm_of(session: Session, principal, evaluation_id: int) -> PanelFirm | None:
    """The active assignment of the principal's firm to the evaluation."""
    if principal.role != Role.evaluator or principal.organisation_id is None:
        return None
    return session.exec(select(PanelFirm).where(
        PanelFirm.evaluation_id == evaluation_id,
        PanelFirm.organisation_id == principal.organisation_id,
        col(PanelFirm.active).is_(True))).first()


@evaluations.assignment_check
def _assigned(session: Session, principal, evaluation: Evaluation) -> bool:
    """An evaluator sees an evaluation when seated on its panel or when its firm is assigned."""
    return (seat_of(session, principal, evaluation.id) is not None
            or firm_of(session, principal, evaluation.id) is not None)


@dataclass
class MemberRow:
    member: PanelMember
    expert: Expert
    user: User | None
    code: str  # E01 …


def member_rows(session: Session, evaluation_id: int) -> list[MemberRow]:
    """The panel's members with their experts and accounts, each kind read in one statement."""
    seated = members(session, evaluation_id)
    found = {e.id: e for e in session.exec(select(Expert).where(
        col(Expert.id).in_(sorted({m.expert_id for m in seated}))))} if seated else {}
    user_ids = sorted({e.user_id for e in found.values() if e.user_id})
    users = {u.id: u for u in session.exec(select(User).where(
        col(User.id).in_(user_ids)))} if user_ids else {}
    rows = []
    for member in seated:
        expert = found[member.expert_id]
        rows.append(MemberRow(member, expert, users.get(expert.user_id) if expert.user_id
                              else None, scorer_code(member)))
    return rows


def scorer_code(member: PanelMember) -> str:
    """The expert's code on sheets and in the scoring package (names stay confidential)."""
    return f"E{member.position:02d}"
