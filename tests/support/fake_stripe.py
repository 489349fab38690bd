"""A local stand-in for Stripe's API (v1), hosted Checkout and Connect onboarding, over real HTTP.

The real `stripe` library does the talking: point a `stripe.StripeClient` at it with
`base_addresses={"api": fake.url, "connect": fake.url}` and `fake.secret_key`. It reads
form-encoded bodies and query strings in Stripe's bracket notation (`metadata[k]=v`,
`line_items[0][price_data][unit_amount]=5000`, `expand[]=...`, `created[gte]=...`) and
answers Stripe's object shapes, list envelopes and error envelopes
(`{"error": {"type", "code", "message", "param", "doc_url", "request_log_url"}}`), with a
`Request-Id` on every answer. As Stripe does, it:

- saves the first answer to a POST under its `Idempotency-Key` (per account) and replays it,
  byte for byte with `Idempotent-Replayed: true`, to a retry with the same params (errors
  too, once the endpoint began: a `balance_insufficient` stays the answer for that key);
  the same key with other params or on another endpoint is a 400 `idempotency_error`;
  requests that fail validation (missing, unknown or malformed params) are not saved;
- answers a rate limit with 429 `rate_limit` and no `Stripe-Should-Retry` header (the
  library does not retry those), and a lock timeout with 429 `lock_timeout` and
  `Stripe-Should-Retry: true` (the library retries those, with the same idempotency key);
- acts on a connected account when the request carries `Stripe-Account` (payouts, balance,
  balance transactions, events); an unknown account there is a 403.

What it covers: Checkout Sessions (mode=payment, price_data line items) and their hosted
page (/checkout/{id}; its Pay button makes the PaymentIntent, Charge and BalanceTransaction
and redirects to success_url), PaymentIntents and Charges (with expand), Refunds, Disputes
(opened and closed by the test), Express accounts, Account Links and their onboarding page
(/connect/{link}), Transfers and their reversals, payouts on connected accounts (settled by
the test), balances, balance transactions (created ranges, type, cursors), events.

Every event is appended to `fake.events` and, unless `deliver_events` is False, POSTed to
`webhook_url` as Stripe sends it: pretty-printed JSON signed in `Stripe-Signature`
(`t=<ts>,v1=<hex HMAC-SHA256 of f"{t}.{payload}">`). Events caused by a control call of the
test (`pay`, `refund`, `dispute`, `settle_payout`, ...) or by a browser page are delivered
before the call returns or the page answers. Events caused by an API request are delivered
just after its response is written, on a thread of their own (Stripe's arrive independently
of the API answer, and an app may hold a database lock while it waits for that answer):
`fake.wait_for_webhooks()` waits for them. Events on a connected account carry `"account"`
and go to `connect_webhook_url` (signed with `connect_webhook_secret`) when that is set.

    with FakeStripe(webhook_url=app_url + "/stripe/webhook") as fake:
        fake.apply_env(monkeypatch)  # STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_URL
        client = stripe.StripeClient(
            fake.secret_key, base_addresses={"api": fake.url, "connect": fake.url}
        )
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import html
import itertools
import json
import re
import secrets
import string
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

import httpx
import pytest
from stripe._api_version import _ApiVersion

from clipgen.config import get_settings
from tests.support.fake_http import LocalHTTPFake

API_VERSION = _ApiVersion.CURRENT
DAY = 86400
SESSION_SECONDS = DAY  # a Checkout Session expires after 24 hours
LINK_SECONDS = 300  # an Account Link after 5 minutes
DISPUTE_FEE = 1500  # $15.00, kept when the dispute is lost, given back when won
MIN_CHARGE = 50  # Stripe's minimum charge in USD: $0.50
DEFAULT_LIMIT, MAX_LIMIT = 10, 100
NEW_ACCOUNT_REQUIREMENTS = (
    "business_profile.mcc",
    "business_profile.url",
    "business_type",
    "external_account",
    "individual.dob.day",
    "individual.dob.month",
    "individual.dob.year",
    "individual.first_name",
    "individual.last_name",
    "tos_acceptance.date",
    "tos_acceptance.ip",
)
TRANSFER_CAPABILITY_MESSAGE = (
    "Your destination account needs to have at least one of the following capabilities "
    "enabled: transfers, crypto_transfers, legacy_payments"
)
_ALNUM = string.ascii_letters + string.digits
_ANY = object()  # any owner, for the test's own look-ups


def new_id(prefix: str, length: int = 24) -> str:
    """An id shaped like Stripe's: `pi_3PqX...`."""
    return f"{prefix}_" + "".join(secrets.choice(_ALNUM) for _ in range(length))


