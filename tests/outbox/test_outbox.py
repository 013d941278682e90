"""The outbox: mail is stored with the change that caused it and delivered with retries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import utcnow
from app.outbox import service
from app.outbox.models import OutboxMessage
from tests.conftest import TEST_SECRET_KEY
from tests.ports import free_port
from tests.smtp import Mailbox, running_mailbox


@pytest.fixture
def inbox() -> Iterator[tuple[Mailbox, int]]:
    with running_mailbox() as mailbox:
        yield mailbox, mailbox.port


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions of the worker, inside the test's transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint")


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        secret_key=TEST_SECRET_KEY,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_dir=tmp_path / "mail",
    )


def _wait(inbox: Mailbox, count: int) -> None:
    deadline = time.monotonic() + 5
    while len(inbox.messages) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def test_enqueue_renders_in_the_recipients_language(db_session: Session) -> None:
    message = service.enqueue(
        db_session,
        to="ana@example.org",
        template="test_message",
        context={"name": "Ana"},
        language_code="de",
    )

    assert message.status == "pending"
    assert message.language == "de"
    assert message.subject == "Eine Testnachricht des Portals des Präventionsnetzwerks"
    assert message.body_text.startswith("Hallo Ana,")
    assert message.body_html is not None
    assert "<p>Hallo Ana,</p>" in message.body_html


def test_html_part_escapes_what_the_text_contains() -> None:
    html = service.text_to_html("Hello <b>Ana</b> & co\nsecond line\n\nNext paragraph")

    assert "&lt;b&gt;Ana&lt;/b&gt; &amp; co<br>" in html
    assert html.count("<p>") == 2


def test_a_message_rolled_back_with_its_change_is_never_sent(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path, inbox: tuple[Mailbox, int]
) -> None:
    handler, port = inbox
    savepoint = db_session.begin_nested()
    service.enqueue(db_session, to="x@example.org", template="test_message", context={"name": "X"})
    savepoint.rollback()

    sent, failed = service.deliver_due(factory, _settings(tmp_path, port))

    assert (sent, failed) == (0, 0)
    assert handler.messages == []


def test_due_messages_are_delivered_once_with_text_and_html(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path, inbox: tuple[Mailbox, int]
) -> None:
    handler, port = inbox
    service.enqueue(
        db_session, to="bram@example.org", template="test_message", context={"name": "Bram"}
    )
    db_session.commit()

    first = service.deliver_due(factory, _settings(tmp_path, port))
    second = service.deliver_due(factory, _settings(tmp_path, port))
    _wait(handler, 1)

    assert first == (1, 0)
    assert second == (0, 0)
    assert len(handler.messages) == 1
    received = handler.messages[0]
    assert received["To"] == "bram@example.org"
    kinds = [part.get_content_type() for part in received.walk()]
    assert "text/plain" in kinds
    assert "text/html" in kinds
    stored = db_session.scalars(select(OutboxMessage)).one()
    db_session.refresh(stored)
    assert stored.status == "sent"
    assert stored.attempts == 1


def test_an_unreachable_server_means_retry_with_back_off_then_delivery(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path, inbox: tuple[Mailbox, int]
) -> None:
    handler, port = inbox
    service.enqueue(
        db_session, to="carla@example.org", template="test_message", context={"name": "Carla"}
    )
    db_session.commit()
    now = utcnow()

    # Nothing listens on this port: the SMTP server is "down".
    down = _settings(tmp_path, free_port())
    assert service.deliver_due(factory, down, now=now) == (0, 1)
    stored = db_session.scalars(select(OutboxMessage)).one()
    db_session.refresh(stored)
    assert stored.status == "pending"
    assert stored.attempts == 1
    assert stored.last_error
    # Not due again before the back-off has passed.
    assert service.deliver_due(factory, down, now=now + timedelta(seconds=30)) == (0, 0)

    up = _settings(tmp_path, port)
    assert service.deliver_due(factory, up, now=now + timedelta(minutes=2)) == (1, 0)
    _wait(handler, 1)
    assert [m["To"] for m in handler.messages] == ["carla@example.org"]


def test_a_message_is_marked_failed_after_the_last_attempt(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    service.enqueue(
        db_session, to="dora@example.org", template="test_message", context={"name": "Dora"}
    )
    db_session.commit()
    down = _settings(tmp_path, free_port())
    moment = utcnow()

    for _ in range(service.MAX_ATTEMPTS):
        moment += timedelta(days=2)
        service.deliver_due(factory, down, now=moment)

    stored = db_session.scalars(select(OutboxMessage)).one()
    db_session.refresh(stored)
    assert stored.status == "failed"
    assert stored.attempts == service.MAX_ATTEMPTS
    assert service.deliver_due(factory, down, now=moment + timedelta(days=9)) == (0, 0)


def test_without_smtp_host_the_worker_writes_eml_files(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    service.enqueue(
        db_session, to="eve@example.org", template="test_message", context={"name": "Eve"}
    )
    db_session.commit()
    settings = Settings(secret_key=TEST_SECRET_KEY, smtp_host="", mail_dir=tmp_path / "mail")

    assert service.deliver_due(factory, settings) == (1, 0)
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 1


def test_extra_headers_reach_the_smtp_server(
    db_session: Session, factory: sessionmaker[Session], tmp_path: Path, inbox: tuple[Mailbox, int]
) -> None:
    handler, port = inbox
    headers = {
        "List-Unsubscribe": "<https://portal.example.org/search/alerts/unsubscribe/x>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    service.enqueue(
        db_session,
        to="ines@example.org",
        template="test_message",
        context={"name": "Inês"},
        headers=headers,
    )
    db_session.commit()

    assert service.deliver_due(factory, _settings(tmp_path, port)) == (1, 0)
    _wait(handler, 1)

    received = handler.messages[0]
    for name, value in headers.items():
        assert received[name] == value
