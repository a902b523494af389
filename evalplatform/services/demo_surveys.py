"""The demo city's satisfaction surveys (演示数据：满意度调查).

The demo's elderly-care (居家养老) evaluations and its street-cleaning (市容环卫) evaluation of
the city centre's roads get their questionnaire from the built-in template, invitation codes,
service sites with open links, and a few hundred answers spread over the schedule's window,
so that the results page shows real tabulation at once. The answers are drawn from a seeded
generator (the same demo every time): each respondent has an underlying satisfaction, so the
scale questions agree with each other as real answers do (Cronbach's alpha about 0.8).

The window of the demo's first monitoring round lies in the past, so the answers are loaded
as the historic record they stand for (their days inside the window), and a survey whose
window has ended is closed with its counts, as the platform does when it notices the end.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, col, select

from evalplatform.models import (
    Contract,
    Evaluation,
    EvaluationStatus,
    IndicatorScheme,
    Project,
    Questionnaire,
    Survey,
    SurveyResponse,
    User,
)
from evalplatform.services import audit, evaluations
from evalplatform.services import surveys_app as app_service
from evalplatform.services.audit import SYSTEM, Actor
from evalplatform.services.clock import as_utc, now
from surveys import invitations, templates
from surveys import questionnaire as qn
from surveys.models import Channel, Invitation, QuestionnaireStatus, SurveySite
from surveys.questionnaire import _opt


@dataclass(frozen=True)
class Plan:
    template: str
    responses: int
    population: int | None
    mood: float  # the mean underlying satisfaction (0 is neutral-to-satisfied)
    sites: tuple[str, ...]
    comments: tuple[str, ...]
    contracts: int = 1  # how many of the area's demo contracts get a survey


PLANS = {
    "居家养老": Plan("elderly_care", 240, 1200, 0.8, ("城东街道居家养老服务站", "城西社区日间照料中心"), (
        "护理员很耐心，每次都陪我聊天。", "助浴的时间能不能再长一点。", "希望周末也能上门。",
        "送餐有时候凉了。", "服务人员换得太勤，老人不习惯。", "非常感谢政府和服务中心的关心！",
        "上门时间比约定晚了半小时。", "打扫得很干净。", "希望增加陪同就医的次数。",
        "电话预约经常打不通。"), 2),
    "市容环卫": Plan("street_cleaning", 320, None, 0.6, ("人民广场服务亭", "滨江路社区服务中心"), (
        "早上扫地太早，声音有点大。", "垃圾桶周边经常有异味。", "主干道很干净，小巷子差一些。",
        "下雨天积水处的垃圾清得不及时。", "环卫工人辛苦了！", "洒水车能不能避开上学时间。",
        "夜市结束后的垃圾第二天早上才清。", "比去年干净多了。")),
}


@dataclass(frozen=True)
class Wording:
    """A demo project's own words on a template's questionnaire: its title (the one printed
    on the invitation slips), introduction, question labels and unscored options, and the
    comments its respondents write. Scored questions keep their ids, options and scores."""

    title: dict
    intro: dict
    labels: dict  # question id → (zh-CN, en)
    options: dict  # question id → options (unscored questions only)
    comments: tuple[str, ...]


#: The community meal service (社区老年助餐服务) shares the elderly-care scheme, and so the
#: elderly-care template, with the home care service; its survey speaks of meals.
WORDINGS = {
    "社区老年助餐服务": Wording(
        {"zh-CN": "社区老年助餐服务满意度调查",
         "en": "Community meals for older people: satisfaction survey"},
        {"zh-CN": "您好！为了解政府购买的社区老年助餐服务做得怎么样，请您根据最近三个月在助餐点"
                  "就餐或收到送餐的实际感受回答。大约需要 3 分钟。",
         "en": "Hello! To learn how well the community meal service bought by the government "
               "works, please answer from your experience of the last three months of meals at "
               "a meal point or delivered home. It takes about 3 minutes."},
        {"Q1": ("您对助餐点和送餐人员的服务态度满意吗？",
                "How satisfied are you with the attitude of the meal point and delivery staff?"),
         "Q2": ("您对饭菜的质量、口味和分量满意吗？",
                "How satisfied are you with the quality, taste and size of the meals?"),
         "Q3": ("总的来说，您对社区老年助餐服务满意吗？",
                "Overall, how satisfied are you with the community meal service?"),
         "Q4": ("午餐是否在 11:30 前送达或开餐？", "Is lunch delivered or served by 11:30?"),
         "Q5": ("您通常怎样用餐？", "How do you usually have your meals?"),
         "Q6": ("您希望助餐服务增加哪些内容？（可多选）",
                "What would you like the meal service to add? (choose any)"),
         "Q7": ("您有多大可能向其他老人推荐助餐服务？（0 表示完全不会，10 表示一定会）",
                "How likely are you to recommend the meal service to other older people? (0 = "
                "not at all, 10 = certainly)")},
        {"Q5": [_opt("dine_in", "到助餐点堂食", "At the meal point"),
                _opt("delivery", "送餐上门", "Delivered home"),
                _opt("pick_up", "到助餐点取餐带回", "Picked up at the meal point"),
                _opt("other", "其他", "Other")],
         "Q6": [_opt("supper", "增加晚餐", "Supper as well"),
                _opt("soft", "软食、低糖低盐餐", "Soft, low-sugar or low-salt meals"),
                _opt("weekend", "周末供餐", "Meals at weekends"),
                _opt("more_points", "增加助餐点", "More meal points")]},
        ("饭菜很合口味，价格也实惠。", "送餐有时候凉了。", "希望周末也能供餐。", "菜的分量可以再多一点。",
         "助餐点离家近，很方便。", "希望多做些软烂的菜。", "送餐比约定时间晚了。")),
}


def worded(document: dict, wording: Wording | None) -> dict:
    """The questionnaire in a demo project's own words (unchanged without a wording)."""
    if wording is None:
        return document
    document = {**document, "title": dict(wording.title), "intro": dict(wording.intro)}
    questions = []
    for q in qn.questions(document):
        q = dict(q)
        if q["id"] in wording.labels:
            zh, en = wording.labels[q["id"]]
            q["label"] = {"zh-CN": zh, "en": en}
        if q["id"] in wording.options and q["type"] in ("single", "multiple"):
            q["options"] = [dict(o) for o in wording.options[q["id"]]]
        questions.append(q)
    document["questions"] = questions
    return document


