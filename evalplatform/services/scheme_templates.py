"""Built-in scheme templates (指标体系模板) that finance staff and purchasers copy.

Two realistic frames: the national project-spending frame (决策 / 过程 / 产出 / 效益) for
home-based elderly care (居家养老), and a party-weighted frame (购买主体 0.40 / 服务对象 0.30 /
第三方 0.30) for street cleaning (市容环卫).
"""

from __future__ import annotations

import copy

from sqlmodel import Session, col, select

from evalplatform.models import IndicatorScheme
from evalplatform.services import schemes

TIERS = [{"name": "达成", "coefficient": "1.0"}, {"name": "部分达成", "coefficient": "0.7"},
         {"name": "未达成", "coefficient": "0.3"}]


def leaf(name: str, points: str, rule: dict, criteria: str) -> dict:
    return {"id": "", "name": name, "points": points, "rule": rule, "criteria": criteria}


def group(name: str, points: str, children: list, dimension: str | None = None) -> dict:
    node = {"id": "", "name": name, "points": points, "children": children}
    if dimension:
        node["dimension"] = dimension
    return node


def _document(name: str, parts: list[dict]) -> dict:
    doc = {"name": name, "grades": copy.deepcopy(schemes.DEFAULT_GRADES), "missing": "block",
           "scales": copy.deepcopy(schemes.DEFAULT_SCALES), "parts": parts}
    return schemes.normalise(doc)


def elderly_care() -> dict:
    """居家养老: one third-party part on the national frame, 满意度 under 效益."""
    tree = group("第三方评价", "100", [
        group("决策", "15", [
            group("项目立项", "6", [
                leaf("立项依据充分性", "3", {"type": "tiers", "tiers": TIERS},
                     "立项符合国家和本市养老服务政策、纳入政府购买服务指导性目录的，得满分；"
                     "依据不充分的按档扣分。"),
                leaf("立项程序规范性", "3", {"type": "tiers", "tiers": TIERS},
                     "按规定履行事前绩效评估、集体决策等程序的，得满分。"),
            ]),
            group("绩效目标", "5", [
                leaf("绩效目标合理性", "3", {"type": "points"},
                     "目标与服务内容、预算匹配，每发现一处不合理扣 1 分。"),
                leaf("绩效指标明确性", "2", {"type": "points"},
                     "目标细化为可衡量的数量、质量、时效、成本指标的，得满分。"),
            ]),
            group("资金投入", "4", [
                leaf("预算编制科学性", "4", {"type": "tiers", "tiers": TIERS},
                     "预算经过测算、标准明确，与服务人数和服务内容相符。"),
            ]),
        ], dimension="决策"),
        group("过程", "20", [
            group("资金管理", "10", [
                leaf("资金到位率", "4", {"type": "ratio_ge", "target": "1", "unit": "比例"},
                     "实际到位资金 ÷ 计划资金 × 100%，按比例得分。"),
                leaf("资金使用合规性", "6", {"type": "points"},
                     "专款专用、票据齐全；发现一处违规使用扣 2 分，扣完为止。"),
            ]),
            group("组织实施", "10", [
                leaf("管理制度健全性", "4", {"type": "tiers", "tiers": TIERS},
                     "服务规范、人员管理、安全管理、投诉处理等制度齐全并执行。"),
                leaf("台账资料完整性", "6", {"type": "tiers", "tiers": TIERS},
                     "服务记录、签到表、回访记录等台账完整、真实、可追溯。"),
            ]),
        ], dimension="过程"),
        group("产出", "35", [
            group("产出数量", "15", [
                leaf("服务人次完成率", "10", {"type": "ratio_ge", "target": "1", "unit": "比例"},
                     "实际服务人次 ÷ 合同约定人次，按比例得分。"),
                leaf("上门服务覆盖率", "5", {"type": "ratio_ge", "target": "0.95", "unit": "比例"},
                     "接受上门服务的签约老人占比，达到 95% 得满分。"),
            ]),
            group("产出质量", "12", [
                leaf("服务质量抽查合格率", "8",
                     {"type": "thresholds", "bands": [{"min": "0.95", "points": "8"},
                                                      {"min": "0.9", "points": "6"},
                                                      {"min": "0.8", "points": "4"},
                                                      {"min": "0", "points": "0"}],
                      "unit": "比例"},
                     "≥95% 得 8 分，≥90% 得 6 分，≥80% 得 4 分，低于 80% 不得分。"),
                leaf("服务人员持证上岗率", "4", {"type": "ratio_ge", "target": "1", "unit": "比例"},
                     "持养老护理员等相应证书上岗的人员占比。"),
            ]),
            group("产出时效", "8", [
                leaf("工单响应时长", "8", {"type": "ratio_le", "target": "24", "unit": "小时"},
                     "平均响应时长不超过 24 小时得满分，超过的按 目标 ÷ 实际 计分。"),
            ]),
        ], dimension="产出"),
        group("效益", "30", [
            group("社会效益", "10", [
                leaf("老年人生活质量改善", "10", {"type": "points"},
                     "根据回访与案例材料评定，酌情扣分并说明理由。"),
            ]),
            group("可持续影响", "5", [
                leaf("长效机制建设", "5", {"type": "tiers", "tiers": TIERS},
                     "形成可复制推广的服务模式与长效管理机制。"),
            ]),
            group("满意度", "15", [
                leaf("服务对象满意度", "15",
                     {"type": "survey_rate", "questions": ["Q1", "Q2", "Q3"],
                      "scale": schemes.DEFAULT_SCALE, "satisfied": ["满意", "较满意"],
                      "target": "90"},
                     "回答“满意”或“较满意”的比例达到 90% 得满分，不足的按比例得分。"),
            ]),
        ], dimension="效益"),
    ])
    part = {"id": "", "name": "第三方评价", "party": "third_party", "weight": "1.00",
            "combine": "trimmed_mean", "frame": {"kind": "national"}, "tree": tree}
    return _document("居家养老服务项目绩效评价指标体系（国家框架）", [part])


