"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and can be told
to refuse the next messages with given replies (a 451 "try later", a 550)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.services import free_port


@dataclass
class Received:
    """One message the server accepted."""

    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def body(self) -> str:
        return self.message.get_content()


@dataclass
class Inbox:
    """What the server received, and the replies it gives the next messages."""

    received: list[Received] = field(default_factory=list)
    # Replies for the next messages' DATA, in order (e.g. "451 4.3.0 Try again later");
    # when empty, every message is accepted.
    refusals: list[str] = field(default_factory=list)
    # Replies for the next messages' RCPT TO (e.g. "550 5.1.1 No such user").
    recipient_refusals: list[str] = field(default_factory=list)
    # Seconds to hold each message before answering (to make sends overlap).
    delay_s: float = 0.0
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.05)
        raise AssertionError(f"{count} email(s) expected, {len(self.received)} received")


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.inbox.lock:
            if self.inbox.recipient_refusals:
                return self.inbox.recipient_refusals.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.inbox.delay_s:
            time.sleep(self.inbox.delay_s)  # blocks this server's loop: one at a time
        with self.inbox.lock:
            self.inbox.attempts += 1
            if self.inbox.refusals:
                return self.inbox.refusals.pop(0)
            message = message_from_bytes(envelope.original_content, policy=policy.default)
            self.inbox.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted"


@contextmanager
def smtp_server(*, utf8: bool = True) -> Iterator[tuple[int, Inbox]]:
    """An SMTP server on 127.0.0.1 (a free port) for as long as the block runs; `utf8`:
    whether it takes non-ASCII addresses (SMTPUTF8)."""
    inbox = Inbox()
    controller = Controller(
        _Handler(inbox), hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=utf8
    )
    controller.start()
    try:
        yield controller.port, inbox
    finally:
        controller.stop()
