"""The guiding catalogue (指导性目录), its publication, and the negative list (负面清单).

Finance staff keep both. A project names a level-3 (or level-2) catalogue entry; a project
whose name, content or category contains a negative-list entry's match term is refused,
the entry named, unless finance recorded an explained override for that department's
project of that name. A term joined by + (``工程+打包``) matches a field that contains every
part, so a bundle (道路改造工程和服务打包) is caught without refusing every project that
merely says 打包 (生活垃圾打包清运) or 工程 (阳光工程). Finance keeps the terms.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from evalplatform.db import row_named
from evalplatform.i18n import _
from evalplatform.models import (
    CatalogueEntry,
    CatalogueIssue,
    NegativeKind,
    NegativeListEntry,
    NegativeListOverride,
    Organisation,
    OrganisationKind,
    Project,
    Role,
    User,
)
from evalplatform.services import audit, dashboard, years
from evalplatform.services.audit import Actor
from evalplatform.services.errors import NotFound, ValidationFailed
from evalplatform.services.workdays import CalendarUnavailable, add_working_days

PUBLICATION_WORKING_DAYS = 10
CODE_RE = re.compile(r"^[A-Z](\d{2}(\d{2})?)?$")

# ---------------------------------------------------------------- seed data

LEVEL1 = [
    ("A", "基本公共服务"),
    ("B", "社会管理性服务"),
    ("C", "行业管理与协调服务"),
    ("D", "技术性服务"),
    ("E", "政府履职所需辅助性服务"),
    ("F", "其他服务事项"),
]

#: Level 1 is the six national categories, fixed; local refinements are levels 2 and 3.
LEVEL1_CODES = frozenset(code for code, _label in LEVEL1)


def level1_problem(code: str) -> str | None:
    """Why ``code`` cannot be a level-1 entry: level 1 holds only the six national
    categories (A–F); None for those and for any level-2 or level-3 code."""
    if len(code) == 1 and code not in LEVEL1_CODES:
        codes = "–".join((min(LEVEL1_CODES), max(LEVEL1_CODES)))
        return _("Level 1 holds only the six national categories (%(codes)s); add the service "
                 "as a level-2 or level-3 entry under one of them.", codes=codes)
    return None


LEVEL2 = [
    ("A01", "教育"), ("A02", "就业"), ("A03", "社会保障"), ("A04", "医疗卫生"),
    ("A05", "养老"), ("A06", "文化体育"), ("A07", "残疾人服务"),
    ("B01", "社会工作"), ("B02", "社区治理"), ("B03", "法律服务"), ("B04", "公共安全"),
    ("C01", "行业规划与标准"), ("C02", "行业统计分析"),
    ("D01", "环境治理"), ("D02", "市容环卫"), ("D03", "城乡维护"), ("D04", "检验检测"),
    ("D05", "农业农村"),
    ("E01", "课题研究与咨询"), ("E02", "绩效评价"), ("E03", "会议与培训"),
    ("F01", "其他"),
]

LEVEL3 = [
    ("A0101", "学前教育普惠服务"), ("A0102", "课后托管服务"),
    ("A0201", "就业技能培训"), ("A0202", "创业指导服务"), ("A0203", "职业介绍与招聘对接"),
    ("A0301", "困难群众救助帮扶"), ("A0302", "残疾儿童康复救助"),
    ("A0401", "家庭医生签约辅助服务"), ("A0402", "慢性病健康管理"),
    ("A0501", "居家养老上门服务"), ("A0502", "社区老年助餐服务"), ("A0503", "养老机构运营服务"),
    ("A0601", "公共文化场馆运营"), ("A0602", "全民健身活动组织"),
    ("A0701", "残疾人托养服务"),
    ("B0101", "社区社会工作服务"), ("B0102", "青少年社会工作"),
    ("B0201", "网格化管理辅助服务"), ("B0301", "公共法律服务热线"), ("B0302", "人民调解辅助服务"),
    ("B0401", "安全生产隐患排查"),
    ("C0101", "行业标准制修订"), ("C0201", "行业运行监测分析"),
    ("D0101", "河道保洁"), ("D0102", "黑臭水体治理运维"),
    ("D0201", "城市道路清扫保洁"), ("D0202", "公共厕所管理"), ("D0203", "生活垃圾分类指导"),
    ("D0301", "城市绿化养护"), ("D0302", "市政设施巡查"),
    ("D0401", "食品安全抽检"), ("D0501", "农业技术推广服务"), ("D0502", "动物防疫服务"),
    ("E0101", "政策研究咨询"), ("E0201", "第三方绩效评价"), ("E0301", "业务培训组织"),
    ("F0101", "其他服务"),
]

NEGATIVE_LIST = [
    (NegativeKind.outside_duties, "不属于政府职责范围的服务事项",
     "与政府职能无关、应由市场或个人自行承担的事项。", "商业经营\n个人消费\n营利性经营"),
    (NegativeKind.direct_duties, "应当由政府直接履职的事项",
     "行政决策、行政许可、行政处罚、行政强制、行政执法等应当由政府直接履行的职责。",
     "行政执法\n行政许可\n行政处罚\n行政强制\n行政审批"),
    (NegativeKind.goods_and_works, "货物、工程及工程和服务打包项目",
     "购买货物、建设工程，或将工程和服务打包作为政府购买服务项目。",
     "工程建设\n施工\n设备采购\n货物采购\n新建\n改扩建\n装修\n工程+打包\n"
     "购置\n购买+电脑\n维修工程\n修缮工程\n路面修补"),
    (NegativeKind.financing, "融资行为",
     "以政府购买服务名义举借债务、变相融资。", "融资\n贷款\n借款\n举债\n举借\n垫资"),
    (NegativeKind.staffing, "购买主体的人员聘用、劳务派遣和公益性岗位（购人、购岗）",
     "以政府购买服务名义聘用人员、劳务派遣或购买岗位（购人、购岗）。",
     "劳务派遣\n人员聘用\n招聘工作人员\n购岗\n"
     "购买岗位\n公益性岗位\n公益岗位\n编外人员\n编外用工\n招用\n临时工作人员\n临聘人员"),
    (NegativeKind.prohibited_by_law, "法律、行政法规规定的其他不得作为政府购买服务内容的事项",
     "法律、行政法规明确禁止的事项。", "涉密\n国家秘密"),
]


def seed(session: Session, actor: Actor = audit.SYSTEM) -> int:
    """Load the default catalogue and negative list into an empty database (one audit entry)."""
    if session.exec(select(CatalogueEntry)).first() is not None:
        return 0
    by_code: dict[str, CatalogueEntry] = {}
    for level, rows in ((1, LEVEL1), (2, LEVEL2), (3, LEVEL3)):
        for code, name in rows:
            parent = by_code.get(code[:-2]) if level > 1 else None
            entry = CatalogueEntry(code=code, name=name, level=level,
                                   parent_id=parent.id if parent else None)
            session.add(entry)
            session.flush()
            by_code[code] = entry
    for kind, name, description, terms in NEGATIVE_LIST:
        session.add(NegativeListEntry(kind=kind, name=name, description=description,
                                      match_terms=terms))
    audit.record(session, actor, "catalogue.seed", "catalogue", "default",
                 {"entries": len(by_code), "negative_list": len(NEGATIVE_LIST)})
    session.commit()
    return len(by_code)


# ---------------------------------------------------------------- catalogue entries


def list_entries(session: Session, *, include_inactive: bool = True) -> list[CatalogueEntry]:
    statement = select(CatalogueEntry).order_by(CatalogueEntry.code)
    if not include_inactive:
        statement = statement.where(CatalogueEntry.active == True)  # noqa: E712
    return list(session.exec(statement).all())


def selectable_entries(session: Session) -> list[CatalogueEntry]:
    """Entries a project may name: active, level 2 or 3."""
    return [e for e in list_entries(session, include_inactive=False) if e.level >= 2]


def get_entry(session: Session, entry_id: int) -> CatalogueEntry:
    entry = session.get(CatalogueEntry, entry_id)
    if entry is None:
        raise NotFound(_("No such catalogue entry."))
    return entry


def entry_path(session: Session, entry: CatalogueEntry) -> list[CatalogueEntry]:
    """The entry and its ancestors, level 1 first."""
    path = [entry]
    while path[0].parent_id is not None:
        path.insert(0, session.get(CatalogueEntry, path[0].parent_id))
    return path


def save_entry(session: Session, actor: Actor, *, entry_id: int | None = None, code: str,
               name: str, description: str = "", active: bool = True) -> CatalogueEntry:
    """Add (entry_id None) or edit a catalogue entry; the code's length gives its level."""
    code = (code or "").strip().upper()
    name = (name or "").strip()
    errors: dict[str, str] = {}
    existing = get_entry(session, entry_id) if entry_id is not None else None
    parent = None
    if not CODE_RE.match(code):
        errors["code"] = _("The code is a capital letter, then two digits for level 2 and two "
                           "more for level 3 (e.g. A, A05, A0501).")
    elif level1_problem(code):
        errors["code"] = level1_problem(code)
    else:
        clash = session.exec(select(CatalogueEntry).where(CatalogueEntry.code == code)).first()
        if clash is not None and (existing is None or clash.id != existing.id):
            errors["code"] = _("The code %(code)s is already used by %(name)s.", code=code,
                               name=clash.name)
        elif len(code) > 1:
            parent = session.exec(
                select(CatalogueEntry).where(CatalogueEntry.code == code[:-2])).first()
            if parent is None:
                errors["code"] = _("The parent entry %(code)s does not exist; add it first.",
                                   code=code[:-2])
        if existing is not None and existing.code != code and "code" not in errors:
            has_children = session.exec(
                select(CatalogueEntry).where(CatalogueEntry.parent_id == existing.id)).first()
            if has_children:
                errors["code"] = _("An entry with sub-entries keeps its code.")
    if not name:
        errors["name"] = _("Name is required.")
    elif len(name) > 200:
        errors["name"] = _("Name must be at most 200 characters.")
    if errors:
        raise ValidationFailed(errors)
    level = {1: 1, 3: 2, 5: 3}[len(code)]
    entry = existing or CatalogueEntry(code=code, name=name, level=level)
    before = {"code": entry.code, "name": entry.name, "description": entry.description,
              "active": entry.active} if existing else None
    entry.code, entry.name, entry.level = code, name, level
    entry.parent_id = parent.id if parent else None
    entry.description = (description or "").strip()
    entry.active = bool(active)
    session.add(entry)
    session.flush()
    after = {"code": code, "name": name, "description": entry.description, "active": entry.active}
    audit.record(session, actor, "catalogue.update" if existing else "catalogue.create",
                 "catalogue_entry", entry.id, {"before": before, "after": after})
    session.commit()
    session.refresh(entry)
    return entry


