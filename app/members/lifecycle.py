"""Membership periods: lapsing, and reminders 30 and 7 days before a membership lapses.

The sweep runs daily inside every web process and as ``portal memberships sweep``. It is
idempotent: a member is lapsed once, and each reminder is sent once per period (renewal
resets ``last_reminder_days``), so running it twice, or in two processes, sends nothing new.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session, sessionmaker

from app.config import get_settings
from app.members import repository
from app.members.models import Member
from app.outbox import service as outbox

logger = logging.getLogger("portal.memberships")

REMINDER_DAYS = (30, 7)


@dataclass(frozen=True)
class SweepReport:
    lapsed: int
    reminded_30: int
    reminded_7: int


def _renewal_link() -> str:
    return get_settings().base_url.rstrip("/") + "/account/membership"


def _remind(session: Session, member: Member, days: int, today: date) -> None:
    # The query selects members with an expiry date only.
    expires_on = member.membership_expires_on or today
    member.last_reminder_days = days
    outbox.enqueue(
        session,
        to=member.email,
        template="membership_reminder",
        context={
            "name": member.full_name,
            "expires_on": expires_on,
            "days_left": (expires_on - today).days,
            "link": _renewal_link(),
        },
    )


def sweep(session: Session, today: date | None = None) -> SweepReport:
    """Lapse expired memberships and queue the reminders that are due, in ``session``."""
    today = today or date.today()
    lapsed = repository.due_for_lapse(session, today)
    for member in lapsed:
        member.status = "lapsed"
        outbox.enqueue(
            session,
            to=member.email,
            template="membership_lapsed",
            context={
                "name": member.full_name,
                "expires_on": member.membership_expires_on,
                "link": _renewal_link(),
            },
        )
    # The 7-day reminder first: a member who is already that close gets only that one.
    within_7 = repository.due_for_reminder(session, today, days=7, after_days=-1)
    for member in within_7:
        _remind(session, member, 7, today)
    within_30 = repository.due_for_reminder(session, today, days=30, after_days=7)
    for member in within_30:
        _remind(session, member, 30, today)
    session.flush()
    return SweepReport(lapsed=len(lapsed), reminded_30=len(within_30), reminded_7=len(within_7))


def run_sweep(session_factory: sessionmaker[Session], today: date | None = None) -> SweepReport:
    """Update membership statuses and queue reminders, in one transaction."""
    with session_factory() as session, session.begin():
        report = sweep(session, today)
    if report.lapsed or report.reminded_30 or report.reminded_7:
        logger.info(
            "Membership sweep: %s lapsed, %s reminded at 30 days, %s at 7 days",
            report.lapsed,
            report.reminded_30,
            report.reminded_7,
        )
    return report
