"""Mail from the live portal reaches a real SMTP server through the outbox."""

from __future__ import annotations

import pytest

from tests.browser.conftest import live_env_python, mail_text
from tests.smtp import Mailbox

pytestmark = pytest.mark.browser


def test_a_queued_message_arrives_at_the_smtp_server(
    live_server: str, live_env: dict[str, str], mailbox: Mailbox
) -> None:
    live_env_python(
        live_env,
        "from app.outbox import service\n"
        "from app.db import build_engine, make_session_factory\n"
        "from app.config import get_settings\n"
        "engine = build_engine(get_settings().database_url)\n"
        "with make_session_factory(engine)() as s, s.begin():\n"
        "    service.enqueue(s, to='outbox.check@example.org', template='test_message',\n"
        "                    context={'name': 'Outbox'}, language_code='de')\n",
    )

    message = mailbox.wait_for("outbox.check@example.org", "Testnachricht")

    assert "Hallo Outbox" in mail_text(message)
    assert message.is_multipart()
