"""Clippers' payout accounts on Stripe Connect (Express).

Earnings -> Set up payouts creates an Express account for the clipper (once: the
idempotency key and the unique row name the clipper) and sends them to Stripe's own
onboarding through an Account Link; Stripe collects their identity and bank account, so
ClipGen never sees either. What Stripe still needs comes back by `account.updated` (and
is read again when the clipper returns from onboarding, since the webhook may lag), and
the Earnings page shows it in words. Payouts are made by ClipGen one by one (the account's
payout schedule is manual), so each ClipGen payout is one Stripe payout to the bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import PayoutAccount, Role, utcnow
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView, require_recent_password
from clipgen.services.errors import InvalidInput
from clipgen.services.money import stripe_api
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify

NOT_SET_UP = (
    "Payouts through Stripe are not set up on this ClipGen: an admin pays you by bank transfer."
)

# Stripe's requirement names, in words a clipper understands (by prefix, longest first).
REQUIREMENT_WORDS = (
    ("external_account", "a bank account to be paid to"),
    ("individual.verification.document", "a photo of an identity document"),
    ("individual.verification", "proof of identity"),
    ("individual.dob", "your date of birth"),
    ("individual.first_name", "your legal name"),
    ("individual.last_name", "your legal name"),
    ("individual.address", "your address"),
    ("individual.ssn_last_4", "the last 4 digits of your SSN"),
    ("individual.id_number", "your tax id number"),
    ("individual.email", "your email address"),
    ("individual.phone", "your phone number"),
    ("business_profile", "what you do (business details)"),
    ("business_type", "whether you are paid as a person or a company"),
    ("tos_acceptance", "accepting Stripe's terms of service"),
    ("company", "your company's details"),
)


@dataclass(frozen=True)
class PayoutAccountView:
    """A clipper's payout set-up, as the Earnings page shows it."""

    stripe_enabled: bool  # this ClipGen pays through Stripe at all
    connected: bool  # the clipper has a Stripe account (onboarding may be unfinished)
    details_submitted: bool
    payouts_enabled: bool  # Stripe can take transfers and pay the bank
    needs: tuple[str, ...]  # what Stripe still asks for, in words
    disabled_reason: str

    @property
    def status(self) -> str:
        if not self.stripe_enabled:
            return "manual"
        if not self.connected:
            return "not set up"
        return "ready" if self.payouts_enabled else "incomplete"


