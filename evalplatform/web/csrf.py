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


async def csrf_protect(request: Request) -> None:
    """A global dependency: refuses an unsafe request whose token is absent or wrong."""
    if request.method in SAFE_METHODS:
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
