"""All routers, in the order they are mounted."""

from evalplatform.web.routes import (
    account,
    admin,
    api,
    audit_log,
    auth,
    evaluations,
    home,
    projects,
    schemes,
    surveys,
)

ROUTERS = [auth.router, home.router, account.router, admin.router, audit_log.router,
           projects.router, schemes.router, evaluations.router, surveys.router,
           api.router]
