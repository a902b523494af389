"""All routers, in the order they are mounted."""

from evalplatform.web.routes import (
    account,
    admin,
    api,
    api_projects,
    audit_log,
    auth,
    disclosure,
    home,
    projects,
    schemes,
)

ROUTERS = [auth.router, home.router, account.router, admin.router, audit_log.router,
           projects.router, schemes.router, disclosure.router, api.router, api_projects.router]
