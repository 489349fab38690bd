from sqlmodel import Session

from clipgen.models import AccountKind, Role
from clipgen.services import notifications
from clipgen.services.market import campaigns, claims, profiles, reviews
from clipgen.services.money.ledger import account, balance, check_invariants
from tests.support.market import clip_of, live_campaign
from tests.support.money import person


def test_the_whole_loop(session: Session) -> None:
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    clipper = person(session, Role.CLIPPER, "ada")
    live = live_campaign(session, admin, client)
    assert live.status == "active" and live.escrow_cents == 10_000 and live.slots_left == 10
    page = campaigns.browse(session=session, actor=clipper)
    assert [c.id for c in page.items] == [live.id]
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    again = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    assert again.id == claim.id
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    detail = claims.claim_detail(session=session, actor=clipper, job_id=claim.id)
    assert [c.id for c in detail.clips] == [clip.id]
    sub = claims.submit_clip(
        session=session,
        actor=clipper,
        job_id=claim.id,
        clip_id=clip.id,
        caption="Watch this",
        hashtags="#launch",
    )
    queue = reviews.review_queue(session=session, actor=client)
    assert [q.submission_id for q in queue] == [sub.id]
    reviews.request_revision(
        session=session, actor=client, submission_id=sub.id, notes="Shorter please"
    )
    sub2 = claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    item = reviews.approve_submission(session=session, actor=client, submission_id=sub2.id)
    assert item.status == "approved"
    reviews.rate_clipper(session=session, actor=client, job_id=claim.id, stars=5, feedback="Great")
    assert (
        balance(session, account(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id)) == 700
    )
    prof = profiles.public_profile(session=session, clipper_id=clipper.id)
    assert prof.rating_average == 5.0 and len(prof.clips) == 1
    kinds = [n.kind for n in notifications.list_notifications(session=session, actor=clipper)]
    assert "submission_approved" in kinds and "revision_requested" in kinds
    assert check_invariants(session).ok
