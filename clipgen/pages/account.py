"""The user's own account: who they are, which emails they get, changing the password, and
a clipper's connected YouTube, TikTok and Instagram accounts (one card each: connect, the
platform's callback, disconnect)."""

from __future__ import annotations

from dataclasses import dataclass

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.state.auth_forms import PasswordState
from clipgen.state.connections import ConnectionCard, InstagramState, TikTokState, YouTubeState
from clipgen.state.email import EMAIL_CHOICES, FIELD_PREFIX, EmailPreferencesState
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


@dataclass(frozen=True)
class _Card:
    """What one platform's card says and where tests find it."""

    state: type[ConnectionCard]
    slug: str  # "tiktok": the prefix of every data-testid on the card
    label: str  # "TikTok"
    heading: str
    icon: str
    offering: str  # what is not set up on the server without the settings
    invite: str  # why connect, next to the Connect button
    name_testid: str  # the connected account's name
    gone: str  # what disconnecting does, in the confirm dialog


CARDS = (
    _Card(
        state=YouTubeState,
        slug="youtube",
        label="YouTube",
        heading="YouTube channel",
        icon="circle-play",
        offering="YouTube publishing",
        invite="Connect your channel to upload approved clips from ClipGen and have their "
        "views read daily.",
        name_testid="youtube-channel",
        gone="ClipGen asks Google to remove its access and forgets the channel. Uploads "
        "stop, and your YouTube posts' views are then entered by hand.",
    ),
    _Card(
        state=TikTokState,
        slug="tiktok",
        label="TikTok",
        heading="TikTok account",
        icon="music-2",
        offering="TikTok",
        invite="Connect your TikTok account so ClipGen can check that your TikTok posts are "
        "yours and read their views daily. ClipGen reads your profile and your videos only; "
        "it never posts.",
        name_testid="tiktok-account",
        gone="ClipGen asks TikTok to remove its access and forgets the account. Your TikTok "
        "posts can then no longer be checked or read by ClipGen.",
    ),
    _Card(
        state=InstagramState,
        slug="instagram",
        label="Instagram",
        heading="Instagram account",
        icon="camera",
        offering="Instagram",
        invite="Connect your Instagram professional account (Creator or Business; personal "
        "accounts cannot be connected) so ClipGen can check that your posts are yours and "
        "read their views daily. ClipGen reads your profile, posts and insights only.",
        name_testid="instagram-account",
        gone="ClipGen forgets its access to the account; your Instagram posts can then no "
        "longer be checked or read by ClipGen. Instagram offers no way for an app to remove "
        "itself: you can also remove ClipGen in Instagram's settings.",
    ),
)


def _disconnect(card: _Card) -> rx.Component:
    return confirm_dialog(
        rx.button(
            "Disconnect",
            variant="soft",
            color_scheme="red",
            custom_attrs={"data-testid": f"{card.slug}-disconnect"},
        ),
        title=f"Disconnect {card.label}?",
        description=card.gone,
        confirm_label="Disconnect",
        on_confirm=card.state.disconnect,
        confirm_testid=f"{card.slug}-disconnect-confirm",
        cancel_label="Keep it connected",
    )


def _status(card: _Card) -> rx.Component:
    state = card.state
    return rx.cond(
        ~state.configured,
        rx.text(
            f"{card.offering} is not set up on this server: an admin sets ",
            rx.code(state.missing),
            ". Until then, add your posts by their address on a clip's performance page.",
            size="2",
            color=MUTED,
            custom_attrs={"data-testid": f"{card.slug}-not-configured"},
        ),
        rx.cond(
            state.connected,
            rx.hstack(
                rx.vstack(
                    rx.hstack(
                        rx.badge("Connected", color_scheme="green", variant="soft"),
                        rx.text(
                            state.account,
                            weight="bold",
                            custom_attrs={"data-testid": card.name_testid},
                        ),
                        spacing="2",
                        align="center",
                    ),
                    rx.text("Since ", state.since, size="1", color=MUTED),
                    spacing="1",
                ),
                rx.spacer(),
                _disconnect(card),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.vstack(
                rx.cond(
                    state.broken,
                    rx.callout(
                        f"{card.label} no longer lets ClipGen reach your account (access was "
                        "removed there, or it expired). Connect it again.",
                        icon="unplug",
                        color_scheme="amber",
                        width="100%",
                        custom_attrs={"data-testid": f"{card.slug}-broken"},
                    ),
                ),
                rx.text(card.invite, size="2", color=MUTED),
                rx.button(
                    rx.icon(card.icon, size=16),
                    f"Connect {card.label}",
                    on_click=state.connect,
                    custom_attrs={"data-testid": f"{card.slug}-connect"},
                ),
                spacing="3",
                width="100%",
            ),
        ),
    )


def _connection_card(card: _Card) -> rx.Component:
    state = card.state
    return rx.cond(
        state.for_clipper,
        rx.card(
            rx.vstack(
                rx.heading(card.heading, size="4"),
                rx.cond(
                    state.notice != "",
                    rx.callout(
                        state.notice,
                        icon=rx.cond(state.notice_ok, "circle-check", "info"),
                        color_scheme=rx.cond(state.notice_ok, "green", "amber"),
                        width="100%",
                        custom_attrs={"data-testid": f"{card.slug}-notice"},
                    ),
                ),
                error_callout(state.error, f"{card.slug}-error"),
                _status(card),
                spacing="3",
                width="100%",
            ),
            size="3",
            width="100%",
            max_width="560px",
            custom_attrs={"data-testid": f"{card.slug}-card"},
        ),
    )


def _connecting(what: str) -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.spinner(size="3"),
            rx.text(f"Connecting your {what}…", size="3"),
            align="center",
            spacing="3",
        ),
        height="40vh",
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
    return _connecting("YouTube channel")


@template(routes.TIKTOK_CALLBACK, "Connecting TikTok", on_load=TikTokState.finish_connection)
def tiktok_callback() -> rx.Component:
    return _connecting("TikTok account")


@template(
    routes.INSTAGRAM_CALLBACK, "Connecting Instagram", on_load=InstagramState.finish_connection
)
def instagram_callback() -> rx.Component:
    return _connecting("Instagram account")


@template(routes.ACCOUNT, "Account", on_load=[card.state.open_account for card in CARDS])
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
        *[_connection_card(card) for card in CARDS],
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
