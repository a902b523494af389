"""Every write of the JSON API (POST, PUT, PATCH with a JSON body), as the demo city's
purchaser, finance officer and administrator on records they hold, with each field of its body
replaced by a value nobody should send — an id too large for any column, a NUL character,
"1e309", a string of five thousand characters, a list — answers a JSON problem, never a server
error. An instalment chosen by a 20-digit id once reached the database's driver and failed
there (the API now refuses ids and versions outside 1…2³¹−1 with 422, naming the field)."""

from __future__ import annotations

import json
import re

import pytest

from evalplatform.services import demo
from tests.conftest import login

BAD_VALUES = [10**20, "9" * 20, "a\x00b", "1e309", "字" * 5000, ["x"], {"x": 1}, -1, None]
#: Signing in and out and changing one's own password are not swept (a garbage password that
#: met the rules would end the sweep's session).
NOT_SWEPT = re.compile(r"^/api/session")


@pytest.fixture
def demo_city(db):
    return {a.username: a.password for a in demo.load(db)}


def _writes(app) -> list[tuple[str, str, dict]]:
    """(method, path, body schema's properties) of each write that takes a JSON body."""
    spec = app.openapi()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            body = (operation.get("requestBody", {}).get("content", {})
                    .get("application/json", {}).get("schema"))
            if method in ("post", "put", "patch") and body and not NOT_SWEPT.search(path):
                name = body.get("$ref", "").rsplit("/", 1)[-1]
                found.append((method, path, schemas.get(name, body).get("properties", {})))
    return found


def _plain(properties: dict) -> dict:
    """A body whose every field has a plausible value, to vary one field at a time."""
    def value(schema):
        kinds = [s.get("type") for s in schema.get("anyOf", [schema])]
        return 1 if "integer" in kinds else [] if "array" in kinds else "1"
    return {name: value(schema) for name, schema in properties.items()}


def test_the_sweep_meets_every_kind_of_write(app):
    writes = {(m, p) for m, p, _ in _writes(app)}
    assert len(writes) >= 20
    assert ("post", "/api/contracts/{contract_id}/settlements") in writes


@pytest.mark.parametrize("username", ["minzheng", "caizheng", "admin"])
def test_every_write_refuses_each_bad_field_without_a_server_error(
        client, app, demo_city, username):
    login(client, username, demo_city[username])
    headers = {"X-CSRF-Token": client.get("/api/session").json()["csrf_token"],
               "Content-Type": "application/json"}
    faults, sent = [], 0
    for method, path, properties in _writes(app):
        for record in ("1", "2"):
            url = re.sub(r"\{[a-z_]+\}", record, path)
            for field in properties:
                for bad in BAD_VALUES:
                    body = {**_plain(properties), field: bad}
                    answer = client.request(method.upper(), url, headers=headers,
                                            content=json.dumps(body))
                    sent += 1
                    if answer.status_code >= 500 or not answer.headers.get(
                            "content-type", "").startswith("application/json"):
                        faults.append(f"{method.upper()} {url} {field}={str(bad)[:12]!r}: "
                                      f"{answer.status_code}")
    assert sent > 300
    assert faults == []
