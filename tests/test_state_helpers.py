"""The helpers every page state uses: the refusal path (`shows_refusals`) and the readers
of what a browser sent (`state/forms.py`). The handlers' own tests show them at work."""

from __future__ import annotations

import pytest

from clipgen.services.errors import InvalidInput, NotAuthenticated
from clipgen.state.forms import checked, field, route_id, row_id, whole_number
from clipgen.state.session import SessionState, shows_refusals

TO_LOGIN = "to sign in"


class Page:
    """Just what the refusal path touches on a state: an error var and `_to_login`."""

    _refused = SessionState._refused

    def __init__(self) -> None:
        self.error = "an old error"
        self.done: list[str] = []

    def _to_login(self) -> str:
        return TO_LOGIN

    @shows_refusals("error")
    def act(self, failure: Exception | None = None) -> str:
        self.done.append("before")
        if failure is not None:
            raise failure
        self.done.append("after")
        return "done"

    @shows_refusals("error", to_sign_in=False)
    def act_in_place(self, failure: Exception) -> None:
        raise failure

    @shows_refusals()
    def act_with_toast(self) -> None:
        raise InvalidInput("Not like that.")

    @shows_refusals("error")
    def steps(self, failure: Exception | None = None):
        yield "first"
        if failure is not None:
            raise failure
        yield "second"


def test_a_handler_that_is_not_refused_runs_whole() -> None:
    page = Page()
    assert page.act() == "done" and page.done == ["before", "after"]
    assert page.error == "an old error"  # clearing it is the handler's own first line


def test_a_refusal_shows_in_the_var_and_stops_the_handler() -> None:
    page = Page()
    assert page.act(InvalidInput("That campaign was not found.")) is None
    assert page.error == "That campaign was not found." and page.done == ["before"]


def test_a_lost_session_goes_to_sign_in_or_is_said_in_place() -> None:
    page = Page()
    assert page.act(NotAuthenticated()) == TO_LOGIN and page.error == "an old error"
    assert page.act_in_place(NotAuthenticated()) is None
    assert page.error == "Please sign in to continue."


def test_without_a_var_the_refusal_is_a_toast() -> None:
    toast = Page().act_with_toast()
    assert toast is not None and "Not like that." in str(toast)


def test_a_generator_handler_keeps_its_events_and_ends_with_the_refusal() -> None:
    assert list(Page().steps()) == ["first", "second"]
    page = Page()
    assert list(page.steps(NotAuthenticated())) == ["first", TO_LOGIN]
    assert list(page.steps(InvalidInput("No."))) == ["first"] and page.error == "No."


def test_other_exceptions_are_not_swallowed() -> None:
    with pytest.raises(ZeroDivisionError):
        Page().act(ZeroDivisionError())


def test_a_background_handler_must_catch_its_own() -> None:
    async def background(self) -> None:
        return None

    with pytest.raises(TypeError, match="background handler catches its own"):
        shows_refusals("error")(background)


@pytest.mark.parametrize(
    ("path", "prefix", "suffix", "expected"),
    [
        ("/campaigns/7", "/campaigns", "", 7),
        ("/campaigns/7/", "/campaigns", "", 7),
        ("/campaigns/7/analytics", "/campaigns", "/analytics", 7),
        ("/campaigns/new", "/campaigns", "", 0),
        ("/campaigns/7/analytics", "/campaigns", "", 0),
        ("/campaigns", "/campaigns", "", 0),
        ("/campaignsx/7", "/campaigns", "", 0),
        ("/other/7", "/campaigns", "", 0),
        ("/campaigns/2147483648", "/campaigns", "", 0),
        ("/campaigns/²", "/campaigns", "", 0),
        ("/campaigns/-3", "/campaigns", "", 0),
    ],
)
def test_the_id_in_an_address(path: str, prefix: str, suffix: str, expected: int) -> None:
    assert route_id(path, prefix, suffix) == expected


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (5, 5),
        (" 12 ", 12),
        ("0", 0),
        (0, 0),
        (-4, 0),
        (True, 0),
        (2.0, 0),
        ("1e3", 0),
        (2**31, 0),
        (None, 0),
        (["3"], 0),
        ("²", 0),
    ],
)
def test_an_id_sent_by_the_page(sent: object, expected: int) -> None:
    assert row_id(sent) == expected


def test_form_fields_read_only_text() -> None:
    form = {"title": "Launch", "count": 3, "list": ["a"], "long": "x" * 30_000, "box": "on"}
    assert field(form, "title") == "Launch" and field(form, "missing") == ""
    assert field(form, "count") == "" and field(form, "list") == "" and field(None, "title") == ""
    assert len(field(form, "long")) == 20_000
    assert checked(form, "box") and not checked(form, "title") and not checked("on", "box")
    assert whole_number("42", "payout number") == 42 and whole_number(10**12, "x") == 10**12
    with pytest.raises(InvalidInput, match="Enter the payout number as a whole number"):
        whole_number("4.2", "payout number")
