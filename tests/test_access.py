"""Every route decides who may reach it; roles and ownership are enforced."""

from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from evalplatform.web.access import is_access_decision
from evalplatform.web.lean import LeanRoute

# Routes that are not FastAPI endpoints: static files and the OpenAPI document, public by
# nature.
NON_ENDPOINT_ROUTES = {"/static/app", "/static/vendor/htmx", "/static/vendor/echarts",
                       "/static/vendor/swagger-ui", "/api/openapi.json"}


def _decisions(dependant):
    found = [d.call for d in dependant.dependencies if is_access_decision(d.call)]
    for sub in dependant.dependencies:
        found += _decisions(sub)
    return found


def _endpoints(routes):
    """Every route the app serves, walking into included routers: FastAPI 0.165 keeps an
    included router as one wrapper in ``app.routes`` (its ``original_router`` holds the
    routes), where older releases copied each route into ``app.routes``."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _endpoints(included.routes)
        else:
            yield route


def test_every_route_has_an_access_decision(app):
    undecided, endpoints = [], 0
    for route in _endpoints(app.routes):
        if isinstance(route, APIRoute):
            endpoints += 1
            if not _decisions(route.dependant):
                undecided.append(f"{sorted(route.methods)} {route.path}")
        elif isinstance(route, LeanRoute):
            endpoints += 1
            if not is_access_decision(route.access):
                undecided.append(f"{sorted(route.methods)} {route.path}")
        elif isinstance(route, Mount | Route):
            if route.path not in NON_ENDPOINT_ROUTES:
                undecided.append(f"unexpected non-endpoint route {route.path}")
        else:
            undecided.append(f"a route this walk cannot read: {route!r}")
    assert undecided == []
    # the walk saw the app's endpoints (it once saw none and passed): pages, forms, the API
    assert endpoints > 150


def test_a_page_without_sign_in_redirects_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"


def test_the_api_without_sign_in_answers_401_in_json(client):
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json()["detail"] == "请先登录。"


def test_a_wrong_role_gets_a_403_page_in_chinese(client, signed_in):
    signed_in("supplier")
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "您的角色无权访问此页面" in response.text
    assert "<nav" in response.text  # the error page keeps the layout


def test_an_unknown_page_is_a_404_page_in_chinese(client, signed_in):
    signed_in("finance")
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "该页面不存在" in response.text


def test_a_hand_typed_bad_id_is_the_404_page_in_chinese(client, signed_in):
    signed_in("finance")  # sees every project: no ownership check stands in front of the id
    for path in ("/projects/abc", "/contracts/abc", "/evaluations/x1", "/results/abc"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>未找到</h1>" in response.text and "<nav" in response.text, path
        assert "Input should" not in response.text and "integer" not in response.text, path
    assert client.get("/api/projects/abc").json() == {"detail": "该页面不存在。"}


def test_a_bad_page_number_shows_the_first_page_of_every_list(client, signed_in):
    signed_in("admin")
    for path in ("/audit?page=x", "/admin/users?page=x", "/admin/organisations?page="):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Input should" not in response.text, path
    client.cookies.clear()
    signed_in("finance")
    for path in ("/projects?page=x", "/evaluations?page=x", "/settlements?page=x",
                 "/appeals?page=x", "/results?page=1.5", "/experts?page=x", "/schemes?page=x"):
        assert client.get(path).status_code == 200, path


def test_the_api_names_a_bad_page_number_in_chinese_json(client, signed_in):
    signed_in("finance")
    response = client.get("/api/projects?page=x")
    assert response.status_code == 422
    assert response.json()["detail"] == "页码须为整数。"
    assert response.json()["errors"] == {"page": "页码须为整数。"}


def test_role_checks_on_the_api(client, signed_in):
    signed_in("purchaser")
    assert client.get("/api/users").status_code == 403
    assert client.get("/api/me").json()["role"] == "purchaser"


def test_auditor_reads_the_audit_log_but_supplier_does_not(client, signed_in, make_user):
    signed_in("auditor")
    assert client.get("/audit").status_code == 200
    client.cookies.clear()
    signed_in("supplier")
    assert client.get("/audit").status_code == 403


def test_each_role_sees_its_own_navigation(client, signed_in):
    menus = {}
    for role in ["finance", "purchaser", "evaluator", "supplier", "auditor", "admin"]:
        client.cookies.clear()
        signed_in(role)
        page = client.get("/").text
        nav = page[page.index('<nav id="nav"'):page.index("</nav>")]
        menus[role] = nav
    # the auditor reads the accounts (and finance the holiday calendar) the admin keeps
    assert all('href="/admin/users"' in menus[r] for r in ("admin", "auditor"))
    assert all('href="/admin/users"' not in menus[r] for r in menus if r not in ("admin",
                                                                                "auditor"))
    assert 'href="/admin/holidays"' in menus["finance"]
    assert 'href="/admin/organisations"' not in menus["finance"]
    assert 'href="/audit"' in menus["auditor"]
    assert 'href="/audit"' not in menus["supplier"]


def test_ownership_rule_hides_what_is_not_yours(db, make_user):
    """``require(..., owns=...)`` reports an entity that is not the principal's as not found."""
    import pytest
    from starlette.requests import Request

    from evalplatform.services.errors import NotFound
    from evalplatform.web.access import require

    user = make_user("purchaser")
    decision = require(user.role, owns=lambda p, s, params: int(params["id"]) == p.id)

    def request_for(entity_id):
        scope = {"type": "http", "method": "GET", "path": "/x", "headers": [],
                 "path_params": {"id": str(entity_id)},
                 "session": {"uid": user.id, "epoch": user.session_epoch}}
        return Request(scope)

    assert decision(request_for(user.id), db).id == user.id
    with pytest.raises(NotFound):
        decision(request_for(user.id + 1000), db)


