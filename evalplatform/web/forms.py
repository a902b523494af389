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
and only the limits' messages are put in the reader's language the same way. Every route's URL
is checked first for what the database cannot be asked (``url_problems``), and so is a JSON
body: a NUL character in one of its strings is refused naming the field (``json_nul_problems``).
A form's text arrives without the control characters nobody types (NUL among them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from types import UnionType
from typing import Union, get_args, get_origin
from urllib.parse import parse_qsl

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from evalplatform.db import MAX_INTEGER
from evalplatform.i18n import _, size_text
from evalplatform.services import appeals
from evalplatform.settings import get_settings


def too_many_fields(max_fields: int | float) -> HTTPException:
    return HTTPException(400, _("This form has too many fields: at most %(count)s are accepted.",
                                count=int(max_fields)))


def field_too_long(max_part_size: int) -> HTTPException:
    return HTTPException(400, _("An answer in this form is too long: one field may hold at most "
                                "%(size)s.", size=size_text(max_part_size)))


def too_many_files(max_files: int | float) -> HTTPException:
    return HTTPException(400, _("This form has too many files: at most %(count)s are accepted.",
                                count=int(max_files)))


#: The most files one form carries: an appeal's evidence.
FORM_FILES = appeals.MAX_EVIDENCE_FILES


def files_in_json(count: int):
    """Marks an API endpoint whose JSON body carries up to ``count`` files as base64: its
    body may be larger than a text body by that many files (``body_limit``)."""
    def mark(endpoint):
        endpoint.json_files = count
        return endpoint
    return mark


def body_limit(settings, content_type: str | None, json_files: int = 0) -> int:
    """The largest body a request of this content type may send to a route whose JSON
    carries ``json_files`` files: ``EVAL_REQUEST_MAX_BYTES`` for text, plus
    ``EVAL_UPLOAD_MAX_BYTES`` for each file a form may hold (Starlette keeps a file part
    on disk, not in memory), or for each file of such JSON as base64 (4/3 of its bytes)."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return settings.request_max_bytes + FORM_FILES * settings.upload_max_bytes
    if json_files and _json(content_type):
        return settings.request_max_bytes + json_files * -(-settings.upload_max_bytes * 4 // 3)
    return settings.request_max_bytes


def body_too_large(limit: int) -> HTTPException:
    return HTTPException(413, _("This request is too large: at most %(size)s are accepted.",
                                size=size_text(limit)))


def _capped(receive, limit: int):
    """``receive`` that refuses (413) a body once more than ``limit`` bytes of it arrive, so a
    body sent without its length (chunked) is never read whole either."""
    seen = 0

    async def capped_receive():
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise body_too_large(limit)
        return message

    return capped_receive


def _declared_length(value: str | None) -> int | None:
    """A ``Content-Length`` as a number (None when absent or not a whole number)."""
    if value is None or not value.isascii() or not value.strip().isdigit():
        return None
    return int(value)


def capped(request: Request, request_class: type[Request], json_files: int = 0) -> Request:
    """``request`` as ``request_class``, its body capped at ``body_limit``: refused (413) at
    once when its declared length is over, else as soon as what arrives is."""
    settings = getattr(request.app.state, "settings", None) or get_settings()
    limit = body_limit(settings, request.headers.get("content-type"), json_files)
    declared = _declared_length(request.headers.get("content-length"))
    if declared is not None and declared > limit:
        raise body_too_large(limit)
    return request_class(request.scope, _capped(request.receive, limit))


def _urlencoded(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == (
        "application/x-www-form-urlencoded")


#: Control characters a person does not type: NUL (PostgreSQL's text holds none) and the others
#: below the space, but tab and line breaks. A form's text arrives without them (as a survey's
#: answers do, ``surveys.responses``).
_UNTYPED = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_HAS_UNTYPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _without_untyped(form: FormData) -> FormData:
    """``form`` with the control characters nobody types dropped from its names, its text and
    its files' names; the same object when it holds none (the usual case, checked once)."""
    items = form.multi_items()
    if not any(_HAS_UNTYPED.search(name) or _HAS_UNTYPED.search(
            value if isinstance(value, str) else value.filename or "") for name, value in items):
        return form
    cleaned = []
    for name, value in items:
        if isinstance(value, str):
            value = value.translate(_UNTYPED)
        elif value.filename:
            value.filename = value.filename.translate(_UNTYPED)
        cleaned.append((name.translate(_UNTYPED), value))
    return FormData(cleaned)


class FormLimitsRequest(Request):
    """A request whose form, over Starlette's limits (too many fields or files, a part too
    large), is refused with a 400 in the reader's language naming the limit, not Starlette's
    English. Every router of the app reads forms through it (``FormRoute``). The form's text
    comes without the control characters nobody types (``_without_untyped``)."""

    async def _get_form(self, *, max_files: int | float = 1000, max_fields: int | float = 1000,
                        max_part_size: int = 1024 * 1024) -> FormData:
        form = await self._read_form(max_files=max_files, max_fields=max_fields,
                                     max_part_size=max_part_size)
        self._form = _without_untyped(form)
        return self._form

    async def _read_form(self, *, max_files: int | float, max_fields: int | float,
                         max_part_size: int) -> FormData:
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


def _declared(dependant, kind: str) -> Iterator:
    """The ``path_params`` or ``query_params`` of a route's dependant and all its dependencies
    (an access decision may read the path's id too)."""
    yield from getattr(dependant, kind)
    for sub in dependant.dependencies:
        yield from _declared(sub, kind)


