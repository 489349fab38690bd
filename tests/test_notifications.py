"""Notifications: the service keeps each user's to themselves, and the bell's handlers,
called directly as a crafted websocket event would call them, re-check the session."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.models import Notification, Role, utcnow
from clipgen.services import notifications
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotAuthenticated, NotFound
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.state.formats import age
from clipgen.state.notifications import (
    BELL_ITEMS,
    NotificationsState,
    in_app_link,
)
from tests.support.money import PASSWORD, person


def _token(session: Session, user: UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    session.commit()
    return token


def _tell(session: Session, user: UserView, count: int, *, link: str = "/work/7") -> list[int]:
    """`count` notifications for `user`, the first the oldest; their ids."""
    start = utcnow() - timedelta(hours=count)
    ids = []
    for number in range(count):
        notify(session, user.id, Kind.CLAIM_EXPIRING, f"Message {number + 1}", link)
        session.flush()
        row = session.exec(select(Notification).order_by(col(Notification.id).desc())).first()
        row.created_at = start + timedelta(hours=number)
        session.add(row)
        ids.append(row.id)
    session.commit()
    return ids


def _read_state(session: Session) -> dict[int, bool]:
    session.expire_all()
    return {row.id: row.read_at is not None for row in session.exec(select(Notification)).all()}


@pytest.fixture
def people(session: Session) -> dict:
    ada = person(session, Role.CLIPPER, "ada")
    bob = person(session, Role.CLIENT, "bob")
    session.commit()
    return {"ada": ada, "bob": bob}


# --- the service -------------------------------------------------------------------------


def test_each_user_sees_and_counts_only_their_own(session: Session, people: dict) -> None:
    ada, bob = people["ada"], people["bob"]
    ada_ids = _tell(session, ada, 3)
    bob_ids = _tell(session, bob, 2)

    listed = notifications.list_notifications(session=session, actor=ada)
    assert [view.id for view in listed] == ada_ids[::-1]  # newest first
    assert [view.message for view in listed] == ["Message 3", "Message 2", "Message 1"]
    assert not any(view.is_read for view in listed)
    latest_two = notifications.list_notifications(session=session, actor=ada, limit=2)
    assert [view.id for view in latest_two] == ada_ids[:0:-1]
    assert notifications.unread_count(session=session, actor=ada) == 3
    assert notifications.unread_count(session=session, actor=bob) == 2
    assert {v.id for v in notifications.list_notifications(session=session, actor=bob)} == set(
        bob_ids
    )


def test_another_users_notification_is_not_found_and_not_marked(
    session: Session, people: dict
) -> None:
    ada, bob = people["ada"], people["bob"]
    ada_ids = _tell(session, ada, 2)
    bob_ids = _tell(session, bob, 1)
    before = _read_state(session)

    for foreign in (bob_ids[0], 10**9, "x", None):
        with pytest.raises(NotFound):
            notifications.mark_read(session=session, actor=ada, notification_id=foreign)
    session.rollback()
    assert _read_state(session) == before

    notifications.mark_read(session=session, actor=ada, notification_id=ada_ids[0])
    notifications.mark_read(session=session, actor=ada, notification_id=ada_ids[0])  # again
    session.commit()
    assert notifications.unread_count(session=session, actor=ada) == 1
    assert notifications.unread_count(session=session, actor=bob) == 1
    assert _read_state(session) == {**before, ada_ids[0]: True}

    assert notifications.mark_all_read(session=session, actor=ada) == 1
    assert notifications.mark_all_read(session=session, actor=ada) == 0
    session.commit()
    assert notifications.unread_count(session=session, actor=ada) == 0
    assert notifications.unread_count(session=session, actor=bob) == 1
    assert _read_state(session)[bob_ids[0]] is False


def test_nobody_signed_in_is_refused(session: Session, people: dict) -> None:
    _tell(session, people["ada"], 1)
    with pytest.raises(NotAuthenticated):
        notifications.list_notifications(session=session, actor=None)
    with pytest.raises(NotAuthenticated):
        notifications.unread_count(session=session, actor=None)
    with pytest.raises(NotAuthenticated):
        notifications.mark_read(session=session, actor=None, notification_id=1)
    with pytest.raises(NotAuthenticated):
        notifications.mark_all_read(session=session, actor=None)


# --- plain values -------------------------------------------------------------------------


def test_ages_and_links_are_shown_safely() -> None:
    now = utcnow()
    assert age(now, now) == "just now"
    assert age(now - timedelta(minutes=5), now) == "5 min ago"
    assert age(now - timedelta(hours=3), now) == "3 h ago"
    assert age(now - timedelta(days=1), now) == "1 day ago"
    assert age(now - timedelta(days=9), now) == "9 days ago"
    assert age(now + timedelta(minutes=1), now) == "just now"
    assert in_app_link("/work/3") == "/work/3"
    for unsafe in ("", "https://evil.example/", "//evil.example", "/\\evil", "javascript:x", None):
        assert in_app_link(unsafe) == ""


# --- the handlers -------------------------------------------------------------------------


def _state(token: str) -> NotificationsState:
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(NotificationsState.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _redirect_target(event) -> str | None:
    """Where a handler's answer sends the browser (None: it stays)."""
    if event is None or not event.handler.fn.__qualname__.endswith("redirect"):
        return None
    return {name._js_expr: value for name, value in event.args}["path"]._var_value


