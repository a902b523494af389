"""Built-in questionnaire templates (问卷模板) for the demo services.

Each matches the survey leaves of the built-in indicator scheme of the same service area:
the question ids are the placeholders the scheme's survey rules name (Q1, Q2, …), so
:func:`surveys.questionnaire.map_to_leaves` maps them to the evaluation's leaves. Any other
scheme gets :func:`from_scheme`: one scale question per placeholder of its survey leaves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from surveys.i18n import N_, LazyText
from surveys.questionnaire import SCALES, SurveyLeaf, _opt, map_to_leaves


def _q(qid: str, kind: str, zh: str, en: str, *, required: bool = True, hint_zh: str = "",
       hint_en: str = "", options: list | None = None, scale: str | None = None) -> dict:
    q: dict = {"id": qid, "type": kind, "label": {"zh-CN": zh, "en": en},
               "hint": {"zh-CN": hint_zh, "en": hint_en}, "required": required}
    if scale:
        q["options"] = copy.deepcopy(SCALES[scale])
        q["list"] = scale
        q["leaf"] = ""
    elif options is not None:
        q["options"] = options
        q["list"] = f"{qid.lower()}_options"
    return q


def elderly_care() -> dict:
    """居家养老上门服务: three scale questions for the scheme's 服务对象满意度 (Q1–Q3)."""
    return {
        "title": {"zh-CN": "居家养老上门服务满意度调查", "en": "Home care for older people: "
                  "satisfaction survey"},
        "intro": {"zh-CN": "您好！为了解政府购买的居家养老上门服务做得怎么样，请您根据最近三个月"
                           "接受服务的实际感受回答。大约需要 3 分钟。",
                  "en": "Hello! To learn how well the home care service bought by the government "
                        "works, please answer from your experience of the last three months. "
                        "It takes about 3 minutes."},
        "questions": [
            _q("Q1", "scale", "您对上门服务人员的服务态度满意吗？",
               "How satisfied are you with the attitude of the care workers who visit you?",
               scale="scale5"),
            _q("Q2", "scale", "您对助餐、助洁、助浴等服务的质量满意吗？",
               "How satisfied are you with the quality of meals, cleaning, bathing and other help?",
               scale="scale5", hint_zh="只评价您接受过的服务；没有接受过可选“不了解/不适用”。",
               hint_en="Rate only what you received; otherwise choose “Don't know / not "
                       "applicable”."),
            _q("Q3", "scale", "总的来说，您对居家养老上门服务满意吗？",
               "Overall, how satisfied are you with the home care service?", scale="scale5"),
            _q("Q4", "yes_no", "服务人员是否按约定的时间上门？",
               "Do the care workers come at the agreed time?"),
            _q("Q5", "single", "您接受最多的是哪项服务？", "Which service do you receive most?",
               options=[_opt("meals", "助餐", "Meals"), _opt("cleaning", "助洁", "Cleaning"),
                        _opt("bathing", "助浴", "Bathing"),
                        _opt("medical", "助医", "Help with medical visits"),
                        _opt("other", "其他", "Other")]),
            _q("Q6", "multiple", "您希望增加哪些服务？（可多选）",
               "Which services would you like to have more of? (choose any)", required=False,
               options=[_opt("more_hours", "增加上门时长", "Longer visits"),
                        _opt("night", "夜间紧急呼叫", "Emergency calls at night"),
                        _opt("rehab", "康复护理", "Rehabilitation"),
                        _opt("company", "陪伴聊天", "Company and conversation"),
                        _opt("repairs", "家电维修", "Small repairs")]),
            _q("Q7", "rating", "您有多大可能向其他老人推荐这项服务？（0 表示完全不会，10 表示一定会）",
               "How likely are you to recommend this service to other older people? (0 = not at "
               "all, 10 = certainly)"),
            _q("Q8", "text", "您对服务还有什么意见或建议？", "Any other comments or suggestions?",
               required=False),
        ],
    }


