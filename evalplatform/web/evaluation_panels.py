"""The sections of an evaluation's page, contributed by each capability (评价页面的栏目).

The evaluation page itself knows the schedule and the status; the survey, the scoresheets,
the panel and the result each register a panel here from their own route module::

    @evaluation_panels.panel(order=20, template="surveys/_evaluation_panel.html")
    def survey_panel(request, session, principal, evaluation) -> dict | None:
        return {...}  # the template's context, or None to show nothing to this user

Panels are shown in ``order``; a panel sees the whole request, so it checks what the
principal may see itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from sqlmodel import Session

from evalplatform.models import Evaluation

PanelContext = Callable[[Request, Session, Any, Evaluation], dict | None]


@dataclass(frozen=True)
class Panel:
    order: int
    template: str
    context: PanelContext


_PANELS: dict[str, Panel] = {}


def panel(order: int, template: str) -> Callable[[PanelContext], PanelContext]:
    def register(function: PanelContext) -> PanelContext:
        _PANELS[template] = Panel(order, template, function)
        return function

    return register


@dataclass
class RenderedPanel:
    template: str
    context: dict


def panels_for(request: Request, session: Session, principal, evaluation: Evaluation
               ) -> list[RenderedPanel]:
    shown = []
    for item in sorted(_PANELS.values(), key=lambda p: (p.order, p.template)):
        context = item.context(request, session, principal, evaluation)
        if context is not None:
            shown.append(RenderedPanel(item.template, context))
    return shown
