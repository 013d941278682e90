"""Membership periods: reminders 30 and 7 days before, lapsing, renewal in one click."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.cli import cli
from app.config import get_settings
from app.db import build_engine, make_session_factory
from app.members import lifecycle
from app.members import service as members_service
from app.members.models import Member
from app.outbox.models import OutboxMessage
from tests.conftest import PortalClient
from tests.factories import member

TODAY = date(2027, 3, 15)


def mails_to(session: Session, address: str) -> list[OutboxMessage]:
    statement = select(OutboxMessage).where(OutboxMessage.recipient == address)
    return list(session.scalars(statement.order_by(OutboxMessage.id)))


def expiring_in(days: int, **overrides: object) -> Member:
    return member(membership_expires_on=TODAY + timedelta(days=days), **overrides)


@pytest.fixture
def session_factory(connection: Connection, db_session: Session) -> sessionmaker[Session]:
    """Sessions on the test's connection, as ``run_sweep`` gets them from the app."""
    return sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.mark.parametrize(
    ("days_left", "reminder"),
    [(31, None), (30, 30), (8, 30), (7, 7), (0, 7)],
)
def test_reminders_are_due_30_and_7_days_before(
    db_session: Session, days_left: int, reminder: int | None
) -> None:
    target = expiring_in(days_left, email="due@example.org")

    report = lifecycle.sweep(db_session, TODAY)

    assert target.status == "active"
    assert target.last_reminder_days == reminder
    mails = mails_to(db_session, "due@example.org")
    assert report.lapsed == 0
    assert (report.reminded_30, report.reminded_7) == (
        (1, 0) if reminder == 30 else (0, 1) if reminder == 7 else (0, 0)
    )
    if reminder is None:
        assert mails == []
    else:
        (mail,) = mails
        assert f"{days_left} day" in mail.subject
        assert "/account/membership" in mail.body_text


def test_an_expiry_yesterday_lapses_the_membership(db_session: Session) -> None:
    target = expiring_in(-1, email="gone@example.org")
    suspended = expiring_in(-1, status="suspended")

    report = lifecycle.sweep(db_session, TODAY)

    assert report.lapsed == 1
    assert target.status == "lapsed"
    assert suspended.status == "suspended"
    (mail,) = mails_to(db_session, "gone@example.org")
    assert "lapsed" in mail.subject
    assert "/account/membership" in mail.body_text


def test_running_the_sweep_twice_sends_nothing_new(
    session_factory: sessionmaker[Session], db_session: Session
) -> None:
    for days in (-1, 30, 7):
        expiring_in(days)
    db_session.commit()

    first = lifecycle.run_sweep(session_factory, TODAY)
    queued = len(db_session.scalars(select(OutboxMessage)).all())
    second = lifecycle.run_sweep(session_factory, TODAY)

    assert first == lifecycle.SweepReport(lapsed=1, reminded_30=1, reminded_7=1)
    assert second == lifecycle.SweepReport(lapsed=0, reminded_30=0, reminded_7=0)
    assert len(db_session.scalars(select(OutboxMessage)).all()) == queued == 3


def test_each_reminder_is_sent_once_per_period(db_session: Session) -> None:
    target = expiring_in(30, email="once@example.org")

    lifecycle.sweep(db_session, TODAY)
    lifecycle.sweep(db_session, TODAY + timedelta(days=10))  # 20 days left: already reminded
    lifecycle.sweep(db_session, TODAY + timedelta(days=23))  # 7 days left
    lifecycle.sweep(db_session, TODAY + timedelta(days=29))  # 1 day left: already reminded

    subjects = [mail.subject for mail in mails_to(db_session, "once@example.org")]
    assert subjects == ["Your membership lapses in 30 days", "Your membership lapses in 7 days"]
    assert target.last_reminder_days == 7


def test_new_members_get_the_configured_period(db_session: Session) -> None:
    created = members_service.create_member(
        db_session, email="period@example.org", full_name="P", password=None
    )

    expected = date.today() + timedelta(days=get_settings().membership_period_days)
    assert created.membership_expires_on == expected