def _whole_number(annotation) -> bool:
    """``int``, ``int | None`` or ``Optional[int]`` (``Annotated`` is already unwrapped)."""
    if annotation is int:
        return True
    return get_origin(annotation) in (Union, UnionType) and int in get_args(annotation)


#: A whole number as pydantic reads one from a URL: spaces around, a sign, digits, "_" between
#: digits, a fraction of zeros.
_WHOLE_NUMBER = re.compile(r"^\s*([+-]?[0-9](?:_?[0-9])*)(?:\.0*)?\s*$")


def _out_of_range(raw: str) -> dict | None:
    """The rule a whole number typed in the URL breaks by being too large for the database
    (``db.MAX_INTEGER``), as pydantic would put it; None within range or not a number."""
    match = _WHOLE_NUMBER.match(raw)
    if match is None:
        return None
    number = int(match.group(1).replace("_", ""))
    if number > MAX_INTEGER:
        return {"type": "less_than_equal", "ctx": {"le": MAX_INTEGER}, "input": raw,
                "msg": f"Input should be less than or equal to {MAX_INTEGER}"}
    if number < -MAX_INTEGER - 1:
        return {"type": "greater_than_equal", "ctx": {"ge": -MAX_INTEGER - 1}, "input": raw,
                "msg": f"Input should be greater than or equal to {-MAX_INTEGER - 1}"}
    return None


def url_problems(request: Request, int_path: frozenset[str], int_query: frozenset[str]) -> list:
    """What the database could not be asked about a URL, as pydantic errors for the app's
    handler of invalid requests: a NUL character in a path or query parameter (PostgreSQL's text
    holds none), a whole number too large for an INTEGER column. A path parameter names nothing
    then (404, as ``/projects/abc`` does); a query parameter is refused naming it (422)."""
    problems = []
    for name, value in request.path_params.items():
        if "\x00" in str(value):
            problems.append({"type": "string_nul", "loc": ("path", name), "input": value,
                             "msg": "NUL character"})
        elif name in int_path and (problem := _out_of_range(str(value))):
            problems.append({**problem, "loc": ("path", name)})
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            problems.append({"type": "string_nul", "loc": ("query", name.replace("\x00", "")),
                             "input": value, "msg": "NUL character"})
        elif name in int_query and (problem := _out_of_range(value)):
            problems.append({**problem, "loc": ("query", name)})
    return problems


def _json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


#: A UTF-16 surrogate standing alone (JSON's "\ud800" without its pair): no character, which
#: UTF-8, and so the database and every page that would show it, cannot hold.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _unstorable(text: str) -> str | None:
    """What in ``text`` no column can hold: ``string_nul`` or ``string_surrogate``, or None."""
    if "\x00" in text:
        return "string_nul"
    if _LONE_SURROGATE.search(text) is not None:
        return "string_surrogate"
    return None


def _nul_paths(value, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Where a NUL character or a lone surrogate stands in a JSON value: the paths of its
    strings (or keys), each with what it holds."""
    if isinstance(value, str):
        if kind := _unstorable(value):
            yield path, kind
    elif isinstance(value, dict):
        for key, item in value.items():
            clean = _LONE_SURROGATE.sub("", key.replace("\x00", ""))
            yield from _nul_paths(item, (*path, clean))
            if kind := _unstorable(key):
                yield (*path, clean), kind
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, index))


def json_nul_problems(body: bytes) -> list:
    """A JSON body's strings that hold a NUL character (written ``\\u0000``; PostgreSQL's
    text holds none) or a lone surrogate (``\\ud800``: no character at all), as pydantic
    errors naming each field: refused before the handler, as the URL's are. A body that is not
    JSON is left to the handler's own reader."""
    if b"\\u0000" not in body and b"\\ud" not in body.lower():
        return []
    try:
        value = json.loads(body)
    except ValueError:
        return []
    found = dict(_nul_paths(value))
    return [{"type": kind, "loc": ("body", *path), "input": None,
             "msg": "NUL character" if kind == "string_nul" else "lone surrogate"}
            for path, kind in found.items()]


class FormRoute(APIRoute):
    """A route whose handler and dependencies read forms through ``request_class``: the
    app's routers are all built with ``route_class=FormRoute`` (or a subclass), so every form
    over its limits is refused in the reader's language. Its URL is checked first for what the
    database could not be asked (``url_problems``): such a request is refused as an invalid one,
    never reaching a query that would fail (a 500). A body over ``body_limit`` is refused
    with 413 before it is read, or as soon as its bytes pass the limit."""

    request_class: type[Request] = FormLimitsRequest

    def get_route_handler(self):
        handler = super().get_route_handler()
        request_class = self.request_class
        int_path = frozenset(f.alias for f in _declared(self.dependant, "path_params")
                             if _whole_number(f.field_info.annotation))
        int_query = frozenset(f.alias for f in _declared(self.dependant, "query_params")
                              if _whole_number(f.field_info.annotation))

        json_files = getattr(self.endpoint, "json_files", 0)

        async def form_handler(request: Request):
            problems = url_problems(request, int_path, int_query)
            if problems:
                raise RequestValidationError(problems)
            request = capped(request, request_class, json_files)
            if _json(request.headers.get("content-type")):
                problems = json_nul_problems(await request.body())
                if problems:
                    raise RequestValidationError(problems)
            return await handler(request)

        return form_handler


class UrlencodedFormRoute(FormRoute):
    """A route whose handler and dependencies read urlencoded forms with ``parse_qsl``."""

    request_class = UrlencodedFormRequest
