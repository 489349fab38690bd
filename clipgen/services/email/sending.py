"""Sending queued emails: the worker's side of the outbox.

Never twice:
- A worker takes an email with one conditional UPDATE (queued and due -> sending), so of
  two messages for one email (a duplicate, a re-send by the sweep) only one sends; a
  sent or failed email is never taken again.
- The outcome is recorded only by the worker holding the attempt it took (the row's
  `attempts` when taken), so a late worker cannot overwrite a newer attempt.
- An email stays 'sending' only while its worker lives: the send is bounded (an SMTP
  timeout per step, the actor's time limit), and the sweep takes a 'sending' email back
  only after `STALE_SENDING`, well past both. The one case that can send twice is a
  worker that died after the SMTP server accepted the email and before it was recorded;
  its second copy carries the same Message-ID (made from the idempotency key), which
  mail systems use to show one.

A refusal the server says is temporary (a 4xx reply, a dropped connection, a timeout,
a failed sign-in) is tried again later, `RETRY_DELAYS` apart, at most `MAX_ATTEMPTS`
times; a permanent one (a 5xx reply about the sender, the recipient or the message)
ends it at once. Either way the last error is kept on the row.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, col, select

from clipgen.config import SmtpServer, get_settings
from clipgen.db import session_scope
from clipgen.models import DeliveryStatus, EmailDelivery, utcnow
from clipgen.services.access import as_id

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# The wait after the 1st, 2nd, 3rd and 4th refused attempt.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
SMTP_TIMEOUT_S = 30
# Longer than any send can take (`workers.email` stops a send after 5 minutes).
STALE_SENDING = timedelta(minutes=15)
# A queued email due this long ago whose message never came is sent again.
LOST_AFTER = timedelta(minutes=5)
_MAX_ERROR = 500


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to: "sent", "retry" (at `retry_at`), "failed", or
    "skipped" (not ours to send: taken by another worker, already sent, not due, gone)."""

    status: str
    retry_at: datetime | None = None
    error: str = ""


SKIPPED = Outcome("skipped")


def _app_host() -> str:
    return urlsplit(get_settings().app_url).hostname or "localhost"


def message_id(idempotency_key: str) -> str:
    """The Message-ID of an email: the same for every copy of one event."""
    local = re.sub(r"[^A-Za-z0-9.-]", ".", idempotency_key)
    return f"<clipgen.{local}@{_app_host()}>"


def build_message(delivery: EmailDelivery) -> EmailMessage:
    message = EmailMessage()
    message["From"] = get_settings().effective_email_from
    message["To"] = delivery.to_address
    message["Subject"] = delivery.subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = message_id(delivery.idempotency_key)
    message["Auto-Submitted"] = "auto-generated"  # no out-of-office replies, please
    message.set_content(delivery.body)
    return message


def send_with_smtp(server: SmtpServer, message: EmailMessage) -> None:
    """Hand one message to the SMTP server (raises smtplib's errors or OSError)."""
    context = ssl.create_default_context()
    host = _app_host()  # our EHLO name (the default asks DNS for this machine's name)
    if server.use_ssl:
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            server.host, server.port, local_hostname=host, timeout=SMTP_TIMEOUT_S, context=context
        )
    else:
        client = smtplib.SMTP(server.host, server.port, local_hostname=host, timeout=SMTP_TIMEOUT_S)
    with client:
        if server.starttls:
            client.starttls(context=context)
        if server.username:
            client.login(server.username, server.password)
        client.send_message(message)


