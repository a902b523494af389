"""The JSON API answers in the language a program asks for in Accept-Language, when its session
chose none; the session's choice still wins, and the pages stay Chinese whatever the header
says (a headless browser sends en-US)."""

import re
from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from evalplatform.i18n import accepted_ranges, catalogue_language, language_from_accept
from tests.conftest import csrf_from, login
from tests.project_world import project_world

EN = {"Accept-Language": "en-US,en;q=0.9"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- reading the header


@pytest.mark.parametrize("header, ranges", [
    ("en", ["en"]),
    ("en-US,en;q=0.9", ["en-us", "en"]),
    ("zh;q=0.5, en;q=0.8", ["en", "zh"]),                   # by q-value, not by order
    ("fr, en, zh", ["fr", "en", "zh"]),                       # equal q: as written
    ("EN-us ; Q = 0.5 , zh-Hans;q=0.4", ["en-us", "zh-hans"]),  # spaces and case
    ("en;q=oops, zh", ["zh"]),                                # a malformed q-value: left out
    ("en;q=1.5, en;q=-1, en;q=, en;q=nan, zh", ["zh"]),       # out of range, empty, not a number
    ("en;q=0, zh;q=0.000", []),                               # refused
    ("en;q=.5, zh;q=0.25", ["en", "zh"]),
    ("zh_CN", ["zh-cn"]),
    ("*;q=0.1, de", ["de", "*"]),
    (" , ;q=1,,en-", []),                                    # nothing that is a language tag
    ("en;level=1;q=0.2, zh;q=0.3", ["zh", "en"]),            # other parameters are ignored
    ("", []),
    (None, []),
    ("<script>, en", ["en"]),
])
def test_accept_language_is_read_robustly(header, ranges):
    assert accepted_ranges(header) == ranges


def test_a_very_long_header_is_cut_rather_than_read_at_length():
    assert accepted_ranges("de, " * 10_000 + "en") == ["de"] * 50


@pytest.mark.parametrize("tag, language", [
    ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("zh-Hans", "zh_CN"), ("zh-hant-tw", "zh_CN"),
    ("ZH_cn", "zh_CN"), ("en", "en"), ("en-US", "en"), ("EN-gb", "en"), ("fr", None),
    ("*", None), ("english", None),
])
def test_a_tag_maps_to_the_catalogue_of_its_language(tag, language):
    assert catalogue_language(tag) == language


@pytest.mark.parametrize("header, language", [
    ("en-US,en;q=0.9", "en"),
    ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("zh;q=0.5, en;q=0.8", "en"),
    ("fr, de;q=0.9, en;q=0.1", "en"),       # the first the platform speaks
    ("fr, *;q=0.5, en;q=0.3", "zh_CN"),     # any language before English: the default
    ("*", "zh_CN"),
    ("fr", "zh_CN"),
    ("en;q=0", "zh_CN"),
    ("en;q=bad", "zh_CN"),
    ("", "zh_CN"),
    (None, "zh_CN"),
])
def test_the_most_wanted_language_the_platform_speaks_is_chosen(header, language):
    assert language_from_accept(header) == language


def test_the_default_is_the_configured_one():
    assert language_from_accept("*", default="en") == "en"
    assert language_from_accept("de", default="en") == "en"
    assert language_from_accept("zh", default="en") == "zh_CN"


# ---------------------------------------------------------------- the API's answers


def test_a_refusal_of_a_program_not_signed_in_reads_in_its_language(client):
    english = client.get("/api/projects", headers=EN)
    assert english.status_code == 401
    assert english.json() == {"detail": "Sign in first."}
    assert english.headers["content-language"] == "en"
    assert "accept-language" in english.headers["vary"].lower()
    chinese = client.get("/api/projects")
    assert chinese.json() == {"detail": "请先登录。"}
    assert chinese.headers["content-language"] == "zh-CN"
    assert client.get("/api/projects", headers=ZH).json() == {"detail": "请先登录。"}
    for header in ("fr", "*", "en;q=0", "de, *;q=0.9, en;q=0.5", "en;q=??"):
        response = client.get("/api/projects", headers={"Accept-Language": header})
        assert response.json() == {"detail": "请先登录。"}, header
        assert response.headers["content-language"] == "zh-CN", header


def test_validation_refusals_read_in_the_language_asked_for(client, signed_in):
    signed_in("finance")
    english = client.get("/api/projects?per_page=500", headers=EN)
    assert english.status_code == 422
    assert english.json()["errors"] == {"per_page": "Rows per page must be at most 200."}
    sort = client.get("/api/projects?sort=bogus", headers=EN).json()
    assert "descending" in sort["errors"]["sort"] and not CJK.search(sort["detail"])
    typed = client.get("/api/evaluations?page=x", headers=EN).json()["errors"]
    assert typed == {"page": "Page number must be a whole number."}
    chinese = client.get("/api/projects?per_page=500", headers={}).json()
    assert chinese["errors"]["per_page"] == "每页条数不得大于 200。"


def test_role_and_not_found_refusals_read_in_the_language_asked_for(client, signed_in):
    signed_in("supplier")
    refused = client.get("/api/projects", headers=EN)
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Your role does not give access to this endpoint."}
    assert client.get("/api/projects").json() == {"detail": "您的角色无权使用此接口。"}
    client.cookies.clear()
    signed_in("finance")
    missing = client.get("/api/projects/999999", headers=EN)
    assert missing.status_code == 404 and missing.json() == {"detail": "No such project."}
    assert not CJK.search(client.get("/api/projects/abc", headers=EN).json()["detail"])
    assert CJK.search(client.get("/api/projects/999999").json()["detail"])


def test_a_lists_labels_read_in_the_language_asked_for(client, db, make_user, make_org):
    world = project_world(db, make_user, make_org)
    assert login(client, world.finance.username).status_code == 303
    english = client.get("/api/due", headers=EN).json()["items"]
    chinese = client.get("/api/due").json()["items"]
    assert english and len(english) == len(chinese)
    assert not any(CJK.search(item["label"]) for item in english), english
    assert all(CJK.search(item["label"]) for item in chinese), chinese


def test_the_standing_level_label_reads_in_the_language_asked_for(client, signed_in):
    signed_in("supplier")
    english = client.get("/api/standing", headers=EN).json()["items"]
    assert [s["level_label"] for s in english] == ["No recent final result"]
    chinese = client.get("/api/standing").json()["items"]
    assert [s["level_label"] for s in chinese] == ["近期无评价结果"]


def test_the_sessions_choice_wins_over_the_header(client, signed_in):
    signed_in("supplier")
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")})
    chosen = client.get("/api/standing", headers=ZH)
    assert chosen.json()["items"][0]["level_label"] == "No recent final result"
    assert chosen.headers["content-language"] == "en"
    # the header did not choose: the answer does not vary with it
    assert "accept-language" not in chosen.headers.get("vary", "").lower()
    client.post("/language", data={"language": "zh_CN", "csrf_token": csrf_from(client, "/")})
    chosen = client.get("/api/standing", headers=EN)
    assert chosen.json()["items"][0]["level_label"] == "近期无评价结果"
    assert chosen.headers["content-language"] == "zh-CN"


def test_the_pages_stay_chinese_whatever_the_header_says(client, signed_in):
    page = client.get("/login", headers=EN)
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert "登录" in page.text
    assert "content-language" not in page.headers
    assert "accept-language" not in page.headers.get("vary", "").lower()
    signed_in("finance")
    page = client.get("/projects", headers=EN)
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    # a JSON refusal of a page's URL is the page's too: Chinese
    missing = client.get("/projects/999999", headers={**EN, "Accept": "application/json"})
    assert missing.status_code == 404 and CJK.search(missing.json()["detail"])


def test_the_openapi_document_describes_how_the_language_is_chosen(client):
    description = client.get("/api/openapi.json").json()["info"]["description"]
    assert "Accept-Language" in description and "Content-Language" in description
    assert "POST /language" in description and "q-value" in description


def test_an_unexpected_error_answers_in_the_language_asked_for(app, make_user, monkeypatch):
    from fastapi.testclient import TestClient

    from evalplatform.services import audit

    def broken(_session):
        raise RuntimeError("the chain's table is gone")

    monkeypatch.setattr(audit, "verify", broken)
    with TestClient(app, raise_server_exceptions=False, follow_redirects=False) as client:
        assert login(client, make_user("auditor").username).status_code == 303
        response = client.get("/api/audit/verify", headers=EN)
    assert response.status_code == 500
    assert response.json()["detail"].startswith("Something went wrong.")
    assert response.headers["content-language"] == "en"


def test_a_key_the_request_does_not_take_is_named_as_unknown(client):
    """Not "foo is not valid": the reader is told the field is not one the request takes."""
    token = csrf_from(client, "/login")
    body = {"username": "nobody", "password": "x", "remember": True}
    english = client.post("/api/session", json=body, headers={**EN, "x-csrf-token": token})
    assert english.status_code == 422
    assert english.json()["errors"] == {
        "remember": "Unknown field remember: this request does not take it."}
    chinese = client.post("/api/session", json=body, headers={"x-csrf-token": token})
    assert "remember" in chinese.json()["errors"]["remember"]
    assert "的值无效" not in chinese.json()["errors"]["remember"]


class _Limits(BaseModel):
    text: str = Field("", max_length=5)
    name: str = Field("x", min_length=1)
    code: str = Field("xxx", min_length=3)
    items: list[int] = Field(default_factory=list, max_length=2)
    share: int = Field(1, gt=0, lt=10)
    step: Literal["collecting", "scoring"] = "collecting"


@pytest.mark.parametrize("values, message", [
    ({"text": "abcdef"}, "text may be at most 5 characters long."),
    ({"name": ""}, "name must not be empty."),
    ({"code": "ab"}, "code must be at least 3 characters long."),
    ({"items": [1, 2, 3]}, "items may hold at most 2 items."),
    ({"share": 0}, "share must be more than 0."),
    ({"share": 10}, "share must be less than 10."),
    ({"step": "draft"}, "step must be one of: collecting, scoring."),
])
def test_a_limit_broken_is_stated_with_the_limit(values, message):
    """"out of the allowed range" said which field, never which range: the refusal states it."""
    from evalplatform import i18n
    from evalplatform.web.app import _field_problem

    try:
        _Limits(**values)
    except ValidationError as exc:
        error = {**exc.errors()[0], "loc": ("body", *exc.errors()[0]["loc"])}
    with i18n.language("en"):
        assert _field_problem(error) == message
