"""The audit log names every detail of every entry in the reader's language: no payload key
shown as stored, no code (a status, a kind, a party, a rule, a direction, a template) shown
instead of its name, and a key that means different things in different actions (a result's
"missing" counts scores, a scheme's is its rule for them) named per action."""

import ast
import html
import json
import re
from pathlib import Path

from evalplatform import i18n
from evalplatform.services import audit
from evalplatform.services.audit import Actor
from tests.conftest import csrf_from

SHA = "ab" * 32
RULE_BANDS = [{"grade": "优", "min_score": "90", "ratio": "1.00"},
              {"grade": "差", "min_score": "0", "ratio": "0.00"}]

#: One entry of each action the code base records (``tests.test_audit._written_action_codes``),
#: its details shaped as the service that records it shapes them; a few actions more than once,
#: for the codes one of their details may hold.
REPRESENTATIVE = [
    ("organisation.create", "organisation",
     {"name": "临江市财政局", "kind": "finance_bureau", "credit_code": "113301990000010107"}),
    ("organisation.create", "organisation",
     {"name": "浙临正衡绩效评价咨询有限公司", "kind": "third_party_firm", "credit_code": None}),
    ("organisation.update", "organisation",
     {"before": {"name": "临江市城管局", "credit_code": None},
      "after": {"name": "临江市城市管理局", "credit_code": "113301990000020202"}}),
    ("user.create", "user",
     {"username": "renshe", "display_name": "陈静", "role": "purchaser", "organisation_id": 4}),
    ("user.update", "user",
     {"before": {"display_name": "陈晶", "organisation_id": 3, "organisation": "临江市民政局"},
      "after": {"display_name": "陈静", "organisation_id": 4, "organisation": "临江市城市管理局"}}),
    ("user.activate", "user", {"active": True}),
    ("user.deactivate", "user", {"active": False}),
    ("user.password", "user", {"after_reset": True}),
    ("user.password_reset", "user", {"generated": True, "must_change_password": True}),
    ("user.login", "user", {}),
    ("user.logout", "user", {}),
    ("contract.scheme", "contract", {"scheme": 8, "from": 2}),
    ("evaluation.create", "evaluation",
     {"contract": 9, "scheme": 8, "stage": "interim", "period": ["2025-02-10", "2025-08-09"]}),
    ("evaluation.draft", "evaluation", {"from": "collecting"}),
    ("evaluation.collecting", "evaluation", {"from": "draft"}),
    ("evaluation.scoring", "evaluation",
     {"from": "published", "reason": "第 3 号申诉：A2.1 重新评分", "result": 7, "version": 1,
      "appeal": 3, "leaves": ["A2.1", "B1.1"]}),
    ("evaluation.computed", "evaluation", {"from": "scoring", "result": 7, "version": 2}),
    ("evaluation.published", "evaluation",
     {"from": "computed", "result": 7, "appeal_deadline": "2026-12-11"}),
    ("evaluation.final", "evaluation",
     {"from": "published", "result": 7, "reason": "appeal window closed"}),
    ("holidays.load", "holiday_schedule", {"off": ["2027-01-01", "2027-02-11"],
                                           "worked": ["2027-02-06"]}),
    ("expert.create", "expert",
     {"name": "周建平", "employer": "浙江省市政工程设计院", "title": "高级工程师",
      "specialities": ["D02", "D03"], "user_id": None, "active": True, "note": ""}),
    ("expert.update", "expert",
     {"title": ["工程师", "高级工程师"], "specialities": [["D02"], ["D02", "D03"]],
      "user_id": [None, 18], "active": [True, False], "contact": "changed"}),
    ("expert.relationship", "expert",
     {"relationship": 2, "organisation": 3, "kind": "director_supervisor",
      "started_on": "2008-07-01", "ended_on": None}),
    ("scheme.create", "indicator_scheme", {"name": "市容环卫作业服务绩效评价指标体系",
                                           "template": True}),
    ("scheme.copy", "indicator_scheme", {"from": 2, "name": "公共厕所管理服务 · 指标体系"}),
    ("scheme.version", "indicator_scheme", {"from": 3, "name": "公共厕所管理服务 · 指标体系"}),
    ("scheme.freeze", "indicator_scheme", {}),
    ("scheme.check", "indicator_scheme", {"valid": True}),
    ("scheme.settings", "indicator_scheme",
     {"name": "道路清扫保洁指标体系", "missing": "redistribute",
      "grades": [{"name": "优", "min": "90"}, {"name": "差", "min": "0"}]}),
    ("scheme.settings", "indicator_scheme",
     {"name": "道路清扫保洁指标体系", "missing": "block", "grades": []}),
    ("scheme.part.add", "indicator_scheme", {"party": "recipient"}),
    ("scheme.part.update", "indicator_scheme", {"part": "B", "weight": "0.30",
                                                "party": "third_party"}),
    ("scheme.part.delete", "indicator_scheme", {"part": "B"}),
    ("scheme.node.add", "indicator_scheme", {"parent": "A1", "name": "作业质量", "points": "10"}),
    ("scheme.node.update", "indicator_scheme",
     {"node": "A1.1", "before": {"name": "作业质量", "points": "5"}, "name": "保洁质量",
      "points": "8"}),
    ("scheme.node.move", "indicator_scheme", {"node": "A1.2", "direction": "up"}),
    ("scheme.node.move", "indicator_scheme", {"node": "A1.2", "direction": "down"}),
    ("scheme.node.delete", "indicator_scheme", {"node": "A1.3", "name": "台账管理"}),
    ("scheme.node.rule", "indicator_scheme",
     {"node": "A1.1", "rule": {"type": "tiers", "tiers": [
         {"name": "达成", "coefficient": "1.0"}, {"name": "未达成", "coefficient": "0.3"}]}}),
    ("scheme.node.rule", "indicator_scheme",
     {"node": "A1.2", "rule": {"type": "thresholds", "unit": "%",
                               "bands": [{"min": "95", "points": "10"}, {"min": "0", "points": "0"}]}}),
    ("scheme.node.rule", "indicator_scheme",
     {"node": "A1.3", "rule": {"type": "ratio_le", "target": "48", "unit": "小时"}}),
    ("scheme.node.rule", "indicator_scheme",
     {"node": "C1.1", "rule": {"type": "survey_rate", "questions": ["Q1", "Q2"],
                               "scale": "满意度五级", "satisfied": ["满意", "较满意"],
                               "target": "90"}}),
    ("scheme.node.rule", "indicator_scheme", {"node": "A1.4", "rule": {"type": "points"}}),
    ("scheme.node.ahp", "indicator_scheme", {"node": "A1", "cr": 0.012, "points": ["6", "4"]}),
    ("scheme.node.weights", "indicator_scheme",
     {"node": "A1", "weighting": "combined", "share": "0.5", "cr": 0.01, "evaluations": [3, 4],
      "points": ["6", "4"]}),
    ("appeal.file", "appeal",
     {"evaluation": 1, "result": 7, "version": 1, "leaves": ["A2.1"], "evidence": [SHA],
      "deadline": "2026-12-11"}),
    ("appeal.open", "appeal", {"evaluation": 1, "result": 7, "decision": "待核实", "leaves": []}),
    ("appeal.upheld", "appeal",
     {"evaluation": 1, "result": 7, "decision": "经复核，原评分有据", "leaves": []}),
    ("appeal.reopened", "appeal",
     {"evaluation": 1, "result": 7, "decision": "佐证材料成立", "leaves": ["A2.1"]}),
    ("appeal.withdrawn", "appeal",
     {"evaluation": 1, "result": 7, "version": 1, "deadline": "2026-12-11"}),
    ("scoresheet.create", "scoresheet",
     {"evaluation": 5, "part": "A", "kind": "firm", "scorer": "F01"}),
    ("scoresheet.create", "scoresheet",
     {"evaluation": 5, "part": "A", "kind": "occasion", "scorer": "2026 年第二季度"}),
    ("scoresheet.create", "scoresheet", {"evaluation": 5, "part": "D", "kind": "data",
                                         "scorer": "数据"}),
    ("scoresheet.submit", "scoresheet",
     {"evaluation": 5, "part": "C", "scorer": "E01", "kind": "expert", "late": False,
      "scores": {"C1.1": {"tier": "部分达成", "reason": "台账缺少整改闭环记录"},
                 "C1.2": {"points": "8"}, "C1.3": {"na": "本期无此项服务"},
                 "C1.4": {"value": "0.96", "source": "作业台账"}}}),
    ("scoresheet.reopen", "scoresheet",
     {"evaluation": 5, "scorer": "E01", "reason": "分值录入有误", "requested": "请复核 C1.2",
      "scores_before": {"C1.2": {"points": "8"}}}),
    ("scoresheet.reopen_request", "scoresheet",
     {"evaluation": 5, "scorer": "E01", "reason": "请复核 C1.2"}),
    ("scoresheet.evidence", "scoresheet",
     {"file": 3, "leaf": "A2.1", "sha256": SHA, "filename": "台账.pdf"}),
    ("evaluation.report", "evaluation", {"file": 1, "sha256": SHA, "filename": "评价报告.pdf"}),
    ("evaluation.report_withdrawn", "evaluation",
     {"file": 1, "sha256": SHA, "filename": "评价报告.pdf", "reason": "误传了上一年度的报告"}),
    ("evaluation.report_filed", "evaluation",
     {"filed_on": "2026-12-20", "result_version": 2, "ex_ante_sha256": SHA}),
    ("evaluation.self_evaluation", "evaluation",
     {"summary": "完成 126 条道路日常清扫保洁", "claimed_total": "95",
      "file": {"sha256": SHA, "filename": "自评报告.pdf"}}),
    ("supplier.register", "organisation",
     {"name": "临江市安康养老服务有限公司", "credit_code": "91330199MA0002050D",
      "supplier_kind": "enterprise", "small_medium": True}),
    ("supplier.profile", "organisation", {"supplier_kind": "public_welfare_2",
                                          "small_medium": False}),
    ("contract.record", "contract",
     {"project_id": 12, "supplier": "临江市洁城环境服务有限公司", "amount_fen": 95_800_000,
      "signed_on": "2025-02-10", "term_months": 12, "stable_continuous": True,
      "payment_days": 30, "payment_rule": {"kind": "bands", "bands": RULE_BANDS},
      "instalments": [{"seq": 1, "amount_fen": 38_320_000, "percent": "40", "due": "on_signing",
                       "linked": False},
                      {"seq": 2, "amount_fen": 57_480_000, "percent": "60", "due": "after_final",
                       "linked": True}],
      "signed_copy": SHA}),
    ("contract.record", "contract",
     {"project_id": 13, "supplier": "临江市福康居家养老服务中心", "amount_fen": 1_000_000,
      "signed_on": "2025-03-01", "term_months": 6, "stable_continuous": False,
      "payment_days": 15, "payment_rule": {"kind": "linear", "floor_score": "60"},
      "instalments": [{"seq": 1, "amount_fen": 1_000_000, "percent": "100",
                       "due": "after_interim", "linked": True}],
      "signed_copy": None}),
    ("project.contracted", "project", {"status": "contracted", "contract_id": 9}),
    ("contract.publish", "contract", {"published_on": "2026-05-11"}),
    ("contract.signed_copy", "contract",
     {"sha256": SHA, "filename": "合同.pdf", "size": 2048, "replaces": "cd" * 32,
      "filed_on": "2025-02-12"}),
    ("result.compute", "evaluation_result",
     {"evaluation": 4, "version": 1, "total": "89.07", "grade": "良", "final_ready": False,
      "missing": 16, "scheme_digest": SHA, "reason": ""}),
    ("result.publish", "evaluation_result",
     {"evaluation": 4, "version": 1, "total": "89.07", "grade": "良",
      "appeal_deadline": "2026-12-11", "working_days": 5}),
    ("result.final", "evaluation_result",
     {"evaluation": 4, "version": 1, "appeal_deadline": "2026-12-11", "today": "2026-12-12"}),
    ("panel.draw", "evaluation",
     {"draw": 1, "round": 1, "size": 3, "alternates": 1, "specialities": ["D02"], "seed": SHA,
      "algorithm": "sha256-rank/1", "candidates": [{"id": 1, "specialities": ["D02"]}],
      "excluded": [{"id": 8, "reasons": [
          {"code": "relationship", "kind": "recent_work", "party": "supplier",
           "organisation": "临江市洁城环境服务有限公司", "ended_on": "2025-06-30"},
          {"code": "account", "party": "purchaser", "organisation": "临江市城市管理局"},
          {"code": "employer", "party": "purchaser", "organisation": "临江市城市管理局"}]}],
      "seats": [4, 7, 2], "alternate_ids": [5], "reason": ""}),
    ("panel.recuse", "evaluation",
     {"member": 12, "expert": 8, "position": 3, "reason": "曾为承接主体提供咨询",
      "seated_instead": 5}),
    ("panel.decline", "evaluation",
     {"member": 13, "expert": 9, "position": 2, "reason": "出差", "seated_instead": None}),
    ("panel.firm", "evaluation", {"firm": 10, "assignment": 1}),
    ("panel.firm_removed", "evaluation", {"firm": 10, "reason": "合同到期"}),
    ("survey.create", "survey", {"evaluation": 5, "template": "elderly_care", "questions": 7}),
    ("survey.create", "survey", {"evaluation": 6, "template": "street_cleaning", "questions": 8}),
    ("survey.create", "survey", {"evaluation": 7, "template": "from_scheme", "questions": 2}),
    ("survey.open", "survey",
     {"evaluation": 5, "questionnaire_version": 1, "questions": 7,
      "opens_at": "2026-11-25T16:00:00+00:00", "closes_at": "2026-12-26T15:59:59+00:00",
      "issued": 0, "used": 0}),
    ("survey.invitations", "survey", {"batch": 4, "label": "入户走访", "size": 140}),
    ("survey.site", "survey", {"site": 5, "name": "滨江路社区服务中心", "device_limit": 1}),
    ("survey.close", "survey",
     {"evaluation": 2, "reason": "organiser", "closed": 48, "open": 20, "paper": 12, "total": 80,
      "issued": 120, "used": 60}),
    ("survey.close", "survey",
     {"evaluation": 3, "reason": "schedule", "closed": 1, "open": 0, "paper": 0, "total": 1,
      "issued": 1, "used": 1}),
    ("survey.population", "survey", {"population": 1200}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "settings"}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "add", "type": "single"}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "add", "type": "yes_no"}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "question",
                                             "question": "Q3"}),
    ("survey.questionnaire.edit", "survey",
     {"version": 1, "action": "scale", "question": "Q3", "scale": "scale4"}),
    ("survey.questionnaire.edit", "survey",
     {"version": 1, "action": "move", "question": "Q3", "direction": "up"}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "delete",
                                             "question": "Q3"}),
    ("survey.questionnaire.edit", "survey", {"version": 1, "action": "import"}),
    ("survey.questionnaire.version", "survey", {"version": 2, "from": 1}),
    ("survey.questionnaire.publish", "survey", {"version": 2}),
    ("survey.site.active", "survey", {"site": 5}),
    ("survey.site.stop", "survey", {"site": 5}),
    ("catalogue.import", "catalogue",
     {"filename": "目录.xlsx", "created": 1, "updated": 1, "unchanged": 60,
      "created_codes": ["D0301"], "updated_codes": ["D0201"]}),
    ("settlement.propose", "settlement",
     {"contract": 9, "instalment": 2, "basis": "performance", "evaluation": 9, "result": 7,
      "total": "78.54", "grade": "中", "ratio": "0.80",
      "rule": {"bands": [{"min": "90", "ratio": "1.00"}, {"min": "0", "ratio": "0.00"}]},
      "instalment_fen": 57_480_000, "payable_fen": 45_984_000, "deduction_fen": 11_496_000,
      "note": "申请按合同结算", "again": False}),
    ("settlement.propose", "settlement",
     {"contract": 10, "instalment": 1, "basis": "fixed", "evaluation": None, "result": None,
      "total": None, "grade": None, "ratio": "1", "rule": {"linear": {"floor": "60", "full": "100"}},
      "instalment_fen": 1_000_000, "payable_fen": 1_000_000, "deduction_fen": 0, "note": "",
      "again": True}),
    ("settlement.approve", "settlement", {"payable_fen": 67_500_000, "version": 3}),
    ("settlement.return", "settlement", {"reason": "请补充验收材料"}),
    ("settlement.withdraw", "settlement",
     {"reason": "重新评价后结果变更", "approved_by": 3, "approved_at": "2026-05-01T02:00:00+00:00",
      "grade": "良", "instalment_fen": 1_000_000, "payable_fen": 950_000, "deduction_fen": 50_000}),
    ("settlement.pay", "settlement",
     {"voucher_no": "LJGK-2026-000005", "paid_on": "2026-04-29", "payable_fen": 47_000_000,
      "due_on": "2026-05-20", "late_days": 0, "interest_fen": 0}),
    ("contract.terms", "contract", {"interest_per_day": "0.05", "termination_threshold": "60"}),
    ("standing.settings", "standing_settings",
     {"bar_grade": "差", "bar_below": "60", "bar_years": 1, "warn_consecutive": 2,
      "default_threshold": "70", "preferred_grade": "优", "lookback_years": 3}),
    ("contract.termination_review", "contract",
     {"decision": "terminate", "reason": "连续两次低于门槛", "results": [7, 8]}),
    ("contract.termination_review", "contract",
     {"decision": "continue", "reason": "限期整改", "results": [9]}),
    ("complaint.record", "supplier_complaint",
     {"contract": 9, "received_on": "2025-08-14", "summary": "连续两日垃圾未清运", "supplier": 7}),
    ("project.register", "project",
     {"name": "2025年老城区道路清扫保洁", "department": "临江市城市管理局", "catalogue": "D0201",
      "year": 2025, "budget_fen": 98_000_000, "budget_line": "2025年政府购买服务预算",
      "method": "competitive_consultation", "status": "awaiting_approval",
      "negative_list_overrides": [{"override": 1, "entry": "购买主体的人员招聘", "term": "招聘"}]}),
    ("project.revise", "project",
     {"changes": {"budget_fen": {"from": 98_000_000, "to": 90_000_000},
                  "procurement_method": {"from": "public_tender", "to": "single_source"},
                  "catalogue_entry_id": {"from": 3, "to": 4},
                  "content": {"from": "道路清扫", "to": "道路清扫保洁"},
                  "recipients": {"from": "市民", "to": "老城区市民"},
                  "target_quality": {"from": "", "to": "机械化作业率不低于 80%"}},
      "status": "returned"}),
    ("project.ex_ante", "project", {"sha256": SHA, "filename": "事前评估.pdf", "size": 57}),
    ("project.approve", "project", {"status": "approved"}),
    ("project.return", "project", {"status": "returned", "reason": "预算依据不足"}),
    ("project.resubmit", "project", {"status": "awaiting_approval"}),
    ("catalogue.seed", "catalogue", {"entries": 65, "negative_list": 6}),
    ("catalogue.create", "catalogue_entry",
     {"before": None, "after": {"code": "D0301", "name": "公共厕所管理", "description": "",
                                "active": True}}),
    ("catalogue.update", "catalogue_entry",
     {"before": {"code": "D0301", "name": "公共厕所管理", "description": "", "active": True},
      "after": {"code": "D0301", "name": "公共厕所管理服务", "description": "含保洁",
                "active": False}}),
    ("catalogue.issue", "catalogue_issue", {"year": 2026, "issued_on": "2026-01-09"}),
    ("catalogue.publish", "catalogue_issue", {"published_on": "2026-01-21"}),
    ("negative_list.terms", "negative_list_entry",
     {"entry": "购买主体的人员招聘", "from": ["招聘"], "to": ["招聘", "派遣"]}),
    ("negative_list.override", "negative_list_override",
     {"entry": "购买主体的人员招聘", "department": "临江市民政局",
      "project_name": "养老护理员培训", "reason": "培训服务，不涉及招聘"}),
    ("acceptance.record", "acceptance",
     {"evaluation": 7, "accepted_on": "2026-01-20", "conclusion": "rejected", "participants": 62,
      "participation": "服务对象代表 8 人参加", "opinion": "部分路段保洁不到位", "survey_url": "",
      "corrected": False}),
    ("acceptance.reaccept", "acceptance",
     {"evaluation": 7, "accepted_on": "2026-02-20", "conclusion": "accepted", "participants": 40,
      "participation": "服务对象代表 6 人参加", "opinion": "整改到位", "survey_url": "/s",
      "corrected": False,
      "failed": {"accepted_on": "2026-01-20", "conclusion": "rejected",
                 "opinion": "部分路段保洁不到位"}}),
]

