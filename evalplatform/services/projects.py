"""Purchased-service projects (购买服务项目): registration, finance approval, the ex-ante document.

Rules (DESIGN.md): no budget line or amount, no project (无预算不购买); a project naming a
negative-list entry is refused; projects of ¥1,000,000 or more wait for finance approval
before procurement; projects of ¥5,000,000 or more need the ex-ante performance assessment
(事前绩效评估) uploaded before they can be approved. A purchaser registers and sees only
its own department's projects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_
from sqlmodel import Session, col, select

from evalplatform.db import MAX_INTEGER, row_named
from evalplatform.i18n import N_, _
from evalplatform.labels import STATUS_LABELS
from evalplatform.models import (
    AuditEntry,
    CatalogueEntry,
    Contract,
    Organisation,
    OrganisationKind,
    ProcurementMethod,
    Project,
    ProjectStatus,
    Role,
)
from evalplatform.services import audit, catalogue, files
from evalplatform.services.audit import Actor
from evalplatform.services.clock import LOCAL_TZ, as_utc, now
from evalplatform.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from evalplatform.services.money import fen_to_yuan_text, parse_yuan
from evalplatform.services.paging import Page, any_contains, paginate
from evalplatform.services.years import parse as parse_year
from evalplatform.services.years import problem as year_problem

APPROVAL_THRESHOLD_FEN = 1_000_000_00  # ¥1,000,000: finance approves before procurement
EX_ANTE_THRESHOLD_FEN = 5_000_000_00  # ¥5,000,000: ex-ante assessment, contract copy filed

#: The longest a typed particular may be: a short one its column's length (a longer text would
#: make PostgreSQL refuse the row), a long one (a TEXT column) a generous page of writing.
MAX_NAME = 200
MAX_RECIPIENTS = 500
MAX_BUDGET_LINE = 200
MAX_TEXT = 10_000



TARGET_FIELDS = [
    ("target_quantity", N_("Quantity target")),
    ("target_quality", N_("Quality target")),
    ("target_timeliness", N_("Timeliness target")),
    ("target_cost", N_("Cost target")),
    ("target_benefit", N_("Benefit target")),
    ("target_satisfaction", N_("Satisfaction target")),
]


def needs_approval(budget_fen: int) -> bool:
    return budget_fen >= APPROVAL_THRESHOLD_FEN


def needs_ex_ante(budget_fen: int) -> bool:
    return budget_fen >= EX_ANTE_THRESHOLD_FEN


#: The projects being bought (可以采购): approved by finance, registered below the approval
#: threshold, or contracted. One awaiting approval or returned may not start procurement, so
#: neither the budget disclosure nor the half-year report counts it as a purchased service.
CLEARED_FOR_PURCHASE = (ProjectStatus.ready, ProjectStatus.approved, ProjectStatus.contracted)


#: The particulars a correction (``project.revise``) may change that the reports count by.
_COUNTED_PARTICULARS = ("year", "budget_fen", "catalogue_entry_id", "procurement_method")


@dataclass(frozen=True)
class ProjectOn:
    """A project as it stood at the end of a past day: the particulars it had then and whether
    it was cleared for purchase by then (a report for a period says what held in it)."""

    project: Project
    year: int
    budget_fen: int
    catalogue_entry_id: int
    procurement_method: ProcurementMethod
    cleared: bool


def _local_day(moment) -> date:
    return as_utc(moment).astimezone(LOCAL_TZ).date()


def cleared_on(project: Project) -> date | None:
    """The day a project was cleared for purchase, or None while it is not. Clearing is never
    undone: a project registered below the threshold is cleared on registration; one that
    needed approval on finance's approval (its ``decided_at``; a later contract keeps it)."""
    if project.status not in CLEARED_FOR_PURCHASE:
        return None
    if project.status != ProjectStatus.ready and project.decided_at is not None:
        return _local_day(project.decided_at)
    return _local_day(project.created_at)


