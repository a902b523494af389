"""The expert pool (评审专家库) and the avoidance rules (回避).

Finance keeps the pool: each expert's name, employer, title, contact, specialities (level-2
sectors of the guiding catalogue), whether active, the evaluator account they sign in
with, and the relationships to record for avoidance. An expert is avoided for an
evaluation when, within the last three years (a setting, ``EVAL_AVOIDANCE_YEARS``) or still,
they were employed by, director or supervisor of, controlling, or working for the supplier or
the purchasing department, or are a close relative of the supplier's legal representative; their own account
belonging to either organisation, or an employer of the same name, also counts. The same
check runs at the draw and again when the expert submits a sheet.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from evalplatform.db import row_named
from evalplatform.i18n import _
from evalplatform.labels import RELATIONSHIP_KIND_LABELS
from evalplatform.models import (
    CatalogueEntry,
    Evaluation,
    Expert,
    ExpertRelationship,
    Organisation,
    OrganisationKind,
    PanelMember,
    RelationshipKind,
    Role,
    User,
)
from evalplatform.services import audit, phones
from evalplatform.services.audit import Actor
from evalplatform.services.errors import NotFound, ValidationFailed
from evalplatform.services.paging import DEFAULT_PER_PAGE, Page, any_contains, paginate
from evalplatform.settings import get_settings

#: 回避期限: a relationship that ended less than this many years ago still counts.
#: Organisations a relationship may name: the parties an expert must be independent of.
RELATED_KINDS = (OrganisationKind.supplier, OrganisationKind.purchasing_department)
#: The longest a note may be (a TEXT column: a generous page of writing).
MAX_NOTE = 10_000
MAX_EMAIL = 200  # the column's length


def _clean(value: Any, limit: int | None = None) -> str:
    text = str(value or "").strip()
    return text[:limit] if limit else text


def _too_long(field, limit: int) -> str:
    """The refusal of a text longer than ``limit`` characters, naming the field by its label."""
    return _("%(field)s: %(problem)s", field=str(field),
             problem=_("At most %(n)s characters.", n=limit))


def sectors(session: Session) -> list[CatalogueEntry]:
    """The specialities an expert can have: the catalogue's level-2 sectors (行业领域)."""
    return list(session.exec(select(CatalogueEntry).where(CatalogueEntry.level == 2)
                             .order_by(CatalogueEntry.code)))


def sector_names(session: Session) -> dict[str, str]:
    return {e.code: e.name for e in sectors(session)}


def sector_of_entry(session: Session, entry_id: int) -> str | None:
    """The level-2 code above (or at) a catalogue entry: a project's sector."""
    entry = session.get(CatalogueEntry, entry_id)
    while entry is not None and entry.level > 2:
        entry = session.get(CatalogueEntry, entry.parent_id) if entry.parent_id else None
    return entry.code if entry is not None and entry.level == 2 else None


def get(session: Session, expert_id: int) -> Expert:
    expert = session.get(Expert, expert_id)
    if expert is None:
        raise NotFound(_("This expert does not exist."))
    return expert


def for_user(session: Session, user_id: int) -> Expert | None:
    return session.exec(select(Expert).where(Expert.user_id == user_id)).first()


def linkable_users(session: Session, expert: Expert | None = None) -> list[User]:
    """Evaluator accounts not yet linked to another expert."""
    taken = {e.user_id for e in session.exec(select(Expert).where(col(Expert.user_id).is_not(None)))
             if expert is None or e.id != expert.id}
    users = session.exec(select(User).where(User.role == Role.evaluator, col(User.active).is_(True))
                         .order_by(User.display_name)).all()
    return [u for u in users if u.id not in taken]


