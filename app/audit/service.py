"""Recording what coordinators and admins do. Entries are only ever added."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.models import AuditEvent
from app.db import utcnow
from app.members.models import Member


def record(
    session: Session,
    *,
    actor: Member | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    subject_label: str | None = None,
    country: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEvent:
    """Add an entry in the caller's transaction: it exists exactly when the change does.

    ``action`` is a stable code such as ``application.approve`` or ``member.suspend``;
    ``before`` and ``after`` hold only the fields that changed, as JSON-ready values.
    """
    event = AuditEvent(
        occurred_at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor.full_name if actor else "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        subject_label=subject_label,
        country=country,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(event)
    session.flush()
    return event
