"""The demo city's results: one final, one published and open to appeal, one blocked.

The first monitoring rounds that ``demo_projects`` schedules are closed and computed here.
Their inputs come from whatever the survey and scoresheet capabilities have stored for them
(through the evaluation-inputs collectors); where nothing is stored, this loader makes
plausible monthly checks, expert sheets, measured data and survey answers from the scheme
itself (a seeded random generator, so every load is the same), and hands them to the
computation directly. Either way the result is computed by ``scoring`` like any other.

- 中心城区道路清扫保洁 · 第一季度监控: computed and published in June, final since its
  appeal window closed;
- 2026年居家养老上门服务 · 第一季度监控: computed and published now, open to appeal;
- 公共厕所管理服务 · 第一季度监控: computed without survey answers, so the scheme's
  ``block`` rule keeps it from publication and the page lists what is missing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlmodel import Session, select

from evalplatform.models import Contract, Evaluation, EvaluationStatus, Project, Role, User
from evalplatform.services import evaluation_inputs, evaluations, results
from evalplatform.services.audit import Actor
from evalplatform.services.errors import DomainError

#: project name → (what to do, computed at, published at); None means "now"
PLAN = {
    "中心城区道路清扫保洁": ("final", datetime(2026, 6, 23, 2, 0, tzinfo=UTC),
                     datetime(2026, 6, 24, 2, 0, tzinfo=UTC)),
    "2026年居家养老上门服务": ("published", None, None),
    "公共厕所管理服务": ("blocked", None, None),
}

SURVEY_MIX = [("满意", 55), ("较满意", 30), ("一般", 10), ("不满意", 3), ("不了解", 2)]
POINT_REASONS = ["台账个别月份缺签字", "抽查发现一处未按规范作业", "整改反馈不及时",
                 "培训记录不完整"]
TIER_REASONS = ["部分月份未达到合同约定频次", "整改后达标，但超出约定时限"]


@dataclass(frozen=True)
class _Principal:
    actor: Actor
    role: Role
    organisation_id: int | None


def _leaves(node: dict, part: dict, found: list) -> None:
    if node.get("rule"):
        found.append((part, node))
    for child in node.get("children") or []:
        _leaves(child, part, found)


def _q(value: float, places: str = "0.0001") -> str:
    return str(Decimal(str(value)).quantize(Decimal(places), rounding=ROUND_HALF_UP))


def generated_inputs(scheme: dict, seed: int, *, with_survey: bool = True
                     ) -> evaluation_inputs.Contribution:
    """Plausible inputs for every leaf of the scheme (demo data, clearly labelled as such)."""
    rng = random.Random(seed)
    leaves: list = []
    for part in scheme.get("parts", []):
        _leaves(part["tree"], part, leaves)
    sheets: dict[tuple[str, str], dict] = {}
    data: dict = {}
    questions: list[str] = []
    leniency: dict[str, float] = {}
    for part, leaf in leaves:
        rule = leaf["rule"]
        kind = rule["type"]
        points = Decimal(str(leaf["points"]))
        quality = rng.uniform(0.78, 1.0)  # how well the service did on this indicator
        if kind in ("points", "tiers"):
            scorers = (["2026-03", "2026-04", "2026-05"] if part.get("party") == "purchaser"
                       else ["E01", "E02", "E03", "E04", "E05"])
            for scorer in scorers:
                lean = leniency.setdefault(scorer, rng.uniform(-0.04, 0.04))
                share = min(max(quality + lean + rng.gauss(0, 0.03), 0.0), 1.0)
                scores = sheets.setdefault((part["id"], scorer), {})
                if kind == "points":
                    given = (points * Decimal(str(share)) * 2).quantize(
                        Decimal("1"), rounding=ROUND_HALF_UP) / 2
                    scores[leaf["id"]] = (str(points) if given >= points else
                                          {"points": str(given),
                                           "reason": rng.choice(POINT_REASONS)})
                else:
                    tier = "达成" if share >= 0.9 else "部分达成" if share >= 0.6 else "未达成"
                    scores[leaf["id"]] = (tier if tier == "达成" else
                                          {"tier": tier, "reason": rng.choice(TIER_REASONS)})
        elif kind == "ratio_ge":
            target = float(rule["target"])
            data[leaf["id"]] = {"value": _q(target * min(quality + 0.08, 1.03)),
                                "source": "服务台账（演示数据）"}
        elif kind == "ratio_le":
            target = float(rule["target"])
            data[leaf["id"]] = {"value": _q(target * (2.0 - quality), "0.1"),
                                "source": "工单系统（演示数据）"}
        elif kind == "thresholds":
            bands = rule["bands"]
            band = bands[0] if quality > 0.85 else bands[min(1, len(bands) - 1)]
            data[leaf["id"]] = {"value": band["min"], "source": "第三方抽查（演示数据）"}
        else:  # a survey leaf
            questions += [q for q in rule.get("questions", []) if q not in questions]
    responses = []
    if with_survey and questions:
        options = [o for o, _w in SURVEY_MIX]
        weights = [w for _o, w in SURVEY_MIX]
        for _index in range(120):
            mood = options.index(rng.choices(options[:4], weights[:4])[0])
            answer = {}
            for question in questions:
                if rng.random() < 0.02:
                    answer[question] = "不了解"
                    continue
                shifted = mood + (rng.choice([-1, 1]) if rng.random() < 0.25 else 0)
                answer[question] = options[min(max(shifted, 0), 3)]
            responses.append(answer)
    notes = ["演示数据：购买主体月度考核表、第三方专家评分表与测量数据由演示加载程序按指标体系生成"]
    if responses:
        notes.append(f"演示数据：满意度问卷 {len(responses)} 份")
    return evaluation_inputs.Contribution(
        "demo", sheets=[{"part": part_id, "scorer": scorer, "scores": scores}
                        for (part_id, scorer), scores in sheets.items()],
        data=data, responses=responses, population=1200 if responses else None, notes=notes)


#: The source name of the generated inputs in a result's package (``meta.sources``).
SOURCE = "demo"


@evaluation_inputs.collector(SOURCE)
def _generated_again(session: Session, evaluation: Evaluation
                     ) -> evaluation_inputs.Contribution | None:
    """The generated inputs of a demo result, again, when it is computed anew (reopened, or
    an appeal upheld): they were handed to the computation, not stored as sheets, so without
    them a new version would find every scorer's leaf missing. The same seed gives the same
    inputs; a sheet stored since takes over (the collector gives nothing once one is)."""
    earlier = results.versions(session, evaluation.id)
    if not earlier:
        return None
    sources = (earlier[0].package.get("meta") or {}).get("sources") or []
    generated = next((s for s in sources if s.get("source") == SOURCE), None)
    if generated is None:
        return None
    stored = [c for c in evaluation_inputs.collect_from(session, evaluation, exclude=SOURCE)
              if c.sheets]
    if stored:
        return None
    return generated_inputs(evaluations.scheme_document(session, evaluation), seed=evaluation.id,
                            with_survey=bool(generated.get("responses")))


def load(session: Session, users: dict[str, User]) -> list:
    """Close, compute and publish the demo's first monitoring rounds (see the module doc)."""
    finance = users["caizheng"]
    principal = _Principal(Actor(finance.id, finance.username), Role.finance,
                           finance.organisation_id)
    done = []
    for project_name, (outcome, computed_at, published_at) in PLAN.items():
        row = session.exec(select(Evaluation, Project).join(
            Contract, Evaluation.contract_id == Contract.id).join(
            Project, Contract.project_id == Project.id).where(Project.name == project_name)
            .order_by(Evaluation.id)).first()
        if row is None:
            continue
        evaluation = row[0]
        try:
            for before, step in ((EvaluationStatus.draft, EvaluationStatus.collecting),
                                 (EvaluationStatus.collecting, EvaluationStatus.scoring)):
                if evaluation.status == before:
                    evaluation = evaluations.advance(session, principal.actor, evaluation.id, step)
            if evaluation.status != EvaluationStatus.scoring:
                continue  # another capability's demo has taken it further
            collected = evaluation_inputs.collect(session, evaluation)
            given = None
            if not any(c.sheets for c in collected):
                # the scorers' parts are generated; real survey answers are kept when there are
                answered = any(c.responses for c in collected)
                generated = generated_inputs(evaluations.scheme_document(session, evaluation),
                                             seed=evaluation.id,
                                             with_survey=outcome != "blocked" and not answered)
                given = [*collected, generated] if outcome != "blocked" else [generated]
            result = results.compute(session, principal, evaluation.id, contributions=given,
                                     at=computed_at)
            if outcome in ("final", "published") and result.final_ready:
                result = results.publish(session, principal, evaluation.id, at=published_at)
            if outcome == "final":
                results.finalise_due(session, evaluation_ids=[evaluation.id])
            done.append(result)
        except DomainError:
            session.rollback()  # a demo step that cannot run today (e.g. no calendar) is skipped
    return done
