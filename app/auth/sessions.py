"""Server-side sessions: the cookie holds a random token, the database its hash.

Because every request looks the session up, suspending a member, resetting a password or
"sign out everywhere" ends their sessions at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.auth.models import UserSession
from app.db import utcnow
from app.kit.tokens import hash_token, new_token
from app.members.models import Member

SESSION_LIFETIME = timedelta(days=14)
# last_seen_at is refreshed at most this often, so most requests write nothing.
TOUCH_INTERVAL = timedelta(minutes=5)


def start(
    session: Session, member: Member, *, ip_address: str | None, user_agent: str | None
) -> str:
    """Open a session for ``member``; returns the token to put in the cookie."""
    token = new_token()
    now = utcnow()
    session.add(
        UserSession(
            token_hash=hash_token(token),
            member_id=member.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + SESSION_LIFETIME,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300] or None,
        )
    )
    member.last_sign_in_at = now
    session.flush()
    return token


def resolve(session: Session, token: str) -> tuple[UserSession, Member] | None:
    """The live session of this token and its member (who may still sign in), in one query."""
    now = utcnow()
    statement = (
        select(UserSession, Member)
        .join(Member, Member.id == UserSession.member_id)
        .where(
            UserSession.token_hash == hash_token(token),
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > now,
            Member.status.in_(("active", "lapsed")),
        )
    )
    row = session.execute(statement).first()
    if row is None:
        return None
    user_session, member = row[0], row[1]
    if _aware(user_session.last_seen_at) < now - TOUCH_INTERVAL:
        user_session.last_seen_at = now
    return user_session, member


def end(session: Session, token: str) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_hash == hash_token(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def end_all(session: Session, member_id: int, *, except_token: str | None = None) -> int:
    """End every session of a member (optionally keeping the current one); returns how many."""
    statement = (
        update(UserSession)
        .where(UserSession.member_id == member_id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if except_token is not None:
        statement = statement.where(UserSession.token_hash != hash_token(except_token))
    result = session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


def list_active(session: Session, member_id: int) -> list[UserSession]:
    statement = (
        select(UserSession)
        .where(
            UserSession.member_id == member_id,
            UserSession.revoked_at.is_(None),
            UserSession.expires_at > utcnow(),
        )
        .order_by(UserSession.last_seen_at.desc())
    )
    return list(session.scalars(statement))


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; they are stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
