"""Queries of the audit log. There are no update or delete functions, by design."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.kit.pagination import Page, paginate


@dataclass(frozen=True)
class AuditFilters:
    action: str = ""
    actor: str = ""
    subject_type: str = ""
    country: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def events(
    session: Session,
    filters: AuditFilters,
    countries: frozenset[str] | None,
    *,
    page: int,
    per_page: int,
) -> Page[AuditEvent]:
    """Events matching ``filters`` about ``countries`` (None: all), newest first."""
    statement = select(AuditEvent)
    if countries is not None:
        statement = statement.where(AuditEvent.country.in_(sorted(countries)))
    if filters.action:
        statement = statement.where(AuditEvent.action == filters.action)
    if filters.actor:
        pattern = "%" + filters.actor.lower().replace("%", "").replace("_", "") + "%"
        statement = statement.where(func.lower(AuditEvent.actor_label).like(pattern))
    if filters.subject_type:
        statement = statement.where(AuditEvent.subject_type == filters.subject_type)
    if filters.country:
        statement = statement.where(AuditEvent.country == filters.country)
    if filters.date_from is not None:
        statement = statement.where(AuditEvent.occurred_at >= _start_of(filters.date_from))
    if filters.date_to is not None and filters.date_to < date.max:
        end = _start_of(filters.date_to + timedelta(days=1))
        statement = statement.where(AuditEvent.occurred_at < end)
    statement = statement.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    return paginate(session, statement, page, per_page)


def for_subject(
    session: Session, subject_type: str, subject_id: int, *, limit: int = 20
) -> list[AuditEvent]:
    """The latest events about one subject, newest first."""
    statement = (
        select(AuditEvent)
        .where(AuditEvent.subject_type == subject_type, AuditEvent.subject_id == subject_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(session.scalars(statement))


def known_values(session: Session) -> tuple[list[str], list[str]]:
    """The action codes and subject types that occur in the log, for the filter lists."""
    rows = session.execute(
        select(AuditEvent.action, AuditEvent.subject_type)
        .distinct()
        .order_by(AuditEvent.action, AuditEvent.subject_type)
    ).all()
    actions = sorted({action for action, _subject in rows})
    subject_types = sorted({subject for _action, subject in rows})
    return actions, subject_types
