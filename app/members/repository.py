"""Queries of the members domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.members.models import Member


def get(session: Session, member_id: int) -> Member | None:
    return session.get(Member, member_id)


def get_by_email(session: Session, email: str) -> Member | None:
    return session.scalars(select(Member).where(Member.email == email.strip().lower())).first()


def count_active(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Member).where(Member.is_active)) or 0


def count_active_countries(session: Session) -> int:
    statement = select(func.count(func.distinct(Member.country))).where(
        Member.is_active, Member.country.is_not(None)
    )
    return session.scalar(statement) or 0
