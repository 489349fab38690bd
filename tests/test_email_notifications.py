"""Email notifications against a real SMTP server on loopback (aiosmtpd), through smtplib,
on SQLite and PostgreSQL: the events that email, to whom and with what; never twice
(duplicate messages, two workers at once, a dead worker's email taken over); a server that
says "try later" is tried again and delivers once; the user's choices; off without
SMTP_URL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import dramatiq
import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import (
    DeliveryStatus,
    EmailDelivery,
    EmailOptOut,
    Notification,
    Role,
    ViewSource,
    utcnow,
)
from clipgen.services.email import outbox, sending
from clipgen.services.email.preferences import (
    EMAIL_GROUPS,
    email_preferences,
    set_email_preferences,
)
from clipgen.services.errors import InvalidInput, NotAuthenticated
from clipgen.services.market import claims, reviews
from clipgen.services.money import holds, payouts
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import fraud, publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.market import approved, live_campaign, quick_password_hashing, submitted
from tests.support.money import person
from tests.support.smtp import Inbox, smtp_server

APP_URL = "https://clips.example.com"


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """The worker messages services asked for (after their commit), instead of a broker."""
    from clipgen.services import tasks

    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch, database_url: str) -> Iterator[Inbox]:
    """A local SMTP server, and SMTP_URL pointing at it."""
    with smtp_server() as (port, received):
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        monkeypatch.setenv("EMAIL_FROM", "ClipGen <robot@clips.example.com>")
        monkeypatch.setenv("APP_URL", APP_URL)
        get_settings.cache_clear()
        yield received


@pytest.fixture
def people(session: Session) -> dict:
    people = {
        "admin": person(session, Role.ADMIN),
        "client": person(session, Role.CLIENT, "brand"),
        "ada": person(session, Role.CLIPPER, "ada"),
    }
    session.commit()
    return people


def _deliveries() -> list[EmailDelivery]:
    with session_scope() as session:
        rows = session.exec(select(EmailDelivery).order_by(col(EmailDelivery.id))).all()
        for row in rows:
            session.expunge(row)
        return rows


def _email_messages(sent: list[tuple[str, dict]]) -> list[int]:
    return [ids["delivery_id"] for name, ids in sent if name == "send_email"]


def _approve_one(session: Session, people: dict):
    live = live_campaign(session, people["admin"], people["client"])
    claim, submission = approved(session, people["client"], people["ada"], live)
    session.commit()
    return live, claim


# --- what is emailed, to whom --------------------------------------------------------------


def test_an_approved_clip_emails_its_clipper_once(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _live, claim = _approve_one(session, people)
    (delivery,) = _deliveries()
    notification = session.get(Notification, delivery.notification_id)
    assert notification.kind == Kind.SUBMISSION_APPROVED
    assert (delivery.user_id, delivery.to_address) == (people["ada"].id, people["ada"].email)
    assert delivery.idempotency_key == f"notification:{notification.id}"
    assert delivery.status == DeliveryStatus.QUEUED
    assert _email_messages(sent) == [delivery.id]  # asked for once the approval committed

    assert sending.deliver_email(delivery.id).status == "sent"
    (received,) = inbox.wait_for(1)
    assert received.recipients == [people["ada"].email]
    assert received.message["Subject"] == "ClipGen: Your clip was approved"
    assert received.message["From"] == "ClipGen <robot@clips.example.com>"
    assert received.message["Message-ID"] == (
        f"<clipgen.notification.{notification.id}@clips.example.com>"
    )
    assert received.body.startswith("Hi Ada,")
    assert notification.message in received.body
    assert f"{APP_URL}/work/{claim.id}" in received.body
    assert f"{APP_URL}/account" in received.body
    (row,) = _deliveries()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 1, "")
    assert row.sent_at is not None

    # The same message again (a redelivery) finds it sent: nothing more leaves.
    assert sending.deliver_email(delivery.id).status == "skipped"
    assert len(inbox.received) == 1


def test_each_event_emails_the_right_person_with_its_subject(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    admin, client, ada = people["admin"], people["client"], people["ada"]
    live = live_campaign(session, admin, client)
    # A claim about to expire.
    expiring = claims.claim_slot(session=session, actor=ada, campaign_id=live.id)
    claims.warn_expiring_claims(session=session, now=expiring.expires_at - timedelta(hours=2))
    # A rejection and a revision request.
    cy = person(session, Role.CLIPPER, "cy")
    _claim, rejected = submitted(session, cy, live)
    reviews.reject_submission(
        session=session, actor=client, submission_id=rejected.id, reason="Off brief"
    )
    dee = person(session, Role.CLIPPER, "dee")
    _claim, revised = submitted(session, dee, live)
    reviews.request_revision(
        session=session, actor=client, submission_id=revised.id, notes="Shorter please"
    )
    # A payout paid.
    richer = live_campaign(
        session, admin, client, title="Big launch", price_per_clip_cents=2_000, budget_cents=20_000
    )
    approved(session, client, ada, richer)  # $14.00 pending for Ada
    holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=8))
    asked = payouts.request_payout(session=session, actor=ada, amount_cents=1_200)
    payouts.approve_payout(session=session, actor=admin, payout_id=asked.id, reference="SEPA-9")
    # A post flagged for review (admins are told).
    eve = person(session, Role.CLIPPER, "eve")
    _claim, good = approved(session, client, eve, live)
    post = publications.add_post_url(
        session=session, actor=eve, submission_id=good.id, url="https://youtu.be/FFFFFFFFFFF"
    )
    snapshot, _booked, _flagged = sync.record_reading(
        session, post.id, Counts(1_000, 40, 0), source=ViewSource.YOUTUBE_API
    )
    fraud.raise_flag(session, post, snapshot, fraud.Suspicion("Views jumped by 900,000."))
    # A campaign that spent its budget (told by the approval or the view sync).
    notify(session, client.id, Kind.CAMPAIGN_EXHAUSTED, "Launch week spent it.", "/campaigns/1")
    # Not every notification is emailed.
    notify(session, ada.id, Kind.RATED, "You were rated 5/5.", "/clippers/1")
    session.commit()

    emailed = {(d.user_id, d.subject) for d in _deliveries()}
    assert emailed == {
        (ada.id, "ClipGen: Your claim expires soon"),
        (cy.id, "ClipGen: Your clip was rejected"),
        (dee.id, "ClipGen: A revision of your clip was requested"),
        (ada.id, "ClipGen: Your payout was paid"),
        (ada.id, "ClipGen: Your clip was approved"),
        (eve.id, "ClipGen: Your clip was approved"),
        (admin.id, "ClipGen: A post was flagged for review"),
        (client.id, "ClipGen: Your campaign has spent its budget"),
    }
    paid = next(d for d in _deliveries() if d.kind == Kind.PAYOUT_PAID)
    assert "Your payout of $12.00 was paid (reference SEPA-9)." in paid.body
    assert f"{APP_URL}/earnings" in paid.body
    told = session.exec(
        select(Notification).where(
            Notification.user_id == ada.id, Notification.kind == Kind.PAYOUT_PAID
        )
    ).one()
    assert told.link == "/earnings"  # the bell has it too
    assert sorted(_email_messages(sent)) == sorted(d.id for d in _deliveries())

    for delivery in _deliveries():
        assert sending.deliver_email(delivery.id).status == "sent"
    assert sorted(r.recipients[0] for r in inbox.wait_for(8)) == sorted(
        [ada.email] * 3 + [cy.email, dee.email, eve.email, admin.email, client.email]
    )


def test_without_smtp_url_nothing_is_queued_or_sent(
    session: Session, people: dict, sent: list
) -> None:
    assert not get_settings().email_configured
    with smtp_server() as (_port, received):
        _approve_one(session, people)
        assert session.exec(select(func.count()).select_from(Notification)).one() >= 1
        assert _deliveries() == []
        assert _email_messages(sent) == []
        assert sending.emails_to_recover(now=utcnow() + timedelta(days=1)) == []
    assert received.received == [] and received.attempts == 0


# --- never twice ---------------------------------------------------------------------------


def test_duplicate_messages_and_two_workers_at_once_send_one_email(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _approve_one(session, people)
    (delivery,) = _deliveries()
    inbox.delay_s = 0.5  # the first send is still talking to the server when the others come
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        barrier.wait()
        outcomes.append(sending.deliver_email(delivery.id).status)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent", "skipped", "skipped", "skipped"]
    assert sending.deliver_email(delivery.id).status == "skipped"
    assert len(inbox.wait_for(1)) == 1 and inbox.attempts == 1
    (row,) = _deliveries()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 1)


def test_a_dead_workers_email_is_taken_over_late_and_keeps_its_message_id(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _approve_one(session, people)
    (delivery,) = _deliveries()
    # A worker took it and died before the SMTP server answered.
    taken_at = utcnow()
    with session_scope() as scope:
        scope.exec(
            update(EmailDelivery)
            .where(col(EmailDelivery.id) == delivery.id)
            .values(status=DeliveryStatus.SENDING, attempts=1, claimed_at=taken_at)
        )
    # A message for it now, or a sweep before the stale window, sends nothing.
    assert sending.deliver_email(delivery.id).status == "skipped"
    almost = taken_at + sending.STALE_SENDING - timedelta(seconds=5)
    assert sending.emails_to_recover(now=almost) == []
    assert inbox.attempts == 0

    later = taken_at + sending.STALE_SENDING + timedelta(seconds=1)
    assert sending.emails_to_recover(now=later) == [delivery.id]
    (row,) = _deliveries()
    assert row.status == DeliveryStatus.QUEUED and "stopped while sending" in row.last_error
    assert sending.deliver_email(delivery.id, now=later).status == "sent"
    assert sending.emails_to_recover(now=later + timedelta(hours=1)) == []
    (received,) = inbox.wait_for(1)
    assert received.message["Message-ID"] == sending.message_id(delivery.idempotency_key)
    (row,) = _deliveries()
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)


def test_a_lost_message_is_sent_again_by_the_sweep_once_per_window(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _approve_one(session, people)
    (delivery,) = _deliveries()
    now = utcnow()
    assert sending.emails_to_recover(now=now) == []  # its message is on its way
    late = now + sending.LOST_AFTER + timedelta(seconds=1)
    assert sending.emails_to_recover(now=late) == [delivery.id]
    assert sending.emails_to_recover(now=late + timedelta(seconds=1)) == []
    assert sending.deliver_email(delivery.id, now=late).status == "sent"
    assert len(inbox.wait_for(1)) == 1


# --- refusals ------------------------------------------------------------------------------


@pytest.fixture
def in_process_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app's in-process Dramatiq worker (no Redis) running the email queue, with the
    retry waits shortened to a fraction of a second."""
    import workers

    monkeypatch.setattr(sending, "RETRY_DELAYS", (timedelta(milliseconds=300),) * 4)
    worker = dramatiq.Worker(workers.broker, queues={"email"}, worker_threads=1)
    worker.start()
    try:
        yield
    finally:
        worker.stop(timeout=5_000)
        workers.broker.flush_all()


