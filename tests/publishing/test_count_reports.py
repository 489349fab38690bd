"""A count a clipper types is a report, not money (issue 19): it books nothing until the
campaign's client (or an admin) confirms it, once; a declined or replaced one never earns.
On SQLite and PostgreSQL through the real services, then races on PostgreSQL and a
property over any sequence of reports, entries and decisions."""

from __future__ import annotations

import io
import itertools

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlmodel import Session, select

from clipgen.db import session_scope
from clipgen.models import (
    AuditLog,
    CountReport,
    LedgerTransaction,
    Notification,
    Publication,
    PublicationStatus,
    ReportStatus,
    Role,
    TransactionKind,
    ViewSnapshot,
)
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.notification_kinds import Kind
from clipgen.services.publishing import publications
from clipgen.storage import get_storage
from tests.support.concurrency import books_are_sound, race
from tests.support.market import approved, live_campaign, quick_password_hashing
from tests.support.money import person

TIKTOK = "https://www.tiktok.com/@ada/video/7312345678901234567"
_worlds = itertools.count()
NOT_FOUND = "That count was not found."


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


def _world(session: Session):
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    clipper = person(session, Role.CLIPPER, "ada")
    live = live_campaign(session, admin, client)  # $10 a clip, 20 % bonus at 100,000 views
    _claim, submission = approved(session, client, clipper, live)
    # Each world's post is a video of its own (a property's examples share one database).
    n = next(_worlds)
    url = TIKTOK if n == 0 else f"https://www.tiktok.com/@ada/video/{7312345678901234567 + n}"
    post = publications.add_post_url(
        session=session, actor=clipper, submission_id=submission.id, url=url
    )
    return admin, client, clipper, submission, post


def _money(session: Session, submission_id: int) -> list[tuple[str, int]]:
    """What the clip earned from views: (kind, gross cents) per transaction, in order."""
    session.expire_all()
    rows = session.exec(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.submission_id == submission_id,
            LedgerTransaction.kind != TransactionKind.APPROVAL,
        )
        .order_by(LedgerTransaction.id)
    ).all()
    return [(row.kind, int(row.details["gross_cents"])) for row in rows]


def _report(session: Session, clipper, post: Publication, views: str) -> CountReport:
    entered = publications.enter_counts(
        session=session, actor=clipper, publication_id=post.id, views=views, likes="100"
    )
    assert entered.waiting and entered.publication_id == post.id
    return session.exec(
        select(CountReport).where(
            CountReport.publication_id == post.id, CountReport.status == ReportStatus.WAITING
        )
    ).one()