def requirement_words(fields: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Stripe's requirement fields as distinct phrases, in Stripe's order."""
    said: list[str] = []
    for name in fields or ():
        name = str(name)
        words = next(
            (words for prefix, words in REQUIREMENT_WORDS if name.startswith(prefix)),
            name.replace("_", " ").replace(".", ": "),
        )
        if words not in said:
            said.append(words)
    return tuple(said)


def account_of(session: Session, clipper_id: int) -> PayoutAccount | None:
    return session.exec(select(PayoutAccount).where(PayoutAccount.clipper_id == clipper_id)).first()


def _view(row: PayoutAccount | None) -> PayoutAccountView:
    enabled = get_settings().stripe_configured
    if row is None:
        return PayoutAccountView(enabled, False, False, False, (), "")
    requirements = row.requirements or {}
    due = list(requirements.get("past_due") or []) + list(requirements.get("currently_due") or [])
    return PayoutAccountView(
        stripe_enabled=enabled,
        connected=True,
        details_submitted=row.details_submitted,
        payouts_enabled=row.payouts_enabled and row.transfers_active,
        needs=requirement_words(due),
        disabled_reason=str(requirements.get("disabled_reason") or ""),
    )


def my_payout_account(*, session: Session, actor: UserView) -> PayoutAccountView:
    require_role(actor, Role.CLIPPER)
    return _view(account_of(session, actor.id))


def ready_account(session: Session, clipper_id: int) -> PayoutAccount | None:
    """The clipper's connected account if Stripe can pay them now, else None (they are
    paid by hand, as without Stripe)."""
    if not get_settings().stripe_configured:
        return None
    row = account_of(session, clipper_id)
    if row is None or not (row.payouts_enabled and row.transfers_active):
        return None
    return row


def ready_clippers(session: Session, clipper_ids: set[int]) -> set[int]:
    """Which of these clippers Stripe can pay now."""
    if not clipper_ids or not get_settings().stripe_configured:
        return set()
    return set(
        session.exec(
            select(PayoutAccount.clipper_id).where(
                col(PayoutAccount.clipper_id).in_(clipper_ids),
                col(PayoutAccount.payouts_enabled).is_(True),
                col(PayoutAccount.transfers_active).is_(True),
            )
        ).all()
    )


def start_onboarding(*, session: Session, actor: UserView) -> str:
    """The address of Stripe's onboarding for the clipper's Express account (created the
    first time). An Account Link works once and expires within minutes, so each click
    makes a new one."""
    require_role(actor, Role.CLIPPER)
    if not get_settings().stripe_configured:
        raise InvalidInput(NOT_SET_UP)
    require_recent_password(actor, to="change where your payouts go")
    row = account_of(session, actor.id)
    if row is None:
        created = stripe_api.call(
            "set up your payout account",
            lambda api: api.v1.accounts.create(
                params={
                    "type": "express",
                    "email": actor.email,
                    "capabilities": {"transfers": {"requested": True}},
                    "settings": {"payouts": {"schedule": {"interval": "manual"}}},
                    "metadata": {"clipper_id": str(actor.id)},
                },
                options={"idempotency_key": f"connect-account-{actor.id}"},
            ),
        )
        row = PayoutAccount(clipper_id=actor.id, stripe_account_id=created.id)
        _copy(row, created.to_dict())
        session.add(row)
        session.flush()
        record_audit(
            session=session,
            action="money.payout_account_created",
            actor_id=actor.id,
            target_type="user",
            target_id=actor.id,
            stripe_account=created.id,
        )
    back = get_settings().app_url.rstrip("/") + routes.EARNINGS
    link = stripe_api.call(
        "open Stripe's onboarding",
        lambda api: api.v1.account_links.create(
            params={
                "account": row.stripe_account_id,
                "type": "account_onboarding",
                "refresh_url": back + "?payouts=retry",
                "return_url": back + "?payouts=back",
            }
        ),
    )
    return link.url


def refresh_account(*, session: Session, actor: UserView) -> PayoutAccountView:
    """Read the clipper's account from Stripe again (on return from onboarding)."""
    require_role(actor, Role.CLIPPER)
    row = account_of(session, actor.id)
    if row is None:
        return _view(None)
    found = stripe_api.call(
        "read your payout account",
        lambda api: api.v1.accounts.retrieve(row.stripe_account_id),
    )
    _update(session, row, found.to_dict())
    return _view(row)


def on_account_updated(session: Session, obj: dict[str, Any]) -> str:
    """`account.updated` (from the Connect webhook): what Stripe needs, and whether the
    clipper can be paid."""
    row = session.exec(
        select(PayoutAccount)
        .where(col(PayoutAccount.stripe_account_id) == str(obj.get("id") or ""))
        .with_for_update()
    ).first()
    if row is None:
        return "Not a ClipGen payout account."
    _update(session, row, obj)
    return f"Payout account of clipper #{row.clipper_id} updated."


def _copy(row: PayoutAccount, obj: dict[str, Any]) -> None:
    row.details_submitted = bool(obj.get("details_submitted"))
    row.payouts_enabled = bool(obj.get("payouts_enabled"))
    row.transfers_active = (obj.get("capabilities") or {}).get("transfers") == "active"
    requirements = obj.get("requirements") or {}
    row.requirements = {
        "currently_due": list(requirements.get("currently_due") or []),
        "past_due": list(requirements.get("past_due") or []),
        "disabled_reason": requirements.get("disabled_reason") or "",
    }
    row.updated_at = utcnow()


def _update(session: Session, row: PayoutAccount, obj: dict[str, Any]) -> None:
    was_ready = row.payouts_enabled and row.transfers_active
    _copy(row, obj)
    session.add(row)
    ready = row.payouts_enabled and row.transfers_active
    if ready and not was_ready:
        notify(
            session,
            row.clipper_id,
            Kind.PAYOUT_ACCOUNT_UPDATED,
            "Your payout account is set up: payouts go to your bank through Stripe.",
            routes.EARNINGS,
        )
    elif was_ready and not ready:
        needs = ", ".join(_view(row).needs) or "more details"
        notify(
            session,
            row.clipper_id,
            Kind.PAYOUT_ACCOUNT_UPDATED,
            f"Stripe paused payouts to you until you give {needs}. Open Earnings to finish.",
            routes.EARNINGS,
        )