# ---------------------------------------------------------------- publication of the catalogue


@dataclass(frozen=True)
class IssueView:
    issue: CatalogueIssue
    deadline: date | None
    deadline_problem: str | None
    late_days: int  # calendar days past the deadline (0 if on time or not yet due)


def issue_view(issue: CatalogueIssue, today: date) -> IssueView:
    try:
        deadline = add_working_days(issue.issued_on, PUBLICATION_WORKING_DAYS)
        problem = None
    except CalendarUnavailable as exc:
        deadline, problem = None, exc.message
    late = 0
    if deadline is not None:
        reference = issue.published_on or today
        late = max(0, (reference - deadline).days)
    return IssueView(issue, deadline, problem, late)


def list_issues(session: Session, today: date) -> list[IssueView]:
    issues = session.exec(select(CatalogueIssue).order_by(CatalogueIssue.year.desc())).all()
    return [issue_view(i, today) for i in issues]


def late_issues(session: Session, today: date) -> list[IssueView]:
    """The issues still not published after their 10 working days (逾期未公开): finance's own
    statutory deadline, listed with the other late items and counted on the home page."""
    return [view for view in list_issues(session, today)
            if view.issue.published_on is None and view.late_days > 0]


@dashboard.provider
def _cards(session: Session, role: Role, _organisation_id: int | None) -> list[dashboard.Card]:
    if role not in (Role.finance, Role.auditor):
        return []
    from evalplatform.services import projects  # projects build on the catalogue

    late = late_issues(session, projects.today())
    if not late:
        return []
    worst = max(late, key=lambda view: view.late_days)
    return [dashboard.Card(
        _("Catalogue not published in time"), str(len(late)),
        _("The %(year)s catalogue was due to be published by %(day)s (10 working days after "
          "its issue): %(n)s days late", year=worst.issue.year, day=worst.deadline.isoformat(),
          n=worst.late_days), "/catalogue", urgent=role == Role.finance)]


