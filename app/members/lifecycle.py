"""Membership periods: lapsing, reminders before they lapse (being built)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker


def run_sweep(session_factory: sessionmaker[Session]) -> object:
    """Update membership statuses and queue reminders, in one transaction."""
    return None
