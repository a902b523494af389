"""Selection of a supplier for a new procurement (承接主体选择), ranked by TOPSIS.

For a project awaiting its contract, the eligible suppliers are the candidates; a barred
supplier is listed apart with the reason. The candidates are ranked by TOPSIS
(``scoring.topsis``) over five criteria from their record:

==================  =======  ======================================================
historic score      benefit  mean total of its final results in the last years
satisfaction        benefit  mean score of the recipients' part (服务对象评价)
trend               benefit  100 + (latest total − mean of the earlier ones)
price               cost     % of the budget: the quote typed for this procurement,
                             else its past contracts' amount ÷ their budget
complaints          cost     substantiated complaints (有效投诉) in the last years
==================  =======  ======================================================

A candidate without a figure (no history) gets the candidates' mean for it — neutral, and
marked; for the trend, neutral is 100 (steady: no evidence of rising or falling). The
weights are typed, derived by AHP from a pairwise comparison (``scoring.ahp``, CR < 0.10 or
refused), by the entropy method from the candidates' figures, each criterion
standardised by its range and direction first (``scoring.entropy_weights``), or combined
(组合赋权): a typed share α of the AHP weights and 1 − α of the entropy weights
(``scoring.combined_weights``), the judgement tempered by how much the candidates actually
differ. The ranking is advice for the purchaser's decision, which still follows the
procurement method; every number on the page says where it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

import scoring
from evalplatform.i18n import N_, _
from evalplatform.models import Contract, Organisation, Project, ProjectStatus, SupplierProfile
from evalplatform.services import contracts, projects, scheme_weights, schemes, standing
from evalplatform.services.errors import Conflict, ValidationFailed
from evalplatform.services.money import parse_yuan
from evalplatform.services.settlements import money_text


@dataclass(frozen=True)
class Criterion:
    key: str
    label: object
    benefit: bool
    source: object
    shown_as: str = "score"  # how a page writes its figure: "score", "percent" (of the budget), "count"


CRITERIA = [
    Criterion("score", N_("Historic score"), True,
              N_("mean total of its final results in the last %(n)s years")),
    Criterion("satisfaction", N_("Satisfaction"), True,
              N_("mean score of the service recipients' part of those results")),
    Criterion("trend", N_("Trend"), True,
               N_("100 + (latest total − mean of the earlier totals); 100 means steady")),
    Criterion("price", N_("Price"), False,
              N_("percent of the budget: the quote for this procurement if typed, else its past "
                 "contracts' amount ÷ their project's budget"), "percent"),
    Criterion("complaints", N_("Complaints"), False,
              N_("substantiated complaints in the last %(n)s years"), "count"),
]
KEYS = [c.key for c in CRITERIA]
DEFAULT_WEIGHTS = {"score": "0.35", "satisfaction": "0.25", "trend": "0.10", "price": "0.20",
                   "complaints": "0.10"}
METHODS = {"typed": N_("Typed weights"), "ahp": N_("AHP (pairwise comparison)"),
           "entropy": N_("Entropy method (from the candidates' figures)"),
           "combined": N_("Combined: AHP and the entropy method")}
#: The share of the AHP weights in combined weights when none is typed.
DEFAULT_SHARE = scheme_weights.DEFAULT_SHARE
AWAITING = (ProjectStatus.ready, ProjectStatus.approved)


def awaiting_contract(session: Session, organisation_id: int | None = None) -> list[Project]:
    """Projects that may be contracted and have no contract yet (a new procurement)."""
    contracted = {c.project_id for c in session.exec(select(Contract))}
    statement = select(Project).where(col(Project.status).in_(AWAITING)).order_by(Project.name)
    if organisation_id is not None:
        statement = statement.where(Project.department_id == organisation_id)
    return [p for p in session.exec(statement) if p.id not in contracted]


@dataclass
class Candidate:
    supplier: Organisation
    profile: SupplierProfile
    standing: standing.Standing
    values: dict[str, Decimal | None]  # as found; None = no figure
    used: dict[str, float] = field(default_factory=dict)  # what TOPSIS received
    neutral: set[str] = field(default_factory=set)  # filled with the candidates' mean
    quote_fen: int | None = None
    closeness: float = 0.0
    rank: int = 0
    strengths: list[str] = field(default_factory=list)
    weaknesses: list[str] = field(default_factory=list)


@dataclass
class Ranking:
    project: Project
    method: str
    weights: dict[str, float]
    candidates: list[Candidate]
    barred: list[tuple[Organisation, standing.Bar]]
    notes: list[str]
    ahp: object | None = None  # schemes.AHPOutcome-like figures
    entropy: dict[str, float] | None = None
    #: Combined weights: the AHP weights, the entropy method's and AHP's share α of them.
    subjective: dict[str, float] | None = None
    objective: dict[str, float] | None = None
    share: Decimal | None = None
    lookback_years: int = 3

    @property
    def chart(self) -> dict:
        """ECharts option: the closeness of each candidate as horizontal bars."""
        ordered = list(reversed(self.candidates))
        return {
            "grid": {"left": 8, "right": 48, "top": 8, "bottom": 24, "containLabel": True},
            "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
            "xAxis": {"type": "value", "min": 0, "max": 1},
            "yAxis": {"type": "category", "data": [c.supplier.name for c in ordered]},
            "series": [{"type": "bar", "name": _("Closeness"),
                        "data": [round(c.closeness, 4) for c in ordered],
                        "label": {"show": True, "position": "right"},
                        "itemStyle": {"color": "#a4161a"}}],
        }


#: The trend of a supplier whose results neither rose nor fell (and of one without two).
STEADY = Decimal(100)


def _mean(values: list[Decimal]) -> Decimal | None:
    return sum(values) / len(values) if values else None


def record_of(session: Session, supplier: Organisation, today: date, rules: standing.Rules
              ) -> tuple[standing.Standing, dict[str, Decimal | None]]:
    """A supplier's standing and its figures for the five criteria."""
    found = standing.standing_of(session, supplier, today, rules)
    recent = found.recent
    totals = [r.total for r in recent]
    satisfaction = [r.satisfaction for r in recent if r.satisfaction is not None]
    trend = None
    if len(totals) >= 2:
        trend = Decimal(100) + totals[-1] - _mean(totals[:-1])
    ratios = []
    for contract, project in session.exec(
            select(Contract, Project).join(Project, Contract.project_id == Project.id)
            .where(Contract.supplier_id == supplier.id)):
        if project.budget_fen:
            ratios.append(Decimal(contract.amount_fen) * 100 / Decimal(project.budget_fen))
    return found, {"score": _mean(totals), "satisfaction": _mean(satisfaction), "trend": trend,
                   "price": _mean(ratios), "complaints": Decimal(found.complaints)}


