"""What the members API returns; these models document it in the OpenAPI schema."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from app.members.models import PROFILE_FIELDS, Member


class OrganisationRef(BaseModel):
    """An organisation a member belongs to."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    country: str


class MemberOut(BaseModel):
    """A member as the caller may see them: fields the member hides from the caller are null."""

    id: int
    full_name: str
    status: str = Field(description="active, lapsed, suspended or erased")
    email: str | None = Field(
        default=None, description="Only for coordinators (and the member themself)."
    )
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2 code")
    member_type: str | None = Field(
        default=None, description="researcher, practitioner, policy_maker or other"
    )
    organisations: list[OrganisationRef] | None = None
    expertise: list[str] | None = Field(default=None, description="Codes of expertise areas")
    languages: list[str] | None = Field(default=None, description="ISO 639-1 codes")
    bio: str | None = None


class MemberPage(BaseModel):
    """One page of members matching the filters."""

    items: list[MemberOut]
    total: int = Field(description="How many members match, on all pages")
    page: int
    per_page: int
    pages: int


class Me(BaseModel):
    """The caller's own account and full profile."""

    id: int
    email: str
    full_name: str
    role: str = Field(description="member, coordinator or admin")
    status: str = Field(description="active, lapsed, suspended or erased")
    member_type: str
    country: str | None
    organisations: list[OrganisationRef]
    expertise: list[str]
    languages: list[str]
    bio: str | None
    profile_visibility: dict[str, str] = Field(
        description="Per profile field: 'members' or 'coordinators' (who sees it)"
    )
    membership_expires_on: date | None
    two_factor_enabled: bool
    coordinates_network: bool
    coordinator_countries: list[str]


def member_out(member: Member, *, visible: frozenset[str], show_email: bool) -> MemberOut:
    """``member`` (organisations, expertise and languages loaded as far as visible)."""
    erased = member.status == "erased"
    return MemberOut(
        id=member.id,
        full_name=member.full_name,
        status=member.status,
        email=member.email if show_email and not erased else None,
        country=member.country if "country" in visible else None,
        member_type=member.member_type if "member_type" in visible else None,
        organisations=[OrganisationRef.model_validate(item) for item in member.organisations]
        if "organisations" in visible
        else None,
        expertise=[item.area for item in member.expertise] if "expertise" in visible else None,
        languages=[item.language for item in member.languages] if "languages" in visible else None,
        bio=member.bio if "bio" in visible else None,
    )


def me_out(member: Member) -> Me:
    """The caller's account (organisations, expertise, languages, countries loaded)."""
    return Me(
        id=member.id,
        email=member.email,
        full_name=member.full_name,
        role=member.role,
        status=member.status,
        member_type=member.member_type,
        country=member.country,
        organisations=[OrganisationRef.model_validate(item) for item in member.organisations],
        expertise=[item.area for item in member.expertise],
        languages=[item.language for item in member.languages],
        bio=member.bio,
        profile_visibility={name: member.field_visibility(name) for name in PROFILE_FIELDS},
        membership_expires_on=member.membership_expires_on,
        two_factor_enabled=member.totp_enabled_at is not None,
        coordinates_network=member.coordinates_network,
        coordinator_countries=sorted(scope.country for scope in member.coordinator_countries),
    )
