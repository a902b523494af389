"""The ``Idempotency-Key`` header of the JSON API (幂等键), as an ASGI middleware: a POST or
PATCH under /api that carries it runs once, and its retries get the first answer again
(``services.idempotency`` holds the rules).

The middleware sits inside the session, language and security-header middleware, so that it
reads the signed-in user from the same session the routes do (``access.load_principal``, whose
principal the route's access decision then reuses), its refusals are in the reader's
language, and a replayed answer carries the same headers as any other; and outside the
application's error handlers, so that it sees every answer as sent — a refusal raised by a
service (422, 404, 403) as much as a success — and a server error as the exception it is.

A request takes part only when it would pass the session checks: a signed-in user, not held to
a new password, whose request carries the session's CSRF token in ``X-CSRF-Token``. Any other
request goes on untouched and the route refuses it as always (401, 403), keeping nothing, so
that a retry with the token fixed runs. The session's own endpoints (signing in and out, one's
own password) are left out: their effect is the session cookie, which no replay could give.
Without the header nothing changes at all.
"""

from __future__ import annotations

import logging

import anyio
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from starlette.requests import Request

from evalplatform.db import run_in_session
from evalplatform.security import tokens_equal
from evalplatform.services import idempotency
from evalplatform.services.errors import Conflict, ValidationFailed
from evalplatform.web import csrf
from evalplatform.web.access import SESSION_USER, load_principal
from evalplatform.web.forms import _declared_length, body_limit

log = logging.getLogger(__name__)

_HEADER = idempotency.HEADER.lower().encode("latin-1")

#: The session's own endpoints, whose effect is the cookie: not covered.
SESSION_API = "/api/session"


def covered(method: str, path: str) -> bool:
    """Whether a request with this method and path honours ``Idempotency-Key``."""
    return (method in idempotency.METHODS and path.startswith("/api/")
            and path != SESSION_API and not path.startswith(SESSION_API + "/"))