def _weights_typed(values: dict) -> dict[str, float]:
    """The typed weights, scaled to add up to 1; each refusal names its criterion and the rule."""
    errors = {}
    weights = {}
    for key in KEYS:
        text = str(values.get(f"w_{key}", DEFAULT_WEIGHTS[key]) or "").strip()
        try:
            number = Decimal(text)
            if not number.is_finite() or number < 0:
                raise InvalidOperation
            weights[key] = number
        except InvalidOperation:
            if text:
                errors[f"w_{key}"] = _(
                    "Weight of %(criterion)s: “%(value)s” is not allowed; a weight is a number "
                    "of 0 or more, e.g. %(example)s.", criterion=_label(key), value=text,
                    example=DEFAULT_WEIGHTS[key])
            else:
                errors[f"w_{key}"] = _(
                    "Weight of %(criterion)s is empty; a weight is a number of 0 or more, "
                    "e.g. %(example)s (0 leaves the criterion out).", criterion=_label(key),
                    example=DEFAULT_WEIGHTS[key])
    if errors:
        raise ValidationFailed(errors)
    total = sum(weights.values())
    if total <= 0:
        raise ValidationFailed({"weights": _(
            "The typed weights of %(criteria)s are all 0; at least one must be above 0 (the "
            "weights are then scaled to add up to 1).",
            criteria="、".join(_label(k) for k in KEYS))})
    return {k: float(v / total) for k, v in weights.items()}


def _share(values: dict) -> Decimal:
    """AHP's share α of combined weights, typed as a number from 0 to 1."""
    return scheme_weights.parse_share(values.get("share"))


