"""Queries of the organisations domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, and_, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import ScalarSelect

from app.applications.models import Application
from app.kit.pagination import Page, paginate
from app.members.models import Member, member_organisation
from app.organisations.models import Organisation


def get_by_name(session: Session, name: str, country: str) -> Organisation | None:
    statement = select(Organisation).where(
        Organisation.name == name, Organisation.country == country
    )
    return session.scalars(statement).first()


def count_subquery() -> ScalarSelect[int]:
    return select(func.count()).select_from(Organisation).scalar_subquery()


def get(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def find_same_name(
    session: Session, name: str, country: str, *, exclude_id: int | None = None
) -> Organisation | None:
    """An organisation of this name (ignoring case) in this country, other than ``exclude_id``."""
    statement = select(Organisation).where(
        func.lower(Organisation.name) == name.strip().lower(), Organisation.country == country
    )
    if exclude_id is not None:
        statement = statement.where(Organisation.id != exclude_id)
    return session.scalars(statement).first()


def _member_count() -> ScalarSelect[int]:
    return (
        select(func.count())
        .select_from(member_organisation)
        .where(member_organisation.c.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )


def search(
    session: Session,
    *,
    query: str = "",
    country: str = "",
    page: int = 1,
    per_page: int = 25,
    with_member_counts: bool = False,
) -> Page[object]:
    """Organisations by name and country, ordered by name; rows of (organisation, members)."""
    statement: Select[Any] = select(Organisation)
    if with_member_counts:
        statement = statement.add_columns(_member_count().label("member_count"))
    if query.strip():
        pattern = "%" + query.strip().lower().replace("%", "").replace("_", "") + "%"
        statement = statement.where(func.lower(Organisation.name).like(pattern))
    if country:
        statement = statement.where(Organisation.country == country)
    statement = statement.order_by(func.lower(Organisation.name), Organisation.id)
    return paginate(session, statement, page, per_page, rows=with_member_counts)


def choices(session: Session) -> list[Organisation]:
    """Every organisation, by name, for a select list."""
    statement = select(Organisation).order_by(func.lower(Organisation.name), Organisation.id)
    return list(session.scalars(statement))


@dataclass(frozen=True)
class MergePreview:
    """What merging would move: members of the duplicate and its applications."""

    members_moving: list[str]
    members_in_both: list[str]
    applications: int


def merge_preview(session: Session, duplicate_id: int, keep_id: int) -> MergePreview:
    kept_members = select(member_organisation.c.member_id).where(
        member_organisation.c.organisation_id == keep_id
    )
    statement = (
        select(Member.full_name, Member.id.in_(kept_members))
        .join(member_organisation, member_organisation.c.member_id == Member.id)
        .where(member_organisation.c.organisation_id == duplicate_id)
        .order_by(func.lower(Member.full_name))
    )
    moving: list[str] = []
    both: list[str] = []
    for name, already in session.execute(statement):
        (both if already else moving).append(name)
    applications = (
        session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.organisation_id == duplicate_id)
        )
        or 0
    )
    return MergePreview(members_moving=moving, members_in_both=both, applications=applications)


def move_links(session: Session, duplicate_id: int, keep_id: int) -> tuple[int, int]:
    """Move member links and applications to ``keep_id``; returns (members, applications)."""
    already = select(member_organisation.c.member_id).where(
        member_organisation.c.organisation_id == keep_id
    )
    moving = select(member_organisation.c.member_id, literal(keep_id, Integer)).where(
        and_(
            member_organisation.c.organisation_id == duplicate_id,
            member_organisation.c.member_id.not_in(already),
        )
    )
    # Counted first: drivers differ in what rowcount says for INSERT ... SELECT.
    moved = session.scalar(select(func.count()).select_from(moving.subquery())) or 0
    session.execute(
        insert(member_organisation).from_select(["member_id", "organisation_id"], moving)
    )
    session.execute(
        delete(member_organisation).where(member_organisation.c.organisation_id == duplicate_id)
    )
    applications = session.execute(
        update(Application)
        .where(Application.organisation_id == duplicate_id)
        .values(organisation_id=keep_id)
        .execution_options(synchronize_session=False)
    )
    return moved, int(getattr(applications, "rowcount", 0) or 0)
