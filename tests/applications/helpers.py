"""Helpers for the applications tests: valid input, submitting, reading the outbox."""

from __future__ import annotations

import json
from base64 import b64encode
from typing import Any

import itsdangerous
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.applications import service
from app.applications.models import Application
from app.kit.csrf import SESSION_COOKIE
from app.outbox.models import OutboxMessage
from tests.conftest import TEST_SECRET_KEY, PortalClient

VALID_FORM: dict[str, Any] = {
    "full_name": "Maria Example",
    "email": "maria@example.org",
    "country": "PT",
    "organisation_id": "",
    "organisation_name": "Example Helpline",
    "organisation_type": "ngo",
    "organisation_website": "https://helpline.example",
    "member_type": "practitioner",
    "expertise": ["helplines", "online_safety"],
    "languages": ["pt", "en"],
    "motivation": "I run a helpline and would like to share what we learn.",
    "privacy_consent": "yes",
}


def form_data(**overrides: Any) -> dict[str, Any]:
    """The application form, filled in correctly, with ``overrides``."""
    return {**VALID_FORM, **overrides}


def draft(**overrides: Any) -> service.ApplicationDraft:
    values: dict[str, Any] = {
        "full_name": "Maria Example",
        "email": "maria@example.org",
        "country": "PT",
        "organisation_name": "Example Helpline",
        "organisation_type": "ngo",
        "organisation_website": "https://helpline.example",
        "member_type": "practitioner",
        "expertise": ["helplines", "online_safety"],
        "languages": ["pt", "en"],
        "motivation": "I run a helpline and would like to share what we learn.",
        "privacy_consent": True,
    }
    values.update(overrides)
    return service.ApplicationDraft(**values)


def submit(
    session: Session,
    *,
    language: str = "en",
    sso: service.SsoIdentity | None = None,
    **overrides: Any,
) -> tuple[Application, str]:
    """A submitted application and the secret of the applicant's link."""
    return service.submit(session, draft(**overrides), language=language, sso=sso)


def outbox(session: Session, to: str | None = None) -> list[OutboxMessage]:
    """The queued messages (to one recipient), oldest first."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        statement = statement.where(OutboxMessage.recipient == to)
    return list(session.scalars(statement))


def set_session(client: PortalClient, values: dict[str, Any]) -> None:
    """Start the client's cookie session with ``values`` (as single sign-on would leave it)."""
    payload = b64encode(json.dumps(values).encode())
    signed = itsdangerous.TimestampSigner(TEST_SECRET_KEY).sign(payload).decode()
    client.cookies.set(SESSION_COOKIE, signed, domain="testserver.local")


def secret_from(body: str, prefix: str = "/applications/") -> str:
    """The secret of the applicant's link in an e-mail body."""
    start = body.index(prefix) + len(prefix)
    end = start
    while end < len(body) and not body[end].isspace():
        end += 1
    return body[start:end]