def _level(rng: random.Random, theta: float, scored: list[dict], shift: float) -> str:
    """An option of a scale question for a respondent with satisfaction ``theta``."""
    x = theta + shift + rng.gauss(0, 0.55)
    ordered = sorted(scored, key=lambda o: -o["score"])  # best first
    cuts = [0.35, -0.45, -1.15, -1.8][:len(ordered) - 1]
    for option, cut in zip(ordered, cuts, strict=False):
        if x > cut:
            return option["name"]
    return ordered[-1]["name"]


def _answers(rng: random.Random, doc: dict, plan: Plan) -> dict:
    theta = rng.gauss(plan.mood, 0.9)
    answers: dict = {}
    for index, q in enumerate(qn.questions(doc)):
        kind = q["type"]
        opts = qn.options(q)
        if kind == "scale":
            if rng.random() < 0.04:
                answers[q["id"]] = next(o["name"] for o in opts if not qn.is_scored(o))
            else:
                answers[q["id"]] = _level(rng, theta, [o for o in opts if qn.is_scored(o)],
                                          0.15 * (index % 3) - 0.1)
        elif kind == "yes_no":
            answers[q["id"]] = "yes" if rng.random() < 0.35 + 0.4 * (theta > 0.3) else "no"
        elif kind == "single":
            answers[q["id"]] = rng.choices([o["name"] for o in opts],
                                           weights=[5, 4, 2, 2, 1][:len(opts)])[0]
        elif kind == "multiple":
            chosen = [o["name"] for o in opts if rng.random() < 0.3]
            if chosen:
                answers[q["id"]] = chosen
        elif kind == "rating":
            answers[q["id"]] = max(0, min(10, round(7.2 + 1.6 * theta + rng.gauss(0, 1.2))))
        elif kind == "text" and rng.random() < 0.22:
            answers[q["id"]] = rng.choice(plan.comments)
    return answers


def _project(session: Session, evaluation: Evaluation) -> Project:
    return session.get(Project, session.get(Contract, evaluation.contract_id).project_id)


def _organiser(session: Session, evaluation: Evaluation, users: dict[str, User]) -> Actor:
    department = _project(session, evaluation).department_id
    user = next((u for u in users.values()
                 if u.organisation_id == department and u.role == "purchaser"), None)
    return Actor(user.id, user.username) if user else SYSTEM


