"""Lean routes (精简路由): the few public endpoints that carry the load, as plain Starlette
routes.

A respondent's submission is the one request that arrives by the thousand, and the health
check is what a load balancer calls every few seconds. Through FastAPI, each of them pays for
the included routers' matching, the dependency solver (the global CSRF dependency and the
access decision), the path parameters' validation and two exit stacks: measured in one
process, some 0.6 ms of a submission's 2 ms of the worker's processor, more than the
submission's own work. A :class:`LeanRoute` keeps what those requests need and nothing more:

* its access decision is declared and taken before the endpoint, as on every route (only
  ``anyone``, which looks nothing up, is allowed here: an endpoint that needs a signed-in
  user belongs on an ``APIRouter``); the test that walks every route checks it;
* an unsafe method passes the same CSRF check as every other form (``csrf_protect``);
* an urlencoded form is read with ``parse_qsl`` (``evalplatform.web.forms``), its body
  capped as every route's is (``forms.capped``);
* the endpoint is ``async def endpoint(request, **path_params)`` and returns a response;
  path parameters arrive as strings, as the routes' own ``str`` parameters did.

Everything else is the application's as for any route: the middleware (session cookie,
language, security headers) and the error handlers (a ``DomainError`` raised here becomes
the same page). The routes are matched before every router, and they are left out of the
OpenAPI document, which describes ``/api/``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from evalplatform.web.access import Access, anyone
from evalplatform.web.csrf import csrf_protect
from evalplatform.web.forms import UrlencodedFormRequest, capped, url_problems

Endpoint = Callable[..., Awaitable[Response]]


class LeanRoute(Route):
    """A Starlette route whose endpoint is reached by ``access`` (only ``anyone``) after the
    CSRF check."""

    def __init__(self, path: str, endpoint: Endpoint, *, methods: list[str],
                 access: Access = anyone):
        if access is not anyone:
            raise ValueError(f"{path}: a lean route is for anyone; a route that looks up the "
                             "signed-in user goes on an APIRouter")
        self.access = access

        async def handle(request: Request) -> Response:
            request = capped(request, UrlencodedFormRequest)
            problems = url_problems(request, frozenset(), frozenset())
            if problems:  # a NUL in the URL: nothing the database could be asked (as FormRoute)
                raise RequestValidationError(problems)
            await access(request)
            await csrf_protect(request)
            return await endpoint(request, **request.path_params)

        super().__init__(path, handle, methods=methods, name=endpoint.__name__,
                         include_in_schema=False)


class LeanRoutes:
    """A list of lean routes with ``get``/``post`` decorators, like a router's."""

    def __init__(self):
        self.routes: list[LeanRoute] = []

    def route(self, path: str, methods: list[str]) -> Callable[[Endpoint], Endpoint]:
        def register(endpoint: Endpoint) -> Endpoint:
            self.routes.append(LeanRoute(path, endpoint, methods=methods))
            return endpoint
        return register

    def get(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, ["GET"])

    def post(self, path: str) -> Callable[[Endpoint], Endpoint]:
        return self.route(path, ["POST"])
