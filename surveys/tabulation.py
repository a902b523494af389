"""Tabulation (统计汇总): counts, rates, means, intervals, reliability, sample size.

Counting is done here; every statistic comes from the ``scoring`` package, the one place
the project computes them: ``scoring.mean_ci`` (t interval of a mean, clipped to the scale),
``scoring.proportion_ci`` (Wilson interval of a rate), for the rate and the mean pooled over
the scale questions ``scoring.pooled_rate_ci`` and ``scoring.pooled_mean_ci`` (the people
are the sample, not their answers), ``scoring.cronbach_alpha``,
``scoring.sample_size`` (±5 % at 95 %, finite population correction), and the margin of
error of each satisfaction rate from ``scoring.evaluate`` itself (a small package with one
``survey_rate`` leaf per scale question and one over all of them), so the margins shown
here are the ones the evaluation's result shows.

Definitions (as a finance officer checks them by hand):

* a scale answer counts when it is an option with a score; 不了解/不适用 and a blank do not;
* satisfaction rate = answers on a "satisfied" option ÷ counted answers (pooled over the
  scale questions for the survey's rate, as a ``survey_rate`` leaf pools its questions);
* mean = mean of the counted answers' scores (0–100), pooled likewise;
* response rate = invitation codes used ÷ codes issued (open links have no denominator);
* groups (breakdowns) and free-text answers are shown only with at least 5 responses.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import scoring
from surveys.i18n import N_, _
from surveys.models import Channel
from surveys.questionnaire import (
    answer_labels,
    is_scored,
    options,
    questions,
    scale_questions,
    text,
)

MIN_GROUP = 5
CHANNEL_LABELS = {Channel.closed: N_("Invitation code"), Channel.open: N_("Open link"),
                  Channel.paper: N_("Paper, entered by staff")}


@dataclass(frozen=True)
class Answered:
    """What tabulation needs of a stored response (no id, nothing else)."""

    channel: str
    site_id: int | None
    answered_on: object
    answers: dict


@dataclass
class Interval:
    estimate: float
    low: float
    high: float


@dataclass
class OptionCount:
    name: str
    label: str
    count: int
    share: float | None  # of the question's counted answers (of respondents for multiple)
    score: int | None = None
    satisfied: bool = False


@dataclass
class QuestionTable:
    id: str
    type: str
    label: str
    options: list[OptionCount]
    answered: int  # counted answers
    not_applicable: int  # 不了解/不适用 chosen
    blank: int  # respondents who left it
    mean: Interval | None = None  # scale scores 0–100, or ratings 0–10
    rate: Interval | None = None  # satisfied share (scale), yes share (yes/no)
    hits: int = 0
    margin: float | None = None  # of the satisfaction rate, from scoring.evaluate
    leaf: str = ""
    texts: list[str] | None = None  # free text, when shown
    texts_hidden: int = 0


@dataclass
class Group:
    name: str
    responses: int
    shown: bool
    rate: Interval | None = None
    mean: float | None = None


@dataclass
class Breakdown:
    title: str
    groups: list[Group]


@dataclass
class Tabulation:
    responses: int
    by_channel: dict[str, int]
    issued: int
    used: int
    response_rate: float | None
    population: int | None
    sample_needed: int
    answered: int  # respondents with at least one counted scale answer
    rate: Interval | None
    hits: int
    scale_answers: int
    margin: float | None
    mean: Interval | None
    alpha: scoring.AlphaResult | None
    alpha_note: str
    questions: list[QuestionTable]
    breakdowns: list[Breakdown]
    warnings: list[str] = field(default_factory=list)

    @property
    def short(self) -> bool:
        return self.answered < self.sample_needed


def _interval(result) -> Interval:
    return Interval(result.estimate, result.low, result.high)


#: The ends of the scales a mean is taken on: scale scores 0–100, ratings 0–10. The mean's
#: interval is clipped to them (with few answers a t interval reaches past both ends).
SCALE_BOUNDS = (0, 100)
RATING_BOUNDS = (0, 10)


def _mean(values: list[float], bounds: tuple[int, int]) -> Interval | None:
    if not values:
        return None
    if len(values) == 1:
        return Interval(float(values[0]), math.nan, math.nan)
    return _interval(scoring.mean_ci(values, bounds=bounds))


def _rate(hits: int, n: int) -> Interval | None:
    return _interval(scoring.proportion_ci(hits, n)) if n else None


def _scale_value(q: dict, name) -> tuple[int | None, bool, bool]:
    """(score, satisfied, known) of a scale answer."""
    for option in options(q):
        if option["name"] == name:
            return option.get("score"), bool(option.get("satisfied")), True
    return None, False, False


def margins(doc: dict, rows: list[Answered], population: int | None) -> dict[str, float]:
    """The margin of error of each scale question's satisfaction rate and of the pooled rate
    (key ``*``), computed by ``scoring.evaluate`` on a package that scores exactly those
    rates: each answer is coded satisfied (``s``) or not (``n``), 不了解 left out."""
    scale_qs = scale_questions(doc)
    if not scale_qs:
        return {}
    rule = {"type": "survey_rate", "scale": {"s": 100, "n": 0}, "satisfied": ["s"], "target": "100"}
    each = Decimal("0.01")
    leaves = [{"id": f"q{i}", "name": q["id"], "points": str(each),
               "rule": {**rule, "questions": [q["id"]]}} for i, q in enumerate(scale_qs)]
    leaves.append({"id": "all", "name": "*", "points": str(100 - each * len(scale_qs)),
                   "rule": {**rule, "questions": [q["id"] for q in scale_qs]}})
    coded = []
    for row in rows:
        item = {}
        for q in scale_qs:
            score, satisfied, known = _scale_value(q, row.answers.get(q["id"]))
            if known and score is not None:
                item[q["id"]] = "s" if satisfied else "n"
        coded.append(item)
    inputs: dict = {"responses": coded}
    if population:
        inputs["population"] = population
    package = {"scheme": {"name": "tabulation", "missing": "redistribute", "parts": [
        {"id": "R", "name": "R", "party": "recipient", "weight": "1.00",
         "tree": {"id": "R", "name": "R", "points": 100, "children": leaves}}]},
        "inputs": inputs}
    result = scoring.evaluate(package)
    names = {f"q{i}": q["id"] for i, q in enumerate(scale_qs)} | {"all": "*"}
    return {names[r.leaf]: r.margin for r in result.quality.rates}


def _question_table(q: dict, rows: list[Answered], language: str, show_text: bool) -> QuestionTable:
    kind = q["type"]
    values = [row.answers.get(q["id"]) for row in rows]
    table = QuestionTable(q["id"], kind, text(q.get("label"), language), [], 0, 0, 0,
                          leaf=q.get("leaf", ""))
    if kind == "text":
        given = sorted(str(v) for v in values if v)  # sorted: the list says nothing of order
        table.answered = len(given)
        table.blank = len(rows) - len(given)
        if show_text:
            table.texts = given
        else:
            table.texts_hidden = len(given)
        return table
    opts = options(q)
    names = {o["name"] for o in opts}
    counts = {o["name"]: 0 for o in opts}
    respondents = 0
    for value in values:
        chosen = value if isinstance(value, list) else ([] if value is None else [value])
        chosen = [str(v) for v in chosen if str(v) in names]
        if not chosen:
            table.blank += 1
            continue
        respondents += 1
        for name in chosen:
            counts[name] += 1
    if kind == "scale":
        scores, hits = [], 0
        for option in opts:
            if is_scored(option):
                scores += [option["score"]] * counts[option["name"]]
                hits += counts[option["name"]] if option.get("satisfied") else 0
            else:
                table.not_applicable += counts[option["name"]]
        table.answered = len(scores)
        table.hits = hits
        table.mean = _mean(scores, SCALE_BOUNDS)
        table.rate = _rate(hits, len(scores))
    elif kind == "rating":
        ratings = [int(o["name"]) for o in opts for _ in range(counts[o["name"]])]
        table.answered = len(ratings)
        table.mean = _mean(ratings, RATING_BOUNDS)
    else:
        table.answered = respondents
        if kind == "yes_no":
            table.hits = counts["yes"]
            table.rate = _rate(counts["yes"], respondents)
    base = respondents if kind == "multiple" else table.answered
    for option in opts:
        n = counts[option["name"]]
        counted = kind != "scale" or is_scored(option)
        table.options.append(OptionCount(
            option["name"], text(option["label"], language), n,
            (n / base if base and counted else None), option.get("score"),
            bool(option.get("satisfied"))))
    return table


@dataclass
class _Pooled:
    """The scale questions' counted answers pooled, and per respondent who gave one: the
    satisfied answers, the answers and the sum of their scores (the pooled intervals take
    people, not answers, as the sample: scoring.pooled_rate_ci / pooled_mean_ci)."""

    hits: int = 0
    n: int = 0
    scores: list = field(default_factory=list)
    person_hits: list = field(default_factory=list)
    person_answers: list = field(default_factory=list)
    person_totals: list = field(default_factory=list)

    @property
    def answered(self) -> int:
        return len(self.person_answers)

    def rate(self) -> Interval | None:
        if not self.n:
            return None
        return _interval(scoring.pooled_rate_ci(self.person_hits, self.person_answers))

    def mean(self) -> Interval | None:
        if self.answered < 2:  # one person: the estimate, no interval
            return Interval(sum(self.scores) / self.n, math.nan, math.nan) if self.n else None
        return _interval(scoring.pooled_mean_ci(self.person_totals, self.person_answers,
                                                bounds=SCALE_BOUNDS))


def _pooled(doc: dict, rows: Iterable[Answered]) -> _Pooled:
    """The counted answers of the scale questions, pooled and per respondent."""
    out = _Pooled()
    scale_qs = scale_questions(doc)
    for row in rows:
        hits = answers = total = 0
        for q in scale_qs:
            score, satisfied, known = _scale_value(q, row.answers.get(q["id"]))
            if known and score is not None:
                answers += 1
                hits += satisfied
                total += score
                out.scores.append(score)
        if answers:
            out.person_hits.append(hits)
            out.person_answers.append(answers)
            out.person_totals.append(total)
    out.hits, out.n = sum(out.person_hits), sum(out.person_answers)
    return out


def _alpha(doc: dict, rows: list[Answered]) -> tuple[scoring.AlphaResult | None, str]:
    scale_qs = scale_questions(doc)
    if len(scale_qs) < 2:
        return None, _("Reliability needs at least two scale questions.")
    matrix = []
    for row in rows:
        line = []
        for q in scale_qs:
            score, _satisfied, known = _scale_value(q, row.answers.get(q["id"]))
            line.append(float(score) if known and score is not None else math.nan)
        matrix.append(line)
    complete = sum(1 for line in matrix if not any(math.isnan(v) for v in line))
    needed = scoring.THRESHOLDS["min_alpha_rows"]
    if complete < needed:
        return None, _("Reliability needs at least %(needed)s respondents who answered every "
                       "scale question (now %(n)s).", needed=needed, n=complete)
    result = scoring.cronbach_alpha(matrix)
    if math.isnan(result.statistic):
        return None, _("The answers do not vary, so reliability cannot be computed.")
    return result, ""


def _group(name: str, doc: dict, rows: list[Answered]) -> Group:
    if len(rows) < MIN_GROUP:
        return Group(name, len(rows), False)
    pooled = _pooled(doc, rows)
    return Group(name, len(rows), True, pooled.rate(),
                 (sum(pooled.scores) / pooled.n) if pooled.n else None)


def tabulate(doc: dict, rows: list[Answered], *, issued: int = 0, used: int = 0,
             population: int | None = None, sites: dict[int, str] | None = None,
             language: str = "zh-CN") -> Tabulation:
    """Everything the survey's results page and the organiser's panel show."""
    rows = list(rows)
    sites = sites or {}
    by_channel = {c.value: 0 for c in Channel}
    for row in rows:
        by_channel[Channel(row.channel).value] += 1
    show_text = len(rows) >= MIN_GROUP
    tables = [_question_table(q, rows, language, show_text) for q in questions(doc)]
    found_margins = margins(doc, rows, population) if rows else {}
    for table in tables:
        if table.type == "scale":
            table.margin = found_margins.get(table.id)
    pooled = _pooled(doc, rows)
    answered = pooled.answered
    alpha, alpha_note = _alpha(doc, rows)
    needed = scoring.sample_size(population)
    breakdowns = [Breakdown(_("By channel"), [
        _group(str(CHANNEL_LABELS[c]), doc, [r for r in rows if r.channel == c.value])
        for c in Channel if by_channel[c.value]])]
    site_ids = sorted({r.site_id for r in rows if r.site_id is not None})
    if site_ids:
        breakdowns.append(Breakdown(_("By service site (open links)"), [
            _group(sites.get(s, str(s)), doc, [r for r in rows if r.site_id == s])
            for s in site_ids]))
    warnings = []
    if population is not None and len(rows) > population:
        # more answers than people served: the number stated is wrong (or the answers are
        # not all from people served); the margins are then computed without the correction
        warnings.append(_("%(n)s responses from %(population)s people served: check the number "
                          "of people served; the margins of error are not corrected for it.",
                          n=len(rows), population=population))
    elif answered < needed:
        warnings.append(_("The sample is still short: %(n)s respondents answered a scale "
                          "question; a ±5 %% margin at 95 %% needs %(needed)s.",
                          n=answered, needed=needed))
    if alpha is not None and alpha.statistic < scoring.THRESHOLDS["alpha"]:
        statistic = format(alpha.statistic, ".2f")
        warnings.append(_("Cronbach's alpha is %(alpha)s, below 0.7: the scale questions do "
                          "not measure one thing consistently.", alpha=statistic))
    return Tabulation(
        responses=len(rows), by_channel=by_channel, issued=issued, used=used,
        response_rate=(used / issued) if issued else None, population=population,
        sample_needed=needed, answered=answered, rate=pooled.rate(), hits=pooled.hits,
        scale_answers=pooled.n, margin=found_margins.get("*"), mean=pooled.mean(), alpha=alpha,
        alpha_note=alpha_note, questions=tables, breakdowns=breakdowns, warnings=warnings)


# ---------------------------------------------------------------- charts


def chart(table: QuestionTable) -> dict | None:
    """An ECharts option: the question's distribution as horizontal bars."""
    if table.type == "text" or not table.options:
        return None
    labels = [o.label for o in table.options]
    colours = ["#a4161a" if o.satisfied else ("#8c959f" if table.type == "scale" and o.score is None
                                              else "#0a58ca") for o in table.options]
    return {
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "item"},
        "xAxis": {"type": "value", "minInterval": 1},
        "yAxis": {"type": "category", "inverse": True, "data": labels},
        "series": [{"type": "bar", "name": table.label,
                    "data": [{"value": o.count, "itemStyle": {"color": c}}
                             for o, c in zip(table.options, colours, strict=True)],
                    "label": {"show": True, "position": "right"}}],
    }


