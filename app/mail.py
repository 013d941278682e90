"""Sending e-mail: through SMTP when a host is configured, otherwise into ``.eml`` files.

Without an SMTP host (a developer's machine) every message is written to ``PORTAL_MAIL_DIR``
and logged, so nothing is sent by accident and everything can be read.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from app.config import Settings

logger = logging.getLogger("portal.mail")


def build_message(settings: Settings, *, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = datetime.now(UTC)
    message["Message-ID"] = make_msgid(domain="portal.invalid")
    message.set_content(body)
    return message


def send(settings: Settings, message: EmailMessage) -> Path | None:
    """Deliver ``message``; returns the file written when no SMTP host is set."""
    if not settings.smtp_host:
        return _write_to_directory(settings.mail_dir, message)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
        smtp.send_message(message)
    logger.info("Mail sent to %s: %s", message["To"], message["Subject"])
    return None


def _write_to_directory(directory: Path, message: EmailMessage) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    identifier = str(message["Message-ID"]).strip("<>").split("@")[0]
    path = directory / f"{stamp}-{identifier}.eml"
    path.write_bytes(bytes(message))
    logger.info("Mail to %s written to %s: %s", message["To"], path, message["Subject"])
    return path
