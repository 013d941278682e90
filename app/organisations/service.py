"""Rules of the organisations domain. Functions take a Session and never commit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.organisations import repository
from app.organisations.models import ORGANISATION_TYPES, Organisation


def get_or_create(
    session: Session,
    *,
    name: str,
    country: str,
    organisation_type: str,
    website: str | None = None,
    is_demo: bool = False,
) -> tuple[Organisation, bool]:
    """The organisation of this name in this country, and whether it was created now."""
    if organisation_type not in ORGANISATION_TYPES:
        raise ValueError(f"unknown organisation type {organisation_type!r}")
    existing = repository.get_by_name(session, name, country)
    if existing is not None:
        return existing, False
    organisation = Organisation(
        name=name,
        country=country,
        organisation_type=organisation_type,
        website=website,
        is_demo=is_demo,
    )
    session.add(organisation)
    session.flush()
    return organisation, True
