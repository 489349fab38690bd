"""Generate: upload a long video, choose what clips to make, start."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout
from clipgen.components.clip_options import clip_options
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.upload import upload_progress, video_drop_zone
from clipgen.state.generate import UPLOAD_ID, GenerateState


def _drop_zone() -> rx.Component:
    return video_drop_zone(
        GenerateState, UPLOAD_ID, "Drop a video here, or click to choose one", "upload-zone"
    )


def _upload_status() -> rx.Component:
    return rx.cond(
        GenerateState.uploading,
        upload_progress(GenerateState, UPLOAD_ID),
        rx.cond(
            GenerateState.video_id > 0,
            rx.card(
                rx.hstack(
                    rx.icon("file-video", size=22, color=rx.color("green", 10)),
                    rx.vstack(
                        rx.text(
                            GenerateState.video_name,
                            weight="bold",
                            custom_attrs={"data-testid": "uploaded-name"},
                        ),
                        rx.text(GenerateState.video_summary, size="2", color=rx.color("gray", 11)),
                        spacing="0",
                    ),
                    rx.spacer(),
                    rx.button(
                        "Choose another",
                        variant="ghost",
                        size="1",
                        on_click=GenerateState.forget_video,
                    ),
                    align="center",
                    width="100%",
                ),
                width="100%",
            ),
            _drop_zone(),
        ),
    )


def _options() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("What to make", size="4"),
            clip_options(GenerateState, "option"),
            rx.vstack(
                rx.text("Topic (optional)", size="2", weight="medium"),
                rx.input(
                    placeholder="Moments about…",
                    value=GenerateState.prompt,
                    on_change=lambda v: GenerateState.set_option("prompt", v),
                    width="100%",
                    max_length=500,
                    custom_attrs={"data-testid": "option-prompt"},
                ),
                spacing="1",
                width="100%",
            ),
            spacing="4",
            width="100%",
        ),
        width="100%",
    )


def _video_item(row: dict) -> rx.Component:
    return rx.hstack(
        rx.icon("file-video", size=18, color=rx.color("gray", 10)),
        rx.vstack(
            rx.text(row["name"], weight="medium", size="2"),
            rx.text(row["summary"], size="1", color=rx.color("gray", 11)),
            spacing="0",
            min_width="0",
        ),
        rx.spacer(),
        rx.button(
            "Use",
            size="1",
            variant="soft",
            on_click=GenerateState.use_video(row["id"]),
            custom_attrs={"data-testid": "use-video"},
        ),
        confirm_dialog(
            rx.button(
                rx.icon("trash-2", size=14),
                size="1",
                variant="soft",
                color_scheme="red",
                aria_label="Delete video",
                custom_attrs={"data-testid": "delete-video"},
            ),
            title="Delete this video?",
            description="The uploaded original, its transcript, and every clip made from it "
            "are deleted. This cannot be undone.",
            confirm_label="Delete",
            on_confirm=GenerateState.delete_video(row["id"]),
            confirm_testid="confirm-delete-video",
        ),
        align="center",
        width="100%",
        spacing="3",
        custom_attrs={"data-testid": "video-row"},
    )


def _my_videos() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading("Your uploads", size="4"),
                rx.spacer(),
                rx.text(
                    GenerateState.storage_text,
                    size="2",
                    color=rx.color("gray", 11),
                    custom_attrs={"data-testid": "storage-usage"},
                ),
                width="100%",
                align="center",
            ),
            error_callout(GenerateState.videos_error, "videos-error"),
            rx.cond(
                GenerateState.my_videos.length() > 0,
                rx.vstack(rx.foreach(GenerateState.my_videos, _video_item), width="100%"),
                rx.text("Nothing uploaded yet.", size="2", color=rx.color("gray", 11)),
            ),
            width="100%",
            spacing="3",
        ),
        width="100%",
    )


@template(routes.GENERATE, "Generate", role="clipper", on_load=GenerateState.open_page)
def generate() -> rx.Component:
    return rx.vstack(
        page_header(
            "Generate clips",
            "Upload a long video; ClipGen finds the best moments and makes them short.",
        ),
        error_callout(GenerateState.upload_error, "upload-error"),
        _upload_status(),
        _options(),
        error_callout(GenerateState.start_error, "start-error"),
        rx.button(
            rx.icon("wand-sparkles"),
            "Generate clips",
            size="3",
            disabled=(GenerateState.video_id == 0) | GenerateState.uploading,
            on_click=GenerateState.start,
            custom_attrs={"data-testid": "start-generation"},
        ),
        _my_videos(),
        spacing="4",
        width="100%",
    )