def street_cleaning() -> dict:
    """市容环卫: 购买主体 0.40 / 服务对象 0.30 / 第三方 0.30."""
    purchaser = group("购买主体评价", "100", [
        group("合同履约", "50", [
            leaf("道路保洁达标率", "20", {"type": "ratio_ge", "target": "0.95", "unit": "比例"},
                 "日常巡查达标路段 ÷ 巡查路段，达到 95% 得满分，不足的按比例得分。"),
            leaf("垃圾日产日清率", "15", {"type": "ratio_ge", "target": "1", "unit": "比例"},
                 "按日清运的垃圾收集点占比。"),
            leaf("作业人员到岗率", "15", {"type": "ratio_ge", "target": "0.98", "unit": "比例"},
                 "按合同配置人员的实际到岗率，达到 98% 得满分。"),
        ]),
        group("日常管理", "30", [
            leaf("台账资料", "10", {"type": "tiers", "tiers": TIERS},
                 "作业记录、巡查记录、整改记录齐全为达成；缺项为部分达成；无台账为未达成。"),
            leaf("安全生产", "10", {"type": "points"},
                 "发生一般安全事故扣 5 分，未按规定配备安全防护扣 2 分，扣完为止。"),
            leaf("机械化作业率", "10", {"type": "ratio_ge", "target": "0.8", "unit": "比例"},
                 "机扫、洒水作业面积占比，达到 80% 得满分。"),
        ]),
        group("投诉处理", "20", [
            leaf("投诉处理及时率", "12", {"type": "ratio_ge", "target": "1", "unit": "比例"},
                 "24 小时内处理并反馈的投诉占比。"),
            leaf("投诉处理平均时长", "8", {"type": "ratio_le", "target": "24", "unit": "小时"},
                 "平均处理时长不超过 24 小时得满分。"),
        ]),
    ])
    recipient = group("服务对象评价", "100", [
        leaf("服务对象满意度", "60",
             {"type": "survey_rate", "questions": ["Q1"], "scale": schemes.DEFAULT_SCALE,
              "satisfied": ["满意", "较满意"], "target": "90"},
             "回答“满意”或“较满意”的比例达到 90% 得满分，不足的按比例得分。"),
        leaf("道路整洁程度评价", "40",
             {"type": "survey_mean", "questions": ["Q2", "Q3"], "scale": schemes.DEFAULT_SCALE},
             "按问卷答案均值计分：满意 100、较满意 80、一般 60、不满意 0。"),
    ])
    third_party = group("第三方评价", "100", [
        group("作业质量", "60", [
            leaf("道路保洁质量抽查", "30",
                 {"type": "thresholds", "bands": [{"min": "95", "points": "30"},
                                                  {"min": "90", "points": "25"},
                                                  {"min": "80", "points": "18"},
                                                  {"min": "0", "points": "0"}],
                  "unit": "分"},
                 "随机抽查路段按《城市道路清扫保洁质量标准》打分，取平均分分档计分。"),
            leaf("公厕保洁质量", "15", {"type": "tiers", "tiers": TIERS},
                 "随机抽查公厕，清洁无异味为达成。"),
            leaf("垃圾收集点管理", "15", {"type": "points"},
                 "每发现一处满溢、散落扣 1 分，扣完为止。"),
        ]),
        group("管理规范", "40", [
            leaf("作业计划执行", "20", {"type": "tiers", "tiers": TIERS},
                 "按作业计划和频次作业，记录可查。"),
            leaf("应急保障能力", "20", {"type": "points"},
                 "有应急预案并演练、极端天气响应及时；缺一项扣 5 分。"),
        ]),
    ])
    parts = [
        {"id": "", "name": "购买主体评价", "party": "purchaser", "weight": "0.40",
         "combine": "mean", "tree": purchaser},
        {"id": "", "name": "服务对象评价", "party": "recipient", "weight": "0.30",
         "combine": "mean", "tree": recipient},
        {"id": "", "name": "第三方评价", "party": "third_party", "weight": "0.30",
         "combine": "trimmed_mean", "tree": third_party},
    ]
    return _document("市容环卫作业服务绩效评价指标体系（三方评价）", parts)


BUILT_IN = [
    (elderly_care, "居家养老", "依据财政支出项目绩效评价共性指标框架（决策、过程、产出、效益），"
                            "满意度列于效益之下；由第三方评价机构评分。"),
    (street_cleaning, "市容环卫", "购买主体、服务对象、第三方三方评价，权重 0.40 / 0.30 / 0.30。"),
]


def ensure_templates(session: Session) -> list[IndicatorScheme]:
    """Load the built-in templates that are not in the database yet (by name)."""
    created = []
    principal = schemes.SystemPrincipal()
    for build, area, description in BUILT_IN:
        document = build()
        exists = session.exec(select(IndicatorScheme).where(
            IndicatorScheme.name == document["name"],
            col(IndicatorScheme.is_template).is_(True))).first()
        if exists is None:
            created.append(schemes.create(session, principal, name=document["name"],
                                          service_area=area, description=description,
                                          document=document, is_template=True,
                                          require_valid=True))
    return created
