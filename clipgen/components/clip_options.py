"""The clip choices (count, length, aspect, captions, layout), one set of controls for every page
that starts a generation: the Generate page and a marketplace claim.

`state` is a state class with the vars `clip_count`, `length`, `custom_min`, `custom_max`,
`aspect`, `captions`, `layout` and a `set_option(name, value)` handler; `testid` prefixes the
controls' test ids ("option" gives "option-clips", "option-length", ...).
"""

from __future__ import annotations

import reflex as rx

from clipgen.pipeline import options as opts


def _select(state, testid: str, label: str, name: str, choices: list[tuple[str, str]]):
    return rx.vstack(
        rx.text(label, size="2", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", custom_attrs={"data-testid": f"{testid}-{name}"}),
            rx.select.content(*[rx.select.item(text, value=key) for key, text in choices]),
            value=getattr(state, name),
            on_change=lambda choice: state.set_option(name, choice),
        ),
        spacing="1",
        width="100%",
    )


def _seconds(state, testid: str, name: str, suffix: str) -> rx.Component:
    return rx.input(
        type="number",
        value=getattr(state, name),
        on_change=lambda v: state.set_option(name, v),
        custom_attrs={"data-testid": f"{testid}-{suffix}"},
    )


def clip_options(state, testid: str) -> rx.Component:
    """The count, length, aspect, caption and layout controls, and the custom length range."""
    return rx.vstack(
        rx.grid(
            rx.vstack(
                rx.text("Number of clips", size="2", weight="medium"),
                rx.input(
                    type="number",
                    min=opts.MIN_CLIPS,
                    max=opts.MAX_CLIPS,
                    value=state.clip_count,
                    on_change=lambda v: state.set_option("clip_count", v),
                    custom_attrs={"data-testid": f"{testid}-clips"},
                ),
                spacing="1",
                width="100%",
            ),
            _select(state, testid, "Length", "length", opts.length_choices()),
            _select(state, testid, "Aspect", "aspect", list(opts.ASPECTS.items())),
            _select(state, testid, "Captions", "captions", list(opts.CAPTION_STYLES.items())),
            _select(state, testid, "Layout", "layout", list(opts.LAYOUTS.items())),
            columns=rx.breakpoints(initial="1", sm="2", md="3", lg="5"),
            spacing="3",
            width="100%",
        ),
        rx.cond(
            state.length == opts.CUSTOM_LENGTH,
            rx.hstack(
                _seconds(state, testid, "custom_min", "min"),
                rx.text("to"),
                _seconds(state, testid, "custom_max", "max"),
                rx.text("seconds"),
                align="center",
            ),
        ),
        spacing="3",
        width="100%",
    )
