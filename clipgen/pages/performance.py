"""A clip's performance: where an approved clip is posted, its views over time, and what it
earned line by line; its clipper adds posts, uploads it to YouTube and reports counts, which
the client (or an admin) confirms or declines beside the post's link."""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar

from clipgen import routes
from clipgen.components.appeals import appeal_panel
from clipgen.components.blocks import error_callout, figure, section
from clipgen.components.dialogs import reason_dialog
from clipgen.components.layout import template
from clipgen.state.appeals import AppealState
from clipgen.state.publishing import PRIVACY_LABELS, PerformanceState

MUTED = rx.color("gray", 11)
UPLOAD_COLORS = {"queued": "gray", "uploading": "violet", "done": "green", "failed": "red"}
# 120000 -> "120,000" on the chart's axis and tooltip.
THOUSANDS = FunctionStringVar.create('(value) => Number(value).toLocaleString("en-US")')
REPORT_COLORS = {"waiting": "amber", "confirmed": "green", "declined": "red", "replaced": "gray"}
EARNING_COLORS = {
    "pending": "blue",
    "available": "green",
    "held for review": "amber",
    "reversed": "red",
}


def _table(headers: list, body: rx.Component) -> rx.Component:
    return rx.box(
        rx.table.root(
            rx.table.header(rx.table.row(*headers)),
            body,
            variant="surface",
            size="1",
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
    )


def _empty(text: str, testid: str) -> rx.Component:
    return rx.text(text, size="2", color=MUTED, custom_attrs={"data-testid": testid})


# --- header ------------------------------------------------------------------------------


def _header() -> rx.Component:
    return rx.vstack(
        rx.heading(
            PerformanceState.clip_title, size="7", custom_attrs={"data-testid": "page-title"}
        ),
        rx.text(
            "For ",
            rx.cond(
                PerformanceState.campaign_href != "",
                rx.link(
                    PerformanceState.campaign_title,
                    href=PerformanceState.campaign_href,
                    weight="medium",
                ),
                rx.text.strong(PerformanceState.campaign_title),
            ),
            size="3",
            color=MUTED,
            custom_attrs={"data-testid": "performance-campaign"},
        ),
        spacing="1",
        margin_bottom="8px",
    )


def _figures() -> rx.Component:
    return rx.grid(
        figure(
            "Counted views",
            PerformanceState.counted_views,
            "counted-views",
            "What the clip is paid for: every verified post's latest count, together.",
            "eye",
        ),
        figure(
            "Posts",
            PerformanceState.posts.length(),
            "post-count",
            "On YouTube, TikTok or Instagram.",
            "send",
        ),
        columns=rx.breakpoints(initial="1", xs="2"),
        spacing="3",
        width="100%",
    )


# --- posts --------------------------------------------------------------------------------


def _post_row(post: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(post["label"], size="2", weight="medium", white_space="nowrap")),
        rx.table.cell(
            rx.link(
                rx.hstack(rx.text("Open"), rx.icon("external-link", size=12), spacing="1"),
                href=post["url"],
                is_external=True,
                size="2",
                title=post["url"],
                custom_attrs={"data-testid": "post-link"},
            )
        ),
        rx.table.cell(
            rx.text(post["views"], size="2", custom_attrs={"data-testid": "post-views"}),
            text_align="right",
        ),
        rx.table.cell(rx.text(post["likes"], size="2"), text_align="right"),
        rx.table.cell(rx.text(post["comments"], size="2"), text_align="right"),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    post["state"],
                    color_scheme=rx.match(
                        post["state_color"],
                        ("green", "green"),
                        ("amber", "amber"),
                        ("red", "red"),
                        "gray",
                    ),
                    variant="soft",
                    white_space="normal",
                    custom_attrs={"data-testid": "post-state"},
                ),
                rx.cond(
                    post["note"] != "",
                    rx.text(
                        post["note"],
                        size="1",
                        color=MUTED,
                        custom_attrs={"data-testid": "post-note"},
                    ),
                ),
                rx.cond(
                    post["verified"] != "",
                    rx.text(
                        post["verified"],
                        size="1",
                        color=MUTED,
                        custom_attrs={"data-testid": "post-verified"},
                    ),
                ),
                rx.cond(
                    post["can_check_again"] != "",
                    rx.button(
                        "Check again",
                        size="1",
                        variant="soft",
                        on_click=PerformanceState.check_again(post["id"]),
                        custom_attrs={"data-testid": "post-check-again"},
                    ),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(post["last_read"], size="2", white_space="nowrap"),
                rx.text(
                    post["read_how"],
                    size="1",
                    color=MUTED,
                    custom_attrs={"data-testid": "post-read-how"},
                ),
                spacing="0",
            )
        ),
        custom_attrs={"data-testid": "post-row", "data-platform": post["platform"]},
    )


