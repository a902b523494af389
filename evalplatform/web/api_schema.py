"""What the JSON API answers: moments with their offset, and refusals for the OpenAPI document.

Every refusal is JSON with ``detail``, a sentence in the reader's language; a 422 adds
``errors``, each parameter or field refused with the rule it broke (``app.install_error_handlers``
writes them). FastAPI's own 422 schema (``detail`` a list of pydantic errors) is not what the
API sends, so the API's routes name these instead."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from evalplatform.db import MAX_INTEGER
from evalplatform.services.clock import as_utc

#: A moment in the API's answers: always with its offset (UTC, ``…+00:00``). SQLite hands
#: timestamps back without one, which a program would read as its own local time — eight hours
#: off for Beijing.
Moment = Annotated[datetime, AfterValidator(as_utc)]


def _refuse_true_and_false(kind: str, message: str) -> BeforeValidator:
    """JSON's ``true`` and ``false`` refused where a number is expected: pydantic would read
    them as 1 and 0 and store them so (``{"points": true}`` became one point). The error's
    ``kind`` is the one pydantic gives a value of the wrong type, so that the refusal names the
    field and says what it must be, as any other (``app.install_error_handlers``)."""
    def refuse(value):
        if isinstance(value, bool):
            raise PydanticCustomError(kind, message)
        return value
    return BeforeValidator(refuse)


#: JSON's true and false refused where a whole number is expected.
_NOT_TRUE_OR_FALSE = _refuse_true_and_false("int_type", "Input should be a valid integer")

#: A whole number sent in a request's body; ``true`` and ``false`` are not numbers.
WholeNumber = Annotated[int, _NOT_TRUE_OR_FALSE]
#: A number sent in a request's body as a JSON number or as text ("12.5", "95%"), which the
#: service reads as the page's form field; ``true`` and ``false`` are neither.
NumberOrText = Annotated[str | int | float,
                         _refuse_true_and_false("float_type", "Input should be a valid number")]

#: An id sent in a request's body: a whole number from 1 that an INTEGER column holds. A larger
#: one names no row, and the database's driver would refuse even to compare it. (The range
#: comes before the refusal of true and false, which would otherwise hide it from the
#: OpenAPI document.)
RowId = Annotated[int, Field(ge=1, le=MAX_INTEGER), _NOT_TRUE_OR_FALSE]
#: A record's version as the client read it, sent back so that a change made meanwhile is
#: refused (409) rather than overwritten: the same range as an id.
Version = Annotated[int, Field(ge=1, le=MAX_INTEGER), _NOT_TRUE_OR_FALSE]


#: The OpenAPI document's description of the API as a whole (``info.description``).
API_DESCRIPTION = """政府购买服务绩效评价平台 API

The same services and access rules as the pages; a program authenticates with the session
cookie (``GET /api/session``, then ``POST /api/session``) and sends the session's CSRF token in
the ``X-CSRF-Token`` header of every state-changing request. A request with no signed-in session
behind it is answered 401 (sign in first), whatever its method; only signing in itself needs
the token before there is a session.

**Language.** Answers and refusals — ``detail``, ``errors`` and labels such as
``level_label`` — are in Chinese (``zh-CN``) or English (``en``):

1. the language the session chose (``POST /language`` with ``language=en`` or ``zh_CN``), if
   it chose one;
2. else the most wanted of those two by the request's ``Accept-Language`` header, by q-value
   (``zh``, ``zh-CN``, ``zh-Hans``… read as Chinese, ``en``, ``en-US``… as English; a range
   with ``q=0`` or a malformed q-value is ignored);
3. else, for ``*``, another language or no header, Chinese.

Every answer under ``/api/`` says its language in ``Content-Language`` (``zh-CN`` or ``en``),
and carries ``Vary: Accept-Language`` when the header chose it. The HTML pages ignore
``Accept-Language``: they are in Chinese until the reader switches.

**Retries.** A POST or PATCH may carry an ``Idempotency-Key`` header (1–255 printable ASCII
characters, new for each new request, e.g. a UUID): a retry with the same key, method, path and
body runs nothing and gets the first answer again (status, ``Content-Type``, ``Location``,
body) with ``Idempotent-Replayed: true``. Successes and refusals (2xx, 4xx but 408, 409, 425,
429) are kept, server errors are not; the same key with another request is refused (422 naming
the header), a retry while the first still runs is answered 409. Keys are the signed-in user's
own and are kept 24 hours.

