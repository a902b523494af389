"""A request body is capped before it is read: text bodies at EVAL_REQUEST_MAX_BYTES, bodies
that carry files larger by the files they may carry. A body over its cap is refused with
413 in the reader's language, whether it declares its length or streams without one, and
changes nothing."""

from __future__ import annotations

import base64
import threading

import anyio
import pytest
from fastapi import APIRouter, FastAPI, Request
from fastapi.testclient import TestClient

from evalplatform.models import Appeal, Project
from evalplatform.settings import Settings
from evalplatform.web.forms import FORM_FILES, FormRoute, body_limit, files_in_json
from tests.results_feed import (  # noqa: F401  (clock_, feed_, world_fixture: fixtures)
    clock_fixture,
    feed_fixture,
    published,
    world_fixture,
)
from tests.test_api_project_writes import count, signed

KB = 1024
SMALL = Settings(request_max_bytes=64 * KB, upload_max_bytes=100 * KB)


def _app() -> FastAPI:
    router = APIRouter(route_class=FormRoute)

    @router.post("/text")
    async def text(request: Request):
        return {"bytes": len(await request.body())}

    @router.post("/files")
    @files_in_json(2)
    async def with_files(request: Request):
        return {"bytes": len(await request.body())}

    @router.post("/form")
    async def form(request: Request):
        got = await request.form()
        return {"files": [len(await f.read()) for f in got.getlist("file")]}

    app = FastAPI()
    app.state.settings = SMALL
    app.include_router(router)
    return app


def test_each_kind_of_body_has_its_limit():
    assert body_limit(SMALL, "application/json") == 64 * KB
    assert body_limit(SMALL, "application/x-www-form-urlencoded") == 64 * KB
    assert body_limit(SMALL, None) == 64 * KB
    # a form's files are kept on disk, not in memory: room for the most a form carries
    assert body_limit(SMALL, "multipart/form-data; boundary=x") == 64 * KB + FORM_FILES * 100 * KB
    # files in JSON come as base64, 4 characters for 3 bytes
    assert body_limit(SMALL, "application/json", 2) == 64 * KB + 2 * -(-100 * KB * 4 // 3)
    assert body_limit(SMALL, "text/plain", 2) == 64 * KB  # only JSON carries them so


def test_a_body_within_its_limit_arrives_whole():
    client = TestClient(_app())
    assert client.post("/text", content=b"x" * (64 * KB)).json() == {"bytes": 64 * KB}
    big = b"x" * (200 * KB)  # over the text limit, within that of a route taking two files
    assert client.post("/files", content=big,
                       headers={"content-type": "application/json"}).json() == {"bytes": 200 * KB}
    files = [("file", ("a.pdf", b"%" * (90 * KB))), ("file", ("b.pdf", b"%" * (90 * KB)))]
    assert client.post("/form", files=files).json() == {"files": [90 * KB, 90 * KB]}


@pytest.mark.parametrize("path, size, content_type", [
    ("/text", 64 * KB + 1, "application/json"),
    ("/text", 200 * KB, "application/x-www-form-urlencoded"),
    ("/files", 200 * KB, "text/plain"),
    ("/files", 64 * KB + 2 * 136534 + 1, "application/json"),
])
def test_a_body_over_its_limit_is_refused_with_413_naming_the_limit(path, size, content_type):
    client = TestClient(_app())
    refused = client.post(path, content=b"x" * size, headers={"content-type": content_type})
    assert refused.status_code == 413
    limit = body_limit(SMALL, content_type, 2 if path == "/files" else 0)
    assert str(limit // KB) in refused.json()["detail"] or "MB" in refused.json()["detail"]


def test_a_body_without_its_length_is_cut_off_once_it_passes_the_limit():
    """Chunked: no Content-Length to refuse by, so the body is counted as it arrives (the
    server is called directly, as TestClient would send the whole body first)."""
    pulled = 0
    sent: list = []

    async def receive():  # 100 × 8 KB = 800 KB, never declared
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * (8 * KB), "more_body": pulled < 100}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": "/text", "raw_path": b"/text",
             "root_path": "", "query_string": b"", "server": ("testserver", 80),
             "client": ("127.0.0.1", 5000),
             "headers": [(b"host", b"testserver"), (b"transfer-encoding", b"chunked"),
                         (b"content-type", b"application/json")]}
    # in a thread of its own: a browser test earlier in the run may hold this thread's loop
    worker = threading.Thread(target=anyio.run, args=(_app(), scope, receive, send))
    worker.start()
    worker.join()
    assert sent[0]["status"] == 413
    assert pulled == 9  # refused at the chunk that passed 64 KB, not after all 100
    multipart = TestClient(_app()).post(
        "/form", files=[("file", (f"{k}.pdf", b"%" * (100 * KB))) for k in range(FORM_FILES + 2)])
    assert multipart.status_code == 413


@pytest.fixture
def settings(settings):
    """The application of these tests takes text bodies up to 64 KB."""
    return settings.model_copy(update={"request_max_bytes": 64 * KB})


def test_the_application_refuses_a_large_body_in_the_readers_language(client, db, world):
    headers = signed(client, world.purchaser)
    projects = count(db, Project)
    body = {"name": "x" * (70 * KB), "catalogue_code": "A01"}
    refused = client.post("/api/projects", json=body, headers=headers)
    assert refused.status_code == 413
    assert refused.json()["detail"] == "请求过大：最多接受 64 KB。"
    english = client.post("/api/projects", json=body, headers={**headers,
                                                               "Accept-Language": "en"})
    assert english.status_code == 413
    assert english.json()["detail"] == "This request is too large: at most 64 KB are accepted."
    assert count(db, Project) == projects
    page = client.post("/login", content="username=" + "x" * (70 * KB),
                       headers={"content-type": "application/x-www-form-urlencoded"})
    assert page.status_code == 413 and "text/html" in page.headers["content-type"]
    assert "请求过大：最多接受 64 KB。" in page.text


def test_an_appeal_carries_its_evidence_past_the_text_limit(client, db, world, feed, clock):
    evaluation, _result = published(db, world, feed)
    headers = signed(client, world.supplier_user)
    evidence = b"%PDF-1.4\n" + b"0" * (90 * KB) + b"\n%%EOF\n"
    filed = client.post(f"/api/evaluations/{evaluation.id}/appeal", headers=headers, json={
        "reasons": "6 月 12 日暴雨停工已报备，台账缺记录不应扣分。",
        "evidence": [{"filename": "停工报备.pdf",
                      "content_base64": base64.b64encode(evidence).decode()}]})
    assert filed.status_code == 201, filed.text
    assert client.get(filed.json()["evidence"][0]["url"]).content == evidence
    assert count(db, Appeal) == 1


def test_a_respondents_submission_is_capped_like_every_form(client, db):
    """The survey's submissions are lean routes, matched before the routers: the same cap."""
    answer = client.post("/s/ABCD-EFGH", content="Q1=" + "x" * (70 * KB),
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413 and "请求过大：最多接受 64 KB。" in answer.text
