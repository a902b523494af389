"""Jinja2 set-up: translations, filters and the one ``render`` that every page uses."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import markupsafe
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

import scoring
from evalplatform import i18n
from evalplatform.labels import (
    ACTION_CHANGE_FIELD_LABELS,
    ACTION_LABELS,
    CHANGE_FIELD_LABELS,
    CONTACT_CHANGE_LABELS,
    DIRECTION_LABELS,
    DOMAIN_LABELS,
    ENTITY_CHANGE_FIELD_LABELS,
    ENTITY_LABELS,
    ORGANISATION_KIND_LABELS,
    PAYMENT_RULE_KIND_LABELS,
    QUESTIONNAIRE_EDIT_LABELS,
    ROLE_LABELS,
    SURVEY_TEMPLATE_LABELS,
    SYSTEM_REASON_LABELS,
    WEIGHTING_LABELS,
)
from evalplatform.settings import get_settings
from evalplatform.web.csrf import csrf_token
from evalplatform.web.navigation import menu_for

FLASH_KEY = "flash"


def money(fen: int | None) -> str:
    """Integer fen → '¥1,234,567.89'."""
    if fen is None:
        return ""
    yuan = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"¥{yuan:,.2f}"


def local_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    from evalplatform.services.clock import LOCAL_TZ, as_utc

    return as_utc(value).astimezone(LOCAL_TZ).strftime(fmt)


def action_label(code: str) -> str:
    """An audited action in the reader's language (``labels.ACTION_LABELS``), else its code."""
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


def entity_label(entity_type: str) -> str:
    """A kind of audited object in the reader's language (``labels.ENTITY_LABELS``), else
    its type as recorded."""
    label = ENTITY_LABELS.get(entity_type)
    return str(label) if label is not None else entity_type


def change_items(change: str, entity_type: str = "", action: str = "") -> list[tuple[str, str]]:
    """An audit entry's details (its canonical JSON) as (name, value) pairs to read: fields
    named in the reader's language (by the action, then the kind of record, then alone: a
    result's "missing" counts scores, a scheme's is its rule for them), amounts in fen as
    money, yes/no for flags, and each code (a status, a kind, a party, a rule, a direction, a
    template...) by its name, at any depth of the details."""
    try:
        data = json.loads(change or "{}")
    except ValueError:
        return [("", change)]
    if not isinstance(data, dict):
        return [("", _change_value(data))]
    return [(_change_field(key, entity_type, action),
             _change_pair(value, key, entity_type, action) if action in PAIRED_ACTIONS
             else _change_value(value, key, entity_type, action)) for key, value in data.items()]


#: Actions whose every detail is a [before, after] pair (an expert's corrected details).
PAIRED_ACTIONS = {"expert.update"}


def _change_field(key: str, entity_type: str = "", action: str = "") -> str:
    label = (ACTION_CHANGE_FIELD_LABELS.get((action, key))
             or ENTITY_CHANGE_FIELD_LABELS.get((entity_type, key)) or CHANGE_FIELD_LABELS.get(key))
    return str(label) if label is not None else key


@lru_cache(maxsize=1)
def _entity_value_labels() -> dict[str, dict[str, dict]]:
    """The details whose codes mean something different by the record: a project's, an
    evaluation's and a settlement's "status" each name their own states; an organisation's
    "kind" is its kind, an expert's the kind of relationship, a sheet's who fills it."""
    # surveys_app installs the translator of the surveys package's names
    from evalplatform.services import acceptance, schemes, settlements, standing, surveys_app

    questionnaire, templates = surveys_app.qn, surveys_app.templates

    return {"project": {"status": DOMAIN_LABELS["status"]},
            "evaluation": {"status": DOMAIN_LABELS["evaluation_status"],
                           "from": DOMAIN_LABELS["evaluation_status"]},
            "settlement": {"status": settlements.STATUS_LABELS,
                           "basis": settlements.BASIS_LABELS},
            "acceptance": {"conclusion": acceptance.CONCLUSION_LABELS},
            "organisation": {"kind": ORGANISATION_KIND_LABELS},
            "expert": {"kind": DOMAIN_LABELS["relationship_kind"],
                       "contact": CONTACT_CHANGE_LABELS},
            "scoresheet": {"kind": DOMAIN_LABELS["sheet_kind"]},
            "contract": {"kind": PAYMENT_RULE_KIND_LABELS,
                         "decision": standing.DECISION_LABELS},
            "indicator_scheme": {"weighting": WEIGHTING_LABELS, "missing": schemes.MISSING_LABELS,
                                 "party": schemes.PARTY_LABELS, "type": schemes.RULE_LABELS},
            "survey": {"template": {**{key: t.name for key, t in templates.TEMPLATES.items()},
                                    **SURVEY_TEMPLATE_LABELS},
                       "action": QUESTIONNAIRE_EDIT_LABELS, "type": questionnaire.TYPE_LABELS,
                       "scale": questionnaire.SCALE_LABELS}}


