"""Queries of the member directory."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Select, and_, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.base import ExecutableOption

from app.members.models import Member, MemberExpertise, MemberLanguage, member_organisation
from app.organisations.models import Organisation


def visible_to_members(field: str) -> ColumnElement[bool]:
    """The member shows ``field`` to members: no setting, or any value but "coordinators".

    The same rule as ``Member.field_visibility`` in SQL, on SQLite and PostgreSQL alike.
    """
    setting = func.coalesce(Member.profile_visibility[field].as_string(), literal("members"))
    return setting != literal("coordinators")


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_conditions(
    *,
    text: str,
    country: str | None,
    expertise: str | None,
    member_type: str | None,
    organisation_id: int | None,
    language: str | None,
    viewer_id: int,
    viewer_sees_all: bool,
) -> list[ColumnElement[bool]]:
    """WHERE clauses of a directory search for one viewer.

    A filter on a profile field only matches members who let the viewer see that field,
    so a filter can never reveal what the profile page hides.
    """

    def shown(field: str) -> ColumnElement[bool]:
        if viewer_sees_all:
            return true()
        return or_(Member.id == viewer_id, visible_to_members(field))

    conditions: list[ColumnElement[bool]] = [Member.status == "active"]
    if text:
        conditions.append(func.lower(Member.full_name).like(_like_pattern(text), escape="\\"))
    if country:
        conditions.append(and_(Member.country == country, shown("country")))
    if member_type:
        conditions.append(and_(Member.member_type == member_type, shown("member_type")))
    if expertise:
        has_area = exists().where(
            MemberExpertise.member_id == Member.id, MemberExpertise.area == expertise
        )
        conditions.append(and_(has_area, shown("expertise")))
    if language:
        speaks = exists().where(
            MemberLanguage.member_id == Member.id, MemberLanguage.language == language
        )
        conditions.append(and_(speaks, shown("languages")))
    if organisation_id is not None:
        belongs = exists().where(
            member_organisation.c.member_id == Member.id,
            member_organisation.c.organisation_id == organisation_id,
        )
        conditions.append(and_(belongs, shown("organisations")))
    return conditions


def search_statement(
    conditions: Sequence[ColumnElement[bool]], *, load: Sequence[ExecutableOption] = ()
) -> Select[Member]:
    """Matching members, sorted by name."""
    return (
        select(Member)
        .where(*conditions)
        .order_by(func.lower(Member.full_name), Member.id)
        .options(*load)
    )


def profile_loads() -> list[ExecutableOption]:
    return [
        selectinload(Member.organisations),
        selectinload(Member.expertise),
        selectinload(Member.languages),
    ]


def get_with_profile(session: Session, member_id: int) -> Member | None:
    """A member with organisations, expertise and languages loaded."""
    statement = select(Member).where(Member.id == member_id).options(*profile_loads())
    return session.scalars(statement).first()


def organisation_choices(session: Session) -> list[tuple[int, str]]:
    """Every organisation as (id, name), sorted by name, for filters and pickers."""
    statement = select(Organisation.id, Organisation.name).order_by(
        func.lower(Organisation.name), Organisation.id
    )
    return [(row[0], row[1]) for row in session.execute(statement)]
