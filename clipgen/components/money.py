"""Pieces the money pages share: a statement table and its pager."""

from __future__ import annotations

import reflex as rx


def _statement_row(line: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(line["at"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(line["description"], size="2")),
        rx.table.cell(rx.badge(line["account"], variant="surface", color_scheme="gray")),
        rx.table.cell(
            rx.text(
                line["amount"],
                size="2",
                weight="medium",
                white_space="nowrap",
                color=rx.cond(
                    line["direction"] == "in", rx.color("green", 11), rx.color("gray", 12)
                ),
            ),
            text_align="right",
        ),
        custom_attrs={"data-testid": "statement-row"},
    )


def statement_table(lines, empty_text: str) -> rx.Component:
    """Date, what it was for, which balance, and the signed amount; newest first."""
    return rx.cond(
        lines.length() == 0,
        rx.text(
            empty_text,
            size="2",
            color=rx.color("gray", 11),
            custom_attrs={"data-testid": "statement-empty"},
        ),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Date"),
                        rx.table.column_header_cell("Description"),
                        rx.table.column_header_cell("Balance"),
                        rx.table.column_header_cell("Amount", text_align="right"),
                    )
                ),
                rx.table.body(rx.foreach(lines, _statement_row)),
                variant="surface",
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


def pager(page, page_count, go_to_page) -> rx.Component:
    """Previous / page N of M / Next, calling `go_to_page(page)`."""
    return rx.cond(
        page_count > 1,
        rx.hstack(
            rx.button(
                "Previous",
                variant="soft",
                size="1",
                disabled=page <= 1,
                on_click=go_to_page(page - 1),
                custom_attrs={"data-testid": "statement-previous"},
            ),
            rx.text("Page ", page, " of ", page_count, size="2"),
            rx.button(
                "Next",
                variant="soft",
                size="1",
                disabled=page >= page_count,
                on_click=go_to_page(page + 1),
                custom_attrs={"data-testid": "statement-next"},
            ),
            align="center",
            spacing="3",
        ),
    )
