"""Single-use links sent by e-mail: verify an address, reset or set a password."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import AccountToken
from app.db import utcnow
from app.kit.errors import PortalError
from app.kit.i18n import N_
from app.kit.tokens import hash_token, new_token
from app.members.models import Member


class InvalidLink(PortalError):
    status_code = 400
    title = N_("This link is not valid")


class ExpiredLink(InvalidLink):
    title = N_("This link has expired")


class UsedLink(InvalidLink):
    title = N_("This link has already been used")


def issue(session: Session, member: Member, purpose: str, lifetime: timedelta) -> str:
    """A new link secret; earlier unused links of the same purpose stop working."""
    now = utcnow()
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.member_id == member.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    secret = new_token()
    session.add(
        AccountToken(
            token_hash=hash_token(secret),
            purpose=purpose,
            member_id=member.id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return secret


def check(session: Session, secret: str, purpose: str) -> tuple[AccountToken, Member]:
    """The link's token and member, or InvalidLink / ExpiredLink / UsedLink."""
    statement = (
        select(AccountToken, Member)
        .join(Member, Member.id == AccountToken.member_id)
        .where(AccountToken.token_hash == hash_token(secret), AccountToken.purpose == purpose)
    )
    row = session.execute(statement).first()
    if row is None:
        raise InvalidLink()
    token, member = row[0], row[1]
    if token.used_at is not None:
        raise UsedLink()
    expires_at = token.expires_at
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    if expires_at <= utcnow():
        raise ExpiredLink()
    return token, member


def consume(session: Session, secret: str, purpose: str) -> Member:
    """Use the link once. Concurrent uses: only the first one wins."""
    token, member = check(session, secret, purpose)
    result = session.execute(
        update(AccountToken)
        .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if not getattr(result, "rowcount", 0):
        raise UsedLink()
    return member


def expires_in(token: AccountToken, now: datetime | None = None) -> timedelta:
    expires_at = token.expires_at
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    return expires_at - (now or utcnow())
