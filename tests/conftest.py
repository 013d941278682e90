"""Test fixtures: a migrated database per run, a rolled-back transaction per test.

The suite runs on SQLite by default; ``PORTAL_TEST_DATABASE_URL`` switches it to another
database (PostgreSQL in ``make test``).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
import pytest
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.auth import sessions
from app.auth.deps import SESSION_TOKEN_KEY
from app.config import PROJECT_ROOT, Settings
from app.db import build_engine, get_session, normalise_url
from app.kit.csrf import SESSION_COOKIE
from app.main import create_app
from app.members.models import Member
from app.search import engine as search_engine
from tests import factories

TEST_SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["configure_logging"] = False
    if connection is not None:
        config.attributes["connection"] = connection
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    configured = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if configured:
        return normalise_url(configured)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


def _reset_postgresql_schema(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """The test database, built by running every migration."""
    engine = build_engine(database_url)
    if engine.dialect.name == "postgresql":
        _reset_postgresql_schema(engine)
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def is_postgresql(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()
    # The rolled-back documents must not outlive the test in the search engine's memory.
    search_engine.reset_all()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    """A session whose commits are savepoints inside the test's transaction."""
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    factories.bind(session)
    yield session
    factories.bind(None)
    session.close()


def portal_settings(database_url: str) -> Settings:
    """The portal's settings for tests on ``database_url`` (no background jobs)."""
    return Settings(
        database_url=database_url,
        secret_key=TEST_SECRET_KEY,
        environment="development",
        run_background_jobs=False,
    )


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return portal_settings(database_url)


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI, db_session: Session) -> Iterator[PortalClient]:
    """An HTTP client against the app; every request uses the test's session."""

    def session_override() -> Iterator[Session]:
        try:
            yield db_session
            db_session.commit()
        except BaseException:
            db_session.rollback()
            raise

    app.dependency_overrides[get_session] = session_override
    with PortalClient(app, base_url="http://testserver", raise_server_exceptions=False) as client:
        yield client
    app.dependency_overrides.clear()


CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_HEADER_PATTERN = re.compile(r'"X-CSRF-Token": "([^"]+)"')


class PortalClient(TestClient):
    """A TestClient that can fetch the session's CSRF token like a browser would."""

    def sign_in_as(self, session: Session, member: Member) -> None:
        """Open a server-side session for ``member`` and hand its cookie to this client.

        Skips the password and the second factor: tests of those go through the forms.
        """
        token = sessions.start(session, member, ip_address="testclient", user_agent="tests")
        session.flush()
        payload = b64encode(json.dumps({SESSION_TOKEN_KEY: token}).encode())
        signed = itsdangerous.TimestampSigner(TEST_SECRET_KEY).sign(payload).decode()
        self.cookies.set(SESSION_COOKIE, signed, domain="testserver.local")

    def csrf_token(self, path: str = "/sign-in") -> str:
        page = self.get(path)
        match = CSRF_PATTERN.search(page.text) or CSRF_HEADER_PATTERN.search(page.text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def post_form(self, path: str, data: dict[str, str], **kwargs: Any) -> httpx.Response:
        response: httpx.Response = self.post(
            path, data={"csrf_token": self.csrf_token(), **data}, **kwargs
        )
        return response


@pytest.fixture
def fresh_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as the test database, dropped afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"portal_fresh_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
