"""Weights of an indicator's children from data (数据赋权): the entropy method over past results,
and combined weights (组合赋权) of AHP and the entropy method, for the scheme editor.

DESIGN.md: weights are typed, derived by AHP from a pairwise comparison matrix, derived by the
entropy method from data, or combined. The data of a node's children are the published
results (公示的评价结果, public by rule) of the scheme's family — the template it comes from,
and every scheme copied or versioned from that template — that scored every one of those
children: each result is a row, each child a column holding the share of its applicable
points it scored (0 to 1). The entropy method (``scoring.entropy_weights``) gives more weight
to a child on which those results differ more — it tells the suppliers apart — and none to a
child on which they all scored alike. Combined weights (``scoring.combined_weights``) take a
typed share α of the AHP weights and 1 − α of the entropy weights. Either sets the children's
points as AHP does: weight × the node's points, half-up to 2 decimals, the remainder to the
largest; a child's own children are rescaled to its new points in their proportions
(``schemes.give_children_points``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlmodel import Session, col, select

import scoring
from evalplatform.i18n import _
from evalplatform.models import IndicatorScheme
from evalplatform.models.evaluations import Evaluation
from evalplatform.models.results import EvaluationResult
from evalplatform.services import schemes
from evalplatform.services.errors import ValidationFailed

#: AHP's share of combined weights when none is typed.
DEFAULT_SHARE = "0.5"
METHODS = ("ahp", "entropy", "combined")


@dataclass
class PastResult:
    """One published result of the scheme's family, as a row of the entropy method's data."""

    evaluation_id: int
    title: str
    total: str
    shares: list[float]  # per child: points scored ÷ points applicable, 0 to 1


@dataclass
class EntropyOutcome:
    rows: list[PastResult]
    skipped: int  # published results of the family that did not score every child
    weights: list[Decimal]
    entropy: list[float]
    points: list[Decimal]


@dataclass
class CombinedOutcome:
    ahp: schemes.AHPOutcome
    entropy: EntropyOutcome
    share: Decimal
    weights: list[Decimal]
    points: list[Decimal]


def family(session: Session, scheme: IndicatorScheme) -> list[int]:
    """The ids of the schemes that share ``scheme``'s root template or first version."""
    parents = dict(session.exec(select(IndicatorScheme.id, IndicatorScheme.based_on_id)).all())

    def root(scheme_id: int) -> int:
        seen = set()
        while parents.get(scheme_id) is not None and scheme_id not in seen:
            seen.add(scheme_id)
            scheme_id = parents[scheme_id]
        return scheme_id

    top = root(scheme.id)
    return sorted(i for i in parents if root(i) == top)


def past_results(session: Session, scheme: IndicatorScheme, node: dict
                 ) -> tuple[list[PastResult], int]:
    """The published results of the family that scored every child of ``node``."""
    children = [c["id"] for c in node.get("children") or []]
    rows: list[PastResult] = []
    skipped = 0
    found = session.exec(
        select(EvaluationResult, Evaluation)
        .join(Evaluation, EvaluationResult.evaluation_id == Evaluation.id)
        .where(col(Evaluation.scheme_id).in_(family(session, scheme)))
        .where(col(EvaluationResult.published_at).is_not(None))
        .where(col(EvaluationResult.superseded).is_(False))
        .order_by(EvaluationResult.published_at, EvaluationResult.id)).all()
    for result, evaluation in found:
        nodes = (result.result or {}).get("nodes") or {}
        shares = []
        for child in children:
            share = _share_scored(nodes.get(child))
            if share is None:
                break
            shares.append(share)
        else:
            rows.append(PastResult(evaluation.id, evaluation.title, result.total, shares))
            continue
        skipped += 1
    return rows, skipped


def _share_scored(figures: dict | None) -> float | None:
    """Points scored ÷ points applicable of a node in a result; None when it was not scored."""
    if not figures or figures.get("status") != "scored":
        return None
    try:
        score, applicable = Decimal(str(figures["score"])), Decimal(str(figures["applicable"]))
    except (KeyError, InvalidOperation):
        return None
    if not score.is_finite() or not applicable.is_finite() or applicable <= 0:
        return None
    return float(min(max(score / applicable, Decimal(0)), Decimal(1)))


def _children(scheme: IndicatorScheme, node_id: str) -> tuple[dict, list[dict]]:
    node = schemes.locate(scheme.document, node_id).node
    children = node.get("children") or []
    if len(children) < 2:
        raise ValidationFailed({node_id: _(
            "Weights are shared among two or more children; %(node)s has fewer.",
            node=schemes.node_label(node))})
    return node, children


def run_entropy(session: Session, scheme_id: int, node_id: str) -> EntropyOutcome:
    """The entropy method's weights of the node's children from the family's past results."""
    scheme = schemes.get(session, scheme_id)
    node, children = _children(scheme, node_id)
    rows, skipped = past_results(session, scheme, node)
    if len(rows) < 2:
        raise ValidationFailed({"entropy": _(
            "The entropy method needs the published results of at least two evaluations that "
            "scored every child of %(node)s on this scheme or another copy of its template; "
            "%(count)s found. Use AHP instead.", node=schemes.node_label(node),
            count=len(rows))})
    try:
        result = scoring.entropy_weights([r.shares for r in rows])
    except ValueError:
        raise ValidationFailed({"entropy": _(
            "Every past result scored each child of %(node)s alike, so the entropy method "
            "gives no weight. Use AHP instead.", node=schemes.node_label(node))}) from None
    weights = [Decimal(repr(float(w))) for w in result.weights]
    total = schemes.decimal_or_none(node.get("points")) or schemes.HUNDRED
    entropy = [min(1.0, max(0.0, float(e))) for e in result.entropy]
    return EntropyOutcome(rows, skipped, weights, entropy, schemes.allocate(weights, total))


