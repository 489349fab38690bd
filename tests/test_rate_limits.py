"""Rate limits: a burst is refused with "Too many attempts; try again in N s", nothing
changes, and the next window is allowed; per user and per client address, in memory
and on Redis; on the handlers, on the HTTP routes, and one table of the handlers that
need none."""

from __future__ import annotations

import inspect
import re
import time
import uuid

import pytest
import reflex as rx
from pydantic import ValidationError
from sqlalchemy import func
from sqlmodel import Session, select
from starlette.testclient import TestClient

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.api import files_app
from clipgen.config import RATE_LIMIT_DEFAULTS, Settings, get_settings
from clipgen.models import ProcessingJob, User, Video, VideoStatus
from clipgen.services import rate_limits, tasks
from clipgen.services.auth import service as auth
from clipgen.services.errors import RateLimited, ServiceError
from clipgen.state.auth_forms import PasswordState, RegisterState
from clipgen.state.connections import YouTubeState
from clipgen.state.email import EmailPreferencesState
from clipgen.state.generate import GenerateState
from clipgen.state.limits import NOT_LIMITED, limit_of
from clipgen.storage import LOCAL_FILES_ROUTE
from tests.support.aio import run_coroutine
from tests.support.handlers import state_on

PASSWORD = "a sturdy passphrase"
REFUSAL = re.compile(r"^Too many attempts; try again in (\d+) s\.$")


def _set_limits(monkeypatch: pytest.MonkeyPatch, text: str, redis: str = "") -> None:
    monkeypatch.setenv("RATE_LIMITS", text)
    if redis:
        monkeypatch.setenv("REDIS_URL", redis)
    get_settings.cache_clear()


def _drain(generator) -> list:
    """Run an async generator handler to its end; the events it yielded."""

    async def run() -> list:
        return [event async for event in generator]

    return run_coroutine(run())


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Counts in this process's memory (embedded mode) or on a real Redis server."""
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    _set_limits(monkeypatch, "write=3/second", redis)
    return request.param


def test_a_burst_is_refused_and_the_next_window_is_allowed(backend: str) -> None:
    user, address = f"user:{uuid.uuid4()}", f"ip:{uuid.uuid4()}"
    for _ in range(3):
        rate_limits.hit("write", user, address)
    with pytest.raises(RateLimited) as refused:
        rate_limits.hit("write", user, address)
    assert REFUSAL.match(str(refused.value))
    assert 1 <= refused.value.retry_after <= 1
    time.sleep(1.1)
    rate_limits.hit("write", user, address)  # the window has moved on


def test_a_full_address_refuses_every_user_and_a_refusal_counts_nothing(backend: str) -> None:
    address = f"ip:{uuid.uuid4()}"
    first, second, elsewhere = (f"user:{uuid.uuid4()}" for _ in range(3))
    for _ in range(3):
        rate_limits.hit("write", first, address)
    with pytest.raises(RateLimited):
        rate_limits.hit("write", second, address)  # same network, other user
    # The refused call did not count for `second`: from elsewhere it still has all three.
    for _ in range(3):
        rate_limits.hit("write", second, f"ip:{uuid.uuid4()}")
    rate_limits.hit("write", elsewhere, f"ip:{uuid.uuid4()}")


def test_registration_from_one_address_is_capped(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "register=3/hour")
    outcomes = []
    for number in range(5):
        state = state_on(RegisterState, "", routes.REGISTER)
        form = {
            "email": f"new{number}@example.com",
            "display_name": f"New {number}",
            "password": PASSWORD,
        }
        _drain(RegisterState.submit.fn(state, form))
        outcomes.append(state.error)
    assert outcomes[:3] == ["", "", ""]
    assert all(REFUSAL.match(error) for error in outcomes[3:]), outcomes
    emails = session.exec(select(User.email)).all()
    assert sorted(emails) == ["new0@example.com", "new1@example.com", "new2@example.com"]


def _user(session: Session, email: str, role: str = "clipper") -> tuple[auth.UserView, str]:
    user = auth.register(
        session=session,
        email=email,
        display_name=email.split("@")[0],
        password=PASSWORD,
        role=role,
    )
    token, _ = auth.sign_in(session=session, email=email, password=PASSWORD)
    session.commit()
    return user, token


