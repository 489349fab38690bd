"""Which notifications also come by email, and which of those each user turned off.

Emails come in groups a person can reason about ("my clip was reviewed" covers approved,
rejected and sent back); every group is on until its user turns it off, so a new user
gets every email their roles have.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import EmailOptOut, Role
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated
from clipgen.services.notification_kinds import Kind


@dataclass(frozen=True)
class EmailGroup:
    """One choice on the Account page: the notification kinds it covers, for whom."""

    key: str
    label: str
    kinds: tuple[str, ...]
    roles: tuple[Role, ...]
    # About the account itself (a suspension): always sent, never offered as a choice.
    required: bool = False


EMAIL_GROUPS: tuple[EmailGroup, ...] = (
    EmailGroup(
        "claim_expiring",
        "A claim of mine is about to expire",
        (Kind.CLAIM_EXPIRING,),
        (Role.CLIPPER,),
    ),
    EmailGroup(
        "submission_reviewed",
        "My clip was approved, rejected or sent back for a revision",
        (Kind.SUBMISSION_APPROVED, Kind.SUBMISSION_REJECTED, Kind.REVISION_REQUESTED),
        (Role.CLIPPER,),
    ),
    EmailGroup(
        "payout_paid",
        "A payout of mine was paid, or could not be paid",
        (Kind.PAYOUT_PAID, Kind.PAYOUT_FAILED),
        (Role.CLIPPER,),
    ),
    EmailGroup(
        "campaign_exhausted",
        "A campaign of mine has spent its budget",
        (Kind.CAMPAIGN_EXHAUSTED,),
        (Role.CLIENT,),
    ),
    EmailGroup("flag_raised", "A post was flagged for review", (Kind.FLAG_RAISED,), (Role.ADMIN,)),
    EmailGroup(
        "appeal_decided",
        "An appeal of mine was decided",
        (Kind.APPEAL_UPHELD, Kind.APPEAL_OVERTURNED),
        (Role.CLIPPER,),
    ),
    EmailGroup(
        "account_standing",
        "My account was suspended, or its suspension lifted",
        (Kind.ACCOUNT_SUSPENDED, Kind.SUSPENSION_LIFTED),
        (Role.CLIPPER, Role.CLIENT),
        required=True,
    ),
)
_GROUP_OF_KIND = {kind: group for group in EMAIL_GROUPS for kind in group.kinds}


def group_of(kind: str) -> EmailGroup | None:
    """The email group a notification kind belongs to; None: that kind has no email."""
    return _GROUP_OF_KIND.get(kind)


def groups_for(actor: UserView) -> tuple[EmailGroup, ...]:
    """The groups that concern the actor's roles (a client is never asked about payouts)."""
    return tuple(
        g for g in EMAIL_GROUPS if not g.required and any(actor.has_role(role) for role in g.roles)
    )


def wants(session: Session, user_id: int, group: EmailGroup) -> bool:
    """Whether the user has this group of emails on (the default; a required one always)."""
    if group.required:
        return True
    off = session.exec(
        select(EmailOptOut.id).where(
            EmailOptOut.user_id == user_id, EmailOptOut.email_group == group.key
        )
    ).first()
    return off is None


@dataclass(frozen=True)
class EmailChoice:
    key: str
    label: str
    enabled: bool


@dataclass(frozen=True)
class EmailPreferences:
    """The actor's email choices, and whether this server sends email at all."""

    configured: bool
    choices: tuple[EmailChoice, ...]


def _signed_in(actor: UserView | None) -> UserView:
    if actor is None:
        raise NotAuthenticated()
    return actor


def email_preferences(*, session: Session, actor: UserView) -> EmailPreferences:
    """The actor's email choices (only the groups of their roles), all on by default."""
    actor = _signed_in(actor)
    off = set(
        session.exec(select(EmailOptOut.email_group).where(EmailOptOut.user_id == actor.id)).all()
    )
    return EmailPreferences(
        configured=get_settings().email_configured,
        choices=tuple(
            EmailChoice(group.key, group.label, group.key not in off) for group in groups_for(actor)
        ),
    )


def _shown(key: object) -> str:
    text = str(key)
    return text if len(text) <= 40 else text[:40] + "…"


def set_email_preferences(
    *, session: Session, actor: UserView, choices: dict[str, bool]
) -> EmailPreferences:
    """Turn the actor's email groups on or off; groups not named stay as they are.

    The whole request is checked before anything changes: a key that is not one of the
    actor's groups or a value that is not true/false refuses it all (a browser can send
    anything to the handler that calls this).
    """
    actor = _signed_in(actor)
    if not isinstance(choices, dict) or not choices:
        raise InvalidInput("Choose which emails you want.")
    mine = {group.key for group in groups_for(actor)}
    for key, value in choices.items():
        if not isinstance(key, str) or key not in mine:
            raise InvalidInput(f"“{_shown(key)}” is not one of your email choices.")
        if not isinstance(value, bool):
            raise InvalidInput(f"Each email choice is on or off (“{key}” was neither).")
    turned_on = [key for key, on in choices.items() if on]
    if turned_on:
        session.exec(
            delete(EmailOptOut).where(
                col(EmailOptOut.user_id) == actor.id, col(EmailOptOut.email_group).in_(turned_on)
            )
        )
    already_off = set(
        session.exec(select(EmailOptOut.email_group).where(EmailOptOut.user_id == actor.id)).all()
    )
    for key, on in choices.items():
        if not on and key not in already_off:
            try:
                with session.begin_nested():
                    session.add(EmailOptOut(user_id=actor.id, email_group=key))
                    session.flush()
            except IntegrityError:
                pass  # another tab turned it off a moment ago: off it is
    return email_preferences(session=session, actor=actor)
