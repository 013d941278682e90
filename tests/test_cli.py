"""The portal command, run against a database of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.db import build_engine
from app.members.models import Member
from app.organisations.models import Organisation

runner = CliRunner()


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PORTAL_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield fresh_database_url
    get_settings.cache_clear()


def _count(url: str, model: type[Member] | type[Organisation]) -> int:
    engine = build_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_demo_data_is_fictional_marked_and_idempotent(cli_database: str) -> None:
    first = runner.invoke(cli, ["demo-data"])
    second = runner.invoke(cli, ["demo-data"])

    assert first.exit_code == 0, first.output
    assert "10 organisations and 12 members added" in first.output
    assert "0 organisations and 0 members added" in second.output
    engine = build_engine(cli_database)
    with engine.connect() as connection:
        members = connection.execute(select(Member.email, Member.is_demo)).all()
        websites = connection.scalars(select(Organisation.website)).all()
    engine.dispose()
    assert all(is_demo for _email, is_demo in members)
    assert all(email.endswith("@example.org") for email, _demo in members)
    assert all(website and ".example" in website for website in websites)


def test_demo_data_if_empty_leaves_a_used_database_alone(cli_database: str) -> None:
    created = runner.invoke(
        cli, ["users", "create", "first@example.org", "--role", "admin"], input="a long password\n"
    )
    result = runner.invoke(cli, ["demo-data", "--if-empty"])

    assert created.exit_code == 0, created.output
    assert "no demo data added" in result.output
    assert _count(cli_database, Organisation) == 0


def test_users_create_reads_the_password_from_stdin(cli_database: str) -> None:
    result = runner.invoke(
        cli,
        ["users", "create", "Coordinator@Example.org", "--role", "coordinator"],
        input="correct horse battery staple\n",
    )

    assert result.exit_code == 0, result.output
    assert "Created coordinator coordinator@example.org" in result.output
    engine = build_engine(cli_database)
    with engine.connect() as connection:
        role, password_hash = connection.execute(select(Member.role, Member.password_hash)).one()
    engine.dispose()
    assert role == "coordinator"
    assert password_hash is not None
    assert password_hash.startswith("$argon2")


def test_users_create_refuses_a_short_password(cli_database: str) -> None:
    result = runner.invoke(cli, ["users", "create", "a@example.org"], input="short\n")

    assert result.exit_code == 1
    assert "at least 12 characters" in result.output
    assert _count(cli_database, Member) == 0


def test_users_create_refuses_an_unknown_role(cli_database: str) -> None:
    result = runner.invoke(
        cli, ["users", "create", "a@example.org", "--role", "owner"], input="long password!!\n"
    )

    assert result.exit_code == 2
    assert _count(cli_database, Member) == 0


def test_users_create_refuses_a_duplicate(cli_database: str) -> None:
    runner.invoke(cli, ["users", "create", "a@example.org"], input="long password!!\n")
    result = runner.invoke(cli, ["users", "create", "A@example.org"], input="long password!!\n")

    assert result.exit_code == 1
    assert "already exists" in result.output
