"""Mail goes to a real SMTP server when one is configured, otherwise to .eml files."""

from __future__ import annotations

import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path

import pytest

from app import mail
from app.config import Settings
from tests.conftest import TEST_SECRET_KEY
from tests.smtp import Mailbox, running_mailbox


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Mailbox]]:
    with running_mailbox() as mailbox:
        yield mailbox.port, mailbox


def test_without_smtp_host_mail_is_written_as_eml(tmp_path: Path) -> None:
    settings = Settings(secret_key=TEST_SECRET_KEY, mail_dir=tmp_path / "mail", smtp_host="")
    message = mail.build_message(
        settings, to="ana@example.org", subject="Your application", body="Hello Ana"
    )

    path = mail.send(settings, message)

    assert path is not None
    assert path.parent == tmp_path / "mail"
    assert path.suffix == ".eml"
    parsed = message_from_bytes(path.read_bytes())
    assert parsed["To"] == "ana@example.org"
    assert parsed["Subject"] == "Your application"


def test_with_smtp_host_mail_reaches_the_server(
    smtp_server: tuple[int, Mailbox], tmp_path: Path
) -> None:
    port, handler = smtp_server
    settings = Settings(
        secret_key=TEST_SECRET_KEY,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_dir=tmp_path / "mail",
    )
    message = mail.build_message(
        settings, to="bram@example.org", subject="Welcome", body="Welcome to the network"
    )

    assert mail.send(settings, message) is None

    deadline = time.monotonic() + 5
    while not handler.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received["To"] == "bram@example.org"
    assert "Welcome to the network" in received.get_payload()
    assert not (tmp_path / "mail").exists()
