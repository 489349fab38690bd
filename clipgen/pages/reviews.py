"""Reviews: the clips clippers submitted to the client's campaigns, played inline beside the
campaign's requirements; approve, reject with a reason, or ask for a revision; then rate."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.appeals import appeals_to_decide
from clipgen.components.blocks import error_callout
from clipgen.components.dialogs import reason_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.timers import link_renewer
from clipgen.state.appeals import AppealDecisionsState
from clipgen.state.reviews import REJECT, REVISION, STATUS_LABELS, ReviewsState

STATUS_COLORS = {
    "pending": "amber",
    "approved": "green",
    "rejected": "red",
    "revision_requested": "blue",
}


def _muted(*children, **props) -> rx.Component:
    return rx.text(*children, size="2", color=rx.color("gray", 11), **props)


def _label(text: str) -> rx.Component:
    return rx.text(text, size="1", weight="bold", color=rx.color("gray", 10))


def _clipper(item: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=item["clipper_initial"], size="3", radius="full"),
        rx.vstack(
            rx.link(
                item["clipper_name"],
                href=item["clipper_href"],
                weight="bold",
                size="3",
                custom_attrs={"data-testid": "review-clipper"},
            ),
            rx.hstack(
                rx.badge(item["clipper_tier"], color_scheme="violet", variant="soft"),
                rx.text(item["clipper_approved"], size="1", color=rx.color("gray", 11)),
                rx.text("·", size="1", color=rx.color("gray", 9)),
                rx.text(item["clipper_rating"], size="1", color=rx.color("gray", 11)),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="1",
        ),
        spacing="3",
        align="center",
    )


def _player(item: rx.Var) -> rx.Component:
    return rx.cond(
        item["video_url"] != "",
        rx.el.video(
            src=item["video_url"],
            controls=True,
            preload="metadata",
            plays_inline=True,
            width="100%",
            style={"maxHeight": "460px", "borderRadius": "8px", "background": "black"},
            custom_attrs={"data-testid": "review-video"},
        ),
        rx.center(
            _muted("The clip's file is not available."),
            height="200px",
            width="100%",
            background=rx.color("gray", 3),
            border_radius="8px",
        ),
    )


def _rate_form(item: rx.Var) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.text("Rate the clipper", size="2", weight="bold"),
            rx.el.input(type="hidden", name="job_id", value=item["job_id"].to(str)),
            rx.hstack(
                rx.select.root(
                    rx.select.trigger(
                        width="150px",
                        custom_attrs={"data-testid": "rate-stars", "aria-label": "Stars"},
                    ),
                    rx.select.content(
                        *[rx.select.item(f"{'★' * n} {n}", value=str(n)) for n in range(5, 0, -1)]
                    ),
                    name="stars",
                    default_value="5",
                ),
                rx.button(
                    rx.icon("star", size=14),
                    "Rate",
                    type="submit",
                    custom_attrs={"data-testid": "rate-submit"},
                ),
                spacing="2",
                align="center",
            ),
            rx.text_area(
                name="feedback",
                placeholder="What went well, what to change (optional)",
                max_length=1000,
                width="100%",
                custom_attrs={"data-testid": "rate-feedback"},
            ),
            rx.cond(
                ReviewsState.rate_job_id == item["job_id"],
                error_callout(ReviewsState.rate_error, "rate-error"),
            ),
            spacing="2",
            width="100%",
        ),
        on_submit=ReviewsState.rate,
        width="100%",
    )


def _actions(item: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.button(
                rx.icon("check", size=14),
                "Approve",
                color_scheme="green",
                on_click=ReviewsState.approve(item["submission_id"]),
                custom_attrs={"data-testid": "review-approve"},
            ),
            rx.cond(
                item["can_revise"],
                rx.button(
                    rx.icon("rotate-ccw", size=14),
                    item["next_revision"],
                    variant="soft",
                    on_click=ReviewsState.open_dialog(REVISION, item["submission_id"]),
                    custom_attrs={"data-testid": "review-revise"},
                ),
            ),
            rx.button(
                rx.icon("x", size=14),
                "Reject",
                variant="soft",
                color_scheme="red",
                on_click=ReviewsState.open_dialog(REJECT, item["submission_id"]),
                custom_attrs={"data-testid": "review-reject"},
            ),
            spacing="2",
            wrap="wrap",
        ),
        rx.text(item["revisions_text"], size="1", color=rx.color("gray", 10)),
        spacing="1",
        width="100%",
    )


def _review_card(item: rx.Var) -> rx.Component:
    details = rx.vstack(
        _clipper(item),
        rx.divider(),
        rx.hstack(
            rx.badge(
                item["status_label"],
                color_scheme=rx.match(
                    item["status"], *[(k, v) for k, v in STATUS_COLORS.items()], "gray"
                ),
                variant="soft",
            ),
            rx.text(item["clip_title"], weight="bold", size="3"),
            rx.text(item["duration"], size="2", color=rx.color("gray", 11)),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            ReviewsState.campaign_filter == 0,
            rx.text(
                "For ",
                rx.link(item["campaign_title"], href=item["campaign_href"], weight="medium"),
                size="2",
            ),
        ),
        rx.box(
            _label("THE CAMPAIGN ASKS FOR"),
            rx.text(item["requirements"], size="2", custom_attrs={"data-testid": "review-reqs"}),
            width="100%",
        ),
        rx.box(
            _label("CAPTION AND HASHTAGS"),
            rx.text(item["caption"], size="2"),
            rx.text(item["hashtags"], size="2", color=rx.color("accent", 11)),
            width="100%",
        ),
        rx.box(
            _label("SUBMITTED"),
            rx.text(item["submitted"], " (", item["submitted_ago"], ")", size="2"),
            rx.text(
                item["decided"],
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "review-decided"},
            ),
            width="100%",
        ),
        rx.cond(
            item["feedback"] != "",
            rx.box(
                _label("YOUR NOTES"),
                rx.text(item["feedback"], size="2"),
                width="100%",
            ),
        ),
        rx.cond(
            ReviewsState.action_submission_id == item["submission_id"],
            error_callout(ReviewsState.action_error, "review-error"),
        ),
        rx.match(
            item["status"],
            ("pending", _actions(item)),
            (
                "approved",
                rx.vstack(
                    rx.link(
                        rx.button(
                            rx.icon("chart-line", size=14),
                            "Posts, views & earnings",
                            variant="soft",
                        ),
                        href="/performance/" + item["submission_id"].to(str),
                        custom_attrs={"data-testid": "review-performance-link"},
                    ),
                    rx.cond(
                        item["rated_stars"] == 0,
                        _rate_form(item),
                        rx.text(
                            item["rated_text"],
                            size="2",
                            weight="medium",
                            custom_attrs={"data-testid": "review-rated"},
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
            rx.fragment(),
        ),
        spacing="3",
        width="100%",
        min_width="0",
    )
    return rx.card(
        rx.grid(
            rx.box(_player(item), width="100%"),
            details,
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "review-card", "data-status": item["status"]},
    )


def _dialog() -> rx.Component:
    is_reject = ReviewsState.dialog_kind == REJECT
    return reason_dialog(
        open=ReviewsState.dialog_open,
        on_close=ReviewsState.close_dialog,
        title=rx.cond(is_reject, "Reject this clip", "Ask for a revision"),
        description=rx.cond(
            is_reject,
            "The clipper sees your reason; the claim closes and its slot is free for someone else.",
            "The clipper sees your notes and gets the claim's time limit again to "
            "hand in a new version.",
        ),
        description_size="2",
        summary=ReviewsState.dialog_summary,
        field_name="text",
        placeholder=rx.cond(is_reject, "Why is it rejected?", "What should change?"),
        field_testid="review-dialog-text",
        field_props={
            "required": True,
            "min_length": 3,
            "max_length": 1000,
            "rows": "4",
            "auto_focus": True,
        },
        error=ReviewsState.dialog_error,
        error_testid="review-dialog-error",
        error_below_field=True,
        submit_label=rx.cond(is_reject, "Reject", "Send back"),
        submit_color=rx.cond(is_reject, "red", "violet"),
        submit_testid="review-dialog-send",
        on_submit=ReviewsState.send_dialog,
        form_key=ReviewsState.dialog_submission_id,
    )


def review_queue() -> rx.Component:
    """The status tabs, the cards and the dialog (used here and on a campaign's page)."""
    return rx.vstack(
        rx.tabs.root(
            rx.tabs.list(
                *[
                    rx.tabs.trigger(
                        label, value=value, custom_attrs={"data-testid": f"reviews-tab-{value}"}
                    )
                    for value, label in STATUS_LABELS.items()
                ]
            ),
            value=ReviewsState.status_filter,
            on_change=ReviewsState.show_status,
            width="100%",
        ),
        error_callout(ReviewsState.load_error, "reviews-error"),
        rx.cond(
            ReviewsState.items.length() == 0,
            rx.text(
                rx.match(
                    ReviewsState.status_filter,
                    ("pending", "No clips are waiting for your review."),
                    ("approved", "No approved clips yet."),
                    ("rejected", "No rejected clips."),
                    "No clips were sent back for a revision.",
                ),
                size="2",
                color=rx.color("gray", 11),
                padding_y="12px",
                custom_attrs={"data-testid": "reviews-empty"},
            ),
            rx.vstack(rx.foreach(ReviewsState.items, _review_card), spacing="4", width="100%"),
        ),
        _dialog(),
        link_renewer(ReviewsState.renew_links),
        spacing="3",
        width="100%",
    )


@template(
    routes.REVIEWS,
    "Reviews",
    role="client",
    on_load=[ReviewsState.open_page, AppealDecisionsState.open_client],
)
def reviews() -> rx.Component:
    return rx.vstack(
        page_header(
            "Reviews",
            "Clips clippers submitted to your campaigns. One you do not review within "
            "72 hours is approved automatically.",
        ),
        review_queue(),
        appeals_to_decide(
            "Appeals",
            "Clippers may appeal a rejection once. Overturning approves the clip and pays it "
            "as an approval does; upholding changes nothing. Either way they are told why.",
        ),
        spacing="4",
        width="100%",
    )