def _plain(state: NotificationsState) -> None:
    for name in ("unread", "bell_items", "page_items", "error"):
        json.dumps(getattr(state, name))


def test_the_bell_counts_lists_and_opens_only_the_users_own(session: Session, people: dict) -> None:
    ada, bob = people["ada"], people["bob"]
    ada_ids = _tell(session, ada, 12)
    bob_ids = _tell(session, bob, 1, link="/campaigns/1")
    token = _token(session, ada)

    state = _state(token)
    NotificationsState.refresh.fn(state)
    assert state.unread == 12 and state.badge == "12" and state.bell_items == []

    assert NotificationsState.toggle_bell.fn(state, True) is None
    assert state.bell_open
    assert len(state.bell_items) == BELL_ITEMS
    first = state.bell_items[0]
    assert first["id"] == str(ada_ids[-1]) and first["message"] == "Message 12"
    assert first["status"] == "unread" and first["age"] == "1 h ago" and first["has_link"]
    assert "Message 1" not in {row["message"] for row in state.bell_items}  # the 11th and 12th
    _plain(state)

    # Another user's id: refused in words, nothing marked, no redirect.
    before = _read_state(session)
    answer = NotificationsState.open_notification.fn(state, str(bob_ids[0]))
    assert _redirect_target(answer) is None
    assert state.error == "That notification was not found."
    for bad in ("abc", "-1", "", None, True, 1.5, ["1"], {"id": 1}, "9" * 40):
        NotificationsState.open_notification.fn(state, bad)
        assert state.error == "That notification was not found."
    assert _read_state(session) == before

    # Their own: read, and the browser goes to its link; the count follows.
    answer = NotificationsState.open_notification.fn(state, str(ada_ids[-1]))
    assert _redirect_target(answer) == "/work/7"
    assert state.unread == 11 and not state.bell_open and state.error == ""
    assert _read_state(session) == {**before, ada_ids[-1]: True}

    # "Mark all read": every one of Ada's, none of Bob's.
    NotificationsState.toggle_bell.fn(state, True)
    assert NotificationsState.mark_all_read.fn(state) is None
    assert state.unread == 0 and state.badge == ""
    assert {row["status"] for row in state.bell_items} == {"read"}
    after = _read_state(session)
    assert all(after[i] for i in ada_ids) and after[bob_ids[0]] is False


def test_a_notification_pointing_outside_the_app_is_read_but_not_followed(
    session: Session, people: dict
) -> None:
    ada = people["ada"]
    (outside,) = _tell(session, ada, 1, link="https://evil.example/phish")
    (nowhere,) = _tell(session, ada, 1, link="")
    state = _state(_token(session, ada))
    assert NotificationsState.open_notification.fn(state, outside) is None
    assert NotificationsState.open_notification.fn(state, str(nowhere)) is None
    assert _read_state(session) == {outside: True, nowhere: True}
    assert state.unread == 0


def test_the_page_lists_everything_with_the_read_ones_plain(session: Session, people: dict) -> None:
    ada = people["ada"]
    ids = _tell(session, ada, 3)
    state = _state(_token(session, ada))
    NotificationsState.open_notification.fn(state, str(ids[0]))
    assert NotificationsState.open_page.fn(state) is None
    assert state.page_loaded
    assert [(row["message"], row["status"]) for row in state.page_items] == [
        ("Message 3", "unread"),
        ("Message 2", "unread"),
        ("Message 1", "read"),
    ]
    assert [row["age"] for row in state.page_items] == ["1 h ago", "2 h ago", "3 h ago"]
    assert state.unread == 2
    _plain(state)


@pytest.mark.parametrize("cookie", ["", "not-a-session", "signed-out"])
def test_a_signed_out_cookie_is_refused_and_nothing_changes(
    session: Session, people: dict, cookie: str
) -> None:
    ada = people["ada"]
    ids = _tell(session, ada, 2)
    if cookie == "signed-out":
        cookie = _token(session, ada)
        auth.sign_out(session=session, token=cookie)
        session.commit()
    before = _read_state(session)
    count = session.exec(select(func.count()).select_from(Notification)).one()

    state = _state(cookie)
    state.unread, state.bell_items = 5, [{"id": "1"}]  # left from before signing out
    NotificationsState.refresh.fn(state)
    assert state.unread == 0 and state.bell_items == []
    assert _redirect_target(NotificationsState.toggle_bell.fn(state, True)).startswith("/login")
    assert not state.bell_open
    assert _redirect_target(NotificationsState.open_page.fn(state)).startswith("/login")
    assert state.page_items == []
    answer = NotificationsState.open_notification.fn(state, str(ids[0]))
    assert _redirect_target(answer).startswith("/login")
    assert _redirect_target(NotificationsState.mark_all_read.fn(state)).startswith("/login")

    assert _read_state(session) == before
    assert session.exec(select(func.count()).select_from(Notification)).one() == count
