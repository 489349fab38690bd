"""A generation job: live progress, then ranked clips to watch, download and trim."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.timers import link_renewer
from clipgen.state.job import JobState


def _retry_or_delete() -> rx.Component:
    """What a job no worker is on offers: run it again, or delete it."""
    return rx.hstack(
        rx.button(
            "Try again",
            size="2",
            on_click=JobState.retry,
            custom_attrs={"data-testid": "job-retry"},
        ),
        _delete_job_button(),
        spacing="3",
    )


def _delete_job_button() -> rx.Component:
    return confirm_dialog(
        rx.button(
            rx.icon("trash-2", size=14),
            "Delete job",
            size="2",
            variant="soft",
            color_scheme="gray",
            custom_attrs={"data-testid": "job-delete"},
        ),
        title="Delete this job?",
        description="The job and any clips it made are deleted. Your uploaded video stays.",
        confirm_label="Delete",
        on_confirm=JobState.delete_job,
        confirm_testid="confirm-job-delete",
    )


def _progress() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.spinner(size="2"),
                rx.text(
                    JobState.stage_label, weight="medium", custom_attrs={"data-testid": "job-stage"}
                ),
                rx.spacer(),
                rx.text(JobState.percent, "%", custom_attrs={"data-testid": "job-percent"}),
                align="center",
                width="100%",
            ),
            rx.progress(value=JobState.percent, width="100%"),
            rx.cond(
                JobState.clips_planned > 0,
                rx.text(
                    JobState.clips_ready,
                    " of ",
                    JobState.clips_planned,
                    " clips ready. Watch them below while the rest render.",
                    size="2",
                    color=rx.color("gray", 11),
                    custom_attrs={"data-testid": "job-clips-ready"},
                ),
            ),
            rx.cond(
                JobState.stuck,
                rx.callout(
                    "No worker has reported on this job for a while: the process running it "
                    "probably stopped. It is picked up again automatically; you can also try "
                    "again now, cancel it or delete it.",
                    icon="circle-alert",
                    color_scheme="amber",
                    width="100%",
                    custom_attrs={"data-testid": "job-stuck"},
                ),
            ),
            rx.hstack(
                rx.button(
                    "Cancel",
                    variant="soft",
                    color_scheme="red",
                    size="2",
                    on_click=JobState.cancel,
                    custom_attrs={"data-testid": "job-cancel"},
                ),
                rx.cond(JobState.stuck, _retry_or_delete()),
                spacing="3",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _ended(message: str, color: str, testid: str) -> rx.Component:
    return rx.callout(
        rx.vstack(
            rx.text(message, weight="medium"),
            rx.cond(JobState.error != "", rx.text(JobState.error, size="2")),
            rx.cond(
                JobState.clips_ready > 0,
                rx.text(
                    "The ",
                    JobState.clips_ready,
                    " clips made before it stopped are below; trying again makes the rest.",
                    size="2",
                    custom_attrs={"data-testid": "job-partial"},
                ),
            ),
            _retry_or_delete(),
            spacing="2",
        ),
        icon="circle-alert",
        color_scheme=color,
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def _trim_dialog(card: rx.Var) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.trigger(
            rx.button(
                rx.icon("scissors", size=14),
                "Trim",
                variant="soft",
                size="1",
                on_click=JobState.open_trim(card["id"]),
                disabled=card["status"] == "rendering",
                custom_attrs={"data-testid": "clip-trim"},
            ),
        ),
        rx.dialog.content(
            rx.dialog.title("Trim clip"),
            rx.dialog.description(
                "Times are seconds in the source video; they snap to the nearest word.",
                size="2",
            ),
            rx.form(
                rx.vstack(
                    rx.hstack(
                        rx.vstack(
                            rx.text("Start", size="2"),
                            rx.input(
                                name="start",
                                default_value=JobState.trim_start,
                                custom_attrs={"data-testid": "trim-start"},
                            ),
                            spacing="1",
                        ),
                        rx.vstack(
                            rx.text("End", size="2"),
                            rx.input(
                                name="end",
                                default_value=JobState.trim_end,
                                custom_attrs={"data-testid": "trim-end"},
                            ),
                            spacing="1",
                        ),
                        spacing="3",
                    ),
                    rx.vstack(
                        rx.text("Captions", size="2"),
                        rx.text_area(
                            name="captions",
                            default_value=JobState.trim_text,
                            rows="4",
                            width="100%",
                            custom_attrs={"data-testid": "trim-text"},
                        ),
                        rx.text(
                            "Fix a misheard word here; the new words keep the speech timing.",
                            size="1",
                            color=rx.color("gray", 11),
                        ),
                        spacing="1",
                        width="100%",
                    ),
                    rx.cond(
                        JobState.trim_error != "",
                        rx.callout(
                            JobState.trim_error,
                            color_scheme="red",
                            size="1",
                            custom_attrs={"data-testid": "trim-error"},
                        ),
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", type="button", variant="soft", color_scheme="gray")
                        ),
                        rx.button(
                            "Re-render", type="submit", custom_attrs={"data-testid": "trim-submit"}
                        ),
                        justify="end",
                        width="100%",
                    ),
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=JobState.submit_trim,
            ),
        ),
        open=JobState.trim_clip_id == card["id"],
        on_open_change=lambda is_open: rx.cond(
            is_open, JobState.open_trim(card["id"]), JobState.close_trim()
        ),
    )


def _clip_card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.badge("#", card["rank"], size="2"),
                rx.badge(
                    card["score"],
                    "/10",
                    color_scheme="green",
                    size="2",
                    custom_attrs={"data-testid": "clip-score"},
                ),
                rx.cond(
                    card["status"] == "rendering",
                    # The current version stays playable below until the new one replaces it.
                    rx.badge(
                        rx.spinner(size="1"),
                        "Re-rendering",
                        color_scheme="amber",
                        custom_attrs={"data-testid": "clip-rendering"},
                    ),
                ),
                rx.spacer(),
                rx.text(
                    card["span"], " · ", card["duration"], size="1", color=rx.color("gray", 11)
                ),
                width="100%",
                align="center",
            ),
            rx.el.video(
                src=card["video_url"],
                poster=card["thumbnail_url"],
                controls=True,
                preload="metadata",
                width="100%",
                style={"maxHeight": "420px", "borderRadius": "8px", "background": "black"},
                custom_attrs={"data-testid": "clip-video"},
            ),
            rx.heading(card["title"], size="4", custom_attrs={"data-testid": "clip-title"}),
            rx.text(rx.text.strong("Hook: "), card["hook"], size="2"),
            rx.text(card["reason"], size="2", color=rx.color("gray", 11)),
            rx.text(
                card["transcript"],
                size="1",
                color=rx.color("gray", 10),
                style={"maxHeight": "80px", "overflow": "auto"},
            ),
            rx.hstack(
                rx.link(
                    rx.button(rx.icon("download", size=14), "MP4", size="1"),
                    href=card["download_url"],
                    is_external=True,
                    custom_attrs={"data-testid": "clip-download"},
                ),
                rx.link(
                    rx.button("SRT", size="1", variant="soft"),
                    href=card["srt_url"],
                    is_external=True,
                ),
                rx.link(
                    rx.button("VTT", size="1", variant="soft"),
                    href=card["vtt_url"],
                    is_external=True,
                ),
                rx.spacer(),
                _trim_dialog(card),
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "clip-card"},
    )


@template(routes.JOB, "Clips", role="clipper", on_load=JobState.open_page)
def job() -> rx.Component:
    return rx.vstack(
        page_header("Your clips", "Ranked best first. Watch, download, or trim any of them."),
        link_renewer(JobState.renew_links),
        rx.cond(
            JobState.not_found,
            rx.callout(
                "There is no such job in your account.",
                icon="search-x",
                custom_attrs={"data-testid": "job-not-found"},
            ),
            rx.vstack(
                rx.cond(
                    JobState.action_error != "",
                    rx.callout(JobState.action_error, color_scheme="red"),
                ),
                rx.cond(
                    JobState.claim_link != "",
                    rx.link(
                        rx.button(
                            rx.icon("arrow-left", size=16),
                            "Back to your claim: pick a clip and submit it",
                            variant="soft",
                        ),
                        href=JobState.claim_link,
                        custom_attrs={"data-testid": "back-to-claim"},
                    ),
                ),
                rx.match(
                    JobState.status,
                    ("queued", _progress()),
                    ("running", _progress()),
                    ("failed", _ended("Making clips failed.", "red", "job-failed")),
                    ("cancelled", _ended("This job was cancelled.", "gray", "job-cancelled")),
                    rx.fragment(),
                ),
                rx.cond(
                    JobState.timing_note != "",
                    rx.text(
                        JobState.timing_note,
                        size="1",
                        color=rx.color("gray", 10),
                        custom_attrs={"data-testid": "job-timing"},
                    ),
                ),
                rx.grid(
                    rx.foreach(JobState.clip_cards, _clip_card),
                    columns=rx.breakpoints(initial="1", md="2"),
                    spacing="4",
                    width="100%",
                ),
                spacing="4",
                width="100%",
            ),
        ),
        width="100%",
    )