def save(session: Session, actor: Actor, values: dict, *, expert_id: int | None = None) -> Expert:
    """Add an expert to the pool or change one; refuses naming every bad field, changes nothing."""
    expert = get(session, expert_id) if expert_id else None
    errors: dict[str, str] = {}
    name = _clean(values.get("name"))
    if not name:
        errors["name"] = _("The expert's name is required.")
    elif len(name) > 100:
        errors["name"] = _("The name must be at most 100 characters.")
    employer = _clean(values.get("employer"))
    if len(employer) > 200:
        errors["employer"] = _("The employer must be at most 200 characters.")
    title = _clean(values.get("title"))
    if len(title) > 100:
        errors["title"] = _("The title must be at most 100 characters.")
    phone = _clean(values.get("phone"))
    email = _clean(values.get("email"))
    if phones.problem(phone):
        errors["phone"] = phones.problem(phone)
    if len(email) > MAX_EMAIL:
        errors["email"] = _too_long(_("E-mail"), MAX_EMAIL)
    elif email and "@" not in email:
        errors["email"] = _("Enter an e-mail address such as name@example.cn.")
    if not phone and not email:
        errors["phone"] = _("Give a phone number or an e-mail address to reach the expert.")
    raw = values.get("specialities") or []
    codes = [raw] if isinstance(raw, str) else list(raw)
    codes = sorted({_clean(c) for c in codes if _clean(c)})
    known = sector_names(session)
    if not codes:
        errors["specialities"] = _("Choose at least one speciality (a catalogue sector).")
    elif unknown := [c for c in codes if c not in known]:
        errors["specialities"] = _("Not a catalogue sector: %(codes)s.", codes=", ".join(unknown))
    user_id = None
    if _clean(values.get("user_id")):
        user = row_named(session, User, values["user_id"])
        if user is None or user.role != Role.evaluator:
            errors["user_id"] = _("Link an existing account of the evaluator role.")
        else:
            other = for_user(session, user.id)
            if other is not None and (expert is None or other.id != expert.id):
                errors["user_id"] = _("This account is already linked to the expert %(name)s.",
                                      name=other.name)
            user_id = user.id
    note = _clean(values.get("note"))
    if len(note) > MAX_NOTE:
        errors["note"] = _too_long(_("Note"), MAX_NOTE)
    active = values.get("active") in (True, "1", "on", "true") if expert is not None else True
    if errors:
        raise ValidationFailed(errors)
    fields = {"name": name, "employer": employer, "title": title, "phone": phone, "email": email,
              "specialities": codes, "user_id": user_id, "active": active,
              "note": note}
    if expert is None:
        expert = Expert(**fields, created_by=actor.id)
        session.add(expert)
        session.flush()
        audit.record(session, actor, "expert.create", "expert", expert.id,
                     {k: v for k, v in fields.items() if k not in ("phone", "email")})
    else:
        before = {k: getattr(expert, k) for k in fields}
        changed = {k: [before[k], v] for k, v in fields.items() if before[k] != v}
        for key, value in fields.items():
            setattr(expert, key, value)
        session.add(expert)
        audit.record(session, actor, "expert.update", "expert", expert.id,
                     {k: v for k, v in changed.items() if k not in ("phone", "email")}
                     | ({"contact": "changed"} if {"phone", "email"} & changed.keys() else {}))
    session.commit()
    session.refresh(expert)
    return expert


def _parse_day(value: Any, field: str, errors: dict) -> date | None:
    text = _clean(value)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def add_relationship(session: Session, actor: Actor, expert_id: int, values: dict
                     ) -> ExpertRelationship:
    """Record a tie to a supplier or a purchasing department (关联关系) for avoidance."""
    expert = get(session, expert_id)
    errors: dict[str, str] = {}
    organisation = row_named(session, Organisation, values.get("organisation_id"))
    if organisation is None or organisation.kind not in RELATED_KINDS:
        errors["organisation_id"] = _("Choose a supplier or a purchasing department.")
    try:
        kind = RelationshipKind(_clean(values.get("kind")))
    except ValueError:
        errors["kind"] = _("Choose the kind of relationship.")
        kind = None
    started = _parse_day(values.get("started_on"), "started_on", errors)
    ended = _parse_day(values.get("ended_on"), "ended_on", errors)
    if started and ended and ended < started:
        errors["ended_on"] = _("The relationship cannot end before it began.")
    if kind == RelationshipKind.relative_of_legal_rep and organisation is not None \
            and organisation.kind != OrganisationKind.supplier:
        errors["kind"] = _("A close relative of the legal representative is recorded against a "
                           "supplier.")
    note = _clean(values.get("note"))
    if len(note) > MAX_NOTE:
        errors["note"] = _too_long(_("Note"), MAX_NOTE)
    if errors:
        raise ValidationFailed(errors)
    relationship = ExpertRelationship(expert_id=expert.id, organisation_id=organisation.id,
                                      kind=kind, started_on=started, ended_on=ended,
                                      note=note, recorded_by=actor.id)
    session.add(relationship)
    session.flush()
    audit.record(session, actor, "expert.relationship", "expert", expert.id,
                 {"relationship": relationship.id, "organisation": organisation.id,
                  "kind": kind.value, "started_on": started, "ended_on": ended})
    session.commit()
    session.refresh(relationship)
    return relationship


def relationships(session: Session, expert_id: int
                  ) -> list[tuple[ExpertRelationship, Organisation]]:
    return list(session.exec(
        select(ExpertRelationship, Organisation)
        .join(Organisation, ExpertRelationship.organisation_id == Organisation.id)
        .where(ExpertRelationship.expert_id == expert_id)
        .order_by(ExpertRelationship.recorded_at, ExpertRelationship.id)))


def related_organisations(session: Session) -> list[Organisation]:
    return list(session.exec(select(Organisation).where(col(Organisation.kind).in_(RELATED_KINDS))
                             .order_by(Organisation.kind, Organisation.name)))


