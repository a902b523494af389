"""The FastAPI application: middleware, error pages, static assets and routers."""

from __future__ import annotations

import asyncio
import logging
import random
import re
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.sessions import SessionMiddleware

from evalplatform import i18n
from evalplatform.db import WriteGroups, make_engine, session_threads
from evalplatform.i18n import _
from evalplatform.services.errors import DomainError, ValidationFailed
from evalplatform.serving import freeze_startup_objects
from evalplatform.settings import Settings, get_settings
from evalplatform.web.access import (
    NEW_PASSWORD_PAGE,
    SESSION_USER,
    LoginRequired,
    PasswordChangeRequired,
    load_principal,
)
from evalplatform.web.api_schema import API_DESCRIPTION, API_TAGS, operation_id
from evalplatform.web.csrf import csrf_protect
from evalplatform.web.templating import build_templates, render

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

#: npm packages served under /static/vendor/<name>/ straight from node_modules.
VENDOR_ASSETS = {"htmx": "htmx.org/dist", "echarts": "echarts/dist",
                 "swagger-ui": "swagger-ui-dist"}


#: Where the locale middleware leaves the request's language for the error handler of last
#: resort, which answers outside it: (catalogue name, whether the Accept-Language header chose it).
LANGUAGE_SCOPE_KEY = "evalplatform.language"

#: Pages under /api/ (the API's own documentation): pages like every other, in the reader's
#: chosen language, not answers of the JSON API.
API_PAGES = frozenset({"/api/docs"})


def _json_api(path: str) -> bool:
    return path.startswith("/api/") and path not in API_PAGES


class LocaleMiddleware:
    """Sets the request's language for all below: the session's choice (the language switch),
    else the default — Chinese first, whatever a browser's Accept-Language says (a headless
    browser sends en-US). A JSON API request without a choice in its session is a program's,
    which says what it reads in Accept-Language (``i18n.language_from_accept``); its answer says
    which language it is in (Content-Language) and that it depends on the header (Vary)."""

    def __init__(self, app, default_language: str):
        self.app = app
        self.default_language = default_language

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = scope.get("session", {}).get("lang")
        api = _json_api(scope["path"])
        negotiated = api and not chosen
        if negotiated:
            header = ",".join(value.decode("latin-1") for name, value in scope["headers"]
                              if name.lower() == b"accept-language")
            chosen = i18n.language_from_accept(header, self.default_language)
        token = i18n.set_language(chosen or self.default_language)
        scope[LANGUAGE_SCOPE_KEY] = (i18n.current_language(), negotiated)
        try:
            await self.app(scope, receive, _with_language_headers(scope, send) if api else send)
        finally:
            i18n._current.reset(token)


def language_headers(scope) -> dict[str, str]:
    """Content-Language (and Vary: Accept-Language where the header chose it) for an answer of
    the JSON API; nothing for a page, or before the locale middleware has run."""
    if LANGUAGE_SCOPE_KEY not in scope or not _json_api(scope["path"]):
        return {}
    language, negotiated = scope[LANGUAGE_SCOPE_KEY]
    headers = {"content-language": i18n.content_language(language)}
    if negotiated:
        headers["vary"] = "Accept-Language"
    return headers


def _with_language_headers(scope, send):
    async def send_with_language(message):
        if message["type"] == "http.response.start":
            added = language_headers(scope)
            headers = []
            for name, value in message.get("headers", []):
                if name.lower() == b"content-language":
                    continue  # the language the middleware set is the one the answer is in
                if name.lower() == b"vary" and "vary" in added:
                    value = value + b", " + added.pop("vary").encode("latin-1")
                headers.append((name, value))
            headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in added.items()]
            message = {**message, "headers": headers}
        await send(message)
    return send_with_language


