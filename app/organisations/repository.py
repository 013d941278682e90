"""Queries of the organisations domain."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from app.organisations.models import Organisation


def get_by_name(session: Session, name: str, country: str) -> Organisation | None:
    statement = select(Organisation).where(
        Organisation.name == name, Organisation.country == country
    )
    return session.scalars(statement).first()


def count_subquery() -> ScalarSelect[int]:
    return select(func.count()).select_from(Organisation).scalar_subquery()
