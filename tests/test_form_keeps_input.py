"""A refused form comes back with what was typed, the error beside the field it is about, and
nothing changed (DESIGN.md, Conventions)."""

from __future__ import annotations

import copy
import re
from html import unescape

from evalplatform.models import IndicatorScheme
from evalplatform.services import schemes
from evalplatform.web.access import Principal
from tests.conftest import csrf_from


def _principal(user) -> Principal:
    return Principal(id=user.id, username=user.username, display_name=user.display_name,
                     role=user.role, organisation_id=user.organisation_id,
                     organisation_name=None, organisation_kind=None)


def _tag(page: str, element_id: str) -> str:
    found = re.search(rf'<[a-z]+ [^>]*id="{re.escape(element_id)}"[^>]*>', page)
    assert found, element_id
    return found.group(0)


def test_a_refused_sub_indicator_comes_back_open_with_what_was_typed_at_its_field(
        client, signed_in, db):
    user = signed_in("purchaser")
    scheme = schemes.create(db, _principal(user), name="民政局自有指标体系")
    schemes.add_child(db, _principal(user), scheme.id, "A", name="服务质量", points="100")
    db.expire_all()
    before = copy.deepcopy(db.get(IndicatorScheme, scheme.id).document)
    token = csrf_from(client, f"/schemes/{scheme.id}")
    response = client.post(f"/schemes/{scheme.id}/nodes/A1/children",
                           data={"name": "多余的", "points": "abc"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 422
    page = unescape(response.text)
    # the add form is open again, both typed values in their boxes
    assert re.search(r'<details class="add-child" open>\s*<summary>添加下级指标</summary>\s*'
                     rf'<form class="inline-form" hx-post="/schemes/{scheme.id}/nodes/A1/children"',
                     page)
    assert 'value="多余的"' in _tag(page, "f-A1-child-name")
    points = _tag(page, "f-A1-child-points")
    assert 'value="abc"' in points and 'aria-invalid="true"' in points
    # the error is beside the points field and tied to it, not under the parent's own fields
    assert 'aria-describedby="e-A1-child-points"' in points
    error = re.search(r'<p class="error" id="e-A1-child-points" role="alert">([^<]+)</p>', page)
    assert error and "分值" in error.group(1)
    assert 'aria-invalid' not in _tag(page, "f-A1-points")
    assert 'aria-invalid' not in _tag(page, "f-A1-child-name")
    # every other add form stays closed and empty
    assert page.count('<details class="add-child" open>') == 1
    assert 'value=""' in _tag(page, "f-A-child-name")
    db.expire_all()
    assert db.get(IndicatorScheme, scheme.id).document == before  # nothing changed
    # a good one is added, and the form is closed and empty again
    added = client.post(f"/schemes/{scheme.id}/nodes/A1/children",
                        data={"name": "服务满意度", "points": "100"},
                        headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert added.status_code == 200
    assert '<details class="add-child" open>' not in added.text
    assert 'value=""' in _tag(added.text, "f-A1-child-name")


def test_a_sub_indicators_missing_name_is_said_at_the_name_field(client, signed_in, db):
    user = signed_in("purchaser")
    scheme = schemes.create(db, _principal(user), name="民政局自有指标体系")
    token = csrf_from(client, f"/schemes/{scheme.id}")
    response = client.post(f"/schemes/{scheme.id}/nodes/A/children",
                           data={"name": " ", "points": "40"},
                           headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.status_code == 422
    name = _tag(response.text, "f-A-child-name")
    assert 'aria-invalid="true"' in name and 'aria-describedby="e-A-child-name"' in name
    assert 'id="e-A-child-name"' in response.text
    points = _tag(response.text, "f-A-child-points")
    assert 'value="40"' in points and "aria-invalid" not in points