def is_permanent(error: Exception) -> bool:
    """Whether the server refused this email for good (a 5xx reply about the sender, the
    recipient or the message, or an address it cannot take); anything else may work later."""
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return True  # e.g. a non-ASCII address and a server without SMTPUTF8
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(error, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return 500 <= error.smtp_code < 600
    return False


def describe(error: Exception) -> str:
    """The error in a line for the row (the server's reply; never the password)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(error.recipients.values()), (0, b""))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, reply = error.smtp_code, error.smtp_error
    else:
        return f"{type(error).__name__}: {error}"[:_MAX_ERROR]
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"[:_MAX_ERROR]


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th refused attempt."""
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


def _take(session: Session, delivery_id: int, now: datetime) -> EmailDelivery | None:
    """Take the email if it is queued and due: one conditional UPDATE, committed before
    anything is sent, so no other worker can take it too."""
    taken = session.exec(
        update(EmailDelivery)
        .where(
            col(EmailDelivery.id) == delivery_id,
            col(EmailDelivery.status) == DeliveryStatus.QUEUED,
            col(EmailDelivery.next_attempt_at) <= now,
        )
        .values(
            status=DeliveryStatus.SENDING,
            attempts=col(EmailDelivery.attempts) + 1,
            claimed_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != 1:
        return None
    delivery = session.get(EmailDelivery, delivery_id, populate_existing=True)
    session.expunge(delivery)
    return delivery


def _record(delivery: EmailDelivery, **values) -> bool:
    """Record the outcome of the attempt this worker took; False if it is no longer ours."""
    with session_scope() as session:
        changed = session.exec(
            update(EmailDelivery)
            .where(
                col(EmailDelivery.id) == delivery.id,
                col(EmailDelivery.status) == DeliveryStatus.SENDING,
                col(EmailDelivery.attempts) == delivery.attempts,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
    if changed != 1:
        log.warning("Email %s changed hands while it was being sent.", delivery.id)
    return changed == 1


def deliver_email(delivery_id: int, *, now: datetime | None = None) -> Outcome:
    """Send one queued email, once: take it, hand it to the SMTP server, record how it
    went. Safe to call twice or from two workers at once."""
    checked = as_id(delivery_id)
    if checked is None:
        return SKIPPED
    with session_scope() as session:
        delivery = _take(session, checked, now or utcnow())
    if delivery is None:
        return SKIPPED
    server = get_settings().smtp_server
    if server is None:
        error = "Email was turned off on this server (SMTP_URL unset) before it was sent."
        _record(delivery, status=DeliveryStatus.FAILED, last_error=error)
        return Outcome("failed", error=error)
    try:
        send_with_smtp(server, build_message(delivery))
    except (smtplib.SMTPException, OSError) as failure:
        return _refused(delivery, failure)
    except Exception as failure:  # e.g. an address the server cannot take: trying again won't help
        log.exception("Email %s could not be sent.", delivery.id)
        error = describe(failure)
        _record(delivery, status=DeliveryStatus.FAILED, last_error=error)
        return Outcome("failed", error=error)
    _record(delivery, status=DeliveryStatus.SENT, sent_at=utcnow(), last_error="")
    log.info("Sent email %s (%s) to user %s.", delivery.id, delivery.kind, delivery.user_id)
    return Outcome("sent")


def _refused(delivery: EmailDelivery, failure: Exception) -> Outcome:
    error = describe(failure)
    if is_permanent(failure) or delivery.attempts >= MAX_ATTEMPTS:
        log.warning(
            "Email %s failed for good after %d attempt(s): %s",
            delivery.id,
            delivery.attempts,
            error,
        )
        _record(delivery, status=DeliveryStatus.FAILED, last_error=error)
        return Outcome("failed", error=error)
    retry_at = utcnow() + retry_delay(delivery.attempts)
    log.info("Email %s refused (%s); trying again at %s.", delivery.id, error, retry_at)
    recorded = _record(
        delivery, status=DeliveryStatus.QUEUED, next_attempt_at=retry_at, last_error=error
    )
    return Outcome("retry", retry_at=retry_at, error=error) if recorded else SKIPPED


def emails_to_recover(*, now: datetime | None = None) -> list[int]:
    """Emails no worker is on, made ready to send again; their ids (the sweep sends them).

    - 'sending' for longer than `STALE_SENDING`: its worker died. Queued again (or
      failed, if that was its last attempt).
    - queued and due for longer than `LOST_AFTER`: its message was lost. Its due time
      moves to now, so a backlog is not re-sent at every sweep.
    """
    now = now or utcnow()
    ready: list[int] = []
    with session_scope() as session:
        stale = session.exec(
            select(EmailDelivery.id, EmailDelivery.attempts).where(
                EmailDelivery.status == DeliveryStatus.SENDING,
                col(EmailDelivery.claimed_at) <= now - STALE_SENDING,
            )
        ).all()
        for delivery_id, attempts in stale:
            last = attempts >= MAX_ATTEMPTS
            error = "Its worker stopped while sending it" + (
                f", after {attempts} attempts; not sent again." if last else "; sent again."
            )
            moved = session.exec(
                update(EmailDelivery)
                .where(
                    col(EmailDelivery.id) == delivery_id,
                    col(EmailDelivery.status) == DeliveryStatus.SENDING,
                    col(EmailDelivery.attempts) == attempts,
                )
                .values(
                    status=DeliveryStatus.FAILED if last else DeliveryStatus.QUEUED,
                    next_attempt_at=now,
                    last_error=error,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved and not last:
                ready.append(delivery_id)
        lost = session.exec(
            select(EmailDelivery.id).where(
                EmailDelivery.status == DeliveryStatus.QUEUED,
                col(EmailDelivery.next_attempt_at) <= now - LOST_AFTER,
            )
        ).all()
        for delivery_id in lost:
            moved = session.exec(
                update(EmailDelivery)
                .where(
                    col(EmailDelivery.id) == delivery_id,
                    col(EmailDelivery.status) == DeliveryStatus.QUEUED,
                )
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved:
                ready.append(delivery_id)
    return sorted(ready)
