"""Who is calling the API: a Bearer personal access token, or the browser's session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.requests import Request

from app.auth import api_tokens
from app.auth.deps import (
    DbSession,
    MembershipLapsed,
    SignInRequired,
    TwoFactorSetupRequired,
    load_viewer,
)
from app.kit.errors import PermissionDenied, PortalError
from app.kit.i18n import N_
from app.members import permissions
from app.members.models import Member


class InsufficientScope(PortalError):
    status_code = 403
    title = N_("This token's scope does not allow this request")


@dataclass(frozen=True)
class ApiCaller:
    member: Member | None
    # None for a browser session: the member's role alone decides.
    scopes: frozenset[str] | None

    def allows(self, scope: str) -> bool:
        return self.scopes is None or scope in self.scopes


async def load_api_caller(request: Request, session: DbSession) -> ApiCaller:
    """The caller: a Bearer token wins; otherwise the signed-in browser, or nobody.

    An anonymous caller is known without the database (no trip to the thread pool); a
    token or a browser session is looked up there.
    """
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return await run_in_threadpool(_token_caller, request, session, authorization[7:])
    return ApiCaller(member=await load_viewer(request, session), scopes=None)


def _token_caller(request: Request, session: Session, secret: str) -> ApiCaller:
    found = api_tokens.resolve(session, secret.strip())
    if found is None:
        raise SignInRequired(N_("The access token is not valid or has been revoked."))
    token, member = found
    request.state.viewer = member
    return ApiCaller(member=member, scopes=api_tokens.SCOPE_INCLUDES[token.scope])


Caller = Annotated[ApiCaller, Depends(load_api_caller)]


def api_member(scope: str = "read") -> Callable[..., Member]:
    """A dependency: an active member whose token (if any) has ``scope``."""

    def dependency(caller: Caller) -> Member:
        if caller.member is None:
            raise SignInRequired()
        if not caller.allows(scope):
            raise InsufficientScope()
        if caller.member.status == "lapsed":
            raise MembershipLapsed()
        if not permissions.is_member(caller.member):
            raise PermissionDenied()
        return caller.member

    return dependency


_coordinate_scope_member = api_member("coordinate")


def require_api_coordinator(
    member: Annotated[Member, Depends(_coordinate_scope_member)], session: DbSession
) -> Member:
    """A coordinator with two-factor authentication on whose token (if any) has the
    coordinate scope; countries loaded."""
    if member.is_coordinator and member.totp_enabled_at is None:
        raise TwoFactorSetupRequired()
    if not permissions.is_coordinator(member):
        raise PermissionDenied()
    session.refresh(member, ["coordinator_countries"])
    return member


ApiCoordinator = Annotated[Member, Depends(require_api_coordinator)]


def api_coordinator() -> Callable[..., Member]:
    """The coordinator dependency, for ``Depends(api_coordinator())``."""
    return require_api_coordinator