class SecurityHeadersMiddleware:
    """Conservative headers on every response; scripts only from this origin."""

    HEADERS = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (
            b"content-security-policy",
            b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            b"img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
        ),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _v in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + [
                    (k, v) for k, v in self.HEADERS if k not in existing
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wants_json(request: Request) -> bool:
    return _json_api(request.url.path) or "application/json" in request.headers.get("accept", "")


def _error_page(request: Request, status_code: int, message: str) -> Response:
    if wants_json(request):
        return JSONResponse({"detail": message}, status_code=status_code)
    if not hasattr(request.state, "principal") and request.session.get(SESSION_USER) is not None:
        # refused before any route's access decision read who is signed in (the CSRF check
        # runs first): read it now, so the page keeps the signed-in user's menu
        with Session(request.app.state.engine) as session:
            load_principal(request, session)
    template = f"errors/{status_code}.html" if status_code in (403, 404) else "errors/error.html"
    return render(request, template, {"message": message, "status_code": status_code},
                  status_code=status_code)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired):
        if wants_json(request):
            return JSONResponse({"detail": _("Sign in first.")}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": "/login"})
        return RedirectResponse(f"/login?next={target}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, exc: PasswordChangeRequired):
        if wants_json(request):
            return JSONResponse({"detail": exc.message, "code": exc.code}, status_code=403)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": NEW_PASSWORD_PAGE})
        return RedirectResponse(NEW_PASSWORD_PAGE, status_code=303)

    @app.exception_handler(ValidationFailed)
    async def validation_failed(request: Request, exc: ValidationFailed):
        if wants_json(request):
            return JSONResponse({"detail": exc.message, "errors": exc.errors}, status_code=422)
        return _error_page(request, 422, exc.message)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        return _error_page(request, exc.status_code, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {
            404: _("This page does not exist."),
            405: _("This action is not available here."),
            403: _("Your role does not give access to this page."),
        }
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in messages \
            else messages.get(exc.status_code, _("Something went wrong."))
        return _error_page(request, exc.status_code, detail)

    @app.exception_handler(IntegrityError)
    async def conflicting_write(request: Request, exc: IntegrityError):
        # a unique number or name taken by a concurrent request between the service's check
        # and its write, where the service does not name the field itself: nothing was saved
        log.exception("write refused by the database on %s %s", request.method,
                      request.url.path)
        return _error_page(request, 409, _(
            "Nothing was saved: a change saved a moment ago conflicts with this one (the same "
            "name, code or number, or a record that has just changed). Reload the page to see "
            "what is there now, then try again."))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        # answered outside the middleware, whose language has been reset: the request's again
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        language, _negotiated = request.scope.get(LANGUAGE_SCOPE_KEY, (None, False))
        with i18n.language(language or i18n.current_language()):
            response = _error_page(request, 500, _("Something went wrong. The error has been "
                                                   "logged; nothing you submitted was "
                                                   "half-saved."))
        response.headers.update(language_headers(request.scope))
        return response

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, exc: RequestValidationError):
        problems = exc.errors()
        if any(tuple(error.get("loc", ()))[:1] == ("path",) for error in problems):
            # a hand-typed /projects/abc names nothing, as /projects/99999 names nothing
            return _error_page(request, 404, _("This page does not exist."))
        errors = {_field_name(error): _field_problem(error) for error in problems}
        message = " ".join(errors.values())
        if wants_json(request):
            return JSONResponse({"detail": message, "errors": errors}, status_code=422)
        return _error_page(request, 422, message)


def _whole_body(error: dict) -> bool:
    """The error is about the JSON body as a whole (not valid JSON, not an object, absent),
    not about one of its fields: pydantic then puts a character position, or nothing, after
    "body"."""
    loc = tuple(error.get("loc", ()))
    return loc[:1] == ("body",) and (len(loc) == 1 or error.get("type") == "json_invalid")


def _field_name(error: dict) -> str:
    if _whole_body(error):
        return "body"
    return ".".join(str(p) for p in tuple(error.get("loc", ()))[1:]) or "request"


def _field_label(name: str, where: str = "") -> str:
    """What the reader calls a request field: the paging numbers in words, else its name. A
    ``version`` in the query is the result version a page asks for; in a body it is the
    version of what is changed, as the client read it (a sheet's, a settlement's)."""
    if name in ("version", "expected_version") and where == "body":
        return _("Version as read")
    labels = {"page": _("Page number"), "per_page": _("Rows per page"),
              "version": _("Result version")}
    return labels.get(name, name)


def _field_problem(error: dict) -> str:
    """One invalid request field in the reader's language, naming the field and the rule
    (pydantic's own text is English and names types a reader has never heard of)."""
    field = _field_label(_field_name(error), str((tuple(error.get("loc", ())) or ("",))[0]))
    kind = str(error.get("type", ""))
    if _whole_body(error):
        if kind == "json_invalid":
            return _("The request body is not valid JSON: the error is at character "
                     "%(position)s.", position=int(tuple(error["loc"])[-1]) + 1)
        if kind == "missing":
            return _("The request body is required: a JSON object.")
        return _("The request body must be a JSON object.")
    if kind == "missing":
        return _("%(field)s is required.", field=field)
    if kind == "extra_forbidden":
        return _("Unknown field %(field)s: this request does not take it.", field=field)
    if kind == "string_nul":
        return _("%(field)s must not contain a NUL character.", field=field)
    if kind == "string_surrogate":
        return _("%(field)s holds half of a character (a lone UTF-16 surrogate such as "
                 "\\ud800), which is no text: send the whole character.", field=field)
    if kind.startswith("int_"):
        return _("%(field)s must be a whole number.", field=field)
    if kind.startswith(("float_", "decimal_")):
        return _("%(field)s must be a number.", field=field)
    if kind == "string_type":
        return _("%(field)s must be text.", field=field)
    if kind.startswith("bool_"):
        return _("%(field)s must be true or false.", field=field)
    if kind.startswith(("date_", "datetime_")):
        return _("%(field)s must be a date (YYYY-MM-DD).", field=field)
    limits = error.get("ctx") or {}
    if kind in ("enum", "literal_error"):
        choices = _ALLOWED_VALUE.findall(str(limits.get("expected", "")))
        if choices:
            return _("%(field)s must be one of: %(choices)s.", field=field,
                     choices=", ".join(choices))
        return _("%(field)s is not one of the allowed values.", field=field)
    if kind == "greater_than_equal" and "ge" in limits:
        return _("%(field)s must be at least %(limit)s.", field=field, limit=limits["ge"])
    if kind == "less_than_equal" and "le" in limits:
        return _("%(field)s must be at most %(limit)s.", field=field, limit=limits["le"])
    if kind == "greater_than" and "gt" in limits:
        return _("%(field)s must be more than %(limit)s.", field=field, limit=limits["gt"])
    if kind == "less_than" and "lt" in limits:
        return _("%(field)s must be less than %(limit)s.", field=field, limit=limits["lt"])
    if kind == "string_too_long" and "max_length" in limits:
        return _("%(field)s may be at most %(limit)s characters long.", field=field,
                 limit=limits["max_length"])
    if kind == "string_too_short" and limits.get("min_length") == 1:
        return _("%(field)s must not be empty.", field=field)
    if kind == "string_too_short" and "min_length" in limits:
        return _("%(field)s must be at least %(limit)s characters long.", field=field,
                 limit=limits["min_length"])
    if kind == "too_long" and "max_length" in limits:
        return _("%(field)s may hold at most %(limit)s items.", field=field,
                 limit=limits["max_length"])
    if kind == "too_short" and "min_length" in limits:
        return _("%(field)s must hold at least %(limit)s items.", field=field,
                 limit=limits["min_length"])
    if kind.startswith(("greater_than", "less_than")) or kind.endswith(("_too_long", "_too_short")):
        return _("%(field)s is out of the allowed range.", field=field)
    return _("%(field)s is not valid here.", field=field)


#: One value in pydantic's ``expected`` of an enum or a literal: "'collecting' or 'scoring'".
_ALLOWED_VALUE = re.compile(r"'([^']*)'")


def _compressed(files: StaticFiles) -> GZipMiddleware:
    """Static files gzipped for a browser that accepts it (ECharts' 1 MB script travels as
    ~0.3 MB); a browser that has the file revalidates it by its ETag and gets 304. Only files
    are compressed: a page carries the session's CSRF token beside what a visitor typed, which
    compression would leak through its length (BREACH)."""
    return GZipMiddleware(files, minimum_size=1024, compresslevel=6)


def mount_static(app: FastAPI, settings: Settings) -> None:
    app.mount("/static/app", _compressed(StaticFiles(directory=STATIC_DIR)), name="static")
    for name, relative in VENDOR_ASSETS.items():
        directory = settings.node_modules_dir / relative
        if not directory.is_dir():
            log.warning("front-end package missing: %s (run `npm ci`)", directory)
        app.mount(f"/static/vendor/{name}",
                  _compressed(StaticFiles(directory=directory, check_dir=False)),
                  name=f"vendor-{name}")


@asynccontextmanager
async def _lifespan(app: FastAPI):
    """Size the worker's thread pool (sync handlers, database calls) to its connection pool;
    start the worker's mixer of survey answers; stop both at the end."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = app.state.settings.worker_threads
    if getattr(app.state, "served", False):
        freeze_startup_objects()
    seconds = app.state.settings.mix_seconds
    mixer = asyncio.create_task(_mix_answers_every(app, seconds)) if seconds > 0 else None
    yield
    if mixer is not None:
        mixer.cancel()
        with suppress(asyncio.CancelledError):
            await mixer
    # the threads stop; a fresh pool (no thread until used) serves if the app is started again
    finished, app.state.session_threads = (app.state.session_threads,
                                           session_threads(app.state.settings.worker_threads))
    finished.shutdown(wait=False)


async def _mix_answers_every(app: FastAPI, seconds: float) -> None:
    """Mix survey answers (``surveys_app.mix_answers``) every ``seconds``, give or take a
    tenth so that the workers' rounds spread out; a failed round is logged and the next one
    tries again."""
    from evalplatform.services import surveys_app

    while True:
        await asyncio.sleep(seconds * random.uniform(0.9, 1.1))  # noqa: S311 - not a secret
        try:
            mixed = await anyio.to_thread.run_sync(surveys_app.mix_answers, app.state.engine)
        except Exception:  # noqa: BLE001 - the mixer must outlive a bad round
            log.exception("mixing survey answers failed; trying again in %s s", seconds)
        else:
            if mixed.answers:
                log.info("mixed %s survey answers of %s surveys", mixed.answers, mixed.surveys)


class _AnsweredErrorsStayHere:
    """The outermost layer of the served application: an error that the application has
    already answered (its 500 page sent whole, the error logged by the app's handler of
    unexpected errors) ends here. Starlette raises such an error on after answering, and uvicorn
    then closes the connection, so the browser's next request on that kept-alive connection is
    cut off (a form sent just after an error page fails twice). An error before the answer is
    complete still goes on to uvicorn, which answers 500 or closes the connection."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        answered = False

        async def send_and_note(message) -> None:
            nonlocal answered
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True

        try:
            await self.app(scope, receive, send_and_note)
        except Exception:
            if not answered:
                raise


def create_served_app() -> FastAPI:
    """The application as ``evalplatform serve`` runs it in each worker process: what it builds
    at start-up is kept out of the garbage collector's later walks (``evalplatform.serving``),
    and an error it has answered leaves the connection open (``_AnsweredErrorsStayHere``)."""
    app = create_app()
    app.state.served = True
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: _AnsweredErrorsStayHere(build_stack())
    return app


def _answers_json(path: str) -> bool:
    """A route of the JSON API, or a JSON download beside the pages (a result's package)."""
    return _json_api(path) or path.endswith(".json")


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="evalplatform",
        description=API_DESCRIPTION,
        version="0.1.0",
        dependencies=[Depends(csrf_protect)],
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: /api/docs serves it from npm
        redoc_url=None,
        openapi_url="/api/openapi.json",
        openapi_tags=API_TAGS,
        generate_unique_id_function=operation_id,
    )
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.resolved_database_url(),
                                             pool_size=settings.worker_threads)
    app.state.session_threads = session_threads(settings.worker_threads)
    app.state.write_groups = WriteGroups(lambda: app.state.session_threads)
    app.state.templates = build_templates()

    from evalplatform.web import idempotency

    idempotency.install(app)  # first, so innermost: it reads the session and answers in its language
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LocaleMiddleware, default_language=settings.default_language)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.resolved_secret_key(),
        session_cookie="evalplatform_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.cookie_secure,
    )
    install_error_handlers(app)
    mount_static(app, settings)

    from evalplatform.web.routes import LEAN_ROUTES, ROUTERS

    app.router.routes[:0] = LEAN_ROUTES
    for router in ROUTERS:
        for route in router.routes:  # the OpenAPI document is the JSON API's, not the pages'
            if isinstance(route, APIRoute) and not _answers_json(route.path):
                route.include_in_schema = False
        app.include_router(router)
    return app
