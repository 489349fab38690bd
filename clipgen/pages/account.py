"""The user's own account: who they are, which emails they get, changing the password, and
a clipper's YouTube channel (connect, Google's callback, disconnect)."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.state.auth_forms import PasswordState
from clipgen.state.email import EMAIL_CHOICES, FIELD_PREFIX, EmailPreferencesState
from clipgen.state.publishing import YouTubeState
from clipgen.state.session import SessionState

MUTED = rx.color("gray", 11)


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


def _disconnect() -> rx.Component:
    return confirm_dialog(
        rx.button(
            "Disconnect",
            variant="soft",
            color_scheme="red",
            custom_attrs={"data-testid": "youtube-disconnect"},
        ),
        title="Disconnect YouTube?",
        description="ClipGen asks Google to remove its access and forgets the channel. Uploads "
        "stop, and your YouTube posts' views are then entered by hand.",
        confirm_label="Disconnect",
        on_confirm=YouTubeState.disconnect,
        confirm_testid="youtube-disconnect-confirm",
        cancel_label="Keep it connected",
    )


def _youtube_status() -> rx.Component:
    return rx.cond(
        ~YouTubeState.yt_configured,
        rx.text(
            "YouTube publishing is not set up on this server: an admin sets ",
            rx.code(YouTubeState.yt_missing),
            ". Until then, add your posts by their address on a clip's performance page.",
            size="2",
            color=MUTED,
            custom_attrs={"data-testid": "youtube-not-configured"},
        ),
        rx.cond(
            YouTubeState.yt_connected,
            rx.hstack(
                rx.vstack(
                    rx.hstack(
                        rx.badge("Connected", color_scheme="green", variant="soft"),
                        rx.text(
                            YouTubeState.yt_channel,
                            weight="bold",
                            custom_attrs={"data-testid": "youtube-channel"},
                        ),
                        spacing="2",
                        align="center",
                    ),
                    rx.text("Since ", YouTubeState.yt_since, size="1", color=MUTED),
                    spacing="1",
                ),
                rx.spacer(),
                _disconnect(),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.vstack(
                rx.text(
                    "Connect your channel to upload approved clips from ClipGen and have "
                    "their views read daily.",
                    size="2",
                    color=MUTED,
                ),
                rx.button(
                    rx.icon("circle-play", size=16),
                    "Connect YouTube",
                    on_click=YouTubeState.connect,
                    custom_attrs={"data-testid": "youtube-connect"},
                ),
                spacing="3",
            ),
        ),
    )


def _youtube_card() -> rx.Component:
    return rx.cond(
        YouTubeState.yt_for_clipper,
        rx.card(
            rx.vstack(
                rx.heading("YouTube channel", size="4"),
                rx.cond(
                    YouTubeState.yt_notice != "",
                    rx.callout(
                        YouTubeState.yt_notice,
                        icon=rx.cond(YouTubeState.yt_notice_ok, "circle-check", "info"),
                        color_scheme=rx.cond(YouTubeState.yt_notice_ok, "green", "amber"),
                        width="100%",
                        custom_attrs={"data-testid": "youtube-notice"},
                    ),
                ),
                error_callout(YouTubeState.yt_error, "youtube-error"),
                _youtube_status(),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            max_width="560px",
            custom_attrs={"data-testid": "youtube-card"},
        ),
    )


def _email_card() -> rx.Component:
    state = EmailPreferencesState
    boxes = [
        rx.cond(
            state.email_shown.contains(key),
            rx.checkbox(
                label,
                name=FIELD_PREFIX + key,
                default_checked=state.email_on.contains(key),
                size="2",
                custom_attrs={"data-testid": f"email-{key.replace('_', '-')}"},
            ),
        )
        for key, label in EMAIL_CHOICES
    ]
    return rx.card(
        rx.vstack(
            rx.heading("Email", size="4"),
            rx.cond(
                ~state.email_configured,
                rx.callout(
                    "Email is not set up on this server, so none is sent. Your choices are "
                    "kept for when an admin sets it up (SMTP_URL).",
                    icon="info",
                    color_scheme="amber",
                    width="100%",
                    custom_attrs={"data-testid": "email-not-configured"},
                ),
            ),
            rx.text(
                "Everything shows under the bell. Choose what also comes by email to ",
                rx.text.strong(SessionState.email),
                ".",
                size="2",
                color=MUTED,
            ),
            error_callout(state.email_error, "email-error"),
            rx.cond(
                state.email_saved,
                rx.callout(
                    "Saved.",
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                    custom_attrs={"data-testid": "email-saved"},
                ),
            ),
            rx.cond(
                state.email_loaded,
                rx.form(
                    rx.vstack(
                        *boxes,
                        rx.button(
                            "Save", type="submit", custom_attrs={"data-testid": "email-save"}
                        ),
                        spacing="3",
                        width="100%",
                    ),
                    key=state.email_form_key,
                    on_submit=state.save_email_preferences,
                    width="100%",
                ),
                rx.spinner(),
            ),
            spacing="3",
            width="100%",
        ),
        on_mount=state.load_email_preferences,
        size="3",
        width="100%",
        max_width="560px",
        custom_attrs={"data-testid": "email-card"},
    )


@template(routes.YOUTUBE_CALLBACK, "Connecting YouTube", on_load=YouTubeState.finish_connection)
def youtube_callback() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.spinner(size="3"),
            rx.text("Connecting your YouTube channel…", size="3"),
            align="center",
            spacing="3",
        ),
        height="40vh",
    )


@template(routes.ACCOUNT, "Account", on_load=YouTubeState.open_account)
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
        _youtube_card(),
        _email_card(),
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
