"""Personal access tokens for the API: list, create (the secret shown once), revoke."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import Response

from app.auth import api_tokens
from app.auth.deps import ActiveMember, DbSession, load_viewer
from app.auth.models import API_SCOPES
from app.kit.errors import NotFound
from app.kit.i18n import N_, _
from app.members.models import Member
from app.web import redirect, render

router = APIRouter(dependencies=[Depends(load_viewer)])

NAME_MAX_LENGTH = 100
SCOPE_DESCRIPTIONS = {
    "read": N_("Read: see your profile and the directory."),
    "write": N_("Write: read, and change what you may change."),
    "coordinate": N_("Coordinate: read, write, and act as a coordinator."),
}


def allowed_scopes(member: Member) -> list[str]:
    """The scopes ``member`` may give a token; coordinate only for coordinators."""
    return [scope for scope in API_SCOPES if scope != "coordinate" or member.is_coordinator]


def _context(
    session: DbSession,
    member: Member,
    *,
    errors: dict[str, str] | None = None,
    name: str = "",
    scope: str = "read",
    created: tuple[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "tokens": api_tokens.list_for(session, member.id),
        "scopes": [(code, _(SCOPE_DESCRIPTIONS[code])) for code in allowed_scopes(member)],
        "errors": errors or {},
        "name": name,
        "scope": scope,
        "created": created,
        "revoked": False,
    }


@router.get("/account/tokens", name="account_tokens")
def tokens_page(request: Request, session: DbSession, viewer: ActiveMember) -> Response:
    """The member's API tokens and the form to create one."""
    context = _context(session, viewer)
    context["revoked"] = request.query_params.get("revoked") == "1"
    return render(request, "account/tokens.html", context)


@router.post("/account/tokens")
def create_token(
    request: Request,
    session: DbSession,
    viewer: ActiveMember,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "read",
) -> Response:
    """Create a token and show its secret on this answer only: it is never stored or shown again.

    Unlike other forms this answers the POST with a page instead of a redirect, so the
    secret never has to be kept anywhere between two requests.
    """
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = _("Give the token a name, such as the program that will use it.")
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = _("The name can have at most %(count)s characters.", count=NAME_MAX_LENGTH)
    if scope not in allowed_scopes(viewer):
        errors["scope"] = _("Choose one of the scopes listed.")
    if errors:
        context = _context(session, viewer, errors=errors, name=name, scope=scope)
        return render(request, "account/tokens.html", context, status_code=422)
    token, secret = api_tokens.create(session, viewer, name=name, scope=scope)
    context = _context(session, viewer, created=(token.name, secret))
    response = render(request, "account/tokens.html", context, status_code=201)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/account/tokens/{token_id:int}/revoke", name="account_token_revoke")
def revoke_token(session: DbSession, viewer: ActiveMember, token_id: int) -> Response:
    """Revoke one of the member's tokens; it stops working at once."""
    if not api_tokens.revoke(session, viewer.id, token_id):
        raise NotFound()
    return redirect("/account/tokens?revoked=1")