def card_fee(amount: int) -> int:
    """Stripe's US card fee on `amount` cents: 2.9% (half up) + 30 cents."""
    return (amount * 29 + 500) // 1000 + 30


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation to nested dicts and lists.

    `a[b][0][c]=1&expand[]=x&expand[]=y` -> `{"a": {"b": [{"c": "1"}]}, "expand": ["x", "y"]}`.
    Values stay strings, as Stripe receives them.
    """
    root: dict[str, Any] = {}
    for key, value in pairs:
        base, bracket, rest = key.partition("[")
        parts = [base] + (rest[:-1].split("][") if bracket and rest.endswith("]") else [])
        node = root
        for index, part in enumerate(parts):
            if part == "":  # `name[]`: the next index
                part = str(sum(1 for k in node if k.isdigit()))
            if index == len(parts) - 1:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {}
                node = child
    return _listify(root)


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        if value and all(k.isdigit() for k in value):
            return [_listify(value[k]) for k in sorted(value, key=int)]
        return {k: _listify(v) for k, v in value.items()}
    return value


def _doc_url(code: str) -> str:
    return "https://stripe.com/docs/error-codes/" + code.replace("_", "-")


class FakeStripeError(Exception):
    """A Stripe error answer (raised inside the fake; control methods let it out)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved  # kept for the idempotency key (the endpoint began)
        self.headers = headers or {}

    def envelope(self, request_id: str | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = _doc_url(self.code)
        error["message"] = self.message
        if self.param:
            error["param"] = self.param
        if request_id:
            error["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        error["type"] = self.type
        return {"error": error}


def _invalid(message: str, param: str | None = None, code: str | None = None) -> FakeStripeError:
    """A request that fails validation: answered, not saved for its idempotency key."""
    return FakeStripeError(400, message, code=code, param=param, saved=False)


def _missing(param: str) -> FakeStripeError:
    return _invalid(f"Missing required param: {param}.", param, "parameter_missing")


def _refused(message: str, code: str | None = None, param: str | None = None) -> FakeStripeError:
    """A request the endpoint refused once it began: saved for its idempotency key."""
    return FakeStripeError(400, message, code=code, param=param)


@dataclass
class Recorded:
    """One request the fake received (API calls and browser pages)."""

    method: str
    path: str
    params: dict[str, Any]  # query and form, parsed from the bracket notation
    headers: httpx.Headers  # names in any case
    body: bytes
    status: int = 0  # what the fake answered (0: dropped)

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("Idempotency-Key")

    @property
    def stripe_account(self) -> str | None:
        return self.headers.get("Stripe-Account")


@dataclass
class Fault:
    """An answer forced on the next matching requests."""

    target: str  # "POST", "/v1/transfers" (a path prefix) or "POST /v1/transfers"
    status: int
    error: FakeStripeError | None
    times: int
    drop: bool = False  # close the connection without an answer
    after_execution: bool = False  # (with drop) the request ran, its answer was lost

    def matches(self, method: str, path: str) -> bool:
        wanted_method, _, wanted_path = self.target.partition(" ")
        if wanted_path:
            return method == wanted_method and path.startswith(wanted_path)
        if self.target.startswith("/"):
            return path.startswith(self.target)
        return method == self.target


@dataclass
class _Call:
    """The API request being served (events it causes name it)."""

    method: str
    path: str
    params: dict[str, Any]
    account: str | None
    request_id: str
    idempotency_key: str | None


@dataclass
class _Link:
    account: str
    refresh_url: str
    return_url: str
    expires_at: int
    state: str = "fresh"  # fresh -> shown -> used (single use, as Stripe's)


@dataclass
class _Saved:
    """The first answer under an idempotency key."""

    fingerprint: tuple[str, str, str]
    status: int
    body: bytes
    request_id: str


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    events: list[dict[str, Any]] = field(default_factory=list)  # delivered after the answer


class FakeStripe(LocalHTTPFake):
    """Stripe on 127.0.0.1: the API the app calls, the pages its users visit, signed events."""

    secret_key = "sk_test_fake_51FakeStripeSecretKey"
    webhook_secret = "whsec_fake_4c1d2b6e8a9f0e3d5c7b9a1f2e4d6c8b"
    connect_webhook_secret = "whsec_fake_connect_7e9d1c3b5a7f9e1d3c5b7a9f"

    def __init__(self, webhook_url: str | None = None) -> None:
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self.webhook_url = webhook_url
        self.connect_webhook_url: str | None = None  # None: connected events to webhook_url
        self.deliver_events = True
        self.webhook_timeout = 10.0
        self.clock: Callable[[], float] = time.time  # `created` of everything made
        self.platform_available_cents = 1_000_000_000  # $10M: transfers rarely run short
        self.platform_pending_cents = 0
        self.funds_pending = False  # True: card funds land pending (2 days) not available
        self.requests: list[Recorded] = []
        self.events: list[dict[str, Any]] = []
        self.deliveries: list[tuple[str, int]] = []  # (event id, status; 0: no answer)
        self.created: Counter[str] = Counter()  # object name -> how many were really made
        self._objects: dict[str, dict[str, Any]] = {}
        self._owner: dict[str, str | None] = {}  # id -> connected account (None: platform)
        self._order: dict[str, int] = {}
        self._sequence = itertools.count()
        self._balances: dict[str, dict[str, int]] = {}  # acct -> available / pending
        self._line_items: dict[str, list[dict[str, Any]]] = {}
        self._session_pi_metadata: dict[str, dict[str, str]] = {}
        self._links: dict[str, _Link] = {}
        self._saved: dict[tuple[str, str], _Saved] = {}
        self._faults: list[Fault] = []
        self._in_flight = 0
        self._emitted: list[dict[str, Any]] | None = None
        self._call: _Call | None = None
        self._http: httpx.Client | None = None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        return _handler_for(self)

    # -- settings -------------------------------------------------------------------

    def settings_env(self) -> dict[str, str]:
        """The environment that points ClipGen's settings (and an app process) here."""
        env = {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_API_URL": self.url,
        }
        if self.connect_webhook_url:
            env["STRIPE_CONNECT_WEBHOOK_SECRET"] = self.connect_webhook_secret
        return env

    def apply_env(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Set `settings_env()` for this test and re-read the settings."""
        monkeypatch.delenv("STRIPE_CONNECT_WEBHOOK_SECRET", raising=False)
        for name, value in self.settings_env().items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    # -- time -----------------------------------------------------------------------

    @property
    def now(self) -> int:
        """The fake's time (Unix seconds): what `created` says. Settable; None: real time."""
        return int(self.clock())

    @now.setter
    def now(self, value: float | None) -> None:
        if value is None:
            self.clock = time.time
        else:
            frozen = float(value)
            self.clock = lambda: frozen

    def advance(self, seconds: float) -> None:
        """Move the (now frozen) clock on."""
        self.now = self.clock() + seconds

    # -- signatures and delivery ----------------------------------------------------

    def sign(self, payload: bytes, timestamp: int | None = None, secret: str | None = None) -> str:
        """The `Stripe-Signature` value for `payload` (at real time by default: receivers
        check it against their clock, 5 minutes either way)."""
        t = int(time.time()) if timestamp is None else int(timestamp)
        key = (secret or self.webhook_secret).encode()
        digest = hmac.new(key, f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    def send(
        self, event_or_id: dict[str, Any] | str, times: int = 1, concurrently: bool = False
    ) -> list[int]:
        """Deliver an event (again) `times` times, freshly signed; the statuses answered.

        With `concurrently`, the deliveries start together on threads of their own (as
        Stripe's retries and duplicates may overlap)."""
        event_id = event_or_id if isinstance(event_or_id, str) else event_or_id["id"]
        with self._lock:
            event = self._find("event", event_id)
        if self._destination(event)[0] is None:
            raise RuntimeError("the fake has no webhook_url to send events to")
        if not concurrently or times == 1:
            return [self._post_event(event) for _ in range(times)]
        barrier = threading.Barrier(times)

        def one(_: int) -> int:
            barrier.wait()
            return self._post_event(event)

        with ThreadPoolExecutor(times) as pool:
            return list(pool.map(one, range(times)))

    def wait_for_webhooks(self, timeout: float = 5.0) -> bool:
        """Wait until the events caused by API requests have been delivered."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def events_of(self, type: str) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(e) for e in self.events if e["type"] == type]

    def last_event(self, type: str) -> dict[str, Any]:
        found = self.events_of(type)
        assert found, f"no {type} event"
        return found[-1]

    # -- faults ---------------------------------------------------------------------

    def fail_next(
        self,
        target: str,
        status: int = 500,
        error_type: str | None = None,
        code: str | None = None,
        message: str | None = None,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next `times` requests matching `target` with a Stripe error.

        `target` is a method ("POST"), a path prefix ("/v1/transfers") or both
        ("POST /v1/transfers"). The request does not run and nothing is saved for its
        idempotency key (the failure came before the endpoint). `headers` are added (e.g.
        `{"Stripe-Should-Retry": "true"}`)."""
        kind = error_type or (
            "api_error"
            if status >= 500
            else "card_error"
            if status == 402
            else "invalid_request_error"
        )
        error = FakeStripeError(
            status,
            message or "An unexpected error occurred (injected by the test).",
            type=kind,
            code=code,
            headers=headers,
        )
        with self._lock:
            self._faults.append(Fault(target, status, error, times))

    def rate_limit_next(self, times: int = 1, target: str = "/v1/") -> None:
        """Stripe's rate limiter: 429 `rate_limit`, which the library does not retry."""
        self.fail_next(
            target,
            429,
            "invalid_request_error",
            "rate_limit",
            "Request rate limit exceeded. Learn more about rate limits here "
            "https://stripe.com/docs/rate-limits.",
            times=times,
        )

    def lock_timeout_next(self, times: int = 1, target: str = "/v1/") -> None:
        """An object lock timeout: 429 `lock_timeout` with `Stripe-Should-Retry: true`,
        which the library retries (up to max_network_retries, same idempotency key)."""
        self.fail_next(
            target,
            429,
            "invalid_request_error",
            "lock_timeout",
            "This object cannot be accessed right now because another API request or Stripe "
            "process is currently accessing it. If you see this error intermittently, retry "
            "the request.",
            times=times,
            headers={"Stripe-Should-Retry": "true"},
        )

    def drop_next(self, target: str, *, times: int = 1, after_execution: bool = False) -> None:
        """Close the connection without an answer (a network failure). With
        `after_execution`, the request runs first (and its answer is saved for its
        idempotency key): the answer is what is lost."""
        with self._lock:
            self._faults.append(Fault(target, 0, None, times, True, after_execution))

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """The requests received, filtered by method and exact path."""
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    # -- reading state --------------------------------------------------------------

    def get(self, object_id: str) -> dict[str, Any]:
        """A copy of any object the fake holds, by id."""
        with self._lock:
            return copy.deepcopy(self._objects[object_id])

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """Copies of every object of one kind ("transfer", "checkout.session"...), oldest first."""
        with self._lock:
            return [copy.deepcopy(o) for o in self._objects.values() if o["object"] == kind]

    def balance(self, account: str | None = None) -> dict[str, int]:
        """{"available": cents, "pending": cents} of the platform or a connected account."""
        with self._lock:
            if account is None:
                return {
                    "available": self.platform_available_cents,
                    "pending": self.platform_pending_cents,
                }
            return dict(self._balances[account])

    def set_balance(self, account: str, available: int, pending: int = 0) -> None:
        """Set a connected account's balance (cents)."""
        with self._lock:
            self._find("account", account)
            self._balances[account] = {"available": available, "pending": pending}

    # -- control: payments ----------------------------------------------------------

    def pay(self, session_id: str, delayed: bool = False, email: str | None = None) -> dict:
        """The customer pays the session (as the page's Pay button). With `delayed`, a bank
        debit: the session completes unpaid and the PaymentIntent is processing until
        `settle_delayed`. Returns the session."""
        with self._changes() as emitted:
            session = self._pay(session_id, delayed, email)
        self._deliver(emitted)
        return copy.deepcopy(session)

    def settle_delayed(self, session_id: str, succeeded: bool = True) -> dict:
        """The delayed payment of a completed session clears (or fails). Returns the PI."""
        with self._changes() as emitted:
            session = self._find("checkout.session", session_id)
            pi_id = session.get("payment_intent")
            pi = self._objects.get(pi_id or "")
            if pi is None or pi["status"] != "processing":
                raise _refused(f"Checkout Session {session_id} has no payment processing.")
            if succeeded:
                self._succeed(pi)
                session["payment_status"] = "paid"
                self._emit("payment_intent.succeeded", pi)
                self._emit("checkout.session.async_payment_succeeded", session)
            else:
                pi["status"] = "requires_payment_method"
                pi["last_payment_error"] = {
                    "code": "payment_method_provider_decline",
                    "message": "The customer's bank account could not be debited.",
                    "type": "invalid_request_error",
                }
                self._emit("payment_intent.payment_failed", pi)
                self._emit("checkout.session.async_payment_failed", session)
        self._deliver(emitted)
        return copy.deepcopy(pi)

    def expire_session(self, session_id: str) -> dict:
        """The session times out unpaid: status expired, `checkout.session.expired`."""
        with self._changes() as emitted:
            session = self._expire(self._find("checkout.session", session_id))
        self._deliver(emitted)
        return copy.deepcopy(session)

    def refund(self, charge_id: str, amount: int | None = None) -> dict:
        """Refund a charge (all that is left by default), as from the Dashboard."""
        with self._changes() as emitted:
            refund = self._refund(self._find("charge", charge_id), amount, {})
        self._deliver(emitted)
        return copy.deepcopy(refund)

    def dispute(
        self, charge_id: str, amount: int | None = None, reason: str = "fraudulent"
    ) -> dict:
        """The cardholder disputes the charge: the amount and a $15 fee leave the balance."""
        with self._changes() as emitted:
            charge = self._find("charge", charge_id)
            amount = charge["amount"] if amount is None else amount
            dispute_id = new_id("du")
            txn = self._txn(
                amount=-amount,
                type="adjustment",
                category="dispute",
                source=dispute_id,
                fee=DISPUTE_FEE,
                fee_details=[_fee_detail(DISPUTE_FEE, "Dispute fee")],
                description=f"Chargeback withdrawal for {charge_id}",
            )
            self.platform_available_cents -= amount + DISPUTE_FEE
            now = self.now
            dispute = self._store(
                {
                    "id": dispute_id,
                    "object": "dispute",
                    "amount": amount,
                    "balance_transactions": [copy.deepcopy(txn)],
                    "charge": charge_id,
                    "created": now,
                    "currency": charge["currency"],
                    "evidence": {},
                    "evidence_details": {
                        "due_by": now + 7 * DAY,
                        "has_evidence": False,
                        "past_due": False,
                        "submission_count": 0,
                    },
                    "is_charge_refundable": False,
                    "livemode": False,
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": reason,
                    "status": "needs_response",
                }
            )
            charge["disputed"] = True
            self._emit("charge.dispute.created", dispute)
        self._deliver(emitted)
        return copy.deepcopy(dispute)

    def close_dispute(self, dispute_id: str, won: bool) -> dict:
        """The dispute ends: won gives the amount and the fee back; lost keeps both."""
        with self._changes() as emitted:
            dispute = self._find("dispute", dispute_id)
            if dispute["status"] in ("won", "lost"):
                raise _refused(f"Dispute {dispute_id} is already closed.")
            if won:
                amount = dispute["amount"]
                txn = self._txn(
                    amount=amount,
                    type="adjustment",
                    category="dispute_reversal",
                    source=dispute_id,
                    fee=-DISPUTE_FEE,
                    fee_details=[_fee_detail(-DISPUTE_FEE, "Dispute fee refund")],
                    description=f"Chargeback reversal for {dispute['charge']}",
                )
                self.platform_available_cents += amount + DISPUTE_FEE
                dispute["balance_transactions"].append(copy.deepcopy(txn))
            dispute["status"] = "won" if won else "lost"
            self._emit("charge.dispute.closed", dispute)
        self._deliver(emitted)
        return copy.deepcopy(dispute)

    # -- control: Connect -----------------------------------------------------------

    def complete_onboarding(self, account_id: str) -> dict:
        """The account holder finishes onboarding (as the page's "Agree and submit")."""
        with self._changes() as emitted:
            account = self._complete_onboarding(account_id)
        self._deliver(emitted)
        return copy.deepcopy(account)

    def set_requirements(
        self,
        account_id: str,
        currently_due: Iterable[str] = (),
        payouts_enabled: bool = False,
        *,
        disabled_reason: str | None = None,
        transfers: str | None = None,
    ) -> dict:
        """Stripe asks the account for more: `currently_due` (past due, and payouts and
        charges disabled, unless `payouts_enabled`). The transfers capability follows
        payouts_enabled unless `transfers` says ("active", "inactive", "pending")."""
        with self._changes() as emitted:
            account = self._find("account", account_id)
            before = copy.deepcopy(account)
            due = sorted(set(currently_due))
            disabled = not payouts_enabled
            account["requirements"] = _requirements(
                due,
                past_due=due if disabled else [],
                disabled_reason=disabled_reason
                or ("requirements.past_due" if disabled and due else None),
                deadline=None if disabled or not due else self.now + 14 * DAY,
            )
            account["payouts_enabled"] = payouts_enabled
            account["charges_enabled"] = payouts_enabled
            for name in account["capabilities"]:
                account["capabilities"][name] = transfers or (
                    "active" if payouts_enabled else "inactive"
                )
            self._emit("account.updated", account, account=account_id, before=before)
        self._deliver(emitted)
        return copy.deepcopy(account)

    def settle_payout(
        self,
        payout_id: str,
        paid: bool = True,
        failure_code: str = "account_closed",
        failure_message: str = "The bank account has been closed.",
    ) -> dict:
        """The bank answers: paid (`payout.paid`), or failed (the money back on the
        connected account, `payout.failed`)."""
        with self._changes() as emitted:
            payout = self._find("payout", payout_id, _ANY)
            owner = self._owner[payout_id]
            if payout["status"] not in ("pending", "in_transit"):
                raise _refused(f"Payout {payout_id} is already {payout['status']}.")
            if paid:
                payout["status"] = "paid"
            else:
                txn = self._txn(
                    amount=payout["amount"],
                    type="payout_failure",
                    category="payout_reversal",
                    source=payout_id,
                    owner=owner,
                    description="Payout failure",
                )
                self._credit(owner, payout["amount"])
                payout.update(
                    status="failed",
                    failure_balance_transaction=txn["id"],
                    failure_code=failure_code,
                    failure_message=failure_message,
                )
            self._emit("payout.paid" if paid else "payout.failed", payout, account=owner)
        self._deliver(emitted)
        return copy.deepcopy(payout)

    # -- internals: state (the lock held) -------------------------------------------

    def _changes(self) -> _Changes:
        return _Changes(self)

    def _store(self, obj: dict[str, Any], owner: str | None = None) -> dict[str, Any]:
        self._objects[obj["id"]] = obj
        self._owner[obj["id"]] = owner
        self._order[obj["id"]] = next(self._sequence)
        self.created[obj["object"]] += 1
        return obj

    def _find(
        self, kind: str, object_id: str, account: Any = _ANY, param: str = "id", status: int = 404
    ) -> dict[str, Any]:
        obj = self._objects.get(object_id) if isinstance(object_id, str) else None
        if (
            obj is None
            or obj["object"] != kind
            or (account is not _ANY and self._owner.get(object_id) != account)
        ):
            raise FakeStripeError(
                status,
                f"No such {kind}: '{object_id}'",
                code="resource_missing",
                param=param,
                saved=False,
            )
        return obj

    def _emit(
        self,
        type: str,
        obj: dict[str, Any],
        *,
        account: str | None = None,
        before: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        call = self._call
        event: dict[str, Any] = {"id": new_id("evt"), "object": "event"}
        if account:
            event["account"] = account
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if before is not None:
            data["previous_attributes"] = {k: v for k, v in before.items() if obj.get(k) != v}
        event.update(
            {
                "api_version": API_VERSION,
                "created": self.now,
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {
                    "id": call.request_id if call else None,
                    "idempotency_key": call.idempotency_key if call else None,
                },
                "type": type,
            }
        )
        self._store(event, account)
        self.events.append(event)
        if self._emitted is not None:
            self._emitted.append(event)
        return event

    def _txn(
        self,
        *,
        amount: int,
        type: str,
        category: str,
        source: str,
        fee: int = 0,
        fee_details: list[dict[str, Any]] | None = None,
        owner: str | None = None,
        status: str = "available",
        available_on: int | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        now = self.now
        return self._store(
            {
                "id": new_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "available_on": now if available_on is None else available_on,
                "created": now,
                "currency": "usd",
                "description": description,
                "exchange_rate": None,
                "fee": fee,
                "fee_details": fee_details or [],
                "net": amount - fee,
                "reporting_category": category,
                "source": source,
                "status": status,
                "type": type,
            },
            owner,
        )

    def _credit(self, account: str | None, amount: int) -> None:
        if account is None:
            self.platform_available_cents += amount
        else:
            self._balances[account]["available"] += amount

    def _available(self, account: str | None) -> int:
        if account is None:
            return self.platform_available_cents
        return self._balances[account]["available"]

    def _expire(self, session: dict[str, Any]) -> dict[str, Any]:
        if session["status"] != "open":
            raise _refused(
                f'Only Checkout Sessions with a status in ["open"] can be expired. '
                f'This Checkout Session has a status of "{session["status"]}".',
                param="session",
            )
        session["status"] = "expired"
        self._emit("checkout.session.expired", session)
        return session

    def _lapse(self, session: dict[str, Any]) -> None:
        """A session past its expires_at expires when next looked at."""
        if session["status"] == "open" and self.now >= session["expires_at"]:
            self._expire(session)

    def _pay(self, session_id: str, delayed: bool, email: str | None) -> dict[str, Any]:
        session = self._find("checkout.session", session_id)
        self._lapse(session)
        if session["status"] == "complete":
            raise _refused("This Checkout Session has already been paid.")
        if session["status"] != "open":
            raise _refused("This Checkout Session is no longer active.")
        now = self.now
        pi_id = new_id("pi")
        pi = self._store(
            {
                "id": pi_id,
                "object": "payment_intent",
                "amount": session["amount_total"],
                "amount_capturable": 0,
                "amount_received": 0,
                "capture_method": "automatic_async",
                "client_secret": f"{pi_id}_secret_{new_id('x', 20)[2:]}",
                "confirmation_method": "automatic",
                "created": now,
                "currency": session["currency"],
                "customer": None,
                "description": None,
                "last_payment_error": None,
                "latest_charge": None,
                "livemode": False,
                "metadata": copy.deepcopy(self._session_pi_metadata.get(session_id, {})),
                "payment_method": new_id("pm"),
                "payment_method_types": ["us_bank_account" if delayed else "card"],
                "status": "processing" if delayed else "requires_confirmation",
                "transfer_group": None,
            }
        )
        session.update(
            status="complete",
            payment_status="unpaid" if delayed else "paid",
            payment_intent=pi_id,
            customer_details={
                "address": None,
                "email": email or session["customer_email"] or "customer@example.com",
                "name": "Test Customer",
                "phone": None,
                "tax_exempt": "none",
                "tax_ids": [],
            },
        )
        if not delayed:
            self._succeed(pi)
        self._emit("checkout.session.completed", session)
        if not delayed:
            self._emit("payment_intent.succeeded", pi)
        return session

    def _succeed(self, pi: dict[str, Any]) -> None:
        """The PaymentIntent succeeds: its Charge and the charge's balance transaction."""
        amount = pi["amount"]
        charge_id = new_id("ch")
        fee = card_fee(amount)
        now = self.now
        pending = self.funds_pending
        txn = self._txn(
            amount=amount,
            type="charge",
            category="charge",
            source=charge_id,
            fee=fee,
            fee_details=[_fee_detail(fee, "Stripe processing fees")],
            status="pending" if pending else "available",
            available_on=now + 2 * DAY if pending else now,
        )
        if pending:
            self.platform_pending_cents += amount - fee
        else:
            self.platform_available_cents += amount - fee
        card = pi["payment_method_types"] == ["card"]
        self._store(
            {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "balance_transaction": txn["id"],
                "billing_details": {"email": None, "name": "Test Customer"},
                "captured": True,
                "created": now,
                "currency": pi["currency"],
                "customer": None,
                "description": None,
                "disputed": False,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": copy.deepcopy(pi["metadata"]),
                "outcome": {
                    "network_status": "approved_by_network",
                    "risk_level": "normal",
                    "seller_message": "Payment complete.",
                    "type": "authorized",
                },
                "paid": True,
                "payment_intent": pi["id"],
                "payment_method": pi["payment_method"],
                "payment_method_details": (
                    {"type": "card", "card": {"brand": "visa", "last4": "4242"}}
                    if card
                    else {"type": "us_bank_account", "us_bank_account": {"last4": "6789"}}
                ),
                "receipt_url": f"https://pay.stripe.com/receipts/{charge_id}",
                "refunded": False,
                "status": "succeeded",
                "transfer_group": pi["transfer_group"],
            }
        )
        pi.update(status="succeeded", amount_received=amount, latest_charge=charge_id)

    def _refund(
        self, charge: dict[str, Any], amount: int | None, metadata: dict[str, str]
    ) -> dict[str, Any]:
        left = charge["amount"] - charge["amount_refunded"]
        if left <= 0:
            raise _refused(
                f"Charge {charge['id']} has already been refunded.", "charge_already_refunded"
            )
        if any(
            d["charge"] == charge["id"] and d["status"] not in ("won", "lost")
            for d in self._objects.values()
            if d["object"] == "dispute"
        ):
            raise _refused(
                f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                "charge_disputed",
            )
        amount = left if amount is None else amount
        if amount > left:
            raise _refused(
                f"Refund amount ({_money(amount, charge['currency'])}) is greater than unrefunded "
                f"amount on charge ({_money(left, charge['currency'])})",
                "amount_too_large",
                "amount",
            )
        refund_id = new_id("re")
        txn = self._txn(
            amount=-amount, type="refund", category="refund", source=refund_id, description="REFUND"
        )
        self.platform_available_cents -= amount
        refund = self._store(
            {
                "id": refund_id,
                "object": "refund",
                "amount": amount,
                "balance_transaction": txn["id"],
                "charge": charge["id"],
                "created": self.now,
                "currency": charge["currency"],
                "metadata": metadata,
                "payment_intent": charge["payment_intent"],
                "reason": None,
                "receipt_number": None,
                "status": "succeeded",
            }
        )
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self._emit("charge.refunded", charge)
        return refund

    def _complete_onboarding(self, account_id: str) -> dict[str, Any]:
        account = self._find("account", account_id)
        before = copy.deepcopy(account)
        bank = {
            "id": new_id("ba"),
            "object": "bank_account",
            "account": account_id,
            "bank_name": "STRIPE TEST BANK",
            "country": account["country"],
            "currency": "usd",
            "default_for_currency": True,
            "last4": "6789",
            "routing_number": "110000000",
            "status": "new",
        }
        externals = account["external_accounts"]
        if not externals["data"]:
            externals["data"].append(bank)
            externals["total_count"] = 1
        account.update(
            details_submitted=True,
            charges_enabled=True,
            payouts_enabled=True,
            requirements=_requirements([]),
            tos_acceptance={"date": self.now, "ip": "127.0.0.1", "user_agent": None},
        )
        for name in account["capabilities"]:
            account["capabilities"][name] = "active"
        self._emit("account.updated", account, account=account_id, before=before)
        return account

    def _list(
        self,
        items: list[dict[str, Any]],
        params: dict[str, Any],
        url: str,
    ) -> dict[str, Any]:
        """One page, newest first, after `starting_after` / before `ending_before`."""
        limit = _int_param(params, "limit", minimum=1, required=False)
        limit = DEFAULT_LIMIT if limit is None else limit
        if limit > MAX_LIMIT:
            raise _invalid(
                f"This value must be less than or equal to {MAX_LIMIT} (it currently is "
                f"'{limit}').",
                "limit",
            )
        items = sorted(
            items, key=lambda o: (o.get("created", 0), self._order[o["id"]]), reverse=True
        )
        ids = [o["id"] for o in items]
        after, before = params.get("starting_after"), params.get("ending_before")
        for name, cursor in (("starting_after", after), ("ending_before", before)):
            if cursor is not None and cursor not in ids:
                raise _invalid(f"No such object: '{cursor}'", name, "resource_missing")
        if after is not None:
            rest = items[ids.index(after) + 1 :]
            page, has_more = rest[:limit], len(rest) > limit
        elif before is not None:
            rest = items[: ids.index(before)]
            page, has_more = rest[-limit:], len(rest) > limit
        else:
            page, has_more = items[:limit], len(items) > limit
        return {"object": "list", "data": page, "has_more": has_more, "url": url}

    def _owned(self, kind: str, account: str | None) -> list[dict[str, Any]]:
        return [
            o
            for o in self._objects.values()
            if o["object"] == kind and self._owner[o["id"]] == account
        ]

    def _expand(self, obj: dict[str, Any], paths: Any) -> dict[str, Any]:
        result = copy.deepcopy(obj)
        if paths in (None, ""):
            return result
        if isinstance(paths, str):
            paths = [paths]
        if not isinstance(paths, list):
            raise _invalid("Invalid array", "expand")
        for path in paths:
            self._expand_path(result, str(path).split("."), str(path))
        return result

    def _expand_path(self, node: Any, parts: list[str], path: str) -> None:
        if not parts:
            return
        name, rest = parts[0], parts[1:]
        if isinstance(node, list):
            for item in node:
                self._expand_path(item, parts, path)
            return
        if not isinstance(node, dict) or name not in node:
            raise _invalid(f"This property cannot be expanded ({name}).", "expand")
        value = node[name]
        if isinstance(value, str):
            target = self._objects.get(value)
            if target is None or name in ("id", "object"):
                raise _invalid(f"This property cannot be expanded ({name}).", "expand")
            node[name] = value = copy.deepcopy(target)
        if value is not None:
            self._expand_path(value, rest, path)

    # -- internals: delivery (the lock not held) ------------------------------------

    def _destination(self, event: dict[str, Any]) -> tuple[str | None, str]:
        if "account" in event and self.connect_webhook_url:
            return self.connect_webhook_url, self.connect_webhook_secret
        return self.webhook_url, self.webhook_secret

    def _post_event(self, event: dict[str, Any]) -> int:
        url, secret = self._destination(event)
        if url is None:
            return 0
        payload = json.dumps(event, indent=2).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": self.sign(payload, secret=secret),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Cache-Control": "no-cache",
            "Accept": "*/*; q=0.5, application/xml",
        }
        try:
            status = (
                self._webhook_client()
                .post(url, content=payload, headers=headers, timeout=self.webhook_timeout)
                .status_code
            )
        except httpx.HTTPError:
            status = 0
        with self._lock:
            self.deliveries.append((event["id"], status))
        return status

    def _webhook_client(self) -> httpx.Client:
        """One client for every delivery (a new one per event costs tens of ms)."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client()
            return self._http

    def stop(self) -> None:
        self.wait_for_webhooks()
        super().stop()
        with self._lock:
            http, self._http = self._http, None
        if http is not None:
            http.close()

    def _deliver(self, events: list[dict[str, Any]]) -> None:
        if self.deliver_events:
            for event in events:
                self._post_event(event)

    def _deliver_later(self, events: list[dict[str, Any]]) -> None:
        """Deliver on a thread of its own (the in-flight count was raised already)."""

        def run() -> None:
            try:
                self._deliver(events)
            finally:
                with self._idle:
                    self._in_flight -= 1
                    self._idle.notify_all()

        threading.Thread(target=run, daemon=True, name="fake-stripe-webhooks").start()

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.times > 0 and fault.matches(method, path):
                    fault.times -= 1
                    return fault
        return None

    # -- the API --------------------------------------------------------------------

    def _api(
        self, method: str, path: str, params: dict[str, Any], headers: httpx.Headers
    ) -> _Answer:
        request_id = "req_" + new_id("x", 14)[2:]
        base_headers = {"Request-Id": request_id, "Stripe-Version": _version(headers)}
        try:
            self._authenticate(headers)
            route, match = _route(method, path)
            account = headers.get("Stripe-Account") or None
            with self._lock:
                if account is not None and (
                    self._objects.get(account, {}).get("object") != "account"
                ):
                    raise FakeStripeError(
                        403,
                        f"The provided key '{_mask(self.secret_key)}' does not have access to "
                        f"account '{account}' (or that account does not exist). Application "
                        "access may have been revoked.",
                        code="account_invalid",
                        saved=False,
                    )
                if account is not None and not route.connected:
                    raise _invalid(
                        f"The fake does not serve {method} {route.pattern} on a connected "
                        "account (Stripe-Account)."
                    )
        except FakeStripeError as error:
            return _error_answer(error, request_id, base_headers)
        key = headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            base_headers["Idempotency-Key"] = key
        fingerprint = (method, path, json.dumps(params, sort_keys=True))
        with self._changes() as emitted:
            if key:
                saved = self._saved.get((account or "", key))
                if saved is not None:
                    if saved.fingerprint == fingerprint:
                        return _Answer(
                            saved.status,
                            saved.body,
                            {
                                **base_headers,
                                "Idempotent-Replayed": "true",
                                "Original-Request": saved.request_id,
                            },
                        )
                    return _error_answer(
                        FakeStripeError(
                            400,
                            _idempotency_message(key, saved.fingerprint, fingerprint),
                            type="idempotency_error",
                            saved=False,
                        ),
                        request_id,
                        base_headers,
                    )
            self._call = _Call(method, path, params, account, request_id, key)
            try:
                status, payload = route.handler(self, self._call, *match.groups())
                body, keep = _json_bytes(payload), True
            except FakeStripeError as error:
                status, keep = error.status, error.saved
                body = _json_bytes(error.envelope(request_id))
                base_headers.update(error.headers)
            except Exception as bug:  # a fault of the fake itself: say so, as a 500
                error = FakeStripeError(
                    500, f"The fake failed: {bug!r}", type="api_error", saved=False
                )
                status, keep = 500, False
                body = _json_bytes(error.envelope(request_id))
                base_headers["Stripe-Should-Retry"] = "false"
            finally:
                self._call = None
            if key and keep:
                self._saved[(account or "", key)] = _Saved(fingerprint, status, body, request_id)
            answer = _Answer(status, body, base_headers)
            if emitted and self.deliver_events:
                answer.events = list(emitted)
                self._in_flight += 1
        return answer

    def _authenticate(self, headers: httpx.Headers) -> None:
        auth = headers.get("Authorization", "")
        key = ""
        if auth.startswith("Bearer "):
            key = auth.removeprefix("Bearer ").strip()
        elif auth.startswith("Basic "):
            try:
                key = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")[0]
            except ValueError:
                key = "?"
        if not key:
            raise FakeStripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, "
                "or we can help at https://support.stripe.com/.",
                saved=False,
            )
        if not hmac.compare_digest(key, self.secret_key):
            raise FakeStripeError(401, f"Invalid API Key provided: {_mask(key)}", saved=False)

    # Each endpoint: (self, call, *path ids) -> (status, payload), the lock held.

    def _create_checkout_session(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(
            p,
            "mode line_items success_url cancel_url client_reference_id customer_email "
            "customer customer_creation metadata payment_intent_data payment_method_types "
            "expires_at locale submit_type billing_address_collection allow_promotion_codes "
            "automatic_tax ui_mode return_url currency",
        )
        mode = _str_param(p, "mode")
        if mode != "payment":
            raise _invalid("The fake supports only mode=payment.", "mode", "parameter_invalid")
        line_items = p.get("line_items")
        if not line_items:
            raise _missing("line_items")
        if not isinstance(line_items, list):
            raise _invalid("Invalid array", "line_items")
        currency = None
        items: list[dict[str, Any]] = []
        for index, item in enumerate(line_items):
            where = f"line_items[{index}]"
            if not isinstance(item, dict):
                raise _invalid("Invalid object", where)
            price = item.get("price_data")
            if not isinstance(price, dict):
                raise _missing(f"{where}[price_data]")
            item_currency = _str_param(price, "currency", f"{where}[price_data][currency]").lower()
            unit = _int_param(
                price, "unit_amount", minimum=0, where=f"{where}[price_data][unit_amount]"
            )
            product = price.get("product_data")
            if not isinstance(product, dict):
                raise _missing(f"{where}[price_data][product_data]")
            name = _str_param(product, "name", f"{where}[price_data][product_data][name]")
            quantity = _int_param(item, "quantity", minimum=1, where=f"{where}[quantity]")
            if currency not in (None, item_currency):
                raise _invalid("All line items must have the same currency.", where)
            currency = item_currency
            items.append(
                {
                    "id": new_id("li"),
                    "object": "item",
                    "amount_discount": 0,
                    "amount_subtotal": unit * quantity,
                    "amount_tax": 0,
                    "amount_total": unit * quantity,
                    "currency": item_currency,
                    "description": name,
                    "price": {
                        "id": new_id("price"),
                        "object": "price",
                        "currency": item_currency,
                        "product": new_id("prod", 14),
                        "type": "one_time",
                        "unit_amount": unit,
                    },
                    "quantity": quantity,
                }
            )
        total = sum(i["amount_total"] for i in items)
        if currency == "usd" and total < MIN_CHARGE:
            raise _invalid(
                "The Checkout Session's total amount due must add up to at least $0.50 usd",
                code="amount_too_small",
            )
        metadata = _metadata(p)
        pi_data = p.get("payment_intent_data") or {}
        if not isinstance(pi_data, dict):
            raise _invalid("Invalid object", "payment_intent_data")
        pi_metadata = _metadata(pi_data, "payment_intent_data[metadata]")
        now = self.now
        session_id = "cs_test_" + new_id("a1", 56)
        session = self._store(
            {
                "id": session_id,
                "object": "checkout.session",
                "after_expiration": None,
                "allow_promotion_codes": None,
                "amount_subtotal": total,
                "amount_total": total,
                "automatic_tax": {"enabled": False, "liability": None, "status": None},
                "billing_address_collection": None,
                "cancel_url": p.get("cancel_url"),
                "client_reference_id": p.get("client_reference_id"),
                "created": now,
                "currency": currency,
                "customer": p.get("customer"),
                "customer_creation": "if_required",
                "customer_details": None,
                "customer_email": p.get("customer_email"),
                "expires_at": int(p["expires_at"])
                if p.get("expires_at")
                else now + SESSION_SECONDS,
                "invoice": None,
                "livemode": False,
                "locale": p.get("locale"),
                "metadata": metadata,
                "mode": mode,
                "payment_intent": None,
                "payment_link": None,
                "payment_method_types": p.get("payment_method_types") or ["card"],
                "payment_status": "unpaid",
                "status": "open",
                "submit_type": p.get("submit_type"),
                "subscription": None,
                "success_url": p.get("success_url"),
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "ui_mode": "hosted",
                "url": f"{self.url}/checkout/{session_id}",
            }
        )
        self._line_items[session_id] = items
        self._session_pi_metadata[session_id] = pi_metadata
        return 200, self._expand(session, p.get("expand"))

    def _get_checkout_session(self, call: _Call, session_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        session = self._find("checkout.session", session_id, None)
        self._lapse(session)
        return 200, self._expand(session, call.params.get("expand"))

    def _list_checkout_sessions(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "limit starting_after ending_before payment_intent status customer created")
        items = [
            s
            for s in self._owned("checkout.session", None)
            if all(p.get(k) in (None, s.get(k)) for k in ("payment_intent", "status", "customer"))
            and _in_range(s["created"], p.get("created"))
        ]
        return 200, self._list(items, p, "/v1/checkout/sessions")

    def _session_line_items(self, call: _Call, session_id: str) -> tuple[int, Any]:
        _allow(call.params, "limit starting_after ending_before")
        self._find("checkout.session", session_id, None)
        items = self._line_items[session_id]
        url = f"/v1/checkout/sessions/{session_id}/line_items"
        return 200, {"object": "list", "data": copy.deepcopy(items), "has_more": False, "url": url}

    def _expire_checkout_session(self, call: _Call, session_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        return 200, self._expand(
            self._expire(self._find("checkout.session", session_id, None)),
            call.params.get("expand"),
        )

    def _get_payment_intent(self, call: _Call, pi_id: str) -> tuple[int, Any]:
        _allow(call.params, "client_secret")
        pi = self._find("payment_intent", pi_id, None, param="intent")
        return 200, self._expand(pi, call.params.get("expand"))

    def _get_charge(self, call: _Call, charge_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        charge = self._find("charge", charge_id, None, param="charge")
        return 200, self._expand(charge, call.params.get("expand"))

    def _create_refund(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "charge payment_intent amount metadata reason instructions_email")
        amount = _int_param(p, "amount", minimum=1, required=False)
        metadata = _metadata(p)
        if p.get("charge"):
            charge = self._find("charge", p["charge"], None, "charge", 400)
        elif p.get("payment_intent"):
            pi = self._find("payment_intent", p["payment_intent"], None, "payment_intent", 400)
            if not pi["latest_charge"]:
                raise _refused(
                    f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                    param="payment_intent",
                )
            charge = self._objects[pi["latest_charge"]]
        else:
            raise _invalid(
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                "charge",
                "parameter_missing",
            )
        return 200, self._expand(self._refund(charge, amount, metadata), p.get("expand"))

    def _get_refund(self, call: _Call, refund_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        return 200, self._expand(self._find("refund", refund_id, None), call.params.get("expand"))

    def _list_refunds(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "charge payment_intent limit starting_after ending_before created")
        items = [
            r
            for r in self._owned("refund", None)
            if p.get("charge") in (None, r["charge"])
            and p.get("payment_intent") in (None, r["payment_intent"])
            and _in_range(r["created"], p.get("created"))
        ]
        return 200, self._list(items, p, "/v1/refunds")

    def _get_dispute(self, call: _Call, dispute_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        dispute = self._find("dispute", dispute_id, None, param="dispute")
        return 200, self._expand(dispute, call.params.get("expand"))

    def _create_account(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(
            p,
            "type email country capabilities metadata business_type business_profile settings "
            "controller default_currency tos_acceptance individual company",
        )
        kind = p.get("type") or ("express" if p.get("controller") else None)
        if kind is None:
            raise _missing("type")
        if kind not in ("express", "standard", "custom"):
            raise _invalid("Invalid type: must be one of custom, express, or standard", "type")
        caps = p.get("capabilities") or {}
        if not isinstance(caps, dict):
            raise _invalid("Invalid object", "capabilities")
        requested = {
            name: "inactive"
            for name, spec in caps.items()
            if isinstance(spec, dict) and spec.get("requested") == "true"
        }
        if kind == "express" and "transfers" not in requested:
            raise _invalid(
                "Express accounts must request the `transfers` capability "
                "(capabilities[transfers][requested]=true).",
                "capabilities",
            )
        metadata = _metadata(p)
        account_id = new_id("acct", 16)
        due = list(NEW_ACCOUNT_REQUIREMENTS)
        settings: dict[str, Any] = {
            "payouts": {
                "debit_negative_balances": True,
                "schedule": {"delay_days": 2, "interval": "daily"},
                "statement_descriptor": None,
            }
        }
        _merge(settings, p.get("settings") or {})
        profile = {"mcc": None, "name": None, "product_description": None, "url": None}
        _merge(profile, p.get("business_profile") or {})
        account = self._store(
            {
                "id": account_id,
                "object": "account",
                "business_profile": profile,
                "business_type": p.get("business_type"),
                "capabilities": requested,
                "charges_enabled": False,
                "country": (p.get("country") or "US").upper(),
                "created": self.now,
                "default_currency": p.get("default_currency") or "usd",
                "details_submitted": False,
                "email": p.get("email"),
                "external_accounts": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/accounts/{account_id}/external_accounts",
                },
                "future_requirements": _requirements([]),
                "metadata": metadata,
                "payouts_enabled": False,
                "requirements": _requirements(
                    due, past_due=due, disabled_reason="requirements.past_due"
                ),
                "settings": settings,
                "tos_acceptance": {"date": None, "ip": None, "user_agent": None},
                "type": kind,
            }
        )
        self._balances[account_id] = {"available": 0, "pending": 0}
        return 200, self._expand(account, p.get("expand"))

    def _get_account(self, call: _Call, account_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        account = self._find("account", account_id, None, param="account")
        return 200, self._expand(account, call.params.get("expand"))

    def _update_account(self, call: _Call, account_id: str) -> tuple[int, Any]:
        p = call.params
        _allow(p, "email metadata settings business_profile")
        account = self._find("account", account_id, None, param="account")
        before = copy.deepcopy(account)
        if "metadata" in p:
            for name, value in _metadata(p).items():
                if value == "":
                    account["metadata"].pop(name, None)
                else:
                    account["metadata"][name] = value
        if "email" in p:
            account["email"] = p["email"]
        _merge(account["settings"], p.get("settings") or {})
        _merge(account["business_profile"], p.get("business_profile") or {})
        if account != before:
            self._emit("account.updated", account, account=account_id, before=before)
        return 200, self._expand(account, p.get("expand"))

    def _create_account_link(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "account refresh_url return_url type collect collection_options")
        account_id = _str_param(p, "account")
        kind = _str_param(p, "type")
        if kind not in ("account_onboarding", "account_update"):
            raise _invalid(
                "Invalid type: must be one of account_onboarding or account_update", "type"
            )
        refresh_url = _str_param(p, "refresh_url")
        return_url = _str_param(p, "return_url")
        self._find("account", account_id, None, "account", 400)
        now = self.now
        link_id = secrets.token_urlsafe(18)
        self._links[link_id] = _Link(account_id, refresh_url, return_url, now + LINK_SECONDS)
        self.created["account_link"] += 1
        return 200, {
            "object": "account_link",
            "created": now,
            "expires_at": now + LINK_SECONDS,
            "url": f"{self.url}/connect/{link_id}",
        }

    def _create_transfer(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(
            p, "amount currency destination metadata transfer_group description source_transaction"
        )
        amount = _int_param(p, "amount", minimum=1)
        currency = _str_param(p, "currency").lower()
        destination = _str_param(p, "destination")
        metadata = _metadata(p)
        source = p.get("source_transaction")
        account = self._objects.get(destination)
        if account is None or account["object"] != "account":
            raise _invalid(
                f"No such destination: '{destination}'", "destination", "resource_missing"
            )
        if account["capabilities"].get("transfers") != "active":
            raise _refused(
                TRANSFER_CAPABILITY_MESSAGE, "insufficient_capabilities_for_transfer", "destination"
            )
        if source is not None:
            charge = self._find("charge", source, None, "source_transaction", 400)
            if amount > charge["amount"] - charge["amount_refunded"]:
                raise _refused(
                    "The transfer amount exceeds the source transaction's amount.",
                    param="amount",
                )
        elif self.platform_available_cents < amount:
            raise _refused(
                "You have insufficient available funds in your Stripe account. Try adding funds "
                "directly to your available balance by creating Charges using the "
                "4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
                "balance_insufficient",
            )
        transfer_id = new_id("tr")
        payment_id = new_id("py")
        txn = self._txn(amount=-amount, type="transfer", category="transfer", source=transfer_id)
        self.platform_available_cents -= amount
        self._txn(
            amount=amount, type="payment", category="charge", source=payment_id, owner=destination
        )
        self._balances[destination]["available"] += amount
        transfer = self._store(
            {
                "id": transfer_id,
                "object": "transfer",
                "amount": amount,
                "amount_reversed": 0,
                "balance_transaction": txn["id"],
                "created": self.now,
                "currency": currency,
                "description": p.get("description"),
                "destination": destination,
                "destination_payment": payment_id,
                "livemode": False,
                "metadata": metadata,
                "reversals": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "total_count": 0,
                    "url": f"/v1/transfers/{transfer_id}/reversals",
                },
                "reversed": False,
                "source_transaction": source,
                "source_type": "card",
                "transfer_group": p.get("transfer_group"),
            }
        )
        self._emit("transfer.created", transfer)
        return 200, self._expand(transfer, p.get("expand"))

    def _get_transfer(self, call: _Call, transfer_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        transfer = self._find("transfer", transfer_id, None, param="transfer")
        return 200, self._expand(transfer, call.params.get("expand"))

    def _list_transfers(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "destination transfer_group limit starting_after ending_before created")
        items = [
            t
            for t in self._owned("transfer", None)
            if p.get("destination") in (None, t["destination"])
            and p.get("transfer_group") in (None, t["transfer_group"])
            and _in_range(t["created"], p.get("created"))
        ]
        return 200, self._list(items, p, "/v1/transfers")

    def _create_reversal(self, call: _Call, transfer_id: str) -> tuple[int, Any]:
        p = call.params
        _allow(p, "amount metadata description refund_application_fee")
        transfer = self._find("transfer", transfer_id, None, param="id")
        amount = _int_param(p, "amount", minimum=1, required=False)
        metadata = _metadata(p)
        left = transfer["amount"] - transfer["amount_reversed"]
        if left <= 0:
            raise _refused(f"Transfer {transfer_id} has already been fully reversed.")
        amount = left if amount is None else amount
        if amount > left:
            raise _refused(
                f"You have requested a reversal of {_money(amount, transfer['currency'])}, but "
                f"only {_money(left, transfer['currency'])} of this transfer can be reversed.",
                "amount_too_large",
                "amount",
            )
        reversal_id = new_id("trr")
        refund_id = new_id("pyr")
        destination = transfer["destination"]
        txn = self._txn(
            amount=amount, type="transfer_refund", category="transfer_reversal", source=reversal_id
        )
        self.platform_available_cents += amount
        self._txn(
            amount=-amount,
            type="payment_refund",
            category="refund",
            source=refund_id,
            owner=destination,
        )
        self._balances[destination]["available"] -= amount
        reversal = self._store(
            {
                "id": reversal_id,
                "object": "transfer_reversal",
                "amount": amount,
                "balance_transaction": txn["id"],
                "created": self.now,
                "currency": transfer["currency"],
                "destination_payment_refund": refund_id,
                "metadata": metadata,
                "source_refund": None,
                "transfer": transfer_id,
            }
        )
        transfer["amount_reversed"] += amount
        transfer["reversed"] = transfer["amount_reversed"] == transfer["amount"]
        transfer["reversals"]["data"].insert(0, copy.deepcopy(reversal))
        transfer["reversals"]["total_count"] += 1
        self._emit("transfer.reversed", transfer)
        return 200, self._expand(reversal, p.get("expand"))

    def _list_reversals(self, call: _Call, transfer_id: str) -> tuple[int, Any]:
        _allow(call.params, "limit starting_after ending_before")
        self._find("transfer", transfer_id, None)
        items = [r for r in self._owned("transfer_reversal", None) if r["transfer"] == transfer_id]
        return 200, self._list(items, call.params, f"/v1/transfers/{transfer_id}/reversals")

    def _create_payout(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "amount currency metadata description method statement_descriptor destination")
        amount = _int_param(p, "amount", minimum=1)
        currency = _str_param(p, "currency").lower()
        metadata = _metadata(p)
        owner = call.account
        destination = None
        if owner is not None:
            account = self._objects[owner]
            if not account["payouts_enabled"]:
                raise _refused(
                    "Cannot create payouts: this account has requirements that need to be "
                    "collected (see requirements.currently_due).",
                    "payouts_not_allowed",
                )
            externals = account["external_accounts"]["data"]
            destination = externals[0]["id"] if externals else None
        if self._available(owner) < amount:
            raise _refused(
                "You have insufficient funds in your Stripe account for this transfer. Your "
                "card balance is too low. You can use the /v1/balance endpoint to view your "
                "Stripe balance (for more details, see stripe.com/docs/api#balance).",
                "balance_insufficient",
                "amount",
            )
        payout_id = new_id("po")
        txn = self._txn(
            amount=-amount, type="payout", category="payout", source=payout_id, owner=owner
        )
        self._credit(owner, -amount)
        now = self.now
        payout = self._store(
            {
                "id": payout_id,
                "object": "payout",
                "amount": amount,
                "arrival_date": now + 2 * DAY,
                "automatic": False,
                "balance_transaction": txn["id"],
                "created": now,
                "currency": currency,
                "description": p.get("description"),
                "destination": p.get("destination") or destination,
                "failure_balance_transaction": None,
                "failure_code": None,
                "failure_message": None,
                "livemode": False,
                "metadata": metadata,
                "method": p.get("method") or "standard",
                "source_type": "card",
                "statement_descriptor": p.get("statement_descriptor"),
                "status": "pending",
                "type": "bank_account",
            },
            owner,
        )
        return 200, self._expand(payout, p.get("expand"))

    def _get_payout(self, call: _Call, payout_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        payout = self._find("payout", payout_id, call.account, param="payout")
        return 200, self._expand(payout, call.params.get("expand"))

    def _get_balance(self, call: _Call) -> tuple[int, Any]:
        _allow(call.params, "")
        if call.account is None:
            available, pending = self.platform_available_cents, self.platform_pending_cents
        else:
            balance = self._balances[call.account]
            available, pending = balance["available"], balance["pending"]
        return 200, {
            "object": "balance",
            "available": [
                {"amount": available, "currency": "usd", "source_types": {"card": available}}
            ],
            "livemode": False,
            "pending": [{"amount": pending, "currency": "usd", "source_types": {"card": pending}}],
        }

    def _list_balance_transactions(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "created type source currency payout limit starting_after ending_before")
        items = [
            t
            for t in self._owned("balance_transaction", call.account)
            if p.get("type") in (None, t["type"])
            and p.get("source") in (None, t["source"])
            and p.get("currency") in (None, t["currency"])
            and _in_range(t["created"], p.get("created"))
        ]
        page = self._list(items, p, "/v1/balance_transactions")
        return 200, self._expand(page, p.get("expand"))

    def _get_balance_transaction(self, call: _Call, txn_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        txn = self._find("balance_transaction", txn_id, call.account)
        return 200, self._expand(txn, call.params.get("expand"))

    def _list_events(self, call: _Call) -> tuple[int, Any]:
        p = call.params
        _allow(p, "type types created limit starting_after ending_before delivery_success")
        types = p.get("types") or ([p["type"]] if p.get("type") else None)
        items = [
            e
            for e in self._owned("event", call.account)
            if (types is None or _type_matches(e["type"], types))
            and _in_range(e["created"], p.get("created"))
        ]
        return 200, self._list(items, p, "/v1/events")

    def _get_event(self, call: _Call, event_id: str) -> tuple[int, Any]:
        _allow(call.params, "")
        return 200, self._expand(
            self._find("event", event_id, call.account), call.params.get("expand")
        )

    # -- the pages ------------------------------------------------------------------

    def _checkout_page(self, session_id: str) -> _Answer:
        with self._changes() as emitted:
            session = self._objects.get(session_id)
            if session is None or session["object"] != "checkout.session":
                return _page(
                    404,
                    "Something went wrong",
                    "<p>The page you were looking for could not be found.</p>",
                )
            self._lapse(session)
            items = copy.deepcopy(self._line_items[session_id])
            session = copy.deepcopy(session)
        self._deliver(emitted)
        if session["status"] != "open":
            message = (
                "Your payment is complete."
                if session["status"] == "complete"
                else "This Checkout Session is no longer active."
            )
            return _page(200, "Checkout", f"<p>{html.escape(message)}</p>")
        total = _money(session["amount_total"], session["currency"])
        rows = "".join(
            f"<li>{html.escape(i['description'])} × {i['quantity']}: "
            f"{_money(i['amount_total'], i['currency'])}</li>"
            for i in items
        )
        email = html.escape(session["customer_email"] or "")
        cancel = (
            f'<p><a href="{html.escape(session["cancel_url"])}">Cancel</a></p>'
            if session["cancel_url"]
            else ""
        )
        body = (
            '<p class="test-mode">TEST MODE</p>'
            f'<p class="total">{total}</p><ul>{rows}</ul>'
            f'<form method="post" action="/checkout/{html.escape(session_id)}/pay">'
            f'<label>Email <input type="email" name="email" value="{email}"></label> '
            '<label>Card number <input name="card" value="4242 4242 4242 4242" readonly></label> '
            f'<button type="submit">Pay {total}</button></form>{cancel}'
        )
        return _page(200, f"Pay {total}", body)

    def _checkout_pay(self, session_id: str, form: dict[str, Any]) -> _Answer:
        try:
            with self._changes() as emitted:
                session = self._pay(session_id, False, form.get("email") or None)
                session = copy.deepcopy(session)
        except FakeStripeError as error:
            status = 404 if error.status == 404 else 409
            return _page(status, "Checkout", f"<p>{html.escape(error.message)}</p>")
        self._deliver(emitted)
        if not session["success_url"]:
            return _page(200, "Thanks", "<p>Thanks for your payment.</p>")
        return _redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))

    def _connect_page(self, link_id: str) -> _Answer:
        with self._lock:
            link = self._links.get(link_id)
            if link is None:
                return _page(404, "Link not found", "<p>This link is not valid.</p>")
            if link.state != "fresh" or self.now >= link.expires_at:
                return _redirect(link.refresh_url)
            link.state = "shown"
            account = copy.deepcopy(self._objects[link.account])
        who = html.escape(account["email"] or account["id"])
        body = (
            '<p class="test-mode">TEST MODE</p>'
            f"<p>Stripe verifies the identity of {who} and pays out to their bank account.</p>"
            f'<form method="post" action="/connect/{html.escape(link_id)}">'
            '<button type="submit">Agree and submit</button></form>'
        )
        return _page(200, f"Set up payouts for {who}", body)

    def _connect_submit(self, link_id: str) -> _Answer:
        with self._changes() as emitted:
            link = self._links.get(link_id)
            if link is None:
                return _page(404, "Link not found", "<p>This link is not valid.</p>")
            if link.state == "used" or self.now >= link.expires_at:
                return _redirect(link.refresh_url)
            link.state = "used"
            self._complete_onboarding(link.account)
        self._deliver(emitted)
        return _redirect(link.return_url)


class _Changes:
    """The lock held while the state changes; the events emitted meanwhile collected."""

    def __init__(self, fake: FakeStripe) -> None:
        self.fake = fake

    def __enter__(self) -> list[dict[str, Any]]:
        self.fake._lock.acquire()
        self.emitted: list[dict[str, Any]] = []
        self.fake._emitted = self.emitted
        return self.emitted

    def __exit__(self, *exc: object) -> None:
        self.fake._emitted = None
        self.fake._lock.release()


# -- helpers ------------------------------------------------------------------------


def _requirements(
    due: list[str],
    *,
    past_due: list[str] | None = None,
    disabled_reason: str | None = None,
    deadline: int | None = None,
) -> dict[str, Any]:
    return {
        "alternatives": [],
        "current_deadline": deadline,
        "currently_due": list(due),
        "disabled_reason": disabled_reason,
        "errors": [],
        "eventually_due": list(due),
        "past_due": list(past_due or []),
        "pending_verification": [],
    }


def _fee_detail(amount: int, description: str) -> dict[str, Any]:
    return {
        "amount": amount,
        "application": None,
        "currency": "usd",
        "description": description,
        "type": "stripe_fee",
    }


def _money(cents: int, currency: str | None) -> str:
    if (currency or "usd").lower() == "usd":
        sign = "-" if cents < 0 else ""
        return f"{sign}${abs(cents) / 100:,.2f}"
    return f"{cents / 100:,.2f} {(currency or '').upper()}"


def _mask(key: str) -> str:
    if len(key) <= 12:
        return "*" * len(key)
    return key[:8] + "*" * (len(key) - 12) + key[-4:]


def _version(headers: httpx.Headers) -> str:
    return headers.get("Stripe-Version") or API_VERSION


def _json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, indent=2).encode()


def _error_answer(error: FakeStripeError, request_id: str, headers: dict[str, str]) -> _Answer:
    return _Answer(
        error.status, _json_bytes(error.envelope(request_id)), {**headers, **error.headers}
    )


def _idempotency_message(key: str, first: tuple[str, str, str], now: tuple[str, str, str]) -> str:
    if first[:2] != now[:2]:
        return (
            "Keys for idempotent requests can only be used for the same endpoint they were "
            f"first used for ('{' '.join(first[:2])}' vs '{' '.join(now[:2])}'). Try using a "
            f"key other than '{key}' if you meant to execute a different request."
        )
    return (
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request."
    )


def _allow(params: dict[str, Any], names: str) -> None:
    allowed = set(names.split()) | {"expand"}
    for name in params:
        if name not in allowed:
            raise _invalid(f"Received unknown parameter: {name}", name, "parameter_unknown")


def _str_param(params: dict[str, Any], name: str, where: str | None = None) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise _missing(where or name)
    if not isinstance(value, str):
        raise _invalid("Invalid string", where or name)
    return value


def _int_param(
    params: dict[str, Any],
    name: str,
    *,
    minimum: int = 0,
    required: bool = True,
    where: str | None = None,
) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise _missing(where or name)
        return None
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise _invalid(f"Invalid integer: {value}", where or name, "parameter_invalid_integer")
    number = int(value)
    if number < minimum:
        kind = "positive integer" if minimum == 1 else "non-negative integer"
        raise _invalid(f"Invalid {kind}", where or name, "parameter_invalid_integer")
    return number


def _metadata(params: dict[str, Any], where: str = "metadata") -> dict[str, str]:
    value = params.get("metadata")
    if value is None or value == "":
        return {}
    if not isinstance(value, dict):
        raise _invalid("Invalid object", where)
    if len(value) > 50:
        raise _invalid("Metadata can have up to 50 keys.", where)
    for key, item in value.items():
        if not isinstance(item, str):
            raise _invalid("Invalid string", f"{where}[{key}]")
        if len(key) > 40:
            raise _invalid("Metadata keys can be up to 40 characters long.", f"{where}[{key}]")
        if len(item) > 500:
            raise _invalid("Metadata values can be up to 500 characters long.", f"{where}[{key}]")
    return dict(value)


def _merge(target: dict[str, Any], source: Any) -> None:
    if not isinstance(source, dict):
        return
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif key in ("delay_days", "monthly_anchor") and isinstance(value, str) and value.isdigit():
            target[key] = int(value)
        else:
            target[key] = value


def _in_range(value: int, spec: Any) -> bool:
    """`created=123` or `created[gte]=..&created[lt]=..`."""
    if spec is None or spec == "":
        return True
    if isinstance(spec, str):
        if not spec.isdigit():
            raise _invalid(f"Invalid integer: {spec}", "created", "parameter_invalid_integer")
        return value == int(spec)
    if not isinstance(spec, dict):
        raise _invalid("Invalid object", "created")
    checks = {
        "gt": lambda bound: value > bound,
        "gte": lambda bound: value >= bound,
        "lt": lambda bound: value < bound,
        "lte": lambda bound: value <= bound,
    }
    for op, bound in spec.items():
        if op not in checks:
            raise _invalid(
                f"Received unknown parameter: created[{op}]", f"created[{op}]", "parameter_unknown"
            )
        if not isinstance(bound, str) or not bound.isdigit():
            raise _invalid(
                f"Invalid integer: {bound}", f"created[{op}]", "parameter_invalid_integer"
            )
        if not checks[op](int(bound)):
            return False
    return True


def _type_matches(event_type: str, wanted: Any) -> bool:
    patterns = wanted if isinstance(wanted, list) else [wanted]
    for pattern in patterns:
        if pattern == event_type or (
            isinstance(pattern, str)
            and pattern.endswith("*")
            and event_type.startswith(pattern[:-1])
        ):
            return True
    return False


def _page(status: int, title: str, body: str) -> _Answer:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return _Answer(status, document.encode(), content_type="text/html; charset=utf-8")


def _redirect(location: str) -> _Answer:
    return _Answer(303, b"", {"Location": location}, content_type="text/plain")


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: str
    handler: Callable[..., tuple[int, Any]]
    connected: bool = False  # also served with Stripe-Account


_ID = r"([^/]+)"
_ROUTES = [
    _Route("POST", "/v1/checkout/sessions", FakeStripe._create_checkout_session),
    _Route("GET", "/v1/checkout/sessions", FakeStripe._list_checkout_sessions),
    _Route("GET", f"/v1/checkout/sessions/{_ID}", FakeStripe._get_checkout_session),
    _Route("GET", f"/v1/checkout/sessions/{_ID}/line_items", FakeStripe._session_line_items),
    _Route("POST", f"/v1/checkout/sessions/{_ID}/expire", FakeStripe._expire_checkout_session),
    _Route("GET", f"/v1/payment_intents/{_ID}", FakeStripe._get_payment_intent),
    _Route("GET", f"/v1/charges/{_ID}", FakeStripe._get_charge),
    _Route("POST", "/v1/refunds", FakeStripe._create_refund),
    _Route("GET", "/v1/refunds", FakeStripe._list_refunds),
    _Route("GET", f"/v1/refunds/{_ID}", FakeStripe._get_refund),
    _Route("GET", f"/v1/disputes/{_ID}", FakeStripe._get_dispute),
    _Route("POST", "/v1/accounts", FakeStripe._create_account),
    _Route("GET", f"/v1/accounts/{_ID}", FakeStripe._get_account),
    _Route("POST", f"/v1/accounts/{_ID}", FakeStripe._update_account),
    _Route("POST", "/v1/account_links", FakeStripe._create_account_link),
    _Route("POST", "/v1/transfers", FakeStripe._create_transfer),
    _Route("GET", "/v1/transfers", FakeStripe._list_transfers),
    _Route("GET", f"/v1/transfers/{_ID}", FakeStripe._get_transfer),
    _Route("POST", f"/v1/transfers/{_ID}/reversals", FakeStripe._create_reversal),
    _Route("GET", f"/v1/transfers/{_ID}/reversals", FakeStripe._list_reversals),
    _Route("POST", "/v1/payouts", FakeStripe._create_payout, True),
    _Route("GET", f"/v1/payouts/{_ID}", FakeStripe._get_payout, True),
    _Route("GET", "/v1/balance", FakeStripe._get_balance, True),
    _Route("GET", "/v1/balance_transactions", FakeStripe._list_balance_transactions, True),
    _Route("GET", f"/v1/balance_transactions/{_ID}", FakeStripe._get_balance_transaction, True),
    _Route("GET", "/v1/events", FakeStripe._list_events, True),
    _Route("GET", f"/v1/events/{_ID}", FakeStripe._get_event, True),
]
_COMPILED = [(route, re.compile(f"^{route.pattern}$")) for route in _ROUTES]


def _route(method: str, path: str) -> tuple[_Route, re.Match[str]]:
    for route, pattern in _COMPILED:
        match = pattern.match(path)
        if match and route.method == method:
            return route, match
    raise FakeStripeError(
        404,
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or "
        "we can help at https://support.stripe.com/.",
        saved=False,
    )


def _handler_for(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.fake = fake
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stalls
    timeout = 30
    fake: FakeStripe

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.fake
        parsed = urlparse(self.path)
        path = unquote(parsed.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        pairs = parse_qsl(parsed.query, keep_blank_values=True)
        if body and "json" not in (self.headers.get("Content-Type") or ""):
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        params = parse_form(pairs)
        record = Recorded(method, path, params, httpx.Headers(list(self.headers.items())), body)
        with fake._lock:
            fake.requests.append(record)
        fault = fake._take_fault(method, path)
        if fault is not None and not fault.after_execution:
            if fault.drop:
                self.close_connection = True
                return
            assert fault.error is not None
            request_id = "req_" + new_id("x", 14)[2:]
            self._send(record, _error_answer(fault.error, request_id, {"Request-Id": request_id}))
            return
        if path.startswith("/v1/"):
            answer = fake._api(method, path, params, record.headers)
        else:
            answer = self._page_answer(method, path, params)
        if fault is not None:  # dropped after running: the answer is lost
            self.close_connection = True
        else:
            self._send(record, answer)
        if answer.events:
            fake._deliver_later(answer.events)

    def _page_answer(self, method: str, path: str, form: dict[str, Any]) -> _Answer:
        fake = self.fake
        parts = path.strip("/").split("/")
        if method == "GET" and len(parts) == 2 and parts[0] == "checkout":
            return fake._checkout_page(parts[1])
        if method == "POST" and len(parts) == 3 and parts[0] == "checkout" and parts[2] == "pay":
            return fake._checkout_pay(parts[1], form)
        if len(parts) == 2 and parts[0] == "connect":
            if method == "GET":
                return fake._connect_page(parts[1])
            if method == "POST":
                return fake._connect_submit(parts[1])
        return _page(404, "Not found", "<p>The page you were looking for could not be found.</p>")

    def _send(self, record: Recorded, answer: _Answer) -> None:
        record.status = answer.status
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)
        self.wfile.flush()


@pytest.fixture
def fake_stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """A running fake with ClipGen's settings pointed at it (import it into a test module)."""
    with FakeStripe() as fake:
        fake.apply_env(monkeypatch)
        yield fake
        fake.wait_for_webhooks()
    get_settings.cache_clear()
