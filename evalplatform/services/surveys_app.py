"""Satisfaction surveys in the platform (满意度调查): who may do what, the survey's schedule,
the audit trail, rate limits, and what the survey gives the evaluation's result.

The ``surveys`` package holds the questionnaires, codes, answers and tabulation and knows
nothing of users or the audit log; this service wraps it. Each evaluation has at most one
survey. Its organiser (the department's purchaser, or finance) builds the questionnaire
from a template, opens the survey, issues invitation codes and service-site links, types in
paper questionnaires and closes it; auditors and the evaluation's assigned evaluators read
it. The survey takes answers only while it is open: opened by the organiser, not closed,
the evaluation collecting and inside its schedule's window (评价的开放和截止时间).

The survey's creation, opening, closing (with its counts), questionnaire edits, code batches
and sites are audit entries; individual answers are not (they are anonymous and many).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, partial

from sqlalchemy import bindparam, exists, func, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from evalplatform.db import WriteGroups, driver_cursor, driver_statement
from evalplatform.i18n import _, gettext
from evalplatform.models import (
    Contract,
    Evaluation,
    EvaluationStatus,
    IndicatorScheme,
    Invitation,
    InvitationBatch,
    Organisation,
    Project,
    Questionnaire,
    Role,
    Survey,
    SurveyResponse,
    SurveySite,
    ThrottleCounter,
)
from evalplatform.services import audit, evaluation_inputs, evaluations, throttle
from evalplatform.services.audit import SYSTEM
from evalplatform.services.clock import as_utc, now
from evalplatform.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Throttled,
    ValidationFailed,
)
from evalplatform.services.paging import any_contains, paginate
from evalplatform.settings import get_settings
from surveys import i18n as survey_i18n
from surveys import invitations, mixing, responses, scoring_inputs, tabulation, templates, xlsform
from surveys import questionnaire as qn
from surveys.errors import (
    CodeUnknown,
    DuplicateSubmission,
    Frozen,
    InvalidInput,
    SurveyError,
)
from surveys.models import Channel, QuestionnaireStatus

survey_i18n.set_translator(gettext)

ORGANISERS = (Role.finance, Role.purchaser)
READERS = (Role.finance, Role.purchaser, Role.auditor, Role.evaluator)
#: Open links: answers one address may send to one survey in an hour (a community centre's
#: shared Wi-Fi must still pass), and how long a device's count is kept.
ADDRESS_LIMIT = 60
ADDRESS_WINDOW = 3600
DEVICE_WINDOW = 400 * 24 * 3600
#: Wrong invitation codes one address may try in ten minutes. Only well-formed codes count (a
#: code mistyped out of shape is a typo, not a guess); with 31⁸ possible codes, 40 guesses in
#: ten minutes find none, and a community's shared Wi-Fi or a carrier's shared address is
#: rarely locked out.
CODE_FAILURES = 40
CODE_WINDOW = 600
LIVE_STATUSES = (EvaluationStatus.draft, EvaluationStatus.collecting)


def _local(moment) -> str:
    return as_utc(moment).astimezone(evaluations.LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def local_day() -> date:
    return now().astimezone(evaluations.LOCAL_TZ).date()


def _fail(exc: SurveyError):
    """The surveys package's refusal as the platform's error (same message)."""
    if isinstance(exc, InvalidInput):
        return ValidationFailed(exc.errors)
    if isinstance(exc, Frozen):
        return Conflict(exc.message)
    if isinstance(exc, CodeUnknown):
        return NotFound(exc.message)
    return Conflict(exc.message)


# ---------------------------------------------------------------- reading


def survey_of(session: Session, evaluation: Evaluation) -> Survey | None:
    return session.exec(select(Survey).where(Survey.evaluation_id == evaluation.id)).first()


def versions(session: Session, survey: Survey) -> list[Questionnaire]:
    return list(session.exec(select(Questionnaire).where(Questionnaire.survey_id == survey.id)
                             .order_by(Questionnaire.version)))


def current(session: Session, survey: Survey) -> Questionnaire | None:
    """The version respondents answer (None before the survey is first opened)."""
    return session.exec(select(Questionnaire).where(
        Questionnaire.survey_id == survey.id,
        Questionnaire.status == QuestionnaireStatus.current)).first()


def working(session: Session, survey: Survey) -> Questionnaire:
    """The version the editor shows: the newest draft, else the current version."""
    found = versions(session, survey)
    drafts = [q for q in found if q.status == QuestionnaireStatus.draft]
    if drafts:
        return drafts[-1]
    return next(q for q in found if q.status == QuestionnaireStatus.current)


def leaves(session: Session, evaluation: Evaluation) -> list[qn.SurveyLeaf]:
    return qn.survey_leaves(evaluations.scheme_document(session, evaluation))


def state(survey: Survey | None, evaluation: Evaluation) -> str:
    """``none`` (no survey), ``draft`` (not opened), ``scheduled`` (opened, window not begun),
    ``open`` (taking answers) or ``closed``."""
    if survey is None:
        return "none"
    if survey.closed_at is not None:
        return "closed"
    if survey.opened_at is None:
        return "draft"
    if evaluation.status not in LIVE_STATUSES:
        return "closed"
    window = evaluations.window_state(evaluation)
    if window == "after":
        return "closed"
    if window == "before" or evaluation.status != EvaluationStatus.collecting:
        return "scheduled"
    return "open"


def closed_message(survey: Survey | None, evaluation: Evaluation) -> str:
    """What a respondent reads when the survey does not take answers (politely)."""
    current_state = state(survey, evaluation)
    if current_state in ("draft", "scheduled", "none"):
        if evaluations.window_state(evaluation) == "before":
            return _("This survey is not open yet. It opens on %(day)s; please come back then. "
                     "Thank you!", day=_local(evaluation.opens_at))
        return _("This survey is not open yet. Please come back later. Thank you!")
    return _("This survey has closed. Thank you for your interest; answers can no longer be "
             "received.")


def _can_see(session: Session, principal, evaluation: Evaluation) -> bool:
    return evaluations.can_see(session, principal, evaluation)


def can_manage(session: Session, principal, evaluation: Evaluation) -> bool:
    return principal.role in ORGANISERS and _can_see(session, principal, evaluation)


def _organiser(session: Session, principal, evaluation_id: int) -> Evaluation:
    evaluation = evaluations.get(session, evaluation_id)
    if not can_manage(session, principal, evaluation):
        raise PermissionDenied(_("Only the purchasing department or finance runs this survey."))
    return evaluation


def _survey(session: Session, evaluation: Evaluation) -> Survey:
    survey = survey_of(session, evaluation)
    if survey is None:
        raise NotFound(_("This evaluation has no survey yet."))
    return survey


def working_version(session: Session, evaluation: Evaluation) -> Questionnaire:
    """The version of the evaluation's questionnaire that is being edited (NotFound when the
    evaluation has no survey)."""
    return working(session, _survey(session, evaluation))


def shown_document(session: Session, evaluation: Evaluation) -> dict:
    """The document of the version respondents are shown (for printed slips and posters)."""
    return shown_version(session, _survey(session, evaluation)).document


#: Full-width digits, as a Chinese input method types them (１０), read as 0–9.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _whole(text: str) -> int:
    """A count typed as digits 0–9, full-width ones included (not "²", not thousands of
    digits), else -1, which the callee refuses with its own message."""
    text = text.translate(_FULL_WIDTH_DIGITS)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else -1


def counts(session: Session, survey: Survey) -> dict[str, int]:
    found = responses.counts(session, survey.id)
    found.update(responses.invitation_counts(session, survey.id))
    return found


# ---------------------------------------------------------------- the survey's life


def create(session: Session, principal, evaluation_id: int, template_key: str) -> Survey:
    """Give the evaluation its survey, with a first draft from a template (问卷模板)."""
    evaluation = _organiser(session, principal, evaluation_id)
    if survey_of(session, evaluation) is not None:
        raise Conflict(_("This evaluation already has a survey."))
    if template_key not in templates.TEMPLATES and template_key != templates.FROM_SCHEME:
        raise ValidationFailed({"template": _("Choose one of the listed templates.")})
    found = leaves(session, evaluation)
    if not found:
        raise ValidationFailed({"template": _("The evaluation's indicator scheme has no survey "
                                              "indicator, so a survey would not be scored.")})
    survey = Survey(evaluation_id=evaluation.id)
    session.add(survey)
    session.flush()
    document = templates.build(template_key, found)
    questionnaire = Questionnaire(survey_id=survey.id, version=1, document=document,
                                  created_by=principal.actor.id)
    session.add(questionnaire)
    session.flush()
    audit.record(session, principal.actor, "survey.create", "survey", survey.id,
                 {"evaluation": evaluation.id, "template": template_key,
                  "questions": len(document["questions"])})
    session.commit()
    return survey


def open_survey(session: Session, principal, evaluation_id: int) -> Survey:
    """Open the survey: its draft becomes the answered version; a draft evaluation starts
    collecting. Answers come in while the schedule's window is open."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    if state(survey, evaluation) == "closed":  # it was opened, but "open already" misleads
        raise Conflict(_("The survey is closed; a closed survey cannot be opened again."))
    if survey.opened_at is not None:
        raise Conflict(_("The survey is open already."))
    if evaluation.status not in LIVE_STATUSES:
        raise Conflict(_("The evaluation no longer collects answers."))
    if evaluations.window_state(evaluation) == "after":
        raise Conflict(_("The evaluation's schedule has ended; the survey can no longer open."))
    questionnaire = working(session, survey)
    found = qn.problems(questionnaire.document, leaves(session, evaluation))
    if found:
        raise ValidationFailed(found)
    if evaluation.status == EvaluationStatus.draft:
        evaluations.advance(session, principal.actor, evaluation.id, EvaluationStatus.collecting)
    questionnaire.status = QuestionnaireStatus.current
    session.add(questionnaire)
    survey.opened_at = now()
    session.add(survey)
    audit.record(session, principal.actor, "survey.open", "survey", survey.id,
                 {"evaluation": evaluation.id, "questionnaire_version": questionnaire.version,
                  "questions": len(questionnaire.document.get("questions", [])),
                  "opens_at": as_utc(evaluation.opens_at), "closes_at": as_utc(evaluation.closes_at),
                  **responses.invitation_counts(session, survey.id)})
    session.commit()
    return survey