def test_a_clippers_count_waits_then_earns_once_confirmed(session: Session) -> None:
    admin, client, clipper, submission, post = _world(session)
    report = _report(session, clipper, post, "120,000")
    session.refresh(post)
    assert post.views == 0 and session.exec(select(ViewSnapshot)).all() == []
    assert _money(session, submission.id) == []  # no bonus on the clipper's word
    told = session.exec(select(Notification).where(Notification.user_id == client.id)).all()
    assert [n.kind for n in told][-1] == Kind.COUNTS_REPORTED
    assert "Ada" in told[-1].message and "120,000" in told[-1].message
    shown = publications.clip_performance(
        session=session, actor=client, submission_id=submission.id
    )
    [waiting] = shown.reports
    assert (waiting.views, waiting.status, waiting.can_decide) == (120_000, "waiting", True)
    assert waiting.post_url == post.url and waiting.reported_by == "Ada"
    mine = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    assert [r.can_decide for r in mine.reports] == [False]

    confirmed = publications.confirm_counts(session=session, actor=client, report_id=report.id)
    assert confirmed.status == ReportStatus.CONFIRMED and confirmed.decided_by == client.id
    snapshot = session.get(ViewSnapshot, confirmed.snapshot_id)
    assert (snapshot.views, snapshot.recorded_by, snapshot.source) == (
        120_000,
        clipper.id,
        "manual",
    )
    assert snapshot.taken_at == report.reported_at  # the reading is as of when it was typed
    assert _money(session, submission.id) == [(TransactionKind.BONUS, 200)]
    session.refresh(post)
    assert post.views == 120_000
    # A first count typed by hand, and no other post of the campaign to compare it with:
    # its bonus is booked held for review (test_first_reading_fraud.py).
    assert post.earnings_held
    shown = publications.clip_performance(
        session=session, actor=clipper, submission_id=submission.id
    )
    assert [line.state for line in shown.earnings if line.kind == TransactionKind.BONUS] == [
        "held for review"
    ]

    with pytest.raises(InvalidInput, match="That count was already confirmed."):
        publications.confirm_counts(session=session, actor=client, report_id=report.id)
    with pytest.raises(InvalidInput, match="That count was already confirmed."):
        publications.decline_counts(
            session=session, actor=client, report_id=report.id, reason="No."
        )
    assert _money(session, submission.id) == [(TransactionKind.BONUS, 200)]
    assert len(session.exec(select(ViewSnapshot)).all()) == 1
    told = session.exec(select(Notification).where(Notification.user_id == clipper.id)).all()
    assert told[-1].kind == Kind.COUNTS_CONFIRMED
    actions = session.exec(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert actions[-4:] == [
        "publication.counts_reported",
        "publication.verified",  # the client's confirmation verifies the post by hand
        "fraud.flag_raised",
        "publication.counts_confirmed",
    ]


def test_a_newer_count_replaces_the_waiting_one_and_a_declined_one_never_earns(
    session: Session,
) -> None:
    admin, client, clipper, submission, post = _world(session)
    first = _report(session, clipper, post, "5,000")
    second = _report(session, clipper, post, "150,000")
    session.refresh(first)
    assert first.status == ReportStatus.REPLACED and second.status == ReportStatus.WAITING
    with pytest.raises(InvalidInput, match="A newer count of that post took its place."):
        publications.confirm_counts(session=session, actor=client, report_id=first.id)

    for reason in ("", "   ", None, ["x"], "x" * 501):
        with pytest.raises(InvalidInput):
            publications.decline_counts(
                session=session, actor=client, report_id=second.id, reason=reason
            )
    session.refresh(second)
    assert second.status == ReportStatus.WAITING
    declined = publications.decline_counts(
        session=session, actor=client, report_id=second.id, reason="The post shows 15,000."
    )
    assert (declined.status, declined.decision_note) == ("declined", "The post shows 15,000.")
    with pytest.raises(InvalidInput, match="That count was already declined."):
        publications.confirm_counts(session=session, actor=client, report_id=second.id)
    told = session.exec(select(Notification).where(Notification.user_id == clipper.id)).all()
    assert told[-1].kind == Kind.COUNTS_DECLINED and "The post shows 15,000." in told[-1].message
    assert _money(session, submission.id) == [] and session.exec(select(ViewSnapshot)).all() == []

    # The client's own entry counts at once; an admin may confirm the clipper's next report.
    entered = publications.enter_counts(
        session=session, actor=client, publication_id=post.id, views="15,000"
    )
    assert not entered.waiting
    third = _report(session, clipper, post, "110,000")
    publications.confirm_counts(session=session, actor=admin, report_id=third.id)
    assert _money(session, submission.id) == [(TransactionKind.BONUS, 200)]
    session.refresh(post)
    assert post.views == 110_000


def test_only_the_campaigns_client_or_an_admin_decides_and_never_on_their_own_count(
    session: Session,
) -> None:
    admin, client, clipper, submission, post = _world(session)
    report = _report(session, clipper, post, "120,000")
    rival = person(session, Role.CLIENT, "rival")
    bea = person(session, Role.CLIPPER, "bea")
    for who in (clipper, rival, bea):
        with pytest.raises(NotFound, match=NOT_FOUND):
            publications.confirm_counts(session=session, actor=who, report_id=report.id)
        with pytest.raises(NotFound, match=NOT_FOUND):
            publications.decline_counts(
                session=session, actor=who, report_id=report.id, reason="Fake."
            )
    for bad in (0, -1, "abc", None, 2**40, report.id + 1000):
        with pytest.raises(NotFound, match=NOT_FOUND):
            publications.confirm_counts(session=session, actor=client, report_id=bad)
    session.refresh(report)
    assert report.status == ReportStatus.WAITING and _money(session, submission.id) == []

    # A post found not genuine meanwhile takes no count, confirmed or not.
    row = session.get(Publication, post.id)
    row.status = PublicationStatus.DISQUALIFIED
    session.add(row)
    session.flush()
    with pytest.raises(InvalidInput, match="found not genuine"):
        publications.confirm_counts(session=session, actor=client, report_id=report.id)
    assert _money(session, submission.id) == []


# --- races on PostgreSQL --------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_ten_confirmations_at_once_book_once(database_url: str) -> None:
    with session_scope() as session:
        admin, client, clipper, submission, post = _world(session)
        report_id = _report(session, clipper, post, "120,000").id
    deciders = [client, admin] * 5
    outcomes = race(
        10,
        lambda session, n: (
            publications.confirm_counts(session=session, actor=deciders[n], report_id=report_id).id
        ),
    )
    assert outcomes.count(report_id) == 1
    refusals = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert [str(o) for o in refusals] == ["That count was already confirmed."] * 9
    with session_scope() as session:
        assert _money(session, submission.id) == [(TransactionKind.BONUS, 200)]
        assert len(session.exec(select(ViewSnapshot)).all()) == 1
    books_are_sound()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_confirmation_racing_new_reports_leaves_one_waiting_and_pays_at_most_once(
    database_url: str,
) -> None:
    with session_scope() as session:
        admin, client, clipper, submission, post = _world(session)
        report_id = _report(session, clipper, post, "120,000").id

    def work(session: Session, n: int):
        if n == 0:
            return publications.confirm_counts(session=session, actor=client, report_id=report_id)
        return publications.enter_counts(
            session=session, actor=clipper, publication_id=post.id, views=str(200_000 + n)
        )

    outcomes = race(6, work)
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, InvalidInput)]
    with session_scope() as session:
        waiting = session.exec(
            select(CountReport).where(CountReport.status == ReportStatus.WAITING)
        ).all()
        assert len(waiting) == 1  # the newest report; the others were replaced
        confirmed = session.exec(
            select(CountReport).where(CountReport.status == ReportStatus.CONFIRMED)
        ).all()
        money = _money(session, submission.id)
        # Either the confirmation came first (it pays 120,000 views' bonus) or a report
        # replaced it first (it was refused and nothing is paid).
        assert (len(confirmed), money) in ((1, [(TransactionKind.BONUS, 200)]), (0, []))
    books_are_sound()


