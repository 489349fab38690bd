"""Who may read which figures: every dashboard call signed out, with the wrong role and on
someone else's campaign; and the pages' handlers called directly, as a crafted websocket
event would (bad ranges, unknown charts, another's campaign, the wrong role's export)."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import Role
from clipgen.services import csv_export
from clipgen.services.analytics import admin, client, clipper, export
from clipgen.services.auth import service as auth
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from clipgen.state.analytics import RANGE_REFUSED, CampaignAnalyticsState, DashboardState
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import PASSWORD, person


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def world(database_url: str) -> dict:
    """Brand's and Rival's live campaigns; Ada's clip approved on Brand's."""
    with session_scope() as session:
        admin_user = person(session, Role.ADMIN)
        brand = person(session, Role.CLIENT, "brand")
        rival = person(session, Role.CLIENT, "rival")
        ada = person(session, Role.CLIPPER, "ada")
        mine = live_campaign(session, admin_user, brand)
        theirs = live_campaign(session, admin_user, rival)
        approved(session, brand, ada, mine)
        tokens = {
            name: auth.sign_in(session=session, email=user.email, password=PASSWORD)[0]
            for name, user in (("admin", admin_user), ("brand", brand), ("ada", ada))
        }
    return {
        "admin": admin_user,
        "brand": brand,
        "ada": ada,
        "mine": mine.id,
        "theirs": theirs.id,
        "tokens": tokens,
    }


# --- services ----------------------------------------------------------------------------


def test_signed_out_reads_nothing(session: Session, world) -> None:
    for call in (clipper.clipper_dashboard, client.client_dashboard, admin.admin_dashboard):
        with pytest.raises(NotAuthenticated):
            call(session=session, actor=None)
    with pytest.raises(NotAuthenticated):
        client.campaign_dashboard(session=session, actor=None, campaign_id=world["mine"])


def test_each_dashboard_is_for_its_role(session: Session, world) -> None:
    with pytest.raises(PermissionDenied):
        clipper.clipper_dashboard(session=session, actor=world["brand"])
    with pytest.raises(PermissionDenied):
        client.client_dashboard(session=session, actor=world["ada"])
    for who in ("ada", "brand"):
        with pytest.raises(PermissionDenied):
            admin.admin_dashboard(session=session, actor=world[who])


def test_a_campaigns_figures_are_for_its_client_and_admins_only(session: Session, world) -> None:
    with pytest.raises(PermissionDenied):
        client.campaign_dashboard(session=session, actor=world["ada"], campaign_id=world["mine"])
    for campaign_id in (world["theirs"], 999_999, "1; drop", None, True, 2**40):
        with pytest.raises(NotFound, match="That campaign was not found."):
            client.campaign_dashboard(
                session=session, actor=world["brand"], campaign_id=campaign_id
            )
    mine = client.campaign_dashboard(
        session=session, actor=world["brand"], campaign_id=world["mine"]
    )
    theirs = client.campaign_dashboard(
        session=session, actor=world["admin"], campaign_id=world["theirs"]
    )
    assert (mine.spent_in_range_cents, theirs.spent_in_range_cents) == (1_000, 0)
    # A client's dashboard holds only their own campaigns.
    board = client.client_dashboard(session=session, actor=world["brand"])
    assert [c.campaign_id for c in board.campaigns] == [world["mine"]]


@pytest.mark.parametrize("range_key", ["365", "", "7 ", None, 7, ["7"], "ALL"])
def test_a_range_we_do_not_offer_is_refused_in_words(session: Session, world, range_key) -> None:
    with pytest.raises(InvalidInput, match="Choose a range of 7, 30 or 90 days, or all time."):
        clipper.clipper_dashboard(session=session, actor=world["ada"], range_key=range_key)


def test_exports_check_the_chart_and_who_asks(session: Session, world) -> None:
    with pytest.raises(InvalidInput, match="There is no such chart to export."):
        export.chart_rows(
            session=session, actor=world["ada"], dashboard="clipper", chart="x", range_key="7"
        )
    with pytest.raises(PermissionDenied):
        export.chart_rows(
            session=session, actor=world["ada"], dashboard="admin", chart="money", range_key="7"
        )
    with pytest.raises(NotFound):
        export.chart_rows(
            session=session,
            actor=world["brand"],
            dashboard="campaign",
            chart="spend",
            range_key="all",
            campaign_id=world["theirs"],
        )


def test_csv_cells_a_spreadsheet_would_run_are_quoted(session: Session, world) -> None:
    assert csv_export.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert csv_export.csv_text([["a", "b, c"], [1, "2"]]) == 'a,"b, c"\r\n1,2\r\n'


# --- the pages' handlers ---------------------------------------------------------------


def _state(cls, token: str):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def test_the_dashboard_loads_each_held_roles_charts_as_plain_data(world) -> None:
    state = _state(DashboardState, world["tokens"]["ada"])
    DashboardState.open_page.fn(state)
    assert state.load_error == "" and state.loaded
    assert state.clipper_figures["earned"] == "$7.00"  # Bronze 70% of $10
    assert state.client_figures == {} and state.admin_figures == {}
    for name in ("earnings_chart", "clipper_views_chart", "best_by_earnings", "clipper_tier"):
        json.dumps(getattr(state, name))

    brand = _state(DashboardState, world["tokens"]["brand"])
    DashboardState.open_page.fn(brand)
    assert brand.client_figures["spent"] == "$10.00" and brand.clipper_figures == {}


@pytest.mark.parametrize("value", ["365", "", ["7"], None, 30])
def test_a_range_sent_by_hand_is_refused_and_the_range_kept(world, value) -> None:
    state = _state(DashboardState, world["tokens"]["ada"])
    DashboardState.open_page.fn(state)
    DashboardState.set_range.fn(state, value)
    assert state.range_error == RANGE_REFUSED and state.range_key == "30"
    DashboardState.set_range.fn(state, "7")
    assert state.range_error == "" and state.range_key == "7"


def test_exports_sent_by_hand_are_checked(world) -> None:
    state = _state(DashboardState, world["tokens"]["ada"])
    assert DashboardState.download.fn(state, "admin", "money") is None
    assert state.load_error == "Only admins can do that."
    assert DashboardState.download.fn(state, "clipper", "../../etc") is None
    assert state.load_error == "There is no such chart to export."
    assert DashboardState.download.fn(state, "campaign", "spend") is None
    assert DashboardState.download.fn(state, "clipper", "earnings") is not None
    assert state.load_error == ""


def test_another_clients_campaign_page_shows_not_found(world) -> None:
    state = _state(CampaignAnalyticsState, world["tokens"]["brand"])
    state.campaign_id = world["theirs"]
    state._load()
    assert state.not_found and state.load_error == "That campaign was not found."
    assert state.client_figures == {}
    assert CampaignAnalyticsState.download.fn(state, "spend") is None
    state.campaign_id = world["mine"]
    state._load()
    assert not state.not_found and state.client_figures["spent"] == "$10.00"
    assert CampaignAnalyticsState.download.fn(state, "spend") is not None

    forged = _state(DashboardState, "not-a-session")
    assert DashboardState.download.fn(forged, "clipper", "earnings") is not None  # to sign-in
    assert forged.clipper_figures == {}
