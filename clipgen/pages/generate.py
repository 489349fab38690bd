"""Generate: upload a long video, choose what clips to make, start."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.layout import page_header, template
from clipgen.state.generate import UPLOAD_ID, GenerateState


def _error(message, testid: str) -> rx.Component:
    return rx.cond(
        message != "",
        rx.callout(
            message,
            icon="triangle-alert",
            color_scheme="red",
            width="100%",
            role="alert",
            custom_attrs={"data-testid": testid},
        ),
    )


def _drop_zone() -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.icon("cloud-upload", size=36, color=rx.color("accent", 10)),
            rx.text("Drop a video here, or click to choose one", weight="medium"),
            rx.text(
                "MP4, MOV, MKV or WebM, up to ",
                GenerateState.max_upload_mb,
                " MB",
                size="2",
                color=rx.color("gray", 11),
            ),
            align="center",
            spacing="2",
            padding="32px",
        ),
        id=UPLOAD_ID,
        max_files=1,
        accept={"video/*": [".mp4", ".mov", ".mkv", ".webm"]},
        on_drop=GenerateState.receive_upload(
            rx.upload_files_chunk(
                upload_id=UPLOAD_ID, on_upload_progress=GenerateState.upload_progress
            )
        ),
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="var(--radius-4)",
        width="100%",
        cursor="pointer",
        custom_attrs={"data-testid": "upload-zone"},
    )


def _upload_status() -> rx.Component:
    return rx.cond(
        GenerateState.uploading,
        rx.vstack(
            rx.hstack(
                rx.text("Uploading and checking the video…", size="2"),
                rx.spacer(),
                rx.text(GenerateState.upload_percent, "%", size="2"),
                width="100%",
            ),
            rx.progress(
                value=GenerateState.upload_percent,
                width="100%",
                custom_attrs={"data-testid": "upload-progress"},
            ),
            rx.button(
                "Cancel upload",
                variant="soft",
                color_scheme="gray",
                size="1",
                on_click=rx.cancel_upload(UPLOAD_ID),
                custom_attrs={"data-testid": "upload-cancel"},
            ),
            width="100%",
            spacing="2",
        ),
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


def _select(label: str, name: str, value, options: list[tuple[str, str]]) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", custom_attrs={"data-testid": f"option-{name}"}),
            rx.select.content(*[rx.select.item(text, value=key) for key, text in options]),
            value=value,
            on_change=lambda v: GenerateState.set_option(name, v),
        ),
        spacing="1",
        width="100%",
    )


def _options() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading("What to make", size="4"),
            rx.grid(
                rx.vstack(
                    rx.text("Number of clips", size="2", weight="medium"),
                    rx.input(
                        type="number",
                        min=1,
                        max=20,
                        value=GenerateState.clip_count,
                        on_change=lambda v: GenerateState.set_option("clip_count", v),
                        custom_attrs={"data-testid": "option-clips"},
                    ),
                    spacing="1",
                    width="100%",
                ),
                _select(
                    "Length",
                    "length",
                    GenerateState.length,
                    [
                        ("15-30", "15-30 s"),
                        ("30-60", "30-60 s"),
                        ("60-90", "60-90 s"),
                        ("custom", "Custom"),
                    ],
                ),
                _select(
                    "Aspect",
                    "aspect",
                    GenerateState.aspect,
                    [("9:16", "9:16 vertical"), ("1:1", "1:1 square"), ("16:9", "16:9 wide")],
                ),
                _select(
                    "Captions",
                    "captions",
                    GenerateState.captions,
                    [("animated", "Animated word highlight"), ("plain", "Plain"), ("off", "Off")],
                ),
                columns=rx.breakpoints(initial="1", sm="2", md="4"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                GenerateState.length == "custom",
                rx.hstack(
                    rx.input(
                        type="number",
                        value=GenerateState.custom_min,
                        on_change=lambda v: GenerateState.set_option("custom_min", v),
                        custom_attrs={"data-testid": "option-min"},
                    ),
                    rx.text("to"),
                    rx.input(
                        type="number",
                        value=GenerateState.custom_max,
                        on_change=lambda v: GenerateState.set_option("custom_max", v),
                        custom_attrs={"data-testid": "option-max"},
                    ),
                    rx.text("seconds"),
                    align="center",
                ),
            ),
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


@template(routes.GENERATE, "Generate", role="clipper", on_load=GenerateState.open_page)
def generate() -> rx.Component:
    return rx.vstack(
        page_header(
            "Generate clips",
            "Upload a long video; ClipGen finds the best moments and makes them short.",
        ),
        _error(GenerateState.upload_error, "upload-error"),
        _upload_status(),
        _options(),
        _error(GenerateState.start_error, "start-error"),
        rx.button(
            rx.icon("wand-sparkles"),
            "Generate clips",
            size="3",
            disabled=(GenerateState.video_id == 0) | GenerateState.uploading,
            on_click=GenerateState.start,
            custom_attrs={"data-testid": "start-generation"},
        ),
        spacing="4",
        width="100%",
    )