def parse_share(text: str | None) -> Decimal:
    """AHP's share α of combined weights, typed as a number from 0 to 1."""
    text = str(DEFAULT_SHARE if text is None else text).strip()
    try:
        share = Decimal(text)
        if not share.is_finite() or not 0 <= share <= 1:
            raise InvalidOperation
    except InvalidOperation:
        raise ValidationFailed({"share": _(
            "AHP's share of the combined weights: “%(value)s” is not allowed; it is a number "
            "from 0 to 1, e.g. 0.5 (1 keeps the AHP weights alone, 0 the entropy weights "
            "alone).", value=text)}) from None
    return share


def run_combined(session: Session, scheme_id: int, node_id: str,
                 upper: dict[tuple[int, int], str], share_text: str | None) -> CombinedOutcome:
    """α × the AHP weights + (1 − α) × the entropy method's, and the points they give."""
    errors: dict[str, str] = {}
    outcomes: dict = {}
    for name, run in (("share", lambda: parse_share(share_text)),
                      ("ahp", lambda: schemes.run_ahp(session, scheme_id, node_id, upper)),
                      ("entropy", lambda: run_entropy(session, scheme_id, node_id))):
        try:  # every problem named at once
            outcomes[name] = run()
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    ahp, entropy, share = outcomes["ahp"], outcomes["entropy"], outcomes["share"]
    combined = scoring.combined_weights([float(w) for w in ahp.weights],
                                        [float(w) for w in entropy.weights], float(share))
    weights = [Decimal(repr(float(w))) for w in combined.weights]
    scheme = schemes.get(session, scheme_id)
    node = schemes.locate(scheme.document, node_id).node
    total = schemes.decimal_or_none(node.get("points")) or schemes.HUNDRED
    return CombinedOutcome(ahp, entropy, share, weights, schemes.allocate(weights, total))


def _known(method: str) -> str:
    if method not in METHODS:
        raise ValidationFailed({"method": _("Choose AHP, the entropy method or combined "
                                            "weights.")})
    return method


def problems_after(session: Session, scheme_id: int, node_id: str,
                   points: list[Decimal]) -> list[str]:
    """The rules of the scheme that giving the node's children ``points`` would break and it
    keeps now (the national frame's 产出 + 效益 ≥ 60, say): shown before the points are
    accepted, so that nobody is surprised by an incomplete scheme afterwards."""
    scheme = schemes.get(session, scheme_id)
    before = schemes.problems(scheme.document)
    after_doc = copy.deepcopy(scheme.document)
    schemes.give_children_points(after_doc, node_id, points)
    return [message for key, message in schemes.problems(after_doc).items()
            if before.get(key) != message]


def run(session: Session, scheme_id: int, node_id: str, method: str,
        upper: dict[tuple[int, int], str], share_text: str | None):
    """The weights and points of the node's children by ``method`` (``METHODS``), not stored:
    an ``AHPOutcome``, ``EntropyOutcome`` or ``CombinedOutcome``."""
    if _known(method) == "ahp":
        return schemes.run_ahp(session, scheme_id, node_id, upper)
    if method == "entropy":
        return run_entropy(session, scheme_id, node_id)
    return run_combined(session, scheme_id, node_id, upper, share_text)


def accept(session: Session, principal, scheme_id: int, node_id: str, method: str,
           upper: dict[tuple[int, int], str], share_text: str | None) -> IndicatorScheme:
    """Set the children's points by ``method``: AHP as ``schemes.accept_ahp`` does; the entropy
    method or combined weights audited with the weights' method, the share and the
    evaluations whose results were the data."""
    schemes.editable(session, principal, scheme_id)  # refused before any figure is worked out
    if _known(method) == "ahp":
        return schemes.accept_ahp(session, principal, scheme_id, node_id, upper)
    if method == "entropy":
        outcome = run_entropy(session, scheme_id, node_id)
        change = {"weighting": "entropy"}
        data = outcome
    elif method == "combined":
        outcome = run_combined(session, scheme_id, node_id, upper, share_text)
        if not outcome.ahp.consistent:
            raise schemes.inconsistent(outcome.ahp.cr)
        change = {"weighting": "combined", "share": schemes.plain(outcome.share),
                  "cr": round(outcome.ahp.cr, 6)}
        data = outcome.entropy
    scheme = schemes.get(session, scheme_id)
    children = schemes.locate(scheme.document, node_id).node.get("children") or []
    for child, points in zip(children, outcome.points, strict=True):
        if points <= 0:
            raise ValidationFailed({"entropy": _(
                "%(node)s would get 0 points: the past results do not tell the suppliers apart "
                "on it. Combine the entropy weights with AHP instead.",
                node=schemes.node_label(child))})
    change["evaluations"] = [r.evaluation_id for r in data.rows]
    return schemes.set_children_points(session, principal, scheme_id, node_id, outcome.points,
                                       "scheme.node.weights", change)
