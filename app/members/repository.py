"""Queries of the members domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from app.members.models import Member


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