def page(session: Session, *, q: str = "", speciality: str = "", active: str = "",
         sort: str | None = None, page_number: int = 1,
         per_page: int = DEFAULT_PER_PAGE) -> Page:
    statement = select(Expert)
    if q.strip():
        statement = statement.where(any_contains(q, Expert.name, Expert.employer, Expert.title))
    if active in ("1", "0"):
        statement = statement.where(col(Expert.active).is_(active == "1"))
    if speciality:
        # JSON arrays are searched as text: the codes are short and quoted ("D02").
        from sqlalchemy import String, cast

        statement = statement.where(cast(Expert.specialities, String).contains(f'"{speciality}"'))
    return paginate(session, statement,
                    sort_columns={"name": Expert.name, "employer": Expert.employer,
                                  "created_at": Expert.created_at},
                    sort=sort, default_sort="name", page=page_number, per_page=per_page)


def panels_of(session: Session, expert_id: int) -> list[tuple[PanelMember, Evaluation]]:
    """The evaluations the expert was drawn for (seated, alternate, declined or recused)."""
    return list(session.exec(
        select(PanelMember, Evaluation).join(Evaluation, PanelMember.evaluation_id == Evaluation.id)
        .where(PanelMember.expert_id == expert_id).order_by(PanelMember.created_at.desc())))


# ---------------------------------------------------------------- avoidance (回避)


def avoidance_years() -> int:
    """How many years after a relationship ended an expert is still avoided (a setting, 3)."""
    return get_settings().avoidance_years


def still_avoided(ended_on: date, on: date) -> bool:
    """A relationship that ended on ``ended_on`` still counts on ``on``: ``on`` is no later than
    the ended day's anniversary the avoidance period later (29 Feb's falls on 28 Feb). Counted
    forward from the end, so a tie that ended on 28 Feb 2025 no longer counts on 29 Feb 2028."""
    from evalplatform.services.evaluations import add_months

    return on <= add_months(ended_on, 12 * avoidance_years())


def avoidance_reasons(session: Session, expert: Expert, evaluation: Evaluation, on: date
                      ) -> list[dict]:
    """Why the expert must be avoided for this evaluation (empty: independent).

    Each reason is plain data (stored with the draw, shown through :func:`reason_text`):
    ``{"code": "relationship", "kind", "party", "organisation", "ended_on"}``,
    ``{"code": "account", "party", "organisation"}`` or
    ``{"code": "employer", "party", "organisation"}``.
    """
    from evalplatform.services import evaluations

    contract = evaluations.contract_of(session, evaluation)
    project = evaluations.project_of(session, evaluation)
    parties = {contract.supplier_id: "supplier", project.department_id: "purchaser"}
    names = {oid: session.get(Organisation, oid).name for oid in parties}
    years = avoidance_years()
    reasons: list[dict] = []
    for relationship in session.exec(select(ExpertRelationship).where(
            ExpertRelationship.expert_id == expert.id,
            col(ExpertRelationship.organisation_id).in_(list(parties)))
            .order_by(ExpertRelationship.id)):
        if relationship.ended_on is not None and not still_avoided(relationship.ended_on, on):
            continue  # ended longer ago than the avoidance period
        if relationship.started_on is not None and relationship.started_on > on:
            continue  # not begun yet
        reasons.append({"code": "relationship", "kind": relationship.kind.value,
                        "party": parties[relationship.organisation_id],
                        "organisation": names[relationship.organisation_id],
                        "ended_on": relationship.ended_on.isoformat()
                        if relationship.ended_on else None, "years": years})
    if expert.user_id is not None:
        user = session.get(User, expert.user_id)
        if user is not None and user.organisation_id in parties:
            reasons.append({"code": "account", "party": parties[user.organisation_id],
                            "organisation": names[user.organisation_id]})
    employer = expert.employer.strip()
    for oid, party in parties.items():
        if employer and employer == names[oid]:
            reasons.append({"code": "employer", "party": party, "organisation": names[oid]})
    return reasons


def reason_text(reason: dict) -> str:
    """One avoidance reason in the reader's language."""
    party = _("the supplier") if reason.get("party") == "supplier" else \
        _("the purchasing department")
    organisation = reason.get("organisation", "")
    if reason.get("code") == "relationship":
        kind = RELATIONSHIP_KIND_LABELS.get(RelationshipKind(reason["kind"]), reason["kind"])
        if reason.get("ended_on") and reason.get("years"):
            return _("%(kind)s %(party)s %(organisation)s, until %(day)s (within the "
                     "%(years)s-year avoidance period)", kind=str(kind), party=party,
                     organisation=organisation, day=reason["ended_on"], years=reason["years"])
        if reason.get("ended_on"):  # recorded before the period was stored with the reason
            return _("%(kind)s %(party)s %(organisation)s, until %(day)s (less than three "
                     "years ago)", kind=str(kind), party=party, organisation=organisation,
                     day=reason["ended_on"])
        return _("%(kind)s %(party)s %(organisation)s", kind=str(kind), party=party,
                 organisation=organisation)
    if reason.get("code") == "account":
        return _("signs in as staff of %(party)s %(organisation)s", party=party,
                 organisation=organisation)
    if reason.get("code") == "employer":
        return _("works for %(party)s %(organisation)s", party=party, organisation=organisation)
    return str(reason)
