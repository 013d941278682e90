"""A real SMTP server on loopback that keeps what it receives."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from tests.ports import free_port


class Mailbox(MessageHandler):
    """What a real SMTP server on loopback received from the portal."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []
        self.port = 0

    def handle_message(self, message: Message) -> None:
        self.messages.append(message)

    def wait_for(self, to: str, subject_contains: str, timeout: float = 15) -> Message:
        """The newest message to ``to`` whose subject contains the text, waiting for it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in reversed(self.messages):
                if message["To"] == to and subject_contains in str(message["Subject"]):
                    return message
            time.sleep(0.1)
        subjects = [(m["To"], m["Subject"]) for m in self.messages]
        raise AssertionError(f"no mail to {to} about {subject_contains!r}; got {subjects}")


@contextmanager
def running_mailbox() -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port (``mailbox.port``) while the block runs."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    mailbox.port = controller.port
    try:
        yield mailbox
    finally:
        controller.stop()
