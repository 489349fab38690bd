"""Pieces the analytics pages share: the range selector, a chart card with its CSV
download, and the Recharts charts drawn the same way everywhere."""

from __future__ import annotations

import reflex as rx
from reflex.vars import FunctionStringVar

MUTED = rx.color("gray", 11)
GRID = rx.color("gray", 5)
CHART_HEIGHT = 260
# 120000 -> "120,000"; 12.5 -> "$12.50" on axes and tooltips.
THOUSANDS = FunctionStringVar.create('(value) => Number(value).toLocaleString("en-US")')
DOLLARS = FunctionStringVar.create(
    '(value) => value == null ? "—" : "$" + Number(value).toLocaleString("en-US", '
    "{minimumFractionDigits: 2, maximumFractionDigits: 2})"
)
SHORT_DOLLARS = FunctionStringVar.create(
    '(value) => "$" + Number(value).toLocaleString("en-US", {maximumFractionDigits: 0})'
)
COLORS = {
    "pending": "#f59e0b",
    "available": "#10b981",
    "in_payout": "#0ea5e9",
    "paid": "#7c3aed",
    "views": "#7c3aed",
    "ecpm": "#0f172a",
    "spent": "#7c3aed",
    "escrow": "#cbd5e1",
    "revenue": "#10b981",
    "gross": "#7c3aed",
    "owed": "#f59e0b",
    "clippers": "#7c3aed",
    "clients": "#0ea5e9",
}


def range_selector(state, testid: str) -> rx.Component:
    """7 / 30 / 90 days / all time; the handler refuses anything else."""
    return rx.segmented_control.root(
        rx.segmented_control.item("7 days", value="7"),
        rx.segmented_control.item("30 days", value="30"),
        rx.segmented_control.item("90 days", value="90"),
        rx.segmented_control.item("All time", value="all"),
        value=state.range_key,
        on_change=state.set_range,
        size="1",
        custom_attrs={"data-testid": testid},
    )


def chart_card(
    title: str, subtitle, chart: rx.Component, download, testid: str, empty=None
) -> rx.Component:
    """A chart with its title and a CSV download of the figures it is drawn from."""
    body = chart if empty is None else rx.cond(empty, _empty(), chart)
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text(title, size="3", weight="bold"),
                    rx.text(subtitle, size="1", color=MUTED),
                    spacing="0",
                ),
                rx.spacer(),
                rx.button(
                    rx.icon("download", size=14),
                    "CSV",
                    size="1",
                    variant="soft",
                    color_scheme="gray",
                    on_click=download,
                    custom_attrs={"data-testid": f"{testid}-csv"},
                ),
                width="100%",
                align="start",
            ),
            rx.box(body, width="100%"),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": testid},
    )


def _empty() -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.icon("chart-no-axes-column", size=28, color=rx.color("gray", 8)),
            rx.text("Nothing in this range yet.", size="2", color=MUTED),
            align="center",
            spacing="2",
        ),
        height=f"{CHART_HEIGHT}px",
        width="100%",
    )


def _axes(y_formatter, *, right_formatter=None) -> list[rx.Component]:
    parts = [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke=GRID),
        rx.recharts.x_axis(data_key="day", tick_line=False, min_tick_gap=24, font_size=12),
        rx.recharts.y_axis(
            y_axis_id="left",
            width=72,
            tick_formatter=y_formatter,
            tick_line=False,
            axis_line=False,
            font_size=12,
        ),
    ]
    if right_formatter is not None:
        parts.append(
            rx.recharts.y_axis(
                y_axis_id="right",
                orientation="right",
                width=64,
                tick_formatter=right_formatter,
                tick_line=False,
                axis_line=False,
                font_size=12,
            )
        )
    return parts


def stacked_area(data, bands: list[tuple[str, str]], *, money: bool = True) -> rx.Component:
    """Bands stacked on each other over the days (e.g. pending under available)."""
    formatter = SHORT_DOLLARS if money else THOUSANDS
    return rx.recharts.area_chart(
        *_axes(formatter),
        rx.recharts.graphing_tooltip(formatter=DOLLARS if money else THOUSANDS),
        rx.recharts.legend(icon_type="circle", icon_size=8),
        *[
            rx.recharts.area(
                data_key=key,
                name=name,
                stack_id="1",
                y_axis_id="left",
                type_="monotone",
                stroke=COLORS[key],
                fill=COLORS[key],
                fill_opacity=0.35,
                is_animation_active=False,
            )
            for key, name in bands
        ],
        data=data,
        width="100%",
        height=CHART_HEIGHT,
    )


def _series_lines(series, **style) -> rx.Component:
    """One line per series (`series`: key, name, color dicts) on the left axis."""
    return rx.foreach(
        series,
        lambda line: rx.recharts.line(
            data_key=line["key"],
            name=line["name"],
            stroke=line["color"],
            y_axis_id="left",
            type_="monotone",
            dot=False,
            is_animation_active=False,
            **style,
        ),
    )


