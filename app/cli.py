"""The ``portal`` command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from app.auth.cli import tokens_cli
from app.config import PROJECT_ROOT, get_settings
from app.members.cli import memberships_cli

cli = typer.Typer(help="Prevention network portal.", no_args_is_help=True)
db_cli = typer.Typer(help="Database schema.", no_args_is_help=True)
users_cli = typer.Typer(help="Accounts.", no_args_is_help=True)
outbox_cli = typer.Typer(help="Queued e-mail.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(users_cli, name="users")
cli.add_typer(outbox_cli, name="outbox")
cli.add_typer(memberships_cli, name="memberships")
cli.add_typer(tokens_cli, name="tokens")
alerts_cli = typer.Typer(help="Saved-search alerts.", no_args_is_help=True)
cli.add_typer(alerts_cli, name="alerts")


def alembic_config() -> object:
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return config


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply the migrations up to REVISION (default: the newest)."""
    from alembic import command

    command.upgrade(alembic_config(), revision)  # type: ignore[arg-type]
    typer.echo(f"Database at {revision}.")
    if revision == "head":
        _rebuild_search_index(force=False)


@cli.command("reindex")
def reindex() -> None:
    """Build the search index again from the records."""
    _rebuild_search_index(force=True)


def _rebuild_search_index(*, force: bool) -> None:
    """Rebuild the search index when its documents are of an older shape (or when asked)."""
    import time

    from app.db import build_engine
    from app.search import index

    engine = build_engine(get_settings().database_url)
    try:
        with engine.begin() as connection:
            if not force and not index.needs_rebuild(connection):
                return
            started = time.monotonic()
            listed = index.rebuild(connection)
        typer.echo(f"Search index built: {listed} documents in {time.monotonic() - started:.1f} s.")
    finally:
        engine.dispose()


@cli.command("demo-data")
def demo_data(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Only when the database has no members yet.")
    ] = False,
) -> None:
    """Add the fictional demo organisations and people (running it again adds nothing)."""
    from app.db import build_engine, make_session_factory
    from app.demo import load_demo_data
    from app.members import repository as members_repository

    engine = build_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            if if_empty and members_repository.count_all(session) > 0:
                typer.echo("The database already has members: no demo data added.")
                return
            report = load_demo_data(session)
    finally:
        engine.dispose()
    typer.echo(
        f"Demo data: {report.organisations_added} organisations and "
        f"{report.members_added} members added."
    )
    typer.echo(
        f"Demo programmes: {report.programmes_added} programmes and "
        f"{report.reports_added} implementation reports added."
    )


@cli.command("generate")
def generate(
    programmes: Annotated[int, typer.Option(min=0, help="Published programmes.")] = 1000,
    evaluations: Annotated[int, typer.Option(min=0, help="Published evaluations.")] = 3000,
    members: Annotated[int, typer.Option(min=0, help="Members (with organisations).")] = 200,
    seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 1,
) -> None:
    """Fill the database with a deterministic synthetic data set (for load tests)."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    from app.db import build_engine, make_session_factory
    from app.generate import GenerateRefused
    from app.generate import generate as generate_data

    class _Bars:
        def __init__(self, progress: Progress) -> None:
            self.progress = progress
            self.task: TaskID | None = None

        def begin(self, label: str, total: int) -> None:
            self.task = self.progress.add_task(label, total=total)

        def advance(self, count: int) -> None:
            if self.task is not None:
                self.progress.advance(self.task, count)

        def end(self) -> None:
            self.task = None

    started = time.monotonic()
    engine = build_engine(get_settings().database_url)
    try:
        with (
            make_session_factory(engine)() as session,
            session.begin(),
            Progress(
                TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn()
            ) as progress,
        ):
            report = generate_data(
                session,
                programmes=programmes,
                evaluations=evaluations,
                members=members,
                seed=seed,
                reporter=_Bars(progress),
            )
    except GenerateRefused as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()
    levels = ", ".join(f"{level} {count}" for level, count in sorted(report.levels.items()))
    typer.echo(
        f"Generated {report.organisations} organisations, {report.members} members, "
        f"{report.programmes} programmes, {report.evaluations} evaluations "
        f"({report.outcomes} outcomes), {report.ratings} ratings in "
        f"{time.monotonic() - started:.1f} s."
    )
    typer.echo(f"Ratings: {levels}.")


@users_cli.command("create")
def users_create(
    email: str,
    role: Annotated[str, typer.Option(help="admin, coordinator or member")] = "member",
    name: Annotated[str | None, typer.Option(help="Full name (default: from the e-mail)")] = None,
    member_type: Annotated[
        str, typer.Option(help="researcher, practitioner, policy_maker or other")
    ] = "other",
    country: Annotated[str | None, typer.Option(help="ISO 3166-1 alpha-2 code, e.g. DE")] = None,
) -> None:
    """Create an account; the password is read from standard input."""
    from app.db import build_engine, make_session_factory
    from app.kit.errors import PortalError
    from app.members import service as members_service

    if role not in {"admin", "coordinator", "member"}:
        raise typer.BadParameter("role must be admin, coordinator or member", param_hint="--role")
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("Password: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    engine = build_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            member = members_service.create_member(
                session,
                email=email,
                full_name=name or email.split("@")[0],
                password=password,
                role=role,
                member_type=member_type,
                country=country.upper() if country else None,
                coordinates_network=role == "admin",
                email_verified=True,
            )
            member_id = member.id
    except PortalError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()
    typer.echo(f"Created {role} {email.strip().lower()} (id {member_id}).")


@outbox_cli.command("work")
def outbox_work(
    once: Annotated[bool, typer.Option("--once", help="Send what is due, then stop.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between rounds.")] = 5.0,
) -> None:
    """Send queued e-mail (for deployments that turn the in-process worker off)."""
    import time

    from app.db import build_engine, make_session_factory
    from app.outbox import service as outbox_service

    settings = get_settings()
    engine = build_engine(settings.database_url)
    factory = make_session_factory(engine)
    try:
        while True:
            sent, failed = outbox_service.deliver_due(factory, settings)
            if sent or failed or once:
                typer.echo(f"Outbox: {sent} sent, {failed} failed attempts.")
            if once:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


@alerts_cli.command("send")
def alerts_send() -> None:
    """Queue today's saved-search digests (what is new since each search's last check)."""
    from app.db import build_engine, make_session_factory
    from app.search import alerts

    engine = build_engine(get_settings().database_url)
    try:
        report = alerts.run_daily(make_session_factory(engine))
    finally:
        engine.dispose()
    typer.echo(f"Search alerts: {report.checked} searches checked, {report.sent} e-mails queued.")


@cli.command("serve")
def serve(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[int, typer.Option()] = 1,
    reload: Annotated[bool, typer.Option()] = False,
) -> None:
    """Serve the portal with uvicorn (PORTAL_HOST and PORTAL_PORT by default)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        reload=reload,
        proxy_headers=True,
    )


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