def record_issue(session: Session, actor: Actor, *, year: str, issued_on: str) -> CatalogueIssue:
    errors: dict[str, str] = {}
    year_value = years.parse(year)
    if year_value is None:
        errors["year"] = years.problem()
    try:
        issued = date.fromisoformat((issued_on or "").strip())
    except ValueError:
        errors["issued_on"] = _("Enter the issue date as YYYY-MM-DD.")
        issued = None
    if issued is not None and not years.within(issued):
        errors["issued_on"] = years.day_problem()
        issued = None
    if year_value and session.exec(
            select(CatalogueIssue).where(CatalogueIssue.year == year_value)).first():
        errors["year"] = _("The catalogue of %(year)s is already recorded.", year=year_value)
    if issued is not None and "issued_on" not in errors:
        try:
            add_working_days(issued, PUBLICATION_WORKING_DAYS)
        except CalendarUnavailable as exc:
            errors["issued_on"] = exc.message
    if errors:
        raise ValidationFailed(errors)
    issue = CatalogueIssue(year=year_value, issued_on=issued)
    session.add(issue)
    session.flush()
    audit.record(session, actor, "catalogue.issue", "catalogue_issue", issue.id,
                 {"year": year_value, "issued_on": issued})
    session.commit()
    session.refresh(issue)
    return issue


