"""A clipper's public profile: tier, rating, totals, approved clips and recent ratings.

Public: anyone may open it, signed in or not (approved clips are made to be published).
"""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import figure, figures, section
from clipgen.components.layout import brand
from clipgen.state.profile import ProfileState
from clipgen.state.session import SessionState

MUTED = rx.color("gray", 11)


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
                    custom_attrs={"data-testid": "profile-sign-in"},
                ),
                rx.link(rx.button("Get started", size="2"), href=routes.REGISTER),
                spacing="2",
            ),
        ),
        align="center",
        width="100%",
        padding_y="16px",
    )


def _tier() -> rx.Component:
    tier = ProfileState.tier
    return section(
        "Tier",
        rx.hstack(
            rx.badge(
                tier["name"],
                size="3",
                color_scheme="violet",
                custom_attrs={"data-testid": "tier-name"},
            ),
            rx.text(tier["split"], size="5", weight="bold"),
            rx.text("clipper / platform", size="2", color=MUTED),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.progress(value=tier["progress"].to(int), width="100%"),
        rx.text(tier["needs"], size="2", color=MUTED),
    )


def _clip(card: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.cond(
                card["video_url"] != "",
                rx.el.video(
                    src=card["video_url"],
                    poster=card["thumbnail_url"],
                    controls=True,
                    preload="metadata",
                    width="100%",
                    style={"maxHeight": "360px", "borderRadius": "8px", "background": "black"},
                ),
                rx.cond(
                    card["thumbnail_url"] != "",
                    rx.image(
                        src=card["thumbnail_url"],
                        width="100%",
                        height="220px",
                        object_fit="cover",
                        border_radius="8px",
                        alt=card["title"],
                    ),
                ),
            ),
            rx.text(card["title"], weight="bold", size="2"),
            rx.text(card["campaign"], size="1", color=MUTED),
            rx.hstack(
                rx.icon("eye", size=14, color=rx.color("gray", 10)),
                rx.text(card["views"], size="1", color=MUTED),
                spacing="1",
                align="center",
            ),
            spacing="2",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "portfolio-clip"},
    )


def _rating(line: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(
                    line["stars"],
                    color=rx.color("amber", 10),
                    size="3",
                    aria_label=line["label"],
                ),
                rx.text(line["campaign"], size="2", weight="medium"),
                rx.spacer(),
                rx.text(line["at"], size="1", color=rx.color("gray", 10)),
                align="center",
                width="100%",
                wrap="wrap",
            ),
            rx.cond(
                line["feedback"] != "",
                rx.text(line["feedback"], size="2", white_space="pre-wrap"),
            ),
            spacing="1",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "profile-rating"},
    )


def _profile() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.avatar(fallback=ProfileState.name.to(str)[0:1], size="6", radius="full"),
            rx.vstack(
                rx.heading(
                    ProfileState.name, size="8", custom_attrs={"data-testid": "profile-name"}
                ),
                rx.text("Clipper · member since ", ProfileState.member_since, color=MUTED),
                spacing="1",
            ),
            spacing="4",
            align="center",
        ),
        figures(
            figure(
                "Rating",
                rx.fragment(
                    ProfileState.rating_average,
                    rx.text.span(
                        " (",
                        ProfileState.rating_count,
                        rx.cond(ProfileState.rating_count == 1, " rating)", " ratings)"),
                        size="2",
                        weight="regular",
                        color=MUTED,
                    ),
                ),
                "profile-rating-average",
                "Out of 5, from clients.",
                "star",
            ),
            figure(
                "Approved clips",
                ProfileState.approved_clips,
                "profile-approved",
                "Accepted by clients.",
                "circle-check",
            ),
            figure("Total views", ProfileState.total_views, "profile-views", "", "eye"),
            figure(
                "Campaigns worked",
                ProfileState.campaigns_worked,
                "profile-campaigns",
                "",
                "megaphone",
            ),
        ),
        _tier(),
        section(
            "Approved clips",
            rx.cond(
                ProfileState.clips.length() == 0,
                rx.text("No approved clips yet.", size="2", color=MUTED),
                rx.grid(
                    rx.foreach(ProfileState.clips, _clip),
                    columns=rx.breakpoints(initial="1", sm="2", md="3"),
                    spacing="3",
                    width="100%",
                ),
            ),
        ),
        section(
            "Recent ratings",
            rx.cond(
                ProfileState.ratings.length() == 0,
                rx.text("No ratings yet.", size="2", color=MUTED),
                rx.vstack(rx.foreach(ProfileState.ratings, _rating), spacing="2", width="100%"),
            ),
        ),
        spacing="4",
        width="100%",
    )


@rx.page(
    route=routes.PROFILE,
    title="Clipper profile · ClipGen",
    on_load=[SessionState.load_visitor, ProfileState.open_page],
)
def profile() -> rx.Component:
    return rx.box(
        rx.container(
            _nav(),
            rx.cond(
                ProfileState.not_found,
                rx.callout(
                    "That clipper was not found. The link may be mistyped, or the account "
                    "is no longer active.",
                    icon="search-x",
                    width="100%",
                    custom_attrs={"data-testid": "profile-not-found"},
                ),
                rx.cond(
                    ProfileState.loaded,
                    _profile(),
                    rx.center(rx.spinner(size="3"), height="40vh"),
                ),
            ),
            size="4",
            padding_bottom="48px",
        ),
        width="100%",
    )
