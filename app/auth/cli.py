"""`portal tokens ...`: personal access tokens for the API, from the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from app.config import get_settings

tokens_cli = typer.Typer(help="Personal access tokens for the API.", no_args_is_help=True)


@tokens_cli.command("create")
def tokens_create(
    email: str,
    scope: Annotated[str, typer.Option(help="read, write or coordinate")] = "read",
    name: Annotated[str, typer.Option(help="What the token is for")] = "Command line",
) -> None:
    """Create a token for the member with EMAIL and print it once; only its hash is kept."""
    from app.auth import api_tokens
    from app.db import build_engine, make_session_factory
    from app.kit.errors import PortalError
    from app.members import repository as members_repository

    engine = build_engine(get_settings().database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            member = members_repository.get_by_email(session, email)
            if member is None or member.status == "erased":
                typer.echo(f"Error: no member has the e-mail address {email.strip()}.", err=True)
                raise typer.Exit(code=1)
            if not member.can_sign_in:
                typer.echo(f"Error: the account of {member.email} is {member.status}.", err=True)
                raise typer.Exit(code=1)
            token, secret = api_tokens.create(session, member, name=name, scope=scope)
            description = f"Token {token.name!r} with scope {token.scope} for {member.email}"
    except PortalError as error:
        typer.echo(f"Error: {error.message}", err=True)
        raise typer.Exit(code=1) from error
    finally:
        engine.dispose()
    typer.echo(f"{description}. It is shown only this once:", err=True)
    typer.echo(secret)
