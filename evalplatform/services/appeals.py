"""Appeals (申诉): the supplier objects to a published result; finance decides.

Rules: only the supplier of the contract appeals, only against the current publication,
only up to and including the appeal deadline (working days on the Chinese calendar, see
services/results.py), with written reasons and, optionally, evidence files (PDF or Word,
stored by content hash). One appeal per publication. While an appeal is open the result
cannot become final. Finance decides: *uphold* the result (维持原结果, the appeal is
dismissed and the result stands), or *reopen* named leaves (重新评分), which sends the
evaluation back to scoring through ``evaluations.reopen``; the next computation makes a new
version and a new publication with a new appeal window.

While finance has not decided, the supplier that filed the appeal may withdraw it (撤回申诉,
:func:`withdraw`): filed by mistake, or the matter settled. A withdrawn appeal is neither open
nor decided: it no longer holds the result back, which becomes final once the appeal window has
closed. Withdrawing is final for that publication: the table keeps one appeal per publication,
so the supplier cannot file again against it, even inside the window (the page says so before
the supplier confirms); a later publication after a reopening may be appealed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from evalplatform.i18n import N_, _
from evalplatform.models import (
    Appeal,
    AppealStatus,
    Contract,
    Evaluation,
    EvaluationStatus,
    Organisation,
    Project,
    Role,
)
from evalplatform.services import (
    audit,
    dashboard,
    evaluations,
    files,
    projects,
    results,
    scoresheets,
)
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.paging import Page, paginate

MAX_EVIDENCE_FILES = 10
MIN_REASONS = 10
MAX_REASONS = 10_000
MAX_DECISION = 10_000  # finance's reasons, as long as the supplier's may be
EVIDENCE_KINDS = (files.PDF, files.DOCX)

STATUS_LABELS = {
    AppealStatus.open: N_("Open, waiting for finance"),
    AppealStatus.upheld: N_("Result upheld, appeal dismissed"),
    AppealStatus.reopened: N_("Leaves reopened for rescoring"),
    AppealStatus.withdrawn: N_("Withdrawn by the supplier"),
}


def status_label(status: AppealStatus) -> str:
    return str(STATUS_LABELS[AppealStatus(status)])


def get(session: Session, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(_("This appeal does not exist."))
    return appeal


def can_see(session: Session, principal, appeal: Appeal) -> bool:
    """Finance and auditors see every appeal; the purchaser its department's; the supplier its own."""
    if principal.role in (Role.finance, Role.auditor):
        return True
    if principal.role == Role.supplier:
        return principal.organisation_id is not None and appeal.supplier_id == principal.organisation_id
    if principal.role == Role.purchaser:
        evaluation = session.get(Evaluation, appeal.evaluation_id)
        return evaluations.can_see(session, principal, evaluation)
    return False


def owns_appeal(principal, session: Session, path_params: dict) -> bool:
    """The ownership rule of the appeal routes."""
    try:
        appeal = session.get(Appeal, int(path_params["appeal_id"]))
    except (KeyError, TypeError, ValueError):
        return False
    return appeal is not None and can_see(session, principal, appeal)


def leaves_of(result) -> list[tuple[str, str]]:
    """(id, name) of every leaf of the result's scheme, in scheme order."""
    found: list[tuple[str, str]] = []

    def walk(node: dict) -> None:
        if node.get("rule"):
            found.append((node["id"], node.get("name", "")))
        for child in node.get("children") or []:
            walk(child)

    for part in (result.package or {}).get("scheme", {}).get("parts", []):
        walk(part.get("tree", {}))
    return found


def _clean_leaves(result, chosen, field: str, errors: dict, *, required: bool) -> list[str]:
    known = [leaf_id for leaf_id, _name in leaves_of(result)]
    picked = [str(c).strip() for c in (chosen or []) if str(c).strip()]
    unknown = [c for c in picked if c not in known]
    if unknown:
        errors[field] = _("These are not indicators of this scheme: %(ids)s.",
                          ids=", ".join(unknown))
    elif required and not picked:
        errors[field] = _("Name at least one indicator to reopen.")
    return [leaf_id for leaf_id in known if leaf_id in picked]  # scheme order, no repeats