def _add_post() -> rx.Component:
    return rx.vstack(
        rx.text("Add a post", size="2", weight="bold"),
        rx.text(
            "Posted it yourself? Paste the post's public address on YouTube, TikTok or Instagram.",
            size="2",
            color=MUTED,
        ),
        rx.form(
            rx.hstack(
                rx.input(
                    name="url",
                    placeholder="https://www.tiktok.com/@you/video/7301234567890123456",
                    auto_complete="off",
                    flex_grow="1",
                    min_width="240px",
                    custom_attrs={"data-testid": "post-url", "aria-label": "Post address"},
                ),
                rx.button(
                    rx.icon("plus", size=14),
                    "Add post",
                    type="submit",
                    custom_attrs={"data-testid": "add-post"},
                ),
                spacing="2",
                width="100%",
                wrap="wrap",
            ),
            key=PerformanceState.post_form_key,
            on_submit=PerformanceState.add_post,
            width="100%",
        ),
        error_callout(PerformanceState.post_error, "post-error"),
        spacing="2",
        width="100%",
    )


def _posts() -> rx.Component:
    return section(
        "Posts",
        rx.cond(
            PerformanceState.min_views != "",
            rx.text(
                "This campaign pays for posts with at least ",
                PerformanceState.min_views,
                " views.",
                size="2",
                color=MUTED,
                custom_attrs={"data-testid": "min-views"},
            ),
        ),
        rx.cond(
            PerformanceState.posts.length() == 0,
            _empty(
                rx.cond(
                    PerformanceState.is_clipper_view,
                    "Not posted yet: upload it to YouTube below or add your post's address.",
                    "The clipper has not posted this clip yet.",
                ),
                "posts-empty",
            ),
            _table(
                [
                    rx.table.column_header_cell("Platform"),
                    rx.table.column_header_cell("Post"),
                    rx.table.column_header_cell("Views", text_align="right"),
                    rx.table.column_header_cell("Likes", text_align="right"),
                    rx.table.column_header_cell("Comments", text_align="right"),
                    rx.table.column_header_cell("State"),
                    rx.table.column_header_cell("Last read"),
                ],
                rx.table.body(rx.foreach(PerformanceState.posts, _post_row)),
            ),
        ),
        rx.cond(PerformanceState.is_clipper_view, _add_post()),
    )


