"""Suppliers (承接主体), contracts (合同), payment schedules and the due-and-late list.

A supplier is an organisation of kind supplier with a profile; 公益一类事业单位 and
财政拨款保障的群团组织 may not supply. A contract belongs to an awardable project, never
exceeds its budget, runs at most 12 months (36 when the service is stable and continuous
with an assured budget), is published within 2 working days of signing, and — for
projects of ¥5,000,000 or more — has its signed copy filed within 15 days. Its instalments
add up to the contract amount exactly, in fen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from sqlmodel import Session, col, select

from evalplatform.db import row_named
from evalplatform.i18n import _
from evalplatform.labels import STATUS_LABELS, SUPPLIER_KIND_LABELS
from evalplatform.models import (
    Contract,
    DueCondition,
    Evaluation,
    EvaluationStatus,
    Instalment,
    Organisation,
    OrganisationKind,
    Project,
    ProjectStatus,
    Role,
    SupplierKind,
    SupplierProfile,
)
from evalplatform.services import audit, dashboard, files, phones, projects, years
from evalplatform.services.audit import Actor
from evalplatform.services.clock import as_utc
from evalplatform.services.credit_code import is_valid_credit_code
from evalplatform.services.errors import Conflict, NotFound, ValidationFailed
from evalplatform.services.money import parse_yuan
from evalplatform.services.paging import DEFAULT_PER_PAGE, Page, any_contains, paginate
from evalplatform.services.workdays import CalendarUnavailable, add_working_days, period_end

PUBLICATION_WORKING_DAYS = 2
COPY_FILING_DAYS = 15
MAX_TERM_MONTHS = 12
MAX_TERM_MONTHS_STABLE = 36
SME_PAYMENT_DAYS_DEFAULT = 30
SME_PAYMENT_DAYS_MAX = 60

REFUSED_SUPPLIER_KINDS = {SupplierKind.public_welfare_1, SupplierKind.funded_mass_organisation}


#: The default payment rule: grade bands (lower bounds inclusive) → share of the instalment.
DEFAULT_BANDS = [
    {"grade": "优", "min_score": "90", "ratio": "1.00"},
    {"grade": "良", "min_score": "80", "ratio": "0.95"},
    {"grade": "中", "min_score": "60", "ratio": "0.80"},
    {"grade": "差", "min_score": "0", "ratio": "0.00"},
]


def _clean(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


# ---------------------------------------------------------------- suppliers


def register_supplier(session: Session, actor: Actor, *, name: str, credit_code: str,
                      supplier_kind: str, small_medium: bool, contact_name: str = "",
                      contact_phone: str = "") -> Organisation:
    name, code = _clean(name), _clean(credit_code).upper()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Name is required.")
    elif len(name) > 200:
        errors["name"] = _("Name must be at most 200 characters.")
    elif session.exec(select(Organisation).where(Organisation.name == name)).first():
        errors["name"] = _("An organisation with this name already exists.")
    if not is_valid_credit_code(code):
        errors["credit_code"] = _("The unified social credit code must be 18 characters and "
                                  "end with a valid check character.")
    elif session.exec(select(Organisation).where(Organisation.credit_code == code)).first():
        errors["credit_code"] = _("This credit code is already registered.")
    try:
        kind = SupplierKind(supplier_kind)
    except ValueError:
        kind = None
        errors["supplier_kind"] = _("Choose the supplier's kind.")
    if kind in REFUSED_SUPPLIER_KINDS:
        errors["supplier_kind"] = _(
            "%(kind)s may not be a supplier of purchased services (neither purchaser nor "
            "supplier).", kind=SUPPLIER_KIND_LABELS[kind])
    if len(_clean(contact_name)) > 100:
        errors["contact_name"] = _("The contact is too long.")
    if phones.problem(contact_phone):
        errors["contact_phone"] = phones.problem(contact_phone)
    if errors:
        raise ValidationFailed(errors)
    org = Organisation(name=name, kind=OrganisationKind.supplier, credit_code=code)
    session.add(org)
    session.flush()
    profile = SupplierProfile(organisation_id=org.id, supplier_kind=kind,
                              small_medium=bool(small_medium), contact_name=_clean(contact_name),
                              contact_phone=_clean(contact_phone))
    session.add(profile)
    audit.record(session, actor, "supplier.register", "organisation", org.id, {
        "name": name, "credit_code": code, "supplier_kind": kind,
        "small_medium": profile.small_medium})
    session.commit()
    session.refresh(org)
    return org


def list_suppliers(session: Session) -> list[tuple[Organisation, SupplierProfile | None]]:
    return list(session.exec(
        select(Organisation, SupplierProfile)
        .join(SupplierProfile, SupplierProfile.organisation_id == Organisation.id, isouter=True)
        .where(Organisation.kind == OrganisationKind.supplier).order_by(Organisation.name)))


def eligible_suppliers(session: Session) -> list[tuple[Organisation, SupplierProfile]]:
    return [(o, p) for o, p in list_suppliers(session)
            if p is not None and o.active and p.supplier_kind not in REFUSED_SUPPLIER_KINDS]


def supplier_choices(session: Session) -> list[tuple[Organisation, date | None]]:
    """The suppliers a contract may name, each with the last day of a bar in force today
    (禁止承接, standing rules) or None, so that the form says so before it is filled in; the
    contract itself is checked against the bar on its signing day (:func:`create`)."""
    from evalplatform.services import standing

    today = projects.today()
    return [(o, bar.until if (bar := standing.bar_on(session, o.id, today)) else None)
            for o, _profile in eligible_suppliers(session)]


# ---------------------------------------------------------------- payment schedule


@dataclass
class InstalmentInput:
    share: str  # "30%" or a yuan amount
    due_condition: str
    performance_linked: bool


@dataclass
class PlannedInstalment:
    seq: int
    amount_fen: int
    percent: str | None
    due_condition: DueCondition
    performance_linked: bool
    remainder_fen: int = 0  # fen added to (or taken from) this instalment by rounding


def plan_instalments(amount_fen: int, rows: list[InstalmentInput]) -> list[PlannedInstalment]:
    """Turn typed shares into fen that add up to the contract amount exactly.

    Percentages are converted half-up; the last instalment takes the remainder so the sum
    is exact, and shows by how much it moved. The exact (unrounded) shares must already
    add up to the contract amount, otherwise the schedule is refused.
    """
    rows = [r for r in rows if _clean(r.share)]
    if not rows:
        raise ValidationFailed({"instalments": _("Enter at least one instalment.")})
    exact: list[tuple[Decimal, str | None]] = []
    errors: list[str] = []
    for i, row in enumerate(rows, start=1):
        text = _clean(row.share).replace("％", "%")
        if text.endswith("%"):
            try:
                pct = Decimal(text[:-1].strip())
                if not pct.is_finite() or pct <= 0 or pct > 100:
                    raise InvalidOperation
            except InvalidOperation:
                errors.append(_("Instalment %(n)s: a percentage is between 0 and 100.", n=i))
                continue
            exact.append((Decimal(amount_fen) * pct / 100, format(pct.normalize(), "f")))
        else:
            fen, problem = parse_yuan(text)
            if problem:
                errors.append(_("Instalment %(n)s: %(problem)s", n=i, problem=problem))
                continue
            exact.append((Decimal(fen), None))
        try:
            DueCondition(row.due_condition)
        except ValueError:
            errors.append(_("Instalment %(n)s: choose when it falls due.", n=i))
    if errors:
        raise ValidationFailed({"instalments": " ".join(errors)})
    total = sum(e for e, _p in exact)
    if total != amount_fen:
        raise ValidationFailed({"instalments": _(
            "The instalments add up to %(sum)s, not the contract amount %(amount)s.",
            sum=_yuan(total, exact=True), amount=_yuan(Decimal(amount_fen)))})
    planned: list[PlannedInstalment] = []
    running = 0
    for i, ((value, pct), row) in enumerate(zip(exact, rows, strict=True), start=1):
        rounded = int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        item = PlannedInstalment(i, rounded, pct, DueCondition(row.due_condition),
                                 bool(row.performance_linked))
        if i == len(rows):
            item.amount_fen = amount_fen - running
            item.remainder_fen = item.amount_fen - rounded
        running += item.amount_fen
        planned.append(item)
    return planned


def _yuan(fen: Decimal, *, exact: bool = False) -> str:
    """Yuan to the fen; ``exact`` keeps a fraction of a fen (a sum of percentages may have one,
    and rounded it could read as the very amount it differs from)."""
    yuan = fen / 100
    if exact and yuan != yuan.quantize(Decimal("0.01")):
        return f"¥{yuan:,f}"
    return f"¥{yuan.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):,.2f}"


_BAND_SEPARATORS = re.compile(r"[,;，；、\n]+")
_BAND = re.compile(r"^(?:(?P<grade>[^\d\s≥>=:：]{1,20})\s*)?[≥>=]*\s*(?P<min>\d{1,3}(?:\.\d{1,2})?)"
                   r"\s*[:：]?\s*(?P<ratio>\d{1,3}(?:\.\d{1,2})?)\s*%?$")


def bands_from(text: str) -> tuple[list[dict] | None, str | None]:
    """A band table typed as the contract states it, e.g. "优 90: 100%, 良 80: 95%, 70: 90%,
    60: 80%, 0: 0%" (a grade's name is optional; lower bounds inclusive): highest first, each
    lower bound from 0 to 100 and each share from 0 to 100 % with at most two decimals, the
    lowest band starting at 0 (every total is paid by some band) and a lower score never
    paid a larger share."""
    rule = _("Type the bands as lower bound: share, highest first, e.g. 90: 100 %, 80: 95 %, "
             "70: 90 %, 60: 80 %, 0: 0 % (a grade's name may come first: 优 90: 100 %).")
    bands = []
    for piece in (p.strip() for p in _BAND_SEPARATORS.split(text) if p.strip()):
        match = _BAND.match(piece)
        if not match:
            return None, _("%(band)s is not a band. %(rule)s", band=piece, rule=rule)
        low, ratio = Decimal(match["min"]), Decimal(match["ratio"])
        if low > 100 or ratio > 100:
            return None, _("%(band)s: a lower bound and a share are at most 100. %(rule)s",
                           band=piece, rule=rule)
        bands.append({"grade": (match["grade"] or "").strip(), "min_score": str(low),
                      "ratio": str(ratio / 100)})
    if not bands:
        return None, rule
    lows = [Decimal(b["min_score"]) for b in bands]
    if lows != sorted(lows, reverse=True) or len(set(lows)) != len(lows):
        return None, _("Give the bands highest first, each lower bound once. %(rule)s", rule=rule)
    if lows[-1] != 0:
        return None, _("The lowest band starts at 0, so that every total has its share (0 %% "
                       "pays nothing). %(rule)s", rule=rule)
    ratios = [Decimal(b["ratio"]) for b in bands]
    if ratios != sorted(ratios, reverse=True):
        return None, _("A lower band may not pay a larger share than a higher one.")
    return bands, None


def payment_rule_from(kind: str, floor: str, bands: str = "") -> tuple[dict | None, str | None]:
    """The contract's payment rule as JSON: its band table (the default one unless the
    contract states its own), or linear with a floor."""
    if kind in ("", "bands"):
        if not _clean(bands):
            return {"kind": "bands", "bands": DEFAULT_BANDS}, None
        table, problem = bands_from(_clean(bands))
        if problem:
            return None, problem
        return {"kind": "bands", "bands": table}, None
    if kind == "linear":
        try:
            floor_value = Decimal(_clean(floor))
            if not 0 <= floor_value < 100:  # at 100 the line would have no length to rise along
                raise InvalidOperation
        except InvalidOperation:
            return None, _("Enter the floor score from 0 to less than 100.")
        # ratio = score / 100 when score ≥ floor, 0 below it (applied by the settlement).
        return {"kind": "linear", "floor_score": str(floor_value)}, None
    return None, _("Choose the band table or the linear rule.")


# ---------------------------------------------------------------- contracts


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(_clean(value))
    except ValueError:
        return None


def record_contract(session: Session, actor: Actor, project_id: int, values: dict,
                    instalments: list[InstalmentInput], signed_copy: tuple[bytes, str] | None = None
                    ) -> Contract:
    """Record the contract of an awarded project, with its instalment schedule."""
    project = projects.get(session, project_id)
    errors: dict[str, str] = {}
    if session.exec(select(Contract).where(Contract.project_id == project.id)).first():
        raise Conflict(_("This project already has a contract."))
    if not projects.is_awardable(project):
        errors["project"] = _(
            "No purchase without approval: a project of ¥1,000,000 or more needs finance "
            "approval before its contract is recorded (now: %(status)s).",
            status=STATUS_LABELS[project.status])
    profile = None
    supplier = row_named(session, Organisation, values.get("supplier_id"))
    if supplier is not None:
        profile = session.get(SupplierProfile, supplier.id)
    if supplier is None or supplier.kind != OrganisationKind.supplier or profile is None:
        errors["supplier_id"] = _("Choose a registered supplier.")
    elif profile.supplier_kind in REFUSED_SUPPLIER_KINDS:
        errors["supplier_id"] = _("%(kind)s may not be a supplier of purchased services.",
                                  kind=SUPPLIER_KIND_LABELS[profile.supplier_kind])
    else:  # a 差 result bars the supplier from new contracts for a while (standing rules)
        from evalplatform.services import standing

        # barred on the signing day, or today: a signing date typed before a bar in force
        # now would otherwise let the contract through (a contract is recorded, and published,
        # within days of its signing)
        bar = standing.bar_on(session, supplier.id, projects.today())
        signed = _parse_date(values.get("signed_on"))
        if bar is None and signed is not None:
            bar = standing.bar_on(session, supplier.id, signed)
        if bar is not None:
            errors["supplier_id"] = standing.refusal(session, bar)
    amount_fen, problem = parse_yuan(values.get("amount"))
    if problem:
        errors["amount"] = problem
    elif amount_fen > project.budget_fen:
        errors["amount"] = _("The contract amount may not exceed the project's budget (%(budget)s).",
                             budget=_yuan(Decimal(project.budget_fen)))
    signed_on = _parse_date(values.get("signed_on"))
    if signed_on is None:
        errors["signed_on"] = _("Enter the signing date as YYYY-MM-DD.")
    elif signed_on > projects.today():  # else a barred supplier's contract dated past its bar
        errors["signed_on"] = _("The signing date cannot be in the future.")
    elif signed_on.year < project.year - 1:  # a slip of the keyboard (1901), or not this budget
        errors["signed_on"] = _(
            "A contract of the %(year)s budget is signed in %(year)s or late in the year before, "
            "not in %(signed)s: check the date.", year=project.year, signed=signed_on.year)
    elif (projects.needs_approval(project.budget_fen) and project.decided_at is not None
          and signed_on < (approved_on := as_utc(project.decided_at)
                           .astimezone(projects.LOCAL_TZ).date())):
        errors["signed_on"] = _(
            "Finance approved this project on %(date)s, and procurement starts only after the "
            "approval: a contract signed before that day cannot be recorded for it.",
            date=approved_on.isoformat())
    stable = bool(values.get("stable_continuous"))
    try:
        term = int(_clean(values.get("term_months")))
    except ValueError:
        term = None
    limit = MAX_TERM_MONTHS_STABLE if stable else MAX_TERM_MONTHS
    if term is None or term < 1:
        errors["term_months"] = _("Enter the term in whole months.")
    elif term > limit:
        errors["term_months"] = _(
            "The term may be at most 12 months, or 36 when the service is stable and "
            "continuous with an assured budget (flag it).") if not stable else _(
            "Even a stable, continuous service is contracted for at most 36 months.")
    content = _clean(values.get("content"))
    if not content:
        errors["content"] = _("State the contract's service content.")
    performance_targets = _clean(values.get("performance_targets"))
    if not performance_targets:
        errors["performance_targets"] = _("State the performance targets and assessment standard.")
    payment_days = None
    if profile is not None and profile.small_medium:
        text = _clean(values.get("payment_days"))
        try:
            payment_days = int(text) if text else SME_PAYMENT_DAYS_DEFAULT
            if not 1 <= payment_days <= SME_PAYMENT_DAYS_MAX:
                raise ValueError
        except ValueError:
            errors["payment_days"] = _(
                "A small or medium supplier is paid within 30 days of acceptance; the contract "
                "may say up to 60, never more.")
    rule, problem = payment_rule_from(_clean(values.get("payment_rule")),
                                      _clean(values.get("floor_score")),
                                      _clean(values.get("bands")))
    if problem:  # a typed band table's fault is the table's, a linear floor's the floor's
        kind = _clean(values.get("payment_rule"))
        if kind in ("", "bands") and _clean(values.get("bands")):
            errors["bands"] = problem
        elif kind == "linear":
            errors["floor_score"] = problem
        else:
            errors["payment_rule"] = problem
    planned: list[PlannedInstalment] = []
    if amount_fen is not None and "amount" not in errors:
        try:
            planned = plan_instalments(amount_fen, instalments)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    stored = None
    if signed_copy is not None and signed_copy[0]:
        try:
            stored = files.store(signed_copy[0], signed_copy[1], field="signed_copy",
                                 allowed=(files.PDF,))
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    contract = Contract(
        project_id=project.id, supplier_id=supplier.id, amount_fen=amount_fen,
        signed_on=signed_on, term_months=term, stable_continuous=stable, content=content,
        quantity=_clean(values.get("quantity")), quality=_clean(values.get("quality")),
        price_terms=_clean(values.get("price_terms")),
        settlement_method=_clean(values.get("settlement_method")),
        performance_targets=performance_targets, breach_terms=_clean(values.get("breach_terms")),
        payment_days=payment_days, payment_rule=rule, created_by=actor.id,
    )
    if stored is not None:
        contract.signed_copy_sha256 = stored.sha256
        contract.signed_copy_filename = stored.filename
        contract.signed_copy_filed_on = projects.today()
    session.add(contract)
    session.flush()
    for item in planned:
        session.add(Instalment(contract_id=contract.id, seq=item.seq, amount_fen=item.amount_fen,
                               percent=item.percent, due_condition=item.due_condition,
                               performance_linked=item.performance_linked))
    project.status = ProjectStatus.contracted
    session.add(project)
    audit.record(session, actor, "contract.record", "contract", contract.id, {
        "project_id": project.id, "supplier": supplier.name, "amount_fen": amount_fen,
        "signed_on": signed_on, "term_months": term, "stable_continuous": stable,
        "payment_days": payment_days, "payment_rule": rule,
        "instalments": [{"seq": i.seq, "amount_fen": i.amount_fen, "percent": i.percent,
                         "due": i.due_condition, "linked": i.performance_linked}
                        for i in planned],
        "signed_copy": stored.sha256 if stored else None})
    audit.record(session, actor, "project.contracted", "project", project.id,
                 {"status": project.status, "contract_id": contract.id})
    session.commit()
    session.refresh(contract)
    return contract


def get(session: Session, contract_id: int) -> Contract:
    contract = session.get(Contract, contract_id)
    if contract is None:
        raise NotFound(_("No such contract."))
    return contract


def for_project(session: Session, project_id: int) -> Contract | None:
    return session.exec(select(Contract).where(Contract.project_id == project_id)).first()


def instalments_of(session: Session, contract_id: int) -> list[Instalment]:
    return list(session.exec(select(Instalment).where(Instalment.contract_id == contract_id)
                             .order_by(Instalment.seq)))


@dataclass
class ContractRow:
    contract: Contract
    project: Project
    department: Organisation
    supplier: Organisation


def can_see(session: Session, principal, contract: Contract | None) -> bool:
    """Who reads a contract: finance and auditors every one, a purchaser its department's, a
    supplier (承接主体) the contracts it signed; nobody else."""
    if contract is None:
        return False
    if principal.role in (Role.finance, Role.auditor):
        return True
    if principal.role == Role.purchaser:
        project = session.get(Project, contract.project_id)
        return project is not None and principal.organisation_id is not None and \
            project.department_id == principal.organisation_id
    if principal.role == Role.supplier:
        return principal.organisation_id is not None and \
            contract.supplier_id == principal.organisation_id
    return False


def list_scope(principal) -> dict:
    """Whose contracts a reader's lists hold, as :func:`page`'s keywords (the page and the API
    alike, the same rule as :func:`can_see`): finance and auditors all, a purchaser its
    department's, a supplier its own; any other role none."""
    if principal.role in (Role.finance, Role.auditor):
        return {}
    if principal.role == Role.purchaser:
        return {"organisation_id": principal.organisation_id or -1}
    if principal.role == Role.supplier:
        return {"own_supplier_id": principal.organisation_id or -1}
    return {"organisation_id": -1}


