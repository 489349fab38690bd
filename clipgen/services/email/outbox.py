"""The email of a notification, queued in the notification's own unit of work.

`notifications.notify` calls `queue_email`: when email is set up and the user wants
that group, a row goes into `email_deliveries` beside the notification and a worker is
asked for once the transaction commits. So an email exists exactly when the change it
tells of was committed, and at most once per event: its idempotency key is the
notification's id, unique in the table.
"""

from __future__ import annotations

from sqlmodel import Session

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import EmailDelivery, Notification, User
from clipgen.services.email.preferences import EmailGroup, group_of, wants
from clipgen.services.notification_kinds import Kind
from clipgen.services.tasks import SEND_EMAIL, send_after_commit

# One subject per kind: fixed words, so nothing a user typed reaches a mail header.
SUBJECTS = {
    Kind.CLAIM_EXPIRING: "Your claim expires soon",
    Kind.SUBMISSION_APPROVED: "Your clip was approved",
    Kind.SUBMISSION_REJECTED: "Your clip was rejected",
    Kind.REVISION_REQUESTED: "A revision of your clip was requested",
    Kind.PAYOUT_PAID: "Your payout was paid",
    Kind.PAYOUT_FAILED: "Your payout could not be paid",
    Kind.CAMPAIGN_EXHAUSTED: "Your campaign has spent its budget",
    Kind.FLAG_RAISED: "A post was flagged for review",
    Kind.ACCOUNT_SUSPENDED: "Your account was suspended",
    Kind.SUSPENSION_LIFTED: "The suspension of your account was lifted",
    Kind.APPEAL_UPHELD: "Your appeal was decided: the decision stands",
    Kind.APPEAL_OVERTURNED: "Your appeal was decided: the decision was overturned",
}


def idempotency_key(notification_id: int) -> str:
    """The one key of the email of a notification (one notification per event)."""
    return f"notification:{int(notification_id)}"


def subject_of(kind: str) -> str:
    return f"ClipGen: {SUBJECTS.get(kind, 'news about your account')}"


def absolute_link(link: str) -> str:
    """The notification's in-app path as an address to click in a mail client; "" for
    anything that is not a path of this app."""
    if not routes.is_app_path(link):
        return ""
    return get_settings().app_url.rstrip("/") + link


def body_of(user: User, notification: Notification, group: EmailGroup) -> str:
    """Plain text: the message, where to see it, and how to stop this kind of email."""
    app = get_settings().app_url.rstrip("/")
    lines = [f"Hi {user.display_name},", "", notification.message, ""]
    link = absolute_link(notification.link)
    if link:
        lines += [f"Open it in ClipGen: {link}", ""]
    why = (
        ["You get this email because it is about your account itself."]
        if group.required
        else [
            f"You get this email because “{group.label}” is on in your email choices.",
            f"Change them on your account page: {app}{routes.ACCOUNT}",
        ]
    )
    lines += ["-- ", "ClipGen", *why]
    return "\n".join(lines) + "\n"


def queue_email(session: Session, notification: Notification) -> EmailDelivery | None:
    """Queue the email of `notification` (added to `session`, not yet committed) when
    email is set up, the kind has an email, and its user is active and wants it."""
    if not get_settings().email_configured:
        return None
    group = group_of(notification.kind)
    if group is None:
        return None
    user = session.get(User, notification.user_id)
    if user is None or not user.is_active or not wants(session, user.id, group):
        return None
    session.flush()  # the notification's id is the email's key
    delivery = EmailDelivery(
        idempotency_key=idempotency_key(notification.id),
        notification_id=notification.id,
        user_id=user.id,
        kind=notification.kind,
        to_address=user.email,
        subject=subject_of(notification.kind),
        body=body_of(user, notification, group),
    )
    session.add(delivery)
    session.flush()
    send_after_commit(session, SEND_EMAIL, delivery_id=delivery.id)
    return delivery
