"""Queries of the members domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.selectable import ScalarSelect

from app.kit.pagination import Page, paginate
from app.members.models import Member, member_organisation


def get(session: Session, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def get_by_email(session: Session, email: str) -> Member | None:
    return session.scalars(select(Member).where(Member.email == email.strip().lower())).first()


def count_all(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Member)) or 0


def active_count_subquery() -> ScalarSelect[int]:
    return (
        select(func.count()).select_from(Member).where(Member.status == "active").scalar_subquery()
    )


def active_country_count_subquery() -> ScalarSelect[int]:
    statement = select(func.count(func.distinct(Member.country))).where(
        Member.status == "active", Member.country.is_not(None)
    )
    return statement.scalar_subquery()


# Coordination: the member list, pages of results, the lifecycle sweep.


@dataclass(frozen=True)
class MemberFilters:
    name: str = ""
    country: str = ""
    status: str = ""
    member_type: str = ""
    organisation_id: int | None = None
    role: str = ""


def coordinated_members(
    session: Session,
    filters: MemberFilters,
    countries: frozenset[str] | None,
    *,
    page: int,
    per_page: int,
) -> Page[Member]:
    """Members matching ``filters`` within ``countries`` (None: all), organisations loaded."""
    statement = select(Member).options(selectinload(Member.organisations))
    if countries is not None:
        statement = statement.where(Member.country.in_(sorted(countries)))
    if filters.name:
        pattern = "%" + filters.name.lower().replace("%", "").replace("_", "") + "%"
        statement = statement.where(
            or_(func.lower(Member.full_name).like(pattern), Member.email.like(pattern))
        )
    if filters.country:
        statement = statement.where(Member.country == filters.country)
    if filters.status:
        statement = statement.where(Member.status == filters.status)
    else:
        # Erased accounts hold no personal data; they are listed only when asked for.
        statement = statement.where(Member.status != "erased")
    if filters.member_type:
        statement = statement.where(Member.member_type == filters.member_type)
    if filters.role:
        statement = statement.where(Member.role == filters.role)
    if filters.organisation_id is not None:
        statement = statement.where(
            Member.id.in_(
                select(member_organisation.c.member_id).where(
                    member_organisation.c.organisation_id == filters.organisation_id
                )
            )
        )
    statement = statement.order_by(func.lower(Member.full_name), Member.id)
    return paginate(session, statement, page, per_page)


def get_for_coordination(session: Session, member_id: int) -> Member | None:
    """A member with organisations and coordinator countries loaded."""
    statement = (
        select(Member)
        .where(Member.id == member_id)
        .options(selectinload(Member.organisations), selectinload(Member.coordinator_countries))
        .execution_options(populate_existing=True)
    )
    return session.scalars(statement).first()


def due_for_lapse(session: Session, today: date) -> list[Member]:
    """Active members whose membership ended before ``today``, locked for the sweep."""
    statement = (
        select(Member)
        .where(Member.status == "active", Member.membership_expires_on < today)
        .order_by(Member.id)
        .with_for_update()
    )
    return list(session.scalars(statement))


def due_for_reminder(session: Session, today: date, days: int, after_days: int) -> list[Member]:
    """Active members expiring within ``after_days`` < days left <= ``days`` not yet reminded."""
    already_sent = (7,) if days == 7 else (30, 7)
    statement = (
        select(Member)
        .where(
            Member.status == "active",
            Member.membership_expires_on > today + timedelta(days=after_days),
            Member.membership_expires_on <= today + timedelta(days=days),
            or_(
                Member.last_reminder_days.is_(None),
                Member.last_reminder_days.not_in(already_sent),
            ),
        )
        .order_by(Member.id)
        .with_for_update()
    )
    return list(session.scalars(statement))
