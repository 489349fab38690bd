"""The marketplace: live campaigns to browse and filter, and one campaign's brief with Claim."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import (
    error_callout,
    figure,
    figures,
    filter_select,
    section,
    status_badge,
)
from clipgen.components.layout import page_header, template
from clipgen.state.marketplace import (
    ENDING_CHOICES,
    LENGTH_CHOICES,
    PLATFORM_CHOICES,
    SORT_CHOICES,
    MarketCampaignState,
    MarketplaceState,
)

MUTED = rx.color("gray", 11)


def fact(icon: str, *value, testid: str = "") -> rx.Component:
    """A small icon and a value, as the cards list a campaign's terms."""
    attrs = {"custom_attrs": {"data-testid": testid}} if testid else {}
    return rx.hstack(
        rx.icon(icon, size=14, color=rx.color("gray", 10)),
        rx.text(*value, size="2", color=MUTED, **attrs),
        spacing="2",
        align="center",
    )


def _filter_select(label: str, name: str, value, choices: list[tuple[str, str]]) -> rx.Component:
    return filter_select(
        label,
        f"filter-{name}",
        value,
        choices,
        lambda choice: MarketplaceState.set_filter(name, choice),
    )


def _filters() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.form(
                rx.hstack(
                    rx.input(
                        rx.input.slot(rx.icon("search", size=16)),
                        name="query",
                        placeholder="Search titles and briefs",
                        default_value=MarketplaceState.query,
                        max_length=100,
                        flex="1",
                        min_width="200px",
                        custom_attrs={"data-testid": "market-search"},
                    ),
                    rx.input(
                        rx.input.slot("$"),
                        name="min_price",
                        placeholder="Lowest pay per clip",
                        default_value=MarketplaceState.min_price,
                        input_mode="decimal",
                        width="190px",
                        custom_attrs={
                            "data-testid": "market-min-price",
                            "aria-label": "Lowest pay per clip in dollars",
                        },
                    ),
                    rx.button(
                        "Search", type="submit", custom_attrs={"data-testid": "market-search-go"}
                    ),
                    spacing="2",
                    wrap="wrap",
                    width="100%",
                ),
                key=MarketplaceState.form_key,
                on_submit=MarketplaceState.search,
                width="100%",
            ),
            rx.hstack(
                _filter_select("Platform", "platform", MarketplaceState.platform, PLATFORM_CHOICES),
                _filter_select("Length", "length", MarketplaceState.length, LENGTH_CHOICES),
                _filter_select("Deadline", "ending", MarketplaceState.ending, ENDING_CHOICES),
                rx.spacer(),
                rx.text("Sort", size="2", color=MUTED),
                _filter_select("Sort", "sort", MarketplaceState.sort, SORT_CHOICES),
                spacing="2",
                wrap="wrap",
                align="center",
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _card(card: rx.Var) -> rx.Component:
    return rx.link(
        rx.card(
            rx.vstack(
                rx.heading(card["title"], size="4", custom_attrs={"data-testid": "campaign-title"}),
                rx.text("by ", card["client"], size="2", color=MUTED),
                rx.hstack(
                    rx.badge(
                        card["pay"],
                        color_scheme="green",
                        size="2",
                        custom_attrs={"data-testid": "campaign-pay"},
                    ),
                    rx.cond(card["cpm"] != "", rx.badge(card["cpm"], color_scheme="violet")),
                    spacing="2",
                    wrap="wrap",
                ),
                rx.vstack(
                    fact("monitor-play", card["platforms"]),
                    fact("timer", card["length"], " · ", card["aspect"]),
                    fact("calendar-clock", card["deadline"]),
                    fact("users", card["slots_left"], " slots left", testid="campaign-slots"),
                    fact("wallet", card["budget_left"], " budget left"),
                    spacing="1",
                ),
                spacing="2",
                width="100%",
            ),
            width="100%",
            height="100%",
            _hover={"border_color": rx.color("accent", 8)},
        ),
        href=card["href"],
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        custom_attrs={"data-testid": "campaign-card"},
    )


def _empty() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.icon("store", size=32, color=rx.color("gray", 9)),
            rx.cond(
                MarketplaceState.filtered,
                rx.vstack(
                    rx.text("No campaign matches these filters.", weight="medium"),
                    rx.button(
                        "Clear filters",
                        variant="soft",
                        on_click=MarketplaceState.clear_filters,
                        custom_attrs={"data-testid": "market-clear"},
                    ),
                    align="center",
                    spacing="2",
                ),
                rx.vstack(
                    rx.text("No live campaigns right now.", weight="medium"),
                    rx.text(
                        "New campaigns appear here as soon as clients launch them.",
                        size="2",
                        color=MUTED,
                    ),
                    align="center",
                    spacing="1",
                ),
            ),
            align="center",
            spacing="3",
            padding="24px",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "market-empty"},
    )


