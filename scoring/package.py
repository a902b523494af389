"""The evaluation package (评价数据包): validation and compilation of schemes.

``validate_scheme`` checks a scheme (指标体系) alone, ``validate_package`` a whole package;
both raise :class:`PackageError` carrying the JSON path of the fault (``.path``) and a
message in Chinese that names the node. ``compile_scheme`` turns a valid scheme into the
flat arrays the engine works on; compiled schemes are cached by their canonical JSON.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .text import Text

__all__ = [
    "PackageError",
    "validate_scheme",
    "validate_package",
    "compile_scheme",
    "DEFAULT_GRADES",
    "RULES",
    "PARTIES",
    "COMBINES",
    "MISSING_POLICIES",
]

RULES = ("points", "tiers", "ratio_ge", "ratio_le", "thresholds", "survey_mean", "survey_rate")
SHEET_RULES = ("points", "tiers")
DATA_RULES = ("ratio_ge", "ratio_le", "thresholds")
SURVEY_RULES = ("survey_mean", "survey_rate")
PARTIES = {"purchaser": Text("购买主体"), "recipient": Text("服务对象"),
           "third_party": Text("第三方")}
COMBINES = {"mean": Text("平均"), "median": Text("中位数"),
            "trimmed_mean": Text("去掉最高和最低后平均")}
MISSING_POLICIES = ("block", "zero", "redistribute")
FRAME_DIMENSIONS = ("决策", "过程", "产出", "效益")
DEFAULT_GRADES = (("优", Decimal("90")), ("良", Decimal("80")), ("中", Decimal("60")),
                  ("差", Decimal("0")))

_DECIMAL_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")
_HUNDRED = Decimal(100)
_ONE = Decimal(1)


class PackageError(ValueError):
    """A fault in an evaluation package or scheme, with its JSON path (``.path``).

    ``str(error)`` is the message followed by the path, e.g.
    ``节点 "B2" 的子项分值合计 18 ≠ 20 ($.scheme.parts[0].tree.children[1])``.
    ``.index`` is the package's position when raised by ``evaluate_many``.
    """

    def __init__(self, message: str, path: str = "$", index: int | None = None):
        self.message = message
        self.path = path
        self.index = index
        super().__init__(f"{message} ({path})" if index is None
                         else f"第 {index + 1} 个数据包: {message} ({path})")

    def with_index(self, index: int) -> PackageError:
        return PackageError(self.message, self.path, index)


# ----------------------------------------------------------------------------- helpers


def _is_number(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _dec(value, path: str, what: str) -> Decimal:
    """A decimal from a string like "0.30" or a JSON number; finite."""
    if isinstance(value, bool) or value is None:
        raise PackageError(f"{what} 必须是数字或十进制字符串, 得到 {json.dumps(value)}", path)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PackageError(f"{what} 必须是有限的数字", path)
        return Decimal(repr(value))
    if isinstance(value, str):
        s = value.strip()
        if _DECIMAL_RE.match(s):
            try:
                return Decimal(s)
            except InvalidOperation:  # pragma: no cover - the regex guards this
                pass
        raise PackageError(f"{what} 必须是十进制数, 得到 {json.dumps(value, ensure_ascii=False)}",
                           path)
    raise PackageError(f"{what} 必须是数字或十进制字符串, 得到 {type(value).__name__}", path)


def _text(obj: dict, key: str, path: str, what: str, *, required: bool = True) -> str | None:
    v = obj.get(key)
    if v is None and not required:
        return None
    if not isinstance(v, str) or not v.strip():
        raise PackageError(f"{what} 必须是非空字符串", f"{path}.{key}")
    return v


def _obj(v, path: str, what: str) -> dict:
    if not isinstance(v, dict):
        raise PackageError(f"{what} 必须是 JSON 对象", path)
    return v


def _list(v, path: str, what: str, *, nonempty: bool = True) -> list:
    if not isinstance(v, list):
        raise PackageError(f"{what} 必须是 JSON 数组", path)
    if nonempty and not v:
        raise PackageError(f"{what} 不能为空", path)
    return v


def _fmt(d: Decimal) -> str:
    """A decimal written plainly (18, 0.7, 12.5)."""
    s = format(d.normalize(), "f")
    return s


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------------------- compiled


@dataclass(eq=False)
class Scale:
    """Options of a survey question and their scale values (None = no answer)."""

    options: tuple[str, ...]
    values: tuple[float | None, ...]
    codes: dict  # option → code (index into options) or -1 for "no answer"


@dataclass(eq=False)
class Leaf:
    index: int  # global leaf index
    node: int  # node index
    id: str
    name: str
    part: int
    rule: str
    max: float
    points: Decimal
    path: str
    params: dict = field(default_factory=dict)
    local: int = -1  # index among the part's sheet leaves / the data leaves / survey leaves


@dataclass(eq=False)
class Node:
    index: int
    id: str
    name: str
    part: int
    points: Decimal
    path: str
    parent: int
    children: list = field(default_factory=list)
    leaf: int = -1  # leaf index or -1 for an inner node
    leaves: list = field(default_factory=list)  # descendant leaf indices, DFS order
    dimension: str | None = None  # 决策/过程/产出/效益 for first-level nodes (national frame)


@dataclass(eq=False)
class Part:
    index: int
    id: str
    name: str
    party: str
    weight: Decimal
    weight_f: float
    combine: str
    root: int  # node index
    leaves: list  # global leaf indices, DFS order
    sheet_leaves: list  # global leaf indices of points/tiers leaves
    frame: dict | None
    path: str


@dataclass(eq=False)
class CompiledScheme:
    key: str
    digest: str
    name: str | None
    missing: str
    grades: tuple
    parts: list
    nodes: list
    leaves: list
    node_by_id: dict
    leaf_by_id: dict
    data_leaves: list
    survey_leaves: list
    questions: list
    question_scale: list  # Scale per question
    warnings: list


# ----------------------------------------------------------------------------- scheme


def _grades(scheme: dict) -> tuple:
    raw = scheme.get("grades")
    if raw is None:
        return DEFAULT_GRADES
    path = "$.scheme.grades"
    _list(raw, path, "等级表 grades")
    out = []
    names = set()
    for i, g in enumerate(raw):
        gp = f"{path}[{i}]"
        _obj(g, gp, "等级")
        name = _text(g, "name", gp, "等级名称")
        if name in names:
            raise PackageError(f"等级名称 \"{name}\" 重复", f"{gp}.name")
        names.add(name)
        lo = _dec(g.get("min"), f"{gp}.min", f"等级 \"{name}\" 的下限 min")
        if not 0 <= lo <= 100:
            raise PackageError(f"等级 \"{name}\" 的下限 {_fmt(lo)} 必须在 0 到 100 之间",
                               f"{gp}.min")
        if out and lo >= out[-1][1]:
            raise PackageError(f"等级须从高到低排列: \"{name}\" 的下限 {_fmt(lo)} 不低于上一级 "
                               f"\"{out[-1][0]}\" 的 {_fmt(out[-1][1])}", f"{gp}.min")
        out.append((name, lo))
    if out[-1][1] != 0:
        raise PackageError(f"最低一级 \"{out[-1][0]}\" 的下限必须是 0, 使任何总分都有等级",
                           f"{path}[{len(out) - 1}].min")
    return tuple(out)


def _scale(raw, path: str, scales: dict, leaf_id: str) -> tuple[Scale, str]:
    if isinstance(raw, str):
        if raw not in scales:
            raise PackageError(f"指标 \"{leaf_id}\" 引用的量表 \"{raw}\" 未在 scheme.scales 中定义",
                               path)
        return scales[raw], raw
    return _parse_scale(raw, path, f"指标 \"{leaf_id}\" 的量表"), canonical_json(raw)


def _parse_scale(raw, path: str, what: str) -> Scale:
    _obj(raw, path, what)
    if not raw:
        raise PackageError(f"{what}不能为空", path)
    options, values, codes = [], [], {}
    answered = 0
    for opt, v in raw.items():
        if not opt.strip():
            raise PackageError(f"{what}的选项名不能为空", path)
        if v is None:
            codes[opt] = -1
            options.append(opt)
            values.append(None)
            continue
        d = _dec(v, f"{path}.{opt}", f"{what}中选项 \"{opt}\" 的分值")
        if not 0 <= d <= 100:
            raise PackageError(f"{what}中选项 \"{opt}\" 的分值 {_fmt(d)} 必须在 0 到 100 之间",
                               f"{path}.{opt}")
        codes[opt] = len(options)
        options.append(opt)
        values.append(float(d))
        answered += 1
    if answered == 0:
        raise PackageError(f"{what}至少要有一个计分选项 (非 null)", path)
    return Scale(tuple(options), tuple(values), codes)


def _rule(rule, path: str, node_id: str, points: Decimal, ctx: dict) -> tuple[str, dict]:
    _obj(rule, path, f"指标 \"{node_id}\" 的计分规则 rule")
    kind = rule.get("type")
    if kind not in RULES:
        raise PackageError(f"指标 \"{node_id}\" 的计分规则 type 必须是 {', '.join(RULES)} 之一, "
                           f"得到 {json.dumps(kind, ensure_ascii=False)}", f"{path}.type")
    params: dict = {}
    if kind == "tiers":
        tiers = _list(rule.get("tiers"), f"{path}.tiers", f"指标 \"{node_id}\" 的档次 tiers")
        names: dict = {}
        for i, t in enumerate(tiers):
            tp = f"{path}.tiers[{i}]"
            _obj(t, tp, "档次")
            name = _text(t, "name", tp, f"指标 \"{node_id}\" 的档次名称")
            if name in names:
                raise PackageError(f"指标 \"{node_id}\" 的档次 \"{name}\" 重复", f"{tp}.name")
            c = _dec(t.get("coefficient"), f"{tp}.coefficient",
                     f"指标 \"{node_id}\" 档次 \"{name}\" 的系数")
            if not 0 <= c <= 1:
                raise PackageError(f"指标 \"{node_id}\" 档次 \"{name}\" 的系数 {_fmt(c)} "
                                   f"必须在 0 到 1 之间", f"{tp}.coefficient")
            names[name] = c
        params["tiers"] = names
    elif kind in ("ratio_ge", "ratio_le"):
        t = _dec(rule.get("target"), f"{path}.target", f"指标 \"{node_id}\" 的目标值 target")
        if t <= 0:
            raise PackageError(f"指标 \"{node_id}\" 的目标值 {_fmt(t)} 必须大于 0",
                               f"{path}.target")
        params["target"] = t
        if rule.get("unit") is not None:
            params["unit"] = _text(rule, "unit", path, "单位 unit")
    elif kind == "thresholds":
        bands = _list(rule.get("bands"), f"{path}.bands", f"指标 \"{node_id}\" 的分档 bands")
        out = []
        for i, b in enumerate(bands):
            bp = f"{path}.bands[{i}]"
            _obj(b, bp, "分档")
            lo = _dec(b.get("min"), f"{bp}.min", f"指标 \"{node_id}\" 分档的下限 min")
            pts = _dec(b.get("points"), f"{bp}.points", f"指标 \"{node_id}\" 分档的得分 points")
            if out and lo >= out[-1][0]:
                raise PackageError(f"指标 \"{node_id}\" 的分档须按下限从高到低排列", f"{bp}.min")
            if not 0 <= pts <= points:
                raise PackageError(f"指标 \"{node_id}\" 分档得分 {_fmt(pts)} 必须在 0 到满分 "
                                   f"{_fmt(points)} 之间", f"{bp}.points")
            out.append((lo, pts))
        params["bands"] = out
        if rule.get("unit") is not None:
            params["unit"] = _text(rule, "unit", path, "单位 unit")
    elif kind in SURVEY_RULES:
        qs = _list(rule.get("questions"), f"{path}.questions",
                   f"指标 \"{node_id}\" 对应的问卷题目 questions")
        seen = set()
        for i, q in enumerate(qs):
            if not isinstance(q, str) or not q.strip():
                raise PackageError("题目编号必须是非空字符串", f"{path}.questions[{i}]")
            if q in seen:
                raise PackageError(f"指标 \"{node_id}\" 的题目 \"{q}\" 重复",
                                   f"{path}.questions[{i}]")
            seen.add(q)
        if "scale" not in rule:
            raise PackageError(f"指标 \"{node_id}\" 缺少量表 scale (选项 → 分值, null 表示不计入)",
                               f"{path}.scale")
        scale, scale_key = _scale(rule["scale"], f"{path}.scale", ctx["scales"], node_id)
        for i, q in enumerate(qs):
            prev = ctx["question_scale"].get(q)
            if prev is not None and prev[1] != scale_key:
                raise PackageError(f"题目 \"{q}\" 在不同指标中使用了不同的量表",
                                   f"{path}.questions[{i}]")
            if prev is None:
                ctx["question_scale"][q] = (scale, scale_key)
        params["questions"] = list(qs)
        params["scale"] = scale
        if kind == "survey_rate":
            sat = _list(rule.get("satisfied"), f"{path}.satisfied",
                        f"指标 \"{node_id}\" 计为满意的选项 satisfied")
            for i, o in enumerate(sat):
                if o not in scale.codes or scale.codes[o] < 0:
                    raise PackageError(f"指标 \"{node_id}\" 的满意选项 "
                                       f"{json.dumps(o, ensure_ascii=False)} 不是量表中的计分选项",
                                       f"{path}.satisfied[{i}]")
            if len(set(sat)) != len(sat):
                raise PackageError(f"指标 \"{node_id}\" 的满意选项重复", f"{path}.satisfied")
            params["satisfied"] = [o for o in scale.options if o in set(sat)]
            t = _dec(rule.get("target"), f"{path}.target",
                     f"指标 \"{node_id}\" 的目标满意率 target (百分数)")
            if not 0 < t <= 100:
                raise PackageError(f"指标 \"{node_id}\" 的目标满意率 {_fmt(t)} 必须在 0 到 100 "
                                   "之间 (百分数, 如 \"90\")", f"{path}.target")
            params["target"] = t
    return kind, params


def _tree(node, path: str, part: int, parent: int, ctx: dict) -> int:
    _obj(node, path, "指标节点")
    nid = node.get("id")
    if parent < 0 and nid is None:
        nid = ctx["part_id"]
    if not isinstance(nid, str) or not nid.strip():
        raise PackageError("指标编号 id 必须是非空字符串", f"{path}.id")
    if nid in ctx["node_by_id"]:
        raise PackageError(f"指标编号 \"{nid}\" 重复", f"{path}.id")
    name = node.get("name", nid if parent < 0 else None)
    if not isinstance(name, str) or not name.strip():
        raise PackageError(f"指标 \"{nid}\" 的名称 name 必须是非空字符串", f"{path}.name")
    pts = _dec(node.get("points"), f"{path}.points", f"指标 \"{nid}\" 的分值 points")
    if pts <= 0:
        raise PackageError(f"指标 \"{nid}\" 的分值 {_fmt(pts)} 必须大于 0", f"{path}.points")
    nodes = ctx["nodes"]
    idx = len(nodes)
    n = Node(idx, nid, name, part, pts, path, parent)
    nodes.append(n)
    ctx["node_by_id"][nid] = idx
    children = node.get("children")
    rule = node.get("rule")
    if children is not None and rule is not None:
        raise PackageError(f"指标 \"{nid}\" 不能同时有子指标 children 和计分规则 rule", path)
    if children is not None:
        _list(children, f"{path}.children", f"指标 \"{nid}\" 的子指标 children")
        total = Decimal(0)
        for i, ch in enumerate(children):
            cidx = _tree(ch, f"{path}.children[{i}]", part, idx, ctx)
            n.children.append(cidx)
            n.leaves.extend(nodes[cidx].leaves)
            total += nodes[cidx].points
        if total != pts:
            raise PackageError(f"节点 \"{nid}\" 的子项分值合计 {_fmt(total)} ≠ {_fmt(pts)}", path)
    else:
        if rule is None:
            raise PackageError(f"指标 \"{nid}\" 既没有子指标 children 也没有计分规则 rule", path)
        kind, params = _rule(rule, f"{path}.rule", nid, pts, ctx)
        leaves = ctx["leaves"]
        leaf = Leaf(len(leaves), idx, nid, name, part, kind, float(pts), pts, path, params)
        leaves.append(leaf)
        n.leaf = leaf.index
        n.leaves.append(leaf.index)
    return idx


def _frame(part: dict, path: str, root: Node, nodes: list, pid: str, warnings: list):
    raw = part.get("frame")
    if raw is None:
        return None
    if raw == "national":
        raw = {"kind": "national"}
    _obj(raw, f"{path}.frame", "框架 frame")
    if raw.get("kind") != "national":
        raise PackageError("框架 frame.kind 目前只支持 \"national\" (决策/过程/产出/效益)",
                           f"{path}.frame.kind")
    reason = raw.get("reason")
    if reason is not None and (not isinstance(reason, str) or not reason.strip()):
        raise PackageError("框架例外理由 frame.reason 必须是非空字符串", f"{path}.frame.reason")
    dims: dict = {}
    for i, cidx in enumerate(root.children):
        ch = nodes[cidx]
        cp = f"{path}.tree.children[{i}]"
        # The dimension is the node's "dimension", else read from its name.
        dim = ch.dimension
        if dim is None:
            found = [d for d in FRAME_DIMENSIONS if d in ch.name]
            if len(found) != 1:
                raise PackageError(f"部分 \"{pid}\" 采用国家框架, 一级指标 \"{ch.id}\" 须标明 "
                                   f"dimension (决策/过程/产出/效益 之一)", cp)
            dim = found[0]
        dims[dim] = dims.get(dim, Decimal(0)) + ch.points
    share = dims.get("产出", Decimal(0)) + dims.get("效益", Decimal(0))
    if share < 60:
        if reason is None:
            raise PackageError(f"部分 \"{pid}\" 采用国家框架, 产出和效益合计 {_fmt(share)} 分, "
                               f"应不少于 60 分; 如有理由请写在 frame.reason", f"{path}.frame")
        warnings.append(Text("部分“{part}”的产出和效益合计 {share} 分，少于国家框架的 60 分，理由：{reason}",
                             part=pid, share=_fmt(share), reason=reason))
    return {"kind": "national", "reason": reason, "dimensions": dims, "share": share}


def _check_dimensions(tree: dict, path: str, root: Node, nodes: list):
    """Record an explicit ``dimension`` of each first-level node (national frame)."""
    for i, ch in enumerate(tree.get("children") or []):
        if isinstance(ch, dict) and "dimension" in ch:
            d = ch["dimension"]
            if d not in FRAME_DIMENSIONS:
                raise PackageError(f"一级指标 dimension 必须是 {'/'.join(FRAME_DIMENSIONS)} 之一",
                                   f"{path}.tree.children[{i}].dimension")
            nodes[root.children[i]].dimension = d


def _compile(scheme, key: str) -> CompiledScheme:
    path = "$.scheme"
    _obj(scheme, path, "指标体系 scheme")
    name = scheme.get("name")
    if name is not None and not isinstance(name, str):
        raise PackageError("名称 name 必须是字符串", f"{path}.name")
    missing = scheme.get("missing", "block")
    if missing not in MISSING_POLICIES:
        raise PackageError(f"缺失处理 missing 必须是 {', '.join(MISSING_POLICIES)} 之一",
                           f"{path}.missing")
    grades = _grades(scheme)
    scales: dict = {}
    raw_scales = scheme.get("scales")
    if raw_scales is not None:
        _obj(raw_scales, f"{path}.scales", "量表 scales")
        for sname, sc in raw_scales.items():
            scales[sname] = _parse_scale(sc, f"{path}.scales.{sname}", f"量表 \"{sname}\"")
    parts_raw = _list(scheme.get("parts"), f"{path}.parts", "评价主体部分 parts")
    ctx = {"nodes": [], "leaves": [], "node_by_id": {}, "scales": scales,
           "question_scale": {}, "part_id": None}
    # Scales referred to by name share one key so questions can be checked for consistency.
    parts: list[Part] = []
    warnings: list[str] = []
    part_ids: set = set()
    weight_sum = Decimal(0)
    for pi, p in enumerate(parts_raw):
        pp = f"{path}.parts[{pi}]"
        _obj(p, pp, "部分")
        pid = _text(p, "id", pp, "部分编号 id")
        if pid in part_ids:
            raise PackageError(f"部分编号 \"{pid}\" 重复", f"{pp}.id")
        part_ids.add(pid)
        pname = p.get("name", pid)
        if not isinstance(pname, str) or not pname.strip():
            raise PackageError(f"部分 \"{pid}\" 的名称 name 必须是非空字符串", f"{pp}.name")
        party = p.get("party")
        if party not in PARTIES:
            raise PackageError(f"部分 \"{pid}\" 的评价主体 party 必须是 "
                               f"{', '.join(PARTIES)} 之一", f"{pp}.party")
        w = _dec(p.get("weight"), f"{pp}.weight", f"部分 \"{pid}\" 的权重 weight")
        if not 0 < w <= 1:
            raise PackageError(f"部分 \"{pid}\" 的权重 {_fmt(w)} 必须大于 0 且不超过 1",
                               f"{pp}.weight")
        weight_sum += w
        combine = p.get("combine", "mean")
        if combine not in COMBINES:
            raise PackageError(f"部分 \"{pid}\" 的评分表合并方式 combine 必须是 "
                               f"{', '.join(COMBINES)} 之一", f"{pp}.combine")
        tree = p.get("tree")
        ctx["part_id"] = pid
        _obj(tree, f"{pp}.tree", f"部分 \"{pid}\" 的指标树 tree")
        root_idx = _tree(tree, f"{pp}.tree", pi, -1, ctx)
        root = ctx["nodes"][root_idx]
        if root.points != _HUNDRED:
            raise PackageError(f"部分 \"{pid}\" 的指标树 \"{root.id}\" 总分 "
                               f"{_fmt(root.points)} ≠ 100", f"{pp}.tree.points")
        if root.leaf >= 0:
            raise PackageError(f"部分 \"{pid}\" 的指标树至少要有一个子指标", f"{pp}.tree")
        _check_dimensions(tree, pp, root, ctx["nodes"])
        frame = _frame(p, pp, root, ctx["nodes"], pid, warnings)
        leaves = list(root.leaves)
        sheet_leaves = [i for i in leaves if ctx["leaves"][i].rule in SHEET_RULES]
        parts.append(Part(pi, pid, pname, party, w, float(w), combine, root_idx, leaves,
                          sheet_leaves, frame, pp))
    if weight_sum != _ONE:
        raise PackageError(f"各部分权重合计 {_fmt(weight_sum)} ≠ 1.00", f"{path}.parts")
    nodes: list[Node] = ctx["nodes"]
    leaves: list[Leaf] = ctx["leaves"]
    for p in parts:
        for j, li in enumerate(p.sheet_leaves):
            leaves[li].local = j
    data_leaves = [lf.index for lf in leaves if lf.rule in DATA_RULES]
    survey_leaves = [lf.index for lf in leaves if lf.rule in SURVEY_RULES]
    for j, li in enumerate(data_leaves):
        leaves[li].local = j
    for j, li in enumerate(survey_leaves):
        leaves[li].local = j
    questions = list(ctx["question_scale"])
    question_scale = [ctx["question_scale"][q][0] for q in questions]
    qindex = {q: i for i, q in enumerate(questions)}
    for li in survey_leaves:
        lf = leaves[li]
        lf.params["qidx"] = [qindex[q] for q in lf.params["questions"]]
    digest = hashlib.sha256(key.encode()).hexdigest()
    return CompiledScheme(key, digest, name, missing, grades, parts, nodes, leaves,
                          dict(ctx["node_by_id"]),
                          {lf.id: lf.index for lf in leaves}, data_leaves, survey_leaves,
                          questions, question_scale, warnings)


_CACHE: dict[str, CompiledScheme] = {}  # canonical JSON → compiled
_FAST: dict[bytes, CompiledScheme] = {}  # marshal bytes → compiled
_CACHE_MAX = 256


def _fast_key(scheme) -> bytes | None:
    """A quick content key: ``marshal`` is C-speed, tells ``true`` from 1 and 1 from 1.0, and
    decodes to the same content, so equal bytes mean an equal scheme. Key order and shared
    objects change the bytes, which only costs a cache miss."""
    try:
        return marshal.dumps(scheme)
    except ValueError:
        return None


def compile_scheme(scheme, key: str | None = None) -> CompiledScheme:
    """Validate and compile a scheme; cached by content.

    The digest of the result is that of the canonical JSON (sorted keys), whatever the
    order of the keys in the scheme given.
    """
    fast = _fast_key(scheme) if key is None else None
    if fast is not None:
        hit = _FAST.get(fast)
        if hit is not None:
            return hit
    if key is None:
        try:
            key = canonical_json(scheme)
        except (TypeError, ValueError) as exc:
            raise PackageError(f"指标体系不是合法的 JSON 数据: {exc}", "$.scheme") from None
    hit = _CACHE.get(key)
    if hit is None:
        hit = _compile(scheme, key)
        if len(_CACHE) >= _CACHE_MAX:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = hit
    if fast is not None:
        if len(_FAST) >= _CACHE_MAX:
            _FAST.pop(next(iter(_FAST)))
        _FAST[fast] = hit
    return hit


def validate_scheme(scheme) -> None:
    """Check a scheme (指标体系) alone; raise :class:`PackageError` on the first fault.

    Paths are given as in a package (``$.scheme.parts[0].tree.children[1]``).
    """
    compile_scheme(scheme)


def validate_package(package) -> None:
    """Check a whole evaluation package; raise :class:`PackageError` on the first fault."""
    from .engine import _parse_package

    _parse_package(package)

