"""Helpers for the account tests: queued mail, links in it, one-time codes, the cookie session."""

from __future__ import annotations

import json
import re
from base64 import b64decode, b64encode
from datetime import timedelta
from typing import Any

import itsdangerous
import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import UserSession
from app.db import utcnow
from app.kit.csrf import SESSION_COOKIE
from app.outbox.models import OutboxMessage
from tests.conftest import TEST_SECRET_KEY, PortalClient
from tests.factories import TEST_TOTP_SECRET

LINK_PATTERN = re.compile(r"https?://\S+")


def mails_to(session: Session, address: str) -> list[OutboxMessage]:
    statement = (
        select(OutboxMessage).where(OutboxMessage.recipient == address).order_by(OutboxMessage.id)
    )
    return list(session.scalars(statement))


def link_in(message: OutboxMessage) -> str:
    """The path of the (first) link in a queued message."""
    match = LINK_PATTERN.search(message.body_text)
    assert match, message.body_text
    return "/" + match.group(0).split("/", 3)[3]


def code_at(offset_steps: int = 0, secret: str = TEST_TOTP_SECRET) -> str:
    """The one-time code of the current time step plus ``offset_steps``."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30 * offset_steps))


def live_sessions(session: Session, member_id: int) -> list[UserSession]:
    statement = select(UserSession).where(
        UserSession.member_id == member_id, UserSession.revoked_at.is_(None)
    )
    return list(session.scalars(statement))


def read_cookie_session(client: PortalClient) -> dict[str, Any]:
    signed = client.cookies.get(SESSION_COOKIE)
    assert signed, "no session cookie"
    payload = itsdangerous.TimestampSigner(TEST_SECRET_KEY).unsign(signed)
    data: dict[str, Any] = json.loads(b64decode(payload))
    return data


def write_cookie_session(client: PortalClient, data: dict[str, Any]) -> None:
    """Replace the browser's cookie session, signed as the app would."""
    payload = b64encode(json.dumps(data).encode())
    signed = itsdangerous.TimestampSigner(TEST_SECRET_KEY).sign(payload).decode()
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, signed, domain="testserver.local")
