"""The API's own documentation: every operation named, described and grouped in the OpenAPI
document, and /api/docs, where a person reads it and tries the operations in the browser with
the session they are signed in with."""

import re
from pathlib import Path

import pytest

from tests.conftest import browser_login

EN = {"Accept-Language": "en-US,en;q=0.9"}
AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


def _operations(document):
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items()]


def test_every_operation_has_a_summary_a_description_one_listed_group_and_a_readable_id(client):
    document = client.get("/api/openapi.json").json()
    groups = [tag["name"] for tag in document["tags"]]
    assert groups[:3] == ["session", "users", "projects"]  # in the order the work goes
    assert all(tag.get("description") for tag in document["tags"])
    ids = []
    for path, method, operation in _operations(document):
        where = f"{method.upper()} {path}"
        ids.append(operation["operationId"])
        # a handler's name, not FastAPI's default of name, path and method
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", operation["operationId"]), where
        # written, not FastAPI's title-cased handler name ("Api Result Compute")
        summary = operation["summary"]
        assert summary != operation["operationId"].replace("_", " ").title(), where
        assert re.search(r"\(.*[\u4e00-\u9fff].*\)$", summary), (where, summary)  # the 中文 term
        assert operation.get("description"), where
        assert len(operation["tags"]) == 1 and operation["tags"][0] in groups, where
    assert len(ids) == len(set(ids)) >= 50
    used = {operation["tags"][0] for _p, _m, operation in _operations(document)}
    assert used == set(groups)  # no group listed without an operation
    by_id = {operation["operationId"]: (method, path)
             for path, method, operation in _operations(document)}
    assert by_id["propose_settlement"] == ("post", "/api/contracts/{contract_id}/settlements")
    assert by_id["record_contract"] == ("post", "/api/projects/{project_id}/contract")


def test_the_contracts_operations_are_listed_under_contracts_only(client):
    document = client.get("/api/openapi.json").json()
    operation = document["paths"]["/api/projects/{project_id}/contract"]["post"]
    assert operation["tags"] == ["contracts"]


def test_the_docs_page_is_a_page_in_the_readers_language_with_its_assets_served(client):
    page = client.get("/api/docs", headers=EN)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    # a page, not an answer of the JSON API: Chinese until the reader switches, whatever the
    # browser's Accept-Language says, and no Content-Language of the API
    assert '<html lang="zh-CN">' in page.text
    assert "API 文档</h1>" in page.text
    assert "content-language" not in page.headers
    assert 'href="/login?next=/api/docs"' in page.text  # signed out: offered to sign in
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    # Swagger UI is served from the npm package, never from a CDN
    assert "cdn" not in page.text.lower()
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_every_page_links_to_the_docs(client, signed_in):
    signed_in("supplier")
    assert 'href="/api/docs"' in client.get("/").text


@pytest.mark.browser
def test_the_docs_page_passes_an_axe_check(browser, live_server, viewport):
    """Swagger UI's own colours and landmarks, as the platform's pages keep them: no serious
    or critical finding (its method badges were white on light colours, and it brings a
    <main> of its own)."""
    context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=live_server,
                                  bypass_csp=True)  # to add axe to the page
    page = context.new_page()
    page.goto("/api/docs")
    page.wait_for_selector(".opblock")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    context.close()
    serious = [(v["id"], len(v["nodes"])) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
    assert "landmark-no-duplicate-main" not in [v["id"] for v in result["violations"]]


@pytest.mark.browser
def test_an_operation_is_tried_out_with_the_browsers_session_and_its_csrf_token(page, make_user,
                                                                               viewport):
    if viewport["width"] < 700:
        pytest.skip("the same page on a phone; tried once")
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.on("pageerror", lambda error: failed.append(str(error)))
    user = make_user("purchaser", display_name="张丽")
    browser_login(page, user.username)
    page.goto("/api/docs")
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 50

    def try_out(operation_id: str, group: str) -> str:
        block = page.locator(f"#operations-{group}-{operation_id}")
        block.locator(".opblock-summary").click()
        block.get_by_role("button", name="Try it out").click()
        block.get_by_role("button", name="Execute").click()
        status = block.locator(".live-responses-table .response .response-col_status").first
        status.wait_for()
        return status.inner_text().strip()

    assert try_out("me", "session") == "200"
    assert user.username in page.locator("#operations-session-me .live-responses-table").inner_text()
    # a change needs the session's CSRF token: the page sends it, so signing out works
    assert try_out("sign_out", "session") == "204"
    assert failed == []
    assert page.request.get("/api/me").status == 401  # the session has ended




def _body_schemas(document) -> dict[str, dict]:
    """Every object schema a request body of the document reaches, by name: the bodies' own
    and those they hold (an instalment of a contract, an entry of a sheet)."""
    schemas = document["components"]["schemas"]
    found: dict[str, dict] = {}

    def visit(schema):
        if isinstance(schema, dict):
            name = schema.get("$ref", "").rsplit("/", 1)[-1]
            if name:
                if name not in found:
                    found[name] = schemas[name]
                    visit(schemas[name])
                return
            for value in schema.values():
                visit(value)
        elif isinstance(schema, list):
            for value in schema:
                visit(value)

    for _path, _method, operation in _operations(document):
        visit(operation.get("requestBody", {}))
    return found


def test_every_request_body_refuses_keys_it_does_not_declare(client):
    """A mistyped key is refused (422 naming it), never left out silently: every body says
    so in the document (additionalProperties false), the nested ones too."""
    found = _body_schemas(client.get("/api/openapi.json").json())
    objects = {name: s for name, s in found.items() if s.get("type") == "object"}
    assert {"SheetStartIn", "ProposalIn", "EntryIn", "InstalmentIn", "StepIn", "SignIn",
            "ResultStepIn"} <= set(objects)
    assert [name for name, s in objects.items() if s.get("additionalProperties") is not False] \
        == []


def test_starting_a_sheet_documents_both_answers_it_gives(client):
    """201 for a new sheet, 200 for the caller's existing one: both in the document."""
    operation = client.get("/api/openapi.json").json()["paths"][
        "/api/evaluations/{evaluation_id}/sheets"]["post"]
    assert {"200", "201", "409"} <= set(operation["responses"])
    for code in ("200", "201"):
        schema = operation["responses"][code]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/SheetDetail"}, code