PUBLICATION_FILTERS = ("published", "unpublished")


@dataclass
class ContractFilters:
    """The contract list's filters as typed (query parameters); bad ones are named, not
    applied."""

    year: str = ""
    department_id: str = ""
    publication: str = ""  # published | unpublished
    q: str = ""

    def __post_init__(self):
        for name in ("year", "department_id", "publication", "q"):
            value = getattr(self, name)
            setattr(self, name, "" if value is None else str(value).strip())

    def problems(self) -> dict[str, str]:
        """Filter → why it is not applied, in the user's language."""
        found: dict[str, str] = {}
        if self.year and years.parse(self.year) is None:
            found["year"] = years.problem()
        if self.department_id and not (self.department_id.isascii()
                                       and self.department_id.isdigit()
                                       and len(self.department_id) <= 9):
            found["department_id"] = _("Choose a purchasing department.")
        if self.publication and self.publication not in PUBLICATION_FILTERS:
            found["publication"] = _("Choose published or not yet published.")
        return found

    def applied(self) -> dict:
        """The filters without problems, as :func:`page`'s keywords."""
        bad = self.problems()
        found: dict = {"q": self.q}
        if self.year and "year" not in bad:
            found["year"] = years.parse(self.year)
        if self.department_id and "department_id" not in bad:
            found["department_id"] = int(self.department_id)
        if self.publication and "publication" not in bad:
            found["published"] = self.publication == "published"
        return found


