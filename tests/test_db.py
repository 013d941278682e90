"""The unit of work: one transaction per request, committed before the response."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from typing import cast

import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.testclient import TestClient

from app.auth.deps import DbSession, load_viewer
from app.config import Settings
from app.db import build_engine, database_name
from app.main import create_app
from app.organisations.models import Organisation
from tests.conftest import TEST_SECRET_KEY, alembic_config


@pytest.fixture
def migrated_engine(fresh_database_url: str) -> Iterator[Engine]:
    engine = build_engine(fresh_database_url)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")
    yield engine
    engine.dispose()


@pytest.fixture
def writing_app(migrated_engine: Engine) -> Iterator[TestClient]:
    settings = Settings(
        database_url=migrated_engine.url.render_as_string(hide_password=False),
        secret_key=TEST_SECRET_KEY,
    )
    app: FastAPI = create_app(settings)

    @app.get("/write")
    def write(session: DbSession) -> dict[str, str]:
        session.add(Organisation(name="Kept", country="DE", organisation_type="ngo"))
        return {"written": "yes"}

    @app.get("/write-then-fail")
    def write_then_fail(session: DbSession) -> None:
        session.add(Organisation(name="Lost", country="DE", organisation_type="ngo"))
        session.flush()
        raise RuntimeError("the route failed after writing")

    @app.get("/write-invalid")
    def write_invalid(session: DbSession) -> dict[str, str]:
        session.add(Organisation(name="Half", country="DE", organisation_type="ngo"))
        # Violates the check constraint: fails at commit, after the route returned.
        session.add(Organisation(name="Bad", country="DE", organisation_type="unknown"))
        return {"written": "yes"}

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _names(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.scalars(select(Organisation.name).order_by(Organisation.name)))


def test_a_successful_request_is_committed_before_the_response(
    writing_app: TestClient, migrated_engine: Engine
) -> None:
    response = writing_app.get("/write")

    assert response.status_code == 200
    assert _names(migrated_engine) == ["Kept"]


def test_a_failing_request_writes_nothing(writing_app: TestClient, migrated_engine: Engine) -> None:
    response = writing_app.get("/write-then-fail")

    assert response.status_code == 500
    assert _names(migrated_engine) == []


def test_a_failing_commit_is_an_error_response_and_writes_nothing(
    writing_app: TestClient, migrated_engine: Engine
) -> None:
    response = writing_app.get("/write-invalid")

    assert response.status_code == 500
    assert _names(migrated_engine) == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(tmp_path: object) -> None:
    engine = build_engine(f"sqlite:///{tmp_path}/pragmas.db")
    with engine.connect() as connection:
        assert connection.scalar(text("PRAGMA foreign_keys")) == 1
        assert connection.scalar(text("PRAGMA journal_mode")) == "wal"
        assert connection.scalar(text("PRAGMA busy_timeout")) == 5000
    engine.dispose()


def test_postgresql_urls_use_psycopg_3() -> None:
    from app.db import normalise_url

    assert normalise_url("postgresql://u:p@h/db").startswith("postgresql+psycopg://u:p@h/db")
    assert normalise_url("sqlite:///x.db") == "sqlite:///x.db"


def test_counting_works_on_the_migrated_schema(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Organisation)) == 0


def test_a_database_is_named_by_its_url_without_the_password() -> None:
    engine = create_engine("postgresql+psycopg://portal:secret@db.example:5432/portal")
    connection = cast(Connection, SimpleNamespace(engine=engine))  # nothing is connected
    name = database_name(connection)
    assert name == "postgresql+psycopg://portal:***@db.example:5432/portal"
    assert database_name(connection) is name  # worked out once per engine
    other = create_engine("postgresql+psycopg://portal:secret@db.example:5432/other")
    assert database_name(cast(Connection, SimpleNamespace(engine=other))).endswith("/other")


def test_a_visitor_without_a_session_token_is_nobody_without_asking_the_database() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"the database was asked ({name})")

    request = Request({"type": "http", "session": {}, "state": {}, "headers": []})
    viewer = asyncio.run(load_viewer(request, cast(Session, Untouchable())))
    assert viewer is None
    assert request.state.viewer is None
