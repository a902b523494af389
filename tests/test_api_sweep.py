"""Every GET endpoint of the JSON API, as every role and as nobody, with bad query values and
unknown ids, answers a clear JSON problem (``{"detail": …}``, a 422 with ``errors`` naming the
parameter) — never a 500, never a page. Two kinds of URL once reached the database and failed
there: a whole number too large for an INTEGER column (an id, a filter) and a NUL character
(which PostgreSQL's text refuses)."""

import pytest
from fastapi.routing import APIRoute

from evalplatform.web.app import API_PAGES
from tests.conftest import login
from tests.project_world import project_world
from tests.test_access import _endpoints

HUGE = "99999999999999999999"
ROLES = [None, "finance", "purchaser", "evaluator", "supplier", "auditor", "admin"]
BAD_QUERY_VALUES = ["0", "-1", "x", "99999", HUGE, "2147483648", "-2147483649", "1.5", "",
                    "%00", "a%00b", "²", "-", "'"]
UNKNOWN_IDS = ["999999", "0", "-1", "abc", HUGE, "2147483648", "9223372036854775808", "1.5",
               "%00", "²"]


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def api_gets(app) -> list[APIRoute]:
    """The JSON API's reads: not its documentation's page (``/api/docs``)."""
    return [r for r in _endpoints(app.routes) if isinstance(r, APIRoute)
            and r.path.startswith("/api/") and r.path not in API_PAGES and "GET" in r.methods]


def assert_json_problem(response, url: str) -> None:
    assert response.status_code < 500, (url, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), (url, response.text)
    if response.status_code >= 400:
        body = response.json()
        assert isinstance(body.get("detail"), str) and body["detail"], (url, body)
        if response.status_code == 422:
            assert body["errors"] and all(isinstance(v, str) and v
                                          for v in body["errors"].values()), (url, body)


def test_every_api_get_answers_json_to_every_role_for_unknown_ids_and_bad_values(
        client, app, world, make_user):
    routes = api_gets(app)
    assert len(routes) >= 15  # the walk saw the API
    for role in ROLES:
        client.cookies.clear()
        if role:
            assert login(client, make_user(role).username).status_code == 303
        for route in routes:
            if "{" not in route.path:
                assert_json_problem(client.get(route.path), route.path)
                continue
            for value in UNKNOWN_IDS:
                url = route.path.split("{")[0] + value + route.path.split("}", 1)[1]
                response = client.get(url)
                assert_json_problem(response, url)
                assert response.status_code in (401, 403, 404), (url, response.status_code)


def test_every_query_parameter_of_every_api_list_refuses_bad_values_in_json(client, app, world,
                                                                           make_user):
    readers = {"/api/users": "admin", "/api/organisations": "admin"}
    for role, user in (("finance", world.finance), ("admin", make_user("admin"))):
        client.cookies.clear()
        assert login(client, user.username).status_code == 303
        for route in api_gets(app):
            if "{" in route.path or readers.get(route.path, "finance") != role:
                continue
            for name in {p.alias for p in route.dependant.query_params}:
                for value in BAD_QUERY_VALUES:
                    url = f"{route.path}?{name}={value}"
                    assert_json_problem(client.get(url), url)


def test_an_id_too_large_for_the_database_names_nothing(client, world):
    login(client, world.finance.username)
    for url in (f"/api/projects/{HUGE}", "/api/contracts/2147483648",
                f"/api/settlements/{HUGE}", f"/api/evaluations/{HUGE}/result",
                f"/api/standing/{HUGE}", f"/api/results/{HUGE}"):
        response = client.get(url)
        assert response.status_code == 404, (url, response.text)
        assert response.json() == {"detail": "该页面不存在。"}, url
    # the largest an INTEGER column holds is still asked for, and is simply not there
    assert client.get("/api/projects/2147483647").json()["detail"] != "该页面不存在。"
    page = client.get(f"/projects/{HUGE}")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]


@pytest.mark.parametrize("query, field, message", [
    (f"/api/contracts?supplier_id={HUGE}", "supplier_id", "supplier_id不得大于 2147483647。"),
    ("/api/contracts?department_id=-2147483649", "department_id",
     "department_id不得小于 -2147483648。"),
    ("/api/contracts?year=2147483648", "year", "year不得大于 2147483647。"),
    (f"/api/settlements?contract_id={HUGE}", "contract_id", "contract_id不得大于 2147483647。"),
    (f"/api/projects?department_id={HUGE}", "department_id", "请选择购买主体部门。"),
    ("/api/projects?year=²", "year", None),
    ("/api/projects?q=%00", "q", "q不得包含空字符（NUL）。"),
    ("/api/contracts?q=a%00b", "q", "q不得包含空字符（NUL）。"),
    ("/api/users?q=%00", "q", "q不得包含空字符（NUL）。"),
    ("/api/results?grade=%00", "grade", "grade不得包含空字符（NUL）。"),
])
def test_a_filter_the_database_cannot_be_asked_is_refused_naming_it(client, world, make_user,
                                                                    query, field, message):
    user = make_user("admin") if query.startswith("/api/users") else world.finance
    login(client, user.username)
    response = client.get(query)
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert set(errors) == {field}, errors
    if message:
        assert errors[field] == message
    english = client.get(query, headers={"Accept-Language": "en"}).json()["errors"][field]
    assert "NUL" in english or "at most" in english or "at least" in english \
        or field in ("department_id", "year"), english


def test_a_page_with_a_nul_in_its_query_is_refused_not_failed(client, world):
    login(client, world.finance.username)
    page = client.get("/projects?q=%00")
    assert page.status_code == 422 and "text/html" in page.headers["content-type"]
    assert "空字符" in page.text
    assert client.get("/projects?q=ok").status_code == 200


def test_the_public_budget_page_forgives_a_year_of_other_digits(client, world):
    assert client.get("/disclosure/budget?year=²").status_code == 200
    assert client.get("/disclosure/budget?year=٢٠٢٦").status_code == 200