#: Details whose values are typed by people (a username may read like a code: "admin").
FREE_TEXT_KEYS = {"username", "display_name", "name", "label", "note", "reason", "summary",
                  "opinion", "decision", "scorer", "requested"}


def _codes() -> set[str]:
    """Every code a detail may hold: the values of the models' enumerations, and the codes of
    schemes, questionnaires, payment rules and avoidance reasons."""
    import enum

    import evalplatform.models as models
    import surveys.models
    from evalplatform.labels import (
        DIRECTION_LABELS,
        PAYMENT_RULE_KIND_LABELS,
        QUESTIONNAIRE_EDIT_LABELS,
        SURVEY_TEMPLATE_LABELS,
        WEIGHTING_LABELS,
    )
    from evalplatform.services import schemes
    from surveys import questionnaire, templates

    found = set()
    for module in (models, surveys.models):
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, enum.Enum) and value is not enum.Enum:
                found.update(str(member.value) for member in value)
    found.update(schemes.PARTIES, schemes.MISSING_POLICIES, schemes.RULE_TYPES, schemes.COMBINES,
                 questionnaire.TYPE_LABELS, questionnaire.SCALE_LABELS, templates.TEMPLATES,
                 SURVEY_TEMPLATE_LABELS, DIRECTION_LABELS, QUESTIONNAIRE_EDIT_LABELS,
                 PAYMENT_RULE_KIND_LABELS, WEIGHTING_LABELS,
                 {"relationship", "account", "employer", "changed"})
    return {code for code in found if re.fullmatch(r"[a-z][a-z0-9_]*", code)}