def street_cleaning() -> dict:
    """市容环卫: Q1 for 服务对象满意度 (rate), Q2 and Q3 for 道路整洁程度评价 (mean)."""
    return {
        "title": {"zh-CN": "道路清扫保洁服务市民满意度调查",
                  "en": "Street cleaning: residents' satisfaction survey"},
        "intro": {"zh-CN": "您好！请根据您最近一个月在本区域道路上的实际感受回答，帮助我们评价"
                           "政府购买的道路清扫保洁服务。大约需要 2 分钟。",
                  "en": "Hello! Please answer from what you saw on the streets of this area in "
                        "the last month, to help us evaluate the street cleaning the government "
                        "buys. It takes about 2 minutes."},
        "questions": [
            _q("Q1", "scale", "总的来说，您对本区域的道路清扫保洁服务满意吗？",
               "Overall, how satisfied are you with street cleaning in this area?", scale="scale4"),
            _q("Q2", "scale", "您对道路路面的整洁程度满意吗？",
               "How satisfied are you with how clean the road surfaces are?", scale="scale4"),
            _q("Q3", "scale", "您对垃圾收集点（垃圾桶）周边的卫生状况满意吗？",
               "How satisfied are you with the cleanliness around rubbish bins and collection "
               "points?", scale="scale4"),
            _q("Q4", "yes_no", "最近一个月，您是否见过垃圾满溢、没有及时清运的情况？",
               "In the last month, have you seen overflowing rubbish that was not collected in "
               "time?"),
            _q("Q5", "single", "您通常在什么时段经过这些道路？", "When do you usually pass these streets?",
               options=[_opt("morning", "早上（6–9 点）", "Morning (6–9)"),
                        _opt("day", "白天（9–17 点）", "Daytime (9–17)"),
                        _opt("evening", "傍晚和夜间", "Evening and night")]),
            _q("Q6", "multiple", "您认为最需要改进的是哪些方面？（可多选）",
               "What most needs to improve? (choose any)", required=False,
               options=[_opt("frequency", "清扫频次", "How often streets are swept"),
                        _opt("bins", "垃圾桶清运", "Emptying of bins"),
                        _opt("dust", "扬尘和洒水", "Dust and watering"),
                        _opt("toilets", "公厕卫生", "Public toilets"),
                        _opt("attitude", "作业人员态度", "Workers' attitude")]),
            _q("Q7", "text", "您还有什么意见或建议？", "Any other comments or suggestions?",
               required=False),
        ],
    }


def from_scheme(leaves: list[SurveyLeaf]) -> dict:
    """A starting questionnaire for any scheme: one five-level scale question per placeholder
    question of each survey leaf (or one per leaf), worded after the leaf."""
    doc = {"title": {"zh-CN": "服务对象满意度调查", "en": "Service recipients' satisfaction survey"},
           "intro": {"zh-CN": "", "en": ""}, "questions": []}
    used: set[str] = set()
    for leaf in leaves:
        asked = [qid for qid in leaf.placeholders or (f"Q{len(used) + 1}",) if qid not in used]
        for n, qid in enumerate(asked, start=1):
            used.add(qid)
            zh, en = _asked_about(leaf.name)
            if len(asked) > 1:  # one indicator asked in several questions: never twice the same
                zh, en = f"{zh}（第 {n} 方面）", f"{en} (aspect {n})"
            q = _q(qid, "scale", zh, en, scale="scale5")
            q["leaf"] = leaf.id
            doc["questions"].append(q)
    return doc


def _asked_about(name: str) -> tuple[str, str]:
    """The question a resident reads for an indicator: an indicator that is itself the
    satisfaction (服务对象满意度) asks about the service, not about "satisfaction"."""
    if "满意" in name:
        return "总体而言，您对这项服务满意吗？", "Overall, how satisfied are you with this service?"
    return f"您对“{name}”满意吗？", f"How satisfied are you with “{name}”?"


@dataclass(frozen=True)
class Template:
    key: str
    name: LazyText
    service_area: str  # the scheme's service area it suits (居家养老, 市容环卫)
    build: Callable[[], dict]


TEMPLATES = {
    "elderly_care": Template("elderly_care", N_("Home care for older people (居家养老)"),
                             "居家养老", elderly_care),
    "street_cleaning": Template("street_cleaning", N_("Street cleaning (市容环卫)"), "市容环卫",
                                street_cleaning),
}
FROM_SCHEME = "from_scheme"


def suggested(service_area: str) -> str:
    """The template key that suits a scheme's service area (else one built from the scheme)."""
    return next((t.key for t in TEMPLATES.values() if t.service_area == service_area), FROM_SCHEME)


def build(key: str, leaves: list[SurveyLeaf]) -> dict:
    """A questionnaire from a template, mapped to the scheme's survey leaves."""
    doc = TEMPLATES[key].build() if key in TEMPLATES else from_scheme(leaves)
    return map_to_leaves(doc, leaves)
