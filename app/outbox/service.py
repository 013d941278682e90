"""Queue e-mail in the caller's transaction; a background worker delivers it.

A message is rendered when it is queued, in the recipient's language, from a template in
``templates/email/`` with the blocks ``subject`` and ``body`` (plain text). The HTML part is
derived from the plain text, so both always say the same.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import SUPPORTED_LANGUAGES, Settings
from app.db import utcnow
from app.kit import i18n
from app.mail import build_message, send
from app.outbox.models import OutboxMessage

logger = logging.getLogger("portal.outbox")

# Waits after the 1st, 2nd, ... failed attempt; after the last one the message is failed.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1


@contextmanager
def language(code: str | None) -> Iterator[str]:
    """Render in ``code`` (falling back to the default) and restore the request's language."""
    previous = i18n.get_locale()
    chosen = code if code in SUPPORTED_LANGUAGES else previous
    i18n.set_locale(chosen)
    try:
        yield chosen
    finally:
        i18n.set_locale(previous)


def render(template_name: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and plain-text body of ``templates/email/<template_name>.txt``."""
    from app.web import templates

    template = templates.env.get_template(f"email/{template_name}.txt")
    render_context = template.new_context(context)
    subject = "".join(template.blocks["subject"](render_context)).strip()
    body = "".join(template.blocks["body"](render_context)).strip() + "\n"
    return " ".join(subject.split()), body


def text_to_html(body: str) -> str:
    paragraphs = [part.strip() for part in body.split("\n\n") if part.strip()]
    rendered = "".join(
        "<p>" + html.escape(paragraph).replace("\n", "<br>\n") + "</p>\n"
        for paragraph in paragraphs
    )
    return (
        f'<!doctype html>\n<html><body style="font-family: sans-serif">\n{rendered}</body></html>\n'
    )


def enqueue(
    session: Session,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    language_code: str | None = None,
    headers: dict[str, str] | None = None,
) -> OutboxMessage:
    """Store a message for ``to``; it is sent only if the caller's transaction commits."""
    with language(language_code) as chosen:
        subject, body = render(template, context)
    message = OutboxMessage(
        recipient=to,
        subject=subject,
        body_text=body,
        body_html=text_to_html(body),
        language=chosen,
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        headers=headers or None,
    )
    session.add(message)
    session.flush()
    return message


def _due(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    statement = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several workers never send the same message twice.
        statement = statement.with_for_update(skip_locked=True)
    return list(session.scalars(statement))


def deliver_due(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    limit: int = 50,
) -> tuple[int, int]:
    """Send the messages that are due; returns (sent, failed attempts)."""
    sent = failed = 0
    with session_factory() as session, session.begin():
        moment = now or utcnow()
        for message in _due(session, moment, limit):
            email = build_message(
                settings, to=message.recipient, subject=message.subject, body=message.body_text
            )
            for name, value in (message.headers or {}).items():
                email[name] = value
            if message.body_html:
                email.add_alternative(message.body_html, subtype="html")
            message.attempts += 1
            try:
                send(settings, email)
            except Exception as error:
                failed += 1
                message.last_error = f"{type(error).__name__}: {error}"[:2000]
                if message.attempts >= MAX_ATTEMPTS:
                    message.status = "failed"
                    logger.error(
                        "Giving up on mail %s to %s: %s",
                        message.id,
                        message.recipient,
                        message.last_error,
                    )
                else:
                    message.next_attempt_at = moment + BACKOFF[message.attempts - 1]
                    logger.warning(
                        "Mail %s to %s failed (attempt %s), retrying at %s: %s",
                        message.id,
                        message.recipient,
                        message.attempts,
                        message.next_attempt_at,
                        message.last_error,
                    )
                continue
            message.status = "sent"
            message.sent_at = moment
            message.last_error = None
            sent += 1
    return sent, failed