# --- any sequence -----------------------------------------------------------------------------

STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("report"), st.integers(0, 1_500_000)),
        st.tuples(st.just("enter"), st.integers(0, 1_500_000)),
        st.tuples(st.just("confirm"), st.integers(0, 3)),
        st.tuples(st.just("decline"), st.integers(0, 3)),
    ),
    max_size=12,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
# A report typed before the client's own entry, confirmed after it: a late, older reading.
@example(steps=[("report", 150_000), ("enter", 20_000), ("confirm", 0)])
@example(steps=[("report", 600_000), ("report", 90_000), ("confirm", 0), ("confirm", 1)])
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_no_sequence_pays_for_a_count_nobody_but_the_clipper_vouched_for(
    database_url: str, steps
) -> None:
    """Whatever the clipper reports and whoever decides, only counts the client entered or
    confirmed become readings; the post shows the newest of them by when it was taken, and
    the clip's bonus is the best threshold the post's views ever stood at."""
    with session_scope() as session:
        _admin, client, clipper, submission, post = _world(session)
    typed_at: dict[int, int] = {}  # report id -> the step it was typed at
    vouched: list[tuple[int, int]] = []  # (step taken at, views) of readings, in order
    shown = best = 0  # the post's views, and the most it ever showed
    for at, (step, value) in enumerate(steps):
        with session_scope() as session:
            reports = session.exec(
                select(CountReport.id, CountReport.views)
                .where(CountReport.publication_id == post.id)
                .order_by(CountReport.id)
            ).all()
            try:
                if step == "report":
                    publications.enter_counts(
                        session=session, actor=clipper, publication_id=post.id, views=value
                    )
                    newest = max(r.id for r in session.exec(select(CountReport)).all())
                    typed_at[newest] = at
                elif step == "enter":
                    publications.enter_counts(
                        session=session, actor=client, publication_id=post.id, views=value
                    )
                    vouched.append((at, value))
                elif reports:
                    report_id, views = reports[value % len(reports)]
                    if step == "confirm":
                        publications.confirm_counts(
                            session=session, actor=client, report_id=report_id
                        )
                        vouched.append((typed_at[report_id], views))
                    else:
                        publications.decline_counts(
                            session=session, actor=client, report_id=report_id, reason="No."
                        )
            except InvalidInput:
                pass  # a decided or replaced report: refused, and nothing changes
        if vouched:
            shown = max(vouched, key=lambda reading: reading[0])[1]
            best = max(best, shown)
    with session_scope() as session:
        views = session.get(Publication, post.id).views
        bonus = sum(g for k, g in _money(session, submission.id) if k == TransactionKind.BONUS)
        readings = session.exec(
            select(ViewSnapshot.views)
            .where(ViewSnapshot.publication_id == post.id)
            .order_by(ViewSnapshot.id)
        ).all()
    assert readings == [views for _at, views in vouched]
    assert views == shown
    # The $10 clip's bonus: 20 % at 100,000 views, 50 % at 500,000, 100 % at 1,000,000.
    thresholds = [(1_000_000, 1000), (500_000, 500), (100_000, 200)]
    assert bonus == next((cents for floor, cents in thresholds if best >= floor), 0)
    books_are_sound()


