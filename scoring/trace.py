"""The trace (计分说明) and the plain-JSON form of a result.

Both are rendered from the result's own numbers and its scheme, on demand, so the single
and the batch paths (which produce equal results) also produce equal traces.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .money import round_score, snap
from .package import COMBINES, PARTIES, _fmt

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


def _join(items) -> str:
    return "、".join(items)


def _leaf_sheets(node, lf, part, scheme) -> str:
    j = lf.local
    parts = []
    chosen = []
    for su in part.sheets:
        st = su.states[j]
        notes = {kind: t for lid, kind, t in su.notes if lid == lf.id}
        why = f"; 理由: {notes['reason']}" if "reason" in notes else ""
        if st == "s":
            v = su.values[j]
            if "tier" in notes:
                txt = f"{su.scorer} {notes['tier']} ({fv(v)}{why})"
            else:
                txt = f"{su.scorer} {fv(v)}" + (f" (扣分理由: {notes['reason']})" if why else "")
        elif st == "n":
            txt = f"{su.scorer} 不适用" + (f" (理由: {notes['na']})" if "na" in notes else "")
        else:
            txt = f"{su.scorer} 缺失" + {"zero": " (按 0 分计)", "redistribute": " (按不适用处理)",
                                        "block": ""}[scheme.missing]
        parts.append(txt)
        if su.chosen:
            chosen.append(su)
    head = f"{node.id} {node.name} (满分 {_fmt(node.points)}, 评分表): {'; '.join(parts)}"
    if lf.rule == "tiers":
        coefs = ", ".join(f"{n} {_fmt(c)}" for n, c in lf.params["tiers"].items())
        head += f" [档次系数: {coefs}; 得分 = 满分 × 系数]"
    combine = COMBINES[part.combine]
    if not part.sheets:
        return head + "。没有评分表" + {"zero": ", 按 0 分计", "redistribute": ", 按不适用处理",
                                      "block": " (缺失)"}[scheme.missing]
    names = _join(s.scorer for s in chosen)
    if node.status == "na":
        return head + f"。选用的评分表 ({names}) 中多数判定不适用, 本指标不计入, 适用满分减去 " \
                      f"{_fmt(node.points)}"
    counted = "sm" if scheme.missing == "zero" else "s"
    used = [s for s in chosen if s.states[j] in counted]
    if not used:
        return head + "。选用的评分表都没有本指标的得分 (缺失)"
    vals = [s.values[j] for s in used]
    txt = head + f"。按{combine}选用 {names}"
    if len(used) < len(chosen):
        txt += f", 其中有得分的是 {_join(s.scorer for s in used)}"
    if len(vals) == 1:
        return txt + f", 得分 {f2(vals[0])}"
    return txt + f", 得分 = ({' + '.join(fv(v) for v in vals)}) / {len(vals)} = {f2(node.score)}"


def _leaf_text(node, lf, part, scheme) -> str:
    if lf.rule in ("points", "tiers"):
        return _leaf_sheets(node, lf, part, scheme)
    head = f"{node.id} {node.name} (满分 {_fmt(node.points)})"
    mx = _fmt(node.points)
    if node.status == "na":
        why = f", 理由: {node.source}" if node.source else ""
        return head + f": 不适用{why}; 本指标不计入, 适用满分减去 {mx}"
    if node.status == "missing" or node.score is None or node.value is None:
        src = "测量数据 (inputs.data)" if lf.rule in ("ratio_ge", "ratio_le", "thresholds") \
            else "有效问卷回答"
        how = {"zero": ", 按 0 分计", "redistribute": ", 按不适用处理, 不计入",
               "block": ", 结果不能定稿"}[scheme.missing]
        return head + f": 缺失, 没有{src}{how}"
    unit = lf.params.get("unit", "")
    if lf.rule in ("ratio_ge", "ratio_le", "thresholds"):
        src = f" (来源: {node.source})" if node.source else ""
        v = with_unit(node.value, unit)
        if lf.rule == "ratio_ge":
            t = with_unit(lf.params["target"], unit)
            return head + f": 实际值 {v}{src}, 目标 ≥ {t}, 得分 = {mx} × " \
                          f"min({_number(node.value, unit)} / {_number(lf.params['target'], unit)}" \
                          f", 1) = {f2(node.score)}"
        if lf.rule == "ratio_le":
            t = with_unit(lf.params["target"], unit)
            if node.value <= 0:
                return head + f": 实际值 {v}{src}, 目标 ≤ {t}, 实际值为 0, 得满分 " \
                              f"{f2(node.score)}"
            return head + f": 实际值 {v}{src}, 目标 ≤ {t} (越低越好), 得分 = {mx} × " \
                          f"min({_number(lf.params['target'], unit)} / " \
                          f"{_number(node.value, unit)}, 1) = {f2(node.score)}"
        bands = "; ".join(f"≥ {with_unit(lo, unit)} 得 {_fmt(p)}" for lo, p in lf.params["bands"])
        for lo, _p in lf.params["bands"]:
            if node.value >= float(lo):
                return head + f": 实际值 {v}{src}, 分档 [{bands}], 落在 ≥ {with_unit(lo, unit)} " \
                              f"一档, 得分 {f2(node.score)}"
        return head + f": 实际值 {v}{src}, 分档 [{bands}], 低于最低一档, 得分 0.00"
    qs = _join(lf.params["questions"])
    if lf.rule == "survey_mean":
        return head + f": 题目 {qs} 共 {node.n} 个有效回答, 平均分值 {f2(node.value)}, 得分 = " \
                      f"{mx} × {f2(node.value)} / 100 = {f2(node.score)}"
    sat = "或".join(lf.params["satisfied"])
    t = _fmt(lf.params["target"])
    return head + f": 题目 {qs} 的 {node.n} 个有效回答中 {node.hits} 个为{sat}, 满意率 " \
                  f"{_pct(node.value)}%, 目标 {t}%, 得分 = {mx} × min({_pct(node.value)} / {t}, " \
                  f"1) = {f2(node.score)}"


def _inner_text(node, nd, result, scheme) -> str:
    kids = [result.nodes[scheme.nodes[c].id] for c in nd.children]
    head = f"{node.id} {node.name} (满分 {_fmt(node.points)})"
    if node.status == "na":
        return head + ": 下属指标全部不适用, 不计入"
    terms = [f"{k.id} {f2(k.score)}" for k in kids if k.score is not None]
    na = [k.id for k in kids if k.status == "na"]
    miss = [k.id for k in kids if k.score is None and k.status != "na"]
    txt = head + f" = {' + '.join(terms) if terms else '0'} = {f2(node.score or 0.0)}"
    if na:
        txt += f"; 不适用: {_join(na)}"
    if miss:
        txt += f"; 缺失: {_join(miss)}"
    if node.applicable != float(node.points):
        txt += f"; 适用满分 {fv(node.applicable)}"
    return txt


def _part_text(ps, part, result, scheme) -> str:
    root = result.nodes[scheme.nodes[part.root].id]
    head = f"{ps.name} ({PARTIES[ps.party]}, 权重 {ps.weight}): " \
           f"{_inner_text(root, scheme.nodes[part.root], result, scheme)}"
    sheets = ""
    if ps.sheets:
        tl = ", ".join(f"{s.scorer} {f2(s.total) if s.total is not None else '无'}"
                       for s in ps.sheets)
        chosen = _join(s.scorer for s in ps.sheets if s.chosen)
        sheets = f"; 评分表总分 (各自按适用指标折算): {tl}; 合并方式: {COMBINES[ps.combine]}, " \
                 f"选用 {chosen}, 每个指标取选用评分表的平均"
    if ps.score is None:
        return head + "; 没有可计分的指标, 无法评分" + sheets
    if root.status == "scored":
        return head + f"; 分项得分 {f2(ps.score)} (满分 100){sheets}"
    return head + f"; 适用指标满分 {fv(root.applicable)}, 分项得分 = " \
                  f"{f2(root.score)} / {fv(root.applicable)} × 100 = {f2(ps.score)}{sheets}"


def render_trace(result, scheme) -> tuple:
    from .engine import TraceLine

    lines = []
    nodes = result.nodes
    parts = {p.id: p for p in result.parts}
    for nd in scheme.nodes:
        if nd.leaf >= 0:
            lf = scheme.leaves[nd.leaf]
            node = nodes[nd.id]
            lines.append(TraceLine(nd.id, _leaf_text(node, lf, parts[node.part], scheme)))
    for nd in reversed(scheme.nodes):
        if nd.leaf < 0 and nd.parent >= 0:
            lines.append(TraceLine(nd.id, _inner_text(nodes[nd.id], nd, result, scheme)))
    for p in scheme.parts:
        lines.append(TraceLine(p.id, _part_text(parts[p.id], p, result, scheme)))
    scored = [p for p in result.parts if p.score is not None]
    if result.total is None:
        lines.append(TraceLine("total", "没有任何部分可以计分, 没有总分"))
    else:
        terms = " + ".join(f"{p.weight} × {f4(p.score)}" for p in scored)
        exact = format(snap(result.exact_total), "f")
        if len(scored) < len(result.parts):
            wsum = sum(p.weight for p in scored)
            txt = f"总分 = ({terms}) / {wsum} (只按可计分部分的权重折算) = {exact}"
        else:
            txt = f"总分 = {terms} = {exact}"
        txt += f", 按未舍入的分项得分计算, 四舍五入到两位小数 (只舍入一次) = {result.total}"
        lines.append(TraceLine("total", txt))
        grades = scheme.grades
        k = next(k for k, (_, lo) in enumerate(grades) if result.total >= lo)
        name, lo = grades[k]
        upper = f" 且 < {_fmt(grades[k - 1][1])}" if k > 0 else ""
        lines.append(TraceLine("grade", f"总分 {result.total} ≥ {_fmt(lo)}{upper}, 等级 {name}"))
    if result.payment is not None:
        lines.append(TraceLine("payment", result.payment.basis))
    q = result.quality
    if q.responses or scheme.questions:
        txt = f"问卷 {q.responses} 份, 有效作答 {q.answered} 份"
        if q.sample_needed is not None:
            txt += f"; 所需样本量 {q.sample_needed} 份"
            txt += (f" (服务对象 {q.population} 人, 有限总体校正)" if q.population
                    else " (服务对象总数未知, 按无限总体)")
        for r in q.rates:
            fp = ", 含有限总体校正" if r.finite_population else ""
            n = f"n = {r.n}" if r.respondents == r.n else \
                f"{r.n} 个回答来自 {r.respondents} 位受访者, 按受访者计算"
            txt += f"; {r.leaf} 满意率 {_pct(r.rate)}% 的误差范围 ±{_pct(r.margin)}% " \
                   f"(95% 置信度, {n}{fp})"
        lines.append(TraceLine("quality.survey", txt))
        if q.alpha is not None:
            a = q.alpha
            lines.append(TraceLine(
                "quality.alpha",
                f"问卷信度 Cronbach's α = {a.statistic:.3f} (95% 区间 {_f3(a.ci_low)} ~ "
                f"{_f3(a.ci_high)}), {a.k} 道题, {a.n} 份完整作答, "
                f"去掉有未答题的 {a.n_dropped} 份"))
        elif q.alpha_note:
            lines.append(TraceLine("quality.alpha", q.alpha_note))
    for pq in q.panels:
        if pq.kendall_w is None and pq.icc is None:
            lines.append(TraceLine(f"quality.panel.{pq.part}", f"部分 \"{pq.part}\": {pq.note}"))
            continue
        txt = (f"部分 \"{pq.part}\" 的 {pq.sheets} 张评分表在 {pq.leaves} 个指标上的一致性 "
               f"(按得分率)")
        if pq.kendall_w is not None:
            w = pq.kendall_w
            txt += f": Kendall's W = {w.statistic:.3f} (χ² = {w.chi2:.2f}, 自由度 {w.df}, " \
                   f"p = {_f3(w.pvalue, 4)})"
        if pq.icc is not None:
            c = pq.icc
            txt += f"; ICC2k (双向随机, 绝对一致, {pq.sheets} 人平均) = {c.statistic:.3f} " \
                   f"(95% 区间 {_f3(c.ci_low)} ~ {_f3(c.ci_high)})"
        if pq.note:
            txt += f"; {pq.note}"
        lines.append(TraceLine(f"quality.panel.{pq.part}", txt))
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
