"""The JSON API of suppliers' standing and selection (承接主体信用与选择): the same services and
visibility as the standing pages — finance, auditors and purchasers see every supplier, a
supplier only its own — and as the selection page of a new procurement, where a purchaser ranks
the candidates for its department's project (finance and auditors for any project)."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlmodel import Session

import scoring
from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import Role
from evalplatform.services import contracts, paging, selection, standing
from evalplatform.services.errors import ValidationFailed
from evalplatform.services.money import fen_to_yuan_text
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.settlements import everyone, project_selector, standing_reader

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["standing"],
                   responses=error_responses(401, 403, 422))


class StandingOut(BaseModel):
    supplier_id: int
    supplier: str
    level: str = Field(description="barred, warned, preferred, normal or unrated")
    level_label: str
    reasons: list[str] = Field(description="Why, in words, as the standing pages show them")
    barred_until: str | None = Field(None, description="ISO date, while barred")


class StandingPage(BaseModel):
    items: list[StandingOut]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field("", description="Always empty: the list's own order, barred first")


def _out(found: standing.Standing) -> StandingOut:
    return StandingOut(supplier_id=found.supplier.id, supplier=found.supplier.name,
                       level=found.level, level_label=found.level_label,
                       reasons=[str(r) for r in found.reasons],
                       barred_until=found.bar.until.isoformat() if found.bar else None)


@router.get("/standing", summary="Suppliers' standing (承接主体信用)", response_model=StandingPage)
def list_standings(level: str = Query("", description="barred, warned, preferred, normal "
                                      "or unrated"),
                   page: ApiPage = 1, per_page: ApiPerPage = 20,
                   session: Session = Depends(get_session),
                   principal: Principal = Depends(everyone)):
    """Every supplier's standing the caller may see (a supplier: only its own), barred first;
    an unknown level is refused (422) naming the parameter and its values."""
    problems = standing.filter_problems(level)
    if problems:
        raise ValidationFailed(problems)
    if principal.role == Role.supplier:
        found = [standing.standing_of(session, standing.get_supplier(
            session, principal.organisation_id or -1), reader=principal)]
    else:
        found = standing.all_standings(session, reader=principal)
    found = [s for s in found if not level or s.level == level]
    result = paging.paginate_items(found, page=page, per_page=per_page)
    problems = paging.list_problems(result, sort=None, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return StandingPage(items=[_out(s) for s in result.items], total=result.total,
                        page=result.page, pages=result.pages, per_page=result.per_page)


@router.get("/standing/{supplier_id}",
            summary="A supplier's standing and its reasons (信用详情)", response_model=StandingOut,
            responses=error_responses(404))
def get_standing(supplier_id: int, session: Session = Depends(get_session),
                 principal: Principal = Depends(standing_reader)):
    """A supplier's standing (承接主体信用) from its recent final results — barred, warned,
    preferred, normal or unrated — with the reasons in words and, while barred, until when.
    A supplier reads its own standing only."""
    supplier = standing.get_supplier(session, supplier_id)
    return _out(standing.standing_of(session, supplier, reader=principal))


# ---------------------------------------------------------------- selection (承接主体选择)


class SelectionCriterionOut(BaseModel):
    key: str = Field(description="score, satisfaction, trend, price or complaints")
    label: str
    benefit: bool = Field(description="True: more is better; false (price, complaints): less is "
                                      "better")
    source: str = Field(description="Where the figure comes from, in words")
    weight: float = Field(description="The weight TOPSIS used; the weights add up to 1")
    ahp_weight: float | None = Field(None, description="Combined weights: the AHP weight")
    entropy_weight: float | None = Field(None, description="Entropy or combined weights: the "
                                                           "entropy method's weight")
    entropy: float | None = Field(None, description="Entropy or combined weights: the "
                                                    "criterion's entropy (0 to 1)")


class FigureOut(BaseModel):
    value: str = Field(description="As the selection page writes it: a score with two decimals "
                                   "rounded half-up, the price in percent of the budget with two "
                                   "decimals, complaints a whole number (a neutral mean with "
                                   "two decimals)")
    used: float = Field(description="The figure TOPSIS received, unrounded")
    neutral: bool = Field(description="No figure of its own: the candidates' mean is used (100, "
                                      "steady, for the trend)")


class CandidateOut(BaseModel):
    rank: int = Field(description="1 for the closest to the ideal")
    supplier_id: int
    supplier: str
    standing_level: str = Field(description="warned, preferred, normal or unrated (a barred "
                                            "supplier is no candidate)")
    standing_label: str
    closeness: float = Field(description="TOPSIS closeness, 0 to 1: distance to the anti-ideal ÷ "
                                         "(distance to the ideal + distance to the anti-ideal); "
                                         "the page shows four decimals")
    figures: dict[str, FigureOut] = Field(description="Each criterion's figure, by its key")
    quote_fen: int | None = Field(description="The quote sent for this procurement, in fen")
    quote_yuan: str | None = Field(description="The same in yuan with two decimals")
    strengths: list[str] = Field(description="The criteria it is the best of the field on")
    weaknesses: list[str] = Field(description="The criteria it is the worst of the field on")


class BarredOut(BaseModel):
    supplier_id: int
    supplier: str
    barred_until: date
    reason: str = Field(description="The result that bars it, in words")


class SelectionOut(BaseModel):
    project_id: int
    project_name: str
    budget_fen: int
    budget_yuan: str
    method: str = Field(description="typed, ahp, entropy or combined")
    method_label: str
    share: str | None = Field(description="Combined weights: AHP's share α, a decimal string")
    consistency_ratio: float | None = Field(description="AHP and combined weights: the "
                                                        "comparison's CR, below 0.10")
    lookback_years: int = Field(description="How many years of final results the figures read")
    criteria: list[SelectionCriterionOut]
    candidates: list[CandidateOut] = Field(description="The eligible suppliers, best first")
    barred: list[BarredOut] = Field(description="Suppliers barred from new contracts: not "
                                                "candidates")
    notes: list[str] = Field(description="What the ranking cannot tell, in words")


def _judgement(row: int, column: int):
    first, second = selection.CRITERIA[row], selection.CRITERIA[column]
    return Query("1", alias=f"a_{row}_{column}",
                 description=f"AHP: {first.label.message} compared with {second.label.message} "
                             "on Saaty's scale, 1 to 9 or 1/2 … 1/9")


def _figure_text(criterion: selection.Criterion, used: float, neutral: bool) -> str:
    """A candidate's figure as the selection page writes it (the ``score`` and ``percent``
    filters): the price a percentage of the budget, complaints a count unless neutral."""
    if criterion.shown_as == "percent":
        number = Decimal(str(used)) / 100 * 100
        return f"{number.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP):f}"
    if criterion.shown_as == "count" and not neutral:
        return str(int(used))
    return str(scoring.round_score(used))


def quote_values(session: Session, quotes: list[str]) -> dict[str, str]:
    """The quotes sent as ``supplier_id:yuan`` → the selection's ``quote_<id>`` values; a quote
    that is not one, names no supplier that may be contracted, or repeats one, is refused
    naming ``quote``."""
    known = {supplier.id for supplier, _profile in contracts.eligible_suppliers(session)}
    values: dict[str, str] = {}
    problems: list[str] = []
    for typed in quotes:
        supplier, colon, amount = typed.partition(":")
        supplier = supplier.strip()
        if not colon or not supplier.isascii() or not supplier.isdigit() or not amount.strip():
            problems.append(_("Quote “%(value)s”: write the supplier's id, a colon and the amount "
                              "in yuan, e.g. 12:750000.00.", value=typed))
        elif int(supplier) not in known:
            problems.append(_("Quote “%(value)s”: supplier %(id)s is not a registered supplier "
                              "that may be contracted.", value=typed, id=supplier))
        elif f"quote_{int(supplier)}" in values:
            problems.append(_("Quote “%(value)s”: supplier %(id)s is quoted twice.", value=typed,
                              id=supplier))
        else:
            values[f"quote_{int(supplier)}"] = amount.strip()
    if problems:
        raise ValidationFailed({"quote": " ".join(problems)})
    return values


def _selection_out(ranking: selection.Ranking) -> SelectionOut:
    n = ranking.lookback_years
    criteria = [SelectionCriterionOut(
        key=c.key, label=str(c.label), benefit=c.benefit, source=_(c.source.message, n=n),
        weight=ranking.weights[c.key] if ranking.weights else 0.0,
        ahp_weight=ranking.subjective[c.key] if ranking.subjective else None,
        entropy_weight=(ranking.objective or ranking.weights)[c.key] if ranking.entropy
        else None,
        entropy=ranking.entropy[c.key] if ranking.entropy else None)
        for c in selection.CRITERIA]
    candidates = [CandidateOut(
        rank=c.rank, supplier_id=c.supplier.id, supplier=c.supplier.name,
        standing_level=c.standing.level, standing_label=c.standing.level_label,
        closeness=c.closeness,
        figures={k.key: FigureOut(value=_figure_text(k, c.used[k.key], k.key in c.neutral),
                                  used=c.used[k.key], neutral=k.key in c.neutral)
                 for k in selection.CRITERIA},
        quote_fen=c.quote_fen,
        quote_yuan=fen_to_yuan_text(c.quote_fen) if c.quote_fen is not None else None,
        strengths=[str(s) for s in c.strengths], weaknesses=[str(w) for w in c.weaknesses])
        for c in ranking.candidates]
    project = ranking.project
    return SelectionOut(
        project_id=project.id, project_name=project.name, budget_fen=project.budget_fen,
        budget_yuan=fen_to_yuan_text(project.budget_fen), method=ranking.method,
        method_label=str(selection.METHODS[ranking.method]),
        share=str(ranking.share) if ranking.share is not None else None,
        consistency_ratio=float(ranking.ahp.cr) if ranking.ahp is not None else None,
        lookback_years=n, criteria=criteria, candidates=candidates,
        barred=[BarredOut(supplier_id=s.id, supplier=s.name, barred_until=bar.until,
                          reason=bar.reason) for s, bar in ranking.barred],
        notes=[str(note) for note in ranking.notes])


@router.get("/projects/{project_id}/selection",
            summary="Rank the candidate suppliers of a new procurement (承接主体选择)",
            response_model=SelectionOut, responses=error_responses(404, 409))
def rank_candidates(
        project_id: int,
        method: str = Query("typed", description="How the weights are set: typed, ahp (pairwise "
                            "comparison a_i_j), entropy (from the candidates' figures) or "
                            "combined (share × AHP + (1 − share) × entropy)"),
        w_score: str = Query(selection.DEFAULT_WEIGHTS["score"],
                             description="Typed weight of the historic score"),
        w_satisfaction: str = Query(selection.DEFAULT_WEIGHTS["satisfaction"],
                                    description="Typed weight of satisfaction"),
        w_trend: str = Query(selection.DEFAULT_WEIGHTS["trend"],
                             description="Typed weight of the trend"),
        w_price: str = Query(selection.DEFAULT_WEIGHTS["price"],
                             description="Typed weight of the price"),
        w_complaints: str = Query(selection.DEFAULT_WEIGHTS["complaints"],
                                  description="Typed weight of complaints (typed weights are "
                                  "scaled to add up to 1)"),
        share: str = Query(selection.DEFAULT_SHARE, description="Combined weights: AHP's share "
                           "α, 0 to 1"),
        a_0_1: str = _judgement(0, 1), a_0_2: str = _judgement(0, 2),
        a_0_3: str = _judgement(0, 3), a_0_4: str = _judgement(0, 4),
        a_1_2: str = _judgement(1, 2), a_1_3: str = _judgement(1, 3),
        a_1_4: str = _judgement(1, 4), a_2_3: str = _judgement(2, 3),
        a_2_4: str = _judgement(2, 4), a_3_4: str = _judgement(3, 4),
        quote: list[str] = Query([], description="A candidate's quote for this procurement as "
                                 "supplier_id:yuan, e.g. 12:750000.00, which replaces its past "
                                 "price level; repeat the parameter for several"),
        session: Session = Depends(get_session),
        principal: Principal = Depends(project_selector)):
    """The selection page's ranking (承接主体选择) for a project awaiting its contract: the
    eligible suppliers ranked by TOPSIS over historic score, satisfaction, trend, price and
    complaints, with the weights typed, from AHP, from the entropy method or combined, each
    candidate's figures and closeness; barred suppliers listed apart with the reason. A
    purchaser ranks for its department's projects (another's is not found, 404), finance staff
    and auditors for any; any other role is refused (403). A project already contracted, or not
    yet cleared for purchase, is refused (409); a bad method, weight, share, judgement, quote, or
    judgements not consistent enough (CR ≥ 0.10, named ``matrix``), are refused (422) naming
    each. Reading changes nothing and is not audited."""
    weights = {"w_score": w_score, "w_satisfaction": w_satisfaction, "w_trend": w_trend,
               "w_price": w_price, "w_complaints": w_complaints}
    judgements = [a_0_1, a_0_2, a_0_3, a_0_4, a_1_2, a_1_3, a_1_4, a_2_3, a_2_4, a_3_4]
    pairs = [(i, j) for i in range(len(selection.KEYS)) for j in range(i + 1, len(selection.KEYS))]
    values = {**weights, "share": share, **quote_values(session, quote)}
    try:
        ranking = selection.rank(session, project_id, method=method, values=values,
                                 upper=dict(zip(pairs, judgements, strict=True)))
    except ValidationFailed as exc:  # a quote is refused under the parameter it came in
        errors = {k: v for k, v in exc.errors.items() if not k.startswith("quote_")}
        quoted = [v for k, v in exc.errors.items() if k.startswith("quote_")]
        if quoted:
            errors["quote"] = " ".join(quoted)
        raise ValidationFailed(errors) from None
    return _selection_out(ranking)
