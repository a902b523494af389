"""All routers, in the order they are mounted."""

from evalplatform.web.routes import (
    account,
    admin,
    api,
    audit_log,
    auth,
    evaluations,
    experts,
    home,
    projects,
    schemes,
    scoresheets,
)

ROUTERS = [auth.router, home.router, account.router, admin.router, audit_log.router,
           projects.router, schemes.router, evaluations.router, experts.router,
           scoresheets.router, api.router]