def _change(token: str, current: str, new: str) -> str:
    state = state_on(PasswordState, token, routes.ACCOUNT)
    form = {"current_password": current, "new_password": new, "confirm_password": new}
    _drain(PasswordState.submit.fn(state, form))
    return state.error


def test_wrong_current_passwords_are_counted_then_even_the_right_one_is_refused(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "password_failures=5/15 minutes")
    _user_view, token = _user(session, "owner@example.com")
    _other, other_token = _user(session, "other@example.com")
    for attempt in range(5):
        assert _change(token, f"wrong guess {attempt}", "a brand new passphrase") == (
            "Your current password is not right."
        )
    error = _change(token, PASSWORD, "a brand new passphrase")
    assert REFUSAL.match(error), error
    retry = int(REFUSAL.match(error).group(1))
    assert 14 * 60 < retry <= 15 * 60
    # Unchanged: the old password still signs in, the new one does not.
    auth.sign_in(session=session, email="owner@example.com", password=PASSWORD)
    with pytest.raises(ServiceError):
        auth.sign_in(session=session, email="owner@example.com", password="a brand new passphrase")
    session.rollback()
    # Another user's failures are their own.
    assert _change(other_token, PASSWORD, "a quite different phrase") == ""


def test_change_password_attempts_are_capped(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "change_password=2/hour")
    _user_view, token = _user(session, "owner@example.com")
    assert _change(token, PASSWORD, "tiny") != ""  # too weak: counted, refused in words
    assert _change(token, PASSWORD, "wee") != ""
    assert REFUSAL.match(_change(token, PASSWORD, "a brand new passphrase"))
    auth.sign_in(session=session, email="owner@example.com", password=PASSWORD)