def _one_decimal(fraction: float) -> Decimal:
    """A fraction in percent with one decimal, half-up (0.6665 → 66.7)."""
    return (Decimal(str(fraction)) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def rates_chart(tab: Tabulation) -> dict | None:
    """An ECharts option: the satisfaction rate of each scale question, in percent."""
    scale = [t for t in tab.questions if t.type == "scale" and t.rate is not None]
    if not scale:
        return None
    return {
        "grid": {"left": 8, "right": 24, "top": 8, "bottom": 8, "containLabel": True},
        "tooltip": {"trigger": "axis"},
        "xAxis": {"type": "value", "min": 0, "max": 100},
        "yAxis": {"type": "category", "inverse": True, "data": [t.id for t in scale]},
        # each bar labelled with one decimal, rounded half-up as the tables write the rate
        # (60.0%, not 60%)
        "series": [{"type": "bar", "data": [
                        {"value": float(_one_decimal(t.rate.estimate)),
                         "label": {"formatter": f"{_one_decimal(t.rate.estimate)}%"}}
                        for t in scale],
                    "itemStyle": {"color": "#a4161a"},
                    "label": {"show": True, "position": "right"}}],
    }


# ---------------------------------------------------------------- export


def export_table(doc: dict, rows: list[Answered], *, language: str = "zh-CN", codes: bool = False,
                 sites: dict[int, str] | None = None) -> tuple[list[str], list[list]]:
    """One row per response: day, channel, site, then each question (labels or codes).

    Free-text columns are left out while the survey has fewer than 5 responses. Residents are
    told that groups of fewer than 5 answers are never shown: a response whose day, channel
    and site are shared by fewer than 5 responses has its day and site written as "—", so
    that nobody who knows who used a counter's tablet that day, or typed that paper sheet,
    can pick its answers out.
    """
    sites = sites or {}
    shown = [q for q in questions(doc) if q["type"] != "text" or len(rows) >= MIN_GROUP]
    header = [_("Day"), _("Channel"), _("Service site")] + [
        q["id"] if codes else f"{q['id']} {text(q.get('label'), language)}" for q in shown]
    cells = Counter((str(r.answered_on), r.channel, r.site_id) for r in rows)
    body = []
    for row in rows:
        channel = Channel(row.channel)
        few = cells[(str(row.answered_on), row.channel, row.site_id)] < MIN_GROUP
        line = ["—" if few else str(row.answered_on),
                channel.value if codes else str(CHANNEL_LABELS[channel]),
                "—" if few and row.site_id is not None
                else sites.get(row.site_id, "") if row.site_id is not None else ""]
        for q in shown:
            line.append(answer_labels(q, row.answers.get(q["id"]), language, codes=codes))
        body.append(line)
    return header, body


#: What makes a spreadsheet read a cell as a formula (CSV injection): a respondent's text
#: starting so is written with a leading apostrophe, which Excel and WPS show as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: list[str], body: list[list]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the Chinese text correctly; no cell
    can start a formula."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_inert(v) for v in header])
    writer.writerows([_inert(v) for v in line] for line in body)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], body: list[list], title: str | None = None) -> bytes:
    """The table as a workbook of one sheet, named in the reader's language (答卷)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(title or _("Survey answers"))[:31]
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in body:
        sheet.append(line)
    for row in sheet.iter_rows():
        for cell in row:
            if cell.data_type == "f":  # a text starting with "=": openpyxl made it a formula
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