def lines(data, total: tuple[str, str], series) -> rx.Component:
    """A total as an area and one line per series (`series`: key, name, color dicts)."""
    return rx.recharts.composed_chart(
        *_axes(THOUSANDS),
        rx.recharts.graphing_tooltip(formatter=THOUSANDS),
        rx.recharts.legend(icon_type="circle", icon_size=8),
        rx.recharts.area(
            data_key=total[0],
            name=total[1],
            y_axis_id="left",
            type_="monotone",
            stroke=rx.color("gray", 8),
            fill=rx.color("gray", 4),
            is_animation_active=False,
        ),
        _series_lines(series, stroke_width=2),
        data=data,
        width="100%",
        height=CHART_HEIGHT,
    )


def views_and_cpm(data, series) -> rx.Component:
    """Views so far (area, left axis), per series lines, and effective CPM (right axis)."""
    return rx.recharts.composed_chart(
        *_axes(THOUSANDS, right_formatter=SHORT_DOLLARS),
        rx.recharts.graphing_tooltip(),
        rx.recharts.legend(icon_type="circle", icon_size=8),
        rx.recharts.area(
            data_key="views",
            name="Views",
            y_axis_id="left",
            type_="monotone",
            stroke=COLORS["views"],
            fill=COLORS["views"],
            fill_opacity=0.15,
            is_animation_active=False,
        ),
        _series_lines(series, stroke_dasharray="4 3"),
        rx.recharts.line(
            data_key="ecpm",
            name="Effective CPM ($)",
            y_axis_id="right",
            type_="monotone",
            stroke=COLORS["ecpm"],
            stroke_width=2,
            dot=False,
            connect_nulls=True,
            is_animation_active=False,
        ),
        data=data,
        width="100%",
        height=CHART_HEIGHT,
    )


def bars(
    data,
    x_key: str,
    bars_: list[tuple[str, str]],
    *,
    money: bool = False,
    stacked: bool = False,
    layout_vertical: bool = False,
) -> rx.Component:
    """Bars per category or day (stacked when `stacked`)."""
    formatter = SHORT_DOLLARS if money else THOUSANDS
    axes = [
        rx.recharts.cartesian_grid(stroke_dasharray="3 3", vertical=False, stroke=GRID),
        # Days may skip labels; categories (campaigns, states) show every one.
        rx.recharts.x_axis(
            data_key=x_key,
            tick_line=False,
            font_size=12,
            **({"min_tick_gap": 12} if x_key == "day" else {"interval": 0}),
        ),
        rx.recharts.y_axis(
            width=72,
            tick_formatter=formatter,
            tick_line=False,
            axis_line=False,
            font_size=12,
            allow_decimals=money,
        ),
    ]
    return rx.recharts.bar_chart(
        *axes,
        rx.recharts.graphing_tooltip(formatter=DOLLARS if money else THOUSANDS),
        rx.recharts.legend(icon_type="circle", icon_size=8),
        *[
            rx.recharts.bar(
                data_key=key,
                name=name,
                fill=COLORS.get(key, "#7c3aed"),
                radius=[3, 3, 0, 0] if not stacked else 0,
                max_bar_size=40,
                is_animation_active=False,
                **({"stack_id": "1"} if stacked else {}),
            )
            for key, name in bars_
        ],
        data=data,
        width="100%",
        height=CHART_HEIGHT,
    )


def ranked_list(rows, testid: str, empty_text: str) -> rx.Component:
    """A short ranked list: title (linked), what it belongs to, the figure."""
    return rx.cond(
        rows.length() == 0,
        rx.text(empty_text, size="2", color=MUTED),
        rx.vstack(
            rx.foreach(
                rows,
                lambda row, index: rx.hstack(
                    rx.badge(index + 1, variant="soft", color_scheme="gray", radius="full"),
                    rx.vstack(
                        rx.link(row["title"], href=row["href"], size="2", weight="medium"),
                        rx.text(row["campaign"], size="1", color=MUTED),
                        spacing="0",
                        min_width="0",
                    ),
                    rx.spacer(),
                    rx.vstack(
                        rx.text(row["value"], size="2", weight="bold"),
                        rx.text(row["detail"], size="1", color=MUTED),
                        spacing="0",
                        align="end",
                    ),
                    width="100%",
                    align="center",
                    custom_attrs={"data-testid": f"{testid}-row"},
                ),
            ),
            spacing="3",
            width="100%",
        ),
    )


def stat(label: str, value, testid: str, hint, icon: str) -> rx.Component:
    """One figure of a dashboard: a label, the value large, and a line under it (text or
    a var)."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon(icon, size=16, color=rx.color("accent", 10)),
                rx.text(label, size="2", weight="medium", color=MUTED),
                align="center",
                spacing="2",
            ),
            rx.text(value, size="6", weight="bold", custom_attrs={"data-testid": testid}),
            rx.text(hint, size="1", color=rx.color("gray", 10)),
            spacing="1",
        ),
        width="100%",
    )