# ---------------------------------------------------------------- the window


def _local_day(moment) -> str:
    return as_utc(moment).astimezone(projects.LOCAL_TZ).date().isoformat() if moment else ""


@dataclass
class Window:
    """Whether the supplier may appeal the evaluation's current publication now."""

    result: object | None
    deadline: date | None
    open: bool
    reason: str
    appeal: Appeal | None = None


def window(session: Session, evaluation: Evaluation, today: date | None = None) -> Window:
    today = today or projects.today()
    result = results.current(session, evaluation.id)
    if result is not None and result.final_at is not None and result.appeal_deadline:
        return Window(result, result.appeal_deadline, False, _(
            "The appeal window closed on %(deadline)s and the result became final on %(day)s; "
            "it can no longer be appealed.", deadline=result.appeal_deadline.isoformat(),
            day=as_utc(result.final_at).astimezone(projects.LOCAL_TZ).date().isoformat()))
    if evaluation.status != EvaluationStatus.published or result is None \
            or result.published_at is None or result.final_at is not None:
        return Window(result, None, False, _("Only a published result that is not final yet can "
                                             "be appealed."))
    existing = session.exec(select(Appeal).where(Appeal.result_id == result.id)).first()
    if existing is not None and existing.status == AppealStatus.withdrawn:
        return Window(result, result.appeal_deadline, False, _(
            "Appeal no. %(id)s against this publication was withdrawn on %(day)s; withdrawing is "
            "final for this publication, so it cannot be appealed again.", id=existing.id,
            day=_local_day(existing.withdrawn_at)), existing)
    if existing is not None:
        return Window(result, result.appeal_deadline, False,
                      _("This publication has already been appealed (appeal no. %(id)s).",
                        id=existing.id), existing)
    if today > result.appeal_deadline:
        return Window(result, result.appeal_deadline, False,
                      _("The appeal window closed on %(day)s.",
                        day=result.appeal_deadline.isoformat()))
    return Window(result, result.appeal_deadline, True, "")


# ---------------------------------------------------------------- filing


def unsent_evidence(evidence: list[tuple[bytes, str]]) -> list[str]:
    """The names of the chosen evidence files that would be accepted, for an appeal sent back
    for a correction: they were not filed and must be chosen again."""
    return [name for data, name in evidence if data and files.acceptable(data, EVIDENCE_KINDS)]


def file(session: Session, principal, evaluation_id: int, *, reasons: str,
         leaves: list[str] | None = None, evidence: list[tuple[bytes, str]] | None = None,
         today: date | None = None) -> Appeal:
    """The supplier files an appeal (提出申诉) against the current publication."""
    evaluation = evaluations.get(session, evaluation_id)
    if principal.role != Role.supplier or principal.organisation_id is None \
            or evaluations.supplier_of(session, evaluation) != principal.organisation_id:
        raise PermissionDenied(_("Only the supplier of the contract may appeal its result."))
    state = window(session, evaluation, today)
    if not state.open:
        raise Conflict(state.reason)
    errors: dict[str, str] = {}
    text = (reasons or "").strip()
    if len(text) < MIN_REASONS:
        errors["reasons"] = _("State the reasons of the appeal (at least %(n)s characters).",
                              n=MIN_REASONS)
    elif len(text) > MAX_REASONS:
        errors["reasons"] = _("The reasons may be at most %(n)s characters.", n=MAX_REASONS)
    disputed = _clean_leaves(state.result, leaves, "leaves", errors, required=False)
    # a chosen file with no bytes is named and refused, never silently left out of the appeal
    chosen = [(data, name) for data, name in (evidence or []) if data or name]
    uploads = [(data, name) for data, name in chosen if data]
    if len(chosen) > MAX_EVIDENCE_FILES:
        errors["evidence"] = _("At most %(n)s evidence files.", n=MAX_EVIDENCE_FILES)
    else:  # each file is checked with the other fields, so every problem is named at once
        for data, name in chosen:
            if not data:
                errors["evidence"] = _("%(file)s: %(problem)s", file=name or "?", problem=_(
                    "The file is empty; choose it again or leave it out."))
                break
            try:
                files.check(data, field="evidence", allowed=EVIDENCE_KINDS)
            except ValidationFailed as exc:
                errors.update({"evidence": _("%(file)s: %(problem)s", file=name or "?",
                                             problem=exc.errors["evidence"])})
                break
    if errors:
        raise ValidationFailed(errors)
    stored = [files.store(data, name, field="evidence", allowed=EVIDENCE_KINDS)
              for data, name in uploads]
    appeal = Appeal(evaluation_id=evaluation.id, result_id=state.result.id,
                    supplier_id=principal.organisation_id, filed_by=principal.actor.id,
                    filed_at=now(), reasons=text, leaves=disputed,
                    evidence=[{"sha256": f.sha256, "filename": f.filename, "kind": f.kind,
                               "size": f.size} for f in stored])
    session.add(appeal)
    try:
        session.flush()
    except IntegrityError:  # a concurrent appeal on the same publication won
        session.rollback()
        raise Conflict(_("This publication has already been appealed.")) from None
    audit.record(session, principal.actor, "appeal.file", "appeal", appeal.id, {
        "evaluation": evaluation.id, "result": state.result.id,
        "version": state.result.version, "leaves": disputed,
        "evidence": [f.sha256 for f in stored], "deadline": state.deadline.isoformat()})
    session.commit()
    session.refresh(appeal)
    return appeal