**Trying it.** ``/api/docs`` shows this document with a form for every operation. Its requests
go out from the browser with the browser's session: sign in on the platform first (or with
``POST /api/session`` on that page), and the page sends the session's CSRF token for you."""

#: The operations' groups (OpenAPI ``tags``), in the order the work goes: who may do what is
#: said in each operation's description.
API_TAGS = [
    {"name": "session", "description": "Signing in and out, the session's CSRF token, one's "
                                       "own password (会话)"},
    {"name": "users", "description": "Users and organisations, kept by the administrator "
                                     "(用户与机构)"},
    {"name": "projects", "description": "Projects from registration to finance's approval, and "
                                        "what is due or late (项目)"},
    {"name": "catalogue", "description": "The guiding catalogue, its issues and publication, and "
                                         "the negative list (指导性目录与负面清单)"},
    {"name": "contracts", "description": "Contracts, their instalments, deadlines and publication "
                                         "(合同)"},
    {"name": "schemes", "description": "Indicator schemes and a contract's choice of one "
                                       "(指标体系与考核标准)"},
    {"name": "evaluations", "description": "Monitoring and ex-post evaluations of a contract and "
                                           "their stages (评价)"},
    {"name": "surveys", "description": "Recipients' satisfaction surveys: opening, closing, "
                                       "tabulation (满意度调查)"},
    {"name": "scoresheets", "description": "Score sheets of the purchaser, experts and third "
                                           "parties: drafts and submission (评分表)"},
    {"name": "results", "description": "Results computed by the scoring engine, their "
                                       "packages, publication (评价结果与公示)"},
    {"name": "appeals", "description": "Suppliers' appeals against published results and their "
                                       "decisions (申诉)"},
    {"name": "settlements", "description": "Settlement of instalments by result: proposal, "
                                           "approval, payment (结算)"},
    {"name": "standing", "description": "Suppliers' standing from their final results (承接主体"
                                        "信用)"},
    {"name": "reports", "description": "Results applied to next year's budget (预算安排建议)"},
    {"name": "audit", "description": "The audit log, its export and its hash chain (审计日志)"},
]


def operation_id(route) -> str:
    """An operation's ``operationId`` is its handler's name — ``list_projects``,
    ``propose_settlement`` — so that a client generated from the document has readable
    method names (FastAPI's default appends the path and the method)."""
    return route.name


class Problem(BaseModel):
    detail: str = Field(description="What went wrong, in the reader's language (see Language "
                                    "in the API's description)")
    code: str | None = Field(
        default=None,
        description="Where a program can act on the refusal, what it is: "
                    "password_change_required (403: the administrator reset the password; "
                    "set a new one first with POST /api/session/password or on the page "
                    "/account)")


class ValidationProblem(BaseModel):
    detail: str = Field(description="What went wrong, in the reader's language")
    errors: dict[str, str] = Field(
        description="Each parameter or field refused → the rule it broke, in the reader's "
                    "language, e.g. {\"sort\": \"排序方式须为以下之一：…\"}")


_RESPONSES = {
    401: (Problem, "Not signed in: sign in with POST /api/session (or at /login) and send the "
                   "session cookie"),
    403: (Problem, "The caller's role may not do this, or the CSRF token of a state-changing "
                   "request is missing or wrong, or (code password_change_required) the "
                   "caller must set a new password first"),
    404: (Problem, "No such record, or not the caller's to see"),
    409: (Problem, "The record's state does not allow this now (e.g. not approved, or someone "
                   "else acted first); detail says why and what to do"),
    413: (Problem, "The body is larger than the limit (EVAL_REQUEST_MAX_BYTES, plus "
                   "EVAL_UPLOAD_MAX_BYTES for each file it may carry); detail says the limit"),
    422: (ValidationProblem, "A parameter or field broke a rule; errors names each one"),
    429: (Problem, "Too many failed attempts: the account is locked for a while"),
}


def error_responses(*codes: int) -> dict[int | str, dict]:
    """``responses=error_responses(401, 403, 422)`` on a route or router: the refusals it may answer
    with, and their shape."""
    return {code: {"model": _RESPONSES[code][0], "description": _RESPONSES[code][1]}
            for code in codes}
