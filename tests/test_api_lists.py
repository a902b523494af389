"""Every list of the JSON API reads its query the same way: an unknown sort or filter value, a
page number below 1 or past the last page and a page size outside 1–200 are refused with 422
and ``errors`` naming the parameter and the rule, in the reader's language, where the pages
forgive them (a stale link still lists)."""

import pytest

from tests.conftest import csrf_from

#: (path, role that may read it, its sort keys)
LISTS = [
    ("/api/projects", "finance", ("name", "budget", "created_at")),
    ("/api/evaluations", "finance", ("title", "opens_at", "project")),
    ("/api/surveys", "finance", ("id", "title", "opens_at")),
    ("/api/users", "admin", ("username", "role", "last_login_at")),
    ("/api/organisations", "admin", ("name", "kind", "created_at")),
    ("/api/appeals", "finance", ("filed", "status", "project")),
    ("/api/results", "finance", ("published", "total", "deadline")),
    ("/api/due", "finance", ("project", "due", "late")),
]
PAGED = [path for path, _role, _keys in LISTS]


def _role(path: str) -> str:
    return next(role for p, role, _keys in LISTS if p == path)


def _refused(response, field: str) -> str:
    assert response.status_code == 422, response.text
    body = response.json()
    assert set(body["errors"]) == {field}, body
    assert body["detail"]
    return body["errors"][field]


@pytest.mark.parametrize("path, role, keys", LISTS)
def test_an_unknown_sort_is_refused_naming_sort_and_its_keys(client, signed_in, path, role,
                                                              keys):
    signed_in(role)
    for key in keys:
        assert client.get(f"{path}?sort={key}").status_code == 200, key
        assert client.get(f"{path}?sort=-{key}").status_code == 200, key
    for bad in ("bogus", "-", "--name"):
        message = _refused(client.get(f"{path}?sort={bad}"), "sort")
        assert "排序" in message and all(key in message for key in keys), message


@pytest.mark.parametrize("path", PAGED)
@pytest.mark.parametrize("query, field, words", [
    ("page=0", "page", "页码不得小于 1"),
    ("page=-3", "page", "页码不得小于 1"),
    ("page=2", "page", "页码须在 1 至 1（末页）之间"),
    ("page=99999", "page", "页码须在 1 至 1"),
    ("per_page=0", "per_page", "每页条数不得小于 1"),
    ("per_page=-1", "per_page", "每页条数不得小于 1"),
    ("per_page=201", "per_page", "每页条数不得大于 200"),
    ("per_page=1000000", "per_page", "每页条数不得大于 200"),
])
def test_page_numbers_and_sizes_out_of_range_are_refused(client, signed_in, path, query, field,
                                                         words):
    signed_in(_role(path))
    message = _refused(client.get(f"{path}?{query}"), field)
    assert words in message, message


@pytest.mark.parametrize("path", PAGED)
def test_a_page_size_within_range_is_applied(client, signed_in, path):
    signed_in(_role(path))
    for per_page in (1, 200):
        response = client.get(f"{path}?per_page={per_page}&page=1")
        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) <= per_page


def test_the_user_list_refuses_an_unknown_role(client, signed_in):
    signed_in("admin")
    assert client.get("/api/users?role=auditor").status_code == 200
    message = _refused(client.get("/api/users?role=superuser"), "role")
    assert "角色" in message and "finance" in message and "supplier" in message


def test_the_organisation_list_finds_by_name_or_code_and_filters_by_kind(client, signed_in,
                                                                        make_org):
    signed_in("auditor")
    make_org("supplier", name="临江市福康居家养老服务中心")
    make_org("purchasing_department", name="临江市民政局")
    found = client.get("/api/organisations", params={"q": "福康"}).json()
    assert [o["name"] for o in found["items"]] == ["临江市福康居家养老服务中心"]
    assert found["total"] == 1 and found["sort"] == "name"
    kinds = client.get("/api/organisations?kind=purchasing_department").json()["items"]
    assert kinds and {o["kind"] for o in kinds} == {"purchasing_department"}
    message = _refused(client.get("/api/organisations?kind=ngo"), "kind")
    assert "supplier" in message and "finance_bureau" in message


