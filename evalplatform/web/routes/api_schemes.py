"""The JSON API of indicator schemes (指标体系) and of a contract's scheme choice (考核标准).

The same services and the same readers as the scheme pages: finance staff and auditors read
every scheme, a purchaser the templates and its own department's schemes (another department's
scheme is "not found"); suppliers, evaluators and the administrator are refused (403). A scheme
is given as the editor shows it: its parts, one per evaluating party, with their weights (decimal
strings that add up to 1.00) and the rule that combines the party's sheets, and each part's tree
of indicators on 100 points, each leaf with its scoring rule and criteria.

The purchasing department chooses its contract's scheme as the contract page does: a copy of a
template or of one of its complete schemes becomes the contract's own.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from evalplatform.db import get_session
from evalplatform.i18n import _
from evalplatform.models import IndicatorScheme
from evalplatform.services import evaluations, paging, schemes
from evalplatform.services.errors import ValidationFailed
from evalplatform.web.access import Principal
from evalplatform.web.api_schema import Moment, RowId, error_responses
from evalplatform.web.forms import FormRoute
from evalplatform.web.params import ApiPage, ApiPerPage
from evalplatform.web.routes.evaluations import contract_purchaser
from evalplatform.web.routes.schemes import read_one, readers

router = APIRouter(route_class=FormRoute, prefix="/api", tags=["schemes"],
                   responses=error_responses(401, 403, 422))


class SchemeSummary(BaseModel):
    id: int
    name: str
    service_area: str
    version: int
    based_on_id: int | None = Field(description="The scheme this one was copied from")
    is_template: bool = Field(description="A template (模板) kept by finance: read-only to "
                                          "purchasers, copied into their schemes")
    organisation_id: int | None = Field(description="The department the scheme belongs to")
    frozen: bool = Field(description="An evaluation has started on it: it never changes again")
    status: str = Field(description="frozen, complete (keeps every rule) or draft (does not "
                                    "yet)")
    status_label: str
    updated_at: Moment


class SchemePage(BaseModel):
    items: list[SchemeSummary]
    total: int
    page: int
    pages: int
    per_page: int
    sort: str = Field(description="The sort applied, a leading - descending")


class RuleOut(BaseModel):
    type: str = Field(description="points, tiers, ratio_ge, ratio_le, thresholds, survey_mean "
                                  "or survey_rate")
    label: str
    text: str = Field(description="Its parameters as the editor writes them, e.g. "
                                  "target=95%; unit=比例")
    params: dict[str, Any] = Field(description="Its parameters as the scheme stores them: tiers "
                                               "with coefficients, target, unit, bands, "
                                               "questions, scale, satisfied")


class IndicatorOut(BaseModel):
    id: str = Field(description="Positional: A (a part's root), A1, A1.2, A1.2.3")
    name: str
    points: str | None = Field(description="Its points, a decimal string; an inner indicator's "
                                           "equal the sum of its children's")
    dimension: str | None = Field(None, description="决策, 过程, 产出 or 效益 for a level-1 "
                                                    "indicator on the national frame")
    children: list[IndicatorOut] | None = Field(description="None for a leaf (a scored "
                                                            "indicator)")
    rule: RuleOut | None = Field(None, description="A leaf's scoring rule; none until set")
    criteria: str | None = Field(None, description="A leaf's scoring criteria (评分标准)")


class PartOut(BaseModel):
    id: str
    name: str
    party: str = Field(description="purchaser, recipient or third_party (评价主体)")
    party_label: str
    weight: str = Field(description="A decimal string, e.g. 0.40; the parts' weights add up to "
                                    "1.00")
    combine: str = Field(description="How the party's sheets combine: mean, median or "
                                     "trimmed_mean")
    combine_label: str
    national_frame: bool = Field(description="The part follows the national frame (决策 / 过程 "
                                             "/ 产出 / 效益)")
    frame_reason: str | None = Field(description="Why 产出 and 效益 carry less than 60 points, "
                                                 "where they do")
    tree: IndicatorOut


class GradeOut(BaseModel):
    name: str
    min: str = Field(description="The lowest total of the grade, inclusive, a decimal string")


class SchemeOut(SchemeSummary):
    description: str
    valid: bool = Field(description="Keeps every rule: an evaluation may start on it")
    editable: bool = Field(description="The caller may change it on the scheme's page")
    grades: list[GradeOut]
    missing: str = Field(description="What a missing leaf does: block, zero or redistribute")
    missing_label: str
    scales: dict[str, dict[str, Any]] = Field(description="Survey scales: each answer's value "
                                                          "out of 100 (none: not counted)")
    parts: list[PartOut]
    problems: dict[str, str] = Field(description="Each rule the scheme does not keep yet, by the "
                                                 "indicator or part it concerns")


IndicatorOut.model_rebuild()


def _status(scheme: IndicatorScheme) -> tuple[str, str]:
    if scheme.frozen:
        return "frozen", _("Frozen")
    if scheme.valid:
        return "complete", _("Complete")
    return "draft", _("Draft with problems")


def _summary_fields(scheme: IndicatorScheme) -> dict:
    status, label = _status(scheme)
    return {"id": scheme.id, "name": scheme.name, "service_area": scheme.service_area,
            "version": scheme.version, "based_on_id": scheme.based_on_id,
            "is_template": scheme.is_template, "organisation_id": scheme.organisation_id,
            "frozen": scheme.frozen, "status": status, "status_label": label,
            "updated_at": scheme.updated_at}


def _text(value) -> str | None:
    return None if value is None else str(value)


def _indicator(node: dict) -> IndicatorOut:
    rule = node.get("rule") if schemes.is_leaf(node) else None
    return IndicatorOut(
        id=str(node.get("id", "")), name=str(node.get("name") or ""),
        points=_text(node.get("points")), dimension=node.get("dimension") or None,
        children=None if schemes.is_leaf(node) else [_indicator(c) for c in node["children"]],
        rule=RuleOut(type=str(rule.get("type", "")),
                     label=str(schemes.RULE_LABELS.get(rule.get("type"), rule.get("type", ""))),
                     text=schemes.format_params(rule),
                     params={k: v for k, v in rule.items() if k != "type"}) if rule else None,
        criteria=node.get("criteria") if schemes.is_leaf(node) else None)


def _part(part: dict) -> PartOut:
    frame = part.get("frame") or {}
    return PartOut(
        id=str(part.get("id", "")), name=str(part.get("name") or ""),
        party=str(part.get("party", "")),
        party_label=str(schemes.PARTY_LABELS.get(part.get("party"), part.get("party", ""))),
        weight=str(part.get("weight", "")), combine=str(part.get("combine", "")),
        combine_label=str(schemes.COMBINE_LABELS.get(part.get("combine"),
                                                     part.get("combine", ""))),
        national_frame=frame.get("kind") == "national", frame_reason=frame.get("reason"),
        tree=_indicator(part["tree"]))


def scheme_out(scheme: IndicatorScheme, principal) -> SchemeOut:
    doc = scheme.document
    missing = str(doc.get("missing", "block"))
    return SchemeOut(
        **_summary_fields(scheme), description=scheme.description, valid=scheme.valid,
        editable=schemes.can_edit(principal, scheme),
        grades=[GradeOut(name=str(g.get("name", "")), min=str(g.get("min", "")))
                for g in doc.get("grades") or []],
        missing=missing, missing_label=str(schemes.MISSING_LABELS.get(missing, missing)),
        scales=doc.get("scales") or {}, parts=[_part(p) for p in doc.get("parts") or []],
        problems=schemes.problems(doc))


@router.get("/schemes", summary="List indicator schemes (指标体系列表)", response_model=SchemePage)
def list_schemes(q: str = Query("", description="Words in the name or the service area"),
                 kind: str = Query("", description="template (templates only) or scheme (the "
                                   "others only); both when omitted"),
                 sort: str | None = Query(None, description="name, service_area, version or "
                                          "updated_at; a leading - sorts descending; the latest "
                                          "changed first when omitted"),
                 page: ApiPage = 1, per_page: ApiPerPage = 20,
                 session: Session = Depends(get_session),
                 principal: Principal = Depends(readers)):
    """The schemes the caller may read, as the schemes page lists them: finance staff and
    auditors every scheme, a purchaser the templates and its department's schemes; any other
    role is refused (403). An unknown kind or sort, or a page past the last, is refused (422)
    naming the parameter."""
    if kind not in ("", *schemes.LIST_KINDS):
        raise ValidationFailed({"kind": _("%(field)s must be one of: %(choices)s.", field="kind",
                                          choices=", ".join(schemes.LIST_KINDS))})
    result = schemes.page_schemes(session, principal, q=q, kind=kind, sort=sort, page=page,
                                  per_page=per_page)
    problems = paging.list_problems(result, sort=sort, page_number=page)
    if problems:
        raise ValidationFailed(problems)
    return SchemePage(items=[SchemeSummary(**_summary_fields(s)) for s in result.items],
                      total=result.total, page=result.page, pages=result.pages,
                      per_page=result.per_page, sort=paging.applied_sort(result))


@router.get("/schemes/{scheme_id}", summary="An indicator scheme (指标体系)",
            response_model=SchemeOut, responses=error_responses(404))
def get_scheme(scheme_id: int, session: Session = Depends(get_session),
               principal: Principal = Depends(read_one)):
    """One scheme as its editor shows it: settings, grades, survey scales, the parts with their
    party, weight and combining rule, each part's indicator tree with the leaves' rules and
    criteria, and the rules it does not keep yet. Finance staff and auditors read every scheme,
    a purchaser the templates and its department's schemes (another's is not found, 404); any
    other role is refused (403)."""
    return scheme_out(schemes.get(session, scheme_id), principal)


class SchemeChoiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a mistyped key is refused, not left out

    source_id: RowId = Field(description="The template or complete scheme of the department to "
                                         "copy (GET /api/schemes?kind=template)")


@router.post("/contracts/{contract_id}/scheme",
             summary="Choose a contract's indicator scheme (选定考核标准)", response_model=SchemeOut,
             status_code=201, responses=error_responses(404, 409))
def choose_contract_scheme(contract_id: int, body: SchemeChoiceIn, response: Response,
                           session: Session = Depends(get_session),
                           principal: Principal = Depends(contract_purchaser)):
    """The purchasing department gives its contract an assessment standard (考核标准), as the
    contract page's choice does: a copy of a template or of one of its complete schemes becomes
    the contract's own scheme, to adapt until the first evaluation freezes it. Only a purchaser
    of the contract's department may (another role: 403; another department's contract: 404).
    A source that is not a template or the department's, or that does not keep every rule, is
    refused (422 naming source_id); a contract whose scheme no evaluation has frozen yet keeps
    it (409: adapt it instead). Answers 201 with the new scheme and its address in Location.
    Audited as scheme.copy and contract.scheme."""
    scheme = evaluations.assign_scheme(session, principal, contract_id, body.source_id)
    response.headers["location"] = f"/api/schemes/{scheme.id}"
    return scheme_out(scheme, principal)