def _ahp_matrix(upper: dict[tuple[int, int], str]):
    """The pairwise matrix; a bad judgement is refused naming the two criteria compared."""
    errors = {}
    for i in range(len(KEYS)):
        for j in range(i + 1, len(KEYS)):
            text = str(upper.get((i, j)) or "").strip()
            if schemes.parse_judgement(text) is None:
                errors[f"a_{i}_{j}"] = _(
                    "%(row)s compared with %(column)s: “%(value)s” is not a judgement; choose 1 "
                    "to 9 or a reciprocal (1/2 … 1/9).", row=_label(KEYS[i]),
                    column=_label(KEYS[j]), value=text)
    if errors:
        raise ValidationFailed(errors)
    return schemes.ahp_matrix(len(KEYS), upper)


def _weights_ahp(upper: dict[tuple[int, int], str]):
    matrix = _ahp_matrix(upper)
    result = scoring.ahp([[float(v) for v in row] for row in matrix])
    figures = schemes.AHPOutcome(matrix, [Decimal(repr(float(w))) for w in result.weights],
                                 float(result.lambda_max), float(result.ci), float(result.cr),
                                 bool(result.consistent), [])
    if not result.consistent:
        raise schemes.inconsistent(result.cr)
    return {k: float(w) for k, w in zip(KEYS, result.weights, strict=True)}, figures


def rank(session: Session, project_id: int, *, method: str = "typed", values: dict | None = None,
         upper: dict[tuple[int, int], str] | None = None, today: date | None = None) -> Ranking:
    """Rank the eligible candidates for the project; barred suppliers are listed apart."""
    values = values or {}
    today = today or projects.today()
    project = projects.get(session, project_id)
    if contracts.for_project(session, project.id) is not None:
        raise Conflict(_("This project already has its contract; selection is for a new "
                         "procurement."))
    if project.status not in AWAITING:
        raise Conflict(_("Selection starts once the project may be contracted (approved, or "
                         "registered below the approval threshold)."))
    if method not in METHODS:
        raise ValidationFailed({"method": _("Choose typed weights, AHP, the entropy method or "
                                            "combined weights.")})
    rules = standing.settings(session)
    candidates: list[Candidate] = []
    barred: list[tuple[Organisation, standing.Bar]] = []
    errors: dict[str, str] = {}
    for supplier, profile in contracts.eligible_suppliers(session):
        found, figures = record_of(session, supplier, today, rules)
        quote = str(values.get(f"quote_{supplier.id}") or "").strip()
        if found.bar is not None:
            barred.append((supplier, found.bar))
            if quote:  # silently dropping it would rank as if the quote had been weighed
                errors[f"quote_{supplier.id}"] = _(
                    "Quote of %(supplier)s: the supplier is barred until %(date)s (%(reason)s), "
                    "so it is not a candidate and its quote cannot be ranked. Clear the quote.",
                    supplier=supplier.name, date=found.bar.until, reason=found.bar.reason)
            continue
        candidate = Candidate(supplier, profile, found, figures)
        if quote:
            fen, problem = parse_yuan(quote)
            if problem:
                errors[f"quote_{supplier.id}"] = _("Quote of %(supplier)s: %(problem)s",
                                                   supplier=supplier.name, problem=problem)
            elif fen > project.budget_fen:  # no contract could be recorded at that price
                quote, budget = money_text(fen), money_text(project.budget_fen)
                errors[f"quote_{supplier.id}"] = _(
                    "Quote of %(supplier)s: %(quote)s is above the project's budget of "
                    "%(budget)s, and a contract may not exceed its project's budget.",
                    supplier=supplier.name, quote=quote, budget=budget)
            else:
                candidate.quote_fen = fen
                candidate.values["price"] = Decimal(fen) * 100 / Decimal(project.budget_fen)
        candidates.append(candidate)
    weights: dict[str, float] | None = None
    try:  # the weights are checked with the quotes, so that every problem is named at once
        if method == "typed":
            weights = _weights_typed(values)
        elif method in ("ahp", "combined"):
            _ahp_matrix(upper or {})
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if method == "combined":
        try:
            share = _share(values)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    notes: list[str] = []
    ranking = Ranking(project, method, {}, candidates, barred, notes,
                      lookback_years=rules.lookback_years)
    if not candidates:
        notes.append(_("No eligible candidate: every registered supplier is barred or refused."))
        return ranking
    for key in KEYS:
        known = [c.values[key] for c in candidates if c.values[key] is not None]
        # no figure: neutral — "steady" for the trend (100), else the candidates' mean
        fill = STEADY if key == "trend" else _mean(known) if known else Decimal(0)
        if not known:
            notes.append(_("No candidate has a figure for %(criterion)s: it cannot tell them "
                           "apart.", criterion=_label(key)))
        for c in candidates:
            if c.values[key] is None:
                c.neutral.add(key)
                c.used[key] = float(fill)
            else:
                c.used[key] = float(c.values[key])
    matrix = [[c.used[k] for k in KEYS] for c in candidates]
    if method == "typed":
        ranking.weights = weights
    elif method == "ahp":
        ranking.weights, ranking.ahp = _weights_ahp(upper or {})
    elif method == "entropy":
        ranking.weights, ranking.entropy = _weights_entropy(matrix)
    else:
        subjective, ranking.ahp = _weights_ahp(upper or {})
        objective, ranking.entropy = _weights_entropy(matrix)
        combined = scoring.combined_weights([subjective[k] for k in KEYS],
                                            [objective[k] for k in KEYS], float(share))
        ranking.weights = {k: float(w) for k, w in zip(KEYS, combined.weights, strict=True)}
        ranking.subjective, ranking.objective, ranking.share = subjective, objective, share
    if method in ("entropy", "combined") and len(candidates) == 2:
        notes.append(_("With two candidates the entropy method weighs every criterion on which "
                       "they differ alike: it can only tell that they differ, not by how much."))
    outcome = scoring.topsis(matrix, [ranking.weights[k] for k in KEYS],
                             [c.benefit for c in CRITERIA])
    for c, closeness, place in zip(candidates, outcome.closeness, outcome.rank, strict=True):
        c.closeness, c.rank = float(closeness), int(place)
    _explain(candidates)
    candidates.sort(key=lambda c: (c.rank, c.supplier.name))
    return ranking