def as_they_stood(session: Session, rows: list[Project], day: date) -> list[ProjectOn]:
    """``rows`` as they stood at the end of ``day`` (a local date): those registered by then,
    cleared or not by then, with the counted particulars of that day; a correction made later
    is undone from its audit entry, which keeps each changed field's value before and after."""
    existing = [p for p in rows if _local_day(p.created_at) <= day]
    then = {p.id: {key: getattr(p, key) for key in _COUNTED_PARTICULARS} for p in existing}
    if then:
        later = session.exec(select(AuditEntry).where(
            AuditEntry.entity_type == "project", AuditEntry.action == "project.revise",
            col(AuditEntry.entity_id).in_([str(i) for i in then]))
            .order_by(col(AuditEntry.seq).desc()))
        for entry in later:
            if _local_day(entry.at) <= day:
                continue
            changes = json.loads(entry.change).get("changes", {})
            for key in _COUNTED_PARTICULARS:
                if key in changes:
                    then[int(entry.entity_id)][key] = changes[key]["from"]
    result = []
    for project in existing:
        values = then[project.id]
        cleared = cleared_on(project)
        result.append(ProjectOn(project, int(values["year"]), int(values["budget_fen"]),
                                int(values["catalogue_entry_id"]),
                                ProcurementMethod(values["procurement_method"]),
                                cleared is not None and cleared <= day))
    return result


