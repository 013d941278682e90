"""`portal memberships ...`: membership periods, reminders and lapsing."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import typer

memberships_cli = typer.Typer(
    help="Membership periods, reminders and lapsing.", no_args_is_help=True
)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as error:
        raise typer.BadParameter("use the form YYYY-MM-DD", param_hint="--today") from error


@memberships_cli.command("sweep")
def sweep(
    today: Annotated[
        str | None,
        typer.Option(help="Run as if it were this day (YYYY-MM-DD); default: today."),
    ] = None,
) -> None:
    """Lapse expired memberships and queue the reminders due 30 and 7 days before."""
    from app.config import get_settings
    from app.db import build_engine, make_session_factory
    from app.members import lifecycle

    day = _parse_day(today)
    engine = build_engine(get_settings().database_url)
    try:
        report = lifecycle.run_sweep(make_session_factory(engine), day)
    finally:
        engine.dispose()
    typer.echo(
        f"Memberships: {report.lapsed} lapsed, {report.reminded_30} reminded 30 days before, "
        f"{report.reminded_7} reminded 7 days before."
    )