def _weights_entropy(matrix: list[list[float]]) -> tuple[dict[str, float], dict[str, float]]:
    """The entropy method's weights from the candidates' figures, and each criterion's entropy.

    Each criterion is first standardised by its range and direction (a cost reversed), so
    that a count of complaints and a score out of 100 weigh by how they spread the field,
    not by their units."""
    if len(matrix) < 2:
        raise ValidationFailed({"method": _("The entropy method needs at least two "
                                            "candidates.")})
    try:
        result = scoring.entropy_weights(matrix, benefit=[c.benefit for c in CRITERIA])
    except ValueError:
        raise ValidationFailed({"method": _(
            "The candidates' figures are the same on every criterion; the entropy method "
            "gives no weight. Type the weights or use AHP.")}) from None
    weights = {k: float(w) for k, w in zip(KEYS, result.weights, strict=True)}
    # an entropy lies in [0, 1]; rounding leaves e.g. -1e-17, which would read "-0.0000"
    return weights, {k: min(1.0, max(0.0, float(e)))
                     for k, e in zip(KEYS, result.entropy, strict=True)}


def _label(key: str) -> str:
    return str(next(c.label for c in CRITERIA if c.key == key))


def _explain(candidates: list[Candidate]) -> None:
    """Name where each candidate is the best or the worst of the field."""
    if len(candidates) < 2:
        return
    for criterion in CRITERIA:
        column = [c.used[criterion.key] for c in candidates]
        if max(column) == min(column):
            continue
        best = max(column) if criterion.benefit else min(column)
        worst = min(column) if criterion.benefit else max(column)
        for c in candidates:
            if criterion.key in c.neutral:
                continue
            if c.used[criterion.key] == best:
                c.strengths.append(_label(criterion.key))
            elif c.used[criterion.key] == worst:
                c.weaknesses.append(_label(criterion.key))


def upper_from(form: dict) -> dict[tuple[int, int], str]:
    """The AHP judgements of a form (``a_0_1`` …) as the upper triangle."""
    upper = {}
    for i in range(len(KEYS)):
        for j in range(i + 1, len(KEYS)):
            upper[(i, j)] = str(form.get(f"a_{i}_{j}", "1") or "1")
    return upper