#: Details whose values are domain codes with a name (``"method": "public_tender"``).
CHANGE_VALUE_LABELS = {"method": DOMAIN_LABELS["method"], "role": ROLE_LABELS,
                       "procurement_method": DOMAIN_LABELS["method"],
                       "supplier_kind": DOMAIN_LABELS["supplier_kind"],
                       "stage": DOMAIN_LABELS["evaluation_stage"],
                       "due": DOMAIN_LABELS["due_condition"],
                       "direction": DIRECTION_LABELS,
                       # reasons the platform itself records (people's reasons are shown as typed)
                       "reason": SYSTEM_REASON_LABELS}


def _value_name(value: Any, key: str, entity_type: str) -> str | None:
    """The name of a code ``value`` of the detail ``key``, or None when it is no code."""
    if not isinstance(value, str):
        return None
    for named in (_entity_value_labels().get(entity_type, {}).get(key, {}),
                  CHANGE_VALUE_LABELS.get(key, {})):
        if value in named:
            return str(named[value])
    return None


def _change_pair(value: Any, key: str, entity_type: str = "", action: str = "") -> str:
    """A detail recorded as [before, after]: "before → after"."""
    if isinstance(value, list) and len(value) == 2:
        return " → ".join(_change_value(v, key, entity_type, action) for v in value)
    return _change_value(value, key, entity_type, action)


def _avoidance_reasons(value: Any) -> str | None:
    """Why an expert was avoided in a draw (``experts.avoidance_reasons``), in sentences."""
    from evalplatform.services.experts import reason_text

    if not (isinstance(value, list) and value
            and all(isinstance(r, dict) and "code" in r for r in value)):
        return None
    try:
        texts = [reason_text(r) for r in value]
    except (KeyError, ValueError):
        return None
    return ("；" if i18n.current_language().startswith("zh") else "; ").join(texts)


#: A moment as the audit log stores it (ISO 8601 with its offset), not a plain date.
_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _change_value(value: Any, key: str = "", entity_type: str = "", action: str = "") -> str:
    chinese = i18n.current_language().startswith("zh")
    name = _value_name(value, key, entity_type)
    if name is not None:
        return name
    if key == "reasons" and (reasons := _avoidance_reasons(value)) is not None:
        return reasons
    if isinstance(value, bool):
        return i18n.gettext("Yes") if value else i18n.gettext("No")
    if value is None or value == "" or value == {} or value == []:
        return "—"
    if key.endswith("_fen") and isinstance(value, int):
        return money(value)
    if (key == "ratio" or key.endswith("_ratio")) and not isinstance(value, (list, dict)):
        try:  # a payment ratio stored as a fraction (1, "0.95"): as every page writes it
            return percent(value)
        except (ArithmeticError, ValueError, TypeError):
            pass
    if isinstance(value, str) and _MOMENT.match(value):  # a stored moment, in China time
        try:
            return local_time(datetime.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, list):  # a record in a list stands in brackets of its own
        return ("、" if chinese else ", ").join(
            (("（%s）" if chinese else "(%s)") % _change_value(item, key, entity_type, action))
            if isinstance(item, dict) else _change_value(item, key, entity_type, action)
            for item in value)
    if isinstance(value, dict):
        if set(value) == {"from", "to"}:  # a field corrected: before → after, as the field
            return " → ".join(_change_value(value[k], key, entity_type, action)
                              for k in ("from", "to"))
        parts = []
        for k, v in value.items():
            text = _change_value(v, k, entity_type, action)
            if isinstance(v, dict) and v and set(v) != {"from", "to"}:
                text = ("（%s）" if chinese else "(%s)") % text  # a record within a record
            parts.append(f"{_change_field(k, entity_type, action)}{'：' if chinese else ': '}{text}")
        return ("；" if chinese else "; ").join(parts)
    return str(value)


def reciprocal(judgement: str | None) -> str:
    """The lower triangle's cell of an AHP judgement: 3 → 1/3, 1/3 → 3, 1 → 1 (text as typed
    when it is no judgement; the form names that error at its field)."""
    from evalplatform.services.schemes import parse_judgement

    value = parse_judgement(str(judgement or "1"))
    if value is None:
        return f"1/{judgement}"
    return str(1 / value)


def percent(value, places: int | None = None, per_hundred: bool = False) -> str:
    """The ``percent`` filter: a fraction (or, ``per_hundred``, a number of percent such as an
    instalment's "30") written as the reader's language writes a percentage, through
    settlements.percent_text: 95% in Chinese, 95 % in English; '—' for no value."""
    from evalplatform.services.settlements import percent_text

    if value is None or value == "" or value != value:
        return "—"
    return percent_text(Decimal(str(value)) / 100 if per_hundred else value, places)