def load_one(session: Session, evaluation: Evaluation, plan: Plan, actor: Actor, seed: int,
             wording: Wording | None = None) -> Survey:
    rng = random.Random(seed)
    leaves = app_service.leaves(session, evaluation)
    document = worded(templates.build(plan.template, leaves), wording)
    survey = Survey(evaluation_id=evaluation.id, population=plan.population)
    session.add(survey)
    session.flush()
    questionnaire = Questionnaire(survey_id=survey.id, version=1, document=document,
                                  status=QuestionnaireStatus.current, created_by=actor.id)
    session.add(questionnaire)
    session.flush()
    audit.record(session, actor, "survey.create", "survey", survey.id,
                 {"evaluation": evaluation.id, "template": plan.template,
                  "questions": len(document["questions"])})
    if evaluation.status == EvaluationStatus.draft:
        evaluations.advance(session, actor, evaluation.id, EvaluationStatus.collecting)
    opens, closes = as_utc(evaluation.opens_at), as_utc(evaluation.closes_at)
    survey.opened_at = min(opens, now())
    session.add(survey)
    audit.record(session, actor, "survey.open", "survey", survey.id,
                 {"evaluation": evaluation.id, "questionnaire_version": 1,
                  "questions": len(document["questions"]), "opens_at": opens, "closes_at": closes})
    n_closed = round(plan.responses * 0.6)
    n_paper = round(plan.responses * 0.15)
    batch = invitations.issue_batch(session, survey.id, n_closed + n_paper + 60, "入户走访",
                                    created_by=actor.id)
    audit.record(session, actor, "survey.invitations", "survey", survey.id,
                 {"batch": batch.id, "size": batch.size, "label": batch.label})
    sites = [invitations.add_site(session, survey.id, name, 1) for name in plan.sites]
    for site in sites:
        audit.record(session, actor, "survey.site", "survey", survey.id,
                     {"site": site.id, "name": site.name, "device_limit": 1})
    codes = invitations.codes_of(session, batch.id)
    rng.shuffle(codes)
    first_day = evaluations.local_date(opens)
    last_day = min(evaluations.local_date(closes), evaluations.local_date(now()))
    span = max((last_day - first_day).days, 0)
    rows = []
    for i in range(plan.responses):
        if i < n_closed + n_paper:
            codes[i].used = True
            session.add(codes[i])
            channel, site_id = (Channel.closed if i < n_closed else Channel.paper), None
        else:
            channel, site_id = Channel.open, rng.choice(sites).id
        day = first_day + timedelta(days=rng.randint(0, span))
        rows.append(SurveyResponse(id=rng.getrandbits(128).to_bytes(16, "big").hex(),
                                   survey_id=survey.id, questionnaire_id=questionnaire.id,
                                   channel=channel, site_id=site_id, answered_on=day,
                                   answers=_answers(rng, document, plan)))
    session.add_all(rows)
    questionnaire.frozen = True
    session.add(questionnaire)
    session.flush()
    session.commit()
    app_service.close_if_due(session, survey, evaluation)
    return survey


def _open_now(evaluation: Evaluation) -> bool:
    return as_utc(evaluation.opens_at) <= now() < as_utc(evaluation.closes_at)


@dataclass(frozen=True)
class LiveSurvey:
    """A demo survey open today: an unused invitation code and a site's open link, for a
    visitor to answer as a resident (服务对象) would."""

    title: str
    code: str
    open_link: str


def live(session: Session) -> LiveSurvey | None:
    """The first demo survey whose window is open today, with a code nobody has used."""
    for evaluation in session.exec(select(Evaluation).order_by(Evaluation.id)).all():
        survey = app_service.survey_of(session, evaluation)
        if survey is None or survey.closed_at is not None or not _open_now(evaluation):
            continue
        code = session.exec(select(Invitation).where(Invitation.survey_id == survey.id,
                                                     col(Invitation.used).is_(False))
                            .order_by(Invitation.id)).first()
        site = session.exec(select(SurveySite).where(SurveySite.survey_id == survey.id)
                            .order_by(SurveySite.id)).first()
        if code is not None and site is not None:
            return LiveSurvey(evaluation.title, invitations.display(code.code),
                              f"/o/{site.token}")
    return None


def load(session: Session, users: dict[str, User]) -> list[Survey]:
    """Surveys for the demo's evaluations of elderly care and street cleaning."""
    loaded = []
    for seed, evaluation in enumerate(session.exec(select(Evaluation).order_by(Evaluation.id)).all()):
        scheme = session.get(IndicatorScheme, evaluation.scheme_id)
        plan = PLANS.get(scheme.service_area if scheme else "")
        if plan is None or app_service.survey_of(session, evaluation) is not None:
            continue
        if not app_service.leaves(session, evaluation):
            continue
        before = sum(1 for p, _s in loaded if p.template == plan.template)
        if before >= plan.contracts and not _open_now(evaluation):
            continue  # e.g. the public toilets stay without answers: the results demo shows
            # there how a missing survey blocks a result; an evaluation whose window is open
            # today gets its survey, so that a visitor can answer it as a resident (live())
        if before:  # the second survey of an area is smaller
            plan = Plan(plan.template, plan.responses // 3, plan.population and 300, plan.mood - 0.2,
                        plan.sites[:1], plan.comments, plan.contracts)
        wording = WORDINGS.get(_project(session, evaluation).name)
        if wording is not None:
            plan = Plan(plan.template, plan.responses, plan.population, plan.mood, plan.sites,
                        wording.comments, plan.contracts)
        actor = _organiser(session, evaluation, users)
        loaded.append((plan, load_one(session, evaluation, plan, actor, 2026 + seed, wording)))
    return [s for _p, s in loaded]
