"""CSRF protection for every state-changing request (forms and htmx alike).

The token lives in the signed session; forms carry it in a hidden ``csrf_token`` field and
htmx sends it in the ``X-CSRF-Token`` header (set once on <body> with hx-headers).
"""

from __future__ import annotations

from fastapi import Request

from evalplatform.i18n import _
from evalplatform.security import new_token, tokens_equal
from evalplatform.services.errors import PermissionDenied

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}
SESSION_KEY = "csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"


class CSRFRejected(PermissionDenied):
    pass


def csrf_token(request: Request) -> str:
    token = request.session.get(SESSION_KEY)
    if not token:
        token = new_token()
        request.session[SESSION_KEY] = token
    return token


#: The one API route a signed-out client writes to: signing in, which keeps its token check
#: (a forged sign-in would put the victim into the forger's account).
SIGN_IN_API = "/api/session"


def _signed_out_api_call(request: Request) -> bool:
    """A JSON API call with no signed-in session behind it: there is no session for a forged
    request to ride on, so the route's own access check answers it (401, sign in first)
    rather than a refusal of its token. The token is checked again once signed in."""
    from evalplatform.web.access import SESSION_USER

    signing_in = request.url.path == SIGN_IN_API and request.method == "POST"
    return (request.url.path.startswith("/api/") and not signing_in
            and not request.session.get(SESSION_USER))


async def csrf_protect(request: Request) -> None:
    """A global dependency: refuses an unsafe request whose token is absent or wrong."""
    if request.method in SAFE_METHODS or _signed_out_api_call(request):
        return
    supplied = request.headers.get(HEADER)
    if not supplied:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()  # cached by Starlette for the handler
            supplied = form.get(FORM_FIELD)
    if not tokens_equal(request.session.get(SESSION_KEY), supplied):
        raise CSRFRejected(
            _("This form has expired or did not come from this site. Reload the page and try again.")
        )
