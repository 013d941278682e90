"""Database engine, declarative base and the one-session-per-request dependency."""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import anyio.to_thread
from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    MetaData,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from starlette.requests import Request

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A time zone-aware timestamp in UTC on both databases.

    SQLite keeps no time zone and hands back naive values; PostgreSQL hands back aware ones.
    Values are stored in UTC and always come back aware, so any two can be compared.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    """Typed declarative base; every constraint gets a predictable name."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL, a busy timeout, and transactions SQLAlchemy fully controls."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; we emit BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def build_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine for SQLite (file under var/) or PostgreSQL (psycopg 3)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


_names: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def database_name(connection: Connection) -> str:
    """The database a connection is to, as a string (its URL without the password).

    For keys of what a worker remembers per database (tests use several); worked out once
    per engine: rendering a URL, which hashing one does, costs more than the lookup.
    """
    engine = connection.engine
    name = _names.get(engine)
    if name is None:
        name = _names[engine] = engine.url.render_as_string(hide_password=True)
    return name


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit when the route returns, roll back on error.

    Used with ``Depends(get_session, scope="function")`` so the commit happens before the
    response is sent, and a failed commit turns into an error response, not a lost write.
    Opening a session touches no database, so it costs no trip to the thread pool; the
    end (commit or roll back, then close) takes one.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    except BaseException:
        await _outside_the_pool(_undo, session)
        raise
    await _outside_the_pool(_finish, session)


async def _outside_the_pool(end: Callable[[Session], None], session: Session) -> None:
    """Run ``end`` in a thread of its own limit, as FastAPI runs a dependency's exit: a
    request that holds a connection must be able to give it back even when every thread of
    the shared pool is taken by requests waiting for one."""
    await anyio.to_thread.run_sync(end, session, limiter=anyio.CapacityLimiter(1))


def _finish(session: Session) -> None:
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _undo(session: Session) -> None:
    try:
        session.rollback()
    finally:
        session.close()
