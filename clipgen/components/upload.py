"""The video drop zone every upload uses (Generate, a campaign's source, an own edit).

`state` is a state class with `max_upload_mb`, and the `receive_upload` and
`upload_progress` handlers (see `clipgen.state.generate.receive_video`).

The zone cannot be opened until the page's state is loaded (`State.is_hydrated`: the
websocket is up and the page's on_load handlers have run). A file chosen earlier could be
lost without a word: a page's on_load may redraw the zone, and the file dialog then hands
the file to an input that is no longer on the page; or it may reset what the upload set.
Until then the zone is greyed and says so. Its input keeps listening all the while, so a
file that still arrives (a dialog opened just before) is uploaded, never dropped; a file
dragged onto it is uploaded too (the event waits for the websocket like any other).
"""

from __future__ import annotations

import reflex as rx

from clipgen.state.generate import ACCEPTED_EXTENSIONS


def video_drop_zone(state, upload_id: str, prompt: str, testid: str) -> rx.Component:
    ready = rx.State.is_hydrated
    return rx.upload.root(
        rx.vstack(
            rx.cond(
                ready,
                rx.icon("cloud-upload", size=32, color=rx.color("accent", 10)),
                rx.spinner(size="3"),
            ),
            rx.text(rx.cond(ready, prompt, "Getting the upload ready…"), weight="medium"),
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
        # Not `disabled`: that would also drop the input's change handler.
        no_click=~ready,
        no_keyboard=~ready,
        border=f"2px dashed {rx.color('accent', 7)}",
        border_radius="var(--radius-4)",
        width="100%",
        cursor=rx.cond(ready, "pointer", "progress"),
        opacity=rx.cond(ready, "1", "0.6"),
        custom_attrs={
            "data-testid": testid,
            "aria-disabled": rx.cond(ready, "false", "true"),
            "aria-busy": rx.cond(ready, "false", "true"),
        },
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