def score(value) -> str:
    """The ``score`` filter: a score rounded once, half-up on its decimal value, to two
    decimals, as the engine rounds (99.505 → 99.51; a float's "%.2f" gives 99.50); '—' for
    none."""
    if value is None or value == "":
        return "—"
    return str(scoring.round_score(value))


_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2})?")


def whole_dates(text) -> markupsafe.Markup:
    """``text`` escaped, each date (and time) in it kept on one line: a narrow card broke
    '2026-12-25 23:59' after its second hyphen."""
    escaped = str(markupsafe.escape(text))
    return markupsafe.Markup(_DATE_TIME.sub(
        lambda m: f'<span class="nowrap">{m.group(0)}</span>', escaped))


def query_with(request: Request, **changes: Any) -> str:
    """The current URL's query string with some parameters replaced (paging, sorting), to
    append to a path: "?a=1&b=2", or "" when no parameter is left (not a bare "?")."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else ""


#: The longest message a flash carries: it travels in the signed session cookie, which a
#: browser drops beyond 4 kB, and a refusal may quote what was typed.
MAX_FLASH = 600


def flash(request: Request, message: str, category: str = "success") -> None:
    text = str(message)
    if len(text) > MAX_FLASH:
        text = text[:MAX_FLASH - 1] + "…"
    request.session.setdefault(FLASH_KEY, [])
    request.session[FLASH_KEY] = [*request.session[FLASH_KEY][-4:], [category, text]]


def flash_error(request: Request, exc) -> None:
    """Flash a refusal: a ValidationFailed's field messages joined, or the domain message."""
    errors = getattr(exc, "errors", None)
    flash(request, "; ".join(errors.values()) if errors else exc.message, "error")


def _pop_flashes(request: Request) -> list[list[str]]:
    return request.session.pop(FLASH_KEY, []) if "session" in request.scope else []


def role_options(roles) -> list[tuple[str, str]]:
    return [(r.value, str(ROLE_LABELS[r])) for r in roles]


def kind_options(kinds) -> list[tuple[str, str]]:
    return [(k.value, str(ORGANISATION_KIND_LABELS[k])) for k in kinds]


def organisation_options(organisations) -> list[tuple[str, str]]:
    return [(str(o.id), i18n.gettext("%(value)s (%(note)s)", value=o.name,
                                       note=ORGANISATION_KIND_LABELS[o.kind])) for o in organisations]


def _plural_text(singular: str, plural: str, n: int) -> str:
    """The translated form for ``n``, unformatted: Jinja formats it once with ``num`` and the
    call's variables (i18n.ngettext would format it first with ``num`` alone, failing on any
    other variable and spending a ``%%``)."""
    return i18n.translations(i18n.current_language()).ngettext(singular, plural, n)


def build_templates() -> Jinja2Templates:
    settings = get_settings()
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(settings.templates_dir)),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
    )
    templates = Jinja2Templates(env=env)
    env.install_gettext_callables(i18n.gettext, _plural_text, newstyle=True)
    env.filters["money"] = money
    env.filters["local_time"] = local_time
    env.filters["reciprocal"] = reciprocal
    env.filters["percent"] = percent
    env.filters["score"] = score
    env.filters["size"] = i18n.size_text
    env.filters["whole_dates"] = whole_dates
    env.globals.update(
        LANGUAGES=i18n.LANGUAGES,
        ROLE_LABELS=ROLE_LABELS,
        ORGANISATION_KIND_LABELS=ORGANISATION_KIND_LABELS,
        LABELS=DOMAIN_LABELS,
        current_language=i18n.current_language,
        query_with=query_with,
        action_label=action_label,
        entity_label=entity_label,
        change_items=change_items,
        role_options=role_options,
        kind_options=kind_options,
        organisation_options=organisation_options,
    )
    return templates


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    ctx = {
        "principal": principal,
        # one who must first choose a new password is offered nothing else
        "menu": menu_for(principal.role)
        if principal and not principal.must_change_password else [],
        "csrf_token": csrf_token(request) if "session" in request.scope else "",
        "flashes": _pop_flashes(request),
        "is_htmx": request.headers.get("hx-request") == "true",
        **(context or {}),
    }
    return request.app.state.templates.TemplateResponse(
        request, template, ctx, status_code=status_code
    )


def redirect(request: Request, url: str) -> Response:
    """After a successful POST: a 303 for a plain form, an HX-Redirect for htmx."""
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def attachment(filename: str) -> str:
    """A download's Content-Disposition that keeps its file name, a Chinese one included
    (RFC 6266 / 5987: an ASCII fallback, then the UTF-8 name)."""
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_"
                         for c in filename) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