def record_publication(session: Session, actor: Actor, issue_id: int, published_on: str
                       ) -> CatalogueIssue:
    issue = session.get(CatalogueIssue, issue_id)
    if issue is None:
        raise NotFound(_("No such catalogue issue."))
    try:
        published = date.fromisoformat((published_on or "").strip())
    except ValueError:
        raise ValidationFailed({"published_on": _("Enter the publication date as YYYY-MM-DD.")}
                               ) from None
    if published < issue.issued_on:
        raise ValidationFailed({"published_on": _("The catalogue cannot be published before it "
                                                  "is issued (%(date)s).", date=issue.issued_on)})
    from evalplatform.services import projects  # projects imports this module

    if published > projects.today():  # else a late disclosure would read as done on time
        raise ValidationFailed({"published_on": _("The publication date cannot be in the future.")})
    issue.published_on = published
    session.add(issue)
    audit.record(session, actor, "catalogue.publish", "catalogue_issue", issue.id,
                 {"published_on": published})
    session.commit()
    return issue


# ---------------------------------------------------------------- the negative list


def list_negative(session: Session) -> list[NegativeListEntry]:
    return list(session.exec(select(NegativeListEntry).order_by(NegativeListEntry.id)).all())


def list_overrides(session: Session) -> list[tuple[NegativeListOverride, NegativeListEntry,
                                                   Organisation, Project | None]]:
    """Every recorded exception, newest first, with the project registered under it (if any)."""
    rows = session.exec(
        select(NegativeListOverride, NegativeListEntry, Organisation)
        .join(NegativeListEntry, NegativeListOverride.entry_id == NegativeListEntry.id)
        .join(Organisation, NegativeListOverride.department_id == Organisation.id)
        .order_by(NegativeListOverride.id.desc())
    ).all()
    names = {o.project_name for o, _e, _d in rows}
    registered = {(p.department_id, p.name): p for p in session.exec(
        select(Project).where(col(Project.name).in_(names)).order_by(Project.id))} if names else {}
    return [(o, e, d, registered.get((o.department_id, o.project_name))) for o, e, d in rows]


