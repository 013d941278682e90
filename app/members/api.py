"""The members API: the caller's own account and the member directory, under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.security import HTTPBearer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.auth.api_deps import Caller, InsufficientScope, api_member
from app.auth.deps import DbSession, SignInRequired
from app.directory import service as directory
from app.kit.errors import PortalError
from app.kit.i18n import _
from app.members import permissions
from app.members.models import Member
from app.members.schemas import Me, MemberOut, MemberPage, me_out, member_out

# Documents the Bearer scheme in OpenAPI; the callers themselves are resolved by api_deps.
bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="PersonalAccessToken",
    description="A personal access token, created under My account → API tokens.",
)

router = APIRouter(prefix="/api/v1", tags=["members"], dependencies=[Depends(bearer_scheme)])

ApiMember = Annotated[Member, Depends(api_member("read"))]

RESPONSES: dict[int | str, dict[str, str]] = {
    401: {"description": "No valid token or session"},
    403: {"description": "Membership lapsed, or the token's scope is too narrow"},
}


class UnknownCode(PortalError):
    status_code = 422


def _refuse_unknown_codes(given: dict[str, tuple[str | None, str | None]]) -> None:
    """A filter with a code the portal does not know is an error, not "no filter"."""
    for name, (value, understood) in given.items():
        if value and understood is None:
            raise UnknownCode(_("Unknown value %(value)r for %(name)s.", value=value, name=name))


def signed_in_reader(caller: Caller) -> Member:
    """Any member who may sign in, lapsed members included, with the read scope."""
    if caller.member is None:
        raise SignInRequired()
    if not caller.allows("read"):
        raise InsufficientScope()
    return caller.member


@router.get("/me", response_model=Me, responses=RESPONSES, summary="My account")
def me(session: DbSession, caller: Annotated[Member, Depends(signed_in_reader)]) -> Me:
    """The caller's own account and full profile, e-mail, role, status and membership expiry."""
    statement = (
        select(Member)
        .where(Member.id == caller.id)
        .options(
            selectinload(Member.organisations),
            selectinload(Member.expertise),
            selectinload(Member.languages),
            selectinload(Member.coordinator_countries),
        )
    )
    return me_out(session.scalars(statement).one())


@router.get("/members", response_model=MemberPage, responses=RESPONSES, summary="Search members")
def list_members(
    session: DbSession,
    caller: ApiMember,
    q: Annotated[str | None, Query(description="Part of the name", max_length=200)] = None,
    country: Annotated[str | None, Query(description="ISO 3166-1 alpha-2 code")] = None,
    expertise: Annotated[str | None, Query(description="Expertise area code")] = None,
    member_type: Annotated[
        str | None, Query(description="researcher, practitioner, policy_maker or other")
    ] = None,
    organisation_id: int | None = None,
    language: Annotated[str | None, Query(description="ISO 639-1 code")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=directory.MAX_PER_PAGE)] = directory.DEFAULT_PER_PAGE,
) -> MemberPage:
    """Active members matching the filters; each member's fields as far as they let you see them.

    A filter on a field a member hides from you never matches that member.
    """
    query = directory.DirectoryQuery.clean(
        text=q,
        country=country,
        expertise=expertise,
        member_type=member_type,
        organisation_id=organisation_id,
        language=language,
    )
    _refuse_unknown_codes(
        {"country": (country, query.country), "expertise": (expertise, query.expertise)}
        | {"member_type": (member_type, query.member_type), "language": (language, query.language)}
    )
    results = directory.search(
        session, caller, query, page=page, per_page=per_page, with_languages=True
    )
    return MemberPage(
        items=[
            member_out(
                member,
                visible=directory.visible_fields(caller, member),
                show_email=permissions.can_see_email(caller, member),
            )
            for member in results.items
        ],
        total=results.total,
        page=results.page,
        per_page=results.per_page,
        pages=results.pages,
    )


@router.get(
    "/members/{member_id}",
    response_model=MemberOut,
    responses={**RESPONSES, 404: {"description": "No such member, or not visible to you"}},
    summary="One member",
)
def get_member(session: DbSession, caller: ApiMember, member_id: int) -> MemberOut:
    """One member's profile as far as they let you see it."""
    member = directory.profile_for(session, caller, member_id)
    return member_out(
        member,
        visible=directory.visible_fields(caller, member),
        show_email=permissions.can_see_email(caller, member),
    )
