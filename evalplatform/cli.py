"""The command line: ``evalplatform serve | migrate | create-user | demo | audit verify |
results finalise | results check | holidays load | holidays list``."""

from __future__ import annotations

import sys

import typer
from sqlmodel import Session

from evalplatform.db import make_engine
from evalplatform.settings import get_settings

app = typer.Typer(help="evalplatform — 政府购买服务绩效评价平台", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
results_app = typer.Typer(help="Evaluation results (评价结果).", no_args_is_help=True)
app.add_typer(results_app, name="results")
holidays_app = typer.Typer(help="The holiday calendar for working-day deadlines (节假日安排).",
                           no_args_is_help=True)
app.add_typer(holidays_app, name="holidays")


def _session() -> Session:
    return Session(make_engine(get_settings().resolved_database_url()))


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (use PostgreSQL for more than one; "
                                        "about one per core)."),
    threads: int = typer.Option(0, help="Threads per worker for database calls, and database "
                                        "connections per worker (default: EVAL_WORKER_THREADS, "
                                        "16)."),
    access_log: bool = typer.Option(True, help="Log every request (a proxy in front may log "
                                               "them instead)."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Serve the web application."""
    import os

    import uvicorn

    if threads:
        os.environ["EVAL_WORKER_THREADS"] = str(threads)  # the workers read their settings anew
        get_settings.cache_clear()
    settings = get_settings()
    settings.resolved_secret_key()  # create it once, before the workers race for it
    if workers > 1 and settings.resolved_database_url().startswith("sqlite"):
        typer.echo("note: several workers on SQLite serialise writes; use PostgreSQL "
                   "(EVAL_DATABASE_URL) in production.", err=True)
    from evalplatform import serving

    if workers > 1 and not reload and serving.balanced_available():
        config = uvicorn.Config(serving.APP, factory=True, host=host, port=port, workers=workers,
                                proxy_headers=True, access_log=access_log)
        try:
            serving.run_workers(config, workers)
        except OSError as exc:
            typer.echo(f"cannot listen on {host}:{port}: {exc.strerror}", err=True)
            raise typer.Exit(1) from None
        return
    uvicorn.run(serving.APP, factory=True, host=host, port=port, workers=workers,
                reload=reload, proxy_headers=True, access_log=access_log)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from evalplatform.migrate import upgrade

    upgrade(get_settings().resolved_database_url())
    typer.echo("database is up to date")


@app.command("mix-answers")
def mix_answers() -> None:
    """Mix the survey answers that wait for it, as each worker does every second (for
    deployments with EVAL_MIX_SECONDS=0, from cron)."""
    from evalplatform.services import surveys_app

    engine = make_engine(get_settings().resolved_database_url())
    try:
        mixed = surveys_app.mix_answers(engine)
    finally:
        engine.dispose()
    typer.echo(f"mixed {mixed.answers} answers of {mixed.surveys} surveys")


@app.command("create-user")
def create_user(
    username: str = typer.Option(..., prompt=True),
    display_name: str = typer.Option(..., prompt=True, help="The person's name."),
    role: str = typer.Option(..., prompt=True, help="finance|purchaser|evaluator|supplier|auditor|admin"),
    organisation_id: int = typer.Option(None, help="Organisation id (none for admin)."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Create a user (e.g. the first administrator)."""
    from evalplatform.services import accounts
    from evalplatform.services.audit import SYSTEM
    from evalplatform.services.errors import ValidationFailed

    with _session() as session:
        try:
            user = accounts.create_user(
                session, SYSTEM, username=username, display_name=display_name, role=role,
                organisation_id=organisation_id, password=password,
            )
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                typer.echo(f"{field}: {message}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"created user {user.username} (id {user.id})")


@app.command()
def demo(
    if_empty: bool = typer.Option(False, "--if-empty", help="Do nothing when users exist."),
) -> None:
    """Load the demo city (临江市) and print its accounts' passwords once."""
    from evalplatform.services import demo as demo_data

    with _session() as session:
        if not demo_data.is_empty(session):
            if if_empty:
                typer.echo("database has data; demo not loaded")
                return
            typer.echo("the database already has users; the demo loads only into an empty one",
                       err=True)
            raise typer.Exit(1)
        created = demo_data.load(session)
        from evalplatform.services import demo_surveys

        survey = demo_surveys.live(session)
    typer.echo("Demo accounts (passwords are shown only now / 密码仅显示这一次):")
    width = max(len(a.username) for a in created)
    for account in created:
        org = account.organisation or "—"
        typer.echo(f"  {account.username:<{width}}  {account.password:<16} "
                   f"{account.role.value:<10} {account.display_name}  {org}")
    if survey is not None:
        typer.echo(f"Residents answer without an account / 服务对象无需账户（{survey.title}）:")
        typer.echo(f"  /s  invitation code / 邀请码 {survey.code}")
        typer.echo(f"  {survey.open_link}  open link of a service site / 服务点开放链接")


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit chain; exit 1 and name the first broken entry if it does not hold."""
    from evalplatform.services import audit

    with _session() as session:
        result = audit.verify(session)
    if result.ok:
        typer.echo(f"audit chain OK: {result.entries} entries")
        return
    typer.echo(f"audit chain BROKEN at entry {result.broken_seq}: {result.reason} "
               f"({result.entries} entries verified before it)", err=True)
    sys.exit(1)


@results_app.command("finalise")
def results_finalise(
    today: str = typer.Option("", help="The local date to judge by (YYYY-MM-DD); default today."),
) -> None:
    """Make final every published result whose appeal window has closed without an open appeal."""
    from datetime import date

    from evalplatform.services import results
    from evalplatform.services.errors import DomainError

    try:
        day = date.fromisoformat(today) if today else None
    except ValueError:
        typer.echo(f"--today: not a date (YYYY-MM-DD): {today}", err=True)
        raise typer.Exit(2) from None
    with _session() as session:
        try:
            done = results.finalise_due(session, day)
        except DomainError as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(1) from None
        for result in done:
            typer.echo(f"evaluation {result.evaluation_id}: version {result.version} is final "
                       f"({result.total} {result.grade}; appeal deadline {result.appeal_deadline})")
    typer.echo(f"{len(done)} result(s) made final")


@results_app.command("check")
def results_check(
    chunk: int = typer.Option(500, min=1, help="Results scored together (memory bound)."),
) -> None:
    """Score every stored result again from its own package; exit 1 if any figure differs."""
    from evalplatform.services import result_check

    def progress(done: int, total: int) -> None:
        typer.echo(f"  {done} of {total} scored", err=True)

    with _session() as session:
        report = result_check.check_all(session, chunk=chunk, progress=progress)
    for d in report.differences:
        typer.echo(f"result {d.result_id} (evaluation {d.evaluation_id}, version {d.version}): "
                   f"{d.figure} stored {d.stored}, recomputed {d.recomputed}")
    for up in report.upgrades:
        for d in up.differences:
            typer.echo(f"result {d.result_id} (evaluation {d.evaluation_id}, version "
                       f"{d.version}): {d.figure} computed otherwise by {up.engine}: stored "
                       f"{d.stored}, today {d.recomputed}")
    changed = sum(len(up.differences) for up in report.upgrades)
    typer.echo(f"{report.checked} result(s) scored again: "
               f"{len(report.differences)} difference(s), "
               f"{report.reworded} with the same figures explained in other words, "
               f"{changed} figure(s) an earlier engine computed otherwise")
    if not report.ok:
        sys.exit(1)


@holidays_app.command("load")
def holidays_load(
    year: int = typer.Argument(..., help="The year of the State Council's notice."),
    path: str = typer.Argument(..., help="The schedule: one line per day, "
                                         "“2027-01-01 休 元旦” or “2027-02-06 班 春节”."),
) -> None:
    """Load a year's holidays and weekend days worked (调休) from the State Council's notice,
    for a year that the built-in calendar does not know yet (administrators can also do it on
    the page /admin/holidays)."""
    from pathlib import Path

    from evalplatform.services import workdays
    from evalplatform.services.audit import SYSTEM
    from evalplatform.services.errors import ValidationFailed

    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"{path}: cannot be read as UTF-8 text ({exc})", err=True)
        raise typer.Exit(2) from None
    try:
        with _session() as session:  # recorded in the audit trail, as from the page
            schedule = workdays.load_year(session, SYSTEM, str(year), text)
    except ValidationFailed as exc:
        for where, problem in exc.errors.items():
            typer.echo(f"{path}: {where}: {problem}", err=True)
        typer.echo("nothing loaded", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{year}: {len(schedule.off)} day(s) off, {len(schedule.worked)} weekend day(s) "
               f"worked; working-day deadlines in {year} can now be computed")


@holidays_app.command("list")
def holidays_list() -> None:
    """The years whose working days are known: built in, and loaded by an administrator."""
    from evalplatform.services import workdays

    calendar = workdays.known_calendar()
    typer.echo(f"built in: {calendar['first']}–{calendar['last']}")
    for schedule in calendar["loaded"]:
        typer.echo(f"loaded: {schedule.year} ({len(schedule.off)} day(s) off, "
                   f"{len(schedule.worked)} weekend day(s) worked)")
    for year, problem in calendar["broken"].items():
        typer.echo(f"unreadable: {year}: {problem}")


if __name__ == "__main__":  # pragma: no cover
    app()