@dataclass(frozen=True)
class NegativeMatch:
    entry: NegativeListEntry
    term: str
    where: str  # which field matched: name, content or catalogue


def _overrides_for(session: Session, department_id: int | None, name: str
                   ) -> dict[int, NegativeListOverride]:
    """The department's recorded exceptions for a project of exactly this name, by entry."""
    if department_id is None:
        return {}
    rows = session.exec(select(NegativeListOverride).where(
        NegativeListOverride.department_id == department_id,
        NegativeListOverride.project_name == (name or "").strip(),
    ).order_by(NegativeListOverride.id))
    return {o.entry_id: o for o in rows}


TERM_PARTS = re.compile(r"\s*[+＋]\s*")
MIN_TERM_CHARS = 2  # a one-character term (工, 务) would refuse almost every project
MAX_TERM_CHARS = 50


def term_parts(term: str) -> list[str]:
    """A match term's parts: ``工程+打包`` → [工程, 打包]; a plain term is its only part."""
    return TERM_PARTS.split(term.strip())


def _folded(text: str) -> str:
    """Text as the negative list compares it: full-width forms folded (NFKC), letters in one
    case, and every space and invisible format character (a zero-width space) dropped, so
    that 劳务 派遣, 劳务\u3000派遣 or ＰＰＰ cannot slip past 劳务派遣 or PPP."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded
                   if not ch.isspace() and unicodedata.category(ch) != "Cf")


def term_hits(term: str, text: str) -> bool:
    """The text contains every part of the term (a plain term: the term itself), compared
    without spaces, case or width (:func:`_folded`)."""
    parts = [_folded(p) for p in term_parts(term)]
    parts = [p for p in parts if p]
    folded = _folded(text)
    return bool(parts) and all(p in folded for p in parts)


def _all_matches(session: Session, *, name: str, content: str, category_names: list[str]
                 ) -> list[NegativeMatch]:
    fields = [("name", name or ""), ("content", content or ""),
              ("catalogue", " ".join(category_names))]
    found: list[NegativeMatch] = []
    for entry in list_negative(session):
        if not entry.active:
            continue
        hit = next(((term, where) for term in entry.terms for where, text in fields
                    if term_hits(term, text)), None)
        if hit:
            found.append(NegativeMatch(entry, hit[0], hit[1]))
    return found


def negative_matches(session: Session, *, department_id: int | None, name: str, content: str,
                     category_names: list[str]) -> list[NegativeMatch]:
    """The active negative-list entries the project text hits, minus recorded overrides."""
    overridden = _overrides_for(session, department_id, name)
    return [m for m in _all_matches(session, name=name, content=content,
                                    category_names=category_names)
            if m.entry.id not in overridden]


@dataclass(frozen=True)
class AppliedOverride:
    """An exception that lets a project through: the entry it matched and finance's reason."""

    override: NegativeListOverride
    match: NegativeMatch
    recorded_by: str  # the finance user's display name


def applied_overrides(session: Session, *, department_id: int | None, name: str, content: str,
                      category_names: list[str]) -> list[AppliedOverride]:
    """The recorded exceptions without which this project would be refused."""
    overridden = _overrides_for(session, department_id, name)
    applied = []
    for match in _all_matches(session, name=name, content=content,
                              category_names=category_names):
        override = overridden.get(match.entry.id)
        if override is not None:
            user = session.get(User, override.recorded_by) if override.recorded_by else None
            applied.append(AppliedOverride(override, match, user.display_name if user else ""))
    return applied


