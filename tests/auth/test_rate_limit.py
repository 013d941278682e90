"""Sign-in rate limiting per account and per client address, counted in SignInAttempt."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.auth import rate_limit
from app.auth.models import SignInAttempt
from app.config import get_settings
from app.db import utcnow


def _attempts(
    session: Session,
    count: int,
    *,
    email: str | None = "ana@example.org",
    ip_address: str | None = "192.0.2.1",
    minutes_ago: float = 1,
    succeeded: bool = False,
) -> None:
    moment = utcnow() - timedelta(minutes=minutes_ago)
    session.add_all(
        SignInAttempt(email=email, ip_address=ip_address, succeeded=succeeded, attempted_at=moment)
        for _ in range(count)
    )
    session.flush()


def test_the_limit_per_account_allows_that_many_failures_then_refuses(
    db_session: Session,
) -> None:
    limit = get_settings().sign_in_attempts_per_account
    _attempts(db_session, limit - 1)
    assert (
        rate_limit.blocked(db_session, email="ana@example.org", ip_address="198.51.100.7") is None
    )

    _attempts(db_session, 1)
    paused = rate_limit.blocked(db_session, email=" ANA@example.org", ip_address="198.51.100.7")

    assert paused is not None
    # The oldest failure leaves the 15-minute window 14 minutes from now.
    assert paused.message() == (
        "Too many unsuccessful attempts to sign in. For your security, signing in is paused: "
        "please try again in 14 minutes."
    )


def test_the_limit_per_address_counts_every_e_mail(db_session: Session) -> None:
    limit = get_settings().sign_in_attempts_per_address
    for number in range(limit - 1):
        _attempts(db_session, 1, email=f"guess{number}@example.org")
    assert rate_limit.blocked(db_session, email="new@example.org", ip_address="192.0.2.1") is None

    _attempts(db_session, 1, email="one.more@example.org")

    assert rate_limit.blocked(db_session, email="new@example.org", ip_address="192.0.2.1")
    assert rate_limit.blocked(db_session, email="new@example.org", ip_address="192.0.2.2") is None


def test_failures_older_than_the_window_no_longer_count(db_session: Session) -> None:
    window = get_settings().sign_in_window_minutes
    _attempts(db_session, 10, minutes_ago=window + 1)

    assert rate_limit.blocked(db_session, email="ana@example.org", ip_address="192.0.2.1") is None


def test_a_success_clears_the_count_of_the_account_but_not_of_the_address(
    db_session: Session,
) -> None:
    settings = get_settings()
    _attempts(db_session, settings.sign_in_attempts_per_account, minutes_ago=3)
    _attempts(db_session, 1, minutes_ago=2, succeeded=True)

    assert rate_limit.blocked(db_session, email="ana@example.org", ip_address=None) is None

    _attempts(
        db_session, settings.sign_in_attempts_per_address, email="x@example.org", minutes_ago=3
    )
    _attempts(db_session, 1, email="x@example.org", minutes_ago=2, succeeded=True)
    assert rate_limit.blocked(db_session, email=None, ip_address="192.0.2.1") is not None


def test_the_pause_ends_when_enough_failures_have_left_the_window(db_session: Session) -> None:
    settings = get_settings()
    window = timedelta(minutes=settings.sign_in_window_minutes)
    _attempts(db_session, 1, minutes_ago=10)
    _attempts(db_session, settings.sign_in_attempts_per_account, minutes_ago=5)

    paused = rate_limit.blocked(db_session, email="ana@example.org", ip_address=None)

    assert paused is not None
    # Two failures must expire: the one of 10 minutes ago and the first of 5 minutes ago.
    expected = utcnow() - timedelta(minutes=5) + window
    assert abs((paused.until - expected).total_seconds()) < 5


def test_attempts_are_recorded_with_the_e_mail_normalised(db_session: Session) -> None:
    rate_limit.record(
        db_session, email=" Ana@Example.org ", ip_address="192.0.2.9", succeeded=False
    )

    attempt = db_session.query(SignInAttempt).one()
    assert attempt.email == "ana@example.org"
    assert attempt.ip_address == "192.0.2.9"
    assert attempt.succeeded is False


def test_pruning_forgets_only_attempts_that_no_longer_count(db_session: Session) -> None:
    _attempts(db_session, 3, minutes_ago=2 * 24 * 60)
    _attempts(db_session, 2, minutes_ago=5)

    assert rate_limit.prune(db_session) == 3
    assert db_session.query(SignInAttempt).count() == 2