def test_an_unexpected_error_is_a_500_page_in_chinese(app, signed_in, client):
    from fastapi.testclient import TestClient

    from evalplatform.web.access import signed_in as any_user

    @app.get("/boom")
    def boom(_p=__import__("fastapi").Depends(any_user)):
        raise RuntimeError("kaput")

    signed_in("finance")
    quiet = TestClient(app, raise_server_exceptions=False, cookies=client.cookies)
    response = quiet.get("/boom")
    assert response.status_code == 500
    assert "出错了" in response.text and "kaput" not in response.text


def test_the_api_says_what_is_wrong_with_a_json_body_as_a_whole(client, signed_in):
    """A body that is not JSON, not an object or absent was named "1" or "request"
    ('1的值无效。'); it is the request body, and the rule is said in the reader's language."""
    from tests.conftest import csrf_from

    signed_in("admin")
    headers = {"x-csrf-token": csrf_from(client, "/"), "content-type": "application/json"}
    for body, message in ((b'{"username": "x",}', "请求正文不是有效的 JSON：错误位于第 18 个字符处。"),
                          (b"[1, 2]", "请求正文须为 JSON 对象。"),
                          (b'"text"', "请求正文须为 JSON 对象。"),
                          (b"", "请求正文为必填项，须为 JSON 对象。")):
        response = client.post("/api/users", content=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json() == {"detail": message, "errors": {"body": message}}, body
    missing = client.post("/api/users", json={"username": "x"}, headers=headers).json()
    assert set(missing["errors"]) == {"display_name", "role", "password"}
    typed = client.post("/api/users", headers=headers, json={
        "username": 123, "display_name": "某人", "role": "admin", "password": "long-enough-pw"})
    assert typed.json()["errors"] == {"username": "username须为文本。"}  # not 'username的值无效。'
    client.post("/language", data={"language": "en", "csrf_token": headers["x-csrf-token"]})
    english = client.post("/api/users", content=b"[]", headers=headers).json()
    assert english["errors"] == {"body": "The request body must be a JSON object."}