def _close(session: Session, actor, survey: Survey, reason: str,
           evaluation: Evaluation | None = None) -> mixing.Mixed | None:
    """Close the survey, mix all its answers together (the last few join the rest) and
    audit its counts; a close by the schedule is dated at the schedule's end when that has
    passed. None, and nothing recorded, when another close came first: closes wait for each
    other (the mixer's lock on PostgreSQL, the one writer on SQLite), then read the survey
    again."""
    mixed = mixing.mix_survey(session, survey.id)
    session.refresh(survey)
    if survey.closed_at is not None:
        return None
    moment = now()
    if reason == "schedule" and evaluation is not None:
        moment = min(moment, as_utc(evaluation.closes_at))
    survey.closed_at = moment
    survey.close_reason = reason
    session.add(survey)
    audit.record(session, actor, "survey.close", "survey", survey.id,
                 {"evaluation": survey.evaluation_id, "reason": reason, **counts(session, survey)})
    return mixed


def close_survey(session: Session, principal, evaluation_id: int) -> Survey:
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    if survey.opened_at is None:
        raise Conflict(_("The survey has not been opened."))
    if survey.closed_at is not None:
        raise Conflict(_("The survey is closed already."))
    if _close(session, principal.actor, survey, "organiser") is None:
        session.rollback()
        raise Conflict(_("The survey is closed already."))
    session.commit()
    return survey


def close_if_due(session: Session, survey: Survey | None, evaluation: Evaluation) -> bool:
    """Record the close of a survey whose schedule ended or whose evaluation moved on (the
    first time the platform notices it), with its counts. True when it closed it now."""
    if survey is None or survey.opened_at is None or survey.closed_at is not None:
        return False
    if state(survey, evaluation) != "closed":
        return False
    closed = _close(session, SYSTEM, survey, "schedule", evaluation) is not None
    session.commit()
    return closed


def mix_answers(engine: Engine) -> mixing.Mixed:
    """One round of the workers' mixer (``surveys.mixing``), in one transaction: the unmixed
    answers of each survey with enough of them are mixed together, and a survey that no
    longer takes answers but still has unmixed ones (its schedule ended and nobody has
    looked since, an answer that came in as it closed, answers stored before mixing existed)
    is closed if due and mixed whole. Nothing is done while another worker's round runs."""
    with Session(engine) as session:
        if not mixing.unmixed(session):
            return mixing.Mixed(0, 0)
        done = mixing.mix_due(session)
        if done is None:
            return mixing.Mixed(0, 0)
        waiting = session.exec(select(Survey, Evaluation).join(Evaluation).where(
            col(Survey.id).in_(select(SurveyResponse.survey_id)
                               .where(mixing.WAITING)))).all()
        for survey, evaluation in waiting:
            if state(survey, evaluation) != "closed":
                continue
            whole = None
            if survey.closed_at is None:
                whole = _close(session, SYSTEM, survey, "schedule", evaluation)
            if whole is None:  # closed before, or by someone else just now
                whole = mixing.mix_survey(session, survey.id)
            done = mixing.Mixed(done.answers + whole.answers, done.surveys + whole.surveys)
        session.commit()
    return done


