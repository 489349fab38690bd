"""Who is signed in to this browser tab, and the page guards built on it.

Every handler that does work re-resolves the user from the session cookie
on the server (`actor()`); the display vars below are only for rendering.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable

import reflex as rx

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotAuthenticated, ServiceError
from clipgen.state.forms import route_id

SESSION_COOKIE = "clipgen_session"
_settings = get_settings()


def safe_next_path(candidate: str) -> str:
    """An in-app path to go to after signing in; anything else is the dashboard."""
    if candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return routes.DASHBOARD


def run_as(token: str, service, **kwargs):
    """Run `service` for the user the session token belongs to (background tasks use this)."""
    with session_scope() as session:
        actor = auth.require_user(session=session, token=token)
        return service(session=session, actor=actor, **kwargs)


def shows_refusals(
    error_var: str | None = None, *, to_sign_in: bool = True
) -> Callable[[Callable], Callable]:
    """The refusal path of a handler (or of a helper it returns from), written once.

    A caller whose session has ended (`NotAuthenticated`) goes to sign in and comes back to
    this page (with `to_sign_in=False`, an action on a page already shown says "Please
    sign in to continue." where its other refusals go); any other refusal of a service
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
            except ServiceError as error:
                return self._refused(error, error_var, to_sign_in)

        return plain

    return decorate


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

    def _actor(self) -> UserView | None:
        """The user this tab's session cookie belongs to, checked now."""
        with session_scope() as session:
            return auth.current_user(session=session, token=self.session_token)

    def _call_service(self, service, **kwargs):
        """Run `service` for the signed-in user, who is checked now (not trusted from vars)."""
        return run_as(self.session_token, service, **kwargs)

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
    def require_login(self):
        """Page guard: send a visitor without a live session to sign in."""
        user = self._actor()
        if user is None:
            return self._to_login()
        self._show_user(user)

    @rx.event
    def require_role(self, role: str):
        """Page guard: the page is for one role; others go to their dashboard."""
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
