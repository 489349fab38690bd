"""Sign in and create an account."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout
from clipgen.components.layout import brand
from clipgen.state.auth_forms import LoginState, RegisterState


def _input(label: str, name: str, testid: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(
            id=name,
            name=name,
            size="3",
            width="100%",
            custom_attrs={"data-testid": testid},
            **props,
        ),
        spacing="1",
        width="100%",
    )


def _card(*children) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(brand(), width="100%"),
            rx.card(rx.vstack(*children, spacing="4", width="100%"), size="4", width="100%"),
            rx.color_mode.button(variant="ghost", position="top-right"),
            spacing="5",
            width="100%",
            max_width="420px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )


@rx.page(route=routes.LOGIN, title="Sign in · ClipGen", on_load=LoginState.open_page)
def login() -> rx.Component:
    return _card(
        rx.heading("Sign in", size="6"),
        error_callout(LoginState.error, "auth-error"),
        rx.form(
            rx.vstack(
                _input(
                    "Email",
                    "email",
                    "login-email",
                    type="email",
                    auto_complete="email",
                    placeholder="you@example.com",
                    required=True,
                ),
                _input(
                    "Password",
                    "password",
                    "login-password",
                    type="password",
                    auto_complete="current-password",
                    required=True,
                ),
                rx.button(
                    "Sign in",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=LoginState.pending,
                    custom_attrs={"data-testid": "login-submit"},
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=LoginState.submit,
            width="100%",
        ),
        rx.text(
            "New to ClipGen? ",
            rx.link(
                "Create an account",
                href=routes.REGISTER,
                custom_attrs={"data-testid": "to-register"},
            ),
            size="2",
        ),
    )


def _role_choice(value: str, title: str, blurb: str, icon: str) -> rx.Component:
    chosen = RegisterState.role == value
    return rx.box(
        rx.hstack(
            rx.icon(icon, size=20),
            rx.vstack(
                rx.text(title, weight="bold", size="2"),
                rx.text(blurb, size="1", color=rx.color("gray", 11)),
                spacing="0",
            ),
            align="center",
            spacing="3",
        ),
        on_click=RegisterState.set_role(value),
        padding="12px",
        border_radius="var(--radius-3)",
        border=rx.cond(
            chosen, f"2px solid {rx.color('accent', 9)}", f"2px solid {rx.color('gray', 5)}"
        ),
        background=rx.cond(chosen, rx.color("accent", 3), "transparent"),
        cursor="pointer",
        width="100%",
        role="radio",
        aria_checked=rx.cond(chosen, "true", "false"),
        custom_attrs={"data-testid": f"role-{value}"},
    )


@rx.page(
    route=routes.REGISTER, title="Create an account · ClipGen", on_load=RegisterState.open_page
)
def register() -> rx.Component:
    return _card(
        rx.heading("Create your account", size="6"),
        error_callout(RegisterState.error, "auth-error"),
        rx.form(
            rx.vstack(
                rx.text("I am joining as", size="2", weight="medium"),
                rx.grid(
                    _role_choice("clipper", "Clipper", "Make clips, get paid per view", "scissors"),
                    _role_choice("client", "Client", "Fund campaigns for your videos", "megaphone"),
                    columns="2",
                    spacing="3",
                    width="100%",
                    role="radiogroup",
                ),
                _input(
                    "Display name",
                    "display_name",
                    "register-name",
                    auto_complete="nickname",
                    placeholder="Ada Clips",
                    required=True,
                ),
                _input(
                    "Email",
                    "email",
                    "register-email",
                    type="email",
                    auto_complete="email",
                    placeholder="you@example.com",
                    required=True,
                ),
                _input(
                    "Password",
                    "password",
                    "register-password",
                    type="password",
                    auto_complete="new-password",
                    placeholder="At least 10 characters",
                    required=True,
                ),
                rx.button(
                    "Create account",
                    type="submit",
                    size="3",
                    width="100%",
                    loading=RegisterState.pending,
                    custom_attrs={"data-testid": "register-submit"},
                ),
                spacing="4",
                width="100%",
            ),
            on_submit=RegisterState.submit,
            width="100%",
        ),
        rx.text(
            "Already have an account? ",
            rx.link("Sign in", href=routes.LOGIN, custom_attrs={"data-testid": "to-login"}),
            size="2",
        ),
    )
