"""A clipper's public profile (/clippers/<id>): tier, rating, totals and approved clips.
Anyone may read it, signed in or not.
"""

from __future__ import annotations

import reflex as rx

from clipgen.db import session_scope
from clipgen.services.errors import ServiceError
from clipgen.services.market import profiles
from clipgen.services.money.tiers import TierStanding
from clipgen.state.job import absolute_url
from clipgen.state.limits import limited
from clipgen.state.session import SessionState

# --- plain values for the page ---------------------------------------------------------------


def public_tier(standing: TierStanding) -> dict[str, str | int]:
    """A clipper's tier as visitors read it (third person)."""
    if standing.next_tier is None:
        needs = "At the top tier."
    else:
        needs = (
            f"{standing.next_tier.title()} at {standing.next_needs_clips:,} approved clips "
            f"or {standing.next_needs_views:,} views."
        )
    return {
        "name": standing.tier.title(),
        "split": f"{standing.clipper_percent}% / {standing.platform_percent}%",
        "progress": standing.progress_percent,
        "needs": needs,
    }


# --- reading ---------------------------------------------------------------------------------


def _public_profile(clipper_id: int):
    """Anyone may read a clipper's profile: no user is needed."""
    with session_scope() as session:
        return profiles.public_profile(session=session, clipper_id=clipper_id)


# --- /clippers/<id> ------------------------------------------------------------------------


class ProfileState(SessionState):
    """A clipper's public profile: anyone may read it, signed in or not."""

    clipper_id: int = 0
    not_found: bool = False
    loaded: bool = False
    name: str = ""
    member_since: str = ""
    tier: dict[str, str | int] = {}
    rating_average: str = ""
    rating_count: int = 0
    approved_clips: str = "0"
    total_views: str = "0"
    campaigns_worked: str = "0"
    clips: list[dict[str, str]] = []
    ratings: list[dict[str, str]] = []

    def _load(self) -> None:
        try:
            profile = _public_profile(self.clipper_id)
        except ServiceError:
            self.not_found, self.loaded = True, True
            self.name, self.clips, self.ratings, self.tier = "", [], [], {}
            return
        self.not_found = False
        self.name = profile.display_name
        self.member_since = f"{profile.member_since:%B %Y}"
        self.tier = public_tier(profile.standing)
        self.rating_average = f"{profile.rating_average:.1f}" if profile.rating_count else "–"
        self.rating_count = profile.rating_count
        self.approved_clips = f"{profile.standing.approved_clips:,}"
        self.total_views = f"{profile.standing.total_views:,}"
        self.campaigns_worked = f"{profile.campaigns_worked:,}"
        self.clips = [
            {
                "id": str(clip.submission_id),
                "title": clip.title,
                "campaign": clip.campaign_title,
                "views": f"{clip.views:,} views",
                "video_url": absolute_url(clip.video_url) if clip.video_url else "",
                "thumbnail_url": absolute_url(clip.thumbnail_url) if clip.thumbnail_url else "",
                "approved": f"{clip.approved_at:%Y-%m-%d}" if clip.approved_at else "",
            }
            for clip in profile.clips
        ]
        self.ratings = [
            {
                "stars": "★" * line.stars + "☆" * (5 - line.stars),
                "label": f"{line.stars} of 5",
                "feedback": line.feedback,
                "campaign": line.campaign_title,
                "at": f"{line.created_at:%Y-%m-%d}",
            }
            for line in profile.ratings
        ]
        self.loaded = True

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.clipper_id = self._route_id("/clippers")
        self.loaded = False
        self._load()
