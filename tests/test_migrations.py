"""Migrations are the only schema source: they match the models and every one reverses."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from app.db import build_engine
from tests.conftest import alembic_config


def test_the_migrated_schema_matches_the_models(fresh_database_url: str) -> None:
    engine = build_engine(fresh_database_url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
            # Raises when autogenerate would find a difference between models and schema.
            command.check(alembic_config(connection))
    finally:
        engine.dispose()


def test_every_migration_downgrades_and_upgrades_again(fresh_database_url: str) -> None:
    engine = build_engine(fresh_database_url)
    script = ScriptDirectory.from_config(alembic_config())
    revisions = [revision.revision for revision in script.walk_revisions("base", "heads")]
    revisions.reverse()
    try:
        for revision in revisions:
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection), revision)
            with engine.begin() as connection:
                command.downgrade(alembic_config(connection), "-1")
            with engine.begin() as connection:
                command.upgrade(alembic_config(connection), revision)
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection), "base")
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), "head")
        assert {"member", "organisation"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migration_files_are_named_by_date_and_change() -> None:
    import re

    from app.config import PROJECT_ROOT

    names = [path.name for path in (PROJECT_ROOT / "migrations" / "versions").glob("*.py")]
    assert names
    for name in names:
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{4}_[a-z0-9_]+\.py", name), name
