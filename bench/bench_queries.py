"""SQL statements per page on the demo city: which pages read the database once per record
(N+1) and so slow down as a city's contracts and instalments grow.

    .venv/bin/python bench/bench_queries.py

It loads the demo data into a fresh SQLite file, signs in as each role and counts the
statements each page sends (a SQLAlchemy ``before_cursor_execute`` listener). Counts, not
times: they do not depend on the machine. The reference is a paged list (``/settlements``,
one statement for the page and one for the count), so the ratio says how many times a
list's worth of statements a page costs. ``tests/test_settlements.py`` asserts that the
payment list's count does not grow with the number of contracts.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import tempfile
import warnings
from pathlib import Path

PAGES = {
    "caizheng": ["/", "/settlements", "/settlements/due", "/reports/half-year", "/due",
                 "/standing", "/contracts", "/evaluations/5", "/contracts/8/settlements",
                 "/acceptances", "/audit", "/api/settlements", "/api/due"],
    "fukang": ["/", "/contracts", "/settlements", "/settlements/due"],
}
REFERENCE = ("caizheng", "/settlements")


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="evalplatform-queries-"))
    password = secrets.token_urlsafe(12)
    os.environ.update(EVAL_DATABASE_URL=f"sqlite:///{folder / 'demo.db'}",
                      EVAL_DEMO_PASSWORD=password, EVAL_MIX_SECONDS="0")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    warnings.filterwarnings("ignore")
    from fastapi.testclient import TestClient
    from sqlalchemy import event
    from sqlmodel import Session

    from evalplatform.migrate import upgrade
    from evalplatform.services import demo
    from evalplatform.web.app import create_app

    upgrade()
    app = create_app()
    with Session(app.state.engine) as session:
        demo.load(session)
    statements = [0]

    @event.listens_for(app.state.engine, "before_cursor_execute")
    def count(*_args):
        statements[0] += 1

    client = TestClient(app)
    counts: dict[tuple[str, str], int] = {}
    for user, paths in PAGES.items():
        client.cookies.clear()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        signed = client.post("/login", data={"username": user, "password": password,
                                             "csrf_token": token}, follow_redirects=False)
        if signed.status_code != 303:
            print(f"could not sign in as {user}: {signed.status_code}", file=sys.stderr)
            return 1
        for path in paths:
            statements[0] = 0
            response = client.get(path)
            if response.status_code != 200:
                print(f"{user} {path}: {response.status_code}", file=sys.stderr)
                return 1
            counts[(user, path)] = statements[0]
    reference = counts[REFERENCE]
    print(f"SQL statements per page on the demo city (reference: {REFERENCE[1]} as "
          f"{REFERENCE[0]}, {reference} statements)\n")
    print(f"{'reader':10} {'page':28} {'statements':>10} {'× reference':>12}")
    for (user, path), n in counts.items():
        print(f"{user:10} {path:28} {n:10d} {n / reference:11.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
