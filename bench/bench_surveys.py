"""Survey submission under load (满意度调查提交压力测试), on PostgreSQL with several workers.

Run: ``python bench/bench_surveys.py`` (``--quick`` for a smaller run). It needs a
PostgreSQL server (``EVAL_BENCH_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``);
it creates its own database and drops it afterwards. Everything stays on the loopback
interface and every loop is bounded in count and time.

1. **Throughput and p99.** The application runs under uvicorn with ``--workers`` processes.
   ``--concurrency`` respondents (default 100) send questionnaires with invitation codes as
   fast as the server answers; the same number of clients then call a bare endpoint of the
   same stack (``GET /healthz``: the same middleware, session and a database round trip).
   It prints both rates, their ratio (target ≥ 40 %) and the p50/p99 latencies (target p99
   < 100 ms).
2. **Exactly once.** Every code is then sent again, and a tenth of the fresh codes twice at
   the same moment: every accepted answer must be stored exactly once and every used code
   used once (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("EVAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ANSWERS = {"Q1": "satisfied", "Q2": "fairly_satisfied", "Q3": "neutral", "Q4": "no",
           "Q5": "morning", "Q7": "压力测试"}
SECRET = "bench-secret-key-not-for-production"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str, codes: int) -> tuple[int, list[str]]:
    """A contract with an evaluation whose survey is open now, and ``codes`` invitations."""
    from datetime import timedelta

    from sqlmodel import Session

    from evalplatform.db import make_engine
    from evalplatform.migrate import upgrade
    from evalplatform.services import accounts, projects
    from evalplatform.services import surveys_app as app_service
    from evalplatform.services.audit import SYSTEM
    from surveys import invitations
    from tests.builders import contracted_world, schedule

    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as db:
        def make_org(kind, name=None, **kw):
            return accounts.create_organisation(db, SYSTEM, name=name or f"{kind}-{uuid.uuid4().hex[:6]}",
                                                kind=kind, **kw)

        def make_user(role, organisation=None, **kw):
            if organisation is None and role == "finance":
                organisation = make_org("finance_bureau")
            return accounts.create_user(db, SYSTEM, username=f"{role}{uuid.uuid4().hex[:6]}",
                                        display_name=role, role=role,
                                        organisation_id=organisation.id if organisation else None,
                                        password="bench-password-123")

        world = contracted_world(db, make_user, make_org)
        today = projects.today()
        evaluation = schedule(db, world, opens=(today - timedelta(days=3)).isoformat(),
                              closes=(today + timedelta(days=3)).isoformat())
        app_service.create(db, world.purchaser_principal, evaluation.id, "street_cleaning")
        app_service.open_survey(db, world.purchaser_principal, evaluation.id)
        found: list[str] = []
        while len(found) < codes:
            batch = app_service.issue_invitations(db, world.purchaser_principal, evaluation.id,
                                                  str(min(2000, codes - len(found))), "bench")
            found += [i.code for i in invitations.codes_of(db, batch.id)]
        survey_id = app_service.survey_of(db, evaluation).id
    engine.dispose()
    return survey_id, found


def serve(url: str, workers: int, port: int, var_dir: str) -> subprocess.Popen:
    env = {**os.environ, "EVAL_DATABASE_URL": url, "EVAL_SECRET_KEY": SECRET,
           "EVAL_VAR_DIR": var_dir, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "evalplatform.web.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--log-level", "warning", "--no-access-log"], env=env, cwd=ROOT)
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("the server did not start")


async def _client(base: str, first_code: str):
    import httpx

    client = httpx.AsyncClient(base_url=base, timeout=30, follow_redirects=False)
    page = await client.get(f"/s/{first_code}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return client, token


async def submit_all(base: str, codes: list[str], concurrency: int, deadline: float
                     ) -> tuple[list[float], dict[int, int], float]:
    """Each of ``concurrency`` respondents sends codes from a shared queue; returns the
    latencies, the count per status code and the elapsed time."""
    queue: asyncio.Queue = asyncio.Queue()
    for code in codes:
        queue.put_nowait(code)
    clients = await asyncio.gather(*(_client(base, codes[0]) for _ in range(concurrency)))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def respondent(client, token):
        while not queue.empty() and time.monotonic() < deadline:
            code = queue.get_nowait()
            started = time.perf_counter()
            response = await client.post(f"/s/{code}", data={**ANSWERS, "csrf_token": token})
            latencies.append(time.perf_counter() - started)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(respondent(c, t) for c, t in clients))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.aclose() for c, _t in clients))
    return latencies, statuses, elapsed


async def bare(base: str, requests: int, concurrency: int, deadline: float
               ) -> tuple[list[float], float]:
    import httpx

    latencies: list[float] = []
    remaining = [requests]

    async def caller(client):
        while remaining[0] > 0 and time.monotonic() < deadline:
            remaining[0] -= 1
            started = time.perf_counter()
            await client.get("/healthz")
            latencies.append(time.perf_counter() - started)

    clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(concurrency)]
    started = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in clients))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.aclose() for c in clients))
    return latencies, elapsed


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000


def check(url: str, survey_id: int, accepted: int) -> list[str]:
    from sqlalchemy import text

    from evalplatform.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        responses = connection.execute(text(
            "SELECT count(*) FROM survey_response WHERE survey_id = :s"), {"s": survey_id}).scalar()
        used = connection.execute(text(
            "SELECT count(*) FROM invitation WHERE survey_id = :s AND used"), {"s": survey_id}).scalar()
    engine.dispose()
    problems = []
    if responses != accepted:
        problems.append(f"{accepted} answers accepted but {responses} stored")
    if used != responses:
        problems.append(f"{used} codes used but {responses} answers stored")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--responses", type=int, default=3000)
    parser.add_argument("--quick", action="store_true", help="600 responses")
    parser.add_argument("--time-limit", type=float, default=240, help="seconds per phase")
    args = parser.parse_args()
    total = 600 if args.quick else args.responses
    try:
        import psycopg

        admin = psycopg.connect(PG.replace("+psycopg", "") + "/postgres", autocommit=True,
                                connect_timeout=5)
    except Exception as exc:  # noqa: BLE001
        print(f"skipped: PostgreSQL not reachable at {PG}: {exc}")
        return 0
    name = f"evalbench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG}/{name}"
    process = None
    failures: list[str] = []
    try:
        extra = total // 10
        survey_id, codes = prepare(url, total + extra * 2)
        port = free_port()
        process = serve(url, args.workers, port, tempfile.mkdtemp(prefix="evalbench-"))
        base = f"http://127.0.0.1:{port}"
        asyncio.run(bare(base, 200, 20, time.monotonic() + 30))  # warm up every worker
        first = codes[:total]
        lat, statuses, elapsed = asyncio.run(
            submit_all(base, first, args.concurrency, time.monotonic() + args.time_limit))
        b_lat, b_elapsed = asyncio.run(
            bare(base, len(lat), args.concurrency, time.monotonic() + args.time_limit))
        rate, b_rate = len(lat) / elapsed, len(b_lat) / b_elapsed
        print(f"workers {args.workers}, {args.concurrency} concurrent respondents, PostgreSQL")
        print(f"{'':28}{'requests':>10}{'per s':>10}{'p50 ms':>10}{'p99 ms':>10}")
        print(f"{'survey submission (POST)':28}{len(lat):>10}{rate:>10.1f}{pct(lat, .5):>10.1f}"
              f"{pct(lat, .99):>10.1f}")
        print(f"{'bare endpoint (GET /healthz)':28}{len(b_lat):>10}{b_rate:>10.1f}"
              f"{pct(b_lat, .5):>10.1f}{pct(b_lat, .99):>10.1f}")
        print(f"ratio submission / bare: {rate / b_rate:.0%} (target ≥ 40 %); "
              f"p99 {pct(lat, .99):.0f} ms (target < 100 ms); statuses {statuses}")
        accepted = statuses.get(303, 0)
        # exactly once: every code again, and fresh codes twice at the same moment
        fresh = codes[total:total + extra]
        again = first + fresh + fresh
        _lat2, statuses2, _e = asyncio.run(
            submit_all(base, again, args.concurrency, time.monotonic() + args.time_limit))
        accepted += statuses2.get(303, 0)
        print(f"resubmitting {len(first)} used codes and {len(fresh)} fresh codes twice at once: "
              f"statuses {statuses2}")
        if statuses2.get(303, 0) != len(fresh):
            failures.append(f"{statuses2.get(303, 0)} of {len(fresh)} fresh codes accepted")
        failures += check(url, survey_id, accepted)
        print("exactly once: " + ("OK" if not failures else "; ".join(failures)))
        print(f"  {accepted} answers accepted, stored once each; each used code used once")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
