"""Campaigns: a client's list, the form for a new campaign (and for editing one), and one
campaign's page with its figures, the moves its state allows, and its review queue."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, figure, figures, section, status_badge
from clipgen.components.dialogs import confirm_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.upload import upload_progress, video_drop_zone
from clipgen.pages.reviews import review_queue
from clipgen.pipeline import options as opts
from clipgen.services.market.campaigns import (
    MAX_BRIEF,
    MAX_DONTS,
    MAX_HASHTAGS,
    MAX_SLOTS,
    MAX_TITLE,
    MAX_TTL_HOURS,
    PLATFORM_LABELS,
)
from clipgen.state.campaigns import (
    SOURCE_LINK,
    SOURCE_VIDEO,
    UPLOAD_ID,
    CampaignFormState,
    CampaignsState,
    CampaignState,
)
from clipgen.state.reviews import ReviewsState

Form = CampaignFormState
# A campaign's page loads the campaign, then its review queue (each state checks the user).
CAMPAIGN_ON_LOAD = [CampaignState.open_page, ReviewsState.open_for_campaign]


def _muted(*children, **props) -> rx.Component:
    return rx.text(*children, size="2", color=rx.color("gray", 11), **props)


def _field(label: str, control: rx.Component, hint: str = "") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        control,
        *([rx.text(hint, size="1", color=rx.color("gray", 10))] if hint else []),
        spacing="1",
        width="100%",
    )


def _input(name: str, *children: rx.Component, fixed: bool = False, **props) -> rx.Component:
    """A text input of the form, filled with the loaded value; `fixed` ones lock once live."""
    return rx.input(
        *children,
        name=name,
        default_value=Form.values[name],
        key=Form.form_key,
        disabled=Form.editing_live if fixed else False,
        width="100%",
        auto_complete="off",
        custom_attrs={"data-testid": f"campaign-{name}"},
        **props,
    )


def _money_input(name: str, placeholder: str, *, fixed: bool = True) -> rx.Component:
    return _input(
        name, rx.input.slot("$"), fixed=fixed, placeholder=placeholder, input_mode="decimal"
    )


def _select(name: str, choices: dict[str, str]) -> rx.Component:
    return rx.select.root(
        rx.select.trigger(width="100%", custom_attrs={"data-testid": f"campaign-{name}"}),
        rx.select.content(*[rx.select.item(label, value=key) for key, label in choices.items()]),
        name=name,
        default_value=Form.values[name],
        key=Form.form_key,
        disabled=Form.editing_live,
    )


# --- the source video -------------------------------------------------------------------------


def _drop_zone() -> rx.Component:
    return video_drop_zone(
        Form,
        UPLOAD_ID,
        "Drop the source video here, or click to choose one",
        "campaign-upload-zone",
    )


def _video_choice(row: rx.Var) -> rx.Component:
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
            type="button",
            on_click=Form.use_video(row["id"]),
            custom_attrs={"data-testid": "campaign-use-video"},
        ),
        align="center",
        width="100%",
        spacing="3",
    )


def _chosen_video() -> rx.Component:
    return rx.card(
        rx.hstack(
            rx.icon("file-video", size=22, color=rx.color("green", 10)),
            rx.vstack(
                rx.text(
                    Form.source_video_name,
                    weight="bold",
                    custom_attrs={"data-testid": "campaign-source-name"},
                ),
                _muted(Form.source_video_summary),
                spacing="0",
            ),
            rx.spacer(),
            rx.cond(
                ~Form.editing_live,
                rx.button(
                    "Choose another",
                    variant="ghost",
                    size="1",
                    type="button",
                    on_click=Form.forget_video,
                ),
            ),
            align="center",
            width="100%",
        ),
        width="100%",
    )


def _source_video() -> rx.Component:
    return rx.vstack(
        error_callout(Form.upload_error, "campaign-upload-error"),
        rx.cond(
            Form.uploading,
            upload_progress(Form, UPLOAD_ID, "campaign-upload"),
            rx.cond(
                Form.source_video_id > 0,
                _chosen_video(),
                rx.vstack(
                    _drop_zone(),
                    error_callout(Form.videos_error, "campaign-videos-error"),
                    rx.cond(
                        Form.my_videos.length() > 0,
                        rx.vstack(
                            rx.text("Or use one you uploaded before", size="2", weight="medium"),
                            rx.foreach(Form.my_videos, _video_choice),
                            spacing="2",
                            width="100%",
                        ),
                    ),
                    spacing="3",
                    width="100%",
                ),
            ),
        ),
        spacing="3",
        width="100%",
    )


def _source() -> rx.Component:
    return section(
        "Source video",
        rx.cond(
            Form.editing_live,
            _muted("The source is fixed once the campaign is live."),
            rx.segmented_control.root(
                rx.segmented_control.item("Upload or pick a video", value=SOURCE_VIDEO),
                rx.segmented_control.item("Link to the video", value=SOURCE_LINK),
                value=Form.source_kind,
                on_change=Form.set_source_kind,
                custom_attrs={"data-testid": "campaign-source-kind"},
            ),
        ),
        rx.box(
            _source_video(),
            display=rx.cond(Form.source_kind == SOURCE_VIDEO, "block", "none"),
            width="100%",
        ),
        rx.box(
            _field(
                "Link",
                _input("source_url", fixed=True, placeholder="https://www.youtube.com/watch?v=…"),
                "Clippers download the video from this address themselves.",
            ),
            display=rx.cond(Form.source_kind == SOURCE_LINK, "block", "none"),
            width="100%",
        ),
        subtitle="An uploaded video lets clippers make clips of it with ClipGen in one click.",
    )


# --- the form ---------------------------------------------------------------------------------


def _brief() -> rx.Component:
    return section(
        "The brief",
        _field("Title", _input("title", max_length=MAX_TITLE, placeholder="Launch week clips")),
        _field(
            "Brief",
            rx.text_area(
                name="brief",
                default_value=Form.values["brief"],
                key=Form.form_key,
                placeholder="What the clips are for, the moments you like, the tone…",
                max_length=MAX_BRIEF,
                rows="5",
                width="100%",
                custom_attrs={"data-testid": "campaign-brief"},
            ),
        ),
    )


def _requirements() -> rx.Component:
    return section(
        "Requirements",
        _field(
            "Platforms",
            rx.hstack(
                *[
                    rx.checkbox(
                        label,
                        name=f"platform_{key}",
                        default_checked=Form.platforms_chosen.contains(key),
                        key=f"{key}-{Form.form_key}",
                        disabled=Form.editing_live,
                        custom_attrs={"data-testid": f"campaign-platform-{key}"},
                    )
                    for key, label in PLATFORM_LABELS.items()
                ],
                spacing="4",
                wrap="wrap",
            ),
        ),
        rx.grid(
            _field(
                "Shortest clip (seconds)",
                _input(
                    "min_length_s",
                    fixed=True,
                    type="number",
                    min=int(opts.MIN_CLIP_SECONDS),
                    max=int(opts.MAX_CLIP_SECONDS),
                ),
            ),
            _field(
                "Longest clip (seconds)",
                _input(
                    "max_length_s",
                    fixed=True,
                    type="number",
                    min=int(opts.MIN_CLIP_SECONDS),
                    max=int(opts.MAX_CLIP_SECONDS),
                ),
            ),
            _field("Aspect", _select("aspect", opts.ASPECTS)),
            _field("Captions", _select("captions", opts.CAPTION_STYLES)),
            columns=rx.breakpoints(initial="1", sm="2", md="4"),
            spacing="3",
            width="100%",
        ),
        _field(
            "Hashtags and mentions",
            _input("hashtags", max_length=MAX_HASHTAGS, placeholder="#launch @yourbrand"),
            "Every post must carry these.",
        ),
        _field(
            "Don'ts",
            rx.text_area(
                name="donts",
                default_value=Form.values["donts"],
                key=Form.form_key,
                placeholder="No competitor logos, no music over the speaker…",
                max_length=MAX_DONTS,
                rows="3",
                width="100%",
                custom_attrs={"data-testid": "campaign-donts"},
            ),
        ),
    )


def _pay() -> rx.Component:
    return section(
        "Pay and budget",
        rx.grid(
            _field(
                "Price per approved clip",
                _money_input("price", "10.00"),
                "Paid from the budget when you approve a clip.",
            ),
            _field(
                "Budget",
                _money_input("budget", "500.00"),
                "Moves from your balance into escrow when you activate; must cover price × clips.",
            ),
            _field(
                "Clips wanted (slots)",
                _input("max_clips", fixed=True, type="number", min=1, max=MAX_SLOTS),
            ),
            _field(
                "CPM (optional)",
                _money_input("cpm", "2.00"),
                "Per 1,000 views of a published clip.",
            ),
            _field(
                "CPM cap per clip",
                _money_input("cpm_cap", "50.00"),
                "The most one clip can earn from views.",
            ),
            _field(
                "Minimum views per post before CPM counts",
                _input("min_views", fixed=True, type="number", min=0, step=1, input_mode="numeric"),
                "Only with a CPM: a post earns from views once it has this many. 0 counts all.",
            ),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
    )


def _timing() -> rx.Component:
    return section(
        "Timing",
        rx.grid(
            _field("Deadline date (optional)", _input("deadline_date", type="date")),
            _field("Deadline time (UTC)", _input("deadline_time", type="time"), "23:59 if empty."),
            _field(
                "Claim time limit (hours)",
                _input("claim_ttl_hours", type="number", min=1, max=MAX_TTL_HOURS),
                "A claim not handed in by then frees its slot.",
            ),
            columns=rx.breakpoints(initial="1", sm="3"),
            spacing="3",
            width="100%",
        ),
    )


def campaign_form() -> rx.Component:
    """Every field of a campaign; one form for a new draft and for editing."""
    return rx.form(
        rx.vstack(
            rx.cond(
                Form.editing_live,
                rx.callout(
                    "This campaign is live: its budget, pay, slots, requirements and source "
                    "are fixed. You can change the title, brief, hashtags, don'ts, deadline "
                    "and claim time limit.",
                    icon="info",
                    color_scheme="blue",
                    width="100%",
                ),
            ),
            _brief(),
            _source(),
            _requirements(),
            _pay(),
            _timing(),
            error_callout(Form.form_error, "campaign-form-error"),
            rx.hstack(
                rx.button(
                    rx.icon("save", size=16),
                    rx.cond(Form.editing_id > 0, "Save changes", "Save as draft"),
                    type="submit",
                    size="3",
                    disabled=Form.uploading,
                    custom_attrs={"data-testid": "campaign-save"},
                ),
                rx.cond(
                    Form.editing_id > 0,
                    rx.button(
                        "Cancel",
                        type="button",
                        variant="soft",
                        color_scheme="gray",
                        size="3",
                        on_click=CampaignState.stop_editing,
                    ),
                    rx.link(
                        rx.button(
                            "Cancel", type="button", variant="soft", color_scheme="gray", size="3"
                        ),
                        href=routes.CAMPAIGNS,
                    ),
                ),
                spacing="3",
            ),
            spacing="4",
            width="100%",
        ),
        on_submit=Form.save,
        reset_on_submit=False,
        width="100%",
        custom_attrs={"data-testid": "campaign-form"},
    )


@template(routes.NEW_CAMPAIGN, "New campaign", role="client", on_load=Form.open_new)
def new_campaign() -> rx.Component:
    return rx.vstack(
        page_header(
            "New campaign",
            "Saved as a draft: nothing is charged until you activate it.",
        ),
        campaign_form(),
        spacing="4",
        width="100%",
    )


# --- the list -----------------------------------------------------------------------------------


def _row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.link(
                    row["title"],
                    href=row["href"],
                    weight="medium",
                    size="2",
                    custom_attrs={"data-testid": "campaign-link"},
                ),
                rx.text(row["pay"], size="1", color=rx.color("gray", 11)),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.hstack(
                status_badge(row["status"]),
                rx.cond(
                    row["exhausted"],
                    rx.badge("Budget used up", color_scheme="red", variant="soft"),
                ),
                spacing="1",
                wrap="wrap",
            )
        ),
        rx.table.cell(
            rx.text(row["escrow"], size="2", weight="medium"),
            rx.text("of ", row["budget"], size="1", color=rx.color("gray", 11)),
            text_align="right",
        ),
        rx.table.cell(
            rx.text(row["slots"], size="2"),
            rx.text(row["open_claims"], " in progress", size="1", color=rx.color("gray", 11)),
        ),
        rx.table.cell(
            rx.cond(
                row["pending_reviews"].to(int) > 0,
                rx.link(
                    rx.badge(row["pending_reviews"], " to review", color_scheme="amber"),
                    href=row["href"],
                ),
                rx.text("—", size="2", color=rx.color("gray", 10)),
            )
        ),
        rx.table.cell(rx.text(row["deadline"], size="2", white_space="nowrap")),
        custom_attrs={"data-testid": "campaign-row", "data-status": row["status"]},
    )


@template(routes.CAMPAIGNS, "Campaigns", role="client", on_load=CampaignsState.open_page)
def campaigns() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            page_header("Campaigns", "Your briefs, their budgets, and the clips coming in."),
            rx.spacer(),
            rx.link(
                rx.button(
                    rx.icon("plus", size=16),
                    "New campaign",
                    size="3",
                    custom_attrs={"data-testid": "new-campaign"},
                ),
                href=routes.NEW_CAMPAIGN,
            ),
            width="100%",
            align="start",
            wrap="wrap",
        ),
        error_callout(CampaignsState.load_error, "campaigns-error"),
        _muted(
            "Available balance: ",
            rx.text.strong(
                CampaignsState.balance, custom_attrs={"data-testid": "campaigns-balance"}
            ),
            ". ",
            rx.link("Billing", href=routes.BILLING),
            " shows how to add funds.",
        ),
        rx.cond(
            CampaignsState.rows.length() == 0,
            rx.card(
                rx.vstack(
                    rx.icon("megaphone", size=28, color=rx.color("accent", 10)),
                    rx.text("No campaigns yet.", weight="bold"),
                    _muted(
                        "Write a brief, add your source video and set what each clip pays. "
                        "It stays a draft until you activate it."
                    ),
                    align="center",
                    spacing="2",
                    padding="24px",
                ),
                width="100%",
                custom_attrs={"data-testid": "campaigns-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Campaign"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Escrow left", text_align="right"),
                            rx.table.column_header_cell("Slots"),
                            rx.table.column_header_cell("Reviews"),
                            rx.table.column_header_cell("Deadline"),
                        )
                    ),
                    rx.table.body(rx.foreach(CampaignsState.rows, _row)),
                    variant="surface",
                    size="2",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


# --- one campaign -------------------------------------------------------------------------------


def _cancel_button() -> rx.Component:
    return confirm_dialog(
        rx.button(
            rx.icon("ban", size=14),
            "Cancel campaign",
            variant="soft",
            color_scheme="red",
            custom_attrs={"data-testid": "campaign-cancel"},
        ),
        title="Cancel this campaign?",
        description=rx.cond(
            CampaignState.status == "draft",
            "The draft is closed for good. Nothing was charged for it.",
            "Clippers can no longer claim it and open claims close. What is left of the "
            "budget in escrow (" + CampaignState.details["escrow"].to(str) + ") goes back "
            "to your balance. This cannot be undone.",
        ),
        confirm_label="Cancel campaign",
        on_confirm=CampaignState.cancel,
        confirm_testid="campaign-cancel-confirm",
    )


def _edit_button() -> rx.Component:
    return rx.button(
        rx.icon("pencil", size=14),
        "Edit",
        variant="soft",
        on_click=CampaignState.edit,
        custom_attrs={"data-testid": "campaign-edit"},
    )


def _actions() -> rx.Component:
    draft = rx.vstack(
        rx.text(
            "Activating moves the budget of ",
            rx.text.strong(CampaignState.details["budget"]),
            " from your balance (",
            CampaignState.balance,
            " available) into the campaign's escrow; then clippers can claim it.",
            size="2",
        ),
        rx.cond(
            CampaignState.budget_short,
            rx.callout.root(
                rx.callout.icon(rx.icon("wallet")),
                rx.callout.text(
                    "Your balance is short of the budget. ",
                    rx.link("Add funds on Billing", href=routes.BILLING),
                    " or lower the budget first.",
                ),
                color_scheme="amber",
                width="100%",
                custom_attrs={"data-testid": "campaign-balance-short"},
            ),
        ),
        rx.hstack(
            rx.button(
                rx.icon("rocket", size=14),
                "Activate",
                on_click=CampaignState.activate,
                custom_attrs={"data-testid": "campaign-activate"},
            ),
            _edit_button(),
            _cancel_button(),
            spacing="2",
            wrap="wrap",
        ),
        spacing="3",
        width="100%",
    )
    active = rx.hstack(
        rx.button(
            rx.icon("pause", size=14),
            "Pause",
            variant="soft",
            color_scheme="amber",
            on_click=CampaignState.pause,
            custom_attrs={"data-testid": "campaign-pause"},
        ),
        _edit_button(),
        _cancel_button(),
        spacing="2",
        wrap="wrap",
    )
    paused = rx.hstack(
        rx.button(
            rx.icon("play", size=14),
            "Resume",
            on_click=CampaignState.resume,
            custom_attrs={"data-testid": "campaign-resume"},
        ),
        _edit_button(),
        _cancel_button(),
        spacing="2",
        wrap="wrap",
    )
    completed = rx.cond(
        CampaignState.can_return_budget,
        rx.vstack(
            _muted(
                "The campaign is complete. Its escrow still pays its clips' views (CPM and "
                "bonuses) until you take the rest back."
            ),
            confirm_dialog(
                rx.button(
                    rx.icon("undo-2", size=14),
                    "Return unspent budget",
                    custom_attrs={"data-testid": "campaign-return-budget"},
                ),
                title="Take back the unspent budget?",
                description="What is left in escrow ("
                + CampaignState.details["escrow"].to(str)
                + ") goes back to your balance; the clips' views earn nothing more after that.",
                confirm_label="Return it",
                on_confirm=CampaignState.return_budget,
                confirm_testid="campaign-return-confirm",
                confirm_color="violet",
            ),
            spacing="2",
        ),
        _muted("The campaign is complete; nothing is left in its escrow."),
    )
    return section(
        "What you can do",
        error_callout(CampaignState.action_error, "campaign-action-error"),
        rx.cond(
            CampaignState.needs_funds & ~CampaignState.budget_short,
            rx.link("Go to Billing to add funds", href=routes.BILLING, size="2"),
        ),
        rx.match(
            CampaignState.status,
            ("draft", draft),
            ("active", active),
            ("paused", paused),
            ("completed", completed),
            _muted("This campaign was cancelled on ", CampaignState.details["closed"], "."),
        ),
    )


def _detail(label: str, key: str) -> rx.Component:
    return rx.vstack(
        rx.text(label, size="1", weight="bold", color=rx.color("gray", 10)),
        rx.text(
            CampaignState.details[key],
            size="2",
            white_space="pre-wrap",
            custom_attrs={"data-testid": f"detail-{key}"},
        ),
        spacing="0",
        width="100%",
        min_width="0",
    )


def _details() -> rx.Component:
    return section(
        "The brief",
        _detail("BRIEF", "brief"),
        rx.grid(
            _detail("SOURCE", "source"),
            _detail("PLATFORMS", "platforms"),
            _detail("LENGTH", "length"),
            _detail("ASPECT", "aspect"),
            _detail("CAPTIONS", "captions"),
            _detail("HASHTAGS AND MENTIONS", "hashtags"),
            _detail("DON'TS", "donts"),
            _detail("PRICE PER CLIP", "price"),
            _detail("CPM", "cpm"),
            _detail("MINIMUM VIEWS PER POST", "min_views"),
            _detail("DEADLINE", "deadline"),
            _detail("CLAIM TIME LIMIT", "claim_ttl"),
            _detail("CREATED", "created"),
            columns=rx.breakpoints(initial="1", sm="2", md="3"),
            spacing="3",
            width="100%",
        ),
    )


def _counts() -> rx.Component:
    counts = CampaignState.counts
    return rx.hstack(
        rx.badge("Pending ", counts["pending"], color_scheme="amber", variant="soft"),
        rx.badge("Approved ", counts["approved"], color_scheme="green", variant="soft"),
        rx.badge("Rejected ", counts["rejected"], color_scheme="red", variant="soft"),
        rx.badge(
            "Revision requested ", counts["revision_requested"], color_scheme="blue", variant="soft"
        ),
        spacing="2",
        wrap="wrap",
    )


def _campaign_body() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.link(
                rx.hstack(rx.icon("arrow-left", size=14), "Campaigns", spacing="1", align="center"),
                href=routes.CAMPAIGNS,
                size="2",
            ),
            rx.spacer(),
            rx.link(
                rx.hstack(rx.icon("chart-line", size=14), "Analytics", spacing="1", align="center"),
                href=f"/campaigns/{CampaignState.campaign_id}/analytics",
                size="2",
                custom_attrs={"data-testid": "campaign-analytics-link"},
            ),
            width="100%",
        ),
        rx.hstack(
            rx.heading(
                CampaignState.details["title"],
                size="7",
                custom_attrs={"data-testid": "page-title"},
            ),
            status_badge(CampaignState.status, "campaign-status"),
            rx.cond(
                CampaignState.exhausted,
                rx.badge("Budget used up", color_scheme="red", variant="soft"),
            ),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.cond(
            CampaignState.editing,
            rx.vstack(
                rx.heading("Edit the campaign", size="5"),
                campaign_form(),
                spacing="3",
                width="100%",
            ),
            rx.vstack(
                figures(
                    figure(
                        "Escrow left",
                        CampaignState.details["escrow"],
                        "campaign-escrow",
                        "Left of the budget to pay clippers.",
                        "lock",
                    ),
                    figure(
                        "Slots filled",
                        CampaignState.details["slots"],
                        "campaign-slots",
                        "Approved clips, of the slots wanted.",
                        "users",
                    ),
                    figure(
                        "Free slots",
                        CampaignState.details["slots_left"],
                        "campaign-slots-left",
                        "Clippers can claim these now.",
                        "ticket",
                    ),
                    figure(
                        "To review",
                        CampaignState.details["pending_reviews"],
                        "campaign-pending",
                        "Approved automatically after 72 h.",
                        "circle-check-big",
                    ),
                ),
                _actions(),
                _details(),
                section(
                    "Submitted clips",
                    _counts(),
                    review_queue(),
                ),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )


@template(routes.CAMPAIGN, "Campaign", role="client", on_load=CAMPAIGN_ON_LOAD)
def campaign() -> rx.Component:
    return rx.cond(
        CampaignState.not_found,
        rx.vstack(
            page_header("Campaign"),
            error_callout(CampaignState.load_error, "campaign-not-found"),
            rx.link("Back to your campaigns", href=routes.CAMPAIGNS),
            spacing="4",
            width="100%",
        ),
        _campaign_body(),
    )
