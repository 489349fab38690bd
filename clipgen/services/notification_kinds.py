"""What a notification is about: the kinds, in a module of their own.

`notifications` writes them and the email package picks subjects and groups by them,
so both import this leaf and neither imports the other's callers.
"""

from __future__ import annotations


class Kind:
    """What a notification is about (its `kind`)."""

    CLAIM_EXPIRING = "claim_expiring"
    CLAIM_EXPIRED = "claim_expired"
    CLAIM_CLOSED = "claim_closed"
    SUBMISSION_RECEIVED = "submission_received"
    SUBMISSION_APPROVED = "submission_approved"
    SUBMISSION_REJECTED = "submission_rejected"
    REVISION_REQUESTED = "revision_requested"
    CAMPAIGN_FUNDED = "campaign_funded"
    CAMPAIGN_EXHAUSTED = "campaign_exhausted"
    CAMPAIGN_COMPLETED = "campaign_completed"
    RATED = "rated"
    FLAG_RAISED = "flag_raised"
    EARNINGS_HELD = "earnings_held"
    FLAG_CLEARED = "flag_cleared"
    FLAG_CONFIRMED = "flag_confirmed"
    UPLOAD_DONE = "upload_done"
    UPLOAD_FAILED = "upload_failed"
    CHANNEL_DISCONNECTED = "channel_disconnected"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_FAILED = "payout_failed"
    PAYOUT_ACCOUNT_UPDATED = "payout_account_updated"
    COUNTS_REPORTED = "counts_reported"
    COUNTS_CONFIRMED = "counts_confirmed"
    COUNTS_DECLINED = "counts_declined"
    POST_VERIFIED = "post_verified"
    POST_REFUSED = "post_refused"
    CARD_PAYMENT_RECEIVED = "card_payment_received"
    CARD_REFUNDED = "card_refunded"
    CARD_DISPUTE_OPENED = "card_dispute_opened"
    CARD_DISPUTE_CLOSED = "card_dispute_closed"
    ACCOUNT_SUSPENDED = "account_suspended"
    SUSPENSION_LIFTED = "suspension_lifted"
    APPEAL_FILED = "appeal_filed"
    APPEAL_UPHELD = "appeal_upheld"
    APPEAL_OVERTURNED = "appeal_overturned"