def test_a_server_that_says_try_later_is_retried_and_delivers_once(
    session: Session, people: dict, inbox: Inbox, in_process_worker: None
) -> None:
    inbox.refusals = ["451 4.3.0 Mailbox busy, try again later"]
    _approve_one(session, people)  # the message goes to the in-process worker
    (received,) = inbox.wait_for(1)
    assert received.message["Subject"] == "ClipGen: Your clip was approved"
    assert inbox.attempts == 2
    for _ in range(50):
        (row,) = _deliveries()
        if row.status == DeliveryStatus.SENT:
            break
        threading.Event().wait(0.1)
    assert (row.status, row.attempts) == (DeliveryStatus.SENT, 2)
    assert row.last_error == ""
    assert len(inbox.received) == 1


def test_refusals_back_off_then_fail_with_the_error_kept(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _approve_one(session, people)
    (delivery,) = _deliveries()
    inbox.refusals = ["451 4.3.0 Greylisted"] * sending.MAX_ATTEMPTS
    now = utcnow()
    for attempt in range(1, sending.MAX_ATTEMPTS):
        outcome = sending.deliver_email(delivery.id, now=now)
        assert outcome.status == "retry" and outcome.error == "451 4.3.0 Greylisted"
        assert outcome.retry_at - utcnow() <= sending.retry_delay(attempt)
        # Not before it is due.
        assert sending.deliver_email(delivery.id, now=now).status == "skipped"
        now = outcome.retry_at + timedelta(seconds=1)
    assert sending.deliver_email(delivery.id, now=now).status == "failed"
    (row,) = _deliveries()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, sending.MAX_ATTEMPTS)
    assert row.last_error == "451 4.3.0 Greylisted"
    assert sending.deliver_email(delivery.id, now=now + timedelta(days=1)).status == "skipped"
    assert sending.emails_to_recover(now=now + timedelta(days=1)) == []
    assert inbox.received == []


