"""The user's own account: who they are, and changing the password."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.layout import page_header, template
from clipgen.state.auth_forms import PasswordState
from clipgen.state.session import SessionState


def _password_input(label: str, name: str, autocomplete: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        rx.input(
            id=name,
            name=name,
            type="password",
            auto_complete=autocomplete,
            required=True,
            width="100%",
            size="3",
            custom_attrs={"data-testid": name.replace("_", "-")},
        ),
        spacing="1",
        width="100%",
    )


@template(routes.ACCOUNT, "Account")
def account() -> rx.Component:
    return rx.vstack(
        page_header("Account"),
        rx.card(
            rx.data_list.root(
                rx.data_list.item(
                    rx.data_list.label("Name"), rx.data_list.value(SessionState.display_name)
                ),
                rx.data_list.item(
                    rx.data_list.label("Email"), rx.data_list.value(SessionState.email)
                ),
                rx.data_list.item(
                    rx.data_list.label("Roles"),
                    rx.data_list.value(
                        rx.hstack(
                            rx.foreach(SessionState.roles, lambda role: rx.badge(role)), spacing="2"
                        )
                    ),
                ),
            ),
            size="3",
            width="100%",
            max_width="560px",
        ),
        rx.card(
            rx.vstack(
                rx.heading("Change password", size="4"),
                rx.text(
                    "Changing it signs out every other browser.",
                    size="2",
                    color=rx.color("gray", 11),
                ),
                rx.cond(
                    PasswordState.error != "",
                    rx.callout(
                        PasswordState.error,
                        icon="triangle-alert",
                        color_scheme="red",
                        width="100%",
                        custom_attrs={"data-testid": "password-error"},
                    ),
                ),
                rx.form(
                    rx.vstack(
                        _password_input("Current password", "current_password", "current-password"),
                        _password_input("New password", "new_password", "new-password"),
                        _password_input("New password again", "confirm_password", "new-password"),
                        rx.button(
                            "Change password",
                            type="submit",
                            loading=PasswordState.pending,
                            custom_attrs={"data-testid": "password-submit"},
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    on_submit=PasswordState.submit,
                    reset_on_submit=True,
                    width="100%",
                ),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            max_width="560px",
        ),
        spacing="5",
        width="100%",
    )