def _pager() -> rx.Component:
    return rx.cond(
        MarketplaceState.page_count > 1,
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                size="1",
                disabled=MarketplaceState.page <= 1,
                on_click=MarketplaceState.go_to_page(MarketplaceState.page - 1),
                custom_attrs={"data-testid": "market-previous"},
            ),
            rx.text("Page ", MarketplaceState.page, " of ", MarketplaceState.page_count, size="2"),
            rx.button(
                "Next",
                variant="soft",
                size="1",
                disabled=MarketplaceState.page >= MarketplaceState.page_count,
                on_click=MarketplaceState.go_to_page(MarketplaceState.page + 1),
                custom_attrs={"data-testid": "market-next"},
            ),
            align="center",
            spacing="3",
        ),
    )


@template(routes.MARKETPLACE, "Marketplace", role="clipper", on_load=MarketplaceState.open_page)
def marketplace() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            page_header(
                "Marketplace",
                "Campaigns you can claim: make a clip, earn on approval and on views.",
            ),
            rx.spacer(),
            rx.link(
                rx.button(rx.icon("briefcase", size=16), "My work", variant="soft"),
                href=routes.MY_WORK,
                custom_attrs={"data-testid": "my-work-link"},
            ),
            width="100%",
            align="start",
            wrap="wrap",
        ),
        _filters(),
        error_callout(MarketplaceState.error, "market-error"),
        rx.cond(
            MarketplaceState.error != "",
            rx.button(
                "Clear filters",
                variant="soft",
                on_click=MarketplaceState.clear_filters,
                custom_attrs={"data-testid": "market-error-clear"},
            ),
        ),
        rx.cond(
            MarketplaceState.error == "",
            rx.cond(
                MarketplaceState.cards.length() > 0,
                rx.vstack(
                    rx.text(
                        MarketplaceState.total,
                        rx.cond(MarketplaceState.total == 1, " campaign", " campaigns"),
                        size="2",
                        color=MUTED,
                        custom_attrs={"data-testid": "market-total"},
                    ),
                    rx.grid(
                        rx.foreach(MarketplaceState.cards, _card),
                        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
                        spacing="3",
                        width="100%",
                    ),
                    _pager(),
                    spacing="3",
                    width="100%",
                ),
                rx.cond(MarketplaceState.loaded, _empty()),
            ),
        ),
        spacing="4",
        width="100%",
    )


# --- one campaign ----------------------------------------------------------------------------


def _row(label: str, value, testid: str = "") -> rx.Component:
    attrs = {"custom_attrs": {"data-testid": testid}} if testid else {}
    return rx.data_list.item(
        rx.data_list.label(label, min_width="140px"),
        rx.data_list.value(rx.text(value, white_space="pre-wrap", size="2", **attrs)),
    )


def requirements_list(campaign: rx.Var) -> rx.Component:
    """What a clip for this campaign must be (shared with the claim page)."""
    return rx.data_list.root(
        _row("Platforms", campaign["platforms"], "req-platforms"),
        _row("Length", campaign["length"], "req-length"),
        _row("Aspect", campaign["aspect"], "req-aspect"),
        _row("Captions", campaign["captions"], "req-captions"),
        rx.cond(
            campaign["hashtags"] != "",
            _row("Required hashtags", campaign["hashtags"], "req-hashtags"),
        ),
        rx.cond(campaign["donts"] != "", _row("Don'ts", campaign["donts"], "req-donts")),
        _row("Deadline", campaign["deadline_at"]),
        _row("Time to submit", campaign["claim_ttl"]),
        rx.cond(campaign["source"] != "", _row("Source", campaign["source"])),
        orientation=rx.breakpoints(initial="vertical", sm="horizontal"),
        size="2",
        width="100%",
    )