def page(session: Session, *, organisation_id: int | None = None,
         own_supplier_id: int | None = None,
         department_id: int | None = None, supplier_id: int | None = None,
         year: int | None = None, published: bool | None = None, q: str = "",
         sort: str | None = None, page_number: int = 1,
         per_page: int = DEFAULT_PER_PAGE) -> Page:
    """Contracts with their project, purchasing department and supplier, paged, newest signing
    first. ``organisation_id`` and ``own_supplier_id`` are the reader's scope (a purchaser's
    own department, a supplier's own contracts: see :func:`list_scope`); the filters narrow it
    and never widen it."""
    from sqlalchemy.orm import aliased

    department = aliased(Organisation)
    supplier = aliased(Organisation)
    statement = (select(Contract, Project, department, supplier)
                 .join(Project, Contract.project_id == Project.id)
                 .join(department, Project.department_id == department.id)
                 .join(supplier, Contract.supplier_id == supplier.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    if own_supplier_id is not None:
        statement = statement.where(Contract.supplier_id == own_supplier_id)
    if department_id is not None:
        statement = statement.where(Project.department_id == department_id)
    if supplier_id is not None:
        statement = statement.where(Contract.supplier_id == supplier_id)
    if year is not None:
        statement = statement.where(Project.year == year)
    if published is not None:
        statement = statement.where(col(Contract.published_on).is_not(None) if published
                                    else col(Contract.published_on).is_(None))
    if q.strip():
        statement = statement.where(any_contains(q, Project.name, supplier.name))
    result = paginate(session, statement,
                      sort_columns={"signed_on": Contract.signed_on, "amount": Contract.amount_fen,
                                    "project": Project.name, "department": department.name,
                                    "supplier": supplier.name, "term": Contract.term_months,
                                    "published_on": Contract.published_on},
                      sort=sort, default_sort="-signed_on", page=page_number, per_page=per_page)
    result.items = [ContractRow(*row) for row in result.items]
    return result


def record_publication(session: Session, actor: Actor, contract_id: int, published_on: str
                       ) -> Contract:
    contract = get(session, contract_id)
    published = _parse_date(published_on)
    if published is None:
        raise ValidationFailed({"published_on": _("Enter the publication date as YYYY-MM-DD.")})
    if published < contract.signed_on:
        raise ValidationFailed({"published_on": _(
            "A contract cannot be published before it is signed (%(date)s).",
            date=contract.signed_on)})
    if published > projects.today():
        raise ValidationFailed({"published_on": _("The publication date cannot be in the future.")})
    # sent again with another day, it corrects the record: the entry keeps the day it replaced
    previous = contract.published_on
    contract.published_on = published
    session.add(contract)
    audit.record(session, actor, "contract.publish", "contract", contract.id,
                 {"published_on": published, "previous": previous})
    session.commit()
    return contract


def file_signed_copy(session: Session, actor: Actor, contract_id: int, data: bytes,
                     filename: str) -> Contract:
    contract = get(session, contract_id)
    stored = files.store(data, filename, field="signed_copy", allowed=(files.PDF,))
    replaced = contract.signed_copy_sha256
    contract.signed_copy_sha256 = stored.sha256
    contract.signed_copy_filename = stored.filename
    # The copy was filed (备案) the day it was first filed: a clearer scan uploaded later
    # replaces the file, not the filing date, and cannot make an on-time filing late.
    contract.signed_copy_filed_on = contract.signed_copy_filed_on or projects.today()
    session.add(contract)
    audit.record(session, actor, "contract.signed_copy", "contract", contract.id,
                 {"sha256": stored.sha256, "filename": stored.filename, "size": stored.size,
                  "replaces": replaced, "filed_on": contract.signed_copy_filed_on})
    session.commit()
    return contract


# ---------------------------------------------------------------- deadlines


@dataclass(frozen=True)
class Deadline:
    due: date | None
    done_on: date | None
    late_days: int  # days past due (still open: up to today)
    problem: str | None = None  # e.g. the holiday calendar of the year is not known yet

    @property
    def is_late(self) -> bool:
        return self.late_days > 0


def _deadline(due: date | None, done_on: date | None, today: date, problem=None) -> Deadline:
    if done_on is not None and done_on > today:
        done_on = None  # done after the day asked about (a past one): not yet done on it
    if due is None:
        return Deadline(None, done_on, 0, problem)
    reference = done_on or today
    return Deadline(due, done_on, max(0, (reference - due).days))


def publication_deadline(contract: Contract, today: date) -> Deadline:
    try:
        due = add_working_days(contract.signed_on, PUBLICATION_WORKING_DAYS)
    except CalendarUnavailable as exc:
        return _deadline(None, contract.published_on, today, exc.message)
    return _deadline(due, contract.published_on, today)


def copy_filing_deadline(contract: Contract, project: Project, today: date) -> Deadline | None:
    if not projects.needs_ex_ante(project.budget_fen):
        return None
    due = period_end(contract.signed_on + timedelta(days=COPY_FILING_DAYS))
    return _deadline(due, contract.signed_copy_filed_on, today)


@dataclass
class DueItem:
    kind: str  # approval | ex_ante | copy | publication | monitoring | report | evaluation
    label: str
    project: Project
    department: Organisation
    contract: Contract | None = None
    due: date | None = None
    late_days: int = 0
    note: str = ""
    evaluation: Evaluation | None = None

    @property
    def url(self) -> str:
        if self.evaluation is not None:
            anchor = "#report-filing" if self.kind == "report" else ""
            return f"/evaluations/{self.evaluation.id}{anchor}"
        return f"/contracts/{self.contract.id}" if self.contract else f"/projects/{self.project.id}"


@dataclass
class DueList:
    items: list[DueItem] = field(default_factory=list)

    @property
    def late(self) -> list[DueItem]:
        return [i for i in self.items if i.late_days > 0]

    def count(self, kind: str) -> int:
        return sum(1 for i in self.items if i.kind == kind)


def due_and_late(session: Session, *, organisation_id: int | None, today: date) -> DueList:
    """What waits or is late: approvals, ex-ante documents, contract copies, publications,
    monitoring rounds, and the reports of ¥5,000,000 projects' final evaluations to file.

    On a past ``today`` (the half-year report's last day) the contracts signed later are left
    out, and a copy filed or a contract published later counts as not yet done on that day."""
    statement = select(Project, Organisation).join(Organisation,
                                                   Project.department_id == Organisation.id)
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    result = DueList()
    rows = session.exec(statement.order_by(Project.id)).all()
    contracts = {c.project_id: c for c in session.exec(select(Contract))}
    for project, department in rows:
        registered_on = as_utc(project.created_at).astimezone(projects.LOCAL_TZ).date()
        waiting_days = max(0, (today - registered_on).days)
        if project.status == ProjectStatus.awaiting_approval:
            result.items.append(DueItem("approval", _("Awaiting finance approval"), project,
                                        department, note=_("waiting %(n)s days", n=waiting_days)))
        if (projects.needs_ex_ante(project.budget_fen) and not project.ex_ante_sha256
                and project.status in (ProjectStatus.awaiting_approval, ProjectStatus.returned)):
            result.items.append(DueItem("ex_ante", _("Ex-ante assessment missing"), project,
                                        department))
        contract = contracts.get(project.id)
        if contract is None or contract.signed_on > today:  # on a past day: not signed yet
            continue
        copy = copy_filing_deadline(contract, project, today)
        if copy is not None and copy.done_on is None:
            result.items.append(DueItem("copy", _("Signed copy not filed (15 days)"), project,
                                        department, contract, copy.due, copy.late_days))
        elif copy is not None and copy.is_late:
            result.items.append(DueItem("copy", _("Signed copy filed late"), project, department,
                                        contract, copy.due, copy.late_days))
        publication = publication_deadline(contract, today)
        if publication.done_on is None or publication.is_late:
            label = _("Contract not published (2 working days)") if publication.done_on is None \
                else _("Contract published late")
            result.items.append(DueItem("publication", label, project, department, contract,
                                        publication.due, publication.late_days,
                                        publication.problem or ""))
    from evalplatform.services import evaluations  # evaluations build on contracts

    for gap in evaluations.monitoring_gaps(session, organisation_id=organisation_id, today=today):
        label = _("No monitoring round in contract year %(start)s – %(end)s",
                  start=gap.year_start.isoformat(), end=gap.year_end.isoformat())
        result.items.append(DueItem("monitoring", label, gap.project, gap.department,
                                    gap.contract, gap.year_end, gap.late_days))
    from evalplatform.services import report_filing  # it builds on evaluations

    for waiting in report_filing.waiting_on(session, organisation_id=organisation_id,
                                            today=today):
        result.items.append(DueItem(
            "report", _("Evaluation report to file with the ex-ante assessment"),
            waiting.project, waiting.department, waiting.contract,
            note=_("%(title)s, final on %(date)s", title=waiting.evaluation.title,
                   date=waiting.final_on.isoformat()), evaluation=waiting.evaluation))
    if today >= projects.today():  # statuses are today's: a past day cannot be told
        result.items.extend(_stalled_evaluations(session, organisation_id, today))
    # the latest first; then what falls due soonest; what has no date (an approval waiting)
    # last — a deadline next month must not sit below one next year for a smaller project id
    result.items.sort(key=lambda i: (-i.late_days, i.due is None, i.due or today,
                                     i.project.id))
    return result


def _stalled_evaluations(session: Session, organisation_id: int | None, today: date
                         ) -> list[DueItem]:
    """Evaluations whose window closed (the survey's end, the sheets' deadline) before
    ``today`` and that still have no result: not started, still collecting, or scored but not
    computed. Nothing else flags them, and settlement and standing wait on their result."""
    from evalplatform.labels import EVALUATION_STATUS_LABELS
    from evalplatform.services import evaluations  # evaluations build on contracts

    statement = (select(Evaluation, Contract, Project, Organisation)
                 .join(Contract, Evaluation.contract_id == Contract.id)
                 .join(Project, Contract.project_id == Project.id)
                 .join(Organisation, Project.department_id == Organisation.id)
                 .where(col(Evaluation.status).in_([EvaluationStatus.draft,
                                                    EvaluationStatus.collecting,
                                                    EvaluationStatus.scoring]))
                 .order_by(Evaluation.id))
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    items = []
    for evaluation, contract, project, department in session.exec(statement):
        closes_on = evaluations.local_date(evaluation.closes_at)
        if closes_on >= today:
            continue
        items.append(DueItem(
            "evaluation", _("Evaluation window closed, no result computed"), project,
            department, contract, closes_on, (today - closes_on).days,
            note=_("%(title)s: %(status)s", title=evaluation.title,
                   status=EVALUATION_STATUS_LABELS[EvaluationStatus(evaluation.status)]),
            evaluation=evaluation))
    return items


#: The orders a reader may choose on the due-and-late list (``?sort=key``, ``-key``
#: descending, see ``paging.sort_items``); without one, the latest first.
DUE_SORTS = {
    "project": lambda i: i.project.name,
    "department": lambda i: i.department.name,
    "due": lambda i: i.due,
    "late": lambda i: i.late_days,
}


@dashboard.provider
def _cards(session: Session, role: Role, organisation_id: int | None) -> list[dashboard.Card]:
    if role not in (Role.finance, Role.purchaser):
        return []
    scope = organisation_id if role == Role.purchaser else None
    due = due_and_late(session, organisation_id=scope, today=projects.today())
    late = len(due.late)
    cards = []
    if role == Role.finance:
        cards.append(dashboard.Card(_("Approvals waiting"), str(due.count("approval")),
                                    _("Projects of ¥1,000,000 or more"),
                                    "/projects?status=awaiting_approval",
                                    urgent=due.count("approval") > 0))
    cards.append(dashboard.Card(_("Late items"), str(late),
                                _("Contract copies, publications and monitoring rounds "
                                  "past their deadline"),
                                "/due?show=late", urgent=late > 0))
    return cards


def add_profile(session: Session, actor: Actor, organisation_id: int, *, supplier_kind: str,
                small_medium: bool, contact_name: str = "", contact_phone: str = ""
                ) -> SupplierProfile:
    """Give an existing supplier organisation its profile (kind, size, contact)."""
    org = session.get(Organisation, organisation_id)
    if org is None or org.kind != OrganisationKind.supplier:
        raise ValidationFailed({"organisation_id": _("Choose a registered supplier.")})
    try:
        kind = SupplierKind(supplier_kind)
    except ValueError:
        raise ValidationFailed({"supplier_kind": _("Choose the supplier's kind.")}) from None
    if kind in REFUSED_SUPPLIER_KINDS:
        raise ValidationFailed({"supplier_kind": _(
            "%(kind)s may not be a supplier of purchased services (neither purchaser nor "
            "supplier).", kind=SUPPLIER_KIND_LABELS[kind])})
    if len(_clean(contact_name)) > 100:
        raise ValidationFailed({"contact_name": _("The contact is too long.")})
    if phones.problem(contact_phone):
        raise ValidationFailed({"contact_phone": phones.problem(contact_phone)})
    profile = SupplierProfile(organisation_id=org.id, supplier_kind=kind,
                              small_medium=small_medium, contact_name=_clean(contact_name),
                              contact_phone=_clean(contact_phone))
    session.add(profile)
    audit.record(session, actor, "supplier.profile", "organisation", org.id,
                 {"supplier_kind": kind, "small_medium": small_medium})
    session.commit()
    return profile
