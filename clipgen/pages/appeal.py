"""/appeal: a suspended account, which cannot sign in, sees why and appeals once."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.appeals import appeal_status_badge
from clipgen.components.blocks import error_callout
from clipgen.components.layout import brand
from clipgen.state.appeals import PublicAppealState as State


def _labelled(label: str, control: rx.Component, name: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, as_="label", html_for=name, size="2", weight="medium"),
        control,
        spacing="1",
        width="100%",
    )


def _status() -> rx.Component:
    return rx.cond(
        State.checked,
        rx.callout.root(
            rx.callout.icon(rx.icon("shield-alert")),
            rx.vstack(
                rx.text("Suspended since ", State.suspended_at, weight="bold"),
                rx.cond(State.reason != "", rx.text("Reason: ", State.reason)),
                rx.cond(
                    State.appeal.length() > 0,
                    rx.vstack(
                        rx.hstack(
                            rx.text("Your appeal", weight="bold"),
                            appeal_status_badge(State.appeal["status"]),
                        ),
                        rx.text(State.appeal["message"], size="2", white_space="pre-wrap"),
                        rx.cond(
                            State.appeal["decision_reason"] != "",
                            rx.text(
                                rx.text.strong("Decision: "),
                                State.appeal["decision_reason"],
                                size="2",
                            ),
                        ),
                        spacing="1",
                    ),
                    rx.text("You have not appealed this suspension yet.", size="2"),
                ),
                spacing="2",
            ),
            color_scheme="amber",
            width="100%",
            custom_attrs={"data-testid": "appeal-suspension-status"},
        ),
    )


@rx.page(route=routes.APPEAL, title="Appeal a suspension · ClipGen", on_load=State.open_page)
def appeal() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.center(brand(), width="100%"),
            rx.card(
                rx.vstack(
                    rx.heading("Appeal a suspension", size="6"),
                    rx.text(
                        "A suspended account cannot sign in. Enter its email and password "
                        "to see why it was suspended and where your appeal stands, or write "
                        "a message to appeal (once per suspension). An admin decides; the "
                        "decision is emailed to you and shown here (an accepted appeal lets "
                        "you sign in).",
                        size="2",
                    ),
                    error_callout(State.error, "appeal-page-error"),
                    _status(),
                    rx.form(
                        rx.vstack(
                            _labelled(
                                "Email",
                                rx.input(
                                    id="email",
                                    name="email",
                                    type="email",
                                    auto_complete="email",
                                    required=True,
                                    width="100%",
                                    custom_attrs={"data-testid": "appeal-email"},
                                ),
                                "email",
                            ),
                            _labelled(
                                "Password",
                                rx.input(
                                    id="password",
                                    name="password",
                                    type="password",
                                    auto_complete="current-password",
                                    required=True,
                                    width="100%",
                                    custom_attrs={"data-testid": "appeal-password"},
                                ),
                                "password",
                            ),
                            _labelled(
                                "Your appeal (leave empty to only see the status)",
                                rx.text_area(
                                    id="message",
                                    name="message",
                                    max_length=2000,
                                    rows="5",
                                    width="100%",
                                    custom_attrs={"data-testid": "appeal-page-message"},
                                ),
                                "message",
                            ),
                            rx.button(
                                "Continue",
                                type="submit",
                                size="3",
                                width="100%",
                                custom_attrs={"data-testid": "appeal-page-submit"},
                            ),
                            spacing="4",
                            width="100%",
                        ),
                        on_submit=State.submit,
                        reset_on_submit=False,
                    ),
                    rx.link("Back to sign in", href=routes.LOGIN, size="2"),
                    spacing="4",
                    width="100%",
                ),
                size="4",
                width="100%",
            ),
            spacing="5",
            width="100%",
            max_width="480px",
        ),
        min_height="100vh",
        padding="16px",
        background=rx.color("gray", 2),
    )
