"""`portal memberships ...` (being built)."""

from __future__ import annotations

import typer

memberships_cli = typer.Typer(
    help="Membership periods, reminders and lapsing.", no_args_is_help=True
)