ROW = re.compile(r'<tr>.*?<code class="action-code">([^<]+)</code>.*?'
                 r'<dl class="change" title="([^"]*)">(.*?)</dl>', re.S)
PAIR = re.compile(r"<div>(?:<dt>(.*?)</dt>)?<dd>(.*?)</dd></div>", re.S)
RAW_NESTED_KEY = re.compile(r"(?:^|[（(；;、,]\s*)([a-z][a-z0-9_]*)\s*[：:]")
NESTED_LABEL = re.compile(r"(?:^|[;(,]\s*)([^;:(),]+?): ")
CJK = re.compile(r"[\u3400-\u9fff]")


def _rendered(client) -> list[tuple[str, dict, list[tuple[str, str]]]]:
    """Each entry of the log, oldest first: its action, its details as stored and as shown."""
    rows, page = [], 1
    while True:
        table = client.get("/audit", params={"sort": "seq", "page": page},
                           headers={"HX-Request": "true"}).text
        found = ROW.findall(table)
        for action, stored, shown in found:
            pairs = [(html.unescape(name), html.unescape(value))
                     for name, value in PAIR.findall(shown)]
            rows.append((action, json.loads(html.unescape(stored)), pairs))
        if len(found) < 50:
            return rows
        page += 1


def _leaves(value, key=""):
    """(key, text) of each text at any depth of a detail."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, k)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, key)
    elif isinstance(value, str):
        yield key, value


def _segments(text: str) -> set[str]:
    return {part.strip() for part in re.split(r"[、，,；;：:（）()→]", text)}


def _problems(rows, codes: set[str], english: bool) -> list[str]:
    problems = []
    for action, stored, pairs in rows:
        assert len(pairs) == len(stored), (action, stored, pairs)
        for (key, value), (name, text) in zip(stored.items(), pairs, strict=True):
            where = f"{action}: {key}"
            if re.fullmatch(r"[a-z][a-z0-9_]*", name):
                problems.append(f"{where}: the key {name!r} as stored")
            for raw in RAW_NESTED_KEY.findall(text):
                problems.append(f"{where}: the key {raw!r} as stored in {text!r}")
            shown = _segments(text)
            for inner_key, code in _leaves(value, key):
                if code in codes and inner_key not in FREE_TEXT_KEYS and code in shown:
                    problems.append(f"{where}: the code {code!r} in {text!r}")
            if english:
                for label in [name, *NESTED_LABEL.findall(text)]:
                    if CJK.search(label):
                        problems.append(f"{where}: the label {label!r} in Chinese")
    return problems


def _record_representative(db):
    for n, (action, entity_type, change) in enumerate(REPRESENTATIVE, start=1):
        audit.record(db, Actor(7, "张丽"), action, entity_type, n, change)
    db.commit()


def _in_english(client):
    token = csrf_from(client, "/")
    client.post("/language", data={"language": "en", "next": "/audit", "csrf_token": token})


def test_the_representative_entries_cover_every_action_the_code_base_records():
    from tests.test_audit import _written_action_codes

    codes, unknown = _written_action_codes()
    assert unknown == []
    assert sorted(codes - {action for action, _, _ in REPRESENTATIVE}) == []


def test_every_detail_of_every_action_is_named_and_every_code_shown_by_its_name(
        db, client, signed_in):
    _record_representative(db)
    signed_in("auditor")
    codes = _codes()
    chinese = _rendered(client)
    assert len(chinese) >= len(REPRESENTATIVE)  # and the sign-in's own entries
    assert _problems(chinese, codes, english=False) == []
    _in_english(client)
    english = _rendered(client)
    assert _problems(english, codes, english=True) == []


def test_the_codes_the_tester_found_are_shown_by_their_names(db, client, signed_in):
    """tier, na, leaves, appeal, evidence, action, direction, question, type and parent are
    named; move, up, single, elderly_care, firm, expert and bands are shown by their names; a
    result's count of missing scores is not called the scheme's rule for them (缺失处理)."""
    from evalplatform.services import schemes
    from surveys import questionnaire, templates

    _record_representative(db)
    signed_in("auditor")
    table = "".join(client.get("/audit", params={"sort": "seq", "page": page},
                               headers={"HX-Request": "true"}).text for page in (1, 2, 3, 4))
    with i18n.language("zh_CN"):
        def t(message):
            return html.escape(i18n.gettext(message), quote=False)

        assert f"<dt>{t('Scores still missing')}</dt><dd>16</dd>" in table
        assert f"<dt>{t('Missing scores')}</dt><dd>16</dd>" not in table
        assert "<dt>缺失处理</dt><dd>16</dd>" not in table
        assert (f"<dt>{t('Missing scores')}</dt>"
                f"<dd>{t(schemes.MISSING_LABELS['redistribute'].message)}</dd>") in table
        assert f"<dt>{t('Direction')}</dt><dd>{t('Move up')}</dd>" in table
        assert f"<dt>{t('Edit made')}</dt><dd>{t('Question moved')}</dd>" in table
        assert (f"<dt>{t('Question type')}</dt>"
                f"<dd>{t(questionnaire.TYPE_LABELS['single'].message)}</dd>") in table
        assert (f"<dt>{t('Template')}</dt>"
                f"<dd>{t(templates.TEMPLATES['elderly_care'].name.message)}</dd>") in table
        assert f"<dt>{t('Kind')}</dt><dd>{t('Third-party firm')}</dd>" in table
        assert f"<dt>{t('Kind')}</dt><dd>{t('Panel expert')}</dd>" in table
        assert f"{t('Kind')}：{t('Grade bands')}" in table and "：bands" not in table
        assert f"<dt>{t('Parent indicator')}</dt><dd>A1</dd>" in table
        assert f"<dt>{t('Disputed indicators')}</dt><dd>A2.1</dd>" in table
        assert f"<dt>{t('Indicators to reopen')}</dt><dd>A2.1、B1.1</dd>" in table
        assert f"<dt>{t('Appeal')}</dt><dd>3</dd>" in table
        assert f"<dt>{t('Evidence')}</dt><dd>{SHA}</dd>" in table
        assert f"<dt>{t('Question')}</dt><dd>Q3</dd>" in table
        assert f"{t('Tier')}：部分达成" in table and f"{t('Reason not applicable')}：本期无此项服务" \
            in table
        assert (f"{t('Kind of rule')}：{t(schemes.RULE_LABELS['tiers'].message)}") in table
        # a corrected field reads before → after, as the field is read
        assert "¥980,000.00 → ¥900,000.00" in table
        assert f"{t('Public tender')} → {t('Single source')}" in table
        # an avoided expert's reasons in sentences, not codes
        avoided = table.split(f"<dt>{t('Experts avoided')}</dt><dd>")[1].split("</dd>")[0]
        assert f"{t('Reasons for avoidance')}：" in avoided and "临江市洁城环境服务有限公司" in avoided
        for code in ("relationship", "recent_work", "account", "employer", "supplier", "purchaser"):
            assert code not in avoided, code


def test_the_demo_city_shows_no_key_or_code_as_stored_in_either_language(db, client, signed_in):
    from evalplatform.services import demo

    demo.load(db)
    signed_in("auditor")
    codes = _codes()
    chinese = _rendered(client)
    assert len(chinese) > 100
    assert _problems(chinese, codes, english=False) == []
    _in_english(client)
    assert _problems(_rendered(client), codes, english=True) == []


def test_every_label_of_a_detail_reads_in_english_without_chinese():
    from evalplatform.labels import (
        ACTION_CHANGE_FIELD_LABELS,
        CHANGE_FIELD_LABELS,
        ENTITY_CHANGE_FIELD_LABELS,
    )

    with i18n.language("en"):
        chinese = [str(label) for labels in (CHANGE_FIELD_LABELS, ENTITY_CHANGE_FIELD_LABELS,
                                             ACTION_CHANGE_FIELD_LABELS)
                   for label in labels.values() if CJK.search(str(label))]
    assert chinese == []


def _written_detail_keys() -> dict[str, set[str]]:
    """Every key of a details dict written out in the code base where an entry's details are
    made: ``audit.record``'s arguments, a scheme's ``_store`` and ``set_children_points``, the
    ``change`` an evaluation's move or reopening adds, a questionnaire edit's ``detail``."""
    calls = {"record", "_store", "set_children_points", "advance", "reopen", "edit", "_edit"}
    keys: dict[str, set[str]] = {}
    root = Path(__file__).resolve().parent.parent / "evalplatform"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name not in calls or (name == "_store" and path.name != "schemes.py") or (
                    name == "record" and getattr(getattr(func, "value", None), "id", "") != "audit"):
                continue
            args = [*node.args, *(k.value for k in node.keywords if k.arg in ("change", "detail"))]
            for arg in args:
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Dict):
                        for key in sub.keys:
                            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                                keys.setdefault(key.value, set()).add(f"{path.name}:{node.lineno}")
    return keys


def test_every_key_the_code_base_writes_into_an_entrys_details_has_a_name():
    from evalplatform.labels import (
        ACTION_CHANGE_FIELD_LABELS,
        CHANGE_FIELD_LABELS,
        ENTITY_CHANGE_FIELD_LABELS,
    )

    keys = _written_detail_keys()
    assert {"missing", "leaves", "direction", "parent", "evidence"} <= set(keys)
    named = set(CHANGE_FIELD_LABELS) | {key for _, key in ENTITY_CHANGE_FIELD_LABELS} \
        | {key for _, key in ACTION_CHANGE_FIELD_LABELS}
    assert {key: sorted(where) for key, where in keys.items() if key not in named} == {}


def test_what_the_platform_did_by_itself_is_signed_by_the_system_in_words(db, client, signed_in):
    """Entries of the system actor read 系统 (the stored name "system" stays, for the hash); an
    empty filtered list says there is nothing rather than "0–0 of 0"."""
    from evalplatform.services.audit import SYSTEM

    audit.record(db, SYSTEM, "evaluation.final", "evaluation", 7,
                 {"from": "published", "result": 7, "reason": "appeal window closed"})
    db.commit()
    signed_in("auditor")
    table = client.get("/audit", params={"action": "evaluation.final"},
                       headers={"HX-Request": "true"}).text
    actor = re.search(r'<td data-label="操作人">([^<]*)</td>', table)
    assert actor and actor.group(1) == "系统"
    empty = client.get("/audit", params={"actor": "no-such-person-anywhere"},
                       headers={"HX-Request": "true"}).text
    assert "暂无记录" in empty and "0–0" not in empty


def test_a_stored_moment_reads_in_china_time_and_a_ratio_as_a_percentage():
    """An auditor read 开始时间 2026-11-25T16:00:00+00:00 for a survey that opened on the 26th
    in China, and 支付比例 1 for 100 %."""
    from evalplatform.web.templating import _change_value

    with i18n.language("zh_CN"):
        assert _change_value("2026-11-25T16:00:00+00:00", "opens_at") == "2026-11-26 00:00"
        assert _change_value("2026-12-26T15:59:59Z", "closes_at") == "2026-12-26 23:59"
        assert _change_value("2026-11-25", "paid_on") == "2026-11-25"  # a date stays a date
        assert _change_value(1, "ratio") == "100%" and _change_value("0.95", "ratio") == "95%"
        assert _change_value("0.8735", "ratio") == "87.35%"
        assert _change_value("abc", "ratio") == "abc"  # not a number: as stored
    with i18n.language("en"):
        assert _change_value("0.95", "ratio") == "95 %"
