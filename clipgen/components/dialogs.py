"""The dialogs the pages use: "are you sure?" before an action, one where the user
writes a reason (or notes) and submits it, and the password prompt before a money action."""

from __future__ import annotations

import reflex as rx

from clipgen.components.blocks import error_callout


def _children(content) -> tuple:
    """One child, or a tuple / list of them."""
    return tuple(content) if isinstance(content, (tuple, list)) else (content,)


def confirm_dialog(
    trigger: rx.Component | None = None,
    *,
    title,
    description,
    confirm_label,
    on_confirm,
    confirm_testid: str,
    confirm_color="red",
    cancel_label: str = "Keep it",
    open=None,
    on_open_change=None,
) -> rx.Component:
    """A dialog that says what happens; only the confirm button does it.

    `trigger` opens it; without one, `open` (a bool var) and `on_open_change` control it.
    """
    root_props = {}
    if open is not None:
        root_props["open"] = open
    if on_open_change is not None:
        root_props["on_open_change"] = on_open_change
    return rx.alert_dialog.root(
        *([rx.alert_dialog.trigger(trigger)] if trigger is not None else []),
        rx.alert_dialog.content(
            rx.alert_dialog.title(title),
            rx.alert_dialog.description(description),
            rx.hstack(
                rx.alert_dialog.cancel(
                    rx.button(cancel_label, variant="soft", color_scheme="gray")
                ),
                rx.alert_dialog.action(
                    rx.button(
                        confirm_label,
                        color_scheme=confirm_color,
                        on_click=on_confirm,
                        custom_attrs={"data-testid": confirm_testid},
                    )
                ),
                justify="end",
                spacing="3",
                padding_top="12px",
            ),
        ),
        **root_props,
    )


def reason_dialog(
    *,
    open,
    on_close,
    title,
    description,
    field_name: str,
    placeholder,
    field_testid: str,
    error,
    error_testid: str,
    submit_label,
    submit_testid: str,
    on_submit,
    submit_color="red",
    cancel_label: str = "Back",
    summary=None,
    description_size: str | None = None,
    field_label: str = "",
    field_props: dict | None = None,
    error_below_field: bool = False,
    form_key=None,
) -> rx.Component:
    """A dialog, shown while `open`, with a text area the form submits as `field_name`.

    `on_close` runs when it closes (Escape, outside, Back); `on_submit` gets the form data
    and leaves the dialog open, so a refusal shows in `error`. `description` is one child
    or several; `summary` is a bold line under it; `field_label` is the area's aria-label,
    `field_props` more text-area props (rows, required, …); `form_key` remounts the form
    (clearing it) when it changes.
    """
    area = rx.text_area(
        name=field_name,
        placeholder=placeholder,
        width="100%",
        **(field_props or {}),
        custom_attrs={
            "data-testid": field_testid,
            **({"aria-label": field_label} if field_label else {}),
        },
    )
    callout = error_callout(error, error_testid)
    buttons = rx.hstack(
        rx.dialog.close(
            rx.button(cancel_label, type="button", variant="soft", color_scheme="gray")
        ),
        rx.button(
            submit_label,
            type="submit",
            color_scheme=submit_color,
            custom_attrs={"data-testid": submit_testid},
        ),
        justify="end",
        spacing="3",
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(title),
            rx.dialog.description(
                *_children(description),
                **({"size": description_size} if description_size else {}),
            ),
            *(
                [rx.text(summary, size="2", weight="bold", padding_top="8px")]
                if summary is not None
                else []
            ),
            rx.form(
                rx.vstack(
                    *((area, callout) if error_below_field else (callout, area)),
                    buttons,
                    spacing="3",
                    # The summary line above already keeps the form off the description.
                    padding_top="8px" if summary is not None else "12px",
                    width="100%",
                ),
                on_submit=on_submit,
                reset_on_submit=False,
                **({"key": form_key} if form_key is not None else {}),
            ),
        ),
        open=open,
        on_open_change=on_close,
    )


def password_dialog(state) -> rx.Component:
    """The password prompt a money action opens when the session's password is not recent
    (`SessionState.reauth_open`); `state` is the page's state, whose refused handler runs
    again once the password is right. Cancel runs nothing."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Confirm it's you"),
            rx.dialog.description(state.reauth_reason, size="2"),
            rx.form(
                rx.vstack(
                    error_callout(state.reauth_error, "reauth-error"),
                    rx.input(
                        name="password",
                        type="password",
                        placeholder="Your password",
                        auto_complete="current-password",
                        auto_focus=True,
                        required=True,
                        width="100%",
                        custom_attrs={"data-testid": "reauth-password", "aria-label": "Password"},
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button(
                            "Continue", type="submit", custom_attrs={"data-testid": "reauth-submit"}
                        ),
                        justify="end",
                        spacing="3",
                        width="100%",
                    ),
                    spacing="3",
                    padding_top="12px",
                    width="100%",
                ),
                on_submit=state.confirm_password,
                reset_on_submit=True,
            ),
        ),
        open=state.reauth_open,
        on_open_change=state.close_password_prompt,
    )