def test_generation_jobs_are_capped_per_user(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "generate=2/hour")
    sent: list[dict] = []
    monkeypatch.setattr(tasks, "send_now", lambda actor_name, **ids: sent.append(ids))
    owner, token = _user(session, "owner@example.com")
    video = Video(
        owner_id=owner.id,
        original_filename="talk.mp4",
        storage_key="users/1/v.mp4",
        duration_s=60.0,
        width=640,
        height=360,
        fps=30.0,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.commit()
    errors = []
    for _ in range(3):
        state = state_on(GenerateState, token, routes.GENERATE)
        state.video_id = video.id
        GenerateState.start.fn(state)
        errors.append(state.start_error)
    assert errors[:2] == ["", ""]
    assert REFUSAL.match(errors[2]), errors
    assert session.exec(select(func.count()).select_from(ProcessingJob)).one() == 2
    assert len(sent) == 2


def test_a_refused_write_changes_nothing(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_limits(monkeypatch, "write=2/minute")
    _user_view, token = _user(session, "owner@example.com")
    state = state_on(EmailPreferencesState, token, routes.ACCOUNT)
    EmailPreferencesState.load_email_preferences.fn(state)
    shown = list(state.email_shown)
    assert shown
    everything = {f"email_{key}": "on" for key in shown}
    EmailPreferencesState.save_email_preferences.fn(state, {})
    assert state.email_on == []
    EmailPreferencesState.save_email_preferences.fn(state, everything)
    assert state.email_on == shown
    EmailPreferencesState.save_email_preferences.fn(state, {})
    assert REFUSAL.match(state.email_error), state.email_error
    fresh = state_on(EmailPreferencesState, token, routes.ACCOUNT)
    EmailPreferencesState.load_email_preferences.fn(fresh)
    assert fresh.email_on == shown  # the refused save switched nothing off


def test_http_routes_answer_429_with_retry_after(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "http_signed_files=2/minute;webhook=2/minute")
    with TestClient(files_app) as http:
        files = [http.get(f"{LOCAL_FILES_ROUTE}/users/1/x.mp4?expires=1&sig=x") for _ in range(3)]
        hooks = [  # forgeries: only those count (signed deliveries are never limited)
            http.post(routes.STRIPE_WEBHOOK, content=b"{}", headers={"Stripe-Signature": "x"})
            for _ in range(3)
        ]
    assert [answer.status_code for answer in files] == [403, 403, 429]
    assert [answer.status_code for answer in hooks] == [400, 400, 429]
    for refused in (files[2], hooks[2]):
        assert REFUSAL.match(refused.text)
        assert 1 <= int(refused.headers["Retry-After"]) <= 60


def _public_handlers() -> dict[str, object]:
    """Every public handler ClipGen's states define, by "Class.handler"."""
    found: dict[str, object] = {}

    def walk(cls) -> None:
        for name, handler in cls.event_handlers.items():
            fn = handler.fn
            if not name.startswith("_") and fn.__module__.startswith("clipgen."):
                found.setdefault(fn.__qualname__, fn)
        for substate in cls.get_substates():
            walk(substate)

    walk(rx.State)
    return found


def test_every_public_handler_is_limited_or_listed_with_a_reason() -> None:
    handlers = _public_handlers()
    assert len(handlers) > 100
    unaccounted = sorted(
        name for name, fn in handlers.items() if limit_of(fn) is None and name not in NOT_LIMITED
    )
    assert not unaccounted, (
        f"limit these with @limited(kind) or list them in NOT_LIMITED: {unaccounted}"
    )
    both = sorted(name for name, fn in handlers.items() if limit_of(fn) and name in NOT_LIMITED)
    assert not both, f"limited and listed as not limited: {both}"
    stale = sorted(set(NOT_LIMITED) - set(handlers))
    assert not stale, f"NOT_LIMITED names handlers that do not exist: {stale}"
    assert all(reason.strip() for reason in NOT_LIMITED.values())
    kinds = {limit_of(fn) for fn in handlers.values()} - {None}
    assert kinds <= set(RATE_LIMIT_DEFAULTS)


def test_writes_are_limited_as_writes() -> None:
    handlers = _public_handlers()
    assert limit_of(handlers["RegisterState.submit"]) == "register"
    assert limit_of(handlers["LoginState.submit"]) == "auth_form"
    assert limit_of(handlers["PasswordState.submit"]) == "change_password"
    assert limit_of(handlers["GenerateState.start"]) == "generate"
    assert limit_of(handlers["ClaimState.make_clips"]) == "generate"
    assert limit_of(handlers["YouTubeState.finish_connection"]) == "oauth_callback"
    assert inspect.isasyncgenfunction(handlers["GenerateState.receive_upload"])
    assert limit_of(handlers["GenerateState.receive_upload"]) == "write"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("write=lots", "no readable limit"),
        ("writes=10/minute", "must be kind=limit"),
        ("write 10/minute", "must be kind=limit"),
    ],
)
def test_unreadable_rate_limits_are_refused_at_start(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Settings(rate_limits=text)
    assert says in str(refused.value)


def test_rate_limits_override_entries_of_the_one_table() -> None:
    table = Settings(rate_limits="write=200/minute; generate=5/hour;").rate_limit_table
    assert table["write"] == "200/minute"
    assert table["generate"] == "5/hour"
    assert table["register"] == RATE_LIMIT_DEFAULTS["register"]
    assert set(table) == set(RATE_LIMIT_DEFAULTS)


def test_oauth_callbacks_are_capped_and_a_refused_one_finishes_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_limits(monkeypatch, "oauth_callback=2/minute")
    _user_view, token = _user(session, "clipper@example.com")
    handled = []
    for attempt in range(3):
        path = f"{routes.YOUTUBE_CALLBACK}?state=forged{attempt}&code=c{attempt}"
        state = state_on(YouTubeState, token, path)
        answer = YouTubeState.finish_connection.fn(state)
        handled.append((state.handled_callback, answer))
    assert handled[0][0] and handled[1][0]  # taken, and refused by the service in words
    marker, refused = handled[2]
    assert marker == ""  # never reached the service
    assert re.search(r'error"\]\("Too many attempts; try again in \d+ s\."\)', str(refused))


def test_a_refused_upload_reads_no_chunk(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _set_limits(monkeypatch, "write=1/minute")
    _user_view, token = _user(session, "owner@example.com")
    rate_limits.hit("write", rate_limits.address_key(""))  # this network's one write

    class Chunks:
        read = False

        def __aiter__(self):
            Chunks.read = True
            return self

        async def __anext__(self):
            raise StopAsyncIteration

    state = state_on(GenerateState, token, routes.GENERATE)
    events = _drain(GenerateState.receive_upload.fn(state, Chunks()))
    assert len(events) == 1 and "Too many attempts" in str(events[0])
    assert Chunks.read is False
    assert session.exec(select(func.count()).select_from(Video)).one() == 0
