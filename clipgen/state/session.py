"""Who is signed in to this browser tab, and the page guards built on it.

Every handler that does work re-resolves the user from the session cookie
on the server (`actor()`); the display vars below are only for rendering.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import reflex as rx

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotAuthenticated, ReauthRequired, ServiceError
from clipgen.state.client import request_client_address
from clipgen.state.forms import field, route_id
from clipgen.state.limits import limited

SESSION_COOKIE = "clipgen_session"
_settings = get_settings()


def safe_next_path(candidate: str) -> str:
    """An in-app path to go to after signing in; anything else is the dashboard."""
    return candidate if routes.is_app_path(candidate) else routes.DASHBOARD


def run_as(token: str, service, *, user_agent: str | None = None, **kwargs):
    """Run `service` for the user the session token belongs to (background tasks use this).

    `user_agent` is the tab's User-Agent: a session used from another browser family than
    it signed in with is ended (see `auth.agents`)."""
    with session_scope() as session:
        actor = auth.require_user(session=session, token=token, user_agent=user_agent)
        return service(session=session, actor=actor, **kwargs)


def shows_refusals(
    error_var: str | None = None, *, to_sign_in: bool = True
) -> Callable[[Callable], Callable]:
    """The refusal path of a handler (or of a helper it returns from), written once.

    A caller whose session has ended (`NotAuthenticated`) goes to sign in and comes back to
    this page (with `to_sign_in=False`, an action on a page already shown says "Please
    sign in to continue." where its other refusals go); a money action refused for want of a
    fresh password (`ReauthRequired`) opens the password prompt and runs again once it is
    given (see `confirm_password`); any other refusal of a service
    (`ServiceError`) is shown in the service's words: in the var `error_var` when given,
    else as an error toast. Either way the handler stops there, so nothing after the
    refused call runs. Plain handlers and generator handlers (which `yield` events on the
    way) are both covered; a background handler catches its own, since its vars change
    only inside `async with self`. Put it under `@rx.event`:

        @rx.event
        @shows_refusals("action_error")
        def approve(self, payout_id: str): ...
    """

    def decorate(handler: Callable) -> Callable:
        if inspect.iscoroutinefunction(handler) or inspect.isasyncgenfunction(handler):
            raise TypeError(f"{handler.__name__}: a background handler catches its own refusals")

        if inspect.isgeneratorfunction(handler):

            @functools.wraps(handler)
            def generator(self, *args, **kwargs):
                try:
                    return (yield from handler(self, *args, **kwargs))
                except ReauthRequired as error:
                    self._ask_password(error, handler.__name__, args, kwargs)
                    return None
                except ServiceError as error:
                    event = self._refused(error, error_var, to_sign_in)
                    if event is not None:
                        yield event
                    return None

            return generator

        @functools.wraps(handler)
        def plain(self, *args, **kwargs):
            try:
                return handler(self, *args, **kwargs)
            except ReauthRequired as error:
                return self._ask_password(error, handler.__name__, args, kwargs)
            except ServiceError as error:
                return self._refused(error, error_var, to_sign_in)

        return plain

    return decorate


def _retry_event(retry: dict[str, Any]):
    """The event that runs a refused handler again (see `SessionState._ask_password`), or
    None. The prompt's handler runs on `SessionState` itself, so the page's state (a
    substate) is found by the name `_ask_password` stored."""
    try:
        state = rx.State.get_class_substate(str(retry.get("state", "")))
    except ValueError:
        return None
    action = getattr(state, str(retry.get("handler", "")), None)
    if not issubclass(state, SessionState) or not isinstance(action, rx.EventHandler):
        return None
    return action(*retry.get("args", ()), **retry.get("kwargs", {}))


class SessionState(rx.State):
    """The signed-in user of this tab, as far as the page needs to show it."""

    session_token: str = rx.Cookie(
        "",
        name=SESSION_COOKIE,
        max_age=_settings.session_ttl_hours * 3600,
        same_site="lax",
        secure=_settings.is_production,
    )
    display_name: str = ""
    email: str = ""
    roles: list[str] = []
    # The password prompt before a money action (`components.dialogs.password_dialog`).
    reauth_open: bool = False
    reauth_reason: str = ""
    reauth_error: str = ""
    # The refused action to run again after the password: set only by `_ask_password`
    # from the handler's own name and arguments, never from the browser.
    _reauth_retry: dict[str, Any] = {}

    @rx.var
    def is_authenticated(self) -> bool:
        return bool(self.roles)

    @rx.var
    def is_clipper(self) -> bool:
        return "clipper" in self.roles

    @rx.var
    def is_client(self) -> bool:
        return "client" in self.roles

    @rx.var
    def is_admin(self) -> bool:
        return "admin" in self.roles

    @rx.var
    def initials(self) -> str:
        return "".join(part[0] for part in self.display_name.split()[:2]).upper() or "?"

    def _user_agent(self) -> str:
        """This tab's User-Agent, which its session is bound to (by family)."""
        return self.router.headers.user_agent or ""

    def _actor(self) -> UserView | None:
        """The user this tab's session cookie belongs to, checked now."""
        with session_scope() as session:
            return auth.current_user(
                session=session, token=self.session_token, user_agent=self._user_agent()
            )

    def _call_service(self, service, **kwargs):
        """Run `service` for the signed-in user, who is checked now (not trusted from vars)."""
        return run_as(self.session_token, service, user_agent=self._user_agent(), **kwargs)

    def _ask_password(self, error: ReauthRequired, handler: str, args: tuple, kwargs: dict):
        """Open the password prompt, remembering the refused handler of this state to run
        again with the same arguments once the password is given."""
        self.reauth_open = True
        self.reauth_reason = str(error)
        self.reauth_error = ""
        self._reauth_retry = {
            "state": self.get_full_name(),
            "handler": handler,
            "args": list(args),
            "kwargs": dict(kwargs),
        }

    def _close_password_prompt(self) -> None:
        self.reauth_open = False
        self.reauth_reason = ""
        self.reauth_error = ""
        self._reauth_retry = {}

    def _show_user(self, user: UserView | None) -> None:
        """Copy what the page may show of the user into vars (never ids or hashes)."""
        self.display_name = user.display_name if user else ""
        self.email = user.email if user else ""
        self.roles = list(user.roles) if user else []

    def _to_login(self):
        """Send this tab to sign in, then back to the page it is on."""
        self._show_user(None)
        return rx.redirect(routes.login(self.router.url.path or routes.DASHBOARD))

    def _refused(self, error: ServiceError, error_var: str | None, to_sign_in: bool = True):
        """What a refused call shows (see `shows_refusals`): sign in, or the reason."""
        if to_sign_in and isinstance(error, NotAuthenticated):
            return self._to_login()
        if error_var is None:
            return rx.toast.error(str(error))
        setattr(self, error_var, str(error))
        return None

    def _route_id(self, prefix: str, suffix: str = "") -> int:
        """The id in this page's address `<prefix>/<id><suffix>`, or 0 (see `forms.route_id`)."""
        return route_id(self.router.url.path, prefix, suffix)

    @rx.event
    @limited("auth_form", "reauth_error")
    def confirm_password(self, form_data: dict):
        """The password prompt's submit: take the password again, then send the refused
        action again (it checks everything afresh). A wrong password is counted like a
        failed sign-in and the prompt stays open saying so."""
        self.reauth_error = ""
        try:
            with session_scope() as session:
                auth.reauthenticate(
                    session=session,
                    token=self.session_token,
                    password=field(form_data, "password"),
                    client_ip=request_client_address(self.router),
                    user_agent=self._user_agent(),
                )
        except NotAuthenticated:
            self._close_password_prompt()
            return self._to_login()
        except ServiceError as error:
            self.reauth_error = str(error)
            return None
        retry = self._reauth_retry
        self._close_password_prompt()
        action = _retry_event(retry)
        return action if action is not None else rx.toast.success("Thank you. Try again now.")

    @rx.event
    def close_password_prompt(self, open_: bool = False):
        """The prompt's Cancel (or Escape): the refused action does not run."""
        if not open_:
            self._close_password_prompt()

    @rx.event
    def require_login(self):
        """Page guard: send a visitor without a live session to sign in."""
        self._close_password_prompt()
        user = self._actor()
        if user is None:
            return self._to_login()
        self._show_user(user)

    @rx.event
    def require_role(self, role: str):
        """Page guard: the page is for one role; others go to their dashboard."""
        self._close_password_prompt()
        user = self._actor()
        if user is None:
            return self._to_login()
        self._show_user(user)
        if role not in user.roles:
            return [
                rx.redirect(routes.DASHBOARD),
                rx.toast.error("That page is not part of your account."),
            ]

    @rx.event
    def load_visitor(self):
        """Public pages: show who is signed in, if anyone, without redirecting."""
        self._show_user(self._actor())

    @rx.event
    def sign_out(self):
        with session_scope() as session:
            auth.sign_out(session=session, token=self.session_token)
        self.session_token = ""
        self._show_user(None)
        return rx.redirect(routes.LOGIN)