def is_awardable(project: Project) -> bool:
    """A contract may be recorded: approved, or registered below the approval threshold."""
    return project.status in (ProjectStatus.approved, ProjectStatus.ready)


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _too_long(field, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label."""
    return _("%(field)s: %(problem)s", field=str(field),
             problem=_("At most %(n)s characters.", n=limit))


@dataclass
class _Checked:
    """A registration form's values after every rule has passed."""

    fields: dict
    entry: CatalogueEntry
    applied: list


def _check(session: Session, department: Organisation | None, values: dict) -> _Checked:
    """The rules of a project's particulars (registration and revision alike); refuses with
    every problem at once, each under its field."""
    errors: dict[str, str] = {}
    department_id = department.id if department is not None else None
    if department is None or department.kind != OrganisationKind.purchasing_department:
        errors["department"] = _("Only a purchasing department's staff register projects.")
    name = _clean(values.get("name"))
    if not name:
        errors["name"] = _("Project name is required.")
    elif len(name) > MAX_NAME:
        errors["name"] = _("Name must be at most 200 characters.")
    entry = row_named(session, CatalogueEntry, values.get("catalogue_entry_id"))
    if entry is None or not entry.active or entry.level < 2:
        errors["catalogue_entry_id"] = _("Choose a level-2 or level-3 entry of the catalogue.")
    content = _clean(values.get("content"))
    if not content:
        errors["content"] = _("Describe the service content.")
    elif len(content) > MAX_TEXT:
        errors["content"] = _too_long(_("Service content"), MAX_TEXT)
    recipients = _clean(values.get("recipients"))
    if not recipients:
        errors["recipients"] = _("Name who receives the service.")
    elif len(recipients) > MAX_RECIPIENTS:
        errors["recipients"] = _("At most 500 characters.")
    year = parse_year(values.get("year"))
    if year is None:
        errors["year"] = year_problem()
    budget_line = _clean(values.get("budget_line"))
    if not budget_line:
        errors["budget_line"] = _("No budget, no purchase: enter the budget line that funds "
                                  "this project.")
    elif len(budget_line) > MAX_BUDGET_LINE:
        errors["budget_line"] = _too_long(_("Budget line"), MAX_BUDGET_LINE)
    budget_fen, problem = parse_yuan(values.get("budget"))
    if problem:
        # an amount left out breaks the rule; one mistyped is only told how to type it
        errors["budget"] = _("No budget, no purchase: %(problem)s", problem=problem) \
            if not _clean(values.get("budget")) else _("Budget: %(problem)s", problem=problem)
    try:
        method = ProcurementMethod(values.get("procurement_method") or "")
    except ValueError:
        errors["procurement_method"] = _("Choose one of the six procurement methods.")
        method = None
    targets = {key: _clean(values.get(key)) for key, _label in TARGET_FIELDS}
    for key, label in TARGET_FIELDS:
        if len(targets[key]) > MAX_TEXT:
            errors[key] = _too_long(label, MAX_TEXT)
    applied: list[catalogue.AppliedOverride] = []
    if "name" not in errors and "content" not in errors and entry is not None:
        names = [e.name for e in catalogue.entry_path(session, entry)]
        matches = catalogue.negative_matches(session, department_id=department_id, name=name,
                                             content=content, category_names=names)
        for match in matches:
            field = {"name": "name", "content": "content"}.get(match.where, "catalogue_entry_id")
            errors.setdefault(field, _(
                "Refused by the negative list: “%(entry)s” (matched “%(term)s”). Finance may "
                "record an explained exception.", entry=match.entry.name, term=match.term))
        if matches:
            errors["negative_list"] = _(
                "This project matches the negative list: %(entries)s. It cannot be registered "
                "as it stands. If it may be bought nonetheless, finance can record an explained "
                "exception for %(department)s and the project name “%(name)s” on the "
                "negative-list page; then register it again under exactly that name.",
                entries="、".join(f"“{m.entry.name}”" for m in matches),
                department=department.name if department else "", name=name)
        applied = catalogue.applied_overrides(session, department_id=department_id, name=name,
                                              content=content, category_names=names)
    if errors:
        raise ValidationFailed(errors)
    fields = {"name": name, "catalogue_entry_id": entry.id, "content": content,
              "recipients": recipients, "year": year, "budget_fen": budget_fen,
              "budget_line": budget_line, "procurement_method": method, **targets}
    return _Checked(fields, entry, applied)


def _overrides_change(applied: list) -> dict:
    return ({"negative_list_overrides": [
        {"override": a.override.id, "entry": a.match.entry.name, "term": a.match.term}
        for a in applied]} if applied else {})


def register(session: Session, actor: Actor, *, department_id: int | None, values: dict
             ) -> Project:
    """Register a project for the purchaser's own department; refuses with every problem at once."""
    department = session.get(Organisation, department_id) if department_id else None
    checked = _check(session, department, values)
    budget_fen = checked.fields["budget_fen"]
    project = Project(
        department_id=department.id,
        status=ProjectStatus.awaiting_approval if needs_approval(budget_fen) else ProjectStatus.ready,
        created_by=actor.id, **checked.fields,
    )
    session.add(project)
    session.flush()
    audit.record(session, actor, "project.register", "project", project.id, {
        "name": project.name, "department": department.name, "catalogue": checked.entry.code,
        "year": project.year, "budget_fen": budget_fen, "budget_line": project.budget_line,
        "method": project.procurement_method, "status": project.status,
        **_overrides_change(checked.applied)})
    session.commit()
    session.refresh(project)
    return project


#: A project's particulars may be corrected while finance has it returned (财政退回修改).
REVISABLE_STATUSES = (ProjectStatus.returned,)


def can_revise(principal, project: Project) -> bool:
    """The owning department's purchaser, while the project is returned."""
    return (principal is not None and principal.role == Role.purchaser
            and principal.organisation_id == project.department_id
            and project.status in REVISABLE_STATUSES)


def form_values(project: Project) -> dict:
    """The project's particulars as the registration form shows them (budget in yuan)."""
    return {"name": project.name, "catalogue_entry_id": str(project.catalogue_entry_id),
            "content": project.content, "recipients": project.recipients,
            "year": str(project.year), "budget": fen_to_yuan_text(project.budget_fen),
            "budget_line": project.budget_line,
            "procurement_method": str(project.procurement_method),
            **{key: getattr(project, key) or "" for key, _label in TARGET_FIELDS}}


def revise(session: Session, principal, project_id: int, values: dict) -> Project:
    """Correct a project finance returned (退回修改): the owning department's purchaser only,
    under the registration's rules; the audit entry records each changed field, before and
    after. The project stays returned until the department resubmits it."""
    project = get(session, project_id)
    if principal.role != Role.purchaser or principal.organisation_id != project.department_id:
        raise PermissionDenied(_("Only the purchasing department that registered the project "
                                 "may correct it."))
    if project.status not in REVISABLE_STATUSES:
        raise Conflict(_("Only a project finance returned can be corrected (now: %(status)s).",
                         status=STATUS_LABELS[project.status]))
    department = session.get(Organisation, project.department_id)
    checked = _check(session, department, values)
    changes = {}
    for key, value in checked.fields.items():
        before = getattr(project, key)
        if before != value:
            changes[key] = {"from": before, "to": value}
    if not changes:
        raise ValidationFailed({"project": _("Nothing was changed: correct at least one field "
                                             "before saving.")})
    for key, value in checked.fields.items():
        setattr(project, key, value)
    session.add(project)
    audit.record(session, principal.actor, "project.revise", "project", project.id, {
        "changes": changes, "status": project.status, **_overrides_change(checked.applied)})
    session.commit()
    session.refresh(project)
    return project


def get(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(_("No such project."))
    return project


def belongs_to(session: Session, project_id, organisation_id: int | None) -> bool:
    try:
        project = session.get(Project, int(project_id))
    except (TypeError, ValueError):
        return False
    return project is not None and project.department_id == organisation_id


def upload_ex_ante(session: Session, actor: Actor, project_id: int, data: bytes, filename: str
                   ) -> Project:
    """Attach the ex-ante performance assessment (事前绩效评估): a PDF or DOCX."""
    project = get(session, project_id)
    if project.status in (ProjectStatus.approved, ProjectStatus.contracted):
        raise Conflict(_("The project is already approved; its ex-ante document is kept as filed."))
    stored = files.store(data, filename, field="ex_ante", allowed=(files.PDF, files.DOCX))
    project.ex_ante_sha256 = stored.sha256
    project.ex_ante_filename = stored.filename
    project.ex_ante_uploaded_at = now()
    session.add(project)
    audit.record(session, actor, "project.ex_ante", "project", project.id,
                 {"sha256": stored.sha256, "filename": stored.filename, "size": stored.size})
    session.commit()
    return project


def approve(session: Session, actor: Actor, project_id: int) -> Project:
    project = get(session, project_id)
    if project.status != ProjectStatus.awaiting_approval:
        raise Conflict(_("Only a project awaiting approval can be approved (now: %(status)s).",
                         status=STATUS_LABELS[project.status]))
    if needs_ex_ante(project.budget_fen) and not project.ex_ante_sha256:
        raise ValidationFailed({"ex_ante": _(
            "A project of ¥5,000,000 or more needs its ex-ante performance assessment "
            "uploaded before approval.")})
    project.status = ProjectStatus.approved
    project.decided_by, project.decided_at, project.return_reason = actor.id, now(), None
    session.add(project)
    audit.record(session, actor, "project.approve", "project", project.id,
                 {"status": project.status})
    session.commit()
    return project


def return_to_department(session: Session, actor: Actor, project_id: int, reason: str) -> Project:
    project = get(session, project_id)
    reason = _clean(reason)
    if project.status != ProjectStatus.awaiting_approval:
        raise Conflict(_("Only a project awaiting approval can be returned (now: %(status)s).",
                         status=STATUS_LABELS[project.status]))
    if len(reason) < 5:
        raise ValidationFailed({"reason": _("Say why the project is returned (at least 5 "
                                            "characters).")})
    if len(reason) > MAX_TEXT:
        raise ValidationFailed({"reason": _too_long(_("Reason for returning"), MAX_TEXT)})
    project.status = ProjectStatus.returned
    project.decided_by, project.decided_at, project.return_reason = actor.id, now(), reason
    session.add(project)
    audit.record(session, actor, "project.return", "project", project.id,
                 {"status": project.status, "reason": reason})
    session.commit()
    return project


def resubmit(session: Session, actor: Actor, project_id: int) -> Project:
    """Send a returned project back to finance. One of ¥5,000,000 or more goes back only with
    its ex-ante assessment, which finance needs to approve it (:func:`approve`): without it
    the project would only be returned again."""
    project = get(session, project_id)
    if project.status != ProjectStatus.returned:
        raise Conflict(_("Only a returned project can be resubmitted."))
    if needs_ex_ante(project.budget_fen) and not project.ex_ante_sha256:
        raise ValidationFailed({"ex_ante": _(
            "A project of ¥5,000,000 or more needs its ex-ante performance assessment "
            "uploaded before it goes back to finance: upload it first.")})
    project.status = ProjectStatus.awaiting_approval
    session.add(project)
    audit.record(session, actor, "project.resubmit", "project", project.id,
                 {"status": project.status})
    session.commit()
    return project


def _yuan_bound(text: str) -> tuple[int | None, str | None]:
    """A filter's amount bound in yuan → fen; zero is allowed (unlike a budget)."""
    cleaned = text.strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if cleaned in ("0", "0.0", "0.00"):
        return 0, None
    return parse_yuan(cleaned)


@dataclass
class ProjectFilters:
    """The project list's filters as typed (query parameters); bad ones are named, not applied."""

    year: str = ""
    department_id: str = ""
    catalogue: str = ""  # a code prefix, e.g. A or A05
    method: str = ""
    status: str = ""
    min_yuan: str = ""
    max_yuan: str = ""
    q: str = ""

    def __post_init__(self):
        for name in ("year", "department_id", "catalogue", "method", "status", "min_yuan",
                     "max_yuan", "q"):
            value = getattr(self, name)
            setattr(self, name, "" if value is None else str(value).strip())

    def problems(self) -> dict[str, str]:
        """Filter → why it is not applied, in the user's language."""
        found: dict[str, str] = {}
        if self.year and parse_year(self.year) is None:
            found["year"] = year_problem()
        if self.department_id and not (_digits(self.department_id)
                                       and int(self.department_id) <= MAX_INTEGER):
            found["department_id"] = _("Choose a purchasing department.")
        if self.catalogue and not catalogue.CODE_RE.match(self.catalogue.upper()):
            found["catalogue"] = _("A category is a catalogue code such as A, A05 or A0501.")
        if self.method and self.method not in ProcurementMethod.__members__:
            found["method"] = _("Choose one of the six procurement methods.")
        if self.status and self.status not in ProjectStatus.__members__:
            found["status"] = _("Choose one of the project statuses.")
        bounds = {}
        for key in ("min_yuan", "max_yuan"):
            if getattr(self, key):
                fen, problem = _yuan_bound(getattr(self, key))
                if problem:
                    found[key] = problem
                else:
                    bounds[key] = fen
        if len(bounds) == 2 and bounds["min_yuan"] > bounds["max_yuan"]:
            found["max_yuan"] = _("The upper bound is below the lower bound.")
        return found

    @property
    def active(self) -> bool:
        return any(getattr(self, k) for k in ("year", "department_id", "catalogue", "method",
                                              "status", "min_yuan", "max_yuan", "q"))


def _digits(text: str) -> bool:
    """Only the digits 0–9 ("²" and "٣" are digits to ``str.isdigit`` but not to ``int``)."""
    return text.isascii() and text.isdigit()


#: Methods sort in the order of the law (公开招标 first), statuses in the order of a project's life.
STATUS_ORDER = [ProjectStatus.awaiting_approval, ProjectStatus.returned, ProjectStatus.approved,
                ProjectStatus.ready, ProjectStatus.contracted]


def _ordered(column, values) -> object:
    return case({value.value: index for index, value in enumerate(values)}, value=column,
                else_=len(values))


def page(session: Session, *, organisation_id: int | None, filters: ProjectFilters,
         sort: str | None = None, page_number=1, per_page=20,
         statuses: tuple[ProjectStatus, ...] | None = None) -> Page:
    """Projects the viewer may see (``organisation_id`` None: all), filtered, one page.

    Only the filters without problems are applied (``filters.problems()`` names the others).
    """
    bad = filters.problems()
    statement = (select(Project, Organisation, CatalogueEntry)
                 .join(Organisation, Project.department_id == Organisation.id)
                 .join(CatalogueEntry, Project.catalogue_entry_id == CatalogueEntry.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    if statuses is not None:
        statement = statement.where(col(Project.status).in_(list(statuses)))
    if filters.year and "year" not in bad:
        statement = statement.where(Project.year == parse_year(filters.year))
    if filters.department_id and "department_id" not in bad:
        statement = statement.where(Project.department_id == int(filters.department_id))
    if filters.catalogue and "catalogue" not in bad:
        statement = statement.where(col(CatalogueEntry.code).startswith(filters.catalogue.upper()))
    if filters.method and "method" not in bad:
        statement = statement.where(Project.procurement_method == ProcurementMethod(filters.method))
    if filters.status and "status" not in bad:
        statement = statement.where(Project.status == ProjectStatus(filters.status))
    if filters.min_yuan and "min_yuan" not in bad:
        statement = statement.where(Project.budget_fen >= _yuan_bound(filters.min_yuan)[0])
    if filters.max_yuan and "max_yuan" not in bad:
        statement = statement.where(Project.budget_fen <= _yuan_bound(filters.max_yuan)[0])
    if filters.q:
        statement = statement.where(any_contains(filters.q, Project.name, Project.content))
    return paginate(
        session, statement,
        sort_columns={"name": Project.name, "department": Organisation.name,
                      "catalogue": CatalogueEntry.code, "year": Project.year,
                      "budget": Project.budget_fen,
                      "method": _ordered(Project.procurement_method, list(ProcurementMethod)),
                      "status": _ordered(Project.status, STATUS_ORDER),
                      "created_at": Project.created_at},
        sort=sort, default_sort="-created_at", page=page_number, per_page=per_page)


def years(session: Session) -> list[int]:
    return sorted({y for y in session.exec(select(Project.year).distinct())}, reverse=True)


def departments(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(
        Organisation.kind == OrganisationKind.purchasing_department).order_by(Organisation.name)))


def negative_list_exceptions(session: Session, project: Project
                             ) -> list[catalogue.AppliedOverride]:
    """The recorded negative-list exceptions that let this project be registered (负面清单例外)."""
    entry = session.get(CatalogueEntry, project.catalogue_entry_id)
    names = [e.name for e in catalogue.entry_path(session, entry)] if entry else []
    return catalogue.applied_overrides(session, department_id=project.department_id,
                                       name=project.name, content=project.content,
                                       category_names=names)


def history(session: Session, project: Project) -> list[AuditEntry]:
    """The project's life so far: its own audit entries and its contract's, oldest first."""
    contract = session.exec(select(Contract).where(Contract.project_id == project.id)).first()
    clauses = [(AuditEntry.entity_type == "project") & (AuditEntry.entity_id == str(project.id))]
    if contract is not None:
        clauses.append((AuditEntry.entity_type == "contract")
                       & (AuditEntry.entity_id == str(contract.id)))
    return list(session.exec(select(AuditEntry).where(or_(*clauses)).order_by(AuditEntry.seq)))


def today() -> date:
    """Today in China (deadlines are counted in local dates)."""
    return now().astimezone(LOCAL_TZ).date()
