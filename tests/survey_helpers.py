"""Helpers for the survey tests: an evaluation whose survey window is open now, answers."""

from __future__ import annotations

from datetime import timedelta

from evalplatform.services import projects
from evalplatform.services import surveys_app as app_service
from surveys import invitations
from tests.builders import contracted_world, schedule


def window(days_before: int = 10, days_after: int = 10) -> dict:
    today = projects.today()
    return {"opens": (today - timedelta(days=days_before)).isoformat(),
            "closes": (today + timedelta(days=days_after)).isoformat()}


def street_world(db, make_user, make_org, **kwargs):
    return contracted_world(db, make_user, make_org, **kwargs)


def evaluation_with_survey(db, world, *, template: str = "street_cleaning", opened: bool = True,
                           when: dict | None = None):
    """An evaluation of ``world`` whose survey is created (and opened, by default)."""
    evaluation = schedule(db, world, **(when or window()))
    app_service.create(db, world.purchaser_principal, evaluation.id, template)
    if opened:
        app_service.open_survey(db, world.purchaser_principal, evaluation.id)
    db.refresh(evaluation)
    return evaluation


def form(**answers) -> callable:
    """A form's ``getlist``: values given as a string or a list of strings."""
    data = {k: (v if isinstance(v, list) else [v]) for k, v in answers.items()}
    return lambda name: data.get(name, [])


#: A complete street-cleaning answer (5-level questions are scale4 here: 满意 … 不满意).
STREET_ANSWERS = {"Q1": "satisfied", "Q2": "fairly_satisfied", "Q3": "neutral", "Q4": "no",
                  "Q5": "morning"}


def open_survey_codes(db, make_user, make_org, n: int = 1) -> list[str]:
    """``n`` fresh invitation codes of a new world's street-cleaning survey, open now."""
    world = contracted_world(db, make_user, make_org)
    evaluation = evaluation_with_survey(db, world)
    batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id, str(n), "")
    return [i.code for i in invitations.codes_of(db, batch.id)]
