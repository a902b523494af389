"""Survey submission under load (满意度调查提交压力测试), on PostgreSQL with several workers.

Run: ``python bench/bench_surveys.py`` (``--quick`` for a shorter run). It needs a
PostgreSQL server (``EVAL_BENCH_PG``, default ``postgresql+psycopg://postgres@127.0.0.1:5432``);
it creates its own database and drops it afterwards. Everything stays on the loopback
interface and every loop is bounded in count and time.

The server is ``evalplatform serve --workers N --no-access-log`` (uvicorn, one process per
worker, each listening on a socket of its own, each with ``EVAL_WORKER_THREADS`` threads and
as many database connections; see ``evalplatform/serving.py``). The
load comes from ``bench/loadgen.py``, a separate process (a lean asyncio client on uvloop:
a few tens of microseconds of CPU per request, reported below, so that on two cores the
server and not the client is measured).

1. **Throughput and latency.** For each concurrency (default 100, then 10), in rounds: on
   one set of ``concurrency`` keep-alive connections, clients call the bare endpoint
   (``GET /healthz``: the same middleware, signed-session cookie, access decision, one
   worker-thread hop with its own database session and one query), then respondents send
   questionnaires with fresh invitation codes (``POST /s/{code}``), each as fast as the
   server answers, in alternating slices of one second, so that both meet the same load
   from anything else on the machine. The same connections serve both, so both also meet
   the same spread of connections over the worker processes (the kernel gives each new
   connection to one worker's socket by a hash of the addresses; the spread is printed).
   Each round prints both rates, their ratio (target ≥ 40 %) and the latencies (target
   p99 < 100 ms at 100 concurrent respondents); the summary takes the median round by ratio.
   The workers mix the answers as they do in production (``surveys.mixing``, every
   ``EVAL_MIX_SECONDS``, 1 by default; ``EVAL_MIX_SECONDS=0`` measures without), and the
   run ends by saying how many answers they mixed.
2. **Exactly once.** Every used code is then sent again, and fresh codes twice in a row (two
   connections at the same moment): every accepted answer must be stored exactly once and
   every used code used once (exit status 1 otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("EVAL_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ANSWERS = {"Q1": "satisfied", "Q2": "fairly_satisfied", "Q3": "neutral", "Q4": "no",
           "Q5": "morning", "Q7": "压力测试"}
SECRET = "bench-secret-key-not-for-production"
#: Seconds of one slice: a round alternates slices of the two endpoints.
SLICE = 1.0


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


def serve(url: str, workers: int, port: int, var_dir: str, threads: int) -> subprocess.Popen:
    env = {**os.environ, "EVAL_DATABASE_URL": url, "EVAL_SECRET_KEY": SECRET,
           "EVAL_VAR_DIR": var_dir, "PYTHONPATH": str(ROOT)}
    if threads:
        env["EVAL_WORKER_THREADS"] = str(threads)
    log = open(Path(var_dir) / "server.log", "w", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "evalplatform.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--no-access-log"], env=env, cwd=ROOT,
        stdout=log, stderr=subprocess.STDOUT)
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


def session_cookie(port: int, code: str) -> tuple[str, dict]:
    """A respondent's signed-session cookie and the hidden fields of the form it was shown
    (the CSRF token and the questionnaire version), which a browser sends back."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/s/{code}", timeout=10) as response:
        page = response.read().decode()
        cookie = response.headers["set-cookie"].split(";")[0]
    return cookie, dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def bare_phase(seconds: float, cookie: str) -> dict:
    return {"name": "bare", "method": "GET", "path": "/healthz", "seconds": seconds,
            "headers": {"Cookie": cookie}}


def submit_phase(seconds: float, codes: list[str], cookie: str, hidden: dict) -> dict:
    from urllib.parse import urlencode

    return {"name": "submit", "method": "POST", "paths": [f"/s/{c}" for c in codes],
            "seconds": seconds, "body": urlencode({**ANSWERS, **hidden}),
            "headers": {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}}