# --- screenshots as evidence ------------------------------------------------------------------


def _image(kind: str, size=(40, 30), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 90)).save(out, format=kind, **save)
    return out.getvalue()


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_a_screenshot_is_kept_as_a_clean_png(kind: str) -> None:
    exif = Image.Exif()
    exif[0x010F] = "A phone that says where it was"  # camera make: metadata to drop
    png = publications.clean_screenshot(_image(kind, exif=exif.tobytes()))
    with Image.open(io.BytesIO(png)) as image:
        assert image.format == "PNG" and image.size == (40, 30)
        assert not image.getexif() and "exif" not in image.info


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "Choose a screenshot of the post's counts"),
        ("not bytes", "Choose a screenshot of the post's counts"),
        (b"GIF89a" + bytes(20), "not an image that can be read"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "not an image",
        ),
        (_image("GIF"), "A screenshot is a PNG, JPEG or WebP image."),
        (_image("PNG")[:40], "not an image that can be read"),
        (bytes(publications.SCREENSHOT_MAX_BYTES + 1), "at most 5 MB"),
    ],
)
def test_anything_but_a_readable_screenshot_is_refused_in_words(data, words: str) -> None:
    with pytest.raises(InvalidInput, match=words):
        publications.clean_screenshot(data)


def test_an_image_too_large_to_be_a_screenshot_is_refused(monkeypatch) -> None:
    monkeypatch.setattr(publications, "SCREENSHOT_MAX_PIXELS", 1_000)
    with pytest.raises(InvalidInput, match="too large to be a screenshot"):
        publications.clean_screenshot(_image("PNG", size=(40, 30)))


def test_the_clipper_or_the_client_attaches_a_screenshot_to_a_waiting_count(
    session: Session,
) -> None:
    admin, client, clipper, submission, post = _world(session)
    report = _report(session, clipper, post, "120,000")
    storage = get_storage()
    first = publications.attach_screenshot(
        session=session, actor=clipper, report_id=report.id, data=_image("JPEG")
    )
    session.commit()
    old_key = first.evidence_key
    assert old_key.endswith(".png") and storage.exists(old_key)
    page = publications.clip_performance(session=session, actor=client, submission_id=submission.id)
    [shown] = page.reports
    assert shown.evidence_url and shown.can_attach and shown.can_decide
    # The client replaces it with their own; the first file goes once that commits.
    publications.attach_screenshot(
        session=session, actor=client, report_id=report.id, data=_image("PNG")
    )
    session.commit()
    session.refresh(report)
    assert report.evidence_by == client.id and report.evidence_key != old_key
    assert not storage.exists(old_key) and storage.exists(report.evidence_key)
    # Nobody else; not a bad file; not once the count is decided. Nothing changes.
    stranger = person(session, Role.CLIPPER, "eve")
    with pytest.raises(NotFound, match=NOT_FOUND):
        publications.attach_screenshot(
            session=session, actor=stranger, report_id=report.id, data=_image("PNG")
        )
    with pytest.raises(InvalidInput, match="not an image"):
        publications.attach_screenshot(
            session=session, actor=clipper, report_id=report.id, data=b"\x89PNG broken"
        )
    publications.confirm_counts(session=session, actor=client, report_id=report.id)
    with pytest.raises(InvalidInput, match="already decided"):
        publications.attach_screenshot(
            session=session, actor=clipper, report_id=report.id, data=_image("PNG")
        )
    session.refresh(report)
    assert report.evidence_by == client.id
    actions = session.exec(
        select(AuditLog.action).where(AuditLog.action == "publication.counts_evidence")
    ).all()
    assert len(actions) == 2
