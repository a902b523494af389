"""Every form the demo city shows a role, sent back with values nobody should type — a number
too large for any column, a NUL character, "1e309", five thousand characters — is answered
with a refusal or a page, never a server error. A form's fields are checked by the services
that own them; these inputs once reached the database or decimal rounding unchecked: a
catalogue entry, an organisation or an instalment chosen by a 20-digit id, a record's
version "x", a budget or an indicator's points of "1e309"."""

from __future__ import annotations

import re
from collections import Counter, deque
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from evalplatform.db import form_integer, form_version
from evalplatform.services import demo
from evalplatform.services.money import parse_yuan
from evalplatform.services.ratios import decimal_text
from evalplatform.services.schemes import decimal_or_none
from tests.conftest import login
from tests.test_demo_walk import NOT_PAGES

#: The values sent, each in every field of a form at once.
GARBAGE = ["9" * 20, "a\x00b", "1e309", "字" * 5000]
#: A number no INTEGER column holds, sent alone in each field that carries a number.
HUGE = "9" * 20
#: Forms not swept: signing in and out, the language, one's own password (a garbage password
#: that met the rules would sign the walk out).
NOT_SWEPT = re.compile(r"^/(login|logout|language|account/password)\b")
PAGES_PER_ROLE = 100
PER_SHAPE = 2


class _Forms(HTMLParser):
    """The forms of a page that send a POST: their action and fields (name, value)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self.links: list[str] = []
        self._form: dict | None = None
        self._select: list | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            action = a.get("hx-post") or (a.get("action") if (a.get("method") or "").lower()
                                          == "post" else None)
            self._form = {"action": action, "htmx": "hx-post" in a, "fields": []}
            if action is not None:
                self.forms.append(self._form)
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("submit", "button", "reset", "image", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            field = [a["name"], a.get("value") or ""]
            self._form["fields"].append(field)
            if tag == "select":
                self._select = field
        elif tag == "option" and self._select is not None and not self._select[1]:
            self._select[1] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _forms_of(client, limit: int = PAGES_PER_ROLE) -> dict[str, tuple[str, dict]]:
    """Each kind of form (its action with ids as N) the role meets, once: shape → (page, form)."""
    seen: set[str] = set()
    shapes: Counter = Counter()
    found: dict[str, tuple[str, dict]] = {}
    queue = deque(["/"])
    while queue and len(seen) < limit:
        path = queue.popleft()
        shape = re.sub(r"\d+", "N", path.split("?", 1)[0])
        if path in seen or shapes[shape] >= PER_SHAPE:
            continue
        seen.add(path)
        shapes[shape] += 1
        page = client.get(path, follow_redirects=True)
        if "text/html" not in page.headers.get("content-type", ""):
            continue
        parts = _Forms()
        parts.feed(page.text)
        for form in parts.forms:
            action = (form["action"] or path.split("?", 1)[0]).replace("&amp;", "&")
            key = re.sub(r"\d+", "N", action.split("?", 1)[0])
            if action.startswith("/") and not NOT_SWEPT.search(action) and key not in found:
                found[key] = (action, form)
        for href in parts.links:
            href = href.replace("&amp;", "&")
            if href.startswith("/") and not NOT_PAGES.search(href) and href not in seen:
                queue.append(href)
    return found


def _variants(fields: list) -> list[tuple[str, dict]]:
    """The bodies sent for a form: every field garbage at once, then each numeric field huge."""
    names = [n for n, _ in fields if n != "csrf_token"]
    base = {n: v for n, v in fields}
    bodies = [(f"every field {g[:12]!r}", {**base, **dict.fromkeys(names, g)}) for g in GARBAGE]
    bodies += [(f"{n}={HUGE}", {**base, n: HUGE}) for n, v in fields
               if n != "csrf_token" and v.strip().isdigit()]
    return bodies


@pytest.mark.parametrize("sent, read", [
    ("7", 7), (" 12 ", 12), ("2147483647", 2147483647), ("0", 0),
    ("2147483648", None), (HUGE, None), ("-1", None), ("+1", None), ("1e3", None), ("1.0", None),
    ("x", None), ("a\x00b", None), ("", None), (None, None), ("²", None), ("٣", None)])
def test_an_id_sent_in_a_form_is_a_whole_number_an_integer_column_holds(sent, read):
    assert form_integer(sent) == read


@pytest.mark.parametrize("sent, read", [
    (None, None), ("", None), ("0", None), ("3", 3), ("x", -1), (HUGE, -1), ("-2", -1)])
def test_a_version_that_is_none_refuses_the_change_as_stale_rather_than_skipping_the_check(
        sent, read):
    assert form_version(sent) == read


@pytest.mark.parametrize("typed", ["1e309", "1e15", "9" * 20, "-1e20"])
def test_a_number_beyond_ten_to_the_fifteenth_is_no_number_a_form_takes(typed):
    assert decimal_text(typed) is None
    assert decimal_or_none(typed) is None
    assert decimal_or_none("999999999999999") == Decimal("999999999999999")


@pytest.mark.parametrize("typed", ["1E-100000", "1e-21", "0." + "0" * 20 + "1"])
def test_a_number_with_more_than_twenty_places_is_no_number_a_form_takes(typed):
    """Twelve characters typed, 1E-100000, would be 100,001 written out in a scheme."""
    assert decimal_text(typed) is None
    assert decimal_or_none(typed) is None
    assert decimal_or_none("1e-20") == Decimal("1e-20")
    assert decimal_or_none("12.500000000000000000000") == Decimal("12.5")  # zeros are no places


@pytest.mark.parametrize("typed", ["1e309", "1e13", "99999999999999999999"])
def test_an_amount_too_large_is_refused_with_the_rule(typed):
    assert parse_yuan(typed) == (None, "金额过大。")


@pytest.fixture
def demo_city(db):
    return {a.username: a.password for a in demo.load(db)}


@pytest.mark.parametrize("username, at_least", [
    ("caizheng", 10), ("minzheng", 10), ("fukang", 2), ("pingjia", 2), ("zhuanjia1", 1),
    ("admin", 3)])
def test_every_form_a_role_meets_refuses_garbage_without_a_server_error(
        client, demo_city, username, at_least):
    login(client, username, demo_city[username])
    forms = _forms_of(client)
    assert len(forms) >= at_least, sorted(forms)  # the sweep met the role's forms
    faults = []
    for action, form in forms.values():
        if not [n for n, _ in form["fields"] if n != "csrf_token"]:
            continue  # a button: nothing typed to garble
        headers = {"HX-Request": "true"} if form["htmx"] else {}
        for what, body in _variants(form["fields"]):
            try:
                answer = client.post(action, data=body, headers=headers)
            except Exception as exc:  # noqa: BLE001 - the fault is what is reported
                faults.append(f"POST {action} ({what}): {type(exc).__name__}: {exc}"[:300])
                continue
            if answer.status_code >= 500:
                faults.append(f"POST {action} ({what}): {answer.status_code}")
    assert faults == []
