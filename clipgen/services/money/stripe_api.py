"""The only module that builds the Stripe client: the secret key and Stripe's address from
the settings (tests point it at `tests/support/fake_stripe.py`), and Stripe's errors
turned into words a user can act on."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import stripe

from clipgen.config import get_settings
from clipgen.services.errors import InvalidInput, ServiceError

log = logging.getLogger(__name__)

T = TypeVar("T")
# Stripe's own advice: retry network failures and lock timeouts, with the same key.
NETWORK_RETRIES = 2


class StripeUnavailable(ServiceError):
    """Stripe could not be reached or refused the request; nothing was changed here."""


class StripeRefused(StripeUnavailable):
    """Stripe understood the request and refused it (asking again will not help)."""


class NotYet(Exception):
    """Stripe's events came before what they depend on: the event is worked again later."""


def client() -> stripe.StripeClient:
    """A Stripe client for this process's settings; refused in words when Stripe is off."""
    settings = get_settings()
    if not settings.stripe_configured:
        raise InvalidInput("Card payments are not set up on this ClipGen.")
    base = settings.stripe_api_url.rstrip("/")
    addresses = {"api": base, "connect": base} if base else None
    return stripe.StripeClient(
        settings.stripe_secret_key.get_secret_value(),
        base_addresses=addresses,
        max_network_retries=NETWORK_RETRIES,
    )


def call(what: str, request: Callable[[stripe.StripeClient], T]) -> T:
    """`request(client)`, with Stripe's refusals and outages in words (`what` says what
    was being done, e.g. "start the card payment")."""
    api = client()
    try:
        return request(api)
    except stripe.RateLimitError:
        raise StripeUnavailable(
            f"Stripe is busy; could not {what}. Try again in a minute."
        ) from None
    except stripe.APIConnectionError:
        log.warning("Stripe unreachable while trying to %s.", what)
        raise StripeUnavailable(
            f"Stripe could not be reached; could not {what}. Try again shortly."
        ) from None
    except stripe.AuthenticationError:
        log.error("Stripe refused the secret key while trying to %s.", what)
        raise StripeUnavailable(
            f"Could not {what}: Stripe refused ClipGen's key. An admin must fix it."
        ) from None
    except stripe.StripeError as error:
        log.warning("Stripe refused to %s: %s", what, error.user_message or error)
        words = (error.user_message or "Stripe refused the request").rstrip(".")
        refused = isinstance(error, stripe.InvalidRequestError | stripe.CardError)
        raise (StripeRefused if refused else StripeUnavailable)(
            f"Could not {what}: {words}."
        ) from None
