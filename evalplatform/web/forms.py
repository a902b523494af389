"""Reading an ``application/x-www-form-urlencoded`` body in one call of the standard library's
parser (表单解析).

Starlette reads such a body with python-multipart's callback parser, which costs about a
tenth of a respondent's whole submission (measured: some 75 µs of a questionnaire's seven
fields). The routes of a router built with ``route_class=UrlencodedFormRoute`` parse it with
``urllib.parse.parse_qsl`` instead and give the same form: fields in order, repeated names
kept, blank values kept, ``+`` and ``%xx`` decoded as UTF-8 the way Starlette does. Limits
are kept too: more than ``max_fields`` fields, or a field longer than ``max_part_size``
bytes, is a 400 whose message is in the reader's language and names the limit (the most
fields, the longest field in KB or MB); Starlette's English messages for the same limits of
a multipart body are put the same way. Multipart bodies (uploads) still go to Starlette.

Every other router is built with ``route_class=FormRoute``: its forms are read by Starlette,
and only the limits' messages are put in the reader's language the same way.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from evalplatform.i18n import _, size_text


def too_many_fields(max_fields: int | float) -> HTTPException:
    return HTTPException(400, _("This form has too many fields: at most %(count)s are accepted.",
                                count=int(max_fields)))


def field_too_long(max_part_size: int) -> HTTPException:
    return HTTPException(400, _("An answer in this form is too long: one field may hold at most "
                                "%(size)s.", size=size_text(max_part_size)))


def too_many_files(max_files: int | float) -> HTTPException:
    return HTTPException(400, _("This form has too many files: at most %(count)s are accepted.",
                                count=int(max_files)))


def _urlencoded(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == (
        "application/x-www-form-urlencoded")


class FormLimitsRequest(Request):
    """A request whose form, over Starlette's limits (too many fields or files, a part too
    large), is refused with a 400 in the reader's language naming the limit, not Starlette's
    English. Every router of the app reads forms through it (``FormRoute``)."""

    async def _get_form(self, *, max_files: int | float = 1000, max_fields: int | float = 1000,
                        max_part_size: int = 1024 * 1024) -> FormData:
        try:
            return await super()._get_form(max_files=max_files, max_fields=max_fields,
                                            max_part_size=max_part_size)
        except StarletteHTTPException as exc:  # Starlette's multipart limits, in English
            detail = str(exc.detail)
            if exc.status_code != 400:
                raise
            if detail.startswith("Too many fields"):
                raise too_many_fields(max_fields) from None
            if detail.startswith("Too many files"):
                raise too_many_files(max_files) from None
            if detail.startswith("Part exceeded maximum size"):
                raise field_too_long(max_part_size) from None
            raise HTTPException(400, _("This form could not be read. Reload the page and try "
                                       "again.")) from None


class UrlencodedFormRequest(FormLimitsRequest):
    async def _get_form(self, *, max_files: int | float = 1000, max_fields: int | float = 1000,
                        max_part_size: int = 1024 * 1024) -> FormData:
        if self._form is None and _urlencoded(self.headers.get("content-type")):
            text = (await self.body()).decode("latin-1")
            try:
                pairs = parse_qsl(text, keep_blank_values=True,
                                  max_num_fields=int(max_fields) if max_fields < 2**31 else None)
            except ValueError:
                raise too_many_fields(max_fields) from None
            if any(len(value) > max_part_size for _name, value in pairs):
                raise field_too_long(max_part_size)
            self._form = FormData(pairs)
        return await super()._get_form(max_files=max_files, max_fields=max_fields,
                                        max_part_size=max_part_size)


class FormRoute(APIRoute):
    """A route whose handler and dependencies read forms through ``request_class``: the
    app's routers are all built with ``route_class=FormRoute`` (or a subclass), so every form
    over its limits is refused in the reader's language."""

    request_class: type[Request] = FormLimitsRequest

    def get_route_handler(self):
        handler = super().get_route_handler()
        request_class = self.request_class

        async def form_handler(request: Request):
            return await handler(request_class(request.scope, request.receive))

        return form_handler


class UrlencodedFormRoute(FormRoute):
    """A route whose handler and dependencies read urlencoded forms with ``parse_qsl``."""

    request_class = UrlencodedFormRequest