def _claim_box() -> rx.Component:
    state = MarketCampaignState
    return section(
        "Claim a slot",
        rx.cond(
            state.my_claim_href != "",
            rx.vstack(
                rx.callout(
                    "You hold a claim on this campaign.",
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                    custom_attrs={"data-testid": "holding-claim"},
                ),
                rx.link(
                    rx.button(rx.icon("arrow-right", size=16), "Continue", size="3"),
                    href=state.my_claim_href,
                    custom_attrs={"data-testid": "continue-claim"},
                ),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                rx.text(
                    "Claiming reserves a slot for you: submit a clip within ",
                    state.campaign["claim_ttl_hours"],
                    " hours or it goes back to the pool.",
                    size="2",
                    color=MUTED,
                ),
                rx.button(
                    rx.icon("hand", size=16),
                    "Claim",
                    size="3",
                    disabled=state.cannot_claim != "",
                    on_click=state.claim,
                    custom_attrs={"data-testid": "claim-button"},
                ),
                rx.cond(
                    state.cannot_claim != "",
                    rx.text(
                        state.cannot_claim,
                        size="2",
                        color=rx.color("amber", 11),
                        custom_attrs={"data-testid": "claim-disabled-reason"},
                    ),
                ),
                error_callout(state.claim_error, "claim-error"),
                spacing="3",
                width="100%",
            ),
        ),
    )


@template(routes.MARKET_CAMPAIGN, "Campaign", role="clipper", on_load=MarketCampaignState.open_page)
def market_campaign() -> rx.Component:
    state = MarketCampaignState
    campaign = state.campaign
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), rx.text("Marketplace", size="2")),
            href=routes.MARKETPLACE,
            underline="none",
        ),
        rx.cond(
            state.not_found,
            rx.callout(
                state.load_error,
                icon="search-x",
                width="100%",
                custom_attrs={"data-testid": "campaign-not-found"},
            ),
            rx.cond(
                state.shown,
                rx.vstack(
                    rx.hstack(
                        rx.vstack(
                            rx.heading(
                                campaign["title"],
                                size="7",
                                custom_attrs={"data-testid": "page-title"},
                            ),
                            rx.text("by ", campaign["client"], color=MUTED),
                            spacing="1",
                        ),
                        rx.spacer(),
                        status_badge(campaign["status"]),
                        width="100%",
                        align="start",
                    ),
                    figures(
                        figure(
                            "Pay per clip",
                            campaign["price"],
                            "detail-price",
                            "Paid when the client approves your clip.",
                            "banknote",
                        ),
                        figure(
                            "CPM",
                            rx.cond(campaign["cpm"] != "", campaign["cpm"], "None"),
                            "detail-cpm",
                            "Earned as your post's views grow.",
                            "trending-up",
                        ),
                        figure(
                            "Budget left",
                            campaign["budget_left"],
                            "detail-budget-left",
                            "Held in escrow to pay clips.",
                            "wallet",
                        ),
                        figure(
                            "Slots left",
                            campaign["slots_left"],
                            "detail-slots-left",
                            "Claims that expire free their slot.",
                            "users",
                        ),
                    ),
                    rx.grid(
                        rx.vstack(
                            section(
                                "Brief",
                                rx.text(
                                    rx.cond(
                                        campaign["brief"] != "", campaign["brief"], "No brief."
                                    ),
                                    white_space="pre-wrap",
                                    size="3",
                                    custom_attrs={"data-testid": "detail-brief"},
                                ),
                            ),
                            section("Requirements", requirements_list(campaign)),
                            spacing="4",
                            width="100%",
                        ),
                        _claim_box(),
                        columns=rx.breakpoints(initial="1", md="2"),
                        spacing="4",
                        width="100%",
                    ),
                    spacing="4",
                    width="100%",
                ),
                error_callout(state.load_error, "campaign-error"),
            ),
        ),
        spacing="4",
        width="100%",
    )