def _spread(port: int, server: int) -> list[int]:
    """How many of the established connections to ``port`` each worker process holds (from
    ``ss``; empty when it is not installed)."""
    import collections
    import shutil

    if not shutil.which("ss"):
        return []
    out = subprocess.run(["ss", "-Htnp", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=False).stdout
    holders = collections.Counter(int(p) for p in re.findall(r"pid=(\d+)", out))
    workers = {int(p) for p in subprocess.run(["pgrep", "-P", str(server)], capture_output=True,
                                              text=True, check=False).stdout.split()}
    return sorted((n for pid, n in holders.items() if pid in workers), reverse=True)


def load(port: int, concurrency: int, phases: list[dict], server: int | None = None
         ) -> list[dict]:
    """One run of ``bench/loadgen.py`` in its own process: the phases, one after the other
    on the same ``concurrency`` connections; their JSON figures, and (with ``server``, the
    server's process id) how the connections were spread over its worker processes."""
    spec = {"host": "127.0.0.1", "port": port, "concurrency": concurrency, "phases": phases}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    try:
        runner = subprocess.Popen([sys.executable, str(ROOT / "bench" / "loadgen.py"), fh.name],
                                  stdout=subprocess.PIPE, text=True)
        spread = []
        if server is not None:
            time.sleep(0.5 + 0.006 * concurrency)  # the connections are open by now
            spread = _spread(port, server)
        out, _err = runner.communicate(timeout=sum(p["seconds"] for p in phases) + 120)
        if runner.returncode:
            raise SystemExit(f"the load generator failed ({runner.returncode})")
    finally:
        os.unlink(fh.name)
    figures = json.loads(out)
    for one in figures:
        one["statuses"] = {int(k): v for k, v in one["statuses"].items()}
        one["spread"] = spread
    return figures


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


def mixed(url: str, survey_id: int) -> tuple[int, int]:
    """(answers mixed, answers) of the survey."""
    from sqlalchemy import text

    from evalplatform.db import make_engine

    engine = make_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT count(*) FILTER (WHERE mixed), count(*) FROM survey_response "
            "WHERE survey_id = :s"), {"s": survey_id}).one()
    engine.dispose()
    return int(found[0]), int(found[1])


