"""Rules of the member directory: who is listed, what each viewer sees of them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, selectinload

from app.directory import repository
from app.kit.errors import NotFound
from app.kit.ids import parse_id
from app.kit.pagination import Page, paginate
from app.members import permissions
from app.members.models import MEMBER_TYPES, PROFILE_FIELDS, Member
from app.members.vocabulary import COUNTRIES, EXPERTISE_AREAS, LANGUAGES

DEFAULT_PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class DirectoryQuery:
    """What a viewer searches for; unknown codes are dropped, so they never filter."""

    text: str = ""
    country: str | None = None
    expertise: str | None = None
    member_type: str | None = None
    organisation_id: int | None = None
    language: str | None = None

    @classmethod
    def clean(
        cls,
        *,
        text: str | None = None,
        country: str | None = None,
        expertise: str | None = None,
        member_type: str | None = None,
        organisation_id: str | int | None = None,
        language: str | None = None,
    ) -> DirectoryQuery:
        country_code = (country or "").strip().upper()
        language_code = (language or "").strip().lower()
        organisation = None
        if isinstance(organisation_id, int):
            organisation = organisation_id
        elif organisation_id:
            organisation = parse_id(organisation_id)
        return cls(
            text=" ".join((text or "").split())[:MAX_QUERY_LENGTH],
            country=country_code if country_code in COUNTRIES else None,
            expertise=expertise if expertise in EXPERTISE_AREAS else None,
            member_type=member_type if member_type in MEMBER_TYPES else None,
            organisation_id=organisation,
            language=language_code if language_code in LANGUAGES else None,
        )

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.text
            or self.country
            or self.expertise
            or self.member_type
            or self.organisation_id is not None
            or self.language
        )


def search(
    session: Session,
    viewer: Member,
    query: DirectoryQuery,
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
    with_languages: bool = False,
) -> Page[Member]:
    """Active members matching ``query``, as far as ``viewer`` may see the filtered fields.

    Organisations and expertise are loaded (languages too when asked), one query each.
    """
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    conditions = repository.search_conditions(
        text=query.text.lower(),
        country=query.country,
        expertise=query.expertise,
        member_type=query.member_type,
        organisation_id=query.organisation_id,
        language=query.language,
        viewer_id=viewer.id,
        viewer_sees_all=permissions.is_coordinator(viewer),
    )
    loads = [selectinload(Member.organisations), selectinload(Member.expertise)]
    if with_languages:
        loads.append(selectinload(Member.languages))
    return paginate(session, repository.search_statement(conditions, load=loads), page, per_page)


def visible_fields(viewer: Member | None, member: Member) -> frozenset[str]:
    """The profile fields of ``member`` that ``viewer`` may see."""
    if member.status == "erased":
        return frozenset()
    return frozenset(
        field
        for field in PROFILE_FIELDS
        if permissions.can_see_profile_field(viewer, member, field)
    )


def can_view_profile(viewer: Member, member: Member) -> bool:
    """Members see active and lapsed members; coordinators also suspended and erased ones."""
    if viewer.id == member.id or permissions.is_coordinator(viewer):
        return True
    return member.status in ("active", "lapsed")


def profile_for(session: Session, viewer: Member, member_id: int) -> Member:
    """The member with what a profile shows loaded, or NotFound when the viewer may not see it."""
    member = repository.get_with_profile(session, member_id)
    if member is None or not can_view_profile(viewer, member):
        raise NotFound()
    return member


def organisation_choices(session: Session) -> list[tuple[int, str]]:
    return repository.organisation_choices(session)
