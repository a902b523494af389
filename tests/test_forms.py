"""The respondents' urlencoded forms, read with ``parse_qsl``, come out as Starlette's parser
gives them; its limits hold; multipart bodies still go to Starlette."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from evalplatform.web.forms import FormRoute, UrlencodedFormRoute
from tests.conftest import csrf_from

BODIES = [
    urlencode([("Q1", "satisfied"), ("Q7", "路灯坏了 两周 / 50% 的人+1"), ("csrf_token", "a=b&c")]),
    "Q6=morning&Q6=evening&Q6=&empty=&Q7=a+b%2Bc",  # repeated names, blanks, + and %2B
    "only_name&x=1&=nameless&%E4%B8%AD=%E6%96%87",  # a field without '=', an empty name
    "Q7=%FF%FE&Q8=%zz",  # bytes that are not UTF-8, a broken escape
    "",
]


def _app(route_class=None) -> FastAPI:
    router = APIRouter(route_class=route_class) if route_class else APIRouter()

    @router.post("/form")
    async def read(request: Request):
        form = await request.form()
        again = await request.form()  # read once, kept for the handler and its dependencies
        return {"items": list(form.multi_items()), "same": form is again,
                "kind": type(request).__name__}

    app = FastAPI()
    app.include_router(router)
    return app


@pytest.mark.parametrize("body", BODIES)
def test_the_form_is_the_one_starlette_would_read(body):
    headers = {"content-type": "application/x-www-form-urlencoded"}
    ours = TestClient(_app(UrlencodedFormRoute)).post("/form", content=body, headers=headers)
    theirs = TestClient(_app()).post("/form", content=body, headers=headers)
    assert ours.status_code == theirs.status_code == 200
    assert ours.json()["items"] == theirs.json()["items"]
    assert ours.json()["same"] and ours.json()["kind"] == "UrlencodedFormRequest"


def test_chinese_answers_arrive_as_typed():
    body = urlencode({"Q7": "希望增加周末上门服务"})
    response = TestClient(_app(UrlencodedFormRoute)).post(
        "/form", content=body,
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    assert response.json()["items"][0] == ["Q7", "希望增加周末上门服务"]


def test_too_many_fields_or_too_long_a_field_is_a_400():
    router = APIRouter(route_class=UrlencodedFormRoute)

    @router.post("/limited")
    async def limited(request: Request):
        return {"fields": len(await request.form(max_fields=10, max_part_size=2048))}

    app = FastAPI()
    app.include_router(router)
    client = TestClient(app)
    headers = {"content-type": "application/x-www-form-urlencoded"}

    def post(body: str):
        return client.post("/limited", content=body, headers=headers)

    assert post("&".join(f"f{i}=1" for i in range(10))).json() == {"fields": 10}
    too_many = post("&".join(f"f{i}=1" for i in range(11)))
    assert too_many.status_code == 400 and "最多接受 10 个" in too_many.json()["detail"]
    assert post("f=" + "x" * 2048).json() == {"fields": 1}
    too_long = post("f=" + "x" * 2049)
    assert too_long.status_code == 400 and "2 KB" in too_long.json()["detail"]


def _respondent_post(client, body: str):
    """A language button's form on a respondent's page, which reads the form first."""
    token = csrf_from(client)
    return client.post("/s/ABCD-EFGH/language", content=body, headers={
        "content-type": "application/x-www-form-urlencoded", "x-csrf-token": token,
        "accept": "application/json"})


def _english(client):
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client)})


def test_a_form_over_its_limits_is_refused_in_the_readers_language(client):
    many = "&".join(f"Q{i}=1" for i in range(1001))
    long = "Q7=" + "x" * (1024 * 1024 + 1)
    chinese = _respondent_post(client, many)
    assert chinese.status_code == 400
    assert chinese.json()["detail"] == "此表单的字段过多：最多接受 1000 个。"
    assert _respondent_post(client, long).json()["detail"] == (
        "此表单中有一项回答过长：单个字段最多 1 MB。")
    _english(client)
    assert _respondent_post(client, many).json()["detail"] == (
        "This form has too many fields: at most 1000 are accepted.")
    assert _respondent_post(client, long).json()["detail"] == (
        "An answer in this form is too long: one field may hold at most 1 MB.")


def test_a_multipart_form_over_its_limits_is_refused_in_the_readers_language(client):
    token = csrf_from(client)
    files = {f"f{i}": (f"{i}.txt", b"x", "text/plain") for i in range(1001)}
    response = client.post("/s/ABCD-EFGH/language", files=files,
                           headers={"x-csrf-token": token, "accept": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"] == "此表单的文件过多：最多接受 1000 个。"


def test_a_multipart_form_is_still_read_by_starlette():
    response = TestClient(_app(UrlencodedFormRoute)).post(
        "/form", data={"Q1": "satisfied"}, files={"photo": ("a.txt", b"hello", "text/plain")})
    items = dict(response.json()["items"])
    assert items["Q1"] == "satisfied" and "photo" in items


def test_a_staff_upload_form_over_its_limits_is_refused_in_the_readers_language(
        client, signed_in):
    """Not only respondents' pages: finance's catalogue workbook upload names the limit too."""
    signed_in("finance")
    token = csrf_from(client, "/catalogue")
    files = [("file", (f"{i}.xlsx", b"x", "application/octet-stream")) for i in range(1001)]
    chinese = client.post("/catalogue/import", data={"csrf_token": token}, files=files)
    assert chinese.status_code == 400
    assert "此表单的文件过多：最多接受 1000 个。" in chinese.text
    client.post("/language", data={"language": "en", "csrf_token": token})
    english = client.post("/catalogue/import", data={"csrf_token": token}, files=files)
    assert english.status_code == 400
    assert "This form has too many files: at most 1000 are accepted." in english.text
    assert "Too many files" not in english.text


def test_every_router_reads_its_forms_with_the_translated_limits():
    from evalplatform.web.routes import ROUTERS

    plain = [route.path for router in ROUTERS for route in router.routes
             if not isinstance(route, FormRoute)]
    assert plain == []


@pytest.mark.parametrize("route_class", [UrlencodedFormRoute, FormRoute])
def test_control_characters_nobody_types_are_dropped_from_a_forms_text(route_class):
    """NUL (which PostgreSQL's text refuses) and the other control characters below the space
    never reach a handler; tab and line breaks, which people type, stay."""
    body = "name=%E5%B1%85%00%E5%AE%B6%01%1F&note=line+1%0D%0Aline+2%09end&ke%00y=v"
    response = TestClient(_app(route_class)).post(
        "/form", content=body, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.json()["items"] == [["name", "居家"], ["note", "line 1\r\nline 2\tend"],
                                        ["key", "v"]]
    assert response.json()["same"]
    upload = TestClient(_app(route_class)).post(
        "/form", data={"title": "报告\x00"}, files={"file": ("评价报告.pdf", b"%PDF", "x/y")})
    items = dict(upload.json()["items"])  # a multipart form's text too
    assert items["title"] == "报告" and items["file"]["filename"] == "评价报告.pdf"


def test_a_nul_in_a_form_field_is_dropped_not_a_server_error(client, signed_in, db):
    """On PostgreSQL a NUL in a text column was a 500; the organisation is created as it
    reads on the screen."""
    from sqlmodel import select

    from evalplatform.models import Organisation

    signed_in("admin")
    token = csrf_from(client, "/admin/organisations")
    response = client.post("/admin/organisations", data={
        "csrf_token": token, "name": "临江市\x00民政局\x1b", "kind": "purchasing_department"})
    assert response.status_code == 303, response.text
    db.expire_all()
    names = db.exec(select(Organisation.name)).all()
    assert "临江市民政局" in names


def test_a_lone_surrogate_in_a_json_field_is_refused_naming_the_field_and_nothing_is_written(
        client, signed_in, db):
    """JSON may write half a character ("\\ud800" alone): it is no text, PostgreSQL's json
    stores it as written and every page showing it would fail, so it is refused up front. A
    whole character written as its two halves (an emoji) is taken."""
    import json

    from sqlmodel import select

    from evalplatform.models import User

    signed_in("admin")
    headers = {"x-csrf-token": csrf_from(client, "/"), "content-type": "application/json"}
    before = len(db.exec(select(User)).all())
    response = client.post("/api/users", headers=headers, content=json.dumps({
        "username": "new-user", "display_name": "某\ud800人", "role": "admin",
        "password": "long-enough-pw"}))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["display_name"]
    assert "\\ud800" in response.json()["errors"]["display_name"]
    db.expire_all()
    assert len(db.exec(select(User)).all()) == before
    whole = client.post("/api/users", headers=headers, content=json.dumps({
        "username": "new-user", "display_name": "某人\U0001F600", "role": "admin",
        "password": "long-enough-pw"}))
    assert whole.status_code == 201, whole.text


def test_a_nul_in_a_json_field_is_refused_naming_the_field_and_nothing_is_written(
        client, signed_in, db):
    from sqlmodel import select

    from evalplatform.models import User

    signed_in("admin")
    headers = {"x-csrf-token": csrf_from(client, "/")}
    before = len(db.exec(select(User)).all())
    response = client.post("/api/users", headers=headers, json={
        "username": "new-user", "display_name": "某\x00人", "role": "admin",
        "password": "long-enough-pw", "tags": [{"x": "ok"}, {"y\x00": "a\x00b"}]})
    assert response.status_code == 422
    assert response.json()["errors"] == {"display_name": "display_name不得包含空字符（NUL）。",
                                         "tags.1.y": "tags.1.y不得包含空字符（NUL）。"}
    db.expire_all()
    assert len(db.exec(select(User)).all()) == before
    # the characters "\u0000" typed as text (an escaped backslash) are not a NUL
    typed = client.post("/api/users", headers=headers, json={
        "username": "new-user", "display_name": "某人 \\u0000", "role": "admin",
        "password": "long-enough-pw"})
    assert typed.status_code == 201, typed.text
