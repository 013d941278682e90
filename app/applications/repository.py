"""Queries of the applications domain."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from app.applications.models import OPEN_STATUSES, Application, ApplicationMessage
from app.kit.pagination import Page, paginate
from app.members.models import CoordinatorCountry, Member
from app.organisations.models import Organisation


@dataclass(frozen=True)
class QueueRow:
    application: Application
    organisation_name: str | None


@dataclass(frozen=True)
class ThreadEntry:
    message: ApplicationMessage
    author_name: str | None


@dataclass(frozen=True)
class ApplicationDetail:
    application: Application
    organisation: Organisation | None
    decided_by_name: str | None
    # A member who has the application's e-mail address (approving would make a second one).
    existing_member_id: int | None


def get(session: Session, application_id: int) -> Application | None:
    return session.get(Application, application_id)


def get_by_token_hash(session: Session, token_hash: str) -> Application | None:
    statement = select(Application).where(Application.access_token_hash == token_hash)
    return session.scalars(statement).first()


def detail(session: Session, application_id: int) -> ApplicationDetail | None:
    """The application, its organisation, who decided, and any member with its e-mail address.

    One query; the application is read afresh even if the session holds it already.
    """
    decider = aliased(Member)
    same_email = aliased(Member)
    statement = (
        select(Application, Organisation, decider.full_name, same_email.id)
        .outerjoin(Organisation, Organisation.id == Application.organisation_id)
        .outerjoin(decider, decider.id == Application.decided_by_id)
        .outerjoin(same_email, same_email.email == Application.email)
        .where(Application.id == application_id)
        .execution_options(populate_existing=True)
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    return ApplicationDetail(
        application=row[0], organisation=row[1], decided_by_name=row[2], existing_member_id=row[3]
    )


def thread(session: Session, application_id: int) -> list[ThreadEntry]:
    statement = (
        select(ApplicationMessage, Member.full_name)
        .outerjoin(Member, Member.id == ApplicationMessage.author_id)
        .where(ApplicationMessage.application_id == application_id)
        .order_by(ApplicationMessage.id)
    )
    return [ThreadEntry(message=row[0], author_name=row[1]) for row in session.execute(statement)]


def last_info_request(session: Session, application_id: int) -> ThreadEntry | None:
    statement = (
        select(ApplicationMessage, Member.full_name)
        .outerjoin(Member, Member.id == ApplicationMessage.author_id)
        .where(
            ApplicationMessage.application_id == application_id,
            ApplicationMessage.kind == "info_request",
        )
        .order_by(ApplicationMessage.id.desc())
        .limit(1)
    )
    row = session.execute(statement).first()
    return ThreadEntry(message=row[0], author_name=row[1]) if row else None


def info_requesters(session: Session, application_id: int) -> list[Member]:
    """The coordinators who asked this applicant for information."""
    asked = select(ApplicationMessage.author_id).where(
        ApplicationMessage.application_id == application_id,
        ApplicationMessage.kind == "info_request",
    )
    statement = select(Member).where(Member.id.in_(asked)).order_by(Member.id)
    return list(session.scalars(statement))


def open_application_for_email(session: Session, email: str) -> Application | None:
    statement = select(Application).where(
        Application.email == email, Application.status.in_(OPEN_STATUSES)
    )
    return session.scalars(statement).first()


def _scoped(statement: Any, countries: Collection[str] | None) -> Any:
    """Limit to applications from ``countries``; None is the whole network."""
    if countries is None:
        return statement
    return statement.where(Application.country.in_(sorted(countries)))


def queue(
    session: Session,
    *,
    countries: Collection[str] | None,
    statuses: Collection[str],
    country: str | None,
    page: int,
    per_page: int,
) -> Page[QueueRow]:
    """Applications in scope, oldest first, one page of them and how many there are."""
    filters: list[ColumnElement[bool]] = [Application.status.in_(sorted(statuses))]
    if country:
        filters.append(Application.country == country)
    statement = _scoped(
        select(
            Application, func.coalesce(Organisation.name, Application.proposed_organisation_name)
        )
        .outerjoin(Organisation, Organisation.id == Application.organisation_id)
        .where(*filters)
        .order_by(Application.created_at, Application.id),
        countries,
    )
    found = paginate(session, statement, page, per_page, rows=True)
    rows = [QueueRow(application=row[0], organisation_name=row[1]) for row in found.items]
    return replace(found, items=rows)


def open_counts(session: Session, countries: Collection[str] | None) -> dict[str, int]:
    """How many open applications wait in scope, per status."""
    statement = _scoped(
        select(Application.status, func.count())
        .where(Application.status.in_(OPEN_STATUSES))
        .group_by(Application.status),
        countries,
    )
    counts = dict.fromkeys(OPEN_STATUSES, 0)
    for status, number in session.execute(statement):
        counts[status] = number
    return counts


def coordinators_of_country(session: Session, country: str, *, network: bool) -> list[Member]:
    """Active coordinators and admins of ``country``; with ``network`` also the network's."""
    national = select(CoordinatorCountry.member_id).where(CoordinatorCountry.country == country)
    scope: ColumnElement[bool] = Member.id.in_(national)
    if network:
        scope = or_(scope, Member.coordinates_network.is_(True))
    statement = (
        select(Member)
        .where(Member.role.in_(("coordinator", "admin")), Member.status == "active", scope)
        .order_by(Member.id)
    )
    return list(session.scalars(statement))


def change_status(
    session: Session,
    application_id: int,
    *,
    from_statuses: Collection[str],
    values: dict[str, Any],
) -> bool:
    """Move the application on only if it is still in one of ``from_statuses``.

    A conditional UPDATE: of two people acting at the same moment, exactly one succeeds.
    """
    result = session.execute(
        update(Application)
        .where(Application.id == application_id, Application.status.in_(sorted(from_statuses)))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def decided_by(session: Session, application_id: int) -> tuple[str, str | None, datetime | None]:
    """The current status, who decided and when (read fresh, after a refused change)."""
    statement = (
        select(Application.status, Member.full_name, Application.decided_at)
        .outerjoin(Member, Member.id == Application.decided_by_id)
        .where(Application.id == application_id)
    )
    row = session.execute(statement).one()
    return row[0], row[1], row[2]