def set_population(session: Session, principal, evaluation_id: int, raw: str) -> Survey:
    """The number of people served (服务对象总数), for the sample size and the margin."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    text = str(raw or "").strip().replace(",", "").replace("，", "")
    if not text:
        value = None
    elif not (text.isascii() and text.isdigit() and len(text) <= 9) \
            or not 1 <= int(text) <= 100_000_000:
        raise ValidationFailed({"population": _("Enter the number of people served as a whole "
                                                "number of at least 1, or leave it empty.")})
    else:
        value = int(text)
        received = responses.counts(session, survey.id)["total"]
        if value < received:  # 100 typed for 1,000: an easy slip, and no figure would say so
            raise ValidationFailed({"population": _(
                "%(n)s responses have been received already: the number of people served "
                "cannot be fewer.", n=received)})
    survey.population = value
    session.add(survey)
    audit.record(session, principal.actor, "survey.population", "survey", survey.id,
                 {"population": value})
    session.commit()
    return survey


# ---------------------------------------------------------------- lists (the JSON API)


@dataclass
class SurveyRow:
    """A survey with its evaluation, project and department, and its counts."""

    survey: Survey
    evaluation: Evaluation
    project_name: str
    department: str
    state: str
    version: int | None  # the current version's number (None before the survey opens)
    responses: int
    issued: int
    used: int


def owns_survey(principal, session: Session, path_params: dict) -> bool:
    """The ownership rule of the survey API: the survey's evaluation is the caller's to see."""
    try:
        survey = session.get(Survey, int(path_params["survey_id"]))
    except (KeyError, TypeError, ValueError):
        return False
    if survey is None:
        return False
    return _can_see(session, principal, session.get(Evaluation, survey.evaluation_id))


def get(session: Session, survey_id: int) -> Survey:
    survey = session.get(Survey, survey_id)
    if survey is None:
        raise NotFound(_("This survey does not exist."))
    return survey


def page(session: Session, principal, *, q: str = "", sort: str | None = None,
         page_number: int = 1, per_page: int | str = 20, survey_ids: list[int] | None = None):
    """The surveys the caller may see (their evaluations': a purchaser its department's, an
    evaluator its assignments', finance and auditors all), paged, with their counts."""
    statement = (select(Survey, Evaluation, Project.name, Organisation.name)
                 .join(Evaluation, Evaluation.id == Survey.evaluation_id)
                 .join(Contract, Contract.id == Evaluation.contract_id)
                 .join(Project, Project.id == Contract.project_id)
                 .join(Organisation, Organisation.id == Project.department_id))
    if principal.role == Role.purchaser:
        statement = statement.where(Project.department_id == principal.organisation_id)
    elif principal.role == Role.evaluator:
        statement = statement.where(
            col(Evaluation.id).in_(evaluations.assigned_ids(session, principal) or [-1]))
    elif principal.role not in (Role.finance, Role.auditor):
        statement = statement.where(col(Survey.id).is_(None))
    if survey_ids is not None:
        statement = statement.where(col(Survey.id).in_(survey_ids or [-1]))
    if q.strip():
        statement = statement.where(any_contains(q, Evaluation.title, Project.name))
    result = paginate(session, statement,
                      sort_columns={"id": Survey.id, "title": Evaluation.title,
                                    "opens_at": Evaluation.opens_at,
                                    "closes_at": Evaluation.closes_at},
                      sort=sort, default_sort="-opens_at", page=page_number, per_page=per_page)
    ids = [row[0].id for row in result.items] or [-1]
    answered = dict(session.exec(select(SurveyResponse.survey_id, func.count())
                                 .where(col(SurveyResponse.survey_id).in_(ids))
                                 .group_by(SurveyResponse.survey_id)).all())
    issued: dict[int, list[int]] = {}
    for survey_id, used, n in session.exec(
            select(Invitation.survey_id, Invitation.used, func.count())
            .where(col(Invitation.survey_id).in_(ids))
            .group_by(Invitation.survey_id, Invitation.used)).all():
        counts_of = issued.setdefault(survey_id, [0, 0])
        counts_of[0] += int(n)
        counts_of[1] += int(n) if used else 0
    live = dict(session.exec(select(Questionnaire.survey_id, Questionnaire.version)
                             .where(col(Questionnaire.survey_id).in_(ids),
                                    Questionnaire.status == QuestionnaireStatus.current)).all())
    result.items = [SurveyRow(survey, evaluation, project_name, department,
                              state(survey, evaluation), live.get(survey.id),
                              int(answered.get(survey.id, 0)), *issued.get(survey.id, [0, 0]))
                    for survey, evaluation, project_name, department in result.items]
    return result


# ---------------------------------------------------------------- the questionnaire


def edit(session: Session, principal, evaluation_id: int, action: str,
         change: Callable[[dict, list[qn.SurveyLeaf]], dict], detail: dict | None = None
         ) -> Questionnaire:
    """Apply one editor change to the working version; refused on a frozen version or a
    malformed result, with nothing saved."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    questionnaire = working(session, survey)
    if questionnaire.frozen:
        raise Conflict(_("Version %(v)s has answers and is frozen; create a new version to "
                         "change the questionnaire.", v=questionnaire.version))
    try:
        document = change(questionnaire.document, leaves(session, evaluation))
    except SurveyError as exc:
        raise _fail(exc) from None
    questionnaire.document = document
    questionnaire.updated_at = now()
    session.add(questionnaire)
    audit.record(session, principal.actor, "survey.questionnaire.edit", "survey", survey.id,
                 {"version": questionnaire.version, "action": action, **(detail or {})})
    session.commit()
    session.refresh(questionnaire)
    return questionnaire


def import_workbook(session: Session, principal, evaluation_id: int, data: bytes) -> Questionnaire:
    """Replace the working version's questions with an XLSForm-style workbook's."""
    def change(_doc: dict, found: list[qn.SurveyLeaf]) -> dict:
        return qn.map_to_leaves(xlsform.import_workbook(data, found), found)

    return edit(session, principal, evaluation_id, "import", change)


def new_version(session: Session, principal, evaluation_id: int) -> Questionnaire:
    """A draft copy of the frozen current version, to change and then publish."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    latest = versions(session, survey)[-1]
    if latest.status == QuestionnaireStatus.draft:
        raise Conflict(_("Version %(v)s is still a draft: edit it.", v=latest.version))
    draft = Questionnaire(survey_id=survey.id, version=latest.version + 1,
                          document=latest.document, created_by=principal.actor.id)
    session.add(draft)
    session.flush()
    audit.record(session, principal.actor, "survey.questionnaire.version", "survey", survey.id,
                 {"version": draft.version, "from": latest.version})
    session.commit()
    return draft


def publish(session: Session, principal, evaluation_id: int) -> Questionnaire:
    """Make the draft the version respondents answer (the survey must be open already).
    Scored questions that have answers in earlier versions must keep their options."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    if survey.opened_at is None:
        raise Conflict(_("Open the survey to publish its first version."))
    draft = working(session, survey)
    if draft.status != QuestionnaireStatus.draft:
        raise Conflict(_("There is no draft version to publish."))
    found = qn.problems(draft.document, leaves(session, evaluation))
    for earlier in versions(session, survey):
        if earlier.frozen:
            found.update(qn.compatibility_errors(earlier.document, draft.document))
    if found:
        raise ValidationFailed(found)
    session.execute(update(Questionnaire)
                    .where(Questionnaire.survey_id == survey.id,
                           Questionnaire.status == QuestionnaireStatus.current)
                    .values(status=QuestionnaireStatus.retired))
    draft.status = QuestionnaireStatus.current
    session.add(draft)
    audit.record(session, principal.actor, "survey.questionnaire.publish", "survey", survey.id,
                 {"version": draft.version})
    session.commit()
    return draft


# ---------------------------------------------------------------- invitations and sites


def issue_invitations(session: Session, principal, evaluation_id: int, size: str, label: str
                      ) -> InvitationBatch:
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    if state(survey, evaluation) == "closed":
        raise Conflict(_("The survey has closed; no more codes are needed."))
    text = str(size or "").strip()
    try:
        batch = invitations.issue_batch(session, survey.id, _whole(text),
                                        label, created_by=principal.actor.id)
    except SurveyError as exc:
        session.rollback()
        raise _fail(exc) from None
    audit.record(session, principal.actor, "survey.invitations", "survey", survey.id,
                 {"batch": batch.id, "size": batch.size, "label": batch.label})
    session.commit()
    return batch


@dataclass
class BatchRow:
    batch: InvitationBatch
    used: int


def batches(session: Session, survey: Survey) -> list[BatchRow]:
    used = dict(session.exec(select(Invitation.batch_id, func.count())
                             .where(Invitation.survey_id == survey.id, col(Invitation.used).is_(True))
                             .group_by(Invitation.batch_id)).all())
    found = session.exec(select(InvitationBatch).where(InvitationBatch.survey_id == survey.id)
                         .order_by(InvitationBatch.id)).all()
    return [BatchRow(b, int(used.get(b.id, 0))) for b in found]


def batch(session: Session, evaluation: Evaluation, batch_id: int) -> InvitationBatch:
    survey = _survey(session, evaluation)
    found = session.get(InvitationBatch, batch_id)
    if found is None or found.survey_id != survey.id:
        raise NotFound(_("This batch of codes does not exist."))
    return found


#: Slips on one printable part of a batch's sheet: 20 A4 pages of 10. A batch of 2,000 codes
#: prints in ten parts, each drawn in a moment, instead of one page that takes many seconds to
#: draw 2,000 QR codes and that a browser struggles to print.
SLIPS_PER_PART = 200


@dataclass(frozen=True)
class SlipPart:
    """One printable part of a batch's slips (打印第几部分): its codes and where it sits."""

    codes: list
    part: int
    parts: int
    first: int  # the number of its first slip in the batch, from 1
    total: int
    size: int

    @property
    def last(self) -> int:
        return self.first + len(self.codes) - 1


def slip_part(session: Session, batch: InvitationBatch, part: int) -> SlipPart:
    """The codes of part ``part`` (from 1) of the batch's slips, in code order; a part number
    out of range reads as the nearest part."""
    codes, size = invitations.codes_of(session, batch.id), SLIPS_PER_PART
    parts = max(1, -(-len(codes) // size))
    part = min(max(1, part), parts)
    start = (part - 1) * size
    return SlipPart(codes=codes[start:start + size], part=part, parts=parts, first=start + 1,
                    total=len(codes), size=size)


def add_site(session: Session, principal, evaluation_id: int, name: str, device_limit: str
             ) -> SurveySite:
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    if state(survey, evaluation) == "closed":  # the page offers no form then
        raise Conflict(_("The survey has closed; no more links are needed."))
    text = str(device_limit or "1").strip()
    try:
        site = invitations.add_site(session, survey.id, name, _whole(text))
    except SurveyError as exc:
        session.rollback()
        raise _fail(exc) from None
    audit.record(session, principal.actor, "survey.site", "survey", survey.id,
                 {"site": site.id, "name": site.name, "device_limit": site.device_limit})
    session.commit()
    return site


def set_site_active(session: Session, principal, evaluation_id: int, site_id: int, active: bool
                    ) -> SurveySite:
    evaluation = _organiser(session, principal, evaluation_id)
    site = site_of(session, evaluation, site_id)
    site.active = active
    session.add(site)
    audit.record(session, principal.actor, "survey.site.active" if active else "survey.site.stop",
                 "survey", site.survey_id, {"site": site.id})
    session.commit()
    return site


def sites(session: Session, survey: Survey) -> list[SurveySite]:
    return list(session.exec(select(SurveySite).where(SurveySite.survey_id == survey.id)
                             .order_by(SurveySite.id)))


def site_of(session: Session, evaluation: Evaluation, site_id: int) -> SurveySite:
    survey = _survey(session, evaluation)
    site = session.get(SurveySite, site_id)
    if site is None or site.survey_id != survey.id:
        raise NotFound(_("This service site does not exist."))
    return site


# ---------------------------------------------------------------- respondents


@dataclass
class Target:
    """What a respondent's link leads to."""

    survey: Survey
    evaluation: Evaluation
    questionnaire: Questionnaire | None
    accepting: bool
    message: str  # why not, when it is not accepting


def _target(session: Session, survey: Survey, evaluation: Evaluation | None = None,
            questionnaire: Questionnaire | None = None, *, loaded: bool = False) -> Target:
    if evaluation is None:
        evaluation = session.get(Evaluation, survey.evaluation_id)
    close_if_due(session, survey, evaluation)
    accepting = state(survey, evaluation) == "open"
    if not loaded:
        questionnaire = current(session, survey)
    return Target(survey, evaluation, questionnaire, accepting,
                  "" if accepting else closed_message(survey, evaluation))


def _with_survey(statement):
    """The statement joined to its survey's evaluation and current questionnaire version (one
    round trip for what a respondent's request needs)."""
    return (statement.join(Evaluation, Evaluation.id == Survey.evaluation_id)
            .join(Questionnaire, (Questionnaire.survey_id == Survey.id)
                  & (Questionnaire.status == QuestionnaireStatus.current), isouter=True))


def address_key(kind: str, address: str | None, scope: int | str) -> str:
    """A throttle key for a network address, hashed with the site's secret (never stored
    in the clear, never with an answer)."""
    secret = get_settings().resolved_secret_key()
    digest = hashlib.sha256(f"{secret}|{address or '-'}".encode()).hexdigest()[:32]
    return f"survey-{kind}:{scope}:{digest}"


def target_for_code(session: Session, typed: str, address: str | None) -> tuple[Target, Invitation]:
    """The survey behind an invitation code; a wrong code counts against the address."""
    key = address_key("code", address, "all")
    refused = _("Too many wrong codes from this connection. Please wait ten minutes and check "
                "the code on your slip.")
    code = invitations.normalise(typed)
    # one round trip: the code's invitation, survey, evaluation, current version and lock-out
    locked_until = (select(ThrottleCounter.locked_until).where(ThrottleCounter.key == key)
                    .scalar_subquery())
    row = None if code is None else session.exec(_with_survey(
        select(Invitation, Survey, Evaluation, Questionnaire, locked_until)
        .join(Survey, Survey.id == Invitation.survey_id)).where(Invitation.code == code)).first()
    if row is None:
        if throttle.check(session, key).locked:
            raise Throttled(refused)
        if code is not None:
            throttle.register_failure(session, key, CODE_FAILURES, CODE_WINDOW)
            session.commit()
        raise NotFound(_("We could not find this invitation code. Please check it against your "
                         "slip (letters and digits, e.g. ABCD-2345)."))
    invitation, survey, evaluation, questionnaire, lock = row
    if lock is not None and as_utc(lock) > now():
        raise Throttled(refused)
    return _target(session, survey, evaluation, questionnaire, loaded=True), invitation


def target_for_site(session: Session, token: str, device: str | None = None
                    ) -> tuple[Target, SurveySite]:
    """The survey behind a service site's link; with the phone's ``device`` cookie, one that
    has used up its answers at this site is told so before it fills the form in again."""
    row = None if not token or len(token) > 24 else session.exec(_with_survey(
        select(SurveySite, Survey, Evaluation, Questionnaire)
        .join(Survey, Survey.id == SurveySite.survey_id)).where(SurveySite.token == token)).first()
    if row is None:
        raise NotFound(_("This survey link is not valid. Please scan the QR code again."))
    site, survey, evaluation, questionnaire = row
    found = _target(session, survey, evaluation, questionnaire, loaded=True)
    if not site.active and found.accepting:
        found.accepting = False
        found.message = _("This site's survey link has been closed. Thank you for your interest.")
    elif device and found.accepting and throttle.check(session, _device_key(site, device)).locked:
        found.accepting = False
        found.message = _device_answered_message()
    return found, site


def _device_key(site: SurveySite, device: str) -> str:
    """The throttle key counting one phone's answers at one service site."""
    return f"survey-device:{site.id}:" + hashlib.sha256(device.encode()).hexdigest()[:32]


def _device_answered_message() -> str:
    return _("This phone has already answered the survey at this site. Thank you for taking "
             "part!")


def _used() -> Conflict:
    return Conflict(_("This invitation code has already been used; its answers were "
                      "received. Thank you!"))


@dataclass(frozen=True)
class _Window:
    """What :func:`state` reads of a survey and of its evaluation, from one row."""

    opened_at: object
    closed_at: object
    status: object
    opens_at: object
    closes_at: object


@cache
def _code_row():
    """One SELECT of what a submission with a code needs (built once): the invitation, its
    survey's and evaluation's schedule, the current version and the address's lock-out."""
    locked_until = (select(ThrottleCounter.locked_until)
                    .where(ThrottleCounter.key == bindparam("key")).scalar_subquery())
    return _by_code(select(
        Invitation.id, Invitation.used, Invitation.survey_id, Survey.opened_at, Survey.closed_at,
        Evaluation.status, Evaluation.opens_at, Evaluation.closes_at,
        Questionnaire.id.label("questionnaire_id"), Questionnaire.frozen, Questionnaire.created_at,
        locked_until.label("locked_until")))


def _by_code(statement, code=None):
    """``statement`` on the invitation whose code is ``code`` (an SQL expression; default
    ``:code``), joined to its survey, the survey's evaluation and its current questionnaire
    version (no row without one)."""
    return (statement.join(Survey, Survey.id == Invitation.survey_id)
            .join(Evaluation, Evaluation.id == Survey.evaluation_id)
            .join(Questionnaire, (Questionnaire.survey_id == Survey.id)
                  & (Questionnaire.status == QuestionnaireStatus.current))
            .where(Invitation.code == (bindparam("code") if code is None else code)))


def _submitted_at_once(session: Session, typed: str, getlist, address: str | None,
                       channel: Channel, checked_in_one: bool = True) -> bool:
    """The common case of :func:`submit_with_code` in one or two statements. On PostgreSQL,
    a form that names a version this process has cached is checked and stored in one
    statement (:func:`_stored_in_one`); otherwise, and on SQLite, one SELECT of columns (no
    ORM objects; the frozen version's document from the process's cache) and one write. On
    PostgreSQL they run on the driver's own cursor in autocommit mode
    (``db.driver_cursor``): each write is a single statement (see
    ``responses.use_code_and_record``), so no BEGIN/COMMIT round trips are needed and no
    session or result objects are made. False when the case is not the common one (an
    unknown code, a lock-out, a survey that is not open or must be closed now): the
    caller then takes the general path, with nothing done here."""
    code = invitations.normalise(typed)
    if code is None:
        return False
    values = {"code": code, "key": address_key("code", address, "all")}
    engine = session.get_bind()
    if engine.dialect.name == "postgresql" and not session.in_transaction():
        with driver_cursor(engine) as cursor:
            def write(statement, parameters) -> int:
                return driver_statement(statement, engine).rowcount(cursor, parameters)

            if checked_in_one and _stored_in_one(engine.url, write, values, getlist, channel):
                return True
            row = driver_statement(_code_row(), engine).first(cursor, values)
            if not _takes_answers(row):
                return False
            _accept(session, row, getlist, channel, write)
        return True
    row = session.connection().execute(_code_row(), values).first()
    if not _takes_answers(row):
        return False
    try:
        _accept(session, row, getlist, channel, None)
    except Exception:
        session.rollback()
        raise
    session.commit()
    return True


@cache
def _checked_write():
    """The one-statement submission (PostgreSQL): the code's invitation is used and the
    answer stored only if, in the same statement, the survey takes answers now — exactly
    what :func:`state` calls ``open``: not closed, opened, its evaluation collecting and
    ``now`` inside the schedule — the address is not locked out, and the version the form
    was shown is still the current one, frozen, and the one this process has cached."""
    return responses.use_and_record_checked(_checked_invitation(bindparam("code"),
                                                                bindparam("key")))


def _checked_invitation(code, key):
    """The id of the invitation whose code is ``code`` when a checked write
    (:func:`_checked_write`, :func:`_grouped_write`) may use it, else NULL: a scalar
    subquery, with ``code`` and ``key`` SQL expressions — bound values, or the columns of a
    grouped write's rows, for each of which it then runs as its own lookup by the code's
    unique index, whatever the planner's statistics say (a join of the rows with the
    invitations, planned on a table whose statistics predate a fresh batch of codes, once
    compared every row with every code of the survey). The conditions: the survey takes
    answers at ``:now`` — exactly what :func:`state` calls ``open`` — the address whose
    throttle key is ``key`` is not locked out, and the version is ``:questionnaire``,
    current, frozen and of ``:created_at`` (the one this process has cached)."""
    locked = exists(select(ThrottleCounter.key).where(
        ThrottleCounter.key == key, ThrottleCounter.locked_until > bindparam("now"))
        .correlate_except(ThrottleCounter))  # ``key`` may be a column of the grouped rows
    return _by_code(select(Invitation.id), code).where(
        Questionnaire.id == bindparam("questionnaire"), col(Questionnaire.frozen).is_(True),
        Questionnaire.created_at == bindparam("created_at"),
        col(Survey.closed_at).is_(None), col(Survey.opened_at).is_not(None),
        Evaluation.status == EvaluationStatus.collecting,
        Evaluation.opens_at <= bindparam("now"), Evaluation.closes_at >= bindparam("now"),
        ~locked).scalar_subquery()


@cache
def _grouped_write():
    """The checked write of :func:`_checked_write` for the forms of many respondents at once
    (PostgreSQL, :func:`stored_together`): each row's code is used and its answers stored
    when the same conditions hold for it; a code sent twice in one write counts once (its
    first row)."""
    rows = responses.submitted_rows()
    found = select(_checked_invitation(rows.c.code, rows.c.key).label("id"), rows.c.response,
                   rows.c.answers, rows.c.n).cte("found").prefix_with("MATERIALIZED")
    return responses.use_and_record_many(
        select(found.c.id, found.c.response, found.c.answers).where(found.c.id.is_not(None))
        .ext(distinct_on(found.c.id)).order_by(found.c.id, found.c.n))


def _stored_in_one(database_url, write: responses.Write, values: dict, getlist,
                   channel: Channel) -> bool:
    """The commonest submission in one statement: the form names the version it showed
    (``version_id``), this process has that frozen version's document, and the answers are
    valid for it; the write itself then checks the code, the schedule and the lock-out
    (:func:`_checked_write`). False, with nothing written, in any other case: the caller
    then reads the code's row and says exactly why (or stores the answers after all)."""
    checked = _checked_answers(database_url, getlist)
    if checked is None:
        return False  # the two-statement path says what is wrong, in its order of checks
    version, created_at, answers = checked
    stored = responses.record_if(
        write, _checked_write(), {**values, "now": now(), "created_at": created_at},
        questionnaire_id=version, answers=answers, day=local_day(), channel=channel)
    return stored is not None


def _checked_answers(database_url, getlist) -> tuple | None:
    """``(version, created_at, answers)`` when the form names (``version_id``) a frozen
    version whose document this process has cached and its answers are valid for it; else
    None (the caller then takes a path that reads the version and says what is wrong)."""
    named = getlist("version_id")
    typed = named[-1] if named else ""
    version = int(typed) if typed.isascii() and typed.isdigit() and len(typed) <= 12 else None
    known = responses.frozen_document(database_url, version) if version else None
    if known is None:
        return None
    created_at, document = known
    try:
        return version, created_at, responses.parse_answers(document, getlist)
    except SurveyError:
        return None


async def stored_together(groups: WriteGroups, engine: Engine, typed: str, getlist,
                          address: str | None, *, channel: Channel = Channel.closed) -> bool:
    """A respondent's submission with a code written together with the others that arrive
    at the same moment (group commit, ``db.WriteGroups``): on PostgreSQL, a form that
    :func:`_stored_in_one` would store in one statement is stored in one statement shared
    with the forms that queued while the previous one was being written, under the same
    checks for each (:func:`_grouped_write`), and answered when that statement has
    committed. Under load this costs the database, the driver and the thread hop a fraction
    of one statement per form. True when stored; False when nothing was written for this
    form (SQLite, a form without a cached version, invalid answers, a used or unknown code,
    a survey not open, a lock-out): the caller then takes :func:`submit_with_code` with
    ``checked_in_one=False``, which says why or stores it after all."""
    if engine.dialect.name != "postgresql":
        return False
    code = invitations.normalise(typed)
    checked = None if code is None else _checked_answers(engine.url, getlist)
    if checked is None:
        return False
    version, created_at, answers = checked
    response_id = responses.new_response_id()
    serialise = getattr(engine.dialect, "_json_serializer", None) or json.dumps
    row = (code, response_id, serialise(answers), address_key("code", address, "all"))
    group = (engine, version, created_at, channel)
    return await groups.add(group, row, partial(_write_grouped, *group))


def _write_grouped(engine: Engine, version: int, created_at, channel: Channel,
                   rows: list[tuple]) -> list[bool]:
    """The grouped write of ``rows`` (code, response id, answers' JSON text, throttle key)
    in one statement on the driver's cursor: whether each row's answers were stored."""
    codes, response_ids, texts, keys = (list(column) for column in zip(*rows, strict=True))
    with driver_cursor(engine) as cursor:
        stored = set(driver_statement(_grouped_write(), engine).returned(cursor, {
            "codes": codes, "responses": response_ids, "answers": texts, "keys": keys,
            "questionnaire": version, "created_at": created_at, "now": now(),
            "day": local_day(), "channel": channel}))
    return [response_id in stored for response_id in response_ids]


def _takes_answers(row) -> bool:
    """Whether the fast path's row is a code of a survey that is open now, from an address
    that is not locked out."""
    if row is None or (row.locked_until is not None and as_utc(row.locked_until) > now()):
        return False
    window = _Window(row.opened_at, row.closed_at, row.status, row.opens_at, row.closes_at)
    return state(window, window) == "open"


def _accept(session: Session, row, getlist, channel: Channel,
            write: responses.Write | None) -> None:
    """Check and store the answers for the fast path's ``row``: with ``write`` (PostgreSQL,
    the driver's cursor) as one statement, else in the session's transaction."""
    if row.used:
        raise _used()
    document = responses.version_document(session, row.questionnaire_id, frozen=row.frozen,
                                          created_at=row.created_at)
    try:
        answers = responses.parse_answers(document, getlist)
        if write is not None:
            responses.use_code_and_record(write, row.id, questionnaire_id=row.questionnaire_id,
                                          answers=answers, day=local_day(), channel=channel,
                                          frozen=row.frozen)
        else:
            responses.record_with_code(session, row, questionnaire_id=row.questionnaire_id,
                                       answers=answers, day=local_day(), channel=channel,
                                       frozen=row.frozen)
    except SurveyError as exc:
        raise _fail(exc) from None


def submit_with_code(session: Session, typed: str, getlist, address: str | None, *,
                     channel: Channel = Channel.closed, checked_in_one: bool = True) -> None:
    """Store a respondent's answers given with an invitation code (the code is used up here,
    by the submitting POST only). Raises ValidationFailed (answers), Conflict (code used or
    survey closed), NotFound (no such code), Throttled (too many wrong codes).
    ``checked_in_one=False`` skips the one-statement attempt (:func:`_stored_in_one`), which
    :func:`stored_together` has just made."""
    if _submitted_at_once(session, typed, getlist, address, channel, checked_in_one):
        return
    found, invitation = target_for_code(session, typed, address)
    if not found.accepting:
        raise Conflict(found.message)
    if invitation.used:
        raise _used()
    try:
        answers = responses.parse_answers(found.questionnaire.document, getlist)
        responses.record_with_code(session, invitation, questionnaire_id=found.questionnaire.id,
                                   answers=answers, day=local_day(), channel=channel,
                                   frozen=found.questionnaire.frozen)
    except SurveyError as exc:
        session.rollback()
        raise _fail(exc) from None
    session.commit()


def enter_paper(session: Session, principal, evaluation_id: int, typed: str, getlist) -> None:
    """Staff type in a paper questionnaire against its printed code (纸质问卷录入)."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    invitation = invitations.find(session, typed)
    if invitation is None or invitation.survey_id != survey.id:
        # a code out of shape is told what a code is made of, as the respondent's box tells it
        raise ValidationFailed({"code": invitations.problem(typed)
                                or _("No invitation of this survey has this code.")})
    found = _target(session, survey)
    if not found.accepting:
        raise Conflict(found.message)
    if invitation.used:
        raise ValidationFailed({"code": _("This code has been used already; its answers are in.")})
    try:
        answers = responses.parse_answers(found.questionnaire.document, getlist)
        responses.record_with_code(session, invitation, questionnaire_id=found.questionnaire.id,
                                   answers=answers, day=local_day(), channel=Channel.paper)
    except SurveyError as exc:
        session.rollback()
        raise _fail(exc) from None
    session.commit()


#: Paper questionnaires typed in with one request (the JSON API's batch entry).
PAPER_BATCH_MAX = 200


def enter_papers(session: Session, principal, evaluation_id: int,
                 entries: list[tuple[str, dict[str, list[str]]]]) -> int:
    """Several paper questionnaires at once (纸质问卷批量录入), each ``(printed code, {question
    id: values})`` and checked as :func:`enter_paper` checks one, all or none: when any is
    refused nothing is stored, and ValidationFailed names each refusal by the questionnaire's
    place in the list (from 0) and its field — ``questionnaires.<i>.code`` (no code of this
    survey, used already, or given twice in the list) and ``questionnaires.<i>.answers.<question
    id>`` (unanswered, not an option, or no such question). Conflict when the survey does not
    take answers now. Like the page's entry, no audit entry per answer. Returns the number
    stored."""
    evaluation = _organiser(session, principal, evaluation_id)
    survey = _survey(session, evaluation)
    found = _target(session, survey)
    if not found.accepting:
        raise Conflict(found.message)
    document = found.questionnaire.document
    known = {q["id"] for q in qn.questions(document)}
    errors: dict[str, str] = {}
    accepted: list[tuple[Invitation, dict]] = []
    seen: set[int] = set()

    def refuse(index: int, question: str | None, problem: str) -> None:
        if question is None:
            errors[f"questionnaires.{index}.code"] = _(
                "Questionnaire %(number)s (questionnaires.%(index)s), code: %(problem)s",
                number=index + 1, index=index, problem=problem)
        else:
            errors[f"questionnaires.{index}.answers.{question}"] = _(
                "Questionnaire %(number)s (questionnaires.%(index)s), question %(question)s: "
                "%(problem)s", number=index + 1, index=index, question=question, problem=problem)

    for index, (typed, answered) in enumerate(entries):
        invitation = invitations.find(session, typed)
        if invitation is None or invitation.survey_id != survey.id:
            refuse(index, None, invitations.problem(typed)
                   or _("No invitation of this survey has this code."))
        elif invitation.used:
            refuse(index, None, _("This code has been used already; its answers are in."))
        elif invitation.id in seen:
            refuse(index, None, _("This code is given for an earlier questionnaire of this "
                                  "list already."))
        else:
            seen.add(invitation.id)
        for qid in sorted(set(answered) - known):
            refuse(index, qid, _("The questionnaire has no question with this id."))
        try:
            answers = responses.parse_answers(document, lambda name, a=answered: a.get(name, []))
        except InvalidInput as exc:
            for qid, problem in exc.errors.items():
                refuse(index, qid, problem)
            continue
        if invitation is not None and f"questionnaires.{index}.code" not in errors:
            accepted.append((invitation, answers))
    if errors:
        raise ValidationFailed(errors)
    try:
        for invitation, answers in accepted:
            responses.record_with_code(session, invitation, questionnaire_id=found.questionnaire.id,
                                       answers=answers, day=local_day(), channel=Channel.paper)
    except SurveyError as exc:  # a code used by a respondent a moment ago
        session.rollback()
        raise _fail(exc) from None
    session.commit()
    return len(accepted)


def submit_open(session: Session, token: str, getlist, *, address: str | None,
                device: str | None, submission_key: str, honeypot: str = "") -> str:
    """Store answers from a service site's open link; returns ``stored``, ``duplicate`` (the
    same form again: nothing more stored) or ``ignored`` (the honeypot was filled: a robot;
    it is thanked and nothing is stored)."""
    from sqlalchemy.exc import IntegrityError

    found, site = target_for_site(session, token)
    if not found.accepting:
        raise Conflict(found.message)
    if honeypot.strip():
        return "ignored"
    key = submission_key if submission_key and len(submission_key) == 32 \
        and all(c in "0123456789abcdef" for c in submission_key) else None
    if key is not None and responses.submitted(session, key):
        return "duplicate"  # a double tap or a retry of a form that was stored
    address_limit = address_key("addr", address, found.survey.id)
    if throttle.check(session, address_limit).locked:
        raise Throttled(_("Many answers have come from this connection in the last hour. Please "
                          "try again later. Thank you!"))
    device_limit = None
    if device:
        device_limit = _device_key(site, device)
        if throttle.check(session, device_limit).locked:
            raise Conflict(_device_answered_message())
    try:
        answers = responses.parse_answers(found.questionnaire.document, getlist)
        responses.record(session, survey_id=found.survey.id, questionnaire_id=found.questionnaire.id,
                         channel=Channel.open, answers=answers, day=local_day(), site_id=site.id,
                         submission_key=key, frozen=found.questionnaire.frozen)
    except DuplicateSubmission:
        session.rollback()
        return "duplicate"
    except SurveyError as exc:
        session.rollback()
        raise _fail(exc) from None
    throttle.register_failure(session, address_limit, ADDRESS_LIMIT, ADDRESS_WINDOW)
    if device_limit:
        throttle.register_failure(session, device_limit, site.device_limit, DEVICE_WINDOW)
    try:
        session.commit()
    except IntegrityError:  # the same key committed by a concurrent request a moment ago
        session.rollback()
        return "duplicate"
    return "stored"


# ---------------------------------------------------------------- tabulation


def _answered(session: Session, survey: Survey) -> list[tabulation.Answered]:
    return [tabulation.Answered(r.channel, r.site_id, r.answered_on, r.answers)
            for r in responses.all_of(session, survey.id)]


def shown_version(session: Session, survey: Survey) -> Questionnaire:
    return current(session, survey) or working(session, survey)


def tabulated_document(session: Session, survey: Survey) -> dict:
    """The shown version with the questions and options earlier versions answered and it
    dropped: what the tabulation and the exports count, so that no answer goes uncounted."""
    shown = shown_version(session, survey)
    earlier = [q.document for q in versions(session, survey)
               if q.version < shown.version and q.status != QuestionnaireStatus.draft]
    return qn.with_earlier(shown.document, earlier)


def tabulate(session: Session, evaluation: Evaluation, language: str) -> tabulation.Tabulation:
    survey = _survey(session, evaluation)
    document = tabulated_document(session, survey)
    names = {s.id: s.name for s in sites(session, survey)}
    found = responses.invitation_counts(session, survey.id)
    return tabulation.tabulate(document, _answered(session, survey), issued=found["issued"],
                               used=found["used"], population=survey.population, sites=names,
                               language=qn.lang_key(language))


def export(session: Session, evaluation: Evaluation, language: str, *, fmt: str, codes: bool
           ) -> tuple[bytes, str, str]:
    """Responses as CSV or Excel (labels or codes): (bytes, media type, file name)."""
    survey = _survey(session, evaluation)
    document = tabulated_document(session, survey)
    names = {s.id: s.name for s in sites(session, survey)}
    header, body = tabulation.export_table(document, _answered(session, survey),
                                           language=qn.lang_key(language), codes=codes,
                                           sites=names)
    stem = f"survey-{evaluation.id}-{'codes' if codes else 'labels'}"
    if fmt == "xlsx":
        return (tabulation.to_xlsx(header, body),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", f"{stem}.xlsx")
    return tabulation.to_csv(header, body), "text/csv; charset=utf-8", f"{stem}.csv"


# ---------------------------------------------------------------- the evaluation's result


@evaluation_inputs.collector("survey")
def contribution(session: Session, evaluation: Evaluation) -> evaluation_inputs.Contribution | None:
    """The survey's part of the scoring package: responses, population and the survey
    leaves' rules (question ids, inline scale, satisfied options)."""
    survey = survey_of(session, evaluation)
    if survey is None:
        return None
    questionnaire = current(session, survey)
    if questionnaire is None:
        return None
    found = leaves(session, evaluation)
    stored = responses.all_of(session, survey.id)
    by_channel = responses.counts(session, survey.id)
    return evaluation_inputs.Contribution(
        source="survey",
        responses=scoring_inputs.responses(questionnaire.document, [r.answers for r in stored],
                                           found),
        population=survey.population,
        rules=scoring_inputs.leaf_rules(questionnaire.document, found),
        notes=[_("Satisfaction survey: %(n)s responses (invitation codes %(closed)s, open links "
                 "%(open)s, paper %(paper)s), questionnaire version %(v)s.",
                 n=by_channel["total"], closed=by_channel["closed"], open=by_channel["open"],
                 paper=by_channel["paper"], v=questionnaire.version)])


def scheme_service_area(session: Session, evaluation: Evaluation) -> str:
    scheme = session.get(IndicatorScheme, evaluation.scheme_id)
    return scheme.service_area if scheme else ""


def responses_total(session: Session, survey: Survey) -> int:
    return int(session.exec(select(func.count()).select_from(SurveyResponse)
                            .where(SurveyResponse.survey_id == survey.id)).one())
