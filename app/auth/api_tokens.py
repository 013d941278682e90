"""Personal access tokens for the API: shown once, stored as a hash, sent as a Bearer token."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import API_SCOPES, ApiToken
from app.db import utcnow
from app.kit.errors import PortalError
from app.kit.i18n import _
from app.kit.tokens import hash_token, new_token
from app.members.models import Member

TOKEN_PREFIX = "pnp_"  # noqa: S105 - a public marker, not a secret
# A token's scope and the scopes it includes.
SCOPE_INCLUDES = {
    "read": frozenset({"read"}),
    "write": frozenset({"read", "write"}),
    "coordinate": frozenset({"read", "write", "coordinate"}),
}


class InvalidToken(PortalError):
    status_code = 422


def create(session: Session, member: Member, *, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``member``; the secret is returned once and never stored."""
    if scope not in API_SCOPES:
        raise InvalidToken(_("Choose a scope: read, write or coordinate."))
    if scope == "coordinate" and not member.is_coordinator:
        raise InvalidToken(_("Only coordinators can create tokens with the coordinate scope."))
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidToken(_("Give the token a name of at most 100 characters."))
    secret = TOKEN_PREFIX + new_token(30)
    token = ApiToken(
        member_id=member.id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        scope=scope,
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    return token, secret


def resolve(session: Session, secret: str) -> tuple[ApiToken, Member] | None:
    """The live token and its member (who may still sign in), or None."""
    statement = (
        select(ApiToken, Member)
        .join(Member, Member.id == ApiToken.member_id)
        .where(
            ApiToken.token_hash == hash_token(secret),
            ApiToken.revoked_at.is_(None),
            Member.status.in_(("active", "lapsed")),
        )
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    token, member = row[0], row[1]
    token.last_used_at = utcnow()
    return token, member


def list_for(session: Session, member_id: int) -> list[ApiToken]:
    statement = (
        select(ApiToken)
        .where(ApiToken.member_id == member_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc())
    )
    return list(session.scalars(statement))


def revoke(session: Session, member_id: int, token_id: int) -> bool:
    token = session.get(ApiToken, token_id)
    if token is None or token.member_id != member_id or token.revoked_at is not None:
        return False
    token.revoked_at = utcnow()
    return True