# --- uploading to YouTube -----------------------------------------------------------------


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def _upload_form() -> rx.Component:
    return rx.form(
        rx.vstack(
            _field(
                "Title",
                rx.input(
                    name="title",
                    default_value=PerformanceState.upload_title,
                    max_length=100,
                    width="100%",
                    custom_attrs={"data-testid": "upload-title"},
                ),
            ),
            _field(
                "Description",
                rx.text_area(
                    name="description",
                    default_value=PerformanceState.upload_description,
                    rows="3",
                    width="100%",
                    custom_attrs={"data-testid": "upload-description"},
                ),
            ),
            rx.grid(
                _field(
                    "Tags",
                    rx.input(
                        name="tags",
                        default_value=PerformanceState.upload_tags,
                        placeholder="#launch #shorts",
                        width="100%",
                        custom_attrs={"data-testid": "upload-tags"},
                    ),
                ),
                _field(
                    "Visibility",
                    rx.select.root(
                        rx.select.trigger(
                            width="100%",
                            custom_attrs={
                                "data-testid": "upload-privacy",
                                "aria-label": "Visibility",
                            },
                        ),
                        rx.select.content(
                            *[
                                rx.select.item(label, value=value)
                                for value, label in PRIVACY_LABELS.items()
                            ]
                        ),
                        name="privacy",
                        default_value="private",
                    ),
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            error_callout(PerformanceState.upload_error, "upload-error"),
            rx.button(
                rx.icon("upload", size=14),
                "Upload to YouTube",
                type="submit",
                custom_attrs={"data-testid": "upload-submit"},
            ),
            spacing="3",
            width="100%",
        ),
        key=PerformanceState.upload_form_key,
        on_submit=PerformanceState.upload_to_youtube,
        width="100%",
    )


def _upload_row(upload: rx.Var) -> rx.Component:
    return rx.vstack(
        rx.hstack(
            rx.badge(
                upload["status_words"],
                color_scheme=rx.match(upload["status"], *UPLOAD_COLORS.items(), "gray"),
                variant="soft",
                custom_attrs={"data-testid": "upload-status"},
            ),
            rx.text(upload["title"], size="2", weight="medium"),
            rx.text(upload["privacy"], " · ", upload["created"], size="1", color=MUTED),
            spacing="2",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            (upload["status"] == "queued") | (upload["status"] == "uploading"),
            rx.hstack(
                rx.progress(
                    value=upload["percent"].to(int),
                    width="100%",
                    custom_attrs={"data-testid": "upload-progress"},
                ),
                rx.text(upload["percent"].to(str), "%", size="1", color=MUTED),
                width="100%",
                align="center",
            ),
        ),
        rx.cond(
            upload["error"] != "",
            rx.text(
                upload["error"],
                " ",
                upload["retry"],
                size="2",
                color=rx.color("red", 11),
                custom_attrs={"data-testid": "upload-failure"},
            ),
        ),
        spacing="1",
        width="100%",
        padding_y="4px",
        custom_attrs={"data-testid": "upload-row", "data-status": upload["status"]},
    )


def _youtube() -> rx.Component:
    return rx.box(_youtube_card(), width="100%", custom_attrs={"data-testid": "youtube-section"})


def _youtube_card() -> rx.Component:
    return section(
        "Upload to YouTube",
        rx.cond(
            ~PerformanceState.youtube_configured,
            rx.callout(
                "YouTube publishing is not set up on this server. Post the clip yourself "
                "and add its address above.",
                icon="info",
                color_scheme="gray",
                width="100%",
                custom_attrs={"data-testid": "youtube-not-configured"},
            ),
            rx.cond(
                ~PerformanceState.youtube_paid,
                _empty(
                    "This campaign does not pay for YouTube posts; post it where it asks.",
                    "youtube-not-paid",
                ),
                rx.cond(
                    ~PerformanceState.youtube_connected,
                    rx.hstack(
                        rx.text(
                            "Connect your YouTube channel to upload the clip from here.",
                            size="2",
                            color=MUTED,
                        ),
                        rx.link(
                            rx.button(rx.icon("circle-play", size=14), "Connect on Account"),
                            href=routes.ACCOUNT,
                            custom_attrs={"data-testid": "connect-youtube-link"},
                        ),
                        spacing="3",
                        align="center",
                        wrap="wrap",
                    ),
                    rx.cond(
                        PerformanceState.is_on_youtube,
                        _empty("This clip is on your channel.", "youtube-done"),
                        rx.cond(
                            PerformanceState.has_active_upload,
                            _empty(
                                "Your upload is on its way; this page follows it.",
                                "youtube-uploading",
                            ),
                            _upload_form(),
                        ),
                    ),
                ),
            ),
        ),
        rx.cond(
            PerformanceState.uploads.length() > 0,
            rx.vstack(
                rx.text("Uploads", size="2", weight="bold"),
                rx.foreach(PerformanceState.uploads, _upload_row),
                spacing="1",
                width="100%",
            ),
        ),
    )


# --- counts entered by hand ------------------------------------------------------------


def _count_input(name: str, label: str) -> rx.Component:
    return rx.input(
        name=name,
        placeholder=label,
        input_mode="numeric",
        auto_complete="off",
        width="130px",
        custom_attrs={"data-testid": f"counts-{name}", "aria-label": label},
    )


def _counts_form(post: rx.Var) -> rx.Component:
    return rx.form(
        rx.vstack(
            rx.hstack(
                rx.text(post["label"], size="2", weight="medium", min_width="110px"),
                rx.el.input(type="hidden", name="publication_id", value=post["id"]),
                _count_input("views", "Views"),
                _count_input("likes", "Likes"),
                _count_input("comments", "Comments"),
                rx.button(
                    rx.icon("save", size=14),
                    "Save counts",
                    type="submit",
                    variant="soft",
                    custom_attrs={"data-testid": "counts-submit"},
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            ),
            rx.cond(
                PerformanceState.counts_post_id == post["id"],
                error_callout(PerformanceState.counts_error, "counts-error"),
            ),
            spacing="2",
            width="100%",
        ),
        key=PerformanceState.counts_form_key.to(str) + "-" + post["id"],
        on_submit=PerformanceState.enter_counts,
        width="100%",
        custom_attrs={"data-testid": "counts-form", "data-platform": post["platform"]},
    )


def _counts() -> rx.Component:
    return rx.cond(
        PerformanceState.manual_posts.length() > 0,
        section(
            "Enter counts",
            rx.text(
                "For posts the daily sync cannot read: type what the post shows now. ",
                rx.cond(
                    PerformanceState.is_clipper_view,
                    "Each entry is kept with your name and sent to the client, and earnings "
                    "follow the views once the client confirms them.",
                    "Each entry is kept with your name, and earnings follow the views.",
                ),
                size="2",
                color=MUTED,
            ),
            rx.foreach(PerformanceState.manual_posts, _counts_form),
        ),
    )


# --- counts the clipper reported --------------------------------------------------------


def _report_actions(report: rx.Var) -> rx.Component:
    return rx.cond(
        report["can_decide"] != "",
        rx.hstack(
            rx.button(
                rx.icon("check", size=14),
                "Confirm",
                size="1",
                color_scheme="green",
                on_click=PerformanceState.confirm_report(report["id"]),
                custom_attrs={"data-testid": "report-confirm"},
            ),
            rx.button(
                rx.icon("x", size=14),
                "Decline",
                size="1",
                variant="soft",
                color_scheme="red",
                on_click=PerformanceState.open_decline(report["id"]),
                custom_attrs={"data-testid": "report-decline"},
            ),
            spacing="2",
        ),
    )


def _report_row(report: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.vstack(
                rx.text(report["reported_at"], size="2", white_space="nowrap"),
                rx.text("By ", report["reported_by"], size="1", color=MUTED),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.hstack(
                rx.text(report["post"], size="2", weight="medium", white_space="nowrap"),
                rx.link(
                    rx.hstack(rx.text("Open"), rx.icon("external-link", size=12), spacing="1"),
                    href=report["post_url"],
                    is_external=True,
                    size="2",
                    title=report["post_url"],
                    custom_attrs={"data-testid": "report-post-link"},
                ),
                spacing="2",
                align="center",
            )
        ),
        rx.table.cell(
            rx.text(
                report["views"],
                size="2",
                weight="medium",
                custom_attrs={"data-testid": "report-views"},
            ),
            text_align="right",
        ),
        rx.table.cell(rx.text(report["likes"], size="2"), text_align="right"),
        rx.table.cell(rx.text(report["comments"], size="2"), text_align="right"),
        rx.table.cell(
            rx.vstack(
                rx.badge(
                    report["status_words"],
                    color_scheme=rx.match(report["status"], *REPORT_COLORS.items(), "gray"),
                    variant="soft",
                    white_space="normal",
                    custom_attrs={"data-testid": "report-status"},
                ),
                rx.cond(
                    report["decided_at"] != "",
                    rx.text(report["decided_at"], size="1", color=MUTED, white_space="nowrap"),
                ),
                rx.cond(
                    report["evidence_url"] != "",
                    rx.link(
                        rx.hstack(rx.icon("image", size=12), rx.text("Screenshot"), spacing="1"),
                        href=report["evidence_url"],
                        is_external=True,
                        size="1",
                        custom_attrs={"data-testid": "report-evidence"},
                    ),
                ),
                rx.cond(
                    report["can_attach"] != "",
                    rx.button(
                        rx.cond(
                            report["evidence_url"] != "",
                            "Replace screenshot",
                            "Attach screenshot",
                        ),
                        size="1",
                        variant="ghost",
                        on_click=PerformanceState.open_evidence(report["id"]),
                        custom_attrs={"data-testid": "report-attach"},
                    ),
                ),
                spacing="1",
            )
        ),
        rx.cond(~PerformanceState.is_clipper_view, rx.table.cell(_report_actions(report))),
        custom_attrs={"data-testid": "report-row", "data-status": report["status"]},
    )


def _reports() -> rx.Component:
    return rx.cond(
        PerformanceState.reports.length() > 0,
        rx.box(
            section(
                "Counts reported by the clipper",
                rx.text(
                    rx.cond(
                        PerformanceState.is_clipper_view,
                        "The counts you typed wait for the client to check the post and "
                        "confirm them; they earn only then. A newer count replaces a "
                        "waiting one.",
                        "Open the post to check each count, then confirm it (it counts and "
                        "earns from then) or decline it with a reason the clipper reads.",
                    ),
                    size="2",
                    color=MUTED,
                ),
                _table(
                    [
                        rx.table.column_header_cell("Reported"),
                        rx.table.column_header_cell("Post"),
                        rx.table.column_header_cell("Views", text_align="right"),
                        rx.table.column_header_cell("Likes", text_align="right"),
                        rx.table.column_header_cell("Comments", text_align="right"),
                        rx.table.column_header_cell("State"),
                        rx.cond(
                            ~PerformanceState.is_clipper_view,
                            rx.table.column_header_cell(""),
                        ),
                    ],
                    rx.table.body(rx.foreach(PerformanceState.reports, _report_row)),
                ),
                error_callout(PerformanceState.report_error, "report-error"),
            ),
            width="100%",
            custom_attrs={"data-testid": "reports-section"},
        ),
    )


def _decline_dialog() -> rx.Component:
    return reason_dialog(
        open=PerformanceState.decline_open,
        on_close=PerformanceState.close_decline,
        title="Decline this count?",
        description="It earns nothing, and the clipper sees your reason and may report "
        "the post's counts again.",
        description_size="2",
        summary=PerformanceState.decline_summary,
        field_name="reason",
        placeholder="Why is it declined? (For example: the post shows 12,000 views.)",
        field_testid="decline-reason",
        field_label="Reason",
        field_props={"max_length": 500, "rows": "3", "auto_focus": True},
        error=PerformanceState.decline_error,
        error_testid="decline-error",
        error_below_field=True,
        submit_label="Decline count",
        submit_testid="decline-submit",
        on_submit=PerformanceState.send_decline,
        form_key=PerformanceState.decline_report_id,
    )


EVIDENCE_UPLOAD = "evidence"


def _evidence_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Attach a screenshot"),
            rx.dialog.description(
                "A screenshot of the post showing its views, likes and comments: PNG, JPEG "
                "or WebP, up to 5 MB. The client sees it beside the count.",
                size="2",
            ),
            rx.upload.root(
                rx.vstack(
                    rx.icon("image-up", size=28, color=rx.color("accent", 10)),
                    rx.text("Drop the screenshot here, or click to choose it", weight="medium"),
                    align="center",
                    spacing="2",
                    padding="20px",
                ),
                id=EVIDENCE_UPLOAD,
                max_files=1,
                accept={
                    "image/png": [".png"],
                    "image/jpeg": [".jpg", ".jpeg"],
                    "image/webp": [".webp"],
                },
                on_drop=PerformanceState.attach_evidence(
                    rx.upload_files(upload_id=EVIDENCE_UPLOAD)
                ),
                border=f"2px dashed {rx.color('accent', 7)}",
                border_radius="var(--radius-4)",
                width="100%",
                margin_top="12px",
                custom_attrs={"data-testid": "evidence-upload"},
            ),
            error_callout(PerformanceState.evidence_error, "evidence-error"),
            rx.flex(
                rx.dialog.close(rx.button("Close", variant="soft", color_scheme="gray")),
                justify="end",
                margin_top="12px",
            ),
        ),
        open=PerformanceState.evidence_open,
        on_open_change=PerformanceState.close_evidence,
    )


# --- views over time and readings ----------------------------------------------------


def _chart() -> rx.Component:
    return section(
        "Views over time",
        rx.cond(
            PerformanceState.chart_data.length() == 0,
            _empty("No readings yet.", "chart-empty"),
            rx.box(
                rx.recharts.line_chart(
                    rx.recharts.cartesian_grid(stroke_dasharray="3 3"),
                    rx.recharts.x_axis(data_key="at"),
                    rx.recharts.y_axis(width=80, tick_formatter=THOUSANDS),
                    rx.recharts.graphing_tooltip(formatter=THOUSANDS),
                    rx.recharts.legend(),
                    rx.foreach(
                        PerformanceState.chart_lines,
                        lambda line: rx.recharts.line(
                            data_key=line["key"],
                            name=line["name"],
                            stroke=line["color"],
                            type_="monotone",
                            connect_nulls=True,
                            is_animation_active=False,
                        ),
                    ),
                    data=PerformanceState.chart_data,
                    width="100%",
                    height=280,
                ),
                width="100%",
                custom_attrs={"data-testid": "views-chart"},
            ),
        ),
    )


def _reading_row(reading: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(reading["at"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(reading["post"], size="2")),
        rx.table.cell(rx.text(reading["views"], size="2"), text_align="right"),
        rx.table.cell(rx.text(reading["likes"], size="2"), text_align="right"),
        rx.table.cell(rx.text(reading["comments"], size="2"), text_align="right"),
        rx.table.cell(rx.text(reading["entered_by"], size="2")),
        custom_attrs={"data-testid": "reading-row"},
    )


def _readings() -> rx.Component:
    return section(
        "Readings",
        rx.cond(
            PerformanceState.readings.length() == 0,
            _empty("No readings yet.", "readings-empty"),
            _table(
                [
                    rx.table.column_header_cell("When"),
                    rx.table.column_header_cell("Post"),
                    rx.table.column_header_cell("Views", text_align="right"),
                    rx.table.column_header_cell("Likes", text_align="right"),
                    rx.table.column_header_cell("Comments", text_align="right"),
                    rx.table.column_header_cell("Entered by"),
                ],
                rx.table.body(rx.foreach(PerformanceState.readings, _reading_row)),
            ),
        ),
        subtitle="Every reading is kept, newest first.",
    )


# --- earnings -------------------------------------------------------------------------------


def _earning_row(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(line["at"], size="2", white_space="nowrap")),
        rx.table.cell(
            rx.text(line["label"], size="2", custom_attrs={"data-testid": "earning-label"})
        ),
        rx.table.cell(rx.text(line["gross"], size="2"), text_align="right"),
        rx.cond(
            PerformanceState.shows_share,
            rx.table.cell(
                rx.text(
                    line["share"],
                    size="2",
                    weight="medium",
                    custom_attrs={"data-testid": "earning-share"},
                ),
                text_align="right",
            ),
        ),
        rx.table.cell(
            rx.badge(
                line["state"],
                color_scheme=rx.match(line["state"], *EARNING_COLORS.items(), "gray"),
                variant="soft",
            )
        ),
        custom_attrs={"data-testid": "earning-row"},
    )


def _earnings() -> rx.Component:
    return section(
        "Earnings from this clip",
        rx.text(
            rx.cond(
                PerformanceState.shows_share,
                "Gross is what the campaign paid; the clipper's share is split by their tier.",
                "What your campaign paid for this clip.",
            ),
            size="2",
            color=MUTED,
        ),
        rx.cond(
            PerformanceState.earnings.length() == 0,
            _empty("Nothing booked for this clip yet.", "earnings-empty"),
            _table(
                [
                    rx.table.column_header_cell("When"),
                    rx.table.column_header_cell("What"),
                    rx.table.column_header_cell("Gross", text_align="right"),
                    rx.cond(
                        PerformanceState.shows_share,
                        rx.table.column_header_cell("Clipper's share", text_align="right"),
                    ),
                    rx.table.column_header_cell("State"),
                ],
                rx.table.body(rx.foreach(PerformanceState.earnings, _earning_row)),
            ),
        ),
    )


def _flag_appeal() -> rx.Component:
    """A confirmed fraud flag on one of the clip's posts, which the clipper may appeal."""
    return rx.cond(
        AppealState.target_id > 0,
        section(
            "Fraud flag",
            rx.text(
                "A post of this clip was found to have views that are not genuine, and the "
                "earnings it booked while it was flagged were reversed. If that is wrong, "
                "appeal: if an admin agrees, the earnings are booked back and the post earns "
                "again.",
                size="2",
            ),
            appeal_panel("fraud flag"),
        ),
    )


@template(
    routes.CLIP_PERFORMANCE,
    "Clip performance",
    on_load=[PerformanceState.open_page, AppealState.open_for_performance],
)
def performance() -> rx.Component:
    return rx.cond(
        PerformanceState.loaded,
        rx.vstack(
            _header(),
            _figures(),
            _posts(),
            rx.cond(PerformanceState.is_clipper_view, _flag_appeal()),
            rx.cond(PerformanceState.is_clipper_view, _youtube()),
            _reports(),
            _counts(),
            _chart(),
            _readings(),
            _earnings(),
            _decline_dialog(),
            _evidence_dialog(),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            PerformanceState.load_error != "",
            rx.vstack(
                rx.callout(
                    PerformanceState.load_error,
                    icon="search-x",
                    width="100%",
                    custom_attrs={"data-testid": "performance-error"},
                ),
                rx.link("Back to the dashboard", href=routes.DASHBOARD),
                width="100%",
            ),
            rx.center(rx.spinner(size="3"), height="40vh"),
        ),
    )
