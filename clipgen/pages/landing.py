"""The public landing page: what ClipGen is, for the two sides it serves."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.layout import brand
from clipgen.state.session import SessionState


def _nav() -> rx.Component:
    return rx.hstack(
        brand(),
        rx.spacer(),
        rx.color_mode.button(variant="ghost"),
        rx.cond(
            SessionState.is_authenticated,
            rx.link(rx.button("Open dashboard", size="2"), href=routes.DASHBOARD),
            rx.hstack(
                rx.link(
                    rx.button("Sign in", variant="ghost", size="2"),
                    href=routes.LOGIN,
                    custom_attrs={"data-testid": "landing-sign-in"},
                ),
                rx.link(
                    rx.button("Get started", size="2"),
                    href=routes.REGISTER,
                    custom_attrs={"data-testid": "landing-get-started"},
                ),
                spacing="2",
            ),
        ),
        align="center",
        width="100%",
        padding_y="16px",
    )


def _feature(icon: str, title: str, text: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon(icon, size=24, color=rx.color("accent", 10)),
            rx.heading(title, size="4"),
            rx.text(text, color=rx.color("gray", 11), size="2"),
            spacing="2",
        ),
        size="3",
    )


def _side(title: str, steps: list[str], cta: str, role: str) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(title, size="5"),
            rx.ordered_list(*[rx.list_item(rx.text(step, size="3")) for step in steps]),
            rx.link(
                rx.button(cta, variant="soft", size="3"), href=f"{routes.REGISTER}?role={role}"
            ),
            spacing="4",
        ),
        size="4",
        width="100%",
    )


_TIERS = [
    ("Bronze", "70%", "from your first clip"),
    ("Silver", "75%", "10 approved clips or 100k views"),
    ("Gold", "80%", "50 approved clips or 500k views"),
    ("Platinum", "85%", "100 approved clips or 1M views"),
]


@rx.page(
    route=routes.LANDING,
    title="ClipGen · long videos into paid short clips",
    on_load=SessionState.load_visitor,
)
def landing() -> rx.Component:
    return rx.box(
        rx.container(
            _nav(),
            rx.vstack(
                rx.badge("AI clipping + a marketplace that pays per view", size="2", radius="full"),
                rx.heading(
                    "Turn long videos into short clips that get watched, and paid for.",
                    size="9",
                    text_align="center",
                    max_width="820px",
                ),
                rx.text(
                    "ClipGen finds the best moments in a podcast, stream or talk, reframes "
                    "them to vertical around the speaker and burns in word-by-word captions. "
                    "Brands fund campaigns; clippers claim them, publish to YouTube Shorts, "
                    "TikTok or Reels, and earn on approval and on views.",
                    size="4",
                    color=rx.color("gray", 11),
                    text_align="center",
                    max_width="720px",
                ),
                rx.hstack(
                    rx.link(
                        rx.button("Start clipping", size="4"),
                        href=f"{routes.REGISTER}?role=clipper",
                    ),
                    rx.link(
                        rx.button("Launch a campaign", size="4", variant="outline"),
                        href=f"{routes.REGISTER}?role=client",
                    ),
                    spacing="3",
                    wrap="wrap",
                    justify="center",
                ),
                spacing="6",
                align="center",
                padding_y=["48px", "72px"],
            ),
            rx.grid(
                _feature(
                    "sparkles",
                    "Finds the moments",
                    "Transcribes every word, listens for energy and laughter, and ranks "
                    "the moments with a hook, a title and a virality score.",
                ),
                _feature(
                    "smartphone",
                    "Vertical, captioned, ready",
                    "Reframes to 9:16 around the speaking face and burns in animated "
                    "captions, in one fast encode.",
                ),
                _feature(
                    "badge-dollar-sign",
                    "Paid by performance",
                    "Pay on approval, CPM as views grow, and bonuses at 100k, 500k, 1M "
                    "and 5M views, all held in escrow.",
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="4",
                width="100%",
            ),
            rx.grid(
                _side(
                    "For creators and brands",
                    [
                        "Upload a long video and write the brief.",
                        "Fund the campaign; the budget waits in escrow.",
                        "Review submitted clips; pay only for what you approve.",
                    ],
                    "Launch a campaign",
                    "client",
                ),
                _side(
                    "For clippers",
                    [
                        "Claim a campaign that fits you.",
                        "Generate clips with our AI pipeline, trim and publish.",
                        "Earn on approval, on views, and with bonuses.",
                    ],
                    "Start clipping",
                    "clipper",
                ),
                columns=rx.breakpoints(initial="1", md="2"),
                spacing="4",
                width="100%",
                padding_y="48px",
            ),
            rx.vstack(
                rx.heading("Clippers keep more as they grow", size="6"),
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Tier"),
                            rx.table.column_header_cell("Your share"),
                            rx.table.column_header_cell("Reached with"),
                        )
                    ),
                    rx.table.body(
                        *[
                            rx.table.row(
                                rx.table.cell(name), rx.table.cell(share), rx.table.cell(needs)
                            )
                            for name, share, needs in _TIERS
                        ]
                    ),
                    variant="surface",
                    width="100%",
                ),
                spacing="4",
                width="100%",
                padding_bottom="64px",
            ),
            size="4",
            padding_x="16px",
        ),
        width="100%",
    )
