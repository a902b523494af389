"""The trace (计分说明) and the plain-JSON form of a result.

Both are rendered from the result's own numbers and its scheme, on demand, so the single
and the batch paths (which produce equal results) also produce equal traces.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .money import round_score, snap
from .package import COMBINES, PARTIES, _fmt
from .text import AND, COMMA, N_, OR, SEMI, Joined, Text, joined

_P4 = Decimal("0.0001")
_STATE = {"s": "scored", "n": "na", "m": "missing"}


def f2(x: float) -> str:
    return str(round_score(x))


def f4(x: float) -> str:
    return str(snap(x).quantize(_P4, rounding=ROUND_HALF_UP))


def fv(x: float) -> str:
    """A measured value written plainly (95.3, 12, 0.875)."""
    return _fmt(snap(x))


#: Units that mean "a fraction of one" (0.9746 of the planned amount): shown as a percentage.
RATIO_UNITS = frozenset({"比例", "比率", "ratio"})
#: Units written against the number, as Chinese typography does (97.5%, 36.6℃); every other
#: unit is separated from its number by a space (1250 人次, 24 小时).
_GLUED_UNITS = ("%", "％", "‰", "°", "℃")


def with_unit(x, unit: str | None) -> str:
    """A measured value or a target with its unit: a ratio as a percentage (0.9746 with unit
    比例 → "97.46%"), "%" against the number (97.5%), any other unit after a space
    (1250 人次)."""
    d = snap(x) if isinstance(x, float) else Decimal(x)
    unit = (unit or "").strip()
    if unit in RATIO_UNITS:
        return f"{_fmt(d * 100)}%"
    if not unit:
        return _fmt(d)
    if unit.startswith(_GLUED_UNITS):
        return f"{_fmt(d)}{unit}"
    return f"{_fmt(d)} {unit}"


def _number(x, unit: str | None) -> str:
    """The number of :func:`with_unit` without its unit, for a formula (97.46, 24)."""
    d = snap(x) if isinstance(x, float) else Decimal(x)
    return _fmt(d * 100) if (unit or "").strip() in RATIO_UNITS else _fmt(d)


def _pct(rate: float) -> str:
    return f2(rate * 100.0)


def _join(items) -> Joined:
    return Joined(AND, items)


#: What a scorer's sheet says of a leaf it left empty, by the scheme's missing policy.
_SHEET_MISSING = {"zero": N_("{scorer} 缺失（按 0 分计）"),
                  "redistribute": N_("{scorer} 缺失（按不适用处理）"), "block": N_("{scorer} 缺失")}
#: What a leaf scored by sheets says when its part has no sheet at all.
_NO_SHEETS = {"zero": Text("。没有评分表，按 0 分计"), "redistribute": Text("。没有评分表，按不适用处理"),
              "block": Text("。没有评分表（缺失）")}
#: What a measured or survey leaf says when it has no input, by the missing policy.
_NO_INPUT = {
    ("data", "zero"): N_("{head}：缺失，没有测量数据（inputs.data），按 0 分计"),
    ("data", "redistribute"): N_("{head}：缺失，没有测量数据（inputs.data），按不适用处理，不计入"),
    ("data", "block"): N_("{head}：缺失，没有测量数据（inputs.data），结果不能定稿"),
    ("survey", "zero"): N_("{head}：缺失，没有有效问卷回答，按 0 分计"),
    ("survey", "redistribute"): N_("{head}：缺失，没有有效问卷回答，按不适用处理，不计入"),
    ("survey", "block"): N_("{head}：缺失，没有有效问卷回答，结果不能定稿"),
}


def _sheet_entry(su, j: int, notes: dict, missing: str) -> Text | str:
    """What one sheet gave a leaf: "E1 8.5 (扣分理由: 资料不全)", "E2 部分达成 (7)"."""
    st = su.states[j]
    if st == "s":
        points = fv(su.values[j])
        if "tier" in notes:
            if "reason" in notes:
                return Text("{scorer} {tier}（{points}；理由：{reason}）", scorer=su.scorer,
                            tier=notes["tier"], points=points, reason=notes["reason"])
            return Text("{scorer} {tier}（{points}）", scorer=su.scorer, tier=notes["tier"],
                        points=points)
        if "reason" in notes:
            return Text("{scorer} {points}（扣分理由：{reason}）", scorer=su.scorer,
                        points=points, reason=notes["reason"])
        return f"{su.scorer} {points}"
    if st == "n":
        if "na" in notes:
            return Text("{scorer} 不适用（理由：{reason}）", scorer=su.scorer, reason=notes["na"])
        return Text("{scorer} 不适用", scorer=su.scorer)
    return Text(_SHEET_MISSING[missing], scorer=su.scorer)


def _notes_by_leaf(part) -> list[dict]:
    """Per sheet of a part: leaf id → {kind: text} of its notes (reason, na, tier)."""
    out = []
    for su in part.sheets:
        found: dict = {}
        for lid, kind, t in su.notes:
            found.setdefault(lid, {})[kind] = t
        out.append(found)
    return out


def _leaf_sheets(node, lf, part, scheme, notes_of) -> Text:
    j = lf.local
    entries = []
    chosen = []
    none: dict = {}
    for su, notes in zip(part.sheets, notes_of, strict=True):
        entries.append(_sheet_entry(su, j, notes.get(lf.id, none), scheme.missing))
        if su.chosen:
            chosen.append(su)
    head = [Text("{id} {name}（满分 {points}，评分表）：{sheets}", id=node.id, name=node.name,
                 points=_fmt(node.points), sheets=Joined(SEMI, entries))]
    if lf.rule == "tiers":
        coefs = Joined(COMMA, (f"{n} {_fmt(c)}" for n, c in lf.params["tiers"].items()))
        head.append(Text("（档次系数：{coefficients}；得分 = 满分 × 系数）", coefficients=coefs))
    if not part.sheets:
        return joined(*head, _NO_SHEETS[scheme.missing])
    names = _join(s.scorer for s in chosen)
    if node.status == "na":
        return joined(*head, Text("。选用的评分表（{scorers}）中多数判定不适用，本指标不计入，适用满分减去 "
                                  "{points}", scorers=names,
                                  points=_fmt(node.points)))
    counted = "sm" if scheme.missing == "zero" else "s"
    used = [s for s in chosen if s.states[j] in counted]
    if not used:
        return joined(*head, Text("。选用的评分表都没有本指标的得分（缺失）"))
    vals = [s.values[j] for s in used]
    how = [Text("。按{combine}选用 {scorers}", combine=COMBINES[part.combine], scorers=names)]
    if len(used) < len(chosen):
        how.append(Text("，其中有得分的是 {scorers}", scorers=_join(s.scorer for s in used)))
    if len(vals) == 1:
        how.append(Text("，得分 {score}", score=f2(vals[0])))
    else:
        how.append(Text("，得分 = ({terms}) / {n} = {score}", terms=" + ".join(map(fv, vals)),
                        n=len(vals), score=f2(node.score)))
    return joined(*head, *how)


def _leaf_text(node, lf, part, scheme, notes_of) -> Text:
    if lf.rule in ("points", "tiers"):
        return _leaf_sheets(node, lf, part, scheme, notes_of)
    head = Text("{id} {name}（满分 {points}）", id=node.id, name=node.name,
                points=_fmt(node.points))
    mx = _fmt(node.points)
    if node.status == "na":
        if node.source:
            return Text("{head}：不适用，理由：{reason}；本指标不计入，适用满分减去 {points}",
                        head=head, reason=node.source, points=mx)
        return Text("{head}：不适用；本指标不计入，适用满分减去 {points}", head=head, points=mx)
    measured = lf.rule in ("ratio_ge", "ratio_le", "thresholds")
    if node.status == "missing" or node.score is None or node.value is None:
        return Text(_NO_INPUT["data" if measured else "survey", scheme.missing], head=head)
    unit = lf.params.get("unit", "")
    if measured:
        v = with_unit(node.value, unit)
        if node.source:
            actual = Text("{head}：实际值 {value}（来源：{source}）", head=head, value=v,
                          source=node.source)
        else:
            actual = Text("{head}：实际值 {value}", head=head, value=v)
        score = f2(node.score)
        if lf.rule == "ratio_ge":
            return Text("{actual}，目标 ≥ {target}，得分 = {max} × min({value} / {goal}, 1) = {score}",
                        actual=actual, target=with_unit(lf.params["target"], unit),
                        max=mx, value=_number(node.value, unit),
                        goal=_number(lf.params["target"], unit), score=score)
        if lf.rule == "ratio_le":
            t = with_unit(lf.params["target"], unit)
            if node.value <= 0:
                return Text("{actual}，目标 ≤ {target}，实际值为 0，得满分 {score}",
                            actual=actual, target=t, score=score)
            return Text("{actual}，目标 ≤ {target}（越低越好），得分 = {max} × min({goal} / {value}, 1) = "
                        "{score}", actual=actual, target=t, max=mx,
                        goal=_number(lf.params["target"], unit),
                        value=_number(node.value, unit), score=score)
        bands = Joined(SEMI, (Text("≥ {lower} 得 {points}", lower=with_unit(lo, unit),
                                   points=_fmt(p)) for lo, p in lf.params["bands"]))
        for lo, _p in lf.params["bands"]:
            if node.value >= float(lo):
                return Text("{actual}，分档（{bands}），落在 ≥ {lower} 一档，得分 {score}",
                            actual=actual, bands=bands, lower=with_unit(lo, unit), score=score)
        return Text("{actual}，分档（{bands}），低于最低一档，得分 0.00", actual=actual,
                    bands=bands)
    qs = _join(lf.params["questions"])
    if lf.rule == "survey_mean":
        return Text("{head}：题目 {questions} 共 {n} 个有效回答，平均分值 {mean}，得分 = {max} × {mean} / "
                    "100 = {score}", head=head, questions=qs, n=node.n,
                    mean=f2(node.value), max=mx, score=f2(node.score))
    return Text("{head}：题目 {questions} 的 {n} 个有效回答中 {hits} 个为{satisfied}，满意率 {rate}%，目标 "
                "{target}%，得分 = {max} × min({rate} / {target}, 1) = {score}",
                head=head, questions=qs, n=node.n, hits=node.hits,
                satisfied=Joined(OR, lf.params["satisfied"]), rate=_pct(node.value),
                target=_fmt(lf.params["target"]), max=mx, score=f2(node.score))


def _inner_text(node, nd, result, scheme) -> Text:
    kids = [result.nodes[scheme.nodes[c].id] for c in nd.children]
    head = Text("{id} {name}（满分 {points}）", id=node.id, name=node.name,
                points=_fmt(node.points))
    if node.status == "na":
        return Text("{head}：下属指标全部不适用，不计入", head=head)
    terms = [f"{k.id} {f2(k.score)}" for k in kids if k.score is not None]
    na = [k.id for k in kids if k.status == "na"]
    miss = [k.id for k in kids if k.score is None and k.status != "na"]
    pieces = [head, f" = {' + '.join(terms) if terms else '0'} = {f2(node.score or 0.0)}"]
    if na:
        pieces.append(Text("；不适用：{ids}", ids=_join(na)))
    if miss:
        pieces.append(Text("；缺失：{ids}", ids=_join(miss)))
    if node.applicable != float(node.points):
        pieces.append(Text("；适用满分 {points}", points=fv(node.applicable)))
    return joined(*pieces)


def _part_text(ps, part, result, scheme) -> Text:
    root = result.nodes[scheme.nodes[part.root].id]
    head = Text("{name}（{party}，权重 {weight}）：{tree}", name=ps.name,
                party=PARTIES[ps.party], weight=ps.weight,
                tree=_inner_text(root, scheme.nodes[part.root], result, scheme))
    sheets = ""
    if ps.sheets:
        totals = Joined(COMMA, (f"{s.scorer} {f2(s.total)}" if s.total is not None else
                               Text("{scorer} 无", scorer=s.scorer) for s in ps.sheets))
        sheets = Text("；评分表总分（各自按适用指标折算）：{totals}；合并方式：{combine}，选用 {scorers}，"
                      "每个指标取选用评分表的平均", totals=totals,
                      combine=COMBINES[ps.combine],
                      scorers=_join(s.scorer for s in ps.sheets if s.chosen))
    if ps.score is None:
        return joined(head, Text("；没有可计分的指标，无法评分"), sheets)
    if root.status == "scored":
        return joined(head, Text("；分项得分 {score}（满分 100）", score=f2(ps.score)), sheets)
    return joined(head, Text("；适用指标满分 {applicable}，分项得分 = {score} / {applicable} × 100 = {part}",
                             applicable=fv(root.applicable), score=f2(root.score),
                             part=f2(ps.score)), sheets)


def _total_text(result) -> Text:
    scored = [p for p in result.parts if p.score is not None]
    terms = " + ".join(f"{p.weight} × {f4(p.score)}" for p in scored)
    exact = format(snap(result.exact_total), "f")
    if len(scored) < len(result.parts):
        wsum = sum(p.weight for p in scored)
        return Text("总分 = ({terms}) / {weights}（只按可计分部分的权重折算）= {exact}，"
                    "按未舍入的分项得分计算，四舍五入到两位小数（只舍入一次）= {total}", terms=terms,
                    weights=wsum, exact=exact, total=result.total)
    return Text("总分 = {terms} = {exact}，按未舍入的分项得分计算，四舍五入到两位小数（只舍入一次）= {total}",
                terms=terms, exact=exact, total=result.total)


def _survey_text(q) -> Text:
    pieces = [Text("问卷 {responses} 份，有效作答 {answered} 份", responses=q.responses,
                   answered=q.answered)]
    if q.sample_needed is not None:
        if q.population:
            pieces.append(Text("；所需样本量 {n} 份（服务对象 {population} 人，有限总体校正）",
                               n=q.sample_needed, population=q.population))
        else:
            pieces.append(Text("；所需样本量 {n} 份（服务对象总数未知，按无限总体）",
                               n=q.sample_needed))
    for r in q.rates:
        if r.respondents == r.n:
            n = f"n = {r.n}"
        else:
            n = Text("{n} 个回答来自 {respondents} 位受访者，按受访者计算", n=r.n,
                     respondents=r.respondents)
        if r.rate in (0.0, 1.0):  # z·√(p(1−p)/n) is 0 here: the Wilson interval's half-width
            template = (N_("；{leaf} 满意率 {rate}% 的误差范围 ±{margin}%（95% 置信度，{n}，"
                           "满意率为 0 或 100% 时取 Wilson 区间的半宽，含有限总体校正）")
                        if r.finite_population else
                        N_("；{leaf} 满意率 {rate}% 的误差范围 ±{margin}%（95% 置信度，{n}，"
                           "满意率为 0 或 100% 时取 Wilson 区间的半宽）"))
        else:
            template = (N_("；{leaf} 满意率 {rate}% 的误差范围 ±{margin}%（95% 置信度，{n}，含有限总体校正）")
                        if r.finite_population else
                        N_("；{leaf} 满意率 {rate}% 的误差范围 ±{margin}%（95% 置信度，{n}）"))
        pieces.append(Text(template, leaf=r.leaf, rate=_pct(r.rate), margin=_pct(r.margin), n=n))
    return joined(*pieces)


def _panel_text(pq) -> Text:
    if pq.kendall_w is None and pq.icc is None:
        return Text("部分“{part}”：{note}", part=pq.part, note=pq.note)
    pieces = [Text("部分“{part}”的 {sheets} 张评分表在 {leaves} 个指标上的一致性（按得分率）",
                   part=pq.part, sheets=pq.sheets, leaves=pq.leaves)]
    if pq.kendall_w is not None:
        w = pq.kendall_w
        pieces.append(Text("：Kendall's W = {w:.3f}（χ² = {chi2:.2f}，自由度 {df}，p = {p}）",
                           w=w.statistic, chi2=w.chi2, df=w.df,
                           p=_f3(w.pvalue, 4)))
    if pq.icc is not None:
        c = pq.icc
        pieces.append(Text("；ICC2k（双向随机，绝对一致，{sheets} 人平均）= {icc:.3f}（95% 区间 {low} ~ "
                           "{high}）", sheets=pq.sheets, icc=c.statistic,
                           low=_f3(c.ci_low), high=_f3(c.ci_high)))
    if pq.note:
        pieces.append(joined(SEMI, pq.note))
    return joined(*pieces)


def render_trace(result, scheme) -> tuple:
    from .engine import TraceLine

    lines = []
    nodes = result.nodes
    parts = {p.id: p for p in result.parts}
    notes = {p.id: _notes_by_leaf(p) for p in result.parts}
    for nd in scheme.nodes:
        if nd.leaf >= 0:
            lf = scheme.leaves[nd.leaf]
            node = nodes[nd.id]
            lines.append(TraceLine(nd.id, _leaf_text(node, lf, parts[node.part], scheme,
                                                     notes[node.part])))
    for nd in reversed(scheme.nodes):
        if nd.leaf < 0 and nd.parent >= 0:
            lines.append(TraceLine(nd.id, _inner_text(nodes[nd.id], nd, result, scheme)))
    for p in scheme.parts:
        lines.append(TraceLine(p.id, _part_text(parts[p.id], p, result, scheme)))
    if result.total is None:
        lines.append(TraceLine("total", Text("没有任何部分可以计分，没有总分")))
    else:
        lines.append(TraceLine("total", _total_text(result)))
        grades = scheme.grades
        k = next(k for k, (_, lo) in enumerate(grades) if result.total >= lo)
        name, lo = grades[k]
        if not result.final_ready:  # a total on what is present: its band, not yet a grade
            grade = Text("评分未齐全：按现有评分的总分 {total} 暂落在“{grade}”档，等级待评分齐全后评定",
                         total=result.total, grade=name)
        elif k > 0:
            grade = Text("总分 {total} ≥ {lower} 且 < {upper}，等级 {grade}", total=result.total,
                         lower=_fmt(lo), upper=_fmt(grades[k - 1][1]), grade=name)
        else:
            grade = Text("总分 {total} ≥ {lower}，等级 {grade}", total=result.total,
                         lower=_fmt(lo), grade=name)
        lines.append(TraceLine("grade", grade))
    if result.payment is not None:
        lines.append(TraceLine("payment", result.payment.basis))
    q = result.quality
    if q.responses or scheme.questions:
        lines.append(TraceLine("quality.survey", _survey_text(q)))
        if q.alpha is not None:
            a = q.alpha
            lines.append(TraceLine("quality.alpha", Text(
                "问卷信度 Cronbach's α = {alpha:.3f} (95% 区间 {low} ~ {high}), {k} 道题, {n} 份完整作答, "
                "去掉有未答题的 {dropped} 份", alpha=a.statistic, low=_f3(a.ci_low),
                high=_f3(a.ci_high), k=a.k, n=a.n, dropped=a.n_dropped)))
        elif q.alpha_note:
            lines.append(TraceLine("quality.alpha", q.alpha_note))
    for pq in q.panels:
        lines.append(TraceLine(f"quality.panel.{pq.part}", _panel_text(pq)))
    for w in result.warnings:
        lines.append(TraceLine("warning", w))
    return tuple(lines)


def _f3(x, places: int = 3) -> str:
    return "—" if x is None else f"{x:.{places}f}"


def _stat(obj) -> dict | None:
    if obj is None:
        return None
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def result_dict(result, scheme) -> dict:
    """Plain JSON data: Decimals as strings, scores as 4-decimal strings."""
    from .engine import ENGINE

    def s4(x):
        return None if x is None else f4(x)

    nodes = {}
    for nid, n in result.nodes.items():
        d = {"name": n.name, "part": n.part, "rule": n.rule, "points": _fmt(n.points),
             "score": s4(n.score), "applicable": fv(n.applicable), "status": n.status}
        if n.rule is not None and n.rule not in ("points", "tiers"):
            d["value"] = n.value
            if n.n is not None:
                d["n"] = n.n
            if n.hits is not None:
                d["hits"] = n.hits
            if n.source is not None:
                d["source"] = n.source
        nodes[nid] = d
    parts = []
    for p in result.parts:
        parts.append({
            "id": p.id, "name": p.name, "party": p.party, "weight": str(p.weight),
            "combine": p.combine, "score": s4(p.score), "weighted": s4(p.weighted),
            "applicable": fv(p.applicable),
            "sheets": [{"scorer": s.scorer, "total": s4(s.total), "chosen": s.chosen}
                       for s in p.sheets],
        })
    q = result.quality
    quality = {
        "responses": q.responses, "answered": q.answered, "population": q.population,
        "sample_needed": q.sample_needed, "margin": q.margin,
        "rates": [r._asdict() for r in q.rates],
        "alpha": _stat(q.alpha), "alpha_note": q.alpha_note,
        "panels": [{"part": pq.part, "sheets": pq.sheets, "leaves": pq.leaves,
                    "kendall_w": _stat(pq.kendall_w), "icc": _stat(pq.icc), "note": pq.note}
                   for pq in q.panels],
    }
    pay = None
    if result.payment is not None:
        pm = result.payment
        pay = {"total": str(pm.total), "amount": str(pm.amount), "ratio": str(pm.ratio),
               "payable": str(pm.payable), "deduction": str(pm.deduction), "basis": pm.basis}
    return {
        "engine": ENGINE,
        "scheme_digest": result.scheme_digest,
        "total": None if result.total is None else str(result.total),
        "exact_total": None if result.exact_total is None
        else format(snap(result.exact_total), "f"),
        "grade": result.grade,
        "final_ready": result.final_ready,
        "missing": [m._asdict() for m in result.missing],
        "parts": parts,
        "nodes": nodes,
        "quality": quality,
        "warnings": list(result.warnings),
        "payment": pay,
        "trace": [{"ref": t.ref, "text": t.text} for t in result.trace],
    }
