"""My clips: the user's clip library."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.timers import link_renewer
from clipgen.state.clips import MyClipsState


def _card(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.link(
                rx.image(
                    src=card["thumbnail_url"],
                    width="100%",
                    height="220px",
                    object_fit="cover",
                    border_radius="8px",
                    alt=card["title"],
                ),
                href=card["job_href"],
            ),
            rx.hstack(
                rx.badge(card["score"], "/10", color_scheme="green"),
                rx.text(card["duration"], size="1", color=rx.color("gray", 11)),
                spacing="2",
            ),
            rx.link(
                rx.text(card["title"], weight="bold", size="2"),
                href=card["job_href"],
                custom_attrs={"data-testid": "library-title"},
            ),
            rx.hstack(
                rx.link(
                    rx.button(rx.icon("download", size=14), "MP4", size="1"),
                    href=card["download_url"],
                    is_external=True,
                ),
                rx.spacer(),
                confirm_dialog(
                    rx.button(
                        rx.icon("trash-2", size=14),
                        size="1",
                        variant="soft",
                        color_scheme="red",
                        custom_attrs={"data-testid": "library-delete"},
                    ),
                    title="Delete this clip?",
                    description="The video, its subtitles and thumbnail are deleted for good.",
                    confirm_label="Delete",
                    on_confirm=MyClipsState.delete(card["id"]),
                    confirm_testid="library-confirm",
                ),
                width="100%",
            ),
            spacing="2",
            width="100%",
        ),
        custom_attrs={"data-testid": "library-card"},
    )


@template(routes.MY_CLIPS, "My clips", role="clipper", on_load=MyClipsState.open_page)
def my_clips() -> rx.Component:
    return rx.vstack(
        link_renewer(MyClipsState.renew_links),
        page_header("My clips", "Every clip you made, newest first."),
        rx.form(
            rx.hstack(
                rx.input(
                    name="query",
                    placeholder="Search titles and transcripts",
                    default_value=MyClipsState.query,
                    width="100%",
                    custom_attrs={"data-testid": "library-search"},
                ),
                rx.button("Search", type="submit"),
                width="100%",
            ),
            on_submit=MyClipsState.search,
            width="100%",
        ),
        rx.cond(MyClipsState.error != "", rx.callout(MyClipsState.error, color_scheme="red")),
        rx.cond(
            MyClipsState.total == 0,
            rx.callout(
                rx.text("No clips yet. ", rx.link("Generate some", href=routes.GENERATE), "."),
                icon="clapperboard",
                custom_attrs={"data-testid": "library-empty"},
            ),
            rx.grid(
                rx.foreach(MyClipsState.cards, _card),
                columns=rx.breakpoints(initial="1", sm="2", md="3"),
                spacing="4",
                width="100%",
            ),
        ),
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                disabled=MyClipsState.page <= 1,
                on_click=MyClipsState.go_to_page(MyClipsState.page - 1),
            ),
            rx.text("Page ", MyClipsState.page, " of ", MyClipsState.page_count, size="2"),
            rx.button(
                "Next",
                variant="soft",
                disabled=MyClipsState.page >= MyClipsState.page_count,
                on_click=MyClipsState.go_to_page(MyClipsState.page + 1),
            ),
            align="center",
            spacing="3",
        ),
        spacing="4",
        width="100%",
    )