def test_the_refusals_read_in_english_after_switching(client, signed_in):
    signed_in("finance")
    client.post("/language", data={"language": "en", "csrf_token": csrf_from(client, "/")})
    assert "descending" in _refused(client.get("/api/surveys?sort=bogus"), "sort")
    assert _refused(client.get("/api/projects?per_page=500"), "per_page") == \
        "Rows per page must be at most 200."
    assert _refused(client.get("/api/evaluations?page=7"), "page") == \
        "Page number must be from 1 to 1, the last page."


def test_the_openapi_document_gives_the_page_bounds(client):
    document = client.get("/api/openapi.json").json()
    for path in PAGED:
        parameters = {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        assert parameters["page"].get("minimum") == 1, path
        assert (parameters["per_page"].get("minimum"), parameters["per_page"].get("maximum")) \
            == (1, 200), path


def test_the_openapi_document_describes_every_api_endpoint_and_its_refusals(client, signed_in):
    """Each /api operation: a schema for its answer, every query parameter described, and the
    refusals it may send in the shape the API sends them ({detail} and, for 422, {detail,
    errors}) — not FastAPI's own 422 schema (detail a list), which the API never sends."""
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert set(schemas["ValidationProblem"]["properties"]) == {"detail", "errors"}
    assert set(schemas["Problem"]["properties"]) == {"detail", "code"}
    assert schemas["Problem"]["required"] == ["detail"]
    # the document is the JSON API's (and the JSON downloads beside the pages): the HTML
    # pages and their forms are not operations
    assert [path for path in document["paths"]
            if not path.startswith("/api/") and not path.endswith(".json")] == []
    assert "/evaluations/{evaluation_id}/result/package.json" in document["paths"]
    operations = [(path, method, operation) for path, item in document["paths"].items()
                  if path.startswith("/api/") for method, operation in item.items()]
    assert len(operations) >= 14
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        success = responses.get("200") or responses.get("201")
        if method == "delete":  # answers 204, no content
            assert success is None and "204" in responses, where
        else:
            assert success["content"]["application/json"]["schema"], where
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query":
                assert parameter.get("description"), (where, parameter["name"])
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                shape = "ValidationProblem" if code == "422" else "Problem"
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": f"#/components/schemas/{shape}"}, (where, code)
        public = (path, method) in {("/api/results", "get"), ("/api/results/{result_id}", "get"),
                                    ("/api/session", "get"),
                                    ("/api/session", "post")}  # signing in needs no session
        assert ("401" in responses) != public, where
        assert "404" in responses or "{" not in path, where
    # what the document says is what a refusal looks like
    signed_in("finance")
    refused = client.get("/api/evaluations?sort=bogus").json()
    assert set(refused) == {"detail", "errors"} and isinstance(refused["errors"]["sort"], str)


@pytest.mark.parametrize("path", PAGED + ["/api/standing", "/api/contracts", "/api/settlements"])
def test_every_list_answers_the_same_page_fields_and_the_sort_it_applied(client, signed_in,
                                                                          path):
    signed_in(_role(path) if path in PAGED else "finance")
    listed = client.get(f"{path}?per_page=7")
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert {"items", "total", "page", "pages", "per_page", "sort"} <= set(body), body
    assert (body["page"], body["per_page"]) == (1, 7)
    keys = next((keys for p, _role, keys in LISTS if p == path), ())
    if keys:
        assert client.get(f"{path}?sort=-{keys[0]}").json()["sort"] == f"-{keys[0]}"
        assert client.get(f"{path}?sort={keys[-1]}").json()["sort"] == keys[-1]
    schema = client.get("/api/openapi.json").json()["paths"][path]["get"]["responses"]["200"]
    ref = schema["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = client.get("/api/openapi.json").json()["components"]["schemas"][ref]
    assert {"items", "total", "page", "pages", "per_page", "sort"} <= set(
        properties["properties"]), ref
