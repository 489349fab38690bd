"""The video drop zone every upload uses (Generate, a campaign's source, an own edit).

`state` is a state class with `max_upload_mb`, and the `receive_upload` and
`upload_progress` handlers (see `clipgen.state.generate.receive_video`).
"""

from __future__ import annotations

import reflex as rx

from clipgen.state.generate import ACCEPTED_EXTENSIONS


def video_drop_zone(state, upload_id: str, prompt: str, testid: str) -> rx.Component:
    return rx.upload.root(
        rx.vstack(
            rx.icon("cloud-upload", size=32, color=rx.color("accent", 10)),
            rx.text(prompt, weight="medium"),
            rx.text(
                "MP4, MOV, MKV or WebM, up to ",
                state.max_upload_mb,
                " MB",
                size="2",
                color=rx.color("gray", 11),
            ),
            align="center",
            spacing="2",
            padding="24px",
        ),
        id=upload_id,
        max_files=1,
        accept={"video/*": ACCEPTED_EXTENSIONS},
        on_drop=state.receive_upload(
            rx.upload_files_chunk(upload_id=upload_id, on_upload_progress=state.upload_progress)
        ),
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="var(--radius-4)",
        width="100%",
        cursor="pointer",
        custom_attrs={"data-testid": testid},
    )


def upload_progress(state, upload_id: str, testid: str = "upload") -> rx.Component:
    """The percent of an upload in flight, with a button that cancels it."""
    return rx.vstack(
        rx.hstack(
            rx.text("Uploading and checking the video…", size="2"),
            rx.spacer(),
            rx.text(state.upload_percent, "%", size="2"),
            width="100%",
        ),
        rx.progress(
            value=state.upload_percent,
            width="100%",
            custom_attrs={"data-testid": f"{testid}-progress"},
        ),
        rx.button(
            "Cancel upload",
            variant="soft",
            color_scheme="gray",
            size="1",
            type="button",
            on_click=rx.cancel_upload(upload_id),
            custom_attrs={"data-testid": f"{testid}-cancel"},
        ),
        width="100%",
        spacing="2",
    )
