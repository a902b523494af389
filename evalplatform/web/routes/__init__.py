"""All routers, in the order they are mounted (and matched: the busiest first), and the lean
routes matched before them (``web.lean``)."""

from evalplatform.web.routes import (
    account,
    admin,
    api,
    api_acceptance,
    api_appeals,
    api_catalogue,
    api_contracts,
    api_evaluations,
    api_panels,
    api_projects,
    api_results,
    api_schemes,
    api_scoresheets,
    api_settlements,
    api_standing,
    api_surveys,
    audit_log,
    auth,
    budget,
    disclosure,
    evaluations,
    experts,
    home,
    projects,
    results,
    schemes,
    scoresheets,
    settlements,
    surveys,
)

ROUTERS = [surveys.respondents, auth.router, home.router, account.router, admin.router,
           audit_log.router, projects.router, schemes.router, evaluations.router,
           surveys.router, experts.router, scoresheets.router, results.router,
           settlements.router, budget.router, disclosure.router, api.router, api_projects.router,
           api_evaluations.router, api_surveys.router, api_settlements.router,
           api_contracts.router, api_standing.router, api_results.router,
           api_scoresheets.router, api_appeals.router, api_catalogue.router,
           api_schemes.router, api_panels.router, api_acceptance.router, budget.api]

LEAN_ROUTES = [*surveys.submissions.routes, *home.health.routes]
