"""My work: the clipper's claims, and one claim's workspace (make or upload a clip, submit)."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.appeals import appeal_panel
from clipgen.components.blocks import error_callout, section
from clipgen.components.clip_options import clip_options
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.timers import link_renewer
from clipgen.components.upload import upload_progress, video_drop_zone
from clipgen.pages.marketplace import requirements_list
from clipgen.state.appeals import AppealState
from clipgen.state.work import OWN_EDIT_UPLOAD_ID, ClaimState, WorkListState

MUTED = rx.color("gray", 11)
CLAIM_COLORS = {
    "in_progress": "violet",
    "submitted": "blue",
    "revision_requested": "amber",
    "approved": "green",
    "rejected": "red",
    "expired": "gray",
    "abandoned": "gray",
    "queued": "gray",
    "running": "violet",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "gray",
    "pending": "blue",
}


def claim_badge(status, words) -> rx.Component:
    return rx.badge(
        words,
        color_scheme=rx.match(status, *CLAIM_COLORS.items(), "gray"),
        variant="soft",
        custom_attrs={"data-testid": "claim-status"},
    )


# --- /work -----------------------------------------------------------------------------------


def _work_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.link(row["campaign"], href=row["href"], weight="medium"),
        ),
        rx.table.cell(claim_badge(row["status"], row["status_words"])),
        rx.table.cell(rx.text(row["timing"], size="2")),
        rx.table.cell(rx.text(row["revisions"], size="2", color=MUTED)),
        rx.table.cell(
            rx.link(rx.button("Open", size="1", variant="soft"), href=row["href"]),
        ),
        custom_attrs={"data-testid": "work-row", "data-status": row["status"]},
    )


@template(routes.MY_WORK, "My work", role="clipper", on_load=WorkListState.open_page)
def my_work() -> rx.Component:
    return rx.vstack(
        page_header("My work", "Your claims: open ones first."),
        error_callout(WorkListState.error, "work-error"),
        rx.cond(
            WorkListState.rows.length() == 0,
            rx.card(
                rx.vstack(
                    rx.text("You have no claims yet.", weight="medium"),
                    rx.link(
                        rx.button(rx.icon("store", size=16), "Browse the marketplace"),
                        href=routes.MARKETPLACE,
                    ),
                    spacing="3",
                    align="center",
                    padding="24px",
                ),
                width="100%",
                custom_attrs={"data-testid": "work-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Campaign"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Time"),
                            rx.table.column_header_cell("Revisions"),
                            rx.table.column_header_cell(""),
                        )
                    ),
                    rx.table.body(rx.foreach(WorkListState.rows, _work_row)),
                    variant="surface",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


# --- /work/<id>: status -----------------------------------------------------------------------


def _notice(icon: str, color: str, testid: str, *lines: rx.Component) -> rx.Component:
    """A callout holding several lines (the plain callout wraps its content in one <p>)."""
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon)),
        rx.vstack(*lines, spacing="1"),
        color_scheme=color,
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def _status_callout() -> rx.Component:
    claim = ClaimState.claim
    return rx.match(
        claim["status"],
        (
            "revision_requested",
            _notice(
                "pencil",
                "amber",
                "revision-requested",
                rx.text("The client asked for a revision.", weight="bold"),
                rx.text(
                    ClaimState.revision_notes,
                    white_space="pre-wrap",
                    custom_attrs={"data-testid": "revision-notes"},
                ),
                rx.text(
                    "Make the change and submit again below (revision ",
                    claim["revisions"],
                    ").",
                    size="2",
                ),
            ),
        ),
        (
            "submitted",
            rx.callout(
                "Submitted: the client reviews it within 72 hours, or it is approved "
                "automatically.",
                icon="hourglass",
                color_scheme="blue",
                width="100%",
                custom_attrs={"data-testid": "claim-submitted"},
            ),
        ),
        (
            "approved",
            _notice(
                "circle-check",
                "green",
                "claim-approved",
                rx.text("Approved: your earnings for this clip are booked (see Earnings)."),
                rx.cond(
                    claim["performance_href"] != "",
                    rx.link(
                        rx.button(rx.icon("chart-line", size=14), "Publish & track views"),
                        href=claim["performance_href"],
                        custom_attrs={"data-testid": "claim-performance-link"},
                    ),
                ),
            ),
        ),
        (
            "rejected",
            _notice(
                "circle-x",
                "red",
                "claim-rejected",
                rx.text("The client rejected this clip.", weight="bold"),
                rx.text(ClaimState.rejection_reason, white_space="pre-wrap"),
                appeal_panel("rejection"),
            ),
        ),
        (
            "expired",
            rx.callout(
                "This claim expired before a clip was submitted; its slot went back to the pool.",
                icon="clock",
                color_scheme="gray",
                width="100%",
            ),
        ),
        (
            "abandoned",
            rx.callout(
                "You gave this claim up; its slot went back to the pool.",
                icon="undo-2",
                color_scheme="gray",
                width="100%",
            ),
        ),
        rx.fragment(),
    )


def _header() -> rx.Component:
    claim = ClaimState.claim
    return rx.hstack(
        rx.vstack(
            rx.link(
                rx.hstack(rx.icon("arrow-left", size=14), rx.text("My work", size="2")),
                href=routes.MY_WORK,
                underline="none",
            ),
            rx.heading(
                ClaimState.campaign["title"], size="7", custom_attrs={"data-testid": "page-title"}
            ),
            rx.hstack(
                claim_badge(claim["status"], claim["status_words"]),
                rx.cond(
                    claim["expires"] != "",
                    rx.badge(
                        rx.icon("clock", size=12),
                        claim["expires"],
                        color_scheme="amber",
                        variant="surface",
                        custom_attrs={"data-testid": "claim-time-left"},
                    ),
                ),
                rx.text(
                    ClaimState.campaign["pay"],
                    " · by ",
                    ClaimState.campaign["client"],
                    size="2",
                    color=MUTED,
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            spacing="2",
        ),
        rx.spacer(),
        rx.link(
            rx.button("Campaign page", variant="soft", size="2"),
            href=claim["campaign_href"],
        ),
        width="100%",
        align="start",
        wrap="wrap",
    )


# --- /work/<id>: make clips with AI -------------------------------------------------------


def _generation_row(row: rx.Var) -> rx.Component:
    return rx.hstack(
        claim_badge(row["status"], row["status"]),
        rx.text("Job #", row["id"], size="2", weight="medium"),
        rx.text(row["progress"], size="2", color=MUTED),
        rx.spacer(),
        rx.text(row["started"], size="1", color=rx.color("gray", 10)),
        rx.link(
            rx.button("Open job", size="1", variant="soft"),
            href=row["href"],
            custom_attrs={"data-testid": "generation-link"},
        ),
        align="center",
        width="100%",
        wrap="wrap",
        spacing="2",
        custom_attrs={"data-testid": "generation-row", "data-status": row["status"]},
    )


def _make_clips() -> rx.Component:
    return section(
        "Make clips with AI",
        rx.cond(
            ClaimState.can_generate,
            rx.vstack(
                rx.text(
                    "ClipGen cuts clips from the campaign's source video; the choices start at "
                    "what the campaign asks for.",
                    size="2",
                    color=MUTED,
                ),
                clip_options(ClaimState, "claim-option"),
                error_callout(ClaimState.generate_error, "generate-error"),
                rx.button(
                    rx.icon("wand-sparkles", size=16),
                    "Make clips",
                    on_click=ClaimState.make_clips,
                    custom_attrs={"data-testid": "make-clips"},
                ),
                spacing="3",
                width="100%",
            ),
            rx.text(
                "This campaign's source is a link, not an uploaded video: make your edit from "
                "it and upload it below.",
                size="2",
                color=MUTED,
            ),
        ),
        rx.cond(
            ClaimState.generation_jobs.length() > 0,
            rx.vstack(
                rx.text("Generations for this claim", size="2", weight="bold"),
                rx.foreach(ClaimState.generation_jobs, _generation_row),
                spacing="2",
                width="100%",
            ),
        ),
    )


# --- /work/<id>: upload an own edit ------------------------------------------------------


def _upload() -> rx.Component:
    return section(
        "Upload your own edit",
        rx.text(
            "Edited it yourself? Upload the finished clip; it is checked and listed below.",
            size="2",
            color=MUTED,
        ),
        error_callout(ClaimState.upload_error, "edit-upload-error"),
        rx.cond(
            ClaimState.uploading,
            upload_progress(ClaimState, OWN_EDIT_UPLOAD_ID, "edit-upload"),
            video_drop_zone(
                ClaimState,
                OWN_EDIT_UPLOAD_ID,
                "Drop your edit here, or click to choose it",
                "edit-upload-zone",
            ),
        ),
    )


# --- /work/<id>: pick and submit ---------------------------------------------------------


def _candidate(card: rx.Var) -> rx.Component:
    picked = ClaimState.picked == card["key"]
    return rx.card(
        rx.vstack(
            rx.el.video(
                src=card["video_url"],
                poster=card["thumbnail_url"],
                controls=True,
                preload="metadata",
                width="100%",
                style={"maxHeight": "260px", "borderRadius": "8px", "background": "black"},
                custom_attrs={"data-testid": "candidate-video"},
            ),
            rx.hstack(
                rx.badge(card["kind"], variant="surface", color_scheme="gray"),
                rx.text(card["duration"], size="1", color=MUTED),
                rx.cond(card["aspect"] != "", rx.text(card["aspect"], size="1", color=MUTED)),
                spacing="2",
                align="center",
            ),
            rx.text(
                card["title"],
                weight="bold",
                size="2",
                custom_attrs={"data-testid": "candidate-title"},
            ),
            rx.cond(
                card["fits"],
                rx.badge(
                    rx.icon("check", size=12),
                    "Fits the campaign",
                    color_scheme="green",
                    custom_attrs={"data-testid": "candidate-fits"},
                ),
                rx.text(
                    card["why_not"],
                    size="1",
                    color=rx.color("red", 11),
                    custom_attrs={"data-testid": "candidate-why-not"},
                ),
            ),
            rx.button(
                rx.cond(picked, "Picked", "Pick"),
                rx.cond(picked, rx.icon("circle-check", size=14), rx.fragment()),
                size="1",
                width="100%",
                variant=rx.cond(picked, "solid", "soft"),
                disabled=~card["fits"].to(bool),
                on_click=ClaimState.pick(card["key"]),
                custom_attrs={"data-testid": "candidate-pick"},
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        border=rx.cond(picked, f"2px solid {rx.color('accent', 9)}", "2px solid transparent"),
        custom_attrs={"data-testid": "candidate", "data-fits": card["fits"].to(str)},
    )


def _submit() -> rx.Component:
    return section(
        "Pick a clip and submit it",
        rx.cond(
            ClaimState.candidates.length() == 0,
            rx.text(
                "No clips yet: make some with AI or upload your own edit above.",
                size="2",
                color=MUTED,
                custom_attrs={"data-testid": "no-candidates"},
            ),
            rx.grid(
                rx.foreach(ClaimState.candidates, _candidate),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="3",
                width="100%",
            ),
        ),
        rx.form(
            rx.vstack(
                rx.text(
                    "Submitting: ",
                    rx.cond(
                        ClaimState.picked_title != "",
                        rx.text.strong(ClaimState.picked_title),
                        rx.text.em("pick a clip above"),
                    ),
                    size="2",
                    custom_attrs={"data-testid": "picked-title"},
                ),
                rx.vstack(
                    rx.text("Caption for the post", size="2", weight="medium"),
                    rx.text_area(
                        name="caption",
                        placeholder="What viewers read under the clip",
                        rows="3",
                        max_length=2200,
                        width="100%",
                        custom_attrs={"data-testid": "submit-caption"},
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.vstack(
                    rx.text("Hashtags", size="2", weight="medium"),
                    rx.input(
                        name="hashtags",
                        default_value=ClaimState.required_hashtags,
                        placeholder="#podcast #clips",
                        width="100%",
                        custom_attrs={"data-testid": "submit-hashtags"},
                    ),
                    rx.cond(
                        ClaimState.required_hashtags != "",
                        rx.text(
                            "The campaign requires ",
                            ClaimState.required_hashtags,
                            ".",
                            size="1",
                            color=MUTED,
                        ),
                    ),
                    spacing="1",
                    width="100%",
                ),
                error_callout(ClaimState.submit_error, "submit-error"),
                rx.button(
                    rx.icon("send", size=16),
                    "Submit",
                    type="submit",
                    size="3",
                    disabled=ClaimState.picked == "",
                    custom_attrs={"data-testid": "submit-clip"},
                ),
                spacing="3",
                width="100%",
            ),
            key=ClaimState.submit_form_key,
            on_submit=ClaimState.submit,
            width="100%",
        ),
    )


def _submission(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                claim_badge(row["status"], row["status_words"]),
                rx.text(row["title"], weight="medium", size="2"),
                rx.text(row["kind"], " · ", row["duration"], size="1", color=MUTED),
                rx.spacer(),
                rx.text(row["submitted"], size="1", color=rx.color("gray", 10)),
                align="center",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(row["caption"] != "", rx.text(row["caption"], size="2")),
            rx.cond(row["hashtags"] != "", rx.text(row["hashtags"], size="1", color=MUTED)),
            rx.cond(
                row["feedback"] != "",
                rx.text(
                    rx.text.strong(row["feedback_label"], ": "),
                    row["feedback"],
                    size="2",
                    white_space="pre-wrap",
                    custom_attrs={"data-testid": "submission-feedback"},
                ),
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "submission", "data-status": row["status"]},
    )


def _history() -> rx.Component:
    return section(
        "Submissions",
        rx.cond(
            ClaimState.submissions.length() == 0,
            rx.text("Nothing submitted yet.", size="2", color=MUTED),
            rx.vstack(rx.foreach(ClaimState.submissions, _submission), spacing="2", width="100%"),
        ),
    )


def _give_up() -> rx.Component:
    return rx.vstack(
        error_callout(ClaimState.action_error, "give-up-error"),
        confirm_dialog(
            rx.button(
                rx.icon("undo-2", size=14),
                "Give up claim",
                variant="soft",
                color_scheme="red",
                custom_attrs={"data-testid": "give-up"},
            ),
            title="Give up this claim?",
            description="Its slot goes back to the pool for another clipper. Clips you made stay "
            "in My clips.",
            confirm_label="Give up claim",
            on_confirm=ClaimState.give_up,
            confirm_testid="confirm-give-up",
            cancel_label="Keep working",
        ),
        width="100%",
    )


@template(
    routes.CLAIM,
    "Claim",
    role="clipper",
    on_load=[ClaimState.open_page, AppealState.open_for_claim],
)
def claim() -> rx.Component:
    return rx.vstack(
        link_renewer(ClaimState.renew_links),
        rx.cond(
            ClaimState.not_found,
            rx.vstack(
                rx.callout(
                    ClaimState.load_error,
                    icon="search-x",
                    width="100%",
                    custom_attrs={"data-testid": "claim-not-found"},
                ),
                rx.link("Back to My work", href=routes.MY_WORK),
                width="100%",
            ),
            rx.cond(
                ClaimState.claim.length() > 0,
                rx.vstack(
                    _header(),
                    error_callout(ClaimState.load_error, "claim-load-error"),
                    _status_callout(),
                    section("What the campaign asks for", requirements_list(ClaimState.campaign)),
                    rx.cond(
                        ClaimState.workable,
                        rx.vstack(
                            _make_clips(),
                            _upload(),
                            _submit(),
                            spacing="4",
                            width="100%",
                        ),
                    ),
                    _history(),
                    rx.cond(ClaimState.workable, _give_up()),
                    spacing="4",
                    width="100%",
                ),
                error_callout(ClaimState.load_error, "claim-error"),
            ),
        ),
        spacing="4",
        width="100%",
    )
