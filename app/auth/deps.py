"""Dependencies that tell who is asking."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.auth import sessions
from app.db import get_session
from app.kit.errors import PermissionDenied, PortalError
from app.kit.i18n import N_
from app.members import permissions
from app.members.models import Member

SESSION_TOKEN_KEY = "sid"  # noqa: S105 - the name of a session key, not a secret

DbSession = Annotated[Session, Depends(get_session, scope="function")]


def viewer_of(request: Request, session: Session) -> Member | None:
    """The signed-in member (or None), also kept on ``request.state`` for the layout."""
    token = request.session.get(SESSION_TOKEN_KEY)
    viewer = None
    if isinstance(token, str):
        found = sessions.resolve(session, token)
        if found is None:
            # Ended elsewhere (sign out everywhere, suspension, password reset) or expired.
            request.session.pop(SESSION_TOKEN_KEY, None)
        else:
            viewer = found[1]
    request.state.viewer = viewer
    return viewer


async def load_viewer(request: Request, session: DbSession) -> Member | None:
    """:func:`viewer_of` as a dependency. A visitor without a session token is nobody and
    is known without the database, so without a trip to the thread pool; a token is
    looked up there."""
    if not isinstance(request.session.get(SESSION_TOKEN_KEY), str):
        request.state.viewer = None
        return None
    return await run_in_threadpool(viewer_of, request, session)


Viewer = Annotated[Member | None, Depends(load_viewer)]


def start_browser_session(request: Request, session: Session, member: Member) -> None:
    """Sign ``member`` in on this browser: a fresh cookie session and a server-side record."""
    from app.kit.csrf import csrf_token

    request.session.clear()
    client = request.client
    request.session[SESSION_TOKEN_KEY] = sessions.start(
        session,
        member,
        ip_address=client.host if client else None,
        user_agent=request.headers.get("user-agent"),
    )
    csrf_token(request)


class SignInRequired(PortalError):
    status_code = 401
    title = N_("Please sign in")


class MembershipLapsed(PortalError):
    status_code = 403
    title = N_("Your membership has lapsed")


class TwoFactorSetupRequired(PortalError):
    status_code = 403
    title = N_("Two-factor authentication is required for your role")


def require_signed_in(viewer: Viewer) -> Member:
    """Any member who may sign in, lapsed members included (renewal, own data)."""
    if viewer is None:
        raise SignInRequired()
    return viewer


SignedIn = Annotated[Member, Depends(require_signed_in)]


def require_member(viewer: SignedIn) -> Member:
    """A member in good standing; lapsed members are sent to the renewal page."""
    if viewer.status == "lapsed":
        raise MembershipLapsed()
    if not permissions.is_member(viewer):
        raise PermissionDenied()
    return viewer


ActiveMember = Annotated[Member, Depends(require_member)]


def require_coordinator(viewer: ActiveMember, session: DbSession) -> Member:
    """A coordinator or admin with two-factor authentication on; their countries loaded."""
    if viewer.is_coordinator and viewer.totp_enabled_at is None:
        raise TwoFactorSetupRequired()
    if not permissions.is_coordinator(viewer):
        raise PermissionDenied()
    session.refresh(viewer, ["coordinator_countries"])
    return viewer


Coordinator = Annotated[Member, Depends(require_coordinator)]


def require_admin(viewer: Coordinator) -> Member:
    if not permissions.is_admin(viewer):
        raise PermissionDenied()
    return viewer


Admin = Annotated[Member, Depends(require_admin)]