# ---------------------------------------------------------------- deciding


def _too_long(field, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label."""
    return _("%(field)s: %(problem)s", field=str(field),
             problem=_("At most %(n)s characters.", n=limit))


def _require_undecided(appeal: Appeal) -> None:
    """Refuse to decide an appeal that is no longer open: decided, or withdrawn by its
    supplier (then there is nothing to decide), naming which."""
    if appeal.status == AppealStatus.withdrawn:
        raise Conflict(_("The supplier withdrew this appeal on %(day)s; there is nothing to "
                         "decide.", day=_local_day(appeal.withdrawn_at)))
    if appeal.status != AppealStatus.open:
        raise Conflict(_("This appeal has already been decided (%(status)s).",
                         status=status_label(appeal.status)))


UPHOLD = "uphold"
REOPEN = "reopen"


def decide(session: Session, principal, appeal_id: int, *, outcome: str, decision: str,
           leaves: list[str] | None = None, expected_version: int | None = None) -> Appeal:
    """Finance decides an open appeal: uphold the result, or reopen the named leaves."""
    if principal.role != Role.finance:
        raise PermissionDenied(_("Only finance decides appeals."))
    appeal = get(session, appeal_id)
    _require_undecided(appeal)
    result = results.get_result(session, appeal.result_id)
    errors: dict[str, str] = {}
    if outcome not in (UPHOLD, REOPEN):
        errors["outcome"] = _("Choose to uphold the result or to reopen indicators.")
    text = (decision or "").strip()
    if not text:
        errors["decision"] = _("Give the reasons of the decision; the supplier reads them.")
    elif len(text) > MAX_DECISION:
        errors["decision"] = _too_long(_("Reasons of the decision (the supplier reads them)"),
                                       MAX_DECISION)
    reopened = _clean_leaves(result, leaves, "leaves", errors, required=outcome == REOPEN)
    if errors:
        raise ValidationFailed(errors)
    version = appeal.version if expected_version is None else expected_version
    status = AppealStatus.upheld if outcome == UPHOLD else AppealStatus.reopened
    decided_at = now()
    moved = session.execute(
        update(Appeal).where(Appeal.id == appeal.id, Appeal.version == version,
                             Appeal.status == AppealStatus.open)
        .values(status=status, decision=text, reopened_leaves=reopened if outcome == REOPEN else [],
                decided_by=principal.actor.id, decided_at=decided_at, version=version + 1))
    if moved.rowcount != 1:
        session.rollback()
        session.refresh(appeal)
        if appeal.status == AppealStatus.withdrawn:  # the supplier withdrew it meanwhile
            _require_undecided(appeal)
        raise Conflict(_("Someone else decided this appeal a moment ago; reload to see the "
                         "decision."))
    audit.record(session, principal.actor, f"appeal.{status.value}", "appeal", appeal.id, {
        "evaluation": appeal.evaluation_id, "result": result.id, "decision": text,
        "leaves": reopened if outcome == REOPEN else []})
    if outcome == REOPEN:
        reason = _("Appeal no. %(id)s: %(decision)s", id=appeal.id, decision=text)
        try:
            results.reopen(session, principal, appeal.evaluation_id, reason,
                           change={"appeal": appeal.id, "leaves": reopened})
        except Exception:
            session.rollback()
            raise
        # the scorers of the reopened indicators get their sheets back, told why and which
        scoresheets.reopen_for_appeal(session, principal.actor, appeal.evaluation_id, reopened,
                                      reason)
        session.commit()
    else:
        session.commit()
    session.refresh(appeal)
    return appeal


# ---------------------------------------------------------------- withdrawing


def may_withdraw(principal, appeal: Appeal) -> bool:
    """Whether the principal may withdraw the appeal now: a user of the supplier that filed
    it, while finance has not decided it."""
    return (principal.role == Role.supplier and principal.organisation_id is not None
            and appeal.supplier_id == principal.organisation_id
            and appeal.status == AppealStatus.open)


def withdraw(session: Session, principal, appeal_id: int, *,
             expected_version: int | None = None) -> Appeal:
    """The supplier withdraws its open appeal (撤回申诉).

    Only the supplier organisation that filed it, only while it is open (a decided or withdrawn
    appeal is refused with 409 naming its status), with the same optimistic version check as
    :func:`decide`: a withdrawal and a decision cannot both land. The appeal is kept, marked
    withdrawn with who and when, and audited as ``appeal.withdrawn``. Withdrawing is final for
    the publication (one appeal per publication): the result becomes final once the appeal
    window has closed.
    """
    appeal = get(session, appeal_id)
    if principal.role != Role.supplier or principal.organisation_id is None \
            or appeal.supplier_id != principal.organisation_id:
        raise PermissionDenied(_("Only the supplier that filed an appeal may withdraw it."))
    if appeal.status != AppealStatus.open:
        raise Conflict(_("Only an open appeal can be withdrawn; this one is: %(status)s.",
                         status=status_label(appeal.status)))
    result = results.get_result(session, appeal.result_id)
    version = appeal.version if expected_version is None else expected_version
    withdrawn_at = now()
    moved = session.execute(
        update(Appeal).where(Appeal.id == appeal.id, Appeal.version == version,
                             Appeal.status == AppealStatus.open)
        .values(status=AppealStatus.withdrawn, withdrawn_by=principal.actor.id,
                withdrawn_at=withdrawn_at, version=version + 1))
    if moved.rowcount != 1:
        session.rollback()
        raise Conflict(_("This appeal changed a moment ago (finance decided it, or it was "
                         "withdrawn); reload to see where it stands."))
    audit.record(session, principal.actor, "appeal.withdrawn", "appeal", appeal.id, {
        "evaluation": appeal.evaluation_id, "result": result.id, "version": result.version,
        "deadline": result.appeal_deadline.isoformat()})
    session.commit()
    session.refresh(appeal)
    return appeal


# ---------------------------------------------------------------- lists


@dataclass(frozen=True)
class Viewer:
    """Whose appeals a list shows (a role and its organisation)."""

    role: Role
    organisation_id: int | None


@dataclass
class AppealRow:
    appeal: Appeal
    evaluation: Evaluation
    project: Project
    department: Organisation
    supplier: Organisation


def status_problems(status: str = "") -> dict[str, str]:
    """The appeal list's status filter → why it cannot be applied, in the reader's language
    (the page ignores an unknown status; the JSON API refuses it)."""
    if status and status not in AppealStatus.__members__:
        return {"status": _("Choose one of the appeal statuses: %(choices)s.",
                            choices=", ".join(AppealStatus.__members__))}
    return {}


def page(session: Session, principal, *, status: str = "", sort: str | None = None,
         page_number: int = 1, per_page: int = 20, appeal_ids: list[int] | None = None) -> Page:
    """The appeals the principal may see, newest first."""
    department = aliased(Organisation)
    supplier = aliased(Organisation)
    statement = (select(Appeal, Evaluation, Project, department, supplier)
                 .join(Evaluation, Appeal.evaluation_id == Evaluation.id)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(department, Project.department_id == department.id)
                 .join(supplier, Appeal.supplier_id == supplier.id))
    if principal.role == Role.supplier:
        statement = statement.where(Appeal.supplier_id == (principal.organisation_id or -1))
    elif principal.role == Role.purchaser:
        statement = statement.where(Project.department_id == (principal.organisation_id or -1))
    elif principal.role not in (Role.finance, Role.auditor):
        statement = statement.where(col(Appeal.id) < 0)
    if status in AppealStatus.__members__:
        statement = statement.where(Appeal.status == AppealStatus(status))
    if appeal_ids is not None:
        statement = statement.where(col(Appeal.id).in_(appeal_ids))
    found = paginate(session, statement, sort_columns={
        "filed": Appeal.filed_at, "status": Appeal.status, "project": Project.name},
        sort=sort, default_sort="-filed", page=page_number, per_page=per_page)
    found.items = [AppealRow(*row) for row in found.items]
    return found


def appealable(session: Session, supplier_id: int, today: date | None = None) -> list:
    """The supplier's published results it may still appeal today."""
    rows = []
    for row in results.public_page(session, supplier_id=supplier_id, sort="deadline").items:
        if window(session, row.evaluation, today).open:
            rows.append(row)
    return rows


def for_evaluation(session: Session, evaluation_id: int) -> list[Appeal]:
    return list(session.exec(select(Appeal).where(Appeal.evaluation_id == evaluation_id)
                             .order_by(Appeal.id)))


#: How long a decided appeal stays on its supplier's home page.
DECIDED_LATELY_DAYS = 30


def _supplier_cards(session: Session, supplier_id: int) -> list[dashboard.Card]:
    """The supplier's: the published results it may still appeal (until when), its appeals
    waiting for finance, and those decided lately, whose decision it should read."""
    viewer = Viewer(Role.supplier, supplier_id)
    may = appealable(session, supplier_id)
    first = min((row.result.appeal_deadline for row in may), default=None)
    cards = [dashboard.Card(
        _("Results you may appeal"), str(len(may)),
        _("The first window closes on %(day)s", day=first.isoformat()) if first
        else _("Published results are open to appeal for a few working days"), "/appeals",
        urgent=bool(may))]
    waiting = page(session, viewer, status="open").total
    cards.append(dashboard.Card(_("Your open appeals"), str(waiting),
                                _("Finance decides them; the result waits meanwhile"),
                                "/appeals?status=open"))
    since = now() - timedelta(days=DECIDED_LATELY_DAYS)
    decided = session.exec(select(func.count()).select_from(Appeal).where(  # not withdrawn
        Appeal.supplier_id == supplier_id,
        col(Appeal.status).in_((AppealStatus.upheld, AppealStatus.reopened)),
        col(Appeal.decided_at) >= since)).one()
    cards.append(dashboard.Card(
        _("Appeals decided lately"), str(decided),
        _("In the last %(n)s days: read the decisions and their reasons",
          n=DECIDED_LATELY_DAYS), "/appeals"))
    return cards



@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    if role == Role.supplier and organisation_id is not None:
        return _supplier_cards(session, organisation_id)
    if role not in (Role.finance, Role.purchaser, Role.auditor):
        return []
    waiting = page(session, Viewer(role, organisation_id), status="open").total
    detail = _("Decide them: the results cannot become final meanwhile") if role == Role.finance \
        else _("Finance decides them")
    return [dashboard.Card(_("Open appeals"), str(waiting), detail, "/appeals?status=open",
                           urgent=bool(waiting) and role == Role.finance)]
