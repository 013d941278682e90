"""The member directory: search and profile pages, for members only."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from app.auth.deps import ActiveMember, DbSession, load_viewer
from app.directory import service
from app.kit import pagination
from app.kit.errors import PermissionDenied
from app.members import permissions, profile_service, vocabulary
from app.members.models import MEMBER_TYPES, Member
from app.web import render, wants_fragment

router = APIRouter(dependencies=[Depends(load_viewer)])


def _require_directory(viewer: Member) -> None:
    if not permissions.can_use_directory(viewer):
        raise PermissionDenied()


@router.get("/directory", name="directory")
def directory(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    q: str | None = None,
    country: str | None = None,
    expertise: str | None = None,
    member_type: str | None = None,
    organisation: str | None = None,
    language: str | None = None,
    page: str | None = None,
) -> Response:
    """Search the members of the network; htmx asks for the results block only."""
    _require_directory(viewer)
    query = service.DirectoryQuery.clean(
        text=q,
        country=country,
        expertise=expertise,
        member_type=member_type,
        organisation_id=organisation,
        language=language,
    )
    results = service.search(session, viewer, query, page=pagination.page_number(page))
    params = {
        "q": query.text,
        "country": query.country or "",
        "expertise": query.expertise or "",
        "member_type": query.member_type or "",
        "organisation": str(query.organisation_id or ""),
        "language": query.language or "",
    }
    base_query = urlencode({key: value for key, value in params.items() if value})
    context = {
        "query": query,
        "results": results,
        "page_link": lambda number: (
            "/directory?" + (base_query + "&" if base_query else "") + f"page={number}"
        ),
        "visible": lambda member: service.visible_fields(viewer, member),
        "member_type_label": vocabulary.member_type_label,
    }
    if wants_fragment(request):
        return render(request, "directory/index.html", context, block="results")
    context.update(
        {
            "countries": vocabulary.country_choices(),
            "languages": vocabulary.language_choices(),
            "expertise_areas": vocabulary.expertise_choices(),
            "member_type_choices": [
                (code, vocabulary.member_type_label(code)) for code in MEMBER_TYPES
            ],
            "organisations": service.organisation_choices(session),
        }
    )
    return render(request, "directory/index.html", context, block=None)


@router.get("/directory/{member_id:int}", name="directory_profile")
def profile(request: Request, session: DbSession, viewer: ActiveMember, member_id: int) -> Response:
    """A member's profile, showing each field as far as the member lets the viewer see it."""
    _require_directory(viewer)
    member = service.profile_for(session, viewer, member_id)
    context = {
        "member": member,
        "display_name": profile_service.display_name(member),
        "member_type_label": vocabulary.member_type_label,
        "status_label": vocabulary.status_label,
        "visible": service.visible_fields(viewer, member),
        "show_email": permissions.can_see_email(viewer, member) and member.status != "erased",
        "is_own": member.id == viewer.id,
        "viewer_is_coordinator": permissions.is_coordinator(viewer),
    }
    return render(request, "directory/profile.html", context)
