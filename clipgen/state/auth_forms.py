"""The sign-in, registration and change-password forms."""

from __future__ import annotations

import asyncio

import reflex as rx

from clipgen import routes
from clipgen.db import session_scope
from clipgen.services.auth import service as auth
from clipgen.services.errors import InvalidInput, NotAuthenticated, ServiceError
from clipgen.state.client import request_client_address
from clipgen.state.forms import field
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, safe_next_path


class LoginState(SessionState):
    error: str = ""
    pending: bool = False

    def _sign_in(self, email: str, password: str) -> tuple[str, auth.UserView]:
        with session_scope() as session:
            return auth.sign_in(
                session=session,
                email=email,
                password=password,
                client_ip=request_client_address(self.router),
                user_agent=self.router.headers.user_agent,
            )

    @rx.event
    @limited("auth_form", "error")
    async def submit(self, form_data: dict):
        self.error = ""
        self.pending = True
        yield
        try:
            token, user = await asyncio.to_thread(
                self._sign_in, field(form_data, "email"), field(form_data, "password")
            )
        except ServiceError as error:
            self.error = str(error)
            return
        finally:
            self.pending = False
        self.session_token = token
        self._show_user(user)
        yield rx.redirect(safe_next_path(self.router.url.query_parameters.get("next", "")))

    @rx.event
    def open_page(self):
        self.error = ""
        self.pending = False
        if self._actor() is not None:
            return rx.redirect(routes.DASHBOARD)


class RegisterState(SessionState):
    error: str = ""
    pending: bool = False
    role: str = "clipper"

    @rx.event
    def set_role(self, role: str):
        if role in ("clipper", "client"):
            self.role = role

    def _register(self, form_data: dict) -> tuple[str, auth.UserView]:
        email = field(form_data, "email")
        password = field(form_data, "password")
        client_ip = request_client_address(self.router)
        with session_scope() as session:
            auth.register(
                session=session,
                email=email,
                display_name=field(form_data, "display_name"),
                password=password,
                role=self.role,
                client_ip=client_ip,
            )
            return auth.sign_in(
                session=session,
                email=email,
                password=password,
                client_ip=client_ip,
                user_agent=self.router.headers.user_agent,
            )

    @rx.event
    @limited("register", "error")
    async def submit(self, form_data: dict):
        self.error = ""
        self.pending = True
        yield
        try:
            token, user = await asyncio.to_thread(self._register, form_data)
        except ServiceError as error:
            self.error = str(error)
            return
        finally:
            self.pending = False
        self.session_token = token
        self._show_user(user)
        yield rx.redirect(routes.DASHBOARD)

    @rx.event
    def open_page(self):
        self.error = ""
        self.pending = False
        requested = self.router.url.query_parameters.get("role", "")
        if requested in ("clipper", "client"):
            self.role = requested
        if self._actor() is not None:
            return rx.redirect(routes.DASHBOARD)


class PasswordState(SessionState):
    error: str = ""
    pending: bool = False

    def _change(self, form_data: dict) -> None:
        if field(form_data, "new_password") != field(form_data, "confirm_password"):
            raise InvalidInput("The two new passwords do not match.")
        with session_scope() as session:
            # Another browser family's copy of the token is ended here (see auth.agents).
            auth.require_user(
                session=session, token=self.session_token, user_agent=self._user_agent()
            )
            auth.change_password(
                session=session,
                token=self.session_token,
                current_password=field(form_data, "current_password"),
                new_password=field(form_data, "new_password"),
                client_ip=request_client_address(self.router),
            )

    @rx.event
    @limited("change_password", "error")
    async def submit(self, form_data: dict):
        self.error = ""
        self.pending = True
        yield
        try:
            await asyncio.to_thread(self._change, form_data)
        except NotAuthenticated:
            yield self._to_login()
            return
        except ServiceError as error:
            self.error = str(error)
            return
        finally:
            self.pending = False
        yield rx.toast.success("Password changed. Your other sessions were signed out.")
