"""The expert pool's and the panel's pages (专家库, 专家抽取) as their users read them."""

from __future__ import annotations

import pytest

from evalplatform.models import MemberStatus, PanelMember
from tests.conftest import csrf_from, login
from tests.test_scoresheets_world import panel_world


def sign_in(client, user):
    client.cookies.clear()
    response = login(client, user.username)
    assert response.status_code == 303, response.text
    return csrf_from(client, "/")


@pytest.fixture
def pw(db, make_user, make_org):
    return panel_world(db, make_user, make_org, pool_size=3, seats=3, alternates=0)


def test_the_pool_calls_a_title_a_professional_title(client, db, pw):
    sign_in(client, pw.world.finance)
    listing = client.get("/experts").text
    assert "职称" in listing and "标题" not in listing
    detail = client.get(f"/experts/{pw.pool[0].id}").text
    assert "<dt>职称</dt>" in detail and "<dt>联系方式</dt>" in detail


def test_an_expert_declining_with_no_alternate_left_is_not_told_one_takes_the_seat(client, db,
                                                                                   pw):
    member = pw.seated(db)[0]
    token = sign_in(client, pw.user_of(db, member))
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/members/{member.id}/step-down",
                           data={"reason": "外出学习", "csrf_token": token})
    assert response.headers["location"] == "/evaluations"
    page = client.get("/evaluations").text
    assert "补充抽取" in page or "draw again" in page
    assert "由候补专家递补您的席位" not in page
    db.expire_all()
    assert db.get(PanelMember, member.id).status == MemberStatus.declined


def test_a_further_draw_too_big_for_the_pool_shows_why_on_the_page(client, db, pw):
    organiser = pw.purchaser
    token = sign_in(client, organiser)
    member = pw.seated(db)[0]
    client.post(f"/evaluations/{pw.evaluation.id}/panel/members/{member.id}/step-down",
                data={"reason": "出差", "csrf_token": token})
    response = client.post(f"/evaluations/{pw.evaluation.id}/panel/draw",
                           data={"reason": "补抽", "alternates": "0", "specialities": "D02",
                                 "csrf_token": token})
    assert response.status_code == 422
    assert 'id="e-alternates"' in response.text  # the refusal stands at a field on the page


def test_a_members_name_and_employer_stay_one_block_in_the_phones_card(client, db, pw):
    """On a phone each row is a card whose cells lay their children side by side; the name
    alone beside the employer wrapped one character a line (高/志/明)."""
    sign_in(client, pw.purchaser)
    page = client.get(f"/evaluations/{pw.evaluation.id}/panel").text
    name = pw.pool[0].name
    assert f'<span>{name}<br><span class="hint">' in page
