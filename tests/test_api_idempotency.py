"""A program that retries a write of the JSON API after a timeout sends the same
Idempotency-Key header: the write runs once, and the retry gets the first answer again (status,
Location, body) marked Idempotent-Replayed — never a second project, a second audit entry."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from evalplatform.models import AuditEntry, IdempotencyKey, Project
from evalplatform.services import idempotency
from evalplatform.services.clock import now
from evalplatform.services.errors import Conflict
from tests.project_world import project_world
from tests.test_api_project_writes import signed

KEY = "Idempotency-Key"
REPLAYED = "idempotent-replayed"

NEW = {"name": "社区心理健康服务", "catalogue_code": "A0501", "content": "为社区居民提供心理咨询",
       "recipients": "全市 60 岁以上居民", "year": 2026, "budget_line": "2026年民政专项资金",
       "budget_yuan": "800000.00", "procurement_method": "public_tender",
       "performance_targets": {"quantity": "服务 800 人次"}}


@pytest.fixture
def world(db, make_user, make_org):
    return project_world(db, make_user, make_org)


def count(db, model, *where) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def registered(db) -> int:
    return count(db, AuditEntry, AuditEntry.action == "project.register")


def test_a_retried_registration_registers_one_project_and_answers_the_same(client, db, world):
    headers = {**signed(client, world.civil_purchaser), KEY: "3f1c7a2e-retry-1"}
    projects, entries = count(db, Project), count(db, AuditEntry)
    first = client.post("/api/projects", json=NEW, headers=headers)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers
    assert (count(db, Project), count(db, AuditEntry)) == (projects + 1, entries + 1)
    again = client.post("/api/projects", json=NEW, headers=headers)
    assert again.status_code == 201
    assert again.headers[REPLAYED] == "true"
    assert again.headers["location"] == first.headers["location"] == \
        f"/api/projects/{first.json()['id']}"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.content == first.content  # byte for byte
    # nothing ran: no second project, no audit entry
    assert (count(db, Project), count(db, AuditEntry)) == (projects + 1, entries + 1)
    assert client.post("/api/projects", json=NEW, headers=headers).content == first.content
    kept = db.exec(select(IdempotencyKey)).one()
    assert (kept.user_id, kept.key, kept.method, kept.path, kept.status_code) == (
        world.civil_purchaser.id, "3f1c7a2e-retry-1", "POST", "/api/projects", 201)
    assert kept.fingerprint == idempotency.fingerprint(first.request.content)
    assert kept.response_headers == {"content-type": "application/json",
                                     "location": first.headers["location"]}


def test_the_quoted_form_of_the_draft_names_the_same_key(client, db, world):
    headers = signed(client, world.civil_purchaser)
    first = client.post("/api/projects", json=NEW, headers={**headers, KEY: "order-77"})
    quoted = client.post("/api/projects", json=NEW, headers={**headers, KEY: '"order-77"'})
    assert quoted.headers.get(REPLAYED) == "true" and quoted.content == first.content
    assert count(db, Project) == 1 + len(world.projects)


def test_the_same_key_for_another_request_is_refused_naming_the_header(client, db, world):
    headers = {**signed(client, world.civil_purchaser), KEY: "one-key"}
    first = client.post("/api/projects", json=NEW, headers=headers)
    assert first.status_code == 201
    projects, entries = count(db, Project), count(db, AuditEntry)
    other = client.post("/api/projects", json={**NEW, "name": "另一个项目"}, headers=headers)
    assert other.status_code == 422
    assert set(other.json()["errors"]) == {KEY}
    assert "Idempotency-Key" in other.json()["detail"]
    assert REPLAYED not in other.headers
    # another path with the same key and body: refused too
    elsewhere = client.post(f"/api/projects/{first.json()['id']}/resubmit", json=NEW,
                            headers=headers)
    assert elsewhere.status_code == 422 and set(elsewhere.json()["errors"]) == {KEY}
    assert (count(db, Project), count(db, AuditEntry)) == (projects, entries)
    english = client.post("/api/projects", json={**NEW, "name": "x"},
                          headers={**headers, "Accept-Language": "en"})
    assert "already used for another request" in english.json()["errors"][KEY]


def test_a_key_belongs_to_the_user_who_sent_it(client, db, world):
    civil = client.post("/api/projects", json=NEW,
                        headers={**signed(client, world.civil_purchaser), KEY: "shared"})
    city = client.post("/api/projects", json=NEW,
                       headers={**signed(client, world.city_purchaser), KEY: "shared"})
    assert (civil.status_code, city.status_code) == (201, 201)
    assert REPLAYED not in city.headers
    assert city.json()["id"] != civil.json()["id"]
    assert city.json()["department_id"] == world.city.id
    assert count(db, Project, Project.name == NEW["name"]) == 2
    # and each one's retry replays its own
    again = client.post("/api/projects", json=NEW,
                        headers={**signed(client, world.city_purchaser), KEY: "shared"})
    assert again.headers[REPLAYED] == "true" and again.json()["id"] == city.json()["id"]


def test_a_refusal_of_what_was_sent_is_replayed_as_it_was(client, db, world):
    headers = {**signed(client, world.civil_purchaser), KEY: "refused-1"}
    projects = count(db, Project)
    bad = {**NEW, "catalogue_code": "Z9999", "budget_line": " "}
    first = client.post("/api/projects", json=bad, headers=headers)
    assert first.status_code == 422 and set(first.json()["errors"]) == {"catalogue_code",
                                                                         "budget_line"}
    again = client.post("/api/projects", json=bad, headers=headers)
    assert again.status_code == 422 and again.headers[REPLAYED] == "true"
    assert again.content == first.content
    assert count(db, Project) == projects
    # the corrected request is another request: a new key
    fixed = client.post("/api/projects", json=NEW, headers={**headers, KEY: "refused-2"})
    assert fixed.status_code == 201 and count(db, Project) == projects + 1


def test_without_the_header_each_post_runs(client, db, world):
    headers = signed(client, world.civil_purchaser)
    projects = count(db, Project)
    first = client.post("/api/projects", json=NEW, headers=headers)
    second = client.post("/api/projects", json=NEW, headers=headers)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert REPLAYED not in second.headers
    assert count(db, Project) == projects + 2
    assert count(db, IdempotencyKey) == 0


@pytest.mark.parametrize("value", [b"", b" ", b"x" * 256, "幂等键".encode(),
                                   b"tab\there", b'"a"b"', b'""'])
def test_a_key_that_is_no_key_is_refused_naming_the_header(client, db, world, value):
    headers = signed(client, world.civil_purchaser)
    projects = count(db, Project)
    refused = client.post("/api/projects", json=NEW,
                          headers=[*headers.items(), (KEY, value)])
    assert refused.status_code == 422, refused.text
    assert set(refused.json()["errors"]) == {KEY}
    assert "255" in refused.json()["errors"][KEY]
    assert count(db, Project) == projects and count(db, IdempotencyKey) == 0


def test_the_longest_key_and_two_keys_at_once(client, db, world):
    headers = signed(client, world.civil_purchaser)
    longest = client.post("/api/projects", json=NEW, headers={**headers, KEY: "k" * 255})
    assert longest.status_code == 201
    twice = client.post("/api/projects", json=NEW,
                        headers=[*headers.items(), (KEY, "a"), (KEY, "b")])
    assert twice.status_code == 422 and set(twice.json()["errors"]) == {KEY}
    assert count(db, Project, Project.name == NEW["name"]) == 1


def test_a_retry_while_the_first_request_runs_is_answered_409(client, db, world, engine):
    headers = {**signed(client, world.civil_purchaser), KEY: "slow-1"}
    body = client.build_request("POST", "/api/projects", json=NEW).content
    with Session(engine) as other:  # another process has claimed it and is still running it
        claimed = idempotency.claim(other, user_id=world.civil_purchaser.id, key="slow-1",
                                    method="POST", path="/api/projects", body=body)
    assert isinstance(claimed, idempotency.Claim)
    projects = count(db, Project)
    busy = client.post("/api/projects", json=NEW, headers=headers)
    assert busy.status_code == 409
    assert "Idempotency-Key" in busy.json()["detail"]
    assert count(db, Project) == projects
    # the row is still the other request's, in progress
    assert db.exec(select(IdempotencyKey.status_code)).one() is None
    with Session(engine) as other:  # it ended with a server error: the key is given up
        idempotency.abandon(other, claimed)
    ran = client.post("/api/projects", json=NEW, headers=headers)
    assert ran.status_code == 201 and REPLAYED not in ran.headers
    assert count(db, Project) == projects + 1


def test_an_expired_key_is_as_if_never_used_and_expired_keys_are_deleted(client, db, world):
    headers = {**signed(client, world.civil_purchaser), KEY: "day-old"}
    first = client.post("/api/projects", json=NEW, headers=headers)
    client.post("/api/projects", json={**NEW, "name": "其他"},
                headers={**headers, KEY: "other-old"})
    assert count(db, IdempotencyKey) == 2
    db.execute(update(IdempotencyKey).values(expires_at=now() - timedelta(seconds=1)))
    db.commit()
    projects = count(db, Project)
    again = client.post("/api/projects", json=NEW, headers=headers)
    assert again.status_code == 201 and REPLAYED not in again.headers
    assert again.json()["id"] != first.json()["id"]
    assert count(db, Project) == projects + 1
    # the other expired key went with this claim; the new one is kept for 24 hours
    db.expire_all()
    kept = db.exec(select(IdempotencyKey)).one()
    assert kept.key == "day-old" and kept.status_code == 201
    lifetime = kept.expires_at - kept.created_at
    assert lifetime == timedelta(hours=24) == idempotency.KEY_LIFETIME


def test_purging_deletes_only_expired_keys(db, world):
    at = now()
    for n, age in enumerate([25, 24, 23, 1]):
        db.add(IdempotencyKey(user_id=world.finance.id, key=f"k{n}", method="POST",
                              path="/api/x", fingerprint="0" * 64, status_code=200,
                              created_at=at - timedelta(hours=age),
                              expires_at=at - timedelta(hours=age) + idempotency.KEY_LIFETIME))
    db.commit()
    assert idempotency.purge_expired(db, at) == 2
    assert sorted(db.exec(select(IdempotencyKey.key)).all()) == ["k2", "k3"]


def test_a_server_error_is_not_kept_so_the_retry_runs(app, db, world, monkeypatch):
    from fastapi.testclient import TestClient

    from evalplatform.services import projects as project_service

    register = project_service.register

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        headers = {**signed(client, world.civil_purchaser), KEY: "after-500"}
        monkeypatch.setattr(project_service, "register", broken)
        failed = client.post("/api/projects", json=NEW, headers=headers)
        assert failed.status_code == 500
        assert count(db, IdempotencyKey) == 0
        monkeypatch.setattr(project_service, "register", register)
        ran = client.post("/api/projects", json=NEW, headers=headers)
        assert ran.status_code == 201 and REPLAYED not in ran.headers
        assert count(db, Project, Project.name == NEW["name"]) == 1


def test_a_request_refused_by_the_session_checks_keeps_nothing(client, db, world):
    headers = signed(client, world.civil_purchaser)
    forged = client.post("/api/projects", json=NEW, headers={KEY: "no-token"})
    assert forged.status_code == 403
    assert count(db, IdempotencyKey) == 0
    ran = client.post("/api/projects", json=NEW, headers={**headers, KEY: "no-token"})
    assert ran.status_code == 201
    client.cookies.clear()
    signed_out = client.post("/api/projects", json=NEW, headers={**headers, KEY: "no-token"})
    assert signed_out.status_code == 401
    assert count(db, Project, Project.name == NEW["name"]) == 1


def test_a_body_over_the_limit_is_refused_as_always_and_keeps_nothing(app, client, db, world):
    # over what any route takes (an appeal's JSON may carry files): passed on untouched
    app.state.settings = app.state.settings.model_copy(
        update={"request_max_bytes": 64 * 1024, "upload_max_bytes": 1024})
    headers = {**signed(client, world.civil_purchaser), KEY: "too-large"}
    large = client.post("/api/projects", json={**NEW, "content": "服" * 30_000}, headers=headers)
    assert large.status_code == 413
    assert count(db, IdempotencyKey) == 0
    assert client.post("/api/projects", json=NEW, headers=headers).status_code == 201


def test_a_patch_is_covered_too(client, db, make_user, world):
    admin = make_user("admin")
    target = make_user("auditor")
    headers = {**signed(client, admin), KEY: "rename-1"}
    entries = count(db, AuditEntry, AuditEntry.action == "user.update")
    first = client.patch(f"/api/users/{target.id}", json={"display_name": "李审计"},
                         headers=headers)
    assert first.status_code == 200, first.text
    again = client.patch(f"/api/users/{target.id}", json={"display_name": "李审计"},
                         headers=headers)
    assert again.headers[REPLAYED] == "true" and again.content == first.content
    assert count(db, AuditEntry, AuditEntry.action == "user.update") == entries + 1


def test_the_session_endpoints_and_reads_ignore_the_header(client, db, world):
    headers = {**signed(client, world.civil_purchaser), KEY: "read"}
    assert client.get("/api/projects", headers=headers).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 200
    assert count(db, IdempotencyKey) == 0


def test_two_requests_with_one_key_at_once_register_one_project(client, db, world, monkeypatch):
    """Two copies of a request arrive together (a client that retried at once, two worker
    processes behind a balancer): the key's row, written first under its unique constraint,
    lets one run; the other is told it is still running."""
    from evalplatform.services import projects as project_service

    register = project_service.register

    def slow(*args, **kwargs):
        time.sleep(0.5)
        return register(*args, **kwargs)

    monkeypatch.setattr(project_service, "register", slow)
    headers = {**signed(client, world.civil_purchaser), KEY: "together"}
    projects = count(db, Project)
    answers, start = [], threading.Barrier(2)

    def post():
        start.wait()
        answers.append(client.post("/api/projects", json=NEW, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [201, 409]
    assert count(db, Project) == projects + 1
    monkeypatch.setattr(project_service, "register", register)
    again = client.post("/api/projects", json=NEW, headers=headers)
    assert again.headers[REPLAYED] == "true"
    assert again.json()["id"] == next(a for a in answers if a.status_code == 201).json()["id"]


def test_two_processes_claiming_one_key_at_once_one_wins(engine, db, world):
    """The claim itself, from two connections at the same moment: exactly one claims the key."""
    outcomes, start = [], threading.Barrier(2)

    def claim():
        with Session(engine) as session:
            start.wait()
            try:
                outcomes.append(idempotency.claim(
                    session, user_id=world.finance.id, key="race", method="POST",
                    path="/api/x", body=b"{}"))
            except Conflict:
                outcomes.append("busy")

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(type(o).__name__ for o in outcomes) == ["Claim", "str"]
    assert count(db, IdempotencyKey) == 1


def test_the_openapi_document_describes_the_header_on_every_write(client):
    document = client.get("/api/openapi.json").json()
    writes = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", [])]
            covered = method in ("post", "patch") and not path.startswith("/api/session")
            assert (KEY in names) == covered, (method, path)
            if covered:
                writes += 1
                parameter = next(p for p in operation["parameters"] if p["name"] == KEY)
                assert parameter["in"] == "header" and not parameter["required"]
                assert parameter["schema"]["maxLength"] == 255
                assert "24 hours" in parameter["description"]
                assert operation["responses"]["409"]["content"]["application/json"][
                    "schema"] == {"$ref": "#/components/schemas/Problem"}
    assert writes >= 20
    assert "Idempotency-Key" in document["info"]["description"]
