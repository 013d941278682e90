"""Sign-in rate limiting per account and per client address, counted in SignInAttempt.

Within the window (settings.sign_in_window_minutes) at most
settings.sign_in_attempts_per_account failures count for one e-mail address, known or not,
and settings.sign_in_attempts_per_address for one client address; the attempt after that is
refused without checking the password. A success for an e-mail address clears its count
(the password was known, so those failures were the member's own typing); the count of an
address is never cleared, or one known account would open the door to guessing others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from app.auth.models import SignInAttempt
from app.config import get_settings
from app.db import utcnow
from app.kit.i18n import ngettext


@dataclass(frozen=True)
class Blocked:
    """Signing in is paused until ``until``."""

    until: datetime

    def seconds_left(self, now: datetime | None = None) -> int:
        return max(1, math.ceil((self.until - (now or utcnow())).total_seconds()))

    def message(self, now: datetime | None = None) -> str:
        minutes = max(1, math.ceil(self.seconds_left(now) / 60))
        return ngettext(
            "Too many unsuccessful attempts to sign in. For your security, signing in is "
            "paused: please try again in %(num)s minute.",
            "Too many unsuccessful attempts to sign in. For your security, signing in is "
            "paused: please try again in %(num)s minutes.",
            minutes,
        )


def normalise_email(email: str) -> str:
    return email.strip().lower()[:320]


def record(session: Session, *, email: str | None, ip_address: str | None, succeeded: bool) -> None:
    """Remember one attempt (successful or not) for the counts above."""
    session.add(
        SignInAttempt(
            email=normalise_email(email) if email else None,
            ip_address=(ip_address or "")[:45] or None,
            succeeded=succeeded,
            attempted_at=utcnow(),
        )
    )
    session.flush()


def prune(session: Session, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Forget attempts that no longer count (for a periodic job); returns how many."""
    cutoff = utcnow() - max(older_than, timedelta(minutes=get_settings().sign_in_window_minutes))
    result = session.execute(delete(SignInAttempt).where(SignInAttempt.attempted_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def blocked(
    session: Session, *, email: str | None, ip_address: str | None, now: datetime | None = None
) -> Blocked | None:
    """Whether the next attempt for this e-mail or from this address must be refused."""
    settings = get_settings()
    now = now or utcnow()
    window = timedelta(minutes=settings.sign_in_window_minutes)
    since = now - window
    untils: list[datetime] = []
    if email:
        normalised = normalise_email(email)
        last_success = session.scalar(
            select(func.max(SignInAttempt.attempted_at)).where(
                SignInAttempt.email == normalised,
                SignInAttempt.succeeded.is_(True),
                SignInAttempt.attempted_at > since,
            )
        )
        account_since = max(since, _aware(last_success)) if last_success else since
        failures = _failure_times(session, SignInAttempt.email == normalised, account_since, now)
        until = _until(failures, settings.sign_in_attempts_per_account, window)
        if until is not None:
            untils.append(until)
    if ip_address:
        failures = _failure_times(session, SignInAttempt.ip_address == ip_address, since, now)
        until = _until(failures, settings.sign_in_attempts_per_address, window)
        if until is not None:
            untils.append(until)
    return Blocked(until=max(untils)) if untils else None


def _failure_times(
    session: Session, condition: ColumnElement[bool], since: datetime, now: datetime
) -> list[datetime]:
    statement = (
        select(SignInAttempt.attempted_at)
        .where(
            condition,
            SignInAttempt.succeeded.is_(False),
            SignInAttempt.attempted_at > since,
            SignInAttempt.attempted_at <= now,
        )
        .order_by(SignInAttempt.attempted_at)
    )
    return [_aware(moment) for moment in session.scalars(statement)]


def _until(failures: list[datetime], limit: int, window: timedelta) -> datetime | None:
    """When enough of these failures have left the window for one more attempt."""
    if len(failures) < limit:
        return None
    # With n >= limit failures, one more attempt is allowed once n - limit + 1 have expired.
    return failures[len(failures) - limit] + window


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes; they are stored in UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)
