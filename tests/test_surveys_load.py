"""A bounded load test on the loopback interface: 24 respondents at once send 3,000 forms,
each of 1,500 codes twice at the same moment; every accepted answer is stored exactly once
and every used code is used once, while the answers are mixed underneath in rounds as the
workers' mixer makes them (surveys.mixing)."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import func, select

from evalplatform.models import Invitation, SurveyResponse
from evalplatform.services import surveys_app as app_service
from surveys import invitations, mixing
from tests.builders import contracted_world
from tests.survey_helpers import STREET_ANSWERS, evaluation_with_survey

CODES = 1500
RESPONDENTS = 24


def test_concurrent_submissions_store_each_answer_exactly_once(db, engine, live_server,
                                                               make_user, make_org):
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id,
                                          str(CODES), "load")
    codes = [i.code for i in invitations.codes_of(db, batch.id)]

    def client() -> tuple[httpx.Client, dict]:
        """A respondent's connection and the hidden fields of the page (the CSRF token and
        the version shown), which the browser sends back with the answers."""
        c = httpx.Client(base_url=live_server, timeout=60, follow_redirects=False)
        page = c.get(f"/s/{codes[0]}").text
        return c, dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))

    clients = [client() for _ in range(RESPONDENTS)]
    assert {"csrf_token", "version_id"} <= set(clients[0][1])
    jobs = [code for code in codes for _twice in range(2)]  # every code twice, back to back

    def send(index: int) -> int:
        c, hidden = clients[index % RESPONDENTS]
        return c.post(f"/s/{jobs[index]}", data={**STREET_ANSWERS, **hidden}).status_code

    stop = threading.Event()
    mixed: list[int] = []

    def mixer() -> None:  # what each worker runs every second, here 20 times a second
        while not stop.wait(0.05):
            mixed.append(app_service.mix_answers(engine).answers)

    with ThreadPoolExecutor(RESPONDENTS + 1) as pool:
        rounds = pool.submit(mixer)
        statuses = list(pool.map(send, range(len(jobs))))
        stop.set()
        rounds.result()
    for c, _token in clients:
        c.close()
    assert statuses.count(303) == CODES and statuses.count(409) == CODES
    db.expire_all()
    assert db.exec(select(func.count()).select_from(SurveyResponse)).one() == CODES
    assert db.exec(select(func.count()).select_from(Invitation).where(Invitation.used)).one() == CODES
    assert sum(mixed) > 0  # answers were moved while others came in
    app_service.mix_answers(engine)
    assert mixing.unmixed(db) < mixing.MIX_AT
    assert db.exec(select(func.count(func.distinct(SurveyResponse.id)))).one() == CODES