def _row(label: str, f: dict) -> str:
    return (f"{label:30}{f['requests']:>9}{f['rate']:>9.1f}{f['p50_ms']:>9.1f}{f['p90_ms']:>9.1f}"
            f"{f['p99_ms']:>9.1f}{f['max_ms']:>9.1f}{f['littles_law']:>8.2f}"
            f"{1e6 * f['client_cpu_s'] / max(1, f['requests']):>8.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=max(2, os.cpu_count() or 2))
    parser.add_argument("--threads", type=int, default=4,
                        help="EVAL_WORKER_THREADS for the server (default 4: with the workers' "
                             "own sockets, 4 threads gave a p99 of 97 ms where 16 gave 188; "
                             "0 for the setting's default)")
    parser.add_argument("--concurrency", default="100,10",
                        help="comma-separated concurrencies to measure (default 100,10)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per concurrency")
    parser.add_argument("--seconds", type=float, default=4.0, help="seconds per measured phase")
    parser.add_argument("--codes-per-phase", type=int, default=20000,
                        help="fresh codes for one submission phase (it ends early without)")
    parser.add_argument("--quick", action="store_true", help="one round of 3 s per concurrency")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.rounds, args.seconds, args.codes_per_phase = 1, 3.0, 15000
    with scratch_database() as url:
        return 0 if url is None else measure(args, url)


@contextmanager
def scratch_database() -> Iterator[str | None]:
    """A database of the bench's own on the PostgreSQL server (``EVAL_BENCH_PG``), dropped
    afterwards: its URL, or None (after saying so) when the server does not answer."""
    try:
        import psycopg

        admin = psycopg.connect(PG.replace("+psycopg", "") + "/postgres", autocommit=True,
                                connect_timeout=5)
    except Exception as exc:  # noqa: BLE001
        print(f"skipped: PostgreSQL not reachable at {PG}: {exc}")
        yield None
        return
    name = f"evalbench_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def measure(args, url: str) -> int:
    """Throughput, latency and exactly-once on the empty database ``url``; the exit status."""
    levels = [int(c) for c in str(args.concurrency).split(",") if c.strip()]
    process = None
    failures: list[str] = []
    report: dict = {"levels": {}}
    try:
        phases = len(levels) * args.rounds
        extra = 300
        survey_id, codes = prepare(url, 1 + 2 * extra + phases * args.codes_per_phase)
        port = free_port()
        var_dir = tempfile.mkdtemp(prefix="evalbench-")
        process = serve(url, args.workers, port, var_dir, args.threads)
        cookie, hidden = session_cookie(port, codes[0])
        assert {"csrf_token", "version_id"} <= set(hidden), hidden
        fresh = iter(codes[1:])

        def take(n: int) -> list[str]:
            return [next(fresh) for _ in range(n)]

        # warm up every worker: connections opened, statements prepared, the version cached
        _bare, warm = load(port, 20, [bare_phase(3, cookie),
                                      submit_phase(5, take(extra), cookie, hidden)])
        accepted = warm["statuses"].get(303, 0)
        used_codes = codes[1:1 + extra]
        load_before = os.getloadavg()
        print(f"workers {args.workers}, PostgreSQL, {args.rounds} round(s) of {args.seconds:g} s "
              f"per endpoint; load average before: {load_before[0]:.2f} {load_before[1]:.2f} "
              f"{load_before[2]:.2f} on {os.cpu_count()} cores")
        header = (f"{'':30}{'requests':>9}{'per s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
                  f"{'max ms':>9}{'Little':>8}{'cl. µs':>8}")
        for concurrency in levels:
            print(f"\n{concurrency} concurrent clients\n{header}")
            rounds = []
            for number in range(1, args.rounds + 1):
                batch = take(args.codes_per_phase)
                slices = max(1, round(args.seconds / SLICE))
                share = -(-len(batch) // slices)
                phases, parts = [], [batch[at * share:(at + 1) * share] for at in range(slices)]
                for part in parts:  # alternating slices: both meet the same machine
                    phases += [bare_phase(args.seconds / slices, cookie),
                               submit_phase(args.seconds / slices, part, cookie, hidden)]
                bare, submit = load(port, concurrency, phases, server=process.pid)
                for part, sent in zip(parts, submit["sent"], strict=True):
                    used_codes += part[:sent]
                accepted += submit["statuses"].get(303, 0)
                if set(submit["statuses"]) - {303}:
                    failures.append(f"unexpected statuses {submit['statuses']}")
                ratio = submit["rate"] / bare["rate"]
                print(_row(f"round {number}: GET /healthz", bare))
                print(_row(f"round {number}: POST /s/{{code}}", submit)
                      + f"   ratio {ratio:.0%}"
                      + (f", connections per worker {'/'.join(map(str, bare['spread']))}"
                         if bare["spread"] else ""))
                rounds.append({"bare": bare, "submit": submit, "ratio": ratio})
            middle = sorted(rounds, key=lambda r: r["ratio"])[len(rounds) // 2]
            print(f"median round: submission {middle['submit']['rate']:.0f}/s = "
                  f"{middle['ratio']:.0%} of the bare endpoint's {middle['bare']['rate']:.0f}/s "
                  f"(target ≥ 40 %); submission p99 {middle['submit']['p99_ms']:.0f} ms, "
                  f"bare p99 {middle['bare']['p99_ms']:.0f} ms (target < 100 ms at 100)")
            report["levels"][concurrency] = {"rounds": rounds, "median": middle}
        load_after = os.getloadavg()
        print(f"\nload average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
        report["load"] = {"before": load_before, "after": load_after, "cores": os.cpu_count()}
        # exactly once: every used code again, and fresh codes twice in a row
        doubled = take(extra)
        again = used_codes + [c for c in doubled for _twice in range(2)]
        (repeat,) = load(port, max(levels), [submit_phase(300, again, cookie, hidden)])
        accepted += repeat["statuses"].get(303, 0)
        print(f"resubmitting {len(used_codes)} used codes and {len(doubled)} fresh codes twice "
              f"at once: statuses {repeat['statuses']}")
        if repeat["statuses"].get(303, 0) != len(doubled):
            failures.append(f"{repeat['statuses'].get(303, 0)} of {len(doubled)} fresh codes "
                            "accepted")
        failures += check(url, survey_id, accepted)
        print("exactly once: " + ("OK" if not failures else "; ".join(failures)))
        if failures:
            print(f"  the server's log: {Path(var_dir) / 'server.log'}")
        print(f"  {accepted} answers accepted, stored once each; each used code used once")
        done, stored = mixed(url, survey_id)
        print(f"  the workers mixed {done} of the {stored} answers while they came in "
              f"(EVAL_MIX_SECONDS={os.environ.get('EVAL_MIX_SECONDS', '1')})")
        report["mixed"] = {"mixed": done, "answers": stored}
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=1), encoding="utf-8")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