def _full_path(scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return scope["path"] + (f"?{query}" if query else "")


def _replaying(messages: list[dict], receive):
    """``receive`` that first hands out ``messages`` (what was already read), then reads on."""
    pending = list(messages)

    async def replay():
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _routes(routes):
    """Every route, walking into included routers (FastAPI keeps an included router as one
    entry whose ``original_router`` holds its routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _routes(included.routes)
        else:
            yield route


def _begin(session, request: Request, values: list[str], body: bytes):
    """In a worker thread: who is signed in, then the key's claim or its kept answer; None
    when the request does not take part (nobody signed in, or one who must first choose a new
    password)."""
    principal = load_principal(request, session)
    session.rollback()
    if principal is None or principal.must_change_password:
        return None
    key = idempotency.read_key(values)
    return idempotency.claim(session, user_id=principal.id, key=key,
                             method=request.scope["method"], path=_full_path(request.scope),
                             body=body)


class IdempotencyMiddleware:
    """Honours ``Idempotency-Key`` on the JSON API's POST and PATCH requests."""

    def __init__(self, app):
        self.app = app
        self._most_files: int | None = None

    def _body_limit(self, scope) -> int:
        """The largest body any route takes with this content type: a larger one is passed
        on for the route to refuse (413), never held here whole."""
        app = scope["app"]
        if self._most_files is None:
            self._most_files = max((getattr(getattr(route, "endpoint", None), "json_files", 0)
                                    for route in _routes(app.routes)), default=0)
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        return body_limit(app.state.settings, content_type, self._most_files)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not covered(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        values = [value.decode("latin-1") for name, value in scope["headers"]
                  if name.lower() == _HEADER]
        request = Request(scope)
        if not values or not self._session_checks_pass(request):
            await self.app(scope, receive, send)
            return
        messages, body = await self._read_body(scope, receive)
        receive = _replaying(messages if body is None else [
            {"type": "http.request", "body": body, "more_body": False}], receive)
        if body is None:  # too large, or the client left: the route answers as always
            await self.app(scope, receive, send)
            return
        try:
            outcome = await run_in_session(request, _begin, request, values, body)
        except ValidationFailed as exc:
            await JSONResponse({"detail": exc.message, "errors": exc.errors},
                               status_code=422)(scope, receive, send)
            return
        except Conflict as exc:
            await JSONResponse({"detail": exc.message}, status_code=409)(scope, receive, send)
            return
        if outcome is None:
            await self.app(scope, receive, send)
        elif isinstance(outcome, idempotency.StoredAnswer):
            await self._replay(outcome, scope, receive, send)
        else:
            await self._run(outcome, request, receive, send)

    @staticmethod
    def _session_checks_pass(request: Request) -> bool:
        """A signed-in session and its CSRF token in the header, as the route will check."""
        session = request.session
        return (session.get(SESSION_USER) is not None
                and tokens_equal(session.get(csrf.SESSION_KEY), request.headers.get(csrf.HEADER)))

    async def _read_body(self, scope, receive) -> tuple[list[dict], bytes | None]:
        """The request's body, read whole (its fingerprint decides), with the messages read;
        the body is None when it is over every route's limit or the client went away."""
        limit = self._body_limit(scope)
        declared = _declared_length(dict(scope["headers"]).get(b"content-length", b"")
                                    .decode("latin-1") or None)
        if declared is not None and declared > limit:
            return [], None
        messages, chunks, size = [], [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, None
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return messages, None
            if not message.get("more_body"):
                return messages, b"".join(chunks)

    @staticmethod
    async def _replay(answer: idempotency.StoredAnswer, scope, receive, send) -> None:
        headers = {**answer.headers, idempotency.REPLAYED_HEADER: "true"}
        await Response(answer.body, status_code=answer.status_code,
                       headers=headers)(scope, receive, send)

    async def _run(self, claimed: idempotency.Claim, request: Request, receive, send) -> None:
        """Run the request; keep its answer before the answer goes out (so that a retry that
        follows it finds it kept), or give the key up when there is none to keep."""
        start: dict | None = None
        chunks: list[bytes] = []
        answered = False

        async def keep_then_send(message) -> None:
            nonlocal start, answered
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            answered = True
            body = b"".join(chunks)
            headers = {name.decode("latin-1").lower(): value.decode("latin-1")
                       for name, value in start.get("headers", [])}
            try:
                await run_in_session(request, idempotency.finish, claimed,
                                     status_code=start["status"], headers=headers, body=body)
            except Exception:  # noqa: BLE001 - the answer still goes out; the key is given up
                log.exception("the answer to %s %s was not kept for its Idempotency-Key",
                              request.method, request.url.path)
                await self._give_up(request, claimed)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        try:
            await self.app(request.scope, receive, keep_then_send)
        except BaseException:
            if not answered:
                await self._give_up(request, claimed)
            raise
        if not answered:
            await self._give_up(request, claimed)

    @staticmethod
    async def _give_up(request: Request, claimed: idempotency.Claim) -> None:
        with anyio.CancelScope(shield=True):
            try:
                await run_in_session(request, idempotency.abandon, claimed)
            except Exception:  # noqa: BLE001 - the key then stays "in progress" until it expires
                log.exception("the Idempotency-Key of %s %s was not given up",
                              request.method, request.url.path)


#: The header as the OpenAPI document describes it on every POST and PATCH it applies to.
PARAMETER = {
    "name": idempotency.HEADER,
    "in": "header",
    "required": False,
    "description": (
        "Makes a retry safe (幂等键): a key of your choosing, 1–255 printable ASCII characters "
        "(a UUID, say; the quoted form \"…\" of the IETF draft is read too), new for each new "
        "request. A retry with the same key and the same method, path and body runs nothing and "
        "gets the first answer again — its status, Content-Type, Location and body — with the "
        "header Idempotent-Replayed: true. Kept are successes and refusals of what was sent "
        "(2xx, 4xx), not server errors nor 408, 409, 425, 429, which a retry runs again. The "
        "same key with another method, path or body is refused (422 naming the header); while "
        "the first request with it still runs, a retry is answered 409. Keys belong to the "
        "signed-in user and are kept 24 hours from their first request; without the header "
        "nothing changes. The session's own endpoints (/api/session…) ignore it."),
    "schema": {"type": "string", "minLength": 1, "maxLength": idempotency.MAX_KEY_LENGTH},
}


def document(schema: dict) -> dict:
    """The OpenAPI document with the header on every operation it applies to, and a 409 (a
    retry while the first request runs) where the operation did not list one."""
    problem = {"content": {"application/json": {"schema": {
        "$ref": "#/components/schemas/Problem"}}}}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not covered(method.upper(), path):
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == idempotency.HEADER for p in parameters):
                parameters.append(dict(PARAMETER))
            operation.setdefault("responses", {}).setdefault("409", {
                **problem, "description": "A request with the same Idempotency-Key is still "
                                          "being processed: send it again in a moment"})
    return schema


def install(app: FastAPI) -> None:
    """Add the middleware (call it before any other middleware is added, so that it is the
    innermost) and describe the header in the app's OpenAPI document."""
    app.add_middleware(IdempotencyMiddleware)
    build_document = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = document(build_document())
        return app.openapi_schema

    app.openapi = openapi
