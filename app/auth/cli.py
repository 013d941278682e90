"""`portal tokens ...` (being built)."""

from __future__ import annotations

import typer

tokens_cli = typer.Typer(help="Personal access tokens for the API.", no_args_is_help=True)