def get_negative(session: Session, entry_id: int) -> NegativeListEntry:
    entry = session.get(NegativeListEntry, entry_id)
    if entry is None:
        raise NotFound(_("No such negative-list entry."))
    return entry


def save_negative_terms(session: Session, actor: Actor, entry_id: int, match_terms: str
                        ) -> NegativeListEntry:
    """Finance corrects an entry's match terms (one a line; parts joined by + must all appear).

    Refused, naming the field and the rule: no term at all, a term or part shorter than two
    characters (it would match almost everything), longer than 50, a part left empty, or no
    change. The audit entry keeps the terms before and after.
    """
    entry = get_negative(session, entry_id)
    lines = [line.strip() for line in (match_terms or "").replace("，", "\n").replace(",", "\n")
             .replace("、", "\n").splitlines()]
    terms: list[str] = []
    problems: list[str] = []
    for line in lines:
        if not line:
            continue
        parts = term_parts(line)
        term = "+".join(parts)
        if any(not p for p in parts):
            problems.append(_("“%(term)s” has an empty part: join two or more parts with +, "
                              "e.g. 工程+打包.", term=line))
        elif any(len(p) < MIN_TERM_CHARS for p in parts):
            problems.append(_("“%(term)s” is too short: every term (and every part joined by +) "
                              "has at least %(n)s characters, or it would match almost every "
                              "project.", term=line, n=MIN_TERM_CHARS))
        elif len(term) > MAX_TERM_CHARS:
            problems.append(_("“%(term)s” is too long: at most %(n)s characters.",
                              term=line[:MAX_TERM_CHARS] + "…", n=MAX_TERM_CHARS))
        elif term not in terms:
            terms.append(term)
    if problems:
        raise ValidationFailed({"match_terms": _("Match terms: %(problems)s",
                                                 problems=" ".join(problems))})
    if not terms:
        raise ValidationFailed({"match_terms": _(
            "Match terms: enter at least one term, one a line; an entry without terms refuses "
            "nothing.")})
    before = entry.terms
    if terms == before:
        raise ValidationFailed({"match_terms": _("Match terms: nothing was changed.")})
    entry.match_terms = "\n".join(terms)
    session.add(entry)
    audit.record(session, actor, "negative_list.terms", "negative_list_entry", entry.id,
                 {"entry": entry.name, "from": before, "to": terms})
    session.commit()
    session.refresh(entry)
    return entry


def record_override(session: Session, actor: Actor, *, entry_id: str, department_id: str,
                    project_name: str, reason: str) -> NegativeListOverride:
    """Finance records why a named project of a department may be bought despite an entry."""
    errors: dict[str, str] = {}
    entry = row_named(session, NegativeListEntry, entry_id)
    if entry is None:
        errors["entry_id"] = _("Choose a negative-list entry.")
    department = row_named(session, Organisation, department_id)
    if department is None or department.kind != OrganisationKind.purchasing_department:
        errors["department_id"] = _("Choose a purchasing department.")
    name = (project_name or "").strip()
    if not name:
        errors["project_name"] = _("Enter the project's name exactly as it will be registered.")
    reason = (reason or "").strip()
    if len(reason) < 10:
        errors["reason"] = _("Explain the exception in at least 10 characters.")
    if not errors and session.exec(select(NegativeListOverride).where(
            NegativeListOverride.entry_id == entry.id,
            NegativeListOverride.department_id == department.id,
            NegativeListOverride.project_name == name)).first() is not None:
        errors["project_name"] = _("An exception for this entry, department and project name is "
                                   "already recorded.")
    if errors:
        raise ValidationFailed(errors)
    override = NegativeListOverride(entry_id=entry.id, department_id=department.id,
                                    project_name=name, reason=reason, recorded_by=actor.id)
    session.add(override)
    session.flush()
    audit.record(session, actor, "negative_list.override", "negative_list_override", override.id,
                 {"entry": entry.name, "department": department.name, "project_name": name,
                  "reason": reason})
    session.commit()
    return override