# The membership page and renewal ---------------------------------------------------------


def test_a_lapsed_member_sees_the_membership_page_and_nothing_members_only(
    client: PortalClient, db_session: Session
) -> None:
    lapsed = member(status="lapsed", membership_expires_on=date.today() - timedelta(days=5))
    client.sign_in_as(db_session, lapsed)
    db_session.commit()

    page = client.get("/account/membership")
    members_only = client.get("/coordinate/members", follow_redirects=False)

    assert page.status_code == 200
    assert "Your membership has lapsed" in page.text
    assert 'action="/account/membership/renew"' in page.text
    assert 'href="/account/membership" aria-current="page"' in page.text
    assert members_only.status_code == 303
    assert members_only.headers["location"] == "/account/membership"


def test_the_membership_page_needs_a_signed_in_member(client: PortalClient) -> None:
    response = client.get("/account/membership", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_renewal_from_lapsed_restores_the_membership(
    client: PortalClient, db_session: Session
) -> None:
    lapsed = member(
        status="lapsed",
        email="renew@example.org",
        membership_expires_on=date.today() - timedelta(days=5),
        last_reminder_days=7,
    )
    client.sign_in_as(db_session, lapsed)

    response = client.post_form("/account/membership/renew", {}, follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/account/membership"
    db_session.refresh(lapsed)
    period = timedelta(days=get_settings().membership_period_days)
    assert lapsed.status == "active"
    assert lapsed.membership_expires_on == date.today() + period
    assert lapsed.last_reminder_days is None
    assert "your membership is renewed until" in client.get("/account/membership").text
    (mail,) = mails_to(db_session, "renew@example.org")
    assert "renewed" in mail.subject
    event = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "member.renew")).one()
    assert event.actor_id == lapsed.id
    assert event.before is not None
    assert event.before["status"] == "lapsed"
    assert event.after is not None
    assert event.after["status"] == "active"


def test_renewing_early_adds_the_period_to_the_current_expiry(
    client: PortalClient, db_session: Session
) -> None:
    expiry = date.today() + timedelta(days=20)
    active = member(membership_expires_on=expiry, last_reminder_days=30)
    client.sign_in_as(db_session, active)

    client.post_form("/account/membership/renew", {}, follow_redirects=False)

    db_session.refresh(active)
    period = timedelta(days=get_settings().membership_period_days)
    assert active.membership_expires_on == expiry + period
    assert active.last_reminder_days is None


# The command --------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_database(fresh_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PORTAL_DATABASE_URL", fresh_database_url)
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade", "--revision", "heads"])
    assert result.exit_code == 0, result.output
    yield fresh_database_url
    get_settings.cache_clear()


def test_portal_memberships_sweep_prints_the_report(cli_database: str) -> None:
    engine = build_engine(cli_database)
    with make_session_factory(engine)() as session, session.begin():
        for email, days in (("a@example.org", -1), ("b@example.org", 25), ("c@example.org", 3)):
            created = members_service.create_member(
                session, email=email, full_name=email, password=None
            )
            created.membership_expires_on = TODAY + timedelta(days=days)

    first = runner.invoke(cli, ["memberships", "sweep", "--today", TODAY.isoformat()])
    second = runner.invoke(cli, ["memberships", "sweep", "--today", TODAY.isoformat()])
    wrong = runner.invoke(cli, ["memberships", "sweep", "--today", "15.03.2027"])

    with engine.connect() as connection:
        statuses = dict(connection.execute(select(Member.email, Member.status)).all())
    engine.dispose()
    assert first.exit_code == 0, first.output
    assert "1 lapsed, 1 reminded 30 days before, 1 reminded 7 days before" in first.output
    assert "0 lapsed, 0 reminded 30 days before, 0 reminded 7 days before" in second.output
    assert wrong.exit_code != 0
    assert statuses["a@example.org"] == "lapsed"
