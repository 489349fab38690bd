"""Rate limits on event handlers: `@limited(kind)`, and the handlers that need none.

Every public handler that writes, or reads expensively, counts one call of a kind in
`config.RATE_LIMIT_DEFAULTS` for the signed-in user (resolved on the server now) and
for the client address, before it does anything; a caller over the limit is refused
("Too many attempts; try again in N s") and nothing runs. Handlers that need no limit
are listed in `NOT_LIMITED` with the reason; a test fails for a handler in neither.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Protocol

from clipgen.services import rate_limits
from clipgen.services.errors import RateLimited
from clipgen.state.client import request_client_address


class LimitedTab(Protocol):
    """What a limited handler's state offers (`state.session.SessionState` does)."""

    session_token: str
    router: Any

    def _actor(self) -> Any: ...

    def _refused(self, error: Any, error_var: str | None, to_sign_in: bool = True) -> Any: ...


LIMITED_ATTRIBUTE = "_clipgen_rate_limit"


def limit_keys(state: LimitedTab) -> list[str]:
    """Who is calling: the signed-in user (checked now, not trusted from vars), if any,
    and the client address as the trusted proxies vouch for it."""
    user = state._actor() if state.session_token else None
    keys = [rate_limits.user_key(user.id)] if user is not None else []
    keys.append(rate_limits.address_key(request_client_address(state.router)))
    return keys


def check_limit(state: LimitedTab, kind: str) -> None:
    """Count one `kind` call of this tab's user and address, or raise `RateLimited`."""
    rate_limits.hit(kind, *limit_keys(state))


def limited(kind: str, error_var: str | None = None) -> Callable[[Callable], Callable]:
    """Count the call against `kind`'s limit before the handler runs; refuse it when over.

    The refusal goes where `shows_refusals` puts the handler's others: the var
    `error_var` when given, else an error toast, and the handler does not run. Plain,
    generator and background handlers are all covered. Put it under `@rx.event`, under
    `@shows_refusals` when there is one:

        @rx.event
        @shows_refusals("action_error")
        @limited("write", "action_error")
        def approve(self, payout_id: str): ...
    """
    if kind not in rate_limits.known_kinds():
        raise ValueError(f"{kind!r} is not a kind in RATE_LIMIT_DEFAULTS")

    def decorate(handler: Callable) -> Callable:
        if inspect.isasyncgenfunction(handler):

            @functools.wraps(handler)
            async def async_generator(self, *args, **kwargs):
                try:
                    check_limit(self, kind)
                except RateLimited as error:
                    yield await _refused_in_background(self, error, error_var)
                    return
                async for event in handler(self, *args, **kwargs):
                    yield event

            wrapped = async_generator
        elif inspect.iscoroutinefunction(handler):

            @functools.wraps(handler)
            async def coroutine(self, *args, **kwargs):
                try:
                    check_limit(self, kind)
                except RateLimited as error:
                    return await _refused_in_background(self, error, error_var)
                return await handler(self, *args, **kwargs)

            wrapped = coroutine
        elif inspect.isgeneratorfunction(handler):

            @functools.wraps(handler)
            def generator(self, *args, **kwargs):
                try:
                    check_limit(self, kind)
                except RateLimited as error:
                    event = self._refused(error, error_var)
                    if event is not None:
                        yield event
                    return None
                return (yield from handler(self, *args, **kwargs))

            wrapped = generator
        else:

            @functools.wraps(handler)
            def plain(self, *args, **kwargs):
                try:
                    check_limit(self, kind)
                except RateLimited as error:
                    return self._refused(error, error_var)
                return handler(self, *args, **kwargs)

            wrapped = plain

        setattr(wrapped, LIMITED_ATTRIBUTE, kind)
        return wrapped

    return decorate


async def _refused_in_background(state: LimitedTab, error: RateLimited, error_var: str | None):
    """`_refused` from an async handler: a background one changes vars only inside
    `async with self` (on a plain state it does nothing)."""
    if error_var is not None:
        async with state:
            return state._refused(error, error_var)
    return state._refused(error, error_var)


def limit_of(handler: Callable) -> str | None:
    """The kind `handler` is limited by, or None (looks through Reflex's wrapping)."""
    seen = handler
    while seen is not None:
        kind = getattr(seen, LIMITED_ATTRIBUTE, None)
        if kind is not None:
            return kind
        seen = getattr(seen, "__wrapped__", None)
    return None


_GUARD = "a page guard run on every page load: one indexed session lookup"
_UI = "changes only this tab's vars: no database, no service"
_PICK = "changes only this tab's vars, picking from the list already loaded"
_PROGRESS = "shows an upload's progress in this tab; the upload itself is limited"
_WATCH = "a background poll the limited page load starts, one per tab, one refresh a tick"

# Public handlers that count no limit, "StateClass.handler": why none is needed.
NOT_LIMITED: dict[str, str] = {
    "SessionState.require_login": _GUARD,
    "SessionState.require_role": _GUARD,
    "SessionState.load_visitor": _GUARD,
    "SessionState.sign_out": "ends the caller's own session; refusing would keep it alive",
    "SessionState.close_password_prompt": _UI,
    "LoginState.open_page": _GUARD,
    "RegisterState.open_page": _GUARD,
    "RegisterState.set_role": _UI,
    "AdminFlagsState.close_dialog": _UI,
    "AppealDecisionsState.close_dialog": _UI,
    "AppealDecisionsState.open_dialog": _PICK,
    "AppealState.set_dialog": _UI,
    "PublicAppealState.open_page": _UI,
    "AdminFlagsState.start_decision": _UI,
    "AdminUserState.close_dialog": _UI,
    "AdminUserState.start_dialog": _UI,
    "AdminPayoutsState.close_reject": _UI,
    "AdminPayoutsState.start_reject": _UI,
    "CampaignFormState.forget_video": _UI,
    "CampaignFormState.set_source_kind": _UI,
    "CampaignFormState.upload_progress": _PROGRESS,
    "CampaignFormState.use_video": _PICK,
    "CampaignState.stop_editing": _UI,
    "ClaimState.pick": _PICK,
    "ClaimState.set_option": _UI,
    "ClaimState.upload_progress": _PROGRESS,
    "ClaimState.watch": _WATCH,
    "GenerateState.forget_video": _UI,
    "GenerateState.set_option": _UI,
    "GenerateState.upload_progress": _PROGRESS,
    "GenerateState.use_video": _PICK,
    "JobState.close_trim": _UI,
    "JobState.open_trim": _UI,
    "JobState.watch": _WATCH,
    "PerformanceState.close_decline": _UI,
    "PerformanceState.close_evidence": _UI,
    "PerformanceState.open_decline": _UI,
    "PerformanceState.open_evidence": _UI,
    "PerformanceState.watch": _WATCH,
    "ReviewsState.close_dialog": _UI,
    "ReviewsState.open_dialog": _UI,
}