def test_a_recipient_refused_for_good_fails_at_once(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    _approve_one(session, people)
    (delivery,) = _deliveries()
    inbox.recipient_refusals = ["550 5.1.1 No such user here"]
    outcome = sending.deliver_email(delivery.id)
    assert (outcome.status, outcome.error) == ("failed", "550 5.1.1 No such user here")
    (row,) = _deliveries()
    assert (row.status, row.attempts) == (DeliveryStatus.FAILED, 1)


def test_an_address_the_server_cannot_take_fails_at_once(
    session: Session, sent: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server(utf8=False) as (port, ascii_only):
        monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
        get_settings.cache_clear()
        zoe = person(session, Role.CLIPPER, "zoë")
        notify(session, zoe.id, Kind.CLAIM_EXPIRING, "Soon.", "/work/1")
        session.commit()
        (delivery,) = _deliveries()
        assert delivery.to_address.startswith("zoë")
        outcome = sending.deliver_email(delivery.id)
        assert outcome.status == "failed" and "SMTPNotSupportedError" in outcome.error
        assert ascii_only.received == []


def test_an_unreachable_server_is_retried(
    session: Session, people: dict, sent: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    with smtp_server() as (port, _inbox):
        pass  # the port is free again: nothing listens there
    monkeypatch.setenv("SMTP_URL", f"smtp://127.0.0.1:{port}")
    get_settings.cache_clear()
    _approve_one(session, people)
    (delivery,) = _deliveries()
    outcome = sending.deliver_email(delivery.id)
    assert outcome.status == "retry" and "ConnectionRefusedError" in outcome.error


# --- choices -------------------------------------------------------------------------------


def test_a_clipper_who_turned_reviews_off_gets_the_bell_but_no_email(
    session: Session, people: dict, inbox: Inbox, sent: list
) -> None:
    ada = people["ada"]
    set_email_preferences(session=session, actor=ada, choices={"submission_reviewed": False})
    session.commit()
    _approve_one(session, people)
    assert session.exec(
        select(Notification).where(
            Notification.user_id == ada.id, Notification.kind == Kind.SUBMISSION_APPROVED
        )
    ).one()
    assert _deliveries() == [] and _email_messages(sent) == []
    # Another kind they kept still comes.
    notify(session, ada.id, Kind.CLAIM_EXPIRING, "Soon.", "/work/1")
    session.commit()
    assert [d.kind for d in _deliveries()] == [Kind.CLAIM_EXPIRING]


def test_each_role_has_its_own_choices_all_on_at_first(session: Session, people: dict) -> None:
    mine = {
        role: [
            (c.key, c.enabled)
            for c in email_preferences(session=session, actor=people[role]).choices
        ]
        for role in ("ada", "client", "admin")
    }
    assert mine == {
        "ada": [
            ("claim_expiring", True),
            ("submission_reviewed", True),
            ("payout_paid", True),
            ("appeal_decided", True),
        ],
        "client": [("campaign_exhausted", True)],
        "admin": [("flag_raised", True)],
    }
    assert email_preferences(session=session, actor=people["ada"]).configured is False
    assert {g.key for g in EMAIL_GROUPS} == {
        "claim_expiring",
        "submission_reviewed",
        "payout_paid",
        "campaign_exhausted",
        "flag_raised",
        "appeal_decided",
        "account_standing",  # required: never one of the choices above
    }
    ada = people["ada"]
    after = set_email_preferences(
        session=session, actor=ada, choices={"payout_paid": False, "claim_expiring": False}
    )
    assert [(c.key, c.enabled) for c in after.choices] == [
        ("claim_expiring", False),
        ("submission_reviewed", True),
        ("payout_paid", False),
        ("appeal_decided", True),
    ]
    again = set_email_preferences(
        session=session, actor=ada, choices={"payout_paid": True, "claim_expiring": False}
    )
    session.commit()
    assert [c.enabled for c in again.choices] == [False, True, True, True]
    assert session.exec(select(EmailOptOut.email_group)).all() == ["claim_expiring"]


BAD_CHOICES = [
    ({"submission_reviewed": False, "newsletter": False}, "“newsletter” is not one of your"),
    ({"flag_raised": False}, "“flag_raised” is not one of your email choices"),
    ({"payout_paid": "no"}, "on or off"),
    ({"payout_paid": 0}, "on or off"),
    ({"payout_paid": None}, "on or off"),
    ({1: True}, "“1” is not one of your"),
    ({"x" * 500: True}, "“xxxxxxxx"),
    ({}, "Choose which emails you want."),
    (["payout_paid"], "Choose which emails you want."),
    ("payout_paid=off", "Choose which emails you want."),
    (None, "Choose which emails you want."),
]


def test_bad_choices_are_refused_in_words_and_change_nothing(
    session: Session, people: dict
) -> None:
    ada = people["ada"]
    set_email_preferences(session=session, actor=ada, choices={"claim_expiring": False})
    session.commit()
    for choices, message in BAD_CHOICES:
        with pytest.raises(InvalidInput, match=message) as refused:
            set_email_preferences(session=session, actor=ada, choices=choices)
        assert len(str(refused.value)) < 120
        session.rollback()
        assert [
            (c.key, c.enabled) for c in email_preferences(session=session, actor=ada).choices
        ] == [
            ("claim_expiring", False),
            ("submission_reviewed", True),
            ("payout_paid", True),
            ("appeal_decided", True),
        ]


def test_nobody_signed_in_is_refused(session: Session) -> None:
    with pytest.raises(NotAuthenticated):
        email_preferences(session=session, actor=None)
    with pytest.raises(NotAuthenticated):
        set_email_preferences(session=session, actor=None, choices={"payout_paid": False})
    assert session.exec(select(func.count()).select_from(EmailOptOut)).one() == 0


def test_a_link_outside_the_app_is_not_put_in_an_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_URL", APP_URL + "/")
    get_settings.cache_clear()
    assert outbox.absolute_link("/work/3") == f"{APP_URL}/work/3"
    for unsafe in ("", "https://evil.example/", "//evil.example", "/\\evil", "/a b"):
        assert outbox.absolute_link(unsafe) == ""


# --- the Account page's handlers, called as a crafted websocket event would -----------------


def _email_state(token: str):
    from reflex.state import State

    import clipgen.clipgen  # noqa: F401  (registers every state)
    from clipgen.state.email import EmailPreferencesState

    root = State(_reflex_internal_init=True)
    state = root.get_substate(EmailPreferencesState.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _opted_out(session: Session) -> set[tuple[int, str]]:
    session.expire_all()
    return {(row.user_id, row.email_group) for row in session.exec(select(EmailOptOut)).all()}


def test_the_card_saves_the_ticked_boxes_and_refuses_anything_else(
    session: Session, people: dict
) -> None:
    from clipgen.services.auth import service as auth
    from clipgen.state.email import EmailPreferencesState as Card
    from tests.support.money import PASSWORD

    ada = people["ada"]
    token, _ = auth.sign_in(session=session, email=ada.email, password=PASSWORD)
    session.commit()
    state = _email_state(token)
    Card.load_email_preferences.fn(state)
    assert state.email_loaded and not state.email_configured
    assert state.email_shown == [
        "claim_expiring",
        "submission_reviewed",
        "payout_paid",
        "appeal_decided",
    ]
    assert state.email_on == state.email_shown

    # Unticked boxes are off; a field for another role's email is ignored.
    form = {
        "email_claim_expiring": "on",
        "email_payout_paid": "on",
        "email_appeal_decided": "on",
        "email_flag_raised": "on",
    }
    assert Card.save_email_preferences.fn(state, form) is None
    assert state.email_saved and state.email_error == ""
    assert state.email_on == ["claim_expiring", "payout_paid", "appeal_decided"]
    assert _opted_out(session) == {(ada.id, "submission_reviewed")}

    # Not a form, or choices the browser made up: refused in words, nothing changes.
    for bad in ("email_payout_paid=on", None, ["email_payout_paid"], 7):
        Card.save_email_preferences.fn(state, bad)
        assert state.email_error == "Choose which emails you want." and not state.email_saved
    state.email_shown = ["payout_paid", "flag_raised"]  # as a crafted event could set it
    Card.save_email_preferences.fn(state, {"email_flag_raised": "on"})
    assert state.email_error == "“flag_raised” is not one of your email choices."
    assert _opted_out(session) == {(ada.id, "submission_reviewed")}

    # Signed out: to the sign-in page, nothing saved.
    auth.sign_out(session=session, token=token)
    session.commit()
    answer = Card.save_email_preferences.fn(state, {})
    assert answer is not None and "/login" in str(answer)
    assert _opted_out(session) == {(ada.id, "submission_reviewed")}


# --- the setting -----------------------------------------------------------------------------


def test_smtp_url_is_read_or_refused_in_words(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from clipgen.config import Settings, parse_smtp_url

    server = parse_smtp_url("smtp://mailer%40clips.example:p%3Ass@smtp.example.com?starttls=1")
    assert (server.host, server.port, server.username, server.password) == (
        "smtp.example.com",
        587,
        "mailer@clips.example",
        "p:ss",
    )
    assert server.starttls and not server.use_ssl and "p:ss" not in repr(server)
    assert parse_smtp_url("smtps://u:p@smtp.example.com").port == 465
    assert parse_smtp_url("smtp://127.0.0.1:2525").encrypted is False
    for bad, words in [
        ("http://smtp.example.com", "must start with smtp:// or smtps://"),
        ("smtp://", "names no host"),
        ("smtp://smtp.example.com:port", "port that is not a number"),
        ("smtp://smtp.example.com?tls=1", "unknown options: tls"),
        ("smtp://smtp.example.com?starttls=maybe", "starttls must be 1 or 0"),
        ("smtps://smtp.example.com?starttls=1", "encrypted already"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_smtp_url(bad)

    monkeypatch.setenv("SMTP_URL", "ftp://user:hunter2@smtp.example.com")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "smtp:// or smtps://" in str(refused.value) and "hunter2" not in str(refused.value)

    monkeypatch.setenv("SMTP_URL", "smtp://user:hunter2@smtp.example.com")
    unsafe = Settings(clipgen_env="production")
    assert any("unencrypted" in problem for problem in unsafe.production_problems())
    monkeypatch.setenv("SMTP_URL", "smtp://user:hunter2@smtp.example.com?starttls=1")
    safe = Settings(clipgen_env="production", app_url="https://clips.example.com")
    assert not any("SMTP" in problem for problem in safe.production_problems())
    assert safe.effective_email_from == "ClipGen <no-reply@clips.example.com>"
    monkeypatch.delenv("SMTP_URL")
    assert Settings().smtp_server is None and not Settings().email_configured
